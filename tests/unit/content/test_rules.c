/* Rules in SpamAssassin's format (content/rules.h; issue 11): the rule
 * kinds, meta expressions, scores, conditionals, include, and what is
 * not supported being noted with file:line instead of failing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/dkimlib.h"
#include "content/mime.h"
#include "content/rules.h"

static char dir[] = "/tmp/mw-rules-XXXXXX";
static struct rule_set *rs;

struct seen {
	char names[32][64];
	int points[32];
	size_t n;
};

static void on_hit(void *arg, const char *name, int points, const char *describe)
{
	struct seen *s = arg;
	if (s->n < 32) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		s->points[s->n++] = points;
	}
}

static int points_of(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->points[i];
	return -99999;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	mime_prepare();
}

static void teardown(void)
{
	rules_free(rs);
	rs = NULL;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	strcpy(dir, "/tmp/mw-rules-XXXXXX");
}

TestSuite(rules, .init = setup, .fini = teardown);

static void load(const char *text)
{
	const char *path = write_file("50_test.cf", text);
	char err[512];
	rs = rules_load(&path, 1, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_assert(rules_compile_fast(rs, NULL, err, sizeof(err)), "%s", err);
}

/* Match with the Hyperscan databases, after asserting that PCRE2 alone
 * gives the same hits (issue 11, fast matching: every test here compares
 * the two paths). */
static void match_both(const struct rules_input *in, struct seen *s)
{
	struct seen pcre = { .n = 0 };
	rules_pcre_only(rs, true);
	rules_match(rs, in, on_hit, &pcre);
	rules_pcre_only(rs, false);
	rules_match(rs, in, on_hit, s);
	cr_assert_eq(s->n, pcre.n, "Hyperscan %zu hits, PCRE2 alone %zu", s->n, pcre.n);
	for (size_t i = 0; i < s->n; i++)
		cr_assert(strcmp(s->names[i], pcre.names[i]) == 0 && s->points[i] == pcre.points[i], "%s", s->names[i]);
}

static struct seen match(const char *header, const char *body)
{
	char full[4096];
	snprintf(full, sizeof(full), "%s\r\n%s", header, body);
	const char *paras[] = { body };
	size_t plen[] = { strlen(body) };
	struct rules_input in = { .full = full, .full_len = strlen(full), .header = header, .header_len = strlen(header),
				  .body = paras, .body_len = plen, .n_body = 1, .rawbody = paras, .rawbody_len = plen,
				  .n_rawbody = 1 };
	struct seen s = { .n = 0 };
	match_both(&in, &s);
	return s;
}

/* A message of only a header section hdr[0..len) (too large for match()). */
static struct seen match_header(const char *hdr, size_t len)
{
	const char *paras[] = { "" };
	size_t plen[] = { 0 };
	struct rules_input in = { .full = hdr, .full_len = len, .header = hdr, .header_len = len,
				  .body = paras, .body_len = plen, .n_body = 1 };
	struct seen s = { .n = 0 };
	match_both(&in, &s);
	return s;
}

Test(rules, header_body_full_and_scores)
{
	load("header SUBJ_FREE Subject =~ /\\bfree\\b/i\n"
	     "describe SUBJ_FREE Subject talks about free things\n"
	     "score SUBJ_FREE 2.5\n"
	     "header NO_DATE Date !~ /./\n"
	     "header HAS_XMAILER exists:X-Mailer\n"
	     "body BODY_VIAGRA /v[i1]agra/i\n"
	     "full FULL_BOUNDARY /^--=_NextPart/m\n"
	     "score FULL_BOUNDARY 1 2 3 4\n");
	cr_assert_eq(rules_count(rs), 5);
	struct seen s = match("Subject: FREE stuff\r\nX-Mailer: x\r\n", "buy v1agra now");
	cr_assert_eq(points_of(&s, "SUBJ_FREE"), 250);
	cr_assert_eq(points_of(&s, "NO_DATE"), 100, "no Date: the default score 1");
	cr_assert_eq(points_of(&s, "HAS_XMAILER"), 100);
	cr_assert_eq(points_of(&s, "BODY_VIAGRA"), 100);
	cr_assert_eq(points_of(&s, "FULL_BOUNDARY"), -99999);
	s = match("Subject: freedom\r\nDate: today\r\n", "nothing");
	cr_assert_eq(s.n, 0);
}

