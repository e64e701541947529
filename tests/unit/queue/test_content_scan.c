/* The queue's side of the scanner (queue/content_scan.h) against a
 * scanner played by the test (SEC-1: a compromised scanner is trusted
 * with a verdict, not with the spool). A rewritten message is taken only
 * as a sealed memfd of the announced size within the allowed growth;
 * anything else ends the scan without a result, so the caller fails
 * closed (451). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc/channel.h"
#include "ipc/txn.h"
#include "queue/content_scan.h"
#include "util/memfd.h"

#define MESSAGE "Subject: hi\r\n\r\nbody\r\n"

/* What the played scanner answers: a result, and which descriptor. */
enum answer { SEALED, UNSEALED, WRONG_SIZE, TOO_LARGE, FD_WITHOUT_FLAG, FLAG_WITHOUT_FD };

struct play {
	enum answer answer;
	bool done;
	bool got_result;
	int rewrite_fd;
	uint64_t rewritten_size;
};

static int memfd_of(size_t len, bool seal)
{
	char *buf = calloc(1, len + 1);
	memset(buf, 'x', len);
	int fd;
	if (seal) {
		fd = memfd_sealed_from(buf, len, "t");
	} else {
		fd = memfd_create("t", MFD_ALLOW_SEALING);
		cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	}
	free(buf);
	return fd;
}

static void scanner_answers(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct play *p = arg;
	static struct ipc_scan_request req;
	cr_assert_eq(m->type, IPC_SCAN_REQUEST);
	cr_assert(ipc_scan_request_decode(m, &req));
	close(fd);
	static struct ipc_scan_result r;
	memset(&r, 0, sizeof(r));
	r.rewritten = p->answer != FD_WITHOUT_FLAG;
	r.rewritten_size = 10;
	int give = -1;
	switch (p->answer) {
	case SEALED: give = memfd_of(10, true); break;
	case UNSEALED: give = memfd_of(10, false); break;
	case WRONG_SIZE: give = memfd_of(11, true); break;
	case TOO_LARGE:
		r.rewritten_size = req.size + IPC_SCAN_REWRITE_GROWTH + 1;
		give = memfd_of(r.rewritten_size, true);
		break;
	case FD_WITHOUT_FLAG: r.rewritten_size = 0; give = memfd_of(10, true); break;
	case FLAG_WITHOUT_FD: break;
	}
	static struct ipc_msg out;
	ipc_scan_result_encode(&out, m->reqid, &r);
	channel_send(ch, &out, give);
	if (give >= 0)
		close(give);
}

static void scanner_closed(struct channel *ch, const char *why, void *arg) {}

static void scan_done(void *arg, const struct ipc_scan_result *r, int rewrite_fd, const char *why)
{
	struct play *p = arg;
	p->done = true;
	p->got_result = r != NULL;
	p->rewrite_fd = rewrite_fd;
	p->rewritten_size = r ? r->rewritten_size : 0;
}

static struct play run_scan(enum answer answer)
{
	struct event_base *base = event_base_new();
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	struct content_client *cc = content_client_new(base);
	content_client_attach(cc, sv[0]);
	struct play p = { .answer = answer, .rewrite_fd = -1 };
	struct channel *scanner = channel_new(base, sv[1], scanner_answers, scanner_closed, &p);
	FILE *f = tmpfile();
	fputs(MESSAGE, f);
	fflush(f);
	static struct ipc_scan_request req;
	const char *why = NULL;
	cr_assert_not_null(content_scan_start(cc, fileno(f), 0, sizeof(MESSAGE) - 1, &req, 2000, scan_done, &p, &why));
	for (int i = 0; i < 100 && !p.done; i++)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert(p.done);
	channel_free(scanner);
	content_client_free(cc);
	event_base_free(base);
	fclose(f);
	return p;
}

Test(content_scan, a_sealed_rewrite_of_the_announced_size_is_handed_over)
{
	struct play p = run_scan(SEALED);
	cr_assert(p.got_result);
	cr_assert_geq(p.rewrite_fd, 0);
	cr_assert_eq(p.rewritten_size, 10);
	uint64_t size;
	cr_assert(memfd_is_sealed(p.rewrite_fd, &size));
	close(p.rewrite_fd);
}

Test(content_scan, an_unsealed_rewrite_ends_the_scan_without_a_result)
{
	struct play p = run_scan(UNSEALED);
	cr_assert_not(p.got_result, "an unsealed memfd could change after the check");
	cr_assert_eq(p.rewrite_fd, -1);
}

Test(content_scan, a_rewrite_of_another_size_or_too_large_is_refused)
{
	struct play p = run_scan(WRONG_SIZE);
	cr_assert_not(p.got_result);
	p = run_scan(TOO_LARGE);
	cr_assert_not(p.got_result, "more than the allowed growth");
}

Test(content_scan, flag_and_descriptor_must_come_together)
{
	struct play p = run_scan(FD_WITHOUT_FLAG);
	cr_assert_not(p.got_result);
	p = run_scan(FLAG_WITHOUT_FD);
	cr_assert_not(p.got_result);
}
