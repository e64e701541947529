#include "net/srcaddr.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#define SRCADDR_TEXT_MAX 64

const char *srcaddr_parse(const char *s, size_t len, struct srcaddr *out)
{
	struct srcaddr a = { 0 };
	size_t i = 0, n = 0;
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == ','))
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && s[i] != ' ' && s[i] != ',')
			i++;
		char text[SRCADDR_TEXT_MAX];
		if (i - start >= sizeof(text) || ++n > 2)
			return "one IPv4 and/or one IPv6 address (numeric), e.g. \"192.0.2.25 2001:db8::25\"";
		memcpy(text, s + start, i - start);
		text[i - start] = '\0';
		if (inet_pton(AF_INET, text, &a.v4.sin_addr) == 1 && !a.has_v4) {
			a.v4.sin_family = AF_INET;
			a.has_v4 = true;
		} else if (inet_pton(AF_INET6, text, &a.v6.sin6_addr) == 1 && !a.has_v6) {
			a.v6.sin6_family = AF_INET6;
			a.has_v6 = true;
		} else {
			return "one IPv4 and/or one IPv6 address (numeric), e.g. \"192.0.2.25 2001:db8::25\"";
		}
	}
	if (n == 0)
		return "one IPv4 and/or one IPv6 address (numeric), e.g. \"192.0.2.25 2001:db8::25\"";
	if (out)
		*out = a;
	return NULL;
}

const struct sockaddr *srcaddr_for(const struct srcaddr *a, int family, size_t *len)
{
	if (a && family == AF_INET && a->has_v4) {
		*len = sizeof(a->v4);
		return (const struct sockaddr *)&a->v4;
	}
	if (a && family == AF_INET6 && a->has_v6) {
		*len = sizeof(a->v6);
		return (const struct sockaddr *)&a->v6;
	}
	return NULL;
}
