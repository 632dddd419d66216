/* netsim log: the console output of a node's PID 1, escaped. */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <string.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "sim/qemu_node.h"
#include "sim/sim.h"
#include "sim/state.h"

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
		"what a node wrote cannot drive your terminal.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"  -f, --follow     keep printing new output until the sim goes down\n"
		"      --raw        the bytes as they are, escape sequences included\n",
		.in_vm = VERB_IN_VM,
	.run = cmd_log};
