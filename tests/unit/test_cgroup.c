/* runtime/cgroup: what works without root — finding the hierarchies from a fake
 * mountinfo (v1, v2, hybrid), path rules, limit formatting, reading usage from a
 * fake cgroup directory in v1 and v2 formats, create/remove on a plain
 * directory tree standing in for a v1 hierarchy, and the limit files written
 * (v1 and v2 names and scales) into pre-created stand-in control files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "tap.h"

static char tmp[] = "/tmp/netsim-test-cgroup.XXXXXX";

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mkdirs(const char *path)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	mkdir(buf, 0755);
}

/* A mountinfo line for a cgroup mount. */
static void mountinfo_line(FILE *f, int id, const char *point, const char *type,
			   const char *super)
{
	fprintf(f, "%d 25 0:%d / %s rw,nosuid,nodev,noexec,relatime shared:%d - %s cgroup %s\n",
		id, id, point, id, type, super);
}

static int parse_fake(struct cgroup_system *sys, const char *body)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/mountinfo", tmp);
	put(path, body);
	struct error err = { 0 };
	return cgroup_system_parse(sys, path, &err);
}

static void test_hybrid(void)
{
	/* this CI machine's kind: v1 hierarchies hold the controllers, the unified
	 * one is mounted with only what no v1 hierarchy took */
	char unified[256], path[300], mi[256];
	snprintf(unified, sizeof(unified), "%s/unified", tmp);
	mkdirs(unified);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", unified);
	put(path, "hugetlb\n");
	snprintf(mi, sizeof(mi), "%s/mountinfo", tmp);
	FILE *f = fopen(mi, "w");
	fprintf(f, "22 1 0:20 / /proc rw - proc proc rw\n");
	mountinfo_line(f, 30, "/sys/fs/cgroup/cpu", "cgroup", "rw,cpu");
	mountinfo_line(f, 31, "/sys/fs/cgroup/cpuacct", "cgroup", "rw,cpuacct");
	mountinfo_line(f, 32, "/sys/fs/cgroup/memory", "cgroup", "rw,memory");
	mountinfo_line(f, 33, "/sys/fs/cgroup/pids", "cgroup", "rw,pids");
	mountinfo_line(f, 34, "/sys/fs/cgroup/systemd", "cgroup", "rw,xattr,name=systemd");
	mountinfo_line(f, 35, unified, "cgroup2", "rw,nsdelegate");
	fclose(f);
	struct cgroup_system sys;
	struct error err = { 0 };
	is_int(cgroup_system_parse(&sys, mi, &err), 0, "hybrid: parsed");
	is_str(sys.v1[CGROUP_MEMORY], "/sys/fs/cgroup/memory", "hybrid: memory on its v1 hierarchy");
	is_str(sys.v1[CGROUP_PIDS], "/sys/fs/cgroup/pids", "hybrid: pids on v1");
	is_str(sys.v1[CGROUP_CPU], "/sys/fs/cgroup/cpu", "hybrid: cpu on v1");
	is_str(sys.unified, unified, "hybrid: the unified hierarchy is found");
	ok(!sys.v2[CGROUP_MEMORY] && !sys.v2[CGROUP_PIDS] && !sys.v2[CGROUP_CPU],
	   "hybrid: no controller used on v2");
	ok(!cgroup_system_empty(&sys), "hybrid: not empty");
}

static void test_v2_only(void)
{
	char unified[256], path[300], mi[512];
	snprintf(unified, sizeof(unified), "%s/v2", tmp);
	mkdirs(unified);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", unified);
	put(path, "cpuset cpu io memory hugetlb pids rdma misc\n");
	snprintf(mi, sizeof(mi), "35 24 0:30 / %s rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
		 unified);
	struct cgroup_system sys;
	is_int(parse_fake(&sys, mi), 0, "v2: parsed");
	ok(sys.v2[CGROUP_MEMORY] && sys.v2[CGROUP_PIDS] && sys.v2[CGROUP_CPU],
	   "v2: memory, pids, cpu on the unified hierarchy");
	ok(!sys.v2[CGROUP_CPUACCT], "v2: no cpuacct (cpu.stat has CPU time)");
	ok(!sys.v1[CGROUP_MEMORY][0], "v2: nothing on v1");
}

