/*
 * See partners.h. Runs in the master and the configuration tools, before
 * any fork; no I/O.
 *
 *   emergency:
 *     partners:
 *       file: spool/partners.db      # the default; relative: to state_dir
 *       max_age: 180d                # the default
 *       text: only mail between known partners is accepted now; please try again later
 *       allow: [bank.test, auditor@firm.test]
 */
#include "config/partners.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "util/alloc.h"

#define PARTNERS_FILE "spool/partners.db"  /* the queue writes it: its own directory */
#define PARTNERS_ALLOW_MAX 10000
#define LOCAL_PART_MAX 64                  /* RFC 5321 section 4.5.3.1.1 */

/* Why s is no address or domain for the allow list, or NULL. */
static const char *allow_problem(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	if (!at)
		return schema_check_domain(s, len);
	size_t local = (size_t)(at - s);
	if (local == 0 || local > LOCAL_PART_MAX)
		return "an address needs a local part of 1 to 64 characters";
	for (size_t i = 0; i < local; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '@')
			return "the local part must be printable ASCII without spaces";
	return schema_check_domain(at + 1, len - local - 1);
}

static char *lower_dup(const char *s, size_t len)
{
	char *d = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		d[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	d[len] = 0;
	return d;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void partners_allow_load(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct fy_node *item;
	void *it = NULL;
	size_t n, count = 0;
	int prev = kline;
	bool empty;

	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of addresses and domains", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_sequence_item_count(v);
	if (n > PARTNERS_ALLOW_MAX) {
		loader_err(ld, kline, name, "more than %d entries", PARTNERS_ALLOW_MAX);
		return;
	}
	char **list = xcalloc(n ? n : 1, sizeof(*list));
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL && i < n; i++) {
		char iname[LOADER_NAME_SIZE];
		const char *s, *why;
		size_t len;
		int line;

		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		prev = loader_line(item, prev);
		if (!loader_scalar(ld, item, iname, prev, &s, &len, &line))
			continue;
		if ((why = allow_problem(s, len)) != NULL) {
			loader_err(ld, line, iname, "%s", why);
			continue;
		}
		list[count++] = lower_dup(s, len);
	}
	free_list(ld->cfg->emergency.partners.allow, ld->cfg->emergency.partners.n_allow);
	ld->cfg->emergency.partners.allow = list;
	ld->cfg->emergency.partners.n_allow = count;
}

void partners_finish(struct loader *ld)
{
	struct config *c = ld->cfg;
	const char *dir = c->state_dir ? c->state_dir : ".";
	char *file = c->emergency.partners.file;

	if (file && file[0] == '/')
		return;
	const char *rel = file ? file : PARTNERS_FILE;
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *path = xmalloc(n);
	snprintf(path, n, "%s/%s", dir, rel);
	free(file);
	c->emergency.partners.file = path;
}

void partners_free(struct config *c)
{
	free(c->emergency.partners.file);
	free(c->emergency.partners.text);
	free_list(c->emergency.partners.allow, c->emergency.partners.n_allow);
	c->emergency.partners.file = c->emergency.partners.text = NULL;
	c->emergency.partners.allow = NULL;
	c->emergency.partners.n_allow = 0;
}
