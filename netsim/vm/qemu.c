/* The QEMU backend (see qemu.h): finding QEMU and the kernel, the argv, and
 * QEMU's start and stop inside the node's netns.  The initrd is vm/initrd.c,
 * the TAP join net/redirect.c, the guest agent's client vm/agent.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../rootfs/vm/agent.h"
#include "../../rootfs/vm/mux.h"
#include "cleanup.h"
#include "net/netns.h"
#include "net/redirect.h"
#include "process.h"
#include "util.h"
#include "vm/initrd.h"
#include "vm/qemu.h"

#define PATH_LEN QEMU_PATH_LEN


/* ---- finding things ------------------------------------------------------ */

const char *qemu_kernel_dir(void)
{
	static char dir[PATH_LEN];
	const char *env = getenv("NETSIM_KERNEL_DIR");
	if (env && *env)
		return env;
	/* build/netsim -> build/kernel; PREFIX/bin/netsim -> PREFIX/share/netsim/kernel */
	char exe[PATH_LEN];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "/usr/local/share/netsim/kernel";
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../share/netsim/kernel", exe);
	if (access(dir, F_OK) == 0)
		return dir;
	snprintf(dir, sizeof(dir), "%s/kernel", exe);
	return dir;
}

static int find_qemu(char *out, struct error *err)
{
	const char *env = getenv("NETSIM_QEMU");
	if (env && *env) {
		if (access(env, X_OK) < 0)
			return error_set(err, errno, "NETSIM_QEMU=%s", env);
		snprintf(out, PATH_LEN, "%s", env);
		return 0;
	}
	const char *path = getenv("PATH");
	cleanup_free char *copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		return error_set(err, ENOMEM, "PATH");
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, PATH_LEN, "%s/%s", dir, QEMU_BINARY);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return error_setmsg(err, ENOENT, "%s not found in PATH: install the Debian package "
			    "qemu-system-x86 (apt-get install qemu-system-x86)", QEMU_BINARY);
}

/* The kernel dir has what `make kernel` writes, and every asked module. */
static int check_kernel(const char *dir, const char *const *modules, struct error *err)
{
	char path[PATH_LEN];
	static const char *const files[] = { "vmlinuz", "initramfs.cpio.gz", "modules" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (access(path, R_OK) < 0)
			return error_setmsg(err, ENOENT, "no kernel for QEMU nodes (%s: %s): run "
					    "`make kernel`", path, strerror(errno));
	}
	if (!modules)
		return 0;
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return error_set(err, errno, "%s", path);
	cleanup_free char *have = NULL;
	size_t size = 0;
	if (getdelim(&have, &size, '\0', f) < 0)
		return error_set(err, EIO, "%s: empty", path);
	for (const char *const *m = modules; *m; m++) {
		char want[128];
		snprintf(want, sizeof(want), "%s", *m);
		for (char *p = want; *p; p++)
			if (*p == '-')
				*p = '_';
		bool found = false;
		for (char *line = have; line && *line;) {
			char *end = strchr(line, '\n');
			size_t len = end ? (size_t)(end - line) : strlen(line);
			if (len == strlen(want) && strncmp(line, want, len) == 0)
				found = true;
			line = end ? end + 1 : NULL;
		}
		if (!found)
			return error_setmsg(err, ENOENT, "kernel module %s is not in %s/initramfs.cpio.gz: "
					    "add it to KERNEL_MODULES in rootfs/build-kernel.sh and run "
					    "`make kernel`", *m, dir);
	}
	return 0;
}

/* *chosen: the caller did not ask for one (so falling back is ours to do). */
static const char *pick_accel(const char *asked, bool *chosen)
{
	const char *env = getenv("NETSIM_QEMU_ACCEL");
	*chosen = false;
	if (asked && *asked)
		return asked;
	if (env && *env)
		return env;
	*chosen = true;
	/* /dev/kvm can exist without being usable (no permission, nested virt off). */
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "tcg";
	close(fd);
	return "kvm";
}

/* ---- the QEMU process ----------------------------------------------------- */

struct argv_builder {
	char *argv[192];
	int argc;
};

