#include "sim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "ident.h"
#include "netlink.h"
#include "rootfs.h"
#include "state.h"

static volatile sig_atomic_t up_interrupted;

static void on_interrupt(int sig)
{
	up_interrupted = sig;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
static int rootfs_source(const struct topo *t, const char *value, char *out, size_t len,
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
	if (fd < 0)
		return error_set(err, errno, "write %s", path);
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, errno, "write %s", path);
		}
		data += n;
		len -= (size_t)n;
	}
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
	char source[PATH_MAX];   /* the tarball/dir it came from (for status) */
};

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

static int spawn_node(const struct topo *t, unsigned i, struct node_run *run,
		      struct error *err)
{
	const struct topo_node *node = &t->nodes[i];
	char dir[PATH_MAX], console[PATH_MAX];
	state_node_path(dir, sizeof(dir), t->sim, node->name, NULL);
	state_node_path(console, sizeof(console), t->sim, node->name, "console.log");
	if (mkdir(dir, 0755) < 0)
		return error_set(err, errno, "node %s: create %s", node->name, dir);

	char env_sim[64], env_node[64], env_addr[96], env_addr6[96];
	snprintf(env_sim, sizeof(env_sim), "NETSIM_SIM=%s", t->sim);
	snprintf(env_node, sizeof(env_node), "NETSIM_NODE=%s", node->name);
	snprintf(env_addr, sizeof(env_addr), "NETSIM_ADDR=%s", node->addr4);
	snprintf(env_addr6, sizeof(env_addr6), "NETSIM_ADDR6=%s", node->addr6);
	char *envp[] = {env_sim, env_node, env_addr, env_addr6,
			"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=linux", NULL};
	char **argv = split_words(node->init ? node->init : "/sbin/init");
	if (!argv || !argv[0]) {
		free_words(argv);
		return error_setmsg(err, EINVAL, "node %s: empty init command", node->name);
	}
	struct container_config cfg = {
		.hostname = node->name,
		.rootfs = run->rootfs,
		.extra_lower = run->files[0] ? run->files : NULL,
		.node_dir = dir,
		.console_path = console,
		.argv = argv,
		.envp = envp,
	};
	int r = container_create(&cfg, &run->c, err);
	free_words(argv);
	if (r < 0)
		return error_prefix(err, "node %s", node->name);
	r = state_pidfile_write(t->sim, node->name, run->c.pid, err);
	if (r < 0)
		return error_prefix(err, "node %s", node->name);
	return 0;
}

static int wire_segment(const struct topo *t, unsigned s, struct net *net, int sw_fd,
			struct node_run *runs, struct error *err)
{
	const struct topo_segment *seg = &t->segments[s];
	int r = net_bridge_create(net, sw_fd, seg->name, err);
	if (r < 0)
		return error_prefix(err, "segment %s", seg->name);
	for (unsigned m = 0; m < seg->nmembers; m++) {
		const struct topo_endpoint *ep = &seg->members[m];
		const char *node = t->nodes[ep->node].name;
		char port[IFNAMSIZ];
		uint8_t mac_node[6], mac_port[6];
		snprintf(port, sizeof(port), "s%u-%u", s, m);
		ident_mac(t->sim, node, ep->ifname, mac_node);
		ident_mac(t->sim, seg->name, port, mac_port);
		r = net_veth_create(net, runs[ep->node].netns_fd, ep->ifname, mac_node, sw_fd,
				    port, mac_port, err);
		if (r == 0)
			r = net_bridge_attach(sw_fd, port, seg->name, err);
		if (r < 0)
			return error_prefix(err, "segment %s: member %s:%s", seg->name, node,
					    ep->ifname);
	}
	return 0;
}

static int wire(const struct topo *t, struct node_run *runs, struct error *err)
{
	struct net *net = NULL;
	int r = net_open(&net, err);
	if (r < 0)
		return r;
	for (unsigned l = 0; l < t->nlinks && r == 0; l++) {
		const struct topo_link *link = &t->links[l];
		const char *na = t->nodes[link->a.node].name, *nb = t->nodes[link->b.node].name;
		uint8_t mac_a[6], mac_b[6];
		ident_mac(t->sim, na, link->a.ifname, mac_a);
		ident_mac(t->sim, nb, link->b.ifname, mac_b);
		r = net_veth_create(net, runs[link->a.node].netns_fd, link->a.ifname, mac_a,
				    runs[link->b.node].netns_fd, link->b.ifname, mac_b, err);
		if (r < 0)
			error_prefix(err, "%s:%d: link %s:%s %s:%s", t->path, link->line, na,
				     link->a.ifname, nb, link->b.ifname);
		if (up_interrupted)
			r = error_setmsg(err, EINTR, "interrupted by signal %d", up_interrupted);
	}
	if (r == 0 && t->nsegments > 0) {
		char path[PATH_MAX];
		state_netns_path(path, sizeof(path), t->sim, NULL);
		r = netns_create(path, err);
		cleanup_close int sw_fd = r < 0 ? -1 : netns_open(path, err);
		if (r == 0 && sw_fd < 0)
			r = sw_fd;
		for (unsigned s = 0; s < t->nsegments && r == 0; s++)
			r = wire_segment(t, s, net, sw_fd, runs, err);
	}
	net_close(net);
	return r;
}

