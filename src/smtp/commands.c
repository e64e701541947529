/*
 * SMTP verbs (RFC 5321 4.1.1, RFC 1870 SIZE, RFC 2920 PIPELINING,
 * RFC 3030 CHUNKING, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2034
 * ENHANCEDSTATUSCODES, RFC 3207 STARTTLS, RFC 4954 AUTH). Runs in smtpd.
 */
#include "smtp/commands.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/authdb.h"
#include "config/config.h"
#include "policy/relay.h"
#include "policy/rewrite.h"
#include "policy/route.h"
#include "smtp/auth.h"
#include "smtp/parser.h"
#include "smtp/scan_hook.h"
#include "smtp/partners_gate.h"
#include "smtp/rehearsal.h"
#include "smtp/session.h"
#include "smtp/spool_room.h"
#include "smtp/smtpd.h"
#include "smtp/smtpd_internal.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"

enum command_flags {
	CMD_NO_ARGS = 1u << 0,    /* arguments are a syntax error */
	CMD_NEEDS_ARGS = 1u << 1, /* missing arguments are a syntax error */
	CMD_NEEDS_TLS = 1u << 2,  /* refused before TLS (TLS-3: AUTH never in clear) */
	CMD_NEEDS_AUTH = 1u << 3, /* refused before AUTH on listeners with auth: required */
	/* RFC 2920 3.1: ends a pipelining group, the client must wait for the
	 * reply; input behind it ends the session (issue 18 item 1). */
	CMD_LAST_IN_GROUP = 1u << 4,
	CMD_STARTS_TXN = 1u << 5, /* refused after a refused DATA until CMD_RESYNCS */
	CMD_RESYNCS = 1u << 6,    /* RSET, HELO, EHLO: a client that knows where it stands */
};

struct smtp_command {
	const char *verb;
	unsigned states;          /* SMTP_STATE_BIT()s in which the verb may run */
	unsigned flags;
	const char *syntax;       /* for the 501 reply */
	void (*run)(struct smtp_session *s, const char *args, size_t len);
};

#define S(x) SMTP_STATE_BIT(SMTP_STATE_##x)
#define ANY_COMMAND_STATE (S(CONNECTED) | S(READY) | S(MAIL) | S(RCPT) | S(CHUNKING))
#define IN_SESSION (S(READY) | S(MAIL) | S(RCPT))

static const struct config *cfg(const struct smtp_session *s)
{
	return s->cfg;
}

static void reject(struct smtp_session *s, const char *command, const char *reply)
{
	log_event(LOG_INFO, "reject", "session", s->id, "client", s->client_ip, "command", command,
		  "reply", reply, NULL);
	smtp_session_error(s, "%s", reply);
}

/* A short, harmless quote of client input for a reply: keyword characters
 * only, so no control byte or 8-bit garbage is ever echoed back. */
static const char *quote_keyword(const char *p, const char *end, char out[48])
{
	size_t n = 0;
	while (p && p < end && n < 40 && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
					  (*p >= '0' && *p <= '9') || *p == '-' || *p == '='))
		out[n++] = *p++;
	out[n] = '\0';
	return out;
}

/* --- HELO / EHLO ------------------------------------------------------- */

/* Only printable ASCII without spaces: the name goes into our Received
 * header. Its DNS-level checks belong to the scanner (SCAN-4). */
static bool helo_name_acceptable(const char *args, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if (args[i] <= ' ' || args[i] > '~')
			return false;
	return true;
}

