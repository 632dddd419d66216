/* netsim converge: how long routing takes to settle in a running sim. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/fidelity.h"
#include "sim/json_out.h"
#include "tools/converge.h"
#include "tools/scenario.h"

/* Echo spacing while waiting for convergence: fine enough to measure to a
 * fifth of a second, coarse enough to stay cheap with many pairs. */
#define CONVERGE_INTERVAL 0.2
#define MISSING_LISTED 20

static int cmd_converge(int argc, char **argv, struct error *err)
{
	enum { OPT_ADDRS = OPT_VERB_BASE, OPT_SWEEP };
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"addrs", required_argument, NULL, OPT_ADDRS},
					      {"sweep", required_argument, NULL, OPT_SWEEP},
					      {"timeout", required_argument, NULL, OPT_TIMEOUT},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL, *addrs = NULL;
	double timeout = 60;
	bool json = false;
	enum converge_sweep sweep = CONVERGE_SWEEP_AUTO;
	int c;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_ADDRS: addrs = optarg; break;
		case OPT_SWEEP:
			if (strcmp(optarg, "all") == 0)
				sweep = CONVERGE_SWEEP_ALL;
			else if (strcmp(optarg, "sample") == 0)
				sweep = CONVERGE_SWEEP_SAMPLE;
			else
				return verb_usage(err, "--sweep wants all or sample");
			break;
		case OPT_TIMEOUT:
			if (parse_seconds_option(optarg, 1e-3, 86400, &timeout) < 0)
				return verb_usage(err, "--timeout wants seconds (0 < S <= 86400)");
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind < argc)
		given = argv[optind++];
	if (optind != argc)
		return verb_usage(err, "too many arguments");
	if (require_root(err))
		return EXIT_FAIL;
	char sim[TOPO_SIM_MAX + 1];
	struct reach_sim rs;
	if (open_reach_sim(given, sim, sizeof(sim), &rs, err) < 0)
		return EXIT_FAIL;
	struct reach_result res;
	struct converge_info info;
	if ((addrs && reach_sim_set_targets(&rs, addrs, timeout, err) < 0) ||
	    converge_run(&rs, timeout, CONVERGE_INTERVAL, sweep, &res, &info, err) < 0) {
		error_prefix(err, "converge");
		reach_sim_close(&rs);
		return EXIT_FAIL;
	}
	bool converged = res.pairs_ok == res.pairs;
	unsigned n = res.n, listed = 0;
	/* an overloaded host is not a routing bug: say which it was */
	struct fidelity fid;
	struct error fid_err = {0};
	bool fidelity_ok = fidelity_sample(sim, FIDELITY_WINDOW_MS, &fid, &fid_err) == 0;
	if (json) {
		struct json_object *o = json_object_new_object(), *missing = json_object_new_array();
		json_object_object_add(o, "sim", json_object_new_string(sim));
		json_object_object_add(o, "converged", json_object_new_boolean(converged));
		json_object_object_add(o, "seconds", json_out_double("%.3f", res.seconds));
		json_object_object_add(o, "timeout", json_out_double("%g", timeout));
		json_object_object_add(o, "pairs_ok", json_object_new_int64(res.pairs_ok));
		json_object_object_add(o, "pairs", json_object_new_int64(res.pairs));
		for (unsigned s = 0; s < n; s++)
			for (unsigned d = 0; d < n; d++)
				if (reach_sim_probed(&rs, s, d) && !res.reached[(size_t)s * n + d]) {
					struct json_object *pair = json_object_new_array();
					json_object_array_add(pair, json_object_new_string(rs.nodes[s].name));
					json_object_array_add(pair, json_object_new_string(rs.nodes[d].name));
					json_object_array_add(missing, pair);
				}
		json_object_object_add(o, "missing", missing);
		json_object_object_add(o, "sweep", json_object_new_string(info.sampled ? "sample" : "all"));
		json_object_object_add(o, "probed", json_object_new_int64(info.probed));
		json_object_object_add(o, "tables_seconds", info.tables_seconds < 0 ? NULL :
				       json_out_double("%.3f", info.tables_seconds));
		json_object_object_add(o, "fidelity", fidelity_ok ? fidelity_json(&fid) : NULL);
		json_out_write(stdout, o);
	} else if (converged && info.sampled) {
		printf("converge %s: every node has a path to every %s in the routing tables "
		       "(%u pairs) and %u sampled pairs answered, after %.1f s\n", sim,
		       addrs ? "address" : "node", res.pairs, info.probed, res.seconds);
	} else if (converged) {
		printf("converge %s: every node reaches every %s (%u pair%s) after %.1f s\n", sim,
		       addrs ? "address" : "node", res.pairs, plural(res.pairs), res.seconds);
	} else {
		printf("converge %s: not converged after %.1f s: %u of %u pair%s missing%s:", sim,
		       res.seconds, res.pairs - res.pairs_ok, res.pairs, plural(res.pairs),
		       info.tables_seconds < 0 ? " (no path in the routing tables)" : "");
		for (unsigned s = 0; s < n; s++)
			for (unsigned d = 0; d < n; d++)
				if (reach_sim_probed(&rs, s, d) && !res.reached[(size_t)s * n + d] &&
				    listed++ < MISSING_LISTED)
					printf(" %s->%s", rs.nodes[s].name, rs.nodes[d].name);
		printf("%s\n", listed > MISSING_LISTED ? " ..." : "");
	}
	if (!json && fidelity_ok) {
		char line[256];
		fidelity_line(&fid, line, sizeof(line));
		printf("fidelity: %s\n", line);
	}
	reach_result_free(&res);
	reach_sim_close(&rs);
	return converged ? EXIT_OK : EXIT_FAIL;
}

const struct verb verb_converge = {"converge",
		"converge [-s SIM] [--addrs all|LIST|FILE] [--sweep all|sample] [--timeout S] [--json]",
		"Wait until every node reaches every node and print how long that took.\n"
		"Run it right after `netsim up` to time the routing protocol's convergence.\n"
		"First every node's IPv4 routing table is read from the host (every 0.2 s,\n"
		"or less often when a read takes longer than 0.07 s)\n"
		"and each pair's path followed through the tables; no packet is sent until\n"
		"no pair lacks a path.  Then ICMP echo from inside each node's network\n"
		"namespace (one echo per unanswered pair every 0.2 s) checks every pair, or\n"
		"above 65536 pairs a sample: 16 pairs per node as source (each node as\n"
		"often a destination) and every pair the tables could not decide.\n"
		"Exit status 0 when converged, 1 on timeout (the missing pairs are listed).\n"
		"A last line says whether the host kept up (`fidelity: ok`, or `degraded:\n"
		"...`: CPU pressure, dropped frames, neighbour-table overflows, late\n"
		"timers; docs/performance.md), so an overloaded host is not mistaken for a\n"
		"routing bug.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"      --addrs all|LIST|FILE  wait for the lab's own addresses instead of\n"
		"                   netsim's (as `netsim reach --addrs`); addresses that\n"
		"                   startup scripts have yet to add are waited for too\n"
		"      --sweep all|sample  probe every pair, or the sample, whatever the\n"
		"                   size (default: all up to 65536 pairs)\n"
		"      --timeout S  give up after S seconds (default 60)\n"
		"      --json       one JSON object: converged, seconds, pairs_ok, pairs,\n"
		"                   missing ([from, to] pairs), sweep (all or sample),\n"
		"                   probed (pairs echoed), tables_seconds (when the tables\n"
		"                   first carried every pair, or null), fidelity\n",
		.in_vm = VERB_IN_VM,
	.run = cmd_converge};
