#include "sim/state.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "sim/proc.h"
#include "util.h"

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

const char *state_run_dir(void)
{
	return env_or("NETSIM_RUN_DIR", "/run/netsim");
}

const char *state_netns_dir(void)
{
	return env_or("NETSIM_NETNS_DIR", "/run/netns");
}

const char *state_cache_dir(void)
{
	return env_or("NETSIM_CACHE_DIR", "/var/lib/netsim/cache");
}

/* A count from the environment: digits with an optional binary suffix
 * (K, M, G, T: powers of 1024), more than 0. */
static int env_count(const char *name, uint64_t fallback, bool suffixes, uint64_t *out,
		     struct error *err)
{
	const char *v = getenv(name);
	*out = fallback;
	if (!v || !*v)
		return 0;
	const char *suffix;
	unsigned long long value = 0;
	bool number = parse_unsigned_prefix(v, &suffix, &value) == 0;
	unsigned shift = 0;
	if (suffixes && suffix[0] && !suffix[1]) {
		/* (memchr over the 4 letters: strchr would also find the '\0' that
		 * `' ' & ~0x20` once was, taking "1 " for 2^50) */
		static const char units[4] = {'K', 'M', 'G', 'T'};
		const char *at = memchr(units, toupper((unsigned char)suffix[0]), sizeof(units));
		shift = at ? 10 * (unsigned)(at - units + 1) : 0;
		suffix += at ? 1 : 0;
	}
	if (!number || *suffix || value == 0 || value > (UINT64_MAX >> shift))
		return error_setmsg(err, EINVAL, "%s=%s: give a number above 0%s", name, v,
				    suffixes ? ", optionally with K, M, G or T (1024-based)" : "");
	*out = (uint64_t)value << shift;
	return 0;
}

int state_extract_limits(struct rootfs_limits *limits, struct error *err)
{
	*limits = (struct rootfs_limits){
		.bytes_knob = "NETSIM_EXTRACT_MAX_BYTES",
		.entries_knob = "NETSIM_EXTRACT_MAX_FILES",
	};
	int r = env_count("NETSIM_EXTRACT_MAX_BYTES", ROOTFS_MAX_BYTES_DEFAULT, true,
			  &limits->max_bytes, err);
	if (r == 0)
		r = env_count("NETSIM_EXTRACT_MAX_FILES", ROOTFS_MAX_ENTRIES_DEFAULT, false,
			      &limits->max_entries, err);
	return r;
}

int state_check_host_path(const char *path, struct error *err)
{
	const char *const netsim_dirs[] = { state_run_dir(), state_netns_dir(), state_cache_dir(),
					    NULL };
	return rootfs_check_host_path(path, netsim_dirs, err);
}

/* (state.h) The child then opens a container's lower layers without following
 * symlinks (mounts.c), so the directory checked here is the one mounted. */
int state_check_lower(const char *what, const char *path, bool rootfs, struct error *err)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		return error_set(err, errno, "%s %s", what, path);
	if (strcmp(real, path) != 0)
		return error_setmsg(err, EPERM, "%s %s now resolves to %s: a directory on its way "
				    "was replaced by a symlink since it was checked", what, path, real);
	if (rootfs) {
		char cache[PATH_MAX];
		const char *slash = strrchr(real, '/');
		if (realpath(state_cache_dir(), cache) && slash &&
		    (size_t)(slash - real) == strlen(cache) && strncmp(real, cache, strlen(cache)) == 0 &&
		    strlen(slash + 1) == 64 && strspn(slash + 1, "0123456789abcdef") == 64)
			return 0;
	}
	if (state_check_host_path(real, err) < 0)
		return error_prefix(err, "%s", what);
	return 0;
}

static int path_printf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int path_printf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int state_sim_path(char *buf, size_t len, const char *sim, const char *leaf)
{
	if (leaf)
		return path_printf(buf, len, "%s/%s/%s", state_run_dir(), sim, leaf);
	return path_printf(buf, len, "%s/%s", state_run_dir(), sim);
}

