/* netsim log: the console output of a node's PID 1, escaped. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "sealed_exe.h"
#include "cli/cli.h"
#include "sim/qemu_node.h"
#include "sim/sim.h"
#include "sim/state.h"

/* Whether the node's own root has a logread (lstat only: nothing of the node's
 * is read or run from here; /proc/PID/root keeps the lookup inside its root). */
static bool node_has_logread(const char *sim, const char *node)
{
	pid_t pid;
	struct error ignored = {0};
	if (sim_node_pid(sim, node, &pid, &ignored) < 0 || pid <= 0 || qemu_node_is(sim, node))
		return false;
	static const char *const where[] = {"sbin/logread", "usr/sbin/logread", "bin/logread"};
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%d/root/%s", (int)pid, where[i]);
		if (lstat(path, &st) == 0)
			return true;
	}
	return false;
}

/* OpenWrt's procd hands its services' output to logd, not to the console, so
 * an OpenWrt node's console stays empty: show what `logread` says instead.  It
 * is the node's program, so it runs inside the node exactly as `netsim exec`
 * runs a command (namespaces, limits, seccomp, no tty), and its output is
 * escaped like the console's. */
static int log_from_logread(char **argv, const char *sim, const char *node, bool raw,
			    struct error *err)
{
	/* entering a node runs a sealed copy of this binary (it re-executes us once) */
	if (sealed_exe_ensure(argv - 1, err) < 0)
		return verb_fail(err, "log %s: %s", node, err->msg);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return verb_fail(err, "log: pipe: %s", strerror(errno));
	fprintf(stderr, "(the console of %s is empty; this is `logread` in the node, which is "
		"where OpenWrt's procd logs)\n", node);
	fflush(stdout);
	pid_t child = fork();
	if (child < 0)
		return verb_fail(err, "log: fork: %s", strerror(errno));
	if (child == 0) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(p[1], STDOUT_FILENO) < 0 ||
		    dup2(p[1], STDERR_FILENO) < 0)
			_exit(EXIT_CANNOT_RUN);
		struct error e = {0};
		char *cmd[] = {"logread", NULL};
		_exit(run_in_node(argv, sim, node, cmd, false, TTY_NEVER, &e));
	}
	close(p[1]);
	struct escaper esc = ESCAPER_INIT;
	char buf[65536];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (raw)
			fwrite(buf, 1, (size_t)n, stdout);
		else
			escape_write(&esc, stdout, buf, (size_t)n);
	}
	escape_finish(&esc, stdout);
	close(p[0]);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return verb_fail(err, "log %s: logread in the node failed (status %d)", node,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return EXIT_OK;
}

static int cmd_log(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"follow", no_argument, NULL, 'f'},
					      {"raw", no_argument, NULL, OPT_RAW},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	bool follow = false, raw = false;
	int c;
	while ((c = verb_getopt(argc, argv, "s:f", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case 'f': follow = true; break;
		case OPT_RAW: raw = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind + 1 != argc)
		return verb_usage(err, "expects one NODE");
	const char *node = argv[optind];
	char sim[TOPO_SIM_MAX + 1], path[PATH_MAX];
	if (sim_pick(given, sim, sizeof(sim), err) < 0)
		return EXIT_FAIL;
	if (!topo_valid_name(node, TOPO_NAME_MAX))
		return verb_fail(err, "log: sim %s has no node %s", sim, node);
	state_node_path(path, sizeof(path), sim, node, "console.log");
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return verb_fail(err, "log: sim %s has no node %s", sim, node);
	struct stat st;
	if (!follow && fstat(fd, &st) == 0 && st.st_size == 0 && node_has_logread(sim, node))
		return log_from_logread(argv, sim, node, raw, err);
	/* The console is the node's own output: escaped unless asked for raw. */
	struct escaper esc = ESCAPER_INIT;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (!raw)
				escape_write(&esc, stdout, buf, (size_t)n);
			else if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return EXIT_FAIL;  /* stdout went away: nobody to tell */
			if (ferror(stdout))
				return EXIT_FAIL;
			continue;
		}
		if (n < 0 && errno != EINTR)
			return verb_fail(err, "log: read %s: %s", path, strerror(errno));
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

const struct verb verb_log = {"log", "log [-s SIM] [-f] [--raw] NODE",
		"The console output of NODE's PID 1 (its init and what init starts); for a\n"
		"backend=qemu node, the VM's serial console (kernel messages, init's output).\n"
		"Control characters and broken UTF-8 are shown escaped (ESC as \\033), so\n"
		"what a node wrote cannot drive your terminal.  An OpenWrt node's console is\n"
		"empty (procd logs to logd): when the console is empty and the node has a\n"
		"logread, log runs it inside the node, as exec would, and shows its output\n"
		"(escaped the same way; a note on stderr says so).  Not with --follow: use\n"
		"`netsim exec NODE -- logread -f` there.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"  -f, --follow     keep printing new output until the sim goes down\n"
		"      --raw        the bytes as they are, escape sequences included\n",
		.in_vm = VERB_IN_VM,
	.run = cmd_log};