static int check_supported(const struct topo *t, struct error *err)
{
	for (unsigned i = 0; i < t->nnodes; i++)
		if (t->nodes[i].backend != TOPO_BACKEND_CONTAINER)
			return error_setmsg(err, ENOTSUP,
					    "%s:%d: node %s: backend=qemu is not available in "
					    "this version of netsim (container nodes only)",
					    t->path, t->nodes[i].line, t->nodes[i].name);
	for (unsigned l = 0; l < t->nlinks; l++)
		if (t->links[l].quality.set)
			return error_setmsg(err, ENOTSUP,
					    "%s:%d: link quality attributes (rate, delay, loss, "
					    "...) are not available in this version of netsim",
					    t->path, t->links[l].line);
	for (unsigned s = 0; s < t->nsegments; s++)
		if (t->segments[s].quality.set)
			return error_setmsg(err, ENOTSUP,
					    "%s:%d: segment quality attributes are not "
					    "available in this version of netsim",
					    t->path, t->segments[s].line);
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
			int r = rootfs_source(t, node->rootfs, run->source, sizeof(run->source), err);
			cleanup_free char *dir = NULL;
			if (r == 0)
				r = rootfs_resolve(run->source, state_cache_dir(), &dir, err);
			if (r < 0)
				return error_prefix(err, "%s:%d: node %s", t->path, node->line,
						    node->name);
			snprintf(run->rootfs, sizeof(run->rootfs), "%s", dir);
		}
		if (node->files) {
			char path[PATH_MAX * 2];
			struct stat st;
			if (node->files[0] == '/')
				snprintf(path, sizeof(path), "%s", node->files);
			else
				snprintf(path, sizeof(path), "%s/%s", tdir, node->files);
			if (!realpath(path, run->files) || stat(run->files, &st) < 0 ||
			    !S_ISDIR(st.st_mode))
				return error_setmsg(err, ENOTDIR,
						    "%s:%d: node %s: files=%s is not a directory",
						    t->path, node->line, node->name, node->files);
		}
	}
	return 0;
}

static int sim_exists(const char *sim)
{
	char path[PATH_MAX];
	struct stat st;
	state_sim_path(path, sizeof(path), sim, "nodes");
	return stat(path, &st) == 0;
}

static int teardown_locked(const char *sim, struct error *err);

