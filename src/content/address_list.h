/*
 * The mailbox addresses of an address-list header field (RFC 5322 3.4:
 * From, Sender, ...), parsed with GMime's address parser so that groups,
 * comments, quoted names and obsolete syntax are read the way a mail
 * client reads them, not by a hand-made approximation. Runs in the
 * scanner's worker threads: each call builds and drops its own GMime
 * objects (GMime's objects are not shared between threads; its parser
 * functions are thread-safe once GMime is initialised: mime_prepare()).
 */
#ifndef MW_CONTENT_ADDRESS_LIST_H
#define MW_CONTENT_ADDRESS_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct address_list {
	char **addrs;        /* "local@domain", as written (no display names) */
	size_t n;
};

/* Parse the unfolded field value value[0..len): false, with *out empty,
 * if it holds no mailbox, a mailbox whose address is empty or has no
 * '@', or a NUL byte. Members of groups ("team: a@x, b@y;") count as
 * mailboxes of the list. */
bool address_list_parse(const char *value, size_t len, struct address_list *out);
void address_list_free(struct address_list *l);

#endif
