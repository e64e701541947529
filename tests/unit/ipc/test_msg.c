/* Typed IPC messages: round trips, and refusal of truncated, oversized,
 * unknown and trailing-garbage messages (fail closed). */
#include <criterion/criterion.h>
#include <string.h>

#include "ipc/msg.h"

static struct ipc_msg m, r;

Test(ipc_msg, round_trip)
{
	ipc_msg_init(&m, IPC_TXN_BEGIN, 42);
	ipc_put_str(&m, "session");
	ipc_put_u64(&m, 1234567890123ull);
	ipc_put_u32(&m, 7);
	cr_assert_not(m.bad);
	cr_assert(ipc_msg_decode(&r, m.data, m.len));
	cr_assert_eq(r.type, IPC_TXN_BEGIN);
	cr_assert_eq(r.reqid, 42);
	char s[64];
	cr_assert_str_eq(ipc_get_str(&r, s, sizeof(s)), "session");
	cr_assert_eq(ipc_get_u64(&r), 1234567890123ull);
	cr_assert_eq(ipc_get_u32(&r), 7);
	cr_assert(ipc_get_end(&r));
}

Test(ipc_msg, unknown_type_is_refused)
{
	ipc_msg_init(&m, 999, 1);
	cr_assert_not(ipc_msg_decode(&r, m.data, m.len));
}

Test(ipc_msg, reserved_bits_and_short_header_are_refused)
{
	ipc_msg_init(&m, IPC_TXN_OPEN, 1);
	m.data[2] = 1;
	cr_assert_not(ipc_msg_decode(&r, m.data, m.len));
	cr_assert_not(ipc_msg_decode(&r, m.data, IPC_HEADER_SIZE - 1));
	cr_assert_not(ipc_msg_decode(&r, m.data, IPC_MSG_MAX + 1));
}

Test(ipc_msg, truncated_payload_is_refused)
{
	ipc_msg_init(&m, IPC_TXN_RCPT, 3);
	ipc_put_str(&m, "user@example.test");
	for (size_t cut = IPC_HEADER_SIZE; cut < m.len; cut++) {
		cr_assert(ipc_msg_decode(&r, m.data, cut));
		char s[64];
		ipc_get_str(&r, s, sizeof(s));
		cr_assert_not(ipc_get_end(&r), "cut at %zu accepted", cut);
	}
}

Test(ipc_msg, bytes_left_over_are_refused)
{
	ipc_msg_init(&m, IPC_TXN_BEGIN, 3);
	ipc_put_u64(&m, 10);
	ipc_put_u32(&m, 0);
	cr_assert(ipc_msg_decode(&r, m.data, m.len));
	(void)ipc_get_u64(&r);
	cr_assert_not(ipc_get_end(&r));
}

Test(ipc_msg, string_with_nul_or_too_long_is_refused)
{
	ipc_msg_init(&m, IPC_TXN_RCPT, 3);
	ipc_put_str(&m, "ab");
	m.data[IPC_HEADER_SIZE + 4] = '\0';  /* 'a' becomes NUL */
	cr_assert(ipc_msg_decode(&r, m.data, m.len));
	char s[64];
	ipc_get_str(&r, s, sizeof(s));
	cr_assert_not(ipc_get_end(&r));

	ipc_msg_init(&m, IPC_TXN_RCPT, 3);
	ipc_put_str(&m, "abcdefgh");
	cr_assert(ipc_msg_decode(&r, m.data, m.len));
	ipc_get_str(&r, s, 4);  /* does not fit the reader's buffer */
	cr_assert_not(ipc_get_end(&r));
}

Test(ipc_msg, oversized_put_marks_the_message_bad)
{
	static char big[IPC_STRING_MAX + 2];
	memset(big, 'x', sizeof(big) - 1);
	ipc_msg_init(&m, IPC_TXN_RCPT, 3);
	ipc_put_str(&m, big);
	cr_assert(m.bad);
	ipc_msg_init(&m, IPC_TXN_RCPT, 3);
	big[IPC_STRING_MAX] = '\0';
	for (int i = 0; i < 20 && !m.bad; i++)
		ipc_put_str(&m, big);
	cr_assert(m.bad, "a message past IPC_MSG_MAX must be refused");
}

Test(ipc_msg, length_field_past_the_end_is_refused)
{
	ipc_msg_init(&m, IPC_TXN_RCPT, 3);
	ipc_put_u32(&m, 0xffffffffu);  /* a string length far past the end */
	cr_assert(ipc_msg_decode(&r, m.data, m.len));
	char s[64];
	ipc_get_str(&r, s, sizeof(s));
	cr_assert_not(ipc_get_end(&r));
}
