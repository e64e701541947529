/* The scanner pipeline without a network: a configuration with only
 * synchronous checks (helo, iplist), the per-check policy (score vs
 * refuse), the symbols handed to the queue and its verdict from them,
 * per-message reset, and the headers. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "ipc/txn.h"
#include "scan/scan.h"
#include "verdict/verdict.h"

/* The queue's side: smtpd's symbols (END-OF-MESSAGE) through the one
 * scoring function with the session's direction's thresholds. */
static enum verdict_action decide_with(const struct config *c, struct scan_session *ss, struct verdict *v)
{
	struct ipc_eom e;
	memset(&e, 0, sizeof(e));
	scan_eom_facts(ss, &e);
	const struct scan_direction *d = e.outbound ? &c->scan->outbound : &c->scan->inbound;
	verdict_init(v);
	for (uint32_t i = 0; i < e.n_symbols; i++)
		verdict_add(v, e.symbols[i].name, e.symbols[i].points);
	struct verdict_thresholds t = { d->tag, d->quarantine, d->discard, d->refuse };
	return verdict_decide(v, &t);
}

static enum verdict_action decide(const struct config *c, struct scan_session *ss)
{
	struct verdict v;
	return decide_with(c, ss, &v);
}

static struct config *load(const char *yaml)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/mw-test-scan-%d.yaml", (int)getpid());
	FILE *f = fopen(path, "w");
	fputs(yaml, f);
	fclose(f);
	struct config_errors errs = { 0 };
	struct config *c = config_load(path, &errs);
	for (size_t i = 0; i < errs.n; i++)
		cr_log_error("%s", errs.items[i]);
	config_errors_free(&errs);
	unlink(path);
	cr_assert_not_null(c);
	return c;
}

static bool done, refused;
static char reply[512];

static void on_done(void *arg, bool r, const char *text)
{
	done = true;
	refused = r;
	snprintf(reply, sizeof(reply), "%s", text ? text : "");
}

static struct scan_session *session(const struct config *c, const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return scan_session_new(c, (struct sockaddr *)&sin, ip, false);
}

static void run(struct scan_session *ss, enum scan_stage st)
{
	done = false;
	scan_run(ss, st, on_done, NULL);
	cr_assert(done, "synchronous checks finish inside scan_run");
}

#define BASE "hostname: mx.test\nstate_dir: /tmp\n"

Test(scan, no_scan_section_no_session)
{
	struct config *c = load(BASE);
	cr_assert_null(session(c, "192.0.2.1"));
	config_free(c);
}

Test(scan, score_policy_adds_points_and_thresholds_pick_the_highest)
{
	struct config *c = load(BASE "scan:\n  inbound:\n    checks:\n      helo: {action: score, points: 6}\n"
				   "    tag: 5\n    quarantine: 6\n    refuse: 20\n");
	struct scan_session *ss = session(c, "192.0.2.1");
	snprintf(scan_session_facts(ss)->helo, 256, "localhost");
	run(ss, SCAN_STAGE_HELO);
	cr_assert_not(refused);
	struct verdict v;
	cr_assert_eq(decide_with(c, ss, &v), VERDICT_QUARANTINE);
	char h[2048];
	struct verdict_auth none = { "192.0.2.1", "", "", "", "", NULL };
	verdict_headers(&v, "mx.test", &none, 500, h, sizeof(h));
	cr_assert(strstr(h, "Authentication-Results: mx.test; none\r\n"), "%s", h);
	cr_assert(strstr(h, "X-Spam-Score: 6\r\n"), "%s", h);
	cr_assert(strstr(h, "tests=HELO_BAD_SYNTAX(6)"), "%s", h);
	char sum[256];
	verdict_summary(&v, sum, sizeof(sum));
	cr_assert_str_eq(sum, "quarantine 6 HELO_BAD_SYNTAX(6)");
	/* HELO symbols belong to the connection: a new message keeps them. */
	scan_message_reset(ss);
	cr_assert_eq(decide(c, ss), VERDICT_QUARANTINE);
	scan_session_free(ss);
	config_free(c);
}

Test(scan, refuse_policy_refuses_with_the_configured_reply_and_scores_nothing)
{
	struct config *c = load(BASE "scan:\n  inbound:\n    checks:\n"
				   "      helo: {action: refuse, reply: \"550 5.7.1 No\"}\n    tag: 1\n");
	struct scan_session *ss = session(c, "192.0.2.1");
	snprintf(scan_session_facts(ss)->helo, 256, "mx.test");
	run(ss, SCAN_STAGE_HELO);
	cr_assert(refused);
	cr_assert_str_eq(reply, "550 5.7.1 No: <mx.test>: HELO/EHLO with our own name");
	cr_assert_eq(decide(c, ss), VERDICT_ACCEPT);
	snprintf(scan_session_facts(ss)->helo, 256, "[192.0.2.1]");
	run(ss, SCAN_STAGE_HELO);
	cr_assert_not(refused, "%s", reply);
	scan_session_free(ss);
	config_free(c);
}

Test(scan, off_checks_and_stages_without_checks_do_nothing)
{
	struct config *c = load(BASE "scan:\n  inbound:\n    checks:\n      helo: off\n    tag: 1\n");
	struct scan_session *ss = session(c, "192.0.2.1");
	snprintf(scan_session_facts(ss)->helo, 256, "x");
	for (int st = 0; st < SCAN_STAGES; st++)
		run(ss, (enum scan_stage)st);
	cr_assert_not(refused);
	cr_assert_eq(decide(c, ss), VERDICT_ACCEPT);
	scan_session_free(ss);
	config_free(c);
}

Test(scan, client_text_in_replies_is_made_printable)
{
	struct config *c = load(BASE "scan:\n  inbound:\n    checks:\n      helo: refuse\n");
	struct scan_session *ss = session(c, "192.0.2.1");
	snprintf(scan_session_facts(ss)->helo, 256, "bad\r\n250 injected");
	run(ss, SCAN_STAGE_HELO);
	cr_assert(refused);
	cr_assert_null(strchr(reply, '\r'));
	cr_assert_null(strchr(reply, '\n'));
	scan_session_free(ss);
	config_free(c);
}

Test(scan, outbound_sessions_use_the_outbound_policy)
{
	struct config *c = load(BASE "scan:\n  inbound:\n    checks:\n      helo: refuse\n"
				   "  outbound:\n    checks:\n      helo: {action: score, points: 2}\n    tag: 2\n");
	struct scan_session *ss = session(c, "192.0.2.1");
	scan_session_set_outbound(ss);
	snprintf(scan_session_facts(ss)->helo, 256, "localhost");
	run(ss, SCAN_STAGE_HELO);
	cr_assert_not(refused);
	cr_assert_eq(decide(c, ss), VERDICT_TAG);
	scan_session_free(ss);
	config_free(c);
}
