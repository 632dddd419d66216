/* The routing-table check behind `netsim converge` (tools/route_check.h,
 * net/route_table.h): longest-prefix lookup in the kernel's default rule
 * order, and every pair's path followed through hand-built tables, so that a
 * missing route, a reject route, a loop, an overlong path and a table that
 * cannot be read are each told apart without root. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "net/route_table.h"
#include "tools/route_check.h"
#include "tap.h"

static uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return a << 24 | b << 16 | c << 8 | d;
}

static void add(struct route_table *t, uint32_t dst, unsigned len, enum route_kind kind,
		unsigned rank, uint32_t prio, uint32_t gw4)
{
	struct route_entry e = {.dst = dst, .len = (uint8_t)len, .kind = (uint8_t)kind,
				.table_rank = (uint8_t)rank, .priority = prio};
	if (kind == ROUTE_VIA) {
		uint32_t net = htonl(gw4);
		e.gw_family = AF_INET;
		memcpy(e.gw, &net, 4);
	}
	route_table_add(t, &e);
}

static void test_lookup(void)
{
	struct route_table t = {0};
	add(&t, ip(10, 0, 0, 0), 8, ROUTE_VIA, 1, 0, ip(1, 1, 1, 1));
	add(&t, ip(10, 1, 0, 0), 16, ROUTE_VIA, 1, 0, ip(2, 2, 2, 2));
	add(&t, ip(10, 1, 2, 3), 32, ROUTE_VIA, 1, 20, ip(3, 3, 3, 3));
	add(&t, ip(10, 1, 2, 3), 32, ROUTE_VIA, 1, 10, ip(4, 4, 4, 4));
	add(&t, ip(10, 9, 9, 9), 32, ROUTE_LOCAL, 0, 0, 0);
	add(&t, ip(10, 9, 9, 9), 32, ROUTE_VIA, 1, 0, ip(5, 5, 5, 5));
	add(&t, ip(10, 5, 0, 0), 16, ROUTE_REJECT, 0, 0, 0);
	add(&t, 0, 0, ROUTE_VIA, 2, 0, ip(6, 6, 6, 6));
	ok(route_table_index(&t) == 0, "index");
	const struct route_entry *e = route_table_lookup(&t, ip(10, 1, 2, 3));
	ok(e && e->len == 32 && e->priority == 10, "a /32: the lowest metric of two");
	e = route_table_lookup(&t, ip(10, 1, 7, 7));
	ok(e && e->len == 16, "the longest prefix (/16 over /8)");
	e = route_table_lookup(&t, ip(10, 200, 0, 1));
	ok(e && e->len == 8, "the /8 when nothing longer matches");
	e = route_table_lookup(&t, ip(10, 9, 9, 9));
	ok(e && e->kind == ROUTE_LOCAL, "the local table before main");
	e = route_table_lookup(&t, ip(10, 5, 1, 1));
	ok(e && e->kind == ROUTE_REJECT, "a local-table reject route before main's /8");
	e = route_table_lookup(&t, ip(192, 168, 0, 1));
	ok(e && e->len == 0 && e->table_rank == 2, "the default table last");
	route_table_free(&t);
	struct route_table empty = {0};
	route_table_index(&empty);
	ok(route_table_lookup(&empty, ip(10, 0, 0, 1)) == NULL, "an empty table has no route");
	route_table_free(&empty);
}

/* A line of n nodes: node i owns 10.13.0.(i+1) and the gateway address
 * 10.99.i.0 its neighbours forward to; every node routes every other node's
 * address to the neighbour on that side. */
static void line(struct route_table *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		uint32_t own = htonl(ip(10, 13, 0, i + 1)), gw = htonl(ip(10, 99, i, 0));
		route_table_add_addr(&t[i], AF_INET, &own);
		route_table_add_addr(&t[i], AF_INET, &gw);
		add(&t[i], ip(10, 13, 0, i + 1), 32, ROUTE_LOCAL, 0, 0, 0);
		for (unsigned d = 0; d < n; d++)
			if (d != i)
				add(&t[i], ip(10, 13, 0, d + 1), 32, ROUTE_VIA, 1, 0,
				    ip(10, 99, d > i ? i + 1 : i - 1, 0));
	}
}

static void free_all(struct route_table *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		route_table_free(&t[i]);
}

static void index_all(struct route_table *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		route_table_index(&t[i]);
}

/* A readable, indexed line of n nodes and every node's address as a destination. */
static void fresh_line(struct route_table *t, bool *readable, uint32_t *dst, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		readable[i] = true;
		dst[i] = ip(10, 13, 0, i + 1);
	}
	line(t, n);
	index_all(t, n);
}

static unsigned count(const uint8_t *paths, size_t cells, enum route_path p)
{
	unsigned c = 0;
	for (size_t k = 0; k < cells; k++)
		c += paths[k] == p;
	return c;
}

