#include "sim/sim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/arch.h"
#include "sim/kernel.h"
#include "cgroup.h"
#include "cleanup.h"
#include "util.h"
#include "container.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/shape.h"
#include "process.h"
#include "rootfs.h"
#include "sim/neigh_limits.h"
#include "sim/node.h"
#include "sim/proc.h"
#include "sim/qemu_node.h"
#include "sim/radio.h"
#include "sim/wifi.h"
#include "sim/state.h"
#include "topo/ident.h"

static volatile sig_atomic_t up_interrupted;

static void on_interrupt(int sig)
{
	up_interrupted = sig;
}

/* Progress of `up` on stderr: on a terminal one line redrawn in place (for sims
 * that are large or slow), cleared before the summary; otherwise, for large sims
 * only, a plain line every tenth ("started 100/1000 nodes"), so logs of small
 * sims stay clean. */
enum up_phase { UP_NODES, UP_LINKS };
#define UP_PROGRESS_MIN_NODES 50
static struct {
	bool tty, lines, drawn;
	const char *sim;
	unsigned done[2], total[2];
	double started, last_draw;
} up_progress;

static void up_progress_begin(const struct topo *t, bool quiet)
{
	memset(&up_progress, 0, sizeof(up_progress));
	up_progress.tty = isatty(STDERR_FILENO);
	up_progress.lines = !up_progress.tty && !quiet && t->nnodes >= UP_PROGRESS_MIN_NODES;
	up_progress.sim = t->sim;
	up_progress.total[UP_NODES] = t->nnodes;
	up_progress.total[UP_LINKS] = t->nlinks + t->nsegments;
	up_progress.started = now_seconds();
}

static void up_progress_step(enum up_phase phase, unsigned done)
{
	unsigned total = up_progress.total[phase];
	up_progress.done[phase] = done;
	if (up_progress.lines) {
		unsigned tenth = (total + 9) / 10;
		if (done % tenth == 0 || done == total)
			fprintf(stderr, "%s %u/%u %s\n", phase == UP_NODES ? "started" : "wired",
				done, total, phase == UP_NODES ? "nodes" : "links and segments");
		return;
	}
	double now = now_seconds();
	if (!up_progress.tty || (up_progress.total[UP_NODES] < UP_PROGRESS_MIN_NODES &&
				 now - up_progress.started < 1.0) ||
	    (done != total && now - up_progress.last_draw < 0.1))
		return;
	up_progress.last_draw = now;
	up_progress.drawn = true;
	fprintf(stderr, "\r\033[Kup %s: %u/%u nodes started, %u/%u links and segments wired",
		up_progress.sim, up_progress.done[UP_NODES], up_progress.total[UP_NODES],
		up_progress.done[UP_LINKS], up_progress.total[UP_LINKS]);
}

static void up_progress_end(void)
{
	if (up_progress.drawn)
		fputs("\r\033[K", stderr);
	up_progress.drawn = false;
}

/* Directory of a topology file, for resolving relative paths in it. */
static void topology_dir(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* Where named rootfs tarballs ("meshlite") live: $NETSIM_ROOTFS_DIR, next to the
 * binary (build/rootfs/), or the installed share dir. */
static int find_named_rootfs(const char *name, char *out, size_t len, struct error *err)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	const char *env = getenv("NETSIM_ROOTFS_DIR");
	char candidates[3][PATH_MAX];
	int ncand = 0;
	if (env && *env)
		snprintf(candidates[ncand++], PATH_MAX, "%s/%s.tar.gz", env, name);
	snprintf(candidates[ncand++], PATH_MAX, "%s/rootfs/%s.tar.gz", exe, name);
	snprintf(candidates[ncand++], PATH_MAX, "%s/../share/netsim/rootfs/%s.tar.gz", exe,
		 name);
	for (int i = 0; i < ncand; i++) {
		if (access(candidates[i], R_OK) == 0) {
			snprintf(out, len, "%s", candidates[i]);
			return 0;
		}
	}
	return error_setmsg(err, ENOENT,
			    "rootfs %s: not found (looked for %s; build it with `make rootfs`)",
			    name, candidates[ncand - 2]);
}

/* A node's rootfs attribute → a tarball or directory path. */
int sim_rootfs_source(const struct topo *t, const char *value, char *out, size_t len,
		      struct error *err)
{
	if (!strchr(value, '/') && !strstr(value, ".tar") && !strstr(value, ".tgz"))
		return find_named_rootfs(value, out, len, err);
	if (value[0] == '/') {
		snprintf(out, len, "%s", value);
	} else {
		char dir[PATH_MAX];
		topology_dir(t->path, dir, sizeof(dir));
		snprintf(out, len, "%s/%s", dir, value);
	}
	return 0;
}

static int raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

static int write_file(const char *path, const char *data, size_t len, struct error *err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, len) < 0)
		return error_set(err, errno, "write %s", path);
	return 0;
}

static int copy_topology(const struct topo *t, struct error *err)
{
	char dst[PATH_MAX];
	cleanup_free char *text = NULL;
	size_t len = 0;
	cleanup_fclose FILE *in = fopen(t->path, "re");
	if (!in)
		return error_set(err, errno, "read %s", t->path);
	cleanup_fclose FILE *mem = open_memstream(&text, &len);
	if (!mem)
		return error_set(err, errno, "copy %s", t->path);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(mem);
	mem = NULL;
	state_sim_path(dst, sizeof(dst), t->sim, "topology.conf");
	return write_file(dst, text, len, err);
}

