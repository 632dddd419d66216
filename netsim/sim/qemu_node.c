/* backend=qemu nodes inside a sim (qemu_node.h): the marker, the node's
 * interfaces as NICs, parallel boots, and exec/probe through the guest agent. */
#include "sim/qemu_node.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "net/netns.h"
#include "sim/radio.h"
#include "sim/state.h"
#include "topo/ident.h"
#include "util.h"

#define MARKER "qemu"

/* ---- the marker --------------------------------------------------------- */

static int marker_write(const char *sim, const char *node, const struct qemu_node_setup *s,
			struct error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	if (state_node_path(path, sizeof(path), sim, node, MARKER) < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return error_set(err, errno, "write %s", tmp);
	fprintf(f, "rootfs=%s\nfiles=%s\nkernel=%s\nmem=%u\ncpus=%u\naccel=%s\n", s->rootfs,
		s->files, s->kernel_dir, s->memory_mib, s->cpus, s->accel);
	int failed = ferror(f);
	if (fclose(f) != 0 || failed || rename(tmp, path) < 0) {
		int e = errno ? errno : EIO;
		unlink(tmp);
		return error_set(err, e, "write %s", path);
	}
	return 0;
}

int qemu_node_setup_read(const char *sim, const char *node, struct qemu_node_setup *s,
			 struct error *err)
{
	char path[PATH_MAX];
	memset(s, 0, sizeof(*s));
	if (state_node_path(path, sizeof(path), sim, node, MARKER) < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return error_set(err, errno, "read %s", path);
	char line[PATH_MAX + 16];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		const char *v = eq + 1;
		if (strcmp(line, "rootfs") == 0)
			snprintf(s->rootfs, sizeof(s->rootfs), "%s", v);
		else if (strcmp(line, "files") == 0)
			snprintf(s->files, sizeof(s->files), "%s", v);
		else if (strcmp(line, "kernel") == 0)
			snprintf(s->kernel_dir, sizeof(s->kernel_dir), "%s", v);
		else if (strcmp(line, "mem") == 0)
			s->memory_mib = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(line, "cpus") == 0)
			s->cpus = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(line, "accel") == 0)
			snprintf(s->accel, sizeof(s->accel), "%s", v);
	}
	if (s->rootfs[0] != '/')
		return error_setmsg(err, EINVAL, "%s: no rootfs= line", path);
	return 0;
}

bool qemu_node_is(const char *sim, const char *node)
{
	char path[PATH_MAX];
	return state_node_path(path, sizeof(path), sim, node, MARKER) == 0 &&
	       access(path, F_OK) == 0;
}

/* ---- checks and creation ------------------------------------------------ */

int qemu_node_check(const struct topo *t, const struct topo_node *node, const char *topo_dir,
		    char *kernel_dir, size_t len, struct error *err)
{
	if (node->init && strpbrk(node->init, " \t"))
		return error_setmsg(err, EINVAL, "%s:%d: node %s: init=%s: a qemu node's init is "
				    "one path without arguments", t->path, node->line, node->name,
				    node->init);
	if (node->qemu_kernel) {
		char path[PATH_MAX * 2];
		struct stat st;
		if (node->qemu_kernel[0] == '/')
			snprintf(path, sizeof(path), "%s", node->qemu_kernel);
		else
			snprintf(path, sizeof(path), "%s/%s", topo_dir, node->qemu_kernel);
		char resolved[PATH_MAX];
		if (!realpath(path, resolved) || stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode))
			return error_setmsg(err, ENOTDIR, "%s:%d: node %s: kernel=%s is not a directory "
					    "(give a directory as `make kernel` writes: vmlinuz, "
					    "initramfs.cpio.gz, modules)", t->path, node->line,
					    node->name, node->qemu_kernel);
		snprintf(kernel_dir, len, "%s", resolved);
	} else {
		/* Recorded resolved: `node start` later boots the same kernel, whatever
		 * its environment says. */
		const char *dir = qemu_kernel_dir();
		char resolved[PATH_MAX];
		snprintf(kernel_dir, len, "%s", realpath(dir, resolved) ? resolved : dir);
	}
	if (qemu_check(kernel_dir, NULL, err) < 0)
		return error_prefix(err, "%s:%d: node %s (backend=qemu)", t->path, node->line,
				    node->name);
	return 0;
}

