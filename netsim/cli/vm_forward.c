/* Verbs on a sim started with `up --vm` run inside its VM (docs/vm.md): which
 * verbs do is the `in_vm` field of their table entry (cli.h); this finds the sim
 * the command line means, maps host files to VM-side ones and forwards it
 * (vmsim_exec), with stdout, stderr and exit status passed back. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "sim/json_out.h"
#include "sim/sim.h"
#include "sim/vmsim.h"

/* Index of the value of option -X/--long in argv (before "--"), or -1; for the
 * attached forms (-Xvalue, --long=value) *attached is set.  `options_first`:
 * the verb's options end at its first operand (exec: what follows is the
 * command's, whose own -s is not ours). */
static int find_option(int argc, char **argv, char shortopt, const char *longopt,
		       bool options_first, bool *attached)
{
	size_t llen = strlen(longopt);
	*attached = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0 || (options_first && a[0] != '-'))
			break;
		if ((a[0] == '-' && a[1] == shortopt && a[2] == '\0') ||
		    (strncmp(a, "--", 2) == 0 && strcmp(a + 2, longopt) == 0))
			return i + 1 < argc ? i + 1 : -1;
		if (a[0] == '-' && a[1] == shortopt && a[2] != '\0' && a[1] != '-') {
			*attached = true;
			return i;
		}
		if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, longopt, llen) == 0 && a[2 + llen] == '=') {
			*attached = true;
			return i;
		}
	}
	return -1;
}

static const char *option_value(char **argv, int index, bool attached)
{
	const char *a = argv[index];
	if (!attached)
		return a;
	const char *eq = strchr(a, '=');
	return a[1] == '-' && eq ? eq + 1 : a + 2;
}

/* The first operand that is not the value of -s/--sim (status SIM, run FILE). */
static int first_operand(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? i + 1 : -1;
		if (strcmp(a, "-s") == 0 || strcmp(a, "--sim") == 0) {
			i++;
			continue;
		}
		if (a[0] != '-' || a[1] == '\0')
			return i;
	}
	return -1;
}

/* stdout of a forwarded `status`, with the VM named in it. */
static void print_status(int fd, bool json, const char *sim)
{
	char accel[64], pid[32];
	vmsim_marker_get(sim, "accel", accel, sizeof(accel));
	vmsim_marker_get(sim, "pid", pid, sizeof(pid));
	off_t size = lseek(fd, 0, SEEK_END);
	cleanup_free char *buf = malloc((size_t)size + 1);
	if (!buf || pread(fd, buf, (size_t)size, 0) != size)
		return;
	buf[size] = '\0';
	char *split = json ? strchr(buf, '{') : strchr(buf, '\n');
	if (!split) {
		fputs(buf, stdout);
		return;
	}
	if (json) {
		/* the same object with "vm", "accel" and "qemu_pid" first */
		struct json_object *inner = json_tokener_parse(split);
		if (!json_object_is_type(inner, json_type_object)) {
			json_object_put(inner);
			fputs(buf, stdout);
			return;
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "vm", json_object_new_boolean(true));
		json_object_object_add(o, "accel", json_object_new_string(accel));
		json_object_object_add(o, "qemu_pid", json_object_new_int(atoi(pid)));
		json_object_object_foreach(inner, key, value)
			json_object_object_add(o, key, json_object_get(value));
		json_object_put(inner);
		fwrite(buf, 1, (size_t)(split - buf), stdout);
		json_out_write(stdout, o);
	} else {
		printf("%.*s  (in VM, accel %s, QEMU pid %s)%s", (int)(split - buf), buf,
		       accel[0] ? accel : "?", pid[0] ? pid : "?", split);
	}
}

