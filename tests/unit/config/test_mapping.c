/* config/mapping.c: table-driven mappings of fixed keys (issue 11), and
 * config/loader.c's loader_word(). The scan: section's loaders built on
 * them are tested end to end in tests/config (golden check-config
 * output) and tests/unit/scan. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <libfyaml.h>

#include "config/config.h"
#include "config/loader.h"
#include "config/mapping.h"

struct target {
	int a, b;
	bool c_called;
};

static struct config_errors errs;
static struct loader ld = { .file = "t.yaml", .errs = &errs };
static struct fy_document *doc;

static void fini(void)
{
	config_errors_free(&errs);
	fy_document_destroy(doc);
	doc = NULL;
}

TestSuite(mapping, .fini = fini);

static struct fy_node *parse(const char *yaml)
{
	doc = fy_document_build_from_string(NULL, yaml, FY_NT);
	cr_assert_not_null(doc);
	return fy_document_root(doc);
}

/* Records the line and name it was called with in the int field. */
static void load_line(struct loader *l, struct fy_node *v, const char *name, int kline, void *field)
{
	(void)l;
	(void)v;
	cr_assert(strncmp(name, "top.", 4) == 0, "name is the dotted key: %s", name);
	*(int *)field = kline;
}

static void load_c(struct loader *l, struct fy_node *v, const char *name, int kline, void *field)
{
	(void)l;
	(void)v;
	(void)name;
	(void)kline;
	((struct target *)field)->c_called = true;
}

static const struct mapping_key keys[] = {
	{ "a", load_line, offsetof(struct target, a) },
	{ "b", load_line, offsetof(struct target, b) },
	{ "c", load_c, 0 },
};

Test(mapping, each_key_goes_to_its_handler_at_its_offset)
{
	struct target t = { 0 };
	struct fy_node *v = parse("a: 1\nc: x\nb: 2\n");
	unsigned seen = MAPPING_LOAD(&ld, v, "top", 1, keys, &t);
	cr_assert_eq(t.a, 1);
	cr_assert_eq(t.b, 3);
	cr_assert(t.c_called);
	cr_assert_eq(seen, 7u);
	cr_assert_eq(errs.n, 0);
}

Test(mapping, an_unknown_key_is_reported_with_the_table_s_keys)
{
	struct target t = { 0 };
	struct fy_node *v = parse("b: 1\ncolour: blue\n");
	unsigned seen = MAPPING_LOAD(&ld, v, "top", 1, keys, &t);
	cr_assert_eq(seen, MAPPING_BIT(keys, "b"));
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(errs.items[0], "t.yaml:2: top.colour: unknown key (a, b, c)");
}

Test(mapping, a_key_that_is_not_a_plain_name_is_reported)
{
	struct target t = { 0 };
	struct fy_node *v = parse("a: 1\n[x]: 2\n");
	MAPPING_LOAD(&ld, v, "top", 1, keys, &t);
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(errs.items[0], "t.yaml:2: top: keys must be plain names");
}

Test(mapping, a_null_or_scalar_value_has_no_keys)
{
	struct target t = { 0 };
	cr_assert_eq(MAPPING_LOAD(&ld, NULL, "top", 1, keys, &t), 0u);
	cr_assert_eq(MAPPING_LOAD(&ld, parse("word"), "top", 1, keys, &t), 0u);
	cr_assert_eq(errs.n, 0);
}

Test(mapping, bits_name_the_table_s_entries)
{
	cr_assert_eq(MAPPING_BIT(keys, "a"), 1u);
	cr_assert_eq(MAPPING_BIT(keys, "c"), 4u);
	cr_assert_eq(MAPPING_BIT(keys, "d"), 0u);
	cr_assert_eq(mapping_find(keys, 3, "bb", 1), &keys[1]);
	cr_assert_null(mapping_find(keys, 3, "ab", 2));
}

static const char *const words[] = { "off", "score", "refuse" };

Test(mapping, loader_word_finds_the_index_or_lists_the_words)
{
	struct fy_node *v = parse("x: refuse\ny: block\nz: [off]\n");
	cr_assert_eq(loader_word(&ld, fy_node_by_path(v, "/x", -1, FYNWF_DONT_FOLLOW), "x", 1, words, 3), 2);
	cr_assert_eq(loader_word(&ld, fy_node_by_path(v, "/y", -1, FYNWF_DONT_FOLLOW), "y", 2, words, 3), -1);
	cr_assert_eq(loader_word(&ld, fy_node_by_path(v, "/z", -1, FYNWF_DONT_FOLLOW), "z", 3, words, 3), -1);
	cr_assert_eq(errs.n, 2);
	cr_assert_str_eq(errs.items[0], "t.yaml:2: y: must be one of: off, score, refuse");
	cr_assert_str_eq(errs.items[1], "t.yaml:3: z: expected a single value, not a list");
}
