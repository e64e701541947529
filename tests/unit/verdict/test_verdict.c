/* The one scoring function (src/verdict/): symbols add up, the highest
 * threshold reached decides, a hard refusal wins, and the headers a
 * verdict adds are a valid header block whatever the symbols are. Points
 * and thresholds are hundredths (verdict/points.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "util/headerfield.h"
#include "verdict/verdict.h"

#define P(n) ((n) * 100)  /* whole points in hundredths */

static const struct verdict_thresholds t = { .tag = P(5), .quarantine = P(10), .discard = P(20), .refuse = P(30) };

static enum verdict_action score(int points)
{
	struct verdict v;
	verdict_init(&v);
	verdict_add(&v, "A", points);
	return verdict_decide(&v, &t);
}

Test(verdict, the_highest_threshold_reached_decides)
{
	cr_assert_eq(score(P(4)), VERDICT_ACCEPT);
	cr_assert_eq(score(P(5)), VERDICT_TAG);
	cr_assert_eq(score(P(12)), VERDICT_QUARANTINE);
	cr_assert_eq(score(P(20)), VERDICT_DISCARD);
	cr_assert_eq(score(P(31)), VERDICT_REFUSE);
	cr_assert_eq(score(P(-3)), VERDICT_ACCEPT);
}

Test(verdict, unused_thresholds_never_act_and_symbols_add_up)
{
	struct verdict_thresholds only_tag = { .tag = P(3) };
	struct verdict v;
	verdict_init(&v);
	verdict_add(&v, "RDNS_NONE", P(2));
	verdict_add(&v, "HEADER_MISSING_DATE", P(2));
	verdict_add(&v, "ALLOWED", P(-2));
	cr_assert_eq(verdict_decide(&v, &only_tag), VERDICT_ACCEPT);
	cr_assert_eq(v.score, P(2));
	verdict_add(&v, "X", P(50));
	cr_assert_eq(verdict_decide(&v, &only_tag), VERDICT_TAG, "no quarantine/discard/refuse configured");
	char sum[256];
	verdict_summary(&v, sum, sizeof(sum));
	cr_assert_str_eq(sum, "tag 52 RDNS_NONE(2),HEADER_MISSING_DATE(2),ALLOWED(-2),X(50)");
}

/* Hundredths add up exactly: two 2.5 rules reach a threshold of 5, 2.5
 * and 2.49 stay below it. */
Test(verdict, decimal_points_add_up_exactly_against_a_threshold)
{
	struct verdict_thresholds five = { .tag = 500 };
	struct verdict v;
	verdict_init(&v);
	verdict_add(&v, "SUBJ_FREE", 250);
	verdict_add(&v, "BODY_FREE", 249);
	cr_assert_eq(verdict_decide(&v, &five), VERDICT_ACCEPT);
	cr_assert_eq(v.score, 499);
	verdict_init(&v);
	verdict_add(&v, "SUBJ_FREE", 250);
	verdict_add(&v, "BODY_FREE", 250);
	cr_assert_eq(verdict_decide(&v, &five), VERDICT_TAG);
	cr_assert_eq(v.score, 500);
	struct verdict_thresholds four_and_a_half = { .tag = 450 };
	verdict_init(&v);
	verdict_add(&v, "A", 449);
	cr_assert_eq(verdict_decide(&v, &four_and_a_half), VERDICT_ACCEPT);
	verdict_add(&v, "B", 1);
	cr_assert_eq(verdict_decide(&v, &four_and_a_half), VERDICT_TAG);
}

/* Every text writes points as people do: whole numbers exactly as before,
 * decimals as the shortest exact decimal. */
