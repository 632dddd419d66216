/* Topology generators.  Every shape is first turned into a list of edges
 * between node numbers (1-based), then written the same way; the random graph
 * uses its own PRNG so a seed gives the same file on every machine and libc. */
#include "topo/gen.h"

#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "topo/units.h"
#include "util.h"

static const char *const shape_names[] = {
	[GEN_LINE] = "line", [GEN_RING] = "ring", [GEN_STAR] = "star",
	[GEN_GRID] = "grid", [GEN_TREE] = "tree", [GEN_RANDOM] = "random", [GEN_GEO] = "geo",
};
#define NSHAPES (sizeof(shape_names) / sizeof(shape_names[0]))

int gen_shape_parse(const char *name, enum gen_shape *shape)
{
	for (unsigned i = 0; i < NSHAPES; i++)
		if (strcmp(name, shape_names[i]) == 0) {
			*shape = (enum gen_shape)i;
			return 0;
		}
	return -EINVAL;
}

const char *gen_shape_name(enum gen_shape shape)
{
	return (unsigned)shape < NSHAPES ? shape_names[shape] : "?";
}

/* Decimal digits only, no sign, no blanks (strtoul alone accepts " -3"), at
 * most UINT32_MAX. */
static int parse_count(const char *s, const char **end, unsigned long long *out)
{
	int r = parse_unsigned_prefix(s, end, out);
	return r == 0 && *out > UINT32_MAX ? -ERANGE : r;
}

int gen_size_parse(struct gen_options *o, const char *arg, struct error *err)
{
	const char *shape = gen_shape_name(o->shape);
	const char *end;
	unsigned long long rows, cols = 0;
	int r = parse_count(arg, &end, &rows);
	if (r == 0 && o->shape == GEN_GRID && (*end == 'x' || *end == 'X'))
		r = parse_count(end + 1, &end, &cols);
	if (r == 0 && *end != '\0')
		r = -EINVAL;
	if (r == -ERANGE)
		return error_setmsg(err, ERANGE, "%s %s: too many nodes (at most %u)", shape,
				    arg, GEN_NODES_MAX);
	if (r < 0)
		return error_setmsg(err, EINVAL, "%s: size `%s` is not a number%s", shape, arg,
				    o->shape == GEN_GRID ? " (grid: N for N×N, or RxC)" : "");
	if (o->shape == GEN_GRID && cols == 0 && *arg && !strpbrk(arg, "xX"))
		cols = rows;
	unsigned long long nodes = o->shape == GEN_GRID ? rows * cols : rows;
	if (o->shape == GEN_GRID && (rows == 0 || cols == 0 || nodes < 2))
		return error_setmsg(err, EINVAL, "grid %s: needs at least 2 nodes (1x2)", arg);
	unsigned min = o->shape == GEN_RING ? 3 : 2;
	if (nodes < min)
		return error_setmsg(err, EINVAL, "%s %s: needs at least %u nodes", shape, arg,
				    min);
	unsigned max = o->shape == GEN_RANDOM || o->shape == GEN_GEO ? GEN_RANDOM_NODES_MAX
								      : GEN_NODES_MAX;
	if (nodes > max)
		return error_setmsg(err, ERANGE, "%s %s: too many nodes (at most %u)", shape,
				    arg, max);
	o->rows = (unsigned)rows;
	o->cols = o->shape == GEN_GRID ? (unsigned)cols : 0;
	return 0;
}

int gen_degree_parse(const char *arg, unsigned *degree_x100, struct error *err)
{
	const char *end;
	unsigned long long whole = 0, hundredths = 0;
	int r = 0;
	if (*arg == '.')
		end = arg;
	else
		r = parse_count(arg, &end, &whole);
	if (r == 0 && *end == '.') {
		/* up to two fraction digits, "2.", ".5" and "2.50" included */
		const char *f = end + 1;
		unsigned digits = 0;
		for (; *f >= '0' && *f <= '9' && digits < 2; f++, digits++)
			hundredths = hundredths * 10 + (unsigned)(*f - '0');
		if (digits == 1)
			hundredths *= 10;
		if (end == arg && digits == 0)
			r = -EINVAL;
		end = f;
	}
	if (r == 0 && *end != '\0')
		r = -EINVAL;
	if (r == 0 && whole > GEN_RANDOM_NODES_MAX)
		r = -ERANGE;
	if (r == 0 && whole == 0 && hundredths == 0)
		r = -EINVAL;
	if (r < 0)
		return error_setmsg(err, -r,
				    "--degree %s: expected an average degree above 0, such as "
				    "3 or 2.5 (two decimals at most)",
				    arg);
	*degree_x100 = (unsigned)(whole * 100 + hundredths);
	return 0;
}

