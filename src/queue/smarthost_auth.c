/*
 * The smart host's credentials: see smarthost_auth.h.
 */
#include "queue/smarthost_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/sasl.h"
#include "config/config.h"
#include "config/loader.h"
#include "config/mapping.h"
#include "policy/route.h"
#include "queue/config.h"
#include "util/alloc.h"
#include "util/log.h"

#define CREDENTIALS_FILE_MAX 4096   /* one line, comments: a larger file is a mistake */

/* smart_host_auth: as it is read; found once credentials has a value
 * that is a single one (a bad file name counts: it is reported itself). */
struct auth_entry {
	char *path;
	int line;
	bool found;
};

static void load_credentials(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct auth_entry *e = field;
	const char *s;
	size_t len;
	int vl;

	if (!loader_scalar(ld, v, name, kline, &s, &len, &vl))
		return;
	e->found = true;
	if (len == 0 || len > 4095 || memchr(s, '\0', len)) {
		loader_err(ld, vl, name, "must be a file name");
		return;
	}
	free(e->path);
	e->path = xstrndup(s, len);
	e->line = vl;
}

static const struct mapping_key auth_keys[] = {
	{ "credentials", load_credentials, 0 },
};

void smarthost_auth_parse(struct loader *ld, struct fy_node *v, const char *name, int kline, char **path,
			  int *line)
{
	struct auth_entry e = { *path, *line, false };
	bool empty;

	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping ({credentials: FILE})", &empty))
		return;
	MAPPING_LOAD(ld, v, name, kline, auth_keys, &e);
	*path = e.path;
	*line = e.line;
	if (!e.found)
		loader_err(ld, kline, name, "needs credentials: FILE (a \"user password\" line)");
}

static bool field_ok(const char *s, size_t len)
{
	if (len == 0 || len > SASL_FIELD_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return false;
	return true;
}

/* One "user password" line (no line end) into out. */
static bool parse_line(char *line, struct sasl_creds *out, const char **why)
{
	size_t ulen = strcspn(line, " \t");
	char *pw = line + ulen;
	pw += strspn(pw, " \t");
	size_t plen = strlen(pw);
	if (ulen == 0 || plen == 0) {
		*why = "expected 'user password'";
		return false;
	}
	if (!field_ok(line, ulen) || !field_ok(pw, plen)) {
		*why = "user and password: 1 to 255 bytes each, no control bytes";
		return false;
	}
	memcpy(out->user, line, ulen);
	out->user[ulen] = '\0';
	memcpy(out->password, pw, plen);
	out->password[plen] = '\0';
	return true;
}

/* The file's lines: exactly one that is neither empty nor a comment. */
static bool parse_file(char *text, struct sasl_creds *out, const char *path, char *err, size_t errlen)
{
	unsigned lineno = 0, found = 0;
	const char *why = NULL;
	for (char *line = text, *next; line && *line; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (found++)
			why = "only one 'user password' line is allowed";
		else
			parse_line(line, out, &why);
		if (why) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			return false;
		}
	}
	if (!found)
		snprintf(err, errlen, "%s: no 'user password' line", path);
	return found == 1;
}

bool smarthost_auth_read(const char *path, struct sasl_creds *out, char *err, size_t errlen)
{
	char text[CREDENTIALS_FILE_MAX + 1];
	struct stat st;
	ssize_t n = -1;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	/* Like ssh with its keys: a secret others can read is refused, so
	 * the mistake is fixed before the password leaks further. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		snprintf(err, errlen, "%s: not a regular file", path);
	else if (st.st_mode & S_IRWXO)
		snprintf(err, errlen, "%s: mode %04o lets every user read or change the password; "
			 "chmod 600 (or 640 with the group of the user mailwarden runs as)", path,
			 (unsigned)(st.st_mode & 07777));
	else if (st.st_size > CREDENTIALS_FILE_MAX)
		snprintf(err, errlen, "%s: larger than %d bytes", path, CREDENTIALS_FILE_MAX);
	else if ((n = read(fd, text, CREDENTIALS_FILE_MAX + 1)) < 0 || n > CREDENTIALS_FILE_MAX)
		snprintf(err, errlen, "%s: cannot read: %s", path, n < 0 ? strerror(errno) : "file too large");
	else if (memchr(text, '\0', (size_t)n))
		snprintf(err, errlen, "%s: holds a NUL byte", path);
	else {
		text[n] = '\0';
		ok = parse_file(text, out, path, err, errlen);
	}
	close(fd);
	OPENSSL_cleanse(text, sizeof(text));
	if (!ok)
		OPENSSL_cleanse(out, sizeof(*out));
	return ok;
}

void smarthost_auth_check(const struct config *c, struct config_errors *errs)
{
	const struct queue_config *q = c->queue;
	if (!q || !q->smart_host_auth)
		return;
	char at[4200], why[4400];
	snprintf(at, sizeof(at), "%s:%d: queue.smart_host_auth", c->source, q->smart_host_auth_line);
	if (!q->smart_route) {
		config_errors_add(errs, "%s: needs queue.smart_host (the relay to log in to)", at);
		return;
	}
	if (q->smart_route->kind != ROUTE_SMTP) {
		config_errors_add(errs, "%s: AUTH is for an smtp:// or smtps:// smart host, not %s", at,
				  q->smart_route->spec);
		return;
	}
	struct sasl_creds creds;
	if (!smarthost_auth_read(q->smart_host_auth, &creds, why, sizeof(why)))
		config_errors_add(errs, "%s.credentials: %s", at, why);
	OPENSSL_cleanse(&creds, sizeof(creds));
}

struct smarthost_auth {
	struct sasl_creds creds;
	bool loaded;    /* creds hold what the file says */
};

struct smarthost_auth *smarthost_auth_new(void)
{
	return xcalloc(1, sizeof(struct smarthost_auth));
}

void smarthost_auth_reload(struct smarthost_auth *a, const struct config *c)
{
	const char *path = c->queue ? c->queue->smart_host_auth : NULL;
	char err[4400];
	OPENSSL_cleanse(&a->creds, sizeof(a->creds));
	a->loaded = path && smarthost_auth_read(path, &a->creds, err, sizeof(err));
	if (path && !a->loaded)
		log_event(LOG_ERR, "smart_host_auth_error", "msg", err, "action",
			  "mail for the smart host waits until a reload reads the file", NULL);
}

const struct sasl_creds *smarthost_auth_get(const struct smarthost_auth *a)
{
	return a && a->loaded ? &a->creds : NULL;
}

void smarthost_auth_free(struct smarthost_auth *a)
{
	if (!a)
		return;
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}
