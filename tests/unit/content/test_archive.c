/* The archive walker (issue 12, SCAN-6/SCAN-7): formats found from the
 * content, nested paths, and every bound (depth, entries, bytes per entry,
 * bytes in all, expansion ratio) reached as a result, not an outage; a
 * password-protected entry detected. The archives are made here with
 * libarchive's writer, in memory. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "content/archive.h"

struct file {
	const char *name;
	const char *data;
	size_t len;
};

/* An archive of files in format ("zip", "7zip", "ustar") with filter
 * ("gzip", "none"), optionally encrypted (zip only). Caller frees. */
static char *make(const char *format, const char *filter, const struct file *files, size_t n, const char *password,
		  size_t *len)
{
	size_t cap = 4u << 20;
	char *out = malloc(cap);
	struct archive *a = archive_write_new();
	cr_assert_eq(archive_write_set_format_by_name(a, format), ARCHIVE_OK);
	if (strcmp(filter, "none") != 0)
		cr_assert_eq(archive_write_add_filter_by_name(a, filter), ARCHIVE_OK);
	if (password) {
		cr_assert_eq(archive_write_set_options(a, "zip:encryption=zipcrypt"), ARCHIVE_OK);
		cr_assert_eq(archive_write_set_passphrase(a, password), ARCHIVE_OK);
	}
	cr_assert_eq(archive_write_open_memory(a, out, cap, len), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, files[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)files[i].len);
		cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
		cr_assert_eq(archive_write_data(a, files[i].data, files[i].len), (la_ssize_t)files[i].len);
		archive_entry_free(e);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return out;
}

static char *zip1(const char *name, const char *data, size_t dlen, size_t *len)
{
	struct file f = { name, data, dlen };
	return make("zip", "none", &f, 1, NULL, len);
}

#define SEEN_MAX 16
struct seen {
	char paths[SEEN_MAX][ARCHIVE_PATH_MAX];
	size_t lens[SEEN_MAX];
	unsigned depths[SEEN_MAX];
	bool encrypted[SEEN_MAX];
	size_t n;
};

static bool collect(void *arg, const struct archive_file *f)
{
	struct seen *s = arg;
	if (s->n < SEEN_MAX) {
		snprintf(s->paths[s->n], ARCHIVE_PATH_MAX, "%s", f->path);
		s->lens[s->n] = f->len;
		s->depths[s->n] = f->depth;
		s->encrypted[s->n] = f->encrypted;
	}
	s->n++;
	return true;
}

Test(archive, plain_text_is_no_archive)
{
	const char text[] = "Hello, this is the text of a mail, nothing packed in it at all.\n";
	cr_assert_not(archive_detect(text, strlen(text)));
	struct seen s = { .n = 0 };
	cr_assert_eq(archive_walk(text, strlen(text), "a.txt", &archive_default_limits, collect, &s), 0);
	cr_assert_eq(s.n, 0);
}

Test(archive, zip_files_named_by_path)
{
	struct file files[] = { { "a.txt", "alpha", 5 }, { "dir/b.txt", "beta!", 5 } };
	size_t len;
	char *z = make("zip", "none", files, 2, NULL, &len);
	cr_assert(archive_detect(z, len));
	struct seen s = { .n = 0 };
	cr_assert_eq(archive_walk(z, len, "x.zip", &archive_default_limits, collect, &s), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.paths[0], "x.zip/a.txt");
	cr_assert_str_eq(s.paths[1], "x.zip/dir/b.txt");
	cr_assert_eq(s.depths[1], 1);
	free(z);
}

Test(archive, nested_zip_in_tar_gz_and_gzip_stream)
{
	size_t zl, tl;
	char *z = zip1("inner.txt", "payload", 7, &zl);
	struct file outer = { "in.zip", z, zl };
	char *t = make("ustar", "gzip", &outer, 1, NULL, &tl);
	struct seen s = { .n = 0 };
	cr_assert_eq(archive_walk(t, tl, "o.tgz", &archive_default_limits, collect, &s), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.paths[0], "o.tgz/in.zip");
	cr_assert_str_eq(s.paths[1], "o.tgz/in.zip/inner.txt");
	cr_assert_eq(s.depths[1], 2);
	cr_assert_eq(s.lens[1], 7);
	free(t);
	free(z);
}

Test(archive, too_deep_is_a_finding)
{
	size_t len;
	char *cur = zip1("core.txt", "x", 1, &len);
	for (int i = 0; i < 4; i++) {
		size_t nl;
		char *next = zip1("level.zip", cur, len, &nl);
		free(cur);
		cur = next;
		len = nl;
	}
	struct archive_limits lim = archive_default_limits;
	lim.max_depth = 3;
	struct seen s = { .n = 0 };
	cr_assert_eq(archive_walk(cur, len, "deep.zip", &lim, collect, &s), ARCHIVE_FOUND_TOO_DEEP);
	cr_assert_eq(s.n, 3);  /* the three levels opened, the fourth only seen */
	lim.max_depth = 5;
	s.n = 0;
	cr_assert_eq(archive_walk(cur, len, "deep.zip", &lim, collect, &s), 0);
	cr_assert_eq(s.n, 5);
	free(cur);
}

