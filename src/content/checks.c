/*
 * The content checks, in running order. A new check: its file and one line here.
 */
#include "content/check.h"

#include <string.h>

#include "util/metrics.h"

extern const struct content_check content_check_dkim;
extern const struct content_check content_check_dmarc;
extern const struct content_check content_check_headers;
extern const struct content_check content_check_verdict_headers;
extern const struct content_check content_check_from_binding;
extern const struct content_check content_check_mime;
extern const struct content_check content_check_gtube;
extern const struct content_check content_check_clamav;
extern const struct content_check content_check_yara;
extern const struct content_check content_check_hidden;
extern const struct content_check content_check_encryption;
extern const struct content_check content_check_attachments;
extern const struct content_check content_check_rules;
extern const struct content_check content_check_bayes;
extern const struct content_check content_check_dkim_sign;

/* DKIM and DMARC first, on the message as received; signing last, over
 * the message as the others leave it. */
const struct content_check *const content_checks[] = {
	&content_check_dkim,
	&content_check_dmarc,
	&content_check_headers,
	&content_check_verdict_headers,
	&content_check_from_binding,
	&content_check_mime,
	&content_check_gtube,
	&content_check_clamav,
	&content_check_yara,
	&content_check_hidden,
	&content_check_encryption,
	&content_check_attachments,
	&content_check_rules,
	&content_check_bayes,
	&content_check_dkim_sign,
};

const size_t content_n_checks = sizeof(content_checks) / sizeof(content_checks[0]);
_Static_assert(sizeof(content_checks) / sizeof(content_checks[0]) <= METRICS_CHECKS,
	       "util/metrics.h: METRICS_CHECKS must hold every content check");

int content_check_index(const char *name, size_t len)
{
	for (size_t i = 0; i < content_n_checks; i++)
		if (strlen(content_checks[i]->name) == len && memcmp(content_checks[i]->name, name, len) == 0)
			return (int)i;
	return -1;
}
