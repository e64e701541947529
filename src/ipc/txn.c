/*
 * See txn.h.
 */
#include "ipc/txn.h"

#include <stdio.h>
#include <string.h>

#include "util/headerfield.h"

#define EOM_F_OUTBOUND 0x1u

bool ipc_symbol_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > IPC_SYMBOL_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Result words and names that go into a header: printable, no spaces
 * where the header syntax would break. */
static bool token_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == ';' || *s == '(' || *s == ')' || *s == '\\')
			return false;
	return true;
}

bool ipc_auth_results_ok(const char *s)
{
	bool in_comment = false;
	for (; *s; s++) {
		if (*s < ' ' || *s > '~' || *s == '\\' || *s == '"')
			return false;
		if (*s == '(' || *s == ')') {
			if (in_comment != (*s == ')'))
				return false;
			in_comment = *s == '(';
		}
	}
	return !in_comment;
}

static void put_symbols(struct ipc_msg *m, const struct ipc_symbol *s, uint32_t n)
{
	if (n > IPC_SYMBOLS_MAX)
		n = IPC_SYMBOLS_MAX;
	ipc_put_u32(m, n);
	for (uint32_t i = 0; i < n; i++) {
		ipc_put_str(m, s[i].name);
		ipc_put_u32(m, (uint32_t)s[i].points);
	}
}

static bool get_symbols(struct ipc_msg *m, struct ipc_symbol *s, uint32_t *n)
{
	*n = ipc_get_u32(m);
	if (m->bad || *n > IPC_SYMBOLS_MAX)
		return false;
	for (uint32_t i = 0; i < *n; i++) {
		ipc_get_str(m, s[i].name, sizeof(s[i].name));
		s[i].points = (int32_t)ipc_get_u32(m);
		if (m->bad || !ipc_symbol_name_ok(s[i].name) || s[i].points > IPC_SYMBOL_POINTS_MAX ||
		    s[i].points < -IPC_SYMBOL_POINTS_MAX)
			return false;
	}
	return true;
}

void ipc_eom_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_eom *e)
{
	ipc_msg_init(m, IPC_TXN_EOM, reqid);
	ipc_put_u64(m, e->size);
	ipc_put_u32(m, e->outbound ? EOM_F_OUTBOUND : 0);
	ipc_put_u32(m, e->level);
	ipc_put_u32(m, e->rehearse);
	ipc_put_str(m, e->rehearsal);
	ipc_put_str(m, e->iprev);
	ipc_put_str(m, e->ptr);
	ipc_put_str(m, e->spf);
	ipc_put_str(m, e->spf_domain);
	ipc_put_str(m, e->auth);
	put_symbols(m, e->symbols, e->n_symbols);
}

bool ipc_eom_decode(struct ipc_msg *m, struct ipc_eom *e)
{
	memset(e, 0, sizeof(*e));
	e->size = ipc_get_u64(m);
	uint32_t flags = ipc_get_u32(m);
	e->level = ipc_get_u32(m);
	e->rehearse = ipc_get_u32(m);
	ipc_get_str(m, e->rehearsal, sizeof(e->rehearsal));
	ipc_get_str(m, e->iprev, sizeof(e->iprev));
	ipc_get_str(m, e->ptr, sizeof(e->ptr));
	ipc_get_str(m, e->spf, sizeof(e->spf));
	ipc_get_str(m, e->spf_domain, sizeof(e->spf_domain));
	ipc_get_str(m, e->auth, sizeof(e->auth));
	if (!get_symbols(m, e->symbols, &e->n_symbols) || (flags & ~EOM_F_OUTBOUND))
		return false;
	e->outbound = flags & EOM_F_OUTBOUND;
	return ipc_get_end(m) && token_ok(e->iprev) && token_ok(e->ptr) && token_ok(e->spf) &&
	       token_ok(e->spf_domain) && token_ok(e->rehearsal);
}

void ipc_scan_request_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_scan_request *r)
{
	ipc_msg_init(m, IPC_SCAN_REQUEST, reqid);
	ipc_put_u32(m, r->outbound ? EOM_F_OUTBOUND : 0);
	ipc_put_u32(m, r->level);
	ipc_put_u32(m, r->rehearse);
	ipc_put_u64(m, r->size);
	ipc_put_str(m, r->queue_id);
	ipc_put_str(m, r->client);
	ipc_put_str(m, r->helo);
	ipc_put_str(m, r->sender);
	ipc_put_str(m, r->auth);
	ipc_put_str(m, r->spf);
	ipc_put_str(m, r->spf_domain);
	ipc_put_u32(m, r->n_rcpts);
	uint32_t listed = r->n_listed < IPC_SCAN_RCPTS_MAX ? r->n_listed : IPC_SCAN_RCPTS_MAX;
	ipc_put_u32(m, listed);
	for (uint32_t i = 0; i < listed; i++)
		ipc_put_str(m, r->rcpts[i]);
	put_symbols(m, r->symbols, r->n_symbols);
}

