/* The host's neighbour-table limits (netsim/sim/neigh_limits.h) on plain files:
 * a fake /proc/sys and /proc/net/stat and run dir under a temporary directory,
 * so raising, summing over sims, restoring after a crash, leaving an
 * operator's value alone and refusing are all tested without touching the
 * host. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/neigh_limits.h"
#include "sim/proc.h"
#include "tap.h"
#include "topo/topo.h"

static char root[] = "/tmp/netsim-neigh-XXXXXX";
static char run_dir[256], sysctl_dir[256], stat_dir[256];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static unsigned long get(const char *family, const char *leaf)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/net/%s/neigh/default/%s", sysctl_dir, family, leaf);
	unsigned long v = 0;
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void set_stats(const char *file, unsigned long fulls)
{
	char path[512], text[512];
	snprintf(path, sizeof(path), "%s/%s", stat_dir, file);
	snprintf(text, sizeof(text),
		 "entries  allocs   destroys hash_grows lookups  hits     res_failed "
		 "rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs "
		 "unresolved_discards table_fulls\n"
		 "00000010 0 0 0 0 0 0 0 0 0 0 0 %08lx\n"
		 "00000010 0 0 0 0 0 0 0 0 0 0 0 00000001\n",
		 fulls);
	put(path, text);
}

static void setup(void)
{
	if (!mkdtemp(root))
		exit(1);
	snprintf(run_dir, sizeof(run_dir), "%s/run", root);
	snprintf(sysctl_dir, sizeof(sysctl_dir), "%s/sys", root);
	snprintf(stat_dir, sizeof(stat_dir), "%s/stat", root);
	mkdir(run_dir, 0755);
	mkdir(stat_dir, 0755);
	char path[512];
	const char *fam[] = {"ipv4", "ipv6"};
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/net/%s/neigh/default", sysctl_dir, fam[i]);
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
		if (system(cmd) != 0)
			exit(1);
		const char *leaf[] = {"gc_thresh1", "gc_thresh2", "gc_thresh3"};
		const char *val[] = {"128\n", "512\n", "1024\n"};
		for (int k = 0; k < 3; k++) {
			char p[600];
			snprintf(p, sizeof(p), "%s/%s", path, leaf[k]);
			put(p, val[k]);
		}
	}
	set_stats("arp_cache", 0);
	set_stats("ndisc_cache", 2);
	setenv("NETSIM_RUN_DIR", run_dir, 1);
	setenv("NETSIM_SYSCTL_DIR", sysctl_dir, 1);
	setenv("NETSIM_PROC_NET_STAT", stat_dir, 1);
}

static void sim_dir(const char *sim, bool create)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", run_dir, sim);
	if (create) {
		mkdir(path, 0755);
		return;
	}
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
	if (system(cmd) != 0)
		exit(1);
}

static bool record_exists(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/neigh-limits.saved", run_dir);
	return access(path, F_OK) == 0;
}

static int claim(const char *sim, unsigned long v4, unsigned long v6, struct error *err)
{
	struct neigh_need need = {{v4, v6}};
	sim_dir(sim, true);
	return neigh_limits_claim(sim, &need, NULL, err);
}

static void test_need_of_topo(void)
{
	struct topo t;
	struct error err = {0};
	const char *text = "node a\nnode b\nnode c\nnode q backend=qemu\n"
			   "link a b\nlink a q\nsegment s0 a b c\n";
	int r = topo_parse_string("t.conf", text, &t, &err);
	ok(r == 0, "topology parses (%s)", err.msg);
	if (r < 0)
		return;
	struct neigh_need need;
	neigh_need_of_topo(&t, &need);
	/* link a-b: two ends of one peer; a-q: only a's end (q's stack is in its
	 * VM); s0: three members of two peers each */
	is_int(need.entries[NEIGH_IPV6], 3 * (2 + 2) + 3 * (2 + 2 * 2),
	       "IPv6: per interface 2 groups + 2 per peer");
	is_int(need.entries[NEIGH_IPV4], 3 * (1 + 1) + 3 * (1 + 2),
	       "IPv4: per interface 1 + 1 per peer");
	topo_free(&t);
}

