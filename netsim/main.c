/* netsim — the command line.  Each verb parses its options, calls into the
 * library and prints errors once, as "netsim: CONTEXT: REASON". */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "netlink.h"
#include "reach.h"
#include "sim.h"
#include "state.h"
#include "topo.h"

#define NETSIM_VERSION "0.1.0"

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;   /* first line of --help */
	const char *help;    /* the rest */
};

static const struct verb *current_verb;

static void print_error(const struct error *err)
{
	/* Parser errors come one per line; prefix each. */
	const char *p = err->msg;
	while (*p) {
		size_t len = strcspn(p, "\n");
		fprintf(stderr, "netsim: %.*s\n", (int)len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
}

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("netsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "netsim %s: ", current_verb->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: netsim %s\n", current_verb->usage);
	return 2;
}

static int print_help(const struct verb *v)
{
	printf("usage: netsim %s\n\n%s", v->usage, v->help);
	return 0;
}

static int need_root(void)
{
	if (geteuid() != 0)
		return fail("%s: needs root (namespaces, mounts and links)", current_verb->name);
	return 0;
}

/* Common options: -s SIM and --help; returns the index of the first operand. */
enum { OPT_HELP = 1000, OPT_JSON, OPT_TIMEOUT, OPT_ALL, OPT_VM, OPT_INTERVAL };

/* A topology argument: a path (contains '/' or ends in .conf) rather than a sim. */
static bool looks_like_file(const char *arg)
{
	size_t len = strlen(arg);
	return strchr(arg, '/') || (len > 5 && strcmp(arg + len - 5, ".conf") == 0);
}

/* ---- up ---------------------------------------------------------------- */

static int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'}, {"quiet", no_argument, NULL, 'q'},
		{"vm", no_argument, NULL, OPT_VM},      {"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0}};
	const char *name = NULL;
	struct up_options uo = {0};
	int c;
	while ((c = getopt_long(argc, argv, "+n:q", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'q': uo.quiet = true; break;
		case OPT_VM:
			return fail("up: --vm (whole sim in a VM) is not available in this version");
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("expects exactly one topology FILE");
	if (name && !topo_valid_name(name, TOPO_SIM_MAX))
		return usage_error("bad sim name '%s' (use [a-z0-9-], at most %d characters)",
				   name, TOPO_SIM_MAX);
	struct topo t;
	struct error err = {0};
	if (topo_parse_file(argv[optind], &t, &err) < 0) {
		print_error(&err);
		return 1;
	}
	if (name)
		snprintf(t.sim, sizeof(t.sim), "%s", name);
	if (need_root()) {
		topo_free(&t);
		return 1;
	}
	int r = sim_up(&t, &uo, &err);
	if (r < 0) {
		error_prefix(&err, "up %s", t.sim);
		print_error(&err);
	}
	topo_free(&t);
	return r < 0 ? 1 : 0;
}

/* ---- down -------------------------------------------------------------- */

static int down_one(const char *sim)
{
	struct error err = {0};
	if (sim_down(sim, &err) < 0) {
		print_error(&err);
		return 1;
	}
	printf("sim %s down\n", sim);
	return 0;
}

static int cmd_down(int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, OPT_ALL},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	bool all = false;
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ALL: all = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (all ? optind != argc : optind + 1 != argc)
		return usage_error("expects one SIM or FILE, or --all");
	if (need_root())
		return 1;
	if (all) {
		char **names;
		unsigned n;
		struct error err = {0};
		if (sim_names(&names, &n, &err) < 0) {
			print_error(&err);
			return 1;
		}
		int rc = 0;
		for (unsigned i = 0; i < n; i++)
			rc |= down_one(names[i]);
		sim_names_free(names, n);
		return rc;
	}
	const char *arg = argv[optind];
	if (looks_like_file(arg)) {
		struct topo t;
		struct error err = {0};
		if (topo_parse_file(arg, &t, &err) < 0) {
			print_error(&err);
			return 1;
		}
		int rc = down_one(t.sim);
		topo_free(&t);
		return rc;
	}
	if (!topo_valid_name(arg, TOPO_SIM_MAX))
		return usage_error("'%s' is neither a sim name nor a topology file", arg);
	return down_one(arg);
}

/* ---- list / status ----------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static int load_state(const char *sim, struct state *st, struct error *err)
{
	char path[PATH_MAX];
	state_sim_path(path, sizeof(path), sim, "state");
	return state_read(path, st, err);
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == OPT_HELP)
			return print_help(current_verb);
		return usage_error("unknown option");
	}
	if (optind != argc)
		return usage_error("takes no arguments");
	char **names;
	unsigned n;
	struct error err = {0};
	if (sim_names(&names, &n, &err) < 0) {
		print_error(&err);
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct state st;
		struct error e;
		if (load_state(names[i], &st, &e) < 0) {
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
	sim_names_free(names, n);
	return 0;
}

/* Administrative/operational state of an interface inside a node, "up",
 * "down" or "missing". */
static const char *iface_state(const char *sim, const char *node, const char *ifname)
{
	char path[PATH_MAX];
	state_netns_path(path, sizeof(path), sim, node);
	struct error err;
	cleanup_close int fd = netns_open(path, &err);
	if (fd < 0)
		return "missing";
	struct net_link_state ls;
	if (net_link_query(fd, ifname, &ls, &err) < 0)
		return "missing";
	return (ls.flags & IFF_UP) ? "up" : "down";
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, OPT_JSON},
					      {"sim", required_argument, NULL, 's'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	bool json = false;
	const char *given = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case 's': given = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind < argc)
		given = argv[optind++];
	if (optind != argc)
		return usage_error("too many arguments");
	char sim[TOPO_SIM_MAX + 1];
	struct error err = {0};
	struct state st;
	if (sim_pick(given, sim, sizeof(sim), &err) < 0 || load_state(sim, &st, &err) < 0) {
		print_error(&err);
		return 1;
	}
	struct topo t;
	bool have_topo = sim_topology(sim, &t, &err) == 0;
	time_t now = time(NULL);
	if (json) {
		printf("{\"sim\":");
		json_string(stdout, st.sim);
		printf(",\"topology\":");
		json_string(stdout, st.topology);
		printf(",\"created\":%lld,\"nodes\":[", st.created);
	} else {
		printf("sim %s  (%s, up %lld s)\n", st.sim, st.topology,
		       (long long)now - st.created);
		printf("%-12s %-8s %-8s %-18s %s\n", "NODE", "STATE", "PID", "ADDRESS", "ROOTFS");
	}
	for (unsigned i = 0; i < st.nnodes; i++) {
		const struct state_node *n = &st.nodes[i];
		pid_t pid = state_pidfile_read(sim, n->name);
		const char *state = pid > 0 ? "running" : "stopped";
		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			json_string(stdout, n->name);
			printf(",\"state\":\"%s\",\"pid\":%d,\"addr\":", state, pid > 0 ? pid : 0);
			json_string(stdout, n->addr4);
			printf(",\"addr6\":");
			json_string(stdout, n->addr6);
			printf(",\"rootfs\":");
			json_string(stdout, n->rootfs);
			printf("}");
		} else {
			printf("%-12s %-8s %-8d %-18s %s\n", n->name, state, pid > 0 ? pid : 0,
			       n->addr4, n->rootfs);
		}
	}
	if (json)
		printf("],\"links\":[");
	else if (have_topo && (t.nlinks || t.nsegments))
		printf("\n%-34s %s\n", "LINK", "STATE");
	for (unsigned l = 0; have_topo && l < t.nlinks; l++) {
		const struct topo_link *lk = &t.links[l];
		const char *na = t.nodes[lk->a.node].name, *nb = t.nodes[lk->b.node].name;
		const char *sa = iface_state(sim, na, lk->a.ifname);
		const char *sb = iface_state(sim, nb, lk->b.ifname);
		const char *state = strcmp(sa, sb) == 0 ? sa : "partial";
		if (json) {
			printf("%s{\"a\":\"%s:%s\",\"b\":\"%s:%s\",\"state\":\"%s\"}", l ? "," : "",
			       na, lk->a.ifname, nb, lk->b.ifname, state);
		} else {
			char label[64];
			snprintf(label, sizeof(label), "%s:%s -- %s:%s", na, lk->a.ifname, nb,
				 lk->b.ifname);
			printf("%-34s %s\n", label, state);
		}
	}
	if (json)
		printf("],\"segments\":[");
	for (unsigned s = 0; have_topo && s < t.nsegments; s++) {
		const struct topo_segment *seg = &t.segments[s];
		if (json) {
			printf("%s{\"name\":\"%s\",\"members\":[", s ? "," : "", seg->name);
		} else {
			printf("segment %-26s", seg->name);
		}
		for (unsigned m = 0; m < seg->nmembers; m++) {
			const char *node = t.nodes[seg->members[m].node].name;
			const char *ifn = seg->members[m].ifname;
			if (json)
				printf("%s{\"member\":\"%s:%s\",\"state\":\"%s\"}", m ? "," : "", node,
				       ifn, iface_state(sim, node, ifn));
			else
				printf(" %s:%s(%s)", node, ifn, iface_state(sim, node, ifn));
		}
		printf(json ? "]}" : "\n");
	}
	if (json)
		printf("]}\n");
	if (have_topo)
		topo_free(&t);
	state_free(&st);
	return 0;
}

/* ---- exec / shell ------------------------------------------------------ */

static int run_in_node(const char *given, const char *node, char *const cmd[])
{
	char sim[TOPO_SIM_MAX + 1];
	struct error err = {0};
	pid_t pid;
	if (need_root())
		return 1;
	if (sim_pick(given, sim, sizeof(sim), &err) < 0 ||
	    sim_node_pid(sim, node, &pid, &err) < 0) {
		print_error(&err);
		return 1;
	}
	/* Environment inside the node: clean, not the host's. */
	const char *term = getenv("TERM");
	char termvar[128];
	snprintf(termvar, sizeof(termvar), "TERM=%s", term ? term : "dumb");
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", termvar, NULL};
	int status = 0;
	if (container_enter(pid, cmd, envp, &status, &err) < 0) {
		error_prefix(&err, "%s %s", current_verb->name, node);
		print_error(&err);
		return 127;
	}
	return status;
}

static int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("expects NODE -- COMMAND...");
	const char *node = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return usage_error("expects a COMMAND after the node name");
	return run_in_node(given, node, argv + optind);
}

