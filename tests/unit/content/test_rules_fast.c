/* Fast rule matching (issue 11, "Fast matching"; content/rules_fast.h):
 * the same rule set matched with its Hyperscan databases and with PCRE2
 * alone gives the same hits, for patterns Hyperscan takes exactly, as a
 * prefilter, and not at all; counts (tflags multiple) stay PCRE2's; the
 * compiled databases come back from the cache. ReplaceTags rules with long
 * look-alike tags run as prefilters through a cheaper superset
 * (content/rules_superset.c, issue 11 speed target) with PCRE2's hits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/mime.h"
#include "content/rules.h"

static char dir[] = "/tmp/mw-rules-fast-XXXXXX";

#define SEEN_MAX 64

struct seen {
	char names[SEEN_MAX][64];
	int points[SEEN_MAX];
	size_t n;
};

static void on_hit(void *arg, const char *name, int points, const char *describe)
{
	(void)describe;
	struct seen *s = arg;
	cr_assert_lt(s->n, SEEN_MAX);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	s->points[s->n++] = points;
}

static bool has(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	mime_prepare();
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	strcpy(dir, "/tmp/mw-rules-fast-XXXXXX");
}

TestSuite(rules_fast, .init = setup, .fini = teardown);

/* Every construct the rule kinds and the two engines treat differently:
 * flags, anchors, lookaround and back-references (not Hyperscan's: a
 * prefilter confirmed by PCRE2), the empty match (PCRE2 alone), counts,
 * negation, [if-unset], header modes, ALL, bytes above 127. */
static const char RULES[] =
	"header SUBJ_FREE Subject =~ /\\bfree\\b/i\n"
	"header SUBJ_ANCHOR Subject =~ /^Re: /\n"
	"header SUBJ_END Subject =~ /now!$/\n"
	"header NO_DATE Date !~ /\\d/\n"
	"header NOT_FROM_X From !~ /example\\.org/\n"
	"header FROM_ADDR From:addr =~ /^bob\\@example\\.org$/\n"
	"header FROM_RAW From:raw =~ /=\\?utf-8\\?/i\n"
	"header FROM_NAME From:name =~ /Bob/\n"
	"header XM_UNSET X-Mailer =~ /none/ [if-unset: none]\n"
	"header XM_EMPTY X-Mailer =~ /^$/\n"
	"header TOCC ToCc =~ /carol/\n"
	"header ALL_RECEIVED ALL =~ /^Received: from \\S+ \\(/m\n"
	"header ALL_TWICE ALL =~ /^(X-\\w+):.*\\n\\1:/ms\n"
	"header HAS_XM exists:X-Mailer\n"
	"body BODY_VIAGRA /v[i1]agra/i\n"
	"body BODY_SPACED /c l i c k/x\n"
	"body BODY_DOT /start.end/\n"
	"body BODY_DOTALL /start.end/s\n"
	"body BODY_LOOKAHEAD /money(?! back)/\n"
	"body BODY_BACKREF /(\\w{3})\\1\\1/\n"
	"body BODY_EMPTY /x*/\n"
	"body BODY_LATIN1 /caf\\xe9/\n"
	"body BODY_WORD /\\bwin\\b/\n"
	"body BODY_VT /a\\sb\\h/\n"
	"body BODY_COUNT /\\$\\d+/\n"
	"tflags BODY_COUNT multiple maxhits=5\n"
	"body BODY_COUNT_LA /\\$\\d+(?=\\.)/\n"
	"tflags BODY_COUNT_LA multiple\n"
	"meta MANY_DOLLARS BODY_COUNT > 3\n"
	"meta MANY_DOLLARS_LA BODY_COUNT_LA >= 2\n"
	"meta FIVE_DOLLARS BODY_COUNT == 5\n"
	"rawbody RAW_TAG /<font\\s+color=\"?red/i\n"
	"rawbody RAW_MULTI /^line/m\n"
	"tflags RAW_MULTI multiple\n"
	"meta TWO_LINES RAW_MULTI == 2\n"
	"full FULL_BOUNDARY /^--=_NextPart/m\n"
	"full FULL_CRLF /\\r\\n\\r\\n/\n"
	"uri URI_IP /^https?:\\/\\/\\d+\\.\\d+\\.\\d+\\.\\d+/\n"
	"uri URI_HOST m{//(?:www\\.)?example\\.com}i\n";

