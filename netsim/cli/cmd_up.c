/* netsim up: start a sim from a topology file (here, or in one VM with --vm). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sim/live.h"
#include "sim/sim.h"
#include "sim/vmsim.h"

enum { OPT_VM_MEM = OPT_VERB_BASE };

static void print_summary(const struct up_summary *sum, bool quiet)
{
	for (unsigned i = 0; i < sum->nnodes && !quiet; i++) {
		const struct up_node_summary *n = &sum->nodes[i];
		if (n->qemu)
			printf("%-12s pid %-8d %-18s %s (qemu, %s, booted in %.1f s)\n", n->name,
			       (int)n->pid, n->addr4, n->source, n->accel, (double)n->boot_ms / 1000.0);
		else
			printf("%-12s pid %-8d %-18s %s\n", n->name, (int)n->pid, n->addr4, n->source);
	}
	printf("sim %s up: %u node%s, %u link%s, %u segment%s in %.2f s\n", sum->sim, sum->nnodes,
	       plural(sum->nnodes), sum->nlinks, plural(sum->nlinks), sum->nsegments,
	       plural(sum->nsegments), sum->seconds);
}

static int cmd_up(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'}, {"quiet", no_argument, NULL, 'q'},
		{"vm", no_argument, NULL, OPT_VM},      {"help", no_argument, NULL, OPT_HELP},
		{"vm-mem", required_argument, NULL, OPT_VM_MEM}, {"json", no_argument, NULL, OPT_JSON},
		{NULL, 0, NULL, 0}};
	const char *name = NULL;
	struct up_options uo = {0};
	bool vm = false, json = false;
	uint64_t vm_mem = 0;
	int c;
	while ((c = verb_getopt(argc, argv, "n:q", opts)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'q': uo.quiet = true; break;
		case OPT_VM: vm = true; break;
		case OPT_JSON: json = true; break;
		case OPT_VM_MEM:
			if (!topo_parse_mem_mib(optarg, &vm_mem) || vm_mem > UINT32_MAX)
				return verb_usage(err, "--vm-mem %s: expected a size like 512M or 1G", optarg);
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind + 1 != argc)
		return verb_usage(err, "expects exactly one topology FILE");
	if (json && vm)
		return verb_usage(err, "--json is not available with --vm");
	if (name && !topo_valid_name(name, TOPO_SIM_MAX))
		return verb_usage(err, "bad sim name '%s' (use [a-z0-9-], at most %d characters)",
				  name, TOPO_SIM_MAX);
	struct topo t;
	if (topo_parse_file(argv[optind], &t, err) < 0)
		return EXIT_FAIL;
	if (name)
		snprintf(t.sim, sizeof(t.sim), "%s", name);
	if (require_root(err)) {
		topo_free(&t);
		return EXIT_FAIL;
	}
	int r;
	if (vm) {
		struct vmsim_options vo = {.mem_mib = (unsigned)vm_mem, .quiet = uo.quiet};
		struct vmsim_summary vs;
		r = vmsim_up(&t, &vo, &vs, err);
		if (r == 0 && !uo.quiet)
			printf("vm: %s, %u cpu%s, %u MiB, booted in %.1f s, sim up in %.1f s (no "
			       "network device; `netsim down %s` stops it)\n", vs.accel, vs.cpus,
			       vs.cpus == 1 ? "" : "s", vs.mem_mib, vs.boot_ms / 1000.0, vs.seconds,
			       vs.sim);
	} else {
		/* --json: stdout carries only the JSON object, so the per-node and
		 * summary lines go to stderr meanwhile. */
		int saved_stdout = json ? dup(STDOUT_FILENO) : -1;
		if (json && (saved_stdout < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)) {
			topo_free(&t);
			return verb_fail(err, "up: stdout: %s", strerror(errno));
		}
		struct up_summary sum;
		r = sim_up(&t, &uo, &sum, err);
		if (r == 0) {
			print_summary(&sum, uo.quiet);
			sim_up_summary_free(&sum);
		}
		if (json) {
			fflush(stdout);
			dup2(saved_stdout, STDOUT_FILENO);
			close(saved_stdout);
		}
		if (r == 0 && json && live_write_json(stdout, t.sim, err) < 0)
			r = -err->errnum;
	}
	if (r < 0)
		error_prefix(err, "up %s", t.sim);
	topo_free(&t);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

const struct verb verb_up = {"up", "up [-n SIM] [-q] [--json] [--vm [--vm-mem SIZE]] FILE",
		"Start every node, link and segment of the topology FILE.  All or nothing: if\n"
		"anything fails (or on Ctrl-C) everything created so far is removed again.\n\n"
		"  -n, --name SIM   run under this sim name instead of the file's `sim` line\n"
		"                   or its base name\n"
		"  -q, --quiet      only print the summary line\n"
		"      --json       print `netsim status --json` of the new sim on stdout\n"
		"                   (the usual lines go to stderr); not with --vm\n"
		"      --vm         run the whole sim inside one QEMU VM with netsim's kernel\n"
		"                   (batman-adv, 8021q, netem, hwsim); the VM has no network\n"
		"                   device.  Every other verb on the sim is forwarded to it\n"
		"                   (docs/vm.md)\n"
		"      --vm-mem SIZE  the VM's memory (default 512M)\n", .in_vm = VERB_HERE,
	.run = cmd_up};
