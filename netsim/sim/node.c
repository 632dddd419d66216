#include "sim/node.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sim/arch.h"
#include "sim/kernel.h"
#include "cgroup.h"
#include "cleanup.h"
#include "net/netns.h"
#include "process.h"
#include "rootfs.h"
#include "sim/qemu_node.h"
#include "sim/radio.h"
#include "sim/wifi.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "sim/uci.h"

/* ---- node root's host ids ------------------------------------------------- */

/* Every node gets its own range of 65536 host uids/gids (node root = the first),
 * so nodes are strangers to each other as well as to the host: a node's
 * processes cannot signal or ptrace another node's, nor open its files, even by
 * an fd path.  Ranges start at 0x70000000, far above the ids /etc/subuid hands
 * out (100000 + 65536*n) and below 2^31, where tools that keep ids in a signed
 * int still work: room for 4096 nodes running at once on a host, over all sims.
 * A range is claimed by linking .ids/SLOT (exclusive, under a lock on .ids) and
 * recorded in nodes/NODE/ids, which restarts reuse; `down` drops the claim.  A
 * claim whose node does not record it (the sim is gone, or was brought up again
 * and got another slot) is stale and taken over. */
#define NODE_IDS_BASE 0x70000000u
#define NODE_IDS_COUNT 65536u
#define NODE_IDS_SLOTS 4096

static int ids_record_read(const char *sim, const char *node, uint32_t *base)
{
	char path[PATH_MAX];
	unsigned long long b = 0, count = 0;
	if (state_node_path(path, sizeof(path), sim, node, "ids") < 0)
		return -ENAMETOOLONG;
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%llu %llu", &b, &count) != 2 || count != NODE_IDS_COUNT ||
	    b < NODE_IDS_BASE || (b - NODE_IDS_BASE) % NODE_IDS_COUNT != 0 ||
	    (b - NODE_IDS_BASE) / NODE_IDS_COUNT >= NODE_IDS_SLOTS)
		return -EINVAL;
	*base = (uint32_t)b;
	return 0;
}

static int ids_slot_of(uint32_t base)
{
	return (int)((base - NODE_IDS_BASE) / NODE_IDS_COUNT);
}

/* A claim is a hard link named SLOT to the sim's owner file .ids/sim-SIM, not a
 * file of its own: a link allocates no inode.  (Where /run is ext4 without a
 * journal, as on the CI machine, creating an inode skips every inode deleted
 * in the last minute, one buffer lookup each: 1000 claims made right after a
 * `down` took 0.6 s, 1000 links 0.02 s.)  The owner file holds "SIM" on its
 * first line and one "SLOT NODE" line per claim made, appended after the link
 * under the lock; the last line for a slot names its node. */
#define IDS_OWNER_MAX (16 << 20) /* 4096 claims of 18 bytes, many times over */

static void ids_owner_name(char *buf, size_t len, const char *sim)
{
	snprintf(buf, len, "sim-%s", sim); /* never all digits like a slot */
}

/* "SIM" and "NODE" of claim NAME (the last line for its slot), or false when
 * unreadable or it has no such line (a torn claim: made under the lock, so dead). */
static bool ids_claim_owner(int dir_fd, const char *name, char *sim, char *node)
{
	cleanup_close int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > IDS_OWNER_MAX)
		return false;
	cleanup_free char *buf = malloc((size_t)st.st_size + 1);
	ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char fmt[32], slot_node[TOPO_NAME_MAX + 1] = "";
	/* a claim file of an older netsim: "SIM NODE" */
	snprintf(fmt, sizeof(fmt), "%%%ds %%%ds", TOPO_SIM_MAX, TOPO_NAME_MAX);
	char *eol = strchr(buf, '\n');
	if (eol)
		*eol = '\0';
	int fields = sscanf(buf, fmt, sim, node);
	if (eol)
		*eol = '\n';
	if (fields == 2)
		return true;
	if (fields != 1)
		return false;
	snprintf(fmt, sizeof(fmt), "%%15s %%%ds", TOPO_NAME_MAX);
	/* one line at a time, cut at its end: sscanf measures the whole string it
	 * is given, and the owner file has a line per node (N² per `down` else) */
	for (char *line = strchr(buf, '\n'); line;) {
		char slot[16], nd[TOPO_NAME_MAX + 1];
		line++;
		char *next = strchr(line, '\n');
		if (next)
			*next = '\0';
		if (sscanf(line, fmt, slot, nd) == 2 && strcmp(slot, name) == 0)
			snprintf(slot_node, sizeof(slot_node), "%s", nd);
		line = next;
	}
	snprintf(node, TOPO_NAME_MAX + 1, "%s", slot_node);
	return slot_node[0] != '\0';
}

