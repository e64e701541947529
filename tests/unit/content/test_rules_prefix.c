/* The prefix superset of a long rule regex (issue 11, speed;
 * content/rules_prefix.h): cuts only between top-level items (escapes,
 * classes, groups and quantifiers read whole), takes as many copies of a
 * sole repeated group as it is repeated (three at most) with anything
 * between them, gives up on what it cannot read safely, and is a
 * superset: wherever PCRE2 finds the whole, it finds the prefix. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "content/rules_prefix.h"

static bool any(const char *prefix, void *arg)
{
	(void)prefix;
	if (arg)
		(*(unsigned *)arg)++;
	return true;
}

/* Only prefixes of at most *arg bytes. */
static bool short_ones(const char *prefix, void *arg)
{
	return strlen(prefix) <= *(size_t *)arg;
}

static bool never(const char *prefix, void *arg)
{
	(void)prefix;
	(*(unsigned *)arg)++;
	return false;
}

static void assert_prefix(const char *pattern, const char *want)
{
	char *got = rules_prefix_superset(pattern, 4096, any, NULL);
	if (!want) {
		cr_assert_null(got, "%s: got %s", pattern, got);
		return;
	}
	cr_assert_not_null(got, "%s: no prefix", pattern);
	cr_assert_str_eq(got, want, "%s", pattern);
	free(got);
}

Test(rules_prefix, the_last_top_level_item_goes)
{
	assert_prefix("abc(?:d|e)f{2,5}", "abc(?:d|e)");
	assert_prefix("your\\s(?:name|address)(?:[-=_.,:;*\\s]|&\\#\\d{1,3};){3,100}$",
		      "your\\s(?:name|address)(?:[-=_.,:;*\\s]|&\\#\\d{1,3};){3,100}");
	assert_prefix("(?=ab)cd", "(?=ab)c");
	assert_prefix("a+?b", "a+?");
	assert_prefix("a{b", "a{");  /* '{' that starts no quantifier is text */
	assert_prefix("x{2}+y", "x{2}+");
}

Test(rules_prefix, escapes_and_classes_are_read_whole)
{
	assert_prefix("\\x41\\x42c", "\\x41\\x42");
	assert_prefix("\\x{263a}b", "\\x{263a}");
	assert_prefix("\\p{Lu}\\pL\\cA\\d+z", "\\p{Lu}\\pL\\cA\\d+");
	assert_prefix("(a)\\1\\g{-1}x", "(a)\\1\\g{-1}");
	assert_prefix("[]a\\]]b", "[]a\\]]");
	assert_prefix("[\\c]]b", "[\\c]]");  /* \c] is one character */
	assert_prefix("[^]x][[:alpha:]_]{2}q", "[^]x][[:alpha:]_]{2}");
	assert_prefix("(?:a[)]b(c))d", "(?:a[)]b(c))");
}

Test(rules_prefix, a_sole_repeated_group_gives_its_copies)
{
	/* Three copies begin every match; between them, the rest of each. */
	assert_prefix("(?:ab\\s+c){3}", "(?:ab\\s+c)(?s:.)*(?:ab\\s+c)(?s:.)*(?:ab\\s+c)");
	assert_prefix("(?:ab\\s+c){2,}", "(?:ab\\s+c)(?s:.)*(?:ab\\s+c)");
	assert_prefix("(?:ab){9}", "(?:ab)(?s:.)*(?:ab)(?s:.)*(?:ab)");
	assert_prefix("(?:x(?:a|b){1,100}y){1,3}", "x(?:a|b){1,100}y");
	/* An option inside stays in its copy (review: (?-i) reached the next). */
	assert_prefix("(?:a(?-i)b){2}", "(?:a(?-i)b)(?s:.)*(?:a(?-i)b)");
	/* A reference by number would name the first copy's group: one copy. */
	assert_prefix("(?:(a|b)\\1x){2}", "(a|b)\\1x");
	/* Not taken apart: a capturing group (its groups would be numbered
	 * anew: ((a)(b)\2)+ matches "aba", (a)(b)\2 does not), an alternation,
	 * maybe absent, options of its own. */
	assert_prefix("((a)(b)\\2)+", NULL);
	assert_prefix("(ab)+", NULL);
	assert_prefix("(?:de|f\\d)+", NULL);
	assert_prefix("(?:abc)?", NULL);
	assert_prefix("(?i:abc){2}", NULL);
	assert_prefix("(*UCP)", NULL);
}

/* The candidate holding the most first: fewer copies or shorter prefixes
 * when it is refused, four tries at most. */
