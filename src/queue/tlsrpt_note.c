/*
 * See tlsrpt_note.h.
 */
#include "queue/tlsrpt_note.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "queue/dane_lookup.h"
#include "queue/mtasts_lookup.h"
#include "queue/tlsrpt.h"
#include "queue/tlsrpt_session.h"
#include "smtp/client.h"

void tlsrpt_note_session(struct tlsrpt_job j, const struct smtp_tls_attempt *a)
{
	struct tlsrpt_session s;
	const struct tlsa_set *tlsa = NULL;
	for (size_t h = 0; j.dane && h < j.plan->n; h++)
		if (strcasecmp(j.plan->hosts[h], a->host) == 0 && j.dane->host[h] == DANE_HOST_USABLE)
			tlsa = &j.dane->tlsa[h];
	if (tlsa)
		tlsrpt_session_tlsa(&s, j.domain, tlsa);
	else if (!j.dane && j.sts->found)
		tlsrpt_session_sts(&s, j.domain, &j.sts->policy);
	else
		return;  /* no policy for this host: nothing to report */
	tlsrpt_session_outcome(&s, a);
	tlsrpt_count(j.t, j.c, &s);
}

void tlsrpt_note_failure(struct tlsrpt_job j, const char *result, const char *mx, const char *reason)
{
	struct tlsrpt_session s;
	if (j.sts->found && !j.dane)
		tlsrpt_session_sts(&s, j.domain, &j.sts->policy);
	else if (j.dane || strncmp(result, "dnssec", 6) == 0)
		tlsrpt_session_tlsa(&s, j.domain, NULL);  /* no records could be validated */
	else
		tlsrpt_session_no_policy(&s, j.domain);
	s.result = result;
	snprintf(s.receiving_mx, sizeof(s.receiving_mx), "%s", mx ? mx : "");
	snprintf(s.reason, sizeof(s.reason), "%s", reason ? reason : "");
	tlsrpt_count(j.t, j.c, &s);
}
