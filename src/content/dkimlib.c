/*
 * See dkimlib.h.
 */
#include "content/dkimlib.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "content/check.h"

const char *const dkimlib_signed_fields[] = {
	"from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc", "in-reply-to", "references",
	"mime-version", "content-type", "content-transfer-encoding", "list-id", "list-unsubscribe", NULL,
};

static DKIM_LIB *lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

const char *dkimlib_result_name(enum dkimlib_result r)
{
	switch (r) {
	case DKIMLIB_PASS: return "pass";
	case DKIMLIB_FAIL: return "fail";
	case DKIMLIB_NEUTRAL: return "neutral";
	case DKIMLIB_TEMPERROR: return "temperror";
	case DKIMLIB_PERMERROR: return "permerror";
	}
	return "permerror";
}

/* The prefetched record of sig's key: NULL when it was not planned
 * (beyond the limits). */
static const struct authdns_record *key_record(const struct authdns *dns, DKIM_SIGINFO *sig)
{
	const char *d = (const char *)dkim_sig_getdomain(sig), *s = (const char *)dkim_sig_getselector(sig);
	char name[600];
	if (!dns || !d || !s || snprintf(name, sizeof(name), "%s._domainkey.%s", s, d) >= (int)sizeof(name))
		return NULL;
	return authdns_find(dns, name);
}

/* The key lookup libopendkim calls (dkim_set_key_lookup): the answer
 * fetched before the checks, never a query of its own (DKIM_CBSTAT_DEFAULT
 * would make one). Any failure is "not found": the library's "try again"
 * abandons every signature of the message, so a lookup that timed out is
 * told apart afterwards (result_of). */
static DKIM_CBSTAT key_from_prefetch(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	const struct authdns_record *r = key_record(dkim_get_user_context(dkim), sig);
	if (!r || r->status != DNS_OK || strlen(r->text) >= buflen)
		return DKIM_CBSTAT_NOTFOUND;
	memcpy(buf, r->text, strlen(r->text) + 1);
	return DKIM_CBSTAT_CONTINUE;
}

static void lib_init(void)
{
	lib = dkim_init(NULL, NULL);
	if (!lib)
		return;
	dkim_set_key_lookup(lib, key_from_prefetch);
	/* A bare LF in a message counts as the CRLF a receiver sees. */
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags));
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *)dkimlib_signed_fields,
		     sizeof(const char **));
}

static DKIM_LIB *lib_get(void)
{
	pthread_once(&lib_once, lib_init);
	return lib;
}

/* Feed the header fields (each with its continuation lines, without the
 * final line break), the end of the header and the body. */
static DKIM_STAT feed(DKIM *dkim, const char *msg, size_t len)
{
	size_t hend = content_header_end(msg, len);
	for (size_t i = 0; i < hend;) {
		size_t end = i + content_field_len(msg, hend, i);
		size_t flen = end - i;
		while (flen > 0 && (msg[i + flen - 1] == '\n' || msg[i + flen - 1] == '\r'))
			flen--;
		if (flen > 0) {
			DKIM_STAT st = dkim_header(dkim, (u_char *)msg + i, flen);
			if (st != DKIM_STAT_OK)
				return st;
		}
		i = end;
	}
	DKIM_STAT st = dkim_eoh(dkim);
	if (st != DKIM_STAT_OK)
		return st;
	if (hend < len && (st = dkim_body(dkim, (u_char *)msg + hend, len - hend)) != DKIM_STAT_OK)
		return st;
	return dkim_eom(dkim, NULL);
}

static enum dkimlib_result result_of(DKIM_SIGINFO *sig, const struct authdns *dns)
{
	if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_PASSED) && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH)
		return DKIMLIB_PASS;
	const struct authdns_record *key;
	switch (dkim_sig_geterror(sig)) {
	case DKIM_SIGERROR_KEYFAIL:
		return DKIMLIB_TEMPERROR;
	case DKIM_SIGERROR_NOKEY:
		key = key_record(dns, sig);
		return !key || key->status == DNS_TEMPFAIL ? DKIMLIB_TEMPERROR : DKIMLIB_PERMERROR;
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
		return DKIMLIB_PERMERROR;
	case DKIM_SIGERROR_BADSIG:
	case DKIM_SIGERROR_OK:  /* processed, body hash mismatch */
		return DKIMLIB_FAIL;
	default:
		return dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH ? DKIMLIB_FAIL : DKIMLIB_NEUTRAL;
	}
}

