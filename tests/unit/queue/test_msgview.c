/* The message views (issue 10, SEC-1): the scanner's sealed copy reaches
 * nothing but the message and cannot change it; the delivery view finds
 * the Subject header for the prefix only in the header section. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/msgview.h"

static const char file_bytes[] = "ENVELOPE|Subject: hi\r\n\r\nbody|TRAILER";

static int spool_file(void)
{
	char path[] = "/tmp/mw-msgview-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	unlink(path);
	cr_assert_eq(write(fd, file_bytes, sizeof(file_bytes) - 1), (ssize_t)sizeof(file_bytes) - 1);
	return fd;
}

Test(msgview, sealed_copy_holds_exactly_the_message_and_nothing_else)
{
	int fd = spool_file();
	off_t from = 9, end = (off_t)(strstr(file_bytes, "|TRAILER") - file_bytes);
	int v = msgview_sealed_copy(fd, from, end);
	cr_assert(v >= 0);
	struct stat a, b;
	fstat(fd, &a);
	fstat(v, &b);
	cr_assert_neq(a.st_ino, b.st_ino, "the view must not be the spool file");
	cr_assert_eq(b.st_size, end - from);
	char buf[64] = "";
	cr_assert_eq(pread(v, buf, sizeof(buf), 0), end - from);
	cr_assert_eq(memcmp(buf, "Subject: hi\r\n\r\nbody", (size_t)(end - from)), 0);
	close(v);
	close(fd);
}

Test(msgview, sealed_copy_cannot_be_written_grown_shrunk_or_mapped_writable)
{
	int fd = spool_file();
	int v = msgview_sealed_copy(fd, 0, 8);
	cr_assert(v >= 0);
	cr_assert_eq(pwrite(v, "X", 1, 0), -1);
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(write(v, "X", 1), -1);
	cr_assert_eq(ftruncate(v, 0), -1);
	cr_assert_eq(ftruncate(v, 100), -1);
	cr_assert_eq(mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, v, 0), MAP_FAILED);
	cr_assert_eq(fcntl(v, F_ADD_SEALS, 0), -1, "no seal may be removed or added");
	/* Reopening through /proc gives the same sealed inode. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", v);
	int again = open(path, O_RDWR);
	if (again >= 0) {
		cr_assert_eq(write(again, "X", 1), -1);
		close(again);
	}
	close(v);
	close(fd);
}

Test(msgview, subject_is_found_only_in_the_header_section)
{
	const char a[] = "Received: x\r\n\tmore\r\nsubject: Hi\r\n\r\nbody\r\n";
	cr_assert_eq(msgview_find_subject(a, sizeof(a) - 1), 20);
	const char b[] = "From: a\r\n\r\nSubject: in the body\r\n";
	cr_assert_eq(msgview_find_subject(b, sizeof(b) - 1), -1);
	const char c[] = "From: a\r\nX-Subject: no\r\n";
	cr_assert_eq(msgview_find_subject(c, sizeof(c) - 1), -1);
	cr_assert_eq(msgview_find_subject("", 0), -1);
}
