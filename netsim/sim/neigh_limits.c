#include "sim/neigh_limits.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "process.h"
#include "sim/proc.h"
#include "sim/state.h"

struct family {
	const char *key;        /* in our files and in the sysctl paths */
	const char *name;
	const char *stat_file;  /* /proc/net/stat/... */
};

static const struct family families[NEIGH_FAMILIES] = {
	[NEIGH_IPV4] = {"ipv4", "IPv4", "arp_cache"},
	[NEIGH_IPV6] = {"ipv6", "IPv6", "ndisc_cache"},
};

void (*neigh_limits_step_hook)(void);

static void step(void)
{
	if (neigh_limits_step_hook)
		neigh_limits_step_hook();
}

const char *neigh_family_name(int family)
{
	return families[family].name;
}

/* gc_thresh2 is where the kernel starts evicting entries on allocation,
 * gc_thresh3 where it refuses new ones.  One sim's share of the host is
 * small while it fits in half of the host's own gc_thresh2; beyond that
 * gc_thresh2 grows by the need (no forced eviction of live entries) and
 * gc_thresh3 by twice the need (room for the transient entries of route
 * changes).  gc_thresh1 (below it, no periodic collection) stays. */
struct limits {
	unsigned long thresh2, thresh3;
};

static struct limits target_limits(struct limits base, unsigned long need)
{
	if (need <= base.thresh2 / 2)
		return base;
	return (struct limits){base.thresh2 + need, base.thresh3 + 2 * need};
}

/* ---- needs ------------------------------------------------------------- */

static bool is_container(const struct topo *t, unsigned node)
{
	return t->nodes[node].backend == TOPO_BACKEND_CONTAINER;
}

/* An interface with `peers` neighbours: per neighbour its address and (IPv6)
 * its solicited-node group; per interface the protocol's multicast group and
 * (IPv6) MLD's. */
static void add_interface(struct neigh_need *need, unsigned long peers)
{
	need->entries[NEIGH_IPV4] += 1 + peers;
	need->entries[NEIGH_IPV6] += 2 + 2 * peers;
}

void neigh_need_of_topo(const struct topo *t, struct neigh_need *need)
{
	memset(need, 0, sizeof(*need));
	/* a qemu node's addresses live in its VM's kernel, not the host's */
	for (unsigned l = 0; l < t->nlinks; l++) {
		if (is_container(t, t->links[l].a.node))
			add_interface(need, 1);
		if (is_container(t, t->links[l].b.node))
			add_interface(need, 1);
	}
	for (unsigned s = 0; s < t->nsegments; s++) {
		const struct topo_segment *seg = &t->segments[s];
		for (unsigned m = 0; m < seg->nmembers; m++)
			if (is_container(t, seg->members[m].node))
				add_interface(need, seg->nmembers - 1);
	}
}

/* ---- files -------------------------------------------------------------- */

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

static void sysctl_path(char *buf, size_t len, int family, const char *leaf)
{
	snprintf(buf, len, "%s/net/%s/neigh/default/%s", env_or("NETSIM_SYSCTL_DIR", "/proc/sys"),
		 families[family].key, leaf);
}

/* The form an operator types: net.ipv6.neigh.default.gc_thresh3 */
static void sysctl_name(char *buf, size_t len, int family, const char *leaf)
{
	snprintf(buf, len, "net.%s.neigh.default.%s", families[family].key, leaf);
}

static void record_path(char *buf, size_t len, const char *leaf)
{
	snprintf(buf, len, "%s/%s", state_run_dir(), leaf);
}

static int read_ulong(const char *path, unsigned long *out)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	return fscanf(f, "%lu", out) == 1 ? 0 : -EINVAL;
}

static int write_ulong(const char *path, unsigned long v)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%lu\n", v);
	if (write(fd, buf, (size_t)len) != len)
		return -errno;
	return 0;
}

