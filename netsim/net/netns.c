/* Network-namespace helpers: create/bind/remove the bind-mounted namespace files
 * that `ip netns` understands, and enter/leave a namespace. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/netns.h"
#include "net/netns.h"

/* The thread's own netns: after unshare() in a multi-threaded caller,
 * /proc/self would name the thread-group leader's namespace instead. */
#define CURRENT_NETNS "/proc/thread-self/ns/net"

/* The last directory prepared in this process.  Making it shared again is
 * idempotent but walks every mount below it (MS_REC), which costs O(n) per
 * namespace once thousands of namespaces live there. */
static char prepared_dir[PATH_MAX];

/* Like iproute2's `ip netns add`: the directory must exist and be a mount point
 * with shared propagation, so that a later umount of a namespace file in one
 * mount namespace propagates to the others and the netns can be freed. */
static int prepare_parent_dir(const char *bind_path, struct error *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(bind_path, '/');
	size_t len;
	int made_mount_point = 0;

	if (!slash || slash == bind_path || slash[1] == '\0')
		return error_setmsg(err, EINVAL, "netns path %s: need DIR/NAME", bind_path);
	len = (size_t)(slash - bind_path);
	if (len >= sizeof(dir))
		return error_set(err, ENAMETOOLONG, "netns path %s", bind_path);
	memcpy(dir, bind_path, len);
	dir[len] = '\0';

	if (strcmp(dir, prepared_dir) == 0)
		return 0;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", dir);

	while (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0) {
		/* EINVAL: not a mount point yet; make it one by binding it onto itself. */
		if (errno != EINVAL || made_mount_point)
			return error_set(err, errno, "mount --make-rshared %s", dir);
		if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
			return error_set(err, errno, "mount --rbind %s %s", dir, dir);
		made_mount_point = 1;
	}
	snprintf(prepared_dir, sizeof(prepared_dir), "%s", dir);
	return 0;
}

/* Create the empty file the namespace gets bound onto; EEXIST if present. */
static int create_bind_target(const char *bind_path, struct error *err)
{
	int r = prepare_parent_dir(bind_path, err);
	if (r < 0)
		return r;
	int fd = open(bind_path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, errno, "create netns file %s", bind_path);
	close(fd);
	return 0;
}

static int bind_netns(const char *source, const char *bind_path, struct error *err)
{
	if (mount(source, bind_path, "none", MS_BIND, NULL) < 0)
		return error_set(err, errno, "bind %s onto %s", source, bind_path);
	return 0;
}

int netns_create(const char *bind_path, struct error *err)
{
	int saved = -1;
	int r = create_bind_target(bind_path, err);
	if (r < 0)
		return r;

	saved = open(CURRENT_NETNS, O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		r = error_set(err, errno, "open %s", CURRENT_NETNS);
		goto out;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		r = error_set(err, errno, "unshare(CLONE_NEWNET) for %s", bind_path);
		goto out;
	}
	r = bind_netns(CURRENT_NETNS, bind_path, err);
	/* Return to the caller's netns whatever happened: the new one lives on
	 * through the bind mount, or dies here when the mount failed. */
	if (setns(saved, CLONE_NEWNET) < 0) {
		int e = errno;
		if (r == 0)
			umount2(bind_path, MNT_DETACH);
		r = error_set(err, e, "return to the original netns after creating %s",
			      bind_path);
	}
out:
	if (saved >= 0)
		close(saved);
	if (r < 0)
		unlink(bind_path);
	return r;
}

int netns_bind_pid(pid_t pid, const char *bind_path, struct error *err)
{
	char source[64];
	int r;

	snprintf(source, sizeof(source), "/proc/%d/ns/net", (int)pid);
	r = create_bind_target(bind_path, err);
	if (r < 0)
		return r;
	r = bind_netns(source, bind_path, err);
	if (r < 0)
		unlink(bind_path);
	return r;
}

int netns_open(const char *bind_path, struct error *err)
{
	int fd = open(bind_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open netns %s", bind_path);
	return fd;
}

int netns_remove(const char *bind_path, struct error *err)
{
	/* Unmount every layer: a half-finished earlier run may have bound twice.
	 * EINVAL (not a mount point) and ENOENT (no file) mean nothing is left. */
	for (int layers = 0; umount2(bind_path, MNT_DETACH) == 0; layers++) {
		if (layers > 64)
			return error_setmsg(err, ELOOP, "umount %s: still mounted after %d unmounts",
					    bind_path, layers);
	}
	if (errno != EINVAL && errno != ENOENT)
		return error_set(err, errno, "umount %s", bind_path);
	if (unlink(bind_path) < 0 && errno != ENOENT)
		return error_set(err, errno, "remove netns file %s", bind_path);
	return 0;
}

int netns_enter(int ns_fd, int *saved, struct error *err)
{
	int current = open(CURRENT_NETNS, O_RDONLY | O_CLOEXEC);
	if (current < 0)
		return error_set(err, errno, "open %s", CURRENT_NETNS);
	if (setns(ns_fd, CLONE_NEWNET) < 0) {
		int e = errno;
		char label[PATH_MAX];
		close(current);
		netns_describe(ns_fd, label, sizeof(label));
		return error_set(err, e, "enter netns %s", label);
	}
	*saved = current;
	return 0;
}

int netns_leave(int *saved, struct error *err)
{
	int r = 0;
	if (*saved < 0)
		return 0;
	if (setns(*saved, CLONE_NEWNET) < 0)
		r = error_set(err, errno, "return to the original netns");
	close(*saved);
	*saved = -1;
	return r;
}

void netns_describe(int ns_fd, char *buf, size_t size)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", ns_fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0) {
		snprintf(buf, size, "fd %d", ns_fd);
		return;
	}
	target[n] = '\0';
	/* A bind-mounted netns reads back as its path (/run/netns/NAME): show NAME. */
	const char *slash = strrchr(target, '/');
	snprintf(buf, size, "%s", slash && slash[1] ? slash + 1 : target);
}
