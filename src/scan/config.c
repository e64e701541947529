/*
 * The "scan:" section of the configuration (scanner policy, SCAN-2..4),
 * registered with the loader as scan_config_section (config/section.h):
 * its scalar keys and their defaults are a schema table, the others a
 * table of handlers (config/mapping.h): the per-direction policies and
 * the engines here, the files and lists in config_lists.c, the values
 * they share in config_value.c. Builds a struct scan_config
 * (scan/policy.h). Check names are validated against the scanner's
 * registry, so a new check needs no change here. Runs in the master
 * before the privilege drop; no I/O (files are read by the scanner).
 *
 *   scan:
 *     dns_servers: "127.0.0.1:53"   # default: the system resolver
 *     dns_timeout_ms: 2000
 *     greylist_delay: 300           # seconds (greylist check; state_dir/greylist.db)
 *     greylist_expiry: 3110400
 *     scanner_timeout_ms: 60000     # the content scan's deadline (RFC 5321 allows 10 min)
 *     scanner_failure: tempfail     # or accept: deliver unscanned, with a header saying so
 *     ip_allow: /etc/mailwarden/allow.txt     # CIDR per line
 *     ip_deny: {file: /etc/mailwarden/deny.txt, optional: true}
 *     recipients: /etc/mailwarden/recipients.txt
 *     rbl_files: [{file: /var/lib/rbl/local.zone, name: local, points: 10, type: ip4set}]
 *                 # exempt_authenticated: true: a policy list (dynamic ranges) that
 *                 # clients who log in are not judged by (issue 18 item 8)
 *
 * Every file must exist unless it says "optional: true" (fail closed:
 * master/preflight.c checks them at start, scan/reload.c at a reload).
 *     dnsbl: [{zone: bl.example, points: 5, codes: {127.0.0.4: 2}}]
 *     rules: [/usr/share/spamassassin, /etc/mailwarden/rules]   # SpamAssassin-format rules
 *     trusted_networks: [192.0.2.0/24]   # relay analysis: our own relays (SpamAssassin's sense)
 *     internal_networks: [192.0.2.0/24]
 *     dkim_sign: [{domain: example.org, selector: mw1, key: /etc/mailwarden/dkim/example.org.pem}]
 *     clamd: {address: "127.0.0.1:3310", timeout_ms: 30000, fail_open: false, scope: all}   # issue 12
 *     yara: {rules: /etc/mailwarden/yara, fail_open: false}
 *     attachments: {forbid_classes: [executable, script, macro, shortcut], forbid_extensions: [zip]}
 *     strip_notice: "The attachment {name} was removed: ..."   # SCAN-8, content/strip.h
 *     inbound:
 *       checks: {dnsbl: refuse, rdns: {action: score, points: 3}, attachments: strip}
 *       # content checks also take quarantine, and attachments/clamav/yara strip
 *       tag: 5
 *       subject_prefix: "[SPAM]"
 *       quarantine: 10
 *       discard: 0
 *       refuse: 15
 *       refuse_reply: "550 5.7.1 Message refused"
 *     outbound: { ... the same keys ... }
 *
 * Points and thresholds are numbers with at most two decimals (2.5,
 * -1.25, 3), kept in hundredths (verdict/points.h).
 */
#include "scan/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/loader.h"
#include "config/mapping.h"
#include "config/schema.h"
#include "config/section.h"
#include "content/check.h"
#include "scan/config_attachments.h"
#include "scan/config_lists.h"
#include "scan/config_value.h"
#include "scan/scan.h"
#include "util/alloc.h"
#include "util/utf8.h"
#include "verdict/points.h"

#define SCAN_NETWORKS_MAX 1000
#define MW_STR_(x) #x
#define MW_STR(x) MW_STR_(x)