/* Scores are kept in hundredths as written: decimals count exactly, and
 * a score below a hundredth (SpamAssassin's informational 0.001) still
 * hits with the smallest weight instead of switching the rule off as
 * "score X 0" does. */
Test(rules, decimal_scores_count_in_hundredths)
{
	load("body HALF /half/\nscore HALF 2.5\n"
	     "body NICE /nice/\nscore NICE -1.9\n"
	     "body TINY /tiny/\nscore TINY 0.001\n"
	     "body TINY_NICE /tiny/\nscore TINY_NICE -0.001\n"
	     "body OFF /tiny/\nscore OFF 0\n");
	struct seen s = match("Subject: x\r\n", "half nice tiny");
	cr_assert_eq(points_of(&s, "HALF"), 250);
	cr_assert_eq(points_of(&s, "NICE"), -190);
	cr_assert_eq(points_of(&s, "TINY"), 1);
	cr_assert_eq(points_of(&s, "TINY_NICE"), -1);
	cr_assert_eq(points_of(&s, "OFF"), -99999, "score 0 switches a rule off");
}

Test(rules, header_decoding_raw_and_if_unset)
{
	load("header SUBJ_DEC Subject =~ /Grüße/\n"
	     "header SUBJ_RAW Subject:raw =~ /=\\?utf-8\\?/i\n"
	     "header UNSET_FOO X-Foo =~ /^none$/ [if-unset: none]\n"
	     "header FROM_ADDR From:addr =~ /^a\\@b\\.example$/\n");
	struct seen s = match("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nFrom: Someone <a@b.example>\r\n", "x");
	cr_assert_eq(points_of(&s, "SUBJ_DEC"), 100);
	cr_assert_eq(points_of(&s, "SUBJ_RAW"), 100);
	cr_assert_eq(points_of(&s, "UNSET_FOO"), 100);
	cr_assert_eq(points_of(&s, "FROM_ADDR"), 100);
}

Test(rules, meta_rules_boolean_and_arithmetic)
{
	load("body __A /alpha/\nbody __B /beta/\nbody __C /gamma/\n"
	     "meta META_AND __A && !__B\n"
	     "meta META_SUM (__A + __B + __C) >= 2\n"
	     "meta META_META META_SUM || META_AND\n"
	     "score META_SUM 3\n");
	struct seen s = match("Subject: x\r\n", "alpha gamma");
	cr_assert_eq(points_of(&s, "META_AND"), 100);
	cr_assert_eq(points_of(&s, "META_SUM"), 300);
	cr_assert_eq(points_of(&s, "META_META"), 100);
	cr_assert_eq(points_of(&s, "__A"), -99999, "sub-rules are not reported");
	s = match("Subject: x\r\n", "alpha beta");
	cr_assert_eq(points_of(&s, "META_AND"), -99999);
	cr_assert_eq(points_of(&s, "META_SUM"), 300);
}

/* A meta on a rule that does not run still runs and counts that rule as
 * not hit (SpamAssassin 4's way, that its rule sets are tuned for). */
