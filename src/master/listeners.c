#include "master/listeners.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "util/alloc.h"
#include "util/log.h"

#define LISTEN_BACKLOG 511
#define BIND_RETRY_SECONDS 5

static int socket_bound(const char *address, unsigned port, int *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		sl = sizeof(*v4);
	} else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*v6);
	} else {
		*err = EINVAL;
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	for (int tries = 0;; tries++) {
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
			break;
		if (errno != EADDRINUSE || tries >= BIND_RETRY_SECONDS * 10) {
			*err = errno;
			close(fd);
			return -1;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	/* Children inherit it on purpose: clear close-on-exec is not needed
	 * (we fork without exec), but keep it for any exec'd helper. */
	return fd;
}

static struct listener_socket *find_reusable(struct listener_set *old, const struct listener_cfg *l)
{
	for (size_t i = 0; old && i < old->n; i++)
		if (old->items[i].fd >= 0 && old->items[i].port == l->port &&
		    strcmp(old->items[i].address, l->address) == 0)
			return &old->items[i];
	return NULL;
}

bool listeners_bind(const struct config *c, struct listener_set *old, struct listener_set *out)
{
	out->items = xcalloc(c->n_listeners, sizeof(*out->items));
	out->n = 0;
	/* Where each new socket came from, so a failure can give it back. */
	struct listener_socket **origin = xcalloc(c->n_listeners, sizeof(*origin));
	bool ok = true;
	for (size_t i = 0; i < c->n_listeners && ok; i++) {
		const struct listener_cfg *l = &c->listeners[i];
		struct listener_socket *reuse = find_reusable(old, l);
		int fd, err = 0;
		if (reuse) {
			fd = reuse->fd;
			reuse->fd = -1;
		} else {
			fd = socket_bound(l->address, l->port, &err);
		}
		if (fd < 0) {
			log_event(LOG_ERR, "listen_error", "listener", l->name, "address", l->address,
				  "port", log_u64(l->port), "msg", strerror(err), NULL);
			ok = false;
			break;
		}
		origin[out->n] = reuse;
		out->items[out->n++] = (struct listener_socket){
			.name = xstrdup(l->name), .address = xstrdup(l->address), .port = l->port, .fd = fd };
		log_event(LOG_INFO, "listening", "listener", l->name, "address", l->address,
			  "port", log_u64(l->port), NULL);
	}
	if (ok) {
		if (old)
			listeners_close(old);
	} else {
		/* Leave the old set exactly as it was. */
		for (size_t i = 0; i < out->n; i++)
			if (origin[i]) {
				origin[i]->fd = out->items[i].fd;
				out->items[i].fd = -1;
			}
		listeners_close(out);
	}
	free(origin);
	return ok;
}

void listeners_close(struct listener_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->items[i].fd >= 0)
			close(set->items[i].fd);
		free(set->items[i].name);
		free(set->items[i].address);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}
