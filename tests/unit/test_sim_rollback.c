/* The rollback of `up`, without root: sim_up() runs on a small topology (three
 * nodes, two links, one shaped, a shaped segment, a radio segment with its
 * medium process, a wifi segment's hwsim radios) against a fake kernel
 * (sim/kernel.h) that records every namespace, link, bridge, qdisc, container,
 * cgroup, mount and neighbour claim it is asked to create or remove.  Step K
 * (any call that could fail on a real host) fails, or raises SIGINT, for every
 * K from 1 to the number of steps of a clean `up`; after each run what was
 * created must be exactly what was removed, nothing removed that was not
 * created or was removed already, no file left in the state directory and no
 * fd left open.  A clean `up` and `down` pass the same check.
 *
 * The fake knows the kernel's own cascades: a veth goes with either end's
 * namespace, a bridge with its namespace, a qdisc with its interface, a node
 * cgroup with the sim's.  The state directory is a temp dir (NETSIM_RUN_DIR,
 * NETSIM_NETNS_DIR, NETSIM_CACHE_DIR). */
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
#include "sim/sim.h"
#include "tap.h"
#include "topo/topo.h"

/* ---- the fake kernel -------------------------------------------------------- */

#define MAX_OBJ 256
#define NAME_LEN 512
#define FAKE_PID_BASE 5000000 /* above any pid_max (PID_MAX_LIMIT is 4194304) */

struct obj {
	char name[NAME_LEN];
	char parent[2][NAME_LEN]; /* goes when either goes ("" = none) */
	bool live;
};

static struct {
	struct obj objs[MAX_OBJ];
	unsigned nobjs;
	unsigned step, fail_at, intr_at;
	unsigned created, removed;
	unsigned violations;
	char first_violation[NAME_LEN + 64];
	char fd_ns[1024][NAME_LEN]; /* fd → the namespace path netns_open gave it */
	unsigned next_pid;
} fk;

static void violation(const char *what, const char *name)
{
	if (fk.violations++ == 0)
		snprintf(fk.first_violation, sizeof(fk.first_violation), "%s %s", what, name);
}

static struct obj *find_live(const char *name)
{
	for (unsigned i = 0; i < fk.nobjs; i++)
		if (fk.objs[i].live && strcmp(fk.objs[i].name, name) == 0)
			return &fk.objs[i];
	return NULL;
}

static void create(const char *name, const char *parent_a, const char *parent_b)
{
	if (find_live(name)) {
		violation("created twice:", name);
		return;
	}
	if (fk.nobjs == MAX_OBJ) {
		violation("too many objects:", name);
		return;
	}
	struct obj *o = &fk.objs[fk.nobjs++];
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->parent[0], sizeof(o->parent[0]), "%s", parent_a ? parent_a : "");
	snprintf(o->parent[1], sizeof(o->parent[1]), "%s", parent_b ? parent_b : "");
	o->live = true;
	fk.created++;
}

/* The object and, as the kernel does, everything that lives in it. */
static void cascade(struct obj *o)
{
	o->live = false;
	for (unsigned i = 0; i < fk.nobjs; i++) {
		struct obj *c = &fk.objs[i];
		if (c->live && (strcmp(c->parent[0], o->name) == 0 ||
				strcmp(c->parent[1], o->name) == 0))
			cascade(c);
	}
}

static void remove_obj(const char *name)
{
	struct obj *o = find_live(name);
	if (!o) {
		violation("removed but not there (never created, or removed before):", name);
		return;
	}
	fk.removed++;
	cascade(o);
}

static unsigned live_count(const char **first)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fk.nobjs; i++)
		if (fk.objs[i].live) {
			if (n++ == 0 && first)
				*first = fk.objs[i].name;
		}
	return n;
}

/* Every call that can fail on a real host is a step.  -EIO when it is the
 * one to fail; at the one to be interrupted, SIGINT arrives (and it works). */
static int step(const char *what, struct error *err)
{
	fk.step++;
	if (fk.step == fk.intr_at)
		raise(SIGINT);
	if (fk.step == fk.fail_at)
		return error_setmsg(err, EIO, "fake failure at step %u (%s)", fk.step, what);
	return 0;
}

static const char *ns_of_fd(int fd)
{
	if (fd < 0 || fd >= 1024 || !fk.fd_ns[fd][0]) {
		violation("unknown namespace fd", "");
		return "?";
	}
	return fk.fd_ns[fd];
}