/* The reason a signature did not pass, for the log and the header. */
static const char *why_not(DKIM_SIGINFO *sig, enum dkimlib_result r)
{
	if (r == DKIMLIB_PASS)
		return "";
	if (r == DKIMLIB_TEMPERROR)
		return "key lookup failed or timed out";
	if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
		return "body hash mismatch";
	return dkim_sig_geterrorstr(dkim_sig_geterror(sig));
}

static void copy_name(char *out, size_t cap, const unsigned char *name)
{
	out[0] = '\0';
	if (name && authdns_name_ok((const char *)name))
		snprintf(out, cap, "%s", (const char *)name);
}

void dkimlib_verify(const char *msg, size_t len, const struct authdns *dns, struct dkimlib_verdict *out)
{
	memset(out, 0, sizeof(*out));
	DKIM_STAT st;
	DKIM_LIB *l = lib_get();
	DKIM *dkim = l ? dkim_verify(l, (const u_char *)"mailwarden", NULL, &st) : NULL;
	if (!dkim)
		return;
	dkim_set_user_context(dkim, (void *)dns);
	feed(dkim, msg, len);
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	if (dkim_getsiglist(dkim, &sigs, &nsigs) == DKIM_STAT_OK) {
		for (int i = 0; i < nsigs && out->n < AUTHDNS_SIGNATURES_MAX; i++) {
			struct dkimlib_signature *s = &out->sig[out->n++];
			copy_name(s->domain, sizeof(s->domain), dkim_sig_getdomain(sigs[i]));
			copy_name(s->selector, sizeof(s->selector), dkim_sig_getselector(sigs[i]));
			s->result = result_of(sigs[i], dns);
			snprintf(s->why, sizeof(s->why), "%s", why_not(sigs[i], s->result));
		}
	}
	dkim_free(dkim);
}

/* The library's field, folded with LF or CRLF, as one CRLF-folded field. */
static bool copy_field(const u_char *value, size_t vlen, char *out, size_t cap)
{
	static const char name[] = "DKIM-Signature: ";
	size_t o = sizeof(name) - 1;
	if (cap < o + 3)
		return false;
	memcpy(out, name, o);
	for (size_t i = 0; i < vlen; i++) {
		if (value[i] == '\r')
			continue;
		if (o + 3 >= cap)
			return false;
		if (value[i] == '\n')
			out[o++] = '\r';
		out[o++] = (char)value[i];
	}
	memcpy(out + o, "\r\n", 3);
	return true;
}

bool dkimlib_sign(const char *msg, size_t len, const char *domain, const char *selector, const char *key_pem,
		  char *out, size_t cap, char *err, size_t errcap)
{
	DKIM_STAT st = DKIM_STAT_INTERNAL;
	DKIM_LIB *l = lib_get();
	DKIM *dkim = l ? dkim_sign(l, (const u_char *)"mailwarden", NULL, (dkim_sigkey_t)key_pem,
				   (const u_char *)selector, (const u_char *)domain, DKIM_CANON_RELAXED,
				   DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st)
		       : NULL;
	if (!dkim) {
		snprintf(err, errcap, "cannot start signing: %s", dkim_getresultstr(st));
		return false;
	}
	u_char *value = NULL;
	size_t vlen = 0;
	bool ok = (st = feed(dkim, msg, len)) == DKIM_STAT_OK &&
		  (st = dkim_getsighdr_d(dkim, sizeof("DKIM-Signature: ") - 1, &value, &vlen)) == DKIM_STAT_OK;
	if (!ok)
		snprintf(err, errcap, "%s", dkim_geterror(dkim) ? dkim_geterror(dkim) : dkim_getresultstr(st));
	else if (!(ok = copy_field(value, vlen, out, cap)))
		snprintf(err, errcap, "the signature does not fit");
	dkim_free(dkim);
	return ok;
}