/* ENOENT: the kernel has no such table (no IPv6). */
static int read_limits(int family, struct limits *l)
{
	char p2[PATH_MAX], p3[PATH_MAX];
	sysctl_path(p2, sizeof(p2), family, "gc_thresh2");
	sysctl_path(p3, sizeof(p3), family, "gc_thresh3");
	int r = read_ulong(p2, &l->thresh2);
	return r < 0 ? r : read_ulong(p3, &l->thresh3);
}

/* Keep thresh2 <= thresh3 at every step: raise 3 first, lower 2 first. */
static int write_limits(int family, struct limits from, struct limits to)
{
	char p2[PATH_MAX], p3[PATH_MAX];
	sysctl_path(p2, sizeof(p2), family, "gc_thresh2");
	sysctl_path(p3, sizeof(p3), family, "gc_thresh3");
	bool raise = to.thresh3 > from.thresh3;
	int r = write_ulong(raise ? p3 : p2, raise ? to.thresh3 : to.thresh2);
	step();
	if (r == 0)
		r = write_ulong(raise ? p2 : p3, raise ? to.thresh2 : to.thresh3);
	step();
	return r;
}

/* /run/netsim/neigh-limits.saved: per family the host's values (orig), the
 * ones netsim set (set) and the ones it found before its last write (prev):
 * "FAMILY O2 O3 S2 S3 P2 P3".  It is written *before* the sysctls it
 * describes (a write-ahead record), so an `up` killed at any point leaves
 * values that are each either prev or set: recognisably netsim's, and put
 * back to orig by the next fit.  (A 5-number line, from before prev existed,
 * reads with prev = set.) */
struct record {
	bool have[NEIGH_FAMILIES];
	struct limits orig[NEIGH_FAMILIES], set[NEIGH_FAMILIES], prev[NEIGH_FAMILIES];
};

/* -EBADMSG for a record that exists but does not parse: it may hold the
 * host's values, so it is neither overwritten nor removed. */
static int read_record(struct record *rec, struct error *err)
{
	memset(rec, 0, sizeof(*rec));
	char path[PATH_MAX], key[16];
	record_path(path, sizeof(path), "neigh-limits.saved");
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : error_set(err, errno, "read %s", path);
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		struct limits o, s, p;
		int n = sscanf(line, "%15s %lu %lu %lu %lu %lu %lu", key, &o.thresh2, &o.thresh3,
			       &s.thresh2, &s.thresh3, &p.thresh2, &p.thresh3);
		int i = 0;
		while (i < NEIGH_FAMILIES && (n < 1 || strcmp(key, families[i].key) != 0))
			i++;
		if ((n != 5 && n != 7) || i == NEIGH_FAMILIES)
			return error_setmsg(err, EBADMSG,
					    "%s: cannot read `%.*s`: it records the host's own "
					    "neighbour-table limits (gc_thresh2/3) from before netsim "
					    "raised them; put them back by hand and remove it",
					    path, (int)strcspn(line, "\n"), line);
		rec->have[i] = true;
		rec->orig[i] = o;
		rec->set[i] = s;
		rec->prev[i] = n == 7 ? p : s;
	}
	if (ferror(f))
		return error_set(err, EIO, "read %s", path);
	return 0;
}

/* Atomically (a complete file renamed over the old one), or removed when it
 * holds nothing. */
