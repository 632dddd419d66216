/* The rollback of `up --vm`, without root or QEMU: vmsim_up() runs against a
 * fake VM (sim/kernel.h: qemu_check, and in the boot child qemu_node_start and
 * qemu_agent_exec; qemu_node_stop).  Each of those fails once, the inner `up`
 * exits non-zero once, and a SIGINT arrives at each; after every run no file is
 * left in the state directory, the fake VM is stopped and no fd is left open.
 * A clean `up --vm` and `down` pass the same check.
 *
 * The boot child is a real fork, so the fake keeps what must outlive it (the
 * "running VM") in a file, and picks the call to fail by name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs.h"
#include "sim/kernel.h"
#include "sim/vmsim.h"
#include "tap.h"
#include "topo/topo.h"

static char tmp[64], run_dir[128], vm_file[128];
static const char *fail_at, *intr_at; /* a fake call's name, or NULL */
static int inner_status;               /* the inner `netsim up`'s exit status */

static int fake_step(const char *what, struct error *err)
{
	if (intr_at && strcmp(intr_at, what) == 0) {
		/* from the boot child: the parent is the `up` to interrupt */
		kill(getppid(), SIGINT);
		usleep(200 * 1000);
	}
	if (fail_at && strcmp(fail_at, what) == 0)
		return error_setmsg(err, EIO, "fake failure (%s)", what);
	return 0;
}

static int f_qemu_check(const char *kernel_dir, const char *const *modules, struct error *err)
{
	(void)kernel_dir, (void)modules;
	return fail_at && strcmp(fail_at, "qemu_check") == 0
		       ? error_setmsg(err, EIO, "fake failure (qemu_check)")
		       : 0;
}

static int f_qemu_node_start(const struct qemu_node_config *cfg, struct qemu_vm *vm,
			     struct error *err)
{
	(void)cfg;
	int r = fake_step("qemu_node_start", err);
	if (r < 0)
		return r;
	FILE *f = fopen(vm_file, "w");
	if (!f)
		return error_set(err, errno, "fake: %s", vm_file);
	fclose(f);
	memset(vm, 0, sizeof(*vm));
	snprintf(vm->accel, sizeof(vm->accel), "tcg");
	vm->pid = 0;
	vm->boot_ms = 1234;
	return 0;
}

static int f_qemu_agent_exec(const char *dir, char *const argv[], int in_fd, int out_fd,
			     int err_fd, int timeout_ms, int *status, struct error *err)
{
	(void)dir, (void)argv, (void)in_fd, (void)out_fd, (void)err_fd, (void)timeout_ms;
	int r = fake_step("qemu_agent_exec", err);
	*status = inner_status;
	return r;
}

static int f_qemu_node_stop(const char *dir, struct error *err)
{
	(void)dir, (void)err;
	unlink(vm_file);
	return 0;
}

static unsigned count_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void check_clean(const char *what, unsigned fds_before)
{
	bool vm_left = access(vm_file, F_OK) == 0;
	unsigned files = count_entries(run_dir), fds = count_entries("/proc/self/fd");
	if (!ok(!vm_left && files == 0 && fds == fds_before, "%s: nothing left", what))
		printf("#   VM %s, %u entries in %s, fds %u (before %u)\n",
		       vm_left ? "running" : "stopped", files, run_dir, fds, fds_before);
}

