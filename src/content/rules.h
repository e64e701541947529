/*
 * Rules in SpamAssassin's file format (issue 11), so that rule sets
 * administrators already have work: header (with exists:, ALL, :raw,
 * :addr, :name, [if-unset: ...]), body, rawbody, full, meta (boolean and
 * arithmetic), uri, score (1 or 4 values), describe, tflags (nice,
 * multiple, maxhits=N, net), priority, include, ifplugin/if/else/endif.
 * What we do not support (eval: tests, plugins' own keywords) is
 * counted and noted with file:line, never fatal: a rule we cannot run is
 * left out, and so is every meta rule that needs it.
 *
 * Loaded once (the scanner before its chroot, `mailwarden scan` at start)
 * and then read-only: the scanner's worker threads match with it at the
 * same time (each match uses its own PCRE2 match data, and a Hyperscan
 * scratch space from the set's pool).
 */
#ifndef MW_CONTENT_RULES_H
#define MW_CONTENT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/filestamp.h"

struct rule_set;
struct mime_message;
struct html_view;
struct dkimlib_verdict;
struct cidr_list;
struct relays;
struct rules_memo;

/* Notes on lines not taken, for check-config and the log. */
#define RULES_NOTES_MAX 200

/* Load the files and directories (every *.cf in a directory, in name
 * order) in paths[0..n). NULL, with the reason ("file:line: problem" or
 * "file: why") in err, only if a file cannot be read; unsupported or
 * broken rules are noted, not fatal. */
struct rule_set *rules_load(const char *const *paths, size_t n, char *err, size_t errlen);
void rules_free(struct rule_set *rs);

/* Rules that will run, and lines/rules left out. */
size_t rules_count(const struct rule_set *rs);
size_t rules_unsupported(const struct rule_set *rs);
/* Lines that configure something else than rules (report templates,
 * plugin lists, translated descriptions): ignored, counted per keyword.
 * rules_settings: the i-th keyword's count (0 past the end), with the
 * keyword and the file:line of its first line. */
size_t rules_ignored(const struct rule_set *rs);
size_t rules_settings(const struct rule_set *rs, size_t i, const char **kw, const char **first);
/* The i-th note ("file:line: what was not taken"), i < rules_notes(rs). */
size_t rules_notes(const struct rule_set *rs);
const char *rules_note(const struct rule_set *rs, size_t i);

/* The files and directories a load read (included files and every *.cf of
 * a directory too), each with its stamp as it was opened: a set is stale
 * once any of them changed (content/rules_watch.h). Owned by rs. */
struct rules_source {
	char *path;
	struct file_stamp stamp;
};
size_t rules_sources(const struct rule_set *rs, const struct rules_source **sources);

/* Broken lines: a rule that does not parse (a regex that does not
 * compile, a header test without an operator, a bad score or name, a meta
 * expression that does not parse), as opposed to one we do not support.
 * Both are left out and noted; a reload refuses an edit that breaks a
 * line. Returns how many there are; for i below that (and below
 * RULES_BROKEN_MAX), *file, *line and *why describe the i-th. */
#define RULES_BROKEN_MAX 32
size_t rules_broken(const struct rule_set *rs, size_t i, const char **file, int *line, const char **why);

/* What a message offers the rules: the raw message, its header section,
 * and the rendered text of its body (Subject first, then each text part's
 * paragraphs, lines joined) and the decoded text parts (rawbody). */
struct rules_input {
	const char *full;
	size_t full_len;
	const char *header;          /* raw header section */
	size_t header_len;
	const char *const *body;     /* rendered paragraphs */
	const size_t *body_len;
	size_t n_body;
	const char *const *rawbody;  /* decoded text parts */
	const size_t *rawbody_len;
	size_t n_rawbody;
	const char *const *uri;      /* URLs found in the text parts (content/uri.h) */
	const size_t *uri_len;
	size_t n_uri;
	/* SpamAssassin's score set: 0 without Bayes, 2 with a trained Bayes
	 * (both without network tests); a "score" line's values 1 and 3. */
	unsigned score_set;
	/* The envelope sender for the pseudo-header EnvelopeFrom (NULL: from
	 * the header as SpamAssassin falls back to: X-Envelope-From,
	 * Envelope-Sender or Return-Path above the Received fields). */
	const char *envelope_from;
	/* The MIME view and the HTML figures of its text/html parts (for the
	 * eval tests on them; NULL: none, as for a header-only test). */
	const struct mime_message *mime;
	const struct html_view *html;
	const char *subject;         /* decoded; NULL if none */
	/* The DKIM verdict of the message (content/dkimlib.h), NULL when its
	 * keys were not fetched (`mailwarden scan`, or neither the dkim nor
	 * the dmarc check on): then no DKIM rule hits, as SpamAssassin's
	 * without DNS. from_domain: the From address's domain ("" if not one). */
	const struct dkimlib_verdict *dkim;
	const char *dkim_from_domain;
	/* Relay analysis (content/relays.h): scan.trusted_networks and
	 * scan.internal_networks (NULL or empty: the rule files' lines, else
	 * inferred), and the SMTP client that handed the message to us
	 * (client_ip NULL or "": not from the gateway) with smtpd's trust in
	 * it (in the gateway's trusted_networks, or logged in). */
	const struct cidr_list *trusted_networks, *internal_networks;
	const char *client_ip;
	bool client_trusted;
	/* Set by rules_match (callers leave it NULL): the relays of the message. */
	const struct relays *relays;
	/* Set by rules_match (callers leave it NULL): the rule set being run,
	 * whose plugin settings some eval tests read. */
	const struct rule_set *rules;
	/* Set by rules_match (callers leave it NULL): figures several eval
	 * tests share, worked out once per message (rules_impl.h). */
	struct rules_memo *memo;
};

/* Fast matching (issue 11): compile the rule set's regexes into Hyperscan
 * databases (content/rules_fast.h), read from and written to cache_dir
 * (NULL: no cache) so that loading the same rules again does not compile
 * them again. Before the rule set is shared with other threads. false,
 * with the reason in err, if Hyperscan cannot run here (it needs SSSE3):
 * the rules then match with PCRE2 alone, with the same results. */
bool rules_compile_fast(struct rule_set *rs, const char *cache_dir, char *err, size_t errlen);
/* The same, from the cache alone: what is not there runs in PCRE2 (the
 * scanner, which must start at once and must not spend seconds
 * compiling where a stop cannot reach it; the master has the missing
 * databases compiled in a process of their own, then replaces it). */
bool rules_load_fast(struct rule_set *rs, const char *cache_dir, char *err, size_t errlen);
/* The cache's folder under state_dir. */
#define RULES_CACHE_DIR "rules-cache"
/* What rules_compile_fast() did: rules matched exactly by Hyperscan, as a
 * prefilter confirmed by PCRE2, by PCRE2 alone; databases, and how many of
 * them came from the cache. */
void rules_fast_report(const struct rule_set *rs, size_t *exact, size_t *prefilter, size_t *pcre, size_t *databases,
		       size_t *cached);
/* Match with PCRE2 alone even where there are databases (the comparison
 * of the two paths; a fallback). Not while matches run. */
void rules_pcre_only(struct rule_set *rs, bool on);

/* Called for every rule that hit and scores (names starting "__" are
 * sub-rules: they feed meta rules and are not reported). points in
 * hundredths, as the score line gives them for in->score_set. */
typedef void (*rules_hit_fn)(void *arg, const char *name, int points, const char *describe);

/* Run every rule over in; returns the number of reported hits. */
size_t rules_match(const struct rule_set *rs, const struct rules_input *in, rules_hit_fn hit, void *arg);

#endif
