/*
 * The rule set's insides, shared by its loader (rules.c), its meta
 * expressions (rules_meta.c) and its matcher (rules_match.c). Nothing
 * outside content/rules*.c includes this.
 */
#ifndef MW_CONTENT_RULES_IMPL_H
#define MW_CONTENT_RULES_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "content/rules.h"
#include "net/cidr.h"

#define RULE_NAME_MAX 64
#define META_TERMS_MAX 256

/* RULE_MIMEHEADER: a header rule on each MIME entity's header section
 * (PCRE2 only: rules_fast.c leaves it out). */
enum rule_kind { RULE_NONE, RULE_HEADER, RULE_BODY, RULE_RAWBODY, RULE_FULL, RULE_URI, RULE_EVAL, RULE_META, RULE_MIMEHEADER };

#define EVAL_ARGS_MAX 8

/* What eval tests work out once per message and share (in->memo): the
 * thirteen check_for_shifted_date rules of Debian's set each parsed Date
 * and every Received date anew; only the comparison is their own. */
#define RULES_MEMO_FIELDS 16

struct rules_memo {
	bool date_shift_known, date_shift_ok;
	int64_t date_shift;  /* Date minus the nearest relay's time, seconds (rules_eval.c) */
	/* The addresses of a field (rules_header_addrs and the like,
	 * rules_eval_header.c): a dozen tests parse From and To. */
	struct rules_memo_addrs {
		char *name;
		bool fold;       /* lower-cased */
		char **a;
		size_t n;
	} addrs[RULES_MEMO_FIELDS];
	size_t n_addrs;
};

/* Frees what the tests kept in m (not m). */
void rules_memo_free(struct rules_memo *m);

/* An eval: test of ours (rules_eval*.c); its table ends with a NULL name.
 * A test that needs the rule set's own settings (a plugin's lists, such
 * as freemail_domains) finds them in in->rules. */
struct rules_eval {
	const char *name;
	size_t min_args, max_args;
	unsigned (*run)(const struct rules_input *in, const char *const *args, size_t n_args);
	/* Are these arguments ones the test knows (NULL: any)? A rule with
	 * others is left out and noted, not run to never hit. */
	bool (*args_ok)(const char *const *args, size_t n_args);
};

/* The tables of rules_eval_freemail.c, rules_eval_header.c and
 * rules_eval_dkim.c. */
extern const struct rules_eval rules_eval_freemail[];
extern const struct rules_eval rules_eval_header[];
extern const struct rules_eval rules_eval_dkim[];

/* The eval test name taking n_args arguments, or NULL (not done). */
const struct rules_eval *rules_eval_find(const char *name, size_t n_args);
/* The tests on the MIME structure and the HTML (rules_eval_html.c). */
extern const struct rules_eval rules_evals_html[];
/* Is an "ifplugin PLUGIN" block read (we do its tests, or some)? */
bool rules_plugin_provided(const char *plugin);
enum header_mode { HDR_DECODED, HDR_RAW, HDR_ADDR, HDR_NAME };

/* One term of a meta expression in postfix order. */
enum meta_op {
	M_RULE, M_NUM,                       /* operands */
	M_NOT, M_NEG,                        /* unary */
	M_AND, M_OR, M_ADD, M_SUB, M_MUL, M_DIV,
	M_GT, M_GE, M_LT, M_LE, M_EQ, M_NE,
};

struct meta_term {
	enum meta_op op;
	double num;         /* M_NUM */
	size_t rule;        /* M_RULE: index into the rule set */
};

struct rule {
	char *name;
	enum rule_kind kind;
	bool defined;       /* a test line was taken (score/describe alone define nothing) */
	bool active;        /* defined, and every rule a meta needs is active */
	bool needed;        /* active, and scored or named by a needed meta: only these run */
	/* header */
	char *header;       /* field name, or ALL */
	enum header_mode mode;
	bool exists, negate;
	char *if_unset;
	/* header, body, rawbody, full, uri */
	pcre2_code *re;
	char *regex;        /* as written ("/re/flags"), tags replaced (rules_replace.c) */
	char *pattern;        /* re's text and PCRE2 options, for Hyperscan (rules_fast.c) */
	char *prefilter;      /* NULL, or a cheaper superset of pattern for Hyperscan's prefilter (rules_superset.c) */
	uint32_t re_options;
	/* eval: */
	const struct rules_eval *eval;
	char *eval_args[EVAL_ARGS_MAX];
	size_t n_eval_args;
	/* meta */
	struct meta_term *meta;
	size_t n_meta;
	/* about it */
	int points[4];      /* hundredths, per SpamAssassin score set (rules.h) */
	bool has_score;
	char *describe;
	bool multiple;
	unsigned maxhits;
};

#define RULES_SETTINGS_MAX 64

struct ignored_setting {
	char kw[40];
	char first[300];    /* file:line of its first line */
	size_t count;
};

