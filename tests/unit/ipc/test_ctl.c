/* The control channel's Bayes sample (issue 11, scan.bayes_autolearn):
 * round trip, and refusal of more hashes than the receiver takes, of a
 * bad class, of an empty id, of a descriptor and of trailing bytes. */
#include <criterion/criterion.h>
#include <string.h>

#include "ipc/ctl.h"

static struct ipc_msg m, r;
static uint64_t h[CTL_SAMPLE_TOKENS_MAX], got[CTL_SAMPLE_TOKENS_MAX];
static char id[CTL_SAMPLE_ID_MAX];

static bool decode(size_t cap, bool *spam, size_t *n)
{
	cr_assert(ipc_msg_decode(&r, m.data, m.len));
	return ctl_get_bayes_sample(&r, -1, spam, id, sizeof(id), got, cap, n);
}

Test(ctl, bayes_sample_round_trip)
{
	for (size_t i = 0; i < 3000; i++)
		h[i] = i * 0x9e3779b97f4a7c15ull;
	ctl_put_bayes_sample(&m, true, "<x@example.test>", h, 3000);
	cr_assert_not(m.bad);
	bool spam = false;
	size_t n = 0;
	cr_assert(decode(3000, &spam, &n));
	cr_assert(spam);
	cr_assert_eq(n, 3000);
	cr_assert_str_eq(id, "<x@example.test>");
	cr_assert_eq(memcmp(h, got, 3000 * sizeof(uint64_t)), 0);
}

Test(ctl, bayes_sample_bounds)
{
	bool spam;
	size_t n;
	ctl_put_bayes_sample(&m, false, "id", h, 10);
	cr_assert_not(decode(9, &spam, &n), "more hashes than the receiver takes");
	cr_assert(decode(10, &spam, &n) && !spam && n == 10);
	cr_assert(ipc_msg_decode(&r, m.data, m.len));
	cr_assert_not(ctl_get_bayes_sample(&r, 5, &spam, id, sizeof(id), got, 10, &n), "a descriptor");
	ctl_put_bayes_sample(&m, false, "", h, 1);
	cr_assert_not(decode(10, &spam, &n), "an empty id");
	ipc_msg_init(&m, IPC_BAYES_SAMPLE, 0);
	ipc_put_u32(&m, 2);
	ipc_put_str(&m, "id");
	ipc_put_u32(&m, 0);
	cr_assert_not(decode(10, &spam, &n), "class 2");
	ctl_put_bayes_sample(&m, true, "id", h, 1);
	ipc_put_u32(&m, 7);
	cr_assert_not(decode(10, &spam, &n), "trailing bytes");
}
