/*
 * Greylisting (off by default): the first delivery attempt of a triplet
 * (client /24 or /64, sender, recipient) is answered 451; a retry after
 * scan.greylist_delay seconds passes, and the triplet stays known for
 * scan.greylist_expiry seconds after its last use. Real MTAs retry; most
 * spam software does not. A database error fails open (accept).
 * Policy "refuse" gives the temporary reply; under "score" it only adds
 * points for a first attempt. The SQLite query runs on the scanner's
 * worker thread (util/offload.h), never on smtpd's event loop: a disk
 * that stalls must not stall every session (issue 16 item 8).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/data.h"
#include "scan/scan.h"
#include "state/greylist.h"
#include "util/alloc.h"
#include "util/offload.h"

/* The client's network: greylisting per address breaks senders that
 * retry from another host of the same farm. */
static void network_of(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	if (ss->ss_family == AF_INET) {
		const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr;
		snprintf(out, cap, "%u.%u.%u.0/24", b[0], b[1], b[2]);
		return;
	}
	struct in6_addr a = ((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
	memset(a.s6_addr + 8, 0, 8);
	char text[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &a, text, sizeof(text));
	snprintf(out, cap, "%s/64", text);
}

/* One lookup on its way through the worker thread. */
struct greylist_query {
	struct scan_job *job;
	struct greylist *db;
	char key[1400];
	char rcpt[600];
	time_t now;
	unsigned delay, expiry;
	enum greylist_result result;
};

/* Worker thread: the database only. */
static void query_run(void *arg)
{
	struct greylist_query *q = arg;
	q->result = greylist_check(q->db, q->key, q->now, q->delay, q->expiry);
}

/* Back on the loop. */
static void query_done(void *arg)
{
	struct greylist_query *q = arg;
	if (scan_job_alive(q->job) && q->result == GREYLIST_DEFER) {
		char detail[900];
		snprintf(detail, sizeof(detail), "<%s>: greylisted, try again later", q->rcpt);
		scan_hit(q->job, "GREYLIST", -1, detail);
	}
	scan_job_done(q->job);
	free(q);
}

static void greylist_rcpt(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	const struct scan_config *sc = scan_job_scan_config(job);
	const struct scan_data *d = scan_process_data();
	struct offload *o = scan_job_offload(job);
	if (!d || !d->greylist || !o) {
		scan_job_done(job);  /* no database: fail open, as on a database error */
		return;
	}
	struct greylist_query *q = xcalloc(1, sizeof(*q));
	char net[64];
	network_of(&f->client, net, sizeof(net));
	snprintf(q->key, sizeof(q->key), "%s|%s|%s", net, f->sender, f->rcpt);
	snprintf(q->rcpt, sizeof(q->rcpt), "%s", f->rcpt);
	q->job = job;
	q->db = d->greylist;
	q->now = time(NULL);
	q->delay = sc->greylist_delay;
	q->expiry = sc->greylist_expiry;
	offload_run(o, query_run, query_done, q);
}

const struct scan_check scan_check_greylist = {
	.name = "greylist",
	.default_reply = "451 4.7.1 Recipient address rejected",
	.stage = { [SCAN_STAGE_RCPT] = greylist_rcpt },
};
