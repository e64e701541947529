/*
 * Loading the scanner's files. See data.h. Runs in smtpd before the
 * privilege drop; may block (file reads) because no session exists yet.
 */
#include "scan/data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "net/cidr.h"
#include "scan/dnset.h"
#include "scan/ipset.h"
#include "scan/scan.h"
#include "scan/zone.h"
#include "state/greylist.h"
#include "util/alloc.h"
#include "util/log.h"

/* Set in the reload worker thread: the log's helpers are not thread-safe,
 * so the worker logs nothing; scan_data_log() reports on the main thread. */
static _Thread_local bool quiet;

#define LIST_FILE_MAX (64u << 20)     /* CIDR lists and recipient tables */
#define ZONE_FILE_MAX (1u << 30)      /* rbldnsd zones: tens of millions of lines */

/* Read a whole regular file from fd (not closed). name is for logs. */
static char *read_fd(int fd, const char *name, size_t max, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		if (!quiet)
			log_event(LOG_ERR, "scan_file_error", "file", name, "msg", "not a regular file or too large", NULL);
		return NULL;
	}
	size_t cap = (size_t)st.st_size, got = 0;
	char *buf = xmalloc(cap + 1);
	while (got < cap) {
		ssize_t n = pread(fd, buf + got, cap - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

char *scan_data_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_event(LOG_ERR, "scan_file_error", "file", path, "msg", strerror(errno), NULL);
		return NULL;
	}
	char *buf = read_fd(fd, path, max, len);
	close(fd);
	return buf;
}

/* A file by its descriptor when one was handed over (reload), else by path. */
static char *read_source(const char *path, int fd, size_t max, size_t *len)
{
	if (fd >= 0)
		return read_fd(fd, path, max, len);
	return scan_data_read_file(path, max, len);
}

static void fill_mask(unsigned char *hi, const struct cidr *c)
{
	size_t bytes = c->family == AF_INET ? 4 : 16;
	memcpy(hi, c->addr, bytes);
	for (unsigned bit = c->prefix; bit < bytes * 8; bit++)
		hi[bit / 8] |= (unsigned char)(0x80u >> (bit % 8));
}

/*
 * "::ffff:192.0.2.0/120" is an IPv4 network written as IPv6 (cidr.c
 * matches it for IPv4 clients). ipset_lookup() looks IPv4 and v4-mapped
 * clients up among the IPv4 ranges only, so such a line must go there:
 * in the IPv6 ranges it would never match anyone.
 */
static void v4mapped_to_v4(struct cidr *c)
{
	static const unsigned char prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (c->family != AF_INET6 || c->prefix < 96 || memcmp(c->addr, prefix, sizeof(prefix)) != 0)
		return;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->family = AF_INET;
	c->prefix -= 96;
}

struct ipset *scan_data_cidr_file(const char *path, const char *text, size_t len, size_t *bad)
{
	struct ipset *set = ipset_new();
	const char *p = text, *end = text + len;
	*bad = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *q = p;
		p = nl ? nl + 1 : end;
		const char *hash = memchr(q, '#', (size_t)(eol - q));
		if (hash)
			eol = hash;
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		while (eol > q && (eol[-1] == ' ' || eol[-1] == '\t' || eol[-1] == '\r'))
			eol--;
		if (q == eol)
			continue;
		struct cidr c;
		if (!cidr_parse(q, (size_t)(eol - q), &c)) {
			(*bad)++;
			continue;
		}
		v4mapped_to_v4(&c);
		unsigned char hi[16];
		fill_mask(hi, &c);
		if (c.family == AF_INET)
			ipset_add4(set, (uint32_t)c.addr[0] << 24 | (uint32_t)c.addr[1] << 16 |
					(uint32_t)c.addr[2] << 8 | c.addr[3],
				   (uint32_t)hi[0] << 24 | (uint32_t)hi[1] << 16 | (uint32_t)hi[2] << 8 | hi[3], 0);
		else
			ipset_add6(set, c.addr, hi, 0);
	}
	ipset_build(set);
	if (*bad && !quiet)
		log_event(LOG_WARNING, "scan_file_bad_lines", "file", path, "lines", log_u64(*bad), NULL);
	return set;
}

static struct ipset *load_cidr(struct scan_data *d, size_t slot, const char *path, int fd)
{
	if (!path)
		return NULL;
	size_t len, bad;
	char *text = read_source(path, fd, LIST_FILE_MAX, &len);
	if (!text) {
		d->unreadable[slot] = true;
		return NULL;
	}
	struct ipset *set = scan_data_cidr_file(path, text, len, &bad);
	free(text);
	return set;
}