/* SIM: the claim's sim when it could be read, for ids_owner_prune, else "". */
static bool ids_claim_stale(int dir_fd, int slot, char *sim)
{
	char name[16], node[TOPO_NAME_MAX + 1];
	uint32_t base;
	snprintf(name, sizeof(name), "%d", slot);
	sim[0] = '\0';
	if (!ids_claim_owner(dir_fd, name, sim, node))
		return true;
	return ids_record_read(sim, node, &base) < 0 || ids_slot_of(base) != slot;
}

/* The sim's owner file, opened for appending (created with its first line). */
static int ids_owner_open(int dir_fd, const char *sim, struct error *err)
{
	char name[TOPO_SIM_MAX + 8];
	ids_owner_name(name, sizeof(name), sim);
	int fd = openat(dir_fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return error_set(err, e, "claim host ids: %s", name);
	}
	if (st.st_size == 0) {
		char line[TOPO_SIM_MAX + 2];
		int len = snprintf(line, sizeof(line), "%s\n", sim);
		if (write(fd, line, (size_t)len) != len) {
			int e = errno ? errno : EIO;
			close(fd);
			unlinkat(dir_fd, name, 0);
			return error_set(err, e, "claim host ids: write %s", name);
		}
	}
	return fd;
}

/* Drop the sim's owner file once no claim links to it. */
static void ids_owner_prune(int dir_fd, const char *sim)
{
	char name[TOPO_SIM_MAX + 8];
	struct stat st;
	ids_owner_name(name, sizeof(name), sim);
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink == 1)
		unlinkat(dir_fd, name, 0);
}

