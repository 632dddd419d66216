/* The host's neighbour-table limits (netsim/sim/neigh_limits.h) on plain files:
 * a fake /proc/sys and /proc/net/stat and run dir under a temporary directory,
 * so raising, summing over sims, restoring after a crash, leaving an
 * operator's value alone and refusing are all tested without touching the
 * host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/neigh_limits.h"
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
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		ok(0, "clean up %s", root);
	return tap_done();
}
