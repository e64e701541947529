/*
 * The scanner's part of the configuration (the "scan:" section), one
 * immutable snapshot per configuration load like the rest of struct
 * config. Parsed by scan/config.c, which registers the section with the
 * loader (config/section.h); read by the scanner in smtpd and by the
 * master (which watches the files it names).
 *
 * Policy per direction (inbound: from untrusted clients; outbound: from
 * trusted_networks): for every check an action (off / score / refuse;
 * content checks also quarantine, and strip where the check can),
 * its points and the reply used when it refuses; then score thresholds
 * that map the message's total to an action (SCAN-2, SCAN-8). Every
 * points value and threshold is in hundredths of a point
 * (verdict/points.h: "points: 2.5" is 250).
 */
#ifndef MW_SCAN_POLICY_H
#define MW_SCAN_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "content/clamd.h"
#include "net/cidr.h"

#define SCAN_CHECKS_MAX 32
#define CONTENT_CHECKS_MAX 32
/* scan.scanner_timeout_ms's default: also the deadline of the scans done
 * without a scan: section (REL-3's from_binding, src/queue/queue.c). */
#define SCAN_SCANNER_TIMEOUT_MS 60000

enum scan_check_action {
	SCAN_CHECK_OFF,      /* the check does not run */
	SCAN_CHECK_SCORE,    /* a hit adds points */
	SCAN_CHECK_REFUSE,   /* a hit refuses online, in the SMTP dialogue */
	/* Content checks only (SCAN-8): */
	SCAN_CHECK_QUARANTINE,  /* a hit holds the message whatever the score */
	SCAN_CHECK_STRIP,    /* the offending part is replaced by a notice and the
			      * rest delivered; the original is held (content_check.can_strip) */
	SCAN_CHECK_ACTIONS   /* how many there are */
};

/* The word of each action in the configuration ("off", ...; scan/config.c). */
extern const char *const scan_check_action_names[SCAN_CHECK_ACTIONS];

struct scan_check_policy {
	enum scan_check_action action;
	int points;          /* hundredths */
	char *reply;         /* "550 5.7.1 text"; NULL: the check's default */
};

/* Score thresholds in hundredths; 0 = that action is not used. The action
 * of the highest threshold the score reaches wins. */
struct scan_direction {
	struct scan_check_policy checks[SCAN_CHECKS_MAX];  /* indexed like scan_checks[] */
	struct scan_check_policy content[CONTENT_CHECKS_MAX];  /* indexed like content_checks[] (content/check.h) */
	int tag, quarantine, refuse, discard;
	char *subject_prefix;   /* tag: prefix for the Subject (NULL: none) */
	char *refuse_reply;     /* reply at end of DATA for the refuse threshold */
};

struct scan_rbl_file {
	char *path;          /* rbldnsd zone file */
	char *name;          /* shown in symbols and logs */
	int points;          /* hundredths */
	bool dnset;          /* type dnset (domain names); else ip4set/ip4tset */
	/* A policy list (dynamic address ranges, "PBL"): a client that
	 * authenticates is not judged by it. On a listener that offers AUTH it
	 * is looked up at MAIL, once it is known whether the client logged in. */
	bool exempt_authenticated;
};

struct scan_dnsbl {
	char *zone;          /* queried as reversed-ip.zone */
	int points;          /* hundredths, for any 127.0.0.x answer not in codes */
	size_t n_codes;
	struct { unsigned char code[4]; int points; } codes[16];
};

/* scan.dkim_sign: outbound mail from domain is signed with selector and
 * the private key in file key (content/check_dkim_sign.c). */
struct scan_dkim_key {
	char *domain, *selector;
	char *key;           /* PEM private key file */
	int line;            /* of the entry in the user's file; 0: none */
};

/* The slots of scan_config_files(). */
enum { SCAN_FILE_ALLOW, SCAN_FILE_DENY, SCAN_FILE_RCPTS, SCAN_FILE_ZONES };
#define SCAN_FILES_MAX (SCAN_FILE_ZONES + 64)

/* Per scanner file: where the configuration names it and whether the
 * gateway may run without it. A file that is not optional fails closed
 * (issue 16): missing at start, the gateway does not start; missing at a
 * reload, the previous contents stay in force. */
