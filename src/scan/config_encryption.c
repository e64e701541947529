/*
 * The scan: section's keys of issue 12's encrypted-mail policy (SCAN-10)
 * and outbound infection alarm (SCAN-9), parsed into struct
 * scan_encryption and struct scan_malware_alarm (scan/policy.h). Runs in
 * the master with the rest of the configuration; errors name file, line
 * and key.
 *
 *   scan:
 *     encryption:
 *       inbound: tag          # allow | tag | quarantine | refuse (default tag)
 *       outbound: tag
 *       exempt: [partner.example, ceo@other.example]
 *     malware_alarm: {to: security@example.org, from: mailwarden@example.org, interval: 1h}
 *
 * How this maps onto the check policy: the content check "encryption"
 * runs where this section or a malware engine is configured (where
 * mail is scanned for malware, what could not be scanned must be said),
 * like a configured engine switches its check on. What a finding does is this section's word, not the check's action and
 * points: the four words are what SCAN-10 asks for, and "quarantine" is
 * not a check action at all (checks score or refuse; quarantine is a
 * score threshold). A quarantine or refusal here is forced (whatever the
 * score); allow and tag add the symbol with 0 points, so encrypted mail
 * never crosses a spam threshold just for being encrypted.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/loader.h"
#include "config/mapping.h"
#include "config/schema.h"
#include "content/check.h"
#include "scan/policy.h"
#include "util/alloc.h"

#define EXEMPT_MAX 1000
#define ALARM_INTERVAL_MAX (30u * 86400u)

/* In the order the error message lists them. */
static const char *const encryption_words[] = { "allow", "tag", "quarantine", "refuse" };
static const enum scan_encryption_action encryption_actions[] = {
	SCAN_ENCRYPTION_ALLOW, SCAN_ENCRYPTION_TAG, SCAN_ENCRYPTION_QUARANTINE, SCAN_ENCRYPTION_REFUSE,
};

static void load_encryption_action(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	int i = loader_word(ld, v, name, kline, encryption_words, sizeof(encryption_words) / sizeof(encryption_words[0]));
	if (i >= 0)
		*(enum scan_encryption_action *)field = encryption_actions[i];
}

/* local@domain or domain: no spaces, controls, angle brackets; a valid
 * domain. NULL or why not. */
static const char *check_address(const char *s, size_t len, bool need_local)
{
	const char *at = memchr(s, '@', len);
	if (need_local && (!at || at == s))
		return "not a mailbox (local@domain)";
	for (const char *p = s; at && p < at; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7f)
			return "not a mailbox (local@domain)";
	const char *domain = at ? at + 1 : s;
	return schema_check_domain(domain, len - (size_t)(domain - s));
}

/* A mailbox (mailbox) or an address-or-domain entry into *out, lower
 * case. */
static bool get_address(struct loader *ld, struct fy_node *v, const char *name, int kline, bool mailbox,
			char **out)
{
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return false;
	if (!mailbox && len > 0 && s[0] == '@') {  /* "@example.org": the domain */
		s++;
		len--;
	}
	const char *why = len == 0 || len > 254 ? "must be 1 to 254 bytes long" : check_address(s, len, mailbox);
	if (why) {
		char shown[LOADER_SHOW_SIZE];
		loader_show(shown, sizeof(shown), s, len);
		loader_err(ld, line, name, "\"%s\": %s", shown, why);
		return false;
	}
	free(*out);
	*out = xstrndup(s, len);
	for (char *p = *out; *p; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	return true;
}

static void load_exempt(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct scan_encryption *e = field;
	bool empty;
	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of addresses and domains", &empty) || empty)
		return;
	void *it = NULL;
	struct fy_node *item;
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[LOADER_NAME_SIZE + 24];
		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		if (e->n_exempt >= EXEMPT_MAX) {
			loader_err(ld, loader_line(item, kline), iname, "more than %d entries", EXEMPT_MAX);
			return;
		}
		char *entry = NULL;
		if (!get_address(ld, item, iname, loader_line(item, kline), false, &entry))
			continue;
		e->exempt = xreallocarray(e->exempt, e->n_exempt + 1, sizeof(*e->exempt));
		e->exempt[e->n_exempt++] = entry;
	}
}

static const struct mapping_key encryption_keys[] = {
	{ "inbound", load_encryption_action, offsetof(struct scan_encryption, inbound) },
	{ "outbound", load_encryption_action, offsetof(struct scan_encryption, outbound) },
	{ "exempt", load_exempt, 0 },
};