static int f_netns_create(const char *path, struct error *err)
{
	int r = step("netns_create", err);
	if (r == 0) {
		char name[NAME_LEN];
		snprintf(name, sizeof(name), "netns %s", path);
		create(name, NULL, NULL);
	}
	return r;
}

static bool pid_live(pid_t pid)
{
	char name[64];
	snprintf(name, sizeof(name), "container %d", (int)pid);
	return find_live(name) != NULL;
}

static int f_netns_bind_pid(pid_t pid, const char *path, struct error *err)
{
	if (!pid_live(pid))
		violation("netns_bind_pid of no container", path);
	return f_netns_create(path, err);
}

static int f_netns_open(const char *path, struct error *err)
{
	char name[NAME_LEN];
	snprintf(name, sizeof(name), "netns %s", path);
	int r = step("netns_open", err);
	if (r < 0)
		return r;
	if (!find_live(name))
		return error_setmsg(err, ENOENT, "fake: no namespace %s", path);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fd >= 1024)
		return error_set(err, fd < 0 ? errno : EMFILE, "fake netns_open");
	snprintf(fk.fd_ns[fd], sizeof(fk.fd_ns[fd]), "%s", name);
	return fd;
}

static int f_netns_remove(const char *path, struct error *err)
{
	(void)err;
	char name[NAME_LEN];
	snprintf(name, sizeof(name), "netns %s", path);
	remove_obj(name);
	return 0;
}

struct net {
	int dummy;
};

static int f_net_open(struct net **out, struct error *err)
{
	int r = step("net_open", err);
	if (r < 0)
		return r;
	*out = calloc(1, sizeof(**out)); /* net_close must free it (valgrind) */
	return *out ? 0 : error_set(err, ENOMEM, "fake net_open");
}

static void f_net_close(struct net *n)
{
	free(n);
}

static void iface_name(char *buf, size_t len, int ns, const char *ifname)
{
	snprintf(buf, len, "if %s:%s", ns_of_fd(ns), ifname);
}

static int f_net_veth_create(struct net *n, int ns_a, const char *name_a, const uint8_t mac_a[6],
			     int ns_b, const char *name_b, const uint8_t mac_b[6],
			     struct error *err)
{
	(void)n, (void)mac_a, (void)mac_b;
	int r = step("net_veth_create", err);
	if (r < 0)
		return r;
	/* one pair: either end's namespace takes both ends with it */
	char a[NAME_LEN], b[NAME_LEN], pair[NAME_LEN * 2 + 8];
	iface_name(a, sizeof(a), ns_a, name_a);
	iface_name(b, sizeof(b), ns_b, name_b);
	snprintf(pair, sizeof(pair), "veth %s = %s", a, b);
	create(pair, ns_of_fd(ns_a), ns_of_fd(ns_b));
	create(a, pair, NULL);
	create(b, pair, NULL);
	fk.created -= 2; /* the ends are no objects of their own */
	return 0;
}

static int f_net_bridge_create(struct net *n, int ns, const char *name, struct error *err)
{
	(void)n;
	int r = step("net_bridge_create", err);
	if (r == 0) {
		char b[NAME_LEN];
		iface_name(b, sizeof(b), ns, name);
		create(b, ns_of_fd(ns), NULL);
	}
	return r;
}

static int f_net_bridge_attach(int ns, const char *ifname, const char *bridge, struct error *err)
{
	char a[NAME_LEN], b[NAME_LEN];
	iface_name(a, sizeof(a), ns, ifname);
	iface_name(b, sizeof(b), ns, bridge);
	if (!find_live(a) || !find_live(b))
		violation("bridge_attach of a missing interface", a);
	return step("net_bridge_attach", err);
}

static int f_shape_apply(int ns, const char *ifname, const struct topo_quality *q,
			 struct error *err)
{
	(void)q;
	char i[NAME_LEN], qd[NAME_LEN + 8];
	iface_name(i, sizeof(i), ns, ifname);
	if (!find_live(i))
		violation("shape_apply on a missing interface", i);
	int r = step("shape_apply", err);
	if (r == 0) {
		snprintf(qd, sizeof(qd), "qdisc %s", i);
		create(qd, i, NULL);
	}
	return r;
}