int state_node_path(char *buf, size_t len, const char *sim, const char *node, const char *leaf)
{
	if (leaf)
		return path_printf(buf, len, "%s/%s/nodes/%s/%s", state_run_dir(), sim, node, leaf);
	return path_printf(buf, len, "%s/%s/nodes/%s", state_run_dir(), sim, node);
}

/* Sim and node names are [a-z0-9-] (topo_valid_name), so '-' cannot separate
 * them: sim q node a-b and sim q-a node b would both be "q-a-b".  '_' and '.' are
 * in neither kind of name: in "SIM_NODE" the '_' marks where the sim name ends,
 * and "SIM.sw" (no '_') is never a node's.  So no two (sim, node) pairs and no
 * switch share a name, and a name that is not valid is refused rather than
 * spelled (an empty buffer, so a caller that ignores the error names nothing). */
int state_node_id(char *buf, size_t len, const char *sim, const char *node)
{
	if (len)
		buf[0] = '\0';
	if (!topo_valid_name(sim, TOPO_SIM_MAX) || (node && !topo_valid_name(node, TOPO_NAME_MAX)))
		return -EINVAL;
	if (node)
		return path_printf(buf, len, "%s_%s", sim, node);
	return path_printf(buf, len, "%s.sw", sim);
}

int state_netns_path(char *buf, size_t len, const char *sim, const char *node)
{
	char id[TOPO_SIM_MAX + TOPO_NAME_MAX + 2];
	int r = state_node_id(id, sizeof(id), sim, node);
	if (r < 0) {
		if (len)
			buf[0] = '\0';
		return r;
	}
	return path_printf(buf, len, "%s/%s", state_netns_dir(), id);
}

int state_cgroup_path(char *buf, size_t len, const char *sim, const char *node)
{
	/* nested, so sim and node names cannot collide (unlike SIM-NODE) */
	if (node)
		return path_printf(buf, len, "netsim/%s/%s", sim, node);
	return path_printf(buf, len, "netsim/%s", sim);
}

int state_link_path(char *buf, size_t len, const char *sim, const char *link)
{
	if (link)
		return path_printf(buf, len, "%s/%s/links/%s", state_run_dir(), sim, link);
	return path_printf(buf, len, "%s/%s/links", state_run_dir(), sim);
}

int state_ids_path(char *buf, size_t len, int slot)
{
	/* sim names never start with '.', so this is not taken for a sim */
	if (slot >= 0)
		return path_printf(buf, len, "%s/.ids/%d", state_run_dir(), slot);
	return path_printf(buf, len, "%s/.ids", state_run_dir());
}

int state_forward_path(char *buf, size_t len, const char *sim, const char *port)
{
	if (port)
		return path_printf(buf, len, "%s/%s/forwards/%s", state_run_dir(), sim, port);
	return path_printf(buf, len, "%s/%s/forwards", state_run_dir(), sim);
}

int state_lock(const char *sim, int *fd, struct error *err)
{
	char dir[4096], path[4096];
	int r;
	if (state_sim_path(dir, sizeof(dir), sim, NULL) < 0 ||
	    state_sim_path(path, sizeof(path), sim, "lock") < 0)
		return error_set(err, ENAMETOOLONG, "sim %s", sim);
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return error_set(err, -r, "create %s", dir);
	cleanup_close int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return error_set(err, errno, "open %s", path);
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return error_setmsg(err, EBUSY,
					    "sim %s is being changed by another netsim process", sim);
		return error_set(err, errno, "lock %s", path);
	}
	*fd = steal_fd(&lfd);
	return 0;
}

