/* The root filesystem of a node, built inside the node's fresh mount namespace:
 * an overlay (read-only rootfs below, per-node upper dir above) that becomes / by
 * pivot_root, then /proc, /sys, /dev, /tmp and /run.  Everything after pivot_root
 * is mounted by paths inside the node, so absolute symlinks in a hostile rootfs
 * resolve inside the node, never on the host. */
#ifndef NETSIM_MOUNTS_H
#define NETSIM_MOUNTS_H

#include "error.h"

/* Paths and mount options of a node's overlay, computed (and validated) by the
 * parent before clone so the child only issues syscalls. */
struct overlay_plan {
	char *upper_dir;  /* NODE_DIR/upper */
	char *work_dir;   /* NODE_DIR/work */
	char *root_dir;   /* NODE_DIR/root: the overlay mount point, later / */
	char *options;    /* "lowerdir=[EXTRA:]ROOTFS,upperdir=...,workdir=..." */
};

/* Fails with EINVAL when a path cannot be expressed in overlayfs options (',' ':'
 * or '\\' in it). */
int overlay_plan_init(struct overlay_plan *plan, const char *rootfs,
		      const char *extra_lower, const char *node_dir, struct error *err);
void overlay_plan_free(struct overlay_plan *plan);

/* In the child, in its new mount namespace: make every mount private, create
 * upper/work/root, mount the overlay, stage the console log (open at `console_fd`,
 * a host file) for /dev/console, and pivot_root into the overlay (old root
 * detached, cwd /). */
int mounts_enter_overlay_root(const struct overlay_plan *plan, int console_fd,
			      struct error *err);

/* In the child, after mounts_enter_overlay_root: /proc (with /proc/sys read-only
 * except /proc/sys/net, and kcore/keys/timer_list/sysrq-trigger hidden), /sys
 * read-only, a small tmpfs /dev with null zero full random urandom tty, devpts,
 * ptmx, shm, /dev/console (the staged console log), tmpfs /tmp and /run. */
int mounts_populate_root(struct error *err);

#endif
