#include "ipc/msg.h"

#include <string.h>

bool ipc_type_known(uint16_t type)
{
	switch ((enum ipc_type)type) {
	case IPC_HELLO:
	case IPC_TXN_BEGIN: case IPC_TXN_RCPT: case IPC_TXN_OPEN:
	case IPC_TXN_ABORT:
	case IPC_TXN_DSN: case IPC_TXN_RCPT_DSN: case IPC_TXN_EOM: case IPC_SESSIONS:
	case IPC_TXN_OPENED: case IPC_TXN_COMMITTED: case IPC_TXN_FAILED:
	case IPC_TXN_REFUSED: case IPC_TXN_DISCARDED:
	case IPC_SCAN_FILE: case IPC_LEVEL: case IPC_SPOOL_SPACE:
	case IPC_MASTER_CHANNEL: case IPC_MASTER_CONFIG: case IPC_BAYES_SAMPLE:
	case IPC_SCAN_REQUEST: case IPC_SCAN_RESULT:
		return true;
	}
	return false;
}

const char *ipc_type_name(uint16_t type)
{
	switch ((enum ipc_type)type) {
	case IPC_HELLO: return "hello";
	case IPC_TXN_BEGIN: return "txn_begin";
	case IPC_TXN_RCPT: return "txn_rcpt";
	case IPC_TXN_OPEN: return "txn_open";
	case IPC_TXN_ABORT: return "txn_abort";
	case IPC_TXN_DSN: return "txn_dsn";
	case IPC_TXN_RCPT_DSN: return "txn_rcpt_dsn";
	case IPC_TXN_OPENED: return "txn_opened";
	case IPC_TXN_COMMITTED: return "txn_committed";
	case IPC_TXN_FAILED: return "txn_failed";
	case IPC_TXN_EOM: return "txn_eom";
	case IPC_SESSIONS: return "sessions";
	case IPC_TXN_REFUSED: return "txn_refused";
	case IPC_TXN_DISCARDED: return "txn_discarded";
	case IPC_SCAN_FILE: return "scan_file";
	case IPC_LEVEL: return "level";
	case IPC_SPOOL_SPACE: return "spool_space";
	case IPC_MASTER_CHANNEL: return "master_channel";
	case IPC_MASTER_CONFIG: return "master_config";
	case IPC_BAYES_SAMPLE: return "bayes_sample";
	case IPC_SCAN_REQUEST: return "scan_request";
	case IPC_SCAN_RESULT: return "scan_result";
	}
	return "unknown";
}

static void put_be(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

void ipc_msg_init(struct ipc_msg *m, uint16_t type, uint32_t reqid)
{
	m->type = type;
	m->reqid = reqid;
	m->bad = false;
	put_be(m->data, type, 2);
	put_be(m->data + 2, 0, 2);
	put_be(m->data + 4, reqid, 4);
	m->len = IPC_HEADER_SIZE;
	m->pos = IPC_HEADER_SIZE;
}

static unsigned char *put_room(struct ipc_msg *m, size_t n)
{
	if (m->bad || n > sizeof(m->data) - m->len) {
		m->bad = true;
		return NULL;
	}
	unsigned char *p = m->data + m->len;
	m->len += n;
	return p;
}

void ipc_put_u32(struct ipc_msg *m, uint32_t v)
{
	unsigned char *p = put_room(m, 4);
	if (p)
		put_be(p, v, 4);
}

void ipc_put_u64(struct ipc_msg *m, uint64_t v)
{
	unsigned char *p = put_room(m, 8);
	if (p)
		put_be(p, v, 8);
}

void ipc_put_str(struct ipc_msg *m, const char *s)
{
	size_t n = strlen(s);
	if (n > IPC_STRING_MAX) {
		m->bad = true;
		return;
	}
	ipc_put_u32(m, (uint32_t)n);
	unsigned char *p = put_room(m, n);
	if (p)
		memcpy(p, s, n);
}

bool ipc_msg_decode(struct ipc_msg *m, const void *buf, size_t len)
{
	if (len < IPC_HEADER_SIZE || len > sizeof(m->data))
		return false;
	memcpy(m->data, buf, len);
	m->len = len;
	m->pos = IPC_HEADER_SIZE;
	m->bad = false;
	m->type = (uint16_t)get_be(m->data, 2);
	m->reqid = (uint32_t)get_be(m->data + 4, 4);
	return get_be(m->data + 2, 2) == 0 && ipc_type_known(m->type);
}

static const unsigned char *get_room(struct ipc_msg *m, size_t n)
{
	if (m->bad || n > m->len - m->pos) {
		m->bad = true;
		return NULL;
	}
	const unsigned char *p = m->data + m->pos;
	m->pos += n;
	return p;
}

uint32_t ipc_get_u32(struct ipc_msg *m)
{
	const unsigned char *p = get_room(m, 4);
	return p ? (uint32_t)get_be(p, 4) : 0;
}

uint64_t ipc_get_u64(struct ipc_msg *m)
{
	const unsigned char *p = get_room(m, 8);
	return p ? get_be(p, 8) : 0;
}

const char *ipc_get_str(struct ipc_msg *m, char *out, size_t cap)
{
	out[0] = '\0';
	uint32_t n = ipc_get_u32(m);
	if (m->bad || n > IPC_STRING_MAX || n >= cap) {
		m->bad = true;
		return out;
	}
	const unsigned char *p = get_room(m, n);
	if (!p || memchr(p, '\0', n)) {
		m->bad = true;
		return out;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

bool ipc_get_end(struct ipc_msg *m)
{
	return !m->bad && m->pos == m->len;
}
