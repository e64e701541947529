#include "smtp/downgrade.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "util/alloc.h"

/* GMime wants one g_mime_init() per process; the queue calls us from its
 * event loop thread only. */
static void downgrade_init(void)
{
	static bool done;
	if (!done) {
		g_mime_init();
		done = true;
	}
}

/* Whether a part's content (as stored, still encoded) holds a byte with
 * the high bit set. */
static bool part_has_8bit(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *s = w ? g_mime_data_wrapper_get_stream(w) : NULL;
	if (!s)
		return false;
	bool found = false;
	char buf[4096];
	g_mime_stream_reset(s);
	for (;;) {
		ssize_t n = g_mime_stream_read(s, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && !found; i++)
			found = (unsigned char)buf[i] >= 0x80;
		if (found)
			break;
	}
	g_mime_stream_reset(s);
	return found;
}

static void downgrade_walk(GMimeObject *parent, GMimeObject *obj, gpointer changed);

/* RFC 2045 6.4: a message/rfc822 part may only be 7bit, 8bit or binary;
 * once its inner parts are 7-bit, so is it. */
static void downgrade_message_part(GMimeMessagePart *mp, bool *changed)
{
	GMimeMessage *inner = g_mime_message_part_get_message(mp);
	if (!inner)
		return;
	bool inner_changed = false;
	GMimeObject *body = g_mime_message_get_mime_part(inner);
	if (body && !GMIME_IS_MULTIPART(body))
		downgrade_walk(NULL, body, &inner_changed);
	g_mime_message_foreach(inner, downgrade_walk, &inner_changed);
	const char *cte = g_mime_object_get_header(GMIME_OBJECT(mp), "Content-Transfer-Encoding");
	while (cte && g_ascii_isspace(*cte))
		cte++;
	if (inner_changed || (cte && g_ascii_strncasecmp(cte, "7bit", 4) != 0)) {
		g_mime_object_set_header(GMIME_OBJECT(mp), "Content-Transfer-Encoding", "7bit", NULL);
		*changed = true;
	}
}

/* One part: 8-bit content becomes quoted-printable (text) or base64. */
static void downgrade_walk(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	bool *changed = data;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		downgrade_message_part(GMIME_MESSAGE_PART(obj), changed);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;  /* multiparts: their children are visited too */
	GMimePart *part = GMIME_PART(obj);
	switch (g_mime_part_get_content_encoding(part)) {
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
	case GMIME_CONTENT_ENCODING_UUENCODE:
		return;
	default:
		break;
	}
	if (!part_has_8bit(part))
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	bool text = !ct || g_mime_content_type_is_type(ct, "text", "*");
	g_mime_part_set_content_encoding(part, text ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
						    : GMIME_CONTENT_ENCODING_BASE64);
	*changed = true;
}

/* The serialized message, checked to be 7-bit clean: a byte GMime left
 * as it was (a raw 8-bit header) makes the whole message undeliverable to
 * this peer, never sent. A bare LF (none is expected: GMime writes CRLF
 * here) gets its CR, so the client never sends one (RFC 5321 2.3.8). */
static enum downgrade_status downgrade_output(const GByteArray *a, char **out, size_t *out_len, char *why,
					      size_t why_len)
{
	size_t n = 0;
	for (guint i = 0; i < a->len; i++)
		n += a->data[i] == '\n' && (i == 0 || a->data[i - 1] != '\r') ? 2 : 1;
	char *o = xmalloc(n + 1);
	size_t k = 0;
	for (guint i = 0; i < a->len; i++) {
		unsigned char ch = a->data[i];
		if (ch >= 0x80 || ch == 0) {
			free(o);
			snprintf(why, why_len, "8-bit bytes outside MIME content (a header) cannot be converted");
			return DOWNGRADE_IMPOSSIBLE;
		}
		if (ch == '\n' && (i == 0 || a->data[i - 1] != '\r'))
			o[k++] = '\r';
		o[k++] = (char)ch;
	}
	*out = o;
	*out_len = k;
	return DOWNGRADE_OK;
}

enum downgrade_status downgrade_message(const char *msg, size_t len, char **out, size_t *out_len, char *why,
					size_t why_len)
{
	downgrade_init();
	/* CRLF lines in, CRLF lines out (GMIME_NEWLINE_FORMAT_DOS): a non-text
	 * part keeps its CRLFs inside its base64, as its canonical form has
	 * them (RFC 2045 6.8); text lines end in CRLF, not in "=0D". */
	GMimeStream *src = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(src);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(src);
	if (!m) {
		snprintf(why, why_len, "message cannot be parsed as MIME");
		return DOWNGRADE_ERROR;
	}
	bool changed = false;
	GMimeObject *body = g_mime_message_get_mime_part(m);
	if (body && !GMIME_IS_MULTIPART(body))
		downgrade_walk(NULL, body, &changed);
	g_mime_message_foreach(m, downgrade_walk, &changed);
	/* RFC 2045 4: a Content-Transfer-Encoding means nothing without
	 * MIME-Version (an 8-bit message that was not MIME at all). */
	if (changed && !g_mime_object_get_header(GMIME_OBJECT(m), "MIME-Version"))
		g_mime_object_set_header(GMIME_OBJECT(m), "MIME-Version", "1.0", NULL);
	GMimeStream *dst = g_mime_stream_mem_new();
	GMimeFormatOptions *opts = g_mime_format_options_clone(NULL);
	g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
	enum downgrade_status st = DOWNGRADE_ERROR;
	if (g_mime_object_write_to_stream(GMIME_OBJECT(m), opts, dst) >= 0)
		st = downgrade_output(g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(dst)), out, out_len, why,
				      why_len);
	else
		snprintf(why, why_len, "message cannot be written");
	g_mime_format_options_free(opts);
	g_object_unref(dst);
	g_object_unref(m);
	return st;
}

enum downgrade_status downgrade_spool(int fd, off_t from, off_t end, const char *prefix, size_t prefix_len,
				      char **out, size_t *out_len, char *why, size_t why_len)
{
	if (end < from) {
		snprintf(why, why_len, "spool read error");
		return DOWNGRADE_ERROR;
	}
	size_t body = (size_t)(end - from);
	char *msg = xmalloc(prefix_len + body + 1);
	if (prefix_len > 0)
		memcpy(msg, prefix, prefix_len);
	for (size_t got = 0; got < body;) {
		ssize_t n = pread(fd, msg + prefix_len + got, body - got, from + (off_t)got);
		if (n <= 0) {
			free(msg);
			snprintf(why, why_len, "spool read error");
			return DOWNGRADE_ERROR;
		}
		got += (size_t)n;
	}
	enum downgrade_status st = downgrade_message(msg, prefix_len + body, out, out_len, why, why_len);
	free(msg);
	return st;
}
