/* netsim — the command line entry point: finds the verb and runs it.  Each verb
 * lives in a cmd_*.c file; this table is the only list of them. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define NETSIM_VERSION "0.1.0"

extern const struct verb verb_up;
extern const struct verb verb_down;
extern const struct verb verb_list;
extern const struct verb verb_status;
extern const struct verb verb_exec;
extern const struct verb verb_shell;
extern const struct verb verb_log;
extern const struct verb verb_reach;
extern const struct verb verb_link;
extern const struct verb verb_node;
extern const struct verb verb_capture;
extern const struct verb verb_graph;
extern const struct verb verb_gen;
extern const struct verb verb_converge;
extern const struct verb verb_run;
extern const struct verb verb_console;
extern const struct verb verb_forward;
extern const struct verb verb_web;
extern const struct verb verb_import;
extern const struct verb verb_medium;
extern const struct verb verb_air;
extern const struct verb verb_cache;

static int cmd_help(int argc, char **argv, struct error *err);
static const struct verb verb_help = {"help", "help [VERB]", "Show the list of verbs, or the help of one.\n", .in_vm = VERB_HERE,
	.run = cmd_help};

static const struct verb *const verbs[] = {
	&verb_up,
	&verb_down,
	&verb_list,
	&verb_status,
	&verb_exec,
	&verb_shell,
	&verb_log,
	&verb_reach,
	&verb_link,
	&verb_node,
	&verb_capture,
	&verb_graph,
	&verb_gen,
	&verb_converge,
	&verb_run,
	&verb_console,
	&verb_forward,
	&verb_web,
	&verb_import,
	&verb_air,
	&verb_cache,
	&verb_help,
};

/* Run by netsim itself, never listed (no --help overview, no docs/cli.md). */
static const struct verb *const hidden_verbs[] = {
	&verb_medium,
};

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i]->name, name) == 0)
			return verbs[i];
	for (size_t i = 0; i < sizeof(hidden_verbs) / sizeof(hidden_verbs[0]); i++)
		if (strcmp(hidden_verbs[i]->name, name) == 0)
			return hidden_verbs[i];
	return NULL;
}

static void print_overview(FILE *f)
{
	fprintf(f, "usage: netsim VERB [OPTIONS] [ARGS]\n\n"
		   "Run a mesh network of routers (containers) on this machine.\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %s\n", verbs[i]->usage);
	fprintf(f, "\n`netsim VERB --help` explains one verb; docs/cli.md has them all.\n");
}

static int cmd_help(int argc, char **argv, struct error *err)
{
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		return print_help(current_verb);
	if (argc > 1) {
		const struct verb *v = find_verb(argv[1]);
		if (!v)
			return verb_fail(err, "help: unknown verb '%s'", argv[1]);
		return print_help(v);
	}
	print_overview(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_overview(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("netsim %s\n", NETSIM_VERSION);
		return EXIT_OK;
	}
	current_verb = find_verb(argv[1]);
	if (!current_verb) {
		fprintf(stderr, "netsim: unknown verb '%s'\n", argv[1]);
		print_overview(stderr);
		return EXIT_USAGE;
	}
	/* stdout may be a pipe to a test; keep lines in order with stderr. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A sim started with `up --vm` runs its verbs inside its VM. */
	struct error err = {0};
	int rc = vm_forward(current_verb, argc - 1, argv + 1, &err);
	if (rc < 0)
		rc = current_verb->run(argc - 1, argv + 1, &err);
	/* the one place a verb's error reaches the operator */
	print_verb_error(current_verb, rc, &err);
	return rc;
}
