/*
 * SMTP AUTH: see auth.h. Passwords live on the stack only as long as the
 * check takes and are wiped after it; they are never logged (the user
 * name is). Replies follow RFC 4954 6.
 */
#include "smtp/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth/authdb.h"
#include "auth/penalty.h"
#include "auth/sasl.h"
#include "scan/scan.h"
#include "config/config.h"
#include "smtp/session.h"
#include "smtp/smtpd.h"
#include "smtp/smtpd_internal.h"
#include "smtp/wait.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/offload.h"

static const struct config *cfg(const struct smtp_session *s)
{
	return s->cfg;
}

bool smtp_auth_offered(const struct smtp_session *s)
{
	return s->tls && s->lcfg && s->lcfg->auth != LISTENER_AUTH_OFF;
}

bool smtp_auth_client_cut_off(const struct smtp_session *s)
{
	return s->lcfg && s->lcfg->auth != LISTENER_AUTH_OFF && penalty_blocked(s->smtpd->penalties, s->client_ip, time(NULL));
}

static void auth_done(struct smtp_session *s)
{
	s->auth_step = SMTP_AUTH_NONE;
	OPENSSL_cleanse(s->auth_login, sizeof(s->auth_login));
}

/* The failure delay is the wait's deadline: its end is the reply. */
static void auth_delay_over(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	if (c->u.auth.cut_off) {
		smtp_session_reply(s, "%s", c->u.auth.reply);
		smtp_session_close(s, "421 4.7.0 %s Error: too many failed authentications; try again later",
				   s->cfg->hostname);
		return;
	}
	smtp_session_set_state(s, SMTP_STATE_READY);
	smtp_session_error(s, "%s", c->u.auth.reply);
}

/* After a failed AUTH: answer reply after the configured delay (and close
 * if cut_off); the session reads nothing meanwhile. */
static void auth_delay(struct smtp_session *s, const char *reply, bool cut_off)
{
	struct smtp_cont c = { .fn = auth_delay_over, .u.auth.cut_off = cut_off };
	snprintf(c.u.auth.reply, sizeof(c.u.auth.reply), "%s", reply);
	smtp_session_wait(s, SMTP_PENDING_AUTH_DELAY, &c, s->cfg->auth.failure_delay);
}

/* The check's outcome: answer now on success, after the delay on failure. */
static void auth_finish(struct smtp_session *s, const char *mech, const char *user, bool ok)
{
	if (ok) {
		snprintf(s->auth_user, sizeof(s->auth_user), "%s", user);
		penalty_clear(s->smtpd->penalties, s->client_ip);
		/* SCAN-1: an authenticated client's mail goes by the outbound policy. */
		if (s->scan)
			scan_session_set_outbound(s->scan);
		log_event(LOG_INFO, "auth", "session", s->id, "client", s->client_ip, "mechanism", mech,
			  "user", user, "result", "ok", NULL);
		metrics_count(M_AUTH_OK);
		smtp_session_set_state(s, SMTP_STATE_READY);
		smtp_session_reply(s, "235 2.7.0 Authentication successful");
		return;
	}
	metrics_count(M_AUTH_FAILED);
	bool cut_off = penalty_fail(s->smtpd->penalties, s->client_ip, time(NULL), cfg(s)->auth.max_failures, cfg(s)->auth.lockout);
	log_event(LOG_WARNING, "auth", "session", s->id, "client", s->client_ip, "mechanism", mech,
		  "user", user, "result", "failed", "cut_off", cut_off ? "yes" : "no", NULL);
	auth_delay(s, "535 5.7.8 Error: authentication failed", cut_off);
}

/* A password check on its way through a worker thread. The password is
 * copied here and wiped as soon as the hash is computed. */
struct auth_check {
	struct smtpd *d;
	char session[17];
	uint32_t number;
	const struct auth_db *db;
	char user[256];
	char password[SASL_FIELD_MAX + 1];
	bool ok;
};

/* Worker thread: the hash only. */
static void check_run(void *arg)
{
	struct auth_check *q = arg;
	q->ok = q->db && auth_db_check(q->db, q->user, q->password);
	OPENSSL_cleanse(q->password, sizeof(q->password));
}

/* Back on the loop: to the session, if it still waits for this very check. */
static void check_done(void *arg)
{
	struct auth_check *q = arg;
	struct smtp_session *s = smtpd_session_by_id(q->d, q->session);
	if (s && s->auth_check == q->number) {
		struct smtp_result r = { .status = q->ok ? SMTP_RESULT_OK : SMTP_RESULT_FAILED, .fd = -1 };
		smtp_session_resume(s, SMTP_PENDING_AUTH_CHECK, &r);
	}
	OPENSSL_cleanse(q, sizeof(*q));
	free(q);
}

