/* See sealed_exe.h. */
#include "sealed_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3; older kernels make memfds executable anyway */
#endif

#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Set in the environment of the re-executed copy, so that a kernel that loses
 * the seals (it should not) gives an error instead of an exec loop. */
#define REEXEC_MARK "NETSIM_SEALED_EXE"

bool sealed_exe_active(void)
{
	cleanup_close int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & ALL_SEALS) == ALL_SEALS;
}

static int create_memfd(struct error *err)
{
	/* vm.memfd_noexec may make memfds non-executable by default: ask for exec */
	int fd = memfd_create("netsim", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("netsim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return error_set(err, errno, "memfd_create");
	return fd;
}

static int copy_self(int to, struct error *err)
{
	cleanup_close int from = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (from < 0)
		return error_set(err, errno, "open /proc/self/exe");
	struct stat st;
	if (fstat(from, &st) < 0)
		return error_set(err, errno, "stat /proc/self/exe");
	off_t done = 0;
	while (done < st.st_size) {
		ssize_t n = sendfile(to, from, NULL, (size_t)(st.st_size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, n < 0 ? errno : EIO, "copy /proc/self/exe");
		done += n;
	}
	return 0;
}

int sealed_exe_ensure(char *const argv[], struct error *err)
{
	extern char **environ;
	int rc;

	if (sealed_exe_active()) {
		unsetenv(REEXEC_MARK); /* our own business: not for programs we start */
		return 0;
	}
	if (getenv(REEXEC_MARK))
		return error_setmsg(err, EPERM, "sealed copy of the executable: still not sealed after re-exec");

	cleanup_close int fd = create_memfd(err);
	if (fd < 0)
		return fd;
	if ((rc = copy_self(fd, err)) < 0)
		return rc;
	if (fcntl(fd, F_ADD_SEALS, ALL_SEALS) < 0)
		return error_set(err, errno, "seal the copy of the executable");
	if (setenv(REEXEC_MARK, "1", 1) < 0)
		return error_set(err, errno, "setenv");
	/* an ELF binary runs from a close-on-exec descriptor (only scripts need the
	 * descriptor after exec), so the copy leaves no fd behind */
	fexecve(fd, argv, environ);
	rc = error_set(err, errno, "execute the sealed copy of the executable");
	unsetenv(REEXEC_MARK);
	return rc;
}
