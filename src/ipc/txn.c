/*
 * See txn.h.
 */
#include "ipc/txn.h"

#include <stdio.h>
#include <string.h>

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

void ipc_eom_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_eom *e)
{
	ipc_msg_init(m, IPC_TXN_EOM, reqid);
	ipc_put_u64(m, e->size);
	ipc_put_u32(m, e->outbound ? EOM_F_OUTBOUND : 0);
	ipc_put_str(m, e->iprev);
	ipc_put_str(m, e->ptr);
	ipc_put_str(m, e->spf);
	ipc_put_str(m, e->spf_domain);
	uint32_t n = e->n_symbols < IPC_SYMBOLS_MAX ? e->n_symbols : IPC_SYMBOLS_MAX;
	ipc_put_u32(m, n);
	for (uint32_t i = 0; i < n; i++) {
		ipc_put_str(m, e->symbols[i].name);
		ipc_put_u32(m, (uint32_t)e->symbols[i].points);
	}
}

bool ipc_eom_decode(struct ipc_msg *m, struct ipc_eom *e)
{
	memset(e, 0, sizeof(*e));
	e->size = ipc_get_u64(m);
	uint32_t flags = ipc_get_u32(m);
	ipc_get_str(m, e->iprev, sizeof(e->iprev));
	ipc_get_str(m, e->ptr, sizeof(e->ptr));
	ipc_get_str(m, e->spf, sizeof(e->spf));
	ipc_get_str(m, e->spf_domain, sizeof(e->spf_domain));
	e->n_symbols = ipc_get_u32(m);
	if (m->bad || e->n_symbols > IPC_SYMBOLS_MAX || (flags & ~EOM_F_OUTBOUND))
		return false;
	e->outbound = flags & EOM_F_OUTBOUND;
	for (uint32_t i = 0; i < e->n_symbols; i++) {
		ipc_get_str(m, e->symbols[i].name, sizeof(e->symbols[i].name));
		e->symbols[i].points = (int32_t)ipc_get_u32(m);
		if (m->bad || !ipc_symbol_name_ok(e->symbols[i].name))
			return false;
	}
	return ipc_get_end(m) && token_ok(e->iprev) && token_ok(e->ptr) && token_ok(e->spf) &&
	       token_ok(e->spf_domain);
}
