/* netsim forward: 127.0.0.1:HOSTPORT on the host -> 127.0.0.1:NODEPORT in a node. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "net/netns.h"
#include "sim/json_out.h"
#include "sim/proc.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "tools/forward.h"
#include "topo/topo.h"
#include "util.h"

enum { OPT_BACKGROUND = OPT_VERB_BASE };

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	stop_requested = sig;
}

/* SIGINT/SIGTERM/SIGHUP are blocked except inside the relay's ppoll, where
 * `wait_mask` (the mask from before) lets them in. */
static void catch_stop_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = on_stop };  /* no SA_RESTART: ppoll returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	stop_signals_block(wait_mask);
}

static void print_started(const char *sim, const char *node, uint16_t host_port,
			  uint16_t node_port, pid_t pid, bool json)
{
	if (json) {
		char listen[32];
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", host_port);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "sim", json_object_new_string(sim));
		json_object_object_add(o, "node", json_object_new_string(node));
		json_object_object_add(o, "listen", json_object_new_string(listen));
		json_object_object_add(o, "host_port", json_object_new_int(host_port));
		json_object_object_add(o, "node_port", json_object_new_int(node_port));
		json_object_object_add(o, "pid", json_object_new_int(pid));
		json_out_write(stdout, o);
	} else {
		printf("forward: 127.0.0.1:%u -> %s/%s:%u (pid %d)\n", host_port, sim, node, node_port,
		       (int)pid);
		/* The well-known services: what to type next. */
		if (node_port == 80 || node_port == 8080)
			printf("  open http://127.0.0.1:%u/\n", host_port);
		else if (node_port == 443)
			printf("  open https://127.0.0.1:%u/\n", host_port);
		else if (node_port == 22)
			printf("  ssh -p %u root@127.0.0.1\n", host_port);
	}
	fflush(stdout);
}

/* The background relay's record, so that `netsim down` finds and stops it. */
static int write_record(const char *sim, uint16_t port, char *path, size_t len,
			struct error *err)
{
	char dir[PATH_MAX], name[8];
	snprintf(name, sizeof(name), "%u", port);
	if (state_forward_path(dir, sizeof(dir), sim, NULL) < 0 ||
	    state_forward_path(path, len, sim, name) < 0)
		return error_set(err, ENAMETOOLONG, "sim %s", sim);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "create %s (is sim %s going down?)", dir, sim);
	return proc_pid_write(path, getpid(), err);
}

/* Detach: double fork + setsid, stdio to /dev/null.  The listening socket is
 * already bound, so "port in use" reached the caller; the grandchild reports
 * over a pipe whether it could record itself.  Returns 0 in the relay process
 * (with *is_parent false), or the exit status for the caller (*is_parent true). */
