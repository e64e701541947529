/* The counter block as Prometheus text (src/util/metrics.c,
 * src/util/metrics_text.c, issue 15). The system test parses the same
 * text with prometheus_client; here the exact lines and the bounds. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "util/metrics.h"
#include "util/metrics_text.h"

static char *render(const struct metrics_block *b, uint64_t now)
{
	static const char *const listeners[] = { "mta", "submission" };
	static const char *const checks[] = { "dkim", "rules" };
	static const char *const smtp_checks[] = { "iplist", "dnsbl" };
	const struct metrics_names names = { listeners, 2, checks, 2, smtp_checks, 2 };
	char *out = malloc(METRICS_TEXT_MAX);
	size_t len = metrics_text(b, &names, now, out, METRICS_TEXT_MAX);
	cr_assert(len > 0 && len < METRICS_TEXT_MAX);
	cr_assert_eq(strlen(out), len);
	return out;
}

Test(metrics_text, counters_gauges_and_sessions_by_listener)
{
	struct metrics_block b = { 0 };
	b.deliveries[HOP_MX][OUTCOME_DEFERRED] = 7;
	b.counter[M_REFUSED_SIZE] = 2;
	b.gauge[G_QUEUE_WAITING] = 3;
	b.gauge[G_QUEUE_OLDEST_ARRIVAL] = 1000;
	b.sessions_now[1] = 4;
	b.sessions_total[0] = 9;
	char *t = render(&b, 1060);
	cr_expect(strstr(t, "# TYPE mailwarden_deliveries_total counter\n"));
	cr_expect(strstr(t, "\nmailwarden_deliveries_total{status=\"deferred\",nexthop=\"mx\"} 7\n"));
	cr_expect(strstr(t, "\nmailwarden_deliveries_total{status=\"sent\",nexthop=\"smart_host\"} 0\n"));
	cr_expect(strstr(t, "\nmailwarden_messages_refused_total{reason=\"size\"} 2\n"));
	cr_expect(strstr(t, "\nmailwarden_queue_messages{state=\"waiting\"} 3\n"));
	cr_expect(strstr(t, "\nmailwarden_queue_oldest_message_age_seconds 60\n"));
	cr_expect(strstr(t, "\nmailwarden_sessions_open{listener=\"submission\"} 4\n"));
	cr_expect(strstr(t, "\nmailwarden_sessions_total{listener=\"mta\"} 9\n"));
	free(t);
}

Test(metrics_text, an_empty_queue_has_age_zero)
{
	struct metrics_block b = { 0 };
	char *t = render(&b, 1060);
	cr_expect(strstr(t, "\nmailwarden_queue_oldest_message_age_seconds 0\n"));
	free(t);
}

Test(metrics_text, histogram_buckets_are_cumulative_with_sum_and_count)
{
	struct metrics_block saved = *metrics_cells();
	memset(metrics_cells(), 0, sizeof(*metrics_cells()));
	metrics_observe_us(H_SPOOL_COMMIT, 500);        /* <= 1 ms */
	metrics_observe_us(H_SPOOL_COMMIT, 3000);       /* <= 5 ms */
	metrics_observe_us(H_SPOOL_COMMIT, 60000000);   /* +Inf */
	char *t = render(metrics_cells(), 0);
	cr_expect(strstr(t, "\nmailwarden_spool_commit_seconds_bucket{le=\"0.001000\"} 1\n"));
	cr_expect(strstr(t, "\nmailwarden_spool_commit_seconds_bucket{le=\"0.002000\"} 1\n"));
	cr_expect(strstr(t, "\nmailwarden_spool_commit_seconds_bucket{le=\"0.005000\"} 2\n"));
	cr_expect(strstr(t, "\nmailwarden_spool_commit_seconds_bucket{le=\"5.000000\"} 2\n"));
	cr_expect(strstr(t, "\nmailwarden_spool_commit_seconds_bucket{le=\"+Inf\"} 3\n"));
	cr_expect(strstr(t, "\nmailwarden_spool_commit_seconds_count 3\n"));
	cr_expect(strstr(t, "\nmailwarden_spool_commit_seconds_sum 60.003500\n"));
	free(t);
	*metrics_cells() = saved;
}

Test(metrics_text, a_bucket_bound_is_inclusive)
{
	cr_expect_eq(metrics_bucket_of(H_SPOOL_COMMIT, 1000), 0);
	cr_expect_eq(metrics_bucket_of(H_SPOOL_COMMIT, 1001), 1);
	cr_expect_eq(metrics_bucket_of(H_SPOOL_COMMIT, UINT64_MAX), METRICS_BUCKETS - 1);
}