Test(rules, unsupported_lines_are_noted_and_metas_count_them_as_not_hit)
{
	load("loadplugin Mail::SpamAssassin::Plugin::Foo\n"
	     "body EVAL_ONE eval:check_for_stuff()\n"
	     "meta NEEDS_EVAL EVAL_ONE && BODY_OK\n"
	     "meta NOT_EVAL !EVAL_ONE && BODY_OK\n"
	     "meta NEEDS_NOTHING_KNOWN NO_SUCH_RULE\n"
	     "body BODY_OK /ok/\n"
	     "body BAD_RE /(unclosed/\n"
	     "ifplugin Mail::SpamAssassin::Plugin::Bar\n"
	     "body IN_PLUGIN /ok/\n"
	     "endif\n"
	     "if (version >= 3.004000)\n"
	     "body IN_VERSION /ok/\n"
	     "endif\n"
	     "score BODY_OFF 0\nbody BODY_OFF /ok/\n");
	cr_assert_eq(rules_count(rs), 5, "BODY_OK, IN_VERSION and the three metas run (%zu)", rules_count(rs));
	cr_assert_eq(rules_unsupported(rs), 3, "EVAL_ONE, BAD_RE, IN_PLUGIN");
	bool saw_eval = false, saw_line = false;
	for (size_t i = 0; i < rules_notes(rs); i++) {
		saw_eval |= strstr(rules_note(rs, i), "EVAL_ONE: eval:check_for_stuff not supported") != NULL;
		saw_line |= strstr(rules_note(rs, i), "50_test.cf:7: BAD_RE: regex does not compile") != NULL;
	}
	cr_assert(saw_eval);
	cr_assert(saw_line, "notes name file and line");
	struct seen s = match("Subject: x\r\n", "ok");
	cr_assert_eq(s.n, 3);
	cr_assert_neq(points_of(&s, "NOT_EVAL"), -99999);
	cr_assert_eq(points_of(&s, "NEEDS_EVAL"), -99999);
}

Test(rules, settings_and_plugin_blocks_are_counted_apart_from_rules)
{
	load("report _SUMMARY_\nreport more\nrequired_score 5\nlang de describe X Beschreibung\n"
	     "ifplugin Mail::SpamAssassin::Plugin::Pyzor\nbody H1 eval:check_pyzor()\nbody H2 /y/\nendif\n"
	     "body LATIN1 /caf\xe9/\n");
	cr_assert_eq(rules_count(rs), 1, "LATIN1: rule files hold Latin-1 bytes, matched as bytes");
	cr_assert_eq(rules_unsupported(rs), 2, "the two rules under the plugin we lack");
	bool block = false;
	for (size_t i = 0; i < rules_notes(rs); i++)
		block |= strstr(rules_note(rs, i), "50_test.cf:5: ifplugin Mail::SpamAssassin::Plugin::Pyzor: 2 rules "
					       "left out") != NULL;
	cr_assert(block);
	cr_assert_eq(rules_ignored(rs), 4);
	const char *kw, *first;
	cr_assert_eq(rules_settings(rs, 0, &kw, &first), 2);
	cr_assert_str_eq(kw, "report");
	cr_assert(strstr(first, "50_test.cf:1") != NULL);
}

Test(rules, include_and_directories_in_name_order)
{
	write_file("inc.cf", "body INCLUDED /inc/\n");
	write_file("10_a.cf", "body ORDER /first/\ninclude inc.cf\n");
	write_file("20_b.cf", "body ORDER /second/\nscore ORDER 5\n");
	write_file("ignored.txt", "body IGNORED /x/\n");
	const char *paths[] = { dir };
	char err[512];
	rs = rules_load(paths, 1, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	struct seen s = match("Subject: x\r\n", "second inc first");
	cr_assert_eq(points_of(&s, "ORDER"), 500, "the later file's definition wins");
	cr_assert_eq(points_of(&s, "INCLUDED"), 100);
	cr_assert_eq(points_of(&s, "IGNORED"), -99999);
}

Test(rules, uri_rules_match_each_url)
{
	load("uri MW_URI_EVIL m{^https?://[^/]*evil\\.example}i\nscore MW_URI_EVIL 3\n");
	const char *uris[] = { "http://good.example/", "https://EVIL.example/pay" };
	size_t ulen[] = { strlen(uris[0]), strlen(uris[1]) };
	struct rules_input in = { .full = "x", .full_len = 1, .header = "", .header_len = 0,
				  .uri = uris, .uri_len = ulen, .n_uri = 2 };
	struct seen s = { .n = 0 };
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "MW_URI_EVIL"), 300);
	in.n_uri = 1;
	s.n = 0;
	match_both(&in, &s);
	cr_assert_eq(s.n, 0);
}