Test(verdict, texts_write_points_as_decimals)
{
	struct verdict v;
	verdict_init(&v);
	verdict_add(&v, "SUBJ_FREE", 250);
	verdict_add(&v, "RDNS_NONE", 300);
	verdict_add(&v, "NICE", -125);
	verdict_add(&v, "TINY", 1);
	struct verdict_thresholds tag = { .tag = 450 };
	cr_assert_eq(verdict_decide(&v, &tag), VERDICT_ACCEPT, "4.26 < 4.5");
	verdict_add(&v, "MORE", 24);
	cr_assert_eq(verdict_decide(&v, &tag), VERDICT_TAG);
	char sum[256];
	verdict_summary(&v, sum, sizeof(sum));
	cr_assert_str_eq(sum, "tag 4.5 SUBJ_FREE(2.5),RDNS_NONE(3),NICE(-1.25),TINY(0.01),MORE(0.24)");
	char h[2048];
	struct verdict_auth none = { "192.0.2.1", "", "", "", "", NULL };
	verdict_headers(&v, "mx.test", &none, 450, h, sizeof(h));
	cr_assert(strstr(h, "X-Spam-Score: 4.5\r\n"), "%s", h);
	cr_assert(strstr(h, "X-Spam-Status: Yes, score=4.5 required=4.5\r\n"
			 "\ttests=SUBJ_FREE(2.5),RDNS_NONE(3),NICE(-1.25),TINY(0.01),MORE(0.24)\r\n"), "%s", h);
}

Test(verdict, a_hard_refusal_wins_whatever_the_score)
{
	struct verdict v;
	verdict_init(&v);
	verdict_refuse(&v, "550 5.6.0 nope");
	cr_assert_eq(verdict_decide(&v, &t), VERDICT_REFUSE);
	cr_assert_str_eq(v.refuse_reply, "550 5.6.0 nope");
}

/* SCAN-9, SCAN-10: a hold quarantines whatever the score, discard and
 * refusal by score included (a held message is neither lost nor sent
 * back); only a check's hard refusal beats it. */
Test(verdict, a_hold_quarantines_whatever_the_score_but_a_hard_refusal)
{
	int scores[] = { P(-5), 0, P(6), P(25), P(40) };
	for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
		struct verdict v;
		verdict_init(&v);
		verdict_add(&v, "A", scores[i]);
		verdict_hold(&v);
		cr_assert_eq(verdict_decide(&v, &t), VERDICT_QUARANTINE, "score %d", scores[i]);
	}
	struct verdict v;
	verdict_init(&v);
	verdict_hold(&v);
	verdict_refuse(&v, "554 5.7.0 refused");
	cr_assert_eq(verdict_decide(&v, &t), VERDICT_REFUSE);
}

Test(verdict, added_headers_are_a_valid_header_block)
{
	struct verdict_auth auth = { "192.0.2.1", "pass", "mail.example.org", "fail", "example.org", NULL };
	for (int points = 0; points < 40; points += 6) {
		struct verdict v;
		verdict_init(&v);
		for (int i = 0; i < VERDICT_SYMBOLS_MAX + 5; i++)
			verdict_add(&v, "A_LONG_SYMBOL_NAME_FOR_TESTS", points ? P(1) : 0);
		verdict_decide(&v, &t);
		char h[4096];
		verdict_headers(&v, "mx.example.org", &auth, P(5), h, sizeof(h));
		cr_assert(strncmp(h, "Authentication-Results: mx.example.org;\r\n\tiprev=pass", 52) == 0, "%s", h);
		cr_assert(header_block_valid(h, strlen(h)), "not a header block: %s", h);
		for (char *line = h; (line = strstr(line, "\r\n")) != NULL; line += 2)
			cr_assert_lt((size_t)(strstr(line + 2, "\r\n") ? strstr(line + 2, "\r\n") - line : 0), 998);
	}
}

/* The scanner's DKIM and DMARC results join iprev and spf in the one
 * Authentication-Results field (RFC 8601), each on a line of its own. */
Test(verdict, scanner_results_join_the_one_authentication_results_field)
{
	struct verdict_auth auth = { "192.0.2.1", "pass", "mail.example.org", "pass", "example.org",
				     "dkim=pass header.d=example.org header.s=s1; dmarc=fail (p=reject) header.from=x.test" };
	struct verdict v;
	verdict_init(&v);
	verdict_decide(&v, &t);
	char h[4096];
	verdict_headers(&v, "mx.example.org", &auth, P(5), h, sizeof(h));
	cr_assert_str_eq(h, "Authentication-Results: mx.example.org;\r\n"
			    "\tiprev=pass policy.iprev=192.0.2.1 (mail.example.org);\r\n"
			    "\tspf=pass smtp.mailfrom=example.org;\r\n"
			    "\tdkim=pass header.d=example.org header.s=s1;\r\n"
			    "\tdmarc=fail (p=reject) header.from=x.test\r\n");
	cr_assert_eq(strstr(h, "Authentication-Results") , h);
	cr_assert_null(strstr(h + 1, "Authentication-Results"), "one field only");
}
