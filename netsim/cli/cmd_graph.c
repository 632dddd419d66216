/* netsim graph (a topology or a running sim as Graphviz DOT/SVG) and
 * netsim gen (topology files of common shapes). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "sim/live.h"
#include "sim/sim.h"
#include "topo/gen.h"
#include "topo/graph.h"
#include "topo/topo.h"
#include "topo/units.h"

/* ---- graph ------------------------------------------------------------------ */

/* The program `name` in $PATH, like execvp would find it. */
static bool find_in_path(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t dirlen = strcspn(path, ":");
		snprintf(out, len, "%.*s/%s", (int)dirlen, dirlen ? path : ".", name);
		if (access(out, X_OK) == 0)
			return true;
		path += dirlen;
		if (*path == ':')
			path++;
	}
	return false;
}

/* Graphviz's output format for a file name: "svg" for x.svg; NULL for DOT. */
static int output_format(const char *out, const char **format)
{
	const char *dot = strrchr(out, '.');
	static const char *const rendered[] = {"svg", "png", "pdf"};
	*format = NULL;
	if (dot && (strcmp(dot, ".dot") == 0 || strcmp(dot, ".gv") == 0))
		return 0;
	for (size_t i = 0; dot && i < sizeof(rendered) / sizeof(rendered[0]); i++)
		if (strcmp(dot + 1, rendered[i]) == 0) {
			*format = rendered[i];
			return 0;
		}
	return -EINVAL;
}

