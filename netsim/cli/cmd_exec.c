/* netsim exec, netsim shell, netsim log. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "container.h"
#include "relay.h"
#include "sealed_exe.h"
#include "sim/node.h"
#include "sim/qemu_node.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "topo/topo.h"

/* ---- exec / shell ------------------------------------------------------ */

enum tty_choice { TTY_AUTO, TTY_ALWAYS, TTY_NEVER };

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

static int run_in_node(char **argv, const char *given, const char *node, char *const cmd[],
		       bool shell, enum tty_choice tty)
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
	if (qemu_node_is(sim, node)) {
		/* A VM: through its guest agent, which has no terminal to offer. */
		if (shell)
			return fail("shell %s: not supported for qemu nodes; use `netsim console %s` "
				    "(or `netsim exec %s -- COMMAND`)", node, node, node);
		int status = 0;
		if (qemu_node_exec(sim, node, cmd, &status, &err) < 0) {
			error_prefix(&err, "%s %s", current_verb->name, node);
			print_error(&err);
			return 127;
		}
		return status;
	}
	/* Entering a node runs this binary inside it until the command's execve:
	 * that must be a sealed copy, never the host file.  main's argv is the
	 * verb's argv minus one (getopt with "+" leaves it in order). */
	if (sealed_exe_ensure(argv - 1, &err) < 0) {
		error_prefix(&err, "%s %s", current_verb->name, node);
		print_error(&err);
		return 127;
	}
	/* envp NULL: container_enter's minimal environment, nothing of ours */
	int status = 0;
	/* the command and all it forks count against the node's limits */
	if (node_join_cgroup(sim, node, &err) < 0) {
		print_error(&err);
		return 127;
	}
	int rc = want_pty(tty) ? container_enter_tty(pid, cmd, NULL, &status, &err)
			       : container_enter(pid, cmd, NULL, &status, &err);
	if (rc < 0) {
		error_prefix(&err, "%s %s", current_verb->name, node);
		print_error(&err);
		return 127;
	}
	return status;
}

/* -s SIM, -t, -T, --help.  Returns -1 to go on, else the verb's exit status. */
static int parse_enter_options(int argc, char **argv, const char **sim, enum tty_choice *tty)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"tty", no_argument, NULL, 't'},
					      {"no-tty", no_argument, NULL, 'T'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	int c;
	*sim = NULL;
	*tty = TTY_AUTO;
	while ((c = getopt_long(argc, argv, "+s:tT", opts, NULL)) != -1) {
		switch (c) {
		case 's': *sim = optarg; break;
		case 't': *tty = TTY_ALWAYS; break;
		case 'T': *tty = TTY_NEVER; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
		}
	}
	return -1;
}

static int cmd_exec(int argc, char **argv)
{
	const char *given;
	enum tty_choice tty;
	int rc = parse_enter_options(argc, argv, &given, &tty);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return usage_error("expects NODE -- COMMAND...");
	const char *node = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return usage_error("expects a COMMAND after the node name");
	return run_in_node(argv, given, node, argv + optind, false, tty);
}

static int cmd_shell(int argc, char **argv)
{
	const char *given;
	enum tty_choice tty;
	int rc = parse_enter_options(argc, argv, &given, &tty);
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc)
		return usage_error("expects one NODE");
	char *cmd[] = {"/bin/sh", "-l", NULL};
	return run_in_node(argv, given, argv[optind], cmd, true, tty);
}

/* ---- log --------------------------------------------------------------- */

static int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"follow", no_argument, NULL, 'f'},
					      {"raw", no_argument, NULL, OPT_RAW},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	bool follow = false, raw = false;
	int c;
	while ((c = getopt_long(argc, argv, "+s:f", opts, NULL)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'f': follow = true; break;
		case OPT_RAW: raw = true; break;
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
	/* The console is the node's own output: escaped unless asked for raw. */
	struct escaper esc = ESCAPER_INIT;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (!raw)
				escape_write(&esc, stdout, buf, (size_t)n);
			else if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return 1;
			if (ferror(stdout))
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
	escape_finish(&esc, stdout);
	return 0;
}

const struct verb verb_exec = {"exec", cmd_exec, "exec [-s SIM] [-t|-T] NODE -- COMMAND [ARG...]",
		"Run COMMAND inside NODE (all of its namespaces, its capabilities and seccomp\n"
		"filter), in a new session, with only PATH, HOME and TERM in its environment.\n"
		"The exit status passes through.  When stdin and stdout are both terminals the\n"
		"command runs on a pseudo-terminal that netsim relays (like `docker exec -t`);\n"
		"otherwise it has no controlling terminal, and those of stdin, stdout and\n"
		"stderr that are terminals reach it through pipes netsim copies (files and\n"
		"pipes pass as they are).  A node process never holds your terminal.  On a\n"
		"backend=qemu node the command runs in the VM, through its guest agent.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"  -t, --tty        always use a relayed pseudo-terminal\n"
		"  -T, --no-tty     never use one (no controlling terminal, TERM=dumb)\n",
		.in_vm = VERB_IN_VM_EXEC};
const struct verb verb_shell = {"shell", cmd_shell, "shell [-s SIM] [-t|-T] NODE",
		"An interactive /bin/sh inside NODE, on a pseudo-terminal netsim relays (your\n"
		"terminal is in raw mode meanwhile and restored afterwards; window size\n"
		"changes follow).  The shell's exit status passes through.  Terminal choice as\n"
		"for exec.  Not for backend=qemu nodes (their agent has no terminal): use\n"
		"`netsim console NODE` there.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"  -t, --tty        a pseudo-terminal even when stdin or stdout is not a terminal\n"
		"  -T, --no-tty     no pseudo-terminal\n",
		.in_vm = VERB_NOT_IN_VM};
const struct verb verb_log = {"log", cmd_log, "log [-s SIM] [-f] [--raw] NODE",
		"The console output of NODE's PID 1 (its init and what init starts); for a\n"
		"backend=qemu node, the VM's serial console (kernel messages, init's output).\n"
		"Control characters and broken UTF-8 are shown escaped (ESC as \\033), so\n"
		"what a node wrote cannot drive your terminal.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"  -f, --follow     keep printing new output until the sim goes down\n"
		"      --raw        the bytes as they are, escape sequences included\n",
		.in_vm = VERB_IN_VM};
