/*
 * Relay analysis for the rules (issue 11; content/relays.h): the rule
 * files' trusted_networks and internal_networks lines, the pseudo-headers
 * X-Spam-Relays-* served to header rules, and SpamAssassin's RelayEval
 * tests on the relays, in our own code:
 *
 *   check_all_trusted()          every relay is trusted (and there is one)
 *   check_no_relays()            no Received field names a relay
 *   check_relays_unparseable()   a Received field we could not read
 *   helo_ip_mismatch()           an untrusted public relay greeted with a
 *                                public IPv4 address outside its own /24
 *   check_for_no_rdns_dotcom_helo()
 *                                an untrusted public relay without reverse
 *                                DNS (its MTA looked) greeted as a big
 *                                free-mail or ISP domain
 *   check_for_forged_received_trail()
 *                                more than one untrusted hand-over whose
 *                                receiver ("by") is not the domain the next
 *                                relay's sender had: a made-up chain
 *
 * Runs in the scanner's worker threads, one message each; the relays are
 * read once per message by rules_match (in->relays).
 */
#include "content/rules_impl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/relays.h"
#include "util/alloc.h"

/* The room a pseudo-header's value gets: RELAYS_MAX relays of some 200 bytes. */
#define RELAYS_TEXT_MAX 32768

/* --- rule file settings --------------------------------------------------------- */

bool rules_relay_setting(struct rule_set *rs, const char *file, int line, const char *kw, char *args)
{
	struct cidr_list *l = strcmp(kw, "trusted_networks") == 0  ? &rs->trusted_networks :
			      strcmp(kw, "internal_networks") == 0 ? &rs->internal_networks : NULL;
	if (!l)
		return false;
	char bad[80];
	if (!relays_parse_networks(args, l, bad, sizeof(bad)))
		rules_noted(rs, file, line, "%s %s: not taken (a network, address or dotted prefix; no exclusions)",
			    kw, bad);
	return true;
}

/* --- the pseudo-headers --------------------------------------------------------- */

char *rules_relays_header(const struct rules_input *in, const char *name)
{
	enum relays_view view;
	if (!in->relays || !relays_view_named(name, &view))
		return NULL;
	char *text = xmalloc(RELAYS_TEXT_MAX);
	relays_text(in->relays, view, text, RELAYS_TEXT_MAX);
	return text;
}

struct relays *rules_relays_build(const struct rules_input *in, const struct rule_set *rs)
{
	struct relays *r = xmalloc(sizeof(*r));
	const struct cidr_list *trusted = in->trusted_networks && in->trusted_networks->n ? in->trusted_networks :
									       &rs->trusted_networks;
	const struct cidr_list *internal = in->internal_networks && in->internal_networks->n ?
						   in->internal_networks :
						   &rs->internal_networks;
	struct relay_trust t = { trusted, internal, in->client_ip, in->client_trusted };
	relays_build(r, in->header, in->header_len, &t);
	return r;
}

/* --- the tests ------------------------------------------------------------------ */

static size_t count_trusted(const struct relays *rs, bool trusted)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->n; i++)
		n += rs->r[i].trusted == trusted;
	return n;
}

static unsigned all_trusted(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct relays *rs = in->relays;
	return rs && count_trusted(rs, true) && !count_trusted(rs, false) && !rs->unparseable;
}

static unsigned no_relays(const struct rules_input *in, const char *const *a, size_t n)
{
	return in->relays && in->relays->n == 0 && !in->relays->unparseable;
}

static unsigned relays_unparseable(const struct rules_input *in, const char *const *a, size_t n)
{
	return in->relays && in->relays->unparseable > 0;
}