/* The per-node pieces `up` keeps while building. */
struct node_run {
	struct container c;
	int netns_fd;
	char rootfs[PATH_MAX];   /* resolved lower dir */
	char files[PATH_MAX];    /* resolved files= dir or "" */
	char startup[PATH_MAX];  /* resolved startup= file or "" */
	char source[PATH_MAX];   /* the tarball/dir it came from (for status) */
	bool qemu;               /* backend=qemu: a VM in an empty netns, no container */
	char kernel_dir[PATH_MAX]; /* qemu: the resolved kernel directory */
	struct qemu_vm vm;       /* qemu: the booted VM */
	bool netns_made;         /* this run bound /run/netns/SIM_NODE: a rollback may remove it */
	struct feed *feed;       /* feed= scanned, or NULL (owned by the first node naming it) */
	bool feed_owned;
};

void sim_segment_port(unsigned segment, unsigned member, char *buf, size_t len)
{
	snprintf(buf, len, "s%u-%u", segment, member);
}

static int wire_segment(const struct topo *t, unsigned s, struct net *net, int sw_fd,
			struct node_run *runs, struct error *err)
{
	const struct topo_segment *seg = &t->segments[s];
	int r;
	if (seg->medium == TOPO_MEDIUM_WIFI) { /* hwsim radios: the medium process too */
		for (unsigned m = 0; m < seg->nmembers; m++)
			if ((r = sim_wifi_wire_member(t, s, m, runs[seg->members[m].node].netns_fd,
						      sw_fd, err)) < 0)
				return r;
		return 0;
	}
	if (seg->medium == TOPO_MEDIUM_RADIO) { /* no bridge: the medium process (sim/radio.h) */
		for (unsigned m = 0; m < seg->nmembers; m++)
			if ((r = sim_radio_wire_member(t, s, m, net, runs[seg->members[m].node].netns_fd,
						       sw_fd, err)) < 0)
				return r;
		return 0;
	}
	r = sim_kernel->net_bridge_create(net, sw_fd, seg->name, err);
	if (r < 0)
		return error_prefix(err, "segment %s", seg->name);
	for (unsigned m = 0; m < seg->nmembers; m++) {
		const struct topo_endpoint *ep = &seg->members[m];
		const char *node = t->nodes[ep->node].name;
		char port[IFNAMSIZ];
		uint8_t mac_node[6], mac_port[6];
		sim_segment_port(s, m, port, sizeof(port));
		ident_mac(t->sim, node, ep->ifname, mac_node);
		ident_port_mac(t->sim, seg->name, port, mac_port);
		r = sim_kernel->net_veth_create(net, runs[ep->node].netns_fd, ep->ifname,
						mac_node, sw_fd, port, mac_port, err);
		if (r == 0)
			r = sim_kernel->net_bridge_attach(sw_fd, port, seg->name, err);
		/* Shaped where the member sends into the medium, so a frame crossing
		 * the segment sees the quality once. */
		if (r == 0 && seg->quality.set)
			r = sim_kernel->shape_apply(runs[ep->node].netns_fd, ep->ifname,
						    &seg->quality, err);
		if (r < 0)
			return error_prefix(err, "segment %s: member %s:%s", seg->name, node,
					    ep->ifname);
	}
	return 0;
}

static int wire(const struct topo *t, struct node_run *runs, bool *switch_made,
		struct error *err)
{
	struct net *net = NULL;
	int r = sim_kernel->net_open(&net, err);
	if (r < 0)
		return r;
	for (unsigned l = 0; l < t->nlinks && r == 0; l++) {
		const struct topo_link *link = &t->links[l];
		const char *na = t->nodes[link->a.node].name, *nb = t->nodes[link->b.node].name;
		uint8_t mac_a[6], mac_b[6];
		ident_mac(t->sim, na, link->a.ifname, mac_a);
		ident_mac(t->sim, nb, link->b.ifname, mac_b);
		r = sim_kernel->net_veth_create(net, runs[link->a.node].netns_fd, link->a.ifname,
						mac_a, runs[link->b.node].netns_fd,
						link->b.ifname, mac_b, err);
		/* Shaped on both ends' egress: each direction sees the quality once. */
		if (r == 0 && link->quality.set)
			r = sim_kernel->shape_apply(runs[link->a.node].netns_fd, link->a.ifname,
						    &link->quality, err);
		if (r == 0 && link->quality.set)
			r = sim_kernel->shape_apply(runs[link->b.node].netns_fd, link->b.ifname,
						    &link->quality, err);
		if (r < 0)
			error_prefix(err, "%s:%d: link %s:%s %s:%s", t->path, link->line, na,
				     link->a.ifname, nb, link->b.ifname);
		if (up_interrupted)
			r = error_setmsg(err, EINTR, "interrupted by signal %d", up_interrupted);
		up_progress_step(UP_LINKS, l + 1);
	}
	if (r == 0 && t->nsegments > 0) {
		char path[PATH_MAX];
		state_netns_path(path, sizeof(path), t->sim, NULL);
		r = sim_kernel->netns_create(path, err);
		*switch_made = r == 0;
		cleanup_close int sw_fd = r < 0 ? -1 : sim_kernel->netns_open(path, err);
		if (r == 0 && sw_fd < 0)
			r = sw_fd;
		for (unsigned s = 0; s < t->nsegments && r == 0; s++) {
			r = wire_segment(t, s, net, sw_fd, runs, err);
			up_progress_step(UP_LINKS, t->nlinks + s + 1);
		}
	}
	sim_kernel->net_close(net);
	return r;
}