struct scan_file_meta {
	int line;            /* line of the key in the user's file; 0: none */
	bool optional;       /* "optional: true": may be missing (logged loudly) */
};

/* scan.bayes_autolearn: Bayes learns from clear verdicts on its own.
 * A message scoring at least spam points (Bayes' own left out) is learnt
 * as spam, one at most ham points as ham; the samples are applied in a
 * batch every interval seconds. */
struct scan_autolearn {
	bool on;
	int spam, ham;       /* hundredths */
	unsigned interval;   /* seconds */
};

/* What goes to clamd (scan.clamd.scope): ALL, the raw message and every
 * part but the inline text (the default: clamd's mail, HTML and phishing
 * signatures see the text); ATTACHMENTS, only the parts that are not
 * inline text and what the salvage view finds hidden (rspamd's default,
 * a fraction of clamd's work per message). */
enum clamd_scope { CLAMD_SCOPE_ALL, CLAMD_SCOPE_ATTACHMENTS };

/* scan.clamd (content/clamd.h): clamd's TCP address, parsed at load. */
struct scan_clamd {
	char *address;          /* as written, for logs */
	struct clamd_target target;
	bool fail_open;         /* clamd down or slow: pass the message, loudly */
	enum clamd_scope scope;
	int line;
};

/* scan.yara (content/yara.h): the rules the scanner compiles at start. */
struct scan_yara {
	char *rules;            /* a directory of *.yar / *.yara, or one file */
	bool fail_open;
	int line;
};

/* scan.encryption (SCAN-10, scan/config_encryption.c): what happens to
 * a message with encrypted content (content/encryption.h) per direction.
 * The zero value is the default, tag: encrypted mail is legitimate (a
 * partner's S/MIME, a protected PDF), so by default it is delivered with
 * a symbol and a header that say it could not be scanned, never refused. */
enum scan_encryption_action {
	SCAN_ENCRYPTION_TAG,         /* deliver; symbol and X-Mailwarden-Encrypted header */
	SCAN_ENCRYPTION_ALLOW,       /* deliver; the symbol only (0 points), for the log */
	SCAN_ENCRYPTION_QUARANTINE,  /* hold whatever the score */
	SCAN_ENCRYPTION_REFUSE,      /* 554 5.7.0 at the final dot */
};

struct scan_encryption {
	enum scan_encryption_action inbound, outbound;
	/* Partners with agreed encryption: "user@example.org" (that address)
	 * or "example.org" / "@example.org" (that domain and its
	 * subdomains), lower case, without a leading '@'. The policy is
	 * allow when the envelope sender or every recipient is one. */
	char **exempt;
	size_t n_exempt;
};

/* scan.malware_alarm (SCAN-9, scan/config_encryption.c): where the alarm
 * about malware in outbound mail goes. */
struct scan_malware_alarm {
	char *to;                    /* the administrator's mailbox */
	char *from;                  /* NULL: postmaster@ the hostname */
	unsigned interval;           /* seconds: one alarm per sender per interval */
};
struct scan_attachments;

