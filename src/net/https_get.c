/*
 * See https_get.h. Runs in worker threads of the queue process.
 */
#include "net/https_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/addr_text.h"
#include "util/alloc.h"

#define RESOLVE_MAX 2048   /* "host:port:addr,addr,..." */

struct body {
	char *data;
	size_t len, max;
	bool too_big;
};

bool https_get_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void https_get_cleanup(void)
{
	curl_global_cleanup();
}

/* Bounded: a body over max ends the transfer (curl sees a short write). */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;
	if (add > b->max - b->len) {
		b->too_big = true;
		return 0;
	}
	memcpy(b->data + b->len, p, add);
	b->len += add;
	return add;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const atomic_bool *cancel = arg;
	return cancel && atomic_load(cancel) ? 1 : 0;
}

/* CURLOPT_RESOLVE's entry: the addresses our resolver found for host. */
static void resolve_entry(const struct https_get_req *r, char *out, size_t cap)
{
	size_t o = (size_t)snprintf(out, cap, "%s:%u:", r->host, r->port);
	for (size_t i = 0; i < r->n_addrs && o < cap; i++) {
		const struct sockaddr_storage *ss = &r->addrs[i];
		char a[INET6_ADDRSTRLEN];
		if (!addr_text((const struct sockaddr *)ss, a))
			continue;
		o += (size_t)snprintf(out + o, cap - o, "%s%s%s%s", o > 0 && out[o - 1] != ':' ? "," : "",
				      ss->ss_family == AF_INET6 ? "[" : "", a, ss->ss_family == AF_INET6 ? "]" : "");
	}
}

/* "text/plain", "text/plain; charset=utf-8": the media type before any ';'. */
static bool type_is(const char *got, const char *want)
{
	size_t n = strlen(want);
	return got && strncasecmp(got, want, n) == 0 && (got[n] == '\0' || got[n] == ';' || got[n] == ' ');
}

static void set_options(CURL *h, const struct https_get_req *r, struct curl_slist *resolve, const char *url,
			struct body *b)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);   /* RFC 8461 3.3: no redirects */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (r->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
	curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(h, CURLOPT_PROXY, "");            /* never an environment's proxy */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);          /* threads: no SIGALRM */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_size);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)r->cancel);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "mailwarden");
}

/* After the transfer: status 200 and the media type, else why. */
static bool check_reply(CURL *h, CURLcode rc, const struct https_get_req *r, const struct body *b, const char *err,
			char *why, size_t whylen)
{
	long status = 0;
	char *type = NULL;
	if (rc != CURLE_OK) {
		/* Content-Length over the limit (curl refuses it), or a body
		 * without one that grows past it (on_data) */
		bool big = b->too_big || rc == CURLE_FILESIZE_EXCEEDED;
		snprintf(why, whylen, "%s", big ? "body larger than the limit" : err[0] ? err : curl_easy_strerror(rc));
		return false;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
	if (status != 200) {
		snprintf(why, whylen, "HTTP status %ld (only 200 counts; redirects are not followed)", status);
		return false;
	}
	if (!type_is(type, r->content_type)) {
		snprintf(why, whylen, "Content-Type %s, not %s", type ? type : "(none)", r->content_type);
		return false;
	}
	return true;
}

bool https_get(const struct https_get_req *r, char **body, size_t *len, char *why, size_t whylen)
{
	char url[600], entry[RESOLVE_MAX], err[CURL_ERROR_SIZE] = "";
	if (r->n_addrs == 0) {
		snprintf(why, whylen, "%s has no address", r->host);
		return false;
	}
	snprintf(url, sizeof(url), "https://%s:%u%s", r->host, r->port, r->path);
	resolve_entry(r, entry, sizeof(entry));
	CURL *h = curl_easy_init();
	struct curl_slist *resolve = curl_slist_append(NULL, entry);
	struct body b = { .data = xmalloc(r->max_size + 1), .max = r->max_size };
	bool ok = false;
	if (!h || !resolve) {
		snprintf(why, whylen, "cannot set up the HTTPS client");
	} else {
		set_options(h, r, resolve, url, &b);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
		ok = check_reply(h, curl_easy_perform(h), r, &b, err, why, whylen);
	}
	curl_slist_free_all(resolve);
	if (h)
		curl_easy_cleanup(h);
	if (!ok) {
		free(b.data);
		return false;
	}
	b.data[b.len] = '\0';
	*body = b.data;
	*len = b.len;
	return true;
}
