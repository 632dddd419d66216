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
	char *lower[2];   /* the lower layers the child opens, top first: [EXTRA,] ROOTFS
			   * (NULL-ended); for idmapped plans the attach points below */
	char *options;    /* ",upperdir=...,workdir=..." (after the child's lowerdir=) */
	/* idmapped plans only: where the child attaches the idmapped clones of the
	 * rootfs and files= dirs (NODE_DIR/lower.rootfs, lower.files); NULL otherwise */
	char *rootfs_at;
	char *files_at;
	/* More read-only layers between the files= dir and the rootfs, top first
	 * (overlay_plan_add_layers): the host dirs, and for idmapped plans their
	 * attach points NODE_DIR/lower.N and their idmapped clones (fds, -1 until
	 * overlay_plan_open_layers; the child attaches and so closes them). */
	char **layer_src;
	char **layer_at;
	int *layer_tree;
	size_t nlayers;
};

/* At most this many extra layers: overlayfs takes 500 lower layers, and its
 * mount options (one page) fit about 220 "/proc/self/fd/N" lower dirs. */
#define OVERLAY_MAX_LAYERS 192

/* Fails with EINVAL when a path cannot be expressed in overlayfs options (',' ':'
 * or '\\' in it).  `idmapped`: the lower dirs come as idmapped mounts (user
 * namespace nodes, userns.h). */
int overlay_plan_init(struct overlay_plan *plan, const char *rootfs,
		      const char *extra_lower, const char *node_dir, bool idmapped,
		      struct error *err);
void overlay_plan_free(struct overlay_plan *plan);

/* Add `layers` (NULL-terminated, top first; NULL = none) below the files= dir
 * and above the rootfs.  Same path rules as overlay_plan_init. */
int overlay_plan_add_layers(struct overlay_plan *plan, const char *const *layers,
			    const char *node_dir, bool idmapped, struct error *err);
/* Idmapped plans: open the idmapped clone of each extra layer through the user
 * namespace `userns_fd` (userns_idmapped_tree). */
int overlay_plan_open_layers(struct overlay_plan *plan, int userns_fd, struct error *err);

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
 * idmapped lower trees (idmapped plans; the fds are consumed), mount the overlay
 * (each lower layer opened component by component without following any symlink,
 * and given to overlayfs as /proc/self/fd/N: a path the parent checked cannot be
 * swapped for a symlink to somewhere else between the check and the mount),
 * make the detached proc/sysfs/device mounts into `pre`, stage the console log
 * (open at `console_fd`, a host file) for /dev/console, and pivot_root into the
 * overlay (old root detached, cwd /). */
int mounts_enter_overlay_root(const struct overlay_plan *plan, int *rootfs_tree, int *files_tree,
			      int console_fd, struct root_mounts *pre, struct error *err);

/* In the child, after mounts_enter_overlay_root: /proc (with /proc/sys read-only
 * except /proc/sys/net), /sys read-only, the host-global parts of both hidden or
 * read-only (the kernel_views table in mounts.c), a small tmpfs /dev with binds of the host's null zero full random
 * urandom tty, devpts, ptmx, shm, /dev/console (the staged console log), tmpfs
 * /tmp and /run. */
int mounts_populate_root(struct root_mounts *pre, struct error *err);

/* Open the directory at absolute `path` as O_PATH, one component at a time and
 * never following a symlink ("." and ".." are refused too).  Returns the fd or
 * -errno (ELOOP: a component is a symlink). */
int mounts_open_dir_no_symlinks(const char *path);

/* Whether `path` is one of the /proc and /sys paths mounts_populate_root hides
 * or makes read-only (each is a mount point in the node; for tests). */
bool mounts_is_kernel_view(const char *path);

#endif
