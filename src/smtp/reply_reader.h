/*
 * The outbound client's reply reader: one reply line at a time (RFC 5321
 * 4.2: "250-first", "250 last"), with the EHLO capabilities and the SIZE
 * limit a next hop announces. Pure (no I/O), so that it can be fuzzed
 * (fuzz/fuzz_reply.c); client.c feeds it the lines it reads.
 */
#ifndef MW_SMTP_REPLY_READER_H
#define MW_SMTP_REPLY_READER_H

#include <stdbool.h>
#include <stddef.h>

#define REPLY_LINE_MAX 4096
#define REPLY_LINES_MAX 100
#define REPLY_CAP_SIZE 32

struct reply_reader {
	int code;
	unsigned lines;                        /* lines of the reply read so far */
	char text[512];                        /* the last line, control bytes as '?' */
	char caps[REPLY_LINES_MAX][REPLY_CAP_SIZE];  /* EHLO keywords */
	unsigned n_caps;
	/* RFC 4954 3: the mechanisms of the EHLO reply's "AUTH" line
	 * ("PLAIN LOGIN"), "" when it had none; cut to fit. */
	char auth_mechs[128];
};

enum reply_step {
	REPLY_MORE,       /* a continuation line: more to come */
	REPLY_LAST,       /* the reply is complete: code and text are set */
	REPLY_MALFORMED,  /* a broken or hostile reply: drop the connection */
};

/*
 * One line (LF cut off, CR still there) of len bytes; the line is
 * modified (CR cut, NUL-terminated). ehlo: the reply to EHLO, whose
 * continuation lines are capabilities; a "SIZE n" one sets *size_max.
 * A bare LF, a NUL, invalid UTF-8, a bad code, a code that changes within
 * the reply or more than REPLY_LINES_MAX lines make it REPLY_MALFORMED.
 * After REPLY_LAST the next line starts a new reply.
 */
enum reply_step reply_read_line(struct reply_reader *r, char *line, size_t len, bool ehlo,
				unsigned long long *size_max);

/* Did the EHLO reply announce cap (any case)? */
bool reply_has_cap(const struct reply_reader *r, const char *cap);

#endif
