/*
 * MX ordering. See mx.h.
 */
#include "queue/mx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"

/* Host names compare without case and without a trailing dot. */
static bool same_host(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* "192.0.2.1", "2001:db8::1" or "[...]": an address where RFC 1035 3.3.9
 * wants a host name. */
static bool ip_literal(const char *host)
{
	char text[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t len = strlen(host);
	if (host[0] == '[')
		return true;
	if (len && host[len - 1] == '.')
		len--;
	if (len >= sizeof(text))
		return false;
	memcpy(text, host, len);
	text[len] = '\0';
	return inet_pton(AF_INET, text, bin) == 1 || inet_pton(AF_INET6, text, bin) == 1;
}

enum mx_result mx_plan(const struct dns_mx *mx, size_t n, const char *domain, const char *self,
		       unsigned (*rnd)(void), struct mx_plan *out)
{
	out->n = 0;
	out->ip_literals = 0;
	if (n == 0) {
		snprintf(out->hosts[0], sizeof(out->hosts[0]), "%s", domain);
		out->preference[0] = 0;
		out->n = 1;
		return MX_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (mx[i].host[0] == '\0' || strcmp(mx[i].host, ".") == 0)
			return MX_NULL;
	/* Stable sort of indices by preference (n is small). */
	size_t *idx = xcalloc(n, sizeof(*idx));
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j > 0 && mx[idx[j - 1]].preference > mx[i].preference) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	/* Fisher-Yates within each run of equal preference. */
	for (size_t a = 0; rnd && a < n;) {
		size_t b = a;
		while (b < n && mx[idx[b]].preference == mx[idx[a]].preference)
			b++;
		for (size_t left = b - a; left > 1; left--) {  /* the run's last `left` slots */
			size_t k = a + left - 1, r = a + rnd() % left, t = idx[k];
			idx[k] = idx[r];
			idx[r] = t;
		}
		a = b;
	}
	unsigned self_pref = 0;
	bool self_listed = false;
	for (size_t i = 0; i < n; i++)
		if (self && same_host(mx[idx[i]].host, self) && (!self_listed || mx[idx[i]].preference < self_pref)) {
			self_pref = mx[idx[i]].preference;
			self_listed = true;
		}
	for (size_t i = 0; i < n && out->n < MX_HOSTS_MAX; i++) {
		const struct dns_mx *m = &mx[idx[i]];
		if (self_listed && m->preference >= self_pref)
			break;
		bool dup = false;
		for (size_t k = 0; k < out->n && !dup; k++)
			dup = same_host(out->hosts[k], m->host);
		if (dup)
			continue;
		if (ip_literal(m->host)) {
			out->ip_literals++;
			continue;
		}
		snprintf(out->hosts[out->n], sizeof(out->hosts[0]), "%s", m->host);
		out->preference[out->n++] = m->preference;
	}
	free(idx);
	if (out->n > 0)
		return MX_OK;
	return out->ip_literals ? MX_IP_LITERAL : MX_LOOP;
}
