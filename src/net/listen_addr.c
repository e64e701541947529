/*
 * ADDR:PORT parsing; see listen_addr.h.
 */
#include "net/listen_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static bool port_parse(const char *s, in_port_t *port)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	long v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return false;
	*port = htons((uint16_t)v);
	return true;
}

bool listen_addr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon;
	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {  /* [ADDR]:PORT: an IPv6 address has colons of its own */
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
			return false;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		a6->sin6_family = AF_INET6;
		*len = sizeof(*a6);
		return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1 && port_parse(close + 2, &a6->sin6_port);
	}
	colon = strrchr(text, ':');
	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return false;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	a4->sin_family = AF_INET;
	*len = sizeof(*a4);
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1 && port_parse(colon + 1, &a4->sin_port);
}
