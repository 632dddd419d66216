/* netsim converge: how long routing takes to settle in a running sim. */
#include <getopt.h>

#include "cli/cli.h"
#include "sim/fidelity.h"
#include "sim/json_out.h"
#include "tools/scenario.h"

/* Echo spacing while waiting for convergence: fine enough to measure to a
 * fifth of a second, coarse enough to stay cheap with many pairs. */
#define CONVERGE_INTERVAL 0.2
#define MISSING_LISTED 20

static int cmd_converge(int argc, char **argv, struct error *err)
{
	enum { OPT_ADDRS = OPT_VERB_BASE };
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"addrs", required_argument, NULL, OPT_ADDRS},
					      {"timeout", required_argument, NULL, OPT_TIMEOUT},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL, *addrs = NULL;
	double timeout = 60;
	bool json = false;
	int c;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_ADDRS: addrs = optarg; break;
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
	if ((addrs && reach_sim_set_targets(&rs, addrs, timeout, err) < 0) ||
	    reach_sim_run(&rs, timeout, CONVERGE_INTERVAL, &res, err) < 0) {
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
		json_object_object_add(o, "fidelity", fidelity_ok ? fidelity_json(&fid) : NULL);
		json_out_write(stdout, o);
	} else if (converged) {
		printf("converge %s: every node reaches every %s (%u pair%s) after %.1f s\n", sim,
		       addrs ? "address" : "node", res.pairs, plural(res.pairs), res.seconds);
	} else {
		printf("converge %s: not converged after %.1f s: %u of %u pair%s missing:", sim,
		       res.seconds, res.pairs - res.pairs_ok, res.pairs, plural(res.pairs));
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
		"converge [-s SIM] [--addrs all|LIST|FILE] [--timeout S] [--json]",
		"Wait until every node reaches every node and print how long that took,\n"
		"measured with ICMP echo from inside each node's network namespace (one echo\n"
		"per unanswered pair every 0.2 s).  Run it right after `netsim up` to time\n"
		"the routing protocol's convergence.  Exit status 0 when converged, 1 on\n"
		"timeout (the missing pairs are listed).  A last line says whether the host\n"
		"kept up (`fidelity: ok`, or `degraded: ...`: CPU pressure, dropped frames,\n"
		"neighbour-table overflows, late timers; docs/performance.md), so an\n"
		"overloaded host is not mistaken for a routing bug.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"      --addrs all|LIST|FILE  wait for the lab's own addresses instead of\n"
		"                   netsim's (as `netsim reach --addrs`); addresses that\n"
		"                   startup scripts have yet to add are waited for too\n"
		"      --timeout S  give up after S seconds (default 60)\n"
		"      --json       one JSON object: converged, seconds, pairs_ok, pairs,\n"
		"                   missing ([from, to] pairs), fidelity\n",
		.in_vm = VERB_IN_VM,
	.run = cmd_converge};
