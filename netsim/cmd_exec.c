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
#include "cli.h"
#include "container.h"
#include "node.h"
#include "qemu_node.h"
#include "sim.h"
#include "topo.h"

/* ---- exec / shell ------------------------------------------------------ */

static int run_in_node(const char *given, const char *node, char *const cmd[], bool shell)
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
	/* Environment inside the node: clean, not the host's. */
	const char *term = getenv("TERM");
	char termvar[128];
	snprintf(termvar, sizeof(termvar), "TERM=%s", term ? term : "dumb");
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", termvar, NULL};
	int status = 0;
	/* the command and all it forks count against the node's limits */
	if (node_join_cgroup(sim, node, &err) < 0) {
		print_error(&err);
		return 127;
	}
	if (container_enter(pid, cmd, envp, &status, &err) < 0) {
		error_prefix(&err, "%s %s", current_verb->name, node);
		print_error(&err);
		return 127;
	}
	return status;
}

static int cmd_exec(int argc, char **argv)
{
	const char *given;
	int rc = parse_sim_options(argc, argv, &given);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return usage_error("expects NODE -- COMMAND...");
	const char *node = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return usage_error("expects a COMMAND after the node name");
	return run_in_node(given, node, argv + optind, false);
}

static int cmd_shell(int argc, char **argv)
{
	const char *given;
	int rc = parse_sim_options(argc, argv, &given);
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc)
		return usage_error("expects one NODE");
	char *cmd[] = {"/bin/sh", "-l", NULL};
	return run_in_node(given, argv[optind], cmd, true);
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

const struct verb verb_exec = {"exec", cmd_exec, "exec [-s SIM] NODE -- COMMAND [ARG...]",
		"Run COMMAND inside NODE (all of its namespaces, its capabilities and seccomp\n"
		"filter).  stdin/stdout/stderr pass through; so does the exit status.  On a\n"
		"backend=qemu node the command runs in the VM, through its guest agent.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"};
const struct verb verb_shell = {"shell", cmd_shell, "shell [-s SIM] NODE",
		"An interactive /bin/sh inside NODE.  Not for backend=qemu nodes (their agent\n"
		"has no terminal): use `netsim console NODE` there.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"};
const struct verb verb_log = {"log", cmd_log, "log [-s SIM] [-f] NODE",
		"The console output of NODE's PID 1 (its init and what init starts); for a\n"
		"backend=qemu node, the VM's serial console (kernel messages, init's output).\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"  -f, --follow     keep printing new output until the sim goes down\n"};
