#include "smtp/message.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <unistd.h>

#include "util/alloc.h"

#define MESSAGE_BUF_SIZE (64u * 1024)
#define HEADER_LINE_MAX 4096   /* longer header lines pass unrewritten */

void message_init(struct message *m, uint64_t limit)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->limit = limit;
	body_decoder_init(&m->body);
}

static void flush_buffer(struct message *m)
{
	size_t off = 0;
	while (off < m->buf_len && m->error == MESSAGE_OK) {
		ssize_t n = write(m->fd, m->buf + off, m->buf_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			m->error = MESSAGE_IO;
		else
			off += (size_t)n;
	}
	m->buf_len = 0;
}

/* Everything that enters the spool goes through here: the size limit holds
 * for the header and the body together. */
static void append(struct message *m, const char *p, size_t len)
{
	if (m->error != MESSAGE_OK)
		return;
	if (len > m->limit - m->size || m->size > m->limit) {
		m->error = MESSAGE_TOO_BIG;
		return;
	}
	m->size += len;
	if (!m->buf)
		return;  /* no spool file (a refused chunk being read to its end) */
	while (len > 0 && m->error == MESSAGE_OK) {
		size_t room = MESSAGE_BUF_SIZE - m->buf_len;
		size_t n = len < room ? len : room;
		memcpy(m->buf + m->buf_len, p, n);
		m->buf_len += n;
		p += n;
		len -= n;
		if (m->buf_len == MESSAGE_BUF_SIZE)
			flush_buffer(m);
	}
}

void message_set_subject_prefix(struct message *m, const char *prefix)
{
	m->subject_prefix = prefix;
}

/* One complete header line (CRLF included) of the client's message. */
static void header_line(struct message *m, const char *p, size_t len)
{
	if (len <= 2)
		m->headers_done = true;  /* the empty line: the body begins */
	if (!m->headers_done && len >= 8 && strncasecmp(p, "Subject:", 8) == 0) {
		size_t skip = 8 + (len > 8 && p[8] == ' ');
		append(m, "Subject: ", 9);
		append(m, m->subject_prefix, strlen(m->subject_prefix));
		append(m, " ", 1);
		append(m, p + skip, len - skip);
		m->subject_prefix = NULL;  /* the first Subject only */
		return;
	}
	append(m, p, len);
}

/* Body bytes on their way to the spool: while a subject prefix is due,
 * header lines are collected whole and looked at; everything else goes
 * straight through. */
static void append_body(struct message *m, const char *p, size_t len)
{
	while (len > 0 && m->subject_prefix && !m->headers_done) {
		if (!m->hdr_line)
			m->hdr_line = xmalloc(HEADER_LINE_MAX);
		const char *nl = memchr(p, '\n', len);
		size_t take = nl ? (size_t)(nl - p) + 1 : len;
		if (m->hdr_len + take > HEADER_LINE_MAX) {
			/* Too long to judge: pass it and stop rewriting. */
			append(m, m->hdr_line, m->hdr_len);
			m->hdr_len = 0;
			m->headers_done = true;
			break;
		}
		memcpy(m->hdr_line + m->hdr_len, p, take);
		m->hdr_len += take;
		p += take;
		len -= take;
		if (nl) {
			size_t n = m->hdr_len;
			m->hdr_len = 0;
			header_line(m, m->hdr_line, n);
		}
	}
	if (len > 0)
		append(m, p, len);
}

void message_open(struct message *m, int fd, const char *queue_id, const char *received_header)
{
	m->fd = fd;
	snprintf(m->queue_id, sizeof(m->queue_id), "%s", queue_id);
	m->buf = xmalloc(MESSAGE_BUF_SIZE);
	m->buf_len = 0;
	/* The header does not count against the client's SIZE, but against our limit. */
	append(m, received_header, strlen(received_header));
}

size_t message_data(struct message *m, const char *in, size_t len)
{
	char out[8192 + 1];
	size_t consumed = 0;
	while (consumed < len && !body_done(&m->body) && !body_failed(&m->body)) {
		size_t chunk = len - consumed < 8192 ? len - consumed : 8192;
		size_t used;
		size_t n = body_decode(&m->body, in + consumed, chunk, out, &used);
		append_body(m, out, n);
		consumed += used;
	}
	if (body_failed(&m->body) && m->error == MESSAGE_OK)
		m->error = MESSAGE_BARE_EOL;
	return consumed;
}

void message_chunk(struct message *m, const char *in, size_t len)
{
	/* RFC 5321 2.3.8: CR and LF only as CRLF, in BDAT too; a message with a
	 * bare one would be a smuggling vector for the next hop's DATA. */
	for (size_t i = 0; i < len && m->error != MESSAGE_BARE_EOL; i++) {
		if (in[i] == '\n' && !m->chunk_cr)
			m->error = MESSAGE_BARE_EOL;
		else if (m->chunk_cr && in[i] != '\n')
			m->error = MESSAGE_BARE_EOL;
		m->chunk_cr = in[i] == '\r';
	}
	append_body(m, in, len);
}

enum message_error message_finish(struct message *m)
{
	if (m->chunk_cr && m->error == MESSAGE_OK)
		m->error = MESSAGE_BARE_EOL;  /* a chunked message ending in a bare CR */
	if (m->hdr_len > 0) {  /* a header section without a line end */
		size_t n = m->hdr_len;
		m->hdr_len = 0;
		append(m, m->hdr_line, n);
	}
	if (m->fd >= 0 && m->error == MESSAGE_OK)
		flush_buffer(m);
	message_discard(m);
	return m->error;
}

void message_discard(struct message *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	free(m->buf);
	m->buf = NULL;
	m->buf_len = 0;
	free(m->hdr_line);
	m->hdr_line = NULL;
	m->hdr_len = 0;
}
