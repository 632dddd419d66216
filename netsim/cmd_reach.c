/* netsim reach. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "netlink.h"
#include "reach.h"
#include "sim.h"

/* ---- reach ------------------------------------------------------------- */

static int cmd_reach(int argc, char **argv)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"timeout", required_argument, NULL, OPT_TIMEOUT},
					      {"interval", required_argument, NULL, OPT_INTERVAL},
					      {"quiet", no_argument, NULL, 'q'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	double timeout = 10, interval = 1;
	bool quiet = false;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "+s:q", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'q': quiet = true; break;
		case OPT_TIMEOUT:
			timeout = strtod(optarg, &end);
			if (*end || end == optarg || timeout <= 0 || timeout > 86400)
				return usage_error("--timeout wants seconds (0 < S <= 86400)");
			break;
		case OPT_INTERVAL:
			interval = strtod(optarg, &end);
			if (*end || end == optarg || interval < 0.01 || interval > 60)
				return usage_error("--interval wants seconds (0.01 .. 60)");
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
	struct error err = {0};
	struct state st;
	if (sim_pick(given, sim, sizeof(sim), &err) < 0 || load_state(sim, &st, &err) < 0) {
		print_error(&err);
		return 1;
	}
	struct reach_node *nodes = calloc(st.nnodes + 1, sizeof(*nodes));
	int rc = 1;
	unsigned opened = 0;
	if (!nodes) {
		fail("reach: out of memory");
		goto out;
	}
	for (; opened < st.nnodes; opened++) {
		char path[PATH_MAX];
		state_netns_path(path, sizeof(path), sim, st.nodes[opened].name);
		nodes[opened].name = st.nodes[opened].name;
		nodes[opened].addr4 = st.nodes[opened].addr4;
		nodes[opened].netns_fd = netns_open(path, &err);
		if (nodes[opened].netns_fd < 0) {
			error_prefix(&err, "reach: node %s", st.nodes[opened].name);
			print_error(&err);
			goto out;
		}
	}
	struct reach_result res;
	if (reach_run(nodes, st.nnodes, timeout, interval, &res, &err) < 0) {
		error_prefix(&err, "reach");
		print_error(&err);
		goto out;
	}
	if (!quiet)
		reach_print_matrix(stdout, nodes, &res);
	printf("reach %s: %u/%u pairs in %.1f s%s\n", sim, res.pairs_ok, res.pairs, res.seconds,
	       res.pairs_ok == res.pairs ? "" : " (timed out)");
	rc = res.pairs_ok == res.pairs ? 0 : 1;
	reach_result_free(&res);
out:
	for (unsigned i = 0; i < opened; i++)
		close(nodes[i].netns_fd);
	free(nodes);
	state_free(&st);
	return rc;
}

const struct verb verb_reach = {"reach", cmd_reach, "reach [-s SIM] [--timeout S] [--interval S] [-q]",
		"All-pairs ping matrix: every node sends ICMP echo to every other node's\n"
		"address, from inside its own network namespace, until all pairs answered or\n"
		"the timeout passed.  Exit status 0 when every node reaches every node.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"      --timeout S  give up after S seconds (default 10)\n"
		"      --interval S one echo per unanswered pair every S seconds (default 1)\n"
		"  -q, --quiet      only the summary line\n"};