Test(metrics_text, delivery_status_by_reply_code_and_next_hop)
{
	memset(metrics_cells(), 0, sizeof(*metrics_cells()));
	metrics_delivery(250, 0, HOP_MX, false);
	metrics_delivery(451, 0, HOP_MX, false);
	metrics_delivery(550, 0, HOP_LMTP, true);
	metrics_delivery(554, 0, HOP_LMTP, true);
	cr_expect_eq(metrics_cells()->deliveries[HOP_MX][OUTCOME_SENT], 1);
	cr_expect_eq(metrics_cells()->deliveries[HOP_MX][OUTCOME_DEFERRED], 1);
	cr_expect_eq(metrics_cells()->deliveries[HOP_LMTP][OUTCOME_BOUNCED], 2);
	cr_expect_eq(metrics_cells()->counter[M_DELIVERY_RETRIES], 2);
}

Test(metrics_text, check_durations_by_check_and_only_checks_that_ran)
{
	memset(metrics_cells(), 0, sizeof(*metrics_cells()));
	metrics_check_us(1, 80);      /* rules, <= 100 us */
	metrics_check_us(1, 3000);    /* <= 5 ms */
	metrics_check_us(METRICS_CHECKS + 3, 10);  /* no such check: ignored */
	metrics_smtp_check_us(1, 40000);  /* dnsbl, a DNS answer in 40 ms */
	metrics_smtp_check_us(METRICS_SMTP_CHECKS, 10);
	char *t = render(metrics_cells(), 0);
	cr_expect(strstr(t, "# TYPE mailwarden_check_duration_seconds histogram\n"));
	cr_expect(strstr(t, "\nmailwarden_check_duration_seconds_bucket{stage=\"content\",check=\"rules\",le=\"0.000100\"} 1\n"),
		  "%s", t);
	cr_expect(strstr(t, "\nmailwarden_check_duration_seconds_bucket{stage=\"content\",check=\"rules\",le=\"0.005000\"} 2\n"));
	cr_expect(strstr(t, "\nmailwarden_check_duration_seconds_count{stage=\"content\",check=\"rules\"} 2\n"));
	cr_expect(strstr(t, "\nmailwarden_check_duration_seconds_sum{stage=\"content\",check=\"rules\"} 0.003080\n"));
	cr_expect(strstr(t, "\nmailwarden_check_duration_seconds_bucket{stage=\"smtp\",check=\"dnsbl\",le=\"0.050000\"} 1\n"));
	cr_expect(strstr(t, "\nmailwarden_check_duration_seconds_bucket{stage=\"smtp\",check=\"dnsbl\",le=\"0.010000\"} 0\n"));
	cr_expect_null(strstr(t, "check=\"dkim\""), "dkim never ran");
	cr_expect_null(strstr(t, "check=\"iplist\""), "iplist never ran");
	free(t);
}

Test(metrics_text, a_small_buffer_fails_whole)
{
	struct metrics_block b = { 0 };
	char out[64];
	const struct metrics_names none = { 0 };
	cr_expect_eq(metrics_text(&b, &none, 0, out, sizeof(out)), 0);
}

Test(metrics, sessions_of_late_listeners_share_the_last_cell)
{
	memset(metrics_cells(), 0, sizeof(*metrics_cells()));
	metrics_session(METRICS_LISTENERS + 5, 1);
	metrics_session(METRICS_LISTENERS + 5, -1);
	cr_expect_eq(metrics_cells()->sessions_now[METRICS_LISTENERS - 1], 0);
	cr_expect_eq(metrics_cells()->sessions_total[METRICS_LISTENERS - 1], 1);
}

Test(metrics, tls_by_direction_and_version)
{
	memset(metrics_cells(), 0, sizeof(*metrics_cells()));
	metrics_tls(false, "TLSv1.3");
	metrics_tls(false, "TLSv1.2");
	metrics_tls(true, "TLSv1.3");
	metrics_tls(true, "TLSv1.1");
	metrics_tls(true, NULL);
	cr_expect_eq(metrics_cells()->counter[M_TLS_IN_13], 1);
	cr_expect_eq(metrics_cells()->counter[M_TLS_IN_12], 1);
	cr_expect_eq(metrics_cells()->counter[M_TLS_OUT_13], 1);
	cr_expect_eq(metrics_cells()->counter[M_TLS_OUT_OTHER], 2);
	char *t = render(metrics_cells(), 0);
	cr_expect(strstr(t, "\nmailwarden_tls_sessions_total{direction=\"outbound\",version=\"other\"} 2\n"));
	free(t);
}
