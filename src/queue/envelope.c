#include "queue/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "util/alloc.h"
#include "util/headerfield.h"

#define ENVELOPE_MAGIC "MWQ2"
#define ENVELOPE_MAGIC_V1 "MWQ1"   /* no trailer: read, never written */
#define FOOTER_MAGIC "MWT1"
#define RECORD_HEADER 5
#define RECORD_MAX (1u << 16)
#define ENVELOPE_READ_MAX (4u << 20)  /* an envelope never exceeds this */

void envelope_add_rcpt(struct envelope *e, const char *addr)
{
	e->rcpts = xreallocarray(e->rcpts, e->n_rcpts + 1, sizeof(*e->rcpts));
	e->rcpts[e->n_rcpts++] = (struct envelope_rcpt){ .addr = xstrdup(addr), .status = RCPT_PENDING };
}

void envelope_init_local(struct envelope *e, const char *hostname, const char *sender)
{
	*e = (struct envelope){ 0 };
	e->arrival = (uint64_t)time(NULL);
	e->session = xstrdup("");
	e->client = xstrdup("");
	e->helo = xstrdup(hostname);
	e->sender = xstrdup(sender);
}

struct writer {
	unsigned char *buf;
	size_t len, cap;
};

static void w_bytes(struct writer *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2;
		w->buf = xreallocarray(w->buf, w->cap, 1);
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void w_record(struct writer *w, char type, const void *p, size_t n)
{
	unsigned char h[RECORD_HEADER] = { (unsigned char)type, (unsigned char)(n >> 24),
					   (unsigned char)(n >> 16), (unsigned char)(n >> 8),
					   (unsigned char)n };
	w_bytes(w, h, sizeof(h));
	w_bytes(w, p, n);
}

static void w_str(struct writer *w, char type, const char *s)
{
	w_record(w, type, s ? s : "", s ? strlen(s) : 0);
}

/* Two strings in one record, NUL between them (neither holds a NUL). */
static void w_pair(struct writer *w, char type, const char *a, const char *b)
{
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
	unsigned char *tmp = xmalloc(la + lb + 1);
	memcpy(tmp, a ? a : "", la);
	tmp[la] = '\0';
	memcpy(tmp + la + 1, b ? b : "", lb);
	w_record(w, type, tmp, la + lb + 1);
	free(tmp);
}

static void w_uint(struct writer *w, char type, uint64_t v, size_t n)
{
	unsigned char b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
	w_record(w, type, b, n);
}

unsigned char *envelope_encode(struct envelope *e, size_t *len)
{
	struct writer w = { 0 };
	w_bytes(&w, ENVELOPE_MAGIC, 4);
	w_uint(&w, 'T', e->arrival, 8);
	w_str(&w, 'S', e->session);
	w_str(&w, 'C', e->client);
	w_str(&w, 'H', e->helo);
	w_uint(&w, 'X', e->flags, 4);
	w_str(&w, 'F', e->sender);
	if (e->dsn_ret || e->dsn_envid)
		w_pair(&w, 'D', e->dsn_ret, e->dsn_envid);
	{
		char wb = e->warned ? 'W' : '-';
		e->warn_offset = (off_t)(w.len + RECORD_HEADER);
		w_record(&w, 'W', &wb, 1);
	}
	for (size_t i = 0; i < e->n_rcpts; i++) {
		size_t n = strlen(e->rcpts[i].addr);
		unsigned char *tmp = xmalloc(n + 1);
		tmp[0] = (unsigned char)e->rcpts[i].status;
		memcpy(tmp + 1, e->rcpts[i].addr, n);
		e->rcpts[i].status_offset = (off_t)(w.len + RECORD_HEADER);
		w_record(&w, 'R', tmp, n + 1);
		free(tmp);
		if (e->rcpts[i].dsn_notify || e->rcpts[i].dsn_orcpt)
			w_pair(&w, 'P', e->rcpts[i].dsn_notify, e->rcpts[i].dsn_orcpt);
	}
	w_record(&w, 'E', "", 0);
	e->body_offset = (off_t)w.len;
	*len = w.len;
	return w.buf;
}

static uint64_t be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A record string: no NUL inside (it would cut the address short). */
static char *dup_field(const unsigned char *p, size_t n, bool *ok)
{
	if (memchr(p, '\0', n))
		*ok = false;
	return xstrndup((const char *)p, n);
}

static bool status_valid(unsigned char s)
{
	return s == RCPT_PENDING || s == RCPT_DELIVERED || s == RCPT_FAILED;
}

static void set_field(char **field, char *value)
{
	free(*field);
	*field = value;
}

/* One record at *pos of p[0..end): false if it does not fit. On success
 * *pos moves past it. */
struct record {
	char type;
	const unsigned char *d;
	size_t n;
	size_t data;   /* offset of d in p */
};

static bool next_record(const unsigned char *p, size_t end, size_t *pos, struct record *r)
{
	if (end < *pos || end - *pos < RECORD_HEADER)
		return false;
	r->type = (char)p[*pos];
	r->n = (size_t)be(p + *pos + 1, 4);
	r->data = *pos + RECORD_HEADER;
	if (r->n > RECORD_MAX || r->n > end - r->data)
		return false;
	r->d = p + r->data;
	*pos = r->data + r->n;
	return true;
}

bool envelope_decode(const unsigned char *p, size_t len, struct envelope *e)
{
	if (len < 4 || (memcmp(p, ENVELOPE_MAGIC, 4) != 0 && memcmp(p, ENVELOPE_MAGIC_V1, 4) != 0))
		return false;
	e->has_trailer = memcmp(p, ENVELOPE_MAGIC, 4) == 0;
	size_t pos = 4;
	bool ok = true;
	struct record r;
	while (ok) {
		if (!next_record(p, len, &pos, &r))
			return false;
		char type = r.type;
		size_t n = r.n, data = r.data;
		const unsigned char *d = r.d;
		switch (type) {
		case 'T': if (n != 8) return false; e->arrival = be(d, 8); break;
		case 'X': if (n != 4) return false; e->flags = (uint32_t)be(d, 4); break;
		case 'S': set_field(&e->session, dup_field(d, n, &ok)); break;
		case 'C': set_field(&e->client, dup_field(d, n, &ok)); break;
		case 'H': set_field(&e->helo, dup_field(d, n, &ok)); break;
		case 'F': set_field(&e->sender, dup_field(d, n, &ok)); break;
		case 'V': set_field(&e->verdict, dup_field(d, n, &ok)); break;
		case 'R':
			if (n < 2 || !status_valid(d[0]))
				return false;
			e->rcpts = xreallocarray(e->rcpts, e->n_rcpts + 1, sizeof(*e->rcpts));
			e->rcpts[e->n_rcpts++] = (struct envelope_rcpt){
				.addr = dup_field(d + 1, n - 1, &ok), .status = (char)d[0],
				.status_offset = (off_t)data };
			break;
		case 'P':
		case 'D': {
			const unsigned char *nul = memchr(d, '\0', n);
			if (!nul || (type == 'P' && e->n_rcpts == 0))
				return false;
			size_t la = (size_t)(nul - d);
			char *a = la ? dup_field(d, la, &ok) : NULL;
			char *b = n - la - 1 ? dup_field(nul + 1, n - la - 1, &ok) : NULL;
			if (type == 'P') {
				set_field(&e->rcpts[e->n_rcpts - 1].dsn_notify, a);
				set_field(&e->rcpts[e->n_rcpts - 1].dsn_orcpt, b);
			} else {
				set_field(&e->dsn_ret, a);
				set_field(&e->dsn_envid, b);
			}
			break;
		}
		case 'W':
			if (n != 1 || (d[0] != '-' && d[0] != 'W'))
				return false;
			e->warned = d[0] == 'W';
			e->warn_offset = (off_t)data;
			break;
		case 'E':
			if (n != 0 || !e->sender || e->n_rcpts == 0)
				return false;
			e->body_offset = (off_t)(data);
			return ok;
		default:
			return false;
		}
	}
	return false;
}

void envelope_clear(struct envelope *e)
{
	free(e->session);
	free(e->client);
	free(e->helo);
	free(e->sender);
	free(e->verdict);
	free(e->dsn_ret);
	free(e->dsn_envid);
	free(e->add_headers);
	free(e->subject_prefix);
	free(e->release_headers);
	for (size_t i = 0; i < e->n_rcpts; i++) {
		free(e->rcpts[i].addr);
		free(e->rcpts[i].dsn_notify);
		free(e->rcpts[i].dsn_orcpt);
	}
	free(e->rcpts);
	memset(e, 0, sizeof(*e));
}

unsigned char *envelope_encode_trailer(const struct envelope *e, uint64_t body_len, size_t *len)
{
	struct writer w = { 0 };
	w_uint(&w, 'L', body_len, 8);
	if (e->verdict)
		w_str(&w, 'V', e->verdict);
	if (e->add_headers)
		w_str(&w, 'A', e->add_headers);
	if (e->subject_prefix)
		w_str(&w, 'J', e->subject_prefix);
	if (e->release_headers)
		w_str(&w, 'R', e->release_headers);
	w_record(&w, 'E', "", 0);
	uint64_t at = (uint64_t)e->body_offset + body_len;
	unsigned char foot[ENVELOPE_FOOTER_SIZE];
	memcpy(foot, FOOTER_MAGIC, 4);
	for (size_t i = 0; i < 8; i++)
		foot[4 + i] = (unsigned char)(at >> (8 * (7 - i)));
	w_bytes(&w, foot, sizeof(foot));
	*len = w.len;
	return w.buf;
}

bool envelope_decode_trailer(const unsigned char *p, size_t len, uint64_t tail_offset, struct envelope *e)
{
	if (len < ENVELOPE_FOOTER_SIZE || memcmp(p + len - ENVELOPE_FOOTER_SIZE, FOOTER_MAGIC, 4) != 0)
		return false;
	uint64_t at = be(p + len - 8, 8);
	size_t end = len - ENVELOPE_FOOTER_SIZE;  /* the trailer must end here */
	if (at < tail_offset || at - tail_offset > end || at < (uint64_t)e->body_offset)
		return false;
	size_t pos = (size_t)(at - tail_offset);
	bool ok = true, have_len = false;
	struct record r;
	while (ok && next_record(p, end, &pos, &r)) {
		size_t n = r.n;
		const unsigned char *d = r.d;
		switch (r.type) {
		case 'L':
			if (n != 8 || be(d, 8) != at - (uint64_t)e->body_offset)
				return false;
			have_len = true;
			break;
		case 'V': set_field(&e->verdict, dup_field(d, n, &ok)); break;
		case 'J': set_field(&e->subject_prefix, dup_field(d, n, &ok)); break;
		case 'A':
		case 'R':
			if (memchr(d, '\0', n) || !header_block_valid((const char *)d, n))
				return false;
			set_field(r.type == 'A' ? &e->add_headers : &e->release_headers, dup_field(d, n, &ok));
			break;
		case 'E':
			if (n != 0 || pos != end || !have_len)
				return false;
			e->body_end = (off_t)at;
			return ok;
		default:
			return false;
		}
	}
	return false;
}

/* The trailer of an "MWQ2" file: where the message ends, the verdict and
 * the headers to add. False if it is missing or torn. */
static bool load_trailer(int fd, off_t size, struct envelope *e)
{
	uint64_t from = (uint64_t)size > ENVELOPE_TRAILER_MAX ? (uint64_t)size - ENVELOPE_TRAILER_MAX : 0;
	if (from < (uint64_t)e->body_offset)
		from = (uint64_t)e->body_offset;
	size_t n = (size_t)((uint64_t)size - from);
	unsigned char *buf = xmalloc(n ? n : 1);
	bool ok = pread(fd, buf, n, (off_t)from) == (ssize_t)n && envelope_decode_trailer(buf, n, from, e);
	free(buf);
	return ok;
}

bool envelope_read(int fd, struct envelope *e)
{
	/* First: a caller clears e whatever the result (an empty file, as a
	 * power loss leaves one whose data never reached the disk, included). */
	memset(e, 0, sizeof(*e));
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0)
		return false;
	size_t want = (size_t)st.st_size < ENVELOPE_READ_MAX ? (size_t)st.st_size : ENVELOPE_READ_MAX;
	unsigned char *buf = xmalloc(want);
	ssize_t got = pread(fd, buf, want, 0);
	bool ok = got == (ssize_t)want && envelope_decode(buf, want, e);
	free(buf);
	if (ok && e->has_trailer)
		ok = load_trailer(fd, st.st_size, e);
	else if (ok)
		e->body_end = st.st_size;  /* "MWQ1": the message runs to the end */
	return ok;
}

bool queue_id_valid(const char *id)
{
	size_t i = 0;
	for (; id[i]; i++)
		if (i >= QUEUE_ID_LEN || !((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'F')))
			return false;
	return i == QUEUE_ID_LEN;
}

void queue_id_new(char id[QUEUE_ID_LEN + 1])
{
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)rand();
	snprintf(id, QUEUE_ID_LEN + 1, "%08X%08X", (unsigned)time(NULL), (unsigned)rnd);
}
