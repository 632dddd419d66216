/* Whether the routing tables of a sim already carry every pair: each node's
 * IPv4 table read from the host (net/route_table.h) and every pair's path
 * followed hop by hop through the tables, as the kernels would forward it.
 * No packet is sent, so a thousand nodes are checked in about a second where
 * an ICMP sweep of their million pairs takes minutes (docs/performance.md). */
#ifndef NETSIM_ROUTE_CHECK_H
#define NETSIM_ROUTE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "net/route_table.h"
#include "tools/reach.h"

enum route_path {
	PATH_UNDECIDED = 0, /* the tables cannot tell (a qemu node, policy routing,
			     * a next hop no node owns): only a probe can */
	PATH_OK,            /* the path ends at the destination within ROUTE_PATH_MAX_HOPS */
	PATH_MISSING,       /* no route, a reject route, a loop, or too long */
};

/* A probe's TTL (Linux's default, net.ipv4.ip_default_ttl): a longer path
 * does not deliver. */
#define ROUTE_PATH_MAX_HOPS 64

/* The pure part.  tables[0..ntables-1] are the nodes (readable[i] false: its
 * table is unknown, e.g. in a VM), dst[0..ndst-1] the destination addresses
 * (host byte order).  Fills paths[i * ndst + d] for every node i. */
int route_check_trace(const struct route_table *tables, const bool *readable, unsigned ntables,
		      const uint32_t *dst, unsigned ndst, uint8_t *paths, struct error *err);

/* One rtnetlink socket per node of a sim, kept open between looks. */
struct route_check {
	unsigned nnodes;
	int *socks;                 /* -1: not readable from here (qemu node) */
	struct route_table *tables;
	bool *readable;
	uint32_t *dst;              /* rs->nodes[d].addr4 for every entry d of rs */
	unsigned ndst;
};

int route_check_open(struct route_check *rc, const struct reach_sim *rs, struct error *err);
/* Read every table now and trace every pair: paths[s * rs->n + d] for the
 * sim's nodes s (rows beyond nnodes are not touched). */
int route_check_look(struct route_check *rc, uint8_t *paths, struct error *err);
void route_check_close(struct route_check *rc);

#endif
