/* What a running sim looks like, as one JSON object: the single writer behind
 * `netsim status --json` and the web view's /api/status. */
#ifndef NETSIM_STATUS_H
#define NETSIM_STATUS_H

#include <stdio.h>

#include "cgroup.h"
#include "error.h"

/* Administrative state of an interface inside a node: "up", "down" or
 * "missing".  Enters the node's netns on the calling thread and back. */
const char *status_iface_state(const char *sim, const char *node, const char *ifname);

/* "container" or "qemu"; for a qemu node `accel` gets the accelerator its VM
 * booted with ("kvm"/"tcg"; "" before the first boot), else "". */
const char *status_node_backend(const char *sim, const char *node, char *accel, size_t len);

/* A node's cgroup usage as status prints it: "12M/256M", "4/512", "0.52s",
 * the OOM kill count; "-" for what is unknown (stopped node, VM). */
struct status_usage_text {
	char memory[40], pids[48], cpu[32], oom[24];
};
void status_usage_text(const struct cgroup_usage *u, struct status_usage_text *out);

/* Write SIM's status object (nodes, links, segments) and a newline to f.
 * Fails only when the sim's state cannot be read. */
int status_write_json(FILE *f, const char *sim, struct error *err);

/* A JSON string literal with escaping (the verbs' --json output uses it too). */
void json_string(FILE *f, const char *s);

#endif
