/*
 * The MIME view of a message for content checks (issue 11; issue 12's
 * attachment and malware checks use the same view: one MIME parser).
 * GMime 3 parses; this module flattens the tree into a list of leaf parts
 * with their transfer encoding undone and text converted to UTF-8, and
 * records what was wrong with the structure as problems, so a check can
 * score them ("malformed MIME is a symbol").
 *
 * Bounded: nesting depth, number of parts, decoded bytes per part and in
 * total have hard limits; what lies beyond is not decoded and the excess
 * is a problem (never an unbounded allocation). Thread-safe: each call
 * works on its own objects (the scanner's workers parse in parallel).
 */
#ifndef MW_CONTENT_MIME_H
#define MW_CONTENT_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What was wrong with a message's MIME structure; one bit each. */
enum mime_problem {
	MIME_MALFORMED = 1u << 0,        /* multipart without parts or end, message/rfc822 broken, truncated */
	MIME_NO_BOUNDARY = 1u << 1,      /* a multipart without its boundary parameter */
	MIME_BAD_HEADER = 1u << 2,       /* invalid header name, conflicting headers or parameters */
	MIME_BAD_ENCODED_WORD = 1u << 3, /* invalid RFC 2047 encoded word */
	MIME_8BIT_HEADER = 1u << 4,      /* raw 8-bit bytes in a header */
	MIME_BAD_CONTENT_TYPE = 1u << 5, /* invalid Content-Type or parameter */
	MIME_BAD_CHARSET = 1u << 6,      /* a text part in a charset that cannot be converted */
	MIME_TOO_DEEP = 1u << 7,         /* nesting beyond the limit */
	MIME_TOO_MANY_PARTS = 1u << 8,   /* more parts (or field or boundary lines) than the limits */
	MIME_TOO_LARGE = 1u << 9,        /* decoded content beyond a limit */
};

struct mime_limits {
	unsigned max_depth;        /* multipart / message nesting */
	unsigned max_parts;        /* leaf parts decoded */
	size_t max_part_bytes;     /* decoded bytes kept per part */
	size_t max_total_bytes;    /* decoded bytes kept in all parts */
	/* GMime makes an object of every header field and every part it
	 * meets, some hundreds of bytes each, before the limits above see
	 * any of it (25 MB of "a:b" lines would cost gigabytes). It gets the
	 * message only up to the line where one of these counts passes its
	 * limit; the rest is not parsed (MIME_TOO_MANY_PARTS). */
	size_t max_field_lines;    /* lines that could be a header field ("name:") */
	size_t max_dash_lines;     /* lines that could be a boundary ("--...") */
};

/* The defaults: depth 20, 500 parts, 16 MiB per part, 32 MiB in all;
 * 50 000 field-like and 10 000 boundary-like lines (some 25 and 13 MB of
 * GMime objects at most). */
extern const struct mime_limits mime_default_limits;

struct mime_part {
	char type[96];             /* "text/plain", lower case */
	char *filename;            /* as decoded (RFC 2231, RFC 2047), UTF-8; NULL if none */
	bool attachment;           /* Content-Disposition: attachment */
	bool disposition;          /* a Content-Disposition of attachment or inline was given */
	char charset[48];          /* the charset parameter as sent, lower case ("" if none) */
	enum mime_encoding { MIME_ENC_NONE, MIME_ENC_BASE64, MIME_ENC_QP, MIME_ENC_OTHER } encoding;  /* as sent */
	unsigned depth;            /* 0: the message's own body */
	char *data;                /* content, transfer encoding undone; text parts in UTF-8 */
	size_t len;
	bool truncated;            /* a limit cut the content short */
	/* Quoted-printable with an encoded line longer than 78 bytes (RFC
	 * 5322 2.1.1's limit; RFC 2045's 76 is exceeded by common clients by
	 * two, so SpamAssassin's MIME_QP_LONG_LINE uses 78 too). */
	bool qp_long_line;
};

struct mime_message {
	struct mime_part *parts;   /* leaf parts in message order */
	size_t n_parts;
	uint32_t problems;         /* enum mime_problem bits */
	/* The header section of every MIME entity below the message's own
	 * (for SpamAssassin's mimeheader rules), in its part order: depth
	 * first, a multipart before its parts, an attached message's part,
	 * then that message's header, then its parts. Each as GMime writes
	 * it (folding kept, LF line ends), cut at MIME_ENTITY_HEADER_MAX
	 * bytes; at most max_parts of them. */
	char **entity_headers;
	size_t n_entity_headers;
};

#define MIME_ENTITY_HEADER_MAX 65536

/* Once per process, before threads parse and before a chroot: initialise
 * GMime and load the charset converters mail uses (glibc's iconv loads
 * them from /usr/lib/.../gconv, which a chrooted scanner cannot reach; a
 * converter for a charset not loaded here makes MIME_BAD_CHARSET). */
void mime_prepare(void);

/* Parse msg[0..len) (a whole message, header section first). Fills out
 * (free with mime_free) and returns true; false only if GMime could not
 * make a message of it at all (out->problems then says MIME_MALFORMED). */
bool mime_parse(const char *msg, size_t len, const struct mime_limits *lim, struct mime_message *out);
void mime_free(struct mime_message *m);

/* The first field named name in the header section hdr[0..len), unfolded,
 * RFC 2047 decoded and without leading white space; NULL if there is
 * none. Caller frees. */
char *mime_header_text(const char *hdr, size_t len, const char *name);

#endif