struct rule_set {
	struct rule *rules;
	size_t n, cap;
	size_t *table;      /* name hash: index + 1, 0 = empty */
	size_t table_cap;
	size_t *order;      /* active rules, meta rules after what they need */
	size_t n_active;
	size_t unsupported;  /* rules (and rule lines) that cannot run */
	size_t ignored;      /* setting lines that are not rules */
	struct ignored_setting settings[RULES_SETTINGS_MAX];
	size_t n_settings;
	char *notes[RULES_NOTES_MAX];
	size_t n_notes;
	struct rules_source *sources;  /* files and directories read */
	size_t n_sources;
	struct { char *file, *why; int line; } broken[RULES_BROKEN_MAX];
	size_t n_broken;
	/* Meta rules are defined before the rules they name may be: their
	 * names are resolved in rules_finish(). */
	struct pending_meta *pending;
	size_t n_pending, cap_pending;
	struct replace_tags *replace;  /* rules_replace.c; NULL: no replace_* line */
	/* The Hyperscan databases (rules_fast.c), NULL: PCRE2 alone; and the
	 * switch that runs PCRE2 alone even with them. */
	struct rules_fast *fast;
	bool pcre_only;
	struct freemail *freemail;     /* rules_eval_freemail.c; NULL: no freemail_* line */
	/* The rule files' trusted_networks and internal_networks lines
	 * (rules_eval_relay.c); empty: none. */
	struct cidr_list trusted_networks, internal_networks;
};

size_t rules_find(const struct rule_set *rs, const char *name);
/* A Perl match operator (/re/flags, m{re}flags ...) compiled with PCRE2;
 * NULL, with why set, if it is not one or does not compile. */
pcre2_code *rules_compile_regex(const char *text, char **pattern, uint32_t *options, const char **why);

/* ReplaceTags (rules_replace.c). A replace_* line: taken (true) or not
 * one of them (false). */
bool rules_replace_setting(struct rule_set *rs, const char *file, int line, const char *kw, char *args);
/* Once every file is read: compile the rules named in replace_rules again
 * with their tags replaced (a rule that then fails is left out, noted). */
void rules_replace_apply(struct rule_set *rs);
/* re with the tags of t replaced; NULL if it grows beyond 256 KiB. */
char *rules_replace_expand(const struct replace_tags *t, const char *re);
void rules_replace_free(struct replace_tags *t);
/* A regex matching at least what re matches, much shorter (a class of
 * every byte re can consume, repeated as long as re's matches are), for a
 * long look-alike tag; NULL when re is short, its matches long, or it
 * uses a construct rules_superset.c does not read. Allocated. */
char *rules_superset(const char *re);
/* FreeMail (rules_eval_freemail.c). A freemail_* line: taken (true) or
 * not one of those we use (false: counted as an ignored setting). */
bool rules_freemail_setting(struct rule_set *rs, const char *file, int line, const char *kw, char *args);
void rules_freemail_free(struct freemail *fm);
/* Relays (rules_eval_relay.c, content/relays.h). A trusted_networks or
 * internal_networks line: taken (true) or not one of them (false). */
bool rules_relay_setting(struct rule_set *rs, const char *file, int line, const char *kw, char *args);
/* The message's relays judged by in's networks, else rs's (caller frees). */
struct relays *rules_relays_build(const struct rules_input *in, const struct rule_set *rs);
/* The value of the pseudo-header name (X-Spam-Relays-External, ...) from
 * in->relays (caller frees); NULL if name is not one of them. */
char *rules_relays_header(const struct rules_input *in, const char *name);
extern const struct rules_eval rules_eval_relay[];
/* HeaderEval's tests of free-mail senders against the Received chain (rules_eval_forged.c). */
extern const struct rules_eval rules_eval_forged[];

/* Header access for eval tests (rules_eval_header.c), bounded: the
 * unfolded values of the fields named name, at most cap of them, each cut
 * at RULES_VALUE_MAX bytes, into out (caller frees each); returns how many. */
#define RULES_VALUE_MAX 4096
size_t rules_header_values(const struct rules_input *in, const char *name, char **out, size_t cap);
/* The mailbox addresses in those fields (SpamAssassin's "Name:addr" in
 * list context), lower-cased, at most cap; returns how many. */
size_t rules_header_addrs(const struct rules_input *in, const char *name, char **out, size_t cap);
/* SpamAssassin's EnvelopeFrom: the envelope sender where we know it, else
 * the Return-Path's address; NULL if neither. Caller frees. */
char *rules_envelope_from(const struct rules_input *in);
void rules_strings_free(char **s, size_t n);
/* Does the PCRE2 pattern match s (with a match limit)? false if it does
 * not compile. pattern must live as long as the process (a literal or a
 * static table's): its compile is kept, keyed by its address. */
bool rules_re_search(const char *pattern, uint32_t flags, const char *s);
/* gated_through_received_hdr_remover: no Received field, or a gateway
 * known to remove them (rules_eval_header.c). */
bool rules_received_removed(const struct rules_input *in);

/* A line or rule not taken: counted, and kept as "file:line: text". */
void rules_noted(struct rule_set *rs, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A line that does not parse: noted like the above, and kept as broken. */
void rules_broken_line(struct rule_set *rs, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* meta NAME expr: kept until rules_finish() resolves its names. */
void rules_define_meta(struct rule_set *rs, struct rule *r, const char *expr, const char *file, int line);
/* After loading: resolve meta names, leave out what cannot run (noted),
 * order the active rules. */
void rules_finish(struct rule_set *rs);
/* A meta expression's value from the hit counts of the rules it names. */
double rules_meta_eval(const struct rule *r, const unsigned *hits);
/* Frees what rules_compile_fast() built (NULL: nothing). */
void rules_fast_free(struct rules_fast *f);

#endif