Test(rules_prefix, copies_give_way_to_what_is_usable)
{
	size_t most = 23;  /* refused: 38 and 35 bytes long (12 and 9 held) */
	char *p = rules_prefix_superset("(?:abcd){3}", 4096, short_ones, &most);
	cr_assert_str_eq(p, "(?:abcd)(?s:.)*(?:abcd)");
	free(p);
	most = 12;  /* the fifth and later: 38, 35, 23 and 21 or 32 bytes are refused first */
	cr_assert_null(rules_prefix_superset("(?:abcd){3}", 4096, short_ones, &most));
	/* max_len: the candidate that fits and holds the most, the simpler of two. */
	p = rules_prefix_superset("(?:abcd){3}", 20, any, NULL);
	cr_assert_str_eq(p, "abcd");
	free(p);
	p = rules_prefix_superset("(?:abcdefg){3}", 24, any, NULL);
	cr_assert_str_eq(p, "(?:abcd)(?s:.)*(?:abcd)");
	free(p);
}

Test(rules_prefix, what_it_cannot_read_safely_gives_none)
{
	assert_prefix("ab|cd", NULL);
	assert_prefix("a\\Q|\\Eb", NULL);
	assert_prefix("(?#note)ab", NULL);
	assert_prefix("(?x) a b", NULL);
	assert_prefix("(?ix:a b)c", NULL);
	assert_prefix("a{,3}b", NULL);
	assert_prefix("a{ 2}b", NULL);  /* blanks in braces: a quantifier from PCRE2 10.43 on */
	assert_prefix("a{2 ,3}b", NULL);
	assert_prefix("a)b", NULL);
	assert_prefix("(ab", NULL);
	assert_prefix("[ab", NULL);
	assert_prefix("a", NULL);  /* one item: no proper prefix */
}

Test(rules_prefix, the_longest_usable_one_within_max_len)
{
	size_t most = 4;
	char *p = rules_prefix_superset("abcdef", 4096, short_ones, &most);
	cr_assert_str_eq(p, "abcd");
	free(p);
	p = rules_prefix_superset("abcdef", 2, any, NULL);
	cr_assert_str_eq(p, "ab");
	free(p);
	/* A refused prefix is tried a few times, not once per item. */
	unsigned calls = 0;
	cr_assert_null(rules_prefix_superset("abcdefghijklmnop", 4096, never, &calls));
	cr_assert_gt(calls, 0);
	cr_assert_leq(calls, 4);
	calls = 0;
	cr_assert_null(rules_prefix_superset("(?:abcdefghijklmnop){3}", 4096, never, &calls));
	cr_assert_leq(calls, 4);
}

static bool matches(const char *pattern, uint32_t options, const char *s)
{
	int code;
	PCRE2_SIZE at;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code, &at, NULL);
	cr_assert_not_null(re, "%s does not compile (%d at %zu)", pattern, code, (size_t)at);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	bool hit = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL) >= 0;
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return hit;
}

/* Form-like rules as Debian writes them; wherever the whole matches, the
 * prefix does (and it compiles). */
Test(rules_prefix, wherever_the_whole_matches_the_prefix_does)
{
	static const struct {
		const char *pattern;
		uint32_t options;
	} rules[] = {
		{ "(?:(?:your\\s)?(?:name|age|address)(?:\\s?\\([^)]{1,30}\\))?"
		  "(?:[^-=_.,:;*\\w]{0,3}(?:[-=_.,:;*\\s]|&\\#\\d{1,3};){1,100}|\\sand\\s)){3}",
		  PCRE2_CASELESS },
		{ "^\\s?(?:\\d{1,3}[.)]\\s?)?(?:your\\s)?(?:(?:name|phone)(?:\\s?/\\s?)?){1,3}:?"
		  "(?:[-_.:*\\s]{3,100}|[-_.\\s]{1,4}$)",
		  PCRE2_CASELESS | PCRE2_MULTILINE },
		{ "\\b(?:bank|swift)\\s(?:code|name)\\b(?=\\W)[-:\\s]{2,}", 0 },
	};
	static const char *texts[] = {
		"Your Name: ____ Age ..... Address: ____", "name and age and address", "1) your name / phone: ______",
		"name phone\n2. Phone ---", "bank code:  x", "swift name-:", "nothing here", "Name:\nAge:\nAddress:\n",
		"your name (full) ... age &#95; address   ", "message page usage",
	};
	for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
		char *prefix = rules_prefix_superset(rules[r].pattern, 4096, any, NULL);
		cr_assert_not_null(prefix, "%s", rules[r].pattern);
		for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
			if (matches(rules[r].pattern, rules[r].options, texts[t]))
				cr_assert(matches(prefix, rules[r].options, texts[t]), "%s matches \"%s\", its prefix %s not",
					  rules[r].pattern, texts[t], prefix);
		free(prefix);
	}
}