struct message {
	const char *header, *body, *raw;
	const char *uris[3];
};

static const struct message MESSAGES[] = {
	{ "Subject: Re: FREE stuff now!\r\nFrom: Bob <bob@example.org>\r\nTo: carol@x\r\nX-A: 1\r\nX-A: 2\r\n"
	  "Received: from a.example (b [1.2.3.4])\r\n",
	  "buy v1agra click start\nend $1 $2. $3. $4 $5 $6 $7 money back caf\xe9 win",
	  "<FONT  color=red>\nline 1\nline 2\n", { "http://1.2.3.4/x", "https://www.EXAMPLE.com/", NULL } },
	{ "Subject: freedom\r\nDate: Mon, 7 Dec 2026\r\nFrom: =?utf-8?q?Bob?= <eve@example.com>\r\nX-Mailer: none\r\n",
	  "startXend money talks, abcabcabc, $1.\n--=_NextPart", "line\n", { "http://example.net/", NULL, NULL } },
	{ "Subject: \r\nX-Mailer: \r\nCc: Carol <carol@y>\r\n", "", "", { NULL, NULL, NULL } },
	{ "From: x\r\n", "xxx winner $10 $20 a\vb\xa0", "linear\n", { NULL, NULL, NULL } },
};

static struct seen match(struct rule_set *rs, const struct message *m)
{
	char full[4096];
	snprintf(full, sizeof(full), "%s\r\n%s", m->header, m->body);
	const char *body[] = { m->body, "second paragraph $8 $9" };
	size_t body_len[] = { strlen(m->body), strlen(body[1]) };
	const char *raw[] = { m->raw };
	size_t raw_len[] = { strlen(m->raw) };
	size_t n_uri = 0, uri_len[3];
	while (n_uri < 3 && m->uris[n_uri]) {
		uri_len[n_uri] = strlen(m->uris[n_uri]);
		n_uri++;
	}
	struct rules_input in = { .full = full, .full_len = strlen(full), .header = m->header,
				  .header_len = strlen(m->header), .body = body, .body_len = body_len, .n_body = 2,
				  .rawbody = raw, .rawbody_len = raw_len, .n_rawbody = 1, .uri = m->uris,
				  .uri_len = uri_len, .n_uri = n_uri };
	struct seen s = { .n = 0 };
	rules_match(rs, &in, on_hit, &s);
	return s;
}

/* Both paths on every message: the same rules hit, in the same order. */
static void assert_same(struct rule_set *rs, const struct message *m, struct seen *fast_out)
{
	rules_pcre_only(rs, true);
	struct seen pcre = match(rs, m);
	rules_pcre_only(rs, false);
	struct seen fast = match(rs, m);
	cr_assert_eq(fast.n, pcre.n, "Hyperscan %zu hits, PCRE2 %zu", fast.n, pcre.n);
	for (size_t i = 0; i < pcre.n; i++) {
		cr_assert_str_eq(fast.names[i], pcre.names[i]);
		cr_assert_eq(fast.points[i], pcre.points[i]);
	}
	*fast_out = fast;
}