static int f_container_create(const struct container_config *cfg, struct container *c,
			      struct error *err)
{
	(void)cfg;
	int r = step("container_create", err);
	if (r < 0)
		return r;
	c->pid = (pid_t)fk.next_pid++;
	c->sync_fd = -1;
	char name[64];
	snprintf(name, sizeof(name), "container %d", (int)c->pid);
	create(name, NULL, NULL);
	return 0;
}

static int f_container_wait_ready(struct container *c, struct error *err)
{
	if (!pid_live(c->pid))
		violation("wait_ready of no container", "");
	return step("container_wait_ready", err);
}

static int f_container_start(struct container *c, struct error *err)
{
	if (!pid_live(c->pid))
		violation("start of no container", "");
	return step("container_start", err);
}

/* The process runs on without us: `down` ends it (kill). */
static void f_container_release(struct container *c)
{
	c->pid = -1;
}

static void f_container_destroy(struct container *c)
{
	if (c->pid <= 0)
		return;
	char name[64];
	snprintf(name, sizeof(name), "container %d", (int)c->pid);
	remove_obj(name);
	c->pid = -1;
}

static int f_kill(pid_t pid, int sig)
{
	if (pid < FAKE_PID_BASE || pid >= (pid_t)fk.next_pid) {
		violation("kill of a pid that is no node's", "");
		errno = ESRCH;
		return -1;
	}
	if (sig == SIGKILL && pid_live(pid)) {
		char name[64];
		snprintf(name, sizeof(name), "container %d", (int)pid);
		remove_obj(name);
		return 0;
	}
	errno = ESRCH; /* gone already: as the kernel says */
	return -1;
}

static const struct cgroup_system fake_cgroups = {.unified = "/nonexistent/fake-cgroup2"};

static int f_cgroup_system_get(const struct cgroup_system **sys, struct error *err)
{
	(void)err;
	*sys = &fake_cgroups;
	return 0;
}

static void cgroup_name(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "cgroup %s", path);
}

static int f_cgroup_create(const struct cgroup_system *sys, const char *path, bool parent,
			   const struct cgroup_limits *limits, struct error *err)
{
	(void)sys, (void)parent, (void)limits;
	int r = step("cgroup_create", err);
	if (r == 0) {
		char name[NAME_LEN], up[NAME_LEN];
		cgroup_name(name, sizeof(name), path);
		/* a node's cgroup goes with the sim's (cgroup_remove is recursive) */
		snprintf(up, sizeof(up), "%s", name);
		char *slash = strrchr(up, '/');
		if (slash)
			*slash = '\0';
		create(name, slash && find_live(up) ? up : NULL, NULL);
	}
	return r;
}

static bool f_cgroup_exists(const struct cgroup_system *sys, const char *path)
{
	(void)sys;
	char name[NAME_LEN];
	cgroup_name(name, sizeof(name), path);
	return find_live(name) != NULL;
}

static int f_cgroup_attach(const struct cgroup_system *sys, const char *path, pid_t pid,
			   struct error *err)
{
	(void)sys;
	char name[NAME_LEN];
	cgroup_name(name, sizeof(name), path);
	char cname[64];
	snprintf(cname, sizeof(cname), "container %d", (int)pid);
	struct obj *c = find_live(cname);
	if (!find_live(name) || !c)
		violation("cgroup_attach to a missing cgroup or container", name);
	int r = step("cgroup_attach", err);
	/* removing the cgroup kills what is in it */
	if (r == 0 && c)
		snprintf(c->parent[0], sizeof(c->parent[0]), "%s", name);
	return r;
}

static int f_cgroup_remove(const struct cgroup_system *sys, const char *path,
			   bool prune_parents, struct error *err)
{
	(void)sys, (void)prune_parents, (void)err;
	char name[NAME_LEN];
	cgroup_name(name, sizeof(name), path);
	/* a path that does not exist is no error (cgroup.h): `up` checked, under
	 * the sim's lock, that the sim's did not exist before */
	if (find_live(name))
		remove_obj(name);
	return 0;
}

static int f_mount(const char *source, const char *target, const char *fstype,
		   unsigned long flags, const void *data)
{
	(void)source, (void)fstype, (void)flags, (void)data;
	struct error e;
	if (step("mount", &e) < 0) {
		errno = e.errnum;
		return -1;
	}
	char name[NAME_LEN];
	snprintf(name, sizeof(name), "mount %s", target);
	create(name, NULL, NULL);
	return 0;
}