static bool greet(struct smtp_session *s, const char *args, size_t len, bool esmtp)
{
	if (!helo_name_acceptable(args, len)) {
		smtp_session_error(s, "501 5.5.4 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return false;
	}
	smtp_session_txn_reset(s);  /* RFC 5321 4.1.4: EHLO/HELO clears the transaction */
	memcpy(s->helo, args, len);
	s->helo[len] = '\0';
	s->esmtp = esmtp;
	smtp_session_set_state(s, SMTP_STATE_READY);
	log_event(LOG_INFO, "helo", "session", s->id, "helo", s->helo, "esmtp", esmtp ? "yes" : "no", NULL);
	return true;
}

/* The scanner refused the HELO/EHLO name (SCAN-4): back to the start. */
static bool helo_refused(struct smtp_session *s, const char *refusal)
{
	if (!refusal)
		return false;
	s->helo[0] = '\0';
	smtp_session_set_state(s, SMTP_STATE_CONNECTED);
	reject(s, s->esmtp ? "EHLO" : "HELO", refusal);
	return true;
}

static void helo_scanned(struct smtp_session *s, const char *refusal)
{
	if (!helo_refused(s, refusal))
		smtp_session_reply(s, "250 %s", cfg(s)->hostname);
}

static void cmd_helo(struct smtp_session *s, const char *args, size_t len)
{
	if (greet(s, args, len, false))
		smtp_scan_stage(s, SCAN_STAGE_HELO, helo_scanned);
}

static void ehlo_scanned(struct smtp_session *s, const char *refusal);

static void cmd_ehlo(struct smtp_session *s, const char *args, size_t len)
{
	if (greet(s, args, len, true))
		smtp_scan_stage(s, SCAN_STAGE_HELO, ehlo_scanned);
}

static void ehlo_scanned(struct smtp_session *s, const char *refusal)
{
	if (helo_refused(s, refusal))
		return;
	smtp_session_reply(s, "250-%s Hello %s [%s]", cfg(s)->hostname, s->helo, s->client_ip);
	smtp_session_reply(s, "250-SIZE %zu", cfg(s)->limits.message_size);
	smtp_session_reply(s, "250-PIPELINING");
	smtp_session_reply(s, "250-8BITMIME");
	smtp_session_reply(s, "250-ENHANCEDSTATUSCODES");
	smtp_session_reply(s, "250-SMTPUTF8");
	smtp_session_reply(s, "250-CHUNKING");
	if (s->lcfg && s->lcfg->tls == LISTENER_TLS_STARTTLS && !s->tls)
		smtp_session_reply(s, "250-STARTTLS");
	if (smtp_auth_offered(s))
		smtp_session_reply(s, "250-AUTH PLAIN LOGIN");
	smtp_session_reply(s, "250-DSN");
	/* RFC 8689 3: REQUIRETLS is offered only on a session under TLS. */
	if (s->tls)
		smtp_session_reply(s, "250-REQUIRETLS");
	smtp_session_reply(s, "250 HELP");
}

/* --- STARTTLS / AUTH ---------------------------------------------------- */

/* RFC 3207. Whatever the client pipelined behind STARTTLS is discarded
 * with the handshake (conn_start_tls): it came in clear. */
static void cmd_starttls(struct smtp_session *s, const char *args, size_t len)
{
	if (!s->lcfg || s->lcfg->tls != LISTENER_TLS_STARTTLS) {
		smtp_session_error(s, "502 5.5.1 Error: STARTTLS is not offered on this listener");
		return;
	}
	if (s->tls) {
		smtp_session_error(s, "503 5.5.1 Error: TLS already active");
		return;
	}
	if (!smtp_session_tls_allowed(s)) {
		smtp_session_close(s, "421 4.7.0 %s Error: too many TLS handshakes from %s; try again later",
				   cfg(s)->hostname, s->client_ip);
		return;
	}
	smtp_session_reply(s, "220 2.0.0 Ready to start TLS");
	if (!smtp_session_start_tls(s))
		smtp_session_close(s, "454 4.7.0 TLS not available due to local problem");
}

static void cmd_auth(struct smtp_session *s, const char *args, size_t len)
{
	smtp_auth_command(s, args, len);
}

/* --- MAIL / RCPT ------------------------------------------------------- */

static void mail_scanned(struct smtp_session *s, const char *refusal)
{
	if (refusal) {
		smtp_session_txn_reset(s);
		smtp_session_set_state(s, SMTP_STATE_READY);
		reject(s, "MAIL", refusal);
		return;
	}
	smtp_session_reply(s, "250 2.1.0 Ok");
}

static void cmd_mail(struct smtp_session *s, const char *args, size_t len)
{
	size_t rest;
	const char *path = smtp_args_after_keyword(args, len, "FROM:", &rest);
	if (!path) {
		smtp_session_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	struct address a;
	size_t used;
	enum address_error ae = address_parse_path(path, rest, true, true, false, &a, &used);
	if (ae != ADDRESS_OK) {
		char reply[160];
		snprintf(reply, sizeof(reply), "501 5.1.7 Bad sender address syntax: %s", address_strerror(ae));
		reject(s, "MAIL", reply);
		return;
	}
	struct mail_params p;
	const char *bad = NULL;
	enum params_error pe = params_parse_mail(path + used, rest - used, &p, &bad);
	char quoted[48];
	quote_keyword(bad, path + rest, quoted);
	if (pe == PARAMS_ERR_UNKNOWN) {
		smtp_session_error(s, "555 5.5.4 Unsupported option: %s", quoted);
		return;
	}
	if (pe != PARAMS_OK) {
		smtp_session_error(s, "501 5.5.4 Bad MAIL parameters near: %s", quoted);
		return;
	}
	if (p.requiretls && !s->tls) {
		/* RFC 8689 4.1: the requirement is accepted only over TLS (it is
		 * not offered in clear); 5.7.10 "Encryption needed" (RFC 5248). */
		reject(s, "MAIL", "530 5.7.10 REQUIRETLS needs a TLS session (RFC 8689)");
		return;
	}
	if (a.has_utf8 && !p.smtputf8) {
		reject(s, "MAIL", "553 5.6.7 Sender address needs SMTPUTF8 (RFC 6531)");
		return;
	}
	if (p.has_size && p.size > cfg(s)->limits.message_size) {
		metrics_count(M_REFUSED_SIZE);
		reject(s, "MAIL", "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	if (smtp_spool_room_refuse(s, &p))
		return;
	char sender[ADDRESS_PATH_MAX + 1];
	address_format(&a, sender, sizeof(sender));
	/* REL-3: an authenticated user sends only as itself. */
	const struct auth_db *db = s->smtpd->assets ? s->smtpd->assets->auth : NULL;
	if (s->auth_user[0] && (!db || !auth_db_sender_ok(db, cfg(s), s->auth_user, sender))) {
		char reply[ADDRESS_PATH_MAX * 2 + 600];
		snprintf(reply, sizeof(reply), "553 5.7.1 <%s>: Sender address rejected: not owned by user %s",
			 sender, s->auth_user);
		reject(s, "MAIL", reply);
		return;
	}
	struct smtp_txn *t = smtp_session_txn_new(s);
	t->sender = a;
	t->params = p;
	memcpy(t->sender_text, sender, sizeof(t->sender_text));
	smtp_session_set_state(s, SMTP_STATE_MAIL);
	log_event(LOG_INFO, "mail", "session", s->id, "from", t->sender_text,
		  "size", p.has_size ? log_u64(p.size) : NULL, "client", s->client_ip,
		  "auth", s->auth_user[0] ? s->auth_user : "-", p.requiretls ? "requiretls" : NULL, "yes", NULL);
	smtp_scan_stage(s, SCAN_STAGE_MAIL, mail_scanned);
}

/* A local domain needs a static route (TOP-1); any other domain that got
 * this far is relayed and goes to its route, the smart host or its MX
 * (TOP-2, queue/deliver.h). */
/* A local domain needs a static route; other domains go to a route, the
 * smart host or their MX. An address literal has no MX: it is deliverable
 * only through a static route (there is no delivery to a bare address). */
static bool rcpt_has_route(const struct config *c, const struct address *a)
{
	if (a->kind == ADDRESS_POSTMASTER)
		return true;
	if (route_lookup(c->routes, c->n_routes, a->domain, strlen(a->domain)) != NULL)
		return true;
	return !a->domain_is_literal && !config_is_local_domain(c, a->domain, strlen(a->domain));
}

/* TOP-5, issue 16: the recipient as the queue will store it, rewritten by
 * the table (queue.c rewrites the same text the same way, keeps text as
 * the DSN original recipient, and keeps the original when the result is
 * not a valid address: so does this). *out stays as it is otherwise. */
static void rcpt_rewrite(const struct config *c, const char *text, struct address *out)
{
	char *to = rewrite_apply(c->rewrite, text);
	if (!to)
		return;
	char path[ADDRESS_PATH_MAX + 3];
	int n = snprintf(path, sizeof(path), "<%s>", to);
	struct address parsed;
	size_t used;
	if (n > 0 && (size_t)n < sizeof(path) &&
	    address_parse_path(path, (size_t)n, false, false, false, &parsed, &used) == ADDRESS_OK &&
	    used == (size_t)n)
		*out = parsed;
	free(to);
}

/* TLS-6 for either form of the address: the client named one domain, the
 * mail goes to the other; both may ask for TLS. */
static const char *rcpt_tls_required(const struct config *c, const struct address *given,
				     const struct address *to)
{
	const struct address *both[] = { given, to };
	for (size_t i = 0; i < 2; i++)
		if (both[i]->kind == ADDRESS_MAILBOX && !both[i]->domain_is_literal &&
		    config_tls_required_domain(c, both[i]->domain, strlen(both[i]->domain)))
			return both[i]->domain;
	return NULL;
}

/* SCAN-11 partners_only: under the level in force, false (450) when
 * sender and recipient are no known partners; under a rehearsed level
 * the would-be 450 is logged. Our own clients (trusted, logged in) send
 * outbound; everyone else's mail is inbound. */
static bool rcpt_partners_ok(struct smtp_session *s, const struct address *to, const char *text)
{
	bool outbound = smtp_session_trusted(s) || s->auth_user[0] != '\0';
	const char *domain = strrchr(text, '@');
	bool local = to->kind == ADDRESS_POSTMASTER ||
		     (domain && config_is_local_domain(cfg(s), domain + 1, strlen(domain + 1)));
	const char *sender = s->txn->sender_text;
	if (s->rehearse_cfg &&
	    !partners_gate_allows(s->rehearse_cfg->partners_only, outbound, local, sender, text))
		smtp_rehearse_partners(s, text);
	return partners_gate_allows(cfg(s)->partners_only, outbound, local, sender, text);
}

static void rcpt_add(struct smtp_session *s, const char *text)
{
	struct smtp_txn *t = s->txn;
	t->rcpts = xreallocarray(t->rcpts, t->n_rcpts + 1, sizeof(*t->rcpts));
	t->rcpt_dsn = xreallocarray(t->rcpt_dsn, t->n_rcpts + 1, sizeof(*t->rcpt_dsn));
	t->rcpt_dsn[t->n_rcpts] = t->pending_dsn;  /* RFC 3461 NOTIFY/ORCPT, kept through the queue */
	t->rcpts[t->n_rcpts++] = xstrdup(text);
	smtp_session_set_state(s, SMTP_STATE_RCPT);
	log_event(LOG_INFO, "rcpt", "session", s->id, "to", text, NULL);
	smtp_session_reply(s, "250 2.1.5 Ok");
}

static void rcpt_scanned(struct smtp_session *s, const char *rcpt, const char *refusal)
{
	if (refusal)
		reject(s, "RCPT", refusal);
	else
		rcpt_add(s, rcpt);
}

static void cmd_rcpt(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_txn *t = s->txn;
	size_t rest;
	const char *path = smtp_args_after_keyword(args, len, "TO:", &rest);
	if (!path) {
		smtp_session_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	struct address a;
	size_t used;
	char reply[600];
	enum address_error ae = address_parse_path(path, rest, t->params.smtputf8, false, true, &a, &used);
	if (ae != ADDRESS_OK) {
		snprintf(reply, sizeof(reply), "501 5.1.3 Bad recipient address syntax: %s", address_strerror(ae));
		reject(s, "RCPT", reply);
		return;
	}
	const char *bad = NULL;
	struct rcpt_params rp;
	enum params_error pe = params_parse_rcpt(path + used, rest - used, &rp, &bad);
	if (pe != PARAMS_OK) {
		char quoted[48];
		smtp_session_error(s, "%s %s", pe == PARAMS_ERR_UNKNOWN ? "555 5.5.4 Unsupported option:"
								: "501 5.5.4 Bad RCPT parameters near:",
				   quote_keyword(bad, path + rest, quoted));
		return;
	}
	if (t->n_rcpts >= cfg(s)->limits.recipients) {
		smtp_session_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	smtp_rehearse_rcpt(s);
	char text[ADDRESS_PATH_MAX + 1];
	if (a.kind == ADDRESS_POSTMASTER)
		snprintf(text, sizeof(text), "postmaster@%s", config_postmaster_domain(cfg(s)));
	else
		address_format(&a, text, sizeof(text));
	struct relay_client who = {
		.addr = (const struct sockaddr *)&s->client_addr,
		.listener_trusted = s->lcfg ? &s->lcfg->trusted_networks : NULL,
		.authenticated = s->auth_user[0] != '\0',
	};
	/* Rewrite first, then judge relay and route on where the mail will
	 * really go (issue 16): a local domain renamed by the table has its
	 * route under the new name. */
	struct address to = a;
	if (a.kind == ADDRESS_MAILBOX)
		rcpt_rewrite(cfg(s), text, &to);
	if (relay_decide(cfg(s), &who, &to) == RELAY_DENIED) {
		snprintf(reply, sizeof(reply), "554 5.7.1 <%s>: Relay access denied", text);
		reject(s, "RCPT", reply);
		return;
	}
	/* TLS-6: mail for this domain only over TLS. */
	const char *secure = s->tls ? NULL : rcpt_tls_required(cfg(s), &a, &to);
	if (secure) {
		snprintf(reply, sizeof(reply), "530 5.7.0 <%s>: accepting only secure delivery (STARTTLS) for %s",
			 text, secure);
		reject(s, "RCPT", reply);
		return;
	}
	if (!rcpt_has_route(cfg(s), &to)) {
		snprintf(reply, sizeof(reply), "554 5.4.4 <%s>: no route to this domain", text);
		reject(s, "RCPT", reply);
		return;
	}
	if (!rcpt_partners_ok(s, &to, text)) {
		snprintf(reply, sizeof(reply), "450 4.7.1 <%s>: %s", text, cfg(s)->emergency.partners.text);
		reject(s, "RCPT", reply);
		return;
	}
	for (unsigned i = 0; i < t->n_rcpts; i++)
		if (strcmp(t->rcpts[i], text) == 0) {
			smtp_session_reply(s, "250 2.1.5 Ok");  /* a duplicate: delivered once */
			return;
		}
	t->pending_dsn = rp;  /* rcpt_add takes it once the scanner has answered */
	smtp_scan_rcpt(s, text, rcpt_scanned);
}

/* --- DATA / BDAT ------------------------------------------------------- */

static void cmd_data(struct smtp_session *s, const char *args, size_t len)
{
	smtp_session_begin_data(s, false);
}

/* RFC 3030: BDAT chunk-size [LAST]. The chunk's bytes follow at once, so
 * even a refused BDAT must read them: otherwise they would be parsed as
 * commands (a smuggling vector). A size we cannot parse leaves us no way to
 * find the next command: the session ends. */
static void cmd_bdat(struct smtp_session *s, const char *args, size_t len)
{
	char *end;
	errno = 0;
	if (len == 0 || args[0] < '0' || args[0] > '9') {
		smtp_session_close(s, "501 5.5.4 Syntax: BDAT chunk-size [LAST]; closing connection");
		return;
	}
	uintmax_t size = strtoumax(args, &end, 10);
	size_t rest = len - (size_t)(end - args);
	bool last = rest == 5 && strncasecmp(end, " LAST", 5) == 0;
	if (errno || (end - args) > 20 || (rest != 0 && !last)) {
		smtp_session_close(s, "501 5.5.4 Syntax: BDAT chunk-size [LAST]; closing connection");
		return;
	}
	const char *refusal = NULL;
	if (s->state == SMTP_STATE_CONNECTED || s->state == SMTP_STATE_READY)
		refusal = "503 5.5.1 Error: need MAIL and RCPT before BDAT";
	else if (s->state == SMTP_STATE_MAIL)
		refusal = "554 5.5.1 Error: no valid recipients";
	if (!s->txn)
		smtp_session_txn_new(s);
	struct smtp_txn *t = s->txn;
	t->chunk_left = size;
	t->chunk_last = last;
	if (refusal) {
		smtp_session_error(s, "%s", refusal);
		if (s->state == SMTP_STATE_CLOSING)
			return;
		t->bdat_failed = true;
		smtp_session_set_state(s, SMTP_STATE_BDAT);
	} else if (s->state == SMTP_STATE_RCPT) {
		smtp_session_begin_data(s, true);
	} else {
		smtp_session_set_state(s, SMTP_STATE_BDAT);
	}
}

/* --- the rest ---------------------------------------------------------- */

static void cmd_rset(struct smtp_session *s, const char *args, size_t len)
{
	smtp_session_txn_reset(s);
	smtp_session_set_state(s, s->helo[0] ? SMTP_STATE_READY : SMTP_STATE_CONNECTED);
	smtp_session_reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_session *s, const char *args, size_t len)
{
	smtp_session_reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct smtp_session *s, const char *args, size_t len)
{
	smtp_session_close(s, "221 2.0.0 Bye");
}

static void cmd_help(struct smtp_session *s, const char *args, size_t len)
{
	smtp_session_reply(s, "214-2.0.0 Commands: HELO EHLO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY");
	smtp_session_reply(s, "214 2.0.0 See RFC 5321");
}

/* User enumeration is an information leak: never confirm a mailbox. */
static void cmd_vrfy(struct smtp_session *s, const char *args, size_t len)
{
	smtp_session_reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(struct smtp_session *s, const char *args, size_t len)
{
	smtp_session_reply(s, "502 5.5.1 Error: EXPN not available");
}

static const struct smtp_command commands[] = {
#define LAST CMD_LAST_IN_GROUP
	{ "HELO", ANY_COMMAND_STATE & ~S(CHUNKING), CMD_NEEDS_ARGS | LAST | CMD_RESYNCS, "HELO hostname", cmd_helo },
	{ "EHLO", ANY_COMMAND_STATE & ~S(CHUNKING), CMD_NEEDS_ARGS | LAST | CMD_RESYNCS, "EHLO hostname", cmd_ehlo },
	{ "MAIL", S(READY), CMD_NEEDS_ARGS | CMD_NEEDS_AUTH | CMD_STARTS_TXN, "MAIL FROM:<address>", cmd_mail },
	{ "RCPT", S(MAIL) | S(RCPT), CMD_NEEDS_ARGS, "RCPT TO:<address>", cmd_rcpt },
	{ "DATA", S(RCPT), CMD_NO_ARGS | LAST, "DATA", cmd_data },
	{ "BDAT", ANY_COMMAND_STATE, CMD_NEEDS_ARGS, "BDAT chunk-size [LAST]", cmd_bdat },
	{ "RSET", ANY_COMMAND_STATE, CMD_NO_ARGS | CMD_RESYNCS, "RSET", cmd_rset },
	{ "NOOP", ANY_COMMAND_STATE, 0, "NOOP", cmd_noop },
	{ "QUIT", ANY_COMMAND_STATE, CMD_NO_ARGS | LAST, "QUIT", cmd_quit },
	{ "HELP", ANY_COMMAND_STATE, 0, "HELP", cmd_help },
	{ "VRFY", ANY_COMMAND_STATE & ~S(CHUNKING), CMD_NEEDS_ARGS, "VRFY address", cmd_vrfy },
	{ "EXPN", ANY_COMMAND_STATE & ~S(CHUNKING), CMD_NEEDS_ARGS, "EXPN list", cmd_expn },
	{ "STARTTLS", S(READY), CMD_NO_ARGS | LAST, "STARTTLS", cmd_starttls },
	{ "AUTH", S(READY), CMD_NEEDS_ARGS | CMD_NEEDS_TLS, "AUTH mechanism [initial-response]", cmd_auth },
};

static const char *sequence_hint(const struct smtp_session *s, const struct smtp_command *cmd)
{
	if (s->state == SMTP_STATE_CONNECTED)
		return "send HELO/EHLO first";
	if (s->state == SMTP_STATE_CHUNKING)
		return "BDAT, RSET, NOOP or QUIT expected";
	if (strcmp(cmd->verb, "MAIL") == 0)
		return "nested MAIL command";
	if (strcmp(cmd->verb, "RCPT") == 0)
		return "need MAIL command";
	if (strcmp(cmd->verb, "DATA") == 0)
		return s->state == SMTP_STATE_MAIL ? "no valid recipients" : "need RCPT command";
	return "bad sequence of commands";
}

/* A refused DATA ends the transaction (the client may already be sending
 * its content); nothing of it may be reused by lines of that content. */
static void data_refused(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (strcmp(cmd->verb, "DATA") != 0 || s->state == SMTP_STATE_CLOSING)
		return;
	s->data_refused = true;
	if (s->txn && s->state != SMTP_STATE_CHUNKING) {
		smtp_session_txn_reset(s);
		smtp_session_set_state(s, s->helo[0] ? SMTP_STATE_READY : SMTP_STATE_CONNECTED);
	}
}

void smtp_command_dispatch(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_line l;
	if (smtp_line_is_http(line, len)) {
		/* ALPACA: a browser (or a script through one) sent to our port;
		 * answering on would let it use our replies as its response. */
		log_event(LOG_WARNING, "reject", "session", s->id, "client", s->client_ip, "command", "HTTP",
			  "reason", "HTTP request in an SMTP session", NULL);
		smtp_session_close(s, "554 5.7.0 %s Error: HTTP request in an SMTP session; closing connection",
				   cfg(s)->hostname);
		return;
	}
	switch (smtp_line_split(line, len, &l)) {
	case SMTP_LINE_OK:
		break;
	case SMTP_LINE_CONTROL:
		smtp_session_error(s, "500 5.5.2 Error: control character or NUL in command");
		return;
	case SMTP_LINE_EMPTY:
	case SMTP_LINE_VERB:
		smtp_session_error(s, "500 5.5.2 Error: bad syntax");
		return;
	}
	if (s->smtpd->stopping && (s->state == SMTP_STATE_CONNECTED || s->state == SMTP_STATE_READY)) {
		smtp_session_close(s, "421 4.3.2 %s Service shutting down", cfg(s)->hostname);
		return;
	}
	const struct smtp_command *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !cmd; i++)
		if (smtp_verb_is(&l, commands[i].verb))
			cmd = &commands[i];
	if (!cmd) {
		smtp_session_error(s, "502 5.5.2 Error: command not recognized");
		return;
	}
	log_event(LOG_DEBUG, "command", "session", s->id, "verb", cmd->verb, "state",
		  smtp_state_name(s->state), NULL);
	/* Before anything else, refused or not: what follows a refused DATA
	 * is message content, and must never run as commands. */
	if ((cmd->flags & CMD_LAST_IN_GROUP) && smtp_session_out_of_sync(s, cmd->verb))
		return;
	if (cmd->flags & CMD_RESYNCS)
		s->data_refused = false;
	if ((cmd->flags & CMD_STARTS_TXN) && s->data_refused) {
		/* Lines a client sent as content after a refused DATA (without
		 * waiting for the 354) would start a transaction here. */
		smtp_session_error(s, "503 5.5.1 Error: DATA was refused; send RSET first");
		return;
	}
	/* BDAT is checked by its handler: it must read its chunk even when refused. */
	if (!(cmd->states & SMTP_STATE_BIT(s->state))) {
		bool no_rcpt = strcmp(cmd->verb, "DATA") == 0 && s->state == SMTP_STATE_MAIL;
		smtp_session_error(s, "%s %s", no_rcpt ? "554 5.5.1 Error:" : "503 5.5.1 Error:",
				   sequence_hint(s, cmd));
		data_refused(s, cmd);
		return;
	}
	if (((cmd->flags & CMD_NO_ARGS) && l.args_len > 0) ||
	    ((cmd->flags & CMD_NEEDS_ARGS) && l.args_len == 0)) {
		smtp_session_error(s, "501 5.5.4 Syntax: %s", cmd->syntax);
		data_refused(s, cmd);
		return;
	}
	if ((cmd->flags & CMD_NEEDS_TLS) && !s->tls) {
		/* RFC 4954 4 / TLS-3: no credentials over a plaintext connection. */
		smtp_session_error(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return;
	}
	if ((cmd->flags & CMD_NEEDS_AUTH) && s->lcfg && s->lcfg->auth == LISTENER_AUTH_REQUIRED &&
	    !s->auth_user[0]) {
		smtp_session_error(s, "530 5.7.0 Authentication required");
		return;
	}
	cmd->run(s, l.args, l.args_len);
}
