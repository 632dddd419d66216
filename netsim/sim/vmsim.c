/* The whole sim in one VM (vmsim.h, docs/vm.md "Whole sim in a VM").
 *
 * The VM's root filesystem is the kernel's base initramfs (busybox, modules,
 * agent under /netsim) plus one more cpio archive that qemu.c writes from a
 * staging directory we fill here: this netsim binary and the shared libraries it
 * has loaded (found with dl_iterate_phdr, so exactly what the dynamic linker
 * picked), every rootfs and files= directory the topology names, the topology
 * itself (at its own absolute path, so relative paths in it still resolve), and
 * /netsim-vm/init, which prepares the mounts netsim needs and stays PID 1.
 *
 * Copying the host's libraries (about 50 MB, most of it ICU data pulled in by
 * libarchive -> libxml2) rather than linking a static second netsim: Debian
 * lacks static archives of several of libarchive's and libpcap's dependencies,
 * and the copies are by construction the ones this binary was tested with.
 *
 * The agent was started by /netsim/init before our init ran, so its commands
 * see the raw initramfs root; ours live in PID 1's root (see vm_init).  Every
 * forwarded command therefore goes through a tiny busybox sh wrapper that waits
 * for the VM to be ready and chroots into /proc/1/root. */
#include "sim/vmsim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"
#include "vm/qemu.h"
#include "rootfs.h"
#include "sim/kernel.h"
#include "sim/sim.h"
#include "sim/state.h"

/* PID 1 of the VM, exec'd by /netsim/init (netsim.init=/netsim-vm/init).
 *
 * pivot_root(2) refuses to move the initramfs root away, and every node's
 * container pivots: so / first becomes a bind mount of itself stacked on the
 * initramfs, and busybox init (which reaps the orphaned node processes) runs
 * chrooted into it.  Its sysinit step mounts what netsim expects (/proc, /sys,
 * /dev, a tmpfs /run for the overlay upper dirs) and then marks the VM ready.
 * /tmp stays the root's own: topologies often live there. */
static const char vm_init[] =
	"#!/netsim/bin/sh\n"
	"# PID 1 of a whole-sim VM (netsim up --vm); written by netsim/vmsim.c.\n"
	"BB=/netsim/bin/busybox\n"
	"if [ \"$1\" = prepare ]; then\n"
	"\t$BB mount -t proc proc /proc\n"
	"\t$BB mount -t sysfs sysfs /sys\n"
	"\t$BB mount -t devtmpfs devtmpfs /dev\n"
	"\t$BB mkdir -p /dev/pts /dev/shm\n"
	"\t$BB mount -t devpts devpts /dev/pts\n"
	"\t$BB mount -t tmpfs -o mode=0755 tmpfs /run\n"
	"\t$BB chmod 1777 /tmp\n"
	"\t$BB mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null\n"
	"\t$BB mkdir -p /run/netns /run/netsim-vm\n"
	"\techo \"netsim-vm: ready\"\n"
	"\t$BB touch /run/netsim-vm/ready\n"
	"\texit 0\n"
	"fi\n"
	"$BB mount --bind / /netsim-vm/root || exec $BB sh\n"
	"cd /netsim-vm/root\n"
	"$BB mount --move . / || exec $BB sh\n"
	"exec $BB chroot . /netsim/bin/busybox init\n";

static const char vm_inittab[] = "::sysinit:/netsim/bin/sh /netsim-vm/init prepare\n";

/* Runs every forwarded command, under the agent (whose root is the raw
 * initramfs): waits until init marked the VM ready, optionally stores stdin as
 * the file $1 inside the VM, then runs netsim in PID 1's root.  $1 is "-" when
 * there is no file. */
static const char vm_wrapper[] =
	"PATH=/netsim/bin\n"
	"r=/proc/1/root\n"
	"i=0\n"
	"while [ ! -e $r/run/netsim-vm/ready ]; do\n"
	"\ti=$((i + 1))\n"
	"\tif [ $i -gt 1200 ]; then\n"
	"\t\techo 'netsim: the VM did not get ready (see the console log)' >&2\n"
	"\t\texit 125\n"
	"\tfi\n"
	"\tusleep 100000\n"
	"done\n"
	"f=$1\n"
	"shift\n"
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
	"if [ \"$f\" = - ]; then\n"
	"\texec /netsim/bin/chroot $r /usr/local/bin/netsim \"$@\"\n"
	"fi\n"
	"/netsim/bin/mkdir -p \"$r${f%/*}\" && /netsim/bin/cat >\"$r$f\" || exit 125\n"
	"/netsim/bin/chroot $r /usr/local/bin/netsim \"$@\"\n"
	"s=$?\n"
	"/netsim/bin/rm -rf \"$r${f%/*}\"\n"
	"exit $s\n";

