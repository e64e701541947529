/*
 * The attachment policy (issue 12, SCAN-7; BSI M 5.109: an attachment
 * policy judged by content type, executables questioned). Every leaf part
 * of the MIME view but the inline text, and every file inside archive
 * parts (content/archive.h), is judged twice, and both must pass:
 *   - by its content (content/filetype.h: libmagic and our signatures;
 *     the archive walk for archives, encrypted entries and OOXML's
 *     vbaProject.bin);
 *   - by its name (content/filename.h: the extension's class, the
 *     forbidden extensions, name tricks).
 * A content of a dangerous class under a name of another class (an .exe
 * called .pdf) is ATTACH_TYPE_MISMATCH as well.
 *
 * Symbols (hits; the direction's policy scan.<direction>.checks.attachments
 * refuses by default with 554 5.7.0 naming the file and the reason):
 * ATTACH_<CLASS> for a forbidden class (scan.attachments.forbid_classes),
 * ATTACH_EXTENSION (forbid_extensions), ATTACH_NAME_BIDI / _DOUBLE_EXT /
 * _TRAILING / _CLSID / _LONG / _CONTROL, ATTACH_TYPE_MISMATCH,
 * ARCHIVE_BOMB / ARCHIVE_TOO_DEEP / ARCHIVE_TOO_MANY (a bound of the walk:
 * what lies beyond was not seen), ARCHIVE_ENCRYPTED when "encrypted" is
 * forbidden. Informational (0 points, never a refusal): ARCHIVE_ENCRYPTED
 * otherwise (the encrypted-mail policy judges it), ARCHIVE_BROKEN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "content/archive.h"
#include "content/attach_class.h"
#include "content/check.h"
#include "content/filename.h"
#include "content/filetype.h"
#include "content/hidden_names.h"
#include "content/mime.h"
#include "content/salvage.h"
#include "ipc/txn.h"
#include "scan/config_attachments.h"
#include "scan/policy.h"
#include "util/alloc.h"

/* Distinct symbols reported per message. */
#define REPORTED_MAX 32
/* Bytes of a file's name or path shown in details and replies. */
#define SHOWN_MAX 120

static const struct scan_attachments default_policy = { .forbid_classes = ATTACH_CLASS_DEFAULT_FORBIDDEN };

/* The classes a content may have that its name should own up to. */
#define DANGEROUS_CONTENT \
	(ATTACH_CLASS_EXECUTABLE | ATTACH_CLASS_SCRIPT | ATTACH_CLASS_SHORTCUT | ATTACH_CLASS_DISKIMAGE)

struct attach_run {
	struct content_job *job;
	const struct scan_attachments *policy;
	char reported[REPORTED_MAX][IPC_SYMBOL_NAME_MAX + 1];
	size_t n_reported;
	/* The archive part being walked. */
	bool office;               /* it is an Office / OpenDocument container, not an archive */
	bool macros;               /* a vbaProject.bin was inside */
	char macro_path[ARCHIVE_PATH_MAX];
	bool guessed;              /* judging salvage readings: signatures only, no libmagic */
};

/* s as printable ASCII (anything else '?'), cut to fit out. */
static void shown_name(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; s && *s && n + 1 < cap; s++)
		out[n++] = *s >= ' ' && *s <= '~' ? *s : '?';
	out[n] = '\0';
}

/* First time this message: true, and remembered. */
static bool first_time(struct attach_run *r, const char *symbol)
{
	for (size_t i = 0; i < r->n_reported; i++)
		if (strcmp(r->reported[i], symbol) == 0)
			return false;
	if (r->n_reported == REPORTED_MAX)
		return false;
	snprintf(r->reported[r->n_reported++], IPC_SYMBOL_NAME_MAX + 1, "%s", symbol);
	return true;
}

/* A hit naming the file (shown, printable) and why. */
static void report(struct attach_run *r, const char *symbol, const char *shown, const char *why)
{
	char detail[400], reply[300];
	snprintf(detail, sizeof(detail), "%s: %s", shown, why);
	if (!first_time(r, symbol)) {
		content_hit_again(r->job, detail);  /* the strip action takes this part too */
		return;
	}
	snprintf(reply, sizeof(reply), "554 5.7.0 Message refused: attachment not allowed (%.*s: %s)", SHOWN_MAX,
		 shown, why);
	content_hit_reply(r->job, symbol, -1, detail, reply);
}

