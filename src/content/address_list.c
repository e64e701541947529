/*
 * See address_list.h.
 */
#include "content/address_list.h"

#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "util/alloc.h"

/* Groups nest at most one level in RFC 5322; GMime accepts deeper ones,
 * which are walked to this depth and refused beyond it. */
#define GROUP_DEPTH_MAX 4

static void push(struct address_list *l, const char *addr)
{
	l->addrs = xreallocarray(l->addrs, l->n + 1, sizeof(*l->addrs));
	l->addrs[l->n++] = xstrdup(addr);
}

/* Every mailbox of list into out, groups flattened: false on an address
 * that cannot be a sender (empty, no '@': the null sender "<>" would
 * otherwise pass as "may always be used"). */
static bool collect(InternetAddressList *list, struct address_list *out, int depth)
{
	int n = internet_address_list_length(list);
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
			if (depth >= GROUP_DEPTH_MAX || !members || !collect(members, out, depth + 1))
				return false;
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			return false;
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		if (!addr || !addr[0] || !strchr(addr, '@'))
			return false;
		push(out, addr);
	}
	return true;
}

bool address_list_parse(const char *value, size_t len, struct address_list *out)
{
	memset(out, 0, sizeof(*out));
	if (memchr(value, '\0', len))
		return false;
	char *text = xstrndup(value, len);
	InternetAddressList *list = internet_address_list_parse(NULL, text);
	free(text);
	bool ok = list && collect(list, out, 0) && out->n > 0;
	if (list)
		g_object_unref(list);
	if (!ok)
		address_list_free(out);
	return ok;
}

void address_list_free(struct address_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->addrs[i]);
	free(l->addrs);
	memset(l, 0, sizeof(*l));
}
