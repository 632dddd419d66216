/* A whole sim: bring it up from a parsed topology, tear it down, find it. */
#ifndef NETSIM_SIM_H
#define NETSIM_SIM_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "topo/topo.h"

struct up_options {
	bool quiet;          /* no per-node summary lines */
};

/* What a successful `up` made, for the verb to print. */
struct up_node_summary {
	char name[TOPO_NAME_MAX + 1];
	pid_t pid;               /* its PID 1, or its QEMU */
	char addr4[48];
	char source[PATH_MAX];   /* the rootfs tarball or directory */
	bool qemu;               /* backend=qemu: booted with `accel` in boot_ms */
	char accel[8];
	long long boot_ms;
};

struct up_summary {
	char sim[TOPO_SIM_MAX + 1];
	unsigned nnodes, nlinks, nsegments;
	struct up_node_summary *nodes;  /* nnodes of them, in file order */
	double seconds;                 /* from the call of sim_up to its return */
};

/* Create every node, link and segment of `t`.  All or nothing: on any failure
 * (or SIGINT/SIGTERM/SIGHUP) everything created so far is removed again.  On
 * success *sum (unless NULL) says what is up; free it with sim_up_summary_free. */
int sim_up(const struct topo *t, const struct up_options *opt, struct up_summary *sum,
	   struct error *err);
void sim_up_summary_free(struct up_summary *sum);

/* Remove everything of SIM.  Idempotent; works from whatever `up` left behind,
 * even when it was killed half-way.  A sim that does not exist is not an error. */
int sim_down(const char *sim, struct error *err);

/* Caps on a whole sim of `nnodes` nodes (its cgroup, parent of the nodes'). */
void sim_limits(unsigned nnodes, struct cgroup_limits *limits);

/* Names of the sims that have a state directory (sorted); free with sim_names_free. */
int sim_names(char ***names, unsigned *count, struct error *err);
void sim_names_free(char **names, unsigned count);

/* The sim a command means: `given` when set (must exist), else the only running
 * sim; an error names the running sims when there are several. */
int sim_pick(const char *given, char *out, size_t len, struct error *err);

/* Host pid of NODE's PID 1 in SIM, verified against pid reuse. */
int sim_node_pid(const char *sim, const char *node, pid_t *pid, struct error *err);

/* A node's rootfs= value (a name like "meshlite", or a path relative to the
 * topology file) → the tarball or directory it means. */
int sim_rootfs_source(const struct topo *t, const char *value, char *out, size_t len,
		      struct error *err);

/* Refuse (with FILE:LINE) a node whose rootfs= or files= would show it the host's
 * own directories: /, /etc, /run/netns, netsim's state and cache dirs, ...
 * (rootfs_check_host_path).  Touches nothing; `up` and `up --vm` call it first. */
int sim_check_host_paths(const struct topo *t, struct error *err);

/* Parse the copy of the topology that SIM was started from. */
int sim_topology(const char *sim, struct topo *t, struct error *err);

/* Name of the switch-side veth end of segment member `member` (both 0-based),
 * in the sim's switch namespace. */
void sim_segment_port(unsigned segment, unsigned member, char *buf, size_t len);

/* Node names of SIM from its state directory (works for half-built sims too). */
int sim_node_dirs(const char *sim, char ***names, unsigned *count, struct error *err);

#endif
