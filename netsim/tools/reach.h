/* All-pairs reachability inside a sim: ICMP echo from every node's network
 * namespace to every other node's address, in bounded rounds. */
#ifndef NETSIM_REACH_H
#define NETSIM_REACH_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "sim/state.h"

struct reach_node {
	const char *name;
	const char *addr4;      /* "10.13.0.1/32" (prefix ignored) */
	int netns_fd;           /* the node's network namespace */
	const char *qemu_sim;   /* backend=qemu: its sim (the node's stack is in the VM,
				 * so its probes run there, through the agent); else NULL */
};

struct reach_result {
	unsigned n;
	bool *reached;          /* n*n, [src*n + dst] */
	double *rtt_ms;         /* n*n, first reply's round-trip time */
	double seconds;         /* until all pairs reached, or the timeout */
	unsigned pairs_ok, pairs;
};

/* Ping until every pair answered or `timeout` seconds passed; one echo per
 * unanswered pair per `interval` seconds. */
int reach_run(const struct reach_node *nodes, unsigned n, double timeout, double interval,
	      struct reach_result *res, struct error *err);
/* Only the pairs with want[src*n + dst] set (NULL: all pairs) are probed and
 * counted in res->pairs; a socket is opened only in namespaces that send. */
int reach_run_pairs(const struct reach_node *nodes, unsigned n, const bool *want,
		    double timeout, double interval, struct reach_result *res,
		    struct error *err);

/* The probe engine behind reach_run_pairs, with its clock and its sockets
 * behind a seam so tests/unit/test_reach.c runs it at any size without root.
 *
 * Rounds: every `interval` each unanswered pair gets one echo.  The sends of a
 * round are spread over up to the first half of the interval and read replies
 * between batches, so a round with tens of thousands of probes never leaves
 * the replies unread in the sockets (and the receive buffers never overflow);
 * when sending takes longer than that, the round simply lasts longer.  The
 * first round always sends every probe, even past the timeout, and the run
 * listens for at least half an interval after its last send (REACH_LATE_GRACE
 * when that sweep ran past the timeout): a slow sender never turns into pairs
 * reported as unreachable. */
struct reach_io {
	void *ctx;
	double (*now)(void *ctx);
	/* one echo from src to dst (an unreachable destination is no error) */
	void (*send)(void *ctx, unsigned src, unsigned dst);
	/* wait up to `seconds` (0: just read what is there) for replies, record
	 * each with reach_record() */
	int (*wait)(void *ctx, double seconds, const bool *probing, struct reach_result *res,
		    struct error *err);
};

/* Most probes sent back to back before the engine reads replies again. */
#define REACH_SEND_BATCH 128
/* A round's sends are spread at most this far apart (20000 a second): the
 * spreading is for the kernel's queues under big rounds, not a cost to
 * small ones. */
#define REACH_SEND_GAP 50e-6
/* Seconds the replies of a first sweep that outlasted the timeout still get. */
#define REACH_LATE_GRACE 0.5

/* res->n, res->reached, res->rtt_ms allocated, res->pairs counted by the caller. */
int reach_engine_run(const struct reach_io *io, const bool *probing, double timeout,
		     double interval, struct reach_result *res, struct error *err);
/* A reply for src -> dst arrived: mark the pair (once) if it is being probed. */
void reach_record(struct reach_result *res, const bool *probing, unsigned src, unsigned dst,
		  double rtt_ms);

void reach_print_matrix(FILE *out, const struct reach_node *nodes,
			const struct reach_result *res);
void reach_result_free(struct reach_result *res);

/* The nodes of a running sim with their network namespaces open, ready for
 * reach_run (reach, converge and scenario runs all start here). */
struct reach_sim {
	struct state st;
	struct reach_node *nodes;   /* the sim's nodes (names point into st), then, after
				     * reach_sim_set_targets, one entry per target address */
	unsigned n;                 /* entries in nodes */
	unsigned nnodes;            /* the sim's nodes: nodes[0 .. nnodes-1] */
	bool *want;                 /* NULL: every node probes every node's netsim
				     * address; else n*n, node -> target pairs */
	unsigned *owner;            /* target k (nodes[nnodes + k]) is on node owner[k] */
	char (*target_text)[64];    /* target entries' address and name */
};

int reach_sim_open(const char *sim, struct reach_sim *rs, struct error *err);
void reach_sim_close(struct reach_sim *rs);
/* Index of the node called `name`, or -1. */
int reach_sim_find(const struct reach_sim *rs, const char *name);

/* Probe the lab's own addresses instead of netsim's (labs that address their
 * own interfaces and never announce 10.13.x): `spec` "all" is every global
 * IPv4 address on the nodes' interfaces (not 127/8, 169.254/16 or the node's
 * netsim address; qemu nodes are not asked), else a list of addresses, comma-
 * separated or one a line in a file (# comments), each on some node's
 * interface.  Every node then probes every target address but its own.
 * With `wait` > 0, addresses still to come (startup scripts run after `up`)
 * are waited for up to that long: a list until each is on some node, "all"
 * until the nodes' addresses are the same twice half a second apart. */
int reach_sim_set_targets(struct reach_sim *rs, const char *spec, double wait,
			  struct error *err);
/* reach_run_pairs over the sim's pairs (with targets: node -> address). */
int reach_sim_run(const struct reach_sim *rs, double timeout, double interval,
		  struct reach_result *res, struct error *err);
/* Whether res's pair s -> d was probed (counts in res->pairs). */
bool reach_sim_probed(const struct reach_sim *rs, unsigned s, unsigned d);
/* The matrix: nodes by nodes, or with targets nodes by target addresses. */
void reach_sim_print(FILE *out, const struct reach_sim *rs, const struct reach_result *res);

#endif
