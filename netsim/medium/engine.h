/* The medium process (AIR-SPEC §3, docs/wireless.md "The medium process"): one
 * per sim, serving every medium=radio segment of its topology.  It owns the far
 * end of each member's veth pair in the sim's switch namespace and carries every
 * Ethernet frame through the radio model (model.h) and the segment's airtime
 * (air.h); a control socket (ctl.c) shows the matrix and changes positions and
 * pairs while it runs. */
#ifndef NETSIM_MEDIUM_ENGINE_H
#define NETSIM_MEDIUM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "medium/air.h"
#include "medium/model.h"
#include "topo/topo.h"

struct medium_config {
	const struct topo *topo;      /* the sim's topology (radio segments used) */
	int netns_fd;                 /* the sim's switch namespace (the engine setns()es) */
	int ctl_fd;                   /* listening AF_UNIX SOCK_STREAM socket, already bound; -1: none */
	/* far-end port name of member m of segment s: */
	void (*port_name)(unsigned s, unsigned m, char *buf, size_t len);
};

/* Until SIGTERM or SIGINT (then 0); a negative errno with err filled when the
 * setup fails.  Changes the calling process for good: its network namespace,
 * its signal mask, and after the sockets are open its capabilities (none),
 * no_new_privs and a seccomp filter. */
int medium_run(const struct medium_config *c, struct error *err);

/* --- what the control protocol works on (engine.c keeps it, ctl.c reads and
 * changes it; exposed so the request handler is unit-tested without sockets) -- */

struct medium_segment {
	unsigned topo_index;          /* index into topo.segments */
	struct medium_model *model;
	struct medium_air *air;
};

struct medium_move {                  /* a node walking linearly, per topo node */
	bool active;
	double from[3], to[3];
	uint64_t start_ns, end_ns;
};

struct medium_world {
	const struct topo *topo;
	struct medium_segment *segments;  /* the radio segments, in topology order */
	unsigned nsegments;
	struct medium_move *moves;        /* topo.nnodes */
	unsigned moving;                  /* how many are active */
};

/* Models and airs of every radio segment of t; -ENOENT when it has none. */
int medium_world_init(struct medium_world *w, const struct topo *t, struct error *err);
void medium_world_free(struct medium_world *w);
/* Move topo node `node` to pos (over_ms 0: now; else linearly from where it is,
 * finishing over_ms after now_ns).  -ENOENT: not a member of any radio segment. */
int medium_world_move(struct medium_world *w, unsigned node, const double pos[3],
		      uint64_t over_ms, uint64_t now_ns);
/* Advance the timed moves to now_ns. */
void medium_world_tick(struct medium_world *w, uint64_t now_ns);

/* One request line (without the newline) → a reply in *reply (malloc'd, ends in
 * "\n"; "error: ...\n" for a refused request).  -ENOMEM only. */
int medium_ctl_handle(struct medium_world *w, const char *line, uint64_t now_ns,
		      char **reply, size_t *len);

#define MEDIUM_CTL_REQUEST_MAX 512

#endif