static struct rule_set *load(const char *cache)
{
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/50_test.cf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(RULES, f);
	fclose(f);
	const char *p = path;
	struct rule_set *rs = rules_load(&p, 1, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_assert(rules_compile_fast(rs, cache, err, sizeof(err)), "%s", err);
	return rs;
}

Test(rules_fast, same_hits_as_pcre_alone)
{
	struct rule_set *rs = load(NULL);
	size_t exact, prefilter, pcre, dbs, cached;
	rules_fast_report(rs, &exact, &prefilter, &pcre, &dbs, &cached);
	/* The lookahead and back-reference ones as prefilters, the empty match
	 * in PCRE2 alone, the rest exactly. */
	cr_assert_eq(prefilter, 4, "prefilter %zu", prefilter);
	cr_assert_eq(pcre, 2, "pcre %zu (BODY_EMPTY, XM_EMPTY)", pcre);
	cr_assert_eq(exact, 25, "exact %zu", exact);
	cr_assert_eq(cached, 0);
	struct seen s[4];
	for (size_t i = 0; i < 4; i++)
		assert_same(rs, &MESSAGES[i], &s[i]);
	/* What the comparison stands on: the hits themselves. */
	const char *first[] = { "SUBJ_FREE", "SUBJ_ANCHOR", "SUBJ_END", "NO_DATE", "FROM_ADDR", "FROM_NAME", "XM_UNSET",
				"TOCC", "ALL_RECEIVED", "ALL_TWICE", "BODY_VIAGRA", "BODY_SPACED", "BODY_DOTALL",
				"BODY_LATIN1", "BODY_WORD", "BODY_EMPTY", "MANY_DOLLARS", "FIVE_DOLLARS",
				"MANY_DOLLARS_LA", "RAW_TAG", "TWO_LINES", "FULL_CRLF", "URI_IP", "URI_HOST" };
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		cr_assert(has(&s[0], first[i]), "%s", first[i]);
	cr_assert(!has(&s[0], "BODY_LOOKAHEAD"), "money back");
	cr_assert(!has(&s[0], "NOT_FROM_X"));
	cr_assert(!has(&s[0], "BODY_DOT"));
	cr_assert(has(&s[1], "BODY_LOOKAHEAD") && has(&s[1], "BODY_BACKREF") && has(&s[1], "BODY_DOT"));
	cr_assert(has(&s[1], "NOT_FROM_X") && has(&s[1], "FROM_RAW") && has(&s[1], "FULL_BOUNDARY"));
	cr_assert(!has(&s[1], "TWO_LINES") && !has(&s[1], "SUBJ_FREE") && !has(&s[1], "MANY_DOLLARS_LA"));
	cr_assert(has(&s[2], "XM_EMPTY") && has(&s[2], "TOCC") && has(&s[2], "HAS_XM"));
	cr_assert(!has(&s[2], "XM_UNSET"), "X-Mailer is set (empty)");
	cr_assert(has(&s[3], "XM_UNSET") && has(&s[3], "BODY_WORD") == false);
	cr_assert(has(&s[3], "BODY_VT"), "\\s takes a vertical tab, \\h a no-break space byte, in both");
	rules_free(rs);
}

/* The second load of the same rules reads every database from the cache
 * and matches the same; a damaged cache file is compiled again. */
Test(rules_fast, databases_come_from_the_cache)
{
	char cache[300];
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	struct rule_set *rs = load(cache);
	size_t exact, prefilter, pcre, dbs, cached;
	rules_fast_report(rs, &exact, &prefilter, &pcre, &dbs, &cached);
	cr_assert_gt(dbs, 5);
	cr_assert_eq(cached, 0);
	struct seen before;
	assert_same(rs, &MESSAGES[0], &before);
	rules_free(rs);

	/* A database of rules no longer loaded goes; other files stay. */
	char stale[400], other[400];
	snprintf(stale, sizeof(stale), "%s/hs-%064d.db", cache, 0);
	snprintf(other, sizeof(other), "%s/notes.txt", cache);
	for (const char *p = stale; p; p = p == stale ? other : NULL) {
		FILE *f = fopen(p, "w");
		cr_assert_not_null(f);
		fclose(f);
	}
	rs = load(cache);
	cr_assert_neq(access(stale, F_OK), 0, "the stale database is removed");
	cr_assert_eq(access(other, F_OK), 0);
	size_t exact2, prefilter2, pcre2, dbs2, cached2;
	rules_fast_report(rs, &exact2, &prefilter2, &pcre2, &dbs2, &cached2);
	cr_assert_eq(cached2, dbs);
	cr_assert_eq(dbs2, dbs);
	cr_assert(exact2 == exact && prefilter2 == prefilter && pcre2 == pcre);
	struct seen after;
	assert_same(rs, &MESSAGES[0], &after);
	cr_assert_eq(after.n, before.n);
	rules_free(rs);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "for f in %s/hs-*.db; do head -c 100 \"$f\" > \"$f.x\" && mv \"$f.x\" \"$f\"; done", cache);
	cr_assert_eq(system(cmd), 0);
	rs = load(cache);
	rules_fast_report(rs, &exact2, &prefilter2, &pcre2, &dbs2, &cached2);
	cr_assert_eq(cached2, 0, "cut files are not databases");
	cr_assert_eq(dbs2, dbs);
	assert_same(rs, &MESSAGES[0], &after);
	cr_assert_eq(after.n, before.n);
	rules_free(rs);
}

