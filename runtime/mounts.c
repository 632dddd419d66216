#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"

/* Bind, move, remount and propagation changes ignore the type; an empty string
 * rather than NULL keeps memory checkers (valgrind 3.19) quiet. */
#define NO_FSTYPE ""

static int path_fits_overlay_options(const char *path)
{
	return path[0] != '\0' && strpbrk(path, ",:\\") == NULL;
}

int overlay_plan_init(struct overlay_plan *plan, const char *rootfs,
		      const char *extra_lower, const char *node_dir, struct error *err)
{
	memset(plan, 0, sizeof(*plan));
	const char *paths[] = { rootfs, node_dir, extra_lower };
	for (size_t i = 0; i < 3; i++) {
		if (paths[i] && !path_fits_overlay_options(paths[i]))
			return error_setmsg(err, EINVAL,
					    "overlay: path '%s' is empty or contains ',' ':' or '\\'",
					    paths[i]);
	}

	if (asprintf(&plan->upper_dir, "%s/upper", node_dir) < 0)
		plan->upper_dir = NULL;
	if (asprintf(&plan->work_dir, "%s/work", node_dir) < 0)
		plan->work_dir = NULL;
	if (asprintf(&plan->root_dir, "%s/root", node_dir) < 0)
		plan->root_dir = NULL;
	if (asprintf(&plan->options, "lowerdir=%s%s%s,upperdir=%s,workdir=%s",
		     extra_lower ? extra_lower : "", extra_lower ? ":" : "", rootfs,
		     plan->upper_dir ? plan->upper_dir : "", plan->work_dir ? plan->work_dir : "") < 0)
		plan->options = NULL;
	if (!plan->upper_dir || !plan->work_dir || !plan->root_dir || !plan->options) {
		overlay_plan_free(plan);
		return error_set(err, ENOMEM, "overlay options");
	}
	return 0;
}

void overlay_plan_free(struct overlay_plan *plan)
{
	free(plan->upper_dir);
	free(plan->work_dir);
	free(plan->root_dir);
	free(plan->options);
	memset(plan, 0, sizeof(*plan));
}

static int make_dir(const char *path, mode_t mode, struct error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", path);
	return 0;
}

static int mount_or_fail(const char *source, const char *target, const char *fstype,
			 unsigned long flags, const char *data, struct error *err)
{
	if (mount(source ? source : "none", target, fstype ? fstype : NO_FSTYPE, flags, data) < 0) {
		const char *what = fstype ? fstype : (flags & MS_REMOUNT) ? "remount" : source;
		return error_set(err, errno, "mount %s on %s", what ? what : "?", target);
	}
	return 0;
}

/* The console log lives on the host; once the old root is detached it cannot be
 * bound from (a bind via /proc/self/fd/N is refused for a file whose mount left our
 * namespace).  So before pivot_root it is bound onto a fresh file in the new root,
 * created with O_EXCL|O_NOFOLLOW and targeted through its own fd so no symlink of
 * the rootfs is followed; after pivot_root it is moved onto /dev/console. */
#define STAGED_CONSOLE ".netsim-console"

static int stage_console(int console_fd, struct error *err)
{
	if (unlink(STAGED_CONSOLE) < 0 && errno != ENOENT) /* left by a killed run */
		return error_set(err, errno, "remove stale %s", STAGED_CONSOLE);
	cleanup_close int target_fd = open(STAGED_CONSOLE,
					   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (target_fd < 0)
		return error_set(err, errno, "create %s in the new root", STAGED_CONSOLE);
	char source[64], target[64];
	snprintf(source, sizeof(source), "/proc/self/fd/%d", console_fd);
	snprintf(target, sizeof(target), "/proc/self/fd/%d", target_fd);
	if (mount(source, target, NO_FSTYPE, MS_BIND, NULL) < 0)
		return error_set(err, errno, "bind the console log into the new root");
	return 0;
}

int mounts_enter_overlay_root(const struct overlay_plan *plan, int console_fd, struct error *err)
{
	int rc;

	/* Nothing we mount may propagate back to the host, and pivot_root refuses
	 * shared mounts anyway. */
	if (mount("none", "/", NO_FSTYPE, MS_REC | MS_PRIVATE, NULL) < 0)
		return error_set(err, errno, "make / private");

	if ((rc = make_dir(plan->upper_dir, 0755, err)) < 0 ||
	    (rc = make_dir(plan->work_dir, 0755, err)) < 0 ||
	    (rc = make_dir(plan->root_dir, 0755, err)) < 0)
		return rc;

	if (mount("overlay", plan->root_dir, "overlay", 0, plan->options) < 0)
		return error_set(err, errno, "mount overlay on %s (%s)", plan->root_dir, plan->options);

	if (chdir(plan->root_dir) < 0)
		return error_set(err, errno, "chdir %s", plan->root_dir);
	if ((rc = stage_console(console_fd, err)) < 0)
		return rc;
	/* pivot_root(".", ".") stacks the old root on top of the new one; detaching
	 * it leaves the overlay as / without needing a put_old directory. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return error_set(err, errno, "pivot_root into %s", plan->root_dir);
	if (umount2(".", MNT_DETACH) < 0)
		return error_set(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return error_set(err, errno, "chdir /");
	return 0;
}

static int mount_proc(struct error *err)
{
	int rc;
	const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if ((rc = make_dir("/proc", 0555, err)) < 0 ||
	    (rc = mount_or_fail("proc", "/proc", "proc", flags, NULL, err)) < 0)
		return rc;

	/* /proc/sys read-only, but /proc/sys/net stays writable: routing daemons set
	 * forwarding and rp_filter there, and it belongs to the node's own netns.
	 * The net bind comes first so the recursive bind of /proc/sys carries it. */
	if ((rc = mount_or_fail("/proc/sys/net", "/proc/sys/net", NULL, MS_BIND, NULL, err)) < 0 ||
	    (rc = mount_or_fail("/proc/sys", "/proc/sys", NULL, MS_BIND | MS_REC, NULL, err)) < 0 ||
	    (rc = mount_or_fail(NULL, "/proc/sys", NULL,
				MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL, err)) < 0)
		return rc;
	return 0;
}

/* Needs /dev/null, so runs after the /dev setup. */
static int mask_proc_files(struct error *err)
{
	static const char *const hidden[] = {
		"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sysrq-trigger",
	};
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		if (mount("/dev/null", hidden[i], NO_FSTYPE, MS_BIND, NULL) < 0 && errno != ENOENT)
			return error_set(err, errno, "hide %s", hidden[i]);
	}
	return 0;
}

