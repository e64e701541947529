#include "queue/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "quarantine/keeper.h"
#include "queue/emergency.h"
#include "queue/scheduler.h"
#include "queue/status_report.h"
#include "queue/tlsrpt.h"
#include "util/alloc.h"
#include "util/log.h"

#define CONTROL_TIMEOUT 10
/* Clients served at once. Only root and the queue user get in, but a
 * runaway script of theirs that keeps connecting must not take the
 * descriptors the spool and the deliveries need: past this the oldest
 * client still waiting for its command line is dropped for the new one
 * (an operator's command, sent at once, is read long before it is the
 * oldest). */
#define CONTROL_CLIENTS_MAX 16
/* accept() out of descriptors: the socket stays readable, so pause the
 * listener this long instead of spinning on it. */
#define CONTROL_EMFILE_PAUSE 1

struct control {
	struct scheduler *sch;
	struct keeper *quarantine;
	struct emergency *levels;
	const struct config *const *config;  /* the queue's current snapshot */
	const struct content_client *scanner; /* for status; NULL until set */
	struct event_base *base;
	struct event *ev;
	int fd;
	TAILQ_HEAD(, ctl_client) clients;   /* oldest first */
	unsigned n_clients;
	bool busy;                          /* at CONTROL_CLIENTS_MAX (logged once per spell) */
};

struct ctl_client {
	struct control *ctl;
	TAILQ_ENTRY(ctl_client) link;
	struct bufferevent *bev;
	bool answered;
	uid_t uid;
	char peer[32];
};

static void client_free(struct ctl_client *cc)
{
	struct control *ctl = cc->ctl;
	TAILQ_REMOVE(&ctl->clients, cc, link);
	if (--ctl->n_clients < CONTROL_CLIENTS_MAX / 2)
		ctl->busy = false;
	bufferevent_free(cc->bev);
	free(cc);
}

/* Room for one more client: false if every one is busy answering. */
static bool make_room(struct control *ctl)
{
	if (ctl->n_clients < CONTROL_CLIENTS_MAX)
		return true;
	if (!ctl->busy) {
		log_event(LOG_WARNING, "control_busy", "clients", log_u64(ctl->n_clients), "msg",
			  "too many control connections: the oldest idle ones are dropped", NULL);
		ctl->busy = true;
	}
	struct ctl_client *cc;
	TAILQ_FOREACH(cc, &ctl->clients, link)
		if (!cc->answered) {
			client_free(cc);
			return true;
		}
	return false;
}

static void resume_accepting(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	event_add(ctl->ev, NULL);
}