#define VM_NETSIM "/usr/local/bin/netsim"
#define VM_ROOTFS_DIR "/usr/local/share/netsim/rootfs"
/* The inner `up` extracts the rootfs and starts every node under TCG. */
#define VM_UP_TIMEOUT_MS (300 * 1000)

static void vm_paths(const char *sim, char *marker, char *run_dir)
{
	if (marker)
		state_sim_path(marker, PATH_MAX, sim, "vm");
	if (run_dir)
		state_sim_path(run_dir, PATH_MAX, sim, "vm.d");
}

bool vmsim_is_vm(const char *sim)
{
	char marker[PATH_MAX];
	struct stat st;
	if (!topo_valid_name(sim, TOPO_SIM_MAX))
		return false;
	vm_paths(sim, marker, NULL);
	return stat(marker, &st) == 0;
}

void vmsim_marker_get(const char *sim, const char *key, char *out, size_t len)
{
	char marker[PATH_MAX], line[PATH_MAX + 64];
	size_t klen = strlen(key);
	out[0] = '\0';
	vm_paths(sim, marker, NULL);
	cleanup_fclose FILE *f = fopen(marker, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			snprintf(out, len, "%s", line + klen + 1);
			return;
		}
	}
}

/* ---- the staging directory ------------------------------------------------ */

/* The directories above path. */
static int mkdir_parents(const char *path, struct error *err)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	char *slash = strrchr(tmp, '/');
	if (!slash || slash == tmp)
		return 0;
	*slash = '\0';
	if (mkdir_p(tmp, 0755) < 0)
		return error_set(err, errno, "create %s", tmp);
	return 0;
}

static int write_text(const char *path, const char *text, mode_t mode, struct error *err)
{
	int ret = mkdir_parents(path, err);
	if (ret < 0)
		return ret;
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return error_set(err, errno, "create %s", path);
	if (write_all(fd, text, strlen(text)) < 0)
		return error_set(err, errno, "write %s", path);
	return 0;
}

/* Copy a regular file (following symlinks at `src`), keeping its mode. */
static int copy_file(const char *src, const char *dst, struct error *err)
{
	int ret = mkdir_parents(dst, err);
	if (ret < 0)
		return ret;
	cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		return error_set(err, errno, "%s", src);
	cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
	if (out < 0)
		return error_set(err, errno, "create %s", dst);
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, errno, "read %s", src);
		if (n == 0)
			break;
		if (write(out, buf, (size_t)n) != n)
			return error_set(err, errno, "write %s", dst);
	}
	return 0;
}

/* nftw has no user pointer: the tree copy in progress. */
static struct {
	const char *src, *dst;
	struct error *err;
} tree_copy;

static int copy_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	char dst[PATH_MAX];
	snprintf(dst, sizeof(dst), "%s%s", tree_copy.dst, path + strlen(tree_copy.src));
	if (type == FTW_D) {
		if (mkdir(dst, st->st_mode & 07777) < 0 && errno != EEXIST)
			return error_set(tree_copy.err, errno, "create %s", dst);
		return 0;
	}
	if (type == FTW_SL) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return error_set(tree_copy.err, errno, "%s", path);
		target[n] = '\0';
		if (symlink(target, dst) < 0 && errno != EEXIST)
			return error_set(tree_copy.err, errno, "create %s", dst);
		return 0;
	}
	if (type == FTW_F && S_ISREG(st->st_mode))
		return copy_file(path, dst, tree_copy.err);
	return 0;  /* devices, FIFOs, sockets: the runtime makes its own /dev */
}

/* `src` (a directory) into `dst`, at the same relative paths. */
static int copy_tree(const char *src, const char *dst, struct error *err)
{
	int ret = mkdir_parents(dst, err);
	if (ret < 0)
		return ret;
	tree_copy.src = src;
	tree_copy.dst = dst;
	tree_copy.err = err;
	ret = nftw(src, copy_entry, 64, FTW_PHYS);
	if (ret > 0 || (ret < 0 && errno))
		return ret < 0 && !err->errnum ? error_set(err, errno, "copy %s", src) : -err->errnum;
	return 0;
}

