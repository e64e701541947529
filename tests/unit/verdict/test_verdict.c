/* The one scoring function (src/verdict/): symbols add up, the highest
 * threshold reached decides, a hard refusal wins, and the headers a
 * verdict adds are a valid header block whatever the symbols are. */
#include <criterion/criterion.h>
#include <string.h>

#include "util/headerfield.h"
#include "verdict/verdict.h"

static const struct verdict_thresholds t = { .tag = 5, .quarantine = 10, .discard = 20, .refuse = 30 };

static enum verdict_action score(int points)
{
	struct verdict v;
	verdict_init(&v);
	verdict_add(&v, "A", points);
	return verdict_decide(&v, &t);
}

Test(verdict, the_highest_threshold_reached_decides)
{
	cr_assert_eq(score(4), VERDICT_ACCEPT);
	cr_assert_eq(score(5), VERDICT_TAG);
	cr_assert_eq(score(12), VERDICT_QUARANTINE);
	cr_assert_eq(score(20), VERDICT_DISCARD);
	cr_assert_eq(score(31), VERDICT_REFUSE);
	cr_assert_eq(score(-3), VERDICT_ACCEPT);
}

Test(verdict, unused_thresholds_never_act_and_symbols_add_up)
{
	struct verdict_thresholds only_tag = { .tag = 3 };
	struct verdict v;
	verdict_init(&v);
	verdict_add(&v, "RDNS_NONE", 2);
	verdict_add(&v, "HEADER_MISSING_DATE", 2);
	verdict_add(&v, "ALLOWED", -2);
	cr_assert_eq(verdict_decide(&v, &only_tag), VERDICT_ACCEPT);
	cr_assert_eq(v.score, 2);
	verdict_add(&v, "X", 50);
	cr_assert_eq(verdict_decide(&v, &only_tag), VERDICT_TAG, "no quarantine/discard/refuse configured");
	char sum[256];
	verdict_summary(&v, sum, sizeof(sum));
	cr_assert_str_eq(sum, "tag 52 RDNS_NONE(2),HEADER_MISSING_DATE(2),ALLOWED(-2),X(50)");
}

Test(verdict, a_hard_refusal_wins_whatever_the_score)
{
	struct verdict v;
	verdict_init(&v);
	verdict_refuse(&v, "550 5.6.0 nope");
	cr_assert_eq(verdict_decide(&v, &t), VERDICT_REFUSE);
	cr_assert_str_eq(v.refuse_reply, "550 5.6.0 nope");
}

Test(verdict, added_headers_are_a_valid_header_block)
{
	struct verdict_auth auth = { "192.0.2.1", "pass", "mail.example.org", "fail", "example.org" };
	for (int points = 0; points < 40; points += 6) {
		struct verdict v;
		verdict_init(&v);
		for (int i = 0; i < VERDICT_SYMBOLS_MAX + 5; i++)
			verdict_add(&v, "A_LONG_SYMBOL_NAME_FOR_TESTS", points ? 1 : 0);
		verdict_decide(&v, &t);
		char h[4096];
		verdict_headers(&v, "mx.example.org", &auth, 5, h, sizeof(h));
		cr_assert(strncmp(h, "Authentication-Results: mx.example.org;\r\n\tiprev=pass", 52) == 0, "%s", h);
		cr_assert(header_block_valid(h, strlen(h)), "not a header block: %s", h);
		for (char *line = h; (line = strstr(line, "\r\n")) != NULL; line += 2)
			cr_assert_lt((size_t)(strstr(line + 2, "\r\n") ? strstr(line + 2, "\r\n") - line : 0), 998);
	}
}