void scan_config_free(struct scan_config *sc)
{
	if (!sc)
		return;
	free(sc->dns_servers);
	free(sc->ip_allow);
	free(sc->ip_deny);
	free(sc->recipients);
	for (size_t i = 0; i < sc->n_rbl_files; i++) {
		free(sc->rbl_files[i].path);
		free(sc->rbl_files[i].name);
	}
	free(sc->rbl_files);
	for (size_t i = 0; i < sc->n_dnsbls; i++)
		free(sc->dnsbls[i].zone);
	free(sc->dnsbls);
	for (size_t i = 0; i < sc->n_rules; i++)
		free(sc->rules[i]);
	free(sc->rules);
	cidr_list_free(&sc->trusted_networks);
	cidr_list_free(&sc->internal_networks);
	for (size_t i = 0; i < sc->n_dkim_sign; i++) {
		free(sc->dkim_sign[i].domain);
		free(sc->dkim_sign[i].selector);
		free(sc->dkim_sign[i].key);
	}
	free(sc->dkim_sign);
	if (sc->clamd)
		free(sc->clamd->address);
	free(sc->clamd);
	if (sc->yara)
		free(sc->yara->rules);
	free(sc->yara);
	scan_config_encryption_free(sc);
	config_attachments_free(sc->attachments);
	free(sc->strip_notice);
	struct scan_direction *dirs[] = { &sc->inbound, &sc->outbound };
	for (size_t d = 0; d < 2; d++) {
		for (size_t i = 0; i < SCAN_CHECKS_MAX; i++)
			free(dirs[d]->checks[i].reply);
		for (size_t i = 0; i < CONTENT_CHECKS_MAX; i++)
			free(dirs[d]->content[i].reply);
		free(dirs[d]->subject_prefix);
		free(dirs[d]->refuse_reply);
	}
	free(sc);
}

bool scan_direction_has_content(const struct scan_direction *d, bool authenticated)
{
	for (size_t i = 0; i < content_n_checks; i++)
		if (d->content[i].action != SCAN_CHECK_OFF && (authenticated || !content_checks[i]->auth_only))
			return true;
	return false;
}

void scan_direction_defaults(struct scan_direction *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < content_n_checks; i++) {
		d->content[i].action = content_checks[i]->default_action;
		d->content[i].points = POINTS_ONE;
	}
}

size_t scan_config_files(const struct scan_config *sc, const char **out, size_t cap)
{
	size_t n = 0;
	if (!sc || cap < SCAN_FILE_ZONES)
		return 0;
	out[SCAN_FILE_ALLOW] = sc->ip_allow;
	out[SCAN_FILE_DENY] = sc->ip_deny;
	out[SCAN_FILE_RCPTS] = sc->recipients;
	n = SCAN_FILE_ZONES;
	for (size_t i = 0; i < sc->n_rbl_files && n < cap; i++)
		out[n++] = sc->rbl_files[i].path;
	return n;
}

void scan_config_file_key(size_t i, char *buf, size_t size)
{
	static const char *const names[] = { "scan.ip_allow", "scan.ip_deny", "scan.recipients" };
	if (i < SCAN_FILE_ZONES)
		snprintf(buf, size, "%s", names[i]);
	else
		snprintf(buf, size, "scan.rbl_files[%zu].file", i - SCAN_FILE_ZONES);
}

/* --- checks and directions -------------------------------------------------- */

const char *const scan_check_action_names[SCAN_CHECK_ACTIONS] = {
	[SCAN_CHECK_OFF] = "off", [SCAN_CHECK_SCORE] = "score", [SCAN_CHECK_REFUSE] = "refuse",
	[SCAN_CHECK_QUARANTINE] = "quarantine", [SCAN_CHECK_STRIP] = "strip",
};

static void load_action(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	int i = loader_word(ld, v, name, kline, scan_check_action_names, SCAN_CHECK_ACTIONS);
	if (i >= 0)
		*(enum scan_check_action *)field = (enum scan_check_action)i;
}

static const struct mapping_key check_keys[] = {
	{ "action", load_action, offsetof(struct scan_check_policy, action) },
	{ "points", scan_value_load_points, offsetof(struct scan_check_policy, points) },
	{ "reply", scan_value_load_reply, offsetof(struct scan_check_policy, reply) },
};

