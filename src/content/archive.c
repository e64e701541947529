/*
 * See archive.h.
 */
#include "content/archive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "content/tnef.h"
#include "util/alloc.h"

const struct archive_limits archive_default_limits = {
	.max_depth = 5,
	.max_entries = 1000,
	.max_entry_bytes = 32u << 20,
	.max_total_bytes = 64u << 20,
	.max_ratio = 200,
	.ratio_floor_bytes = 1u << 20,
};

/* Bytes asked of libarchive per read: small enough that a bound is
 * noticed soon after it is passed. */
#define READ_CHUNK (64u << 10)

/* Smaller buffers are no archive any reader here recognises (the
 * smallest, an empty gzip stream, has 20 bytes). */
#define ARCHIVE_MIN_BYTES 16

struct walk {
	const struct archive_limits *lim;
	archive_file_fn fn;
	void *arg;
	size_t entries;            /* files met in all levels */
	size_t total;              /* unpacked bytes in all levels (skipped data included) */
	uint32_t found;            /* enum archive_finding */
	bool stop;
	char path[ARCHIVE_PATH_MAX];
};

/* One archive opened, its first header read (libarchive only chooses a
 * format when asked for a header). */
struct reader {
	struct archive *a;
	struct archive_entry *entry;
	int rc;                    /* of the first archive_read_next_header */
	bool raw;                  /* a compressed stream of one file, no archive format */
};

/* The formats: everything libarchive reads that holds files, without
 * mtree (it takes some text files for a file list), warc, "empty" and
 * raw. The filters: those built into libarchive, none that runs an
 * external program. */
static struct archive *reader_new(bool raw)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_compress(a);
	if (raw) {
		archive_read_support_format_raw(a);
		return a;
	}
	archive_read_support_format_7zip(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_xar(a);
	archive_read_support_format_zip(a);
	return a;
}

/* Open buf as an archive (or, failing that, as a compressed stream).
 * False: it is neither. A recognised archive whose first header cannot
 * be read (an encrypted 7z header, a truncated file) is still one:
 * r->rc says so. */
static bool reader_open(const char *buf, size_t len, struct reader *r)
{
	if (len < ARCHIVE_MIN_BYTES)
		return false;
	for (int raw = 0; raw <= 1; raw++) {
		r->a = reader_new(raw);
		r->raw = raw;
		if (!r->a)
			return false;
		if (archive_read_open_memory(r->a, buf, len) == ARCHIVE_OK) {
			r->rc = archive_read_next_header(r->a, &r->entry);
			bool format = archive_format(r->a) != 0;
			/* raw takes any bytes: only a compression filter makes them a file */
			bool compressed = archive_filter_count(r->a) > 1;
			if (raw ? compressed && r->rc >= ARCHIVE_WARN : format)
				return true;
		}
		archive_read_free(r->a);
	}
	r->a = NULL;
	return false;
}

bool archive_detect(const char *buf, size_t len)
{
	if (tnef_detect(buf, len))
		return true;
	struct reader r;
	if (!reader_open(buf, len, &r))
		return false;
	archive_read_free(r.a);
	return true;
}

/* Append "/" + name to w->path (cut to fit); returns the old length, to
 * restore it with path_restore. */
static size_t path_push(struct walk *w, const char *name)
{
	size_t old = strlen(w->path), n = old;
	if (n && n + 1 < sizeof(w->path))
		w->path[n++] = '/';
	for (const char *p = name; *p && n + 1 < sizeof(w->path); p++)
		w->path[n++] = *p;
	w->path[n] = '\0';
	return old;
}

static void path_restore(struct walk *w, size_t old)
{
	w->path[old] = '\0';
}

/* The name of a compressed stream's one file: the outer name without its
 * compression suffix ("report.txt.gz" -> "report.txt"), else "data". */
static void raw_name(const char *path, char *out, size_t cap)
{
	static const char *const suffixes[] = { ".gz", ".bz2", ".xz", ".lzma", ".lz", ".zst", ".Z" };
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		if (n > sl && strcmp(base + n - sl, suffixes[i]) == 0 && n - sl < cap) {
			memcpy(out, base, n - sl);
			out[n - sl] = '\0';
			return;
		}
	}
	snprintf(out, cap, "data");
}

