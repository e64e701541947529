/*
 * See preflight.h.
 */
#include "master/preflight.h"

#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/authdb.h"
#include "content/rules.h"
#include "content/signkeys.h"
#include "content/yara.h"
#include "queue/smarthost_auth.h"
#include "scan/data.h"
#include "scan/policy.h"
#include "tls/tls.h"

/* "file:line: key" or, for the embedded default, "file: key". */
static void where(const struct config *c, int line, const char *key, char *buf, size_t size)
{
	if (line > 0)
		snprintf(buf, size, "%s:%d: %s", c->source, line, key);
	else
		snprintf(buf, size, "%s: %s", c->source, key);
}

/* SCAN-3, issue 16: a scanner file that cannot be read fails closed (the
 * gateway does not start) unless the configuration says optional: true;
 * then it starts without it, with a warning. */
static void check_scan_files(const struct config *c, struct config_errors *errs, struct config_errors *warnings)
{
	const char *paths[SCAN_FILES_MAX];
	size_t n = scan_config_files(c->scan, paths, SCAN_FILES_MAX);
	for (size_t i = 0; i < n; i++) {
		char why[4400], key[64], at[4200];
		if (!paths[i] || scan_data_file_ok(paths[i], i, why, sizeof(why)))
			continue;
		scan_config_file_key(i, key, sizeof(key));
		where(c, c->scan->file_meta[i].line, key, at, sizeof(at));
		if (c->scan->file_meta[i].optional)
			config_errors_add(warnings, "%s: warning: %s (optional: starting without it)", at, why);
		else
			config_errors_add(errs, "%s: %s", at, why);
	}
}

/* scan.rules (issue 11): a rule file that cannot be read stops the
 * start; rules and lines we cannot run are warnings, each with the
 * rule file's line, so the administrator sees what is left out. */
static void check_rules(const struct config *c, struct config_errors *errs, struct config_errors *warnings)
{
	if (!c->scan || !c->scan->n_rules)
		return;
	char err[1024], at[4200];
	where(c, c->scan->rules_line, "scan.rules", at, sizeof(at));
	struct rule_set *rs = rules_load((const char *const *)c->scan->rules, c->scan->n_rules, err, sizeof(err));
	if (!rs) {
		config_errors_add(errs, "%s: %s", at, err);
		return;
	}
	/* The demo (issue 11) picks a rule set nobody configured: one line,
	 * not a page of notes on SpamAssassin's plugin rules at every start. */
	bool demo = strcmp(c->source, CONFIG_DEFAULT_SOURCE) == 0;
	if (rules_unsupported(rs) && demo) {
		config_errors_add(warnings, "%s: warning: %zu rules run, %zu lines or rules not supported "
				  "(a configuration file naming these rules lists them)", at, rules_count(rs),
				  rules_unsupported(rs));
	} else if (rules_unsupported(rs)) {
		config_errors_add(warnings, "%s: warning: %zu rules run, %zu lines or rules not supported:", at,
				  rules_count(rs), rules_unsupported(rs));
		for (size_t i = 0; i < rules_notes(rs); i++)
			config_errors_add(warnings, "  %s", rules_note(rs, i));
		if (rules_notes(rs) < rules_unsupported(rs))
			config_errors_add(warnings, "  (and %zu more)", rules_unsupported(rs) - rules_notes(rs));
	}
	if (rules_ignored(rs) && !demo) {
		config_errors_add(warnings, "%s: warning: %zu lines that are not rules ignored:", at, rules_ignored(rs));
		const char *kw, *first;
		for (size_t i = 0, n; (n = rules_settings(rs, i, &kw, &first)) > 0; i++)
			config_errors_add(warnings, "  %s: %s: %zu lines", first, kw, n);
	}
	rules_free(rs);
}

/* TLS-1/TLS-2: the certificates and keys the master loads for smtpd when
 * a listener speaks TLS (without any, serve makes a self-signed one in
 * state_dir/tls/, which checking must not do). */