static int write_record(const struct record *rec, struct error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	record_path(path, sizeof(path), "neigh-limits.saved");
	bool any = false;
	for (int i = 0; i < NEIGH_FAMILIES; i++)
		any |= rec->have[i];
	if (!any) {
		if (unlink(path) < 0 && errno != ENOENT)
			return error_set(err, errno, "remove %s", path);
		step();
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return error_set(err, errno, "create %s", tmp);
	fputs("# netsim: the host's neighbour-table limits (gc_thresh2 gc_thresh3) before\n"
	      "# netsim raised them, the values it set, and those before its last write;\n"
	      "# the last `netsim down` restores the first pair\n",
	      f);
	for (int i = 0; i < NEIGH_FAMILIES; i++)
		if (rec->have[i])
			fprintf(f, "%s %lu %lu %lu %lu %lu %lu\n", families[i].key,
				rec->orig[i].thresh2, rec->orig[i].thresh3, rec->set[i].thresh2,
				rec->set[i].thresh3, rec->prev[i].thresh2, rec->prev[i].thresh3);
	int failed = ferror(f);
	if (fclose(f) != 0 || failed || rename(tmp, path) < 0) {
		int e = errno ? errno : EIO;
		unlink(tmp);
		return error_set(err, e, "write %s", path);
	}
	step();
	return 0;
}

/* /run/netsim/SIM/neigh: "FAMILY NEED FULLS" lines; FULLS is the table-full
 * count when the sim came up, so `status` can tell overflows since then.  An
 * "up PID STARTTIME" line names the `up` that wrote it (*up_pid 0 if none:
 * a file from before that line existed). */
static int read_sim_need(const char *sim, struct neigh_need *need, unsigned long *fulls,
			 pid_t *up_pid, unsigned long long *up_start)
{
	char path[PATH_MAX], key[16];
	state_sim_path(path, sizeof(path), sim, "neigh");
	memset(need, 0, sizeof(*need));
	if (up_pid)
		*up_pid = 0;
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	unsigned long long a, b;
	while (fscanf(f, "%15s %llu %llu", key, &a, &b) == 3) {
		if (strcmp(key, "up") == 0 && up_pid && a > 0 && a <= INT_MAX) {
			*up_pid = (pid_t)a;
			*up_start = b;
		}
		for (int i = 0; i < NEIGH_FAMILIES; i++)
			if (strcmp(key, families[i].key) == 0) {
				need->entries[i] = (unsigned long)a;
				if (fulls)
					fulls[i] = (unsigned long)b;
			}
	}
	return 0;
}

/* Whether a sim with a recorded need still exists: it is up (its state
 * file), its `up` still runs, or a node of it does.  Not so for the
 * directory an `up` killed before its first node left behind, nor for one
 * whose nodes all died with it: its need no longer holds the limits up. */
static bool sim_still_there(const char *sim, pid_t up_pid, unsigned long long up_start)
{
	char path[PATH_MAX];
	state_sim_path(path, sizeof(path), sim, "state");
	if (access(path, F_OK) == 0)
		return true;
	if (up_pid == 0)
		return true; /* an older netsim's record: keep counting it */
	if (process_starttime(up_pid) == up_start)
		return true;
	state_sim_path(path, sizeof(path), sim, "nodes");
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool alive = false;
	struct dirent *de;
	while (!alive && (de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    state_node_path(path, sizeof(path), sim, de->d_name, "pid") < 0)
			continue;
		alive = proc_pid_read(path) > 0;
	}
	closedir(d);
	return alive;
}

/* Summed over the rows, one per CPU; the first column (entries) is the
 * table's own count, the same in every row. */
static int read_table_stats(int family, unsigned long *entries, unsigned long *fulls)
{
	char path[PATH_MAX], line[512];
	snprintf(path, sizeof(path), "%s/%s", env_or("NETSIM_PROC_NET_STAT", "/proc/net/stat"),
		 families[family].stat_file);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	*entries = *fulls = 0;
	if (!fgets(line, sizeof(line), f))
		return -EINVAL;
	while (fgets(line, sizeof(line), f)) {
		unsigned long col[13];
		int k = 0;
		char *p = line, *end;
		for (; k < 13; k++, p = end) {
			col[k] = strtoul(p, &end, 16);
			if (end == p)
				break;
		}
		if (k < 13)
			continue;
		*entries = col[0];
		*fulls += col[12];
	}
	return 0;
}

static int write_sim_need(const char *sim, const struct neigh_need *need, struct error *err)
{
	char path[PATH_MAX];
	state_sim_path(path, sizeof(path), sim, "neigh");
	FILE *f = fopen(path, "we");
	if (!f)
		return error_set(err, errno, "create %s", path);
	for (int i = 0; i < NEIGH_FAMILIES; i++) {
		unsigned long entries = 0, fulls = 0;
		read_table_stats(i, &entries, &fulls);
		fprintf(f, "%s %lu %lu\n", families[i].key, need->entries[i], fulls);
	}
	fprintf(f, "up %d %llu\n", (int)getpid(), process_starttime(getpid()));
	int failed = ferror(f);
	if (fclose(f) != 0 || failed)
		return error_set(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

/* Every recorded need of a sim that still exists, but `except`'s. */
static void sum_needs(const char *except, struct neigh_need *total)
{
	memset(total, 0, sizeof(*total));
	DIR *d = opendir(state_run_dir());
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (except && strcmp(de->d_name, except) == 0) ||
		    !topo_valid_name(de->d_name, TOPO_SIM_MAX))
			continue;
		struct neigh_need one;
		pid_t up_pid;
		unsigned long long up_start = 0;
		if (read_sim_need(de->d_name, &one, NULL, &up_pid, &up_start) < 0 ||
		    !sim_still_there(de->d_name, up_pid, up_start))
			continue;
		for (int i = 0; i < NEIGH_FAMILIES; i++)
			total->entries[i] += one.entries[i];
	}
	closedir(d);
}

/* The run dir itself is the lock (a flock on its directory fd): a lock file
 * would stay behind after the last sim is gone.  Should the directory be
 * removed and made anew between our mkdir and flock (whoever removes it
 * empty), the lock would be on a directory no one else sees: so after the
 * flock the path must still name the directory locked, or we start over. */
static int lock_limits(int *fd, struct error *err)
{
	const char *dir = state_run_dir();
	for (int tries = 0;; tries++) {
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return error_set(err, errno, "create %s", dir);
		cleanup_close int lfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lfd < 0) {
			if (errno == ENOENT && tries < 100)
				continue;
			return error_set(err, errno, "open %s", dir);
		}
		/* held for milliseconds: wait rather than fail a concurrent `up` */
		while (flock(lfd, LOCK_EX) < 0)
			if (errno != EINTR)
				return error_set(err, errno, "lock %s", dir);
		struct stat locked, named;
		if (fstat(lfd, &locked) < 0)
			return error_set(err, errno, "stat %s", dir);
		if (stat(dir, &named) == 0 && named.st_dev == locked.st_dev &&
		    named.st_ino == locked.st_ino) {
			*fd = steal_fd(&lfd);
			return 0;
		}
		if (tries >= 100)
			return error_setmsg(err, EAGAIN, "lock %s: it keeps being replaced", dir);
	}
}