static int arg(struct argv_builder *b, struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int arg(struct argv_builder *b, struct error *err, const char *fmt, ...)
{
	va_list ap;
	if (b->argc >= (int)(sizeof(b->argv) / sizeof(b->argv[0])) - 1)
		return error_setmsg(err, E2BIG, "too many QEMU arguments");
	va_start(ap, fmt);
	int n = vasprintf(&b->argv[b->argc], fmt, ap);
	va_end(ap);
	if (n < 0)
		return error_set(err, ENOMEM, "QEMU arguments");
	b->argv[++b->argc] = NULL;
	return 0;
}

static void argv_free(struct argv_builder *b)
{
	for (int i = 0; i < b->argc; i++)
		free(b->argv[i]);
	b->argc = 0;
}

static int build_argv(const struct qemu_node_config *cfg, const char *qemu, const char *kernel_dir,
		      const char *accel, const int *tap_fds, struct argv_builder *b,
		      struct error *err)
{
	char path[PATH_LEN];
	cleanup_free char *cmdline = NULL;
	size_t cmdline_size = 0;
	FILE *c = open_memstream(&cmdline, &cmdline_size);
	if (!c)
		return error_set(err, ENOMEM, "kernel command line");
	/* quiet: the console log stays readable and TCG boots faster without
	 * printing at 115200 baud; panic=-1 with -no-reboot makes a guest panic end
	 * QEMU, which start and status notice. */
	fprintf(c, "console=ttyS0 quiet panic=-1 rdinit=/netsim/init netsim.node=%s", cfg->name);
	if (cfg->init)
		fprintf(c, " netsim.init=%s", cfg->init);
	for (unsigned i = 0; i < cfg->n_nics; i++) {
		const uint8_t *m = cfg->nics[i].mac;
		fprintf(c, " netsim.nic=%02x:%02x:%02x:%02x:%02x:%02x,%s", m[0], m[1], m[2], m[3],
			m[4], m[5], cfg->nics[i].ifname);
	}
	for (const char *const *e = cfg->env; e && *e; e++) {
		/* Unknown NAME=VALUE words become init's environment; a space would
		 * split the word. */
		if (strchr(*e, ' ') || !strchr(*e, '=')) {
			fclose(c);
			return error_setmsg(err, EINVAL, "environment %s: must be NAME=VALUE without spaces", *e);
		}
		fprintf(c, " %s", *e);
	}
	if (fclose(c) != 0)
		return error_set(err, ENOMEM, "kernel command line");

	int ret = 0;
	bool kvm = strcmp(accel, "kvm") == 0;
#define ARG(...) do { if ((ret = arg(b, err, __VA_ARGS__)) < 0) return ret; } while (0)
	ARG("%s", qemu);
	ARG("-name");
	ARG("%s", cfg->name);
	ARG("-machine");
	ARG("pc");
	/* TCG's translation cache defaults to 1 GiB (of which a guest this small
	 * touches a fraction, but all of it is reserved); 64 MiB is plenty for
	 * one router and keeps QEMU's footprint near the guest's own memory. */
	ARG("-accel");
	ARG("%s", kvm ? "kvm" : "tcg,tb-size=64");
	ARG("-cpu");
	ARG("%s", kvm ? "host" : "max");
	ARG("-m");
	ARG("%uM", cfg->memory_mib ? cfg->memory_mib : QEMU_DEFAULT_MEMORY_MIB);
	ARG("-smp");
	ARG("%u", cfg->cpus ? cfg->cpus : 1);
	ARG("-nodefaults");
	ARG("-no-user-config");
	ARG("-display");
	ARG("none");
	ARG("-no-reboot");
	ARG("-kernel");
	ARG("%s/vmlinuz", kernel_dir);
	qemu_run_path(path, cfg->run_dir, "initrd");
	ARG("-initrd");
	ARG("%s", path);
	ARG("-append");
	ARG("%s", cmdline);
	/* The console: a unix socket `netsim console` attaches to, logged to a file
	 * whether or not anyone is attached. */
	char log[PATH_LEN];
	qemu_run_path(path, cfg->run_dir, "console.sock");
	qemu_run_path(log, cfg->run_dir, "console.log");
	ARG("-chardev");
	ARG("socket,id=console,path=%s,server=on,wait=off,logfile=%s,logappend=on", path, log);
	ARG("-serial");
	ARG("chardev:console");
	qemu_run_path(path, cfg->run_dir, "agent.sock");
	ARG("-device");
	ARG("virtio-serial-pci,id=vser");
	ARG("-chardev");
	ARG("socket,id=agent,path=%s,server=on,wait=off", path);
	ARG("-device");
	ARG("virtserialport,bus=vser.0,chardev=agent,name=%s", AGENT_PORT_NAME);
	/* `netsim forward`'s TCP streams: ports of their own (vm/forward.h). */
	for (unsigned i = 0; i < MUX_PORTS; i++) {
		char leaf[16];
		snprintf(leaf, sizeof(leaf), "tcp%u.sock", i);
		qemu_run_path(path, cfg->run_dir, leaf);
		ARG("-chardev");
		ARG("socket,id=tcp%u,path=%s,server=on,wait=off", i, path);
		ARG("-device");
		ARG("virtserialport,bus=vser.0,chardev=tcp%u,name=%s%u", i, MUX_PORT_PREFIX, i);
	}
	for (unsigned i = 0; i < cfg->n_nics; i++) {
		const uint8_t *m = cfg->nics[i].mac;
		ARG("-netdev");
		ARG("tap,id=net%u,fd=%d", i, tap_fds[i]);
		ARG("-device");
		ARG("virtio-net-pci,netdev=net%u,mac=%02x:%02x:%02x:%02x:%02x:%02x", i, m[0], m[1],
		    m[2], m[3], m[4], m[5]);
	}
#undef ARG
	return 0;
}

static int write_pidfile(const char *run_dir, pid_t pid, struct error *err)
{
	char path[PATH_LEN], tmp[PATH_LEN + 8];
	qemu_run_path(path, run_dir, "qemu.pid");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return error_set(err, errno, "create %s", tmp);
	fprintf(f, "%d %llu\n", (int)pid, process_starttime(pid));
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return error_set(err, errno, "write %s", path);
	return 0;
}

pid_t qemu_node_pid(const char *run_dir)
{
	char path[PATH_LEN];
	if (qemu_run_path(path, run_dir, "qemu.pid") < 0)
		return 0;
	cleanup_fclose FILE *f = fopen(path, "re");
	int pid;
	unsigned long long start;
	if (!f || fscanf(f, "%d %llu", &pid, &start) != 2 || pid <= 0)
		return 0;
	if (process_starttime(pid) != start)
		return 0;
	/* A zombie is gone for our purposes. */
	char stat_path[64], state = 0;
	snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", pid);
	cleanup_fclose FILE *s = fopen(stat_path, "re");
	if (s && fscanf(s, "%*d (%*[^)]) %c", &state) == 1 && state == 'Z')
		return 0;
	return pid;
}

/* Forks twice so that QEMU is nobody's child here: `up` may exit, and a
 * long-lived caller collects no zombies.  The grandchild enters the netns and
 * execs QEMU; the pipe tells us its pid, then its exec errno or (at EOF) success. */
static int spawn_qemu(char *const argv[], int ns_fd, const int *tap_fds, unsigned n_taps,
		      const char *log_path, pid_t *out, struct error *err)
{
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe");
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return error_set(err, e, "fork");
	}
	if (child == 0) {
		close(pipe_fds[0]);
		setsid();
		pid_t grandchild = fork();
		if (grandchild != 0) {
			if (grandchild > 0)
				(void)!write(pipe_fds[1], &grandchild, sizeof(grandchild));
			_exit(grandchild > 0 ? 0 : 1);
		}
		int e = 0;
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (setns(ns_fd, CLONE_NEWNET) < 0 || null < 0 || log < 0 ||
		    dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			e = errno;
		/* QEMU inherits exactly stdio and the TAPs. */
		if (!e)
			close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		for (unsigned i = 0; !e && i < n_taps; i++)
			if (fcntl(tap_fds[i], F_SETFD, 0) < 0)
				e = errno;
		signal(SIGPIPE, SIG_DFL);
		if (!e) {
			execv(argv[0], argv);
			e = errno;
		}
		(void)!write(pipe_fds[1], &e, sizeof(e));
		_exit(127);
	}
	close(pipe_fds[1]);
	waitpid(child, NULL, 0);
	pid_t pid = 0;
	int e = 0;
	ssize_t n = read(pipe_fds[0], &pid, sizeof(pid));
	if (n != sizeof(pid)) {
		close(pipe_fds[0]);
		return error_setmsg(err, ECHILD, "starting %s: the helper process failed", argv[0]);
	}
	n = read(pipe_fds[0], &e, sizeof(e));
	close(pipe_fds[0]);
	if (n == sizeof(e)) {
		return error_set(err, e, "exec %s", argv[0]);
	}
	*out = pid;
	return 0;
}

/* The last `lines` lines of a file after byte `from`, indented, for error
 * messages (console.log is appended to across boots). */
static void file_tail(const char *path, off_t from, int lines, char *out, size_t size)
{
	out[0] = '\0';
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	static char buf[8192];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	if (start < from)
		start = from;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, start);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *p = buf + n;
	int seen = 0;
	while (p > buf && seen < lines)
		if (*--p == '\n')
			seen++;
	if (*p == '\n')
		p++;
	size_t used = 0;
	for (char *line = p; line && *line && used + 8 < size;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		while (len && line[len - 1] == '\r')
			len--;
		used += (size_t)snprintf(out + used, size - used, "\n  %.*s", (int)len, line);
		line = nl ? nl + 1 : NULL;
	}
}