struct scan_config {
	char *dns_servers;      /* NULL: the system resolver, read before the chroot */
	unsigned dns_timeout_ms;
	char *ip_allow;         /* files of CIDR networks, one per line */
	char *ip_deny;
	char *recipients;       /* recipient table: addresses and @domain lines */
	struct scan_rbl_file *rbl_files;
	size_t n_rbl_files;
	struct scan_dnsbl *dnsbls;
	size_t n_dnsbls;
	unsigned greylist_delay;     /* seconds before a retried triplet passes */
	unsigned greylist_expiry;    /* seconds an idle triplet is remembered */
	struct scan_direction inbound, outbound;
	/* The scanner process (content checks): how long the queue waits for
	 * its result, and what happens when it does not come (scanner down,
	 * crashed, too slow): 451 (fail closed, the default) or accept with a
	 * header that says the message was not scanned. */
	unsigned scanner_timeout_ms;
	bool scanner_fail_open;
	/* Rule files and directories in SpamAssassin's format (content check
	 * "rules"), loaded by the scanner before its chroot. */
	char **rules;
	size_t n_rules;
	int rules_line;         /* of the key; 0: none */
	unsigned bayes_min_learned;  /* spam and ham messages learnt before Bayes answers */
	struct scan_autolearn autolearn;  /* scan.bayes_autolearn */
	struct scan_dkim_key *dkim_sign;  /* signing keys, read by the scanner before its chroot */
	size_t n_dkim_sign;
	/* Relay analysis (content/relays.h): where the trusted part of a
	 * message's Received chain ends; empty: the rule files' lines, else
	 * inferred. */
	struct cidr_list trusted_networks, internal_networks;
	struct scan_file_meta file_meta[SCAN_FILES_MAX];  /* in scan_config_files() order */
	/* The malware engines (issue 12); NULL: not used. Configuring one
	 * switches its check (clamav, yara) on at refuse in a direction
	 * whose checks leave it off. */
	struct scan_clamd *clamd;
	struct scan_yara *yara;
	struct scan_encryption *encryption;       /* NULL: tag in both directions, nobody exempt */
	struct scan_malware_alarm *malware_alarm; /* NULL: outbound malware is held and logged, no mail */
	struct scan_attachments *attachments;  /* scan/config_attachments.h; NULL: the defaults */
	/* The text that replaces a stripped part (content/strip.h: {name},
	 * {reason}, {queue_id}); NULL: STRIP_NOTICE_DEFAULT. UTF-8. */
	char *strip_notice;
};

/* True if any content check is on in d for a message whose client did
 * (authenticated) or did not log in: only then does the message go
 * through the scanner process. */
bool scan_direction_has_content(const struct scan_direction *d, bool authenticated);

/* d with every check at its default: content checks at their
 * default_action (content/check.h; from_binding refuses, REL-3), the
 * rest off, no thresholds. Also the scanner's and the queue's policy for
 * authenticated mail when the configuration has no scan: section. */
void scan_direction_defaults(struct scan_direction *d);

void scan_config_free(struct scan_config *sc);

/* scan/config_encryption.c: the keys "encryption" and "malware_alarm" of
 * the scan: section, handlers of its mapping_load() table (config/mapping.h;
 * part: the struct scan_config), and freeing what they made. */
struct loader;
struct fy_node;
void scan_config_load_encryption(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);
void scan_config_load_malware_alarm(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);
void scan_config_encryption_free(struct scan_config *sc);
/* Once the section is read: the check "encryption" runs (scores, with
 * its own policy) in each direction that leaves it off, when
 * scan.encryption or a malware engine is configured: where mail is
 * scanned for malware, what could not be scanned is said (SCAN-10). */
void scan_encryption_switch_on(struct scan_config *sc);
/* The action for a direction, with the exemptions applied: sender is the
 * envelope sender, rcpts the recipients (complete: n_rcpts of them, or
 * nobody counts as all exempt). */
enum scan_encryption_action scan_encryption_action_for(const struct scan_encryption *e, bool outbound,
						       const char *sender, const char *const *rcpts, size_t n_rcpts,
						       bool rcpts_complete);
/* Is address (local@domain) exempt by e? */
bool scan_encryption_exempt(const struct scan_encryption *e, const char *address);

/* The "scan:" section for the loader (master/sections.c lists it). */
struct config_section;
extern const struct config_section scan_config_section;

/* check-config --levels (config/section.h level_describe): the lines
 * "  scan.inbound.checks.rdns: off -> refuse", "  scan.inbound.refuse:
 * 15 -> 8" for what level lv changes against base (scan/config_levels.c). */
struct config;
struct config_errors;
void scan_level_describe(const struct config *base, const struct config *lv, struct config_errors *out);

/* Every file the scanner reads, in a fixed layout (NULL where a file is
 * not configured): ip_allow, ip_deny, recipients, then the rbl_files.
 * Returns how many slots were filled. */
size_t scan_config_files(const struct scan_config *sc, const char **out, size_t cap);

/* The configuration key that names file slot i ("scan.ip_allow",
 * "scan.rbl_files[2].file"), for messages. */
void scan_config_file_key(size_t i, char *buf, size_t size);

#endif
