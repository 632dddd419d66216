#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "mounts.h"

static int write_map(pid_t pid, const char *file, uint32_t base, uint32_t count,
		     struct error *err)
{
	char path[64], line[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int len = snprintf(line, sizeof(line), "0 %u %u\n", base, count);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open %s", path);
	if (write(fd, line, (size_t)len) != len)
		return error_set(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

int userns_write_maps(pid_t pid, uint32_t base, uint32_t count, struct error *err)
{
	/* setgroups stays "allow": we write the gid map as real root, and node
	 * init may need setgroups() for its daemons */
	int rc = write_map(pid, "uid_map", base, count, err);
	if (rc == 0)
		rc = write_map(pid, "gid_map", base, count, err);
	return rc < 0 ? error_prefix(err, "user namespace for ids %u..%u", base,
				     base + count - 1) : 0;
}

bool userns_is_own(int userns_fd)
{
	struct stat a, b;
	return fstat(userns_fd, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int userns_owner_of(int netns_fd, int *userns_fd, struct error *err)
{
	*userns_fd = ioctl(netns_fd, NS_GET_USERNS);
	if (*userns_fd < 0)
		return error_set(err, errno, "owner of the network namespace (NS_GET_USERNS)");
	/* the ioctl's fd has no close-on-exec */
	if (fcntl(*userns_fd, F_SETFD, FD_CLOEXEC) < 0 || userns_is_own(*userns_fd)) {
		close(*userns_fd);
		*userns_fd = -1;
	}
	return 0;
}

int userns_idmapped_tree(const char *path, int userns_fd, int *tree_fd, struct error *err)
{
	/* The directory the parent checked, reached without following a symlink
	 * (a topology's author must not swap it for one between check and mount). */
	cleanup_close int dir = mounts_open_dir_no_symlinks(path);
	if (dir < 0)
		return error_set(err, -dir, "lower layer %s%s", path,
				 dir == -ELOOP ? ": a symlink on its way (lower layers are "
				 "opened without following symlinks)" : "");
	/* not AT_RECURSIVE: mounts below a lower dir are not part of the rootfs */
	cleanup_close int fd = (int)syscall(SYS_open_tree, dir, "",
					    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (fd < 0)
		return error_set(err, errno == ENOSYS ? EOPNOTSUPP : errno, "open_tree %s", path);
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY,
		.userns_fd = (uint64_t)userns_fd,
	};
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		/* EINVAL: this filesystem cannot be idmapped (or the kernel has no
		 * MOUNT_ATTR_IDMAP); ENOSYS: no mount_setattr at all */
		int e = errno == EINVAL || errno == ENOSYS ? EOPNOTSUPP : errno;
		return error_set(err, e, "idmapped mount of %s", path);
	}
	*tree_fd = steal_fd(&fd);
	return 0;
}

int userns_join(int userns_fd, struct error *err)
{
	if (setns(userns_fd, CLONE_NEWUSER) < 0)
		return error_set(err, errno, "join the node's user namespace");
	return userns_become_root(err);
}

int userns_become_root(struct error *err)
{
	if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
		return error_set(err, errno, "become root of the node's user namespace");
	return 0;
}