/* QEMU is not our child (spawn_qemu forks twice): SIGTERM, SIGKILL after
 * grace_ms, then up to 5 s for the kernel to finish it. */
static void kill_and_wait(pid_t pid, unsigned grace_ms)
{
	if (pid > 0)
		(void)process_stop(pid, process_starttime(pid), grace_ms, 5000);
}

int qemu_node_stop(const char *run_dir, struct error *err)
{
	(void)err;
	pid_t pid = qemu_node_pid(run_dir);
	kill_and_wait(pid, 3000);
	static const char *const leaves[] = { "qemu.pid", "console.sock", "agent.sock", "initrd",
					      "tcp0.sock", "tcp1.sock", "tcp2.sock", "tcp3.sock",
					      "tcp0.lock", "tcp1.lock", "tcp2.lock", "tcp3.lock" };
	_Static_assert(MUX_PORTS == 4, "the leaves above name each port");
	char path[PATH_LEN];
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		if (qemu_run_path(path, run_dir, leaves[i]) == 0)
			unlink(path);
	return 0;
}

/* One boot with `accel`; all or nothing.  -ECHILD when QEMU exited on its own. */
static int boot(const struct qemu_node_config *cfg, const char *qemu, const char *kernel_dir,
		const char *accel, struct qemu_vm *vm, struct error *err)
{
	char path[PATH_LEN];
	struct argv_builder b = { .argc = 0 };
	int tap_fds[64];
	unsigned n_taps = 0;
	cleanup_close int ns_fd = -1;
	pid_t pid = 0;
	int ret;

	if (cfg->n_nics > sizeof(tap_fds) / sizeof(tap_fds[0]))
		return error_setmsg(err, E2BIG, "at most %zu links for a QEMU node",
				    sizeof(tap_fds) / sizeof(tap_fds[0]));
	snprintf(vm->accel, sizeof(vm->accel), "%s", accel);
	qemu_node_stop(cfg->run_dir, err);  /* what an earlier run may have left */
	struct stat st;
	qemu_run_path(path, cfg->run_dir, "console.log");
	off_t console_start = stat(path, &st) == 0 ? st.st_size : 0;
	qemu_run_path(path, cfg->run_dir, "qemu.log");
	off_t qemu_log_start = stat(path, &st) == 0 ? st.st_size : 0;

	qemu_run_path(path, cfg->run_dir, "initrd");
	if ((ret = qemu_write_initrd(kernel_dir, cfg->rootfs_dir, cfg->files_dir, path, err)) < 0)
		goto fail;
	if ((ns_fd = netns_open(cfg->netns_path, err)) < 0) {
		ret = ns_fd;
		goto fail;
	}
	for (unsigned i = 0; i < cfg->n_nics; i++)
		tap_fds[i] = -1;
	n_taps = cfg->n_nics;
	const char *veths[sizeof(tap_fds) / sizeof(tap_fds[0])];
	for (unsigned i = 0; i < cfg->n_nics; i++)
		veths[i] = cfg->nics[i].ifname;
	if ((ret = net_redirect_taps(ns_fd, cfg->netns_path, veths, cfg->n_nics, tap_fds,
				     err)) < 0 ||
	    (ret = build_argv(cfg, qemu, kernel_dir, accel, tap_fds, &b, err)) < 0)
		goto fail;
	qemu_run_path(path, cfg->run_dir, "qemu.log");
	long long started = now_ms();
	if ((ret = spawn_qemu(b.argv, ns_fd, tap_fds, n_taps, path, &pid, err)) < 0 ||
	    (ret = write_pidfile(cfg->run_dir, pid, err)) < 0)
		goto fail;
	/* QEMU has its own copies of the TAP fds now. */
	for (unsigned i = 0; i < n_taps; i++)
		close(tap_fds[i]);
	n_taps = 0;

	unsigned timeout = cfg->boot_timeout_ms ? cfg->boot_timeout_ms
						: strcmp(accel, "kvm") == 0 ? 60000 : 120000;
	long long deadline = started + timeout;
	for (;;) {
		struct error ping_err = { 0 };
		if (qemu_node_pid(cfg->run_dir) != pid) {
			char qemu_tail[2048], console_tail[2048];
			qemu_run_path(path, cfg->run_dir, "qemu.log");
			file_tail(path, qemu_log_start, 5, qemu_tail, sizeof(qemu_tail));
			qemu_run_path(path, cfg->run_dir, "console.log");
			file_tail(path, console_start, 10, console_tail, sizeof(console_tail));
			ret = error_setmsg(err, ECHILD, "QEMU exited during boot; its output:%s\n"
					   "last console lines:%s", qemu_tail[0] ? qemu_tail : " (none)",
					   console_tail[0] ? console_tail : " (none)");
			goto fail;
		}
		long long left = deadline - now_ms();
		if (left <= 0) {
			char console_tail[2048];
			qemu_run_path(path, cfg->run_dir, "console.log");
			file_tail(path, console_start, 10, console_tail, sizeof(console_tail));
			ret = error_setmsg(err, ETIMEDOUT, "VM not up within %u s (%s); last console lines:%s",
					   timeout / 1000, accel, console_tail[0] ? console_tail : " (none)");
			goto fail;
		}
		if (qemu_agent_ping(cfg->run_dir, left < 2000 ? (int)left : 2000, &ping_err) == 0)
			break;
		usleep(100000);
	}
	vm->pid = pid;
	vm->boot_ms = now_ms() - started;
	argv_free(&b);
	return 0;

fail:
	for (unsigned i = 0; i < n_taps; i++)
		if (tap_fds[i] >= 0)
			close(tap_fds[i]);
	argv_free(&b);
	if (pid > 0)
		kill_and_wait(pid, 0);
	struct error ignored;
	qemu_node_stop(cfg->run_dir, &ignored);
	return ret;
}

