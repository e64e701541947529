#include "util/log.h"

#include <stdarg.h>
#include <stdint.h>
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
	bool syslog_pinned;   /* log_pin_syslog(): the target given to log_init() is ignored */
} log_cfg = { "mailwarden", LOG_TARGET_STDERR, LOG_FORMAT_KV, LOG_INFO, false };

#define LOG_LINE_MAX 4096
/* Kept free for what closes a line: a value's quote, the JSON brace. */
#define LINE_CLOSE_RESERVE 4

/* One line's body, without the time and pid prefix (log_emit adds them
 * where the target wants them). What does not fit is cut: a value between
 * whole characters and escapes (then closed by its quote), a field that
 * cannot show its key is left out, and nothing is written after a cut,
 * so a cut JSON line still parses. */
struct line {
	char text[LOG_LINE_MAX];
	size_t len;
	bool cut;
};

/* Numbers formatted by log_u64() and log_ms() live here: a value pointing
 * into this ring is known to be a number, and JSON writes it unquoted. */
#define NUMBER_SLOTS 8
static char number_ring[NUMBER_SLOTS][24];

static bool is_logged_number(const char *v)
{
	uintptr_t at = (uintptr_t)v, first = (uintptr_t)number_ring[0];
	return at >= first && at < first + sizeof(number_ring);
}

/* n bytes that go together (an escape, a UTF-8 sequence, a number), or none. */
static void line_put(struct line *l, const char *s, size_t n)
{
	if (l->cut || l->len + n + LINE_CLOSE_RESERVE >= sizeof(l->text)) {
		l->cut = true;
		return;
	}
	memcpy(l->text + l->len, s, n);
	l->len += n;
}

/* Plain ASCII, as much of it as fits. */
static void line_puts(struct line *l, const char *s)
{
	for (; *s; s++)
		line_put(l, s, 1);
}

/* A closing quote: written into the reserve if need be. */
static void line_close(struct line *l, char c)
{
	if (l->len + 1 < sizeof(l->text))
		l->text[l->len++] = c;
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
		char esc[8];
		int n = 0;
		if (*p == '"' || *p == '\\')
			n = snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p < ' ' || *p == 0x7f)
			n = snprintf(esc, sizeof(esc), "\\u%04x", *p);
		else if (k == 0)
			n = snprintf(esc, sizeof(esc), "%s\\x%02x", log_cfg.format == LOG_FORMAT_JSON ? "\\" : "", *p);
		if (n > 0)
			line_put(l, esc, (size_t)n);
		else
			line_put(l, (const char *)p, k);
		p += k ? k : 1;
	}
}

/* "key": for JSON, key= for kv, after the separator; false (and nothing
 * written) when it does not fit whole. */
static bool line_put_key(struct line *l, const char *key, bool first)
{
	size_t mark = l->len;
	bool json = log_cfg.format == LOG_FORMAT_JSON;
	if (!first)
		line_puts(l, json ? "," : " ");
	line_puts(l, json ? "\"" : "");
	line_puts(l, key);
	line_puts(l, json ? "\":" : "=");
	if (l->cut)
		l->len = mark;
	return !l->cut;
}

/* JSON: "key":"value", or "key":value for a number of log_u64()/log_ms().
 * kv: key=value, quoted when the value needs it. Bytes kept as they are. */
static void line_put_pair(struct line *l, const char *key, const char *value, bool first)
{
	if (!value)
		value = "";
	bool json = log_cfg.format == LOG_FORMAT_JSON;
	/* "pid" is the writer's own in a JSON line; an event's "pid" is
	 * always that of a child it is about (spawned, child_exited...). */
	if (json && strcmp(key, "pid") == 0)
		key = "child_pid";
	size_t mark = l->len;
	if (!line_put_key(l, key, first))
		return;
	if (json && is_logged_number(value)) {
		line_put(l, value, strlen(value));
		if (l->cut)
			l->len = mark;   /* no half number */
	} else if (json || kv_needs_quotes(value)) {
		line_puts(l, "\"");
		if (l->cut) {
			l->len = mark;   /* no room for even the opening quote */
			return;
		}
		line_put_escaped(l, value);
		line_close(l, '"');
	} else {
		line_puts(l, value);
	}
}

void log_init(const char *proc, enum log_target target, enum log_format format, int min_level)
{
	snprintf(log_cfg.proc, sizeof(log_cfg.proc), "%s", proc);
	log_cfg.target = log_cfg.syslog_pinned ? LOG_TARGET_SYSLOG : target;
	log_cfg.format = format;
	log_cfg.min_level = min_level;
	if (log_cfg.target == LOG_TARGET_SYSLOG)
		openlog("mailwarden", LOG_PID | LOG_NDELAY, LOG_MAIL); /* NDELAY: before chroot */
}

void log_reconnect(void)
{
	if (log_cfg.target != LOG_TARGET_SYSLOG)
		return;
	closelog();
	openlog("mailwarden", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_pin_syslog(void)
{
	log_cfg.syslog_pinned = true;
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

/* "2026-12-07T15:27:30.836Z", UTC with milliseconds. */
static void format_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char secs[24];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%.23s.%03dZ", secs, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* The line as its target wants it. syslog adds time and pid itself; on
 * stderr a kv line gets them as a prefix, a JSON line as its first two
 * members, so that every JSON line is one object and nothing else. */
static void log_emit(int level, const struct line *l)
{
	bool json = log_cfg.format == LOG_FORMAT_JSON;
	if (log_cfg.target == LOG_TARGET_SYSLOG) {
		syslog(level, json ? "{%.*s}" : "%.*s", (int)l->len, l->text);
		return;
	}
	char stamp[40];
	format_now(stamp, sizeof(stamp));
	/* One write per line so lines of different processes never interleave. */
	char out[LOG_LINE_MAX + 128];
	int n = json ? snprintf(out, sizeof(out), "{\"ts\":\"%s\",\"pid\":%ld,%.*s}\n", stamp, (long)getpid(),
				(int)l->len, l->text)
		     : snprintf(out, sizeof(out), "%s mailwarden[%ld]: %.*s\n", stamp, (long)getpid(), (int)l->len,
				l->text);
	if (n > 0)
		(void)!write(STDERR_FILENO, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
}

static void line_start(struct line *l, int level, const char *event)
{
	l->len = 0;
	l->cut = false;
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
	openlog("mailwarden", LOG_PID, LOG_MAIL);
	log_cfg.target = LOG_TARGET_SYSLOG;
	log_emit(LOG_NOTICE, &l);
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

static char *number_slot(void)
{
	static unsigned next;
	return number_ring[next++ % NUMBER_SLOTS];
}

const char *log_u64(unsigned long long v)
{
	char *slot = number_slot();
	snprintf(slot, sizeof(number_ring[0]), "%llu", v);
	return slot;
}

const char *log_ms(long long ms)
{
	char *slot = number_slot();
	unsigned long long m = ms < 0 ? 0 : (unsigned long long)ms;
	snprintf(slot, sizeof(number_ring[0]), "%llu.%03llu", m / 1000, m % 1000);
	return slot;
}