unsigned gen_node_count(const struct gen_options *o)
{
	return o->shape == GEN_GRID ? o->rows * o->cols : o->rows;
}

/* Links of a random graph: the average degree D asks for N·D/2 links (rounded),
 * at least the N-1 of its spanning tree. */
/* --degree, or the default: 3, or N-1 for fewer than 4 nodes */
static unsigned effective_degree(const struct gen_options *o)
{
	if (o->degree_x100)
		return o->degree_x100;
	return o->rows - 1 < 3 ? (o->rows - 1) * 100 : 300;
}

static uint64_t random_link_target(const struct gen_options *o)
{
	uint64_t n = o->rows;
	uint64_t want = (n * effective_degree(o) + 100) / 200;
	return want < n - 1 ? n - 1 : want;
}

unsigned gen_link_count(const struct gen_options *o)
{
	unsigned n = gen_node_count(o);
	switch (o->shape) {
	case GEN_RING: return n;
	case GEN_GRID: return 2 * n - o->rows - o->cols;
	case GEN_RANDOM: return (unsigned)random_link_target(o);
	case GEN_GEO: return 0; /* one radio segment */
	default: return n - 1; /* line, star, tree */
	}
}

/* 300 → "3", 250 → "2.5", 225 → "2.25" */
static void format_degree(unsigned x100, char *buf, size_t len)
{
	if (x100 % 10)
		snprintf(buf, len, "%u.%02u", x100 / 100, x100 % 100);
	else if (x100 % 100)
		snprintf(buf, len, "%u.%u", x100 / 100, x100 % 100 / 10);
	else
		snprintf(buf, len, "%u", x100 / 100);
}

int gen_validate(const struct gen_options *o, struct error *err)
{
	unsigned n = gen_node_count(o);
	if (n < 2)
		return error_setmsg(err, EINVAL, "%s: no size given", gen_shape_name(o->shape));
	if (o->shape == GEN_RANDOM || o->shape == GEN_GEO) {
		/* average degree N-1 is the complete graph */
		if (o->degree_x100 > (n - 1) * 100) {
			char d[32];
			format_degree(o->degree_x100, d, sizeof(d));
			return error_setmsg(err, ERANGE,
					    "%s %u: --degree %s is more than %u nodes allow "
					    "(at most %u, the complete graph)",
					    gen_shape_name(o->shape), n, d, n, n - 1);
		}
	}
	if (o->sim[0] && !topo_valid_name(o->sim, TOPO_SIM_MAX))
		return error_setmsg(err, EINVAL,
				    "--sim %s: a sim name is [a-z0-9-], 1 to %d characters, "
				    "not starting with '-'",
				    o->sim, TOPO_SIM_MAX);
	return 0;
}

/* ---- the random graph ------------------------------------------------------ */

/* splitmix64 (Steele, Lea, Flood 2014): tiny, and every seed, 0 included, gives a
 * full-period, well-mixed sequence. */
struct prng {
	uint64_t state;
};

static uint64_t prng_next(struct prng *p)
{
	uint64_t z = (p->state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, bound): rejecting the top partial range avoids modulo bias. */
static uint32_t prng_below(struct prng *p, uint32_t bound)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t v;
	do
		v = prng_next(p);
	while (v >= limit);
	return (uint32_t)(v % bound);
}

struct edge {
	uint32_t a, b; /* 1-based node numbers, a < b */
};