static struct sim_kernel_ops fake_ops;

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/netsim-vmrollback-XXXXXX");
	if (!mkdtemp(tmp))
		skip_all("mkdtemp failed");
	char path[PATH_MAX], topo_path[PATH_MAX];
	snprintf(run_dir, sizeof(run_dir), "%s/run", tmp);
	snprintf(vm_file, sizeof(vm_file), "%s/vm-running", tmp);
	mkdir(run_dir, 0755);
	setenv("NETSIM_RUN_DIR", run_dir, 1);
	snprintf(path, sizeof(path), "%s/rootfs/sbin", tmp);
	snprintf(topo_path, sizeof(topo_path), "%s/rootfs", tmp);
	mkdir(topo_path, 0755);
	mkdir(path, 0755);
	snprintf(topo_path, sizeof(topo_path), "%s/lab.conf", tmp);
	FILE *f = fopen(topo_path, "w");
	struct topo t;
	struct error err;
	if (!f || fprintf(f, "sim svrb\nnode n1 rootfs=%s/rootfs\nnode n2 rootfs=%s/rootfs\n"
			  "link n1 n2\n", tmp, tmp) < 0 || fclose(f) != 0 ||
	    topo_parse_file(topo_path, &t, &err) < 0) {
		struct error ignored;
		rootfs_remove_tree(tmp, &ignored);
		skip_all("cannot write the test topology");
	}
	fake_ops = sim_kernel_real;
	fake_ops.qemu_check = f_qemu_check;
	fake_ops.qemu_node_start = f_qemu_node_start;
	fake_ops.qemu_agent_exec = f_qemu_agent_exec;
	fake_ops.qemu_node_stop = f_qemu_node_stop;
	sim_kernel_override(&fake_ops);

	struct vmsim_options opt = {.mem_mib = 256, .quiet = true};
	struct vmsim_summary sum;
	unsigned fds = count_entries("/proc/self/fd");
	int r = vmsim_up(&t, &opt, &sum, &err);
	if (!ok(r == 0, "up --vm on the fake VM succeeds"))
		printf("#   %s\n", err.msg);
	ok(r == 0 && strcmp(sum.accel, "tcg") == 0 && sum.boot_ms == 1234 && sum.mem_mib == 256 &&
		   strcmp(sum.sim, "svrb") == 0,
	   "its summary names the VM's accel, boot time and memory");
	ok(access(vm_file, F_OK) == 0 && vmsim_is_vm("svrb"), "the VM runs and the marker is there");
	char accel[16];
	vmsim_marker_get("svrb", "accel", accel, sizeof(accel));
	is_str(accel, "tcg", "the marker records the accel");
	ok(vmsim_down("svrb", &err) == 0, "down succeeds");
	check_clean("up --vm, then down", fds);

	static const char *const calls[] = {"qemu_check", "qemu_node_start", "qemu_agent_exec"};
	for (unsigned i = 0; i < 3; i++) {
		char what[64];
		fail_at = calls[i];
		r = vmsim_up(&t, &opt, &sum, &err);
		fail_at = NULL;
		snprintf(what, sizeof(what), "failure in %s", calls[i]);
		if (!ok(r < 0 && err.errnum == EIO, "%s: up --vm fails with it", what))
			printf("#   r=%d: %s\n", r, r < 0 ? err.msg : "");
		check_clean(what, fds);
		if (r == 0)
			vmsim_down("svrb", &err);
		if (i == 0)
			continue; /* qemu_check runs before the signals are caught */
		intr_at = calls[i];
		r = vmsim_up(&t, &opt, &sum, &err);
		intr_at = NULL;
		snprintf(what, sizeof(what), "SIGINT in %s", calls[i]);
		if (!ok(r < 0 && err.errnum == EINTR, "%s: up --vm stops", what))
			printf("#   r=%d: %s\n", r, r < 0 ? err.msg : "");
		check_clean(what, fds);
		if (r == 0)
			vmsim_down("svrb", &err);
	}
	inner_status = 3;
	r = vmsim_up(&t, &opt, &sum, &err);
	inner_status = 0;
	ok(r < 0 && err.errnum == EIO && strstr(err.msg, "exit status 3"),
	   "the inner up failing fails up --vm");
	check_clean("the inner up failing", fds);

	sim_kernel_override(NULL);
	topo_free(&t);
	struct error ignored;
	rootfs_remove_tree(tmp, &ignored);
	return tap_done();
}
