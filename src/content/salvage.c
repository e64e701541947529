/*
 * See salvage.h. One pass over the body's lines finds the runs of lines
 * that look encoded (base64, quoted-printable, uuencode, yEnc); each run
 * is decoded when it ends. A run is decoded first the plain lenient way;
 * only when that differs from every part of the MIME view is it decoded
 * the other ways a client might read it, each way's result a blob.
 */
#include "content/salvage.h"

#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "content/check.h"
#include "util/alloc.h"
#include "util/base64.h"

/* Base64 characters a run needs before it is decoded: shorter runs are
 * words or settings on lines of their own, not data (the shortest
 * carrier worth finding, the 68-byte EICAR string, takes 92). */
#define B64_RUN_MIN 64
/* Recursion into blobs that are text (a message inside a base64 part). */
#define SALVAGE_DEPTH_MAX 2
/* Bytes of the view searched for runs per message: a message made of
 * many short runs that are no part must not make every run search every
 * part (past it: truncated, which the hidden check refuses). Well-formed
 * mail needs a few times its size. */
#define SALVAGE_SEARCH_MAX ((size_t)512 << 20)

struct line {
	const char *p;
	size_t n;           /* without the line end and trailing blanks */
};

/* The run of lines [first, last] of one kind, as byte offsets. */
struct run {
	size_t start, end;  /* msg[start..end): whole lines */
	size_t lineno;      /* of the first line, from 1 */
	size_t lines;
	bool soft;          /* qp: the last line ended with a soft break */
	bool junk;          /* base64: some line carries characters outside the alphabet */
	bool long_line;     /* base64: some line is of the alphabet alone, 16 or more long */
};

/* The byte values a buffer holds: a blob with a byte its haystack lacks
 * cannot be in it, and a decoded blob mostly has one (a NUL, a byte that
 * is no text): the check costs a pass over each part once, where a search
 * costs one per blob. */
struct byteset {
	uint64_t bits[4];
};

struct ctx {
	const struct mime_message *m;
	struct salvage *out;
	unsigned depth;
	size_t searched;         /* bytes compared against the view so far */
	struct byteset *parts;   /* per part of the view, made when first needed */
};

static struct byteset byteset_of(const char *p, size_t n)
{
	struct byteset b = { { 0 } };
	for (size_t i = 0; i < n; i++)
		b.bits[(unsigned char)p[i] >> 6] |= 1ULL << ((unsigned char)p[i] & 63);
	return b;
}

static bool byteset_covers(const struct byteset *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(b->bits[(unsigned char)p[i] >> 6] & 1ULL << ((unsigned char)p[i] & 63)))
			return false;
	return true;
}

/* Could data be inside part i? */
static bool part_may_hold(struct ctx *c, size_t i, const char *data, size_t len)
{
	if (!c->parts) {
		c->parts = xcalloc(c->m->n_parts, sizeof(*c->parts));
		for (size_t k = 0; k < c->m->n_parts; k++)
			if (c->m->parts[k].data)
				c->parts[k] = byteset_of(c->m->parts[k].data, c->m->parts[k].len);
	}
	return byteset_covers(&c->parts[i], data, len);
}

/* --- lines -------------------------------------------------------------- */

/* The line at msg[pos..len) into l; returns where the next one starts. */
static size_t line_at(const char *msg, size_t len, size_t pos, struct line *l)
{
	const char *lf = memchr(msg + pos, '\n', len - pos);
	size_t next = lf ? (size_t)(lf - msg) + 1 : len;
	size_t n = (lf ? (size_t)(lf - msg) : len) - pos;
	while (n && (msg[pos + n - 1] == '\r' || msg[pos + n - 1] == ' ' || msg[pos + n - 1] == '\t'))
		n--;
	*l = (struct line){ msg + pos, n };
	return next;
}

/* A line that starts like base64 but carries other characters too
 * ("UEs#abce0123"): some readers cut it there, some skip them. Without
 * blanks, and mostly of the alphabet, or it is a line of text. */
static bool is_b64_junk_line(const struct line *l)
{
	size_t alpha = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->p[i] == ' ' || l->p[i] == '\t')
			return false;
		alpha += base64_value((unsigned char)l->p[i]) >= 0;
	}
	return l->n >= 4 && base64_value((unsigned char)l->p[0]) >= 0 && alpha * 4 >= l->n * 3;
}