static void test_v1_comounted(void)
{
	struct cgroup_system sys;
	is_int(parse_fake(&sys, "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
				"31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"),
	       0, "v1 with cpu,cpuacct co-mounted: parsed");
	is_str(sys.v1[CGROUP_CPU], "/sys/fs/cgroup/cpu,cpuacct", "cpu on the co-mounted hierarchy");
	is_str(sys.v1[CGROUP_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct", "cpuacct on the same");
	ok(!sys.v1[CGROUP_PIDS][0] && !sys.v2[CGROUP_PIDS], "no pids controller: none");
	ok(!sys.unified[0], "no unified hierarchy");
	struct cgroup_system none;
	is_int(parse_fake(&none, "22 1 0:20 / /proc rw - proc proc rw\n"), 0, "no cgroups: parsed");
	ok(cgroup_system_empty(&none), "no cgroups: empty");
	struct error err = { 0 };
	ok(cgroup_system_parse(&none, "/nonexistent/mountinfo", &err) == -ENOENT, "missing mountinfo: ENOENT");
}

static void test_paths_and_values(void)
{
	ok(cgroup_path_valid("netsim/sim-1/n1"), "netsim/sim-1/n1 is valid");
	ok(!cgroup_path_valid("/netsim"), "absolute path refused");
	ok(!cgroup_path_valid("netsim/../x"), "'..' refused");
	ok(!cgroup_path_valid("netsim//x"), "empty component refused");
	ok(!cgroup_path_valid("netsim/x/"), "trailing slash refused");
	ok(!cgroup_path_valid("netsim/cgroup.procs"), "a control file name refused");
	ok(!cgroup_path_valid(""), "empty refused");
	char buf[32];
	cgroup_format_limit(CGROUP_UNLIMITED, buf, sizeof(buf));
	is_str(buf, "max", "unlimited is written as max");
	cgroup_format_limit(268435456, buf, sizeof(buf));
	is_str(buf, "268435456", "a limit is written in bytes");
	is_int(cgroup_weight_to_shares(100), 1024, "weight 100 = 1024 shares");
	is_int(cgroup_weight_to_shares(200), 2048, "weight 200 = 2048 shares");
	is_int(cgroup_weight_to_shares(1), 10, "weight 1 = 10 shares");
	is_int(cgroup_weight_to_shares(10000), 102400, "weight 10000 = 102400 shares");
}

static void test_usage(void)
{
	/* v1: a fake memory, pids and cpuacct hierarchy each with netsim/s/n */
	struct cgroup_system sys;
	memset(&sys, 0, sizeof(sys));
	const char *const names[] = { "memory", "pids", "cpuacct" };
	const int ctl[] = { CGROUP_MEMORY, CGROUP_PIDS, CGROUP_CPUACCT };
	char dir[3][300], path[400];
	for (int i = 0; i < 3; i++) {
		snprintf(sys.v1[ctl[i]], sizeof(sys.v1[ctl[i]]), "%s/v1-%s", tmp, names[i]);
		snprintf(dir[i], sizeof(dir[i]), "%s/netsim/s/n", sys.v1[ctl[i]]);
		mkdirs(dir[i]);
	}
#define PUT(i, file, text) (snprintf(path, sizeof(path), "%s/%s", dir[i], file), put(path, text))
	PUT(0, "memory.usage_in_bytes", "1048576\n");
	PUT(0, "memory.limit_in_bytes", "9223372036854771712\n");
	PUT(0, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
	PUT(1, "pids.current", "7\n");
	PUT(1, "pids.max", "512\n");
	PUT(2, "cpuacct.usage", "2500000000\n");
	struct cgroup_usage u;
	struct error err = { 0 };
	is_int(cgroup_usage_read(&sys, "netsim/s/n", &u, &err), 0, "v1 usage: read");
	is_int(u.have, CGROUP_HAVE_MEMORY | CGROUP_HAVE_PIDS | CGROUP_HAVE_CPU, "v1 usage: all fields");
	is_int(u.memory_current, 1048576, "v1: memory.usage_in_bytes");
	ok(u.memory_max == CGROUP_UNLIMITED, "v1: the page-rounded LLONG_MAX reads as unlimited");
	is_int(u.oom_kills, 3, "v1: oom_kill from memory.oom_control");
	is_int(u.pids_current, 7, "pids.current");
	is_int(u.pids_max, 512, "pids.max");
	is_int(u.cpu_usec, 2500000, "v1: cpuacct.usage in ns -> us");
	is_int(cgroup_usage_read(&sys, "netsim/s/gone", &u, &err), 0, "a missing cgroup: no error");
	is_int(u.have, 0, "a missing cgroup: nothing known");

	/* v2: one directory */
	memset(&sys, 0, sizeof(sys));
	snprintf(sys.unified, sizeof(sys.unified), "%s/v2u", tmp);
	sys.v2[CGROUP_MEMORY] = sys.v2[CGROUP_PIDS] = sys.v2[CGROUP_CPU] = true;
	snprintf(dir[0], sizeof(dir[0]), "%s/netsim/s/n", sys.unified);
	mkdirs(dir[0]);
	PUT(0, "memory.current", "4096\n");
	PUT(0, "memory.max", "max\n");
	PUT(0, "memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n");
	PUT(0, "pids.current", "3\n");
	PUT(0, "pids.max", "max\n");
	PUT(0, "cpu.stat", "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n");
#undef PUT
	is_int(cgroup_usage_read(&sys, "netsim/s/n", &u, &err), 0, "v2 usage: read");
	is_int(u.have, CGROUP_HAVE_MEMORY | CGROUP_HAVE_PIDS | CGROUP_HAVE_CPU, "v2 usage: all fields");
	is_int(u.memory_current, 4096, "v2: memory.current");
	ok(u.memory_max == CGROUP_UNLIMITED && u.pids_max == CGROUP_UNLIMITED, "v2: max is unlimited");
	is_int(u.oom_kills, 2, "v2: oom_kill from memory.events");
	is_int(u.cpu_usec, 123456, "v2: usage_usec from cpu.stat");
}

static void test_create_remove(void)
{
	/* plain directories behave like a v1 hierarchy for mkdir/rmdir; no limits */
	struct cgroup_system sys;
	memset(&sys, 0, sizeof(sys));
	snprintf(sys.v1[CGROUP_MEMORY], sizeof(sys.v1[CGROUP_MEMORY]), "%s/h-memory", tmp);
	snprintf(sys.v1[CGROUP_PIDS], sizeof(sys.v1[CGROUP_PIDS]), "%s/h-pids", tmp);
	mkdirs(sys.v1[CGROUP_MEMORY]);
	mkdirs(sys.v1[CGROUP_PIDS]);
	struct error err = { 0 };
	char path[400];
	struct stat st;
	is_int(cgroup_create(&sys, "netsim/s1/n1", false, NULL, &err), 0, "create with missing parents");
	snprintf(path, sizeof(path), "%s/netsim/s1/n1", sys.v1[CGROUP_PIDS]);
	ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "created in the pids hierarchy");
	is_int(cgroup_create(&sys, "netsim/s1/n2", false, NULL, &err), 0, "create a sibling");
	is_int(cgroup_create(&sys, "netsim/s1/n2", false, NULL, &err), 0, "an existing cgroup is reused");
	is_int(cgroup_create(&sys, "netsim/s2/n1", false, NULL, &err), 0, "another sim");
	is_int(cgroup_create(&sys, "../x", false, NULL, &err), -EINVAL, "an invalid path is refused");
	struct cgroup_limits limits = { .pids_max = 64 };
	is_int(cgroup_create(&sys, "netsim/s3/n1", false, &limits, &err), -ENOENT,
	       "a limit that cannot be written fails (no pids.max here)");
	snprintf(path, sizeof(path), "%s/netsim/s3", sys.v1[CGROUP_MEMORY]);
	ok(stat(path, &st) < 0 && errno == ENOENT, "...and removes what it created");

	ok(cgroup_exists(&sys, "netsim/s1/n2"), "cgroup_exists: an existing cgroup");
	ok(!cgroup_exists(&sys, "netsim/s9"), "cgroup_exists: a missing one");
	is_int(cgroup_remove(&sys, "netsim/s1", true, &err), 0, "remove a sim's tree");
	snprintf(path, sizeof(path), "%s/netsim/s1", sys.v1[CGROUP_MEMORY]);
	ok(stat(path, &st) < 0 && errno == ENOENT, "its cgroups are gone");
	snprintf(path, sizeof(path), "%s/netsim/s2/n1", sys.v1[CGROUP_MEMORY]);
	ok(stat(path, &st) == 0, "the other sim's cgroup stays (and so the netsim parent)");
	is_int(cgroup_remove(&sys, "netsim/s1", true, &err), 0, "removing again is not an error");
	is_int(cgroup_remove(&sys, "netsim/s2", true, &err), 0, "remove the last sim");
	snprintf(path, sizeof(path), "%s/netsim", sys.v1[CGROUP_PIDS]);
	ok(stat(path, &st) < 0 && errno == ENOENT, "the empty netsim parent is pruned");
	snprintf(path, sizeof(path), "%s", sys.v1[CGROUP_PIDS]);
	ok(stat(path, &st) == 0, "the hierarchy root stays");
}

static void read_back(const char *dir, const char *file, char *buf, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = '\0';
		fclose(f);
	}
}

/* Pre-created control files stand in for the kernel's: cgroup_create reuses the
 * existing directories and writes into them, so what it writes can be read back. */
static void fake_files(const char *dir, const char *const *files)
{
	char path[512];
	mkdirs(dir);
	for (; *files; files++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *files);
		put(path, "");
	}
}

