/* netsim capture: packets of a node's interface into a pcap file or a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "net/capture.h"
#include "sim/live.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "topo/topo.h"
#include "topo/units.h"

enum { OPT_DURATION = OPT_VERB_BASE };

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The interfaces the topology gives NODE, for a hint when one is unknown. */
static void topology_ifaces(const char *sim, const char *node, char *buf, size_t len)
{
	struct topo t;
	struct error err;
	buf[0] = '\0';
	if (sim_topology(sim, &t, &err) < 0)
		return;
	int i = topo_find_node(&t, node);
	for (unsigned l = 0; i >= 0 && l < t.nlinks; l++) {
		const struct topo_link *lk = &t.links[l];
		if (lk->a.node == (unsigned)i)
			snprintf(buf + strlen(buf), len - strlen(buf), " %s", lk->a.ifname);
		if (lk->b.node == (unsigned)i)
			snprintf(buf + strlen(buf), len - strlen(buf), " %s", lk->b.ifname);
	}
	for (unsigned s = 0; i >= 0 && s < t.nsegments; s++)
		for (unsigned m = 0; m < t.segments[s].nmembers; m++)
			if (t.segments[s].members[m].node == (unsigned)i)
				snprintf(buf + strlen(buf), len - strlen(buf), " %s",
					 t.segments[s].members[m].ifname);
	topo_free(&t);
}

static int cmd_capture(int argc, char **argv)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"write", required_argument, NULL, 'w'},
					      {"count", required_argument, NULL, 'c'},
					      {"duration", required_argument, NULL, OPT_DURATION},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL, *path = NULL;
	unsigned long count = 0;
	uint64_t duration_us = 0;
	double duration_s;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "s:w:c:", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'w': path = optarg; break;
		case 'c': {
			char *end;
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || count == 0 ||
			    count > INT_MAX)
				return usage_error("-c %s: expected a packet count from 1 to %d",
						   optarg, INT_MAX);
			break;
		}
		case OPT_DURATION:
			if (parse_seconds_option(optarg, 1e-6, 1e9, &duration_s) < 0 ||
			    !(duration_us = (uint64_t)(duration_s * 1e6 + 0.5)))
				return usage_error("--duration %s: expected a time above 0 "
						   "(10, 10s, 500ms)", optarg);
			break;
		case OPT_JSON: json = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("expects NODE[:IF]");
	if (json && (!path || strcmp(path, "-") == 0))
		return usage_error("--json needs -w FILE (stdout is for the JSON)");
	const char *target = argv[optind++];

	/* The rest is a pcap-filter expression, as with tcpdump. */
	cleanup_free char *filter = NULL;
	if (optind < argc) {
		size_t len = 0;
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		filter = malloc(len);
		if (!filter)
			return fail("capture: out of memory");
		filter[0] = '\0';
		for (int i = optind; i < argc; i++) {
			if (i > optind)
				strcat(filter, " ");
			strcat(filter, argv[i]);
		}
	}

	/* NODE[:IF] by the topology's own rule; lo is fine, it exists in every node */
	char node[TOPO_NAME_MAX + 1], ifname[IFNAMSIZ];
	struct error split_err;
	if (topo_split_endpoint(target, 0, node, ifname, &split_err) < 0)
		return usage_error("`%s`: expected NODE or NODE:IF: %s", target, split_err.msg);
	if (!ifname[0])
		snprintf(ifname, sizeof(ifname), "any");

	bool to_stdout = path ? strcmp(path, "-") == 0 : true;
	if (!path && isatty(STDOUT_FILENO))
		return usage_error("will not write pcap to a terminal: give -w FILE, or pipe "
				   "it (| wireshark -k -i -)");
	if (need_root())
		return 1;

	char sim[TOPO_SIM_MAX + 1], netns[PATH_MAX], who[64];
	struct error err = {0};
	if (sim_pick(given, sim, sizeof(sim), &err) < 0) {
		print_error(&err);
		return 1;
	}
	if (state_netns_path(netns, sizeof(netns), sim, node) < 0 || access(netns, F_OK) < 0)
		return fail("capture: sim %s has no node %s", sim, node);
	snprintf(who, sizeof(who), "%s:%s", node, ifname);

	pcap_t *p = NULL;
	if (capture_open(netns, ifname, filter, who, &p, &err) < 0) {
		if (err.errnum == ENODEV) {
			char ifs[256];
			topology_ifaces(sim, node, ifs, sizeof(ifs));
			if (ifs[0])
				snprintf(err.msg + strlen(err.msg), sizeof(err.msg) - strlen(err.msg),
					 " (its links:%s; or `any`)", ifs);
		}
		print_error(&err);
		return 1;
	}

	/* Our own stream for stdout: main() made stdout line buffered, which would
	 * split binary pcap at every 0x0a byte. */
	pcap_dumper_t *dumper = NULL;
	if (to_stdout) {
		int fd = dup(STDOUT_FILENO);
		FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
		if (!f && fd >= 0)
			close(fd);
		dumper = f ? pcap_dump_fopen(p, f) : NULL;
		if (f && !dumper)
			fclose(f);
	} else {
		dumper = pcap_dump_open(p, path);
	}
	if (!dumper) {
		/* pcap's message for a file already names it */
		if (to_stdout)
			fail("capture: stdout: %s", strerror(errno));
		else
			fail("capture: %s", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}

	/* Stop signals are only delivered while waiting for packets (ppoll's mask),
	 * so the output is always closed cleanly; a reader that goes away is a
	 * write error (EPIPE), not a death by SIGPIPE. */
	sigset_t block, wait_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGHUP);
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fprintf(stderr, "netsim: capturing on %s in sim %s%s%s\n", who, sim,
		filter ? ", filter " : "", filter ? filter : "");
	struct capture_limits lim = {.count = count,
				     .duration_us = duration_us,
				     .flush_each = to_stdout,
				     .stop = &stop_requested,
				     .wait_mask = &wait_mask};
	unsigned long captured = 0;
	int r = capture_run(p, dumper, &lim, &captured, &err);
	struct pcap_stat stats;
	bool have_stats = pcap_stats(p, &stats) == 0;
	pcap_dump_close(dumper);
	pcap_close(p);
	if (r < 0 && r != -EPIPE)
		print_error(&err);
	if (have_stats && stats.ps_drop)
		fprintf(stderr, "%lu packets captured (%u dropped by the kernel)\n", captured,
			stats.ps_drop);
	else
		fprintf(stderr, "%lu packets captured\n", captured);
	if (json) {
		printf("{\"sim\":");
		json_string(stdout, sim);
		printf(",\"node\":");
		json_string(stdout, node);
		printf(",\"interface\":");
		json_string(stdout, ifname);
		printf(",\"file\":");
		json_string(stdout, path);
		printf(",\"packets\":%lu,\"dropped\":%u}\n", captured,
		       have_stats ? stats.ps_drop : 0);
	}
	return r < 0 && r != -EPIPE ? 1 : 0;
}