int qemu_node_create(const char *sim, const char *node, const struct qemu_node_setup *setup,
		     struct error *err)
{
	char path[PATH_MAX];
	if (state_node_path(path, sizeof(path), sim, node, NULL) < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	/* `down` finds nodes by their directories and VMs by the marker: both
	 * before anything else of the node exists. */
	if (mkdir(path, 0755) < 0)
		return error_set(err, errno, "node %s: create %s", node, path);
	int r = marker_write(sim, node, setup, err);
	if (r == 0) {
		state_netns_path(path, sizeof(path), sim, node);
		r = netns_create(path, err);
	}
	return r < 0 ? error_prefix(err, "node %s", node) : 0;
}

/* ---- one boot ------------------------------------------------------------ */

struct nic_order {
	int line, seq;
	const char *ifname;
};

static int cmp_nic(const void *a, const void *b)
{
	const struct nic_order *x = a, *y = b;
	return x->line != y->line ? x->line - y->line : x->seq - y->seq;
}

/* The node's interfaces in file order (the order `up` numbered eth0, eth1...). */
static int collect_nics(const struct topo *t, unsigned idx, struct qemu_nic **out, unsigned *n,
			struct error *err)
{
	unsigned cap = 0;
	for (unsigned l = 0; l < t->nlinks; l++)
		cap += (t->links[l].a.node == idx) + (t->links[l].b.node == idx);
	for (unsigned s = 0; s < t->nsegments; s++)
		for (unsigned m = 0; m < t->segments[s].nmembers; m++)
			cap += t->segments[s].members[m].node == idx;
	struct nic_order *order = calloc(cap + 1, sizeof(*order));
	*out = calloc(cap + 1, sizeof(**out));
	if (!order || !*out) {
		free(order);
		free(*out);
		*out = NULL;
		return error_set(err, ENOMEM, "node %s", t->nodes[idx].name);
	}
	unsigned k = 0;
	int seq = 0;
	for (unsigned l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];
		if (lk->a.node == idx)
			order[k++] = (struct nic_order){lk->line, seq++, lk->a.ifname};
		if (lk->b.node == idx)
			order[k++] = (struct nic_order){lk->line, seq++, lk->b.ifname};
	}
	for (unsigned s = 0; s < t->nsegments; s++)
		for (unsigned m = 0; m < t->segments[s].nmembers; m++)
			if (t->segments[s].members[m].node == idx)
				order[k++] = (struct nic_order){t->segments[s].line, seq++,
								t->segments[s].members[m].ifname};
	qsort(order, k, sizeof(*order), cmp_nic);
	for (unsigned i = 0; i < k; i++) {
		snprintf((*out)[i].ifname, sizeof((*out)[i].ifname), "%s", order[i].ifname);
		ident_mac(t->sim, t->nodes[idx].name, order[i].ifname, (*out)[i].mac);
	}
	*n = k;
	free(order);
	return 0;
}

static int boot_one(const char *sim, const struct topo *t, unsigned idx, struct qemu_vm *vm,
		    struct error *err)
{
	const struct topo_node *node = &t->nodes[idx];
	struct qemu_node_setup setup;
	char run_dir[PATH_MAX], netns[PATH_MAX];
	int r = qemu_node_setup_read(sim, node->name, &setup, err);
	if (r < 0)
		return error_prefix(err, "node %s", node->name);
	/* (its cpio is then read by path: this narrows the window, see node.c) */
	if ((r = state_check_lower("rootfs", setup.rootfs, true, err)) < 0 ||
	    (setup.files[0] && (r = state_check_lower("files", setup.files, false, err)) < 0))
		return error_prefix(err, "node %s", node->name);
	state_node_path(run_dir, sizeof(run_dir), sim, node->name, NULL);
	state_netns_path(netns, sizeof(netns), sim, node->name);
	cleanup_free struct qemu_nic *nics = NULL;
	unsigned n_nics = 0;
	if ((r = collect_nics(t, idx, &nics, &n_nics, err)) < 0)
		return r;
	/* What a container node gets in its environment (node.c): meshlite's init
	 * configures the address and babeld from these in the VM just the same. */
	char env_sim[64], env_node[64], env_addr[96], env_addr6[96];
	snprintf(env_sim, sizeof(env_sim), "NETSIM_SIM=%s", sim);
	snprintf(env_node, sizeof(env_node), "NETSIM_NODE=%s", node->name);
	snprintf(env_addr, sizeof(env_addr), "NETSIM_ADDR=%s", node->addr4);
	snprintf(env_addr6, sizeof(env_addr6), "NETSIM_ADDR6=%s", node->addr6);
	/* comma-separated: the kernel command line carries it, without blanks */
	char env_wireless[1024];
	snprintf(env_wireless, sizeof(env_wireless), "NETSIM_WIRELESS=");
	sim_radio_ifnames(t, idx, ',', env_wireless + strlen(env_wireless),
			  sizeof(env_wireless) - strlen(env_wireless));
	const char *env[] = {env_sim, env_node, env_addr, env_addr6, env_wireless, NULL};
	struct qemu_node_config cfg = {
		.name = node->name,
		.netns_path = netns,
		.run_dir = run_dir,
		.rootfs_dir = setup.rootfs,
		.files_dir = setup.files[0] ? setup.files : NULL,
		.kernel_dir = setup.kernel_dir[0] ? setup.kernel_dir : NULL,
		.nics = nics,
		.n_nics = n_nics,
		.env = env,
		.init = node->init,
		.memory_mib = setup.memory_mib,
		.cpus = setup.cpus,
	};
	if ((r = qemu_node_start(&cfg, vm, err)) < 0)
		return r;
	snprintf(setup.accel, sizeof(setup.accel), "%s", vm->accel);
	if ((r = marker_write(sim, node->name, &setup, err)) < 0 ||
	    (r = state_pidfile_write(sim, node->name, vm->pid, err)) < 0) {
		struct error ignored;
		qemu_node_stop(run_dir, &ignored);
		return error_prefix(err, "node %s", node->name);
	}
	return 0;
}

