/* netsim status: nodes, links, usage and neighbour tables of a running sim. */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sim/arch.h"
#include "sim/fidelity.h"
#include "sim/link_state.h"
#include "sim/live.h"
#include "sim/neigh_limits.h"
#include "sim/node.h"
#include "sim/radio.h"
#include "sim/sim.h"
#include "sim/state.h"

/* The host's neighbour tables are shared by every sim: show how full they are,
 * and say loudly when one overflowed since this sim came up (routing breaks). */
static void print_neigh_tables(const char *sim)
{
	struct neigh_table_status nt[NEIGH_FAMILIES];
	struct error err = {0};
	if (neigh_limits_status(sim, nt, &err) < 0)
		return;
	printf("\nneighbour tables (host-wide):");
	for (int i = 0; i < NEIGH_FAMILIES; i++) {
		if (!nt[i].present)
			continue;
		printf("  %s %lu entries, limit %lu", neigh_family_name(i), nt[i].entries,
		       nt[i].thresh3);
		if (nt[i].orig3)
			printf(" (raised from %lu)", nt[i].orig3);
		if (nt[i].need)
			printf(", this sim needs ~%lu", nt[i].need);
	}
	putchar('\n');
	for (int i = 0; i < NEIGH_FAMILIES; i++)
		if (nt[i].present && nt[i].fulls_since_up)
			printf("OVERFLOW: the %s neighbour table was full %lu times since %s came up "
			       "(dmesg: neighbor table overflow); routing fails while it is: see "
			       "docs/performance.md\n",
			       neigh_family_name(i), nt[i].fulls_since_up, sim);
}

/* Whether the host can still simulate this sim faithfully (sim/fidelity.h). */
static void print_fidelity(const char *sim)
{
	struct fidelity f;
	struct error err = {0};
	char line[256];
	if (fidelity_sample(sim, FIDELITY_WINDOW_MS, &f, &err) < 0)
		return;
	fidelity_line(&f, line, sizeof(line));
	printf("fidelity: %s\n", line);
}

/* The sim is broken when its medium is gone: say so, and fail. */
static int medium_dead(const char *sim, struct error *err)
{
	return verb_fail(err, "status: sim %s: its medium process is not running (radio "
			 "segments carry no frames; `netsim down %s` and up again)", sim, sim);
}