/* A line of base64 characters; a line of '=' alone longer than padding
 * is a separator drawn in text. */
static bool is_b64_line(const struct line *l)
{
	size_t eq = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->p[i] == '=')
			eq++;
		else if (base64_value((unsigned char)l->p[i]) < 0)
			return false;
	}
	return l->n && !(eq == l->n && eq > 4);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Dense with '=': binary data in quoted-printable, not a text line with
 * a few escapes (which the MIME view decodes as well as anyone). */
static bool is_qp_line(const struct line *l)
{
	if (!memchr(l->p, '=', l->n))
		return false;  /* most lines: memchr is far quicker than the loop */
	size_t eq = 0, escapes = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->p[i] != '=')
			continue;
		eq++;
		escapes += i + 2 < l->n && hex_value((unsigned char)l->p[i + 1]) >= 0 &&
			   hex_value((unsigned char)l->p[i + 2]) >= 0;
	}
	bool boundary = l->n >= 2 && l->p[0] == '-' && l->p[1] == '-';
	return escapes && eq >= 2 && eq * 4 >= l->n && !boundary;
}

/* A uuencoded line: its first character gives the byte count, and the
 * rest has the length that count needs (one check character more is
 * allowed), all in the uuencode range. */
static bool is_uu_line(const struct line *l)
{
	if (l->n < 2 || l->p[0] < '!' || l->p[0] > 'M')
		return false;
	size_t count = (size_t)((l->p[0] - ' ') & 63);
	size_t want = 1 + (count + 2) / 3 * 4;
	if (l->n != want && l->n != want + 1)
		return false;
	for (size_t i = 1; i < l->n; i++)
		if (l->p[i] < ' ' || l->p[i] > '`')
			return false;
	return true;
}

static bool starts_with(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->n >= n && memcmp(l->p, prefix, n) == 0;
}

/* --- blobs -------------------------------------------------------------- */

/* Is data in the text part p once converted from p's charset to UTF-8,
 * as the MIME view converts text? */
static bool same_as_converted(struct ctx *c, size_t i, const char *data, size_t len)
{
	const struct mime_part *p = &c->m->parts[i];
	if (strncmp(p->type, "text/", 5) != 0 || !p->charset[0] || !p->data || p->len < len / 2)
		return false;
	iconv_t cd = g_mime_iconv_open("UTF-8", p->charset);
	if (cd == (iconv_t)-1)
		return false;
	char *utf8 = g_mime_iconv_strndup(cd, data, len);
	g_mime_iconv_close(cd);
	size_t n = utf8 ? strlen(utf8) : 0;
	bool same = utf8 && part_may_hold(c, i, utf8, n) && memmem(p->data, p->len, utf8, n);
	g_free(utf8);
	return same;
}

/* Is data what the view holds (a part, or a piece of one: a run of
 * dense quoted-printable lines inside an HTML part), or a blob already? */
static bool same_as_view(struct ctx *c, const char *data, size_t len)
{
	for (size_t i = 0; i < c->out->n; i++)  /* another reading of the same run, often */
		if (c->out->blobs[i].len == len && memcmp(c->out->blobs[i].data, data, len) == 0)
			return true;
	for (size_t i = 0; i < c->m->n_parts; i++) {  /* a whole part: cheap, and the common case */
		const struct mime_part *p = &c->m->parts[i];
		if (p->data && p->len == len && memcmp(p->data, data, len) == 0)
			return true;
	}
	for (size_t i = 0; i < c->m->n_parts; i++) {
		const struct mime_part *p = &c->m->parts[i];
		if (!p->data || p->len <= len)
			continue;
		c->searched += p->len + len;
		if (c->searched > SALVAGE_SEARCH_MAX) {
			c->out->truncated = true;
			return true;  /* nothing more is salvaged */
		}
		if ((part_may_hold(c, i, data, len) && memmem(p->data, p->len, data, len)) ||
		    same_as_converted(c, i, data, len))
			return true;
	}
	return false;
}

static void salvage_text(struct ctx *c, const char *text, size_t len);

