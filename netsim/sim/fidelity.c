/* The fidelity watchdog (fidelity.h). */
#include "sim/fidelity.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "sim/json_out.h"
#include "sim/neigh_limits.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "util.h"

const struct fidelity_thresholds fidelity_default_thresholds = {
	.cpu_pressure_pct = 40.0,
	.drops = 0,
	.neigh_fulls = 0,
	.late_s = 0.050,
};

/* At most this many processes are sampled (the first found); a sim with more
 * is judged by those. */
#define FIDELITY_MAX_PROCS 20000
/* Depth of cgroups walked below the sim's: node, and what a node makes. */
#define FIDELITY_MAX_DEPTH 4

int fidelity_parse_psi(const char *text, double *avg10)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "some ", 5) != 0)
			continue;
		const char *a = strstr(p, "avg10=");
		const char *eol = strchr(p, '\n');
		if (!a || (eol && a > eol))
			return -EINVAL;
		char *end;
		errno = 0;
		double v = strtod(a + 6, &end);
		if (errno || end == a + 6 || v < 0 || v > 100)
			return -EINVAL;
		*avg10 = v;
		return 0;
	}
	return -EINVAL;
}

int fidelity_parse_softnet(const char *text, uint64_t *dropped)
{
	uint64_t sum = 0;
	unsigned lines = 0;
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		char *end;
		/* column 1: processed, column 2: dropped (hex) */
		errno = 0;
		strtoull(p, &end, 16);
		if (errno || end == p || *end != ' ')
			return -EINVAL;
		const char *q = end;
		errno = 0;
		unsigned long long d = strtoull(q, &end, 16);
		if (errno || end == q)
			return -EINVAL;
		sum += d;
		lines++;
		p = eol ? eol + 1 : NULL;
	}
	if (!lines)
		return -EINVAL;
	*dropped = sum;
	return 0;
}

int fidelity_parse_schedstat(const char *text, uint64_t *run_delay_ns, uint64_t *pcount)
{
	unsigned long long run, delay, count;
	int used = 0;
	if (sscanf(text, "%llu %llu %llu%n", &run, &delay, &count, &used) != 3)
		return -EINVAL;
	for (const char *p = text + used; *p; p++)
		if (*p != '\n' && *p != ' ')
			return -EINVAL;
	*run_delay_ns = delay;
	*pcount = count;
	return 0;
}

static void append(char *buf, size_t len, const char *fmt, double v)
{
	size_t used = strlen(buf);
	if (used >= len)
		return;
	snprintf(buf + used, len - used, used ? ", " : "%s", "");
	used = strlen(buf);
	if (used < len)
		snprintf(buf + used, len - used, fmt, v);
}

void fidelity_evaluate(struct fidelity *f, const struct fidelity_thresholds *th)
{
	f->reasons[0] = '\0';
	if (f->have_psi && f->cpu_pressure >= th->cpu_pressure_pct)
		append(f->reasons, sizeof(f->reasons), "CPU pressure %.0f%%", f->cpu_pressure);
	if (f->have_drops && f->drops > th->drops)
		append(f->reasons, sizeof(f->reasons),
		       f->drops == 1 ? "%.0f drop" : "%.0f drops", (double)f->drops);
	if (f->neigh_fulls > th->neigh_fulls)
		append(f->reasons, sizeof(f->reasons), "neighbour table full %.0f times",
		       (double)f->neigh_fulls);
	if (f->have_late && f->late_s >= th->late_s)
		append(f->reasons, sizeof(f->reasons),
		       f->late_s >= 1 ? "timers %.1f s late" : "timers %.0f ms late",
		       f->late_s >= 1 ? f->late_s : f->late_s * 1000);
	f->degraded = f->reasons[0] != '\0';
}

void fidelity_line(const struct fidelity *f, char *buf, size_t len)
{
	if (f->degraded)
		snprintf(buf, len, "degraded: %s", f->reasons);
	else
		snprintf(buf, len, "ok");
}

