#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/utf8.h"

static struct {
	char proc[32];
	enum log_target target;
	enum log_format format;
	int min_level;
} log_cfg = { "mailwarden", LOG_TARGET_STDERR, LOG_FORMAT_KV, LOG_INFO };

#define LOG_LINE_MAX 4096

struct line {
	char text[LOG_LINE_MAX];
	size_t len;
};

static void line_putc(struct line *l, char c)
{
	if (l->len + 1 < sizeof(l->text))
		l->text[l->len++] = c;
}

static void line_puts(struct line *l, const char *s)
{
	while (*s)
		line_putc(l, *s++);
}

static bool kv_needs_quotes(const char *v)
{
	if (*v == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
			return true;
	return false;
}

/* Escape so that a hostile value can neither end the line nor forge a key.
 * Well-formed UTF-8 stays as it is; any other 8-bit byte (issue 18 item 7:
 * an 0xFF in a next hop's reply) is written as \xff, in JSON as "\\xff",
 * so a log line is always valid UTF-8 and shows what was really sent. */
static void line_put_escaped(struct line *l, const char *v)
{
	const unsigned char *p = (const unsigned char *)v, *end = p + strlen(v);
	while (p < end) {
		size_t k = *p >= 0x80 ? utf8_seq_len(p, (size_t)(end - p)) : 1;
		char hex[8];
		if (*p == '"' || *p == '\\') {
			line_putc(l, '\\');
			line_putc(l, (char)*p);
		} else if (*p < ' ' || *p == 0x7f) {
			snprintf(hex, sizeof(hex), "\\u%04x", *p);
			line_puts(l, hex);
		} else if (k == 0) {
			snprintf(hex, sizeof(hex), "%s\\x%02x", log_cfg.format == LOG_FORMAT_JSON ? "\\" : "", *p);
			line_puts(l, hex);
			k = 1;
		} else {
			for (size_t i = 0; i < k; i++)
				line_putc(l, (char)p[i]);
		}
		p += k;
	}
}

static void line_put_pair(struct line *l, const char *key, const char *value, bool first)
{
	if (!value)
		value = "";
	if (log_cfg.format == LOG_FORMAT_JSON) {
		line_puts(l, first ? "{\"" : ",\"");
		line_puts(l, key);
		line_puts(l, "\":\"");
		line_put_escaped(l, value);
		line_putc(l, '"');
		return;
	}
	if (!first)
		line_putc(l, ' ');
	line_puts(l, key);
	line_putc(l, '=');
	if (kv_needs_quotes(value)) {
		line_putc(l, '"');
		line_put_escaped(l, value);
		line_putc(l, '"');
	} else {
		line_puts(l, value);
	}
}

void log_init(const char *proc, enum log_target target, enum log_format format, int min_level)
{
	snprintf(log_cfg.proc, sizeof(log_cfg.proc), "%s", proc);
	log_cfg.target = target;
	log_cfg.format = format;
	log_cfg.min_level = min_level;
	if (target == LOG_TARGET_SYSLOG)
		openlog("mailwarden", LOG_PID | LOG_NDELAY, LOG_MAIL); /* NDELAY: before chroot */
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: case LOG_NOTICE: return "info";
	case LOG_WARNING: return "warning";
	default: return "error";
	}
}

static void log_emit(int level, struct line *l)
{
	if (log_cfg.format == LOG_FORMAT_JSON)
		line_putc(l, '}');
	l->text[l->len] = '\0';
	if (log_cfg.target == LOG_TARGET_SYSLOG) {
		syslog(level, "%s", l->text);
		return;
	}
	char stamp[40];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One write per line so lines of different processes never interleave. */
	char out[LOG_LINE_MAX + 128];
	int n = snprintf(out, sizeof(out), "%s.%03ldZ mailwarden[%ld]: %s\n", stamp,
			 ts.tv_nsec / 1000000, (long)getpid(), l->text);
	if (n > 0)
		(void)!write(STDERR_FILENO, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
}

static void line_start(struct line *l, int level, const char *event)
{
	l->len = 0;
	line_put_pair(l, "level", level_name(level), true);
	line_put_pair(l, "proc", log_cfg.proc, false);
	line_put_pair(l, "event", event, false);
}

/* The (key, value) pairs of ap up to a NULL key. */
static void line_put_pairs(struct line *l, va_list ap)
{
	for (const char *key; (key = va_arg(ap, const char *)) != NULL;) {
		const char *value = va_arg(ap, const char *);
		line_put_pair(l, key, value, false);
	}
}

void log_event(int level, const char *event, ...)
{
	if (level > log_cfg.min_level)
		return;
	struct line l;
	line_start(&l, level, event);
	va_list ap;
	va_start(ap, event);
	line_put_pairs(&l, ap);
	va_end(ap);
	log_emit(level, &l);
}

void log_audit_admin(bool also_stderr, const char *command, const char *queue_id, int rc, const char *why)
{
	struct line l;
	line_start(&l, LOG_NOTICE, "admin");
	line_put_pair(&l, "command", command, false);
	if (queue_id)
		line_put_pair(&l, "queue_id", queue_id, false);
	line_put_pair(&l, "uid", log_u64((unsigned long long)getuid()), false);
	line_put_pair(&l, "result", rc == 0 ? "ok" : "error", false);
	if (why)
		line_put_pair(&l, "msg", why, false);

	enum log_target target = log_cfg.target;
	struct line copy = l;   /* log_emit closes a JSON line in place */
	openlog("mailwarden", LOG_PID, LOG_MAIL);
	log_cfg.target = LOG_TARGET_SYSLOG;
	log_emit(LOG_NOTICE, &copy);
	if (also_stderr) {
		log_cfg.target = LOG_TARGET_STDERR;
		log_emit(LOG_NOTICE, &l);
	}
	log_cfg.target = target;
}

void log_msg(int level, const char *event, const char *fmt, ...)
{
	if (level > log_cfg.min_level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event(level, event, "msg", msg, NULL);
}

const char *log_u64(unsigned long long v)
{
	static char ring[8][24];
	static unsigned next;
	char *slot = ring[next++ % 8];
	snprintf(slot, sizeof(ring[0]), "%llu", v);
	return slot;
}
