/* `quarantine list` over the control socket (issue 11): the filters the
 * command line parsed travel as one line and come back the same; a
 * word the queue does not know is refused, not ignored. */
#include <criterion/criterion.h>
#include <string.h>

#include "quarantine/listing.h"

static size_t split(char *line, char **words, size_t cap)
{
	size_t n = 0;
	for (char *save = NULL, *w = strtok_r(line, " ", &save); w && n < cap; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	return n;
}

Test(listing, filters_survive_the_control_line)
{
	struct qindex_filter f = { .from = "alice@", .to = "boss", .since = 1700000000, .has_min_score = true,
				   .min_score = -250 };
	char line[256], *words[16];
	cr_assert(listing_encode(&f, true, line, sizeof(line)));
	cr_assert_str_eq(line, "quarantine list json from=alice@ to=boss since=1700000000 min=-250");
	size_t n = split(line, words, 16);
	cr_assert_str_eq(words[1], "list");
	struct qindex_filter g;
	bool json;
	cr_assert(listing_decode(words + 2, n - 2, &g, &json));
	cr_assert(json);
	cr_assert_str_eq(g.from, "alice@");
	cr_assert_str_eq(g.to, "boss");
	cr_assert_eq(g.since, 1700000000);
	cr_assert(g.has_min_score);
	cr_assert_eq(g.min_score, -250);
}

Test(listing, unknown_or_malformed_words_are_refused)
{
	struct qindex_filter f;
	bool json;
	char *bad[][1] = { { "colour=red" }, { "since=-1" }, { "min=1.5" }, { "since=12x" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(listing_decode(bad[i], 1, &f, &json), "%s", bad[i][0]);
}

Test(listing, a_line_too_long_is_not_encoded)
{
	struct qindex_filter f = { .from = "someone@example.test" };
	char line[20];
	cr_assert_not(listing_encode(&f, false, line, sizeof(line)));
}