bool ipc_scan_request_decode(struct ipc_msg *m, struct ipc_scan_request *r)
{
	memset(r, 0, sizeof(*r));
	uint32_t flags = ipc_get_u32(m);
	r->level = ipc_get_u32(m);
	r->rehearse = ipc_get_u32(m);
	r->size = ipc_get_u64(m);
	ipc_get_str(m, r->queue_id, sizeof(r->queue_id));
	ipc_get_str(m, r->client, sizeof(r->client));
	ipc_get_str(m, r->helo, sizeof(r->helo));
	ipc_get_str(m, r->sender, sizeof(r->sender));
	ipc_get_str(m, r->auth, sizeof(r->auth));
	ipc_get_str(m, r->spf, sizeof(r->spf));
	ipc_get_str(m, r->spf_domain, sizeof(r->spf_domain));
	r->n_rcpts = ipc_get_u32(m);
	r->n_listed = ipc_get_u32(m);
	if (m->bad || r->n_listed > IPC_SCAN_RCPTS_MAX || r->n_listed > r->n_rcpts)
		return false;
	for (uint32_t i = 0; i < r->n_listed; i++)
		ipc_get_str(m, r->rcpts[i], sizeof(r->rcpts[i]));
	r->outbound = flags & EOM_F_OUTBOUND;
	return get_symbols(m, r->symbols, &r->n_symbols) && ipc_get_end(m) && !(flags & ~EOM_F_OUTBOUND) &&
	       token_ok(r->queue_id) && token_ok(r->spf) && token_ok(r->spf_domain);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			return false;
	return true;
}

static bool reply_ok(const char *s)
{
	return strlen(s) >= 4 && (s[0] == '4' || s[0] == '5') && s[3] == ' ' && printable(s);
}

void ipc_scan_result_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_scan_result *r)
{
	ipc_msg_init(m, IPC_SCAN_RESULT, reqid);
	put_symbols(m, r->symbols, r->n_symbols);
	ipc_put_u32(m, r->refused ? 1 : 0);
	ipc_put_str(m, r->refused ? r->reply : "");
	ipc_put_str(m, r->headers);
	ipc_put_str(m, r->auth_results);
	ipc_put_u32(m, !r->rewritten ? 0 : r->stripped ? 2 : 1);
	ipc_put_u64(m, r->rewritten ? r->rewritten_size : 0);
	ipc_put_u32(m, r->hold);
	ipc_put_str(m, r->hold ? r->hold_detail : "");
	ipc_put_u32(m, r->malware ? 1 : 0);
	ipc_put_u32(m, r->rehearsed);
	ipc_put_str(m, r->rehearsed ? r->rehearsed_by : "");
	ipc_put_str(m, r->release_headers);
}


bool ipc_scan_result_decode(struct ipc_msg *m, struct ipc_scan_result *r)
{
	memset(r, 0, sizeof(*r));
	if (!get_symbols(m, r->symbols, &r->n_symbols))
		return false;
	uint32_t refused = ipc_get_u32(m);
	ipc_get_str(m, r->reply, sizeof(r->reply));
	ipc_get_str(m, r->headers, sizeof(r->headers));
	ipc_get_str(m, r->auth_results, sizeof(r->auth_results));
	uint32_t rewritten = ipc_get_u32(m);
	r->rewritten_size = ipc_get_u64(m);
	r->hold = ipc_get_u32(m);
	ipc_get_str(m, r->hold_detail, sizeof(r->hold_detail));
	uint32_t malware = ipc_get_u32(m);
	r->malware = malware == 1;
	r->rehearsed = ipc_get_u32(m);
	ipc_get_str(m, r->rehearsed_by, sizeof(r->rehearsed_by));
	ipc_get_str(m, r->release_headers, sizeof(r->release_headers));
	r->refused = refused == 1;
	r->rewritten = rewritten == 1 || rewritten == 2;
	r->stripped = rewritten == 2;
	return ipc_get_end(m) && refused <= 1 && malware <= 1 && (!r->refused || reply_ok(r->reply)) &&
	       (r->refused || !r->reply[0]) && header_block_valid(r->headers, strlen(r->headers)) &&
	       ipc_auth_results_ok(r->auth_results) && rewritten <= 2 && (r->rewritten || r->rewritten_size == 0) &&
	       r->hold <= IPC_HOLD_MALWARE && (r->hold || !r->hold_detail[0]) && printable(r->hold_detail) &&
	       r->rehearsed <= IPC_REHEARSED_REFUSE && (r->rehearsed || !r->rehearsed_by[0]) && token_ok(r->rehearsed_by) &&
	       header_block_valid(r->release_headers, strlen(r->release_headers));
}

