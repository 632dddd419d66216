/* netsim reach: the all-pairs ping matrix, once or (--watch) round after round. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sim/json_out.h"
#include "sim/sim.h"
#include "tools/reach.h"
#include "util.h"

enum { OPT_WATCH = OPT_VERB_BASE, OPT_COUNT, OPT_ADDRS };

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* One JSON object: the matrix (null on the diagonal), round-trip times (null
 * where no answer came), and the counts. */
static void print_json(FILE *f, const char *sim, const struct reach_sim *rs,
		       const struct reach_result *res, unsigned round)
{
	const struct reach_node *nodes = rs->nodes;
	unsigned n = res->n;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "sim", json_object_new_string(sim));
	if (round)
		json_object_object_add(o, "round", json_object_new_int64(round));
	json_object_object_add(o, "seconds", json_out_double("%.3f", res->seconds));
	json_object_object_add(o, "pairs_ok", json_object_new_int64(res->pairs_ok));
	json_object_object_add(o, "pairs", json_object_new_int64(res->pairs));
	struct json_object *names = json_object_new_array();
	for (unsigned i = 0; i < n; i++)
		json_object_array_add(names, json_object_new_string(nodes[i].name));
	json_object_object_add(o, "nodes", names);
	struct json_object *matrix = json_object_new_array(), *rtt = json_object_new_array();
	for (unsigned s = 0; s < n; s++) {
		struct json_object *mrow = json_object_new_array(), *rrow = json_object_new_array();
		for (unsigned d = 0; d < n; d++) {
			size_t k = (size_t)s * n + d;
			/* NULL is JSON null: the diagonal (a pair not probed), and no answer */
			bool probed = reach_sim_probed(rs, s, d);
			json_object_array_add(mrow, !probed ? NULL : json_object_new_boolean(res->reached[k]));
			json_object_array_add(rrow, probed && res->reached[k]
							    ? json_out_double("%.3f", res->rtt_ms[k])
							    : NULL);
		}
		json_object_array_add(matrix, mrow);
		json_object_array_add(rtt, rrow);
	}
	json_object_object_add(o, "matrix", matrix);
	json_object_object_add(o, "rtt_ms", rtt);
	json_out_write(f, o);
	fflush(f);
}

static void print_summary(const char *sim, const struct reach_result *res, bool watching)
{
	printf("reach %s: %u/%u pair%s in %.1f s%s\n", sim, res->pairs_ok, res->pairs,
	       plural(res->pairs), res->seconds,
	       res->pairs_ok == res->pairs ? "" : watching ? " (not all answered)" : " (timed out)");
}

/* Sleep until `until` (monotonic seconds) or a signal. */
static void sleep_until(double until)
{
	double left = until - now_seconds();
	if (left <= 0)
		return;
	struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
	nanosleep(&ts, NULL); /* EINTR on Ctrl-C: the caller checks `interrupted` */
}

/* --watch: every round sends one echo per pair and waits one interval for the
 * answers, so the matrix shows who reaches whom right now. */
