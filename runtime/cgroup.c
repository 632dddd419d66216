/* Control groups: see cgroup.h for the layout rules (v1 where a controller is
 * bound to a v1 hierarchy, v2 otherwise). */
#include "cgroup.h"

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
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

static const char *const controller_names[CGROUP_NCONTROLLERS] = {
	"memory", "pids", "cpu", "cpuacct",
};

/* The v1 memory controller's "no limit" is a page-rounded LLONG_MAX. */
#define V1_UNLIMITED_FLOOR (UINT64_C(1) << 62)
#define CPU_PERIOD_US 100000
#define KILL_WAIT_MS 5000
#define RMDIR_WAIT_MS 2000

/* ---- detection ---------------------------------------------------------- */

static int controller_index(const char *name, size_t len)
{
	for (int c = 0; c < CGROUP_NCONTROLLERS; c++)
		if (strlen(controller_names[c]) == len && strncmp(controller_names[c], name, len) == 0)
			return c;
	return -1;
}

/* Calls `fn` for each comma- or blank-separated word of `list`. */
static void for_each_word(const char *list, const char *separators,
			  void (*fn)(struct cgroup_system *, const char *, size_t, const char *),
			  struct cgroup_system *sys, const char *arg)
{
	while (*list) {
		size_t len = strcspn(list, separators);
		if (len > 0)
			fn(sys, list, len, arg);
		list += len;
		list += strspn(list, separators);
	}
}

static void note_v1(struct cgroup_system *sys, const char *word, size_t len, const char *mount)
{
	int c = controller_index(word, len);
	if (c >= 0 && !sys->v1[c][0])
		snprintf(sys->v1[c], sizeof(sys->v1[c]), "%s", mount);
}