int state_write(const char *path, const struct state *s, struct error *err)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return error_set(err, ENAMETOOLONG, "%s", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return error_set(err, errno, "write %s", tmp);
	fprintf(f, "netsim-state 1\nsim %s\ntopology %s\ncreated %lld\n", s->sim,
		s->topology, s->created);
	for (unsigned i = 0; i < s->nnodes; i++) {
		const struct state_node *n = &s->nodes[i];
		fprintf(f, "node %s %d %llu %s %s %s\n", n->name, (int)n->pid, n->starttime,
			n->addr4[0] ? n->addr4 : "-", n->addr6[0] ? n->addr6 : "-",
			n->rootfs[0] ? n->rootfs : "-");
	}
	int failed = ferror(f);
	if (fclose(f) != 0 || failed) {
		int e = errno ? errno : EIO;
		unlink(tmp);
		return error_set(err, e, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return error_set(err, e, "rename %s", path);
	}
	return 0;
}

static void copy_field(char *dst, size_t len, const char *src)
{
	if (strcmp(src, "-") == 0)
		src = "";
	snprintf(dst, len, "%s", src);
}

int state_read(const char *path, struct state *s, struct error *err)
{
	memset(s, 0, sizeof(*s));
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return error_set(err, errno, "read %s", path);
	cleanup_free char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		char key[32];
		int off = 0;
		if (sscanf(line, "%31s %n", key, &off) != 1)
			continue;
		const char *rest = line + off;
		if (lineno == 1) {
			if (strcmp(line, "netsim-state 1") != 0)
				goto bad;
		} else if (strcmp(key, "sim") == 0) {
			snprintf(s->sim, sizeof(s->sim), "%s", rest);
		} else if (strcmp(key, "topology") == 0) {
			snprintf(s->topology, sizeof(s->topology), "%s", rest);
		} else if (strcmp(key, "created") == 0) {
			s->created = atoll(rest);
		} else if (strcmp(key, "node") == 0) {
			char name[64], a4[64], a6[80];
			int pid;
			unsigned long long start;
			int roff = 0;
			if (sscanf(rest, "%63s %d %llu %63s %79s %n", name, &pid, &start, a4, a6,
				   &roff) != 5 || !rest[roff])
				goto bad;
			struct state_node *nodes =
				realloc(s->nodes, (s->nnodes + 1) * sizeof(*s->nodes));
			if (!nodes) {
				state_free(s);
				return error_set(err, ENOMEM, "read %s", path);
			}
			s->nodes = nodes;
			struct state_node *n = &s->nodes[s->nnodes++];
			memset(n, 0, sizeof(*n));
			copy_field(n->name, sizeof(n->name), name);
			n->pid = pid;
			n->starttime = start;
			copy_field(n->addr4, sizeof(n->addr4), a4);
			copy_field(n->addr6, sizeof(n->addr6), a6);
			copy_field(n->rootfs, sizeof(n->rootfs), rest + roff);
		} else {
			goto bad;
		}
	}
	if (lineno == 0)
		goto bad;
	return 0;
bad:
	state_free(s);
	return error_setmsg(err, EINVAL, "%s:%d: malformed state file", path, lineno);
}

int state_load(const char *sim, struct state *st, struct error *err)
{
	char path[PATH_MAX];
	state_sim_path(path, sizeof(path), sim, "state");
	return state_read(path, st, err);
}

void state_free(struct state *s)
{
	free(s->nodes);
	s->nodes = NULL;
	s->nnodes = 0;
}

int state_pidfile_write(const char *sim, const char *node, pid_t pid, struct error *err)
{
	char path[4096];
	if (state_node_path(path, sizeof(path), sim, node, "pid") < 0)
		return error_set(err, ENAMETOOLONG, "node %s", node);
	return proc_pid_write(path, pid, err);
}

pid_t state_pidfile_read(const char *sim, const char *node)
{
	char path[4096];
	if (state_node_path(path, sizeof(path), sim, node, "pid") < 0)
		return -ENAMETOOLONG;
	return proc_pid_read(path);
}
