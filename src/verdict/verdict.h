/*
 * The one scoring function (SCAN-2, SCAN-5): symbols with points from
 * wherever they were found (smtpd's SMTP-time checks, the scanner's
 * content checks) add up to a score; the direction's thresholds map the
 * score to an action. The queue calls it at the end of every message; the
 * result, with the headers it implies, becomes a record of the spool file.
 * Every points value, score and threshold here is in hundredths of a
 * point (verdict/points.h); the texts write them as points ("2.5").
 * Pure logic: no I/O, no allocation.
 */
#ifndef MW_VERDICT_VERDICT_H
#define MW_VERDICT_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#define VERDICT_SYMBOLS_MAX 160   /* smtpd and the scanner send at most 64 each */

enum verdict_action {
	VERDICT_ACCEPT,       /* deliver as is */
	VERDICT_TAG,          /* deliver with X-Spam-* headers (and the subject prefix) */
	VERDICT_QUARANTINE,   /* commit into quarantine/ */
	VERDICT_DISCARD,      /* answer 250, keep nothing */
	VERDICT_REFUSE,       /* answer the refusal at the end of DATA */
};

/* Score thresholds in hundredths; 0 = that action is not used. The
 * action of the highest threshold the score reaches wins. */
struct verdict_thresholds {
	int tag, quarantine, discard, refuse;
};

struct verdict_symbol {
	char name[32];
	int points;               /* hundredths */
};

struct verdict {
	struct verdict_symbol symbols[VERDICT_SYMBOLS_MAX];
	size_t n;
	int score;                /* hundredths */
	enum verdict_action action;
	bool forced_refuse;       /* a check that refuses hit: refuse whatever the score */
	bool forced_hold;         /* quarantine whatever the score (a refusal still wins) */
	char refuse_reply[512];   /* its reply, when forced_refuse */
};

void verdict_init(struct verdict *v);
/* One symbol (names longer than 31 bytes are cut; past the maximum the
 * points still count, the name is dropped). */
void verdict_add(struct verdict *v, const char *name, int points);
/* A hard refusal (a content check whose policy is refuse), with its reply. */
void verdict_refuse(struct verdict *v, const char *reply);
/* Hold in quarantine whatever the score (scan.encryption's quarantine,
 * SCAN-10; outbound malware, SCAN-9): beats the thresholds (tag, discard
 * and refuse by score alike: a held message is neither lost nor sent
 * back), loses only to verdict_refuse. */
void verdict_hold(struct verdict *v);
/* Sum, thresholds, action; stored in v and returned. */
enum verdict_action verdict_decide(struct verdict *v, const struct verdict_thresholds *t);
const char *verdict_action_name(enum verdict_action a);

/* "NAME(points),..." or "": RDNS_NONE(3),SUBJ_FREE(2.5) */
void verdict_symbols_text(const struct verdict *v, char *out, size_t cap);
/* "action score symbols" (the spool's 'V' record, quarantine list):
 * "tag 5.5 RDNS_NONE(3),SUBJ_FREE(2.5)". Text for people: nothing
 * parses it back. */
void verdict_summary(const struct verdict *v, char *out, size_t cap);

/* What the Authentication-Results header reports (RFC 8601); NULL or ""
 * fields were not checked. Values are tokens already checked by the IPC
 * decoder (no spaces, no comment characters). */
struct verdict_auth {
	const char *client_ip, *iprev, *ptr, *spf, *spf_domain;
	/* The scanner's results (DKIM, DMARC): "dkim=pass header.d=x; dmarc=..."
	 * as ipc_scan_result.auth_results, each put on a line of its own. */
	const char *scanned;
};

/* The header lines to add at delivery, CRLF-terminated: always
 * Authentication-Results; X-Spam-Flag/-Score/-Status when tagged (or worse
 * and still delivered: quarantine on release). required: the tag threshold
 * (hundredths) shown in X-Spam-Status. */
void verdict_headers(const struct verdict *v, const char *hostname, const struct verdict_auth *a,
		     int required, char *out, size_t cap);

#endif