static void test_write_limits_v2(void)
{
	struct cgroup_system sys;
	memset(&sys, 0, sizeof(sys));
	snprintf(sys.unified, sizeof(sys.unified), "%s/w2", tmp);
	sys.v2[CGROUP_MEMORY] = sys.v2[CGROUP_PIDS] = sys.v2[CGROUP_CPU] = true;
	char sim[300], node[300], buf[128];
	snprintf(sim, sizeof(sim), "%s/netsim/s", sys.unified);
	snprintf(node, sizeof(node), "%s/netsim/s/n", sys.unified);
	static const char *const sim_files[] = {
		"cgroup.subtree_control", "memory.max", "memory.swap.max", "pids.max", "cpu.max", NULL,
	};
	static const char *const node_files[] = {
		"memory.max", "memory.swap.max", "pids.max", "cpu.weight", "cgroup.procs", NULL,
	};
	fake_files(sim, sim_files);
	fake_files(node, node_files);
	struct error err = { 0 };
	struct cgroup_limits sim_limits = { .memory_max = 1 << 30, .pids_max = 2048, .cpu_quota_us = 180000 };
	is_int(cgroup_create(&sys, "netsim/s", true, &sim_limits, &err), 0, "v2: create a parent with limits");
	read_back(sim, "cgroup.subtree_control", buf, sizeof(buf));
	is_str(buf, "+memory +pids +cpu", "v2: a parent delegates memory, pids and cpu");
	read_back(sim, "memory.max", buf, sizeof(buf));
	is_str(buf, "1073741824", "v2: memory.max");
	read_back(sim, "pids.max", buf, sizeof(buf));
	is_str(buf, "2048", "v2: pids.max");
	read_back(sim, "cpu.max", buf, sizeof(buf));
	is_str(buf, "180000 100000", "v2: cpu.max is quota and period");
	struct cgroup_limits node_limits = { .memory_max = 256 << 20, .pids_max = 512, .cpu_weight = 200 };
	is_int(cgroup_create(&sys, "netsim/s/n", false, &node_limits, &err), 0, "v2: create a node");
	read_back(node, "memory.max", buf, sizeof(buf));
	is_str(buf, "268435456", "v2: node memory.max");
	read_back(node, "cpu.weight", buf, sizeof(buf));
	is_str(buf, "200", "v2: cpu.weight keeps the v2 scale");
	is_int(cgroup_attach(&sys, "netsim/s/n", getpid(), &err), 0, "v2: attach");
	read_back(node, "cgroup.procs", buf, sizeof(buf));
	is_int(atoi(buf), getpid(), "v2: the pid is written to cgroup.procs");
}