static void load_check(struct loader *ld, struct fy_node *v, const char *name, int kline,
		       struct scan_check_policy *pol)
{
	pol->points = POINTS_ONE;
	if (fy_node_is_scalar(v) && !loader_is_null(v)) {
		load_action(ld, v, name, kline, &pol->action);
		return;
	}
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "off, score, refuse or a mapping", &empty) || empty)
		return;
	/* A mapping without "action" scores, or keeps a check's default
	 * refusal (from_binding: {reply: ...} still refuses). */
	if (pol->action == SCAN_CHECK_OFF)
		pol->action = SCAN_CHECK_SCORE;
	MAPPING_LOAD(ld, v, name, kline, check_keys, pol);
}

/* SCAN-8's actions where they can act: quarantine and strip need the
 * whole message (content checks, not the SMTP-time ones), strip a check
 * whose hits name a part (content_check.can_strip). */
static void check_action_fits(struct loader *ld, const char *name, int line, int idx, int cidx,
			      struct scan_direction *d)
{
	enum scan_check_action a = idx >= 0 ? d->checks[idx].action : d->content[cidx].action;
	if (idx >= 0 && (a == SCAN_CHECK_QUARANTINE || a == SCAN_CHECK_STRIP))
		loader_err(ld, line, name, "quarantine and strip are for content checks (this check runs during the "
					   "SMTP dialogue: off, score or refuse)");
	else if (cidx >= 0 && a == SCAN_CHECK_STRIP && !content_checks[cidx]->can_strip)
		loader_err(ld, line, name, "strip needs a check whose hits name a part (attachments, clamav, yara); "
					   "use quarantine or refuse");
}

/* One entry of checks: named by the scanner's or the content scan's
 * registry. */
static void load_named_check(struct loader *ld, const char *k, size_t klen, struct fy_node *val, const char *kname,
			     int kl, void *ctx)
{
	struct scan_direction *d = ctx;
	int idx = scan_check_index(k, klen);
	int cidx = idx < 0 ? content_check_index(k, klen) : -1;
	if (idx < 0 && cidx < 0) {
		loader_err(ld, kl, kname, "unknown check");
		return;
	}
	load_check(ld, val, kname, kl, idx >= 0 ? &d->checks[idx] : &d->content[cidx]);
	check_action_fits(ld, kname, kl, idx, cidx, d);
}

static void load_checks(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping of check names", &empty) || empty)
		return;
	mapping_each(ld, v, name, kline, load_named_check, field);
}

static void load_subject_prefix(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_text(ld, v, name, kline, field, 64);
}

#define DIR_OFF(field) offsetof(struct scan_direction, field)
static const struct mapping_key direction_keys[] = {
	{ "checks", load_checks, 0 },
	{ "tag", scan_value_load_threshold, DIR_OFF(tag) },
	{ "subject_prefix", load_subject_prefix, DIR_OFF(subject_prefix) },
	{ "quarantine", scan_value_load_threshold, DIR_OFF(quarantine) },
	{ "discard", scan_value_load_threshold, DIR_OFF(discard) },
	{ "refuse", scan_value_load_threshold, DIR_OFF(refuse) },
	{ "refuse_reply", scan_value_load_reply, DIR_OFF(refuse_reply) },
};

/* scan.inbound, scan.outbound: field is the struct scan_direction. */
static void load_direction(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping", &empty) || empty)
		return;
	MAPPING_LOAD(ld, v, name, kline, direction_keys, field);
}

static void load_autolearn_interval(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_duration(ld, v, name, kline, 1, 86400, field);
}

static const struct mapping_key autolearn_keys[] = {
	{ "spam", scan_value_load_points, offsetof(struct scan_autolearn, spam) },
	{ "ham", scan_value_load_points, offsetof(struct scan_autolearn, ham) },
	{ "interval", load_autolearn_interval, offsetof(struct scan_autolearn, interval) },
};

/* bayes_autolearn: true (SpamAssassin's thresholds, every 10 minutes),
 * false, or {spam: POINTS, ham: POINTS, interval: DURATION}. */
static void load_autolearn(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_autolearn *al = &((struct scan_config *)part)->autolearn;
	*al = (struct scan_autolearn){ .spam = 12 * POINTS_ONE, .ham = POINTS_ONE / 10, .interval = 600 };
	if (fy_node_is_scalar(v) && !loader_is_null(v)) {
		scan_value_bool(ld, v, name, kline, &al->on);
		return;
	}
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "true, false or a mapping", &empty) || empty)
		return;
	al->on = true;
	MAPPING_LOAD(ld, v, name, kline, autolearn_keys, al);
	if (al->ham >= al->spam)
		loader_err(ld, kline, name, "ham must be below spam");
}

