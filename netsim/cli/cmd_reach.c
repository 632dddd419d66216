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
#include "sim/live.h"
#include "sim/sim.h"
#include "tools/reach.h"

enum { OPT_WATCH = OPT_VERB_BASE, OPT_COUNT, OPT_ADDRS };

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One JSON object: the matrix (null on the diagonal), round-trip times (null
 * where no answer came), and the counts. */
static void print_json(FILE *f, const char *sim, const struct reach_sim *rs,
		       const struct reach_result *res, unsigned round)
{
	const struct reach_node *nodes = rs->nodes;
	unsigned n = res->n;
	fputs("{\"sim\":", f);
	json_string(f, sim);
	if (round)
		fprintf(f, ",\"round\":%u", round);
	fprintf(f, ",\"seconds\":%.3f,\"pairs_ok\":%u,\"pairs\":%u,\"nodes\":[", res->seconds,
		res->pairs_ok, res->pairs);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_string(f, nodes[i].name);
	}
	fputs("],\"matrix\":[", f);
	for (unsigned s = 0; s < n; s++) {
		fputs(s ? ",[" : "[", f);
		for (unsigned d = 0; d < n; d++)
			fprintf(f, "%s%s", d ? "," : "",
				!reach_sim_probed(rs, s, d) ? "null" :
				res->reached[(size_t)s * n + d] ? "true" : "false");
		fputc(']', f);
	}
	fputs("],\"rtt_ms\":[", f);
	for (unsigned s = 0; s < n; s++) {
		fputs(s ? ",[" : "[", f);
		for (unsigned d = 0; d < n; d++) {
			size_t k = (size_t)s * n + d;
			if (d)
				fputc(',', f);
			if (reach_sim_probed(rs, s, d) && res->reached[k])
				fprintf(f, "%.3f", res->rtt_ms[k]);
			else
				fputs("null", f);
		}
		fputc(']', f);
	}
	fputs("]}\n", f);
	fflush(f);
}

static void print_summary(const char *sim, const struct reach_result *res, bool watching)
{
	printf("reach %s: %u/%u pairs in %.1f s%s\n", sim, res->pairs_ok, res->pairs,
	       res->seconds,
	       res->pairs_ok == res->pairs ? "" : watching ? " (not all answered)" : " (timed out)");
}

/* Sleep until `until` (monotonic seconds) or a signal. */
static void sleep_until(double until)
{
	double left = until - monotonic_seconds();
	if (left <= 0)
		return;
	struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
	nanosleep(&ts, NULL); /* EINTR on Ctrl-C: the caller checks `interrupted` */
}

/* --watch: every round sends one echo per pair and waits one interval for the
 * answers, so the matrix shows who reaches whom right now. */
static int watch(const char *sim, const struct reach_sim *rs, double interval, unsigned count,
		 bool json, bool quiet)
{
	struct sigaction sa = {.sa_handler = on_interrupt}, old_int, old_term;
	sigemptyset(&sa.sa_mask); /* no SA_RESTART: Ctrl-C cuts the wait short */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	bool tty = !json && isatty(STDOUT_FILENO);
	int rc = 130; /* interrupted before the first round finished */
	struct error err = {0};
	for (unsigned round = 1; !interrupted && (count == 0 || round <= count); round++) {
		double started = monotonic_seconds();
		struct reach_result res;
		if (reach_sim_run(rs, interval, interval, &res, &err) < 0) {
			error_prefix(&err, "reach");
			print_error(&err);
			rc = 1;
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
		rc = res.pairs_ok == res.pairs ? 0 : 1;
		reach_result_free(&res);
		if (count == 0 || round < count)
			sleep_until(started + interval);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

static int cmd_reach(int argc, char **argv)
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
	unsigned long count = 0;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "+s:q", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'q': quiet = true; break;
		case OPT_JSON: json = true; break;
		case OPT_WATCH: watching = true; break;
		case OPT_ADDRS: addrs = optarg; break;
		case OPT_TIMEOUT:
			if (parse_seconds_option(optarg, 1e-3, 86400, &timeout) < 0)
				return usage_error("--timeout wants seconds (0 < S <= 86400)");
			timeout_given = true;
			break;
		case OPT_INTERVAL:
			if (parse_seconds_option(optarg, 0.01, 60, &interval) < 0)
				return usage_error("--interval wants seconds (0.01 .. 60)");
			break;
		case OPT_COUNT:
			count = strtoul(optarg, &end, 10);
			if (*end || end == optarg || optarg[0] == '-' || count < 1 || count > 1000000)
				return usage_error("--count wants a number of rounds (1 .. 1000000)");
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind < argc)
		given = argv[optind++];
	if (optind != argc)
		return usage_error("too many arguments");
	if (watching && timeout_given)
		return usage_error("--watch rounds last one --interval; --timeout does not apply");
	if (count && !watching)
		return usage_error("--count goes with --watch");
	if (need_root())
		return 1;
	char sim[TOPO_SIM_MAX + 1];
	struct error err = {0};
	struct reach_sim rs;
	if (sim_pick(given, sim, sizeof(sim), &err) < 0 || reach_sim_open(sim, &rs, &err) < 0) {
		error_prefix(&err, "reach");
		print_error(&err);
		return 1;
	}
	int rc = 1;
	if (addrs && reach_sim_set_targets(&rs, addrs, 0, &err) < 0) {
		print_error(&err);
		goto out;
	}
	if (watching) {
		rc = watch(sim, &rs, interval, (unsigned)count, json, quiet);
		goto out;
	}
	struct reach_result res;
	if (reach_sim_run(&rs, timeout, interval, &res, &err) < 0) {
		error_prefix(&err, "reach");
		print_error(&err);
		goto out;
	}
	if (json) {
		print_json(stdout, sim, &rs, &res, 0);
	} else {
		if (!quiet)
			reach_sim_print(stdout, &rs, &res);
		print_summary(sim, &res, false);
	}
	rc = res.pairs_ok == res.pairs ? 0 : 1;
	reach_result_free(&res);
out:
	reach_sim_close(&rs);
	return rc;
}

const struct verb verb_reach = {"reach", cmd_reach,
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
		.in_vm = VERB_IN_VM};