static void test_write_limits_v1(void)
{
	struct cgroup_system sys;
	memset(&sys, 0, sizeof(sys));
	const char *const names[] = { "memory", "pids", "cpu" };
	const int ctl[] = { CGROUP_MEMORY, CGROUP_PIDS, CGROUP_CPU };
	static const char *const files[3][4] = {
		{ "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "cgroup.procs", NULL },
		{ "pids.max", "cgroup.procs", NULL },
		{ "cpu.shares", "cpu.cfs_quota_us", "cgroup.procs", NULL },
	};
	char dir[3][300], buf[128];
	for (int i = 0; i < 3; i++) {
		snprintf(sys.v1[ctl[i]], sizeof(sys.v1[ctl[i]]), "%s/w1-%s", tmp, names[i]);
		snprintf(dir[i], sizeof(dir[i]), "%s/netsim/s/n", sys.v1[ctl[i]]);
		fake_files(dir[i], files[i]);
	}
	struct error err = { 0 };
	struct cgroup_limits limits = { .memory_max = 64 << 20, .pids_max = 32, .cpu_weight = 200,
					.cpu_quota_us = 90000 };
	is_int(cgroup_create(&sys, "netsim/s/n", false, &limits, &err), 0, "v1: create with limits");
	read_back(dir[0], "memory.limit_in_bytes", buf, sizeof(buf));
	is_str(buf, "67108864", "v1: memory.limit_in_bytes");
	read_back(dir[1], "pids.max", buf, sizeof(buf));
	is_str(buf, "32", "v1: pids.max");
	read_back(dir[2], "cpu.shares", buf, sizeof(buf));
	is_str(buf, "2048", "v1: weight 200 is written as 2048 shares");
	read_back(dir[2], "cpu.cfs_quota_us", buf, sizeof(buf));
	is_str(buf, "90000", "v1: cpu.cfs_quota_us");
	is_int(cgroup_attach(&sys, "netsim/s/n", getpid(), &err), 0, "v1: attach");
	for (int i = 0; i < 3; i++) {
		read_back(dir[i], "cgroup.procs", buf, sizeof(buf));
		is_int(atoi(buf), getpid(), "v1: the pid is in the %s hierarchy", names[i]);
	}
}

static void remove_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP mkdtemp: %s\n", strerror(errno));
		return 0;
	}
	test_hybrid();
	test_v2_only();
	test_v1_comounted();
	test_paths_and_values();
	test_usage();
	test_create_remove();
	test_write_limits_v2();
	test_write_limits_v1();
	remove_tmp();
	return tap_done();
}
