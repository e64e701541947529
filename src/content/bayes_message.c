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

static void header_tokens(const char *msg, size_t len, struct bayes_tokens *out)
{
	size_t hlen = content_header_end(msg, len);
	for (size_t i = 0; i < sizeof(told_by) / sizeof(told_by[0]); i++) {
		char *v = mime_header_text(msg, hlen, told_by[i]);
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
		unsigned long long h = 1469598103934665603ull;  /* FNV-1a */
		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)msg[i]) * 1099511628211ull;
		snprintf(out, cap, "digest:%016llx", h);
	}
	free(id);
}