static int ids_write_record(const char *sim, const char *node, uint32_t base, struct error *err)
{
	char path[PATH_MAX];
	if (state_node_path(path, sizeof(path), sim, node, "ids") < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	cleanup_fclose FILE *f = fopen(path, "we");
	if (!f)
		return error_set(err, errno, "write %s", path);
	fprintf(f, "%u %u\n", base, NODE_IDS_COUNT);
	int failed = ferror(f);
	FILE *done = steal_pointer(&f);
	if (fclose(done) != 0 || failed)
		return error_set(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

static unsigned ids_first_slot(const char *sim, const char *node)
{
	/* FNV-1a of SIM/NODE: nodes of one sim probe different slots first */
	uint32_t h = 2166136261u;
	for (const char *p = sim; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = node; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % NODE_IDS_SLOTS;
}

static int ids_allocate(const char *sim, const char *node, uint32_t *base, struct error *err)
{
	char dir[PATH_MAX];
	state_ids_path(dir, sizeof(dir), -1);
	cleanup_close int dir_fd = -1;
	for (;;) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return error_set(err, errno, "create %s", dir);
		dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat st;
		if (dir_fd < 0 || flock(dir_fd, LOCK_EX) < 0 || fstat(dir_fd, &st) < 0)
			return error_set(err, errno, "lock %s", dir);
		if (st.st_nlink > 0)
			break;
		/* the last release removed it between our open and our lock */
		close(steal_fd(&dir_fd));
	}
	cleanup_close int owner_fd = ids_owner_open(dir_fd, sim, err);
	if (owner_fd < 0)
		return owner_fd;
	char owner[TOPO_SIM_MAX + 8];
	ids_owner_name(owner, sizeof(owner), sim);
	unsigned first = ids_first_slot(sim, node);
	for (unsigned i = 0; i < NODE_IDS_SLOTS; i++) {
		int slot = (int)((first + i) % NODE_IDS_SLOTS);
		char name[16];
		snprintf(name, sizeof(name), "%d", slot);
		char stale_sim[TOPO_SIM_MAX + 1];
		int r = linkat(dir_fd, owner, dir_fd, name, 0);
		int e = r < 0 ? errno : 0; /* the stale check's reads change errno */
		if (e == EEXIST && ids_claim_stale(dir_fd, slot, stale_sim)) {
			unlinkat(dir_fd, name, 0);
			if (stale_sim[0] && topo_valid_name(stale_sim, TOPO_SIM_MAX) &&
			    strcmp(stale_sim, sim) != 0)
				ids_owner_prune(dir_fd, stale_sim); /* its last claim gone */
			r = linkat(dir_fd, owner, dir_fd, name, 0);
			e = r < 0 ? errno : 0;
		}
		if (e == EEXIST)
			continue;
		if (r < 0) {
			ids_owner_prune(dir_fd, sim);
			return error_set(err, e, "claim %s/%s", dir, name);
		}
		char line[16 + TOPO_NAME_MAX + 2];
		int len = snprintf(line, sizeof(line), "%d %s\n", slot, node);
		*base = NODE_IDS_BASE + (uint32_t)slot * NODE_IDS_COUNT;
		if (write(owner_fd, line, (size_t)len) != len) {
			e = errno ? errno : EIO;
			unlinkat(dir_fd, name, 0);
			ids_owner_prune(dir_fd, sim);
			return error_set(err, e, "write %s/%s", dir, owner);
		}
		/* still under the lock: a claim is never seen without its record */
		r = ids_write_record(sim, node, *base, err);
		if (r < 0) {
			unlinkat(dir_fd, name, 0);
			ids_owner_prune(dir_fd, sim);
		}
		return r;
	}
	ids_owner_prune(dir_fd, sim);
	return error_setmsg(err, ENOSPC, "all %d host id ranges for nodes are in use (%s)",
			    NODE_IDS_SLOTS, dir);
}

void node_ids_release(const char *sim, const char *node)
{
	uint32_t base;
	char dir[PATH_MAX], owner_sim[TOPO_SIM_MAX + 1], owner_node[TOPO_NAME_MAX + 1], name[16];
	if (ids_record_read(sim, node, &base) < 0)
		return;
	state_ids_path(dir, sizeof(dir), -1);
	cleanup_close int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0 || flock(dir_fd, LOCK_EX) < 0)
		return;
	snprintf(name, sizeof(name), "%d", ids_slot_of(base));
	if (ids_claim_owner(dir_fd, name, owner_sim, owner_node) &&
	    strcmp(owner_sim, sim) == 0 && strcmp(owner_node, node) == 0)
		unlinkat(dir_fd, name, 0);
	ids_owner_prune(dir_fd, sim);
	/* the last claim gone: nothing of netsim stays under /run (ENOTEMPTY
	 * otherwise; an allocator waiting for our lock sees the dir unlinked) */
	rmdir(dir);
}

/* container_create(), and without a user namespace when the lower dirs cannot
 * be idmapped (tmpfs before Linux 6.3: an initramfs root, as in `up --vm`). */
static int create_container(struct container_config *cfg, struct container *c,
			    struct error *err)
{
	static bool told;
	int r = sim_kernel->container_create(cfg, c, err);
	if (r != -EOPNOTSUPP || cfg->id_count == 0)
		return r;
	/* without a user namespace CAP_SYS_ADMIN would be the host's (or the VM's):
	 * refuse, saying why and what works instead */
	if (cfg->extra_capabilities) {
		char why[sizeof(err->msg)];
		struct utsname u;
		snprintf(why, sizeof(why), "%s", err->msg);
		if (uname(&u) < 0)
			snprintf(u.release, sizeof(u.release), "unknown");
		return error_setmsg(err, EPERM,
				    "caps=+sys_admin (FRR) is given only to a node in a user "
				    "namespace of its own, and this kernel cannot make one (%s; "
				    "an idmapped tmpfs root needs Linux 6.3, this is %s): under "
				    "`up --vm` bring the sim up without --vm, where its nodes are "
				    "containers on the host; or drop caps=+sys_admin (docs/vm.md)",
				    why, u.release);
	}
	if (!told)
		fprintf(stderr, "netsim: notice: %s; nodes run without a user namespace "
			"(see docs/security.md)\n", err->msg);
	told = true;
	cfg->id_count = 0;
	error_clear(err);
	return sim_kernel->container_create(cfg, c, err);
}

/* ---- the one way to start a node's PID 1 --------------------------------- */

/* startup= is read once, at the node's first start, into its directory: a later
 * `node start` runs the same script even when the topology's has changed or
 * gone, as it reuses the same lower dirs. */
#define NODE_STARTUP_MAX (1u << 20)

static int copy_startup(const char *src, const char *dst, struct error *err)
{
	cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		return error_set(err, errno, "startup=%s", src);
	if (!S_ISREG(st.st_mode) || st.st_size > NODE_STARTUP_MAX)
		return error_setmsg(err, EINVAL, "startup=%s: not a regular file of at most %u KiB",
				    src, NODE_STARTUP_MAX >> 10);
	cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0)
		return error_set(err, errno, "create %s", dst);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return error_set(err, errno ? errno : EIO, "write %s", dst);
	return n < 0 ? error_set(err, errno, "read startup=%s", src) : 0;
}

static char **split_words(const char *s)
{
	size_t n = 0, cap = 4;
	char **v = calloc(cap, sizeof(*v));
	cleanup_free char *copy = strdup(s);
	if (!v || !copy) {
		free(v);
		return NULL;
	}
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n + 2 > cap) {
			cap *= 2;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto fail;
			v = nv;
		}
		if (!(v[n++] = strdup(w)))
			goto fail;
	}
	v[n] = NULL;
	return v;
