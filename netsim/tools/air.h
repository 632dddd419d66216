/* The client side of a sim's medium control socket (AIR-SPEC §4, sim/radio.h):
 * the pair matrix, moves and per-pair changes, for `netsim air`, `netsim node
 * NODE move`, scenarios and the web view. */
#ifndef NETSIM_TOOLS_AIR_H
#define NETSIM_TOOLS_AIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "error.h"

/* The whole `matrix` reply, parsed ({"segments":[...]}; json_object_put it). */
int air_matrix(const char *sim, struct json_object **root, struct error *err);
/* The object of segment `name` in a matrix, or NULL. */
struct json_object *air_matrix_segment(struct json_object *root, const char *name);

/* Move NODE to pos (metres) now, or walking there over over_ms. */
int air_move(const char *sim, const char *node, const double pos[3], uint64_t over_ms,
	     struct error *err);

/* "pair SEG FROM>TO WORDS..." (or both ways with `both`): WORDS are loss= rate=
 * delay= cut clear, checked here first with the topology's grammar. */
int air_pair(const char *sim, const char *segment, const char *from, const char *to, bool both,
	     char *const words[], size_t nwords, struct error *err);

/* For each wifi segment of the sim's topology, add to its matrix object
 * "stations": [{"node","interface","peers":[{"mac","node","signal","plink",
 * "tx_retries","tx_failed","tx_packets","rx_packets","tx_bitrate"}]}], each
 * member's kernel's own view (sim/wifi.h).  A node whose view cannot be read
 * gets "error" instead of "peers". */
int air_add_stations(const char *sim, struct json_object *root, struct error *err);

/* The pair table of one matrix segment (and its stations), for people. */
void air_print_segment(FILE *f, struct json_object *segment);

#endif
