/*
 * RFC 3464 delivery status notifications. See dsn.h.
 */
#include "queue/dsn.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = xreallocarray(o->buf, o->cap, 1);
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	put(o, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

void dsn_status(const char *reply, char out[16])
{
	const char *p = reply;
	char cls = (reply[0] == '2' || reply[0] == '4' || reply[0] == '5') ? reply[0] : '4';
	if (strlen(p) > 4 && is_digit(p[0]) && (p[3] == ' ' || p[3] == '-')) {
		p += 4;
		/* RFC 3463: class "." subject (1-3 digits) "." detail (1-3 digits) */
		size_t i = 0, a = 0, b = 0;
		if ((p[0] == '2' || p[0] == '4' || p[0] == '5') && p[1] == '.' && p[0] == cls) {
			i = 2;
			while (is_digit(p[i]) && a < 4)
				i++, a++;
			if (a >= 1 && a <= 3 && p[i] == '.') {
				i++;
				while (is_digit(p[i]) && b < 4)
					i++, b++;
				if (b >= 1 && b <= 3 && (p[i] == ' ' || p[i] == '\0')) {
					snprintf(out, 16, "%.*s", (int)i, p);
					return;
				}
			}
		}
	}
	snprintf(out, 16, "%c.0.0", cls);
}

/* A value for a header or DSN field: printable ASCII only, bounded so the
 * line stays under 998 bytes (RFC 5322 2.1.1). */
static void clean(char *dst, size_t cap, const char *src)
{
	size_t o = 0;
	for (const char *p = src ? src : ""; *p && o + 1 < cap; p++)
		dst[o++] = ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f) ? '?' : *p;
	dst[o] = '\0';
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* RFC 3461 4.2 / RFC 6533: an address type and the address, xtext where
 * needed; non-ASCII addresses as utf-8 type. */
static void put_addr_field(struct out *o, const char *field, const char *addr)
{
	char a[600];
	if (is_ascii(addr)) {
		clean(a, sizeof(a), addr);
		putf(o, "%s: rfc822; %s\r\n", field, a);
	} else {
		snprintf(a, sizeof(a), "%s", addr);
		for (char *p = a; *p; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				*p = '?';
		putf(o, "%s: utf-8; %s\r\n", field, a);
	}
}

static void rfc5322_date(char *buf, size_t cap, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static const char *action_name(enum dsn_action a)
{
	switch (a) {
	case DSN_FAILED: return "failed";
	case DSN_DELAYED: return "delayed";
	case DSN_DELIVERED: return "delivered";
	case DSN_RELAYED: return "relayed";
	}
	return "failed";
}

char *dsn_build(const struct dsn_info *info, const struct dsn_rcpt *rcpts, size_t n,
		const char *headers, size_t hlen, size_t *len)
{
	struct out o = { 0 };
	char date[64], host[300], to[600], id[300];
	enum dsn_action kind = n > 0 ? rcpts[0].action : DSN_FAILED;
	for (size_t i = 0; i < n; i++)
		if (rcpts[i].action == DSN_FAILED)
			kind = DSN_FAILED;
	clean(host, sizeof(host), info->reporting_mta);
	clean(to, sizeof(to), info->to);
	clean(id, sizeof(id), info->queue_id);
	rfc5322_date(date, sizeof(date), info->now);

	const char *subject = kind == DSN_FAILED ? "Undelivered Mail Returned to Sender"
			      : kind == DSN_DELAYED ? "Delayed Mail (still being retried)"
						    : "Successful Mail Delivery Report";
	putf(&o, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", host);
	putf(&o, "To: <%s>\r\n", to);
	putf(&o, "Subject: %s\r\n", subject);
	putf(&o, "Date: %s\r\n", date);
	putf(&o, "Message-ID: <%s>\r\n", info->message_id);
	putf(&o, "Auto-Submitted: auto-replied\r\n");
	putf(&o, "MIME-Version: 1.0\r\n");
	putf(&o, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n",
	     info->boundary);
	putf(&o, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");

	/* 1: for humans */
	putf(&o, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", info->boundary);
	putf(&o, "This is the mail system at host %s.\r\n\r\n", host);
	if (kind == DSN_FAILED)
		putf(&o, "Your message (queue id %s) could not be delivered to one or more\r\n"
			 "recipients. It is attached below.\r\n\r\n", id);
	else if (kind == DSN_DELAYED)
		putf(&o, "Your message (queue id %s) could not be delivered yet to one or more\r\n"
			 "recipients. The mail system will keep trying; you do not need to send it\r\n"
			 "again.\r\n\r\n", id);
	else
		putf(&o, "Your message (queue id %s) was delivered to the recipients below, or\r\n"
			 "relayed to a system that does not send delivery notifications, as you asked.\r\n\r\n", id);
	for (size_t i = 0; i < n; i++) {
		char a[600], r[900];
		clean(a, sizeof(a), rcpts[i].addr);
		clean(r, sizeof(r), rcpts[i].reply);
		putf(&o, "<%s>: %s\r\n", a, r);
	}
	putf(&o, "\r\n");

	/* 2: message/delivery-status (RFC 3464 2.2, 2.3) */
	putf(&o, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", info->boundary);
	if (info->envid) {
		char e[200];
		clean(e, sizeof(e), info->envid);
		putf(&o, "Original-Envelope-Id: %s\r\n", e);
	}
	putf(&o, "Reporting-MTA: dns; %s\r\n", host);
	putf(&o, "X-Mailwarden-Queue-ID: %s\r\n", id);
	rfc5322_date(date, sizeof(date), info->arrival);
	putf(&o, "Arrival-Date: %s\r\n", date);
	for (size_t i = 0; i < n; i++) {
		const struct dsn_rcpt *r = &rcpts[i];
		char status[16], diag[900];
		putf(&o, "\r\n");
		if (r->orcpt)
			put_addr_field(&o, "Original-Recipient", r->orcpt);
		put_addr_field(&o, "Final-Recipient", r->addr);
		putf(&o, "Action: %s\r\n", action_name(r->action));
		if ((r->action == DSN_DELIVERED || r->action == DSN_RELAYED) && (!r->reply || r->reply[0] != '2'))
			snprintf(status, sizeof(status), "2.0.0");
		else
			dsn_status(r->reply ? r->reply : "", status);
		putf(&o, "Status: %s\r\n", status);
		if (r->remote_mta) {
			char m[300];
			clean(m, sizeof(m), r->remote_mta);
			putf(&o, "Remote-MTA: dns; %s\r\n", m);
		}
		if (r->reply && r->reply[0] >= '2' && r->reply[0] <= '5' && is_digit(r->reply[1])) {
			clean(diag, sizeof(diag), r->reply);
			putf(&o, "Diagnostic-Code: smtp; %s\r\n", diag);
		} else if (r->reply) {
			clean(diag, sizeof(diag), r->reply);
			putf(&o, "Diagnostic-Code: X-mailwarden; %s\r\n", diag);
		}
		if (r->action == DSN_DELAYED) {
			rfc5322_date(date, sizeof(date), info->now);
			putf(&o, "Last-Attempt-Date: %s\r\n", date);
		}
	}
	putf(&o, "\r\n");

	/* 3: the original message (RET=FULL) or its headers (RFC 6522
	 * text/rfc822-headers), cut at a line */
	if (info->full) {
		putf(&o, "--%s\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		     info->boundary);
		put(&o, headers, hlen);
		if (hlen > 0 && headers[hlen - 1] != '\n')
			putf(&o, "\r\n");
		putf(&o, "\r\n--%s--\r\n", info->boundary);
		*len = o.len;
		return o.buf;
	}
	putf(&o, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", info->boundary);
	if (hlen > DSN_HEADERS_MAX) {
		hlen = DSN_HEADERS_MAX;
		while (hlen > 0 && headers[hlen - 1] != '\n')
			hlen--;
	}
	put(&o, headers, hlen);
	if (hlen > 0 && headers[hlen - 1] != '\n')
		putf(&o, "\r\n");
	putf(&o, "\r\n--%s--\r\n", info->boundary);
	*len = o.len;
	return o.buf;
}