void scan_config_load_encryption(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping with inbound, outbound, exempt", &empty))
		return;
	struct scan_encryption *e = xcalloc(1, sizeof(*e));
	MAPPING_LOAD(ld, v, name, kline, encryption_keys, e);
	sc->encryption = e;  /* a key given twice is refused by the YAML parser */
}

static void load_interval(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	unsigned *out = field;
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return;
	char text[32] = "";
	unsigned long long secs = 0;
	if (len < sizeof(text))
		memcpy(text, s, len);
	if (len >= sizeof(text) || !schema_parse_duration(text, &secs) || secs < 1 || secs > ALARM_INTERVAL_MAX) {
		loader_err(ld, line, name, "must be a duration from 1 second to 30 days (e.g. 90, 15m, 1h)");
		return;
	}
	*out = (unsigned)secs;
}

static void load_mailbox(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	get_address(ld, v, name, kline, true, field);
}

static const struct mapping_key alarm_keys[] = {
	{ "to", load_mailbox, offsetof(struct scan_malware_alarm, to) },
	{ "from", load_mailbox, offsetof(struct scan_malware_alarm, from) },
	{ "interval", load_interval, offsetof(struct scan_malware_alarm, interval) },
};

void scan_config_load_malware_alarm(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping with to, from, interval", &empty) || empty) {
		if (empty)
			loader_err(ld, kline, name, "to is required (the administrator's mailbox)");
		return;
	}
	struct scan_malware_alarm *a = xcalloc(1, sizeof(*a));
	a->interval = 3600;
	if (!(MAPPING_LOAD(ld, v, name, kline, alarm_keys, a) & MAPPING_BIT(alarm_keys, "to")))
		loader_err(ld, kline, name, "to is required (the administrator's mailbox)");
	sc->malware_alarm = a;
}

void scan_config_encryption_free(struct scan_config *sc)
{
	if (sc->encryption) {
		for (size_t i = 0; i < sc->encryption->n_exempt; i++)
			free(sc->encryption->exempt[i]);
		free(sc->encryption->exempt);
	}
	free(sc->encryption);
	sc->encryption = NULL;
	if (sc->malware_alarm) {
		free(sc->malware_alarm->to);
		free(sc->malware_alarm->from);
	}
	free(sc->malware_alarm);
	sc->malware_alarm = NULL;
}

void scan_encryption_switch_on(struct scan_config *sc)
{
	int i = content_check_index("encryption", strlen("encryption"));
	if (i < 0 || !(sc->encryption || sc->clamd || sc->yara))
		return;
	struct scan_direction *dirs[] = { &sc->inbound, &sc->outbound };
	for (size_t d = 0; d < 2; d++)
		if (dirs[d]->content[i].action == SCAN_CHECK_OFF)
			dirs[d]->content[i].action = SCAN_CHECK_SCORE;
}

/* domain equals entry or is a subdomain of it. */
static bool domain_within(const char *domain, const char *entry)
{
	size_t d = strlen(domain), n = strlen(entry);
	if (d == n)
		return strcasecmp(domain, entry) == 0;
	return d > n && domain[d - n - 1] == '.' && strcasecmp(domain + d - n, entry) == 0;
}

bool scan_encryption_exempt(const struct scan_encryption *e, const char *address)
{
	const char *at = address ? strrchr(address, '@') : NULL;
	if (!e || !at || at == address)
		return false;
	for (size_t i = 0; i < e->n_exempt; i++) {
		const char *x = e->exempt[i];
		if (strchr(x, '@') ? strcasecmp(x, address) == 0 : domain_within(at + 1, x))
			return true;
	}
	return false;
}

enum scan_encryption_action scan_encryption_action_for(const struct scan_encryption *e, bool outbound,
						       const char *sender, const char *const *rcpts, size_t n_rcpts,
						       bool rcpts_complete)
{
	if (!e)
		return SCAN_ENCRYPTION_TAG;
	if (scan_encryption_exempt(e, sender))
		return SCAN_ENCRYPTION_ALLOW;
	bool all = rcpts_complete && n_rcpts > 0;
	for (size_t i = 0; all && i < n_rcpts; i++)
		all = scan_encryption_exempt(e, rcpts[i]);
	if (all)
		return SCAN_ENCRYPTION_ALLOW;
	return outbound ? e->outbound : e->inbound;
}