int qemu_node_boot(const char *sim, const struct topo *t, unsigned idx, struct qemu_vm *vm,
		   struct error *err)
{
	return boot_one(sim, t, idx, vm, err);
}

/* ---- parallel boots ------------------------------------------------------ */

/* What a boot child sends back. */
struct boot_report {
	int ret;
	struct qemu_vm vm;
	struct error err;
};

/* A child that dies with its parent: a killed `up` leaves no boot going on
 * (a VM that was already spawned is found by `down` through qemu.pid). */
static pid_t fork_tied(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* ^C at a terminal reaches the whole process group: the children stop at
	 * once and `up` (which handles the signal) tears down. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	return 0;
}

int qemu_node_boot_all(const char *sim, const struct topo *t, const unsigned *idx,
		       unsigned count, struct qemu_vm *vms, volatile sig_atomic_t *interrupted,
		       struct error *err)
{
	if (count == 0)
		return 0;
	pid_t *pids = calloc(count, sizeof(*pids));
	struct pollfd *fds = calloc(count, sizeof(*fds));
	struct boot_report *reports = calloc(count, sizeof(*reports));
	size_t *got = calloc(count, sizeof(*got));
	int r = 0;
	if (!pids || !fds || !reports || !got) {
		r = error_set(err, ENOMEM, "boot VMs");
		goto out;
	}
	for (unsigned k = 0; k < count; k++)
		fds[k].fd = -1;
	fflush(NULL);
	for (unsigned k = 0; k < count && r == 0; k++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			r = error_set(err, errno, "pipe");
			break;
		}
		pids[k] = fork_tied();
		if (pids[k] < 0) {
			r = error_set(err, errno, "fork");
			close(p[0]);
			close(p[1]);
			break;
		}
		if (pids[k] == 0) {
			close(p[0]);
			struct boot_report rep = {0};
			rep.ret = boot_one(sim, t, idx[k], &rep.vm, &rep.err);
			free(pids);  /* the parent's, for memory checkers */
			free(fds);
			free(reports);
			free(got);
			_exit(write_all(p[1], &rep, sizeof(rep)) < 0 ? 2 : 0);
		}
		close(p[1]);
		fds[k] = (struct pollfd){.fd = p[0], .events = POLLIN};
	}
	/* Wait for every report (or the end of a child that died without one). */
	for (unsigned open = 0;;) {
		open = 0;
		for (unsigned k = 0; k < count; k++)
			open += fds[k].fd >= 0;
		if (open == 0 || r < 0)
			break;
		if (*interrupted) {
			r = error_setmsg(err, EINTR, "interrupted by signal %d", (int)*interrupted);
			break;
		}
		if (poll(fds, count, 500) < 0 && errno != EINTR) {
			r = error_set(err, errno, "poll");
			break;
		}
		for (unsigned k = 0; k < count; k++) {
			if (fds[k].fd < 0 || !fds[k].revents)
				continue;
			ssize_t n = read(fds[k].fd, (char *)&reports[k] + got[k],
					 sizeof(reports[k]) - got[k]);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0) {
				got[k] += (size_t)n;
				if (got[k] < sizeof(reports[k]))
					continue;
			}
			close(fds[k].fd);
			fds[k].fd = -1;
			const char *name = t->nodes[idx[k]].name;
			if (got[k] < sizeof(reports[k]))
				r = error_setmsg(err, ECHILD, "node %s: the boot process died", name);
			else if (reports[k].ret < 0)
				r = (*err = reports[k].err, -reports[k].err.errnum);
			else
				vms[k] = reports[k].vm;
		}
	}
