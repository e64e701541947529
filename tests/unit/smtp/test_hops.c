/*
 * Unit tests for smtp/hops.c: trace fields of the header block are
 * counted however the bytes are split, and nothing after the header
 * block counts (case 72 of the attack catalogue, issue 14).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "smtp/hops.h"

static unsigned count_in_pieces(const char *msg, size_t piece)
{
	struct hops h = { 0 };
	size_t len = strlen(msg);
	for (size_t i = 0; i < len; i += piece)
		hops_feed(&h, msg + i, len - i < piece ? len - i : piece);
	return h.count;
}

static const char MSG[] =
	"Received: from a by b\r\n"
	"\tid 1\r\n"
	"RECEIVED: from c\r\n"
	"Delivered-To: u@local.test\r\n"
	"X-Received: no\r\n"
	"Subject: Received: no\r\n"
	"\r\n"
	"Received: in the body does not count\r\n";

Test(hops, counts_trace_fields_of_the_header_block_only)
{
	for (size_t piece = 1; piece <= sizeof(MSG); piece++)
		cr_assert_eq(count_in_pieces(MSG, piece), 3, "piece size %zu", piece);
}

Test(hops, a_loop_is_more_than_hops_max)
{
	struct hops h = { 0 };
	for (int i = 0; i < HOPS_MAX; i++)
		hops_feed(&h, "Received: x\r\n", 13);
	cr_assert(!hops_loop(&h));
	hops_feed(&h, "Delivered-To: y\r\n", 17);
	cr_assert(hops_loop(&h));
}

Test(hops, a_bare_lf_empty_line_also_ends_the_header_block)
{
	cr_assert_eq(count_in_pieces("Received: a\n\nReceived: b\n", 4), 1);
}