static void inform(struct attach_run *r, const char *symbol, const char *shown, const char *why)
{
	if (!first_time(r, symbol))
		return;
	char detail[400];
	snprintf(detail, sizeof(detail), "%s: %s", shown, why);
	content_symbol(r->job, symbol, 0, detail);
}

static bool extension_forbidden(const struct scan_attachments *p, const char *ext)
{
	for (size_t i = 0; ext[0] && i < p->n_forbid_extensions; i++)
		if (strcmp(p->forbid_extensions[i], ext) == 0)
			return true;
	return false;
}

/* Each forbidden class bit of classes as ATTACH_<CLASS>, "how" saying
 * whether the content or the name told. */
static void report_classes(struct attach_run *r, uint32_t classes, const char *shown, const char *how)
{
	uint32_t forbidden = classes & r->policy->forbid_classes;
	for (uint32_t bit = 1; forbidden && bit < (1u << ATTACH_CLASS_COUNT); bit <<= 1) {
		if (!(forbidden & bit))
			continue;
		char symbol[IPC_SYMBOL_NAME_MAX + 1], why[80];
		snprintf(symbol, sizeof(symbol), "ATTACH_%s", attach_class_symbol(bit));
		snprintf(why, sizeof(why), "%s %s", attach_class_name(bit), how);
		report(r, symbol, shown, why);
	}
}

/* What the name says the file is: a forbidden extension, a forbidden class. */
static void judge_name_kind(struct attach_run *r, const struct filename_info *fi, const char *shown)
{
	if (extension_forbidden(r->policy, fi->ext)) {
		char why[64];
		snprintf(why, sizeof(why), "extension .%s forbidden", fi->ext);
		report(r, "ATTACH_EXTENSION", shown, why);
	}
	report_classes(r, fi->ext_class, shown, "by its name");
}

/* What the name says: tricks, then its kind. */
static void judge_name(struct attach_run *r, const struct filename_info *fi, const char *shown)
{
	for (uint32_t bit = 1; fi->tricks && bit <= FILENAME_CONTROL; bit <<= 1) {
		if (!(fi->tricks & bit))
			continue;
		char symbol[IPC_SYMBOL_NAME_MAX + 1];
		snprintf(symbol, sizeof(symbol), "ATTACH_%s", filename_trick_symbol(bit));
		report(r, symbol, shown, filename_trick_text(bit));
	}
	judge_name_kind(r, fi, shown);
}

/* One file (a part, or a file inside an archive): name and content.
 * extra: classes the archive walk found (archive, encrypted, macro). */
