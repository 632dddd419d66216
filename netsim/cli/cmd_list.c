/* netsim list: the sims that are up. */
#include <getopt.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "sim/vmsim.h"

static int cmd_list(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	int c;
	while ((c = verb_getopt(argc, argv, "", opts)) != -1) {
		if (c == OPT_HELP)
			return print_help(current_verb);
		return verb_bad_option(err);
	}
	if (optind != argc)
		return verb_usage(err, "takes no arguments");
	char **names;
	unsigned n;
	if (sim_names(&names, &n, err) < 0)
		return EXIT_FAIL;
	for (unsigned i = 0; i < n; i++) {
		struct state st;
		struct error e;
		if (vmsim_is_vm(names[i])) {
			vmsim_list_line(names[i]);
			continue;
		}
		if (state_load(names[i], &st, &e) < 0) {
			printf("%-16s (incomplete: run `netsim down %s`)\n", names[i], names[i]);
			continue;
		}
		unsigned running = 0;
		for (unsigned k = 0; k < st.nnodes; k++)
			running += state_pidfile_read(names[i], st.nodes[k].name) > 0;
		printf("%-16s %u/%u nodes running  %s\n", names[i], running, st.nnodes,
		       st.topology);
		state_free(&st);
	}
	/* A person at a terminal learns that nothing is up; a script gets no lines. */
	if (n == 0 && isatty(STDOUT_FILENO))
		printf("no sims are up\n");
	sim_names_free(names, n);
	return 0;
}

const struct verb verb_list = {"list", "list", "List the sims that are up, with how many nodes run.  With none up it prints\n"
	"nothing, or \"no sims are up\" when stdout is a terminal.\n", .in_vm = VERB_HERE,
	.run = cmd_list};
