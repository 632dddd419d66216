/* netsim air: the pair matrix of a sim's radio segments, and live per-pair
 * changes (tools/air.h talks to the medium process). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/json_out.h"
#include "sim/sim.h"
#include "tools/air.h"
#include "topo/topo.h"

static int cmd_air(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	bool json = false;
	int c;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	const char *segment = optind < argc ? argv[optind++] : NULL;
	bool change = optind < argc;
	if (change && strcmp(argv[optind], "pair") != 0)
		return verb_usage(err, "unknown operation `%.64s` (expected pair)", argv[optind]);
	if (change && json)
		return verb_usage(err, "--json goes with the matrix, not with a change");
	if (require_root(err))
		return EXIT_FAIL;
	char sim[TOPO_SIM_MAX + 1];
	if (sim_pick(given, sim, sizeof(sim), err) < 0) {
		return EXIT_FAIL;
	}
	if (change) {
		optind++;
		if (optind >= argc)
			return verb_usage(err, "pair: expected A B or A>B");
		char from[64], to[64];
		bool both;
		const char *arrow = strchr(argv[optind], '>');
		if (arrow) {
			if (arrow - argv[optind] > TOPO_NAME_MAX)
				return verb_usage(err, "pair: A and B are node names");
			snprintf(from, sizeof(from), "%.*s", (int)(arrow - argv[optind]), argv[optind]);
			snprintf(to, sizeof(to), "%s", arrow + 1);
			both = false;
			optind++;
		} else {
			if (optind + 1 >= argc)
				return verb_usage(err, "pair: expected A B or A>B");
			snprintf(from, sizeof(from), "%s", argv[optind]);
			snprintf(to, sizeof(to), "%s", argv[optind + 1]);
			both = true;
			optind += 2;
		}
		if (!topo_valid_name(from, TOPO_NAME_MAX) || !topo_valid_name(to, TOPO_NAME_MAX))
			return verb_usage(err, "pair: A and B are node names");
		if (air_pair(sim, segment, from, to, both, argv + optind, (size_t)(argc - optind),
			     err) < 0) {
			return EXIT_FAIL;
		}
		return 0;
	}
	struct json_object *root;
	if (air_matrix(sim, &root, err) < 0) {
		return EXIT_FAIL;
	}
	if (air_add_stations(sim, root, err) < 0) {
		json_object_put(root);
		return EXIT_FAIL;
	}
	int rc = 0;
	struct json_object *segs;
	json_object_object_get_ex(root, "segments", &segs);
	if (segment) {
		struct json_object *seg = air_matrix_segment(root, segment);
		if (!seg)
			rc = verb_fail(err, "air: sim %s has no radio segment %.64s", sim, segment);
		else if (json)
			json_out_write(stdout, seg);
		else
			air_print_segment(stdout, seg);
	} else if (json) {
		json_out_write(stdout, root);
	} else {
		for (size_t i = 0; i < json_object_array_length(segs); i++) {
			if (i)
				putchar('\n');
			air_print_segment(stdout, json_object_array_get_idx(segs, i));
		}
	}
	json_object_put(root);
	return rc;
}

const struct verb verb_air = {"air",
		"air [-s SIM] [SEGMENT] [--json] | air [-s SIM] SEGMENT pair A B|A>B CHANGE...",
		"The radio medium of a sim (segments with medium=radio or medium=wifi,\n"
		"docs/topology.md): the matrix of every ordered pair of members of SEGMENT\n"
		"(all of them when left out), as the medium process sees it now: RANGE (no: no frames at\n"
		"all), distance in metres, SNR in dB, the LOSS, RATE and DELAY each frame\n"
		"gets, the counters OFFERED, DELIVERED, LOST (by loss), COLLIDED (hidden-node\n"
		"or half-duplex collisions) and QDROP (sender's queue full), and SET: what a\n"
		"pair line or a change overrides.  A wifi segment also lists the stations\n"
		"each member's kernel knows (`iw dev IF station dump`, read over nl80211):\n"
		"peer, signal, mesh peer link state, TX bitrate, retries and failures.\n"
		"--json: the segment's object of the medium's matrix (docs/wireless.md,\n"
		"\"Control protocol\"), with \"stations\" for a wifi segment.\n\n"
		"  pair A B CHANGE...    change the pair both ways, A>B one way, now:\n"
		"      loss=P rate=R delay=D   override the model (units as in topologies)\n"
		"      cut                     out of range: no frames at all\n"
		"      clear                   back to the model (with others: clear first)\n"
		"  e.g.  netsim air -s lab air0 pair a>b loss=40%\n"
		"        netsim air -s lab air0 pair a c cut\n\n"
		"  -s, --sim SIM    the sim (may be left out when only one is up)\n"
		"      --json       the matrix as JSON, for scripts\n",
		.in_vm = VERB_IN_VM,
	.run = cmd_air};
