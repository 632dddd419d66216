/* What a running sim looks like now: its nodes' processes, cgroup usage and
 * interfaces, read from the kernel and the state dir.  The one reader of live
 * state behind `netsim status`, the web view's /api/status and `netsim graph
 * SIM`; live_write_json() is the single writer of the status JSON object. */
#ifndef NETSIM_LIVE_H
#define NETSIM_LIVE_H

#include <stdio.h>

#include "cgroup.h"
#include "error.h"
#include "sim/json_out.h"
#include "topo/graph.h"
#include "topo/topo.h"

/* Administrative state of an interface inside a node: "up", "down" or
 * "missing".  Enters the node's netns on the calling thread and back. */
const char *live_iface_state(const char *sim, const char *node, const char *ifname);

/* "container" or "qemu"; for a qemu node `accel` gets the accelerator its VM
 * booted with ("kvm"/"tcg"; "" before the first boot), else "". */
const char *live_node_backend(const char *sim, const char *node, char *accel, size_t len);

/* A node's cgroup usage as status prints it: "12M/256M", "4/512", "0.52s",
 * the OOM kill count; "-" for what is unknown (stopped node, VM). */
struct live_usage_text {
	char memory[40], pids[48], cpu[32], oom[24];
};
void live_usage_text(const struct cgroup_usage *u, struct live_usage_text *out);

/* SIM's status object (nodes, links, segments), for the caller to put; NULL
 * with err filled only when the sim's state cannot be read. */
struct json_object *live_status_json(const char *sim, struct error *err);
/* live_status_json() and a newline written to f (json_out_write). */
int live_write_json(FILE *f, const char *sim, struct error *err);

/* What `netsim graph SIM` draws of a running sim whose topology is `t`
 * (sim_topology()): which nodes run, which interfaces are up.  Needs root (the
 * interfaces are queried inside the nodes' network namespaces); free with
 * graph_live_free(). */
int live_graph_read(const char *sim, const struct topo *t, struct graph_live *live,
		    struct error *err);

#endif