out:
	/* On failure the other boots are abandoned: their children die here, their
	 * VMs (if spawned) are the caller's teardown's. */
	for (unsigned k = 0; pids && k < count; k++) {
		if (pids[k] <= 0)
			continue;
		if (r < 0)
			kill(pids[k], SIGKILL);
		helper_wait(pids[k], NULL);
	}
	for (unsigned k = 0; fds && k < count; k++)
		if (fds[k].fd >= 0)
			close(fds[k].fd);
	free(pids);
	free(fds);
	free(reports);
	free(got);
	return r;
}

/* ---- stop ------------------------------------------------------------------ */

int qemu_node_halt(const char *sim, const char *node, pid_t *old_pid, struct error *err)
{
	char run_dir[PATH_MAX], path[PATH_MAX];
	if (state_node_path(run_dir, sizeof(run_dir), sim, node, NULL) < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	*old_pid = qemu_node_pid(run_dir);
	int r = qemu_node_stop(run_dir, err);
	if (r < 0)
		return error_prefix(err, "node %s", node);
	state_node_path(path, sizeof(path), sim, node, "pid");
	unlink(path);
	return 0;
}

void qemu_node_teardown(const char *sim, const char *node)
{
	pid_t old;
	struct error ignored;
	if (qemu_node_is(sim, node))
		qemu_node_halt(sim, node, &old, &ignored);
}

/* ---- through the agent ------------------------------------------------------- */

static int running_run_dir(const char *sim, const char *node, char *run_dir, size_t len,
			   struct error *err)
{
	if (state_node_path(run_dir, len, sim, node, NULL) < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	if (qemu_node_pid(run_dir) <= 0)
		return error_setmsg(err, ESRCH, "node %s is not running", node);
	return 0;
}

int qemu_node_exec(const char *sim, const char *node, char *const argv[], int *status,
		   struct error *err)
{
	char run_dir[PATH_MAX];
	int r = running_run_dir(sim, node, run_dir, sizeof(run_dir), err);
	if (r < 0)
		return r;
	/* No timeout: the command runs as long as it runs, as in a container. */
	return qemu_agent_exec(run_dir, argv, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, 0, status,
			       err);
}

/* Runs in the guest with the addresses as $1...: one pinger per address until
 * it answers, then "INDEX RTT" on stdout. */
static const char probe_script[] =
	"i=0\n"
	"for a in \"$@\"; do\n"
	"  (while :; do\n"
	"     t=$(ping -c 1 -W 1 \"$a\" 2>/dev/null | sed -n 's/.*time=\\([0-9.]*\\).*/\\1/p')\n"
	"     [ -n \"$t\" ] && { echo \"$i $t\"; exit 0; }\n"
	"     sleep 0.5\n"
	"   done) &\n"
	"  i=$((i + 1))\n"
	"done\n"
	"wait\n";

int qemu_node_probe_start(const char *sim, const char *node, const char *const *addrs,
			  unsigned n, pid_t *pid, int *fd, struct error *err)
{
	char run_dir[PATH_MAX];
	int r = running_run_dir(sim, node, run_dir, sizeof(run_dir), err);
	if (r < 0)
		return r;
	char **argv = calloc(n + 5, sizeof(*argv));
	if (!argv)
		return error_set(err, ENOMEM, "node %s", node);
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)probe_script;
	argv[3] = "netsim-reach";
	for (unsigned i = 0; i < n; i++) {
		argv[4 + i] = strdup(addrs[i]);
		if (!argv[4 + i]) {
			r = error_set(err, ENOMEM, "node %s", node);
			goto out;
		}
		argv[4 + i][strcspn(argv[4 + i], "/")] = '\0';  /* 10.13.0.1/32 */
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = error_set(err, errno, "pipe");
		goto out;
	}
	fflush(NULL);
	*pid = fork_tied();
	if (*pid < 0) {
		r = error_set(err, errno, "fork");
		close(p[0]);
		close(p[1]);
		goto out;
	}
	if (*pid == 0) {
		int status;
		struct error e;
		close(p[0]);
		_exit(qemu_agent_exec(run_dir, argv, -1, p[1], -1, 0, &status, &e) < 0 ? 1 : 0);
	}
	close(p[1]);
	*fd = p[0];
out:
	for (unsigned i = 0; i < n; i++)
		free(argv[4 + i]);
	free(argv);
	return r;
}

void qemu_node_probe_stop(pid_t pid, int fd)
{
	if (fd >= 0)
		close(fd);
	if (pid > 0) {
		/* Its agent connection closes with it: the agent kills the pingers. */
		kill(pid, SIGKILL);
		helper_wait(pid, NULL);
	}
}