struct json_object *fidelity_json(const struct fidelity *f)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(f->degraded ? "degraded" : "ok"));
	json_object_object_add(o, "reasons", json_object_new_string(f->reasons));
	json_object_object_add(o, "cpu_pressure",
			       f->have_psi ? json_out_double("%.2f", f->cpu_pressure) : NULL);
	json_object_object_add(o, "cpu_pressure_of",
			       f->have_psi ? json_object_new_string(f->psi_of_sim ? "sim" : "host")
					   : NULL);
	json_object_object_add(o, "drops",
			       f->have_drops ? json_object_new_uint64(f->drops) : NULL);
	json_object_object_add(o, "neigh_overflows", json_object_new_uint64(f->neigh_fulls));
	json_object_object_add(o, "timer_late_s",
			       f->have_late ? json_out_double("%.6f", f->late_s) : NULL);
	json_object_object_add(o, "timer_late_max_s",
			       f->have_late ? json_out_double("%.6f", f->late_max_s) : NULL);
	json_object_object_add(o, "procs", json_object_new_int64(f->procs));
	json_object_object_add(o, "window_ms", json_object_new_int64(f->window_ms));
	return o;
}

/* ---- the sampler ---- */

static const char *proc_dir(void)
{
	const char *d = getenv("NETSIM_PROC_DIR");
	return d && *d ? d : "/proc";
}

/* A small text file (PSI, schedstat, softnet: well under 64 KiB) into buf. */
static int read_text(const char *path, char *buf, size_t len)
{
	char *text = NULL;
	size_t n = 0;
	int r = read_file_all(path, len - 1, &text, &n);
	if (r < 0)
		return r;
	memcpy(buf, text, n + 1);
	free(text);
	return 0;
}

struct procs {
	pid_t *pid;
	unsigned n, cap;
};

static int procs_add(struct procs *p, pid_t pid)
{
	if (pid <= 0 || p->n >= FIDELITY_MAX_PROCS)
		return 0;
	if (p->n == p->cap) {
		unsigned cap = p->cap ? p->cap * 2 : 64;
		pid_t *np = realloc(p->pid, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		p->pid = np;
		p->cap = cap;
	}
	p->pid[p->n++] = pid;
	return 0;
}

/* Every process in the cgroup dir and below it. */
static int procs_of_cgroup(int dirfd, unsigned depth, struct procs *p)
{
	cleanup_close int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		FILE *f = fdopen(fd, "r");
		if (f) {
			fd = -1;
			long pid;
			while (fscanf(f, "%ld", &pid) == 1)
				if (procs_add(p, (pid_t)pid) < 0) {
					fclose(f);
					return -ENOMEM;
				}
			fclose(f);
		}
	}
	if (depth >= FIDELITY_MAX_DEPTH)
		return 0;
	int dup_fd = dup(dirfd);
	if (dup_fd < 0)
		return -errno;
	DIR *d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return -errno;
	}
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub < 0)
			continue;
		r = procs_of_cgroup(sub, depth + 1, p);
		close(sub);
	}
	closedir(d);
	return r;
}

/* Without a unified cgroup: the nodes' PID 1s from the state dir. */
static int procs_of_nodes(const char *sim, struct procs *p)
{
	char **names = NULL;
	unsigned count = 0;
	struct error ignored = {0};
	if (sim_node_dirs(sim, &names, &count, &ignored) < 0)
		return 0;
	int r = 0;
	for (unsigned i = 0; i < count && r == 0; i++)
		r = procs_add(p, state_pidfile_read(sim, names[i]));
	sim_names_free(names, count);
	return r;
}

struct sched_sum {
	uint64_t delay, count;
};

static bool sched_of(pid_t pid, struct sched_sum *s)
{
	char path[96], text[128];
	snprintf(path, sizeof(path), "%s/%ld/schedstat", proc_dir(), (long)pid);
	if (read_text(path, text, sizeof(text)) < 0)
		return false;
	return fidelity_parse_schedstat(text, &s->delay, &s->count) == 0;
}

