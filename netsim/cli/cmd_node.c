/* netsim node: stop, start or restart one node while the rest of the sim runs. */
#include <getopt.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sim/json_out.h"
#include "sim/node.h"
#include "sim/sim.h"
#include "tools/air.h"
#include "topo/topo.h"
#include "util.h"

enum { OPT_RESET = OPT_VERB_BASE, OPT_OVER };

/* node NODE move X,Y[,Z] [--over TIME]: through the sim's medium (tools/air.h). */
static int node_move(const char *given, const char *node, const char *where, double over_s,
		     struct error *err)
{
	double pos[3];
	if (!topo_parse_pos(where, pos))
		return verb_usage(err, "move: `%.64s` is no position: give X,Y or X,Y,Z in metres",
				  where);
	if (require_root(err))
		return EXIT_FAIL;
	char sim[TOPO_SIM_MAX + 1];
	if (sim_pick(given, sim, sizeof(sim), err) < 0 ||
	    air_move(sim, node, pos, (uint64_t)(over_s * 1000 + 0.5), err) < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}

static int cmd_node(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"reset", no_argument, NULL, OPT_RESET},
					      {"timeout", required_argument, NULL, OPT_TIMEOUT},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"over", required_argument, NULL, OPT_OVER},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	struct node_options opt = {0};
	bool json = false;
	double over_s = 0;
	bool over_given = false;
	int c;
	/* no '+': options may follow the action (`node n2 restart --reset`) */
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_RESET: opt.reset = true; break;
		case OPT_JSON: json = true; break;
		case OPT_TIMEOUT: {
			double s;
			if (parse_seconds_option(optarg, 1e-3, 3600, &s) < 0)
				return verb_usage(err, "--timeout wants seconds (0 < S <= 3600)");
			opt.stop_grace_ms = (unsigned)(s * 1000 + 0.5);
			if (opt.stop_grace_ms == 0)
				opt.stop_grace_ms = 1;
			break;
		}
		case OPT_OVER:
			if (parse_seconds_option(optarg, 0, 86400, &over_s) < 0)
				return verb_usage(err, "--over wants a time (0 to 86400 s), e.g. 30s");
			over_given = true;
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (argc - optind >= 2 && strcmp(argv[optind + 1], "move") == 0) {
		if (argc - optind != 3)
			return verb_usage(err, "move: expected NODE move X,Y[,Z]");
		return node_move(given, argv[optind], argv[optind + 2], over_s, err);
	}
	if (over_given)
		return verb_usage(err, "--over goes with move");
	if (argc - optind != 2)
		return verb_usage(err, "expects NODE and one of stop, start, restart");
	const char *node = argv[optind], *action = argv[optind + 1];
	int (*run)(const char *, const char *, const struct node_options *,
		   struct node_result *, struct error *);
	if (strcmp(action, "stop") == 0)
		run = node_stop;
	else if (strcmp(action, "start") == 0)
		run = node_start;
	else if (strcmp(action, "restart") == 0)
		run = node_restart;
	else
		return verb_usage(err, "unknown action '%s' (stop, start or restart)", action);
	if (opt.reset && run == node_stop)
		return verb_usage(err, "--reset goes with start or restart");
	if (require_root(err))
		return EXIT_FAIL;

	char sim[TOPO_SIM_MAX + 1];
	struct node_result res;
	double started = now_seconds();
	if (sim_pick(given, sim, sizeof(sim), err) < 0 ||
	    run(sim, node, &opt, &res, err) < 0)
		return EXIT_FAIL;
	double took = now_seconds() - started;
	if (json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "sim", json_object_new_string(sim));
		json_object_object_add(o, "node", json_object_new_string(node));
		json_object_object_add(o, "state", json_object_new_string(res.new_pid > 0 ? "running"
											    : "stopped"));
		json_object_object_add(o, "stopped_pid", json_object_new_int(res.old_pid));
		json_object_object_add(o, "killed", json_object_new_boolean(res.killed));
		json_object_object_add(o, "pid", json_object_new_int(res.new_pid));
		json_object_object_add(o, "seconds", json_out_double("%.3f", took));
		json_out_write(stdout, o);
		return EXIT_OK;
	}
	if (run != node_start) {
		if (res.old_pid > 0)
			printf("node %s: stopped pid %d (%s)\n", node, (int)res.old_pid,
			       res.killed ? "SIGKILL after the grace time" : "SIGTERM");
		else
			printf("node %s: was not running\n", node);
	}
	if (res.new_pid > 0)
		printf("node %s: started pid %d%s\n", node, (int)res.new_pid,
		       opt.reset ? " on a fresh overlay" : "");
	printf("node %s %s in %.2f s\n", node, res.new_pid > 0 ? "running" : "stopped", took);
	return 0;
}

const struct verb verb_node = {"node",
		"node [-s SIM] NODE stop|start|restart [--reset] [--timeout S] [--json] | node [-s SIM] NODE move X,Y[,Z] [--over TIME]",
		"Stop, start or restart one node while the rest of the sim keeps running;\n"
		"move a member of radio segments.\n\n"
		"  stop     SIGTERM to the node's PID 1 (meshlite's init stops babeld and\n"
		"           exits; OpenWrt's procd handles it too), SIGKILL when it is still\n"
		"           there after the grace time.  The node's network namespace stays:\n"
		"           its interfaces, addresses and links to its neighbours survive,\n"
		"           but nothing runs in it (no routing daemon, no replies from\n"
		"           programs).  `status` shows it as stopped.  Stopping a stopped\n"
		"           node is not an error.\n"
		"  start    start the node's init again, as `up` did (same rootfs, files=,\n"
		"           init=, hostname and environment), in the same network namespace\n"
		"           and on the same overlay: files the node changed are still there.\n"
		"           A running node is refused.\n"
		"  restart  stop (when running), then start.\n"
		"  move     put the node at X,Y[,Z] (metres) on every radio segment it is a\n"
		"           member of (docs/topology.md, \"Radio segments\"): the medium\n"
		"           recomputes its pairs at once (`netsim air` shows them); with\n"
		"           --over TIME it walks there in a straight line at constant speed.\n\n"
		"The sim's lock is held throughout: a concurrent node command, `up` or `down`\n"
		"of the same sim is refused with \"being changed by another netsim process\".\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"      --reset      (start, restart) wipe the node's overlay upper dir first: it\n"
		"                   starts from the pristine rootfs, its changes are lost\n"
		"      --timeout S  (stop, restart) grace time between SIGTERM and SIGKILL in\n"
		"                   seconds (default 5)\n"
		"      --json       one JSON object: sim, node, state, stopped_pid, killed,\n"
		"                   pid, seconds\n"
		"      --over TIME  (move) how long the walk takes (30s, 500ms; default: jump)\n",
		.in_vm = VERB_IN_VM,
	.run = cmd_node};