Test(archive, too_many_entries)
{
	struct file files[20];
	char names[20][16];
	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		files[i] = (struct file){ names[i], "x", 1 };
	}
	size_t len;
	char *z = make("zip", "none", files, 20, NULL, &len);
	struct archive_limits lim = archive_default_limits;
	lim.max_entries = 10;
	struct seen s = { .n = 0 };
	cr_assert_eq(archive_walk(z, len, "many.zip", &lim, collect, &s), ARCHIVE_FOUND_TOO_MANY);
	cr_assert_eq(s.n, 10);
	free(z);
}

/* 8 MiB of zeros deflate to some 8 KB: a ratio of about 1000. */
static char *zero_bomb(size_t *len, size_t *unpacked)
{
	*unpacked = 8u << 20;
	char *zeros = calloc(1, *unpacked);
	struct file f = { "zeros.bin", zeros, *unpacked };
	char *z = make("zip", "none", &f, 1, NULL, len);  /* the zip writer deflates */
	free(zeros);
	return z;
}

Test(archive, expansion_ratio_is_a_bomb)
{
	size_t len, unpacked;
	char *z = zero_bomb(&len, &unpacked);
	cr_assert_lt(len, unpacked / 100, "zip writer deflates: %zu", len);
	struct seen s = { .n = 0 };
	cr_assert_eq(archive_walk(z, len, "bomb.zip", &archive_default_limits, collect, &s), ARCHIVE_FOUND_BOMB);
	cr_assert_eq(s.n, 1);
	/* stopped at the ratio's bound (200 times the zip, at least 1 MiB), long before the 8 MiB */
	size_t bound = len * archive_default_limits.max_ratio;
	if (bound < archive_default_limits.ratio_floor_bytes)
		bound = archive_default_limits.ratio_floor_bytes;
	cr_assert_eq(s.lens[0], bound);
	free(z);
}

Test(archive, bytes_per_entry_and_in_all)
{
	size_t len, unpacked;
	char *z = zero_bomb(&len, &unpacked);
	struct archive_limits lim = archive_default_limits;
	lim.max_ratio = 100000;
	lim.max_entry_bytes = 100000;
	struct seen s = { .n = 0 };
	cr_assert_eq(archive_walk(z, len, "big.zip", &lim, collect, &s), ARCHIVE_FOUND_BOMB);
	cr_assert_eq(s.lens[0], 100000);
	lim.max_entry_bytes = 64u << 20;
	lim.max_total_bytes = 50000;
	s.n = 0;
	cr_assert_eq(archive_walk(z, len, "big.zip", &lim, collect, &s), ARCHIVE_FOUND_BOMB);
	cr_assert_eq(s.lens[0], 50000);
	lim.max_total_bytes = 64u << 20;
	s.n = 0;
	cr_assert_eq(archive_walk(z, len, "big.zip", &lim, collect, &s), 0, "within every bound it is no bomb");
	cr_assert_eq(s.lens[0], unpacked);
	free(z);
}

Test(archive, password_zip_is_encrypted)
{
	struct file f = { "secret.txt", "the secret text", 15 };
	size_t len;
	char *z = make("zip", "none", &f, 1, "pass", &len);
	struct seen s = { .n = 0 };
	uint32_t found = archive_walk(z, len, "p.zip", &archive_default_limits, collect, &s);
	cr_assert(found & ARCHIVE_FOUND_ENCRYPTED);
	cr_assert_eq(s.n, 1);
	cr_assert(s.encrypted[0]);
	cr_assert_eq(s.lens[0], 0);
	free(z);
}

static bool first_only(void *arg, const struct archive_file *f)
{
	(void)f;
	++*(size_t *)arg;
	return false;
}

Test(archive, callback_stops_the_walk)
{
	struct file files[] = { { "a", "1", 1 }, { "b", "2", 1 }, { "c", "3", 1 } };
	size_t len, calls = 0;
	char *z = make("zip", "none", files, 3, NULL, &len);
	cr_assert_eq(archive_walk(z, len, "z.zip", &archive_default_limits, first_only, &calls), 0);
	cr_assert_eq(calls, 1);
	free(z);
}

Test(archive, truncated_zip_is_broken_not_a_crash)
{
	struct file f = { "a.txt", "some text that is long enough to be cut", 39 };
	size_t len;
	char *z = make("zip", "none", &f, 1, NULL, &len);
	struct seen s = { .n = 0 };
	uint32_t found = archive_walk(z, len / 2, "cut.zip", &archive_default_limits, collect, &s);
	cr_assert(found == 0 || (found & ARCHIVE_FOUND_BROKEN), "found %u", found);
	free(z);
}