const struct verb verb_capture = {"capture", cmd_capture,
	"capture [-s SIM] NODE[:IF] [-w FILE.pcap] [-c COUNT] [--duration S] [--json] [FILTER...]",
	"Capture the packets of a node's interface (libpcap, inside the node's network\n"
	"namespace) into a pcap file that Wireshark and tcpdump read.\n\n"
	"NODE alone captures on `any`: every interface of the node, loopback included,\n"
	"with Linux cooked headers (a packet routed through the node shows up once on\n"
	"the way in and once on the way out).  NODE:IF captures one interface with\n"
	"its Ethernet headers.  The interface is not put into promiscuous mode.\n"
	"FILTER is a pcap-filter(7) expression, as for tcpdump (`icmp`, `udp port 6696`).\n\n"
	"Without -w, pcap goes to stdout when it is not a terminal, flushed after every\n"
	"packet, for a live view:\n\n"
	"    netsim capture n2:eth0 | wireshark -k -i -\n\n"
	"Stops after COUNT packets, after S seconds, or on Ctrl-C/SIGTERM; the file is\n"
	"always closed cleanly and \"N packets captured\" goes to stderr.\n\n"
	"  -s, --sim SIM        the sim, when more than one is up\n"
	"  -w, --write FILE     write the pcap to FILE (`-`: stdout)\n"
	"  -c, --count COUNT    stop after COUNT packets\n"
	"      --duration S     stop after S seconds (also 500ms, 2s)\n"
	"      --json           (with -w FILE) at the end, one JSON object on stdout:\n"
	"                       sim, node, interface, file, packets, dropped\n",
		.in_vm = VERB_IN_VM_CAPTURE};
