/*
 * Outbound TLS policy per destination domain (TLS-5, TLS-7): the
 * tls_policy entry for the domain ("domain" exactly, else the longest
 * ".domain" that matches), else outbound_tls.level. Pure; runs in the
 * queue process.
 */
#ifndef MW_POLICY_TLSPOLICY_H
#define MW_POLICY_TLSPOLICY_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* One entry of the tls_policy: section (policy/config.c). */
struct tls_policy_cfg {
	char *domain;       /* lower case */
	bool subdomains;    /* ".domain": every subdomain */
	int level;          /* enum tls_level (config/config.h) */
	int min_version;    /* CONFIG_TLS_1_2 / _1_3; 0: outbound_tls.min_version */
};

struct tls_requirement {
	int level;          /* enum tls_level */
	int min_version;    /* CONFIG_TLS_1_2 / CONFIG_TLS_1_3 */
	bool configured;    /* a tls_policy entry matched (else outbound_tls.level) */
};

struct tls_requirement tls_policy_lookup(const struct config *c, const char *domain, size_t len);

/* The stricter of two requirements (a message for several domains over
 * one connection must satisfy all of them). */
struct tls_requirement tls_policy_stricter(struct tls_requirement a, struct tls_requirement b);

/* tls_policy: for the loader (policy/config.c; master/sections.c lists it). */
struct config_section;
extern const struct config_section tls_policy_config_section;

#endif
