/*
 * The configuration sections that layers above config/ own (config/
 * section.h): the one place that names them all, so that config/ needs
 * none of their headers. A new section is one line here.
 */
#include "config/section.h"

#include "policy/route.h"
#include "policy/tlspolicy.h"
#include "queue/config.h"
#include "scan/policy.h"

const struct config_section *const config_sections[] = {
	&scan_config_section,
	&policy_config_section,
	&tls_policy_config_section,
	&queue_config_section,
	NULL,
};
