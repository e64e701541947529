/*
 * See addr_text.h.
 */
#include "net/addr_text.h"

#include <netinet/in.h>
#include <stddef.h>

bool addr_text(const struct sockaddr *sa, char out[INET6_ADDRSTRLEN])
{
	const void *bin;
	if (sa->sa_family == AF_INET)
		bin = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		bin = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return false;
	return inet_ntop(sa->sa_family, bin, out, INET6_ADDRSTRLEN) != NULL;
}