static void test_trace(void)
{
	enum { N = 5 };
	struct route_table t[N];
	bool readable[N];
	uint32_t dst[N];
	uint8_t paths[N * N];
	struct error err = {0};
	fresh_line(t, readable, dst, N);
	ok(route_check_trace(t, readable, N, dst, N, paths, &err) == 0, "trace a complete line");
	is_int(count(paths, N * N, PATH_OK), N * N, "every pair has a path (and each node itself)");

	/* n5 has no route back to n1: only 5->1 misses, 1->5 still delivers */
	for (size_t k = 0; k < t[4].nroutes; k++)
		if (t[4].routes[k].dst == ip(10, 13, 0, 1))
			t[4].routes[k].dst = ip(10, 14, 0, 1);
	index_all(t, N);
	route_check_trace(t, readable, N, dst, N, paths, &err);
	is_int(paths[4 * N + 0], PATH_MISSING, "n5 -> n1: n5 lacks the route");
	is_int(paths[0 * N + 4], PATH_OK, "n1 -> n5 still has a path");
	is_int(count(paths, N * N, PATH_MISSING), 1, "only that pair");

	/* a reject route in n3 for n5: n1, n2 and n3 miss n5 */
	add(&t[2], ip(10, 13, 0, 5), 32, ROUTE_REJECT, 0, 0, 0);
	index_all(t, N);
	route_check_trace(t, readable, N, dst, N, paths, &err);
	ok(paths[0 * N + 4] == PATH_MISSING && paths[1 * N + 4] == PATH_MISSING &&
	   paths[2 * N + 4] == PATH_MISSING && paths[3 * N + 4] == PATH_OK,
	   "a reject route on the way: every source behind it misses");

	/* a loop: n4 sends n1's traffic back to n5, n5 to n4 */
	free_all(t, N);
	line(t, N);
	for (size_t k = 0; k < t[3].nroutes; k++)
		if (t[3].routes[k].dst == ip(10, 13, 0, 1)) {
			uint32_t gw = htonl(ip(10, 99, 4, 0));
			memcpy(t[3].routes[k].gw, &gw, 4);
		}
	for (size_t k = 0; k < t[4].nroutes; k++)
		if (t[4].routes[k].dst == ip(10, 13, 0, 1)) {
			uint32_t gw = htonl(ip(10, 99, 3, 0));
			memcpy(t[4].routes[k].gw, &gw, 4);
		}
	index_all(t, N);
	route_check_trace(t, readable, N, dst, N, paths, &err);
	ok(paths[3 * N + 0] == PATH_MISSING && paths[4 * N + 0] == PATH_MISSING &&
	   paths[2 * N + 0] == PATH_OK, "a loop: both nodes in it miss, the others do not");

	/* a node whose table cannot be read (a VM) makes paths through it undecided */
	free_all(t, N);
	line(t, N);
	index_all(t, N);
	readable[2] = false;
	route_check_trace(t, readable, N, dst, N, paths, &err);
	ok(paths[0 * N + 4] == PATH_UNDECIDED && paths[0 * N + 1] == PATH_OK &&
	   paths[3 * N + 4] == PATH_OK, "through an unreadable node: undecided, not missing");
	readable[2] = true;

	/* a gateway no node owns: undecided */
	for (size_t k = 0; k < t[0].nroutes; k++)
		if (t[0].routes[k].dst == ip(10, 13, 0, 2)) {
			uint32_t gw = htonl(ip(192, 0, 2, 1));
			memcpy(t[0].routes[k].gw, &gw, 4);
		}
	index_all(t, N);
	route_check_trace(t, readable, N, dst, N, paths, &err);
	is_int(paths[0 * N + 1], PATH_UNDECIDED, "a next hop that is no node's: undecided");
	for (unsigned i = 0; i < N; i++)
		route_table_free(&t[i]);
}

static void test_long_path(void)
{
	enum { N = ROUTE_PATH_MAX_HOPS + 2 };
	struct route_table *t = calloc(N, sizeof(*t));
	bool readable[N];
	uint32_t dst[N];
	uint8_t *paths = calloc((size_t)N * N, 1);
	struct error err = {0};
	fresh_line(t, readable, dst, N);
	route_check_trace(t, readable, N, dst, N, paths, &err);
	ok(paths[0 * N + (N - 2)] == PATH_OK, "%u hops deliver", ROUTE_PATH_MAX_HOPS);
	ok(paths[0 * N + (N - 1)] == PATH_MISSING, "%u hops outlive the TTL",
	   ROUTE_PATH_MAX_HOPS + 1);
	ok(paths[(N - 1) * N + 0] == PATH_MISSING && paths[(N - 1) * N + 1] == PATH_OK,
	   "and back the same");
	for (unsigned i = 0; i < N; i++)
		route_table_free(&t[i]);
	free(t);
	free(paths);
}

int main(void)
{
	test_lookup();
	test_trace();
	test_long_path();
	tap_plan_done();
	return tap_failed ? 1 : 0;
}