/* What a message gets when the scanner does not answer: 451 or accept. */
static void load_scanner_failure(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	char *word = NULL;
	if (scan_value_text(ld, v, name, kline, &word, 16)) {
		if (strcmp(word, "accept") == 0)
			sc->scanner_fail_open = true;
		else if (strcmp(word, "tempfail") != 0)
			loader_err(ld, loader_line(v, kline), name, "must be one of: tempfail, accept");
	}
	free(word);
}

/* clamd's timeout_ms: milliseconds per scanned buffer. */
static void load_timeout_ms(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	unsigned *out = field;
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return;
	char buf[16];
	unsigned long ms = 0;
	bool ok = len > 0 && len < sizeof(buf) && strspn(s, "0123456789") >= len;
	if (ok) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		ms = strtoul(buf, NULL, 10);
	}
	if (!ok || ms < 100 || ms > 300000) {
		loader_err(ld, line, name, "must be a number of milliseconds from 100 to 300000");
		return;
	}
	*out = (unsigned)ms;
}

/* clamd's scope: all (the default) or attachments. */
static void load_clamd_scope(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	enum clamd_scope *out = field;
	char *word = NULL;
	if (scan_value_text(ld, v, name, kline, &word, 16)) {
		if (strcmp(word, "attachments") == 0)
			*out = CLAMD_SCOPE_ATTACHMENTS;
		else if (strcmp(word, "all") == 0)
			*out = CLAMD_SCOPE_ALL;
		else
			loader_err(ld, loader_line(v, kline), name, "must be one of: all, attachments");
	}
	free(word);
}

/* clamd's address: its TCPSocket, parsed into the target at once. */
static void load_clamd_address(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct scan_clamd *c = field;
	char why[200];
	if (scan_value_text(ld, v, name, kline, &c->address, 128) &&
	    !clamd_target_parse(c->address, &c->target, why, sizeof(why)))
		loader_err(ld, loader_line(v, kline), name, "%s", why);
}

static const struct mapping_key clamd_keys[] = {
	{ "address", load_clamd_address, 0 },
	{ "timeout_ms", load_timeout_ms, offsetof(struct scan_clamd, target.timeout_ms) },
	{ "fail_open", scan_value_load_bool, offsetof(struct scan_clamd, fail_open) },
	{ "scope", load_clamd_scope, offsetof(struct scan_clamd, scope) },
};

/* clamd: {address: "127.0.0.1:3310", timeout_ms: 30000, fail_open: false, scope: all} */
static void load_clamd(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping with address, timeout_ms, fail_open, scope",
			   &empty) ||
	    empty)
		return;
	struct scan_clamd *c = xcalloc(1, sizeof(*c));
	c->line = ld->user ? kline : 0;
	c->target.timeout_ms = 30000;
	MAPPING_LOAD(ld, v, name, kline, clamd_keys, c);
	if (!c->address)
		loader_err(ld, kline, name, "address is required (clamd's TCPSocket, e.g. \"127.0.0.1:3310\")");
	sc->clamd = c;  /* a key given twice is refused by the YAML parser */
}

static const struct mapping_key yara_keys[] = {
	{ "rules", scan_value_load_path, offsetof(struct scan_yara, rules) },
	{ "fail_open", scan_value_load_bool, offsetof(struct scan_yara, fail_open) },
};

/* yara: {rules: DIR, fail_open: false} */
static void load_yara(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping with rules, fail_open", &empty) || empty)
		return;
	struct scan_yara *y = xcalloc(1, sizeof(*y));
	y->line = ld->user ? kline : 0;
	MAPPING_LOAD(ld, v, name, kline, yara_keys, y);
	if (!y->rules)
		loader_err(ld, kline, name, "rules is required (a directory of *.yar files)");
	sc->yara = y;
}

#define OFF(field) offsetof(struct scan_config, field)

/* The section's scalar keys (schema.h); the scanner's failure mode is a
 * word (scan_load). */
