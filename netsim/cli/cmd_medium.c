/* netsim _medium SIM: the medium process of a sim with radio segments (hidden;
 * `up` runs it, sim/radio.h).  It loads the sim's topology from the state dir,
 * opens the switch namespace and the control socket, and hands them to the
 * engine (netsim/medium/engine.h) until SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "medium/engine.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "topo/topo.h"

/* The control socket, 0600 from the start (umask around bind): only root
 * moves nodes or reads the counters. */
static int open_ctl(const char *path, struct error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return error_setmsg(err, ENAMETOOLONG, "%s: path too long for a socket", path);
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, errno, "socket");
	if (unlink(path) < 0 && errno != ENOENT) {
		close(fd);
		return error_set(err, errno, "remove stale %s", path);
	}
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	int e = errno;
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		e = r < 0 ? e : errno;
		close(fd);
		unlink(path);
		return error_set(err, e, "listen on %s", path);
	}
	return fd;
}

static int cmd_medium(int argc, char **argv, struct error *err)
{
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return print_help(current_verb);
	if (argc != 2)
		return verb_usage(err, "expects SIM");
	const char *sim = argv[1];
	if (!topo_valid_name(sim, TOPO_SIM_MAX))
		return verb_usage(err, "`%.64s` is not a sim name", sim);
	if (require_root(err))
		return EXIT_FAIL;
	/* run as /proc/self/exe, it would be "exe" in ps and top */
	prctl(PR_SET_NAME, "netsim-medium", 0, 0, 0);
	struct topo t;
	if (sim_topology(sim, &t, err) < 0) {
		return EXIT_FAIL;
	}
	char path[4096];
	state_netns_path(path, sizeof(path), sim, NULL);
	cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		topo_free(&t);
		return verb_fail(err, "_medium: open %s: %s", path, strerror(errno));
	}
	char sock[4096];
	state_sim_path(sock, sizeof(sock), sim, "medium.sock");
	cleanup_close int ctl = open_ctl(sock, err);
	if (ctl < 0) {
		topo_free(&t);
		return EXIT_FAIL;
	}
	fprintf(stderr, "netsim: _medium %s: pid %d, control socket %s\n", sim, (int)getpid(),
		sock);
	struct medium_config c = {
		.topo = &t,
		.netns_fd = ns,
		.ctl_fd = ctl,
		.port_name = sim_segment_port,
	};
	int r = medium_run(&c, err);
	unlink(sock);
	topo_free(&t);
	if (r < 0) {
		return EXIT_FAIL;
	}
	fprintf(stderr, "netsim: _medium %s: stopped\n", sim);
	return 0;
}

const struct verb verb_medium = {"_medium", "_medium SIM",
		"The medium process of SIM's radio segments (docs/topology.md, \"Radio\n"
		"segments\").  `netsim up` runs it; it is not meant to be run by hand.\n",
		.in_vm = VERB_HERE,
	.run = cmd_medium};
