/*
 * Mail the queue writes itself: see local_mail.h.
 */
#include "queue/local_mail.h"

#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "queue/envelope.h"
#include "queue/scheduler.h"
#include "queue/spool.h"
#include "util/alloc.h"

void local_mail_message_id(char *out, size_t size, const char *tag, const char *hostname)
{
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)time(NULL);
	snprintf(out, size, "<%016llx.%s@%s>", (unsigned long long)rnd, tag, hostname);
}

bool local_mail_queue(struct spool *sp, struct scheduler *sch, const char *hostname, const char *from,
		      const char *to, uint32_t flags, const char *text, size_t len, char *id, size_t idcap)
{
	return local_mail_queue_to(sp, sch, hostname, from, &to, 1, flags, text, len, id, idcap);
}

bool local_mail_queue_to(struct spool *sp, struct scheduler *sch, const char *hostname, const char *from,
			 const char *const *to, size_t n_to, uint32_t flags, const char *text, size_t len, char *id,
			 size_t idcap)
{
	struct envelope e;
	envelope_init_local(&e, hostname, from);
	e.flags = flags;
	for (size_t i = 0; i < n_to; i++)
		envelope_add_rcpt(&e, to[i]);
	int fd = spool_inject(sp, &e, text, len);
	if (fd < 0) {
		envelope_clear(&e);
		return false;
	}
	snprintf(id, idcap, "%s", e.id);
	scheduler_add(sch, &e, fd, false);
	return true;
}