static int cmd_status(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"json", no_argument, NULL, OPT_JSON},
					      {"sim", required_argument, NULL, 's'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	bool json = false;
	const char *given = NULL;
	int c;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case 's': given = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind < argc)
		given = argv[optind++];
	if (optind != argc)
		return verb_usage(err, "too many arguments");
	char sim[TOPO_SIM_MAX + 1];
	if (sim_pick(given, sim, sizeof(sim), err) < 0)
		return EXIT_FAIL;
	pid_t medium_pid = 0;
	int medium = sim_medium_state(sim, &medium_pid);
	if (json) {
		if (live_write_json(stdout, sim, err) < 0)
			return EXIT_FAIL;
		return medium < 0 ? medium_dead(sim, err) : EXIT_OK;
	}
	struct state st;
	if (state_load(sim, &st, err) < 0)
		return EXIT_FAIL;
	struct topo t;
	struct error no_topo;  /* then only the nodes are shown */
	bool have_topo = sim_topology(sim, &t, &no_topo) == 0;
	time_t now = time(NULL);
	printf("sim %s  (%s, up %lld s)\n", st.sim, st.topology, (long long)now - st.created);
	printf("%-12s %-8s %-8s %-9s %-8s %-18s %-14s %-10s %-8s %-3s %s\n", "NODE", "STATE", "PID",
	       "BACKEND", "ARCH", "ADDRESS", "MEMORY", "PIDS", "CPU", "OOM", "ROOTFS");
	for (unsigned i = 0; i < st.nnodes; i++) {
		const struct state_node *n = &st.nodes[i];
		pid_t pid = state_pidfile_read(sim, n->name);
		const char *state = pid > 0 ? "running" : "stopped";
		char accel[16], backend[32];
		const char *kind = live_node_backend(sim, n->name, accel, sizeof(accel));
		snprintf(backend, sizeof(backend), "%s%s%s", kind, accel[0] ? "/" : "", accel);
		struct cgroup_usage u;
		struct live_usage_text usage;
		struct error ignored;
		node_usage(sim, n->name, &u, &ignored);
		live_usage_text(&u, &usage);
		char arch[24];
		arch_record_read(sim, n->name, arch, sizeof(arch), NULL, 0);
		if (strcmp(kind, "qemu") == 0)
			snprintf(arch, sizeof(arch), "x86_64"); /* netsim's guest kernel */
		printf("%-12s %-8s %-8d %-9s %-8s %-18s %-14s %-10s %-8s %-3s %s\n", n->name, state,
		       pid > 0 ? pid : 0, backend, arch, n->addr4, usage.memory, usage.pids, usage.cpu,
		       usage.oom, n->rootfs);
	}
	if (have_topo && (t.nlinks || t.nsegments))
		printf("\n%-34s %-8s %s\n", "LINK", "STATE", "QUALITY");
	for (unsigned l = 0; have_topo && l < t.nlinks; l++) {
		const struct topo_link *lk = &t.links[l];
		const char *na = t.nodes[lk->a.node].name, *nb = t.nodes[lk->b.node].name;
		const char *sa = live_iface_state(sim, na, lk->a.ifname);
		const char *sb = live_iface_state(sim, nb, lk->b.ifname);
		const char *state = strcmp(sa, sb) == 0 ? sa : "partial";
		char label[64];
		snprintf(label, sizeof(label), "%s:%s -- %s:%s", na, lk->a.ifname, nb,
			 lk->b.ifname);
		char quality[512];
		link_state_text(sim, &t, false, l, quality, sizeof(quality));
		printf("%-34s %-8s %s\n", label, state, quality[0] ? quality : "-");
	}
	for (unsigned s = 0; have_topo && s < t.nsegments; s++) {
		const struct topo_segment *seg = &t.segments[s];
		char quality[512];
		link_state_text(sim, &t, true, s, quality, sizeof(quality));
		char name[IFNAMSIZ + 8];
		if (seg->medium == TOPO_MEDIUM_BRIDGE)
			snprintf(name, sizeof(name), "%s", seg->name);
		else
			snprintf(name, sizeof(name), "%s (%s)", seg->name,
				 topo_medium_name(seg->medium));
		printf("segment %-26s %s", name, quality[0] ? quality : "-");
		for (unsigned m = 0; m < seg->nmembers; m++) {
			const char *node = t.nodes[seg->members[m].node].name;
			const char *ifn = seg->members[m].ifname;
			printf(" %s:%s(%s)", node, ifn, live_iface_state(sim, node, ifn));
		}
		printf("\n");
	}
	if (medium > 0)
		printf("\nmedium       running  pid %d (radio segments; `netsim air -s %s SEGMENT`)\n",
		       (int)medium_pid, sim);
	else if (medium < 0)
		printf("\nmedium       DEAD     radio segments carry no frames\n");
	if (have_topo)
		topo_free(&t);
	state_free(&st);
	print_neigh_tables(sim);
	print_fidelity(sim);
	return medium < 0 ? medium_dead(sim, err) : EXIT_OK;
}

const struct verb verb_status = {"status", "status [SIM] [--json]",
		"Nodes (state, PID 1 on the host, address, rootfs) and links of a sim.  SIM may\n"
		"be left out when only one sim is up.  BACKEND is container, or qemu/ACCEL\n"
		"(kvm or tcg) for a VM node, whose PID is QEMU's.  ARCH is the machine of the\n"
		"node's init (x86_64, mips, arm, ...; another than the host's runs through\n"
		"qemu-user, docs/rootfs.md).  A container node's cgroup\n"
		"usage: MEMORY now/limit, PIDS now/limit, CPU time used, OOM the processes\n"
		"the kernel killed at its memory limit (\"-\": not known, e.g. stopped).\n"
		"Then the host's neighbour tables, and the fidelity line: `ok`, or\n"
		"`degraded: ...` when the host cannot keep up (CPU pressure, dropped frames,\n"
		"neighbour-table overflows, late timers; docs/performance.md).\n"
		"A sim with radio segments shows its medium process; when that is gone,\n"
		"status says so on stderr and exits 1 (--json too: \"medium\":{\"state\":\"dead\"}).\n\n"
		"  -s, --sim SIM    the sim (same as the operand)\n"
		"      --json       one JSON object, for scripts\n",
		.in_vm = VERB_IN_VM_STATUS,
	.run = cmd_status};
