/*
 * The metrics endpoint on libmicrohttpd; see metrics_http.h.
 */
#include "queue/metrics_http.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "config/config.h"
#include "content/check.h"
#include "queue/symbol_counts.h"
#include "scan/scan.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/metrics_text.h"
#include "verdict/verdict.h"

#define HTTP_CONNECTIONS 8            /* scrapers at once; more wait in the backlog */
#define HTTP_IDLE_TIMEOUT 10          /* seconds */
#define HTTP_CONNECTION_MEMORY 16384  /* per connection: a GET's request line and headers */
#define LISTENER_NAME_MAX 33          /* config/lists.c: 32 bytes */
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define TOP_SYMBOLS 25                /* symbols shown, the most frequent */

struct metrics_http {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;             /* guards the names: the loop writes, the thread reads */
	char names[METRICS_LISTENERS][LISTENER_NAME_MAX];
	size_t n_names;
	struct symbol_counts *symbols;    /* guarded by lock too */
};

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body, size_t len,
			      enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* printf at text[*at], size bytes in all; false (nothing counted) if it
 * does not fit. */
__attribute__((format(printf, 4, 5))) static bool append(char *text, size_t size, size_t *at, const char *fmt,
							 ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(text + *at, size - *at, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= size - *at)
		return false;
	*at += (size_t)k;
	return true;
}

/* The top symbols family after the block's text; false if it does not fit. */
static bool put_symbols(struct metrics_http *h, char *text, size_t *len, size_t size)
{
	struct symbol_count top[TOP_SYMBOLS];
	pthread_mutex_lock(&h->lock);
	size_t n = symbol_counts_top(h->symbols, top, TOP_SYMBOLS);
	uint64_t other = h->symbols->other;
	pthread_mutex_unlock(&h->lock);
	static const char name[] = "mailwarden_scan_symbol_hits_total";
	bool ok = append(text, size, len,
			 "# HELP %s Verdict symbols that hit, the %d most frequent (names past the first %d "
			 "distinct ones count as \"%s\").\n# TYPE %s counter\n",
			 name, TOP_SYMBOLS, SYMBOL_COUNTS_MAX, SYMBOL_COUNTS_OTHER, name);
	for (size_t i = 0; ok && i < n; i++)  /* names are [A-Z0-9_]: no escaping */
		ok = append(text, size, len, "%s{symbol=\"%s\"} %" PRIu64 "\n", name, top[i].name, top[i].hits);
	if (ok && other)
		ok = append(text, size, len, "%s{symbol=\"%s\"} %" PRIu64 "\n", name, SYMBOL_COUNTS_OTHER, other);
	return ok;
}

/* GET /metrics: render the block with the names as the queue last set them. */
static enum MHD_Result scrape(struct metrics_http *h, struct MHD_Connection *conn)
{
	char names[METRICS_LISTENERS][LISTENER_NAME_MAX];
	const char *name_of[METRICS_LISTENERS];
	pthread_mutex_lock(&h->lock);
	size_t n = h->n_names;
	memcpy(names, h->names, sizeof(names));
	pthread_mutex_unlock(&h->lock);
	for (size_t i = 0; i < n; i++)
		name_of[i] = names[i];
	char *text = malloc(METRICS_TEXT_MAX);
	if (!text)
		return MHD_NO;
	const char *check_of[METRICS_CHECKS];
	size_t n_checks = content_n_checks < METRICS_CHECKS ? content_n_checks : METRICS_CHECKS;
	for (size_t i = 0; i < n_checks; i++)
		check_of[i] = content_checks[i]->name;
	const char *smtp_check_of[METRICS_SMTP_CHECKS];
	size_t n_smtp = scan_n_checks < METRICS_SMTP_CHECKS ? scan_n_checks : METRICS_SMTP_CHECKS;
	for (size_t i = 0; i < n_smtp; i++)
		smtp_check_of[i] = scan_checks[i]->name;
	struct metrics_names names_of = { name_of, n, check_of, n_checks, smtp_check_of, n_smtp };
	size_t len = metrics_text(metrics_cells(), &names_of, (uint64_t)time(NULL), text, METRICS_TEXT_MAX);
	if (len == 0 || !put_symbols(h, text, &len, METRICS_TEXT_MAX)) {
		free(text);
		static const char failed[] = "metrics do not fit the buffer\n";
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, failed, sizeof(failed) - 1, MHD_RESPMEM_PERSISTENT,
			      "text/plain");
	}
	return answer(conn, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE, CONTENT_TYPE);
}

static enum MHD_Result on_request(void *arg, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **state)
{
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char not_allowed[] = "only GET\n";
	if (*upload_size) /* a request body is never wanted: refuse rather than buffer it */
		return MHD_NO;
	if (strcmp(url, "/metrics") != 0)
		return answer(conn, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT,
			      "text/plain");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed, sizeof(not_allowed) - 1,
			      MHD_RESPMEM_PERSISTENT, "text/plain");
	return scrape(arg, conn);
}

void metrics_http_count_verdict(struct metrics_http *h, const struct verdict *v)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < v->n; i++)
		symbol_counts_add(h->symbols, v->symbols[i].name);
	pthread_mutex_unlock(&h->lock);
}

void metrics_http_set_config(struct metrics_http *h, const struct config *c)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->n_names = c->n_listeners < METRICS_LISTENERS ? c->n_listeners : METRICS_LISTENERS;
	for (size_t i = 0; i < h->n_names; i++)
		snprintf(h->names[i], sizeof(h->names[i]), "%s", c->listeners[i].name);
	pthread_mutex_unlock(&h->lock);
}

struct metrics_http *metrics_http_start(int fd, const struct config *c)
{
	struct metrics_http *h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->symbols = xcalloc(1, sizeof(*h->symbols));
	metrics_http_set_config(h, c);
	h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request, h,
				     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
				     MHD_OPTION_END);
	if (!h->daemon) {
		log_event(LOG_ERR, "metrics_error", "msg", "the metrics endpoint could not be started", NULL);
		close(fd);
		pthread_mutex_destroy(&h->lock);
		free(h->symbols);
		free(h);
		return NULL;
	}
	log_event(LOG_INFO, "metrics_ready", "listen", c->metrics.listen ? c->metrics.listen : "inherited", NULL);
	return h;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->lock);
	free(h->symbols);
	free(h);
}
