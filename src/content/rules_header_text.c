/*
 * See rules_header_text.h. The texts are keyed by what header_text_make()
 * reads of a rule: its field name as written (case and all: pseudo-header
 * names are case-sensitive), its mode, and whether folds are kept (a raw
 * mimeheader value). Two rules with the same key get the same text.
 */
#include "content/rules_header_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "content/address_list.h"
#include "util/alloc.h"

/* At most HEADER_FIELDS_MAX fields, the MIME view's default
 * max_field_lines: a message with more has MIME_TOO_MANY_PARTS. */
#define HEADER_FIELDS_MAX 50000
#define ADDR_TEXT_MAX 4096
#define HEADER_TEXT_MAX 102400

/* --- the index ------------------------------------------------------------------ */

void header_index_build(struct header_index *x, const char *hdr, size_t len)
{
	size_t cap = 0;
	x->hdr = hdr;
	x->f = NULL;
	x->n = 0;
	for (size_t pos = 0; pos < len && x->n < HEADER_FIELDS_MAX;) {
		const char *lf = memchr(hdr + pos, '\n', len - pos);
		size_t end = lf ? (size_t)(lf - hdr) + 1 : len;
		while (end < len && (hdr[end] == ' ' || hdr[end] == '\t')) {
			lf = memchr(hdr + end, '\n', len - end);
			end = lf ? (size_t)(lf - hdr) + 1 : len;
		}
		const char *colon = memchr(hdr + pos, ':', end - pos);
		if (colon) {
			size_t nlen = (size_t)(colon - (hdr + pos));
			while (nlen && (hdr[pos + nlen - 1] == ' ' || hdr[pos + nlen - 1] == '\t'))
				nlen--;
			if (x->n == cap) {
				cap = cap ? cap * 2 : 64;
				x->f = xreallocarray(x->f, cap, sizeof(*x->f));
			}
			x->f[x->n++] = (struct header_field){ pos, nlen, (size_t)(colon - hdr), end };
		}
		pos = end;
	}
}

void header_index_free(struct header_index *x)
{
	free(x->f);
	x->f = NULL;
	x->n = 0;
}

/* --- the values of a field --------------------------------------------------------- */

static bool name_is(const char *name, size_t nlen, const char *want, size_t wlen)
{
	return nlen == wlen && strncasecmp(name, want, nlen) == 0;
}

/* Does a field named name[0..nlen) belong to what a rule wants? pseudo:
 * SpamAssassin's pseudo-headers made of several real ones (1 ToCc, 2
 * MESSAGEID), found with want's length once per rule (header_values). */
static bool header_wanted(const char *want, size_t wlen, int pseudo, const char *name, size_t nlen)
{
	if (pseudo == 1)
		return name_is(name, nlen, "To", 2) || name_is(name, nlen, "Cc", 2);
	if (pseudo == 2)
		return name_is(name, nlen, "Message-Id", 10) || name_is(name, nlen, "Resent-Message-Id", 17);
	return name_is(name, nlen, want, wlen);
}

/* Every value of the wanted field(s), leading space dropped, one per
 * line, at most HEADER_TEXT_MAX bytes (Postfix's header_size_limit: a
 * rule decodes and matches this per message, and Debian's set has dozens
 * of rules per common field); unfolded, or with its folds kept as "\n"
 * (SpamAssassin's raw value in mimeheader rules). NULL if there is none. */
static char *header_values(const struct header_index *x, const char *want, bool keep_folds)
{
	char *out = NULL;
	size_t used = 0, cap = 0, wlen = strlen(want);
	/* Pseudo-header names are case-sensitive in SpamAssassin: "MessageId" is
	 * an ordinary (never present) field, not MESSAGEID. */
	int pseudo = strcmp(want, "ToCc") == 0 ? 1 : strcmp(want, "MESSAGEID") == 0 ? 2 : 0;
	for (size_t i = 0; i < x->n && used < HEADER_TEXT_MAX; i++) {
		const struct header_field *f = &x->f[i];
		if (!header_wanted(want, wlen, pseudo, x->hdr + f->start, f->nlen))
			continue;
		const char *v = x->hdr + f->colon + 1, *end = x->hdr + f->end;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n'))
			end--;  /* the field's own line end */
		if ((size_t)(end - v) > HEADER_TEXT_MAX - used)
			end = v + (HEADER_TEXT_MAX - used);
		if (used + (size_t)(end - v) + 2 > cap) {
			cap = (used + (size_t)(end - v) + 2) * 2;
			out = xreallocarray(out, cap, 1);
		}
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		/* Unfolded as SpamAssassin does: a line break and the blanks
		 * after it become one space ("by \S+ \(Lotus Domino" must match
		 * across a fold); a raw mimeheader value keeps them. */
		for (; v < end; v++) {
			if (*v == '\r')
				continue;
			if (*v != '\n' || keep_folds) {
				out[used++] = *v;
				continue;
			}
			if (v + 1 < end && (v[1] == ' ' || v[1] == '\t')) {
				out[used++] = ' ';
				while (v + 1 < end && (v[1] == ' ' || v[1] == '\t'))
					v++;
			}
		}
		out[used++] = '\n';
		out[used] = '\0';
	}
	return out;
}

