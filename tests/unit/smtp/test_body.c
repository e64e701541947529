/* DATA end-of-data detection and dot-unstuffing (RFC 5321 4.1.1.4, 4.5.2),
 * and the refusal of bare CR / bare LF that stops SMTP smuggling. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "smtp/body.h"

struct decoded {
	char out[4096];
	size_t out_len;
	size_t used;        /* input bytes consumed in total */
	enum body_state state;
	bool nul;
};

/* Feed the input in pieces of `step` bytes, as the network might. */
static struct decoded decode(const char *in, size_t len, size_t step)
{
	struct decoded d = { 0 };
	struct body_decoder dec;
	body_decoder_init(&dec);
	size_t pos = 0;
	while (pos < len && !body_done(&dec) && !body_failed(&dec)) {
		size_t n = len - pos < step ? len - pos : step;
		size_t used;
		d.out_len += body_decode(&dec, in + pos, n, d.out + d.out_len, &used);
		pos += used;
		if (used < n)
			break;
	}
	d.used = pos;
	d.state = dec.state;
	d.nul = body_has_nul(&dec);
	return d;
}

#define DECODE(lit, step) decode(lit, sizeof(lit) - 1, step)

Test(body, simple_message_ends_at_crlf_dot_crlf)
{
	for (size_t step = 1; step <= 64; step++) {
		struct decoded d = DECODE("Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n", step);
		cr_assert_eq(d.state, BODY_END, "step %zu", step);
		cr_assert_eq(d.out_len, strlen("Subject: x\r\n\r\nhello\r\n"));
		cr_assert(memcmp(d.out, "Subject: x\r\n\r\nhello\r\n", d.out_len) == 0);
		/* The pipelined QUIT after the end is left for the command parser. */
		cr_assert_eq(d.used, strlen("Subject: x\r\n\r\nhello\r\n.\r\n"), "step %zu", step);
	}
}

Test(body, empty_message)
{
	struct decoded d = DECODE(".\r\n", 1);
	cr_assert_eq(d.state, BODY_END);
	cr_assert_eq(d.out_len, 0);
}

Test(body, leading_dots_are_unstuffed)
{
	struct decoded d = DECODE("..hidden\r\n...\r\n.x\r\n.\r\n", 3);
	cr_assert_eq(d.state, BODY_END);
	const char *want = ".hidden\r\n..\r\nx\r\n";
	cr_assert_eq(d.out_len, strlen(want));
	cr_assert(memcmp(d.out, want, d.out_len) == 0);
}

Test(body, dot_inside_a_line_is_kept)
{
	struct decoded d = DECODE("a.b\r\n a .\r\n.\r\n", 2);
	cr_assert_eq(d.state, BODY_END);
	cr_assert(memcmp(d.out, "a.b\r\n a .\r\n", d.out_len) == 0);
}

/* Issue 18 item 2: a NUL does not break the framing (the end of data is
 * still found, nothing after it is consumed) but is noted, wherever it is,
 * so that the session refuses the message. */
Test(body, nul_anywhere_in_the_content_is_noted_and_the_end_still_found)
{
	static const char *const cases[] = { "a\0b\r\n", "\0\r\n", ".\0\r\n", "x\r\n\0", "abc\r\n..\0\r\n" };
	static const size_t lens[] = { 5, 3, 4, 4, 10 };
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		for (size_t step = 1; step <= 8; step++) {
			char in[64];
			memcpy(in, cases[k], lens[k]);
			size_t n = lens[k];
			if (in[n - 1] == '\0')
				in[n++] = '\r', in[n++] = '\n';
			memcpy(in + n, ".\r\nQUIT\r\n", 9);
			struct decoded d = decode(in, n + 9, step);
			cr_assert_eq(d.state, BODY_END, "case %zu step %zu", k, step);
			cr_assert(d.nul, "case %zu step %zu: NUL not noted", k, step);
			cr_assert_eq(d.used, n + 3, "case %zu step %zu", k, step);
		}
}

Test(body, content_without_nul_is_not_flagged)
{
	struct decoded d = DECODE("a0b\r\n.\x01\r\n.\r\n", 1);
	cr_assert_eq(d.state, BODY_END);
	cr_assert_not(d.nul);
}

Test(body, nul_in_bdat_chunk_bytes_is_noted)
{
	struct body_decoder dec;
	body_decoder_init(&dec);
	body_note_nul(&dec, "abc\r\n", 5);
	cr_assert_not(body_has_nul(&dec));
	body_note_nul(&dec, "ab\0c", 4);
	cr_assert(body_has_nul(&dec));
}

/* Arrays, not pointers: Criterion hands parameters to a worker process. */
struct smuggle_case {
	char input[40];
	enum body_state expect;
};

/* Every "end of data" other than CRLF.CRLF is refused: the sequences used
 * by the SMTP smuggling attacks of 2023 and their variants. */
ParameterizedTestParameters(body, smuggling_sequences_are_refused)
{
	static struct smuggle_case cases[] = {
		{ "text\n.\nMAIL FROM:<x@y>\r\n", BODY_BARE_LF },
		{ "text\n.\r\nMAIL FROM:<x@y>\r\n", BODY_BARE_LF },
		{ "text\r\n.\nMAIL FROM:<x@y>\r\n", BODY_BARE_LF },
		{ "text\r.\rMAIL FROM:<x@y>\r\n", BODY_BARE_CR },
		{ "text\r\n.\rMAIL FROM:<x@y>\r\n", BODY_BARE_CR },
		{ "text\r.\r\nMAIL FROM:<x@y>\r\n", BODY_BARE_CR },
		{ "bare\nlf\r\n.\r\n", BODY_BARE_LF },
		{ "bare\rcr\r\n.\r\n", BODY_BARE_CR },
		{ "\n", BODY_BARE_LF },
		{ ".\n", BODY_BARE_LF },
	};
	return cr_make_param_array(struct smuggle_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct smuggle_case *c, body, smuggling_sequences_are_refused)
{
	for (size_t step = 1; step <= 8; step++) {
		struct decoded d = decode(c->input, strlen(c->input), step);
		cr_assert_eq(d.state, c->expect, "input %s step %zu: state %d", c->input, step, d.state);
		/* Nothing after the offending byte is consumed or reaches the spool. */
		cr_assert_leq(d.used, strlen(c->input));
		cr_assert_null(memmem(d.out, d.out_len, "MAIL", 4));
	}
}

Test(body, cr_split_across_reads_is_held_back)
{
	struct body_decoder dec;
	body_decoder_init(&dec);
	char out[8];
	size_t used;
	cr_assert_eq(body_decode(&dec, "ab\r", 3, out, &used), 2);
	cr_assert_eq(used, 3);
	/* The CR comes out only with its LF, so output never holds a bare CR. */
	cr_assert_eq(body_decode(&dec, "\n", 1, out, &used), 2);
	cr_assert(memcmp(out, "\r\n", 2) == 0);
}

Test(body, output_never_exceeds_input_plus_one)
{
	const char *in = "x\r\n..\r\n\r\n\r\n.\r\n";
	for (size_t split = 0; split <= strlen(in); split++) {
		struct body_decoder dec;
		body_decoder_init(&dec);
		char out[64];
		size_t used;
		size_t n1 = body_decode(&dec, in, split, out, &used);
		cr_assert_leq(n1, split + 1);
		size_t n2 = body_decode(&dec, in + used, strlen(in) - used, out, &used);
		cr_assert_leq(n2, strlen(in) + 1);
	}
}