/* A host path into the staging root at the same absolute path (file or tree). */
static int stage_path(const char *root, const char *path, struct error *err)
{
	char dst[PATH_MAX];
	struct stat st;
	if (stat(path, &st) < 0)
		return error_set(err, errno, "%s", path);
	if (snprintf(dst, sizeof(dst), "%s%s", root, path) >= (int)sizeof(dst))
		return error_set(err, ENAMETOOLONG, "%s", path);
	return S_ISDIR(st.st_mode) ? copy_tree(path, dst, err) : copy_file(path, dst, err);
}

struct lib_list {
	char **paths;
	unsigned n;
};

static int collect_lib(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct lib_list *libs = data;
	/* the program itself has no name, the vDSO a bare one */
	if (!info->dlpi_name || info->dlpi_name[0] != '/')
		return 0;
	char **v = realloc(libs->paths, (libs->n + 1) * sizeof(*v));
	if (!v)
		return 1;
	libs->paths = v;
	if (!(v[libs->n] = strdup(info->dlpi_name)))
		return 1;
	libs->n++;
	return 0;
}

static int stage_root(const struct topo *t, const char *topology, const char *root,
		      struct error *err)
{
	char path[PATH_MAX], src[PATH_MAX];
	int ret;
	static const char *const dirs[] = { "proc", "sys", "dev", "run", "tmp", "root",
					    "var/lib/netsim", "netsim-vm/root" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/", root, dirs[i]);
		if ((ret = mkdir_parents(path, err)) < 0)
			return ret;
	}
	snprintf(path, sizeof(path), "%s/netsim-vm/init", root);
	if ((ret = write_text(path, vm_init, 0755, err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "%s/etc/inittab", root);
	if ((ret = write_text(path, vm_inittab, 0644, err)) < 0)
		return ret;

	/* netsim and exactly the libraries the dynamic linker loaded for it, under
	 * the names it opened them by (the SONAME symlinks, copied as files). */
	snprintf(path, sizeof(path), "%s%s", root, VM_NETSIM);
	if ((ret = copy_file("/proc/self/exe", path, err)) < 0)
		return error_prefix(err, "copy netsim into the VM image");
	struct lib_list libs = { 0 };
	if (dl_iterate_phdr(collect_lib, &libs) != 0)
		ret = error_set(err, ENOMEM, "list shared libraries");
	for (unsigned i = 0; i < libs.n && ret == 0; i++)
		ret = stage_path(root, libs.paths[i], err);
	for (unsigned i = 0; i < libs.n; i++)
		free(libs.paths[i]);
	free(libs.paths);
	if (ret < 0)
		return error_prefix(err, "copy netsim's libraries into the VM image");

	/* Each rootfs and files= the nodes name: a named rootfs where the inner
	 * netsim looks for it, a path at the same absolute path. */
	for (unsigned i = 0; i < t->nnodes; i++) {
		const struct topo_node *n = &t->nodes[i];
		const char *value = n->rootfs ? n->rootfs : "meshlite";
		if ((ret = sim_rootfs_source(t, value, src, sizeof(src), err)) < 0)
			return ret;
		bool named = !strchr(value, '/') && !strstr(value, ".tar") && !strstr(value, ".tgz");
		char real[PATH_MAX];
		if (!realpath(src, real))
			return error_set(err, errno, "node %s: rootfs %s", n->name, src);
		if (named) {
			snprintf(path, sizeof(path), "%s%s/%s.tar.gz", root, VM_ROOTFS_DIR, value);
			if (access(path, F_OK) != 0 && (ret = copy_file(real, path, err)) < 0)
				return ret;
		} else {
			snprintf(path, sizeof(path), "%s%s", root, real);
			if (access(path, F_OK) != 0 && (ret = stage_path(root, real, err)) < 0)
				return ret;
		}
		/* files= and startup= (a directory, a file) at their absolute paths */
		const char *const extra[] = {n->files, n->startup};
		const char *const extra_name[] = {"files", "startup"};
		for (size_t e = 0; e < 2; e++) {
			if (!extra[e])
				continue;
			char dir[PATH_MAX];
			const char *slash = strrchr(topology, '/');
			if (extra[e][0] == '/')
				snprintf(src, sizeof(src), "%s", extra[e]);
			else
				snprintf(src, sizeof(src), "%.*s/%s", (int)(slash - topology), topology,
					 extra[e]);
			if (!realpath(src, dir))
				return error_set(err, errno, "node %s: %s=%s", n->name, extra_name[e],
						 extra[e]);
			snprintf(path, sizeof(path), "%s%s", root, dir);
			if (access(path, F_OK) != 0 && (ret = stage_path(root, dir, err)) < 0)
				return ret;
		}
	}
	return stage_path(root, topology, err);
}

/* ---- up --------------------------------------------------------------------- */

static volatile sig_atomic_t vm_interrupted;

static void on_vm_signal(int sig)
{
	vm_interrupted = sig;
}

/* What the boot child reports back through its pipe. */
struct boot_report {
	int ret;                 /* 0, or a negative errno with err set */
	int up_status;           /* the inner `netsim up`'s exit status */
	struct qemu_vm vm;
	struct error err;
};

static void remove_sim_dir(const char *sim)
{
	char path[PATH_MAX];
	struct error ignored;
	state_sim_path(path, sizeof(path), sim, NULL);
	rootfs_remove_tree(path, &ignored);
}

/* argv for the agent: the wrapper, the stdin file ("-": none), then netsim's args. */
static char **wrapper_argv(const char *stdin_file, int argc, char *const argv[])
{
	char **v = calloc((size_t)argc + 6, sizeof(*v));
	if (!v)
		return NULL;
	int k = 0;
	v[k++] = "/netsim/bin/sh";
	v[k++] = "-c";
	v[k++] = (char *)vm_wrapper;
	v[k++] = "netsim-vm";
	v[k++] = (char *)stdin_file;
	for (int i = 0; i < argc; i++)
		v[k++] = argv[i];
	v[k] = NULL;
	return v;
}

/* In the child: boot, then run `netsim up` inside with our stdout/stderr. */
static void boot_child(const struct qemu_node_config *cfg, const struct topo *t,
		       const char *topology, const struct vmsim_options *opt, int report_fd)
{
	struct boot_report rep = { 0 };
	rep.ret = sim_kernel->qemu_node_start(cfg, &rep.vm, &rep.err);
	if (rep.ret == 0) {
		char initrd[PATH_MAX], root[PATH_MAX];
		struct error ignored;
		/* QEMU has read both into guest memory: free /run. */
		snprintf(initrd, sizeof(initrd), "%s/initrd", cfg->run_dir);
		snprintf(root, sizeof(root), "%s/root", cfg->run_dir);
		unlink(initrd);
		rootfs_remove_tree(root, &ignored);
		char *up_args[] = { "up", "-n", (char *)t->sim, (char *)topology, "-q", NULL };
		/* options first: the inner getopt stops at the file */
		if (opt->quiet) {
			up_args[3] = "-q";
			up_args[4] = (char *)topology;
		}
		char **argv = wrapper_argv("-", opt->quiet ? 5 : 4, up_args);
		if (!argv)
			rep.ret = error_set(&rep.err, ENOMEM, "up");
		else
			rep.ret = sim_kernel->qemu_agent_exec(cfg->run_dir, argv, -1, STDOUT_FILENO,
							      STDERR_FILENO, VM_UP_TIMEOUT_MS,
							      &rep.up_status, &rep.err);
		free(argv);
		if (rep.ret < 0)
			error_prefix(&rep.err, "netsim up inside the VM");
	}
	if (write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(2);
	_exit(0);
}

/* Everything one `up --vm` holds, and what it has made so far: vm_up_release()
 * undoes exactly that. */
struct vm_up {
	const struct topo *t;
	const struct vmsim_options *opt;
	char marker[PATH_MAX], run_dir[PATH_MAX], topology[PATH_MAX], root[PATH_MAX];
	unsigned mem, cpus;
	int lock_fd;
	bool dir_ours;           /* this run wrote the marker: remove the sim dir */
	bool vm_may_run;         /* the boot child was forked: stop whatever QEMU it started */
	bool signals_caught;
	struct sigaction old_sigs[3];
	long long started;
	struct boot_report rep;
};

static const int vm_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static int vm_up_check(struct vm_up *up, struct error *err)
{
	static const char *const modules[] = { "overlay", "veth", "bridge", "sch_netem", NULL };
	int ret = sim_check_host_paths(up->t, err);
	if (ret < 0)
		return ret;
	if ((ret = sim_kernel->qemu_check(NULL, modules, err)) < 0)
		return error_prefix(err, "--vm");
	if (!realpath(up->t->path, up->topology))
		return error_set(err, errno, "%s", up->t->path);
	return 0;
}

static int vm_up_lock(struct vm_up *up, struct error *err)
{
	char path[PATH_MAX];
	struct stat st;
	const char *sim = up->t->sim;
	int ret = state_lock(sim, &up->lock_fd, err);
	if (ret < 0)
		return ret;
	vm_paths(sim, up->marker, up->run_dir);
	state_sim_path(path, sizeof(path), sim, "nodes");
	if (stat(up->marker, &st) == 0 || stat(path, &st) == 0)
		return error_setmsg(err, EEXIST, "sim %s is already up (stop it with `netsim down %s`)",
				    sim, sim);
	return 0;
}

/* The marker first: whatever happens from here on, `down` finds the VM.  Then
 * the run dir, the topology's copy and the staging root of the VM's image. */
static int vm_up_stage(struct vm_up *up, struct error *err)
{
	char text[PATH_MAX + 256], path[PATH_MAX];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;
	up->mem = up->opt->mem_mib ? up->opt->mem_mib : VMSIM_DEFAULT_MEM_MIB;
	up->cpus = ncpu >= 2 ? 2 : 1;
	snprintf(text, sizeof(text), "mem=%u\ncpus=%u\ntopology=%s\ncreated=%lld\n", up->mem,
		 up->cpus, up->topology, (long long)time(NULL));
	snprintf(up->root, sizeof(up->root), "%s/root", up->run_dir);
	state_sim_path(path, sizeof(path), up->t->sim, "topology.conf");
	up->dir_ours = true;
	if ((ret = write_text(up->marker, text, 0644, err)) < 0)
		return ret;
	if (mkdir(up->run_dir, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "create %s", up->run_dir);
	if ((ret = copy_file(up->topology, path, err)) < 0)
		return ret;
	return stage_root(up->t, up->topology, up->root, err);
}

/* A child boots the VM and runs the inner `netsim up`; we wait for its report
 * (or a signal, which kills it). */
static int vm_up_boot(struct vm_up *up, struct error *err)
{
	const char *accel_env = getenv("NETSIM_QEMU_ACCEL");
	struct qemu_node_config cfg = {
		.name = up->t->sim,
		/* No NIC at all (-nodefaults, no -netdev): the namespace is moot. */
		.netns_path = "/proc/self/ns/net",
		.run_dir = up->run_dir,
		.rootfs_dir = up->root,
		.init = "/netsim-vm/init",
		.memory_mib = up->mem,
		.cpus = up->cpus,
		.accel = accel_env && *accel_env ? accel_env : NULL,
	};
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe");
	struct sigaction sa = { .sa_handler = on_vm_signal };
	vm_interrupted = 0;
	for (int s = 0; s < 3; s++)
		sigaction(vm_signals[s], &sa, &up->old_sigs[s]);
	up->signals_caught = true;
	up->started = now_ms();
	fflush(NULL);
	up->vm_may_run = true;
	cleanup_pid pid_t child = fork();
	if (child == 0) {
		/* The lock stays ours alone: a killed `up` must not leave it held. */
		close(up->lock_fd);
		close(pipe_fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int s = 0; s < 3; s++)
			signal(vm_signals[s], SIG_DFL);
		if (getppid() == 1)
			_exit(1);
		boot_child(&cfg, up->t, up->topology, up->opt, pipe_fds[1]);
	}
	close(pipe_fds[1]);
	cleanup_close int report_fd = pipe_fds[0];
	if (child < 0)
		return error_set(err, errno, "fork");
	struct boot_report *rep = &up->rep;
	int ret;
	ssize_t n;
	do {
		n = read(report_fd, rep, sizeof(*rep));
	} while (n < 0 && errno == EINTR && !vm_interrupted);
	if (vm_interrupted) {
		/* the child is killed and reaped on return (cleanup_pid) */
		ret = error_setmsg(err, EINTR, "interrupted (signal %d): VM stopped",
				   (int)vm_interrupted);
	} else if (n != sizeof(*rep)) {
		ret = error_setmsg(err, ECHILD, "the boot helper process failed");
	} else if (rep->ret < 0) {
		*err = rep->err;
		ret = rep->ret;
	} else if (rep->up_status != 0) {
		ret = error_setmsg(err, EIO, "netsim up inside the VM failed (exit status %d); "
				   "VM stopped", rep->up_status);
	} else {
		ret = 0;
	}
	if (!vm_interrupted) /* it ends by itself once it reported (or failed to) */
		waitpid(steal_pid(&child), NULL, 0);
	return ret;
}

/* The VM's accel and pid, for `status`, `list` and `down`. */
static int vm_up_record(struct vm_up *up, struct error *err)
{
	(void)err;
	char text[64];
	snprintf(text, sizeof(text), "accel=%s\npid=%d\n", up->rep.vm.accel, (int)up->rep.vm.pid);
	cleanup_close int fd = open(up->marker, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0)
		(void)!write(fd, text, strlen(text));
	return 0;
}

static void vm_up_release(struct vm_up *up, int ret)
{
	for (int s = 0; up->signals_caught && s < 3; s++)
		sigaction(vm_signals[s], &up->old_sigs[s], NULL);
	up->signals_caught = false;
	if (ret < 0 && up->vm_may_run) {
		struct error ignored;
		sim_kernel->qemu_node_stop(up->run_dir, &ignored);
	}
	if (ret < 0 && up->dir_ours)
		remove_sim_dir(up->t->sim);
	cleanup_closep(&up->lock_fd);
}

int vmsim_up(const struct topo *t, const struct vmsim_options *opt, struct vmsim_summary *sum,
	     struct error *err)
{
	static int (*const steps[])(struct vm_up *, struct error *) = {
		vm_up_check, vm_up_lock, vm_up_stage, vm_up_boot, vm_up_record,
	};
	struct vm_up up = { .t = t, .opt = opt, .lock_fd = -1 };
	int ret = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && ret == 0; i++)
		ret = steps[i](&up, err);
	vm_up_release(&up, ret);
	if (ret == 0 && sum) {
		*sum = (struct vmsim_summary){ .cpus = up.cpus, .mem_mib = up.mem,
					       .boot_ms = up.rep.vm.boot_ms,
					       .seconds = (now_ms() - up.started) / 1000.0 };
		snprintf(sum->sim, sizeof(sum->sim), "%s", t->sim);
		snprintf(sum->accel, sizeof(sum->accel), "%s", up.rep.vm.accel);
	}
	return ret;
}

/* ---- down --------------------------------------------------------------------- */

int vmsim_down(const char *sim, struct error *err)
{
	char run_dir[PATH_MAX], path[PATH_MAX];
	cleanup_close int lock_fd = -1;
	int ret = state_lock(sim, &lock_fd, err);
	if (ret < 0)
		return error_prefix(err, "down %s", sim);
	vm_paths(sim, NULL, run_dir);
	if ((ret = sim_kernel->qemu_node_stop(run_dir, err)) < 0)
		return error_prefix(err, "down %s", sim);
	state_sim_path(path, sizeof(path), sim, NULL);
	if ((ret = rootfs_remove_tree(path, err)) < 0)
		return error_prefix(err, "down %s", sim);
	return 0;
}

/* ---- verbs run inside -------------------------------------------------------- */

void vmsim_run_dir(const char *sim, char *run_dir)
{
	vm_paths(sim, NULL, run_dir);
}

pid_t vmsim_vm_pid(const char *sim)
{
	char run_dir[PATH_MAX];
	vm_paths(sim, NULL, run_dir);
	return qemu_node_pid(run_dir);
}

int vmsim_exec(const char *sim, const char *stdin_file, int argc, char *const argv[], int in_fd,
	       int out_fd, int *status, struct error *err)
{
	char run_dir[PATH_MAX];
	vm_paths(sim, NULL, run_dir);
	cleanup_free char **wargv = wrapper_argv(stdin_file, argc, argv);
	if (!wargv)
		return error_setmsg(err, ENOMEM, "out of memory");
	return qemu_agent_exec(run_dir, wargv, in_fd, out_fd, STDERR_FILENO, 0, status, err);
}

void vmsim_list_line(const char *sim)
{
	char run_dir[PATH_MAX], topology[PATH_MAX], accel[64];
	vm_paths(sim, NULL, run_dir);
	vmsim_marker_get(sim, "topology", topology, sizeof(topology));
	vmsim_marker_get(sim, "accel", accel, sizeof(accel));
	pid_t pid = qemu_node_pid(run_dir);
	printf("%-16s in a VM (%s, accel %s)  %s\n", sim,
	       pid > 0 ? "running" : "VM not running", accel[0] ? accel : "?", topology);
}
