/*
 * "ADDR:PORT" and "[ADDR]:PORT" with a numeric address, as the metrics
 * endpoint's address is written (metrics.listen). Pure; used by the
 * configuration check and by the master when it binds.
 */
#ifndef MW_NET_LISTEN_ADDR_H
#define MW_NET_LISTEN_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Parse text into *ss (*len set). false: not that form, the address is
 * not numeric, or the port is not 1 to 65535. */
bool listen_addr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len);

#endif
