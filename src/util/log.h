/*
 * Structured event log: one line per event, key=value (or JSON), to stderr
 * or syslog. Every process calls log_init() once after fork with its own
 * name; a line then reads
 *   2026-12-07T15:27:30.836Z mailwarden[pid]: level=info proc=smtpd event=connect session=...
 * or, in JSON, one object and nothing else on the line:
 *   {"ts":"2026-12-07T15:27:30.836Z","pid":123,"level":"info","proc":"smtpd","event":"connect",...}
 * (to syslog, which stamps time and pid itself, without "ts" and "pid"),
 * so that one grep on a session or queue id follows a message through
 * every process. Values are quoted when they hold spaces, quotes or
 * control characters; bytes from the network are escaped, never raw.
 * Every value is a JSON string except those made by log_u64() and
 * log_ms(), which JSON writes as numbers; an event's own "pid" (always a
 * child's) is "child_pid" in JSON. docs/logging.md lists the events.
 */
#ifndef MW_UTIL_LOG_H
#define MW_UTIL_LOG_H

#include <stdbool.h>
#include <syslog.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };
enum log_format { LOG_FORMAT_KV, LOG_FORMAT_JSON };

/* Set the process name, target, format and the lowest level written
 * (a syslog level: LOG_DEBUG .. LOG_ERR). Safe to call again after fork. */
void log_init(const char *proc, enum log_target target, enum log_format format, int min_level);

/* In a forked child that has just closed the descriptors it does not own
 * (the syslog socket among them): connect to syslog again, before any
 * chroot. glibc would otherwise go on writing to the closed socket's
 * number, which the next open() reuses. Nothing to do for stderr. */
void log_reconnect(void);

/* Log one event. The variadic part is pairs of (const char *key, const char *value),
 * ended by NULL. A NULL value is written as an empty string. */
void log_event(int level, const char *event, ...) __attribute__((sentinel));

/* The audit trail of an administration command (quarantine, queue, Q-3):
 * one event,
 *   event=admin command=COMMAND [queue_id=ID] uid=REAL-UID result=ok|error [msg=WHY]
 * written to syslog (facility mail, where the detached gateway logs)
 * whatever the target, and to stderr as well if also_stderr. Never
 * filtered by level. command as typed ("quarantine release", "queue flush
 * ID"); queue_id NULL: no such key; rc 0: ok; why NULL: no msg. */
void log_audit_admin(bool also_stderr, const char *command, const char *queue_id, int rc, const char *why);

/* Convenience: an event with a single free-text "msg" (for errors of the process itself). */
void log_msg(int level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A number for a log_event value, in a small ring of buffers (the last 8
 * calls stay valid): a JSON line writes it unquoted. log_ms: milliseconds
 * as seconds with three decimals ("1.234"); a negative count is 0. */
const char *log_u64(unsigned long long v);
const char *log_ms(long long ms);

/* For the detached gateway, whose stderr is /dev/null: from now on every
 * log_init() of this process, and of the processes it forks, writes to
 * syslog whatever target it is given, reloads included (README: detached,
 * serve always logs to syslog). */
void log_pin_syslog(void);

#endif
