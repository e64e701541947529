/*
 * See mime.h. GMime parses; we walk its tree with our own depth limit and
 * read each leaf through GMime's decoding and charset filters in chunks,
 * so that no limit can be passed by a part that decodes to more than it
 * looked (every byte kept is counted before it is kept).
 */
#include "content/mime.h"

#include <ctype.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "content/check.h"
#include "content/mime_walk.h"
#include "util/alloc.h"

const struct mime_limits mime_default_limits = {
	.max_depth = 20,
	.max_parts = 500,
	.max_part_bytes = 16u << 20,
	.max_total_bytes = 32u << 20,
	.max_field_lines = 50000,
	.max_dash_lines = 10000,
};

/* The walk's state. */
struct walk {
	const struct mime_limits *lim;
	struct mime_message *out;
	size_t cap;
	size_t total;              /* decoded bytes kept so far */
	size_t headers_cap;
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

/* Charsets seen in mail, beyond what glibc converts without a module. */
static const char *const preloaded[] = {
	"ISO-8859-1", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5", "ISO-8859-6", "ISO-8859-7",
	"ISO-8859-8", "ISO-8859-9", "ISO-8859-10", "ISO-8859-13", "ISO-8859-14", "ISO-8859-15", "ISO-8859-16",
	"WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254", "WINDOWS-1255",
	"WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258", "KOI8-R", "KOI8-U", "CP850", "CP866", "IBM437",
	"MACINTOSH", "TIS-620", "GB2312", "GBK", "GB18030", "BIG5", "BIG5-HKSCS", "EUC-JP", "SHIFT_JIS",
	"ISO-2022-JP", "EUC-KR", "ISO-2022-KR", "UTF-7", "UTF-16", "UTF-32", "VISCII",
};
/* Held open for the process's life: an open converter keeps its module
 * loaded, so later opens of the same charset need no file. */
static iconv_t held[sizeof(preloaded) / sizeof(preloaded[0])];

static void gmime_setup(void)
{
	g_mime_init();
	for (size_t i = 0; i < sizeof(preloaded) / sizeof(preloaded[0]); i++)
		held[i] = iconv_open("UTF-8", preloaded[i]);
}

void mime_prepare(void)
{
	pthread_once(&gmime_once, gmime_setup);
}

/* GMime's parser warnings, as our problems. */
static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer arg)
{
	uint32_t *problems = arg;
	switch (code) {
	case GMIME_WARN_MALFORMED_MULTIPART:
	case GMIME_WARN_TRUNCATED_MESSAGE:
	case GMIME_WARN_MALFORMED_MESSAGE:
	case GMIME_WARN_PART_WITHOUT_CONTENT:
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		*problems |= MIME_MALFORMED;
		break;
	case GMIME_CRIT_NESTING_OVERFLOW:
		*problems |= MIME_TOO_DEEP;
		break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		*problems |= MIME_NO_BOUNDARY;
		break;
	case GMIME_CRIT_INVALID_HEADER_NAME:
	case GMIME_CRIT_CONFLICTING_HEADER:
	case GMIME_CRIT_CONFLICTING_PARAMETER:
	case GMIME_WARN_DUPLICATED_HEADER:
		*problems |= MIME_BAD_HEADER;
		break;
	case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
		*problems |= MIME_BAD_ENCODED_WORD;
		break;
	case GMIME_WARN_UNENCODED_8BIT_HEADER:
		*problems |= MIME_8BIT_HEADER;
		break;
	case GMIME_WARN_INVALID_CONTENT_TYPE:
	case GMIME_WARN_INVALID_PARAMETER:
	case GMIME_WARN_DUPLICATED_PARAMETER:
		*problems |= MIME_BAD_CONTENT_TYPE;
		break;
	default:
		break;  /* address lists: the checks that read addresses judge them */
	}
}

static void lower_copy(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* The filter chain that turns the part's stored bytes into its content:
 * transfer decoding, then for text a charset conversion to UTF-8. */
static GMimeStream *decoded_stream(GMimePart *part, bool text, uint32_t *problems)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
	if (!raw)
		return NULL;
	g_mime_stream_reset(raw);
	GMimeStream *f = g_mime_stream_filter_new(raw);
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *dec = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), dec);
		g_object_unref(dec);
	}
	const char *charset = text ? g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset") : NULL;
	if (charset && g_ascii_strcasecmp(g_mime_charset_canon_name(charset), "utf-8") != 0) {
		GMimeFilter *conv = g_mime_filter_charset_new(charset, "UTF-8");
		if (conv) {
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), conv);
			g_object_unref(conv);
		} else {
			*problems |= MIME_BAD_CHARSET;  /* kept as it came */
		}
	}
	return f;
}