static void test_small_sim_changes_nothing(void)
{
	struct error err = {0};
	is_int(claim("small", 100, 256, &err), 0, "small sim: claim");
	is_int(get("ipv6", "gc_thresh3"), 1024, "a need within half of gc_thresh2: no change");
	ok(!record_exists(), "...and no record");
	sim_dir("small", false);
	is_int(neigh_limits_release(&err), 0, "release");
}

static void test_raise_sum_restore(void)
{
	struct error err = {0};
	is_int(claim("big", 2000, 4000, &err), 0, "big sim: claim");
	is_int(get("ipv6", "gc_thresh2"), 512 + 4000, "IPv6 gc_thresh2 = host's + need");
	is_int(get("ipv6", "gc_thresh3"), 1024 + 8000, "IPv6 gc_thresh3 = host's + 2 needs");
	is_int(get("ipv4", "gc_thresh3"), 1024 + 4000, "IPv4 raised for its own need");
	is_int(get("ipv6", "gc_thresh1"), 128, "gc_thresh1 untouched");
	ok(record_exists(), "originals recorded");

	is_int(claim("big2", 0, 2000, &err), 0, "second sim: claim");
	is_int(get("ipv6", "gc_thresh3"), 1024 + 2 * 6000, "the limits hold both sims");
	is_int(get("ipv4", "gc_thresh3"), 1024 + 4000, "IPv4 unchanged by a sim that adds none");

	/* the sim that raised them crashed; its `down` removed its dir */
	sim_dir("big", false);
	is_int(neigh_limits_release(&err), 0, "release after the first sim went");
	is_int(get("ipv6", "gc_thresh3"), 1024 + 2 * 2000, "lowered to the second sim's need");
	is_int(get("ipv4", "gc_thresh3"), 1024, "IPv4 back to the host's value");

	sim_dir("big2", false);
	is_int(neigh_limits_release(&err), 0, "release after the last sim went");
	is_int(get("ipv6", "gc_thresh2"), 512, "IPv6 gc_thresh2 restored");
	is_int(get("ipv6", "gc_thresh3"), 1024, "IPv6 gc_thresh3 restored");
	ok(!record_exists(), "record removed");
	is_int(neigh_limits_release(&err), 0, "release with no sims: nothing to do");
	is_int(get("ipv6", "gc_thresh3"), 1024, "still the host's value");
}

static void test_operator_value_kept(void)
{
	struct error err = {0};
	claim("op", 0, 4000, &err);
	char path[512];
	snprintf(path, sizeof(path), "%s/net/ipv6/neigh/default/gc_thresh3", sysctl_dir);
	put(path, "50000\n");
	sim_dir("op", false);
	is_int(neigh_limits_release(&err), 0, "release after an operator set gc_thresh3");
	is_int(get("ipv6", "gc_thresh3"), 50000, "the operator's value stays");
	ok(!record_exists(), "and netsim forgets its record");
	put(path, "1024\n");
	snprintf(path, sizeof(path), "%s/net/ipv6/neigh/default/gc_thresh2", sysctl_dir);
	put(path, "512\n");
}

static void test_status_overflow(void)
{
	struct error err = {0};
	claim("st", 0, 4000, &err);
	set_stats("ndisc_cache", 9); /* 9 + 1 now, 2 + 1 at up */
	struct neigh_table_status nt[NEIGH_FAMILIES];
	is_int(neigh_limits_status("st", nt, &err), 0, "status");
	ok(nt[NEIGH_IPV6].present, "IPv6 table present");
	is_int(nt[NEIGH_IPV6].entries, 16, "entries from the stat file");
	is_int(nt[NEIGH_IPV6].fulls_since_up, 7, "table_fulls since up, summed over CPUs");
	is_int(nt[NEIGH_IPV6].orig3, 1024, "shows what it was raised from");
	is_int(nt[NEIGH_IPV6].need, 4000, "the sim's need");
	is_int(nt[NEIGH_IPV4].fulls_since_up, 0, "IPv4: no overflow");
	sim_dir("st", false);
	neigh_limits_release(&err);
	set_stats("ndisc_cache", 2);
}

