/*
 * The session's one wait state (smtp/wait.c): a result of the awaited kind
 * runs the continuation once and returns to the state the session waited
 * in; any other result is ignored; the deadline ends the wait; input is
 * held back meanwhile. A real connection (a socket pair on a real event
 * loop) stands under the session.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "net/conn.h"
#include "smtp/smtpd_internal.h"
#include "smtp/wait.h"

static struct event_base *base;
static struct config *cfg;
static struct smtpd d;
static struct smtp_session s;
static int peer = -1;
static unsigned inputs;          /* on_input calls delivered by the connection */
static unsigned calls;           /* continuation calls */
static struct smtp_result got;
static enum smtp_state state_in_cont;
static char reply_in_cont[128];

static void on_input(void *arg) { inputs++; }
static void on_drained(void *arg) {}
static void on_timeout(void *arg) {}
static void on_closed(void *arg, const char *why) {}

static const struct conn_handlers handlers = {
	.on_input = on_input, .on_drained = on_drained, .on_timeout = on_timeout, .on_closed = on_closed,
};

static void cont(struct smtp_session *ss, const struct smtp_cont *c, const struct smtp_result *r)
{
	calls++;
	got = *r;
	state_in_cont = ss->state;
	snprintf(reply_in_cont, sizeof(reply_in_cont), "%s", c->u.auth.reply);
}

/* The embedded default configuration: its timeouts are all the session needs. */
static struct config *load_default(void)
{
	struct config_errors errs = { 0 };
	struct config *c = config_load(NULL, &errs);
	config_errors_free(&errs);
	cr_assert_not_null(c);
	return c;
}

static void setup(void)
{
	base = event_base_new();
	cfg = load_default();
	memset(&d, 0, sizeof(d));
	d.config = cfg;
	d.active = cfg;
	d.base = base;
	TAILQ_INIT(&d.sessions);
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	memset(&s, 0, sizeof(s));
	s.smtpd = &d;
	s.cfg = cfg;  /* the session's level (SCAN-11): level 0 */
	s.state = SMTP_STATE_READY;
	snprintf(s.id, sizeof(s.id), "waittest");
	s.conn = conn_new(base, sv[0], &handlers, &s);
	cr_assert_not_null(s.conn);
	peer = sv[1];
	inputs = calls = 0;
	memset(&got, 0, sizeof(got));
}

static void teardown(void)
{
	conn_free(s.conn);
	close(peer);
	config_free(cfg);
	event_base_free(base);
}

/* Run the loop for ms milliseconds. */
static void run_for(long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static struct smtp_cont a_cont(void)
{
	struct smtp_cont c = { .fn = cont };
	snprintf(c.u.auth.reply, sizeof(c.u.auth.reply), "%s", "535 5.7.8 test");
	return c;
}

TestSuite(wait, .init = setup, .fini = teardown);

Test(wait, a_result_of_the_awaited_kind_runs_the_continuation_once_back_in_the_state_it_waited_in)
{
	struct smtp_cont c = a_cont();
	smtp_session_wait(&s, SMTP_PENDING_VERDICT, &c, 60);
	cr_assert_eq(s.state, SMTP_STATE_WAIT);
	cr_assert_eq(smtp_session_waiting(&s), SMTP_PENDING_VERDICT);
	struct smtp_result r = { .status = SMTP_RESULT_OK, .text = "QID", .fd = -1 };
	cr_assert(smtp_session_resume(&s, SMTP_PENDING_VERDICT, &r));
	cr_assert_eq(calls, 1);
	cr_assert_eq(got.status, SMTP_RESULT_OK);
	cr_assert_str_eq(got.text, "QID");
	cr_assert_eq(state_in_cont, SMTP_STATE_READY);
	cr_assert_str_eq(reply_in_cont, "535 5.7.8 test", "the continuation's data travels with it");
	cr_assert_eq(smtp_session_waiting(&s), SMTP_PENDING_NONE);
	cr_assert_not(smtp_session_resume(&s, SMTP_PENDING_VERDICT, &r), "a second answer is not awaited");
	cr_assert_eq(calls, 1);
}

Test(wait, a_result_for_a_kind_the_session_does_not_wait_for_is_ignored)
{
	struct smtp_cont c = a_cont();
	smtp_session_wait(&s, SMTP_PENDING_QUEUE_OPEN, &c, 60);
	struct smtp_result r = { .status = SMTP_RESULT_OK, .text = "QID", .fd = -1 };
	cr_assert_not(smtp_session_resume(&s, SMTP_PENDING_VERDICT, &r));
	cr_assert_not(smtp_session_resume(&s, SMTP_PENDING_NONE, &r));
	cr_assert_eq(calls, 0);
	cr_assert_eq(smtp_session_waiting(&s), SMTP_PENDING_QUEUE_OPEN, "still waiting for the pipe");
}

Test(wait, the_deadline_ends_the_wait_with_expired)
{
	struct smtp_cont c = a_cont();
	smtp_session_wait(&s, SMTP_PENDING_SCAN, &c, 1);
	run_for(400);
	cr_assert_eq(calls, 0, "ended before its deadline");
	run_for(1500);
	cr_assert_eq(calls, 1);
	cr_assert_eq(got.status, SMTP_RESULT_EXPIRED);
	cr_assert_eq(state_in_cont, SMTP_STATE_READY);
}

Test(wait, the_deadline_of_an_ended_wait_does_not_end_the_next_one)
{
	struct smtp_cont c = a_cont();
	smtp_session_wait(&s, SMTP_PENDING_SCAN, &c, 1);
	cr_assert(smtp_session_resume(&s, SMTP_PENDING_SCAN, &(struct smtp_result){ .status = SMTP_RESULT_OK }));
	smtp_session_wait(&s, SMTP_PENDING_VERDICT, &c, 60);
	run_for(1500);
	cr_assert_eq(calls, 1);
	cr_assert_eq(smtp_session_waiting(&s), SMTP_PENDING_VERDICT);
}

Test(wait, input_is_held_back_while_waiting_and_delivered_after)
{
	struct smtp_cont c = a_cont();
	smtp_session_wait(&s, SMTP_PENDING_SCAN, &c, 60);
	cr_assert_eq(write(peer, "NOOP\r\n", 6), 6);
	run_for(200);
	cr_assert_eq(inputs, 0, "a command was delivered during the wait");
	cr_assert_eq(conn_input_pending(s.conn), 6);
	cr_assert(smtp_session_resume(&s, SMTP_PENDING_SCAN, &(struct smtp_result){ .status = SMTP_RESULT_OK }));
	run_for(200);
	cr_assert_geq(inputs, 1);
}

Test(wait, a_cancelled_wait_ignores_its_late_result)
{
	struct smtp_cont c = a_cont();
	smtp_session_wait(&s, SMTP_PENDING_VERDICT, &c, 1);
	smtp_session_wait_cancel(&s);
	cr_assert_eq(smtp_session_waiting(&s), SMTP_PENDING_NONE);
	cr_assert_not(smtp_session_resume(&s, SMTP_PENDING_VERDICT, &(struct smtp_result){ .status = SMTP_RESULT_OK }));
	run_for(1500);
	cr_assert_eq(calls, 0, "the deadline of a cancelled wait ran its continuation");
}
