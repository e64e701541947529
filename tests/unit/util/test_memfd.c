/* Sealed memfds (util/memfd.h), the form in which a message crosses
 * between the queue and the scanner (issue 10, SEC-1): a sealed one
 * cannot be changed by anyone, and the receiving side tells a sealed
 * memfd from anything else. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/memfd.h"

Test(memfd, sealed_copy_holds_the_bytes_and_refuses_every_change)
{
	int fd = memfd_sealed_from("hello\r\n", 7, "test");
	cr_assert_geq(fd, 0);
	uint64_t size = 0;
	cr_assert(memfd_is_sealed(fd, &size));
	cr_assert_eq(size, 7);
	char buf[8] = "";
	cr_assert_eq(pread(fd, buf, sizeof(buf), 0), 7);
	cr_assert_str_eq(buf, "hello\r\n");
	cr_assert_lt(pwrite(fd, "X", 1, 0), 0, "write after sealing");
	cr_assert_lt(ftruncate(fd, 1), 0, "shrink after sealing");
	cr_assert_lt(ftruncate(fd, 100), 0, "grow after sealing");
	cr_assert_eq(mmap(NULL, 7, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED, "writable mapping");
	close(fd);
}

Test(memfd, unsealed_memfds_and_files_are_not_taken)
{
	int mfd = memfd_create("open", MFD_ALLOW_SEALING);
	cr_assert_geq(mfd, 0);
	uint64_t size;
	cr_assert_not(memfd_is_sealed(mfd, &size), "an unsealed memfd");
	cr_assert(fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
	cr_assert_not(memfd_is_sealed(mfd, &size), "sealed against writes only: it could still grow");
	close(mfd);
	FILE *f = tmpfile();
	cr_assert_not_null(f);
	cr_assert_not(memfd_is_sealed(fileno(f), &size), "a plain file");
	fclose(f);
}

Test(memfd, empty_message)
{
	int fd = memfd_sealed_from("", 0, "empty");
	uint64_t size = 1;
	cr_assert(memfd_is_sealed(fd, &size));
	cr_assert_eq(size, 0);
	close(fd);
}