/* Keep data[0..len) (taken over) as a blob unless it is nothing new. */
static void keep(struct ctx *c, char *data, size_t len, const char *how, size_t lineno)
{
	struct salvage *s = c->out;
	if (len < SALVAGE_BLOB_MIN || same_as_view(c, data, len)) {
		free(data);
		return;
	}
	if (s->n >= SALVAGE_BLOBS_MAX || len > SALVAGE_BYTES_MAX - s->bytes) {
		s->truncated = true;
		free(data);
		return;
	}
	if (!s->blobs)
		s->blobs = xcalloc(SALVAGE_BLOBS_MAX, sizeof(*s->blobs));
	struct salvage_blob *b = &s->blobs[s->n++];
	*b = (struct salvage_blob){ .data = data, .len = len };
	snprintf(b->how, sizeof(b->how), "%s at line %zu%s", how, lineno, c->depth ? " of a salvaged blob" : "");
	s->bytes += len;
	/* A text blob may be a message of its own (message/global in base64). */
	if (c->depth < SALVAGE_DEPTH_MAX && !memchr(data, '\0', len < 4096 ? len : 4096)) {
		c->depth++;
		salvage_text(c, b->data, b->len);
		c->depth--;
	}
}

/* --- base64 --------------------------------------------------------------- */

struct b64 {
	char *out;
	size_t n;
	uint32_t acc;
	unsigned have;      /* sextets in acc */
};

/* In locals, stored once: a store through d->out may alias d itself to
 * the compiler, which otherwise reloads d after every byte. */
static inline void b64_put(struct b64 *d, int v)
{
	uint32_t acc = d->acc << 6 | (uint32_t)v;
	unsigned have = d->have + 1;
	if (have == 4) {
		char *o = d->out + d->n;
		o[0] = (char)(acc >> 16);
		o[1] = (char)(acc >> 8);
		o[2] = (char)acc;
		d->n += 3;
		acc = 0;
		have = 0;
	}
	d->acc = acc;
	d->have = have;
}

/* The bytes a partial group holds (2 sextets: 1 byte, 3: 2 bytes). */
static void b64_flush(struct b64 *d)
{
	if (d->have >= 2) {
		uint32_t acc = d->acc << (6 * (4 - d->have));
		d->out[d->n++] = (char)(acc >> 16);
		if (d->have == 3)
			d->out[d->n++] = (char)(acc >> 8);
	}
	d->acc = 0;
	d->have = 0;
}

enum b64_way {
	B64_SKIP_EQ,        /* '=' and junk ignored: one stream */
	B64_SEGMENTS,       /* each '='-ended piece a stream of its own */
	B64_PER_LINE,       /* each line's whole groups, its tail dropped */
	B64_PAST_FIRST,     /* as B64_SKIP_EQ without the run's first line */
	B64_CUT_AT_JUNK,    /* each line up to its first character outside the alphabet */
};

static const char *const b64_way_name[] = {
	"base64 run, '=' ignored", "base64 run, decoded by segment", "base64 run, line by line",
	"base64 run past its first line", "base64 run, lines cut at junk",
};

/* The two readings that ignore everything outside the alphabet need no
 * lines: line ends and blanks are outside it too. Most of the work on a
 * text run, hence a loop of its own. */
