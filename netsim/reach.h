/* All-pairs reachability inside a sim: ICMP echo from every node's network
 * namespace to every other node's address, in bounded rounds. */
#ifndef NETSIM_REACH_H
#define NETSIM_REACH_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

struct reach_node {
	const char *name;
	const char *addr4;      /* "10.13.0.1/32" (prefix ignored) */
	int netns_fd;           /* the node's network namespace */
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
void reach_print_matrix(FILE *out, const struct reach_node *nodes,
			const struct reach_result *res);
void reach_result_free(struct reach_result *res);

#endif
