/* netsim shell: an interactive login shell in a node (run_in_node, cmd_exec.c). */
#include <unistd.h>

#include "cli/cli.h"

static int cmd_shell(int argc, char **argv, struct error *err)
{
	const char *given;
	enum tty_choice tty;
	int rc = parse_enter_options(argc, argv, &given, &tty, err);
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc)
		return verb_usage(err, "expects one NODE");
	char *cmd[] = {"/bin/sh", "-l", NULL};
	return run_in_node(argv, given, argv[optind], cmd, true, tty, err);
}

const struct verb verb_shell = {"shell", "shell [-s SIM] [-t|-T] NODE",
		"An interactive /bin/sh inside NODE, on a pseudo-terminal netsim relays (your\n"
		"terminal is in raw mode meanwhile and restored afterwards; window size\n"
		"changes follow).  The shell's exit status passes through.  Terminal choice as\n"
		"for exec.  Not for backend=qemu nodes (their agent has no terminal): use\n"
		"`netsim console NODE` there.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"  -t, --tty        a pseudo-terminal even when stdin or stdout is not a terminal\n"
		"  -T, --no-tty     no pseudo-terminal\n",
		.in_vm = VERB_NOT_IN_VM,
	.run = cmd_shell};
