/* The address rewriting table (src/policy/rewrite.c): parsing with hostile
 * inputs, lookups, chains and loops. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/rewrite.h"

static char last_problem[400];
static unsigned last_line, n_problems;

static void err(void *arg, unsigned line, const char *problem)
{
	snprintf(last_problem, sizeof(last_problem), "%s", problem);
	last_line = line;
	n_problems++;
}

static struct rewrite *parse(const char *text, size_t len)
{
	n_problems = 0;
	last_line = 0;
	last_problem[0] = '\0';
	return rewrite_parse(text, len, err, NULL);
}

static void expect_rewrite(const struct rewrite *rw, const char *in, const char *out)
{
	char *got = rewrite_apply(rw, in);
	if (!out)
		cr_assert_null(got, "%s -> %s, expected no change", in, got);
	else
		cr_assert(got && strcmp(got, out) == 0, "%s -> %s, expected %s", in, got ? got : "(none)", out);
	free(got);
}

Test(rewrite, addresses_domains_and_comments)
{
	const char *t = "# header\n\n"
			"j.doe@example.org -> john.doe@example.org\n"
			"  @old.example\t@example.org   # whole domain\r\n"
			"Boss@Corp.Example -> ceo@example.org\n"
			"alias@example.org -> j.doe@example.org\n";
	struct rewrite *rw = parse(t, strlen(t));
	cr_assert_not_null(rw, "%u: %s", last_line, last_problem);
	cr_assert_eq(rw->n, 4);
	expect_rewrite(rw, "j.doe@example.org", "john.doe@example.org");
	expect_rewrite(rw, "j.doe@EXAMPLE.org", "john.doe@example.org");
	expect_rewrite(rw, "J.doe@example.org", NULL);               /* local parts are exact */
	expect_rewrite(rw, "anyone@old.example", "anyone@example.org");
	expect_rewrite(rw, "anyone@OLD.example", "anyone@example.org");
	expect_rewrite(rw, "anyone@sub.old.example", NULL);          /* exact domain only */
	expect_rewrite(rw, "Boss@corp.example", "ceo@example.org");
	expect_rewrite(rw, "alias@example.org", "john.doe@example.org");  /* a chain */
	expect_rewrite(rw, "", NULL);                                /* the null sender */
	expect_rewrite(rw, "nobody@example.org", NULL);
	rewrite_free(rw);
}

Test(rewrite, address_rule_wins_over_domain_rule)
{
	const char *t = "@old.example -> @example.org\nkeep@old.example -> keeper@elsewhere.example\n";
	struct rewrite *rw = parse(t, strlen(t));
	cr_assert_not_null(rw);
	expect_rewrite(rw, "keep@old.example", "keeper@elsewhere.example");
	expect_rewrite(rw, "other@old.example", "other@example.org");
	rewrite_free(rw);
}

struct bad_case {
	const char *text;
	size_t len;          /* 0: strlen */
	unsigned line;
	const char *problem;
};

#define BAD(t, l, p) { t, 0, l, p }

static const struct bad_case cases[] = {
		BAD("a@x.test -> b@x.test\nb@x.test -> a@x.test\n", 1, "rewriting loops"),
		BAD("a@x.test -> a@x.test\n", 0, NULL),   /* a rule onto itself is harmless */
		BAD("@x.test -> @y.test\n@y.test -> @x.test\n", 1, "rewriting loops"),
		BAD("a@x.test\n", 1, "expected: FROM -> TO"),
		BAD("a@x.test -> b@x.test c@x.test\n", 1, "expected: FROM -> TO"),
		BAD("a@x.test => b@x.test\n", 1, "expected: FROM -> TO"),
		BAD("nouser -> b@x.test\n", 1, "not an address"),
		BAD("a@ -> b@x.test\n", 1, "empty domain name"),
		BAD("a@x..test -> b@x.test\n", 1, "empty label in domain name"),
		BAD("a@x.test -> b@-x.test\n", 1, "label starts with '-'"),
		BAD("<a>@x.test -> b@x.test\n", 1, "needs quoting"),
		BAD(".a@x.test -> b@x.test\n", 1, "starts or ends with '.'"),
		BAD("a@x.test -> @y.test\n", 1, "cannot be rewritten to a whole domain"),
		BAD("a@x.test -> b@x.test\na@X.test -> c@x.test\n", 2, "duplicate rule for a@x.test"),
		BAD("a@x.test -> b@x_y.test\n", 1, "not a domain name"),
		BAD("\xff\xfe@x.test -> b@x.test\n", 0, NULL),   /* UTF-8-ish local parts pass */
};

Test(rewrite, hostile_tables_are_refused)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		struct rewrite *rw = parse(c->text, c->len ? c->len : strlen(c->text));
		if (!c->problem) {
			cr_assert_not_null(rw, "%s: %s", c->text, last_problem);
			rewrite_free(rw);
			continue;
		}
		cr_assert_null(rw, "accepted: %s", c->text);
		cr_assert_eq(last_line, c->line, "%s: line %u", c->text, last_line);
		cr_assert(strstr(last_problem, c->problem), "%s: %s", c->text, last_problem);
	}
}

Test(rewrite, binary_garbage_long_lines_and_nul_bytes)
{
	char big[3000];
	memset(big, 'a', sizeof(big));
	memcpy(big + sizeof(big) - 12, "@x.test b@y\n", 12);
	cr_assert_null(parse(big, sizeof(big)));
	cr_assert_str_eq(last_problem, "line longer than 1024 bytes");
	static const char nul[] = "a@x.test\0 -> b@x.test\nc@x.test -> d@x.test\n";
	cr_assert_null(parse(nul, sizeof(nul) - 1));
	cr_assert_str_eq(last_problem, "NUL byte in line");
	cr_assert_eq(last_line, 1);
	/* every problem is reported, not just the first */
	const char *many = "x\ny\nz\n";
	cr_assert_null(parse(many, strlen(many)));
	cr_assert_eq(n_problems, 3);
	/* arbitrary bytes never crash the parser */
	unsigned seed = 1;
	char noise[512];
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(noise); i++) {
			seed = seed * 1103515245 + 12345;
			noise[i] = (char)(seed >> 16);
			if (i % 7 == 0)
				noise[i] = "@ \n->.#"[seed % 7];
		}
		rewrite_free(parse(noise, sizeof(noise)));
	}
}

Test(rewrite, long_chains_are_refused_like_loops)
{
	char t[4096] = "";
	for (int i = 0; i < 12; i++) {
		char line[64];
		snprintf(line, sizeof(line), "u%d@x.test -> u%d@x.test\n", i, i + 1);
		strcat(t, line);
	}
	cr_assert_null(parse(t, strlen(t)));
	cr_assert(strstr(last_problem, "loops"));
	char ok[4096] = "";
	for (int i = 0; i < 5; i++) {
		char line[64];
		snprintf(line, sizeof(line), "u%d@x.test -> u%d@x.test\n", i, i + 1);
		strcat(ok, line);
	}
	struct rewrite *rw = parse(ok, strlen(ok));
	cr_assert_not_null(rw);
	expect_rewrite(rw, "u0@x.test", "u5@x.test");
	rewrite_free(rw);
}