static void load_zone(struct scan_data *d, size_t i, const struct scan_rbl_file *f, int fd)
{
	size_t len;
	char *text = read_source(f->path, fd, ZONE_FILE_MAX, &len);
	if (!text) {
		d->unreadable[SCAN_FILE_ZONES + i] = true;
		return;
	}
	if (f->dnset)
		d->dnsets[i] = dnset_parse(text, len, &d->zone_stats[i]);
	else
		d->zones[i] = zone_parse(text, len, &d->zone_stats[i]);
	free(text);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* One address or "@domain" per line, "#" comments. */
static void load_rcpts(struct scan_data *d, const char *path, int fd)
{
	size_t len;
	char *text = read_source(path, fd, LIST_FILE_MAX, &len);
	if (!text) {
		d->unreadable[SCAN_FILE_RCPTS] = true;
		return;
	}
	size_t cap = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *p = line + strspn(line, " \t\r");
		size_t n = strcspn(p, " \t\r");
		p[n] = '\0';
		char *at = strchr(p, '@');
		if (n == 0 || !at || !at[1])
			continue;
		if (d->n_rcpts == cap) {
			cap = cap ? cap * 2 : 64;
			d->rcpts = xreallocarray(d->rcpts, cap, sizeof(char *));
			d->rcpt_domains = xreallocarray(d->rcpt_domains, cap, sizeof(char *));
		}
		char *addr = xstrdup(p);
		lower(addr);
		d->rcpts[d->n_rcpts] = addr;
		d->rcpt_domains[d->n_rcpts] = xstrdup(strchr(addr, '@') + 1);
		d->n_rcpts++;
	}
	free(text);
	d->n_rcpt_domains = d->n_rcpts;
	if (d->n_rcpts) {
		qsort(d->rcpts, d->n_rcpts, sizeof(char *), cmp_str);
		qsort(d->rcpt_domains, d->n_rcpt_domains, sizeof(char *), cmp_str);
	}
}

static bool in_sorted(char *const *list, size_t n, const char *key)
{
	return n && bsearch(&key, list, n, sizeof(char *), cmp_str) != NULL;
}

bool scan_data_rcpt_known(const struct scan_data *d, const char *addr, bool *covered)
{
	char key[600];
	snprintf(key, sizeof(key), "%s", addr);
	lower(key);
	char *at = strrchr(key, '@');
	*covered = at && in_sorted(d->rcpt_domains, d->n_rcpt_domains, at + 1);
	if (!*covered)
		return false;
	return in_sorted(d->rcpts, d->n_rcpts, key) || in_sorted(d->rcpts, d->n_rcpts, at);
}

static bool check_on(const struct scan_config *sc, const char *name)
{
	int i = scan_check_index(name, strlen(name));
	return i >= 0 && (sc->inbound.checks[i].action != SCAN_CHECK_OFF ||
			  sc->outbound.checks[i].action != SCAN_CHECK_OFF);
}

struct scan_data *scan_data_load_fds(const struct scan_config *sc, const int *fds, size_t n)
{
	quiet = fds != NULL;
	struct scan_data *d = xcalloc(1, sizeof(*d));
	const char *paths[SCAN_FILES_MAX];
	size_t total = scan_config_files(sc, paths, SCAN_FILES_MAX);
	int fd[SCAN_FILES_MAX];
	for (size_t i = 0; i < total; i++)
		fd[i] = fds && i < n ? fds[i] : -1;
	d->allow = load_cidr(d, SCAN_FILE_ALLOW, sc->ip_allow, fd[SCAN_FILE_ALLOW]);
	d->deny = load_cidr(d, SCAN_FILE_DENY, sc->ip_deny, fd[SCAN_FILE_DENY]);
	d->n_zones = sc->n_rbl_files;
	d->zones = xcalloc(d->n_zones ? d->n_zones : 1, sizeof(*d->zones));
	d->dnsets = xcalloc(d->n_zones ? d->n_zones : 1, sizeof(*d->dnsets));
	d->zone_stats = xcalloc(d->n_zones ? d->n_zones : 1, sizeof(*d->zone_stats));
	for (size_t i = 0; i < d->n_zones && SCAN_FILE_ZONES + i < total; i++)
		load_zone(d, i, &sc->rbl_files[i], fd[SCAN_FILE_ZONES + i]);
	if (sc->recipients)
		load_rcpts(d, sc->recipients, fd[SCAN_FILE_RCPTS]);
	return d;
}

