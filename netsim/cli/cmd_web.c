/* netsim web: serve the live view of a sim on 127.0.0.1 until SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "sim/sim.h"
#include "topo/topo.h"
#include "tools/web.h"
#include "util.h"

enum { OPT_PORT = OPT_VERB_BASE };

static int cmd_web(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"port", required_argument, NULL, OPT_PORT},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	unsigned long long port = 8080;
	int c;
	while ((c = verb_getopt(argc, argv, "s:p:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'p':
		case OPT_PORT:
			if (parse_unsigned(optarg, 0, 65535, &port) < 0)
				return verb_usage(err, "--port: not a port number: %s", optarg);
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind != argc)
		return verb_usage(err, "takes no arguments");
	if (require_root(err))
		return EXIT_FAIL;
	char sim[TOPO_SIM_MAX + 1];
	if (sim_pick(given, sim, sizeof(sim), err) < 0)
		return EXIT_FAIL;
	/* Blocked before the server's thread exists, so it inherits the mask and
	 * the signals wait here for sigwait. */
	sigset_t stop;
	stop_signals_fill(&stop);
	stop_signals_block(NULL);
	struct web_server *ws;
	if (web_start(sim, (uint16_t)port, &ws, err) < 0) {
		error_prefix(err, "web");
		return EXIT_FAIL;
	}
	printf("netsim web: http://127.0.0.1:%u/ (sim %s)\n", web_port(ws), sim);
	fflush(stdout);
	int sig;
	while (sigwait(&stop, &sig) != 0)
		;
	web_stop(ws);
	return 0;
}

const struct verb verb_web = {"web", "web [-s SIM] [-p|--port PORT]",
		"Serve a live view of a running sim to a browser: the topology as a graph\n"
		"(nodes coloured by state, links by state and quality, segments as hubs),\n"
		"refreshed every second; click a node for its addresses and routes.\n"
		"Listens on 127.0.0.1 only and runs until SIGINT or SIGTERM.\n\n"
		"  -s, --sim SIM      the sim (may be left out when only one is up)\n"
		"  -p, --port PORT    TCP port on 127.0.0.1 (default 8080; 0 picks a free\n"
		"                     one, printed on the first line)\n\n"
		"JSON API: GET /api/status (as `netsim status --json`), GET /api/node/NODE\n"
		"(the node's addresses and routes as `ip -j` prints them), GET /api/air (the\n"
		"radio medium's matrix, as `netsim air --json`).  See docs/web.md.\n",
		.in_vm = VERB_NOT_IN_VM,
	.run = cmd_web};