Test(rules, missing_file_is_an_error_and_catastrophic_regex_is_bounded)
{
	const char *missing = "/nonexistent/rules.cf";
	char err[512];
	cr_assert_null(rules_load(&missing, 1, err, sizeof(err)));
	cr_assert(strstr(err, "/nonexistent/rules.cf: No such file") != NULL, "%s", err);
	load("body SLOW /^(a+)+$/\n");
	char body[5000];
	memset(body, 'a', sizeof(body) - 2);
	body[sizeof(body) - 2] = 'b';
	body[sizeof(body) - 1] = '\0';
	struct seen s = match("Subject: x\r\n", body);
	cr_assert_eq(s.n, 0, "a match limit ends it: no hit");
}

/* Header rules look fields up in an index made once per message (not a
 * scan of the header section per rule: hundreds of rules over a 25 MB
 * header section took minutes), of at most 50 000 fields: the MIME
 * view's max_field_lines, past which MIME_TOO_MANY_PARTS scores. */
Test(rules, header_fields_are_indexed_once_and_bounded)
{
	load("header SUBJ_EARLY Subject =~ /early/\n"
	     "header SUBJ_LATE Subject =~ /late/\n"
	     "header TOCC_X ToCc =~ /x\\@y/\n"
	     "header MID_ABC MESSAGEID =~ /abc/\n"
	     "header XA_COUNT X-A =~ /^b\\n(b\\n){59999}$/\n");
	size_t n = 60000, used = 0;
	char *hdr = malloc(n * 8 + 200);
	used += (size_t)sprintf(hdr, "Subject: early\r\nCc : x@y\r\nResent-Message-Id:\r\n <abc>\r\n");
	for (size_t i = 0; i < n; i++)
		used += (size_t)sprintf(hdr + used, "X-A: b\r\n");
	used += (size_t)sprintf(hdr + used, "Subject: late\r\n");
	struct seen s = match_header(hdr, used);
	cr_assert_eq(points_of(&s, "SUBJ_EARLY"), 100);
	cr_assert_eq(points_of(&s, "TOCC_X"), 100, "white space before the colon");
	cr_assert_eq(points_of(&s, "MID_ABC"), 100, "a folded value");
	cr_assert_eq(points_of(&s, "SUBJ_LATE"), -99999, "a field past the first 50 000 is not looked at");
	cr_assert_eq(points_of(&s, "XA_COUNT"), -99999, "the values are cut with the fields");
	free(hdr);
}

/* What one header rule decodes and matches is bounded: at most 100 KiB of
 * values (Postfix's header_size_limit), and for :addr the first value's
 * first 4 KiB (a From: of 70 000 addresses was parsed whole by each of
 * Debian's 29 From:addr rules). */
Test(rules, header_text_per_rule_is_bounded)
{
	load("header SUBJ_TAIL Subject =~ /tail/\n"
	     "header SUBJ_HEAD Subject =~ /^a{1000}/\n"
	     "header FROM_FIRST From:addr =~ /^first\\@a\\.example$/\n");
	size_t n = 200000, used = 0;
	char *hdr = malloc(2 * n + 200);
	used += (size_t)sprintf(hdr, "Subject: ");
	memset(hdr + used, 'a', n);
	used += n;
	used += (size_t)sprintf(hdr + used, " tail\r\nFrom: first@a.example");
	for (size_t i = 0; i < n / 27; i++)  /* 4 KiB ends inside a local part: cut at the comma before */
		used += (size_t)sprintf(hdr + used, ",\r\n abcdefghijklmnop@b.ex");
	used += (size_t)sprintf(hdr + used, "\r\n");
	struct seen s = match_header(hdr, used);
	cr_assert_eq(points_of(&s, "SUBJ_HEAD"), 100);
	cr_assert_eq(points_of(&s, "SUBJ_TAIL"), -99999, "past 100 KiB of the value");
	cr_assert_eq(points_of(&s, "FROM_FIRST"), 100, "the first address of a cut list");
	free(hdr);
}

/* A later definition replaces an earlier one whole (later files override
 * Debian's): an "exists:" test redefined as a regex test is a regex test. */
Test(rules, a_redefined_header_rule_keeps_nothing_of_the_old_one)
{
	load("header MW_X exists:X-Foo\n"
	     "header MW_X Subject =~ /^never$/\n"
	     "header MW_Y Subject !~ /x/\n"
	     "header MW_Y Subject =~ /hello/\n");
	struct seen s = match("Subject: hello\r\nX-Foo: 1\r\n", "x");
	cr_assert_eq(points_of(&s, "MW_X"), -99999, "not an exists: test any more");
	cr_assert_eq(points_of(&s, "MW_Y"), 100);
}

