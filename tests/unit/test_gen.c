/* Topology generators: every shape parses with the topology parser and has the
 * expected size; random graphs are connected and reproducible from the seed;
 * bad sizes and options are refused. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "topo/gen.h"
#include "tap.h"
#include "topo/topo.h"

static int make(enum gen_shape shape, const char *size, struct gen_options *o)
{
	struct error err = {0};
	memset(o, 0, sizeof(*o));
	o->shape = shape;
	int r = gen_size_parse(o, size, &err);
	if (r < 0)
		printf("#   %s\n", err.msg);
	return r;
}

/* Generate, parse back; returns the parsed topology (caller frees) or fails. */
static bool roundtrip(const struct gen_options *o, struct topo *t, char **text)
{
	struct error err = {0};
	char *out = NULL;
	if (gen_string(o, &out, &err) < 0) {
		printf("#   gen: %s\n", err.msg);
		return false;
	}
	int r = topo_parse_string("gen.conf", out, t, &err);
	if (r < 0)
		printf("#   parse: %s\n", err.msg);
	if (text)
		*text = out;
	else
		free(out);
	return r == 0;
}

/* BFS from node 0 over links; true when every node is reached. */
static bool connected(const struct topo *t)
{
	bool *seen = calloc(t->nnodes, sizeof(*seen));
	unsigned *queue = malloc(t->nnodes * sizeof(*queue));
	unsigned head = 0, tail = 0, reached = 1;
	seen[0] = true;
	queue[tail++] = 0;
	while (head < tail) {
		unsigned v = queue[head++];
		for (unsigned l = 0; l < t->nlinks; l++) {
			unsigned other;
			if (t->links[l].a.node == v)
				other = t->links[l].b.node;
			else if (t->links[l].b.node == v)
				other = t->links[l].a.node;
			else
				continue;
			if (!seen[other]) {
				seen[other] = true;
				reached++;
				queue[tail++] = other;
			}
		}
	}
	free(seen);
	free(queue);
	return reached == t->nnodes;
}

/* No link twice and no loop (the parser allows parallel links; gen never makes them). */
static bool simple_graph(const struct topo *t)
{
	for (unsigned i = 0; i < t->nlinks; i++)
		for (unsigned j = i + 1; j < t->nlinks; j++) {
			unsigned a1 = t->links[i].a.node, b1 = t->links[i].b.node;
			unsigned a2 = t->links[j].a.node, b2 = t->links[j].b.node;
			if ((a1 == a2 && b1 == b2) || (a1 == b2 && b1 == a2))
				return false;
		}
	return true;
}

static void check_shape(enum gen_shape shape, const char *size, unsigned nodes,
			unsigned links)
{
	struct gen_options o;
	struct topo t;
	const char *name = gen_shape_name(shape);
	if (!ok(make(shape, size, &o) == 0, "%s %s: size accepted", name, size))
		return;
	is_int(gen_node_count(&o), nodes, "%s %s: %u nodes announced", name, size, nodes);
	is_int(gen_link_count(&o), links, "%s %s: %u links announced", name, size, links);
	if (!ok(roundtrip(&o, &t, NULL), "%s %s: output parses", name, size))
		return;
	is_int(t.nnodes, nodes, "%s %s: %u nodes parsed", name, size, nodes);
	is_int(t.nlinks, links, "%s %s: %u links parsed", name, size, links);
	ok(connected(&t), "%s %s: connected", name, size);
	ok(simple_graph(&t), "%s %s: no parallel links", name, size);
	topo_free(&t);
}

static void test_shapes(void)
{
	check_shape(GEN_LINE, "2", 2, 1);
	check_shape(GEN_LINE, "10", 10, 9);
	check_shape(GEN_RING, "3", 3, 3);
	check_shape(GEN_RING, "6", 6, 6);
	check_shape(GEN_STAR, "5", 5, 4);
	check_shape(GEN_GRID, "3", 9, 12);
	check_shape(GEN_GRID, "2x4", 8, 10);
	check_shape(GEN_GRID, "1x3", 3, 2);
	check_shape(GEN_TREE, "7", 7, 6);
	check_shape(GEN_TREE, "10", 10, 9);
	check_shape(GEN_RANDOM, "12", 12, 18); /* degree 3: 12*3/2 */
	check_shape(GEN_RANDOM, "2", 2, 1);

	/* The shapes' structure, not just their size. */
	struct gen_options o;
	struct topo t;
	make(GEN_STAR, "4", &o);
	if (roundtrip(&o, &t, NULL)) {
		bool hub = true;
		for (unsigned l = 0; l < t.nlinks; l++)
			hub &= t.links[l].a.node == 0;
		ok(hub, "star: every link starts at the hub n1");
		is_int(t.nodes[0].nifaces, 3, "star 4: the hub has 3 interfaces");
		topo_free(&t);
	}
	make(GEN_TREE, "7", &o);
	if (roundtrip(&o, &t, NULL)) {
		bool parents = true;
		for (unsigned l = 0; l < t.nlinks; l++)
			parents &= t.links[l].a.node + 1 == (t.links[l].b.node + 1) / 2;
		ok(parents, "tree: node i's parent is i/2");
		topo_free(&t);
	}
	make(GEN_GRID, "2x3", &o);
	if (roundtrip(&o, &t, NULL)) {
		/* n5 (row 1, column 1) has left, right and upper neighbours */
		is_int(t.nodes[4].nifaces, 3, "grid 2x3: n5 has 3 neighbours");
		is_int(t.nodes[0].nifaces, 2, "grid 2x3: corner n1 has 2");
		topo_free(&t);
	}
	make(GEN_RING, "4", &o);
	if (roundtrip(&o, &t, NULL)) {
		bool degree2 = true;
		for (unsigned i = 0; i < t.nnodes; i++)
			degree2 &= t.nodes[i].nifaces == 2;
		ok(degree2, "ring: every node has two links");
		topo_free(&t);
	}
}