static int f_umount2(const char *target, int flags)
{
	(void)flags;
	char name[NAME_LEN];
	snprintf(name, sizeof(name), "mount %s", target);
	if (!find_live(name)) {
		errno = EINVAL; /* not a mount point: `down` expects this */
		return -1;
	}
	remove_obj(name);
	return 0;
}

static int f_neigh_limits_claim(const char *sim, const struct neigh_need *need, FILE *notice,
				struct error *err)
{
	(void)need, (void)notice;
	int r = step("neigh_limits_claim", err);
	if (r == 0) {
		char name[NAME_LEN];
		snprintf(name, sizeof(name), "neigh claim %s", sim);
		create(name, NULL, NULL);
	}
	return r;
}

/* Fits the limits to the sims left: idempotent, and our sim's claim is gone. */
static int f_neigh_limits_release(struct error *err)
{
	(void)err;
	for (unsigned i = 0; i < fk.nobjs; i++)
		if (fk.objs[i].live && strncmp(fk.objs[i].name, "neigh claim ", 12) == 0) {
			fk.removed++;
			fk.objs[i].live = false;
		}
	return 0;
}

static int f_qemu_node_create(const char *sim, const char *node,
			      const struct qemu_node_setup *setup, struct error *err)
{
	(void)sim, (void)setup;
	violation("qemu_node_create in a sim without qemu nodes:", node);
	return error_setmsg(err, EINVAL, "fake: no qemu");
}

static int f_qemu_node_boot_all(const char *sim, const struct topo *t, const unsigned *idx,
				unsigned count, struct qemu_vm *vms,
				volatile sig_atomic_t *interrupted, struct error *err)
{
	(void)sim, (void)t, (void)idx, (void)vms, (void)interrupted;
	if (count > 0) {
		violation("qemu_node_boot_all in a sim without qemu nodes", "");
		return error_setmsg(err, EINVAL, "fake: no qemu");
	}
	return 0;
}

static void f_qemu_node_teardown(const char *sim, const char *node)
{
	(void)sim, (void)node;
}

static int f_netns_sysctl(int ns, const char *key, const char *value, struct error *err)
{
	(void)value;
	(void)ns_of_fd(ns);
	/* a per-interface key names one that must be there */
	const char *conf = "net/ipv6/conf/";
	if (strncmp(key, conf, strlen(conf)) == 0 && strncmp(key + strlen(conf), "default/", 8) != 0) {
		char ifname[64], i[NAME_LEN];
		snprintf(ifname, sizeof(ifname), "%s", key + strlen(conf));
		ifname[strcspn(ifname, "/")] = '\0';
		iface_name(i, sizeof(i), ns, ifname);
		if (!find_live(i))
			violation("sysctl of a missing interface", i);
	}
	return step("netns_sysctl", err);
}

/* The medium process: one object; stopping it when none runs is fine (`down`
 * does not know whether `up` got that far). */
static int f_medium_start(const char *sim, struct error *err)
{
	int r = step("medium_start", err);
	if (r == 0) {
		char name[NAME_LEN];
		snprintf(name, sizeof(name), "medium %s", sim);
		create(name, NULL, NULL);
	}
	return r;
}

static int f_medium_stop(const char *sim, struct error *err)
{
	(void)err;
	char name[NAME_LEN];
	snprintf(name, sizeof(name), "medium %s", sim);
	if (find_live(name))
		remove_obj(name);
	return 0;
}

/* hwsim radios: no cascade, so `down` and a rollback must delete them */
/* (before anything exists and before `up` catches signals: not a step) */
static int f_wifi_check(struct error *err)
{
	(void)err;
	return 0;
}

static int f_wifi_radio_create(int sw_ns, int node_ns, const uint8_t mac[6], const char *ifname,
			       bool ibss, struct error *err)
{
	(void)mac, (void)ibss;
	const char *sw = ns_of_fd(sw_ns), *node = ns_of_fd(node_ns);
	if (!find_live(sw) || !find_live(node))
		violation("radio in a missing namespace", node);
	int r = step("wifi_radio_create", err);
	if (r == 0) {
		char name[NAME_LEN];
		snprintf(name, sizeof(name), "radio %.200s:%.30s", node, ifname);
		create(name, NULL, NULL);
	}
	return r;
}