/* ---- fitting the limits ------------------------------------------------- */

/* The kernel shows gc_thresh* only in the host's first network namespace: a
 * netsim run from inside another one (a container) cannot see or set them.
 * Say so once the sim is large enough to matter, with the sysctl for the host
 * (from the kernel's default of 512/1024). */
static void warn_unseen(int family, unsigned long need)
{
	char dir[PATH_MAX], n2[64], n3[64];
	snprintf(dir, sizeof(dir), "%s/net/%s/conf", env_or("NETSIM_SYSCTL_DIR", "/proc/sys"),
		 families[family].key);
	struct limits dflt = {512, 1024}, to = target_limits(dflt, need);
	if (access(dir, F_OK) < 0 || to.thresh3 == dflt.thresh3)
		return; /* no such table at all, or a small sim */
	sysctl_name(n2, sizeof(n2), family, "gc_thresh2");
	sysctl_name(n3, sizeof(n3), family, "gc_thresh3");
	fprintf(stderr,
		"netsim: warning: the sims need about %lu %s neighbour entries, and the host's "
		"limit is not visible from this network namespace; if routing breaks "
		"(dmesg: neighbor table overflow), run on the host `sysctl -w %s=%lu %s=%lu`\n",
		need, families[family].name, n3, to.thresh3, n2, to.thresh2);
}

