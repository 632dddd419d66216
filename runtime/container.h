/* The container runtime: one node = one process tree in its own user, mount, pid,
 * uts, ipc and net namespaces, on an overlay of a read-only rootfs, with a reduced
 * capability bounding set and a seccomp filter, running the rootfs's own init as
 * PID 1.  Knows nothing about topologies or links.
 *
 * Life of a node, as seen from the parent:
 *   container_create()      clone; the child builds its root (overlay, pivot_root,
 *                           /proc, /sys, /dev, /tmp, /run, hostname) and stops
 *                           just before exec
 *   container_wait_ready()  wait for the child to report that it is ready (or its
 *                           errno + message); the parent can now wire the netns
 *                           (/proc/PID/ns/net)
 *   container_start()       tell the child to drop capabilities, install seccomp
 *                           and execve init; returns once execve succeeded
 *   container_release()     forget the child (it keeps running, reparented)
 *   container_destroy()     on any failure: SIGKILL + reap + close
 * If the parent dies at any point before container_start(), the child sees EOF on
 * the sync socket and exits, so nothing is left running.
 *
 * container_create() returns right after clone without waiting, so many nodes can
 * be built in parallel: create all, then wait_ready all, then start all.  When
 * container_wait_ready() or container_start() fail they have already killed and
 * reaped the child (c->pid == -1); container_destroy() stays safe to call.  The
 * child closes every inherited descriptor except its sync socket, resets signal
 * handlers and mask, and calls setsid(); init starts with umask 022, stdin
 * /dev/null, stdout/stderr the console log.  Programs that open /dev/console
 * without O_APPEND write from offset 0 of the console log file.
 * Not for multi-threaded callers (the child of a fork-style clone must not meet
 * a lock held by another thread). */
#ifndef NETSIM_CONTAINER_H
#define NETSIM_CONTAINER_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct container_config {
	const char *hostname;     /* also the UTS nodename */
	const char *rootfs;       /* lower layer (read-only), e.g. from rootfs_resolve() */
	const char *extra_lower;  /* optional directory layered above rootfs, or NULL */
	const char *const *layers; /* more read-only dirs between extra_lower and rootfs,
				    * top first, NULL-terminated (a feed's packages); or NULL */
	const char *node_dir;     /* per-node dir; upper/, work/, root/ are created in it */
	const char *console_path; /* init's stdout/stderr (O_APPEND) and /dev/console */
	char *const *argv;        /* init command line; NULL means {"/sbin/init", NULL} */
	char *const *envp;        /* init environment; NULL means empty */
	const char *netns_path;   /* join this existing netns instead of a new one, or NULL */
	/* Node root's host ids: uids and gids 0..id_count-1 inside are
	 * id_base..id_base+id_count-1 on the host (userns.h).  id_count 0: no user
	 * namespace, node root is host root with a reduced capability set.  With
	 * netns_path the user namespace owning that netns is joined (id_base is
	 * still needed to chown a fresh upper dir); a netns owned by ours means
	 * none, whatever id_count says.  container_create() fails with EOPNOTSUPP
	 * when a lower dir's filesystem cannot be idmapped; the caller may retry
	 * with id_count 0. */
	uint32_t id_base;
	uint32_t id_count;
	/* Capabilities beyond the kept set, bits of container_optional_capability_mask()
	 * (CAP_SYS_ADMIN); only for a node in its own user namespace:
	 * container_create() fails with EPERM otherwise.  Such a node's user
	 * namespace may hold at most CONTAINER_NAMESPACES_MAX namespaces of each
	 * kind and no user namespace, and `container_enter` gives its commands the
	 * same (it reads the bounding set of the node's PID 1). */
	uint64_t extra_capabilities;
	/* A host file (at most 1 MiB) copied to CONTAINER_BOOT_SCRIPT in the node,
	 * on its fresh /run, at each start, for the rootfs's init to run; or NULL. */
	const char *boot_script;
};

#define CONTAINER_BOOT_SCRIPT "/run/netsim/startup"

#define CONTAINER_NAMESPACES_MAX 32

struct container {
	pid_t pid;    /* host pid of the node's PID 1, -1 when none */
	int sync_fd;  /* parent end of the sync socketpair, -1 when closed */
};

#define CONTAINER_INIT { .pid = -1, .sync_fd = -1 }

int container_create(const struct container_config *cfg, struct container *c,
		     struct error *err);
int container_wait_ready(struct container *c, struct error *err);
int container_start(struct container *c, struct error *err);
void container_release(struct container *c);
void container_destroy(struct container *c);

/* Run argv inside the namespaces of the node whose PID 1 is `init_pid` (user
 * first, as its root, then ipc, uts, net, pid, mnt; cwd /), with the same capability set and seccomp filter as the
 * node's init, in a new session without a controlling terminal.  stdin, stdout
 * and stderr are inherited, except those that are terminals: the command gets a
 * pipe instead, which the caller relays while the command runs (relay.h), so no
 * node process ever holds the operator's terminal.  Waits for it; *exit_status
 * gets the exit code (128+signal when killed).  envp NULL means a minimal
 * PATH/HOME/TERM=dumb environment; argv[0] without '/' is searched in envp's PATH.
 * The caller's own namespaces are not touched: a non-dumpable intermediate
 * process joins them and forks the command (so node root can neither ptrace it
 * nor open its /proc/PID/exe, environ, mem, cwd, root or fd); SIGINT/SIGQUIT are
 * ignored by the caller while waiting, like system(3), and the intermediate
 * process passes SIGINT, SIGQUIT, SIGTERM and SIGHUP to the command's process
 * group.  Returns <0 with a message when the namespaces cannot be joined or the
 * command cannot be executed.
 *
 * The caller should run from a sealed copy of its executable (sealed_exe.h):
 * the intermediate process and the command until its execve run the caller's
 * binary, and /proc/self/exe must not be a host file then. */
int container_enter(pid_t init_pid, char *const argv[], char *const envp[],
		    int *exit_status, struct error *err);

/* container_enter on a pseudo-terminal: the command's stdin, stdout and stderr
 * are the slave of a pty the caller allocates, and it is the controlling tty of
 * the command's new session.  The caller copies its stdin to the pty and the
 * pty to its stdout, follows SIGWINCH and keeps its own terminal (if stdin is
 * one) in raw mode until the command exits; TERM is the caller's when it is a
 * plain terminal name, else dumb. */
int container_enter_tty(pid_t init_pid, char *const argv[], char *const envp[],
			int *exit_status, struct error *err);

/* The capability bounding set every node runs with, as a CapEff-style bitmask
 * (bit N = capability N), and its names for docs/error messages. */
uint64_t container_capability_mask(void);
/* NULL-terminated names of the kept capabilities ("CAP_CHOWN", ...). */
const char *const *container_capability_names(void);
/* What container_config.extra_capabilities may hold. */
uint64_t container_optional_capability_mask(void);

#endif
