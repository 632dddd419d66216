/* netsim cache: the rootfs cache's entries, who uses them, and a prune that
 * never removes one a running sim's node sits on (cache.h). */
#include "sim/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "rootfs.h"
#include "sim/sim.h"
#include "sim/state.h"

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct cache_entry *)a)->name, ((const struct cache_entry *)b)->name);
}

/* nftw has no context pointer; one scan at a time. */
static unsigned long long du_total;
static struct { dev_t dev; ino_t ino; } *du_seen;
static size_t du_nseen, du_cap;

static int du_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path, (void)type, (void)ftw;
	if (st->st_nlink > 1 && !S_ISDIR(st->st_mode)) {
		for (size_t i = 0; i < du_nseen; i++)
			if (du_seen[i].dev == st->st_dev && du_seen[i].ino == st->st_ino)
				return 0;
		if (du_nseen == du_cap) {
			size_t cap = du_cap ? du_cap * 2 : 256;
			void *v = realloc(du_seen, cap * sizeof(*du_seen));
			if (!v)
				return 0;  /* then counted twice: only a size */
			du_seen = v;
			du_cap = cap;
		}
		du_seen[du_nseen].dev = st->st_dev;
		du_seen[du_nseen++].ino = st->st_ino;
	}
	du_total += (unsigned long long)st->st_blocks * 512;
	return 0;
}

static unsigned long long disk_usage(const char *path)
{
	du_total = 0;
	du_nseen = 0;
	nftw(path, du_one, 32, FTW_PHYS | FTW_MOUNT);
	free(du_seen);
	du_seen = NULL;
	du_cap = 0;
	return du_total;
}

/* A path some node uses: count it against the entry it lies in. */
static void note_use(struct cache_report *r, const char *path, const char *sim, const char *node)
{
	size_t dlen = strlen(r->dir);
	if (strncmp(path, r->dir, dlen) != 0 || path[dlen] != '/')
		return;
	const char *name = path + dlen + 1;
	size_t nlen = strcspn(name, "/");
	for (unsigned i = 0; i < r->count; i++) {
		struct cache_entry *e = &r->entries[i];
		if (strlen(e->name) == nlen && strncmp(e->name, name, nlen) == 0) {
			if (e->users++ == 0)
				snprintf(e->user, sizeof(e->user), "%s/%s", sim, node);
			return;
		}
	}
}

/* Every path in nodes/NODE/lower of every sim, and every node's rootfs in its
 * state file; a sim dir whose lock another process holds sets *busy. */
static int scan_users(struct cache_report *r, char *busy, size_t busy_len, struct error *err)
{
	char **sims;
	unsigned nsims;
	if (sim_names(&sims, &nsims, err) < 0)
		return -err->errnum;
	for (unsigned s = 0; s < nsims; s++) {
		char path[PATH_MAX];
		if (busy && !busy[0] && state_sim_path(path, sizeof(path), sims[s], "lock") == 0) {
			cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
				snprintf(busy, busy_len, "sim %s is being changed (an `up`, `down` or "
					 "`node` holds its lock)", sims[s]);
		}
		struct state st;
		struct error ignored = {0};
		if (state_load(sims[s], &st, &ignored) == 0) {
			for (unsigned k = 0; k < st.nnodes; k++)
				note_use(r, st.nodes[k].rootfs, sims[s], st.nodes[k].name);
			state_free(&st);
		}
		if (state_sim_path(path, sizeof(path), sims[s], "nodes") < 0)
			continue;
		DIR *d = opendir(path);
		if (!d)
			continue;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char lower[PATH_MAX + 300];
			snprintf(lower, sizeof(lower), "%s/%s/lower", path, de->d_name);
			cleanup_fclose FILE *f = fopen(lower, "re");
			char line[PATH_MAX];
			while (f && fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\n")] = '\0';
				note_use(r, line, sims[s], de->d_name);
			}
		}
		closedir(d);
	}
	sim_names_free(sims, nsims);
	return 0;
}