static void test_refuses_when_unwritable(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/net/ipv6/neigh/default/gc_thresh3", sysctl_dir);
	unlink(path);
	/* reads as a number (0), cannot be written, even by root */
	if (symlink("/proc/loadavg", path) < 0) {
		ok(0, "symlink");
		return;
	}
	struct error err = {0};
	int r = claim("ro", 0, 4000, &err);
	ok(r < 0, "a limit that must grow but cannot: up refuses");
	/* 8000 + the load average's integer part */
	ok(strstr(err.msg, "`sysctl -w net.ipv6.neigh.default.gc_thresh3=") &&
		   strstr(err.msg, " net.ipv6.neigh.default.gc_thresh2=4512`"),
	   "the message has the exact sysctl: %s", err.msg);
	char need[512];
	snprintf(need, sizeof(need), "%s/ro/neigh", run_dir);
	ok(access(need, F_OK) < 0, "a refused sim leaves no need behind");
	sim_dir("ro", false);
	unlink(path);
	put(path, "1024\n");
	neigh_limits_release(&err);
}

/* From inside a container's network namespace the gc_thresh files do not
 * exist: no error, no change (a warning on stderr). */
static void test_limits_not_visible(void)
{
	char path[512], saved[512];
	snprintf(path, sizeof(path), "%s/net/ipv6/neigh/default", sysctl_dir);
	snprintf(saved, sizeof(saved), "%s/saved-default", root);
	rename(path, saved);
	char conf[512];
	snprintf(conf, sizeof(conf), "%s/net/ipv6/conf", sysctl_dir);
	mkdir(conf, 0755);
	struct error err = {0};
	is_int(claim("hidden", 0, 4000, &err), 0, "limits not visible: up goes on");
	ok(!record_exists(), "...records nothing");
	sim_dir("hidden", false);
	is_int(neigh_limits_release(&err), 0, "...and down too");
	rename(saved, path);
	rmdir(conf);
}

static void set_limit(const char *family, const char *leaf, unsigned long v)
{
	char path[512], text[32];
	snprintf(path, sizeof(path), "%s/net/%s/neigh/default/%s", sysctl_dir, family, leaf);
	snprintf(text, sizeof(text), "%lu\n", v);
	unlink(path);
	put(path, text);
}

static bool at_host_values(void)
{
	return get("ipv4", "gc_thresh2") == 512 && get("ipv4", "gc_thresh3") == 1024 &&
	       get("ipv6", "gc_thresh2") == 512 && get("ipv6", "gc_thresh3") == 1024;
}

/* The record's host values for a family, 0 0 when it has none. */
static void record_orig(const char *family, unsigned long *o2, unsigned long *o3)
{
	char path[512], line[256], key[16];
	snprintf(path, sizeof(path), "%s/neigh-limits.saved", run_dir);
	*o2 = *o3 = 0;
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		if (sscanf(line, "%15s %lu %lu", key, &a, &b) == 3 && strcmp(key, family) == 0) {
			*o2 = a;
			*o3 = b;
		}
	}
	if (f)
		fclose(f);
}

/* Raised values always come with a record of the host's: per family, either
 * the host's values or a record of them. */
static bool never_lost(void)
{
	const char *fam[] = {"ipv4", "ipv6"};
	for (int i = 0; i < 2; i++) {
		unsigned long o2, o3;
		record_orig(fam[i], &o2, &o3);
		bool host = get(fam[i], "gc_thresh2") == 512 && get(fam[i], "gc_thresh3") == 1024;
		if (!host && (o2 != 512 || o3 != 1024))
			return false;
	}
	return true;
}

static int steps_left;
static void die_at_step(void)
{
	if (--steps_left == 0)
		raise(SIGKILL); /* as a tracer's SIGKILL: no cleanup of any kind */
}

/* Fork; the child runs claim (or release) and is killed at its `k`th write.
 * Returns whether the child got that far (false: it finished first). */
static bool killed_at(int k, bool do_claim, const char *sim, unsigned long v4, unsigned long v6)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		steps_left = k;
		neigh_limits_step_hook = die_at_step;
		struct error err;
		struct neigh_need need = {{v4, v6}};
		if (do_claim)
			neigh_limits_claim(sim, &need, NULL, &err);
		else
			neigh_limits_release(&err);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* An `up` killed at every point of its claim: the record never misses
 * while a value is raised, and the next release (the sim's directory still
 * there, its `up` dead, no node) puts the host's values back. */