static int check_supported(const struct topo *t, struct error *err)
{
	/* (backend=qemu nodes are checked with their rootfs: resolve_rootfs) */
	/* Quality the kernel cannot apply (netem missing, rates out of tbf's range)
	 * is refused here, before anything exists. */
	for (unsigned l = 0; l < t->nlinks; l++) {
		const struct topo_link *link = &t->links[l];
		if (shape_check(&link->quality, err) < 0)
			return error_prefix(err, "%s:%d: link %s %s", t->path, link->line,
					    t->nodes[link->a.node].name, t->nodes[link->b.node].name);
	}
	if (sim_wifi_any(t) && sim_kernel->wifi_check(err) < 0)
		return error_prefix(err, "%s: wifi segments", t->path);
	for (unsigned s = 0; s < t->nsegments; s++)
		if (t->segments[s].medium == TOPO_MEDIUM_BRIDGE && /* radio: the medium's */
		    shape_check(&t->segments[s].quality, err) < 0)
			return error_prefix(err, "%s:%d: segment %s", t->path, t->segments[s].line,
					    t->segments[s].name);
	return 0;
}

/* A files= value → the path it means (relative to the topology file). */
static void files_path(const struct topo *t, const char *value, char *out, size_t len)
{
	char tdir[PATH_MAX];
	topology_dir(t->path, tdir, sizeof(tdir));
	if (value[0] == '/')
		snprintf(out, len, "%s", value);
	else
		snprintf(out, len, "%s/%s", tdir, value);
}

int sim_check_host_paths(const struct topo *t, struct error *err)
{
	char path[PATH_MAX * 2];
	struct error ignored;
	for (unsigned i = 0; i < t->nnodes; i++) {
		const struct topo_node *node = &t->nodes[i];
		const char *rootfs = node->rootfs ? node->rootfs : "meshlite";
		/* (a rootfs that cannot be found is reported by resolve_rootfs) */
		if (sim_rootfs_source(t, rootfs, path, sizeof(path), &ignored) == 0 &&
		    state_check_host_path(path, err) < 0)
			return error_prefix(err, "%s:%d: node %s: rootfs=%s", t->path, node->line,
					    node->name, rootfs);
		if (node->feed) {
			files_path(t, node->feed, path, sizeof(path));
			if (state_check_host_path(path, err) < 0)
				return error_prefix(err, "%s:%d: node %s: feed=%s", t->path,
						    node->line, node->name, node->feed);
		}
		if (node->startup) {
			files_path(t, node->startup, path, sizeof(path));
			if (state_check_host_path(path, err) < 0)
				return error_prefix(err, "%s:%d: node %s: startup=%s", t->path,
						    node->line, node->name, node->startup);
		}
		if (!node->files)
			continue;
		files_path(t, node->files, path, sizeof(path));
		if (state_check_host_path(path, err) < 0)
			return error_prefix(err, "%s:%d: node %s: files=%s", t->path, node->line,
					    node->name, node->files);
	}
	return 0;
}

/* feed=: scanned once per distinct value (nodes usually share one), its
 * clashes reported once. */
static int resolve_feed(const struct topo *t, struct node_run *runs, unsigned i,
			struct error *err)
{
	const struct topo_node *node = &t->nodes[i];
	if (!node->feed)
		return 0;
	for (unsigned j = 0; j < i; j++)
		if (t->nodes[j].feed && strcmp(t->nodes[j].feed, node->feed) == 0) {
			runs[i].feed = runs[j].feed;
			return 0;
		}
	char path[PATH_MAX * 2];
	files_path(t, node->feed, path, sizeof(path));
	struct feed *f = calloc(1, sizeof(*f));
	if (!f)
		return error_set(err, ENOMEM, "feed");
	if (feed_open(path, f, err) < 0) {
		free(f);
		return error_prefix(err, "%s:%d: node %s", t->path, node->line, node->name);
	}
	runs[i].feed = f;
	runs[i].feed_owned = true;
	feed_print_clashes(f, NULL, 5, stderr);
	return 0;
}

static int resolve_rootfs(const struct topo *t, struct node_run *runs, struct error *err)
{
	char tdir[PATH_MAX];
	topology_dir(t->path, tdir, sizeof(tdir));
	for (unsigned i = 0; i < t->nnodes; i++) {
		const struct topo_node *node = &t->nodes[i];
		struct node_run *run = &runs[i];
		/* Nodes usually share a rootfs: resolve (and hash) each source once. */
		unsigned j;
		for (j = 0; j < i; j++)
			if (strcmp(t->nodes[j].rootfs, node->rootfs) == 0)
				break;
		if (j < i) {
			memcpy(run->rootfs, runs[j].rootfs, sizeof(run->rootfs));
			memcpy(run->source, runs[j].source, sizeof(run->source));
		} else {
			int r = sim_rootfs_source(t, node->rootfs, run->source, sizeof(run->source), err);
			cleanup_free char *dir = NULL;
			struct rootfs_limits limits;
			if (r == 0)
				r = state_extract_limits(&limits, err);
			if (r == 0)
				r = rootfs_resolve(run->source, state_cache_dir(), &limits, &dir, err);
			if (r < 0)
				return error_prefix(err, "%s:%d: node %s", t->path, node->line,
						    node->name);
			snprintf(run->rootfs, sizeof(run->rootfs), "%s", dir);
		}
		run->qemu = node->backend == TOPO_BACKEND_QEMU;
		if (run->qemu && qemu_node_check(t, node, tdir, run->kernel_dir,
						 sizeof(run->kernel_dir), err) < 0)
			return -err->errnum;
		if (node->files) {
			char path[PATH_MAX * 2];
			struct stat st;
			files_path(t, node->files, path, sizeof(path));
			if (!realpath(path, run->files) || stat(run->files, &st) < 0 ||
			    !S_ISDIR(st.st_mode))
				return error_setmsg(err, ENOTDIR,
						    "%s:%d: node %s: files=%s is not a directory",
						    t->path, node->line, node->name, node->files);
		}
		if (node->startup) {
			char path[PATH_MAX * 2];
			struct stat st;
			files_path(t, node->startup, path, sizeof(path));
			if (!realpath(path, run->startup) || stat(run->startup, &st) < 0 ||
			    !S_ISREG(st.st_mode))
				return error_setmsg(err, ENOENT,
						    "%s:%d: node %s: startup=%s is not a file",
						    t->path, node->line, node->name, node->startup);
		}
		if (resolve_feed(t, runs, i, err) < 0)
			return -err->errnum;
		/* an init this host cannot run fails here, before anything exists */
		struct elf_arch arch;
		if (!run->qemu && arch_check_node(run->rootfs, run->files[0] ? run->files : NULL,
						  run->feed, node->init, &arch, err) < 0)
			return error_prefix(err, "%s:%d: node %s: init", t->path, node->line,
					    node->name);
	}
	return 0;
}

