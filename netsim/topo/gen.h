/* Topology generators: `netsim gen SHAPE SIZE` prints a topology file (the
 * format of docs/topology.md) for a line, ring, star, grid, binary tree or a
 * random connected graph.  Nodes are n1..nN; the file's first line is the
 * command that regenerates it exactly (a random graph's seed included). */
#ifndef NETSIM_GEN_H
#define NETSIM_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "topo/topo.h"

enum gen_shape { GEN_LINE, GEN_RING, GEN_STAR, GEN_GRID, GEN_TREE, GEN_RANDOM, GEN_GEO };
/* geo N: a random geometric graph, N nodes at random positions on one
 * medium=radio segment (the default radio model), in a square sized for an
 * average of --degree good neighbours (SNR of GEN_GEO_GOOD_SNR_DB or more),
 * drawn again until those good links connect every node. */
#define GEN_GEO_GOOD_SNR_DB 8.0

/* Node addresses derive from the node number (ident.h), so this is the most. */
#define GEN_NODES_MAX 65534u
/* A random graph keeps an N×N adjacency bitmap (2 MiB at this size). */
#define GEN_RANDOM_NODES_MAX 4096u

struct gen_options {
	enum gen_shape shape;
	unsigned rows;               /* grid: rows; every other shape: the node count */
	unsigned cols;               /* grid: columns; 0 otherwise */
	uint64_t seed;               /* random and geo */
	unsigned degree_x100;        /* random and geo: average degree × 100; 0: 3 (N-1 if less) */
	struct topo_quality quality; /* attached to every link; .set = 0 for none */
	char sim[TOPO_SIM_MAX + 1];  /* "" = no `sim` line (named after the file) */
};

/* "line", "ring", ... → shape; -EINVAL for anything else. */
int gen_shape_parse(const char *name, enum gen_shape *shape);
const char *gen_shape_name(enum gen_shape shape);

/* The size operand: a node count, or for grid "R" (R×R) or "RxC".  Fills
 * rows/cols of *o (o->shape must be set); checks each shape's minimum
 * (line, star, tree: 2; ring: 3; random: 2; grid: 1x2) and maximum. */
int gen_size_parse(struct gen_options *o, const char *arg, struct error *err);

/* "3", "2.5" (two decimals at most) → degree × 100, for --degree. */
int gen_degree_parse(const char *arg, unsigned *degree_x100, struct error *err);

/* Checks the combination: the degree against the node count, etc. */
int gen_validate(const struct gen_options *o, struct error *err);

/* Node and link counts the options produce (random: after the degree is capped). */
unsigned gen_node_count(const struct gen_options *o);
unsigned gen_link_count(const struct gen_options *o);

/* Write the whole topology file to f (the first line: "# netsim gen ..."). */
int gen_write(FILE *f, const struct gen_options *o, struct error *err);
/* The same into a malloc'd string. */
int gen_string(const struct gen_options *o, char **text, struct error *err);

#endif