static void check_answered(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	if (r->status == SMTP_RESULT_EXPIRED) {
		/* RFC 4954 6: a check that could not be completed. Not a failure:
		 * the client is not penalised for our slowness. */
		log_event(LOG_WARNING, "auth", "session", s->id, "client", s->client_ip, "mechanism", c->u.check.mech,
			  "user", c->u.check.user, "result", "timeout", NULL);
		smtp_session_set_state(s, SMTP_STATE_READY);
		smtp_session_reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	auth_finish(s, c->u.check.mech, c->u.check.user, r->status == SMTP_RESULT_OK);
}

/* Check the credentials on a worker thread (yescrypt takes tens of
 * milliseconds: on the loop, a burst of logins would stall every session
 * of this process); the session waits, reading nothing. */
static void auth_verify(struct smtp_session *s, const char *mech, const char *user, const char *password)
{
	const struct auth_db *db = s->smtpd->assets ? s->smtpd->assets->auth : NULL;
	auth_done(s);
	if (!s->smtpd->auth_workers) {
		auth_finish(s, mech, user, db && auth_db_check(db, user, password));
		return;
	}
	struct auth_check *q = xcalloc(1, sizeof(*q));
	q->d = s->smtpd;
	snprintf(q->session, sizeof(q->session), "%s", s->id);
	q->number = ++s->auth_check;
	q->db = db;
	snprintf(q->user, sizeof(q->user), "%s", user);
	snprintf(q->password, sizeof(q->password), "%s", password);
	struct smtp_cont c = { .fn = check_answered };
	snprintf(c.u.check.mech, sizeof(c.u.check.mech), "%s", mech);
	snprintf(c.u.check.user, sizeof(c.u.check.user), "%s", user);
	smtp_session_wait(s, SMTP_PENDING_AUTH_CHECK, &c, cfg(s)->limits.command_timeout);
	offload_run(s->smtpd->auth_workers, check_run, check_done, q);
}

/* A response that cannot be decoded ends the exchange (RFC 4954 4: 501). */
static void auth_abort(struct smtp_session *s, enum sasl_result r)
{
	auth_done(s);
	smtp_session_set_state(s, SMTP_STATE_READY);
	if (r == SASL_CANCELLED)
		smtp_session_error(s, "501 5.7.0 Authentication cancelled");
	else
		smtp_session_error(s, "501 5.5.2 Error: cannot decode the AUTH response (%s)", sasl_strerror(r));
}

static void plain(struct smtp_session *s, const char *b64, size_t len)
{
	struct sasl_creds creds;
	enum sasl_result r = sasl_plain_decode(b64, len, &creds);
	if (r != SASL_OK)
		auth_abort(s, r);
	else
		auth_verify(s, "PLAIN", creds.user, creds.password);
	OPENSSL_cleanse(&creds, sizeof(creds));
}

static void login_user(struct smtp_session *s, const char *b64, size_t len)
{
	enum sasl_result r = sasl_login_decode(b64, len, true, s->auth_login);
	if (r != SASL_OK) {
		auth_abort(s, r);
		return;
	}
	s->auth_step = SMTP_AUTH_LOGIN_PASS;
	smtp_session_set_state(s, SMTP_STATE_AUTH);
	smtp_session_reply(s, "334 UGFzc3dvcmQ6");  /* "Password:" */
}

static void login_pass(struct smtp_session *s, const char *b64, size_t len)
{
	char password[SASL_FIELD_MAX + 1];
	enum sasl_result r = sasl_login_decode(b64, len, false, password);
	if (r != SASL_OK) {
		auth_abort(s, r);
	} else {
		char user[sizeof(s->auth_login)];
		memcpy(user, s->auth_login, sizeof(user));
		auth_verify(s, "LOGIN", user, password);
	}
	OPENSSL_cleanse(password, sizeof(password));
}

void smtp_auth_command(struct smtp_session *s, const char *args, size_t len)
{
	if (!s->lcfg || s->lcfg->auth == LISTENER_AUTH_OFF) {
		smtp_session_error(s, "503 5.5.1 Error: authentication not enabled");
		return;
	}
	if (s->auth_user[0]) {
		smtp_session_error(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	if (smtp_auth_client_cut_off(s)) {
		smtp_session_close(s, "421 4.7.0 %s Error: too many failed authentications; try again later",
				   cfg(s)->hostname);
		return;
	}
	size_t mlen = 0;
	while (mlen < len && args[mlen] != ' ')
		mlen++;
	const char *ir = mlen < len ? args + mlen + 1 : NULL;
	size_t irlen = ir ? len - mlen - 1 : 0;
	if (mlen == 5 && strncasecmp(args, "PLAIN", 5) == 0) {
		if (ir) {
			plain(s, ir, irlen);
			return;
		}
		s->auth_step = SMTP_AUTH_PLAIN;
		smtp_session_set_state(s, SMTP_STATE_AUTH);
		smtp_session_reply(s, "334 ");
	} else if (mlen == 5 && strncasecmp(args, "LOGIN", 5) == 0) {
		if (ir) {
			login_user(s, ir, irlen);
			return;
		}
		s->auth_step = SMTP_AUTH_LOGIN_USER;
		smtp_session_set_state(s, SMTP_STATE_AUTH);
		smtp_session_reply(s, "334 VXNlcm5hbWU6");  /* "Username:" */
	} else {
		smtp_session_error(s, "504 5.5.4 Error: unsupported authentication mechanism");
	}
}

void smtp_auth_response(struct smtp_session *s, const char *line, size_t len)
{
	switch (s->auth_step) {
	case SMTP_AUTH_PLAIN:
		plain(s, line, len);
		break;
	case SMTP_AUTH_LOGIN_USER:
		login_user(s, line, len);
		break;
	case SMTP_AUTH_LOGIN_PASS:
		login_pass(s, line, len);
		break;
	case SMTP_AUTH_NONE:
		auth_abort(s, SASL_ERR_FORMAT);
		break;
	}
}