/* ALL is the header section as it came, matched in place: all of it, a
 * NUL byte included (a copy read with strlen ended there). */
Test(rules, all_is_the_whole_header_section)
{
	load("header MSGID_FIRST ALL =~ /^Message-Id:.*?^Received:/msi\n"
	     "header ALL_TAIL ALL =~ /Subject: tail/\n"
	     "header NOT_ALL ALL !~ /X-A/\n");
	static const char hdr[] = "Message-ID: <a@b>\r\nX-A: a\0b\r\nReceived: from x\r\nSubject: tail\r\n";
	struct seen s = match_header(hdr, sizeof(hdr) - 1);
	cr_assert_eq(points_of(&s, "MSGID_FIRST"), 100);
	cr_assert_eq(points_of(&s, "ALL_TAIL"), 100, "past the NUL byte");
	cr_assert_eq(points_of(&s, "NOT_ALL"), -99999);
}

Test(rules, eval_tests_of_the_plugins_we_provide)
{
	load("ifplugin Mail::SpamAssassin::Plugin::HeaderEval\n"
	     "header TWO_CTYPES eval:check_header_count_range('Content-Type','2','999')\n"
	     "header FROM_8BIT eval:check_illegal_chars('From', '0.20', '2')\n"
	     "header DATE_FUTURE eval:check_for_shifted_date('3', '6')\n"
	     "header DATE_PAST eval:check_for_shifted_date('undef', '-96')\n"
	     "header NOT_DONE eval:check_for_something_else()\n"
	     "endif\n"
	     "ifplugin Mail::SpamAssassin::Plugin::MIMEEval\n"
	     "body SHOUTING eval:check_for_uppercase('75', '100')\n"
	     "header NO_SEP eval:check_msg_parse_flags('missing_head_body_separator')\n"
	     "endif\n");
	cr_assert_eq(rules_count(rs), 6);
	cr_assert_eq(rules_unsupported(rs), 1, "NOT_DONE");
	const char *hdr = "Received: from x by mx; Sun, 06 Dec 2026 20:00:00 +0000\r\n"
			  "Date: Mon, 07 Dec 2026 00:30:00 +0000\r\n"
			  "From: \xc3\xa4\xc3\xb6 <a@b>\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\n";
	char shout[400];
	memset(shout, 'A', sizeof(shout) - 1);
	shout[sizeof(shout) - 1] = '\0';
	const char *paras[] = { "subject", shout };
	size_t plen[] = { 7, strlen(shout) };
	char full[1024];
	snprintf(full, sizeof(full), "%s%s", hdr, shout);
	struct rules_input in = { .full = full, .full_len = strlen(full), .header = hdr, .header_len = strlen(hdr),
				  .body = paras, .body_len = plen, .n_body = 2 };
	struct seen s = { .n = 0 };
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "TWO_CTYPES"), 100);
	cr_assert_eq(points_of(&s, "FROM_8BIT"), 100, "4 of 15 bytes 8-bit");
	cr_assert_eq(points_of(&s, "DATE_FUTURE"), 100, "Date 4.5 h after the arrival");
	cr_assert_eq(points_of(&s, "DATE_PAST"), -99999);
	cr_assert_eq(points_of(&s, "SHOUTING"), 100);
	cr_assert_eq(points_of(&s, "NO_SEP"), -99999);
	in.full = "Subject: x\r\nFrom: a@b\r\n";
	in.full_len = strlen(in.full);
	s.n = 0;
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "NO_SEP"), 100, "no empty line after the header");
}

Test(rules, pseudo_headers_are_case_sensitive_like_spamassassins)
{
	/* Debian's 72_active.cf has "header __HAS_MESSAGEID exists:MessageId":
	 * an ordinary field name that never occurs, not the MESSAGEID pseudo-
	 * header; taken as MESSAGEID it fired on every message. */
	load("header HAS_ODD exists:MessageId\nheader HAS_PSEUDO exists:MESSAGEID\n");
	struct seen s = match("Message-Id: <a@b>\r\n", "x");
	cr_assert_eq(points_of(&s, "HAS_ODD"), -99999);
	cr_assert_eq(points_of(&s, "HAS_PSEUDO"), 100);
}

