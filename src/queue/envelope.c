#include "queue/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/alloc.h"

#define ENVELOPE_MAGIC "MWQ1"
#define RECORD_HEADER 5
#define RECORD_MAX (1u << 16)

void envelope_add_rcpt(struct envelope *e, const char *addr)
{
	e->rcpts = xreallocarray(e->rcpts, e->n_rcpts + 1, sizeof(*e->rcpts));
	e->rcpts[e->n_rcpts++] = (struct envelope_rcpt){ .addr = xstrdup(addr), .status = RCPT_PENDING };
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
	if (e->verdict)
		w_str(&w, 'V', e->verdict);
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

bool envelope_decode(const unsigned char *p, size_t len, struct envelope *e)
{
	if (len < 4 || memcmp(p, ENVELOPE_MAGIC, 4) != 0)
		return false;
	size_t pos = 4;
	bool ok = true;
	while (ok) {
		if (len - pos < RECORD_HEADER)
			return false;
		char type = (char)p[pos];
		size_t n = (size_t)be(p + pos + 1, 4);
		size_t data = pos + RECORD_HEADER;
		if (n > RECORD_MAX || n > len - data)
			return false;
		const unsigned char *d = p + data;
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
		pos = data + n;
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
	for (size_t i = 0; i < e->n_rcpts; i++) {
		free(e->rcpts[i].addr);
		free(e->rcpts[i].dsn_notify);
		free(e->rcpts[i].dsn_orcpt);
	}
	free(e->rcpts);
	memset(e, 0, sizeof(*e));
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