static void judge_file(struct attach_run *r, const char *name, const char *path, const char *data, size_t len,
		       uint32_t extra)
{
	char shown[SHOWN_MAX + 1], mime[FILETYPE_MIME_MAX];
	shown_name(path, shown, sizeof(shown));
	struct filename_info fi;
	filename_analyze(name, &fi);
	judge_name(r, &fi, shown);
	uint32_t content = extra;
	if (data && len)
		content |= r->guessed ? filetype_signature_classes(data, len) : filetype_classes(data, len, mime, sizeof(mime));
	report_classes(r, content, shown, "by its content");
	uint32_t hidden = content & DANGEROUS_CONTENT & ~fi.ext_class;
	if (hidden) {
		char why[96];
		snprintf(why, sizeof(why), "content is %s, name says %s%s", attach_class_name(hidden & -hidden),
			 fi.ext[0] ? "." : "no extension", fi.ext);
		report(r, "ATTACH_TYPE_MISMATCH", shown, why);
	}
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* archive_walk's callback: every file inside an archive part. */
static bool judge_archive_file(void *arg, const struct archive_file *af)
{
	struct attach_run *r = arg;
	const char *base = base_name(af->name);
	if (af->depth == 1 && (strcmp(af->name, "[Content_Types].xml") == 0 || strcmp(af->name, "mimetype") == 0))
		r->office = true;
	if (strcasecmp(base, "vbaProject.bin") == 0 && !r->macros) {
		r->macros = true;  /* OOXML's VBA project: the container has macros */
		snprintf(r->macro_path, sizeof(r->macro_path), "%s", af->path);
	}
	judge_file(r, base, af->path, af->data, af->len, af->encrypted ? ATTACH_CLASS_ENCRYPTED : 0);
	return true;
}

/* The walk's bounds and findings as symbols; the classes they give the part. */
static uint32_t report_walk(struct attach_run *r, uint32_t found, const char *shown)
{
	if (found & ARCHIVE_FOUND_BOMB)
		report(r, "ARCHIVE_BOMB", shown, "archive unpacks beyond the size or ratio limits");
	if (found & ARCHIVE_FOUND_TOO_DEEP)
		report(r, "ARCHIVE_TOO_DEEP", shown, "archives nested beyond the depth limit");
	if (found & ARCHIVE_FOUND_TOO_MANY)
		report(r, "ARCHIVE_TOO_MANY", shown, "archive holds more files than the limit");
	if (found & ARCHIVE_FOUND_BROKEN)
		inform(r, "ARCHIVE_BROKEN", shown, "archive could not be read to its end");
	uint32_t classes = r->office ? 0 : ATTACH_CLASS_ARCHIVE;
	if (found & ARCHIVE_FOUND_ENCRYPTED) {
		if (r->policy->forbid_classes & ATTACH_CLASS_ENCRYPTED)
			report(r, "ARCHIVE_ENCRYPTED", shown, "password-protected archive");
		else
			inform(r, "ARCHIVE_ENCRYPTED", shown, "password-protected archive");
	}
	if (r->macros) {
		char path[SHOWN_MAX + 1];
		shown_name(r->macro_path, path, sizeof(path));
		report_classes(r, ATTACH_CLASS_MACRO, path, "(vbaProject.bin)");
	}
	return classes;
}

/* A text part the reader sees as the message's text: not judged. */
static bool inline_text(const struct mime_part *p)
{
	return strncmp(p->type, "text/", 5) == 0 && !p->attachment && !p->filename;
}

/* A buffer named name ("" for none; label stands in for it in replies):
 * its content, its name, and the files inside when it is an archive. */
static void judge_buffer(struct attach_run *r, const char *name, const char *label, const char *data, size_t len)
{
	char shown[SHOWN_MAX + 1];
	shown_name(*name ? name : label, shown, sizeof(shown));
	uint32_t extra = 0;
	if (data && archive_detect(data, len)) {
		r->office = r->macros = false;
		uint32_t found = archive_walk(data, len, *name ? name : label, &archive_default_limits, judge_archive_file, r);
		extra = report_walk(r, found, shown);
	}
	judge_file(r, name, *name ? name : label, data, len, extra);
}

static void judge_part(struct attach_run *r, const struct mime_part *p, size_t i)
{
	char label[32];
	snprintf(label, sizeof(label), "part %zu", i + 1);
	content_job_part(r->job, (int)i);
	judge_buffer(r, p->filename ? p->filename : "", label, p->data, p->len);
}

/* What broken MIME hides from the view: every name a lenient reader
 * could give an attachment (content/hidden_names.h), judged by what it
 * says the file is (its tricks are the view's names' business: the
 * readings of a broken parameter are no names anyone chose), and every
 * block a lenient reader would decode (content/salvage.h), by content. */
static void judge_hidden(struct attach_run *r, const char *msg, size_t len)
{
	struct hidden_names *hn = xmalloc(sizeof(*hn));
	hidden_names_collect(msg, len, hn);
	for (size_t i = 0; i < hn->n; i++) {
		struct filename_info fi;
		char shown[SHOWN_MAX + 1];
		filename_analyze(hn->names[i], &fi);
		shown_name(hn->names[i], shown, sizeof(shown));
		judge_name_kind(r, &fi, shown);
	}
	free(hn);
	const struct salvage *s = content_job_salvage(r->job, msg, len);
	r->guessed = true;  /* readings, not files: our signatures only */
	for (size_t i = 0; i < s->n; i++)
		judge_buffer(r, "", s->blobs[i].how, s->blobs[i].data, s->blobs[i].len);
	r->guessed = false;
}

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct scan_config *sc = content_job_config(job)->scan;
	struct attach_run *r = xcalloc(1, sizeof(*r));  /* large for a worker's stack */
	r->job = job;
	r->policy = sc && sc->attachments ? sc->attachments : &default_policy;
	const struct mime_message *m = content_job_mime(job, msg, len);
	for (size_t i = 0; i < m->n_parts; i++)
		if (!inline_text(&m->parts[i]))
			judge_part(r, &m->parts[i], i);
	content_job_part(job, -1);  /* what broken MIME hides is no part the strip can cut out */
	judge_hidden(r, msg, len);
	free(r);
}

const struct content_check content_check_attachments = {
	.name = "attachments",
	.default_reply = "554 5.7.0 Message refused: attachment not allowed",
	.default_action = SCAN_CHECK_REFUSE,
	.can_strip = true,
	.run = run,
};
