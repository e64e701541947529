/*
 * Structured event log: one line per event, key=value (or JSON), to stderr
 * or syslog. Every process calls log_init() once after fork with its own
 * name; a line then reads
 *   mailwarden[pid]: proc=smtpd event=connect session=... client=...
 * so that one grep on a session or queue id follows a message through
 * every process. Values are quoted when they hold spaces, quotes or
 * control characters; bytes from the network are escaped, never raw.
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

/* Format a number into a small static-per-call buffer ring, for log_event values. */
const char *log_u64(unsigned long long v);

#endif