static bool ipv4(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

/* Do two dotted quads share their first `octets` octets? */
static bool same_prefix(const char *a, const char *b, int octets)
{
	size_t i = 0;
	for (int dots = 0; a[i] && a[i] == b[i]; i++)
		if (a[i] == '.' && ++dots == octets)
			return true;
	return false;
}

static unsigned helo_mismatch(const struct rules_input *in, const char *const *a, size_t n)
{
	for (size_t i = 0; in->relays && i < in->relays->n; i++) {
		const struct relay *r = &in->relays->r[i];
		if (r->trusted || !ipv4(r->helo) || relays_ip_private(r->helo))
			continue;
		if (ipv4(r->ip) && !r->ip_private && strcmp(r->helo, r->ip) != 0 && !same_prefix(r->helo, r->ip, 3))
			return 1;
	}
	return 0;
}

/* Names spammers greet with that no mail server of theirs would lack a
 * reverse DNS name for. */
static bool dotcom_helo(const char *helo)
{
	static const char *const domains[] = {
		"lycos.com", "lycos.co.uk", "hotmail.com", "localhost.com", "excite.com", "caramail.com",
		"cs.com", "aol.com", "msn.com", "yahoo.com", "drizzle.com",
	};
	size_t hl = strlen(helo);
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		size_t dl = strlen(domains[i]);
		if (hl >= dl && strcasecmp(helo + hl - dl, domains[i]) == 0 && (hl == dl || helo[hl - dl - 1] == '.'))
			return true;
	}
	return false;
}

static unsigned no_rdns_dotcom_helo(const struct rules_input *in, const char *const *a, size_t n)
{
	unsigned hit = 0;
	for (size_t i = 0; in->relays && i < in->relays->n; i++) {
		const struct relay *r = &in->relays->r[i];
		if (r->trusted || r->ip_private || !r->helo[0])
			continue;
		hit = dotcom_helo(r->helo) && r->rdns_looked_up && !r->rdns[0];  /* the last relay decides */
	}
	return hit;
}

/* The domain of a host name: its last two labels, three under a
 * two-letter country code with a short second level ("co.uk"); an
 * address stays itself. Into out (cap bytes). */
static void host_domain(const char *host, char *out, size_t cap)
{
	snprintf(out, cap, "%s", host);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	char *last = strrchr(out, '.');
	if (ipv4(out) || !last)
		return;
	*last = '\0';
	char *second = strrchr(out, '.');
	if (second && strlen(last + 1) == 2 && strlen(second + 1) <= 3) {  /* example.co.uk */
		*second = '\0';
		char *third = strrchr(out, '.');
		*second = '.';
		second = third;
	}
	*last = '.';
	if (second)
		memmove(out, second + 1, strlen(second + 1) + 1);
}

static bool hostname_like(const char *s)
{
	if (!isalnum((unsigned char)s[0]) || !strchr(s, '.'))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return false;
	return isalnum((unsigned char)s[strlen(s) - 1]);
}

static unsigned forged_received_trail(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct relays *rs = in->relays;
	char prev[256] = "";
	unsigned mismatches = 0;
	for (size_t i = 0; rs && i < rs->n; i++) {
		const struct relay *r = &rs->r[i];
		if (r->trusted)
			continue;
		char by[256], from[256];
		host_domain(r->by, by, sizeof(by));
		host_domain(r->rdns, from, sizeof(from));
		if (strcmp(from, "localhost") == 0 || strcmp(from, "localhost.localdomain") == 0)
			from[0] = '\0';
		if (hostname_like(by) && hostname_like(prev) && strcmp(by, prev) != 0)
			mismatches++;
		snprintf(prev, sizeof(prev), "%s", from);
	}
	return mismatches > 1;
}

const struct rules_eval rules_eval_relay[] = {
	{ "check_all_trusted", 0, 0, all_trusted, NULL },
	{ "check_no_relays", 0, 0, no_relays, NULL },
	{ "check_relays_unparseable", 0, 0, relays_unparseable, NULL },
	{ "helo_ip_mismatch", 0, 0, helo_mismatch, NULL },
	{ "check_for_no_rdns_dotcom_helo", 0, 0, no_rdns_dotcom_helo, NULL },
	{ "check_for_forged_received_trail", 0, 0, forged_received_trail, NULL },
	{ NULL, 0, 0, NULL, NULL },
};