/* a * b, saturated. */
static size_t mul_sat(size_t a, size_t b)
{
	return b && a > (size_t)-1 / b ? (size_t)-1 : a * b;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* How many more bytes this archive may unpack (bytes per entry, in all,
 * the expansion ratio over the archive's size archive_len). */
static size_t allowance(const struct walk *w, size_t entry_len, size_t archive_len, size_t unpacked)
{
	const struct archive_limits *lim = w->lim;
	size_t ratio_cap = mul_sat(archive_len, lim->max_ratio);
	if (ratio_cap < lim->ratio_floor_bytes)
		ratio_cap = lim->ratio_floor_bytes;
	size_t left = lim->max_entry_bytes > entry_len ? lim->max_entry_bytes - entry_len : 0;
	left = min_size(left, lim->max_total_bytes > w->total ? lim->max_total_bytes - w->total : 0);
	return min_size(left, ratio_cap > unpacked ? ratio_cap - unpacked : 0);
}

struct entry_data {
	char *data;
	size_t len, cap;
};

/* The current entry's bytes into d, within the bounds. False: a bound
 * was passed (ARCHIVE_FOUND_BOMB) or the data could not be read (BROKEN;
 * d holds what was read before). */
static bool read_entry(struct walk *w, struct archive *a, size_t archive_len, size_t *unpacked,
		       struct entry_data *d)
{
	for (;;) {
		/* One byte more than allowed: reading it proves the bound passed. */
		size_t want = min_size(READ_CHUNK, allowance(w, d->len, archive_len, *unpacked) + 1);
		if (d->cap < d->len + want + 1) {
			d->cap = d->cap ? d->cap * 2 : READ_CHUNK + 1;
			if (d->cap < d->len + want + 1)
				d->cap = d->len + want + 1;
			d->data = xreallocarray(d->data, d->cap, 1);
			d->data[d->len] = '\0';  /* terminated should the first read fail */
		}
		la_ssize_t n = archive_read_data(a, d->data + d->len, want);
		if (n < 0) {
			d->data[d->len] = '\0';  /* the failed read may have written past it */
			w->found |= ARCHIVE_FOUND_BROKEN;
			return false;
		}
		if (n == 0)
			return true;
		size_t allowed = allowance(w, d->len, archive_len, *unpacked);
		size_t keep = min_size((size_t)n, allowed);
		d->len += keep;
		w->total += keep;
		*unpacked += keep;
		d->data[d->len] = '\0';
		if ((size_t)n > allowed) {  /* kept up to the bound: an engine may know those bytes */
			w->found |= ARCHIVE_FOUND_BOMB;
			return false;
		}
	}
}

static void walk_archive(struct walk *w, const char *buf, size_t len, unsigned depth);

/* The archive's error names encryption (7z with an encrypted header,
 * an entry whose cipher libarchive does not know). */
static void note_encryption(struct walk *w, struct archive *a)
{
	const char *err = archive_error_string(a);
	if (archive_read_has_encrypted_entries(a) > 0 || (err && (strstr(err, "ncrypt") || strstr(err, "assphrase"))))
		w->found |= ARCHIVE_FOUND_ENCRYPTED;
}

/* Hand a file to the callback, then open it when it is an archive too. */
static void deliver(struct walk *w, const char *name, const struct entry_data *d, unsigned depth, bool encrypted)
{
	struct archive_file f = {
		.path = w->path, .name = name, .data = encrypted ? NULL : (d->data ? d->data : ""),
		.len = encrypted ? 0 : d->len, .depth = depth, .encrypted = encrypted,
	};
	if (!w->fn(w->arg, &f)) {
		w->stop = true;
		return;
	}
	if (encrypted || !archive_detect(d->data, d->len))
		return;
	if (depth >= w->lim->max_depth)
		w->found |= ARCHIVE_FOUND_TOO_DEEP;
	else
		walk_archive(w, d->data, d->len, depth + 1);
}

/* One regular file of the archive r at depth. */
static void walk_entry(struct walk *w, struct reader *r, size_t archive_len, size_t *unpacked, unsigned depth)
{
	char fallback[256];
	const char *name = archive_entry_pathname_utf8(r->entry);
	if (!name)
		name = archive_entry_pathname(r->entry);
	if (r->raw || !name) {
		raw_name(w->path, fallback, sizeof(fallback));
		name = fallback;
	}
	size_t old = path_push(w, name);
	struct entry_data d = { NULL, 0, 0 };
	bool encrypted = archive_entry_is_encrypted(r->entry);
	if (encrypted) {
		w->found |= ARCHIVE_FOUND_ENCRYPTED;
	} else if (!read_entry(w, r->a, archive_len, unpacked, &d)) {
		note_encryption(w, r->a);
		w->stop = (w->found & ARCHIVE_FOUND_BOMB) != 0;
	}
	/* A bomb's first bytes are still scanned: an engine may know them. */
	deliver(w, name, &d, depth, encrypted);
	free(d.data);
	path_restore(w, old);
}

/* Directories, links and devices carry no file, but a tar entry's size
 * is skipped by unpacking it: count it against the bytes in all. */
static bool skip_entry(struct walk *w, struct archive_entry *e)
{
	la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	size_t left = w->lim->max_total_bytes > w->total ? w->lim->max_total_bytes - w->total : 0;
	if (size > 0 && (uint64_t)size > left) {
		w->found |= ARCHIVE_FOUND_BOMB;
		return false;
	}
	w->total += size > 0 ? (size_t)size : 0;
	return true;
}

/* A TNEF container's files, counted and bounded as an archive's entries
 * (its files are stored, not compressed: the ratio never bites). */
struct tnef_walk_state {
	struct walk *w;
	size_t len, unpacked, n;
	unsigned depth;
};

static bool walk_tnef_file(void *arg, const struct tnef_file *f)
{
	struct tnef_walk_state *t = arg;
	struct walk *w = t->w;
	if (++w->entries > w->lim->max_entries) {
		w->found |= ARCHIVE_FOUND_TOO_MANY;
		w->stop = true;
		return false;
	}
	size_t allowed = allowance(w, 0, t->len, t->unpacked);
	size_t keep = min_size(f->len, allowed);
	struct entry_data d = { xmalloc(keep + 1), keep, keep + 1 };
	memcpy(d.data, f->data, keep);
	d.data[keep] = '\0';
	w->total += keep;
	t->unpacked += keep;
	char fallback[32];
	snprintf(fallback, sizeof(fallback), "attachment-%zu", ++t->n);
	const char *name = f->name ? f->name : fallback;
	size_t old = path_push(w, name);
	deliver(w, name, &d, t->depth, false);  /* the first bytes of one over the bound too */
	free(d.data);
	path_restore(w, old);
	if (f->len > allowed) {
		w->found |= ARCHIVE_FOUND_BOMB;
		w->stop = true;
	}
	return !w->stop;
}

static void walk_tnef(struct walk *w, const char *buf, size_t len, unsigned depth)
{
	struct tnef_walk_state t = { w, len, 0, 0, depth };
	if (!tnef_walk(buf, len, walk_tnef_file, &t) && !w->stop)
		w->found |= ARCHIVE_FOUND_BROKEN;
}

static void walk_archive(struct walk *w, const char *buf, size_t len, unsigned depth)
{
	if (tnef_detect(buf, len)) {
		walk_tnef(w, buf, len, depth);
		return;
	}
	struct reader r;
	if (!reader_open(buf, len, &r))
		return;
	size_t unpacked = 0;
	for (int rc = r.rc; !w->stop; rc = archive_read_next_header(r.a, &r.entry)) {
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN) {
			w->found |= ARCHIVE_FOUND_BROKEN;
			note_encryption(w, r.a);
			break;
		}
		if (++w->entries > w->lim->max_entries) {
			w->found |= ARCHIVE_FOUND_TOO_MANY;
			w->stop = true;
			break;
		}
		mode_t type = archive_entry_filetype(r.entry);
		if (type == AE_IFREG || type == 0)
			walk_entry(w, &r, len, &unpacked, depth);
		else if (!skip_entry(w, r.entry))
			w->stop = true;
	}
	note_encryption(w, r.a);
	archive_read_free(r.a);
}

uint32_t archive_walk(const char *buf, size_t len, const char *name, const struct archive_limits *lim,
		      archive_file_fn fn, void *arg)
{
	struct walk *w = xcalloc(1, sizeof(*w));  /* the path buffer is large for a worker's stack */
	w->lim = lim;
	w->fn = fn;
	w->arg = arg;
	path_push(w, name && *name ? name : "archive");
	walk_archive(w, buf, len, 1);
	uint32_t found = w->found;
	free(w);
	return found;
}