static const struct config_key scan_keys[] = {
	{ { "dns_servers", SCHEMA_STRING, 1, 512, OFF(dns_servers), NULL, scan_value_check_text,
	    "resolvers of the checks, \"127.0.0.1:53\" (default: the system's)" }, NULL },
	{ { "dns_timeout_ms", SCHEMA_UINT, 10, 60000, OFF(dns_timeout_ms), NULL, NULL,
	    "milliseconds a check waits for a DNS answer" }, "2000" },
	{ { "greylist_delay", SCHEMA_UINT, 0, 86400, OFF(greylist_delay), NULL, NULL,
	    "seconds before a retried triplet passes the greylist" }, "300" },
	{ { "greylist_expiry", SCHEMA_UINT, 3600, 3110400, OFF(greylist_expiry), NULL, NULL,
	    "seconds an idle triplet is remembered" }, "3110400" },
	{ { "scanner_timeout_ms", SCHEMA_UINT, 100, 300000, OFF(scanner_timeout_ms), NULL, NULL,
	    "milliseconds the queue waits for the scanner process's answer" }, MW_STR(SCAN_SCANNER_TIMEOUT_MS) },
	{ { "bayes_min_learned", SCHEMA_UINT, 1, 1000000, OFF(bayes_min_learned), NULL, NULL,
	    "spam and ham messages each that must be learnt before the bayes check answers" }, "200" },
};

/* rules: [path, ...] (files or directories of *.cf) or one path. */
static void load_rules(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	sc->rules_line = ld->user ? kline : 0;  /* the embedded default's has no line to name */
	if (fy_node_is_scalar(v) && !loader_is_null(v)) {
		sc->rules = xreallocarray(sc->rules, sc->n_rules + 1, sizeof(*sc->rules));
		sc->rules[sc->n_rules] = NULL;
		scan_value_text(ld, v, name, kline, &sc->rules[sc->n_rules], 4095);
		if (sc->rules[sc->n_rules])
			sc->n_rules++;
		return;
	}
	bool empty;
	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a path or a list of paths", &empty) || empty)
		return;
	void *it = NULL;
	struct fy_node *item;
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[LOADER_NAME_SIZE + 24];
		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		if (sc->n_rules >= SCAN_LIST_MAX) {
			loader_err(ld, loader_line(item, kline), iname, "more than %d rule paths", SCAN_LIST_MAX);
			return;
		}
		sc->rules = xreallocarray(sc->rules, sc->n_rules + 1, sizeof(*sc->rules));
		sc->rules[sc->n_rules] = NULL;
		scan_value_text(ld, item, iname, loader_line(item, kline), &sc->rules[sc->n_rules], 4095);
		if (sc->rules[sc->n_rules])
			sc->n_rules++;
	}
}

/* trusted_networks / internal_networks: relays counted as ours when the
 * rules read a message's Received chain (content/relays.h). Not the
 * gateway's relay permission: no open-relay check applies. */
static void load_networks(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct cidr_list *out = field;
	bool empty;
	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of networks", &empty) || empty)
		return;
	void *it = NULL;
	struct fy_node *item;
	cidr_list_free(out);
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[LOADER_NAME_SIZE + 24];
		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		const char *s;
		size_t len;
		int line;
		struct cidr c;
		if (i >= SCAN_NETWORKS_MAX) {
			loader_err(ld, loader_line(item, kline), name, "more than %d networks", SCAN_NETWORKS_MAX);
			return;
		}
		if (!loader_scalar(ld, item, iname, loader_line(item, kline), &s, &len, &line))
			continue;
		if (cidr_parse(s, len, &c))
			cidr_list_add(out, &c);
		else
			loader_err(ld, line, iname, "not a network (e.g. 192.0.2.0/24 or 2001:db8::/32, host bits zero)");
	}
}

/* scan.strip_notice (content/strip.h): UTF-8 in any language, line
 * breaks and tabs allowed, no other controls. */