/* The scanner's way (rules_load_fast): the cache only, never a compile;
 * what is not cached runs in PCRE2 with the same hits, and nothing in
 * the cache is written or removed. */
Test(rules_fast, loading_reads_the_cache_and_never_compiles)
{
	char cache[300], path[256], err[512];
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	struct rule_set *rs = load(NULL);
	struct seen compiled;
	assert_same(rs, &MESSAGES[0], &compiled);
	rules_free(rs);

	snprintf(path, sizeof(path), "%s/50_test.cf", dir);
	const char *p = path;
	rs = rules_load(&p, 1, err, sizeof(err));
	cr_assert(rules_load_fast(rs, cache, err, sizeof(err)), "%s", err);
	size_t exact, prefilter, pcre, dbs, cached;
	rules_fast_report(rs, &exact, &prefilter, &pcre, &dbs, &cached);
	cr_assert_eq(dbs, 0, "an empty cache: no database, nothing compiled");
	cr_assert_eq(exact + prefilter, 0);
	cr_assert_neq(access(cache, F_OK), 0, "nothing written");
	struct seen loaded;
	assert_same(rs, &MESSAGES[0], &loaded);
	cr_assert_eq(loaded.n, compiled.n, "PCRE2 alone: the same hits");
	rules_free(rs);

	rs = load(cache);  /* the compiler's way fills the cache */
	rules_fast_report(rs, &exact, &prefilter, &pcre, &dbs, &cached);
	rules_free(rs);
	rs = rules_load(&p, 1, err, sizeof(err));
	cr_assert(rules_load_fast(rs, cache, err, sizeof(err)), "%s", err);
	size_t dbs2, cached2;
	rules_fast_report(rs, &exact, &prefilter, &pcre, &dbs2, &cached2);
	cr_assert(dbs2 == dbs && cached2 == dbs, "every database from the cache");
	rules_free(rs);
}

/* --- ReplaceTags supersets ---------------------------------------------------- */

/* A look-alike tag as Debian writes them, over 256 bytes: the letter in
 * both cases and a digit, a Latin-1 byte, UTF-8 pairs, a run of 4-byte
 * UTF-8 letters, and HTML entities. */
static void write_tag(FILE *f, char lower, char digit, unsigned latin1, unsigned entity)
{
	fprintf(f, "replace_tag %c (?:[%c%c%c\\x%02x]|[\\xc3][\\xa0-\\xa5]|[\\xce][\\xb1]", lower - 32, lower, lower - 32,
		digit, latin1);
	for (unsigned k = 0x80; k < 0x98; k++)
		fprintf(f, "|[\\xf0][\\x9d](?:[\\x%02x][\\x%02x])", k, 0x80 + (lower - 'a'));
	fprintf(f, "|&\\#(?:%u|x%x);)\n", entity, entity);
}

/* A rule file of the test's directory, opened to write. */
static FILE *rules_file(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	return f;
}

