#include "smtp/message.h"

#include <stdio.h>
#include <string.h>

#include "net/pipeout.h"

void message_init(struct message *m, uint64_t limit)
{
	memset(m, 0, sizeof(*m));
	m->limit = limit;
	body_decoder_init(&m->body);
}

/* Everything that goes to the queue goes through here: the size limit
 * holds for the header and the body together. */
static void append(struct message *m, const char *p, size_t len)
{
	if (m->error != MESSAGE_OK)
		return;
	if (len > m->limit - m->size || m->size > m->limit) {
		m->error = MESSAGE_TOO_BIG;
		return;
	}
	m->size += len;
	hops_feed(&m->hops, p, len);
	if (hops_loop(&m->hops)) {
		m->error = MESSAGE_LOOP;  /* the rest is read and dropped */
		return;
	}
	field_size_feed(&m->fields, p, len);
	if (m->fields.too_long) {
		m->error = MESSAGE_FIELD_TOO_LONG;
		return;
	}
	if (!m->out)
		return;  /* no pipe (a refused chunk being read to its end) */
	if (len > 0 && !pipeout_write(m->out, p, len))
		m->error = MESSAGE_IO;
}

void message_open(struct message *m, struct event_base *base, int pipe_fd, const char *queue_id,
		  const char *received_header)
{
	m->out = pipeout_new(base, pipe_fd);
	if (!m->out)
		m->error = MESSAGE_IO;
	snprintf(m->queue_id, sizeof(m->queue_id), "%s", queue_id);
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
		append(m, out, n);
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
	append(m, in, len);
}

bool message_backlogged(const struct message *m)
{
	return m->out && pipeout_pending(m->out) > MESSAGE_BACKLOG_MAX;
}

enum message_error message_finish(struct message *m)
{
	if (m->chunk_cr && m->error == MESSAGE_OK)
		m->error = MESSAGE_BARE_EOL;  /* a chunked message ending in a bare CR */
	if (m->error == MESSAGE_OK && (!m->out || pipeout_failed(m->out)))
		m->error = MESSAGE_IO;
	return m->error;
}

void message_discard(struct message *m)
{
	pipeout_free(m->out);
	m->out = NULL;
}

void message_fail(struct message *m)
{
	message_discard(m);
	if (m->error == MESSAGE_OK)
		m->error = MESSAGE_IO;
}
