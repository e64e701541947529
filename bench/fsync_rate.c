/*
 * fsync_rate: the disk's own commit rate on a file system, i.e. the
 * physical limit of a spool that makes every message durable before its
 * 250. Runs for a bounded time in a scratch directory and prints one line
 * per mode, "mode msgs_per_sec", for bench/bench.py to parse.
 *
 *   per-message  each message: create tmp file, write, fsync(file),
 *                rename into q/, fsync(q/) -- what spool_fs.c does per
 *                message today.
 *   group-files  32 messages at a time: 32 files written, their fsyncs
 *                issued concurrently by 32 threads (the journal merges
 *                them), 32 renames, one fsync(q/) -- group commit in a
 *                file-per-message layout.
 *   group-log    32 messages appended to one log file, one fdatasync --
 *                group commit in a log-structured layout.
 *
 * Usage: fsync_rate DIR SECONDS [MSG_BYTES] [BATCH]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 256

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

static void *fsync_thread(void *arg)
{
	if (fsync(*(int *)arg) < 0)
		die("fsync");
	return NULL;
}

/* batch == 1 and threads == false: per-message; otherwise group-files. */
static double run_files(int tmp, int q, double secs, const char *buf, size_t len, int batch)
{
	long n = 0;
	double t0 = now(), el = 0;
	char name[64];
	int fds[BATCH_MAX];
	pthread_t th[BATCH_MAX];
	while (el < secs) {
		for (int i = 0; i < batch; i++) {
			snprintf(name, sizeof(name), "m%ld", n + i);
			fds[i] = openat(tmp, name, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
			if (fds[i] < 0)
				die("openat");
			write_all(fds[i], buf, len);
		}
		if (batch == 1) {
			if (fsync(fds[0]) < 0)
				die("fsync");
		} else {
			for (int i = 0; i < batch; i++)
				if (pthread_create(&th[i], NULL, fsync_thread, &fds[i]) != 0)
					die("pthread_create");
			for (int i = 0; i < batch; i++)
				pthread_join(th[i], NULL);
		}
		for (int i = 0; i < batch; i++) {
			snprintf(name, sizeof(name), "m%ld", n + i);
			if (renameat(tmp, name, q, name) < 0)
				die("renameat");
			close(fds[i]);
		}
		if (fsync(q) < 0)
			die("fsync dir");
		for (int i = 0; i < batch; i++) {
			snprintf(name, sizeof(name), "m%ld", n + i);
			unlinkat(q, name, 0);
		}
		n += batch;
		el = now() - t0;
	}
	return (double)n / el;
}

static double run_log(int dir, double secs, const char *buf, size_t len, int batch)
{
	int fd = openat(dir, "log", O_CREAT | O_WRONLY | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open log");
	long n = 0;
	double t0 = now(), el = 0;
	while (el < secs) {
		for (int i = 0; i < batch; i++)
			write_all(fd, buf, len);
		if (fdatasync(fd) < 0)
			die("fdatasync");
		n += batch;
		if (n % 4096 < (long)batch && ftruncate(fd, 0) < 0)  /* keep the file small */
			die("ftruncate");
		el = now() - t0;
	}
	close(fd);
	unlinkat(dir, "log", 0);
	return (double)n / el;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fsync_rate DIR SECONDS [MSG_BYTES] [BATCH]\n");
		return 2;
	}
	double secs = atof(argv[2]);
	size_t len = argc > 3 ? (size_t)atol(argv[3]) : 4096;
	int batch = argc > 4 ? atoi(argv[4]) : 32;
	if (secs <= 0 || secs > 60 || len == 0 || len > (64u << 20) || batch < 1 || batch > BATCH_MAX) {
		fprintf(stderr, "fsync_rate: bad arguments\n");
		return 2;
	}
	if (mkdir(argv[1], 0700) < 0 && access(argv[1], W_OK) < 0)
		die("mkdir");
	int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		die("open dir");
	mkdirat(dir, "tmp", 0700);
	mkdirat(dir, "q", 0700);
	int tmp = openat(dir, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int q = openat(dir, "q", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmp < 0 || q < 0)
		die("open subdir");
	char *buf = malloc(len);
	if (!buf)
		die("malloc");
	memset(buf, 'x', len);
	printf("per-message %.1f\n", run_files(tmp, q, secs, buf, len, 1));
	fflush(stdout);
	printf("group-files %.1f\n", run_files(tmp, q, secs, buf, len, batch));
	fflush(stdout);
	printf("group-log %.1f\n", run_log(dir, secs, buf, len, batch));
	free(buf);
	unlinkat(dir, "tmp", AT_REMOVEDIR);
	unlinkat(dir, "q", AT_REMOVEDIR);
	return 0;
}
