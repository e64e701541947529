/*
 * libFuzzer target: the two ways of matching rules (issue 11, fast
 * matching; content/rules_fast.h) on a hostile message. A fixed rule set
 * with a pattern of each kind Hyperscan takes exactly, as a prefilter and
 * not at all, counted rules and metas on the counts, is matched with its
 * Hyperscan databases and with PCRE2 alone over the input (header section
 * up to the first empty line, the rest as one body paragraph, rawbody,
 * and URI); the target aborts when the two disagree on any reported rule.
 * Look-alike ReplaceTags rules run through their supersets
 * (content/rules_superset.c), rules over 2 kB through a prefix of them
 * (content/rules_prefix.c): a miss of either would show here too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/mime.h"
#include "content/rules.h"

static const char RULES[] =
	"header H_SUBJ Subject =~ /\\bfree\\b/i\n"
	"header H_NEG From !~ /\\@/\n"
	"header H_UNSET X-M =~ /^u/ [if-unset: unset]\n"
	"header H_ADDR From:addr =~ /\\@example\\.(?:com|org)$/\n"
	"header H_ALL ALL =~ /^X-\\w+:\\s*\\d+$/m\n"
	"header H_ALL_BACKREF ALL =~ /^(\\w+):.*\\n\\1:/m\n"
	"body B_WORD /\\bwin(?:ner)?\\b/i\n"
	"body B_DOT /a.b/s\n"
	"body B_LOOK /money(?! back)/\n"
	"body B_REF /(\\w)\\1\\1/\n"
	"body B_EMPTY /z*/\n"
	"body __B_NUM /\\d+/\n"
	"tflags __B_NUM multiple maxhits=9\n"
	"meta B_NUMS __B_NUM > 3\n"
	"body __B_NUM_LOOK /\\d(?=x)/\n"
	"tflags __B_NUM_LOOK multiple\n"
	"meta B_NUMS_LOOK __B_NUM_LOOK == 2\n"
	"rawbody R_TAG /<\\s*a\\s[^>]{0,50}href/i\n"
	"full F_END /\\n\\.\\r?\\n/\n"
	"uri U_IP /^https?:\\/\\/\\d+\\.\\d+/\n";

/* A look-alike tag over 256 bytes, as Debian's <A> ... <Z> are. */
static void write_tag(FILE *f, char letter, char digit, unsigned latin1)
{
	fprintf(f, "replace_tag %c (?:[%c%c%c\\x%02x]|[\\xc3][\\xa0-\\xa5]", letter - 32, letter, letter - 32, digit,
		latin1);
	for (unsigned k = 0x80; k < 0x98; k++)
		fprintf(f, "|[\\xf0][\\x9d](?:[\\x%02x][\\x%02x])", k, 0x80 + (letter - 'a'));
	fprintf(f, "|&\\#(?:%u|x%x);)\n", (unsigned)letter, (unsigned)letter);
}

static const char LOOK_ALIKE_RULES[] =
	"replace_inter W1 \\W?\n"
	"body L_ABC /(?:^|\\s)<inter W1><A><B><C>\\b/i\n"
	"header L_SUBJ Subject =~ /<C><A><B>/\n"
	"rawbody __L_COUNT /<A>\\d/\n"
	"tflags __L_COUNT multiple\n"
	"meta L_COUNTS __L_COUNT == 2\n"
	"replace_rules L_ABC L_SUBJ __L_COUNT\n";

/* Rules too long to take whole, as Debian's __FILL_THIS_FORM_* are: a
 * repeated group, a sequence ending in repeated blanks, a counted one. */
static void write_long(FILE *f)
{
	char words[4096] = "";
	for (int i = 0; i < 70; i++)
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%sfield%03d_of_a_long_form_to_fill", i ? "|" : "", i);
	fprintf(f, "body G_FORM /(?:(?:your\\s)?(?:name|%s)(?:[-=_.,:;*\\s]|&\\#\\d{1,3};){1,100}){3}/i\n", words);
	fprintf(f, "body G_TAIL /(?=\\w)your\\s(?:name|%s)\\s?(?:[-=_.:*\\s]|&\\#\\d{1,3};){3,100}$/im\n", words);
	fprintf(f, "rawbody __G_RAW /^\\s?(?:name|%s)[:\\s]{1,100}$/im\ntflags __G_RAW multiple\n", words);
	fputs("meta G_RAWS __G_RAW == 2\n", f);
}

static struct rule_set *rules;

static void on_hit(void *arg, const char *name, int points, const char *describe)
{
	(void)points;
	(void)describe;
	char *list = arg;
	size_t used = strlen(list);
	snprintf(list + used, 1024 - used, "%s ", name);
}

static void load(void)
{
	mime_prepare();  /* header rules decode RFC 2047 with GMime */
	char path[] = "/tmp/fuzz_rules_fast-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f)
		abort();
	fputs(RULES, f);
	write_tag(f, 'a', '4', 0xe4);
	write_tag(f, 'b', '8', 0xdf);
	write_tag(f, 'c', '(', 0xe7);
	fputs(LOOK_ALIKE_RULES, f);
	write_long(f);
	if (fclose(f) != 0)
		abort();
	char err[512];
	const char *p = path;
	rules = rules_load(&p, 1, err, sizeof(err));
	unlink(path);
	if (!rules || !rules_compile_fast(rules, NULL, err, sizeof(err)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules)
		load();
	const char *msg = (const char *)data;
	const char *blank = memmem(msg, size, "\n\n", 2);
	size_t hlen = blank ? (size_t)(blank - msg) + 1 : size;
	const char *body[] = { msg + hlen };
	size_t body_len[] = { size - hlen };
	struct rules_input in = { .full = msg, .full_len = size, .header = msg, .header_len = hlen,
				  .body = body, .body_len = body_len, .n_body = 1, .rawbody = body,
				  .rawbody_len = body_len, .n_rawbody = 1, .uri = body, .uri_len = body_len, .n_uri = 1 };
	char fast[1024] = "", pcre[1024] = "";
	rules_pcre_only(rules, false);
	rules_match(rules, &in, on_hit, fast);
	rules_pcre_only(rules, true);
	rules_match(rules, &in, on_hit, pcre);
	if (strcmp(fast, pcre) != 0)
		abort();
	return 0;
}
