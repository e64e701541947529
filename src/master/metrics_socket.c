/*
 * Binding the metrics endpoint; see metrics_socket.h.
 */
#include "master/metrics_socket.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "net/listen_addr.h"

#define METRICS_BACKLOG 16  /* a scraper or two; the endpoint serves few connections at once */

bool metrics_socket_bind(const struct config *c, int *fd, char *why, size_t whylen)
{
	*fd = -1;
	if (!c->metrics.listen)
		return true;
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!listen_addr_parse(c->metrics.listen, &ss, &sl)) {  /* check-config refused it already */
		snprintf(why, whylen, "metrics.listen: not ADDR:PORT: %s", c->metrics.listen);
		return false;
	}
	int s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (s >= 0) {
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&ss, sl) == 0 && listen(s, METRICS_BACKLOG) == 0) {
			*fd = s;
			return true;
		}
	}
	snprintf(why, whylen, "metrics.listen: cannot listen on %s: %s", c->metrics.listen, strerror(errno));
	if (s >= 0)
		close(s);
	return false;
}
