/* A topology as a Graphviz DOT graph (`netsim graph`): nodes, links labelled
 * with their quality, segments as box nodes with an edge to each member; for a
 * running sim also what is live: node state as a fill colour, links that are
 * down drawn dashed. */
#ifndef NETSIM_GRAPH_H
#define NETSIM_GRAPH_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "topo/topo.h"

/* State of one interface, as far as the graph cares. */
enum graph_iface { GRAPH_IF_UP = 0, GRAPH_IF_DOWN, GRAPH_IF_MISSING };

/* The one palette of netsim's pictures: `netsim graph`'s live colours and the
 * web view's (netsim/tools/web/style.css, --running, --stopped, --down) are the
 * same: a running node green, a stopped one grey, a link that is down red and
 * dashed. */
#define GRAPH_COLOUR_RUNNING "#2f9e62"
#define GRAPH_COLOUR_STOPPED "#9aa5b1"
#define GRAPH_COLOUR_DOWN    "#d64545"

/* What is live in a running sim; arrays index like the topology's. */
struct graph_live {
	bool *node_running;            /* [nnodes] */
	enum graph_iface (*link)[2];   /* [nlinks]: end a, end b */
	enum graph_iface **member;     /* [nsegments][nmembers] */
};

/* Filled by live_graph_read() (sim/live.h) for a running sim. */
void graph_live_free(const struct topo *t, struct graph_live *live);

/* Write DOT for `t`; `live` NULL for a topology file that is not running. */
int graph_write_dot(FILE *f, const struct topo *t, const struct graph_live *live,
		    struct error *err);

#endif
