/*
 * MX ordering (RFC 5321 5.1, RFC 7505): from the MX records of a domain to
 * the list of hosts to try, in order. Pure; runs in the queue process.
 *
 * - no MX record (the name exists, DNS_NODATA): the domain itself is the
 *   one host, as if it had an MX of preference 0 ("implicit MX");
 * - a null MX (one record with target "."): the domain accepts no mail,
 *   a permanent failure (RFC 7505 3.);
 * - otherwise by preference, lowest first; records of equal preference
 *   shuffled when rnd is given (RFC 5321 5.1 spreads the load), else in
 *   the order DNS gave them; a host listed twice is tried once;
 * - if our own name is among them, every host of that preference or a
 *   higher one is dropped (we would deliver to ourselves); if nothing is
 *   left, mail for the domain loops back to us;
 * - a target that is an IP address ("192.0.2.1", "[192.0.2.1]") is no
 *   host name (RFC 1035 3.3.9) and is skipped, as Postfix and Exim do:
 *   DNS garbage must not choose an address, loopback included; if only
 *   such targets are left, the domain has no usable MX (MX_IP_LITERAL).
 * Addresses that are ourselves are judged later (queue/mx_self.h).
 */
#ifndef MW_QUEUE_MX_H
#define MW_QUEUE_MX_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/dns.h"

#define MX_HOSTS_MAX 10

enum mx_result { MX_OK, MX_NULL, MX_LOOP, MX_IP_LITERAL };

struct mx_plan {
	char hosts[MX_HOSTS_MAX][256];
	unsigned preference[MX_HOSTS_MAX];
	size_t n;
	unsigned ip_literals;     /* targets skipped as IP addresses */
};

/* mx/n: records as dns_query_mx gives them (n == 0: no MX, use domain).
 * self: our hostname (case is ignored). rnd: a random number source for
 * the shuffle, or NULL. */
enum mx_result mx_plan(const struct dns_mx *mx, size_t n, const char *domain, const char *self,
		       unsigned (*rnd)(void), struct mx_plan *out);

#endif