void ipc_txn_begin_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_txn_begin *b)
{
	ipc_msg_init(m, IPC_TXN_BEGIN, reqid);
	ipc_put_str(m, b->session);
	ipc_put_str(m, b->client);
	ipc_put_str(m, b->helo);
	ipc_put_str(m, b->sender);
	ipc_put_u64(m, b->size);
	ipc_put_u32(m, b->flags);
}

bool ipc_txn_begin_decode(struct ipc_msg *m, struct ipc_txn_begin *b)
{
	ipc_get_str(m, b->session, sizeof(b->session));
	ipc_get_str(m, b->client, sizeof(b->client));
	ipc_get_str(m, b->helo, sizeof(b->helo));
	ipc_get_str(m, b->sender, sizeof(b->sender));
	b->size = ipc_get_u64(m);
	b->flags = ipc_get_u32(m);
	return ipc_get_end(m) && !(b->flags & ~(IPC_TXN_F_8BITMIME | IPC_TXN_F_SMTPUTF8 | IPC_TXN_F_REQUIRETLS));
}

void ipc_txn_text_encode(struct ipc_msg *m, uint16_t type, uint32_t reqid, const char *text)
{
	ipc_msg_init(m, type, reqid);
	ipc_put_str(m, text);
}

bool ipc_txn_text_decode(struct ipc_msg *m, char *text, size_t cap)
{
	ipc_get_str(m, text, cap);
	return ipc_get_end(m);
}

void ipc_txn_pair_encode(struct ipc_msg *m, uint16_t type, uint32_t reqid, const char *a, const char *b)
{
	ipc_msg_init(m, type, reqid);
	ipc_put_str(m, a);
	ipc_put_str(m, b);
}

bool ipc_txn_pair_decode(struct ipc_msg *m, char *a, size_t acap, char *b, size_t bcap)
{
	ipc_get_str(m, a, acap);
	ipc_get_str(m, b, bcap);
	return ipc_get_end(m);
}

void ipc_txn_empty_encode(struct ipc_msg *m, uint16_t type, uint32_t reqid)
{
	ipc_msg_init(m, type, reqid);
}

bool ipc_txn_empty_decode(struct ipc_msg *m)
{
	return ipc_get_end(m);
}

void ipc_scan_file_encode(struct ipc_msg *m, uint32_t index, uint32_t total)
{
	ipc_msg_init(m, IPC_SCAN_FILE, 0);
	ipc_put_u32(m, index);
	ipc_put_u32(m, total);
}

void ipc_level_encode(struct ipc_msg *m, uint32_t n, uint32_t rehearse)
{
	ipc_msg_init(m, IPC_LEVEL, 0);
	ipc_put_u32(m, n);
	ipc_put_u32(m, rehearse);
}

bool ipc_level_decode(struct ipc_msg *m, uint32_t *n, uint32_t *rehearse)
{
	*n = ipc_get_u32(m);
	*rehearse = ipc_get_u32(m);
	return ipc_get_end(m);
}

void ipc_spool_space_encode(struct ipc_msg *m, uint64_t free_bytes)
{
	ipc_msg_init(m, IPC_SPOOL_SPACE, 0);
	ipc_put_u64(m, free_bytes);
}

bool ipc_spool_space_decode(struct ipc_msg *m, uint64_t *free_bytes)
{
	*free_bytes = ipc_get_u64(m);
	return ipc_get_end(m);
}

void ipc_sessions_encode(struct ipc_msg *m, uint32_t n)
{
	ipc_msg_init(m, IPC_SESSIONS, 0);
	ipc_put_u32(m, n);
}

bool ipc_sessions_decode(struct ipc_msg *m, uint32_t *n)
{
	*n = ipc_get_u32(m);
	return ipc_get_end(m);
}

bool ipc_scan_file_decode(struct ipc_msg *m, uint32_t *index, uint32_t *total)
{
	*index = ipc_get_u32(m);
	*total = ipc_get_u32(m);
	return ipc_get_end(m) && *index < *total;
}
