/* netsim down: remove a sim and everything it created. */
#include <getopt.h>

#include "cli/cli.h"
#include "sim/neigh_limits.h"
#include "sim/sim.h"
#include "sim/vmsim.h"

static int down_one(const char *sim)
{
	struct error err = {0};
	if (vmsim_is_vm(sim) ? vmsim_down(sim, &err) < 0 : sim_down(sim, &err) < 0) {
		print_error(&err);
		return 1;
	}
	printf("sim %s down\n", sim);
	return 0;
}

static int cmd_down(int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, OPT_ALL},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	bool all = false;
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ALL: all = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (all ? optind != argc : optind + 1 != argc)
		return usage_error("expects one SIM or FILE, or --all");
	if (need_root())
		return 1;
	if (all) {
		char **names;
		unsigned n;
		struct error err = {0};
		if (sim_names(&names, &n, &err) < 0) {
			print_error(&err);
			return 1;
		}
		int rc = 0;
		for (unsigned i = 0; i < n; i++)
			rc |= down_one(names[i]);
		sim_names_free(names, n);
		/* with no sim left (or none to begin with), limits still raised for
		 * sims that went without `down` come back now */
		if (neigh_limits_release(&err) < 0) {
			print_error(&err);
			rc = 1;
		}
		return rc;
	}
	const char *arg = argv[optind];
	if (looks_like_file(arg)) {
		struct topo t;
		struct error err = {0};
		if (topo_parse_file(arg, &t, &err) < 0) {
			print_error(&err);
			return 1;
		}
		int rc = down_one(t.sim);
		topo_free(&t);
		return rc;
	}
	if (!topo_valid_name(arg, TOPO_SIM_MAX))
		return usage_error("'%s' is neither a sim name nor a topology file", arg);
	return down_one(arg);
}

const struct verb verb_down = {"down", cmd_down, "down SIM|FILE|--all",
		"Stop a sim and remove everything it created: node processes, network\n"
		"namespaces, links, bridges, state under /run/netsim.  Idempotent; works after\n"
		"`up` was killed at any point.\n\n"
		"      --all        every sim on this machine\n", .in_vm = VERB_HERE};
