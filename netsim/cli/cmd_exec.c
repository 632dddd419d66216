/* netsim exec: run a command in a node; run_in_node() serves netsim shell too. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "relay.h"
#include "sealed_exe.h"
#include "sim/node.h"
#include "sim/qemu_node.h"
#include "sim/sim.h"

/* A pty when asked (-t), or when both stdin and stdout are terminals (someone
 * types and watches) and we are not a background job; otherwise the node gets pipes for those of its stdio that
 * are terminals (container_enter).  Either way the operator's terminal itself
 * never reaches the node. */
static bool want_pty(enum tty_choice tty)
{
	if (tty != TTY_AUTO)
		return tty == TTY_ALWAYS;
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && relay_terminal_is_ours(STDIN_FILENO);
}

int run_in_node(char **argv, const char *given, const char *node, char *const cmd[],
		bool shell, enum tty_choice tty, struct error *err)
{
	char sim[TOPO_SIM_MAX + 1];
	pid_t pid;
	if (require_root(err))
		return EXIT_FAIL;
	if (sim_pick(given, sim, sizeof(sim), err) < 0 ||
	    sim_node_pid(sim, node, &pid, err) < 0)
		return EXIT_FAIL;
	if (qemu_node_is(sim, node)) {
		/* A VM: through its guest agent, which has no terminal to offer. */
		if (shell)
			return verb_fail(err, "shell %s: not supported for qemu nodes; use `netsim console %s` "
					 "(or `netsim exec %s -- COMMAND`)", node, node, node);
		int status = 0;
		if (qemu_node_exec(sim, node, cmd, &status, err) < 0) {
			error_prefix(err, "%s %s", current_verb->name, node);
			return EXIT_CANNOT_RUN;
		}
		error_clear(err);  /* the command's own status, nothing of ours */
		return status;
	}
	/* Entering a node runs this binary inside it until the command's execve:
	 * that must be a sealed copy, never the host file.  main's argv is the
	 * verb's argv minus one (getopt with "+" leaves it in order). */
	if (sealed_exe_ensure(argv - 1, err) < 0) {
		error_prefix(err, "%s %s", current_verb->name, node);
		return EXIT_CANNOT_RUN;
	}
	/* envp NULL: container_enter's minimal environment, nothing of ours */
	int status = 0;
	/* the command and all it forks count against the node's limits */
	if (node_join_cgroup(sim, node, err) < 0)
		return EXIT_CANNOT_RUN;
	int rc = want_pty(tty) ? container_enter_tty(pid, cmd, NULL, &status, err)
			       : container_enter(pid, cmd, NULL, &status, err);
	if (rc < 0) {
		error_prefix(err, "%s %s", current_verb->name, node);
		return EXIT_CANNOT_RUN;
	}
	error_clear(err);  /* the command's own status, nothing of ours */
	return status;
}

int parse_enter_options(int argc, char **argv, const char **sim, enum tty_choice *tty,
			struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"tty", no_argument, NULL, 't'},
					      {"no-tty", no_argument, NULL, 'T'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	int c;
	*sim = NULL;
	*tty = TTY_AUTO;
	while ((c = verb_getopt(argc, argv, "+s:tT", opts)) != -1) {
		switch (c) {
		case 's': *sim = optarg; break;
		case 't': *tty = TTY_ALWAYS; break;
		case 'T': *tty = TTY_NEVER; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	return -1;
}

static int cmd_exec(int argc, char **argv, struct error *err)
{
	const char *given;
	enum tty_choice tty;
	int rc = parse_enter_options(argc, argv, &given, &tty, err);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return verb_usage(err, "expects NODE -- COMMAND...");
	const char *node = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return verb_usage(err, "expects a COMMAND after the node name");
	return run_in_node(argv, given, node, argv + optind, false, tty, err);
}

const struct verb verb_exec = {"exec", "exec [-s SIM] [-t|-T] NODE -- COMMAND [ARG...]",
		"Run COMMAND inside NODE (all of its namespaces, its capabilities and seccomp\n"
		"filter), in a new session, with only PATH, HOME and TERM in its environment.\n"
		"The exit status passes through.  When stdin and stdout are both terminals the\n"
		"command runs on a pseudo-terminal that netsim relays (like `docker exec -t`);\n"
		"otherwise it has no controlling terminal, and those of stdin, stdout and\n"
		"stderr that are terminals reach it through pipes netsim copies (files and\n"
		"pipes pass as they are).  A node process never holds your terminal.  On a\n"
		"backend=qemu node the command runs in the VM, through its guest agent.\n"
		"Options go before NODE: what follows NODE is the command's, its options too\n"
		"(`netsim exec n1 ping -c 1 ADDR`); the `--` is optional.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"  -t, --tty        always use a relayed pseudo-terminal\n"
		"  -T, --no-tty     never use one (no controlling terminal, TERM=dumb)\n",
		.in_vm = VERB_IN_VM_EXEC,
	.run = cmd_exec};
