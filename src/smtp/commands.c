/*
 * SMTP verbs (RFC 5321 4.1.1, RFC 1870 SIZE, RFC 2920 PIPELINING,
 * RFC 3030 CHUNKING, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2034
 * ENHANCEDSTATUSCODES). Runs in smtpd.
 */
#include "smtp/commands.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "policy/relay.h"
#include "policy/route.h"
#include "smtp/parser.h"
#include "smtp/session.h"
#include "smtp/smtpd_internal.h"
#include "util/alloc.h"
#include "util/log.h"

enum command_flags {
	CMD_NO_ARGS = 1u << 0,    /* arguments are a syntax error */
	CMD_NEEDS_ARGS = 1u << 1, /* missing arguments are a syntax error */
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
	return s->smtpd->config;
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

static void cmd_helo(struct smtp_session *s, const char *args, size_t len)
{
	if (greet(s, args, len, false))
		smtp_session_reply(s, "250 %s", cfg(s)->hostname);
}

static void cmd_ehlo(struct smtp_session *s, const char *args, size_t len)
{
	if (!greet(s, args, len, true))
		return;
	smtp_session_reply(s, "250-%s Hello %s [%s]", cfg(s)->hostname, s->helo, s->client_ip);
	smtp_session_reply(s, "250-SIZE %zu", cfg(s)->limits.message_size);
	smtp_session_reply(s, "250-PIPELINING");
	smtp_session_reply(s, "250-8BITMIME");
	smtp_session_reply(s, "250-ENHANCEDSTATUSCODES");
	smtp_session_reply(s, "250-SMTPUTF8");
	smtp_session_reply(s, "250-CHUNKING");
	smtp_session_reply(s, "250-DSN");
	smtp_session_reply(s, "250 HELP");
}

/* --- MAIL / RCPT ------------------------------------------------------- */

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
	if (a.has_utf8 && !p.smtputf8) {
		reject(s, "MAIL", "553 5.6.7 Sender address needs SMTPUTF8 (RFC 6531)");
		return;
	}
	if (p.has_size && p.size > cfg(s)->limits.message_size) {
		reject(s, "MAIL", "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	struct smtp_txn *t = smtp_session_txn_new(s);
	t->sender = a;
	t->params = p;
	address_format(&a, t->sender_text, sizeof(t->sender_text));
	smtp_session_set_state(s, SMTP_STATE_MAIL);
	log_event(LOG_INFO, "mail", "session", s->id, "from", t->sender_text,
		  "size", p.has_size ? log_u64(p.size) : NULL, NULL);
	smtp_session_reply(s, "250 2.1.0 Ok");
}

/* A local domain needs a static route (TOP-1); any other domain that got
 * this far is relayed and goes to its route, the smart host or its MX
 * (TOP-2, queue/deliver.h). */
static bool rcpt_has_route(const struct config *c, const struct address *a)
{
	if (a->kind == ADDRESS_POSTMASTER)
		return true;
	if (route_lookup(c->routes, c->n_routes, a->domain, strlen(a->domain)) != NULL)
		return true;
	return !config_is_local_domain(c, a->domain, strlen(a->domain));
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
	char text[ADDRESS_PATH_MAX + 1];
	if (a.kind == ADDRESS_POSTMASTER)
		snprintf(text, sizeof(text), "postmaster@%s", cfg(s)->n_local_domains ? cfg(s)->local_domains[0]
										       : cfg(s)->hostname);
	else
		address_format(&a, text, sizeof(text));
	if (relay_check(cfg(s), (const struct sockaddr *)&s->client_addr, &a) == RELAY_DENIED) {
		snprintf(reply, sizeof(reply), "554 5.7.1 <%s>: Relay access denied", text);
		reject(s, "RCPT", reply);
		return;
	}
	if (!rcpt_has_route(cfg(s), &a)) {
		snprintf(reply, sizeof(reply), "554 5.4.4 <%s>: no route to this domain", text);
		reject(s, "RCPT", reply);
		return;
	}
	for (unsigned i = 0; i < t->n_rcpts; i++)
		if (strcmp(t->rcpts[i], text) == 0) {
			smtp_session_reply(s, "250 2.1.5 Ok");  /* a duplicate: delivered once */
			return;
		}
	t->rcpts = xreallocarray(t->rcpts, t->n_rcpts + 1, sizeof(*t->rcpts));
	t->rcpt_dsn = xreallocarray(t->rcpt_dsn, t->n_rcpts + 1, sizeof(*t->rcpt_dsn));
	t->rcpt_dsn[t->n_rcpts] = rp;  /* RFC 3461 NOTIFY/ORCPT, kept through the queue */
	t->rcpts[t->n_rcpts++] = xstrdup(text);
	smtp_session_set_state(s, SMTP_STATE_RCPT);
	log_event(LOG_INFO, "rcpt", "session", s->id, "to", text, NULL);
	smtp_session_reply(s, "250 2.1.5 Ok");
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
	smtp_session_reply(s, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY");
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
	{ "HELO", ANY_COMMAND_STATE & ~S(CHUNKING), CMD_NEEDS_ARGS, "HELO hostname", cmd_helo },
	{ "EHLO", ANY_COMMAND_STATE & ~S(CHUNKING), CMD_NEEDS_ARGS, "EHLO hostname", cmd_ehlo },
	{ "MAIL", S(READY), CMD_NEEDS_ARGS, "MAIL FROM:<address>", cmd_mail },
	{ "RCPT", S(MAIL) | S(RCPT), CMD_NEEDS_ARGS, "RCPT TO:<address>", cmd_rcpt },
	{ "DATA", S(RCPT), CMD_NO_ARGS, "DATA", cmd_data },
	{ "BDAT", ANY_COMMAND_STATE, CMD_NEEDS_ARGS, "BDAT chunk-size [LAST]", cmd_bdat },
	{ "RSET", ANY_COMMAND_STATE, CMD_NO_ARGS, "RSET", cmd_rset },
	{ "NOOP", ANY_COMMAND_STATE, 0, "NOOP", cmd_noop },
	{ "QUIT", ANY_COMMAND_STATE, CMD_NO_ARGS, "QUIT", cmd_quit },
	{ "HELP", ANY_COMMAND_STATE, 0, "HELP", cmd_help },
	{ "VRFY", ANY_COMMAND_STATE & ~S(CHUNKING), CMD_NEEDS_ARGS, "VRFY address", cmd_vrfy },
	{ "EXPN", ANY_COMMAND_STATE & ~S(CHUNKING), CMD_NEEDS_ARGS, "EXPN list", cmd_expn },
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

void smtp_command_dispatch(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_line l;
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
	/* BDAT is checked by its handler: it must read its chunk even when refused. */
	if (!(cmd->states & SMTP_STATE_BIT(s->state))) {
		bool no_rcpt = strcmp(cmd->verb, "DATA") == 0 && s->state == SMTP_STATE_MAIL;
		smtp_session_error(s, "%s %s", no_rcpt ? "554 5.5.1 Error:" : "503 5.5.1 Error:",
				   sequence_hint(s, cmd));
		return;
	}
	if (((cmd->flags & CMD_NO_ARGS) && l.args_len > 0) ||
	    ((cmd->flags & CMD_NEEDS_ARGS) && l.args_len == 0)) {
		smtp_session_error(s, "501 5.5.4 Syntax: %s", cmd->syntax);
		return;
	}
	cmd->run(s, l.args, l.args_len);
}