static void test_killed_claim(void)
{
	int k, bad_invariant = 0, bad_restore = 0, bad_record = 0;
	struct error err = {0};
	for (k = 1; k < 40; k++) {
		sim_dir("crash", true);
		if (!killed_at(k, true, "crash", 2000, 4000))
			break;
		if (!never_lost())
			bad_invariant++;
		if (neigh_limits_release(&err) < 0 || !at_host_values())
			bad_restore++;
		if (record_exists())
			bad_record++;
		sim_dir("crash", false);
	}
	sim_dir("crash", false);
	ok(k > 5, "claim killed at each of its %d writes", k - 1);
	is_int(bad_invariant, 0, "...raised values always had a record of the host's");
	is_int(bad_restore, 0, "...the next release (a dead up's need ignored) restored 512/1024");
	is_int(bad_record, 0, "...and removed the record");
	/* the same claim, not killed, holds */
	is_int(neigh_limits_release(&err), 0, "release");
}

/* `down` killed at every point of its release while the limits were raised
 * for two sims: nothing lost, and the next release finishes the job. */
static void test_killed_release(void)
{
	int k, bad_invariant = 0, bad_restore = 0;
	struct error err = {0};
	for (k = 1; k < 40; k++) {
		claim("ka", 1000, 2000, &err);
		claim("kb", 1000, 2000, &err);
		sim_dir("ka", false);
		sim_dir("kb", false);
		bool killed = killed_at(k, false, NULL, 0, 0);
		if (!never_lost())
			bad_invariant++;
		if (neigh_limits_release(&err) < 0 || !at_host_values() || record_exists())
			bad_restore++;
		if (!killed)
			break;
	}
	ok(k > 3, "release killed at each of its %d writes", k - 1);
	is_int(bad_invariant, 0, "...raised values always had a record of the host's");
	is_int(bad_restore, 0, "...and the next release restored them");
}

/* Which sims still hold the limits up: one that is up (a state file), one
 * whose `up` runs, one with a live node; not an `up` that died before its
 * first node. */
static void test_which_needs_count(void)
{
	struct error err = {0};
	char path[512], text[128];
	/* a dead up: its need file names a process that is gone */
	sim_dir("dead", true);
	snprintf(path, sizeof(path), "%s/dead/neigh", run_dir);
	put(path, "ipv4 0 0\nipv6 4000 0\nup 999999999 1\n");
	is_int(claim("live", 0, 2000, &err), 0, "claim next to a dead up's directory");
	is_int(get("ipv6", "gc_thresh3"), 1024 + 2 * 2000, "the dead up's need is not counted");
	/* the same, but the sim is up (state file): it counts */
	snprintf(path, sizeof(path), "%s/dead/state", run_dir);
	put(path, "netsim-state 1\n");
	is_int(claim("live", 0, 2000, &err), 0, "claim again");
	is_int(get("ipv6", "gc_thresh3"), 1024 + 2 * 6000, "a sim with a state file counts");
	unlink(path);
	/* ...or a node of it runs (this process stands in for one) */
	snprintf(path, sizeof(path), "%s/dead/nodes", run_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dead/nodes/n1", run_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dead/nodes/n1/pid", run_dir);
	struct error perr;
	proc_pid_write(path, getpid(), &perr);
	is_int(claim("live", 0, 2000, &err), 0, "claim again");
	is_int(get("ipv6", "gc_thresh3"), 1024 + 2 * 6000, "a sim with a live node counts");
	/* a need file of an older netsim (no up line) counts as before */
	sim_dir("dead", false);
	sim_dir("old", true);
	snprintf(path, sizeof(path), "%s/old/neigh", run_dir);
	snprintf(text, sizeof(text), "ipv4 0 0\nipv6 1000 0\n");
	put(path, text);
	is_int(claim("live", 0, 2000, &err), 0, "claim next to an older netsim's sim");
	is_int(get("ipv6", "gc_thresh3"), 1024 + 2 * 3000, "its need counts");
	sim_dir("old", false);
	sim_dir("live", false);
	is_int(neigh_limits_release(&err), 0, "release");
	ok(at_host_values() && !record_exists(), "host's values back, no record");
}

/* A record that does not parse may be the only copy of the host's values:
 * no release removes or overwrites it; an older netsim's 5-number record
 * is read. */
