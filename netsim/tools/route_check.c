/* Every pair's path through the sim's routing tables (route_check.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/route_check.h"

/* ---- which node owns an address (a gateway, a connected destination) ------- */

struct owner_map {
	uint8_t (*keys)[17];
	int *node;          /* the owner, or -1 when two nodes have the address */
	size_t size;        /* a power of two; an empty slot has keys[k][0] == 0 */
};

static size_t hash_key(const uint8_t key[17], size_t size)
{
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < 17; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29)) & (size - 1);
}

static int owner_map_build(struct owner_map *m, const struct route_table *tables,
			   const bool *readable, unsigned n)
{
	size_t total = 0;
	for (unsigned i = 0; i < n; i++)
		if (readable[i])
			total += tables[i].naddrs;
	m->size = 16;
	while (m->size < total * 2)
		m->size *= 2;
	m->keys = calloc(m->size, sizeof(*m->keys));
	m->node = calloc(m->size, sizeof(*m->node));
	if (!m->keys || !m->node)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		for (size_t a = 0; readable[i] && a < tables[i].naddrs; a++) {
			const uint8_t *key = tables[i].addrs[a];
			size_t h = hash_key(key, m->size);
			while (m->keys[h][0] && memcmp(m->keys[h], key, 17) != 0)
				h = (h + 1) & (m->size - 1);
			if (!m->keys[h][0]) {
				memcpy(m->keys[h], key, 17);
				m->node[h] = (int)i;
			} else if (m->node[h] != (int)i) {
				m->node[h] = -1; /* 127.0.0.1, ::1, or a lab's duplicate */
			}
		}
	}
	return 0;
}

/* The node owning the address (family, 4 or 16 bytes), -1 if none or several. */
static int owner_of(const struct owner_map *m, int family, const void *addr)
{
	uint8_t key[17] = {(uint8_t)family};
	memcpy(key + 1, addr, family == AF_INET ? 4 : 16);
	for (size_t h = hash_key(key, m->size); m->keys[h][0]; h = (h + 1) & (m->size - 1))
		if (memcmp(m->keys[h], key, 17) == 0)
			return m->node[h];
	return -1;
}

static void owner_map_free(struct owner_map *m)
{
	free(m->keys);
	free(m->node);
}

/* ---- the trace ------------------------------------------------------------- */

#define ON_WALK 0xff

/* Where node v forwards dst: the next node (>= 0), or a verdict (< 0). */
#define NEXT_OK (-1)
#define NEXT_MISSING (-2)
#define NEXT_UNDECIDED (-3)

static int32_t forward(const struct route_table *tables, const bool *readable,
		       const struct owner_map *owners, unsigned v, uint32_t dst)
{
	if (!readable[v] || tables[v].policy)
		return NEXT_UNDECIDED;
	const struct route_entry *e = route_table_lookup(&tables[v], dst);
	uint32_t net = htonl(dst);
	int next;
	switch (e ? e->kind : ROUTE_NONE) {
	case ROUTE_LOCAL: return NEXT_OK;
	case ROUTE_NONE: case ROUTE_REJECT: return NEXT_MISSING;
	case ROUTE_VIA: next = owner_of(owners, e->gw_family, e->gw); break;
	case ROUTE_CONNECTED: next = owner_of(owners, AF_INET, &net); break;
	default: return NEXT_UNDECIDED;
	}
	return next < 0 || next == (int)v ? NEXT_UNDECIDED : next;
}