static int f_wifi_radios_delete(int ns, struct error *err)
{
	(void)err;
	char prefix[NAME_LEN];
	snprintf(prefix, sizeof(prefix), "radio %.200s:", ns_of_fd(ns));
	for (unsigned k = 0; k < fk.nobjs; k++)
		if (fk.objs[k].live && strncmp(fk.objs[k].name, prefix, strlen(prefix)) == 0)
			remove_obj(fk.objs[k].name);
	return 0;
}

static const struct sim_kernel_ops fake_ops = {
	.netns_create = f_netns_create,
	.netns_bind_pid = f_netns_bind_pid,
	.netns_open = f_netns_open,
	.netns_remove = f_netns_remove,
	.net_open = f_net_open,
	.net_close = f_net_close,
	.net_veth_create = f_net_veth_create,
	.net_bridge_create = f_net_bridge_create,
	.net_bridge_attach = f_net_bridge_attach,
	.shape_apply = f_shape_apply,
	.container_create = f_container_create,
	.container_wait_ready = f_container_wait_ready,
	.container_start = f_container_start,
	.container_release = f_container_release,
	.container_destroy = f_container_destroy,
	.kill = f_kill,
	.cgroup_system_get = f_cgroup_system_get,
	.cgroup_create = f_cgroup_create,
	.cgroup_exists = f_cgroup_exists,
	.cgroup_attach = f_cgroup_attach,
	.cgroup_remove = f_cgroup_remove,
	.mount = f_mount,
	.umount2 = f_umount2,
	.neigh_limits_claim = f_neigh_limits_claim,
	.neigh_limits_release = f_neigh_limits_release,
	.qemu_node_create = f_qemu_node_create,
	.qemu_node_boot_all = f_qemu_node_boot_all,
	.qemu_node_teardown = f_qemu_node_teardown,
	.netns_sysctl = f_netns_sysctl,
	.medium_start = f_medium_start,
	.medium_stop = f_medium_stop,
	.wifi_check = f_wifi_check,
	.wifi_radio_create = f_wifi_radio_create,
	.wifi_radios_delete = f_wifi_radios_delete,
};

static void fake_reset(unsigned fail_at, unsigned intr_at)
{
	memset(&fk, 0, sizeof(fk));
	fk.fail_at = fail_at;
	fk.intr_at = intr_at;
	fk.next_pid = FAKE_PID_BASE;
}

/* ---- the test --------------------------------------------------------------- */

static char tmp[64], run_dir[128];

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

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	char buf[65536];
	ssize_t n = 0;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in < 0 || out < 0 || n < 0 ? -1 : 0;
}