Test(rules, four_scores_follow_the_score_set)
{
	load("body FOUR /x/\nscore FOUR 1.0 2.0 3.5 4.0\nbody OFF_IN_ALL /x/\nscore OFF_IN_ALL 0 0 0 0\n"
	     "body OFF_IN_SET0 /x/\nscore OFF_IN_SET0 0 0 1.5 1.5\n");
	cr_assert_eq(rules_count(rs), 2, "only a rule scored 0 in every set is off");
	struct seen s = match("Subject: y\r\n", "x");
	cr_assert_eq(points_of(&s, "FOUR"), 100);
	cr_assert_eq(points_of(&s, "OFF_IN_SET0"), -99999, "0 in set 0: hits, counts nothing, not reported");
	const char *paras[] = { "x" };
	size_t plen[] = { 1 };
	struct rules_input in = { .full = "x", .full_len = 1, .header = "", .header_len = 0, .body = paras,
				  .body_len = plen, .n_body = 1, .score_set = 2 };
	s.n = 0;
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "FOUR"), 350, "set 2: Bayes without network tests");
	cr_assert_eq(points_of(&s, "OFF_IN_SET0"), 150);
}

Test(rules, envelope_from_is_the_envelope_sender_or_the_return_path)
{
	load("header ENV_SPAMMY EnvelopeFrom =~ /\\@bulk\\.example$/\n");
	const char *hdr = "Return-Path: <x@bulk.example>\r\nFrom: a@b\r\n\r\n";
	struct rules_input in = { .full = hdr, .full_len = strlen(hdr), .header = hdr, .header_len = strlen(hdr) };
	struct seen s = { .n = 0 };
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "ENV_SPAMMY"), 100, "Return-Path without <>");
	in.envelope_from = "y@fine.example";
	s.n = 0;
	match_both(&in, &s);
	cr_assert_eq(s.n, 0, "the envelope sender the gateway saw wins");
}

/* ReplaceTags: <TAG> in the rules named by replace_rules becomes the
 * tag's regex, with <pre>, <post> and <inter> pieces where the rule asks
 * for them; tags may use tags; the order of the lines does not matter
 * (the tag and replace_rules lines come after the rule here, as in
 * Debian's 72_active.cf). A rule not in replace_rules keeps "<V>". */
Test(rules, replace_tags_build_the_regex_once_every_file_is_read)
{
	load("body FUZZY_VIAGRA /<inter W1><post P2><V><I><A><G><R><A>/i\n"
	     "body PLAIN_TAG /<V>x/\n"
	     "header SUBJ_NESTED Subject =~ /\\b<VI>agra\\b/i\n"
	     "ifplugin Mail::SpamAssassin::Plugin::ReplaceTags\n"
	     "replace_tag V (?:[vu]|\\\\\\/)\nreplace_tag I [i1!|l]\nreplace_tag A [a@4]\n"
	     "replace_tag G [gq]\nreplace_tag R [r]\nreplace_tag VI <V><I>\n"
	     "replace_inter W1 \\W?\nreplace_post P2 {1,2}\n"
	     "replace_rules FUZZY_VIAGRA SUBJ_NESTED\n"
	     "endif\n");
	cr_assert_eq(rules_count(rs), 3);
	struct seen s = match("Subject: cheap v1agra\r\n", "get \\/-1-a-g-r-@ and vviaggra today");
	cr_assert_neq(points_of(&s, "FUZZY_VIAGRA"), -99999, "tags, inter and post replaced");
	cr_assert_neq(points_of(&s, "SUBJ_NESTED"), -99999, "a tag made of tags");
	cr_assert_eq(points_of(&s, "PLAIN_TAG"), -99999);
	s = match("Subject: x\r\n", "a <V>x here");
	cr_assert_neq(points_of(&s, "PLAIN_TAG"), -99999, "not in replace_rules: matched as written");
	cr_assert_eq(points_of(&s, "FUZZY_VIAGRA"), -99999);
	s = match("Subject: x\r\n", "v - i a g r a");
	cr_assert_eq(points_of(&s, "FUZZY_VIAGRA"), -99999, "inter W1 allows one non-word character, not three");
}