/* Pipe the DOT through `dot -TFORMAT -o OUT` (no shell: OUT is passed as is). */
static int render(const struct topo *t, const struct graph_live *live, const char *format,
		  const char *out, struct error *err)
{
	char dot_path[PATH_MAX], type[16];
	if (!find_in_path("dot", dot_path, sizeof(dot_path)))
		return error_setmsg(err, ENOENT,
				    "graph: -o %s needs Graphviz's `dot`, which is not "
				    "installed (Debian package graphviz: apt-get install "
				    "graphviz); -o FILE.dot writes DOT without it",
				    out);
	snprintf(type, sizeof(type), "-T%s", format);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_set(err, errno, "graph: pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return error_set(err, e, "graph: fork");
	}
	if (pid == 0) {
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(127);
		char *args[] = {"dot", type, "-o", (char *)out, NULL};
		execv(dot_path, args);
		fprintf(stderr, "netsim: graph: exec %s: %s\n", dot_path, strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	/* dot dying early must show as its exit status, not kill us with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	FILE *f = fdopen(fds[1], "w");
	int r;
	if (!f) {
		r = error_set(err, errno, "graph: fdopen");
		close(fds[1]);
	} else {
		r = graph_write_dot(f, t, live, err);
		if (fclose(f) == EOF && r == 0)
			r = error_set(err, errno, "graph: write to dot");
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error_set(err, errno, "graph: wait for dot");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return error_setmsg(err, EIO, "graph: `dot %s -o %s` failed (%s %d)", type, out,
				    WIFEXITED(status) ? "exit status" : "signal",
				    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return r;
}

static int cmd_graph(int argc, char **argv)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"output", required_argument, NULL, 'o'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL, *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "s:o:", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'o': out = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (optind < argc) {
		if (given)
			return usage_error("give FILE|SIM or -s SIM, not both");
		given = argv[optind++];
	}
	if (optind != argc)
		return usage_error("too many arguments");
	const char *format = NULL;
	if (out && output_format(out, &format) < 0)
		return usage_error("-o %s: expected a .dot, .gv, .svg, .png or .pdf file", out);

	struct error err = {0};
	struct topo t;
	struct graph_live live = {0};
	bool running = !(given && looks_like_file(given));
	char sim[TOPO_SIM_MAX + 1];
	if (running) {
		if (need_root())
			return 1;
		if (sim_pick(given, sim, sizeof(sim), &err) < 0 ||
		    sim_topology(sim, &t, &err) < 0) {
			print_error(&err);
			return 1;
		}
		if (live_graph_read(sim, &t, &live, &err) < 0) {
			topo_free(&t);
			print_error(&err);
			return 1;
		}
	} else if (topo_parse_file(given, &t, &err) < 0) {
		print_error(&err);
		return 1;
	}

	int r;
	if (format) {
		r = render(&t, running ? &live : NULL, format, out, &err);
	} else if (out) {
		FILE *f = fopen(out, "w");
		if (!f) {
			r = error_set(&err, errno, "graph: %s", out);
		} else {
			r = graph_write_dot(f, &t, running ? &live : NULL, &err);
			if (fclose(f) == EOF && r == 0)
				r = error_set(&err, errno, "graph: %s", out);
		}
	} else {
		r = graph_write_dot(stdout, &t, running ? &live : NULL, &err);
	}
	if (running)
		graph_live_free(&t, &live);
	topo_free(&t);
	if (r < 0) {
		print_error(&err);
		return 1;
	}
	return 0;
}

/* ---- gen -------------------------------------------------------------------- */

enum { OPT_SEED = OPT_VERB_BASE, OPT_DEGREE, OPT_RATE, OPT_DELAY, OPT_LOSS };

static int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {{"seed", required_argument, NULL, OPT_SEED},
					      {"degree", required_argument, NULL, OPT_DEGREE},
					      {"rate", required_argument, NULL, OPT_RATE},
					      {"delay", required_argument, NULL, OPT_DELAY},
					      {"loss", required_argument, NULL, OPT_LOSS},
					      {"sim", required_argument, NULL, 's'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	struct gen_options o = {0};
	const char *seed_arg = NULL, *degree_arg = NULL;
	struct error err = {0};
	int c;
	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case OPT_SEED: seed_arg = optarg; break;
		case OPT_DEGREE: degree_arg = optarg; break;
		case OPT_RATE:
			r = units_parse_rate(optarg, &o.quality.rate_bps);
			if (r < 0)
				return usage_error("--rate %s: %s (a rate: 10mbit, 1.5mbit, 100kbit, "
						   "1mbps)", optarg, strerror(-r));
			o.quality.set |= TOPO_Q_RATE;
			break;
		case OPT_DELAY:
			r = units_parse_time(optarg, &o.quality.delay_us);
			if (r < 0)
				return usage_error("--delay %s: %s (a time: 5ms, 200us, 1.5s)",
						   optarg, strerror(-r));
			o.quality.set |= TOPO_Q_DELAY;
			break;
		case OPT_LOSS:
			r = units_parse_percent(optarg, &o.quality.loss_ppm);
			if (r < 0)
				return usage_error("--loss %s: %s (a percentage: 1%%, 0.5%%)",
						   optarg, strerror(-r));
			o.quality.set |= TOPO_Q_LOSS;
			break;
		case 's':
			if (strlen(optarg) >= sizeof(o.sim) ||
			    !topo_valid_name(optarg, TOPO_SIM_MAX))
				return usage_error("--sim %s: a sim name is [a-z0-9-], 1 to %d "
						   "characters, not starting with '-'",
						   optarg, TOPO_SIM_MAX);
			snprintf(o.sim, sizeof(o.sim), "%s", optarg);
			break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	if (argc - optind != 2)
		return usage_error("expects SHAPE and SIZE (e.g. `ring 6`, `grid 3x3`)");
	if (gen_shape_parse(argv[optind], &o.shape) < 0)
		return usage_error("unknown shape `%s` (line, ring, star, grid, tree, random)",
				   argv[optind]);
	if (o.shape != GEN_RANDOM && (seed_arg || degree_arg))
		return usage_error("--seed and --degree apply to `random` only");
	if (gen_size_parse(&o, argv[optind + 1], &err) < 0)
		return usage_error("%s", err.msg);
	if (degree_arg && gen_degree_parse(degree_arg, &o.degree_x100, &err) < 0)
		return usage_error("%s", err.msg);
	if (seed_arg) {
		char *end;
		errno = 0;
		o.seed = strtoull(seed_arg, &end, 10);
		if (seed_arg[0] < '0' || seed_arg[0] > '9' || *end || errno)
			return usage_error("--seed %s: expected a number from 0 to %" PRIu64,
					   seed_arg, UINT64_MAX);
	} else if (o.shape == GEN_RANDOM) {
		/* A fresh seed, small enough to retype: the header shows it. */
		uint32_t s;
		if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s))
			s = (uint32_t)time(NULL) ^ (uint32_t)getpid();
		o.seed = s;
	}
	if (gen_validate(&o, &err) < 0)
		return usage_error("%s", err.msg);
	if (gen_write(stdout, &o, &err) < 0) {
		print_error(&err);
		return 1;
	}
	return 0;
}

const struct verb verb_graph = {"graph", cmd_graph, "graph [FILE|SIM] [-o OUT.dot|OUT.svg]",
	"The topology as a Graphviz graph: nodes (name, address), links labelled with\n"
	"their quality and both interface names, segments as boxes with an edge to\n"
	"each member.  FILE (a path, or a name ending in .conf) draws the file; SIM\n"
	"(or nothing, when one sim is up) draws a running sim with its live state:\n"
	"running nodes green, stopped ones red, links and segment ports that are\n"
	"administratively down (or whose interface is gone) dashed and marked.\n\n"
	"DOT goes to stdout unless -o says otherwise:\n\n"
	"    netsim graph topologies/3node.conf | dot -Tsvg > 3node.svg\n"
	"    netsim graph lab -o lab.svg\n\n"
	"  -s, --sim SIM        the sim (same as the operand)\n"
	"  -o, --output FILE    FILE.dot (or .gv): DOT; FILE.svg, .png or .pdf: rendered by\n"
	"                       Graphviz's `dot` (Debian package graphviz)\n", .in_vm = VERB_HERE};

const struct verb verb_gen = {"gen", cmd_gen,
	"gen line|ring|star|grid|tree|random SIZE [--seed S] [--degree D] [--rate R] "
	"[--delay T] [--loss P] [--sim NAME]",
	"Print a topology file of nodes n1..nN; its first line is the command that\n"
	"makes it again.\n\n"
	"  line N        n1 - n2 - ... - nN\n"
	"  ring N        a line closed from nN back to n1 (N >= 3)\n"
	"  star N        n1 is the hub, linked to each of n2..nN\n"
	"  grid R[xC]    R rows of C nodes (grid 3 is 3x3), each linked to its right\n"
	"                and lower neighbour; row r, column c (from 0) is n(r*C+c+1)\n"
	"  tree N        binary tree: node i's parent is n(i/2), n1 the root\n"
	"  random N      connected: a random spanning tree, then links between random\n"
	"                unlinked pairs up to an average degree D (N at most 4096)\n\n"
	"  --seed S      random: the seed (default: a fresh one, shown in the header);\n"
	"                the same seed gives the same file everywhere\n"
	"  --degree D    random: average links per node, e.g. 3 or 2.5 (default 3, or\n"
	"                N-1 when smaller; at most N-1; below 2(N-1)/N the result\n"
	"                is just the spanning tree)\n"
	"  --rate R, --delay T, --loss P\n"
	"                link quality for every link (docs/topology.md, units)\n"
	"  -s, --sim NAME  add a `sim NAME` line (default: named after the file)\n\n"
	"    netsim gen ring 6 > ring6.conf && netsim up ring6.conf\n", .in_vm = VERB_HERE};
