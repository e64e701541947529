/*
 * The emergency level's state file: see levelstate.h.
 */
#include "state/levelstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#define LEVELSTATE_FILE_MAX 1024

static bool read_time(const char *v, long long *out)
{
	char *end;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return errno == 0 && end != v && *end == '\0' && *out >= 0;
}

/* One "key value" line into the field it names; false: not ours. */
static bool read_line(struct level_state *st, const char *line)
{
	const char *sp = strchr(line, ' ');
	size_t klen = sp ? (size_t)(sp - line) : 0;
	const char *v = sp ? sp + 1 : "";

	if (klen == 5 && memcmp(line, "level", 5) == 0 && strlen(v) <= LEVELSTATE_NAME_MAX)
		snprintf(st->name, sizeof(st->name), "%s", v);
	else if (klen == 2 && memcmp(line, "by", 2) == 0 && strlen(v) <= LEVELSTATE_BY_MAX)
		snprintf(st->by, sizeof(st->by), "%s", v);
	else if (klen == 6 && memcmp(line, "reason", 6) == 0 && strlen(v) <= LEVELSTATE_REASON_MAX)
		snprintf(st->reason, sizeof(st->reason), "%s", v);
	else if (klen == 5 && memcmp(line, "since", 5) == 0)
		return read_time(v, &st->since);
	else if (klen == 5 && memcmp(line, "until", 5) == 0)
		return read_time(v, &st->until);
	else
		return false;
	return true;
}

bool level_state_read(const char *path, struct level_state *st)
{
	char buf[LEVELSTATE_FILE_MAX + 1], *save = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "normal");
	if (fd < 0)
		return false;
	n = read(fd, buf, LEVELSTATE_FILE_MAX);
	close(fd);
	if (n <= 0 || n == LEVELSTATE_FILE_MAX)
		return false;
	buf[n] = '\0';
	struct level_state got = { 0 };
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!read_line(&got, line))
			return false;
	if (!got.name[0])
		return false;
	*st = got;
	return true;
}

bool level_state_write(const char *path, const struct level_state *st, char *why, size_t size)
{
	char tmp[4096];
	FILE *f;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(why, size, "path too long");
		return false;
	}
	f = fopen(tmp, "we");
	if (!f) {
		snprintf(why, size, "%s: %s", tmp, strerror(errno));
		return false;
	}
	fprintf(f, "level %s\nsince %lld\nuntil %lld\nby %s\n", st->name, st->since, st->until, st->by);
	if (st->reason[0])
		fprintf(f, "reason %s\n", st->reason);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

size_t level_state_level(const struct config *c, const struct level_state *st, time_t now)
{
	long n = config_level_find(c, st->name);
	if (n <= 0 || (st->until > 0 && now >= st->until))
		return 0;
	return (size_t)n;
}

size_t level_state_current(const struct config *c, time_t now)
{
	struct level_state st;
	level_state_read(c->emergency.state_file, &st);
	return level_state_level(c, &st, now);
}