static bool limits_eq(struct limits a, struct limits b)
{
	return a.thresh2 == b.thresh2 && a.thresh3 == b.thresh3;
}

/* Both values netsim's: each the one it set or, its write cut short, the one
 * before. */
static bool values_ours(const struct record *rec, int family, struct limits cur)
{
	return (cur.thresh2 == rec->set[family].thresh2 ||
		cur.thresh2 == rec->prev[family].thresh2) &&
	       (cur.thresh3 == rec->set[family].thresh3 ||
		cur.thresh3 == rec->prev[family].thresh3);
}

static void forget_family(struct record *rec, const struct record *before, int family)
{
	rec->have[family] = before->have[family];
	rec->orig[family] = before->orig[family];
	rec->set[family] = before->set[family];
	rec->prev[family] = before->prev[family];
}

/* Set one family's limits for `need` entries, and add what changed to
 * `notice`; a failed write is an error only when the limits had to grow.
 * The record on disk describes the values at every moment: it is written
 * before the sysctls, and `rec` is left as the caller must write it after. */
static int fit_family(int family, unsigned long need, struct record *rec, char *notice,
		      size_t notice_len, bool *raised, bool *restored, struct error *err)
{
	struct limits cur;
	if (read_limits(family, &cur) < 0) {
		warn_unseen(family, need);
		return 0;
	}
	if (rec->have[family] && !values_ours(rec, family, cur))
		rec->have[family] = false; /* someone else set them since: theirs now */
	struct limits base = rec->have[family] ? rec->orig[family] : cur;
	struct limits to = target_limits(base, need);
	if (!rec->have[family] && to.thresh2 <= cur.thresh2 && to.thresh3 <= cur.thresh3)
		return 0; /* already large enough, and not ours to lower */
	if (limits_eq(to, cur)) {
		/* in place already (an earlier write that was cut short, or no change) */
		if (limits_eq(to, base))
			rec->have[family] = false;
		else
			rec->set[family] = rec->prev[family] = to;
		return 0;
	}
	struct record before = *rec;
	if (!rec->have[family])
		rec->orig[family] = base;
	rec->have[family] = true;
	rec->prev[family] = cur;
	rec->set[family] = to;
	int r = write_record(rec, err);
	if (r < 0) {
		*rec = before; /* the file is as it was, and so are the values */
		return r;
	}
	r = write_limits(family, cur, to);
	if (r < 0) {
		struct limits now;
		if (read_limits(family, &now) == 0 && limits_eq(now, cur))
			forget_family(rec, &before, family); /* nothing was written */
		/* else one of the two was: the record (prev, set) covers both */
		char n2[64], n3[64];
		sysctl_name(n2, sizeof(n2), family, "gc_thresh2");
		sysctl_name(n3, sizeof(n3), family, "gc_thresh3");
		if (to.thresh3 <= cur.thresh3)
			return 0; /* could not lower them back: harmless */
		return error_setmsg(err, -r,
				    "the sims on this host need about %lu %s neighbour entries, "
				    "more than the kernel's table (shared by all namespaces) "
				    "holds: %s=%lu; netsim cannot raise it (%s): run "
				    "`sysctl -w %s=%lu %s=%lu` and try again",
				    need, families[family].name, n3, cur.thresh3, strerror(-r), n3,
				    to.thresh3, n2, to.thresh2);
	}
	rec->prev[family] = to;
	size_t used = strlen(notice);
	if (limits_eq(to, base)) {
		rec->have[family] = false;
		snprintf(notice + used, notice_len - used, "%s%s %lu/%lu", used ? ", " : "",
			 families[family].name, to.thresh2, to.thresh3);
		*restored = true;
		return 0;
	}
	if (to.thresh3 > cur.thresh3) {
		snprintf(notice + used, notice_len - used, "%s%s %lu/%lu -> %lu/%lu (~%lu entries)",
			 used ? ", " : "", families[family].name, cur.thresh2, cur.thresh3,
			 to.thresh2, to.thresh3, need);
		*raised = true;
	}
	return 0;
}

