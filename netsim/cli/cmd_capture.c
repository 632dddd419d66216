/* netsim capture: packets of a node's interface into a pcap file or a pipe. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "sim/json_out.h"
#include "tools/capture.h"
#include "topo/topo.h"
#include "topo/units.h"
#include "util.h"

enum { OPT_DURATION = OPT_VERB_BASE, OPT_DATA };

/* --json: one object with the same keys and types as ever (docs/cli.md). */
static void print_json(const struct capture_summary *sum, const char *path)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "sim", json_object_new_string(sum->sim));
	json_object_object_add(o, "node", json_object_new_string(sum->node));
	json_object_object_add(o, "interface", json_object_new_string(sum->ifname));
	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "packets", json_object_new_int64((int64_t)sum->packets));
	json_object_object_add(o, "dropped", json_object_new_int64(sum->dropped));
	json_out_write(stdout, o);
	json_object_put(o);
}

/* The rest of argv is a pcap-filter expression, as with tcpdump: NULL when none. */
static char *join_filter(int argc, char **argv)
{
	size_t len = 1;
	if (argc == 0)
		return NULL;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *filter = malloc(len);
	if (!filter)
		return NULL;
	filter[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(filter, " ");
		strcat(filter, argv[i]);
	}
	return filter;
}

static int cmd_capture(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"write", required_argument, NULL, 'w'},
					      {"count", required_argument, NULL, 'c'},
					      {"duration", required_argument, NULL, OPT_DURATION},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"data", no_argument, NULL, OPT_DATA},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	struct capture_request req = {0};
	double duration_s;
	bool json = false;
	int c;
	while ((c = verb_getopt(argc, argv, "s:w:c:", opts)) != -1) {
		switch (c) {
		case 's': req.sim = optarg; break;
		case 'w': req.path = optarg; break;
		case 'c': {
			unsigned long long count;
			if (parse_unsigned(optarg, 1, INT_MAX, &count) < 0)
				return verb_usage(err, "-c %s: expected a packet count from 1 to %d",
						  optarg, INT_MAX);
			req.count = (unsigned long)count;
			break;
		}
		case OPT_DURATION:
			if (parse_seconds_option(optarg, 1e-6, 1e9, &duration_s) < 0 ||
			    !(req.duration_us = (uint64_t)(duration_s * 1e6 + 0.5)))
				return verb_usage(err, "--duration %s: expected a time above 0 "
						  "(10, 10s, 500ms)", optarg);
			break;
		case OPT_JSON: json = true; break;
		case OPT_DATA: req.data = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind >= argc)
		return verb_usage(err, "expects NODE[:IF]");
	if (json && (!req.path || strcmp(req.path, "-") == 0))
		return verb_usage(err, "--json needs -w FILE (stdout is for the JSON)");
	const char *target = argv[optind++];
	cleanup_free char *filter = join_filter(argc - optind, argv + optind);
	if (optind < argc && !filter)
		return verb_fail(err, "capture: out of memory");
	req.filter = filter;

	/* NODE[:IF] by the topology's own rule; lo is fine, it exists in every node */
	char node[TOPO_NAME_MAX + 1], ifname[IFNAMSIZ];
	struct error split_err;
	if (topo_split_endpoint(target, 0, node, ifname, &split_err) < 0)
		return verb_usage(err, "`%s`: expected NODE or NODE:IF: %s", target, split_err.msg);
	if (!ifname[0])
		snprintf(ifname, sizeof(ifname), "any");
	req.node = node;
	req.ifname = ifname;

	if (!req.path && isatty(STDOUT_FILENO))
		return verb_usage(err, "will not write pcap to a terminal: give -w FILE, or pipe "
				  "it (| wireshark -k -i -)");
	if (require_root(err))
		return EXIT_FAIL;

	struct capture_session *session;
	struct capture_summary sum;
	if (capture_start(&req, &session, &sum, err) < 0)
		return EXIT_FAIL;
	fprintf(stderr, "netsim: capturing on %s in sim %s%s%s%s\n", sum.who, sum.sim,
		sum.wifi ? " (802.11 frames with radiotap headers; --data for its data frames)" : "",
		filter ? ", filter " : "", filter ? filter : "");
	int r = capture_finish(session, &sum, err);
	if (r == -EPIPE)
		error_clear(err); /* the reader went away: a normal end */
	if (sum.dropped)
		fprintf(stderr, "%lu packets captured (%u dropped by the kernel)\n", sum.packets,
			sum.dropped);
	else
		fprintf(stderr, "%lu packets captured\n", sum.packets);
	if (json)
		print_json(&sum, req.path);
	return r < 0 && r != -EPIPE ? EXIT_FAIL : EXIT_OK;
}

const struct verb verb_capture = {"capture",
	"capture [-s SIM] NODE[:IF] [-w FILE.pcap] [-c COUNT] [--duration S] [--data] [--json] [FILTER...]",
	"Capture the packets of a node's interface (libpcap, inside the node's network\n"
	"namespace) into a pcap file that Wireshark and tcpdump read.\n\n"
	"NODE alone captures on `any`: every interface of the node, loopback included,\n"
	"with Linux cooked headers (a packet routed through the node shows up once on\n"
	"the way in and once on the way out).  NODE:IF captures one interface with\n"
	"its Ethernet headers.  The interface is not put into promiscuous mode.\n"
	"An interface on a medium=wifi segment gives its 802.11 frames with radiotap\n"
	"headers (sent and received, management and control included), through a\n"
	"monitor interface IFmon that netsim adds to the node's phy for the capture\n"
	"and removes after it; --data captures its data frames as Ethernet instead.\n"
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
	"      --data           a Wi-Fi interface: its data frames as Ethernet, not 802.11\n"
	"      --json           (with -w FILE) at the end, one JSON object on stdout:\n"
	"                       sim, node, interface, file, packets, dropped\n",
		.in_vm = VERB_IN_VM_CAPTURE, .run = cmd_capture};