/* A rootfs whose init is this test (an ELF the host runs: arch check). */
static int make_topology(char *topo_path, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/rootfs", tmp);
	if (mkdir(path, 0755) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/rootfs/sbin", tmp);
	if (mkdir(path, 0755) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/rootfs/sbin/init", tmp);
	if (copy_file("/proc/self/exe", path) < 0)
		return -1;
	snprintf(topo_path, len, "%s/lab.conf", tmp);
	FILE *f = fopen(topo_path, "w");
	if (!f)
		return -1;
	fprintf(f, "sim smrb\n"
		   "defaults rootfs=%s/rootfs\n"
		   "node n1 pos=0,0\nnode n2\nnode n3 pos=10,0\n"
		   "link n1 n2 rate=10mbit\n"
		   "link n2 n3\n"
		   "segment air0 n1 n2 n3 rate=1mbit\n"
		   "segment wl0 n1 n3 medium=radio loss=1%%\n"
		   "segment wf0 n1 n3 medium=wifi\n", tmp);
	return fclose(f);
}

static unsigned open_fds(void)
{
	return count_entries("/proc/self/fd");
}

struct outcome {
	int r;
	struct error err;
};

/* `sum` may be NULL (sim_up itself prints nothing: the verb prints the summary). */
static struct outcome run_up(const struct topo *t, struct up_summary *sum)
{
	struct up_options opt = {.quiet = true};
	struct outcome o = {0};
	/* whatever it prints must not reach stdout, which is TAP's */
	fflush(stdout);
	int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(null, STDOUT_FILENO);
	o.r = sim_up(t, &opt, sum, &o.err);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(null);
	return o;
}

/* What a run left: objects still there, violations, files, fds. */
static void check_clean(const char *what, unsigned fds_before)
{
	const char *first = NULL;
	unsigned live = live_count(&first);
	if (!ok(live == 0 && fk.violations == 0 && count_entries(run_dir) == 0 &&
			open_fds() == fds_before,
		"%s: removed exactly what it created (%u objects)", what, fk.created)) {
		printf("#   %u left, first: %s\n", live, first ? first : "-");
		printf("#   %u violations, first: %s\n", fk.violations, fk.first_violation);
		printf("#   %u entries in %s, fds %u (before %u)\n", count_entries(run_dir),
		       run_dir, open_fds(), fds_before);
	}
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/netsim-rollback-XXXXXX");
	if (!mkdtemp(tmp))
		skip_all("mkdtemp failed");
	char path[PATH_MAX];
	snprintf(run_dir, sizeof(run_dir), "%s/run", tmp);
	mkdir(run_dir, 0755);
	setenv("NETSIM_RUN_DIR", run_dir, 1);
	snprintf(path, sizeof(path), "%s/netns", tmp);
	mkdir(path, 0755);
	setenv("NETSIM_NETNS_DIR", path, 1);
	snprintf(path, sizeof(path), "%s/cache", tmp);
	mkdir(path, 0700);
	setenv("NETSIM_CACHE_DIR", path, 1);

	char topo_path[PATH_MAX];
	struct topo t;
	struct error err;
	if (make_topology(topo_path, sizeof(topo_path)) < 0 ||
	    topo_parse_file(topo_path, &t, &err) < 0) {
		printf("# %s\n", err.msg);
		struct error ignored;
		rootfs_remove_tree(tmp, &ignored);
		skip_all("cannot write the test topology");
	}
	sim_kernel_override(&fake_ops);

	/* a clean run counts the steps; `down` removes all of it */
	unsigned fds = open_fds();
	fake_reset(0, 0);
	struct up_summary sum = {0};
	struct outcome o = run_up(&t, &sum);
	if (!ok(o.r == 0, "up on the fake kernel succeeds"))
		printf("#   %s\n", o.err.msg);
	ok(o.r == 0 && sum.nnodes == 3 && sum.nlinks == 2 && sum.nsegments == 3 &&
		   strcmp(sum.sim, "smrb") == 0 && strcmp(sum.nodes[2].name, "n3") == 0 &&
		   sum.nodes[0].pid == FAKE_PID_BASE && !sum.nodes[0].qemu,
	   "the summary names the sim, its counts and each node's pid");
	if (o.r == 0)
		sim_up_summary_free(&sum);
	unsigned total = fk.step;
	ok(total >= 30, "up has %u steps (nodes, links, a bridge and a radio segment)", total);
	const char *first = NULL;
	/* 3 containers, 4 netns, 7 veth pairs (21 with their ends), 5 qdiscs, a
	 * bridge, 4 cgroups, the tmpfs, the neighbour claim, the medium, 2 radios */
	is_int(live_count(&first), 43, "everything up creates is there after it");
	int rd = sim_down("smrb", &err);
	if (!ok(rd == 0, "down on the fake kernel succeeds"))
		printf("#   %s\n", err.msg);
	check_clean("up, then down", fds);

	unsigned bad_fail = 0, bad_intr = 0;
	for (unsigned k = 1; k <= total; k++) {
		char what[64];
		fake_reset(k, 0);
		o = run_up(&t, NULL);
		snprintf(what, sizeof(what), "failure at step %u", k);
		if (!ok(o.r < 0 && o.err.errnum == EIO, "%s: up fails with it", what)) {
			printf("#   r=%d: %s\n", o.r, o.r < 0 ? o.err.msg : "");
			bad_fail++;
		}
		check_clean(what, fds);
		if (o.r == 0)
			sim_down("smrb", &err);

		fake_reset(0, k);
		o = run_up(&t, NULL);
		snprintf(what, sizeof(what), "SIGINT at step %u", k);
		if (!ok(o.r < 0 && o.err.errnum == EINTR, "%s: up stops", what)) {
			printf("#   r=%d: %s\n", o.r, o.r < 0 ? o.err.msg : "");
			bad_intr++;
		}
		check_clean(what, fds);
		if (o.r == 0)
			sim_down("smrb", &err);
	}
	is_int(bad_fail + bad_intr, 0, "every one of %u steps rolls back", total);

	sim_kernel_override(NULL);
	ok(sim_kernel == &sim_kernel_real, "override(NULL) restores the real kernel");
	topo_free(&t);
	struct error ignored;
	rootfs_remove_tree(tmp, &ignored);
	return tap_done();
}