/* The rules written to f (closed here), loaded and compiled. */
static struct rule_set *load_written(FILE *f, const char *path)
{
	char err[512];
	fclose(f);
	struct rule_set *rs = rules_load(&path, 1, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_assert(rules_compile_fast(rs, NULL, err, sizeof(err)), "%s", err);
	return rs;
}

static struct rule_set *load_tags(void)
{
	char path[256];
	FILE *f = rules_file("50_tags.cf", path, sizeof(path));
	write_tag(f, 'a', '4', 0xe4, 97);
	write_tag(f, 'b', '8', 0xdf, 98);
	write_tag(f, 'c', '(', 0xe7, 99);
	fputs("replace_tag SHORT (?:x|y)\n"
	      "replace_inter W1 \\W?\n"
	      "body LOOK_ABC /(?:^|\\s)<A><B><C>(?:\\s|$)/i\n"
	      "body LOOK_SPACED /<inter W1><A><B><C>/\n"
	      "body LOOK_SHORT /<SHORT><A>/\n"
	      "header SUBJ_LOOK Subject =~ /<C><A><B>/\n"
	      "rawbody RAW_LOOK /<A>\\d<B>/\n"
	      "tflags RAW_LOOK multiple\n"
	      "meta RAW_LOOK_TWICE RAW_LOOK == 2\n"
	      "replace_rules LOOK_ABC LOOK_SPACED LOOK_SHORT SUBJ_LOOK RAW_LOOK\n",
	      f);
	return load_written(f, path);
}

static struct seen match_text(struct rule_set *rs, const char *subject, const char *body, const char *raw)
{
	char header[512];
	snprintf(header, sizeof(header), "Subject: %s\r\n", subject);
	const char *bodies[] = { body }, *raws[] = { raw };
	size_t body_len[] = { strlen(body) }, raw_len[] = { strlen(raw) };
	struct rules_input in = { .full = body, .full_len = strlen(body), .header = header, .header_len = strlen(header),
				  .body = bodies, .body_len = body_len, .n_body = 1, .rawbody = raws,
				  .rawbody_len = raw_len, .n_rawbody = 1 };
	struct seen s = { .n = 0 };
	rules_match(rs, &in, on_hit, &s);
	return s;
}

/* assert_same() for a subject, a body and a rawbody piece. */
static struct seen same(struct rule_set *rs, const char *subject, const char *body, const char *raw)
{
	rules_pcre_only(rs, true);
	struct seen pcre = match_text(rs, subject, body, raw);
	rules_pcre_only(rs, false);
	struct seen fast = match_text(rs, subject, body, raw);
	cr_assert_eq(fast.n, pcre.n, "Hyperscan %zu hits, PCRE2 %zu (%s)", fast.n, pcre.n, body);
	for (size_t i = 0; i < pcre.n; i++)
		cr_assert_str_eq(fast.names[i], pcre.names[i]);
	return fast;
}

/* n of rs's rules are prefiltered (PCRE2 confirms), none left to PCRE2 alone. */
static void assert_prefiltered(const struct rule_set *rs, size_t n)
{
	size_t exact, prefilter, pcre, dbs, cached;
	rules_fast_report(rs, &exact, &prefilter, &pcre, &dbs, &cached);
	cr_assert_eq(prefilter, n, "prefilter %zu", prefilter);
	cr_assert_eq(pcre, 0, "pcre %zu", pcre);
}

Test(rules_fast, look_alike_rules_are_prefilters_with_pcre2s_hits)
{
	struct rule_set *rs = load_tags();
	/* The four with long tags through their supersets; LOOK_SHORT's tags
	 * include the long <A> too. */
	assert_prefiltered(rs, 5);

	struct seen s = same(rs, "cab", "see abc now", "a1b a2b");
	cr_assert(has(&s, "LOOK_ABC") && has(&s, "LOOK_SPACED") && has(&s, "SUBJ_LOOK") && has(&s, "RAW_LOOK_TWICE"));
	cr_assert(!has(&s, "LOOK_SHORT"));
	/* Look-alikes: a digit, Latin-1, UTF-8 (2 and 4 bytes), an entity. */
	s = same(rs, "(48", "see 4&#98;\xc3\xa2 now", "\xf0\x9d\x80\x80" "9" "&#x62;");
	cr_assert(has(&s, "LOOK_ABC") && has(&s, "LOOK_SPACED") && has(&s, "SUBJ_LOOK"));
	cr_assert(has(&s, "RAW_LOOK") && !has(&s, "RAW_LOOK_TWICE"));
	/* Near misses: a letter between, a non-space after, no digit between. */
	s = same(rs, "abc", "see abxc now; a-bxc a1bc", "ab1");
	cr_assert(s.n == 0, "%zu hits, first %s", s.n, s.n ? s.names[0] : "");
	s = same(rs, "", "xa ya y\xc3\xa0 -a-b-c", "");
	cr_assert(has(&s, "LOOK_SHORT") && has(&s, "LOOK_SPACED") && !has(&s, "LOOK_ABC"));
	rules_free(rs);
}

/* A rule over 2 kB without look-alike tags (Debian's __FILL_THIS_FORM_*):
 * too long to take whole, it goes in by a prefix of it (content/
 * rules_prefix.h) and PCRE2 confirms; before, it ran in PCRE2 alone over
 * every paragraph. Its form words: 70 of them, 2.2 kB. */
#define FORM(n) "field" #n "_of_a_long_form_to_fill"

static struct rule_set *load_long(void)
{
	char path[256], words[4096] = "";
	for (int i = 0; i < 70; i++)
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%sfield%03d_of_a_long_form_to_fill", i ? "|" : "", i);
	FILE *f = rules_file("50_long.cf", path, sizeof(path));
	/* Three form words in a row, each followed by blanks; a form word
	 * after "your" and before blanks to the line's end; counted lines. */
	fprintf(f, "body LONG_FORM /(?:(?:your\\s)?(?:name|%s)(?:[-=_.,:;*\\s]|&\\#\\d{1,3};){1,100}){3}/i\n", words);
	fprintf(f, "body LONG_TAIL /your\\s(?:name|%s)\\s?(?:[-=_.,:;*\\s]|&\\#\\d{1,3};){3,100}$/im\n", words);
	fprintf(f, "rawbody LONG_RAW /^\\s?(?:name|%s)[:\\s]{1,100}$/im\ntflags LONG_RAW multiple\n", words);
	fputs("meta LONG_RAW_TWICE LONG_RAW == 2\n", f);
	return load_written(f, path);
}

Test(rules_fast, long_rules_go_in_by_a_prefix_with_pcre2s_hits)
{
	struct rule_set *rs = load_long();
	assert_prefiltered(rs, 3);

	struct seen s = same(rs, "", "Your Name: ____ " FORM(007) " ..... " FORM(069) " &#95;&#95;",
			     FORM(001) ":\nname  \n");
	cr_assert(has(&s, "LONG_FORM") && has(&s, "LONG_RAW_TWICE"), "%zu hits", s.n);
	s = same(rs, "", "your " FORM(042) " ___\nmore", "name\n");
	cr_assert(has(&s, "LONG_TAIL") && !has(&s, "LONG_FORM") && !has(&s, "LONG_RAW_TWICE"));
	/* The prefixes match (a form word), the rules do not: PCRE2 says no. */
	s = same(rs, "", "name " FORM(001) " and text; your " FORM(002) " then words", FORM(003) " x\n");
	cr_assert(s.n == 0, "%zu hits, first %s", s.n, s.n ? s.names[0] : "");
	rules_free(rs);
}

/* A sub-rule whose answer reaches no score is never run, in a database or
 * in PCRE2 (content/rules_meta.c): only what a scored rule names, directly
 * or through other metas, is matched. */
Test(rules_fast, rules_that_reach_no_score_are_not_run)
{
	char path[256];
	FILE *f = rules_file("50_dead.cf", path, sizeof(path));
	fputs("body __USED /apple/\n"
	      "body __DEEP /pear/\n"
	      "body __DEAD /plum/\n"
	      "body __DEAD_TOO /fig/\n"
	      "body __DEAD_REF /(\\w)\\1kiwi/\n"
	      "meta __MID __DEEP && !__USED\n"
	      "meta __UNSCORED_META __DEAD_TOO || __DEAD_REF\n"
	      "meta FRUIT __USED || __MID\n"
	      "body NEGATIVE /grape/\n"
	      "score NEGATIVE -1\n",
	      f);
	struct rule_set *rs = load_written(f, path);
	size_t exact, prefilter, pcre, dbs, cached;
	rules_fast_report(rs, &exact, &prefilter, &pcre, &dbs, &cached);
	cr_assert_eq(exact, 3, "exact %zu (__USED, __DEEP, NEGATIVE)", exact);
	cr_assert_eq(prefilter + pcre, 0, "prefilter %zu, pcre %zu", prefilter, pcre);

	struct seen s = same(rs, "", "a pear, plum, fig, grape and a llkiwi", "");
	cr_assert(has(&s, "FRUIT") && has(&s, "NEGATIVE") && s.n == 2, "%zu hits", s.n);
	s = same(rs, "", "apple plum fig", "");
	cr_assert(has(&s, "FRUIT") && s.n == 1, "%zu hits", s.n);
	rules_free(rs);
}