static void test_header_and_options(void)
{
	struct gen_options o;
	struct topo t;
	struct error err = {0};
	char *text = NULL;
	make(GEN_GRID, "3", &o);
	o.quality.set = TOPO_Q_RATE | TOPO_Q_DELAY | TOPO_Q_LOSS;
	o.quality.rate_bps = 10000000;
	o.quality.delay_us = 5000;
	o.quality.loss_ppm = 5000;
	snprintf(o.sim, sizeof(o.sim), "lab");
	if (ok(roundtrip(&o, &t, &text), "grid with quality and sim name parses")) {
		ok(strncmp(text, "# netsim gen grid 3x3 --rate 10mbit --delay 5ms --loss 0.5% "
				 "--sim lab\n", 62) == 0,
		   "first line is the command that makes the file");
		is_str(t.sim, "lab", "sim line");
		bool all = true;
		for (unsigned l = 0; l < t.nlinks; l++)
			all &= t.links[l].quality.set == o.quality.set &&
			       t.links[l].quality.rate_bps == 10000000 &&
			       t.links[l].quality.delay_us == 5000 &&
			       t.links[l].quality.loss_ppm == 5000;
		ok(all, "quality is attached to every link");
		topo_free(&t);
	}
	free(text);

	make(GEN_RANDOM, "10", &o);
	o.seed = 7;
	o.degree_x100 = 250;
	const char *want = "# netsim gen random 10 --seed 7 --degree 2.5\n";
	ok(gen_string(&o, &text, &err) == 0 && strncmp(text, want, strlen(want)) == 0,
	   "random header carries seed and degree");
	free(text);
	make(GEN_RANDOM, "3", &o);
	want = "# netsim gen random 3 --seed 0 --degree 2\n";
	ok(gen_string(&o, &text, &err) == 0 && strncmp(text, want, strlen(want)) == 0,
	   "random 3: the default degree is capped at N-1");
	free(text);

	unsigned d = 0;
	ok(gen_degree_parse("3", &d, &err) == 0 && d == 300, "--degree 3");
	ok(gen_degree_parse("2.5", &d, &err) == 0 && d == 250, "--degree 2.5");
	ok(gen_degree_parse(".75", &d, &err) == 0 && d == 75, "--degree .75");
	ok(gen_degree_parse("0", &d, &err) < 0, "--degree 0 refused");
	ok(gen_degree_parse("-1", &d, &err) < 0, "--degree -1 refused");
	ok(gen_degree_parse("2.555", &d, &err) < 0, "--degree with 3 decimals refused");
	ok(gen_degree_parse("x", &d, &err) < 0, "--degree x refused");
	ok(gen_degree_parse(".", &d, &err) < 0, "--degree . refused");
}

static void test_random(void)
{
	struct gen_options o;
	char *a = NULL, *b = NULL, *c = NULL;
	struct error err = {0};
	make(GEN_RANDOM, "30", &o);
	o.seed = 12345;
	o.degree_x100 = 400;
	gen_string(&o, &a, &err);
	gen_string(&o, &b, &err);
	o.seed = 12346;
	gen_string(&o, &c, &err);
	ok(a && b && strcmp(a, b) == 0, "random: the same seed gives the same file");
	/* skip the header line, which differs in the seed anyway */
	ok(a && c && strcmp(strchr(a, '\n'), strchr(c, '\n')) != 0,
	   "random: another seed gives other links");
	free(a);
	free(b);
	free(c);

	/* connected and simple over many seeds, sizes and degrees */
	bool all_ok = true;
	unsigned tries = 0;
	for (unsigned n = 2; n <= 40; n += 3)
		for (unsigned deg = 100; deg <= 500; deg += 75)
			for (uint64_t seed = 0; seed < 4; seed++) {
				struct topo t;
				char size[16];
				snprintf(size, sizeof(size), "%u", n);
				make(GEN_RANDOM, size, &o);
				o.seed = seed * 0x9e3779b97f4a7c15ULL;
				o.degree_x100 = deg > (n - 1) * 100 ? (n - 1) * 100 : deg;
				tries++;
				if (!roundtrip(&o, &t, NULL)) {
					all_ok = false;
					continue;
				}
				if (!connected(&t) || !simple_graph(&t) ||
				    t.nlinks != gen_link_count(&o)) {
					printf("#   random %u degree %u seed %llu: bad graph\n", n,
					       deg, (unsigned long long)o.seed);
					all_ok = false;
				}
				topo_free(&t);
			}
	ok(all_ok, "random: %u graphs connected, without parallel links, of the "
		   "announced size", tries);

	/* the complete graph is reachable */
	struct topo t;
	make(GEN_RANDOM, "6", &o);
	o.degree_x100 = 500;
	o.seed = 1;
	if (ok(roundtrip(&o, &t, NULL), "random 6 --degree 5 parses")) {
		is_int(t.nlinks, 15, "...and is the complete graph");
		ok(simple_graph(&t), "...without parallel links");
		topo_free(&t);
	}
}

