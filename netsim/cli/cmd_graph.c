/* netsim graph: a topology or a running sim as Graphviz DOT/SVG. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "sim/live.h"
#include "sim/sim.h"
#include "util.h"

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
	char *args[] = {"dot", type, "-o", (char *)out, NULL};
	struct helper dot = {.path = dot_path, .argv = args, .stdin_fd = fds[0],
			     .stdout_fd = HELPER_FD_INHERIT, .stderr_fd = HELPER_FD_INHERIT,
			     .netns_fd = -1, .exec_error_prefix = "netsim: graph: exec "};
	pid_t pid;
	int spawned = helper_spawn(&dot, &pid, err);
	close(fds[0]);
	if (spawned < 0) {
		close(fds[1]);
		return error_prefix(err, "graph");
	}
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
	int waited = helper_wait(pid, &status);
	if (waited < 0)
		return error_set(err, -waited, "graph: wait for dot");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return error_setmsg(err, EIO, "graph: `dot %s -o %s` failed (%s %d)", type, out,
				    helper_status_kind(status), helper_status_code(status));
	return r;
}

static int cmd_graph(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"output", required_argument, NULL, 'o'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL, *out = NULL;
	int c;
	while ((c = verb_getopt(argc, argv, "s:o:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'o': out = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind < argc) {
		if (given)
			return verb_usage(err, "give FILE|SIM or -s SIM, not both");
		given = argv[optind++];
	}
	if (optind != argc)
		return verb_usage(err, "too many arguments");
	const char *format = NULL;
	if (out && output_format(out, &format) < 0)
		return verb_usage(err, "-o %s: expected a .dot, .gv, .svg, .png or .pdf file", out);

	struct topo t;
	struct graph_live live = {0};
	bool running = !(given && looks_like_file(given));
	char sim[TOPO_SIM_MAX + 1];
	if (running) {
		if (require_root(err))
			return EXIT_FAIL;
		if (sim_pick(given, sim, sizeof(sim), err) < 0 ||
		    sim_topology(sim, &t, err) < 0)
			return EXIT_FAIL;
		if (live_graph_read(sim, &t, &live, err) < 0) {
			topo_free(&t);
			return EXIT_FAIL;
		}
	} else if (topo_parse_file(given, &t, err) < 0)
		return EXIT_FAIL;

	int r;
	if (format) {
		r = render(&t, running ? &live : NULL, format, out, err);
	} else if (out) {
		FILE *f = fopen(out, "w");
		if (!f) {
			r = error_set(err, errno, "graph: %s", out);
		} else {
			r = graph_write_dot(f, &t, running ? &live : NULL, err);
			if (fclose(f) == EOF && r == 0)
				r = error_set(err, errno, "graph: %s", out);
		}
	} else {
		r = graph_write_dot(stdout, &t, running ? &live : NULL, err);
	}
	if (running)
		graph_live_free(&t, &live);
	topo_free(&t);
	if (r < 0)
		return EXIT_FAIL;
	return 0;
}

const struct verb verb_graph = {"graph", "graph [FILE|SIM] [-o OUT.dot|OUT.svg]",
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
	"                       Graphviz's `dot` (Debian package graphviz)\n", .in_vm = VERB_HERE,
	.run = cmd_graph};