/* ---- the sim's resource caps (docs/security.md, "Resource limits") ------- */

static uint64_t host_memory_bytes(void)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return 0;
	return (uint64_t)si.totalram * si.mem_unit;
}

/* Caps on all nodes of a sim together: whatever its nodes do, the host keeps a
 * quarter of its memory, a tenth of its CPU time and most of its pids. */
void sim_limits(unsigned nnodes, struct cgroup_limits *limits)
{
	memset(limits, 0, sizeof(*limits));
	limits->memory_max = host_memory_bytes() / 4 * 3;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	limits->cpu_quota_us = (uint64_t)(cpus > 0 ? cpus : 1) * 100000 * 9 / 10;
	uint64_t pids = 64 * (uint64_t)nnodes + 1024, threads = 0;
	FILE *f = fopen("/proc/sys/kernel/threads-max", "re");
	if (f) {
		unsigned long long v;
		if (fscanf(f, "%llu", &v) == 1)
			threads = v;
		fclose(f);
	}
	if (threads && pids > threads / 2)
		pids = threads / 2;
	limits->pids_max = pids;
}

/* The sim's tmpfs of node dirs: every overlay upper dir and console log.  Its
 * size is the sum of the nodes' disk= (SIM_TMPFS_PER_NODE_MIB when not given)
 * plus some slack, at most half the host's memory.  The space is shared, but a
 * node's writes are charged to its memory cgroup too. */
#define SIM_TMPFS_PER_NODE_MIB 64
#define SIM_TMPFS_SLACK_MIB 64
#define SIM_TMPFS_INODES_PER_NODE 8192

static void sim_tmpfs_options(const struct topo *t, char *buf, size_t len)
{
	uint64_t mib = SIM_TMPFS_SLACK_MIB;
	for (unsigned i = 0; i < t->nnodes; i++)
		mib += t->nodes[i].limit_disk_mib ? t->nodes[i].limit_disk_mib : SIM_TMPFS_PER_NODE_MIB;
	uint64_t size = mib << 20, half = host_memory_bytes() / 2;
	if (half && size > half)
		size = half;
	snprintf(buf, len, "mode=0755,size=%llu,nr_inodes=%llu", (unsigned long long)size,
		 (unsigned long long)t->nnodes * SIM_TMPFS_INODES_PER_NODE + 1024);
}

static int sim_cgroup_create(const struct topo *t, struct error *err)
{
	const struct cgroup_system *sys;
	char path[256];
	struct cgroup_limits limits;
	int r = sim_kernel->cgroup_system_get(&sys, err);
	if (r < 0 || cgroup_system_empty(sys))
		return r;
	state_cgroup_path(path, sizeof(path), t->sim, NULL);
	sim_limits(t->nnodes, &limits);
	return sim_kernel->cgroup_create(sys, path, true, &limits, err);
}

static bool sim_cgroup_exists(const char *sim)
{
	const struct cgroup_system *sys;
	char path[256];
	struct error ignored;
	if (sim_kernel->cgroup_system_get(&sys, &ignored) < 0)
		return false;
	state_cgroup_path(path, sizeof(path), sim, NULL);
	return sim_kernel->cgroup_exists(sys, path);
}

static int sim_cgroup_remove(const char *sim, struct error *err)
{
	const struct cgroup_system *sys;
	char path[256];
	int r = sim_kernel->cgroup_system_get(&sys, err);
	if (r < 0 || cgroup_system_empty(sys))
		return r;
	state_cgroup_path(path, sizeof(path), sim, NULL);
	return sim_kernel->cgroup_remove(sys, path, true, err);
}

static int sim_exists(const char *sim)
{
	char path[PATH_MAX];
	struct stat st;
	state_sim_path(path, sizeof(path), sim, "nodes");
	return stat(path, &st) == 0;
}

/* ---- up: named steps over one record of what was made --------------------- */

/* Everything one `up` holds while it builds a sim, and what it has made so far:
 * up_release() undoes exactly that.  Names cannot clash between sims
 * (state_node_id), but a namespace file of that name may still exist (a
 * leftover, someone's own): `up` then fails on it, and must not take it away,
 * hence the per-namespace flags rather than "everything of the sim". */
