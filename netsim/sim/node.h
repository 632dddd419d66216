/* The life of one node's container inside a sim: the one way to start its PID 1
 * (used by `up` for every node and by `netsim node start`), and stopping and
 * restarting it while the rest of the sim keeps running.
 *
 * A stopped node keeps its network namespace (bound at /run/netns/SIM_NODE), so
 * its interfaces, addresses and the veth pairs to its neighbours survive; it
 * keeps its overlay upper dir, so files it changed survive too.  Starting it
 * again runs the same init, hostname and environment on the same lower layers,
 * joined to that namespace. */
#ifndef NETSIM_NODE_H
#define NETSIM_NODE_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "container.h"
#include "error.h"
#include "sim/feed.h"
#include "topo/topo.h"

struct node_launch {
	const char *sim;
	const struct topo_node *node; /* name (= hostname), init=, addresses */
	const char *rootfs;           /* resolved lower dir (rootfs_resolve) */
	const char *files;            /* resolved files= dir, or NULL */
	const struct feed *feed;      /* the node's feed= scanned (feed.h), or NULL */
	const char *netns_path;       /* join this netns (start again), or NULL: a new one (up) */
	const struct topo *topo;      /* the sim's topology (config=uci, NETSIM_WIRELESS) */
	const char *startup;          /* resolved startup= file, copied into the node dir at
				       * the first start (later starts use that copy), or NULL */
};

/* container_create() for one node, then its pid file.  Without netns_path this
 * is the node's first start: its directory is created (it must not exist yet),
 * the resolved lower dirs are recorded in it for later starts and the node gets
 * its own range of host ids for its user namespace (recorded too).  The caller
 * goes on with container_wait_ready()/container_start(). */
int node_spawn(const struct node_launch *l, struct container *c, struct error *err);

/* Default cgroup limits of a container node (docs/security.md, "Resource limits"):
 * enough for an OpenWrt userland, small enough that 1000 nodes on a 24 GiB host
 * cannot take it down (the sim's own cgroup caps their sum, see sim.c). */
#define NODE_DEFAULT_MEM_MIB 256
#define NODE_DEFAULT_PIDS 512

/* The limits node_spawn() gives NODE's cgroup: its mem=/pids=/cpu= or the defaults. */
void node_limits(const struct topo_node *node, struct cgroup_limits *limits);

/* Put the calling process into NODE's cgroup (for `netsim exec`: the command
 * and all it forks then count against the node's limits). */
int node_join_cgroup(const char *sim, const char *node, struct error *err);

/* Kill what is left in NODE's cgroup and remove it (nothing to do when absent). */
int node_cgroup_remove(const char *sim, const char *node, struct error *err);

/* What NODE's cgroup uses now (u->have = 0 when it has none: stopped, or a VM). */
int node_usage(const char *sim, const char *node, struct cgroup_usage *u, struct error *err);

/* Give back the node's host id range (its claim in .ids/); for `down`, while
 * nodes/NODE/ids is still there.  Quiet: a claim left behind is taken over as
 * stale later anyway. */
void node_ids_release(const char *sim, const char *node);

struct node_options {
	bool reset;             /* start: wipe the overlay upper dir first */
	unsigned stop_grace_ms; /* stop: time between SIGTERM and SIGKILL; 0 = 5000 */
};

/* What a stop or start did, for the CLI's message. */
struct node_result {
	pid_t old_pid;          /* PID 1 that was stopped, 0 when it was not running */
	bool killed;            /* it ignored SIGTERM for the grace time: SIGKILL */
	pid_t new_pid;          /* PID 1 that was started, 0 when none */
};

/* Each takes the sim's lock (state_lock) for its whole duration, so two node
 * commands cannot race each other or `up`/`down`.
 *
 * node_stop: SIGTERM to PID 1, SIGKILL after the grace time; removes the pid
 * file.  A node that is already stopped is not an error (old_pid 0).
 * node_start: refuses a node that is running (EBUSY).
 * node_restart: stop (if running) + start. */
int node_stop(const char *sim, const char *node, const struct node_options *opt,
	      struct node_result *res, struct error *err);
int node_start(const char *sim, const char *node, const struct node_options *opt,
	       struct node_result *res, struct error *err);
int node_restart(const char *sim, const char *node, const struct node_options *opt,
		 struct node_result *res, struct error *err);

#endif
