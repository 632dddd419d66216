/* A namespace's IPv4 forwarding state read from the host over rtnetlink: its
 * routes (every table) and its addresses, so that `netsim converge` can check
 * thousands of routing tables without sending a packet (tools/route_check.h).
 *
 * The reader is raw rtnetlink (one dump request, parsed in place): a 32x32
 * grid holds about a million routes, too many to allocate a libnl object for
 * each several times a second.  The lookup is pure and unit-tested. */
#ifndef NETSIM_ROUTE_TABLE_H
#define NETSIM_ROUTE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* What a lookup found for a destination. */
enum route_kind {
	ROUTE_NONE,        /* no route: the packet is dropped (ENETUNREACH) */
	ROUTE_LOCAL,       /* the address is this namespace's own */
	ROUTE_VIA,         /* forwarded to the next hop in `gw` */
	ROUTE_CONNECTED,   /* on a link with no gateway: the destination itself is next */
	ROUTE_REJECT,      /* blackhole, unreachable, prohibit */
	ROUTE_UNKNOWN,     /* a shape this reader does not follow (nexthop objects) */
};

struct route_entry {
	uint32_t dst;          /* host byte order, masked to len */
	uint8_t len;           /* prefix length 0..32 */
	uint8_t kind;          /* enum route_kind */
	uint8_t gw_family;     /* AF_INET or AF_INET6 with ROUTE_VIA */
	uint8_t table_rank;    /* 0 local, 1 main, 2 default: the order of the kernel's default rules */
	uint32_t priority;     /* RTA_PRIORITY (metric): lowest wins among equals */
	uint8_t gw[16];        /* the gateway: 4 or 16 bytes of the address */
};

struct route_table {
	struct route_entry *routes;
	size_t nroutes, cap;
	size_t *hash;          /* open addressing over the /32 routes: index + 1, 0 free */
	size_t hash_size;      /* a power of two, or 0 before route_table_index() */
	size_t *prefixes;      /* the other routes, longest prefix first */
	size_t nprefixes;
	/* the namespace's addresses: IPv4 (4 bytes) and IPv6 (16), for mapping a
	 * neighbour's gateway address to its node */
	uint8_t (*addrs)[17];  /* [0] = AF_INET or AF_INET6, then the address */
	size_t naddrs, addrs_cap;
	bool policy;           /* routes in tables other than local/main/default:
				* policy routing this reader does not model */
};

/* An rtnetlink socket created inside the namespace `ns_fd` (it stays bound to
 * that namespace); returns the fd or -errno with err filled. */
int route_socket_open(int ns_fd, struct error *err);
/* Replace *t with what `sock`'s namespace holds now (IPv4 routes of every
 * table, IPv4 and IPv6 addresses), indexed for route_table_lookup. */
int route_table_read(int sock, struct route_table *t, struct error *err);
void route_table_free(struct route_table *t);

/* The pure parts, for building tables by hand in tests. */
int route_table_add(struct route_table *t, const struct route_entry *e);
int route_table_add_addr(struct route_table *t, int family, const void *addr);
/* Build the lookup index after the last route_table_add(). */
int route_table_index(struct route_table *t);
/* The route the kernel's default rules (local, then main, then default table)
 * would pick for `dst` (host byte order): the longest prefix in the first
 * table that has one, lowest priority among equals; NULL when none. */
const struct route_entry *route_table_lookup(const struct route_table *t, uint32_t dst);

#endif