static void b64_decode_stream(const char *p, size_t n, struct b64 *d)
{
	uint32_t acc = 0;
	unsigned have = 0;
	char *o = d->out;
	for (size_t i = 0; i < n; i++) {
		int v = base64_value((unsigned char)p[i]);
		if (v < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		if (++have == 4) {
			*o++ = (char)(acc >> 16);
			*o++ = (char)(acc >> 8);
			*o++ = (char)acc;
			acc = 0;
			have = 0;
		}
	}
	d->n = (size_t)(o - d->out);
	d->acc = acc;
	d->have = have;
}

static char *b64_decode(const char *msg, const struct run *r, enum b64_way way, size_t *outlen)
{
	struct b64 d = { .out = xmalloc((r->end - r->start) / 4 * 3 + 3) };
	size_t pos = r->start;
	struct line l;
	if (way == B64_PAST_FIRST)
		pos = line_at(msg, r->end, pos, &l);
	if (way == B64_SKIP_EQ || way == B64_PAST_FIRST) {
		b64_decode_stream(msg + pos, r->end - pos, &d);
		pos = r->end;
	}
	while (pos < r->end) {
		pos = line_at(msg, r->end, pos, &l);
		size_t take = l.n;
		if (way == B64_PER_LINE) {
			size_t k = 0;
			for (size_t i = 0; i < l.n; i++)
				k += base64_value((unsigned char)l.p[i]) >= 0;
			take = k / 4 * 4;
		}
		for (size_t i = 0, used = 0; i < l.n && used < take; i++) {
			int v = base64_value((unsigned char)l.p[i]);
			if (l.p[i] == '=' && way == B64_SEGMENTS)
				b64_flush(&d);
			if (v < 0 && l.p[i] != '=' && way == B64_CUT_AT_JUNK)
				break;
			if (v < 0)
				continue;
			b64_put(&d, v);
			used++;
		}
	}
	b64_flush(&d);
	*outlen = d.n;
	return d.out;
}

/* Does the run carry base64 after a '=' (padding in mid-stream, which
 * readers take in different ways)? A line of '=' and four base64
 * characters is an OpenPGP armour checksum, not data (also with the '='
 * quoted-printable encoded as "=3D"). */
static bool starts_with(const struct line *l, const char *prefix);

static bool b64_ambiguous(const char *msg, const struct run *r)
{
	bool padded = false;
	size_t pos = r->start;
	while (pos < r->end) {
		struct line l;
		pos = line_at(msg, r->end, pos, &l);
		if ((l.n == 5 && l.p[0] == '=') || (l.n == 7 && starts_with(&l, "=3D")))
			continue;
		for (size_t i = 0; i < l.n; i++) {
			if (l.p[i] == '=')
				padded = true;
			else if (padded)
				return true;
		}
	}
	return false;
}

/* What tells the readings of a run apart: a reading that cannot differ
 * from B64_SKIP_EQ's is not decoded at all (each costs a decode and a
 * search of the view). */
struct b64_shape {
	size_t chars;           /* of the alphabet */
	bool data_after_eq;     /* B64_SEGMENTS differs */
	bool line_misaligned;   /* a line not of whole groups: B64_PER_LINE differs */
};

static struct b64_shape b64_shape_of(const char *msg, const struct run *r)
{
	struct b64_shape sh = { 0 };
	bool eq = false;
	size_t pos = r->start;
	while (pos < r->end) {
		struct line l;
		pos = line_at(msg, r->end, pos, &l);
		size_t k = 0;
		for (size_t i = 0; i < l.n; i++) {
			bool alpha = base64_value((unsigned char)l.p[i]) >= 0;
			k += alpha;
			sh.data_after_eq |= eq && alpha;
			eq |= l.p[i] == '=';
		}
		sh.chars += k;
		sh.line_misaligned |= k % 4 != 0;
	}
	return sh;
}

static bool b64_way_differs(enum b64_way w, const struct run *r, const struct b64_shape *sh)
{
	switch (w) {
	case B64_SEGMENTS: return sh->data_after_eq;
	case B64_PER_LINE: return sh->line_misaligned;
	case B64_PAST_FIRST: return r->lines >= 2;
	case B64_CUT_AT_JUNK: return r->junk;
	default: return true;
	}
}

static void salvage_b64(struct ctx *c, const char *msg, const struct run *r)
{
	struct b64_shape sh = b64_shape_of(msg, r);
	size_t chars = sh.chars;
	/* Lines with junk are data only beside a long line of pure base64;
	 * alone they are text (a list of links, settings). */
	if (chars < B64_RUN_MIN || (r->junk && !r->long_line))
		return;
	size_t n;
	char *plain = b64_decode(msg, r, B64_SKIP_EQ, &n);
	/* One character past whole groups cannot be base64 (it carries no
	 * byte): a junk line shifted the stream, and readers differ on it;
	 * as they do on junk inside lines. */
	bool misaligned = chars % 4 == 1 || r->junk;
	if (!misaligned && same_as_view(c, plain, n)) {
		free(plain);
		return;  /* the view decoded it the same: the common case */
	}
	keep(c, plain, n, b64_way_name[B64_SKIP_EQ], r->lineno);
	if (n >= SALVAGE_BLOB_MIN && !r->junk && b64_ambiguous(msg, r))
		c->out->ambiguous = true;
	for (enum b64_way w = B64_SEGMENTS; w <= B64_CUT_AT_JUNK; w++) {
		if (!b64_way_differs(w, r, &sh))
			continue;
		char *data = b64_decode(msg, r, w, &n);
		keep(c, data, n, b64_way_name[w], r->lineno);
	}
}

/* --- quoted-printable ----------------------------------------------------- */

/* How a reader might take quoted-printable it cannot read strictly. */
struct qp_reading {
	bool blanks_too;    /* "= " inside a line dropped with its blanks (one reading of "= =41="), else only the '=' */
	bool crlf;          /* a hard line break is CRLF (RFC 2045's canonical form), else LF */
};

static char *qp_decode(const char *msg, const struct run *r, struct qp_reading how, size_t *outlen)
{
	char *out = xmalloc((r->end - r->start) * 2 + 2);
	size_t n = 0, pos = r->start;
	while (pos < r->end) {
		struct line l;
		pos = line_at(msg, r->end, pos, &l);
		bool soft = false;
		for (size_t i = 0; i < l.n; i++) {
			if (l.p[i] != '=') {
				out[n++] = l.p[i];
				continue;
			}
			if (i + 1 == l.n) {
				soft = true;
			} else if (i + 2 < l.n && hex_value((unsigned char)l.p[i + 1]) >= 0 &&
				   hex_value((unsigned char)l.p[i + 2]) >= 0) {
				out[n++] = (char)(hex_value((unsigned char)l.p[i + 1]) << 4 | hex_value((unsigned char)l.p[i + 2]));
				i += 2;
			} else if (how.blanks_too) {
				while (i + 1 < l.n && (l.p[i + 1] == ' ' || l.p[i + 1] == '\t'))
					i++;
			}
		}
		if (!soft && pos < r->end) {
			if (how.crlf)
				out[n++] = '\r';
			out[n++] = '\n';
		}
	}
	*outlen = n;
	return out;
}

/* Has the run an '=' that is neither an escape nor a soft line break? */
static bool qp_ambiguous(const char *msg, const struct run *r)
{
	size_t pos = r->start;
	while (pos < r->end) {
		struct line l;
		pos = line_at(msg, r->end, pos, &l);
		for (size_t i = 0; i < l.n; i++) {
			if (l.p[i] != '=' || i + 1 == l.n)
				continue;
			if (i + 2 >= l.n || hex_value((unsigned char)l.p[i + 1]) < 0 || hex_value((unsigned char)l.p[i + 2]) < 0)
				return true;
			i += 2;
		}
	}
	return false;
}

static void salvage_qp(struct ctx *c, const char *msg, const struct run *r)
{
	static const struct qp_reading readings[] = { { false, true }, { false, false }, { true, true }, { true, false } };
	static const char *const names[] = {
		"quoted-printable run", "quoted-printable run, LF breaks", "quoted-printable run, '= ' dropped",
		"quoted-printable run, '= ' dropped, LF breaks",
	};
	size_t n, lf_n;
	char *plain = qp_decode(msg, r, readings[0], &n);
	char *lf = qp_decode(msg, r, readings[1], &lf_n);
	bool seen = same_as_view(c, plain, n) || same_as_view(c, lf, lf_n);
	free(lf);
	if (seen) {
		free(plain);
		return;  /* the view decoded it the same, with either line end */
	}
	keep(c, plain, n, names[0], r->lineno);
	if (n >= SALVAGE_BLOB_MIN && qp_ambiguous(msg, r))
		c->out->ambiguous = true;
	for (size_t i = 1; i < sizeof(readings) / sizeof(readings[0]); i++) {
		char *data = qp_decode(msg, r, readings[i], &n);
		keep(c, data, n, names[i], r->lineno);
	}
}

/* --- uuencode and yEnc (GMime's decoders) ------------------------------------ */

static void salvage_uu(struct ctx *c, const char *msg, const struct run *r)
{
	size_t inlen = r->end - r->start;
	if (r->lines < 2 && inlen < B64_RUN_MIN)
		return;
	char *out = xmalloc(inlen + 3);
	int state = GMIME_UUDECODE_STATE_BEGIN;
	guint32 save = 0;
	size_t n = g_mime_encoding_uudecode_step((const unsigned char *)msg + r->start, inlen, (unsigned char *)out,
						 &state, &save);
	keep(c, out, n, "uuencoded run", r->lineno);
}

/* The data lines after "=ybegin" (and "=ypart") up to "=yend". */
static size_t salvage_yenc(struct ctx *c, const char *msg, size_t len, size_t pos, size_t lineno)
{
	struct line l;
	size_t start = pos, end = pos;
	while (pos < len) {
		size_t next = line_at(msg, len, pos, &l);
		if (starts_with(&l, "=yend"))
			break;
		if (starts_with(&l, "=ypart"))
			start = next;
		pos = end = next;
	}
	if (end > start) {
		/* GMime's decoder takes a CR for data: the lines go without */
		char *in = xmalloc(end - start);
		size_t inlen = 0;
		for (size_t i = start; i < end; i++)
			if (msg[i] != '\r' || i + 1 >= end || msg[i + 1] != '\n')
				in[inlen++] = msg[i];
		char *out = xmalloc(inlen + 1);
		/* past =ybegin: decoding; no CRC is checked (a bad one is no
		 * reason for a client not to show the file) */
		int state = GMIME_YDECODE_STATE_BEGIN | GMIME_YDECODE_STATE_DECODE | GMIME_YDECODE_STATE_EOLN;
		guint32 pcrc = GMIME_YENCODE_CRC_INIT, crc = GMIME_YENCODE_CRC_INIT;
		size_t n = g_mime_ydecode_step((const unsigned char *)in, inlen, (unsigned char *)out, &state, &pcrc, &crc);
		free(in);
		keep(c, out, n, "yEnc data", lineno);
	}
	return pos;
}

/* --- the pass ------------------------------------------------------------------- */

enum run_kind { RUN_B64, RUN_QP, RUN_UU, RUN_KINDS };

static void run_end(struct ctx *c, const char *msg, enum run_kind k, struct run *r)
{
	if (!r->lines)
		return;
	if (k == RUN_B64)
		salvage_b64(c, msg, r);
	else if (k == RUN_QP)
		salvage_qp(c, msg, r);
	else
		salvage_uu(c, msg, r);
	r->lines = 0;
}

static bool line_is(enum run_kind k, const struct line *l, const struct run *r)
{
	if (k == RUN_B64)
		return (is_b64_line(l) || is_b64_junk_line(l)) && !is_qp_line(l);  /* "=09=09=09" is QP */
	if (k == RUN_QP)
		return is_qp_line(l) || (r->lines && r->soft);
	return is_uu_line(l);
}

static void salvage_text(struct ctx *c, const char *text, size_t len)
{
	struct run runs[RUN_KINDS] = { { 0 } };
	size_t pos = 0, lineno = 0;
	while (pos < len && !c->out->truncated) {
		struct line l;
		size_t next = line_at(text, len, pos, &l);
		lineno++;
		if (starts_with(&l, "(This file must be converted with BinHex"))
			c->out->binhex = true;
		if (starts_with(&l, "=ybegin ")) {
			for (enum run_kind k = 0; k < RUN_KINDS; k++)
				run_end(c, text, k, &runs[k]);
			next = salvage_yenc(c, text, len, next, lineno);
		} else {
			for (enum run_kind k = 0; k < RUN_KINDS; k++) {
				struct run *r = &runs[k];
				if (!line_is(k, &l, r)) {
					run_end(c, text, k, r);
					continue;
				}
				if (!r->lines)
					*r = (struct run){ .start = pos, .lineno = lineno };
				r->end = next;
				r->lines++;
				r->soft = l.n && l.p[l.n - 1] == '=';
				if (k == RUN_B64 && !is_b64_line(&l))
					r->junk = true;
				else if (k == RUN_B64 && l.n >= 16)
					r->long_line = true;
			}
		}
		pos = next;
	}
	for (enum run_kind k = 0; k < RUN_KINDS; k++)
		run_end(c, text, k, &runs[k]);
}

void salvage_collect(const char *msg, size_t len, const struct mime_message *m, struct salvage *out)
{
	*out = (struct salvage){ 0 };
	mime_prepare();
	struct ctx c = { .m = m, .out = out };
	size_t body = content_header_end(msg, len);
	salvage_text(&c, msg + body, len - body);
	/* A message part the view kept whole (message/global in base64 is a
	 * leaf to it): its own encoded blocks are salvaged too. */
	c.depth = 1;
	for (size_t i = 0; i < m->n_parts && !out->truncated; i++)
		if (strncmp(m->parts[i].type, "message/", 8) == 0 && m->parts[i].data)
			salvage_text(&c, m->parts[i].data, m->parts[i].len);
	free(c.parts);
}

void salvage_free(struct salvage *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->blobs[i].data);
	free(s->blobs);
	*s = (struct salvage){ 0 };
}