/* Read the decoded content into p, within the per-part and total limits. */
static void read_content(struct walk *w, GMimePart *part, struct mime_part *p)
{
	GMimeStream *s = decoded_stream(part, strncmp(p->type, "text/", 5) == 0, &w->out->problems);
	if (!s)
		return;
	size_t cap = 0;
	char chunk[16384];
	for (;;) {
		ssize_t n = g_mime_stream_read(s, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		size_t room = w->lim->max_part_bytes - p->len;
		if (w->lim->max_total_bytes - w->total < room)
			room = w->lim->max_total_bytes - w->total;
		size_t take = (size_t)n < room ? (size_t)n : room;
		if (p->len + take + 1 > cap) {
			cap = (p->len + take + 1) * 2;
			if (cap > w->lim->max_part_bytes + 1)
				cap = w->lim->max_part_bytes + 1;
			p->data = xreallocarray(p->data, cap, 1);
		}
		memcpy(p->data + p->len, chunk, take);
		p->len += take;
		w->total += take;
		if (take < (size_t)n) {
			p->truncated = true;
			w->out->problems |= MIME_TOO_LARGE;
			break;
		}
	}
	if (p->data)
		p->data[p->len] = '\0';
	g_object_unref(s);
}

/* Does the part's stored (still encoded) content have a line longer than
 * QP_LINE_MAX bytes, line end not counted? Read at most limit bytes. */
#define QP_LINE_MAX 78
static bool has_long_line(GMimePart *part, size_t limit)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
	if (!raw)
		return false;
	g_mime_stream_reset(raw);
	char chunk[16384];
	size_t line = 0, read = 0;
	bool long_line = false;
	while (!long_line && read < limit) {
		ssize_t n = g_mime_stream_read(raw, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		read += (size_t)n;
		for (ssize_t i = 0; i < n && !long_line; i++) {
			if (chunk[i] == '\n')
				line = 0;
			else if (chunk[i] != '\r')
				long_line = ++line > QP_LINE_MAX;
		}
	}
	g_mime_stream_reset(raw);
	return long_line;
}

static void add_leaf(void *arg, size_t leaf, GMimePart *part, unsigned depth, GMimeObject *parent, int index)
{
	(void)leaf, (void)parent, (void)index;
	struct walk *w = arg;
	struct mime_message *m = w->out;
	if (m->n_parts == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 8;
		m->parts = xreallocarray(m->parts, w->cap, sizeof(*m->parts));
	}
	struct mime_part *p = &m->parts[m->n_parts++];
	memset(p, 0, sizeof(*p));
	p->depth = depth;
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	lower_copy(p->type, sizeof(p->type), type ? type : "text/plain");
	g_free(type);
	const char *name = g_mime_part_get_filename(part);
	p->filename = name ? xstrdup(name) : NULL;
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(GMIME_OBJECT(part));
	p->attachment = cd && g_mime_content_disposition_is_attachment(cd);
	const char *disp = cd ? g_mime_content_disposition_get_disposition(cd) : NULL;
	p->disposition = disp && (g_ascii_strcasecmp(disp, "attachment") == 0 || g_ascii_strcasecmp(disp, "inline") == 0);
	const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	lower_copy(p->charset, sizeof(p->charset), charset ? charset : "");
	switch (g_mime_part_get_content_encoding(part)) {
	case GMIME_CONTENT_ENCODING_BASE64: p->encoding = MIME_ENC_BASE64; break;
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE: p->encoding = MIME_ENC_QP; break;
	case GMIME_CONTENT_ENCODING_UUENCODE: p->encoding = MIME_ENC_OTHER; break;
	default: p->encoding = MIME_ENC_NONE; break;  /* 7bit, 8bit, binary: nothing to undo */
	}
	p->qp_long_line = p->encoding == MIME_ENC_QP && has_long_line(part, w->lim->max_part_bytes);
	read_content(w, part, p);
}

/* Keep an entity's header section (see mime.h). */
static void add_headers(void *arg, GMimeObject *obj)
{
	struct walk *w = arg;
	struct mime_message *m = w->out;
	if (m->n_entity_headers >= w->lim->max_parts)
		return;
	char *text = g_mime_object_get_headers(obj, NULL);
	if (!text)
		return;
	if (m->n_entity_headers == w->headers_cap) {
		w->headers_cap = w->headers_cap ? w->headers_cap * 2 : 8;
		m->entity_headers = xreallocarray(m->entity_headers, w->headers_cap, sizeof(*m->entity_headers));
	}
	size_t n = strnlen(text, MIME_ENTITY_HEADER_MAX);
	char *copy = xmalloc(n + 1);
	memcpy(copy, text, n);
	copy[n] = '\0';
	m->entity_headers[m->n_entity_headers++] = copy;
	g_free(text);
}

/* The walk (mime_walk.h): depth first, in message order; the leaf count
 * is the walker's, so every caller numbers the leaves alike.
 * own_headers: false for a message's top part, whose fields are the
 * message's own (kept by the caller, or the attached message's header). */
static void walk_object(struct mime_walker *w, GMimeObject *obj, GMimeObject *parent, int index, unsigned depth,
			bool own_headers)
{
	if (!obj)
		return;
	if (depth > w->lim->max_depth) {
		w->problems |= MIME_TOO_DEEP;
		return;
	}
	if (own_headers && w->ops->entity)
		w->ops->entity(w->arg, obj);
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (inner) {
			if (w->ops->entity)
				w->ops->entity(w->arg, GMIME_OBJECT(inner));
			walk_object(w, g_mime_message_get_mime_part(inner), GMIME_OBJECT(inner), -1, depth + 1, false);
		}
	} else if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n && w->leaves < w->lim->max_parts; i++)
			walk_object(w, g_mime_multipart_get_part(mp, i), obj, i, depth + 1, true);
		if (n > 0 && w->leaves >= w->lim->max_parts)
			w->problems |= MIME_TOO_MANY_PARTS;
	} else if (GMIME_IS_PART(obj)) {
		if (w->leaves >= w->lim->max_parts) {
			w->problems |= MIME_TOO_MANY_PARTS;
			return;
		}
		w->ops->leaf(w->arg, w->leaves++, GMIME_PART(obj), depth, parent, index);
	}
}