/* A rule whose regex does not compile once its tags are replaced is left
 * out and noted; the others still run. */
Test(rules, replace_tags_that_break_a_regex_leave_the_rule_out)
{
	load("body BROKEN /<OPEN>x/\nbody FINE /fine/\n"
	     "replace_tag OPEN (\nreplace_rules BROKEN\n");
	cr_assert_eq(rules_count(rs), 1);
	bool noted = false;
	for (size_t i = 0; i < rules_notes(rs); i++)
		noted |= strstr(rules_note(rs, i), "BROKEN") != NULL;
	cr_assert(noted);
}

/* A "nice" rule without a score line speaks for the message: its default
 * is -1, not +1 (Debian's MAILING_LIST_MULTI has no score and must not
 * add a point to mailing-list ham); a score line still decides. */
Test(rules, nice_rules_default_to_a_negative_score)
{
	load("body LIST /list/\ntflags LIST nice\n"
	     "body SCORED_NICE /list/\ntflags SCORED_NICE nice\nscore SCORED_NICE -0.5\n"
	     "body PLAIN /list/\n");
	struct seen s = match("Subject: x\r\n", "a list");
	cr_assert_eq(points_of(&s, "LIST"), -100);
	cr_assert_eq(points_of(&s, "SCORED_NICE"), -50);
	cr_assert_eq(points_of(&s, "PLAIN"), 100);
}

/* SpamAssassin's DKIM plugin's tests (SCAN-5), from our verifier's
 * verdict: DKIM_SIGNED on any signature, DKIM_VALID on one that passed,
 * DKIM_VALID_AU of the From domain, DKIM_VALID_EF of the envelope
 * sender's; without a verdict (no keys fetched) none, as SpamAssassin -L. */
Test(rules, dkim_tests_answer_from_the_verdict)
{
	load("ifplugin Mail::SpamAssassin::Plugin::DKIM\n"
	     "full DKIM_SIGNED eval:check_dkim_signed()\n"
	     "full DKIM_VALID eval:check_dkim_valid()\n"
	     "full DKIM_VALID_AU eval:check_dkim_valid_author_sig()\n"
	     "full DKIM_VALID_EF eval:check_dkim_valid_envelopefrom()\n"
	     "full SIGNED_BY_LIST eval:check_dkim_signed('*.example.net', 'other.org')\n"
	     "full VALID_BY_LIST eval:check_dkim_valid('.example.net')\n"
	     "meta DKIM_INVALID DKIM_SIGNED && !DKIM_VALID\n"
	     "header ADSP eval:check_dkim_adsp('N')\n"
	     "endif\n");
	cr_assert_eq(rules_count(rs), 7);
	cr_assert_eq(rules_unsupported(rs), 1, "check_dkim_adsp is not done");
	const char *hdr = "From: a@example.com\r\nReturn-Path: <b@mail.example.net>\r\n\r\n";
	const char *paras[] = { "" };
	size_t plen[] = { 0 };
	struct dkimlib_verdict v = { .n = 2 };
	snprintf(v.sig[0].domain, sizeof(v.sig[0].domain), "mail.example.net");
	v.sig[0].result = DKIMLIB_FAIL;
	snprintf(v.sig[1].domain, sizeof(v.sig[1].domain), "example.com");
	v.sig[1].result = DKIMLIB_PASS;
	struct rules_input in = { .full = hdr, .full_len = strlen(hdr), .header = hdr, .header_len = strlen(hdr),
				  .body = paras, .body_len = plen, .n_body = 1 };
	struct seen s = { .n = 0 };
	match_both(&in, &s);
	cr_assert_eq(s.n, 0, "no verdict: nothing, not even DKIM_SIGNED (SpamAssassin without DNS)");
	in.dkim = &v;
	in.dkim_from_domain = "example.com";
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "DKIM_SIGNED"), 100);
	cr_assert_eq(points_of(&s, "DKIM_VALID"), 100);
	cr_assert_eq(points_of(&s, "DKIM_VALID_AU"), 100);
	cr_assert_eq(points_of(&s, "DKIM_VALID_EF"), -99999, "the envelope domain's signature failed");
	cr_assert_eq(points_of(&s, "SIGNED_BY_LIST"), 100, "a subdomain of example.net signed");
	cr_assert_eq(points_of(&s, "VALID_BY_LIST"), -99999, "but that signature failed");
	cr_assert_eq(points_of(&s, "DKIM_INVALID"), -99999);
	v.sig[1].result = DKIMLIB_TEMPERROR;
	v.sig[0].result = DKIMLIB_PASS;
	in.dkim_from_domain = "";
	s.n = 0;
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "DKIM_VALID_AU"), -99999, "no single From domain");
	cr_assert_eq(points_of(&s, "DKIM_VALID_EF"), 100);
	cr_assert_eq(points_of(&s, "VALID_BY_LIST"), 100);
	v.sig[0].result = DKIMLIB_PERMERROR;
	s.n = 0;
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "DKIM_INVALID"), 100, "signed, none valid");
}

