/*
 * See strip.h. The message is parsed and walked exactly as the MIME view
 * parses and walks it (mime_walk.h), the offending leaves are swapped for
 * notice parts in their parent (a multipart's slot, or the body of the
 * message that holds them), and GMime writes the tree out again.
 */
#include "content/strip.h"

#include <stdlib.h>
#include <string.h>

#include "content/mime_walk.h"
#include "util/alloc.h"
#include "util/utf8.h"

/* One leaf to replace, as the walk found it. */
struct slot {
	GMimeObject *parent;       /* GMimeMultipart, or the GMimeMessage whose body it is */
	int index;
	bool found;
};

struct strip_walk {
	const struct strip_part *parts;
	size_t n;
	struct slot *slots;        /* one per parts[] entry */
};

static void on_leaf(void *arg, size_t leaf, GMimePart *part, unsigned depth, GMimeObject *parent, int index)
{
	(void)part, (void)depth;
	struct strip_walk *sw = arg;
	for (size_t i = 0; i < sw->n; i++)
		if (sw->parts[i].part == leaf)
			sw->slots[i] = (struct slot){ parent, index, true };
}

/* The text/plain part that stands where a removed one stood. */
static GMimeObject *notice_part(const char *text)
{
	GMimeTextPart *t = g_mime_text_part_new_with_subtype("plain");
	GMimePart *p = GMIME_PART(t);
	/* The bytes as given, UTF-8 (g_mime_text_part_set_text would pick a
	 * charset of its own and convert). */
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, dw);
	g_object_unref(dw);
	g_object_unref(st);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(t), "charset", "utf-8");
	g_mime_part_set_content_encoding(p, g_mime_part_get_best_content_encoding(p, GMIME_ENCODING_CONSTRAINT_7BIT));
	g_mime_object_set_disposition(GMIME_OBJECT(t), "inline");
	g_mime_part_set_content_description(p, "Attachment removed by the mail gateway");
	return GMIME_OBJECT(t);
}

static bool replace(const struct slot *s, const char *text)
{
	GMimeObject *notice = notice_part(text);
	bool ok = true;
	if (GMIME_IS_MULTIPART(s->parent)) {
		GMimeObject *old = g_mime_multipart_replace(GMIME_MULTIPART(s->parent), s->index, notice);
		ok = old != NULL;
		if (old)
			g_object_unref(old);
	} else if (GMIME_IS_MESSAGE(s->parent) && s->index < 0) {
		g_mime_message_set_mime_part(GMIME_MESSAGE(s->parent), notice);
	} else {
		ok = false;
	}
	g_object_unref(notice);
	return ok;
}

/* The tree as bytes, CRLF line ends (what the spool keeps). */
static char *write_message(GMimeMessage *message, size_t *out_len)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	GMimeStream *mem = g_mime_stream_mem_new();
	char *out = NULL;
	if (g_mime_object_write_to_stream(GMIME_OBJECT(message), fo, mem) >= 0) {
		GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		out = xmalloc(bytes->len + 1);
		memcpy(out, bytes->data, bytes->len);
		out[bytes->len] = '\0';
		*out_len = bytes->len;
	}
	g_object_unref(mem);
	g_mime_format_options_free(fo);
	return out;
}

char *strip_parts(const char *msg, size_t len, const struct strip_part *parts, size_t n, size_t *out_len)
{
	uint32_t problems = 0;
	size_t extent;
	GMimeMessage *message = mime_gmime_parse(msg, len, &mime_default_limits, &problems, &extent);
	if (!message)
		return NULL;
	struct strip_walk sw = { parts, n, xcalloc(n ? n : 1, sizeof(struct slot)) };
	static const struct mime_walk_ops ops = { .leaf = on_leaf };
	struct mime_walker w = { .lim = &mime_default_limits, .ops = &ops, .arg = &sw };
	mime_walk(message, &w);
	bool ok = extent == len;
	for (size_t i = 0; ok && i < n; i++)
		ok = sw.slots[i].found;
	for (size_t i = 0; ok && i < n; i++)
		ok = replace(&sw.slots[i], parts[i].notice);
	char *out = ok ? write_message(message, out_len) : NULL;
	free(sw.slots);
	g_object_unref(message);
	return out;
}

/* Is the sequence at p (len bytes) a bidi control (U+202A-202E, U+2066-2069)? */
static bool bidi_control(const unsigned char *p, size_t len)
{
	return len == 3 && p[0] == 0xe2 &&
	       ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) || (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9));
}

/* Append value to out[*n..cap-1), made safe (see strip.h). */
static void put_value(const char *value, char *out, size_t *n, size_t cap)
{
	const unsigned char *p = (const unsigned char *)value;
	for (size_t left = strlen(value); left > 0;) {
		size_t l = *p < 0x80 ? 1 : utf8_seq_len(p, left);
		bool bad = l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7f)) || bidi_control(p, l);
		size_t take = l ? l : 1;  /* one '?' for a bidi control, one per invalid byte */
		if (*n + (bad ? 1 : l) >= cap)
			return;
		if (bad)
			out[(*n)++] = '?';
		else
			memcpy(out + *n, p, l), *n += l;
		p += take;
		left -= take;
	}
}

size_t strip_notice_fill(const char *tmpl, const char *name, const char *reason, const char *queue_id, char *out,
			 size_t cap)
{
	static const char *const fields[] = { "{name}", "{reason}", "{queue_id}" };
	const char *values[] = { name, reason, queue_id };
	size_t n = 0;
	if (cap == 0)
		return 0;
	for (const char *t = tmpl; *t;) {
		size_t f = 0;
		while (f < 3 && strncmp(t, fields[f], strlen(fields[f])) != 0)
			f++;
		if (f < 3) {
			put_value(values[f], out, &n, cap);
			t += strlen(fields[f]);
			continue;
		}
		size_t l = (unsigned char)*t < 0x80 ? 1 : utf8_seq_len((const unsigned char *)t, strlen(t));
		if (l == 0)
			l = 1;  /* the template was checked at load; never split a byte anyway */
		if (n + l >= cap)
			break;
		memcpy(out + n, t, l);
		n += l;
		t += l;
	}
	out[n] = '\0';
	return n;
}
