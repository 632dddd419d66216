#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "userns.h"

/* Bind, move, remount and propagation changes ignore the type; an empty string
 * rather than NULL keeps memory checkers (valgrind 3.19) quiet. */
#define NO_FSTYPE ""

static int path_fits_overlay_options(const char *path)
{
	return path[0] != '\0' && strpbrk(path, ",:\\") == NULL;
}

int overlay_plan_init(struct overlay_plan *plan, const char *rootfs,
		      const char *extra_lower, const char *node_dir, bool idmapped,
		      struct error *err)
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
	bool lowers_ok = true;
	if (idmapped) {
		/* the overlay stacks the idmapped clones attached here, not the
		 * host dirs (node root could not even traverse the 0700 cache) */
		if (asprintf(&plan->rootfs_at, "%s/lower.rootfs", node_dir) < 0)
			plan->rootfs_at = NULL;
		if (extra_lower && asprintf(&plan->files_at, "%s/lower.files", node_dir) < 0)
			plan->files_at = NULL;
		lowers_ok = plan->rootfs_at && (!extra_lower || plan->files_at);
		if (lowers_ok) {
			rootfs = plan->rootfs_at;
			extra_lower = plan->files_at;
		}
	}
	if (asprintf(&plan->options, ",upperdir=%s,workdir=%s",
		     plan->upper_dir ? plan->upper_dir : "", plan->work_dir ? plan->work_dir : "") < 0)
		plan->options = NULL;
	size_t n = 0;
	if (lowers_ok && extra_lower)
		lowers_ok = (plan->lower[n++] = strdup(extra_lower)) != NULL;
	if (lowers_ok)
		lowers_ok = (plan->lower[n++] = strdup(rootfs)) != NULL;
	if (!plan->upper_dir || !plan->work_dir || !plan->root_dir || !plan->options || !lowers_ok) {
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
	free(plan->lower[0]);
	free(plan->lower[1]);
	free(plan->rootfs_at);
	free(plan->files_at);
	for (size_t i = 0; i < plan->nlayers; i++) {
		free(plan->layer_src[i]);
		if (plan->layer_at)
			free(plan->layer_at[i]);
		if (plan->layer_tree && plan->layer_tree[i] >= 0)
			close(plan->layer_tree[i]);
	}
	free(plan->layer_src);
	free(plan->layer_at);
	free(plan->layer_tree);
	memset(plan, 0, sizeof(*plan));
}

int overlay_plan_add_layers(struct overlay_plan *plan, const char *const *layers,
			    const char *node_dir, bool idmapped, struct error *err)
{
	size_t n = 0;
	while (layers && layers[n])
		n++;
	if (n == 0)
		return 0;
	if (n > OVERLAY_MAX_LAYERS)
		return error_setmsg(err, E2BIG, "overlay: %zu extra layers (at most %d)", n,
				    OVERLAY_MAX_LAYERS);
	for (size_t i = 0; i < n; i++)
		if (!path_fits_overlay_options(layers[i]))
			return error_setmsg(err, EINVAL,
					    "overlay: path '%s' is empty or contains ',' ':' or '\\'",
					    layers[i]);
	plan->layer_src = calloc(n, sizeof(*plan->layer_src));
	plan->layer_at = idmapped ? calloc(n, sizeof(*plan->layer_at)) : NULL;
	plan->layer_tree = malloc(n * sizeof(*plan->layer_tree));
	if (!plan->layer_src || (idmapped && !plan->layer_at) || !plan->layer_tree)
		return error_set(err, ENOMEM, "overlay layers");
	for (size_t i = 0; i < n; i++)
		plan->layer_tree[i] = -1;
	plan->nlayers = n;
	for (size_t i = 0; i < n; i++) {
		if (!(plan->layer_src[i] = strdup(layers[i])) ||
		    (idmapped && asprintf(&plan->layer_at[i], "%s/lower.%zu", node_dir, i) < 0 &&
		     !(plan->layer_at[i] = NULL)))
			return error_set(err, ENOMEM, "overlay layers");
	}
	return 0;
}