#define STRIP_NOTICE_TEMPLATE_MAX 2000
static void load_strip_notice(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return;
	if (len == 0 || len > STRIP_NOTICE_TEMPLATE_MAX) {
		loader_err(ld, line, name, "must be 1 to %d bytes long", STRIP_NOTICE_TEMPLATE_MAX);
		return;
	}
	for (size_t i = 0; i < len;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t l = *p < 0x80 ? 1 : utf8_seq_len(p, len - i);
		if (l == 0 || (l == 1 && ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f))) {
			loader_err(ld, line, name, "not UTF-8 text (byte %zu: invalid sequence or control character)", i);
			return;
		}
		i += l;
	}
	free(sc->strip_notice);
	sc->strip_notice = xstrndup(s, len);
}

static void *scan_create(void)
{
	struct scan_config *sc = xcalloc(1, sizeof(*sc));
	scan_direction_defaults(&sc->inbound);
	scan_direction_defaults(&sc->outbound);
	return sc;
}

/* The keys that are not scalars: the files, the lists and the policy per
 * direction; each handler's field is the struct scan_config or a member. */
static const struct mapping_key scan_load_keys[] = {
	{ "scanner_failure", load_scanner_failure, 0 },
	{ "ip_allow", scan_config_load_ip_allow, 0 },
	{ "ip_deny", scan_config_load_ip_deny, 0 },
	{ "recipients", scan_config_load_recipients, 0 },
	{ "rbl_files", scan_config_load_rbl_files, 0 },
	{ "dnsbl", scan_config_load_dnsbl, 0 },
	{ "rules", load_rules, 0 },
	{ "trusted_networks", load_networks, OFF(trusted_networks) },
	{ "internal_networks", load_networks, OFF(internal_networks) },
	{ "dkim_sign", scan_config_load_dkim_sign, 0 },
	{ "bayes_autolearn", load_autolearn, 0 },
	{ "clamd", load_clamd, 0 },
	{ "yara", load_yara, 0 },
	{ "encryption", scan_config_load_encryption, 0 },       /* issue 12: config_encryption.c */
	{ "malware_alarm", scan_config_load_malware_alarm, 0 },
	{ "attachments", config_attachments_load, 0 },
	{ "strip_notice", load_strip_notice, 0 },
	{ "inbound", load_direction, OFF(inbound) },
	{ "outbound", load_direction, OFF(outbound) },
};

static bool scan_load(struct loader *ld, void *part, const char *k, size_t klen, struct fy_node *val,
		      const char *kname, int kl)
{
	const struct mapping_key *e =
		mapping_find(scan_load_keys, sizeof(scan_load_keys) / sizeof(scan_load_keys[0]), k, klen);

	if (!e)
		return false;
	e->load(ld, val, kname, kl, (char *)part + e->offset);
	return true;
}

static void scan_attach(struct config *c, void *part)
{
	scan_config_free(c->scan);
	c->scan = part;
}

/* A configured engine's check refuses in a direction that leaves it off. */
static void engine_switches_on(struct scan_config *sc, const char *check, bool configured)
{
	int i = content_check_index(check, strlen(check));
	struct scan_direction *dirs[] = { &sc->inbound, &sc->outbound };
	for (size_t d = 0; configured && i >= 0 && d < 2; d++)
		if (dirs[d]->content[i].action == SCAN_CHECK_OFF)
			dirs[d]->content[i].action = SCAN_CHECK_REFUSE;
}

/* The scanner's files, relative to the configuration file's directory. */
static void scan_resolve(struct loader *ld, const char *path)
{
	struct scan_config *sc = ld->cfg->scan;
	if (!sc)
		return;
	loader_resolve_path(ld, path, &sc->ip_allow, "scan.ip_allow");
	loader_resolve_path(ld, path, &sc->ip_deny, "scan.ip_deny");
	loader_resolve_path(ld, path, &sc->recipients, "scan.recipients");
	for (size_t i = 0; i < sc->n_rbl_files; i++)
		loader_resolve_path(ld, path, &sc->rbl_files[i].path, "scan.rbl_files.file");
	for (size_t i = 0; i < sc->n_rules; i++)
		loader_resolve_path(ld, path, &sc->rules[i], "scan.rules");
	for (size_t i = 0; i < sc->n_dkim_sign; i++)
		loader_resolve_path(ld, path, &sc->dkim_sign[i].key, "scan.dkim_sign.key");
	if (sc->yara)
		loader_resolve_path(ld, path, &sc->yara->rules, "scan.yara.rules");
	/* Keys to sign with switch signing on for outbound mail. */
	int sign = content_check_index("dkim_sign", strlen("dkim_sign"));
	if (sc->n_dkim_sign && sign >= 0 && sc->outbound.content[sign].action == SCAN_CHECK_OFF)
		sc->outbound.content[sign].action = SCAN_CHECK_SCORE;
	/* A malware engine configured is one meant to run (SCAN-6). */
	engine_switches_on(sc, "clamav", sc->clamd != NULL);
	engine_switches_on(sc, "yara", sc->yara != NULL);
	/* ...and with it the judgement of what no engine could see. */
	engine_switches_on(sc, "hidden", sc->clamd || sc->yara);
	scan_encryption_switch_on(sc);
}