static int watch(const char *sim, const struct reach_sim *rs, double interval, unsigned count,
		 bool json, bool quiet, struct error *err)
{
	struct sigaction sa = {.sa_handler = on_interrupt}, old_int, old_term;
	sigemptyset(&sa.sa_mask); /* no SA_RESTART: Ctrl-C cuts the wait short */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	bool tty = !json && isatty(STDOUT_FILENO);
	int rc = EXIT_INTERRUPTED; /* before the first round finished */
	for (unsigned round = 1; !interrupted && (count == 0 || round <= count); round++) {
		double started = now_seconds();
		struct reach_result res;
		if (reach_sim_run(rs, interval, interval, &res, err) < 0) {
			error_prefix(err, "reach");
			rc = EXIT_FAIL;
			break;
		}
		if (interrupted && round > 1) {
			/* a round cut short by Ctrl-C would show pairs as lost */
			reach_result_free(&res);
			break;
		}
		if (json) {
			print_json(stdout, sim, rs, &res, round);
		} else {
			if (tty)
				fputs("\033[H\033[J", stdout); /* home, clear: redraw in place */
			if (tty || !quiet)
				printf("round %u%s\n", round,
				       tty ? " (Ctrl-C stops)" : "");
			if (!quiet)
				reach_sim_print(stdout, rs, &res);
			print_summary(sim, &res, true);
			fflush(stdout);
		}
		rc = res.pairs_ok == res.pairs ? EXIT_OK : EXIT_FAIL;
		reach_result_free(&res);
		if (count == 0 || round < count)
			sleep_until(started + interval);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

static int cmd_reach(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"timeout", required_argument, NULL, OPT_TIMEOUT},
					      {"interval", required_argument, NULL, OPT_INTERVAL},
					      {"watch", no_argument, NULL, OPT_WATCH},
					      {"count", required_argument, NULL, OPT_COUNT},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"quiet", no_argument, NULL, 'q'},
					      {"addrs", required_argument, NULL, OPT_ADDRS},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL, *addrs = NULL;
	double timeout = 10, interval = 1;
	bool quiet = false, json = false, watching = false, timeout_given = false;
	unsigned long long count = 0;
	int c;
	while ((c = verb_getopt(argc, argv, "s:q", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'q': quiet = true; break;
		case OPT_JSON: json = true; break;
		case OPT_WATCH: watching = true; break;
		case OPT_ADDRS: addrs = optarg; break;
		case OPT_TIMEOUT:
			if (parse_seconds_option(optarg, 1e-3, 86400, &timeout) < 0)
				return verb_usage(err, "--timeout wants seconds (0 < S <= 86400)");
			timeout_given = true;
			break;
		case OPT_INTERVAL:
			if (parse_seconds_option(optarg, 0.01, 60, &interval) < 0)
				return verb_usage(err, "--interval wants seconds (0.01 .. 60)");
			break;
		case OPT_COUNT:
			if (parse_unsigned(optarg, 1, 1000000, &count) < 0)
				return verb_usage(err, "--count wants a number of rounds (1 .. 1000000)");
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind < argc)
		given = argv[optind++];
	if (optind != argc)
		return verb_usage(err, "too many arguments");
	if (watching && timeout_given)
		return verb_usage(err, "--watch rounds last one --interval; --timeout does not apply");
	if (count && !watching)
		return verb_usage(err, "--count goes with --watch");
	if (require_root(err))
		return EXIT_FAIL;
	char sim[TOPO_SIM_MAX + 1];
	struct reach_sim rs;
	if (sim_pick(given, sim, sizeof(sim), err) < 0 || reach_sim_open(sim, &rs, err) < 0) {
		error_prefix(err, "reach");
		return EXIT_FAIL;
	}
	int rc = EXIT_FAIL;
	if (addrs && reach_sim_set_targets(&rs, addrs, 0, err) < 0)
		goto out;
	if (watching) {
		rc = watch(sim, &rs, interval, (unsigned)count, json, quiet, err);
		goto out;
	}
	struct reach_result res;
	if (reach_sim_run(&rs, timeout, interval, &res, err) < 0) {
		error_prefix(err, "reach");
		goto out;
	}
	if (json) {
		print_json(stdout, sim, &rs, &res, 0);
	} else {
		if (!quiet)
			reach_sim_print(stdout, &rs, &res);
		print_summary(sim, &res, false);
	}
	rc = res.pairs_ok == res.pairs ? EXIT_OK : EXIT_FAIL;
	reach_result_free(&res);
out:
	reach_sim_close(&rs);
	return rc;
}

const struct verb verb_reach = {"reach",
		"reach [-s SIM] [--addrs all|LIST|FILE] [--timeout S] [--interval S] [--watch [--count N]] [--json] [-q]",
		"All-pairs ping matrix: every node sends ICMP echo to every other node's\n"
		"address, from inside its own network namespace, until all pairs answered or\n"
		"the timeout passed.  Exit status 0 when every node reaches every node.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"      --addrs all|LIST|FILE  probe the lab's own addresses instead of\n"
		"                   netsim's: all = every IPv4 address on the nodes'\n"
		"                   interfaces (not 127/8, 169.254/16, netsim's own); or\n"
		"                   addresses, comma-separated or one a line in FILE.\n"
		"                   Every node probes every one that is not its own\n"
		"      --timeout S  give up after S seconds (default 10)\n"
		"      --interval S one echo per unanswered pair every S seconds (default 1)\n"
		"      --watch      repeat: every --interval one echo per pair, and the matrix\n"
		"                   of who answered within that interval; redrawn in place on\n"
		"                   a terminal, one block per round otherwise; until Ctrl-C.\n"
		"                   Exit status of the last round.\n"
		"      --count N    with --watch: stop after N rounds\n"
		"      --json       one JSON object (one per round with --watch): nodes,\n"
		"                   matrix (true/false, null on the diagonal), rtt_ms,\n"
		"                   pairs_ok, pairs, seconds\n"
		"  -q, --quiet      only the summary line\n",
		.in_vm = VERB_IN_VM,
	.run = cmd_reach};
