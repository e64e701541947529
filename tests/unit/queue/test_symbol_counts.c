/* The top scan symbols for the metrics (issue 15), bounded whatever the
 * names. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/symbol_counts.h"

Test(symbol_counts, the_most_frequent_come_first)
{
	struct symbol_counts *s = calloc(1, sizeof(*s));
	for (int i = 0; i < 5; i++)
		symbol_counts_add(s, "BAYES_99");
	for (int i = 0; i < 2; i++)
		symbol_counts_add(s, "RDNS_NONE");
	symbol_counts_add(s, "HTML_MESSAGE");
	symbol_counts_add(s, "DKIM_VALID");
	struct symbol_count top[3];
	cr_assert_eq(symbol_counts_top(s, top, 3), 3);
	cr_assert_str_eq(top[0].name, "BAYES_99");
	cr_assert_eq(top[0].hits, 5);
	cr_assert_str_eq(top[1].name, "RDNS_NONE");
	cr_assert_str_eq(top[2].name, "DKIM_VALID", "ties by name");
	free(s);
}

Test(symbol_counts, made_up_names_beyond_the_table_count_as_other)
{
	struct symbol_counts *s = calloc(1, sizeof(*s));
	char name[32];
	for (int i = 0; i < SYMBOL_COUNTS_MAX + 100; i++) {
		snprintf(name, sizeof(name), "X_%d", i);
		symbol_counts_add(s, name);
	}
	symbol_counts_add(s, "X_0");
	cr_assert_eq(s->used, SYMBOL_COUNTS_MAX);
	cr_assert_eq(s->other, 100);
	struct symbol_count top[1];
	cr_assert_eq(symbol_counts_top(s, top, 1), 1);
	cr_assert_str_eq(top[0].name, "X_0");
	cr_assert_eq(top[0].hits, 2);
	free(s);
}

Test(symbol_counts, long_names_are_cut_and_empty_ones_ignored)
{
	struct symbol_counts *s = calloc(1, sizeof(*s));
	symbol_counts_add(s, "A_VERY_LONG_SYMBOL_NAME_THAT_GOES_ON_AND_ON");
	symbol_counts_add(s, "");
	symbol_counts_add(s, "a\"b}\n");
	struct symbol_count top[4];
	cr_assert_eq(symbol_counts_top(s, top, 4), 2);
	cr_assert_eq(strlen(top[0].name) + strlen(top[1].name), 31 + 5);
	cr_assert(strcmp(top[0].name, "a_b__") == 0 || strcmp(top[1].name, "a_b__") == 0);
	free(s);
}
