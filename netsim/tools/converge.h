/* `netsim converge`: wait until routing carries every pair, cheaply.
 *
 * Two phases (docs/scenarios.md, "netsim converge"):
 *  1. tables: every CONVERGE_TABLES_INTERVAL (or three times as long as the
 *     last look took, when that is longer), read every node's IPv4 routing
 *     table from the host and follow every pair's path through them
 *     (tools/route_check.h).  No packet is sent while routing settles, so the
 *     check takes no CPU from the routing daemons it waits for.
 *  2. sweep: once no pair lacks a path, ICMP echo (tools/reach.h) over every
 *     pair (sweep "all"), or over a sample of CONVERGE_SAMPLE_PER_NODE pairs
 *     per node as source (sweep "sample", and each node is as many times a
 *     destination) plus every pair the tables could not decide.  A pair
 *     counts as reached only when its echo came back, or, in a sample, when
 *     the tables carry its path and it was not probed.
 * Converged means: every pair's path is in the tables, and every probed pair
 * answered. */
#ifndef NETSIM_CONVERGE_H
#define NETSIM_CONVERGE_H

#include <stdbool.h>

#include "error.h"
#include "tools/reach.h"

enum converge_sweep {
	CONVERGE_SWEEP_AUTO,   /* all pairs up to CONVERGE_FULL_SWEEP_PAIRS, else a sample */
	CONVERGE_SWEEP_ALL,
	CONVERGE_SWEEP_SAMPLE,
};

/* A 16x16 grid's 65280 pairs still take seconds to probe; a 32x32 grid's
 * million take minutes (every echo is forwarded hop by hop). */
#define CONVERGE_FULL_SWEEP_PAIRS 65536
#define CONVERGE_SAMPLE_PER_NODE 16
#define CONVERGE_TABLES_INTERVAL 0.2

struct converge_info {
	bool sampled;            /* the sweep was a sample */
	double tables_seconds;   /* when the tables first carried every pair; -1: never */
	unsigned probed;         /* pairs in the ICMP sweep (0: it did not run) */
	unsigned undecided;      /* of them, pairs the tables could not decide */
	unsigned looks;          /* times the tables were read */
};

/* res as reach_sim_run fills it: reached[] over rs->n x rs->n, pairs_ok of
 * pairs (every probed pair of rs), seconds from the call. */
int converge_run(const struct reach_sim *rs, double timeout, double interval,
		 enum converge_sweep sweep, struct reach_result *res, struct converge_info *info,
		 struct error *err);

/* The sample: want[s * n + d] set for CONVERGE_SAMPLE_PER_NODE (or all, when
 * fewer) of the pairs of s that rs probes, spread so that every destination
 * is drawn about as often. */
void converge_sample(const struct reach_sim *rs, bool *want);

#endif
