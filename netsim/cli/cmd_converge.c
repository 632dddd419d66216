/* netsim converge: how long routing takes to settle in a running sim. */
#include <getopt.h>

#include "cli/cli.h"
#include "sim/live.h"
#include "tools/scenario.h"

/* Echo spacing while waiting for convergence: fine enough to measure to a
 * fifth of a second, coarse enough to stay cheap with many pairs. */
#define CONVERGE_INTERVAL 0.2
#define MISSING_LISTED 20

static int cmd_converge(int argc, char **argv)
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
	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_ADDRS: addrs = optarg; break;
		case OPT_TIMEOUT:
			if (parse_seconds_option(optarg, 1e-3, 86400, &timeout) < 0)
				return usage_error("--timeout wants seconds (0 < S <= 86400)");
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind < argc)
		given = argv[optind++];
	if (optind != argc)
		return usage_error("too many arguments");
	if (need_root())
		return 1;
	char sim[TOPO_SIM_MAX + 1];
	struct reach_sim rs;
	if (open_reach_sim(given, sim, sizeof(sim), &rs) < 0)
		return 1;
	struct error err = {0};
	struct reach_result res;
	if ((addrs && reach_sim_set_targets(&rs, addrs, timeout, &err) < 0) ||
	    reach_sim_run(&rs, timeout, CONVERGE_INTERVAL, &res, &err) < 0) {
		error_prefix(&err, "converge");
		print_error(&err);
		reach_sim_close(&rs);
		return 1;
	}
	bool converged = res.pairs_ok == res.pairs;
	unsigned n = res.n, listed = 0;
	if (json) {
		fputs("{\"sim\":", stdout);
		json_string(stdout, sim);
		printf(",\"converged\":%s,\"seconds\":%.3f,\"timeout\":%g,\"pairs_ok\":%u,"
		       "\"pairs\":%u,\"missing\":[",
		       converged ? "true" : "false", res.seconds, timeout, res.pairs_ok, res.pairs);
		for (unsigned s = 0; s < n; s++)
			for (unsigned d = 0; d < n; d++)
				if (reach_sim_probed(&rs, s, d) && !res.reached[(size_t)s * n + d]) {
					fputs(listed++ ? ",[" : "[", stdout);
					json_string(stdout, rs.nodes[s].name);
					putchar(',');
					json_string(stdout, rs.nodes[d].name);
					putchar(']');
				}
		puts("]}");
	} else if (converged) {
		printf("converge %s: every node reaches every %s (%u pairs) after %.1f s\n", sim,
		       addrs ? "address" : "node", res.pairs, res.seconds);
	} else {
		printf("converge %s: not converged after %.1f s: %u of %u pairs missing:", sim,
		       res.seconds, res.pairs - res.pairs_ok, res.pairs);
		for (unsigned s = 0; s < n; s++)
			for (unsigned d = 0; d < n; d++)
				if (reach_sim_probed(&rs, s, d) && !res.reached[(size_t)s * n + d] &&
				    listed++ < MISSING_LISTED)
					printf(" %s->%s", rs.nodes[s].name, rs.nodes[d].name);
		printf("%s\n", listed > MISSING_LISTED ? " ..." : "");
	}
	reach_result_free(&res);
	reach_sim_close(&rs);
	return converged ? 0 : 1;
}

const struct verb verb_converge = {"converge", cmd_converge,
		"converge [-s SIM] [--addrs all|LIST|FILE] [--timeout S] [--json]",
		"Wait until every node reaches every node and print how long that took,\n"
		"measured with ICMP echo from inside each node's network namespace (one echo\n"
		"per unanswered pair every 0.2 s).  Run it right after `netsim up` to time\n"
		"the routing protocol's convergence.  Exit status 0 when converged, 1 on\n"
		"timeout (the missing pairs are listed).\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"      --addrs all|LIST|FILE  wait for the lab's own addresses instead of\n"
		"                   netsim's (as `netsim reach --addrs`); addresses that\n"
		"                   startup scripts have yet to add are waited for too\n"
		"      --timeout S  give up after S seconds (default 60)\n"
		"      --json       one JSON object: converged, seconds, pairs_ok, pairs,\n"
		"                   missing ([from, to] pairs)\n",
		.in_vm = VERB_IN_VM};