int sim_up(const struct topo *t, const struct up_options *opt, struct error *err)
{
	double started = now_seconds();
	int r = check_supported(t, err);
	if (r < 0)
		return r;
	struct node_run *runs = calloc(t->nnodes ? t->nnodes : 1, sizeof(*runs));
	if (!runs)
		return error_set(err, ENOMEM, "up");
	for (unsigned i = 0; i < t->nnodes; i++) {
		runs[i].c = (struct container)CONTAINER_INIT;
		runs[i].netns_fd = -1;
	}
	cleanup_close int lock_fd = -1;
	bool created = false;
	r = resolve_rootfs(t, runs, err);
	if (r < 0)
		goto out;
	raise_fd_limit();
	r = state_lock(t->sim, &lock_fd, err);
	if (r < 0)
		goto out;
	if (sim_exists(t->sim)) {
		r = error_setmsg(err, EEXIST, "sim %s is already up (stop it with `netsim down %s`)",
				 t->sim, t->sim);
		goto out;
	}
	created = true;
	char path[PATH_MAX];
	state_sim_path(path, sizeof(path), t->sim, "nodes");
	if (mkdir(path, 0755) < 0) {
		r = error_set(err, errno, "create %s", path);
		goto out;
	}
	r = copy_topology(t, err);
	if (r < 0)
		goto out;

	struct sigaction sa = {.sa_handler = on_interrupt}, old[3];
	const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	up_interrupted = 0;
	for (int s = 0; s < 3; s++)
		sigaction(sigs[s], &sa, &old[s]);

	/* Clone every node first and only then wait for them: the children build
	 * their root filesystems in parallel. */
	for (unsigned i = 0; i < t->nnodes && r == 0; i++)
		r = spawn_node(t, i, &runs[i], err);
	for (unsigned i = 0; i < t->nnodes && r == 0; i++) {
		const char *name = t->nodes[i].name;
		r = container_wait_ready(&runs[i].c, err);
		if (r == 0) {
			state_netns_path(path, sizeof(path), t->sim, name);
			r = netns_bind_pid(runs[i].c.pid, path, err);
		}
		if (r == 0) {
			runs[i].netns_fd = netns_open(path, err);
			if (runs[i].netns_fd < 0)
				r = runs[i].netns_fd;
		}
		if (r < 0)
			error_prefix(err, "node %s", name);
		else if (up_interrupted)
			r = error_setmsg(err, EINTR, "interrupted by signal %d", up_interrupted);
	}
	if (r == 0)
		r = wire(t, runs, err);
	for (unsigned i = 0; i < t->nnodes && r == 0; i++) {
		r = container_start(&runs[i].c, err);
		if (r < 0)
			error_prefix(err, "node %s: start init", t->nodes[i].name);
	}
	if (r == 0 && up_interrupted)
		r = error_setmsg(err, EINTR, "interrupted by signal %d", up_interrupted);

	if (r == 0) {
		struct state st = {.created = (long long)time(NULL), .nnodes = t->nnodes};
		snprintf(st.sim, sizeof(st.sim), "%s", t->sim);
		if (!realpath(t->path, st.topology))
			snprintf(st.topology, sizeof(st.topology), "%s", t->path);
		st.nodes = calloc(t->nnodes ? t->nnodes : 1, sizeof(*st.nodes));
		if (!st.nodes) {
			r = error_set(err, ENOMEM, "state");
		} else {
			for (unsigned i = 0; i < t->nnodes; i++) {
				struct state_node *sn = &st.nodes[i];
				snprintf(sn->name, sizeof(sn->name), "%s", t->nodes[i].name);
				sn->pid = runs[i].c.pid;
				sn->starttime = state_proc_starttime(sn->pid);
				snprintf(sn->addr4, sizeof(sn->addr4), "%s", t->nodes[i].addr4);
				snprintf(sn->addr6, sizeof(sn->addr6), "%s", t->nodes[i].addr6);
				snprintf(sn->rootfs, sizeof(sn->rootfs), "%s", runs[i].source);
			}
			state_sim_path(path, sizeof(path), t->sim, "state");
			r = state_write(path, &st, err);
			free(st.nodes);
		}
	}
	for (int s = 0; s < 3; s++)
		sigaction(sigs[s], &old[s], NULL);

	if (r == 0) {
		for (unsigned i = 0; i < t->nnodes; i++) {
			if (!opt || !opt->quiet)
				printf("%-12s pid %-8d %-18s %s\n", t->nodes[i].name,
				       (int)runs[i].c.pid, t->nodes[i].addr4, runs[i].source);
			container_release(&runs[i].c);
		}
		printf("sim %s up: %u nodes, %u links, %u segments in %.2f s\n", t->sim,
		       t->nnodes, t->nlinks, t->nsegments, now_seconds() - started);
	}
out:
	if (r < 0) {
		for (unsigned i = 0; i < t->nnodes; i++)
			container_destroy(&runs[i].c);
		if (created) {
			struct error ignored;
			teardown_locked(t->sim, &ignored);
		}
	}
	for (unsigned i = 0; i < t->nnodes; i++)
		if (runs[i].netns_fd >= 0)
			close(runs[i].netns_fd);
	free(runs);
	return r;
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

static void wait_gone(pid_t pid, unsigned long long starttime)
{
	/* Not our child (unless rolled back by `up`, which reaped it already):
	 * wait until it is gone or a zombie whose namespaces are released. */
	for (int i = 0; i < 500; i++) {
		if (state_proc_starttime(pid) != starttime)
			return;
		char path[64], buf[512];
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			return;
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		if (p && p[1] && (p[2] == 'Z' || p[2] == 'X'))
			return;
		usleep(10000);
	}
}

static int teardown_locked(const char *sim, struct error *err)
{
	char **nodes = NULL;
	unsigned n = 0;
	int r = sim_node_dirs(sim, &nodes, &n, err);
	if (r < 0)
		return r;
	pid_t *pids = calloc(n ? n : 1, sizeof(*pids));
	unsigned long long *starts = calloc(n ? n : 1, sizeof(*starts));
	if (!pids || !starts) {
		r = error_set(err, ENOMEM, "down %s", sim);
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		pids[i] = state_pidfile_read(sim, nodes[i]);
		if (pids[i] > 0) {
			starts[i] = state_proc_starttime(pids[i]);
			kill(pids[i], SIGKILL);
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (pids[i] > 0)
			wait_gone(pids[i], starts[i]);
	char path[PATH_MAX];
	for (unsigned i = 0; i < n; i++) {
		struct error e;
		state_netns_path(path, sizeof(path), sim, nodes[i]);
		if (netns_remove(path, &e) < 0 && r == 0) {
			*err = e;
			r = -e.errnum;
		}
		state_node_path(path, sizeof(path), sim, nodes[i], NULL);
		if (rootfs_remove_tree(path, &e) < 0 && r == 0) {
			*err = e;
			r = -e.errnum;
		}
	}
	state_netns_path(path, sizeof(path), sim, NULL);
	struct error e;
	if (netns_remove(path, &e) < 0 && r == 0) {
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
	state_sim_path(path, sizeof(path), sim, NULL);
	if (stat(path, &st) < 0 && errno == ENOENT) {
		/* Nothing recorded; a switch namespace can still be left over. */
		state_netns_path(path, sizeof(path), sim, NULL);
		return netns_remove(path, err);
	}
	cleanup_close int lock_fd = -1;
	int r = state_lock(sim, &lock_fd, err);
	if (r < 0)
		return r;
	r = teardown_locked(sim, err);
	if (r < 0)
		return error_prefix(err, "down %s", sim);
	return 0;
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