int route_check_trace(const struct route_table *tables, const bool *readable, unsigned ntables,
		      const uint32_t *dst, unsigned ndst, uint8_t *paths, struct error *err)
{
	struct owner_map owners = {0};
	size_t cells = ntables ? ntables : 1;
	/* every node's next hop for every destination, table by table: one
	 * table's lookups at a time stay in the CPU's cache, where following
	 * paths across a thousand tables would miss it at every hop */
	int32_t *next = malloc(cells * (ndst ? ndst : 1) * sizeof(*next));
	uint8_t *state = malloc(cells);          /* 0 unseen, ON_WALK, else 1 + verdict */
	unsigned *hops = malloc(cells * sizeof(*hops)); /* a decided node's hops to dst */
	unsigned *walk = malloc(cells * sizeof(*walk));
	int r = 0;
	if (!next || !state || !hops || !walk ||
	    owner_map_build(&owners, tables, readable, ntables) < 0) {
		r = error_set(err, ENOMEM, "route check");
		goto out;
	}
	for (unsigned v = 0; v < ntables; v++)
		for (unsigned d = 0; d < ndst; d++)
			next[(size_t)v * ndst + d] = forward(tables, readable, &owners, v, dst[d]);
	/* Per destination each node is decided once: a walk stops at the first
	 * node already decided, so the work is nodes x destinations, not x hops. */
	for (unsigned d = 0; d < ndst; d++) {
		memset(state, 0, ntables);
		for (unsigned s = 0; s < ntables; s++) {
			unsigned len = 0, v = s, tail = 0;
			uint8_t result;
			for (;;) {
				if (state[v] == ON_WALK) {
					result = PATH_MISSING; /* a loop */
					break;
				}
				if (state[v]) {
					result = (uint8_t)(state[v] - 1);
					tail = hops[v];
					break;
				}
				int32_t hop = next[(size_t)v * ndst + d];
				if (hop < 0) {
					result = hop == NEXT_OK ? PATH_OK : hop == NEXT_MISSING ?
						 PATH_MISSING : PATH_UNDECIDED;
					state[v] = (uint8_t)(1 + result);
					hops[v] = 0;
					break;
				}
				state[v] = ON_WALK;
				walk[len++] = v;
				v = (unsigned)hop;
			}
			/* the walk's nodes, the one nearest the end first */
			while (len-- > 0) {
				if (result == PATH_OK && ++tail > ROUTE_PATH_MAX_HOPS)
					result = PATH_MISSING;
				state[walk[len]] = (uint8_t)(1 + result);
				hops[walk[len]] = tail;
			}
		}
		for (unsigned s = 0; s < ntables; s++)
			paths[(size_t)s * ndst + d] = (uint8_t)(state[s] - 1);
	}
out:
	owner_map_free(&owners);
	free(next);
	free(state);
	free(hops);
	free(walk);
	return r;
}

/* ---- reading a sim's tables ------------------------------------------------ */

int route_check_open(struct route_check *rc, const struct reach_sim *rs, struct error *err)
{
	memset(rc, 0, sizeof(*rc));
	rc->nnodes = rs->nnodes;
	rc->ndst = rs->n;
	rc->socks = malloc((rs->nnodes + 1) * sizeof(*rc->socks));
	rc->tables = calloc(rs->nnodes + 1, sizeof(*rc->tables));
	rc->readable = calloc(rs->nnodes + 1, sizeof(*rc->readable));
	rc->dst = calloc(rs->n + 1, sizeof(*rc->dst));
	if (!rc->socks || !rc->tables || !rc->readable || !rc->dst) {
		route_check_close(rc);
		return error_set(err, ENOMEM, "route check");
	}
	for (unsigned i = 0; i < rs->nnodes; i++)
		rc->socks[i] = -1;
	for (unsigned d = 0; d < rs->n; d++) {
		char buf[64];
		struct in_addr a;
		snprintf(buf, sizeof(buf), "%s", rs->nodes[d].addr4);
		buf[strcspn(buf, "/")] = '\0';
		if (inet_pton(AF_INET, buf, &a) != 1) {
			route_check_close(rc);
			return error_setmsg(err, EINVAL, "route check: %s: bad address `%s`",
					    rs->nodes[d].name, rs->nodes[d].addr4);
		}
		rc->dst[d] = ntohl(a.s_addr);
	}
	for (unsigned i = 0; i < rs->nnodes; i++) {
		if (rs->nodes[i].qemu_sim)
			continue; /* its stack is in the VM: its pairs are probed */
		int fd = route_socket_open(rs->nodes[i].netns_fd, err);
		if (fd < 0) {
			error_prefix(err, "node %s", rs->nodes[i].name);
			route_check_close(rc);
			return fd;
		}
		rc->socks[i] = fd;
	}
	return 0;
}

int route_check_look(struct route_check *rc, uint8_t *paths, struct error *err)
{
	for (unsigned i = 0; i < rc->nnodes; i++) {
		rc->readable[i] = false;
		if (rc->socks[i] < 0)
			continue;
		int r = route_table_read(rc->socks[i], &rc->tables[i], err);
		if (r < 0)
			return error_prefix(err, "route check: node %u", i + 1);
		rc->readable[i] = true;
	}
	return route_check_trace(rc->tables, rc->readable, rc->nnodes, rc->dst, rc->ndst, paths,
				 err);
}

void route_check_close(struct route_check *rc)
{
	for (unsigned i = 0; rc->socks && i < rc->nnodes; i++)
		if (rc->socks[i] >= 0)
			close(rc->socks[i]);
	for (unsigned i = 0; rc->tables && i < rc->nnodes; i++)
		route_table_free(&rc->tables[i]);
	free(rc->socks);
	free(rc->tables);
	free(rc->readable);
	free(rc->dst);
	memset(rc, 0, sizeof(*rc));
}