/* Greylisting is on in the configuration or in one of its emergency
 * levels (SCAN-11): the database is opened before the chroot or never. */
static bool greylist_wanted(const struct config *c)
{
	for (size_t n = 0; n == 0 || n < c->emergency.n_levels; n++) {
		const struct config *lv = config_level(c, n);
		if (lv && lv->scan && check_on(lv->scan, "greylist"))
			return true;
	}
	return false;
}

struct scan_data *scan_data_load(const struct config *c)
{
	struct scan_data *d = scan_data_load_fds(c->scan, NULL, 0);
	if (greylist_wanted(c)) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/greylist.db", c->state_dir);
		d->greylist = greylist_open(path);
	}
	return d;
}

void scan_data_free(struct scan_data *d)
{
	if (!d)
		return;
	greylist_close(d->greylist);
	ipset_free(d->allow);
	ipset_free(d->deny);
	for (size_t i = 0; i < d->n_zones; i++) {
		zone_free(d->zones[i]);
		dnset_free(d->dnsets[i]);
	}
	free(d->zones);
	free(d->dnsets);
	free(d->zone_stats);
	for (size_t i = 0; i < d->n_rcpts; i++) {
		free(d->rcpts[i]);
		free(d->rcpt_domains[i]);
	}
	free(d->rcpts);
	free(d->rcpt_domains);
	free(d);
}

bool scan_data_file_ok(const char *path, size_t i, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return false;
	}
	struct stat st;
	size_t max = i >= SCAN_FILE_ZONES ? ZONE_FILE_MAX : LIST_FILE_MAX;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= max;
	if (!ok)
		snprintf(why, whylen, "%s is not a regular file of at most %zu bytes", path, max);
	close(fd);
	return ok;
}

const char *scan_data_missing_required(const struct scan_data *d, const struct scan_config *sc)
{
	const char *paths[SCAN_FILES_MAX];
	size_t total = scan_config_files(sc, paths, SCAN_FILES_MAX);
	for (size_t i = 0; i < total; i++)
		if (paths[i] && d->unreadable[i] && !sc->file_meta[i].optional)
			return paths[i];
	return NULL;
}

/* Loudly: a file that is configured but not loaded weakens the scanner. */
static void log_unreadable(const struct scan_data *d, const struct scan_config *sc)
{
	const char *paths[SCAN_FILES_MAX];
	size_t total = scan_config_files(sc, paths, SCAN_FILES_MAX);
	for (size_t i = 0; i < total; i++) {
		if (!paths[i] || !d->unreadable[i])
			continue;
		char key[64];
		scan_config_file_key(i, key, sizeof(key));
		log_event(sc->file_meta[i].optional ? LOG_WARNING : LOG_ERR, "scan_file_unreadable", "file", paths[i],
			  "key", key, "optional", sc->file_meta[i].optional ? "yes" : "no", NULL);
	}
}

void scan_data_log(const struct scan_data *d, const struct scan_config *sc)
{
	log_unreadable(d, sc);
	if (d->allow)
		log_event(LOG_INFO, "scan_file_loaded", "file", sc->ip_allow, "ranges",
			  log_u64(ipset_ranges(d->allow)), NULL);
	if (d->deny)
		log_event(LOG_INFO, "scan_file_loaded", "file", sc->ip_deny, "ranges",
			  log_u64(ipset_ranges(d->deny)), NULL);
	if (sc->recipients && !d->unreadable[SCAN_FILE_RCPTS])
		log_event(LOG_INFO, "scan_file_loaded", "file", sc->recipients, "recipients",
			  log_u64(d->n_rcpts), NULL);
	for (size_t i = 0; i < d->n_zones; i++) {
		if (!d->zones[i] && !d->dnsets[i])
			continue;     /* logged by log_unreadable */
		const struct zone_stats *st = &d->zone_stats[i];
		size_t mem = d->zones[i] ? zone_memory(d->zones[i]) : dnset_memory(d->dnsets[i]);
		log_event(LOG_INFO, "scan_zone_loaded", "file", sc->rbl_files[i].path,
			  "type", d->dnsets[i] ? "dnset" : "ip4set", "lines", log_u64(st->lines),
			  d->dnsets[i] ? "names" : "ranges", log_u64(st->entries), "bad_lines", log_u64(st->bad_lines),
			  "memory", log_u64(mem), NULL);
	}
}
