#include "queue/status_report.h"

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "queue/content_scan.h"
#include "util/metrics.h"

static const char *tls_mode(enum listener_tls t)
{
	switch (t) {
	case LISTENER_TLS_NONE: return "none";
	case LISTENER_TLS_STARTTLS: return "starttls";
	case LISTENER_TLS_IMPLICIT: return "implicit";
	}
	return "?";
}

static int64_t gauge(enum metric_gauge g)
{
	return (int64_t)__atomic_load_n(&metrics_cells()->gauge[g], __ATOMIC_RELAXED);
}

/* Open sessions on listener i (the metrics block counts the first
 * METRICS_LISTENERS). */
static int64_t sessions_on(size_t i)
{
	if (i >= METRICS_LISTENERS)
		return 0;
	return (int64_t)__atomic_load_n(&metrics_cells()->sessions_now[i], __ATOMIC_RELAXED);
}

static void print_listeners(FILE *out, const struct config *c)
{
	int64_t total = 0;
	for (size_t i = 0; i < c->n_listeners; i++) {
		const struct listener_cfg *l = &c->listeners[i];
		int64_t n = sessions_on(i);
		total += n;
		fprintf(out, "listener: name=%s address=%s port=%u tls=%s sessions=%lld\n", l->name, l->address,
			l->port, tls_mode(l->tls), (long long)n);
	}
	fprintf(out, "sessions: %lld\n", (long long)total);
}

void status_report_print(FILE *out, const struct config *c, const struct content_client *scanner)
{
	fprintf(out, "config: %s\n", c->source);
	fprintf(out, "config_sha256: %s\n", c->source_sha256[0] ? c->source_sha256 : "none (embedded default)");
	print_listeners(out, c);
	fprintf(out, "queue_ready: %lld\n", (long long)gauge(G_QUEUE_READY));
	fprintf(out, "queue_waiting: %lld\n", (long long)gauge(G_QUEUE_WAITING));
	fprintf(out, "queue_active: %lld\n", (long long)gauge(G_QUEUE_ACTIVE));
	fprintf(out, "queue_settling: %lld\n", (long long)gauge(G_QUEUE_SETTLING));
	fprintf(out, "queue_held: %lld\n", (long long)gauge(G_QUEUE_HELD));
	bool connected = false;
	size_t in_flight = 0;
	if (scanner)
		content_client_health(scanner, &connected, &in_flight);
	fprintf(out, "scanner: %s\n", connected ? "connected" : "not connected");
	fprintf(out, "scans_in_flight: %zu\n", in_flight);
}
