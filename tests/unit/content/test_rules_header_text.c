/* The header texts a message's header rules match, made once per field and
 * mode (issue 11, content scanning speed; content/rules_header_text.h):
 * each key (field name as written, mode, folds kept) gets exactly what
 * header_text_make() gives, however many rules ask and in which order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/mime.h"
#include "content/rules_header_text.h"

static const char hdr[] = "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= and\r\n more\r\n"
			  "From: Someone <a@b.example>, c@d.example\r\n"
			  "Content-Type: text/plain;\r\n  charset=utf-8\r\n"
			  "To: x@y.example\r\nCc: z@y.example\r\nsubject: second\r\n";

static struct rule rule_on(const char *field, enum header_mode mode, enum rule_kind kind)
{
	return (struct rule){ .kind = kind, .header = (char *)field, .mode = mode };
}

static struct rules_input input(void)
{
	return (struct rules_input){ .full = hdr, .full_len = strlen(hdr), .header = hdr, .header_len = strlen(hdr) };
}

/* The cached text of r equals the text made anew; NULL for both if absent. */
static void assert_same(struct header_texts *t, const struct rule *r)
{
	size_t len = 99;
	const char *cached = header_texts_get(t, r, &len);
	char *made = header_text_make(r, &t->fields, t->in);
	if (!made) {
		cr_assert_null(cached, "%s mode %d: absent", r->header, (int)r->mode);
	} else {
		cr_assert_not_null(cached, "%s mode %d", r->header, (int)r->mode);
		cr_assert_str_eq(cached, made);
		cr_assert_eq(len, strlen(made));
	}
	free(made);
}

TestSuite(rules_header_text, .init = mime_prepare);

Test(rules_header_text, each_field_and_mode_has_its_own_text)
{
	struct rules_input in = input();
	struct header_texts t;
	header_texts_init(&t, &in);
	struct rule rules[] = {
		rule_on("Subject", HDR_DECODED, RULE_HEADER),    rule_on("Subject", HDR_RAW, RULE_HEADER),
		rule_on("subject", HDR_DECODED, RULE_HEADER),    rule_on("From", HDR_ADDR, RULE_HEADER),
		rule_on("From", HDR_DECODED, RULE_HEADER),       rule_on("ToCc", HDR_DECODED, RULE_HEADER),
		rule_on("Content-Type", HDR_RAW, RULE_HEADER),   rule_on("Content-Type", HDR_RAW, RULE_MIMEHEADER),
		rule_on("X-Absent", HDR_DECODED, RULE_HEADER),   rule_on("X-Absent", HDR_ADDR, RULE_HEADER),
	};
	size_t n = sizeof(rules) / sizeof(rules[0]);
	for (int round = 0; round < 2; round++)  /* the second round from the cache */
		for (size_t i = 0; i < n; i++)
			assert_same(&t, &rules[round ? n - 1 - i : i]);
	size_t len;
	cr_assert_str_eq(header_texts_get(&t, &rules[0], &len), "Grüße and more\nsecond\n");
	cr_assert_str_eq(header_texts_get(&t, &rules[3], &len), "a@b.example");
	cr_assert_str_eq(header_texts_get(&t, &rules[6], &len), "text/plain; charset=utf-8\n", "unfolded");
	cr_assert_str_eq(header_texts_get(&t, &rules[7], &len), "text/plain;\n  charset=utf-8\n",
			 "a raw mimeheader value keeps its folds");
	header_texts_free(&t);
}

/* Many fields: the table grows and keeps every text. */
Test(rules_header_text, many_fields_survive_the_table_growing)
{
	char big[20000];
	size_t used = 0;
	for (int i = 0; i < 300; i++)
		used += (size_t)snprintf(big + used, sizeof(big) - used, "X-F%d: value %d\r\n", i, i);
	struct rules_input in = { .full = big, .full_len = used, .header = big, .header_len = used };
	struct header_texts t;
	header_texts_init(&t, &in);
	char names[300][16];
	struct rule rules[300];
	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "X-F%d", i);
		rules[i] = rule_on(names[i], HDR_DECODED, RULE_HEADER);
		size_t len;
		cr_assert_not_null(header_texts_get(&t, &rules[i], &len));
	}
	for (int i = 0; i < 300; i++) {
		char want[32];
		snprintf(want, sizeof(want), "value %d\n", i);
		size_t len;
		cr_assert_str_eq(header_texts_get(&t, &rules[i], &len), want);
		cr_assert_eq(len, strlen(want));
	}
	header_texts_free(&t);
}