static void check_certificates(const struct config *c, struct config_errors *errs)
{
	bool tls = false;
	for (size_t i = 0; i < c->n_listeners; i++)
		tls |= c->listeners[i].tls != LISTENER_TLS_NONE;
	for (size_t i = 0; tls && i < c->n_certificates; i++) {
		char why[1024], key[48], at[4200];
		if (tls_server_check(c, i, why, sizeof(why)))
			continue;
		snprintf(key, sizeof(key), "certificates[%zu]", i);
		where(c, c->certificates[i].line, key, at, sizeof(at));
		config_errors_add(errs, "%s: %s", at, why);
	}
}

/* TLS-7: verify-level delivery needs the CA file; without it every such
 * message would wait in the queue until it bounces. */
static void check_ca_file(const struct config *c, const char *key, const char *path, struct config_errors *errs)
{
	char why[4400], at[4200];
	if (!path || tls_client_check_ca(path, why, sizeof(why)))
		return;
	where(c, config_key_line(c, key), key, at, sizeof(at));
	config_errors_add(errs, "%s: %s", at, why);
}

/* REL-3: the credentials and sender logins the master reads for smtpd. */
static void check_auth_table(const struct config *c, const char *key, const char *path, bool senders,
			     struct config_errors *errs)
{
	char why[4400], at[4200];
	if (!path || auth_db_check_table(path, senders, why, sizeof(why)))
		return;
	where(c, config_key_line(c, key), key, at, sizeof(at));
	config_errors_add(errs, "%s: %s", at, why);
}

/* SEC-1: started as root, serve runs its children as these users. */
static void check_users(const struct config *c, struct config_errors *errs)
{
	const char *keys[] = { "user", "smtpd_user", "scanner_user" };
	const char *users[] = { c->user, c->smtpd_user, c->scanner_user };
	for (size_t i = 0; geteuid() == 0 && i < sizeof(keys) / sizeof(keys[0]); i++) {
		char at[4200];
		if (!users[i] || getpwnam(users[i]))
			continue;
		where(c, config_key_line(c, keys[i]), keys[i], at, sizeof(at));
		config_errors_add(errs, "%s: no such user %s (needed when started as root)", at, users[i]);
	}
}

/* scan.dkim_sign: every key must load, as the scanner will load it. */
static void check_signing_keys(const struct config *c, struct config_errors *errs)
{
	for (size_t i = 0; c->scan && i < c->scan->n_dkim_sign; i++) {
		char err[1024], key[64], at[4200];
		char *pem = signkeys_read(c->scan->dkim_sign[i].key, err, sizeof(err));
		if (pem) {
			signkeys_discard(pem);
			continue;
		}
		snprintf(key, sizeof(key), "scan.dkim_sign[%zu].key", i);
		where(c, c->scan->dkim_sign[i].line, key, at, sizeof(at));
		config_errors_add(errs, "%s: %s", at, err);
	}
}

/* scan.yara (issue 12): the rules compile, as the scanner will compile
 * them; a compile error names the rule file and its line. */
static void check_yara(const struct config *c, struct config_errors *errs)
{
	if (!c->scan || !c->scan->yara)
		return;
	char err[1200], at[4200];
	struct yara_engine *y = yara_engine_load(c->scan->yara->rules, err, sizeof(err));
	if (y) {
		yara_engine_free(y);
		return;
	}
	where(c, c->scan->yara->line, "scan.yara.rules", at, sizeof(at));
	config_errors_add(errs, "%s: %s", at, err);
}

void preflight_check(const struct config *c, struct config_errors *errs, struct config_errors *warnings)
{
	check_users(c, errs);
	check_certificates(c, errs);
	check_ca_file(c, "outbound_tls.ca_file", c->outbound_tls.ca_file, errs);
	/* TLS-8: the policy fetch trusts these, as the delivery trusts the other */
	check_ca_file(c, "outbound_tls.mta_sts.ca_file", c->outbound_tls.mta_sts.ca_file, errs);
	check_auth_table(c, "auth.credentials", c->auth.credentials, false, errs);
	check_auth_table(c, "auth.sender_logins", c->auth.sender_logins, true, errs);
	smarthost_auth_check(c, errs);  /* issue 15: queue.smart_host_auth */
	check_scan_files(c, errs, warnings);
	check_rules(c, errs, warnings);
	check_signing_keys(c, errs);
	check_yara(c, errs);
}