static void test_record_formats(void)
{
	struct error err = {0};
	char path[512];
	snprintf(path, sizeof(path), "%s/neigh-limits.saved", run_dir);
	set_limit("ipv6", "gc_thresh3", 9024);
	set_limit("ipv6", "gc_thresh2", 4512);
	put(path, "ipv6 512 1024 45");
	ok(neigh_limits_release(&err) < 0, "a garbled record: release refuses");
	ok(strstr(err.msg, "neigh-limits.saved") && strstr(err.msg, "by hand"),
	   "...saying which file and what to do: %s", err.msg);
	ok(record_exists() && get("ipv6", "gc_thresh3") == 9024, "...and leaves file and values");
	struct neigh_need need = {{0, 4000}};
	sim_dir("gar", true);
	ok(neigh_limits_claim("gar", &need, NULL, &err) < 0, "...so does a claim");
	sim_dir("gar", false);
	put(path, "# an older netsim's\nipv6 512 1024 4512 9024\n");
	is_int(neigh_limits_release(&err), 0, "a 5-number record: release (%s)", err.msg);
	ok(at_host_values() && !record_exists(), "...restores the host's values from it");
}

/* The run dir removed and made anew while a release waits for its lock:
 * it must then lock the new one, not go on under the old directory's lock
 * while someone holds the new one's. */
static void test_lock_follows_run_dir(void)
{
	char old[600];
	snprintf(old, sizeof(old), "%s.old", run_dir);
	int fd = open(run_dir, O_RDONLY | O_DIRECTORY);
	flock(fd, LOCK_EX);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fd); /* (the lock is the open file's: ours would be the parent's) */
		struct error err;
		_exit(neigh_limits_release(&err) < 0 ? 1 : 0);
	}
	struct timespec pause = {0, 100 * 1000 * 1000};
	nanosleep(&pause, NULL); /* the child waits in flock */
	rename(run_dir, old);
	mkdir(run_dir, 0755);
	int fd2 = open(run_dir, O_RDONLY | O_DIRECTORY);
	flock(fd2, LOCK_EX);
	close(fd); /* the old directory's lock: the child wakes on it */
	nanosleep(&pause, NULL);
	int status;
	ok(waitpid(pid, &status, WNOHANG) == 0,
	   "a release that locked a removed run dir waits for the new one's lock");
	close(fd2);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "...and then goes on");
	rmdir(old);
}

/* Several sims' claims and releases at once: the limits hold all, and the
 * last one out restores. */
static void test_concurrent(void)
{
	enum { N = 4 };
	char name[16], path[512];
	pid_t pids[N];
	fflush(NULL);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		sim_dir(name, true);
		snprintf(path, sizeof(path), "%s/%s/state", run_dir, name);
		put(path, "netsim-state 1\n"); /* up: its need counts after the child */
		if ((pids[i] = fork()) == 0) {
			struct error err;
			struct neigh_need need = {{500, 1000}};
			_exit(neigh_limits_claim(name, &need, NULL, &err) < 0);
		}
	}
	int failed = 0, status;
	for (int i = 0; i < N; i++)
		failed += waitpid(pids[i], &status, 0) != pids[i] || status != 0;
	is_int(failed, 0, "%d claims at once", N);
	is_int(get("ipv6", "gc_thresh3"), 1024 + 2 * N * 1000, "the limits hold all of them");
	is_int(get("ipv4", "gc_thresh2"), 512 + N * 500, "IPv4 too");
	for (int i = 0; i < N; i++) {
		if ((pids[i] = fork()) == 0) {
			snprintf(name, sizeof(name), "c%d", i);
			sim_dir(name, false);
			struct error err;
			_exit(neigh_limits_release(&err) < 0);
		}
	}
	failed = 0;
	for (int i = 0; i < N; i++)
		failed += waitpid(pids[i], &status, 0) != pids[i] || status != 0;
	is_int(failed, 0, "%d releases at once", N);
	ok(at_host_values() && !record_exists(), "the host's values are back, no record");
}

int main(void)
{
	setup();
	test_need_of_topo();
	test_small_sim_changes_nothing();
	test_raise_sum_restore();
	test_operator_value_kept();
	test_status_overflow();
	test_refuses_when_unwritable();
	test_limits_not_visible();
	test_killed_claim();
	test_killed_release();
	test_which_needs_count();
	test_record_formats();
	test_lock_follows_run_dir();
	test_concurrent();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		ok(0, "clean up %s", root);
	return tap_done();
}