fail:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static void free_words(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* nodes/NODE/lower: the lower dirs the node was first started on, one per line
 * (rootfs, then files= or an empty line).  A later start reuses exactly these:
 * re-resolving the topology could pick another cache entry (the tarball was
 * rebuilt) or misread a relative path (the topology copy lives elsewhere), and
 * an overlay upper dir on a different lower layer is not the node it was. */
static int lower_record_write(const struct node_launch *l, struct error *err)
{
	char path[PATH_MAX];
	if (state_node_path(path, sizeof(path), l->sim, l->node->name, "lower") < 0)
		return error_set(err, ENAMETOOLONG, "node %s", l->node->name);
	cleanup_fclose FILE *f = fopen(path, "we");
	if (!f)
		return error_set(err, errno, "write %s", path);
	fprintf(f, "%s\n%s\n%s\n", l->rootfs, l->files ? l->files : "",
		l->feed ? l->feed->root : "");
	int failed = ferror(f);
	FILE *done = steal_pointer(&f);
	if (fclose(done) != 0 || failed)
		return error_set(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

static int lower_record_read(const char *sim, const char *node, char *rootfs, char *files,
			     char *feed, size_t len, struct error *err)
{
	char path[PATH_MAX];
	if (state_node_path(path, sizeof(path), sim, node, "lower") < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return error_setmsg(err, ENOENT,
				    "%s is missing (the sim was started by an older netsim; "
				    "`netsim down` and `up` it again)", path);
	if (!f)
		return error_set(err, errno, "read %s", path);
	if (!fgets(rootfs, (int)len, f) || !fgets(files, (int)len, f))
		return error_setmsg(err, EINVAL, "%s: malformed (want two lines)", path);
	rootfs[strcspn(rootfs, "\n")] = '\0';
	files[strcspn(files, "\n")] = '\0';
	/* (a third line, the feed= dir, since feed= exists) */
	if (!fgets(feed, (int)len, f))
		feed[0] = '\0';
	feed[strcspn(feed, "\n")] = '\0';
	if (rootfs[0] != '/')
		return error_setmsg(err, EINVAL, "%s: malformed rootfs path", path);
	return 0;
}

/* ---- the node's cgroup ---------------------------------------------------- */

void node_limits(const struct topo_node *node, struct cgroup_limits *limits)
{
	memset(limits, 0, sizeof(*limits));
	limits->memory_max = (node->limit_mem_mib ? node->limit_mem_mib : NODE_DEFAULT_MEM_MIB) << 20;
	limits->pids_max = node->limit_pids ? node->limit_pids : NODE_DEFAULT_PIDS;
	/* a new cgroup has the default weight (100) already: no write for it */
	limits->cpu_weight = node->limit_cpu_weight;
}

/* The host's cgroup hierarchies and NODE's path in them: 1 when there is a
 * cgroup system to use, 0 when the host has none (nothing to do), or -errno. */
static int node_cgroup_locate(const char *sim, const char *node, const struct cgroup_system **sys,
			      char *path, size_t len, struct error *err)
{
	int r = sim_kernel->cgroup_system_get(sys, err);
	if (r < 0 || cgroup_system_empty(*sys))
		return r;
	if (state_cgroup_path(path, len, sim, node) < 0)
		return error_set(err, ENAMETOOLONG, "cgroup of node %s", node);
	return 1;
}

static int node_cgroup_create(const char *sim, const struct topo_node *node, struct error *err)
{
	const struct cgroup_system *sys;
	char path[256];
	struct cgroup_limits limits;
	int r = node_cgroup_locate(sim, node->name, &sys, path, sizeof(path), err);
	if (r <= 0)
		return r;
	node_limits(node, &limits);
	return sim_kernel->cgroup_create(sys, path, false, &limits, err);
}

static int node_cgroup_attach(const char *sim, const char *node, pid_t pid, struct error *err)
{
	const struct cgroup_system *sys;
	char path[256];
	int r = node_cgroup_locate(sim, node, &sys, path, sizeof(path), err);
	return r <= 0 ? r : sim_kernel->cgroup_attach(sys, path, pid, err);
}

int node_cgroup_remove(const char *sim, const char *node, struct error *err)
{
	const struct cgroup_system *sys;
	char path[256];
	int r = node_cgroup_locate(sim, node, &sys, path, sizeof(path), err);
	return r <= 0 ? r : sim_kernel->cgroup_remove(sys, path, false, err);
}

int node_join_cgroup(const char *sim, const char *node, struct error *err)
{
	int r = node_cgroup_attach(sim, node, getpid(), err);
	/* a node without a cgroup (started by a netsim before cgroups) is not
	 * confined itself: nothing to join */
	if (r == -ENOENT)
		return 0;
	return r < 0 ? error_prefix(err, "node %s", node) : 0;
}

int node_usage(const char *sim, const char *node, struct cgroup_usage *u, struct error *err)
{
	const struct cgroup_system *sys;
	char path[256];
	memset(u, 0, sizeof(*u));
	int r = sim_kernel->cgroup_system_get(&sys, err);
	if (r < 0)
		return r;
	if (state_cgroup_path(path, sizeof(path), sim, node) < 0)
		return error_set(err, ENAMETOOLONG, "cgroup of node %s", node);
	return cgroup_usage_read(sys, path, u, err);
}

/* The node's lower layers between files= and the rootfs, top first and
 * NULL-terminated (NULL when none): its config=uci layer (written at the first
 * start, reused after), then the feed's packages. */
static int node_layers(const struct node_launch *l, const char *dir, char uci[PATH_MAX],
		       const char ***out, struct error *err)
{
	*out = NULL;
	const struct topo_node *node = l->node;
	uci[0] = '\0';
	if (node->config == TOPO_CONFIG_UCI) {
		if (snprintf(uci, PATH_MAX, "%s/uci", dir) >= PATH_MAX)
			return error_set(err, ENAMETOOLONG, "config=uci");
		if (!l->netns_path) {
			unsigned n = l->feed ? l->feed->npackages : 0, k = 0;
			cleanup_free const char **below = calloc(n + 3, sizeof(*below));
			if (!below)
				return error_set(err, ENOMEM, "config=uci");
			if (l->files)
				below[k++] = l->files;
			for (unsigned i = 0; i < n; i++)
				below[k++] = l->feed->packages[n - 1 - i].dir;
			below[k++] = l->rootfs;
			int idx = l->topo ? topo_find_node(l->topo, node->name) : -1;
			if (idx < 0)
				return error_setmsg(err, EINVAL, "config=uci: no topology for %s",
						    node->name);
			int r = uci_layer_write(l->topo, (unsigned)idx, below, uci, err);
			if (r < 0)
				return r;
		} else if (access(uci, F_OK) < 0) {
			uci[0] = '\0'; /* first started by a netsim without config=uci */
		}
	}
	unsigned nfeed = l->feed ? l->feed->npackages : 0;
	if (!uci[0] && !nfeed)
		return 0;
	const char **v = calloc(nfeed + 2, sizeof(*v));
	const char **feed = nfeed ? feed_layers(l->feed) : NULL;
	if (!v || (nfeed && !feed)) {
		free(v);
		free(feed);
		return error_set(err, ENOMEM, "layers");
	}
	unsigned k = 0;
	if (uci[0])
		v[k++] = uci;
	for (unsigned i = 0; i < nfeed; i++)
		v[k++] = feed[i];
	free(feed);
	*out = v;
	return 0;
}

int node_spawn(const struct node_launch *l, struct container *c, struct error *err)
{
	const struct topo_node *node = l->node;
	char dir[PATH_MAX], console[PATH_MAX];
	if (state_check_lower("rootfs", l->rootfs, true, err) < 0 ||
	    (l->files && state_check_lower("files", l->files, false, err) < 0))
		return error_prefix(err, "node %s", node->name);
	for (unsigned i = 0; l->feed && i < l->feed->npackages; i++)
		if (state_check_lower("feed", l->feed->packages[i].dir, false, err) < 0)
			return error_prefix(err, "node %s", node->name);
	struct elf_arch arch;
	if (arch_check_node(l->rootfs, l->files, l->feed, node->init, &arch, err) < 0)
		return error_prefix(err, "node %s: init", node->name);
	uint32_t ids_base = 0;
	if (state_node_path(dir, sizeof(dir), l->sim, node->name, NULL) < 0 ||
	    state_node_path(console, sizeof(console), l->sim, node->name, "console.log") < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node->name);
	if (!l->netns_path) {
		/* `down` finds nodes by their directories: create it before anything
		 * else of the node exists. */
		if (mkdir(dir, 0755) < 0)
			return error_set(err, errno, "node %s: create %s", node->name, dir);
		int r = lower_record_write(l, err);
		if (r == 0)
			r = ids_allocate(l->sim, node->name, &ids_base, err);
		if (r == 0)
			r = arch_record_write(l->sim, node->name, &arch, err);
		if (r == 0 && l->startup) {
			char copy[PATH_MAX];
			state_node_path(copy, sizeof(copy), l->sim, node->name, "startup");
			r = copy_startup(l->startup, copy, err);
		}
		if (r < 0)
			return error_prefix(err, "node %s", node->name);
	} else if (ids_record_read(l->sim, node->name, &ids_base) < 0) {
		ids_base = 0; /* started by a netsim without user namespaces */
	}

	char env_sim[64], env_node[64], env_addr[96], env_addr6[96];
	snprintf(env_sim, sizeof(env_sim), "NETSIM_SIM=%s", l->sim);
	snprintf(env_node, sizeof(env_node), "NETSIM_NODE=%s", node->name);
	snprintf(env_addr, sizeof(env_addr), "NETSIM_ADDR=%s", node->addr4);
	snprintf(env_addr6, sizeof(env_addr6), "NETSIM_ADDR6=%s", node->addr6);
	char startup[PATH_MAX];
	state_node_path(startup, sizeof(startup), l->sim, node->name, "startup");
	bool has_startup = access(startup, F_OK) == 0;
	/* meshlite's init gives these babel's wireless link type */
	char env_wireless[1024];
	snprintf(env_wireless, sizeof(env_wireless), "NETSIM_WIRELESS=");
	if (l->topo)
		sim_radio_ifnames(l->topo, node->index - 1, ' ', env_wireless + strlen(env_wireless),
				  sizeof(env_wireless) - strlen(env_wireless));
	char env_wifi[1024];
	snprintf(env_wifi, sizeof(env_wifi), "NETSIM_WIFI=");
	if (l->topo)
		sim_wifi_env(l->topo, node->index - 1, env_wifi + strlen(env_wifi),
			     sizeof(env_wifi) - strlen(env_wifi));
	char *envp[] = {env_sim, env_node, env_addr, env_addr6, env_wireless, env_wifi,
			"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=linux",
			has_startup ? "NETSIM_STARTUP=" CONTAINER_BOOT_SCRIPT : NULL, NULL};
	char **argv = split_words(node->init ? node->init : "/sbin/init");
	if (!argv || !argv[0]) {
		free_words(argv);
		return error_setmsg(err, EINVAL, "node %s: empty init command", node->name);
	}
	const char **layers = NULL;
	char uci[PATH_MAX];
	int r = node_layers(l, dir, uci, &layers, err);
	if (r == 0 && l->feed) {
		char record[PATH_MAX];
		state_node_path(record, sizeof(record), l->sim, node->name, "feed");
		r = feed_write_record(l->feed, record, err);
	}
	if (r == 0)
		r = node_cgroup_create(l->sim, node, err);
	if (r < 0) {
		free(layers);
		free_words(argv);
		return error_prefix(err, "node %s", node->name);
	}
	struct container_config cfg = {
		.hostname = node->name,
		.rootfs = l->rootfs,
		.extra_lower = l->files,
		.layers = layers,
		.node_dir = dir,
		.console_path = console,
		.argv = argv,
		.envp = envp,
		.netns_path = l->netns_path,
		.id_base = ids_base,
		.id_count = ids_base ? NODE_IDS_COUNT : 0,
		.extra_capabilities = node->sys_admin ? container_optional_capability_mask() : 0,
		.boot_script = has_startup ? startup : NULL,
	};
	r = create_container(&cfg, c, err);
	free(layers);
	free_words(argv);
	if (r < 0)
		return error_prefix(err, "node %s", node->name);
	/* The child waits for SYNC_GO before it execs init, so init and all it
	 * starts begin inside the node's cgroup. */
	r = node_cgroup_attach(l->sim, node->name, c->pid, err);
	if (r == 0)
		r = state_pidfile_write(l->sim, node->name, c->pid, err);
	if (r < 0)
		return error_prefix(err, "node %s", node->name);
	return 0;
}

/* ---- stop / start under the sim's lock ----------------------------------- */

static bool sim_is_up(const char *sim)
{
	char path[PATH_MAX];
	struct stat st;
	return state_sim_path(path, sizeof(path), sim, "state") == 0 && stat(path, &st) == 0;
}

/* state_lock(), but never leaves a sim directory behind for a sim that is not
 * up (state_lock creates the directory; `down` may have removed it since the
 * caller looked). */
static int lock_sim(const char *sim, int *fd, struct error *err)
{
	if (!topo_valid_name(sim, TOPO_SIM_MAX) || !sim_is_up(sim))
		return error_setmsg(err, ENOENT, "sim %s is not up", sim);
	int r = state_lock(sim, fd, err);
	if (r < 0)
		return r;
	if (sim_is_up(sim))
		return 0;
	char path[PATH_MAX], nodes[PATH_MAX];
	struct stat st;
	state_sim_path(nodes, sizeof(nodes), sim, "nodes");
	if (stat(nodes, &st) < 0 && errno == ENOENT) {
		/* only our lock file is there */
		state_sim_path(path, sizeof(path), sim, "lock");
		unlink(path);
		state_sim_path(path, sizeof(path), sim, NULL);
		rmdir(path);
	}
	close(*fd);
	*fd = -1;
	return error_setmsg(err, ENOENT, "sim %s is not up", sim);
}

static int check_node(const char *sim, const char *node, struct error *err)
{
	char path[PATH_MAX];
	struct stat st;
	if (!topo_valid_name(node, TOPO_NAME_MAX) ||
	    state_node_path(path, sizeof(path), sim, node, NULL) < 0 || stat(path, &st) < 0)
		return error_setmsg(err, ENOENT, "sim %s has no node %s", sim, node);
	return 0;
}

/* Record NODE's current PID 1 (0: stopped) in the state file. */
static int state_set_pid(const char *sim, const char *node, pid_t pid, struct error *err)
{
	char path[PATH_MAX];
	struct state st;
	state_sim_path(path, sizeof(path), sim, "state");
	int r = state_read(path, &st, err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < st.nnodes; i++) {
		if (strcmp(st.nodes[i].name, node) != 0)
			continue;
		st.nodes[i].pid = pid;
		st.nodes[i].starttime = pid > 0 ? process_starttime(pid) : 0;
	}
	r = state_write(path, &st, err);
	state_free(&st);
	return r;
}

static void pidfile_remove(const char *sim, const char *node)
{
	char path[PATH_MAX];
	if (state_node_path(path, sizeof(path), sim, node, "pid") == 0)
		unlink(path);
}

static int stop_locked(const char *sim, const char *node, const struct node_options *opt,
		       struct node_result *res, struct error *err)
{
	unsigned grace = opt && opt->stop_grace_ms ? opt->stop_grace_ms : 5000;
	if (qemu_node_is(sim, node)) {
		/* the VM: QEMU's own SIGTERM, SIGKILL after 3 s (qemu.h) */
		int r = qemu_node_halt(sim, node, &res->old_pid, err);
		return r < 0 ? r : state_set_pid(sim, node, 0, err);
	}
	pid_t pid = state_pidfile_read(sim, node);
	if (pid < 0)
		return error_set(err, -pid, "node %s: read pid file", node);
	if (pid > 0) {
		/* A pid namespace's init gets SIGTERM from outside only when it
		 * handles it (meshlite's init and procd do); otherwise nothing
		 * happens until the SIGKILL. */
		int r = process_stop(pid, process_starttime(pid), grace, 10000);
		if (r < 0)
			return error_set(err, -r, "node %s: stop pid %d", node, (int)pid);
		res->killed = r == 1;
		res->old_pid = pid;
	}
	/* what is left (a `netsim exec` still running) goes with the cgroup */
	int r = node_cgroup_remove(sim, node, err);
	if (r < 0)
		return error_prefix(err, "node %s", node);
	pidfile_remove(sim, node);
	return state_set_pid(sim, node, 0, err);
}

/* A stopped container node again, from the lower dirs its first start
 * recorded.  On failure nothing of this start is left: its container is
 * killed and reaped, then its cgroup and pid file go. */
static int start_container(const char *sim, const struct topo *t, unsigned idx,
			   const struct node_options *opt, struct node_result *res,
			   struct error *err)
{
	const char *node = t->nodes[idx].name;
	char netns[PATH_MAX], rootfs[PATH_MAX], files[PATH_MAX], feed_dir[PATH_MAX];
	struct feed feed = {0};
	struct container c = CONTAINER_INIT;
	state_netns_path(netns, sizeof(netns), sim, node);
	int r = lower_record_read(sim, node, rootfs, files, feed_dir, sizeof(rootfs), err);
	/* the feed is the developer's live tree: scanned again at every start */
	if (r == 0 && feed_dir[0] && (r = state_check_host_path(feed_dir, err)) == 0 &&
	    (r = feed_open(feed_dir, &feed, err)) == 0)
		feed_print_clashes(&feed, node, 5, stderr);
	if (r < 0)
		error_prefix(err, "node %s", node);
	if (r == 0 && opt && opt->reset) {
		const char *const fresh[] = {"upper", "work"};
		for (unsigned i = 0; i < 2 && r == 0; i++) {
			char path[PATH_MAX];
			state_node_path(path, sizeof(path), sim, node, fresh[i]);
			r = rootfs_remove_tree(path, err);
		}
		if (r < 0)
			error_prefix(err, "node %s: reset", node);
	}
	if (r == 0) {
		struct node_launch l = {
			.sim = sim,
			.node = &t->nodes[idx],
			.rootfs = rootfs,
			.files = files[0] ? files : NULL,
			.feed = feed_dir[0] ? &feed : NULL,
			.netns_path = netns,
			.topo = t,
		};
		r = node_spawn(&l, &c, err);
		if (r == 0) {
			r = sim_kernel->container_wait_ready(&c, err);
			if (r == 0)
				r = sim_kernel->container_start(&c, err);
			if (r < 0)
				error_prefix(err, "node %s", node);
		}
	}
	if (r == 0)
		r = state_set_pid(sim, node, c.pid, err);
	if (r == 0) {
		res->new_pid = c.pid;
		sim_kernel->container_release(&c);
	} else {
		struct error ignored;
		sim_kernel->container_destroy(&c);
		node_cgroup_remove(sim, node, &ignored);
		pidfile_remove(sim, node);
	}
	feed_free(&feed);
	return r;
}

static int start_locked(const char *sim, const char *node, const struct node_options *opt,
			struct node_result *res, struct error *err)
{
	pid_t pid = state_pidfile_read(sim, node);
	if (pid < 0)
		return error_set(err, -pid, "node %s: read pid file", node);
	if (pid > 0)
		return error_setmsg(err, EBUSY,
				    "node %s is already running (pid %d); use `netsim node %s "
				    "restart`", node, (int)pid, node);
	cleanup_topo struct topo t = {0};
	int r = sim_topology(sim, &t, err);
	if (r < 0)
		return error_prefix(err, "node %s", node);
	int idx = topo_find_node(&t, node);
	if (idx < 0)
		r = error_setmsg(err, ENOENT, "sim %s has no node %s in its topology", sim, node);
	char netns[PATH_MAX];
	state_netns_path(netns, sizeof(netns), sim, node);
	/* The namespace holds the node's links: a node without it would start
	 * cut off from the sim, silently.  netns_open checks it is a namespace. */
	int ns_fd = r < 0 ? -1 : netns_open(netns, err);
	if (r == 0 && ns_fd < 0)
		r = error_prefix(err, "node %s: its network namespace is gone (remove the sim "
				 "with `netsim down %s`)", node, sim);
	if (ns_fd >= 0)
		close(ns_fd);
	if (r < 0) {
		/* as after a failed start: no cgroup or pid file of it stays */
		struct error ignored;
		if (!qemu_node_is(sim, node))
			node_cgroup_remove(sim, node, &ignored);
		pidfile_remove(sim, node);
		return r;
	}
	if (!qemu_node_is(sim, node))
		return start_container(sim, &t, (unsigned)idx, opt, res, err);
	/* A VM's root is in its RAM: every boot starts from the rootfs, so --reset
	 * changes nothing. */
	struct qemu_vm vm;
	r = qemu_node_boot(sim, &t, (unsigned)idx, &vm, err);
	if (r == 0)
		r = state_set_pid(sim, node, vm.pid, err);
	if (r == 0) {
		res->new_pid = vm.pid;
		return 0;
	}
	qemu_node_teardown(sim, node);
	pidfile_remove(sim, node);
	return r;
}

typedef int (*node_step)(const char *, const char *, const struct node_options *,
			 struct node_result *, struct error *);

static int run_locked(const char *sim, const char *node, const struct node_options *opt,
		      struct node_result *res, const node_step *steps, struct error *err)
{
	memset(res, 0, sizeof(*res));
	cleanup_close int lock_fd = -1;
	int r = lock_sim(sim, &lock_fd, err);
	if (r == 0)
		r = check_node(sim, node, err);
	for (; r == 0 && *steps; steps++)
		r = (*steps)(sim, node, opt, res, err);
	return r;
}

int node_stop(const char *sim, const char *node, const struct node_options *opt,
	      struct node_result *res, struct error *err)
{
	static const node_step steps[] = {stop_locked, NULL};
	return run_locked(sim, node, opt, res, steps, err);
}

int node_start(const char *sim, const char *node, const struct node_options *opt,
	       struct node_result *res, struct error *err)
{
	static const node_step steps[] = {start_locked, NULL};
	return run_locked(sim, node, opt, res, steps, err);
}

int node_restart(const char *sim, const char *node, const struct node_options *opt,
		 struct node_result *res, struct error *err)
{
	static const node_step steps[] = {stop_locked, start_locked, NULL};
	return run_locked(sim, node, opt, res, steps, err);
}
