/*
 * One HTTPS GET with the limits a policy fetch needs (RFC 8461 3.3,
 * TLS-8): certificate and host name verified (the system store or a CA
 * file), HTTPS only, no redirect followed, a status other than 200 is a
 * failure, the body bounded in size and the whole transfer in time, the
 * Content-Type checked. libcurl (easy interface).
 *
 * Blocking: call it from a worker thread (util/offload.h), never on an
 * event loop. https_get_init() must have run once, on the main thread,
 * before any worker calls https_get().
 */
#ifndef MW_NET_HTTPS_GET_H
#define MW_NET_HTTPS_GET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct https_get_req {
	const char *host;            /* the name in the URL, SNI and the certificate */
	unsigned port;
	const char *path;            /* "/.well-known/mta-sts.txt" */
	/* The host's addresses, already resolved (the gateway's own resolver,
	 * not the C library's): curl connects to these only. */
	const struct sockaddr_storage *addrs;
	size_t n_addrs;
	const char *ca_file;         /* NULL: the system store */
	unsigned timeout_ms;         /* the whole transfer, connect included */
	size_t max_size;             /* a larger body is a failure */
	const char *content_type;    /* required media type, parameters allowed */
	const atomic_bool *cancel;   /* set: the transfer ends early (shutdown); may be NULL */
};

bool https_get_init(void);
/* At exit, on the main thread, once no worker can call https_get(). */
void https_get_cleanup(void);

/* On success the body (NUL-terminated, *len without the NUL; the caller
 * frees it). On failure false and why. */
bool https_get(const struct https_get_req *r, char **body, size_t *len, char *why, size_t whylen);

#endif
