/* netsim down: remove a sim and everything it created. */
#include <getopt.h>

#include "cli/cli.h"
#include "sim/neigh_limits.h"
#include "sim/sim.h"
#include "sim/vmsim.h"

static int down_one(const char *sim, struct error *err)
{
	if (vmsim_is_vm(sim) ? vmsim_down(sim, err) < 0 : sim_down(sim, err) < 0)
		return EXIT_FAIL;
	printf("sim %s down\n", sim);
	return EXIT_OK;
}

static int cmd_down(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"all", no_argument, NULL, OPT_ALL},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	bool all = false;
	int c;
	while ((c = verb_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case OPT_ALL: all = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (all ? optind != argc : optind + 1 != argc)
		return verb_usage(err, "expects one SIM or FILE, or --all");
	if (require_root(err))
		return EXIT_FAIL;
	if (all) {
		char **names;
		unsigned n;
		if (sim_names(&names, &n, err) < 0)
			return EXIT_FAIL;
		/* every sim gets its turn; the errors are told together */
		int rc = EXIT_OK;
		for (unsigned i = 0; i < n; i++) {
			struct error one = {0};
			if (down_one(names[i], &one) != EXIT_OK) {
				verb_error_add(err, &one);
				rc = EXIT_FAIL;
			}
		}
		sim_names_free(names, n);
		/* with no sim left (or none to begin with), limits still raised for
		 * sims that went without `down` come back now */
		struct error limits = {0};
		if (neigh_limits_release(&limits) < 0) {
			verb_error_add(err, &limits);
			rc = EXIT_FAIL;
		}
		return rc;
	}
	const char *arg = argv[optind];
	if (looks_like_file(arg)) {
		struct topo t;
		if (topo_parse_file(arg, &t, err) < 0)
			return EXIT_FAIL;
		int rc = down_one(t.sim, err);
		topo_free(&t);
		return rc;
	}
	if (!topo_valid_name(arg, TOPO_SIM_MAX))
		return verb_usage(err, "'%s' is neither a sim name nor a topology file", arg);
	return down_one(arg, err);
}

const struct verb verb_down = {"down", "down SIM|FILE|--all",
		"Stop a sim and remove everything it created: node processes, network\n"
		"namespaces, links, bridges, state under /run/netsim.  Idempotent; works after\n"
		"`up` was killed at any point.\n\n"
		"      --all        every sim on this machine\n", .in_vm = VERB_HERE,
	.run = cmd_down};