static int cmd_shell(int argc, char **argv)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("expects one NODE");
	char *cmd[] = {"/bin/sh", "-l", NULL};
	return run_in_node(given, argv[optind], cmd);
}

/* ---- log --------------------------------------------------------------- */

static int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"follow", no_argument, NULL, 'f'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	bool follow = false;
	int c;
	while ((c = getopt_long(argc, argv, "+s:f", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'f': follow = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("expects one NODE");
	const char *node = argv[optind];
	char sim[TOPO_SIM_MAX + 1], path[PATH_MAX];
	struct error err = {0};
	if (sim_pick(given, sim, sizeof(sim), &err) < 0) {
		print_error(&err);
		return 1;
	}
	if (!topo_valid_name(node, TOPO_NAME_MAX))
		return fail("log: sim %s has no node %s", sim, node);
	state_node_path(path, sizeof(path), sim, node, "console.log");
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("log: sim %s has no node %s", sim, node);
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return 1;
			continue;
		}
		if (n < 0 && errno != EINTR)
			return fail("log: read %s: %s", path, strerror(errno));
		if (!follow)
			break;
		fflush(stdout);
		/* Stop following once the sim is gone. */
		if (access(path, F_OK) < 0)
			break;
		poll(NULL, 0, 200);
	}
	return 0;
}

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