int overlay_plan_open_layers(struct overlay_plan *plan, int userns_fd, struct error *err)
{
	for (size_t i = 0; i < plan->nlayers; i++) {
		int rc = userns_idmapped_tree(plan->layer_src[i], userns_fd, &plan->layer_tree[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int make_dir(const char *path, mode_t mode, struct error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", path);
	return 0;
}

int mounts_open_dir_no_symlinks(const char *path)
{
	if (path[0] != '/')
		return -EINVAL;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char name[NAME_MAX + 1];
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len > NAME_MAX || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.')) {
			close(fd);
			return len > NAME_MAX ? -ENAMETOOLONG : -EINVAL;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		int next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		close(fd);
		if (next < 0)
			return -saved;
		struct stat st = { 0 };
		if (fstat(next, &st) < 0 || !S_ISDIR(st.st_mode)) {
			saved = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
			close(next);
			return -saved;
		}
		fd = next;
	}
	return fd;
}

static int make_owned_dir(const char *path, uid_t uid, struct error *err)
{
	int rc = make_dir(path, 0755, err);
	if (rc == 0 && uid != 0 && chown(path, uid, uid) < 0)
		rc = error_set(err, errno, "chown %s to %u", path, (unsigned)uid);
	return rc;
}

int overlay_prepare_dirs(const struct overlay_plan *plan, uid_t root_uid, struct error *err)
{
	int rc;
	/* upper and work are written by the overlay with node root's credentials */
	if ((rc = make_owned_dir(plan->upper_dir, root_uid, err)) < 0 ||
	    (rc = make_owned_dir(plan->work_dir, root_uid, err)) < 0 ||
	    (rc = make_dir(plan->root_dir, 0755, err)) < 0 ||
	    (plan->rootfs_at && (rc = make_dir(plan->rootfs_at, 0755, err)) < 0) ||
	    (plan->files_at && (rc = make_dir(plan->files_at, 0755, err)) < 0))
		return rc;
	for (size_t i = 0; plan->layer_at && i < plan->nlayers; i++)
		if ((rc = make_dir(plan->layer_at[i], 0755, err)) < 0)
			return rc;
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

/* Attach a detached mount (open_tree, fsmount) at `target`; consumes the fd. */
static int attach_mount(int *fd, const char *target, struct error *err)
{
	int rc = 0;
	if (syscall(SYS_move_mount, *fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		rc = error_set(err, errno, "attach mount on %s", target);
	close(*fd);
	*fd = -1;
	return rc;
}

/* A new proc or sysfs instance, not yet attached.  Made while the host's /proc
 * and /sys are still in our mount namespace: inside a user namespace the kernel
 * only allows it when an unobstructed instance is already visible there
 * (mount_too_revealing), and after pivot_root none is. */
static int detached_fs(const char *type, unsigned int attrs, int *fd, struct error *err)
{
	cleanup_close int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return error_set(err, errno, "fsopen %s", type);
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return error_set(err, errno, "create a %s instance", type);
	*fd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
	if (*fd < 0)
		return error_set(err, errno, "fsmount %s", type);
	return 0;
}

static const char *const host_devices[ROOT_DEVICES] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};
/* their numbers, for mknod where there is no new mount API (and no userns) */
static const unsigned int device_numbers[ROOT_DEVICES][2] = {
	{ 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, { 5, 0 },
};

static int prepare_root_mounts(struct root_mounts *pre, struct error *err)
{
	int rc;
	const unsigned int hardened = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	/* Without the new mount API (Linux before 5.2, and valgrind, which knows
	 * none of its calls) everything is mounted after pivot_root by path, as
	 * before user namespaces: that works only outside one, where no idmapped
	 * lower layer (open_tree too) could have been made anyway. */
	int probe = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
	if (probe < 0 && errno == ENOSYS)
		return 0;
	cleanup_closep(&probe);
	if ((rc = detached_fs("proc", hardened, &pre->proc_fd, err)) < 0 ||
	    (rc = detached_fs("sysfs", hardened | MOUNT_ATTR_RDONLY, &pre->sys_fd, err)) < 0)
		return rc;
	/* mknod is refused in a user namespace: node root gets binds of the host's
	 * own device files (these few are harmless to share) */
	for (size_t i = 0; i < ROOT_DEVICES; i++) {
		pre->dev_fds[i] = (int)syscall(SYS_open_tree, AT_FDCWD, host_devices[i],
					       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (pre->dev_fds[i] < 0)
			return error_set(err, errno, "bind of the host's %s", host_devices[i]);
	}
	return 0;
}

static int attach_lowers(const struct overlay_plan *plan, int *rootfs_tree, int *files_tree,
			 struct error *err)
{
	int rc;
	if (plan->rootfs_at && (rc = attach_mount(rootfs_tree, plan->rootfs_at, err)) < 0)
		return rc;
	if (plan->files_at && (rc = attach_mount(files_tree, plan->files_at, err)) < 0)
		return rc;
	for (size_t i = 0; plan->layer_at && i < plan->nlayers; i++)
		if ((rc = attach_mount(&plan->layer_tree[i], plan->layer_at[i], err)) < 0)
			return rc;
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

void root_mounts_init(struct root_mounts *pre)
{
	pre->proc_fd = pre->sys_fd = -1;
	for (size_t i = 0; i < ROOT_DEVICES; i++)
		pre->dev_fds[i] = -1;
}

void root_mounts_release(struct root_mounts *pre)
{
	cleanup_closep(&pre->proc_fd);
	cleanup_closep(&pre->sys_fd);
	for (size_t i = 0; i < ROOT_DEVICES; i++)
		cleanup_closep(&pre->dev_fds[i]);
	root_mounts_init(pre);
}

int mounts_enter_overlay_root(const struct overlay_plan *plan, int *rootfs_tree, int *files_tree,
			      int console_fd, struct root_mounts *pre, struct error *err)
{
	int rc;

	/* Nothing we mount may propagate back to the host, and pivot_root refuses
	 * shared mounts anyway. */
	if (mount("none", "/", NO_FSTYPE, MS_REC | MS_PRIVATE, NULL) < 0)
		return error_set(err, errno, "make / private");

	if ((rc = attach_lowers(plan, rootfs_tree, files_tree, err)) < 0)
		return rc;

	/* Each lower layer by a descriptor opened without following symlinks: the
	 * parent checked these (real) paths, and whoever owns a directory on the
	 * way (a topology's author) must not be able to swap one for a symlink to
	 * the host's /etc between that check and this mount. */
	/* top first: the files= dir, the extra layers, the rootfs */
	const char *lowers[OVERLAY_MAX_LAYERS + 2];
	size_t nlowers = 0;
	if (plan->lower[1])
		lowers[nlowers++] = plan->lower[0];
	for (size_t i = 0; i < plan->nlayers; i++)
		lowers[nlowers++] = plan->layer_at ? plan->layer_at[i] : plan->layer_src[i];
	lowers[nlowers++] = plan->lower[1] ? plan->lower[1] : plan->lower[0];
	int lower_fds[OVERLAY_MAX_LAYERS + 2];
	char options[4096];
	int used = snprintf(options, sizeof(options), "lowerdir=");
	size_t opened = 0;
	for (; opened < nlowers; opened++) {
		lower_fds[opened] = mounts_open_dir_no_symlinks(lowers[opened]);
		if (lower_fds[opened] < 0) {
			rc = error_set(err, -lower_fds[opened], "overlay lower layer %s%s", lowers[opened],
				       lower_fds[opened] == -ELOOP ? ": a symlink on its way (lower "
				       "layers are opened without following symlinks)" : "");
			break;
		}
		if ((size_t)used < sizeof(options))
			used += snprintf(options + used, sizeof(options) - (size_t)used,
					 "%s/proc/self/fd/%d", opened ? ":" : "", lower_fds[opened]);
	}
	if (opened == nlowers && (size_t)used + strlen(plan->options) >= sizeof(options))
		rc = error_setmsg(err, ENAMETOOLONG, "overlay options too long (%zu layers)", nlowers);
	if (opened == nlowers && rc == 0) {
		strcat(options, plan->options);
		rc = mount("overlay", plan->root_dir, "overlay", 0, options) < 0 ? -errno : 0;
		if (rc < 0)
			error_set(err, -rc, "mount overlay on %s (lowerdir=%s%s%s%s%s)", plan->root_dir,
				  plan->lower[0], plan->nlayers ? ":<feed layers>" : "",
				  plan->lower[1] ? ":" : "", plan->lower[1] ? plan->lower[1] : "",
				  plan->options);
	}
	for (size_t i = 0; i < opened; i++)
		close(lower_fds[i]);
	if (rc < 0)
		return rc;
	if ((rc = prepare_root_mounts(pre, err)) < 0)
		return rc;

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

static int mount_proc(struct root_mounts *pre, struct error *err)
{
	int rc;
	const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if ((rc = make_dir("/proc", 0555, err)) < 0)
		return rc;
	if (pre->proc_fd < 0)
		rc = mount_or_fail("proc", "/proc", "proc", flags, NULL, err);
	else
		rc = attach_mount(&pre->proc_fd, "/proc", err);
	if (rc < 0)
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

/* What of /proc and /sys is the host's rather than the node's, and how each is
 * kept from the node.  A node's root may write files and read anything root can:
 * without this, it could move host IRQs between CPUs, read host page flags and
 * kernel memory, or trigger SysRq.  Hidden paths show nothing (a file becomes
 * /dev/null, a directory an empty read-only tmpfs, as runc and crun do); read-only
 * paths stay readable but every write fails with EROFS.  A path this kernel does
 * not have is skipped.  A table, so that adding a path is one line. */
enum kernel_view_guard {
	VIEW_HIDDEN,
	VIEW_READ_ONLY,
};

static const struct {
	const char *path;
	enum kernel_view_guard guard;
} kernel_views[] = {
	/* host memory, kernel state, other processes' keys and timers */
	{ "/proc/kcore", VIEW_HIDDEN },        { "/proc/kpagecgroup", VIEW_HIDDEN },
	{ "/proc/kpagecount", VIEW_HIDDEN },   { "/proc/kpageflags", VIEW_HIDDEN },
	{ "/proc/keys", VIEW_HIDDEN },         { "/proc/key-users", VIEW_HIDDEN },
	{ "/proc/timer_list", VIEW_HIDDEN },   { "/proc/timer_stats", VIEW_HIDDEN },
	{ "/proc/sched_debug", VIEW_HIDDEN },  { "/proc/latency_stats", VIEW_HIDDEN },
	{ "/proc/acpi", VIEW_HIDDEN },         { "/proc/asound", VIEW_HIDDEN },
	{ "/proc/scsi", VIEW_HIDDEN },
	/* host hardware: firmware tables, DMI serials, energy counters (a side channel) */
	{ "/sys/firmware", VIEW_HIDDEN },      { "/sys/devices/virtual/powercap", VIEW_HIDDEN },
	/* host-global knobs that are also read for information: keep them readable */
	{ "/proc/sysrq-trigger", VIEW_READ_ONLY }, /* read-only, not /dev/null: writes must fail */
	{ "/proc/irq", VIEW_READ_ONLY },       { "/proc/bus", VIEW_READ_ONLY },
	{ "/proc/fs", VIEW_READ_ONLY },        { "/proc/sysvipc", VIEW_READ_ONLY },
	{ "/proc/mtrr", VIEW_READ_ONLY },      { "/proc/pressure", VIEW_READ_ONLY },
};

bool mounts_is_kernel_view(const char *path)
{
	for (size_t i = 0; i < sizeof(kernel_views) / sizeof(kernel_views[0]); i++)
		if (strcmp(path, kernel_views[i].path) == 0)
			return true;
	return false;
}

/* Flags that proc and sysfs were mounted with: a remount must repeat them (in a
 * user namespace dropping a locked flag is refused). */
#define KERNEL_VIEW_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static int hide_path(const char *path, bool is_dir, struct error *err)
{
	if (is_dir)
		return mount_or_fail("tmpfs", path, "tmpfs", MS_RDONLY | KERNEL_VIEW_FLAGS,
				     "mode=0555,size=4k,nr_inodes=16", err);
	return mount_or_fail("/dev/null", path, NULL, MS_BIND, NULL, err);
}

static int make_path_read_only(const char *path, struct error *err)
{
	int rc = mount_or_fail(path, path, NULL, MS_BIND | MS_REC, NULL, err);
	if (rc == 0)
		rc = mount_or_fail(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | KERNEL_VIEW_FLAGS,
				   NULL, err);
	return rc;
}

/* Needs /dev/null and /sys, so runs after the /dev setup. */
static int guard_kernel_views(struct error *err)
{
	for (size_t i = 0; i < sizeof(kernel_views) / sizeof(kernel_views[0]); i++) {
		const char *path = kernel_views[i].path;
		struct stat st;
		/* lstat: proc and sysfs are the kernel's, but a symlink would still be
		 * followed by mount; none of these paths is one */
		if (lstat(path, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return error_set(err, errno, "guard %s", path);
		}
		if (S_ISLNK(st.st_mode))
			return error_setmsg(err, ELOOP, "guard %s: is a symlink", path);
		int rc = kernel_views[i].guard == VIEW_HIDDEN
				 ? hide_path(path, S_ISDIR(st.st_mode), err)
				 : make_path_read_only(path, err);
		if (rc < 0)
			return error_prefix(err, "guard %s", path);
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
#define NODE_PTY_MAX "64" /* ptys open at once in a node: shells, ssh sessions */

static int populate_dev(struct root_mounts *pre, struct error *err)
{
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

	for (size_t i = 0; i < ROOT_DEVICES; i++) {
		const char *path = host_devices[i];
		if (pre->dev_fds[i] < 0) { /* no new mount API: no user namespace either */
			if (mknod(path, S_IFCHR | 0666,
				  makedev(device_numbers[i][0], device_numbers[i][1])) < 0)
				return error_set(err, errno, "mknod %s", path);
			continue;
		}
		/* same path inside the node: the bind target must exist */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0)
			return error_set(err, errno, "create %s", path);
		close(fd);
		if ((rc = attach_mount(&pre->dev_fds[i], path, err)) < 0)
			return rc;
	}

	/* max=: the kernel counts ptys host-wide (kernel.pty.max, of which only
	 * the host's own /dev/pts may use the last pty.reserve), so without a cap
	 * one node could open them all and leave none for other nodes' shells
	 * and the host's other containers. */
	if ((rc = make_dir("/dev/pts", 0755, err)) < 0 ||
	    (rc = mount_or_fail("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
				"newinstance,ptmxmode=0666,mode=0620,max=" NODE_PTY_MAX, err)) < 0 ||
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

int mounts_populate_root(struct root_mounts *pre, struct error *err)
{
	int rc;
	const unsigned long data_flags = MS_NOSUID | MS_NODEV;

	if ((rc = mount_proc(pre, err)) < 0)
		return rc;
	/* sysfs shows the net devices of the netns it was created in: ours */
	if ((rc = make_dir("/sys", 0555, err)) < 0)
		return rc;
	if (pre->sys_fd < 0)
		rc = mount_or_fail("sysfs", "/sys", "sysfs",
				   MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
	else
		rc = attach_mount(&pre->sys_fd, "/sys", err);
	if (rc < 0)
		return rc;
	if ((rc = populate_dev(pre, err)) < 0 || (rc = guard_kernel_views(err)) < 0)
		return rc;
	if ((rc = make_dir("/tmp", 01777, err)) < 0 ||
	    (rc = mount_or_fail("tmpfs", "/tmp", "tmpfs", data_flags, TMPFS_TMP_OPTIONS, err)) < 0 ||
	    (rc = make_dir("/run", 0755, err)) < 0 ||
	    (rc = mount_or_fail("tmpfs", "/run", "tmpfs", data_flags, TMPFS_RUN_OPTIONS, err)) < 0)
		return rc;
	return 0;
}