int qemu_check(const char *kernel_dir, const char *const *modules, struct error *err)
{
	char qemu[PATH_LEN];
	int ret = find_qemu(qemu, err);
	return ret < 0 ? ret : check_kernel(kernel_dir ? kernel_dir : qemu_kernel_dir(), modules, err);
}

int qemu_node_start(const struct qemu_node_config *cfg, struct qemu_vm *vm, struct error *err)
{
	char qemu[PATH_LEN];
	const char *kernel_dir = cfg->kernel_dir ? cfg->kernel_dir : qemu_kernel_dir();
	bool chosen;
	int ret;

	memset(vm, 0, sizeof(*vm));
	if ((ret = find_qemu(qemu, err)) < 0 || (ret = check_kernel(kernel_dir, cfg->modules, err)) < 0)
		return error_prefix(err, "node %s", cfg->name);
	const char *accel = pick_accel(cfg->accel, &chosen);
	if (strcmp(accel, "kvm") != 0 && strcmp(accel, "tcg") != 0)
		return error_setmsg(err, EINVAL, "node %s: accelerator %s: expected kvm or tcg",
				    cfg->name, accel);
	ret = boot(cfg, qemu, kernel_dir, accel, vm, err);
	/* A /dev/kvm that opens is not always a KVM that runs a guest (nested
	 * virtualisation without the MSRs QEMU sets: it aborts at once).  When we
	 * chose KVM ourselves, TCG is the answer. */
	if (ret == -ECHILD && chosen && strcmp(accel, "kvm") == 0) {
		error_clear(err);
		ret = boot(cfg, qemu, kernel_dir, "tcg", vm, err);
	}
	return ret < 0 ? error_prefix(err, "node %s", cfg->name) : 0;
}