struct up_run {
	const struct topo *t;
	bool quiet;
	struct node_run *runs;
	int lock_fd;
	bool signals_caught;
	struct sigaction old_sigs[3];
	bool dir_ours;          /* the sim's directory and neighbour claim are this run's */
	bool switch_netns;      /* this run created the switch namespace */
};

static const int up_signals[3] = {SIGINT, SIGTERM, SIGHUP};

/* NULL `made`: `down`, which removes everything of the sim. */
static bool made_netns(const struct up_run *made, const char *node)
{
	if (!made)
		return true;
	if (!node)
		return made->switch_netns;
	int i = topo_find_node(made->t, node);
	return i >= 0 && made->runs[i].netns_made;
}

static int teardown_locked(const char *sim, const struct up_run *made, struct error *err);

static int up_interrupted_error(struct error *err)
{
	return error_setmsg(err, EINTR, "interrupted by signal %d", up_interrupted);
}

static int up_init(struct up_run *run, const struct topo *t, const struct up_options *opt,
		   struct error *err)
{
	*run = (struct up_run){.t = t, .quiet = opt && opt->quiet, .lock_fd = -1};
	run->runs = calloc(t->nnodes ? t->nnodes : 1, sizeof(*run->runs));
	if (!run->runs)
		return error_set(err, ENOMEM, "up");
	for (unsigned i = 0; i < t->nnodes; i++) {
		run->runs[i].c = (struct container)CONTAINER_INIT;
		run->runs[i].netns_fd = -1;
	}
	return 0;
}

static int up_resolve(struct up_run *run, struct error *err)
{
	return resolve_rootfs(run->t, run->runs, err);
}

/* From before the first thing is created: a signal then ends `up` at its next
 * step, with everything created so far removed. */
static int up_catch_signals(struct up_run *run, struct error *err)
{
	(void)err;
	raise_fd_limit();
	struct sigaction sa = {.sa_handler = on_interrupt};
	up_interrupted = 0;
	for (int s = 0; s < 3; s++)
		sigaction(up_signals[s], &sa, &run->old_sigs[s]);
	run->signals_caught = true;
	return 0;
}

static void up_restore_signals(struct up_run *run)
{
	for (int s = 0; run->signals_caught && s < 3; s++)
		sigaction(up_signals[s], &run->old_sigs[s], NULL);
	run->signals_caught = false;
}

static int up_lock(struct up_run *run, struct error *err)
{
	const char *sim = run->t->sim;
	int r = state_lock(sim, &run->lock_fd, err);
	if (r < 0)
		return r;
	if (sim_exists(sim))
		return error_setmsg(err, EEXIST, "sim %s is already up (stop it with `netsim "
				    "down %s`)", sim, sim);
	/* A cgroup of that name is not ours to reuse, nor (when `up` fails) to
	 * remove: it may hold processes of an earlier run. */
	if (sim_cgroup_exists(sim))
		return error_setmsg(err, EEXIST, "sim %s: its cgroup netsim/%s is left over from "
				    "an earlier run (`netsim down %s` removes it)", sim, sim, sim);
	run->dir_ours = true;
	return 0;
}

/* before any node: the host's neighbour tables must hold the sim */
static int up_claim_neigh(struct up_run *run, struct error *err)
{
	struct neigh_need need;
	neigh_need_of_topo(run->t, &need);
	return sim_kernel->neigh_limits_claim(run->t->sim, &need, stderr, err);
}

/* The nodes' dirs (overlay upper/work, consoles) live on a tmpfs of the sim's
 * own: `down` unmounts it instead of unlinking thousands of files. */