static int cmp_edge(const void *x, const void *y)
{
	const struct edge *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

static struct edge make_edge(uint32_t x, uint32_t y)
{
	return x < y ? (struct edge){x, y} : (struct edge){y, x};
}

/* A random spanning tree (each node of a random order attaches to a random
 * earlier one) keeps the graph connected; extra links between random
 * unlinked pairs then bring it to the wanted size. */
static int random_edges(const struct gen_options *o, struct edge *edges, struct error *err)
{
	uint32_t n = o->rows;
	uint64_t want = random_link_target(o);
	struct prng rng = {o->seed};
	size_t bitmap_bytes = ((size_t)n * n + 7) / 8;
	cleanup_free uint8_t *linked = calloc(1, bitmap_bytes);
	cleanup_free uint32_t *order = malloc(n * sizeof(*order));
	if (!linked || !order)
		return error_setmsg(err, ENOMEM, "random %u: out of memory", n);
#define BIT(x, y) ((size_t)((x) - 1) * n + ((y) - 1))
	for (uint32_t i = 0; i < n; i++)
		order[i] = i + 1;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = prng_below(&rng, i + 1);
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	uint64_t count = 0;
	for (uint32_t i = 1; i < n; i++) {
		struct edge e = make_edge(order[i], order[prng_below(&rng, i)]);
		linked[BIT(e.a, e.b) / 8] |= (uint8_t)(1u << (BIT(e.a, e.b) % 8));
		edges[count++] = e;
	}
	while (count < want) {
		uint32_t x = prng_below(&rng, n) + 1, y = prng_below(&rng, n) + 1;
		if (x == y)
			continue;
		struct edge e = make_edge(x, y);
		size_t bit = BIT(e.a, e.b);
		if (linked[bit / 8] & (1u << (bit % 8)))
			continue;
		linked[bit / 8] |= (uint8_t)(1u << (bit % 8));
		edges[count++] = e;
	}
#undef BIT
	/* sorted, so the file reads node by node */
	qsort(edges, count, sizeof(*edges), cmp_edge);
	return 0;
}

/* ---- the random geometric graph -------------------------------------------- */

/* Positions in metres (2 per node) for geo: uniform in a square of side L with
 * pi*Rg^2*N/L^2 = D, Rg the distance of SNR GEN_GEO_GOOD_SNR_DB under the
 * default model; drawn again (the generator goes on) until the good links
 * connect the graph. */
static int geo_positions(const struct gen_options *o, double *pos, double *side,
			 struct error *err)
{
	uint32_t n = o->rows;
	double good = pow(10, (TOPO_RADIO_TXPOWER_DBM - TOPO_RADIO_REFLOSS_DB - TOPO_RADIO_NOISE_DBM -
			       GEN_GEO_GOOD_SNR_DB) / (10 * TOPO_RADIO_EXPONENT));
	double d = effective_degree(o) / 100.0;
	*side = round(good * sqrt(M_PI * n / d));
	struct prng rng = {o->seed};
	cleanup_free uint32_t *stack = malloc(n * sizeof(*stack));
	cleanup_free uint8_t *seen = malloc(n);
	if (!stack || !seen)
		return error_setmsg(err, ENOMEM, "geo %u: out of memory", n);
	for (unsigned attempt = 0; attempt < 10000; attempt++) {
		for (uint32_t i = 0; i < 2 * n; i++)
			pos[i] = (double)prng_below(&rng, (uint32_t)*side + 1);
		memset(seen, 0, n);
		uint32_t top = 0, reached = 1;
		stack[top++] = 0;
		seen[0] = 1;
		while (top) {
			uint32_t i = stack[--top];
			for (uint32_t j = 0; j < n; j++) {
				double dx = pos[2 * i] - pos[2 * j], dy = pos[2 * i + 1] - pos[2 * j + 1];
				if (!seen[j] && dx * dx + dy * dy <= good * good) {
					seen[j] = 1;
					reached++;
					stack[top++] = j;
				}
			}
		}
		if (reached == n)
			return 0;
	}
	return error_setmsg(err, EAGAIN, "geo %u: no connected placement found for --degree "
			    "%.2f; give a higher degree", n, d);
}

/* ---- every shape ---------------------------------------------------------- */

static int build_edges(const struct gen_options *o, struct edge *edges, struct error *err)
{
	uint32_t n = gen_node_count(o);
	unsigned k = 0;
	switch (o->shape) {
	case GEN_LINE:
	case GEN_RING:
		for (uint32_t i = 1; i < n; i++)
			edges[k++] = (struct edge){i, i + 1};
		if (o->shape == GEN_RING)
			edges[k++] = (struct edge){1, n};
		break;
	case GEN_STAR: /* n1 is the hub */
		for (uint32_t i = 2; i <= n; i++)
			edges[k++] = (struct edge){1, i};
		break;
	case GEN_TREE: /* node i's parent is i/2: n1 the root, n2 and n3 its children */
		for (uint32_t i = 2; i <= n; i++)
			edges[k++] = (struct edge){i / 2, i};
		break;
	case GEN_GRID: /* row-major: row r, column c is n(r*cols + c + 1) */
		for (uint32_t r = 0; r < o->rows; r++)
			for (uint32_t c = 0; c < o->cols; c++) {
				uint32_t i = r * o->cols + c + 1;
				if (c + 1 < o->cols)
					edges[k++] = (struct edge){i, i + 1};
				if (r + 1 < o->rows)
					edges[k++] = (struct edge){i, i + o->cols};
			}
		break;
	case GEN_RANDOM:
		return random_edges(o, edges, err);
	case GEN_GEO:
		break;
	}
	return 0;
}

/* " rate=10mbit delay=5ms loss=1%" — or with "--rate 10mbit" style for the
 * command line — in the canonical units. */
static void format_quality(const struct topo_quality *q, bool options, char *buf, size_t len)
{
	char v[32];
	const char *sep = options ? " " : "=";
	const char *dash = options ? "--" : "";
	buf[0] = '\0';
	if (q->set & TOPO_Q_RATE) {
		units_format_rate(q->rate_bps, v, sizeof(v));
		snprintf(buf + strlen(buf), len - strlen(buf), " %srate%s%s", dash, sep, v);
	}
	if (q->set & TOPO_Q_DELAY) {
		units_format_time(q->delay_us, v, sizeof(v));
		snprintf(buf + strlen(buf), len - strlen(buf), " %sdelay%s%s", dash, sep, v);
	}
	if (q->set & TOPO_Q_LOSS) {
		units_format_percent(q->loss_ppm, v, sizeof(v));
		snprintf(buf + strlen(buf), len - strlen(buf), " %sloss%s%s", dash, sep, v);
	}
}

int gen_write(FILE *f, const struct gen_options *o, struct error *err)
{
	int r = gen_validate(o, err);
	if (r < 0)
		return r;
	unsigned n = gen_node_count(o), nlinks = gen_link_count(o);
	cleanup_free struct edge *edges = malloc((size_t)nlinks * sizeof(*edges));
	if (!edges)
		return error_setmsg(err, ENOMEM, "%s: out of memory", gen_shape_name(o->shape));
	r = build_edges(o, edges, err);
	if (r < 0)
		return r;
	double side = 0;
	cleanup_free double *pos = o->shape == GEN_GEO ? malloc(2 * (size_t)n * sizeof(*pos)) : NULL;
	if (o->shape == GEN_GEO && (!pos || (r = geo_positions(o, pos, &side, err)) < 0))
		return pos ? r : error_setmsg(err, ENOMEM, "geo: out of memory");

	char quality_opts[160], quality_attrs[160];
	format_quality(&o->quality, true, quality_opts, sizeof(quality_opts));
	format_quality(&o->quality, false, quality_attrs, sizeof(quality_attrs));
	fprintf(f, "# netsim gen %s ", gen_shape_name(o->shape));
	if (o->shape == GEN_GRID)
		fprintf(f, "%ux%u", o->rows, o->cols);
	else
		fprintf(f, "%u", n);
	if (o->shape == GEN_RANDOM || o->shape == GEN_GEO) {
		char d[32];
		format_degree(effective_degree(o), d, sizeof(d));
		fprintf(f, " --seed %" PRIu64 " --degree %s", o->seed, d);
	}
	fprintf(f, "%s%s%s\n", quality_opts, o->sim[0] ? " --sim " : "", o->sim);
	switch (o->shape) {
	case GEN_STAR: fprintf(f, "# n1 is the hub\n"); break;
	case GEN_TREE: fprintf(f, "# binary tree: node i's parent is i/2 (n1 is the root)\n"); break;
	case GEN_GRID:
		fprintf(f, "# %u rows of %u: row r, column c (from 0) is node r*%u+c+1\n",
			o->rows, o->cols, o->cols);
		break;
	case GEN_GEO:
		fprintf(f, "# random positions in a %.0f m square, one radio segment (default model)\n",
			side);
		break;
	default: break;
	}
	fprintf(f, "# %u node%s, %u link%s\n", n, n == 1 ? "" : "s", nlinks, nlinks == 1 ? "" : "s");
	if (o->sim[0])
		fprintf(f, "sim %s\n", o->sim);
	fprintf(f, "defaults rootfs=meshlite\n");
	for (unsigned i = 1; i <= n; i++) {
		if (pos)
			fprintf(f, "node n%u pos=%.0f,%.0f\n", i, pos[2 * (i - 1)], pos[2 * (i - 1) + 1]);
		else
			fprintf(f, "node n%u\n", i);
	}
	for (unsigned k = 0; k < nlinks; k++)
		fprintf(f, "link n%u n%u%s\n", edges[k].a, edges[k].b, quality_attrs);
	if (o->shape == GEN_GEO) {
		fprintf(f, "segment air0");
		for (unsigned i = 1; i <= n; i++)
			fprintf(f, " n%u", i);
		fprintf(f, " medium=radio seed=%" PRIu64 "%s\n", o->seed, quality_attrs);
	}
	if (fflush(f) == EOF || ferror(f))
		return error_set(err, errno ? errno : EIO, "write topology");
	return 0;
}

int gen_string(const struct gen_options *o, char **text, struct error *err)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return error_set(err, errno, "open_memstream");
	int r = gen_write(f, o, err);
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*text = buf;
	return 0;
}
