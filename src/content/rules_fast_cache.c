/*
 * See rules_fast_cache.h. A record is: the magic, the pattern count (u32),
 * one tier byte per pattern, the serialized database's length (u64) and
 * its bytes; nothing after them. Hyperscan checks itself that a database
 * fits its version and this CPU when it deserializes one.
 */
#include "content/rules_fast_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/alloc.h"

#define CACHE_MAGIC "MWHSDB02"  /* 02: prefixes of long rules (rules_prefix.c) */
#define CACHE_MAGIC_LEN 8
/* Far above the databases of a few thousand rules (a few MB): a larger
 * file is not ours and is not read into memory. */
#define CACHE_FILE_MAX (256u * 1024 * 1024)

static void digest_add(EVP_MD_CTX *ctx, const void *p, size_t len)
{
	uint64_t n = len;  /* length first: "ab"+"c" and "a"+"bc" differ */
	EVP_DigestUpdate(ctx, &n, sizeof(n));
	EVP_DigestUpdate(ctx, p, len);
}

void rules_fast_cache_key(const char *const *expressions, const unsigned *flags, size_t n,
			  char key[FAST_CACHE_KEY_HEX])
{
	hs_platform_info_t plat = { 0 };
	hs_populate_platform(&plat);
	const char *version = hs_version();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	digest_add(ctx, CACHE_MAGIC, CACHE_MAGIC_LEN);  /* a new record format or tiering: new names */
	digest_add(ctx, version, strlen(version));
	digest_add(ctx, &plat.tune, sizeof(plat.tune));
	digest_add(ctx, &plat.cpu_features, sizeof(plat.cpu_features));
	for (size_t i = 0; i < n; i++) {
		digest_add(ctx, &flags[i], sizeof(flags[i]));
		digest_add(ctx, expressions[i], strlen(expressions[i]));
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 32 && i < mdlen; i++)
		snprintf(key + 2 * i, 3, "%02x", md[i]);
}

static void cache_path(char *path, size_t size, const char *dir, const char *key)
{
	snprintf(path, size, "%s/hs-%s.db", dir, key);
}

/* The whole file at path, at most CACHE_FILE_MAX bytes; NULL otherwise. */
static char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size <= CACHE_FILE_MAX) {
		buf = xmalloc((size_t)st.st_size);
		size_t got = 0;
		ssize_t r;
		while (got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
			got += (size_t)r;
		if (got != (size_t)st.st_size) {
			free(buf);
			buf = NULL;
		}
		*len = got;
	}
	close(fd);
	return buf;
}

hs_database_t *rules_fast_cache_load(const char *dir, const char *key, unsigned char *tiers, size_t n)
{
	char path[4200];
	size_t len = 0;
	cache_path(path, sizeof(path), dir, key);
	char *buf = read_all(path, &len);
	if (!buf)
		return NULL;
	hs_database_t *db = NULL;
	uint32_t count;
	uint64_t dblen;
	size_t head = CACHE_MAGIC_LEN + sizeof(count);
	if (len >= head + sizeof(dblen) && memcmp(buf, CACHE_MAGIC, CACHE_MAGIC_LEN) == 0) {
		memcpy(&count, buf + CACHE_MAGIC_LEN, sizeof(count));
		if (count == n && len - head - sizeof(dblen) >= n) {
			memcpy(&dblen, buf + head + n, sizeof(dblen));
			size_t at = head + n + sizeof(dblen);
			if (dblen == len - at && hs_deserialize_database(buf + at, (size_t)dblen, &db) != HS_SUCCESS)
				db = NULL;
		}
	}
	if (db)
		memcpy(tiers, buf + head, n);
	free(buf);
	return db;
}

static bool write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len > 0) {
		ssize_t w = write(fd, c, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		len -= (size_t)w;
	}
	return true;
}

bool rules_fast_cache_save(const char *dir, const char *key, const hs_database_t *db, const unsigned char *tiers,
			   size_t n)
{
	char *bytes = NULL;
	size_t len = 0;
	if (n > UINT32_MAX || hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return false;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		free(bytes);
		return false;
	}
	char path[4200], tmp[4300];
	cache_path(path, sizeof(path), dir, key);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok = fd >= 0;
	uint32_t count = (uint32_t)n;
	uint64_t dblen = len;
	ok = ok && write_all(fd, CACHE_MAGIC, CACHE_MAGIC_LEN) && write_all(fd, &count, sizeof(count)) &&
	     write_all(fd, tiers, n) && write_all(fd, &dblen, sizeof(dblen)) && write_all(fd, bytes, len);
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	ok = ok && rename(tmp, path) == 0;
	if (!ok && fd >= 0)
		unlink(tmp);
	free(bytes);
	return ok;
}

void rules_fast_cache_prune(const char *dir, const char (*keys)[FAST_CACHE_KEY_HEX], size_t n)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		size_t len = strlen(e->d_name);
		if (len != 3 + FAST_CACHE_KEY_HEX - 1 + 3 || strncmp(e->d_name, "hs-", 3) != 0 ||
		    strcmp(e->d_name + len - 3, ".db") != 0)
			continue;
		bool used = false;
		for (size_t i = 0; i < n && !used; i++)
			used = strncmp(e->d_name + 3, keys[i], FAST_CACHE_KEY_HEX - 1) == 0;
		if (!used)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}