static void test_bad(void)
{
	struct gen_options o;
	struct error err = {0};
	enum gen_shape s;
	ok(gen_shape_parse("hexagon", &s) == -EINVAL, "unknown shape refused");
	ok(gen_shape_parse("ring", &s) == 0 && s == GEN_RING, "ring is a shape");
	ok(make(GEN_RING, "2", &o) < 0, "ring 2 refused");
	ok(make(GEN_LINE, "1", &o) < 0, "line 1 refused");
	ok(make(GEN_LINE, "0", &o) < 0, "line 0 refused");
	ok(make(GEN_LINE, "-3", &o) < 0, "line -3 refused");
	ok(make(GEN_LINE, " 3", &o) < 0, "line ' 3' refused");
	ok(make(GEN_LINE, "3x3", &o) < 0, "line 3x3 refused");
	ok(make(GEN_LINE, "abc", &o) < 0, "line abc refused");
	ok(make(GEN_LINE, "65535", &o) < 0, "line 65535 refused (addresses run out)");
	ok(make(GEN_LINE, "99999999999999999999", &o) < 0, "huge size refused");
	ok(make(GEN_GRID, "1", &o) < 0, "grid 1 (a single node) refused");
	ok(make(GEN_GRID, "3x0", &o) < 0, "grid 3x0 refused");
	ok(make(GEN_GRID, "3x", &o) < 0, "grid 3x refused");
	ok(make(GEN_GRID, "300x300", &o) < 0, "grid 300x300 refused (too many nodes)");
	ok(make(GEN_RANDOM, "5000", &o) < 0, "random 5000 refused (above 4096)");
	make(GEN_RANDOM, "4", &o);
	o.degree_x100 = 301;
	ok(gen_validate(&o, &err) < 0 && strstr(err.msg, "at most 3"),
	   "random 4 --degree 3.01 refused: %s", err.msg);
	make(GEN_LINE, "4", &o);
	snprintf(o.sim, sizeof(o.sim), "Bad");
	ok(gen_validate(&o, &err) < 0, "bad sim name refused");
}

/* geo: positions on one radio segment, connected by good links, seeded. */
static void test_geo(void)
{
	struct gen_options o;
	struct topo t;
	char *text = NULL, *again = NULL;
	if (make(GEN_GEO, "20", &o) < 0)
		return;
	o.seed = 42;
	if (!ok(roundtrip(&o, &t, &text), "geo 20 parses back"))
		return;
	is_int(t.nnodes, 20, "geo 20: 20 nodes");
	is_int(t.nlinks, 0, "geo 20: no links");
	ok(t.nsegments == 1 && t.segments[0].medium == TOPO_MEDIUM_RADIO &&
		   t.segments[0].nmembers == 20 && t.segments[0].radio.seed == 42,
	   "one radio segment of all 20, the medium's seed is the generator's");
	bool all_pos = true;
	for (unsigned i = 0; i < t.nnodes; i++)
		all_pos = all_pos && t.nodes[i].has_pos;
	ok(all_pos, "every node has a position");
	/* connected over pairs within the good-SNR distance (171 m with the defaults) */
	double good = 171.1;
	unsigned reached = 1, seen[20] = {1};
	for (bool grew = true; grew;) {
		grew = false;
		for (unsigned i = 0; i < 20; i++)
			for (unsigned j = 0; seen[i] && j < 20; j++) {
				double dx = t.nodes[i].pos[0] - t.nodes[j].pos[0];
				double dy = t.nodes[i].pos[1] - t.nodes[j].pos[1];
				if (!seen[j] && dx * dx + dy * dy <= good * good) {
					seen[j] = 1;
					reached++;
					grew = true;
				}
			}
	}
	is_int(reached, 20, "good links connect every node");
	topo_free(&t);
	struct error err = {0};
	ok(gen_string(&o, &again, &err) == 0 && strcmp(text, again) == 0, "same seed, same file");
	free(again);
	again = NULL;
	o.seed = 43;
	ok(gen_string(&o, &again, &err) == 0 && strcmp(text, again) != 0, "another seed, another file");
	free(again);
	again = NULL;
	free(text);
	o.degree_x100 = 50;
	o.seed = 1;
	ok(gen_string(&o, &again, &err) < 0 && strstr(err.msg, "no connected placement"),
	   "a degree too low to connect is refused");
	free(again);
}

int main(void)
{
	test_shapes();
	test_header_and_options();
	test_random();
	test_geo();
	test_bad();
	return tap_done();
}
