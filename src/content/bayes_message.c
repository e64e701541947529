/*
 * See bayes_message.h.
 */
#include "content/bayes_message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/bayes.h"
#include "content/check.h"
#include "content/mime.h"
#include "content/uri.h"
#include "util/alloc.h"
#include "util/fnv.h"

/* "http://Host.Example:80/x" -> "host.example" in out (cap bytes). */
static void host_of(const char *uri, char *out, size_t cap)
{
	const char *p = strstr(uri, "://");
	p = p ? p + 3 : uri;
	const char *at = strpbrk(p, "@/?#");
	if (at && *at == '@')
		p = at + 1;
	size_t n = strcspn(p, ":/?#");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The header fields whose words tell, as SpamAssassin's and bogofilter's
 * Bayes take header tokens too: who wrote it, with what, to whom, in
 * what form. Not Received (it names this gateway and its hops, the same
 * for spam and ham), not Date (noise), not X-Spam-* (our own verdict,
 * which learning from a mailbox must not learn). */
static const char *const told_by[] = {
	"From", "To", "Cc", "Reply-To", "Sender", "Return-Path", "Message-ID", "In-Reply-To",
	"X-Mailer", "User-Agent", "Content-Type", "X-Priority", "X-MSMail-Priority", "X-MimeOLE",
	"Organization", "List-Id", "List-Unsubscribe", "Precedence", "Mailing-List", "X-Originating-IP",
};
_Static_assert(sizeof(told_by) / sizeof(told_by[0]) <= 32, "header_tokens keeps a bit per name");

/* Which of told_by the field at field[0..flen) is, or -1. */
static int told_by_index(const char *field, size_t flen)
{
	size_t voff;
	for (size_t i = 0; i < sizeof(told_by) / sizeof(told_by[0]); i++)
		if (content_field_is(field, flen, told_by[i], &voff))
			return (int)i;
	return -1;
}

/* One pass over the header section; the first field of each name counts
 * (as mime_header_text would find it), a repeated one does not. */
static void header_tokens(const char *msg, size_t len, struct bayes_tokens *out)
{
	size_t hlen = content_header_end(msg, len);
	uint32_t seen = 0;
	for (size_t pos = 0, flen; pos < hlen; pos += flen) {
		flen = content_field_len(msg, hlen, pos);
		int i = told_by_index(msg + pos, flen);
		if (i < 0 || (seen & (1u << i)))
			continue;
		seen |= 1u << i;
		char *v = mime_header_text(msg + pos, flen, told_by[i]);
		if (v)
			bayes_tokenize_header(told_by[i], v, out);
		free(v);
	}
}

void bayes_message_tokens(const char *msg, size_t len, const struct mime_message *m, const struct uri_list *uris,
			  struct bayes_tokens *out)
{
	char *subject = mime_header_text(msg, content_header_end(msg, len), "Subject");
	const char **text = xreallocarray(NULL, m->n_parts ? m->n_parts : 1, sizeof(*text));
	size_t *tlen = xreallocarray(NULL, m->n_parts ? m->n_parts : 1, sizeof(*tlen));
	size_t n = 0;
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mime_part *p = &m->parts[i];
		if (strncmp(p->type, "text/", 5) != 0 || !p->data)
			continue;
		text[n] = p->data;
		tlen[n++] = p->len;
	}
	char **hosts = xreallocarray(NULL, uris->n ? uris->n : 1, sizeof(*hosts));
	for (size_t i = 0; i < uris->n; i++) {
		hosts[i] = xmalloc(256);
		host_of(uris->uris[i], hosts[i], 256);
	}
	*out = (struct bayes_tokens){ 0 };
	header_tokens(msg, len, out);  /* first: a long text must not crowd them out */
	bayes_tokenize(text, tlen, n, subject, (const char *const *)hosts, uris->n, out);
	for (size_t i = 0; i < uris->n; i++)
		free(hosts[i]);
	free(hosts);
	free(text);
	free(tlen);
	free(subject);
}

void bayes_message_identity(const char *msg, size_t len, char *out, size_t cap)
{
	size_t vlen;
	char *id = content_header_unfold(msg, content_header_end(msg, len), "Message-ID", &vlen);
	const char *v = id;
	while (v && (*v == ' ' || *v == '\t'))
		v++;
	if (v && *v) {
		snprintf(out, cap, "%s", v);
	} else {
		snprintf(out, cap, "digest:%016llx", (unsigned long long)fnv64_mix(FNV64_OFFSET, msg, len));
	}
	free(id);
}