int vm_forward(const struct verb *verb, int argc, char **argv, struct error *err)
{
	enum verb_in_vm kind = verb->in_vm;
	if (kind == VERB_HERE)
		return -1;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return -1;

	/* Which sim: -s SIM, status's operand, else the only one that is up. */
	char sim[TOPO_SIM_MAX + 1] = "";
	bool attached;
	int at = find_option(argc, argv, 's', "sim", kind == VERB_IN_VM_EXEC, &attached);
	if (at > 0) {
		snprintf(sim, sizeof(sim), "%s", option_value(argv, at, attached));
	} else if (kind == VERB_IN_VM_STATUS && (at = first_operand(argc, argv)) > 0) {
		snprintf(sim, sizeof(sim), "%s", argv[at]);
	} else {
		char **names;
		unsigned n;
		struct error ignored = { 0 };
		if (sim_names(&names, &n, &ignored) < 0)
			return -1;
		if (n == 1)
			snprintf(sim, sizeof(sim), "%s", names[0]);
		sim_names_free(names, n);
	}
	if (!sim[0] || !vmsim_is_vm(sim))
		return -1;

	if (kind == VERB_NOT_IN_VM) {
		if (strcmp(argv[0], "shell") == 0)
			return verb_fail(err, "shell: sim %s runs in a VM (--vm), whose guest agent has no "
					 "terminal: use `netsim exec -s %s NODE -- COMMAND`", sim, sim);
		return verb_fail(err, "%s: not available for sim %s, which runs in a VM (--vm)", argv[0], sim);
	}
	if (require_root(err))
		return EXIT_FAIL;
	char run_dir[PATH_MAX];
	vmsim_run_dir(sim, run_dir);
	char pid[32];
	vmsim_marker_get(sim, "pid", pid, sizeof(pid));
	if (!pid[0])
		return verb_fail(err, "%s: sim %s is still starting, or its `netsim up --vm` was interrupted "
				 "(then `netsim down %s` removes it)", argv[0], sim, sim);
	if (vmsim_vm_pid(sim) == 0)
		return verb_fail(err, "%s: the VM of sim %s is not running (its console: %s/console.log); "
				 "`netsim down %s` removes what is left", argv[0], sim, run_dir, sim);

	/* The command line as given, with host files made VM-side ones. */
	cleanup_free char **args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return verb_fail(err, "%s: out of memory", argv[0]);
	memcpy(args, argv, (size_t)argc * sizeof(*args));
	cleanup_close int in_fd = kind == VERB_IN_VM_EXEC && fcntl(STDIN_FILENO, F_GETFD) >= 0 ? dup(STDIN_FILENO) : -1;
	cleanup_close int out_fd = -1;
	const char *stdin_file = "-";
	char vm_file[PATH_MAX];
	if (kind == VERB_IN_VM_CAPTURE) {
		at = find_option(argc, argv, 'w', "write", false, &attached);
		const char *file = at > 0 ? option_value(argv, at, attached) : NULL;
		if (file && strcmp(file, "-") != 0) {
			out_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (out_fd < 0)
				return verb_fail(err, "capture: %s: %s", file, strerror(errno));
			args[at] = attached ? (argv[at][1] == '-' ? "--write=-" : "-w-") : "-";
		} else if (!file && isatty(STDOUT_FILENO)) {
			return verb_usage(err, "will not write pcap to a terminal: give -w FILE, or pipe "
					  "stdout into a program");
		}
	} else if (kind == VERB_IN_VM_RUN && (at = first_operand(argc, argv)) > 0) {
		/* The scenario goes in as the wrapper's stdin, under its own base name
		 * (messages say FILE:LINE). */
		in_fd = open(argv[at], O_RDONLY | O_CLOEXEC);
		if (in_fd < 0)
			return verb_fail(err, "run: %s: %s", argv[at], strerror(errno));
		const char *base = strrchr(argv[at], '/');
		snprintf(vm_file, sizeof(vm_file), "/tmp/netsim-run-%d/%s", (int)getpid(),
			 base ? base + 1 : argv[at]);
		stdin_file = vm_file;
		args[at] = vm_file;
	} else if (kind == VERB_IN_VM_STATUS) {
		out_fd = memfd_create("netsim-status", MFD_CLOEXEC);
		if (out_fd < 0)
			return verb_fail(err, "status: memfd: %s", strerror(errno));
	}
	/* The netsim inside runs every verb against this sim. */
	fflush(stdout);
	int status = 0;
	if (vmsim_exec(sim, stdin_file, argc, args, in_fd, out_fd >= 0 ? out_fd : STDOUT_FILENO,
		       &status, err) < 0) {
		error_prefix(err, "%s: sim %s (in a VM)", argv[0], sim);
		return EXIT_FAIL;
	}
	if (kind == VERB_IN_VM_STATUS) {
		bool json = false;
		for (int i = 1; i < argc; i++)
			json |= strcmp(argv[i], "--json") == 0;
		print_status(out_fd, json, sim);
	}
	return status;
}