/* mimeheader (SpamAssassin's MIMEHeader plugin, SCAN-5): a header test on
 * each MIME entity's header section, the message's own first; :raw keeps
 * the folds; !~ hits when no section matches. */
Test(rules, mimeheader_rules_test_every_mime_entity)
{
	load("ifplugin Mail::SpamAssassin::Plugin::MIMEHeader\n"
	     "mimeheader GIF_8SPACE Content-Type:raw =~ /^image\\/gif;\\n {8}name=\".+?\"$/s\n"
	     "mimeheader GIF_UNFOLDED Content-Type =~ /^image\\/gif; name=/\n"
	     "mimeheader ROOT_MIXED Content-Type =~ /^multipart\\/mixed/\n"
	     "mimeheader NO_PDF Content-Type !~ /application\\/pdf/\n"
	     "mimeheader NO_IMAGE Content-Type !~ /image/\n"
	     "mimeheader CID_UNSET Content-ID =~ /^none$/ [if-unset: none]\n"
	     "mimeheader NAME_CT Content-Type:name =~ /x/\n"
	     "endif\n");
	cr_assert_eq(rules_count(rs), 6);
	cr_assert_eq(rules_unsupported(rs), 1, "the :name form is noted");
	const char *msg = "From: a@b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
			  "--b\r\nContent-Type: text/plain\r\nContent-ID: <1@x>\r\n\r\nhi\r\n"
			  "--b\r\nContent-Type: image/gif;\r\n        name=\"a.gif\"\r\nContent-ID: <2@x>\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n--b--\r\n";
	struct mime_message mm;
	mime_parse(msg, strlen(msg), &mime_default_limits, &mm);
	cr_assert_eq(mm.n_entity_headers, 2);
	size_t hlen = (size_t)(strstr(msg, "\r\n\r\n") + 4 - msg);
	const char *paras[] = { "" };
	size_t plen[] = { 0 };
	struct rules_input in = { .full = msg, .full_len = strlen(msg), .header = msg, .header_len = hlen,
				  .body = paras, .body_len = plen, .n_body = 1, .mime = &mm };
	struct seen s = { .n = 0 };
	match_both(&in, &s);
	cr_assert_eq(points_of(&s, "GIF_8SPACE"), 100, "the raw value keeps its fold");
	cr_assert_eq(points_of(&s, "GIF_UNFOLDED"), 100, "the decoded value is unfolded: fold and blanks become one space");
	cr_assert_eq(points_of(&s, "ROOT_MIXED"), 100, "the message's own header is the first section");
	cr_assert_eq(points_of(&s, "NO_PDF"), 100, "no section matches the negated pattern");
	cr_assert_eq(points_of(&s, "NO_IMAGE"), -99999, "one section has an image");
	cr_assert_eq(points_of(&s, "CID_UNSET"), 100, "the root has no Content-ID: its if-unset value");
	mime_free(&mm);
}
