/*
 * The numeric text of a socket address's IP ("192.0.2.1", "2001:db8::1"),
 * for logs, reports and lookups. Pure logic.
 */
#ifndef MW_NET_ADDR_TEXT_H
#define MW_NET_ADDR_TEXT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <sys/socket.h>

/* sa's address into out; false (out left as it was) for a family other
 * than AF_INET and AF_INET6. */
bool addr_text(const struct sockaddr *sa, char out[INET6_ADDRSTRLEN]);

#endif
