/*
 * REQUIRETLS (RFC 8689) in the queue process: which next hops may carry a
 * message that asked for it, what a refusal says, and the sender's
 * opposite wish, the "TLS-Required: No" header field (RFC 8689 5).
 *
 * The rule for a REQUIRETLS message, per kind of next hop:
 *   - MX delivery (a relay hop): the destination's MX names must be
 *     authenticated, by DNSSEC (the DANE lookup validated the MX records,
 *     with or without usable TLSA records) or by an MTA-STS policy in
 *     enforce mode (RFC 8461): RFC 8689 4.2.1 item 1. The certificate is
 *     then checked by the TLSA records (DANE), else against the MX name
 *     (PKIX, the job's level raised to verify): item 2. An explicit
 *     tls_policy of verify is
 *     NOT enough here: the MX names come from unauthenticated DNS, and a
 *     forged MX with a valid certificate for its own name would pass;
 *   - a static SMTP route or the smart host (a relay hop): the host name
 *     is the administrator's, not DNS's, so TLS verified against it (the
 *     destination's tls_policy, or outbound_tls.level, of verify) gives
 *     what MTA-STS and DANE give for MX hosts. Any lower level refuses;
 *   - maildir and LMTP routes: final delivery into the mailbox store,
 *     which RFC 8689 does not govern: allowed, and REQUIRETLS is not
 *     passed on (LMTP servers do not implement it).
 * Over a relay hop the session must then be TLS with a verified
 * certificate and the server must offer REQUIRETLS after STARTTLS
 * (smtp/client.c checks that, and passes the parameter on); a hop that
 * fails any of this fails the recipient permanently with 5.7.30, and the
 * message is never sent in clear.
 *
 * Pure functions apart from requiretls_tls_optional(), which reads the
 * spool file (pread, no blocking beyond the disk).
 */
#ifndef MW_QUEUE_REQUIRETLS_H
#define MW_QUEUE_REQUIRETLS_H

#include <stdbool.h>
#include <stddef.h>

#include "queue/envelope.h"

/* The relay hops; final delivery (maildir, LMTP) is not subject to the
 * rule at all (queue/deliver.c does not ask). */
enum requiretls_hop_kind {
	REQUIRETLS_HOP_ROUTE,   /* a static smtp:// route or the smart host */
	REQUIRETLS_HOP_MX,      /* the destination's MX hosts */
};

struct requiretls_hop {
	enum requiretls_hop_kind kind;
	bool dane;              /* MX: DANE applies to the destination */
	bool mx_dnssec;         /* MX: its MX records are DNSSEC-validated (no usable TLSA) */
	bool sts_enforce;       /* MX: an MTA-STS policy in enforce mode applies */
	int tls_level;          /* ROUTE: the level the TLS policy asks (enum tls_level) */
};

/* NULL: the hop may carry a REQUIRETLS message; else why not, for the
 * 5.7.30 reply ("no MTA-STS (enforce) or DANE policy for ..."). */
const char *requiretls_hop_refusal(const struct requiretls_hop *h);

/* The permanent reply for a refused hop: "550 5.7.30 REQUIRETLS: ...". */
void requiretls_refusal_reply(const char *why, const char *nexthop, char *buf, size_t size);

/* A temporary TLS failure of a REQUIRETLS delivery ("4.7.5": no STARTTLS,
 * handshake or certificate failure, a policy that refused every MX) is
 * made permanent (RFC 8689 4.2.1: such a message is not relayed, it is
 * returned): *code becomes 550 and buf holds "550 5.7.30 REQUIRETLS:
 * <reply>". Returns the reply to use (reply itself when unchanged). */
const char *requiretls_final_reply(int *code, const char *reply, char *buf, size_t size);

/* RFC 8689 5: the header section of msg[0..len) has a "TLS-Required"
 * field whose value is "No" (case-insensitive, folding and white space
 * around it allowed). Only the header section is looked at. */
bool requiretls_header_says_no(const char *msg, size_t len);

/* The same for e's message in fd (its first bytes, up to a bound): the
 * sender asks that recipient-side policies (MTA-STS, DANE) be ignored for
 * it. False when the message cannot be read. */
bool requiretls_tls_optional(int fd, const struct envelope *e);

#endif