static void note_v2(struct cgroup_system *sys, const char *word, size_t len, const char *unused)
{
	(void)unused;
	int c = controller_index(word, len);
	if (c >= 0)
		sys->v2[c] = true;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - TYPE SRC SUPER". */
static void parse_mountinfo_line(struct cgroup_system *sys, char *line)
{
	char *fields[5], *save = NULL, *tok = strtok_r(line, " \n", &save);
	unsigned n = 0;
	for (; tok && n < 5; tok = strtok_r(NULL, " \n", &save))
		fields[n++] = tok;
	if (n < 5)
		return;
	const char *mount = fields[4];
	while (tok && strcmp(tok, "-") != 0)
		tok = strtok_r(NULL, " \n", &save);
	const char *type = strtok_r(NULL, " \n", &save);
	strtok_r(NULL, " \n", &save); /* source */
	const char *super = strtok_r(NULL, " \n", &save);
	/* a mount point with an escaped blank or one too long is not one of ours */
	if (!type || !super || strchr(mount, '\\') || strlen(mount) >= CGROUP_MOUNT_MAX)
		return;
	if (strcmp(type, "cgroup2") == 0 && !sys->unified[0])
		snprintf(sys->unified, sizeof(sys->unified), "%s", mount);
	else if (strcmp(type, "cgroup") == 0)
		for_each_word(super, ",", note_v1, sys, mount);
}

int cgroup_system_parse(struct cgroup_system *sys, const char *mountinfo_path,
			struct error *err)
{
	memset(sys, 0, sizeof(*sys));
	cleanup_fclose FILE *f = fopen(mountinfo_path, "re");
	if (!f)
		return error_set(err, errno, "cgroups: read %s", mountinfo_path);
	char line[4096];
	while (fgets(line, sizeof(line), f))
		parse_mountinfo_line(sys, line);
	if (!sys->unified[0])
		return 0;

	char path[CGROUP_MOUNT_MAX + 32], controllers[512] = "";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", sys->unified);
	cleanup_fclose FILE *cf = fopen(path, "re");
	if (cf && !fgets(controllers, sizeof(controllers), cf))
		controllers[0] = '\0';
	for_each_word(controllers, " \n", note_v2, sys, NULL);
	/* a controller lives in one hierarchy only: bound to v1 means not on v2 */
	for (int c = 0; c < CGROUP_NCONTROLLERS; c++)
		if (sys->v1[c][0] || c == CGROUP_CPUACCT)
			sys->v2[c] = false;
	return 0;
}

int cgroup_system_get(const struct cgroup_system **sys, struct error *err)
{
	static struct cgroup_system detected;
	static bool done;
	if (!done) {
		int r = cgroup_system_parse(&detected, "/proc/self/mountinfo", err);
		if (r < 0)
			return r;
		done = true;
	}
	*sys = &detected;
	return 0;
}

bool cgroup_system_empty(const struct cgroup_system *sys)
{
	if (sys->unified[0])
		return false;
	for (int c = 0; c < CGROUP_NCONTROLLERS; c++)
		if (sys->v1[c][0])
			return false;
	return true;
}

/* The distinct hierarchy roots a cgroup is created in: the unified one first
 * (when mounted), then each v1 hierarchy holding a controller we use (cpu and
 * cpuacct are often one hierarchy). */
static unsigned hierarchy_roots(const struct cgroup_system *sys,
				const char *roots[CGROUP_NCONTROLLERS + 1])
{
	unsigned n = 0;
	if (sys->unified[0])
		roots[n++] = sys->unified;
	for (int c = 0; c < CGROUP_NCONTROLLERS; c++) {
		/* CPU time: the unified hierarchy's cpu.stat has it without cpuacct */
		if (!sys->v1[c][0] || (c == CGROUP_CPUACCT && sys->unified[0]))
			continue;
		bool seen = false;
		for (unsigned i = 0; i < n; i++)
			seen = seen || strcmp(roots[i], sys->v1[c]) == 0;
		if (!seen)
			roots[n++] = sys->v1[c];
	}
	return n;
}

/* Hierarchy root of a controller, or NULL when the host does not have it. */
static const char *controller_root(const struct cgroup_system *sys, enum cgroup_controller c)
{
	if (sys->v1[c][0])
		return sys->v1[c];
	return sys->v2[c] ? sys->unified : NULL;
}

static bool controller_is_v2(const struct cgroup_system *sys, enum cgroup_controller c)
{
	return !sys->v1[c][0] && sys->v2[c];
}

bool cgroup_path_valid(const char *path)
{
	if (!path || !*path || *path == '/')
		return false;
	for (const char *p = path; *p; p++) {
		bool word = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
		if (!word && !(*p == '/' && p[1] && p[1] != '/'))
			return false;
	}
	return true;
}

/* ---- small file I/O ----------------------------------------------------- */

static int write_text(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Reads a small file into buf (NUL-terminated); returns its length or -errno. */
static ssize_t read_text(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* A number or "max" from a limit/counter file. */
static int read_value(const char *dir, const char *file, uint64_t *value)
{
	char buf[64];
	ssize_t n = read_text(dir, file, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (strncmp(buf, "max", 3) == 0) {
		*value = CGROUP_UNLIMITED;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	*value = v >= V1_UNLIMITED_FLOOR ? CGROUP_UNLIMITED : v;
	return 0;
}

/* "KEY N" from a flat keyed file (memory.events, cpu.stat, memory.oom_control). */
static int read_keyed(const char *dir, const char *file, const char *key, uint64_t *value)
{
	char buf[2048];
	ssize_t n = read_text(dir, file, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	size_t klen = strlen(key);
	for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*value = strtoull(line + klen + 1, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

void cgroup_format_limit(uint64_t value, char *buf, size_t len)
{
	if (value == CGROUP_UNLIMITED)
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%llu", (unsigned long long)value);
}

uint64_t cgroup_weight_to_shares(unsigned weight)
{
	if (weight < 1)
		weight = 1;
	if (weight > 10000)
		weight = 10000;
	uint64_t shares = (uint64_t)weight * 1024 / 100;
	return shares < 2 ? 2 : shares;
}

/* ---- create / limit / attach -------------------------------------------- */

static int join_path(char *buf, size_t len, const char *root, const char *path)
{
	if (snprintf(buf, len, "%s/%s", root, path) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* "+memory +pids +cpu": the v2 controllers a parent hands to its children. */
static void v2_subtree_list(const struct cgroup_system *sys, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int c = 0; c < CGROUP_NCONTROLLERS; c++)
		if (controller_is_v2(sys, c))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s+%s", buf[0] ? " " : "",
				 controller_names[c]);
}

static int v2_delegate(const struct cgroup_system *sys, const char *dir, struct error *err)
{
	char list[64];
	v2_subtree_list(sys, list, sizeof(list));
	if (!list[0])
		return 0;
	int r = write_text(dir, "cgroup.subtree_control", list);
	if (r < 0)
		return error_set(err, -r, "cgroups: enable %s in %s/cgroup.subtree_control", list, dir);
	return 0;
}

/* mkdir PATH below ROOT, creating missing ancestors (which are parents, so on v2
 * they delegate).  *created counts the components this call made, deepest last. */
static int make_tree(const struct cgroup_system *sys, const char *root, const char *path,
		     unsigned *created, struct error *err)
{
	char dir[PATH_MAX];
	int r = join_path(dir, sizeof(dir), root, path);
	if (r < 0)
		return error_set(err, -r, "cgroups: %s/%s", root, path);
	*created = 0;
	if (mkdir(dir, 0755) == 0) {
		*created = 1;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return error_set(err, errno, "cgroups: mkdir %s", dir);
	/* rare path: the first node of the first sim, or a parent removed meanwhile */
	bool unified = strcmp(root, sys->unified) == 0;
	if (unified && (r = v2_delegate(sys, root, err)) < 0)
		return r;
	for (char *slash = dir + strlen(root) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		if (mkdir(dir, 0755) == 0)
			(*created)++;
		else if (errno != EEXIST)
			return error_set(err, errno, "cgroups: mkdir %s", dir);
		if (unified && (r = v2_delegate(sys, dir, err)) < 0)
			return r;
		*slash = '/';
	}
	if (mkdir(dir, 0755) < 0)
		return error_set(err, errno, "cgroups: mkdir %s", dir);
	(*created)++;
	return 0;
}

static int limit_write(const struct cgroup_system *sys, enum cgroup_controller c,
		       const char *path, const char *file, const char *value, bool optional,
		       struct error *err)
{
	const char *root = controller_root(sys, c);
	if (!root)
		return 0;
	char dir[PATH_MAX];
	int r = join_path(dir, sizeof(dir), root, path);
	if (r == 0)
		r = write_text(dir, file, value);
	if (r == -ENOENT && optional)
		return 0;
	if (r < 0)
		return error_set(err, -r, "cgroups: write %s to %s/%s", value, dir, file);
	return 0;
}

/* Whether the host swaps at all (checked once): without swap, the memory limit
 * alone already is memory + swap, and one write per node is saved. */
static bool host_has_swap(void)
{
	static int known = -1;
	if (known < 0) {
		char line[128];
		unsigned long long kib = 1; /* unreadable: assume swap */
		FILE *f = fopen("/proc/meminfo", "re");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "SwapTotal: %llu kB", &kib) == 1)
				break;
		if (f)
			fclose(f);
		known = kib > 0;
	}
	return known;
}

static int limits_write(const struct cgroup_system *sys, const char *path,
			const struct cgroup_limits *l, struct error *err)
{
	char value[64];
	int r = 0;
	bool mem_v2 = controller_is_v2(sys, CGROUP_MEMORY), cpu_v2 = controller_is_v2(sys, CGROUP_CPU);
	if (l->memory_max) {
		cgroup_format_limit(l->memory_max, value, sizeof(value));
		if (!mem_v2 && l->memory_max == CGROUP_UNLIMITED)
			snprintf(value, sizeof(value), "-1");
		r = limit_write(sys, CGROUP_MEMORY, path, mem_v2 ? "memory.max" : "memory.limit_in_bytes",
				value, false, err);
		/* no swap beyond the limit: v2 has its own swap limit, v1 limits
		 * memory+swap together (files exist only with swap accounting) */
		if (r == 0 && host_has_swap())
			r = limit_write(sys, CGROUP_MEMORY, path,
					mem_v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes",
					mem_v2 ? "0" : value, true, err);
	}
	if (r == 0 && l->pids_max) {
		cgroup_format_limit(l->pids_max, value, sizeof(value));
		r = limit_write(sys, CGROUP_PIDS, path, "pids.max", value, false, err);
	}
	if (r == 0 && l->cpu_weight) {
		snprintf(value, sizeof(value), "%llu",
			 cpu_v2 ? (unsigned long long)l->cpu_weight
				: (unsigned long long)cgroup_weight_to_shares(l->cpu_weight));
		r = limit_write(sys, CGROUP_CPU, path, cpu_v2 ? "cpu.weight" : "cpu.shares", value,
				false, err);
	}
	if (r == 0 && l->cpu_quota_us) {
		if (cpu_v2)
			snprintf(value, sizeof(value), "%llu %d", (unsigned long long)l->cpu_quota_us,
				 CPU_PERIOD_US);
		else
			snprintf(value, sizeof(value), "%llu", (unsigned long long)l->cpu_quota_us);
		r = limit_write(sys, CGROUP_CPU, path, cpu_v2 ? "cpu.max" : "cpu.cfs_quota_us", value,
				false, err);
	}
	return r;
}

/* Remove the deepest `count` components of PATH below ROOT (what make_tree made). */
static void unmake_tree(const char *root, const char *path, unsigned count)
{
	char dir[PATH_MAX];
	if (join_path(dir, sizeof(dir), root, path) < 0)
		return;
	for (unsigned i = 0; i < count; i++) {
		rmdir(dir);
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
}

int cgroup_create(const struct cgroup_system *sys, const char *path, bool parent,
		  const struct cgroup_limits *limits, struct error *err)
{
	if (!cgroup_path_valid(path))
		return error_setmsg(err, EINVAL, "cgroups: invalid cgroup path '%s'", path ? path : "");
	const char *roots[CGROUP_NCONTROLLERS + 1];
	unsigned created[CGROUP_NCONTROLLERS + 1] = {0};
	unsigned n = hierarchy_roots(sys, roots), done;
	int r = 0;
	for (done = 0; done < n && r == 0; done++)
		r = make_tree(sys, roots[done], path, &created[done], err);
	if (r == 0 && parent && sys->unified[0]) {
		char dir[PATH_MAX];
		join_path(dir, sizeof(dir), sys->unified, path);
		r = v2_delegate(sys, dir, err);
	}
	if (r == 0 && limits)
		r = limits_write(sys, path, limits, err);
	if (r < 0)
		for (unsigned i = 0; i < done; i++)
			unmake_tree(roots[i], path, created[i]);
	return r;
}

bool cgroup_exists(const struct cgroup_system *sys, const char *path)
{
	const char *roots[CGROUP_NCONTROLLERS + 1];
	unsigned n = hierarchy_roots(sys, roots);
	for (unsigned i = 0; i < n; i++) {
		char dir[PATH_MAX];
		struct stat st;
		if (join_path(dir, sizeof(dir), roots[i], path) == 0 && stat(dir, &st) == 0)
			return true;
	}
	return false;
}

/* Without CAP_SYS_NICE and CAP_IPC_LOCK these are what the kernel checks:
 * no realtime priority, no nice value below the starting one, and a small
 * amount of locked memory (which the memory cgroup charges anyway). */
static int limit_process_rlimits(pid_t pid, struct error *err)
{
	static const struct {
		int resource;
		rlim_t max;
		const char *name;
	} caps[] = {
		{ RLIMIT_RTPRIO, 0, "RLIMIT_RTPRIO" },
		{ RLIMIT_NICE, 0, "RLIMIT_NICE" },
		{ RLIMIT_MEMLOCK, 8 << 20, "RLIMIT_MEMLOCK" },
	};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		struct rlimit now;
		if (prlimit(pid, caps[i].resource, NULL, &now) < 0)
			return error_set(err, errno, "%s of process %d", caps[i].name, (int)pid);
		struct rlimit want = now;
		if (want.rlim_max == RLIM_INFINITY || want.rlim_max > caps[i].max)
			want.rlim_max = caps[i].max;
		if (want.rlim_cur == RLIM_INFINITY || want.rlim_cur > want.rlim_max)
			want.rlim_cur = want.rlim_max;
		if (prlimit(pid, caps[i].resource, &want, NULL) < 0)
			return error_set(err, errno, "set %s of process %d", caps[i].name, (int)pid);
	}
	return 0;
}

int cgroup_attach(const struct cgroup_system *sys, const char *path, pid_t pid,
		  struct error *err)
{
	const char *roots[CGROUP_NCONTROLLERS + 1];
	unsigned n = hierarchy_roots(sys, roots);
	char value[24];
	snprintf(value, sizeof(value), "%d", (int)pid);
	for (unsigned i = 0; i < n; i++) {
		char dir[PATH_MAX];
		int r = join_path(dir, sizeof(dir), roots[i], path);
		if (r == 0)
			r = write_text(dir, "cgroup.procs", value);
		if (r < 0)
			return error_set(err, -r, "cgroups: move process %d into %s", (int)pid, dir);
	}
	return limit_process_rlimits(pid, err);
}

/* ---- usage -------------------------------------------------------------- */

int cgroup_usage_read(const struct cgroup_system *sys, const char *path,
		      struct cgroup_usage *u, struct error *err)
{
	(void)err;
	memset(u, 0, sizeof(*u));
	char dir[PATH_MAX];
	const char *root = controller_root(sys, CGROUP_MEMORY);
	bool v2 = controller_is_v2(sys, CGROUP_MEMORY);
	if (root && join_path(dir, sizeof(dir), root, path) == 0 &&
	    read_value(dir, v2 ? "memory.current" : "memory.usage_in_bytes", &u->memory_current) == 0 &&
	    read_value(dir, v2 ? "memory.max" : "memory.limit_in_bytes", &u->memory_max) == 0) {
		u->have |= CGROUP_HAVE_MEMORY;
		/* v1: memory.oom_control has oom_kill since Linux 4.13 */
		read_keyed(dir, v2 ? "memory.events" : "memory.oom_control", "oom_kill", &u->oom_kills);
	}
	root = controller_root(sys, CGROUP_PIDS);
	if (root && join_path(dir, sizeof(dir), root, path) == 0 &&
	    read_value(dir, "pids.current", &u->pids_current) == 0 &&
	    read_value(dir, "pids.max", &u->pids_max) == 0)
		u->have |= CGROUP_HAVE_PIDS;
	uint64_t value;
	if (sys->unified[0]) {
		if (join_path(dir, sizeof(dir), sys->unified, path) == 0 &&
		    read_keyed(dir, "cpu.stat", "usage_usec", &value) == 0) {
			u->cpu_usec = value;
			u->have |= CGROUP_HAVE_CPU;
		}
	} else if (sys->v1[CGROUP_CPUACCT][0] &&
		   join_path(dir, sizeof(dir), sys->v1[CGROUP_CPUACCT], path) == 0 &&
		   read_value(dir, "cpuacct.usage", &value) == 0) {
		u->cpu_usec = value / 1000; /* nanoseconds */
		u->have |= CGROUP_HAVE_CPU;
	}
	return 0;
}

/* ---- kill and remove ---------------------------------------------------- */

/* Calls fn(dir) for DIR and every cgroup below it, children first.  Returns the
 * sum of fn's non-negative results, or the first negative one. */
static int walk_post_order(char *dir, size_t cap, int (*fn)(const char *))
{
	int total = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t len = strlen(dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (len + 1 + strlen(de->d_name) + 1 > cap)
			continue;
		snprintf(dir + len, cap - len, "/%s", de->d_name);
		int r = walk_post_order(dir, cap, fn);
		dir[len] = '\0';
		if (r < 0) {
			closedir(d);
			return r;
		}
		total += r;
	}
	closedir(d);
	int r = fn(dir);
	return r < 0 ? r : total + r;
}

/* SIGKILL to each process listed; returns how many were listed. */
static int kill_listed(const char *dir)
{
	char buf[8192];
	ssize_t n = read_text(dir, "cgroup.procs", buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? 0 : (int)n;
	int count = 0;
	for (char *p = buf; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0) {
			kill((pid_t)pid, SIGKILL);
			count++;
		}
		p = end + strspn(end, "\n");
	}
	return count;
}

/* rmdir DIR, and when it still has child cgroups (EBUSY), those first: a leaf
 * (every node) costs one rmdir and no directory listing. */
static int remove_tree(char *dir, size_t cap)
{
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY) /* cgroupfs says EBUSY, a plain dir ENOTEMPTY */
		return -errno;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t len = strlen(dir);
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) && r == 0) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (len + 1 + strlen(de->d_name) + 1 > cap)
			continue;
		snprintf(dir + len, cap - len, "/%s", de->d_name);
		r = remove_tree(dir, cap);
		dir[len] = '\0';
	}
	closedir(d);
	if (r < 0)
		return r;
	return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

/* v2 "populated" covers a whole subtree. */
static bool v2_populated(const char *dir)
{
	uint64_t value = 1;
	return read_keyed(dir, "cgroup.events", "populated", &value) != 0 || value != 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Kill until no hierarchy lists a process under PATH.  On v2 one write to
 * cgroup.kill reaches the whole subtree (and processes forking meanwhile); the
 * listing loop covers v1 and kernels before 5.14. */
static int kill_all(const char *const *roots, unsigned n, const struct cgroup_system *sys,
		    const char *path)
{
	char dir[PATH_MAX];
	/* every process of ours is in the unified hierarchy too (cgroup_attach):
	 * when it says the subtree is empty, so are the v1 ones */
	bool unified = sys->unified[0] && join_path(dir, sizeof(dir), sys->unified, path) == 0;
	if (unified && write_text(dir, "cgroup.kill", "1") == -ENOENT && access(dir, F_OK) < 0)
		return 0; /* no such cgroup */
	for (unsigned waited = 0;; waited += 10) {
		if (unified && join_path(dir, sizeof(dir), sys->unified, path) == 0 &&
		    !v2_populated(dir))
			return 0;
		int listed = 0;
		for (unsigned i = 0; i < n; i++) {
			if (join_path(dir, sizeof(dir), roots[i], path) < 0)
				continue;
			int r = walk_post_order(dir, sizeof(dir), kill_listed);
			if (r > 0)
				listed += r;
		}
		if (listed == 0)
			return 0;
		if (waited >= KILL_WAIT_MS)
			return -EBUSY;
		sleep_ms(10);
	}
}

int cgroup_remove(const struct cgroup_system *sys, const char *path, bool prune_parents,
		  struct error *err)
{
	if (!cgroup_path_valid(path))
		return error_setmsg(err, EINVAL, "cgroups: invalid cgroup path '%s'", path ? path : "");
	const char *roots[CGROUP_NCONTROLLERS + 1];
	unsigned n = hierarchy_roots(sys, roots);
	int r = kill_all(roots, n, sys, path);
	if (r < 0)
		return error_set(err, -r, "cgroups: processes of %s do not go away", path);
	char dir[PATH_MAX];
	for (unsigned i = 0; i < n; i++) {
		if (join_path(dir, sizeof(dir), roots[i], path) < 0)
			continue;
		/* an exiting process can keep its cgroup busy for a moment */
		for (unsigned waited = 0;; waited += 10) {
			r = remove_tree(dir, sizeof(dir));
			if (r != -EBUSY || waited >= RMDIR_WAIT_MS)
				break;
			sleep_ms(10);
		}
		if (r < 0)
			return error_set(err, -r, "cgroups: remove %s", dir);
		if (!prune_parents)
			continue;
		/* parents other sims still use stay (ENOTEMPTY/EBUSY) */
		for (char *slash = strrchr(dir, '/'); slash && slash > dir + strlen(roots[i]);
		     slash = strrchr(dir, '/')) {
			*slash = '\0';
			if (rmdir(dir) < 0)
				break;
		}
	}
	return 0;
}