/* --- per mode ------------------------------------------------------------------------ */

static bool keeps_folds(const struct rule *r)
{
	return r->kind == RULE_MIMEHEADER && r->mode == HDR_RAW;
}

/* The first address: GMime parses the first value, at most ADDR_TEXT_MAX
 * bytes of it (a From: of 70 000 addresses cost 0.15 s per From:addr
 * rule, of which Debian's set has 29). Takes raw. */
static char *first_address(char *raw)
{
	struct address_list l = { 0 };
	size_t n = strcspn(raw, "\n");
	if (n > ADDR_TEXT_MAX) {  /* cut after a whole address where there is one */
		n = ADDR_TEXT_MAX;
		const char *comma = memrchr(raw, ',', n);
		if (comma)
			n = (size_t)(comma - raw);
	}
	char *first = address_list_parse(raw, n, &l) && l.n ? xstrdup(l.addrs[0]) : xstrdup("");
	address_list_free(&l);
	free(raw);
	return first;
}

/* RFC 2047 decoded. Takes raw. */
static char *decoded_text(char *raw)
{
	char *decoded = g_mime_utils_header_decode_text(NULL, raw);
	char *text = xstrdup(decoded ? decoded : raw);
	g_free(decoded);
	free(raw);
	return text;
}

char *header_text_make(const struct rule *r, const struct header_index *x, const struct rules_input *in)
{
	char *raw = strcmp(r->header, "EnvelopeFrom") == 0 ? rules_envelope_from(in) :
		    strncmp(r->header, "X-Spam-Relays-", 14) == 0 ? rules_relays_header(in, r->header) :
								     header_values(x, r->header, keeps_folds(r));
	if (!raw || r->mode == HDR_RAW)
		return raw;
	return r->mode == HDR_ADDR ? first_address(raw) : decoded_text(raw);
}

/* --- the cache ------------------------------------------------------------------------ */

struct header_text_slot {
	const char *name;   /* the rule's field name (the rule set outlives the cache); NULL: empty slot */
	enum header_mode mode;
	bool folds;
	char *text;         /* NULL: the field is absent */
	size_t len;
};

#define SLOTS_FIRST 64

void header_texts_init(struct header_texts *t, const struct rules_input *in)
{
	t->in = in;
	header_index_build(&t->fields, in->header, in->header_len);
	t->cap = SLOTS_FIRST;
	t->used = 0;
	t->slots = xcalloc(t->cap, sizeof(*t->slots));
}

static size_t key_hash(const char *name, enum header_mode mode, bool folds)
{
	uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ (unsigned)mode) * 1099511628211ULL;
	return (size_t)((h ^ folds) * 1099511628211ULL);
}

static struct header_text_slot *slot_of(struct header_text_slot *slots, size_t cap, const char *name,
					enum header_mode mode, bool folds)
{
	size_t i = key_hash(name, mode, folds) & (cap - 1);
	while (slots[i].name &&
	       !(slots[i].mode == mode && slots[i].folds == folds && strcmp(slots[i].name, name) == 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Twice the room once half full, so that a probe stays short. */
static void grow(struct header_texts *t)
{
	size_t cap = t->cap * 2;
	struct header_text_slot *slots = xcalloc(cap, sizeof(*slots));
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].name)
			*slot_of(slots, cap, t->slots[i].name, t->slots[i].mode, t->slots[i].folds) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
}

const char *header_texts_get(struct header_texts *t, const struct rule *r, size_t *len)
{
	bool folds = keeps_folds(r);
	struct header_text_slot *s = slot_of(t->slots, t->cap, r->header, r->mode, folds);
	if (!s->name) {
		char *text = header_text_make(r, &t->fields, t->in);
		*s = (struct header_text_slot){ r->header, r->mode, folds, text, text ? strlen(text) : 0 };
		if (++t->used * 2 > t->cap) {
			grow(t);
			s = slot_of(t->slots, t->cap, r->header, r->mode, folds);
		}
	}
	*len = s->len;
	return s->text;
}

void header_texts_free(struct header_texts *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].text);
	free(t->slots);
	header_index_free(&t->fields);
}