/* ---- the verb table ---------------------------------------------------- */

static int cmd_help(int argc, char **argv);

static const struct verb verbs[] = {
	{"up", cmd_up, "up [-n SIM] [-q] FILE",
	 "Start every node, link and segment of the topology FILE.  All or nothing: if\n"
	 "anything fails (or on Ctrl-C) everything created so far is removed again.\n\n"
	 "  -n, --name SIM   run under this sim name instead of the file's `sim` line\n"
	 "                   or its base name\n"
	 "  -q, --quiet      only print the summary line\n"
	 "      --vm         run the whole sim inside a VM (not available yet)\n"},
	{"down", cmd_down, "down SIM|FILE|--all",
	 "Stop a sim and remove everything it created: node processes, network\n"
	 "namespaces, links, bridges, state under /run/netsim.  Idempotent; works after\n"
	 "`up` was killed at any point.\n\n"
	 "      --all        every sim on this machine\n"},
	{"list", cmd_list, "list", "List the sims that are up, with how many nodes run.\n"},
	{"status", cmd_status, "status [SIM] [--json]",
	 "Nodes (state, PID 1 on the host, address, rootfs) and links of a sim.  SIM may\n"
	 "be left out when only one sim is up.\n\n"
	 "  -s, --sim SIM    the sim (same as the operand)\n"
	 "      --json       one JSON object, for scripts\n"},
	{"exec", cmd_exec, "exec [-s SIM] NODE -- COMMAND [ARG...]",
	 "Run COMMAND inside NODE (all of its namespaces, its capabilities and seccomp\n"
	 "filter).  stdin/stdout/stderr pass through; so does the exit status.\n\n"
	 "  -s, --sim SIM    the sim, when more than one is up\n"},
	{"shell", cmd_shell, "shell [-s SIM] NODE",
	 "An interactive /bin/sh inside NODE.\n\n"
	 "  -s, --sim SIM    the sim, when more than one is up\n"},
	{"log", cmd_log, "log [-s SIM] [-f] NODE",
	 "The console output of NODE's PID 1 (its init and what init starts).\n\n"
	 "  -s, --sim SIM    the sim, when more than one is up\n"
	 "  -f, --follow     keep printing new output until the sim goes down\n"},
	{"reach", cmd_reach, "reach [-s SIM] [--timeout S] [--interval S] [-q]",
	 "All-pairs ping matrix: every node sends ICMP echo to every other node's\n"
	 "address, from inside its own network namespace, until all pairs answered or\n"
	 "the timeout passed.  Exit status 0 when every node reaches every node.\n\n"
	 "  -s, --sim SIM    the sim, when more than one is up\n"
	 "      --timeout S  give up after S seconds (default 10)\n"
	 "      --interval S one echo per unanswered pair every S seconds (default 1)\n"
	 "  -q, --quiet      only the summary line\n"},
	{"help", cmd_help, "help [VERB]", "Show the list of verbs, or the help of one.\n"},
};

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static void print_overview(FILE *f)
{
	fprintf(f, "usage: netsim VERB [OPTIONS] [ARGS]\n\n"
		   "Run a mesh network of routers (containers) on this machine.\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %s\n", verbs[i].usage);
	fprintf(f, "\n`netsim VERB --help` explains one verb; docs/cli.md has them all.\n");
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		return print_help(current_verb);
	if (argc > 1) {
		const struct verb *v = find_verb(argv[1]);
		if (!v)
			return fail("help: unknown verb '%s'", argv[1]);
		return print_help(v);
	}
	print_overview(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_overview(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("netsim %s\n", NETSIM_VERSION);
		return 0;
	}
	current_verb = find_verb(argv[1]);
	if (!current_verb) {
		fprintf(stderr, "netsim: unknown verb '%s'\n", argv[1]);
		print_overview(stderr);
		return 2;
	}
	/* stdout may be a pipe to a test; keep lines in order with stderr. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return current_verb->run(argc - 1, argv + 1);
}
