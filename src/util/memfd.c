/*
 * See memfd.h.
 */
#include "util/memfd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALL_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

bool memfd_seal(int mfd)
{
	return fcntl(mfd, F_ADD_SEALS, ALL_SEALS) == 0;
}

int memfd_sealed_from(const void *buf, size_t len, const char *name)
{
	int mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -1;
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(mfd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (!memfd_seal(mfd))
		goto fail;
	return mfd;
fail:;
	int saved = errno ? errno : EIO;
	close(mfd);
	errno = saved;
	return -1;
}

bool memfd_is_sealed(int fd, uint64_t *size)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & ALL_SEALS) != ALL_SEALS || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	*size = (uint64_t)st.st_size;
	return true;
}
