/*
 * ClamAV through clamd (issue 12, SCAN-6): one buffer per connection with
 * clamd's INSTREAM command ("zINSTREAM\0", chunks each led by a 4-byte
 * big-endian length, a zero length to end; one reply, "stream: OK",
 * "stream: <name> FOUND" or "... ERROR", NUL-terminated).
 *
 * TCP only: the scanner runs chrooted in an empty directory, where a
 * unix socket path such as /run/clamav/clamd.ctl does not exist; a TCP
 * address on loopback reaches clamd from any chroot (clamd.conf:
 * TCPSocket 3310, TCPAddr 127.0.0.1).
 *
 * Blocking, with one deadline per buffer covering connect, send and
 * reply: for the scanner's worker threads and `mailwarden scan`, never
 * an event loop. The reply is read into a fixed buffer (clamd is trusted
 * no more than it has to be).
 */
#ifndef MW_CONTENT_CLAMD_H
#define MW_CONTENT_CLAMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "content/malware.h"

/* The largest reply read; longer ones are an error. */
#define CLAMD_REPLY_MAX 1024

struct clamd_target {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned timeout_ms;   /* per buffer: connect, stream, reply */
};

/* "127.0.0.1:3310" or "[::1]:3310" (numeric addresses only: nothing to
 * resolve in a chroot) into t->addr; false with the reason in err. */
bool clamd_target_parse(const char *address, struct clamd_target *t, char *err, size_t errlen);

/* Scan buf[0..len) (ctx: a struct clamd_target); the malware_engine
 * scan function (content/malware.h). */
void clamd_scan(const void *ctx, const char *buf, size_t len, const char *name, struct malware_verdict *out);

/* clamd's reply reply[0..len) (without or with its NUL) as a verdict. */
void clamd_parse_reply(const char *reply, size_t len, struct malware_verdict *out);

#endif
