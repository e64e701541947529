/*
 * Asynchronous DNS on the process's event loop (c-ares): MX, A, AAAA, PTR
 * and TXT lookups that never block. Used by the queue (MX routing) and by
 * smtpd's scanner (reverse DNS, DNSBL, sender domains).
 *
 * Callbacks always run from the event loop, never inside the dns_query_*()
 * call that started them. Results live only during the callback.
 *
 * The resolver configuration is read when dns_new() runs: call it before
 * a chroot, or pass servers explicitly ("127.0.0.1:5353,[::1]:53").
 */
#ifndef MW_DNS_DNS_H
#define MW_DNS_DNS_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct dns;

enum dns_status {
	DNS_OK,
	DNS_NXDOMAIN,   /* the name does not exist */
	DNS_NODATA,     /* the name exists, no record of this type */
	DNS_TEMPFAIL,   /* timeout, SERVFAIL, no server reachable: try again later */
	DNS_BADNAME,    /* not a valid name to query */
};

const char *dns_status_name(enum dns_status st);

struct dns_mx {
	unsigned preference;
	char host[256];
};

/* The "nameserver" lines of /etc/resolv.conf as "a,[b],c" for dns_new,
 * "" if there are none: read before a chroot hides the file. */
void dns_system_servers(char *out, size_t cap);

/* servers NULL: the system's resolver configuration. timeout_ms per try. */
struct dns *dns_new(struct event_base *base, const char *servers, unsigned timeout_ms, unsigned tries);
/* Every query still pending gets its callback, DNS_TEMPFAIL, before this
 * returns (the one exception to "from the event loop"); a callback must
 * not start another query on d then. */
void dns_free(struct dns *d);

/* MX records sorted by preference (lowest first), at most the 64 lowest
 * of a longer answer; a null MX (RFC 7505) is returned as one record with
 * host "" (the "." target). */
typedef void (*dns_mx_cb)(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n);
void dns_query_mx(struct dns *d, const char *domain, dns_mx_cb cb, void *arg);

/* A (family AF_INET) or AAAA (AF_INET6) records; ports in addrs are 0. */
typedef void (*dns_addr_cb)(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n);
void dns_query_addr(struct dns *d, const char *name, int family, dns_addr_cb cb, void *arg);

/* PTR names for an address, or TXT strings of a name (each TXT record's
 * strings joined into one, as SPF and DNSBLs expect). */
typedef void (*dns_text_cb)(void *arg, enum dns_status st, char *const *texts, size_t n);
void dns_query_ptr(struct dns *d, const struct sockaddr *sa, dns_text_cb cb, void *arg);
void dns_query_txt(struct dns *d, const char *name, dns_text_cb cb, void *arg);

#endif
