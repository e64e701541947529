/*
 * MX hosts that are ourselves, by address (RFC 5321 5.1; attack catalogue
 * case 154). mx_plan() drops our own hostname from the MX list; this
 * judges the addresses the hosts resolve to, since DNS can point any name
 * at us. Pure; runs in the queue process.
 *
 * An address is ourselves when a connection to it on queue.mx_port would
 * reach:
 * - this machine's loopback: 127.0.0.0/8, ::1, "this host" 0.0.0.0/8 and
 *   :: (Linux connects those to loopback) and their IPv4-mapped forms.
 *   An MX answer that points there is a mistake or an attack on the
 *   services of the machine; queue.mx_allow_loopback lets a test setup,
 *   whose MX hosts listen on loopback, deliver there;
 * - one of our listeners: its address, or any loopback address when it
 *   listens on the wildcard, on the port MX delivery uses. This one is
 *   never allowed: mail would come straight back.
 * The machine's other interface addresses behind a wildcard listener are
 * not known here; the Received hop count ends such loops.
 */
#ifndef MW_QUEUE_MX_SELF_H
#define MW_QUEUE_MX_SELF_H

#include <sys/socket.h>

struct config;

enum mx_self { MX_SELF_NO, MX_SELF_LOOPBACK, MX_SELF_LISTENER };

/* Is a connection to ss on queue.mx_port a connection to ourselves? */
enum mx_self mx_self_addr(const struct config *c, const struct sockaddr_storage *ss);

/* For logs: "loopback address", "address of a listener of this gateway". */
const char *mx_self_name(enum mx_self why);

#endif
