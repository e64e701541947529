/*
 * The TLS-RPT session counts (RFC 8460, TLS-8): per UTC day, policy
 * domain, policy, and outcome (success, or a failure's result type and
 * where it happened) the number of sessions; and which day's report went
 * to which domain, so that a report is sent once. SQLite under
 * <state_dir>/tlsrpt/.
 *
 * Opened by the queue process (after its privilege drop: the directory is
 * the queue user's) and used from its event loop only: queue/tlsrpt.c
 * batches the counts and writes them in one transaction every few
 * seconds, WAL with synchronous=NORMAL (no fsync per commit: losing the
 * last seconds' counts in a power cut costs a report some sessions, not
 * mail). Reads are for the administrator's command and the daily report.
 */
#ifndef MW_STATE_TLSRPT_STORE_H
#define MW_STATE_TLSRPT_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct tlsrpt_store;

/* One count. Strings are never NULL ("" for none); result "" is a
 * success. Days are "YYYY-MM-DD" (UTC). */
struct tlsrpt_row {
	const char *domain, *policy_type, *policy_string, *mx_host;
	const char *result, *receiving_mx, *receiving_ip, *sending_ip, *reason;
	unsigned long long count;
};

struct tlsrpt_store *tlsrpt_store_open(const char *path);
void tlsrpt_store_close(struct tlsrpt_store *st);

/* Add rows' counts to the day's, in one transaction. */
bool tlsrpt_store_add(struct tlsrpt_store *st, const char *day, const struct tlsrpt_row *rows, size_t n);

/* Every row of the day (of domain only, unless NULL), ordered by domain,
 * policy, then outcome (successes first). False on a database error. */
typedef void (*tlsrpt_row_cb)(void *arg, const struct tlsrpt_row *r);
bool tlsrpt_store_rows(struct tlsrpt_store *st, const char *day, const char *domain, tlsrpt_row_cb cb, void *arg);

/* The domains with counts on day whose report was not sent yet: a
 * malloc'ed array of malloc'ed names (free both), their number in *n. */
char **tlsrpt_store_unsent(struct tlsrpt_store *st, const char *day, size_t *n);

/* The day's report for domain was sent (or there is nobody to send it
 * to): it is not made again. */
bool tlsrpt_store_mark_sent(struct tlsrpt_store *st, const char *day, const char *domain, const char *report_id);

/* Forget the counts of days before day (reports are daily: older counts
 * serve nobody). */
bool tlsrpt_store_prune(struct tlsrpt_store *st, const char *day);

#endif