static int go_background(const char *sim, const char *node, uint16_t host_port,
			 uint16_t node_port, bool json, char *record, size_t record_len,
			 bool *is_parent, struct error *err)
{
	int report[2];
	*is_parent = true;
	if (pipe2(report, O_CLOEXEC) < 0)
		return verb_fail(err, "forward: pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t child = fork();
	if (child < 0) {
		close(report[0]);
		close(report[1]);
		return verb_fail(err, "forward: fork: %s", strerror(errno));
	}
	if (child > 0) {
		close(report[1]);
		char msg[1200];
		size_t got = 0;
		ssize_t n;
		while (got < sizeof(msg) - 1 &&
		       (n = read(report[0], msg + got, sizeof(msg) - 1 - got)) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			got += (size_t)n;
		}
		msg[got] = '\0';
		close(report[0]);
		waitpid(child, NULL, 0);
		int pid;
		if (sscanf(msg, "ok %d", &pid) == 1) {
			print_started(sim, node, host_port, node_port, pid, json);
			return 0;
		}
		return verb_fail(err, "forward: %s", got ? msg : "the background process died");
	}
	/* The middle process: leave the caller's session, then let go of the relay. */
	close(report[0]);
	if (setsid() < 0)
		_exit(1);
	pid_t relay = fork();
	if (relay != 0)
		_exit(relay < 0);
	*is_parent = false;
	if (chdir("/") < 0) {
		/* "/" always exists; nothing useful to do otherwise */
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	char msg[1200];
	int len;
	int r = write_record(sim, host_port, record, record_len, err);
	if (r < 0)
		len = snprintf(msg, sizeof(msg), "%s", err->msg);
	else
		len = snprintf(msg, sizeof(msg), "ok %d", (int)getpid());
	if (write(report[1], msg, (size_t)len) < 0) {
		/* the caller is gone; run anyway, `down` still finds the record */
	}
	close(report[1]);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int cmd_forward(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = { { "sim", required_argument, NULL, 's' },
					      { "background", no_argument, NULL, OPT_BACKGROUND },
					      { "json", no_argument, NULL, OPT_JSON },
					      { "help", no_argument, NULL, OPT_HELP },
					      { NULL, 0, NULL, 0 } };
	const char *given = NULL;
	bool background = false, json = false;
	int c;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_BACKGROUND: background = true; break;
		case OPT_JSON: json = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind + 2 != argc)
		return verb_usage(err, "expects NODE HOSTPORT:NODEPORT");
	const char *node = argv[optind];
	uint16_t host_port, node_port;
	if (forward_parse_spec(argv[optind + 1], &host_port, &node_port, err) < 0)
		return verb_usage(err, "%s", err->msg);
	if (require_root(err))
		return EXIT_FAIL;

	char sim[TOPO_SIM_MAX + 1];
	if (sim_pick(given, sim, sizeof(sim), err) < 0)
		return EXIT_FAIL;
	struct topo t;
	if (sim_topology(sim, &t, err) < 0)
		return EXIT_FAIL;
	int idx = topo_find_node(&t, node);
	bool is_qemu = idx >= 0 && t.nodes[idx].backend == TOPO_BACKEND_QEMU;
	topo_free(&t);
	if (idx < 0)
		return verb_fail(err, "forward: sim %s has no node %s", sim, node);
	char netns_path[PATH_MAX], run_dir[PATH_MAX];
	if (state_netns_path(netns_path, sizeof(netns_path), sim, node) < 0 ||
	    state_node_path(run_dir, sizeof(run_dir), sim, node, NULL) < 0)
		return verb_fail(err, "forward: node %s: path too long", node);
	cleanup_close int netns_fd = netns_open(netns_path, err);
	if (netns_fd < 0) {
		error_prefix(err, "forward: node %s has no network namespace", node);
		return EXIT_FAIL;
	}
	/* A VM's services live behind its virtual NICs, not on its netns's
	 * loopback: its guest agent connects for us (vm/forward.h). */
	struct qemu_tcp *vm = NULL;
	if (is_qemu && !(vm = qemu_tcp_open(run_dir, 10000, err))) {
		error_prefix(err, "forward: node %s", node);
		return EXIT_FAIL;
	}
	uint16_t bound;
	cleanup_close int listen_fd = forward_listen(host_port, &bound, err);
	if (listen_fd < 0) {
		qemu_tcp_close(vm);
		error_prefix(err, "forward");
		return EXIT_FAIL;
	}

	sigset_t wait_mask;
	catch_stop_signals(&wait_mask);
	char label[TOPO_SIM_MAX + TOPO_NAME_MAX + 2];
	snprintf(label, sizeof(label), "%s/%s", sim, node);
	char record[PATH_MAX] = "";
	if (background) {
		bool is_parent;
		int status = go_background(sim, node, bound, node_port, json, record,
					   sizeof(record), &is_parent, err);
		if (is_parent || status != 0) {
			qemu_tcp_close(vm);
			return status;
		}
	} else {
		print_started(sim, node, bound, node_port, getpid(), json);
	}

	struct forward_relay relay = { .listen_fd = listen_fd, .netns_fd = netns_fd,
				       .netns_path = netns_path, .node_port = node_port,
				       .label = label, .log = background ? NULL : stderr, .vm = vm };
	int r = forward_run(&relay, &wait_mask, &stop_requested, err);
	qemu_tcp_close(vm);
	/* Only our own record: a new forward may have taken the port since. */
	if (record[0] && proc_pid_read(record) == getpid())
		unlink(record);
	if (r < 0) {
		error_prefix(err, "forward");
		return EXIT_FAIL;
	}
	return 0;
}

const struct verb verb_forward = {
	"forward",
	"forward [-s SIM] NODE HOSTPORT:NODEPORT [--background] [--json]",
	"Make a TCP service of a node reachable from the host: connections to\n"
	"127.0.0.1:HOSTPORT on the host are relayed to 127.0.0.1:NODEPORT inside the\n"
	"node's network namespace (a backend=qemu node: inside the VM, through its\n"
	"guest agent; up to 4 forwards per VM at once), so a web UI such as OpenWrt's LuCI (uhttpd on\n"
	"port 80) opens at http://127.0.0.1:HOSTPORT/ and `ssh -p HOSTPORT root@127.0.0.1`\n"
	"reaches the node's sshd.  The listener is on the host's 127.0.0.1 only, never\n"
	"on other addresses; the host gets no route into the node.\n"
	"\n"
	"HOSTPORT 0 picks a free port.  The first line of output says which:\n"
	"  forward: 127.0.0.1:HOSTPORT -> SIM/NODE:NODEPORT (pid PID)\n"
	"and for NODEPORT 80, 8080, 443 or 22 a second line says what to open.\n"
	"\n"
	"In the foreground the relay runs until SIGINT or SIGTERM and exits 0; a\n"
	"connection the node refuses is closed and logged to stderr.  --background\n"
	"detaches once the port is bound (so errors such as a port in use are still\n"
	"reported), prints the same line and exits 0; stop the relay with\n"
	"`kill PID`, or `netsim down`, which stops every relay of the sim.  A relay\n"
	"also ends by itself when its node's network namespace goes away.\n"
	"\n"
	"Options:\n"
	"  -s, --sim SIM     the sim (default: the only one that is up)\n"
	"      --background  detach and keep relaying after the command returns\n"
	"      --json        print the first line as JSON: sim, node, listen,\n"
	"                    host_port, node_port, pid\n"
	"      --help        this text\n",
	.in_vm = VERB_NOT_IN_VM,
	.run = cmd_forward};