static int up_mount_tmpfs(struct up_run *run, struct error *err)
{
	char path[PATH_MAX], options[128];
	state_sim_path(path, sizeof(path), run->t->sim, "nodes");
	if (mkdir(path, 0755) < 0)
		return error_set(err, errno, "create %s", path);
	sim_tmpfs_options(run->t, options, sizeof(options));
	if (sim_kernel->mount("netsim", path, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
		return error_set(err, errno, "mount tmpfs on %s", path);
	return 0;
}

static int up_create_cgroup(struct up_run *run, struct error *err)
{
	return sim_cgroup_create(run->t, err);
}

static int up_copy_topology(struct up_run *run, struct error *err)
{
	return copy_topology(run->t, err);
}

/* Clone every node first and only then wait for them (up_bind_nodes): the
 * children build their root filesystems in parallel. */
static int up_spawn_nodes(struct up_run *run, struct error *err)
{
	const struct topo *t = run->t;
	int r = 0;
	up_progress_begin(t, run->quiet);
	for (unsigned i = 0; i < t->nnodes && r == 0; i++) {
		struct node_run *nr = &run->runs[i];
		if (nr->qemu) {
			/* its VM boots after the containers started (up_boot_vms) */
			struct qemu_node_setup setup = {
				.memory_mib = (unsigned)t->nodes[i].qemu_mem_mib,
				.cpus = t->nodes[i].qemu_cpus,
			};
			snprintf(setup.rootfs, sizeof(setup.rootfs), "%s", nr->rootfs);
			snprintf(setup.files, sizeof(setup.files), "%s", nr->files);
			snprintf(setup.kernel_dir, sizeof(setup.kernel_dir), "%s", nr->kernel_dir);
			r = sim_kernel->qemu_node_create(t->sim, t->nodes[i].name, &setup, err);
			nr->netns_made = r == 0; /* its last step */
			continue;
		}
		struct node_launch launch = {
			.sim = t->sim,
			.node = &t->nodes[i],
			.rootfs = nr->rootfs,
			.files = nr->files[0] ? nr->files : NULL,
			.feed = nr->feed,
			.topo = t,
			.startup = nr->startup[0] ? nr->startup : NULL,
		};
		r = node_spawn(&launch, &nr->c, err);
	}
	return r;
}

/* Each container ready: bind its netns at /run/netns/SIM_NODE; every node's
 * netns opened for the wiring. */
static int up_bind_nodes(struct up_run *run, struct error *err)
{
	const struct topo *t = run->t;
	char path[PATH_MAX];
	for (unsigned i = 0; i < t->nnodes; i++) {
		struct node_run *nr = &run->runs[i];
		int r = 0;
		state_netns_path(path, sizeof(path), t->sim, t->nodes[i].name);
		if (!nr->qemu) {
			r = sim_kernel->container_wait_ready(&nr->c, err);
			if (r == 0)
				r = sim_kernel->netns_bind_pid(nr->c.pid, path, err);
			nr->netns_made = r == 0;
		}
		if (r == 0) {
			nr->netns_fd = sim_kernel->netns_open(path, err);
			if (nr->netns_fd < 0)
				r = nr->netns_fd;
		}
		if (r < 0)
			return error_prefix(err, "node %s", t->nodes[i].name);
		if (up_interrupted)
			return up_interrupted_error(err);
		up_progress_step(UP_NODES, i + 1);
	}
	return 0;
}

/* The links and segments, then the medium process of the radio segments. */
static int up_wire(struct up_run *run, struct error *err)
{
	int r = wire(run->t, run->runs, &run->switch_netns, err);
	return r < 0 ? r : sim_radio_start(run->t, err);
}

static int up_start_inits(struct up_run *run, struct error *err)
{
	for (unsigned i = 0; i < run->t->nnodes; i++) {
		if (run->runs[i].qemu)
			continue;
		int r = sim_kernel->container_start(&run->runs[i].c, err);
		if (r < 0)
			return error_prefix(err, "node %s: start init", run->t->nodes[i].name);
	}
	return 0;
}

/* VMs boot for seconds (TCG): all at once, after the containers. */
static int up_boot_vms(struct up_run *run, struct error *err)
{
	const struct topo *t = run->t;
	cleanup_free unsigned *vm_nodes = calloc(t->nnodes ? t->nnodes : 1, sizeof(*vm_nodes));
	cleanup_free struct qemu_vm *vms = calloc(t->nnodes ? t->nnodes : 1, sizeof(*vms));
	unsigned n_vms = 0;
	if (!vm_nodes || !vms)
		return error_set(err, ENOMEM, "up");
	for (unsigned i = 0; i < t->nnodes; i++)
		if (run->runs[i].qemu)
			vm_nodes[n_vms++] = i;
	int r = sim_kernel->qemu_node_boot_all(t->sim, t, vm_nodes, n_vms, vms, &up_interrupted,
					       err);
	for (unsigned k = 0; k < n_vms && r == 0; k++) {
		run->runs[vm_nodes[k]].vm = vms[k];
		run->runs[vm_nodes[k]].c.pid = vms[k].pid; /* QEMU is the node's process */
	}
	return r;
}

static int up_write_state(struct up_run *run, struct error *err)
{
	const struct topo *t = run->t;
	cleanup_state struct state st = {.created = (long long)time(NULL), .nnodes = t->nnodes};
	char path[PATH_MAX];
	snprintf(st.sim, sizeof(st.sim), "%s", t->sim);
	if (!realpath(t->path, st.topology))
		snprintf(st.topology, sizeof(st.topology), "%s", t->path);
	st.nodes = calloc(t->nnodes ? t->nnodes : 1, sizeof(*st.nodes));
	if (!st.nodes)
		return error_set(err, ENOMEM, "state");
	for (unsigned i = 0; i < t->nnodes; i++) {
		struct state_node *sn = &st.nodes[i];
		snprintf(sn->name, sizeof(sn->name), "%s", t->nodes[i].name);
		sn->pid = run->runs[i].c.pid;
		sn->starttime = process_starttime(sn->pid);
		snprintf(sn->addr4, sizeof(sn->addr4), "%s", t->nodes[i].addr4);
		snprintf(sn->addr6, sizeof(sn->addr6), "%s", t->nodes[i].addr6);
		snprintf(sn->rootfs, sizeof(sn->rootfs), "%s", run->runs[i].source);
	}
	state_sim_path(path, sizeof(path), t->sim, "state");
	return state_write(path, &st, err);
}

static int up_summarize(const struct up_run *run, struct up_summary *sum, struct error *err)
{
	const struct topo *t = run->t;
	*sum = (struct up_summary){
		.nnodes = t->nnodes, .nlinks = t->nlinks, .nsegments = t->nsegments};
	snprintf(sum->sim, sizeof(sum->sim), "%s", t->sim);
	sum->nodes = calloc(t->nnodes ? t->nnodes : 1, sizeof(*sum->nodes));
	if (!sum->nodes)
		return error_set(err, ENOMEM, "up");
	for (unsigned i = 0; i < t->nnodes; i++) {
		struct up_node_summary *ns = &sum->nodes[i];
		const struct node_run *nr = &run->runs[i];
		snprintf(ns->name, sizeof(ns->name), "%s", t->nodes[i].name);
		snprintf(ns->addr4, sizeof(ns->addr4), "%s", t->nodes[i].addr4);
		snprintf(ns->source, sizeof(ns->source), "%s", nr->source);
		ns->pid = nr->c.pid;
		ns->qemu = nr->qemu;
		if (nr->qemu) {
			snprintf(ns->accel, sizeof(ns->accel), "%s", nr->vm.accel);
			ns->boot_ms = nr->vm.boot_ms;
		}
	}
	return 0;
}

/* Undo what `run` made when `r` < 0 (or only let go of it when 0), then free it. */
static void up_release(struct up_run *run, int r)
{
	const struct topo *t = run->t;
	struct error ignored;
	up_restore_signals(run);
	up_progress_end();
	for (unsigned i = 0; run->runs && i < t->nnodes; i++) {
		struct node_run *nr = &run->runs[i];
		if (nr->qemu)
			nr->c.pid = -1; /* a VM, not a container of ours: teardown stops it */
		if (r < 0)
			sim_kernel->container_destroy(&nr->c);
		else
			sim_kernel->container_release(&nr->c); /* runs on; `down` ends it */
	}
	if (r < 0 && run->dir_ours)
		teardown_locked(t->sim, run, &ignored);
	for (unsigned i = 0; run->runs && i < t->nnodes; i++)
		if (run->runs[i].netns_fd >= 0)
			close(run->runs[i].netns_fd);
	/* the sim's need went with its directory */
	if (r < 0 && run->dir_ours)
		sim_kernel->neigh_limits_release(&ignored);
	for (unsigned i = 0; run->runs && i < t->nnodes; i++)
		if (run->runs[i].feed_owned) {
			feed_free(run->runs[i].feed);
			free(run->runs[i].feed);
		}
	free(run->runs);
	run->runs = NULL;
	cleanup_closep(&run->lock_fd);
}

typedef int (*up_step)(struct up_run *run, struct error *err);

/* In order; each records in the run what it made.  Once the signals are caught,
 * one that arrived ends `up` before the next step (and the long steps check
 * between nodes and links). */
static const up_step up_steps[] = {
	up_resolve,       /* rootfs, files=, feed=, init's arch: before anything exists */
	up_catch_signals,
	up_lock,          /* the sim's lock; refuse a sim or cgroup that exists */
	up_claim_neigh,
	up_mount_tmpfs,
	up_create_cgroup,
	up_copy_topology,
	up_spawn_nodes,
	up_bind_nodes,
	up_wire,          /* links, then the switch namespace and its segments */
	up_start_inits,
	up_boot_vms,
	up_write_state,
};

int sim_up(const struct topo *t, const struct up_options *opt, struct up_summary *sum,
	   struct error *err)
{
	double started = now_seconds();
	struct up_run run;
	int r = check_supported(t, err);
	if (r == 0)
		r = sim_check_host_paths(t, err);
	if (r == 0)
		r = up_init(&run, t, opt, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(up_steps) / sizeof(up_steps[0]) && r == 0; i++)
		r = run.signals_caught && up_interrupted ? up_interrupted_error(err)
							 : up_steps[i](&run, err);
	if (r == 0 && sum)
		r = up_summarize(&run, sum, err);
	up_release(&run, r);
	if (r == 0 && sum)
		sum->seconds = now_seconds() - started;
	return r;
}

void sim_up_summary_free(struct up_summary *sum)
{
	free(sum->nodes);
	sum->nodes = NULL;
}

int sim_node_dirs(const char *sim, char ***names, unsigned *count, struct error *err)
{
	char path[PATH_MAX];
	*names = NULL;
	*count = 0;
	state_sim_path(path, sizeof(path), sim, "nodes");
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : error_set(err, errno, "open %s", path);
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char **v = realloc(*names, (*count + 1) * sizeof(*v));
		if (!v || !(v[*count] = strdup(de->d_name))) {
			if (v)
				*names = v;
			r = error_set(err, ENOMEM, "list %s", path);
			break;
		}
		*names = v;
		(*count)++;
	}
	closedir(d);
	return r;
}

static int teardown_locked(const char *sim, const struct up_run *made, struct error *err)
{
	char **nodes = NULL;
	unsigned n = 0;
	/* Port-forward relays first: their sockets live in the node namespaces;
	 * the medium's in the switch namespace. */
	proc_stop_forwards(sim);
	sim_radio_stop(sim);
	int r = sim_node_dirs(sim, &nodes, &n, err);
	if (r < 0)
		return r;
	/* radios go before their namespaces, so none is left when down returns */
	sim_wifi_teardown(sim, nodes, n);
	pid_t *pids = calloc(n ? n : 1, sizeof(*pids));
	unsigned long long *starts = calloc(n ? n : 1, sizeof(*starts));
	if (!pids || !starts) {
		r = error_set(err, ENOMEM, "down %s", sim);
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		pids[i] = state_pidfile_read(sim, nodes[i]);
		if (pids[i] > 0) {
			starts[i] = process_starttime(pids[i]);
			sim_kernel->kill(pids[i], SIGKILL);
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (pids[i] > 0)
			process_wait_gone(pids[i], starts[i], 5000);
	/* A VM whose pid file `up` had not written yet (killed during the boot),
	 * and its sockets and initrd. */
	for (unsigned i = 0; i < n; i++) {
		sim_kernel->qemu_node_teardown(sim, nodes[i]);
		node_ids_release(sim, nodes[i]);
	}
	/* also ends what no pid file knew of (a `netsim exec` still running) */
	r = sim_cgroup_remove(sim, err);
	char path[PATH_MAX];
	for (unsigned i = 0; i < n; i++) {
		struct error e;
		if (!made_netns(made, nodes[i]) ||
		    state_netns_path(path, sizeof(path), sim, nodes[i]) < 0)
			continue;
		if (sim_kernel->netns_remove(path, &e) < 0 && r == 0) {
			*err = e;
			r = -e.errnum;
		}
	}
	/* Everything below nodes/ goes with its tmpfs (a sim whose `up` was killed
	 * before the mount has plain dirs there, removed with the sim dir below). */
	state_sim_path(path, sizeof(path), sim, "nodes");
	if (sim_kernel->umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT &&
	    r == 0)
		r = error_set(err, errno, "unmount %s", path);
	state_netns_path(path, sizeof(path), sim, NULL);
	struct error e;
	if (made_netns(made, NULL) && sim_kernel->netns_remove(path, &e) < 0 && r == 0) {
		*err = e;
		r = -e.errnum;
	}
	if (r == 0) {
		state_sim_path(path, sizeof(path), sim, NULL);
		if (rootfs_remove_tree(path, &e) < 0) {
			*err = e;
			r = -e.errnum;
		}
	}
out:
	free(pids);
	free(starts);
	for (unsigned i = 0; i < n; i++)
		free(nodes[i]);
	free(nodes);
	return r;
}

int sim_down(const char *sim, struct error *err)
{
	char path[PATH_MAX];
	struct stat st;
	/* What a killed `up` left half-extracted in the rootfs cache (best effort:
	 * a cache with wrong permissions is reported by the next `up`). */
	struct error ignored;
	rootfs_cache_sweep(state_cache_dir(), &ignored);
	state_sim_path(path, sizeof(path), sim, NULL);
	if (stat(path, &st) < 0 && errno == ENOENT) {
		/* Nothing recorded; a switch namespace or cgroups can still be left over. */
		int r = topo_valid_name(sim, TOPO_SIM_MAX) ? sim_cgroup_remove(sim, err) : 0;
		state_netns_path(path, sizeof(path), sim, NULL);
		r = r < 0 ? r : sim_kernel->netns_remove(path, err);
		/* its directory may have gone without `down`: the limits it raised not */
		if (r < 0) {
			sim_kernel->neigh_limits_release(&ignored);
			return r;
		}
		return sim_kernel->neigh_limits_release(err);
	}
	cleanup_close int lock_fd = -1;
	int r = state_lock(sim, &lock_fd, err);
	if (r < 0)
		return r;
	r = teardown_locked(sim, NULL, err);
	if (r < 0) {
		sim_kernel->neigh_limits_release(&ignored); /* fit to what is left all the same */
		return error_prefix(err, "down %s", sim);
	}
	return sim_kernel->neigh_limits_release(err); /* the sim's need went with its directory */
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sim_names(char ***names, unsigned *count, struct error *err)
{
	*names = NULL;
	*count = 0;
	DIR *d = opendir(state_run_dir());
	if (!d)
		return errno == ENOENT ? 0 : error_set(err, errno, "open %s", state_run_dir());
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !topo_valid_name(de->d_name, TOPO_SIM_MAX))
			continue;
		char **v = realloc(*names, (*count + 1) * sizeof(*v));
		if (!v || !(v[*count] = strdup(de->d_name))) {
			if (v)
				*names = v;
			r = error_set(err, ENOMEM, "list sims");
			break;
		}
		*names = v;
		(*count)++;
	}
	closedir(d);
	if (*count > 1)
		qsort(*names, *count, sizeof(**names), cmp_names);
	return r;
}

void sim_names_free(char **names, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int sim_pick(const char *given, char *out, size_t len, struct error *err)
{
	if (given) {
		char path[PATH_MAX];
		struct stat st;
		state_sim_path(path, sizeof(path), given, "state");
		if (!topo_valid_name(given, TOPO_SIM_MAX) || stat(path, &st) < 0)
			return error_setmsg(err, ENOENT, "sim %s is not up", given);
		snprintf(out, len, "%s", given);
		return 0;
	}
	char **names;
	unsigned n;
	int r = sim_names(&names, &n, err);
	if (r < 0)
		return r;
	if (n == 1) {
		snprintf(out, len, "%s", names[0]);
	} else if (n == 0) {
		r = error_setmsg(err, ENOENT, "no sim is up (start one with `netsim up FILE`)");
	} else {
		char list[512] = "";
		for (unsigned i = 0; i < n; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", names[i]);
		r = error_setmsg(err, EINVAL, "several sims are up (%s): choose one with -s SIM",
				 list);
	}
	sim_names_free(names, n);
	return r;
}

int sim_node_pid(const char *sim, const char *node, pid_t *pid, struct error *err)
{
	char path[PATH_MAX];
	struct stat st;
	state_node_path(path, sizeof(path), sim, node, NULL);
	if (!topo_valid_name(node, TOPO_NAME_MAX) || stat(path, &st) < 0)
		return error_setmsg(err, ENOENT, "sim %s has no node %s", sim, node);
	pid_t p = state_pidfile_read(sim, node);
	if (p < 0)
		return error_set(err, -p, "node %s: read pid", node);
	if (p == 0)
		return error_setmsg(err, ESRCH, "node %s is not running", node);
	*pid = p;
	return 0;
}

int sim_topology(const char *sim, struct topo *t, struct error *err)
{
	char path[PATH_MAX];
	state_sim_path(path, sizeof(path), sim, "topology.conf");
	int r = topo_parse_file(path, t, err);
	if (r == 0) /* the sim may have been renamed with `up -n` */
		snprintf(t->sim, sizeof(t->sim), "%s", sim);
	return r;
}
