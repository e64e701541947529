/*
 * See clamd.h. The protocol is clamd's own (clamd(8), "INSTREAM").
 */
#include "content/clamd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Below clamd's StreamMaxLength granularity, large enough that the
 * length prefixes cost nothing. */
#define CHUNK_MAX (64u * 1024)

bool clamd_target_parse(const char *address, struct clamd_target *t, char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(address, ':');
	size_t hlen = colon ? (size_t)(colon - address) : 0;
	if (!colon || hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "not an address:port (e.g. 127.0.0.1:3310)");
		return false;
	}
	memcpy(host, address, hlen);
	host[hlen] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port == 0 || port > 65535) {
		snprintf(err, errlen, "port must be 1 to 65535");
		return false;
	}
	memset(&t->addr, 0, sizeof(t->addr));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&t->addr;
	bool bracketed = hlen > 2 && host[0] == '[' && host[hlen - 1] == ']';
	if (bracketed) {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons((uint16_t)port);
			t->addrlen = sizeof(*v6);
			return true;
		}
	} else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		t->addrlen = sizeof(*v4);
		return true;
	}
	snprintf(err, errlen, "not a numeric IPv4 address or [IPv6] address (no names: the scanner is chrooted)");
	return false;
}

void clamd_parse_reply(const char *reply, size_t len, struct malware_verdict *out)
{
	while (len > 0 && (reply[len - 1] == '\0' || reply[len - 1] == '\n'))
		len--;
	static const char prefix[] = "stream: ", ok[] = "OK", found[] = " FOUND";
	const size_t plen = sizeof(prefix) - 1, flen = sizeof(found) - 1;
	bool stream = len >= plen && memcmp(reply, prefix, plen) == 0;
	const char *rest = reply + (stream ? plen : 0);
	size_t rlen = len - (stream ? plen : 0);
	if (stream && rlen == sizeof(ok) - 1 && memcmp(rest, ok, rlen) == 0) {
		out->status = MALWARE_CLEAN;
		out->text[0] = '\0';
	} else if (stream && rlen > flen && memcmp(rest + rlen - flen, found, flen) == 0 &&
		   memchr(rest, '\0', rlen) == NULL) {
		out->status = MALWARE_FOUND;
		malware_verdict_text(out, rest, rlen - flen);
	} else {
		/* "... ERROR", "INSTREAM size limit exceeded. ERROR", or nonsense */
		out->status = MALWARE_ERROR;
		malware_verdict_text(out, reply, len);
		if (len == 0)
			malware_verdict_text(out, "empty reply from clamd", strlen("empty reply from clamd"));
	}
}

/* --- one connection ---------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes. */
static bool wait_for(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

static int connect_by(const struct clamd_target *t, long long deadline, const char **why)
{
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = "socket failed";
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) == 0)
		return fd;
	int err = errno;
	socklen_t elen = sizeof(err);
	if (err == EINPROGRESS && wait_for(fd, POLLOUT, deadline) &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0)
		return fd;
	*why = err == EINPROGRESS ? "connect timed out" : "connect failed (clamd not running?)";
	close(fd);
	return -1;
}

static bool send_all(int fd, const void *data, size_t len, long long deadline)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return false;
		} else if (n < 0 && errno == EAGAIN && !wait_for(fd, POLLOUT, deadline)) {
			return false;
		}
	}
	return true;
}

/* The command, the buffer in chunks, the end mark. False: clamd stopped
 * reading (it may still have said why: the caller reads the reply). */
static bool send_stream(int fd, const char *buf, size_t len, long long deadline)
{
	static const char command[] = "zINSTREAM";  /* with its NUL: the z form */
	if (!send_all(fd, command, sizeof(command), deadline))
		return false;
	for (size_t off = 0; off < len;) {
		uint32_t n = (uint32_t)(len - off < CHUNK_MAX ? len - off : CHUNK_MAX);
		uint32_t be = htonl(n);
		if (!send_all(fd, &be, sizeof(be), deadline) || !send_all(fd, buf + off, n, deadline))
			return false;
		off += n;
	}
	uint32_t end = 0;
	return send_all(fd, &end, sizeof(end), deadline);
}

/* Up to the NUL that ends the reply, or EOF; -1: timeout or too long. */
static ssize_t read_reply(int fd, char *out, size_t cap, long long deadline)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t n = recv(fd, out + got, cap - got, 0);
		if (n == 0)
			return (ssize_t)got;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno != EAGAIN || !wait_for(fd, POLLIN, deadline)))
			return -1;
		if (n > 0) {
			got += (size_t)n;
			if (memchr(out + got - (size_t)n, '\0', (size_t)n))
				return (ssize_t)got;
		}
	}
	return -1;
}

static void error_text(struct malware_verdict *out, const char *why)
{
	out->status = MALWARE_ERROR;
	malware_verdict_text(out, why, strlen(why));
}

void clamd_scan(const void *ctx, const char *buf, size_t len, const char *name, struct malware_verdict *out)
{
	(void)name;
	const struct clamd_target *t = ctx;
	long long deadline = now_ms() + t->timeout_ms;
	const char *why = NULL;
	int fd = connect_by(t, deadline, &why);
	if (fd < 0) {
		error_text(out, why);
		return;
	}
	bool sent = send_stream(fd, buf, len, deadline);
	char reply[CLAMD_REPLY_MAX];
	ssize_t n = read_reply(fd, reply, sizeof(reply), deadline);
	close(fd);
	if (n < 0)
		error_text(out, now_ms() >= deadline ? "clamd timed out" : "clamd's reply unreadable or too long");
	else if (n == 0 && !sent)
		error_text(out, "clamd closed the connection");
	else
		clamd_parse_reply(reply, (size_t)n, out);
}
