/* Events per client address in a fixed window (issue 18 item 4: TLS
 * handshakes per client and minute). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "net/rate.h"

Test(rate, limit_per_client_and_window)
{
	struct rate_table *t = rate_new();
	for (int i = 0; i < 3; i++)
		cr_assert(rate_allow(t, "192.0.2.1", 100, 3, 60));
	cr_assert_not(rate_allow(t, "192.0.2.1", 130, 3, 60), "a 4th in the window");
	cr_assert(rate_allow(t, "192.0.2.2", 130, 3, 60), "another client has its own count");
	cr_assert_not(rate_allow(t, "192.0.2.1", 159, 3, 60));
	cr_assert(rate_allow(t, "192.0.2.1", 160, 3, 60), "a new window");
	rate_free(t);
}

Test(rate, zero_means_no_limit)
{
	struct rate_table *t = rate_new();
	for (int i = 0; i < 1000; i++)
		cr_assert(rate_allow(t, "192.0.2.1", 100, 0, 60));
	rate_free(t);
}

Test(rate, a_flood_of_addresses_never_grows_the_table_and_fresh_ones_are_served)
{
	struct rate_table *t = rate_new();
	char addr[64];
	for (int i = 0; i < 5 * RATE_SLOTS; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		cr_assert(rate_allow(t, addr, 100 + i / 1000, 1, 60), "%s", addr);
	}
	rate_free(t);
}
