/* The root filesystem of a node, built inside the node's fresh mount namespace:
 * an overlay (read-only rootfs below, per-node upper dir above) that becomes / by
 * pivot_root, then /proc, /sys, /dev, /tmp and /run.  Everything after pivot_root
 * is mounted by paths inside the node, so absolute symlinks in a hostile rootfs
 * resolve inside the node, never on the host. */
#ifndef NETSIM_MOUNTS_H
#define NETSIM_MOUNTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Paths and mount options of a node's overlay, computed (and validated) by the
 * parent before clone so the child only issues syscalls. */
struct overlay_plan {
	char *upper_dir;  /* NODE_DIR/upper */
	char *work_dir;   /* NODE_DIR/work */
	char *root_dir;   /* NODE_DIR/root: the overlay mount point, later / */
	char *options;    /* "lowerdir=[EXTRA:]ROOTFS,upperdir=...,workdir=..." */
	/* idmapped plans only: where the child attaches the idmapped clones of the
	 * rootfs and files= dirs (NODE_DIR/lower.rootfs, lower.files), which the
	 * options then name instead; NULL otherwise */
	char *rootfs_at;
	char *files_at;
};

/* Fails with EINVAL when a path cannot be expressed in overlayfs options (',' ':'
 * or '\\' in it).  `idmapped`: the lower dirs come as idmapped mounts (user
 * namespace nodes, userns.h). */
int overlay_plan_init(struct overlay_plan *plan, const char *rootfs,
		      const char *extra_lower, const char *node_dir, bool idmapped,
		      struct error *err);
void overlay_plan_free(struct overlay_plan *plan);

/* In the parent, before clone: create upper/, work/, root/ and the lower mount
 * points; upper and work are chowned to `root_uid` (the host uid of node root,
 * 0 without a user namespace). */
int overlay_prepare_dirs(const struct overlay_plan *plan, uid_t root_uid, struct error *err);

/* Mounts the child makes while the host's mounts are still visible and attaches
 * inside the node after pivot_root: proc, sysfs, binds of the host's device
 * files.  -1 = none. */
#define ROOT_DEVICES 6
struct root_mounts {
	int proc_fd;
	int sys_fd;
	int dev_fds[ROOT_DEVICES];
};
void root_mounts_init(struct root_mounts *pre);
void root_mounts_release(struct root_mounts *pre);

/* In the child, in its new mount namespace: make every mount private, attach the
 * idmapped lower trees (idmapped plans; the fds are consumed), mount the overlay,
 * make the detached proc/sysfs/device mounts into `pre`, stage the console log
 * (open at `console_fd`, a host file) for /dev/console, and pivot_root into the
 * overlay (old root detached, cwd /). */
int mounts_enter_overlay_root(const struct overlay_plan *plan, int *rootfs_tree, int *files_tree,
			      int console_fd, struct root_mounts *pre, struct error *err);

/* In the child, after mounts_enter_overlay_root: /proc (with /proc/sys read-only
 * except /proc/sys/net, and kcore/keys/timer_list/sysrq-trigger hidden), /sys
 * read-only, a small tmpfs /dev with binds of the host's null zero full random
 * urandom tty, devpts, ptmx, shm, /dev/console (the staged console log), tmpfs
 * /tmp and /run. */
int mounts_populate_root(struct root_mounts *pre, struct error *err);

#endif