/* A scalar key of scan: that a level may set over the section's value:
 * the content scan's deadline, which the queue reads per message. */
static bool level_scalar(struct loader *ld, struct scan_config *sc, const char *k, size_t klen, struct fy_node *val,
			 const char *kname, int kl)
{
	const struct config_key *ck = NULL;
	char problem[512];
	const char *s;
	size_t len;
	int line;
	if (!loader_text_is(k, klen, "scanner_timeout_ms"))
		return false;
	for (size_t i = 0; i < sizeof(scan_keys) / sizeof(scan_keys[0]); i++)
		if (strcmp(scan_keys[i].schema.key, "scanner_timeout_ms") == 0)
			ck = &scan_keys[i];
	if (loader_scalar(ld, val, kname, kl, &s, &len, &line) &&
	    !schema_set(&ck->schema, sc, s, len, problem, sizeof(problem)))
		loader_err(ld, line, kname, "%s", problem);
	return true;
}

/* One key of a level's scan: (scan_level_merge). */
static void level_key(struct loader *ld, const char *k, size_t klen, struct fy_node *val, const char *kname, int kl,
		      void *ctx)
{
	struct scan_config *sc = ctx;
	if (loader_text_is(k, klen, "inbound"))
		load_direction(ld, val, kname, kl, &sc->inbound);
	else if (loader_text_is(k, klen, "outbound"))
		load_direction(ld, val, kname, kl, &sc->outbound);
	else if (!level_scalar(ld, sc, k, klen, val, kname, kl))
		loader_err(ld, kl, kname, "a level changes only scan.inbound, scan.outbound and scan.scanner_timeout_ms");
}

/* SCAN-11: an emergency level's scan: changes the policy of a direction
 * over the one loaded: the keys it writes replace those of the section
 * (a check's entry as a whole), the rest stays; and the content scan's
 * deadline. Nothing else of scan: can change with a level (files and
 * engines are loaded at start). */
static void scan_level_merge(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct scan_config *sc = ld->cfg->scan;
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping (inbound, outbound)", &empty) || empty)
		return;
	if (!sc) {
		loader_err(ld, kline, name, "the configuration has no scan: section for a level to change");
		return;
	}
	mapping_each(ld, v, name, kline, level_key, sc);
}

static void scan_release(struct config *c)
{
	scan_config_free(c->scan);
	c->scan = NULL;
}

/* smtpd waits for the verdict up to limits.data_timeout: a scanner
 * deadline at or beyond it answers 451 before the queue has decided (the
 * message is not lost, but the client's retry may make a duplicate). */
static void scan_warn(const struct config *c, struct config_errors *out)
{
	if (c->scan && c->scan->scanner_timeout_ms / 1000 >= c->limits.data_timeout)
		config_errors_add(out, "%s: warning: scan.scanner_timeout_ms (%u ms) is not below limits.data_timeout "
				  "(%u s): sessions give up on the verdict first", c->source, c->scan->scanner_timeout_ms,
				  c->limits.data_timeout);
}

const struct config_section scan_config_section = {
	.key = "scan",
	.warn = scan_warn,
	.keys = scan_keys,
	.n_keys = sizeof(scan_keys) / sizeof(scan_keys[0]),
	.create = scan_create,
	.load = scan_load,
	.attach = scan_attach,
	.finish = scan_resolve,
	.level_merge = scan_level_merge,
	.level_describe = scan_level_describe,
	.release = scan_release,
};