/* Sizes of a node's own tmpfs mounts (docs/security.md, "Resource limits").
 * A node's tmpfs pages are charged to its memory cgroup as well, so these only
 * keep one directory from taking the node's whole memory limit. */
#define TMPFS_DEV_OPTIONS "mode=0755,size=1m,nr_inodes=4096"
#define TMPFS_SHM_OPTIONS "mode=1777,size=16m,nr_inodes=4096"
#define TMPFS_TMP_OPTIONS "mode=1777,size=64m,nr_inodes=16384"
#define TMPFS_RUN_OPTIONS "mode=0755,size=16m,nr_inodes=16384"

static int populate_dev(struct error *err)
{
	static const struct {
		const char *path;
		unsigned int major, minor;
	} devices[] = {
		{ "/dev/null", 1, 3 },    { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
		{ "/dev/random", 1, 8 },  { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
	};
	static const struct {
		const char *path, *target;
	} links[] = {
		{ "/dev/ptmx", "pts/ptmx" },          { "/dev/fd", "/proc/self/fd" },
		{ "/dev/stdin", "/proc/self/fd/0" },  { "/dev/stdout", "/proc/self/fd/1" },
		{ "/dev/stderr", "/proc/self/fd/2" },
	};
	int rc;

	/* never devtmpfs: it would expose every host device */
	if ((rc = make_dir("/dev", 0755, err)) < 0 ||
	    (rc = mount_or_fail("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
				TMPFS_DEV_OPTIONS, err)) < 0)
		return rc;

	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		if (mknod(devices[i].path, S_IFCHR | 0666,
			  makedev(devices[i].major, devices[i].minor)) < 0)
			return error_set(err, errno, "mknod %s", devices[i].path);
	}

	if ((rc = make_dir("/dev/pts", 0755, err)) < 0 ||
	    (rc = mount_or_fail("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
				"newinstance,ptmxmode=0666,mode=0620", err)) < 0 ||
	    (rc = make_dir("/dev/shm", 01777, err)) < 0 ||
	    (rc = mount_or_fail("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
				TMPFS_SHM_OPTIONS, err)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (symlink(links[i].target, links[i].path) < 0)
			return error_set(err, errno, "symlink %s", links[i].path);
	}

	/* the bind target must exist */
	int fd = open("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(err, errno, "create /dev/console");
	close(fd);
	if (mount("/" STAGED_CONSOLE, "/dev/console", NO_FSTYPE, MS_MOVE, NULL) < 0)
		return error_set(err, errno, "move the console log onto /dev/console");
	if (unlink("/" STAGED_CONSOLE) < 0)
		return error_set(err, errno, "remove /%s", STAGED_CONSOLE);
	return 0;
}

int mounts_populate_root(struct error *err)
{
	int rc;
	const unsigned long data_flags = MS_NOSUID | MS_NODEV;

	if ((rc = mount_proc(err)) < 0)
		return rc;
	/* sysfs shows the net devices of the mounting process's netns: ours */
	if ((rc = make_dir("/sys", 0555, err)) < 0 ||
	    (rc = mount_or_fail("sysfs", "/sys", "sysfs",
				MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err)) < 0)
		return rc;
	if ((rc = populate_dev(err)) < 0 || (rc = mask_proc_files(err)) < 0)
		return rc;
	if ((rc = make_dir("/tmp", 01777, err)) < 0 ||
	    (rc = mount_or_fail("tmpfs", "/tmp", "tmpfs", data_flags, TMPFS_TMP_OPTIONS, err)) < 0 ||
	    (rc = make_dir("/run", 0755, err)) < 0 ||
	    (rc = mount_or_fail("tmpfs", "/run", "tmpfs", data_flags, TMPFS_RUN_OPTIONS, err)) < 0)
		return rc;
	return 0;
}
