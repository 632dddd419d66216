/* The one place that knows where a running sim keeps its things:
 *
 *   /run/netsim/SIM/lock              flock(2) held by `up` and `down`
 *   /run/netsim/SIM/state             node pids and addresses (written atomically)
 *   /run/netsim/SIM/topology.conf     copy of the topology the sim was started from
 *   /run/netsim/SIM/nodes/NODE/       per node: pid, console.log, upper/ work/ root/,
 *                                     lower (the resolved lower dirs, for restarts),
 *                                     ids (node root's host id range: "BASE COUNT")
 *   /run/netsim/.ids/SLOT             claim on host id range SLOT: a hard link to .ids/sim-SIM
 *                                     ("SIM", then "SLOT NODE" per claim), so
 *                                     no two nodes of any sims share one (node.c)
 *   /run/netsim/SIM/links/LINK        quality set at run time (`netsim link ... set`)
 *   /run/netsim/SIM/forwards/PORT     a background `netsim forward` on 127.0.0.1:PORT
 *   /run/netsim/SIM/neigh             its neighbour-table need (neigh_limits.h)
 *   /run/netsim/neigh-limits.saved    the host's limits before netsim raised them
 *   /run/netsim/SIM/vm                a sim run by `up --vm`: the marker (vmsim.h)
 *   /run/netsim/SIM/vm.d/             its VM's QEMU run dir (qemu.h lists the files)
 *   /run/netns/SIM_NODE               the node's network namespace (ip netns exec)
 *   /run/netns/SIM.sw                 the sim's switch namespace (segment bridges)
 *
 * Host-wide names built from a sim and a node (the netns names above; anything
 * else that must be unique across sims) come from state_node_id(): '_' and '.'
 * are in no sim or node name, so two sims never share one.
 *
 * NETSIM_RUN_DIR and NETSIM_NETNS_DIR override the two roots (tests). */
#ifndef NETSIM_STATE_H
#define NETSIM_STATE_H

#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "rootfs.h"
#include "topo/topo.h"

const char *state_run_dir(void);
const char *state_netns_dir(void);
const char *state_cache_dir(void);  /* rootfs cache: NETSIM_CACHE_DIR or /var/lib/netsim/cache */
/* Tarball extraction limits: NETSIM_EXTRACT_MAX_BYTES (K/M/G/T suffixes allowed)
 * and NETSIM_EXTRACT_MAX_FILES, else the defaults in rootfs.h (2 GiB, 200000). */
int state_extract_limits(struct rootfs_limits *limits, struct error *err);
/* rootfs_check_host_path() with netsim's own state and cache dirs refused too. */
int state_check_host_path(const char *path, struct error *err);
/* A node's lower layer (`what`: "rootfs" or "files") about to be used, by `up` or
 * by `node start` from its record: still the real path it was resolved to, and
 * still not a host directory.  Whoever owns a directory on the way could have
 * swapped it for a symlink since `up` checked it.  With `rootfs`, an entry of
 * netsim's own cache (CACHE/<sha256>) is accepted. */
int state_check_lower(const char *what, const char *path, bool rootfs, struct error *err);

/* Build a path; each returns 0 or -ENAMETOOLONG. */
int state_sim_path(char *buf, size_t len, const char *sim, const char *leaf);
int state_node_path(char *buf, size_t len, const char *sim, const char *node, const char *leaf);
/* "SIM_NODE", or "SIM.sw" for a NULL node (the switch); -EINVAL for a name that
 * is not a valid sim or node name (buf then empty), -ENAMETOOLONG. */
int state_node_id(char *buf, size_t len, const char *sim, const char *node);
/* NETNS_DIR/state_node_id(); the same errors. */
int state_netns_path(char *buf, size_t len, const char *sim, const char *node);
/* links/LINK, LINK a link's or segment's name from shape_link_name(); NULL = the dir. */
int state_link_path(char *buf, size_t len, const char *sim, const char *link);
/* .ids/SLOT, the claim on id range SLOT; slot < 0 = the dir. */
int state_ids_path(char *buf, size_t len, int slot);
/* forwards/PORT (PORT the host port, decimal); NULL = the dir. */
int state_forward_path(char *buf, size_t len, const char *sim, const char *port);
/* "netsim/SIM/NODE", relative to each cgroup hierarchy's root (nested, so it
 * cannot collide across sims); NULL node = the sim's cgroup. */
int state_cgroup_path(char *buf, size_t len, const char *sim, const char *node);

/* Take the sim's lock (creating its directory); *fd keeps it until closed.
 * Refuses with EBUSY when another netsim holds it. */
int state_lock(const char *sim, int *fd, struct error *err);

struct state_node {
	char name[TOPO_NAME_MAX + 1];
	pid_t pid;                    /* host pid of the node's PID 1, 0 if none */
	unsigned long long starttime; /* /proc/PID/stat field 22, guards against pid reuse */
	char addr4[48];
	char addr6[64];
	char rootfs[4096];
};

struct state {
	char sim[TOPO_SIM_MAX + 1];
	char topology[4096];          /* absolute path of the topology file */
	long long created;            /* unix time */
	struct state_node *nodes;
	unsigned nnodes;
};

int state_write(const char *path, const struct state *s, struct error *err);
/* state_read() of SIM's state file (/run/netsim/SIM/state). */
int state_load(const char *sim, struct state *s, struct error *err);
int state_read(const char *path, struct state *s, struct error *err);
void state_free(struct state *s);
/* A struct state variable that state_free()s itself at the end of its scope
 * (its nodes must be NULL or allocated). */
#define cleanup_state __attribute__((cleanup(state_free)))

/* Node pid files (proc_pid_write's format), written right after the node is cloned. */
int state_pidfile_write(const char *sim, const char *node, pid_t pid, struct error *err);
/* Read and verify: returns the pid when that process still is the node's PID 1
 * (same start time), 0 when it is gone, or a negative errno. */
pid_t state_pidfile_read(const char *sim, const char *node);

#endif
