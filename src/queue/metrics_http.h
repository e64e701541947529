/*
 * The Prometheus endpoint (issue 15): GET /metrics on the socket the
 * master bound (master/metrics_socket.h), answered with the shared
 * counter block as text exposition format 0.0.4 (util/metrics_text.h).
 * Any other path is 404, any other method 405.
 *
 * Runs in the queue process, on a thread of libmicrohttpd's own: a
 * scrape reads the block with atomic loads and never touches the queue's
 * loop or its data; the queue only hands it the listener names (at start
 * and on reload) and the symbols of each verdict, under a lock. Bounded: a few connections at once,
 * each with a small memory pool and a short idle timeout, so a stuck or
 * hostile client on the endpoint's network cannot hold the queue's
 * memory or threads.
 */
#ifndef MW_QUEUE_METRICS_HTTP_H
#define MW_QUEUE_METRICS_HTTP_H

struct config;
struct metrics_http;
struct verdict;

/* Serve fd (a listening socket; owned from here on). NULL, logged, if
 * libmicrohttpd cannot start. */
struct metrics_http *metrics_http_start(int fd, const struct config *c);
/* The listener names of a reloaded configuration. */
void metrics_http_set_config(struct metrics_http *h, const struct config *c);
/* Count the symbols of a verdict for the top symbols family
 * (mailwarden_scan_symbol_hits_total). NULL h: no endpoint, nothing. */
void metrics_http_count_verdict(struct metrics_http *h, const struct verdict *v);
/* Stop the thread, close the socket. NULL is fine. */
void metrics_http_stop(struct metrics_http *h);

#endif
