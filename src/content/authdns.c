/*
 * See authdns.h.
 */
#include "content/authdns.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/address_list.h"
#include "content/check.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool authdns_tag(const char *list, size_t len, const char *tag, char *out, size_t cap)
{
	size_t tlen = strlen(tag);
	for (size_t i = 0; i < len;) {
		while (i < len && is_wsp(list[i]))
			i++;
		size_t name = i;
		while (i < len && list[i] != '=' && list[i] != ';' && !is_wsp(list[i]))
			i++;
		size_t name_len = i - name;
		while (i < len && is_wsp(list[i]))
			i++;
		bool has_value = i < len && list[i] == '=';
		size_t value = has_value ? i + 1 : i;
		size_t end = value;
		while (end < len && list[end] != ';')
			end++;
		i = end + 1;
		if (!has_value || name_len != tlen || memcmp(list + name, tag, tlen) != 0)
			continue;
		size_t o = 0;
		for (size_t k = value; k < end; k++) {
			if (is_wsp(list[k]))
				continue;
			if (o + 1 >= cap || list[k] == '\0')  /* a NUL would cut the name short */
				return false;
			out[o++] = list[k];
		}
		out[o] = '\0';
		return o > 0;
	}
	return false;
}

bool authdns_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '-' || c == '_' || (c == '.' && s[i + 1] != '.')))
			return false;
	}
	return true;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Plan name (if it fits and is not planned yet). */
static void plan_name(struct authdns *a, const char *name)
{
	if (a->n >= AUTHDNS_NAMES_MAX || strlen(name) >= sizeof(a->rec[0].name) || authdns_find(a, name))
		return;
	struct authdns_record *r = &a->rec[a->n++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	lower(r->name);
	r->status = DNS_TEMPFAIL;  /* until an answer says otherwise */
}

/* s=._domainkey.d= of one DKIM-Signature value. */
static void plan_signature(struct authdns *a, const char *value, size_t len)
{
	char d[256], s[256], name[600];
	if (!authdns_tag(value, len, "d", d, sizeof(d)) || !authdns_tag(value, len, "s", s, sizeof(s)) ||
	    !authdns_name_ok(d) || !authdns_name_ok(s))
		return;
	snprintf(name, sizeof(name), "%s._domainkey.%s", s, d);
	plan_name(a, name);
}

/* Every DKIM-Signature field of the header section, up to the limit. */
static void plan_signatures(struct authdns *a, const char *hdr, size_t len)
{
	size_t seen = 0;
	for (size_t i = 0; i < len && seen < AUTHDNS_SIGNATURES_MAX;) {
		size_t end = i + content_field_len(hdr, len, i);
		size_t voff;
		if (content_field_is(hdr + i, end - i, "DKIM-Signature", &voff)) {
			plan_signature(a, hdr + i + voff, end - i - voff);
			seen++;
		}
		i = end;
	}
}

bool authdns_from_domain(const char *hdr, size_t len, char *out, size_t cap)
{
	out[0] = '\0';
	if (content_header_count(hdr, len, "From") != 1)
		return false;
	size_t vlen;
	char *value = content_header_unfold(hdr, len, "From", &vlen);
	struct address_list l;
	if (value && address_list_parse(value, vlen, &l)) {
		const char *at = l.n == 1 ? strrchr(l.addrs[0], '@') : NULL;
		if (at && authdns_name_ok(at + 1) && strlen(at + 1) < cap) {
			snprintf(out, cap, "%s", at + 1);
			lower(out);
		}
		address_list_free(&l);
	}
	free(value);
	return out[0] != '\0';
}

void authdns_plan(struct authdns *a, const char *hdr, size_t len, bool dkim, bool dmarc, authdns_org_fn org)
{
	if (dkim)
		plan_signatures(a, hdr, len);
	if (!dmarc)
		return;
	if (!authdns_from_domain(hdr, len, a->from_domain, sizeof(a->from_domain)))
		return;
	char name[300];
	snprintf(name, sizeof(name), "_dmarc.%s", a->from_domain);
	plan_name(a, name);
	if (org(a->from_domain, a->org_domain, sizeof(a->org_domain)) && strcmp(a->org_domain, a->from_domain) != 0) {
		snprintf(name, sizeof(name), "_dmarc.%s", a->org_domain);
		plan_name(a, name);
	}
}

const struct authdns_record *authdns_find(const struct authdns *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcasecmp(a->rec[i].name, name) == 0)
			return &a->rec[i];
	return NULL;
}

/* A record for the name: DMARC's is the one that starts "v=DMARC1"
 * (RFC 7489 6.6.3: other TXT records there are ignored), a key the
 * first one. */
static void on_txt(void *arg, enum dns_status st, char *const *texts, size_t n)
{
	struct authdns_record *r = arg;
	struct authdns *a = r->owner;
	r->status = st;
	bool dmarc = strncmp(r->name, "_dmarc.", 7) == 0;
	if (st == DNS_OK) {
		r->status = DNS_NODATA;
		for (size_t i = 0; i < n; i++) {
			if ((dmarc && strncmp(texts[i], "v=DMARC1", 8) != 0) || strlen(texts[i]) >= sizeof(r->text))
				continue;
			snprintf(r->text, sizeof(r->text), "%s", texts[i]);
			r->status = DNS_OK;
			break;
		}
	}
	if (--a->pending == 0)
		a->done(a->arg);
}

void authdns_fetch(struct authdns *a, struct dns *d, void (*done)(void *arg), void *arg)
{
	a->done = done;
	a->arg = arg;
	if (a->n == 0 || !d) {
		done(arg);
		return;
	}
	a->pending = a->n;
	for (size_t i = 0; i < a->n; i++) {
		a->rec[i].owner = a;
		dns_query_txt(d, a->rec[i].name, on_txt, &a->rec[i]);
	}
}