/* All families for `total`; the record is written even when one failed, so
 * what was raised is restored later.  A record that cannot be read stops it
 * all: it may be the only copy of the host's values. */
static int fit_all(const struct neigh_need *total, FILE *notice, struct error *err)
{
	struct record rec;
	int r = read_record(&rec, err);
	if (r < 0)
		return r;
	char text[512] = "";
	bool raised = false, restored = false;
	for (int i = 0; i < NEIGH_FAMILIES && r == 0; i++)
		r = fit_family(i, total->entries[i], &rec, text, sizeof(text), &raised, &restored,
			       err);
	/* one line, whatever changed */
	if (notice && raised)
		fprintf(notice, "netsim: raised the host's neighbour-table limits (gc_thresh2/3, "
				"shared by all namespaces): %s; restored when the last sim is down\n",
			text);
	else if (notice && restored)
		fprintf(notice, "netsim: restored the host's neighbour-table limits "
				"(gc_thresh2/3): %s\n",
			text);
	struct error werr;
	int w = write_record(&rec, &werr);
	if (w < 0 && r == 0) {
		*err = werr;
		r = w;
	}
	return r;
}

int neigh_limits_claim(const char *sim, const struct neigh_need *need, FILE *notice,
		       struct error *err)
{
	cleanup_close int lock_fd = -1;
	int r = lock_limits(&lock_fd, err);
	if (r < 0)
		return r;
	struct neigh_need total;
	sum_needs(sim, &total);
	for (int i = 0; i < NEIGH_FAMILIES; i++)
		total.entries[i] += need->entries[i];
	/* the need first: should this `up` die from here on, `down` still
	 * counts it, and the rollback of a refused `up` does not */
	r = write_sim_need(sim, need, err);
	if (r < 0)
		return r;
	step();
	r = fit_all(&total, notice, err);
	if (r < 0) {
		char path[PATH_MAX];
		state_sim_path(path, sizeof(path), sim, "neigh");
		unlink(path);
	}
	return r;
}

int neigh_limits_release(struct error *err)
{
	cleanup_close int lock_fd = -1;
	int r = lock_limits(&lock_fd, err);
	if (r < 0)
		return r;
	struct neigh_need total;
	sum_needs(NULL, &total);
	return fit_all(&total, stderr, err);
}

int neigh_limits_status(const char *sim, struct neigh_table_status st[NEIGH_FAMILIES],
			struct error *err)
{
	(void)err;
	struct record rec;
	struct error ignored;
	if (read_record(&rec, &ignored) < 0)
		memset(&rec, 0, sizeof(rec));
	struct neigh_need need;
	unsigned long fulls_at_up[NEIGH_FAMILIES] = {0};
	bool recorded = sim && read_sim_need(sim, &need, fulls_at_up, NULL, NULL) == 0;
	for (int i = 0; i < NEIGH_FAMILIES; i++) {
		struct neigh_table_status *s = &st[i];
		memset(s, 0, sizeof(*s));
		struct limits cur;
		if (read_limits(i, &cur) < 0)
			continue;
		s->present = true;
		s->thresh2 = cur.thresh2;
		s->thresh3 = cur.thresh3;
		if (rec.have[i] && rec.set[i].thresh3 == cur.thresh3)
			s->orig3 = rec.orig[i].thresh3;
		read_table_stats(i, &s->entries, &s->fulls);
		if (recorded) {
			s->need = need.entries[i];
			s->fulls_since_up = s->fulls >= fulls_at_up[i] ? s->fulls - fulls_at_up[i] : 0;
		}
	}
	return 0;
}