int cache_scan(struct cache_report *r, struct error *err)
{
	*r = (struct cache_report){0};
	cleanup_free char *real = realpath(state_cache_dir(), NULL);
	if (!real)
		return errno == ENOENT ? 0 : error_set(err, errno, "cache %s", state_cache_dir());
	snprintf(r->dir, sizeof(r->dir), "%s", real);
	DIR *d = opendir(r->dir);
	if (!d)
		return error_set(err, errno, "cache %s", r->dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')  /* .lock, .tmp-* extractions (rootfs.c) */
			continue;
		struct cache_entry *v = realloc(r->entries, (r->count + 1) * sizeof(*v));
		if (!v) {
			closedir(d);
			return error_set(err, ENOMEM, "cache %s", r->dir);
		}
		r->entries = v;
		struct cache_entry *e = &r->entries[r->count++];
		*e = (struct cache_entry){0};
		snprintf(e->name, sizeof(e->name), "%s", de->d_name);
		char path[PATH_MAX + 300];
		snprintf(path, sizeof(path), "%s/%s", r->dir, de->d_name);
		e->bytes = disk_usage(path);
	}
	closedir(d);
	if (r->count > 1)
		qsort(r->entries, r->count, sizeof(*r->entries), cmp_entries);
	return scan_users(r, NULL, 0, err);
}

/* A running `netsim up` whose cache is ours: its rootfs may be resolved (an
 * entry it is about to use) before its sim has a lock or a lower record. */
static pid_t up_running(const char *cache_real)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *de;
	pid_t found = 0;
	while (!found && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		char path[64], buf[4096];
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (n <= 0)
			continue;
		buf[n] = '\0';
		const char *base = strrchr(buf, '/');
		base = base ? base + 1 : buf;
		size_t a0 = strlen(buf) + 1;
		if (strcmp(base, "netsim") != 0 || (ssize_t)a0 >= n || strcmp(buf + a0, "up") != 0)
			continue;
		/* its cache: NETSIM_CACHE_DIR in its environment, else the default */
		char env[16384], dir[PATH_MAX] = "/var/lib/netsim/cache";
		snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
		cleanup_close int efd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t m = efd >= 0 ? read(efd, env, sizeof(env) - 1) : -1;
		for (ssize_t i = 0; m > 0 && i < m; i += (ssize_t)strlen(env + i) + 1) {
			env[m] = '\0';
			if (strncmp(env + i, "NETSIM_CACHE_DIR=", 17) == 0 && env[i + 17])
				snprintf(dir, sizeof(dir), "%s", env + i + 17);
		}
		char *real = realpath(dir, NULL);
		if (!real || strcmp(real, cache_real) == 0)
			found = (pid_t)pid;  /* unknown counts as ours */
		free(real);
	}
	closedir(d);
	return found;
}

int cache_prune(struct cache_report *r, bool dry_run, struct error *err)
{
	/* stale temporaries of killed extractions go first (they hold no entry) */
	if (!dry_run && rootfs_cache_sweep(state_cache_dir(), err) < 0)
		return -err->errnum;
	int ret = cache_scan(r, err);
	if (ret < 0 || !r->dir[0])
		return ret;
	char lock[PATH_MAX + 8];
	snprintf(lock, sizeof(lock), "%s/.lock", r->dir);
	cleanup_close int lfd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lfd < 0)
		return error_set(err, errno, "cache: open %s", lock);
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0)
		return error_setmsg(err, EBUSY, "cache %s: a rootfs is being extracted into it; "
				    "try again when the `up` is done", r->dir);
	char busy[256] = "";
	/* the users again, now that no extraction can add an entry */
	for (unsigned i = 0; i < r->count; i++)
		r->entries[i].users = 0, r->entries[i].user[0] = '\0';
	if (scan_users(r, busy, sizeof(busy), err) < 0)
		return -err->errnum;
	if (busy[0])
		return error_setmsg(err, EBUSY, "%s; try again when it is done", busy);
	pid_t up = up_running(r->dir);
	if (up)
		return error_setmsg(err, EBUSY, "a `netsim up` (pid %d) is starting a sim that may "
				    "use the cache; try again when it is done", (int)up);
	for (unsigned i = 0; i < r->count; i++) {
		struct cache_entry *e = &r->entries[i];
		if (e->users)
			continue;
		if (!dry_run) {
			char path[PATH_MAX + 300];
			snprintf(path, sizeof(path), "%s/%s", r->dir, e->name);
			if (rootfs_remove_tree(path, err) < 0) {
				error_prefix(err, "cache prune");
				return -err->errnum;
			}
		}
		e->removed = true;
	}
	return 0;
}

void cache_report_free(struct cache_report *r)
{
	free(r->entries);
	*r = (struct cache_report){0};
}