static bool softnet_dropped(uint64_t *dropped)
{
	char path[96];
	static char text[64 * 1024];
	snprintf(path, sizeof(path), "%s/net/softnet_stat", proc_dir());
	return read_text(path, text, sizeof(text)) == 0 &&
	       fidelity_parse_softnet(text, dropped) == 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int fidelity_sample(const char *sim, unsigned window_ms, struct fidelity *f,
		    struct error *err)
{
	memset(f, 0, sizeof(*f));
	f->window_ms = window_ms;

	/* the sim's cgroup on the unified hierarchy, if it has one */
	cleanup_close int cg = -1;
	const struct cgroup_system *sys;
	struct error ignored = {0};
	if (cgroup_system_get(&sys, &ignored) == 0 && sys->unified[0]) {
		char rel[256], path[4096 + 256];
		if (state_cgroup_path(rel, sizeof(rel), sim, NULL) == 0) {
			snprintf(path, sizeof(path), "%s/%s", sys->unified, rel);
			cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
	}

	char text[512];
	if (cg >= 0) {
		cleanup_close int fd = openat(cg, "cpu.pressure", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
		if (n > 0) {
			text[n] = '\0';
			f->have_psi = fidelity_parse_psi(text, &f->cpu_pressure) == 0;
			f->psi_of_sim = f->have_psi;
		}
	}
	if (!f->have_psi) {
		char path[96];
		snprintf(path, sizeof(path), "%s/pressure/cpu", proc_dir());
		f->have_psi = read_text(path, text, sizeof(text)) == 0 &&
			      fidelity_parse_psi(text, &f->cpu_pressure) == 0;
	}

	struct neigh_table_status nt[NEIGH_FAMILIES];
	if (neigh_limits_status(sim, nt, &ignored) == 0)
		for (int i = 0; i < NEIGH_FAMILIES; i++)
			f->neigh_fulls += nt[i].fulls_since_up;

	if (window_ms) {
		struct procs p = {0};
		int r = cg >= 0 ? procs_of_cgroup(cg, 0, &p) : procs_of_nodes(sim, &p);
		struct sched_sum *before = calloc(p.n ? p.n : 1, sizeof(*before));
		bool *seen = calloc(p.n ? p.n : 1, sizeof(*seen));
		if (r < 0 || !before || !seen) {
			free(p.pid);
			free(before);
			free(seen);
			return error_set(err, r < 0 ? r : -ENOMEM, "fidelity: sampling %s", sim);
		}
		uint64_t drops0 = 0, drops1 = 0;
		bool d0 = softnet_dropped(&drops0);
		for (unsigned i = 0; i < p.n; i++)
			seen[i] = sched_of(p.pid[i], &before[i]);
		sleep_ms(window_ms);
		f->have_drops = d0 && softnet_dropped(&drops1);
		if (f->have_drops)
			f->drops = drops1 >= drops0 ? drops1 - drops0 : 0;

		uint64_t delay = 0, count = 0;
		for (unsigned i = 0; i < p.n; i++) {
			struct sched_sum now;
			if (!seen[i] || !sched_of(p.pid[i], &now) || now.count < before[i].count ||
			    now.delay < before[i].delay)
				continue; /* gone (or the pid was reused) */
			uint64_t dd = now.delay - before[i].delay, dc = now.count - before[i].count;
			f->procs++;
			delay += dd;
			count += dc;
			if (dc) {
				double mean = (double)dd / (double)dc / 1e9;
				if (mean > f->late_max_s)
					f->late_max_s = mean;
			}
		}
		if (f->procs) {
			f->have_late = true;
			f->late_s = count ? (double)delay / (double)count / 1e9 : 0;
		}
		free(p.pid);
		free(before);
		free(seen);
	}
	fidelity_evaluate(f, &fidelity_default_thresholds);
	return 0;
}
