/* netsim console (the serial console of a QEMU node). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "topo/topo.h"
#include "util.h"

#define DETACH_KEY 0x1d  /* Ctrl-] as telnet and virsh use it */

static struct termios saved_termios;
static bool terminal_raw;

static void restore_terminal(void)
{
	if (terminal_raw) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
		terminal_raw = false;
	}
}

/* Relay between the terminal and the console socket until Ctrl-], the VM
 * closing the console, or (stdin not a terminal) end of input plus a moment for
 * the last output. */
static int relay(int sock, const char *node, struct error *err)
{
	char buf[4096];
	bool input_open = true;
	int drain_ms = -1;

	for (;;) {
		struct pollfd fds[2] = { { .fd = sock, .events = POLLIN },
					 { .fd = input_open ? STDIN_FILENO : -1, .events = POLLIN } };
		int r = poll(fds, 2, drain_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return verb_fail(err, "console %s: poll: %s", node, strerror(errno));
		}
		if (r == 0)
			return 0;  /* input ended and the console went quiet */
		if (fds[0].revents) {
			ssize_t n = read(sock, buf, sizeof(buf));
			if (n <= 0) {
				restore_terminal();
				fputc('\n', stderr);  /* off the console's last line */
				return verb_fail(err, "console %s: closed (the VM stopped)", node);
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				return EXIT_FAIL;  /* our stdout went away: nobody to tell */
		}
		if (input_open && fds[1].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				input_open = false;
				drain_ms = 1000;
				continue;
			}
			char *detach = memchr(buf, DETACH_KEY, (size_t)n);
			size_t len = detach ? (size_t)(detach - buf) : (size_t)n;
			if (len && write_all(sock, buf, len) < 0)
				return verb_fail(err, "console %s: write: %s", node, strerror(errno));
			if (detach)
				return 0;
		}
	}
}

static int cmd_console(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = { { "sim", required_argument, NULL, 's' },
					      { "help", no_argument, NULL, OPT_HELP },
					      { NULL, 0, NULL, 0 } };
	const char *given = NULL;
	int c;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind + 1 != argc)
		return verb_usage(err, "expects one NODE");
	const char *node = argv[optind];
	if (require_root(err))
		return EXIT_FAIL;

	char sim[TOPO_SIM_MAX + 1], path[PATH_MAX];
	if (sim_pick(given, sim, sizeof(sim), err) < 0)
		return EXIT_FAIL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (state_node_path(path, sizeof(path), sim, node, "console.sock") < 0 ||
	    strlen(path) >= sizeof(addr.sun_path))
		return verb_fail(err, "console %s: state path too long", node);
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return verb_fail(err, "console %s: no serial console (%s missing): only backend=qemu nodes have "
				 "one; `netsim log %s` shows a container node's console", node, path, node);
	strcpy(addr.sun_path, path);
	cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return verb_fail(err, "console %s: connect %s: %s (is the VM running?)", node, path,
				 strerror(errno));

	signal(SIGPIPE, SIG_IGN);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
		struct termios raw = saved_termios;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) {
			terminal_raw = true;
			fprintf(stderr, "netsim: console of %s (sim %s); Ctrl-] detaches\r\n", node, sim);
		}
	}
	int ret = relay(sock, node, err);
	restore_terminal();
	if (ret == 0 && isatty(STDIN_FILENO))
		fprintf(stderr, "\nnetsim: detached from %s\n", node);
	return ret;
}

const struct verb verb_console = {
	"console", "console [-s SIM] NODE",
	"Attach the terminal to the serial console of a QEMU node (backend=qemu): the\n"
	"kernel's messages, the rootfs init's output and, on OpenWrt, a login shell.\n"
	"The terminal is put in raw mode; Ctrl-] detaches and leaves the VM running.\n"
	"When stdin is not a terminal, its bytes are sent to the console and the\n"
	"command detaches one second after the input ends and the output goes quiet.\n"
	"The VM keeps one attached console at a time; a second one waits.  Everything\n"
	"the console printed is also in the node's console.log (`netsim log NODE`).\n"
	"\n"
	"Options:\n"
	"  -s, --sim SIM   the sim (default: the only one that is up)\n"
	"      --help      this text\n",
	.in_vm = VERB_NOT_IN_VM,
	.run = cmd_console};
