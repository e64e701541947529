/*
 * See dmarclib.h.
 */
#include "content/dmarclib.h"

#include <stdio.h>
#include <string.h>

#include <opendmarc/dmarc.h>

/* In libopendmarc, not in its header: the organizational domain of a
 * name by the loaded suffix list (0 on success). */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

static bool suffixes_loaded;

bool dmarclib_prepare(const char *suffix_file)
{
	OPENDMARC_LIB_T init;
	memset(&init, 0, sizeof(init));
	init.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
	if (snprintf((char *)init.tld_source_file, sizeof(init.tld_source_file), "%s", suffix_file) >=
	    (int)sizeof(init.tld_source_file))
		return false;
	suffixes_loaded = opendmarc_policy_library_init(&init) == DMARC_PARSE_OKAY;
	return suffixes_loaded;
}

/* The last two labels. */
static bool last_two_labels(const char *domain, char *out, size_t cap)
{
	const char *last = strrchr(domain, '.');
	if (!last || last == domain)
		return false;
	const char *p = last - 1;
	while (p > domain && *p != '.')
		p--;
	if (*p == '.')
		p++;
	return snprintf(out, cap, "%s", p) < (int)cap;
}

bool dmarclib_org_domain(const char *domain, char *out, size_t cap)
{
	char copy[256];
	if (snprintf(copy, sizeof(copy), "%s", domain) >= (int)sizeof(copy))
		return false;
	if (suffixes_loaded && opendmarc_get_tld((u_char *)copy, (u_char *)out, cap) == 0 && out[0] &&
	    strchr(out, '.'))
		return true;
	return last_two_labels(domain, out, cap);
}

const char *dmarclib_result_name(enum dmarclib_result r)
{
	switch (r) {
	case DMARCLIB_NONE: return "none";
	case DMARCLIB_PASS: return "pass";
	case DMARCLIB_FAIL: return "fail";
	case DMARCLIB_TEMPERROR: return "temperror";
	case DMARCLIB_PERMERROR: return "permerror";
	}
	return "permerror";
}

/* RFC 7489 6.6.3: the From domain's record, else its organizational
 * domain's. NULL with *result set when there is none to apply. */
static const struct authdns_record *policy_record(const struct authdns *dns, bool *from_org,
						  enum dmarclib_result *result)
{
	char name[300];
	*from_org = false;
	snprintf(name, sizeof(name), "_dmarc.%s", dns->from_domain);
	const struct authdns_record *r = authdns_find(dns, name);
	if (r && r->status == DNS_OK)
		return r;
	if (!r || r->status == DNS_TEMPFAIL) {
		*result = r ? DMARCLIB_TEMPERROR : DMARCLIB_NONE;
		return NULL;
	}
	*result = DMARCLIB_NONE;
	if (!dns->org_domain[0] || strcmp(dns->org_domain, dns->from_domain) == 0)
		return NULL;
	snprintf(name, sizeof(name), "_dmarc.%s", dns->org_domain);
	r = authdns_find(dns, name);
	if (r && r->status == DNS_TEMPFAIL)
		*result = DMARCLIB_TEMPERROR;
	*from_org = true;
	return r && r->status == DNS_OK ? r : NULL;
}

static int spf_outcome(const char *spf)
{
	if (strcmp(spf, "pass") == 0)
		return DMARC_POLICY_SPF_OUTCOME_PASS;
	if (strcmp(spf, "temperror") == 0)
		return DMARC_POLICY_SPF_OUTCOME_TMPFAIL;
	if (strcmp(spf, "fail") == 0 || strcmp(spf, "softfail") == 0)
		return DMARC_POLICY_SPF_OUTCOME_FAIL;
	return DMARC_POLICY_SPF_OUTCOME_NONE;
}

static int dkim_outcome(enum dkimlib_result r)
{
	switch (r) {
	case DKIMLIB_PASS: return DMARC_POLICY_DKIM_OUTCOME_PASS;
	case DKIMLIB_TEMPERROR: return DMARC_POLICY_DKIM_OUTCOME_TMPFAIL;
	case DKIMLIB_FAIL: return DMARC_POLICY_DKIM_OUTCOME_FAIL;
	default: return DMARC_POLICY_DKIM_OUTCOME_NONE;
	}
}

/* The policy word for a p= or sp= value. */
static const char *policy_name(int p)
{
	return p == DMARC_RECORD_P_REJECT ? "reject" : p == DMARC_RECORD_P_QUARANTINE ? "quarantine" : "none";
}

/* Give the library the record and the results; its verdict. */
static void judge(DMARC_POLICY_T *pctx, const struct authdns *dns, const struct authdns_record *rec, bool from_org,
		  const struct dkimlib_verdict *dkim, const char *spf, const char *spf_domain,
		  struct dmarclib_verdict *out)
{
	opendmarc_policy_store_from_domain(pctx, (u_char *)dns->from_domain);
	if (opendmarc_policy_store_dmarc(pctx, (u_char *)rec->text, (u_char *)dns->from_domain,
					 from_org ? (u_char *)dns->org_domain : NULL) != DMARC_PARSE_OKAY) {
		out->result = DMARCLIB_PERMERROR;
		return;
	}
	for (size_t i = 0; i < dkim->n; i++)
		if (dkim->sig[i].domain[0])
			opendmarc_policy_store_dkim(pctx, (u_char *)dkim->sig[i].domain, (u_char *)dkim->sig[i].selector,
						    dkim_outcome(dkim->sig[i].result), NULL);
	if (spf[0] && spf_domain[0])
		opendmarc_policy_store_spf(pctx, (u_char *)spf_domain, spf_outcome(spf),
					   DMARC_POLICY_SPF_ORIGIN_MAILFROM, NULL);
	int p = DMARC_RECORD_P_UNSPECIFIED, sp = DMARC_RECORD_P_UNSPECIFIED;
	opendmarc_policy_fetch_p(pctx, &p);
	opendmarc_policy_fetch_sp(pctx, &sp);
	switch (opendmarc_get_policy_to_enforce(pctx)) {
	case DMARC_POLICY_PASS:
		out->result = DMARCLIB_PASS;
		return;
	case DMARC_POLICY_ABSENT:
		out->result = DMARCLIB_NONE;
		return;
	default:
		out->result = DMARCLIB_FAIL;
		/* RFC 7489 6.3: sp= for subdomains judged by the organizational record. */
		out->policy = policy_name(from_org && sp != DMARC_RECORD_P_UNSPECIFIED ? sp : p);
	}
}

void dmarclib_evaluate(const struct authdns *dns, const struct dkimlib_verdict *dkim, const char *spf,
		       const char *spf_domain, const char *client_ip, struct dmarclib_verdict *out)
{
	memset(out, 0, sizeof(*out));
	out->result = DMARCLIB_NONE;
	if (!dns->from_domain[0])
		return;
	bool from_org;
	const struct authdns_record *rec = policy_record(dns, &from_org, &out->result);
	if (!rec)
		return;
	DMARC_POLICY_T *pctx = opendmarc_policy_connect_init((u_char *)(client_ip[0] ? client_ip : "0.0.0.0"),
							     strchr(client_ip, ':') != NULL);
	if (!pctx) {
		out->result = DMARCLIB_TEMPERROR;
		return;
	}
	judge(pctx, dns, rec, from_org, dkim, spf, spf_domain, out);
	opendmarc_policy_connect_shutdown(pctx);
}
