/*
 * DMARC (RFC 7489) with libopendmarc, for the scanner's dmarc check: the
 * policy record comes from the records fetched before the checks
 * (content/authdns.h), never from a lookup of the library's own; the
 * library parses it and judges the alignment of the DKIM and SPF results
 * with the From domain.
 *
 * Organizational domains come from the public suffix list (Debian's
 * publicsuffix package), read by dmarclib_prepare before the chroot;
 * without it, the last two labels of a name are taken (right for
 * example.com, too short for example.co.uk: subdomains there are then
 * judged by their own record only).
 */
#ifndef MW_CONTENT_DMARCLIB_H
#define MW_CONTENT_DMARCLIB_H

#include <stdbool.h>
#include <stddef.h>

#include "content/authdns.h"
#include "content/dkimlib.h"

#define DMARCLIB_SUFFIX_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

/* Read the public suffix list (in the scanner before the chroot, in the
 * scan command at start). False if it cannot be read: the fallback
 * above applies. */
bool dmarclib_prepare(const char *suffix_file);

/* An authdns_org_fn. */
bool dmarclib_org_domain(const char *domain, char *out, size_t cap);

enum dmarclib_result {
	DMARCLIB_NONE,        /* no From domain to judge, or no policy record */
	DMARCLIB_PASS,
	DMARCLIB_FAIL,
	DMARCLIB_TEMPERROR,   /* the record could not be fetched */
	DMARCLIB_PERMERROR,   /* a record that does not parse */
};

const char *dmarclib_result_name(enum dmarclib_result r);

struct dmarclib_verdict {
	enum dmarclib_result result;
	/* On fail: the policy that applies, p= or (for a subdomain judged by
	 * its organizational domain's record) sp=: "none", "quarantine" or
	 * "reject". */
	const char *policy;
};

/* Judge the message: the From domain and records in dns, our DKIM
 * results, smtpd's SPF result (RFC 8601 word, "" = none) for the
 * MAIL FROM domain spf_domain, the client's address. */
void dmarclib_evaluate(const struct authdns *dns, const struct dkimlib_verdict *dkim, const char *spf,
		       const char *spf_domain, const char *client_ip, struct dmarclib_verdict *out);

#endif