/* Run one command line for cc's peer; the answer goes into out. */
static int run_command(struct ctl_client *cc, char *line, FILE *out)
{
	struct scheduler *sch = cc->ctl->sch;
	if (strncmp(line, "quarantine ", 11) == 0)
		return keeper_command(cc->ctl->quarantine, *cc->ctl->config, line + 11, cc->uid, out);
	if (strcmp(line, "status") == 0) {
		int rc = emergency_command(cc->ctl->levels, line, cc->uid, out);
		if (rc == 0)
			status_report_print(out, *cc->ctl->config, cc->ctl->scanner);
		return rc;
	}
	if (strncmp(line, "level", 5) == 0)
		return emergency_command(cc->ctl->levels, line, cc->uid, out);
	if (strncmp(line, "tlsrpt ", 7) == 0)
		return tlsrpt_command(scheduler_tlsrpt(sch), *cc->ctl->config, line + 7, out);
	char *words[3] = { 0 };
	size_t n = 0;
	for (char *save = NULL, *w = strtok_r(line, " ", &save); w && n < 3; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	if (n == 0 || n > 2)
		goto usage;
	const char *cmd = words[0], *arg = words[1];
	if (strcmp(cmd, "list") == 0 && (!arg || strcmp(arg, "--json") == 0))
		return scheduler_admin_list(sch, arg != NULL, out);
	if (strcmp(cmd, "flush") == 0)
		return scheduler_admin_flush(sch, arg, out);
	if (!arg)
		goto usage;
	if (strcmp(cmd, "show") == 0)
		return scheduler_admin_show(sch, arg, out);
	if (strcmp(cmd, "hold") == 0)
		return scheduler_admin_hold(sch, arg, out);
	if (strcmp(cmd, "release") == 0)
		return scheduler_admin_release(sch, arg, out);
	if (strcmp(cmd, "delete") == 0)
		return scheduler_admin_delete(sch, arg, out);
usage:
	fputs("error: commands: list [--json], show ID, flush [ID], hold ID, release ID, delete ID, quarantine ..., "
	      "status, level ..., tlsrpt ...\n",
	      out);
	return -1;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (cc->answered)
		return;
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
	if (!line) {
		if (evbuffer_get_length(in) > CONTROL_LINE_MAX)
			client_free(cc);
		return;
	}
	/* Commands are printable ASCII: a NUL or control byte would cut or
	 * disguise what gets logged, so such a line is refused as a whole. */
	bool clean = true;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f) {
			line[i] = '?';
			clean = false;
		}
	char *logged = len <= CONTROL_LINE_MAX ? xstrdup(line) : xstrdup("(too long)");
	char *text = NULL;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	int rc = -1;
	if (out) {
		if (len > CONTROL_LINE_MAX)
			fputs("error: command too long\n", out);
		else if (!clean)
			fputs("error: command holds bytes that are not printable ASCII\n", out);
		else
			rc = run_command(cc, line, out);
		fclose(out);
	}
	log_event(rc == 0 ? LOG_INFO : LOG_WARNING, "control", "command", logged, "peer", cc->peer, "result",
		  rc == 0 ? "ok" : "error", NULL);
	free(logged);
	free(line);
	const char *head = rc == 0 ? "ok\n" : "error\n";
	bufferevent_write(bev, head, strlen(head));
	if (text)
		bufferevent_write(bev, text, tlen);
	free(text);
	cc->answered = true;
	bufferevent_disable(bev, EV_READ);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cc = arg;
	if (cc->answered && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(cc);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	client_free(arg);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct control *ctl = arg;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			event_del(ctl->ev);
			event_base_once(ctl->base, -1, EV_TIMEOUT, resume_accepting, ctl,
					&(struct timeval){ .tv_sec = CONTROL_EMFILE_PAUSE });
		}
		return;
	}
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || (cred.uid != 0 && cred.uid != getuid())) {
		log_event(LOG_WARNING, "control_refused", "uid", log_u64(cl == sizeof(cred) ? cred.uid : 0), NULL);
		close(fd);
		return;
	}
	if (!make_room(ctl)) {
		close(fd);
		return;
	}
	struct ctl_client *cc = xcalloc(1, sizeof(*cc));
	cc->ctl = ctl;
	TAILQ_INSERT_TAIL(&ctl->clients, cc, link);
	ctl->n_clients++;
	cc->uid = cred.uid;
	snprintf(cc->peer, sizeof(cc->peer), "uid:%u", (unsigned)cred.uid);
	cc->bev = bufferevent_socket_new(ctl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(cc->bev, on_read, on_write, on_event, cc);
	bufferevent_set_timeouts(cc->bev, &(struct timeval){ .tv_sec = CONTROL_TIMEOUT },
				 &(struct timeval){ .tv_sec = CONTROL_TIMEOUT });
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
}

struct control *control_start(struct event_base *base, struct scheduler *sch, struct keeper *quarantine,
			      struct emergency *levels, const struct config *const *config)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", CONTROL_SOCKET);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	unlink(CONTROL_SOCKET);  /* left by a previous queue process (we hold the spool lock) */
	mode_t old = umask(0117);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(CONTROL_SOCKET, 0660) < 0 || listen(fd, 16) < 0) {
		log_event(LOG_ERR, "control_error", "msg", strerror(errno), NULL);
		close(fd);
		return NULL;
	}
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	ctl->sch = sch;
	ctl->quarantine = quarantine;
	ctl->levels = levels;
	ctl->config = config;
	ctl->base = base;
	ctl->fd = fd;
	TAILQ_INIT(&ctl->clients);
	ctl->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_accept, ctl);
	event_add(ctl->ev, NULL);
	return ctl;
}

void control_use_scanner(struct control *ctl, const struct content_client *scanner)
{
	if (ctl)
		ctl->scanner = scanner;
}

void control_stop(struct control *ctl)
{
	if (!ctl)
		return;
	event_free(ctl->ev);
	close(ctl->fd);
	free(ctl);
}
