/* User namespaces for nodes: node root (uid/gid 0..count-1 inside) is an
 * unprivileged range of host ids (base..base+count-1), so the capabilities a node
 * keeps reach only the namespaces its own user namespace owns (its net, mnt, pid,
 * uts, ipc), never another node's netns or the host's.
 *
 * The read-only lower layers stay owned by host ids on disk; an idmapped mount
 * (mount_setattr MOUNT_ATTR_IDMAP, Linux 5.12+, per filesystem support) shows
 * host uid k as uid base+k, i.e. as k inside the node, so host root's files are
 * node root's files without copying or chowning anything. */
#ifndef NETSIM_USERNS_H
#define NETSIM_USERNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Map uids and gids 0..count-1 of the (new, still unmapped) user namespace of
 * process `pid` to base..base+count-1.  The node's first process is cloned with
 * CLONE_NEWUSER and waits until this is done. */
int userns_write_maps(pid_t pid, uint32_t base, uint32_t count, struct error *err);

/* The user namespace that owns the network namespace open at `netns_fd`, or -1 in
 * *userns_fd when that is our own (the netns predates user namespaces for nodes,
 * or was made without one). */
int userns_owner_of(int netns_fd, int *userns_fd, struct error *err);

/* True when the namespace at /proc/PID/ns/user is ours. */
bool userns_is_own(int userns_fd);

/* A detached, read-only clone of the mount at `path`, idmapped through the user
 * namespace `userns_fd`; attach it with move_mount().  -EOPNOTSUPP when the kernel
 * or the filesystem under `path` cannot idmap (tmpfs before Linux 6.3, overlayfs,
 * kernels before 5.12). */
int userns_idmapped_tree(const char *path, int userns_fd, int *tree_fd, struct error *err);

/* setns() into `userns_fd`, then become uid/gid 0 there with no supplementary
 * groups (setns keeps our host ids, which the namespace does not map). */
int userns_join(int userns_fd, struct error *err);

/* Become uid/gid 0 of the user namespace we are in, with no supplementary groups
 * (the first process of a fresh one starts as the overflow id). */
int userns_become_root(struct error *err);

#endif
