/*
 * Going into the background after a successful start (detach.h).
 */
#include "master/detach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* The parent: 0 once the child reports it started, 1 when the pipe
 * closes without the report (the child exited or died). */
static int wait_for_start(int fd, pid_t child)
{
	char ok = 0;
	ssize_t n;
	while ((n = read(fd, &ok, 1)) < 0 && errno == EINTR)
		;
	if (n == 1 && ok == '1')
		return 0;
	waitpid(child, NULL, 0);  /* it failed before it could become a daemon */
	fprintf(stderr, "mailwarden: serve did not start\n");
	return 1;
}

int detach_begin(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("mailwarden: pipe");
		exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("mailwarden: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		_exit(wait_for_start(p[0], pid));
	}
	close(p[0]);
	setsid();
	return p[1];
}

void detach_done(int fd)
{
	if (fd < 0)
		return;
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	ssize_t n;
	while ((n = write(fd, "1", 1)) < 0 && errno == EINTR)
		;
	close(fd);
}