void mime_walk(GMimeMessage *message, struct mime_walker *w)
{
	walk_object(w, g_mime_message_get_mime_part(message), GMIME_OBJECT(message), -1, 0, false);
}

/* Could the line be a header field to GMime? A name of any bytes but
 * controls, space and ':' (GMime takes an empty or 8-bit name too), white
 * space, then ':'. Lines that are not, GMime skips without an object. */
static bool field_like(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (unsigned char)s[i] > ' ' && s[i] != ':' && s[i] != 0x7f)
		i++;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < n && s[i] == ':';
}

/* How much of msg[0..len) GMime gets (see max_field_lines in mime.h):
 * the start of the first line past either count's limit, or len. */
static size_t parse_extent(const char *msg, size_t len, const struct mime_limits *lim)
{
	size_t fields = 0, dashes = 0;
	for (size_t pos = 0; pos < len;) {
		const char *lf = memchr(msg + pos, '\n', len - pos);
		size_t n = lf ? (size_t)(lf - (msg + pos)) + 1 : len - pos;
		if (field_like(msg + pos, n) && ++fields > lim->max_field_lines)
			return pos;
		if (n >= 2 && msg[pos] == '-' && msg[pos + 1] == '-' && ++dashes > lim->max_dash_lines)
			return pos;
		pos += n;
	}
	return len;
}

GMimeMessage *mime_gmime_parse(const char *msg, size_t len, const struct mime_limits *lim, uint32_t *problems,
			       size_t *extent)
{
	mime_prepare();
	*extent = parse_extent(msg, len, lim);
	if (*extent < len)
		*problems |= MIME_TOO_MANY_PARTS;
	GMimeParserOptions *opts = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(opts, on_warning, problems);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(msg, *extent);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, opts);
	if (!message)
		*problems |= MIME_MALFORMED;
	g_object_unref(parser);
	g_object_unref(stream);
	g_mime_parser_options_free(opts);
	return message;
}

bool mime_parse(const char *msg, size_t len, const struct mime_limits *lim, struct mime_message *out)
{
	memset(out, 0, sizeof(*out));
	size_t extent;
	GMimeMessage *message = mime_gmime_parse(msg, len, lim, &out->problems, &extent);
	if (!message)
		return false;
	static const struct mime_walk_ops ops = { .entity = add_headers, .leaf = add_leaf };
	struct walk w = { .lim = lim, .out = out };
	struct mime_walker walker = { .lim = lim, .ops = &ops, .arg = &w };
	mime_walk(message, &walker);
	out->problems |= walker.problems;
	g_object_unref(message);
	return true;
}

void mime_free(struct mime_message *m)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		free(m->parts[i].filename);
		free(m->parts[i].data);
	}
	free(m->parts);
	for (size_t i = 0; i < m->n_entity_headers; i++)
		free(m->entity_headers[i]);
	free(m->entity_headers);
	memset(m, 0, sizeof(*m));
}

char *mime_header_text(const char *hdr, size_t len, const char *name)
{
	size_t vlen;
	char *raw = content_header_unfold(hdr, len, name, &vlen);
	if (!raw)
		return NULL;
	mime_prepare();
	char *decoded = g_mime_utils_header_decode_text(NULL, raw);
	const char *s = decoded ? decoded : raw;
	char *text = xstrdup(s + strspn(s, " \t"));
	g_free(decoded);
	free(raw);
	return text;
}
