/* The state directory: path layout, the state file round trip (and its errors
 * with line numbers), pid files guarded by start time, and the sim lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"
#include "rootfs.h"
#include "sim/state.h"
#include "tap.h"
#include "topo/topo.h"

static char dir[64];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_paths(void)
{
	char buf[4096];
	ok(state_sim_path(buf, sizeof(buf), "lab", "state") == 0, "sim path builds");
	char want[4096];
	snprintf(want, sizeof(want), "%s/lab/state", dir);
	is_str(buf, want, "sim path is RUN_DIR/SIM/LEAF");
	state_node_path(buf, sizeof(buf), "lab", "n1", "pid");
	snprintf(want, sizeof(want), "%s/lab/nodes/n1/pid", dir);
	is_str(buf, want, "node path is RUN_DIR/SIM/nodes/NODE/LEAF");
	state_netns_path(buf, sizeof(buf), "lab", "n1");
	snprintf(want, sizeof(want), "%s/netns/lab_n1", dir);
	is_str(buf, want, "node netns is NETNS_DIR/SIM_NODE");
	state_netns_path(buf, sizeof(buf), "lab", NULL);
	snprintf(want, sizeof(want), "%s/netns/lab.sw", dir);
	is_str(buf, want, "switch netns is NETNS_DIR/SIM.sw (a '.' no name can have)");
	is_int(state_netns_path(buf, sizeof(buf), "lab", "../x"), -EINVAL,
	       "a node name that is not valid is refused...");
	is_str(buf, "", "...and spells nothing");
	is_int(state_netns_path(buf, sizeof(buf), "Lab", "n1"), -EINVAL, "so is a sim name");
	is_int(state_node_id(buf, sizeof(buf), "q", "a.b"), -EINVAL, "'.' is in no node name");
	is_int(state_node_id(buf, sizeof(buf), "q_a", "b"), -EINVAL, "'_' is in no sim name");
	char tiny[8];
	is_int(state_sim_path(tiny, sizeof(tiny), "lab", "state"), -ENAMETOOLONG,
	       "a path that does not fit is refused, not truncated");
}

/* Every valid sim name over `alphabet` of length 1..max_len, into names[]. */
static unsigned all_names(const char *alphabet, unsigned max_len, unsigned name_max,
			  char names[][8], unsigned cap)
{
	unsigned n = 0, k = (unsigned)strlen(alphabet);
	for (unsigned len = 1; len <= max_len; len++) {
		unsigned total = 1;
		for (unsigned i = 0; i < len; i++)
			total *= k;
		for (unsigned code = 0; code < total && n < cap; code++) {
			char name[8];
			for (unsigned i = 0, c = code; i < len; i++, c /= k)
				name[i] = alphabet[c % k];
			name[len] = '\0';
			if (topo_valid_name(name, name_max))
				memcpy(names[n++], name, sizeof(name));
		}
	}
	return n;
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The ids must be injective: sim q node a-b and sim q-a node b once shared
 * /run/netns/q-a-b, and a failed `up` of the second removed the first's. */
static void test_node_ids_injective(void)
{
	static const char *const pairs[][2] = {
		{ "q", "a-b" }, { "q-a", "b" }, { "smq", "a-b" }, { "smq-a", "b" },
		{ "a", "b-c-d" }, { "a-b", "c-d" }, { "a-b-c", "d" }, { "x", "sw" },
		{ "x", NULL }, { "x-sw", NULL }, { "x", "sw-1" }, { "0", "0" }, { "00", NULL },
		{ "lab", "n1" }, { "lab-n1", NULL }, { "lab", NULL },
		{ "abcdefghijklmnop", "abcdefghijkl" }, { "abcdefghijklmnop", NULL },
	};
	const unsigned n = sizeof(pairs) / sizeof(pairs[0]);
	char ids[sizeof(pairs) / sizeof(pairs[0])][64];
	int built = 1;
	for (unsigned i = 0; i < n; i++)
		built &= state_node_id(ids[i], sizeof(ids[i]), pairs[i][0], pairs[i][1]) == 0;
	ok(built, "ids of %u tricky (sim, node) pairs build", n);
	unsigned clashes = 0;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (strcmp(ids[i], ids[j]) == 0) {
				printf("#   %s/%s and %s/%s share %s\n", pairs[i][0],
				     pairs[i][1] ? pairs[i][1] : "(switch)", pairs[j][0],
				     pairs[j][1] ? pairs[j][1] : "(switch)", ids[i]);
				clashes++;
			}
	is_int(clashes, 0, "no two tricky pairs share an id");

	/* Exhaustively over a small alphabet that has the separator problem ('-'):
	 * all sims and nodes of up to 4 characters, plus each sim's switch. */
	static char names[400][8];
	unsigned nn = all_names("a-0", 4, TOPO_NAME_MAX, names, 400);
	size_t count = (size_t)nn * nn + nn;
	char (*all)[32] = calloc(count, sizeof(*all));
	if (!all) {
		ok(0, "exhaustive check: out of memory");
		return;
	}
	size_t k = 0;
	for (unsigned s = 0; s < nn; s++) {
		for (unsigned m = 0; m < nn; m++)
			state_node_id(all[k++], sizeof(all[0]), names[s], names[m]);
		state_node_id(all[k++], sizeof(all[0]), names[s], NULL);
	}
	qsort(all, count, sizeof(*all), compare_ids);
	size_t dupes = 0;
	for (size_t i = 1; i < count; i++)
		if (strcmp(all[i - 1], all[i]) == 0)
			dupes++;
	is_int((int)dupes, 0, "all %zu ids of %u names over {a,-,0} (<= 4 chars) are distinct",
	       count, nn);
	free(all);
}

static void test_round_trip(void)
{
	struct state in = {.created = 1795641358LL, .nnodes = 2};
	snprintf(in.sim, sizeof(in.sim), "lab");
	snprintf(in.topology, sizeof(in.topology), "/home/me/my labs/lab.conf");
	struct state_node nodes[2];
	memset(nodes, 0, sizeof(nodes));
	snprintf(nodes[0].name, sizeof(nodes[0].name), "n1");
	nodes[0].pid = 4242;
	nodes[0].starttime = 123456789ULL;
	snprintf(nodes[0].addr4, sizeof(nodes[0].addr4), "10.13.0.1/32");
	snprintf(nodes[0].addr6, sizeof(nodes[0].addr6), "fd13::1/128");
	snprintf(nodes[0].rootfs, sizeof(nodes[0].rootfs), "/srv/rootfs with space.tar.gz");
	snprintf(nodes[1].name, sizeof(nodes[1].name), "n2");
	in.nodes = nodes;

	char path[4096];
	snprintf(path, sizeof(path), "%s/state", dir);
	struct error err = {0};
	is_int(state_write(path, &in, &err), 0, "state_write");
	struct stat st;
	snprintf(path + strlen(path), sizeof(path) - strlen(path), ".tmp");
	ok(stat(path, &st) < 0 && errno == ENOENT, "no temporary file left (written by rename)");
	snprintf(path, sizeof(path), "%s/state", dir);

	struct state out;
	is_int(state_read(path, &out, &err), 0, "state_read");
	is_str(out.sim, "lab", "sim survives the round trip");
	is_str(out.topology, "/home/me/my labs/lab.conf", "topology path with a space survives");
	is_int(out.created, 1795641358LL, "created survives");
	is_int(out.nnodes, 2, "both nodes survive");
	if (out.nnodes == 2) {
		is_str(out.nodes[0].name, "n1", "node name");
		is_int(out.nodes[0].pid, 4242, "node pid");
		is_int((long long)out.nodes[0].starttime, 123456789LL, "node start time");
		is_str(out.nodes[0].addr4, "10.13.0.1/32", "node IPv4 address");
		is_str(out.nodes[0].addr6, "fd13::1/128", "node IPv6 address");
		is_str(out.nodes[0].rootfs, "/srv/rootfs with space.tar.gz", "rootfs with a space");
		is_str(out.nodes[1].addr4, "", "empty fields come back empty");
		is_int(out.nodes[1].pid, 0, "pid 0 for a node without one");
	}
	state_free(&out);
	ok(out.nodes == NULL && out.nnodes == 0, "state_free empties");
}

static void test_malformed(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bad", dir);
	struct state out;
	struct error err = {0};

	write_text(path, "netsim-state 1\nsim lab\nnode n1 12 nope\n");
	is_int(state_read(path, &out, &err), -EINVAL, "a short node line is refused");
	ok(strstr(err.msg, "bad:3: malformed state file") != NULL, "...naming line 3 (%s)", err.msg);

	write_text(path, "netsim-state 9\n");
	is_int(state_read(path, &out, &err), -EINVAL, "another format version is refused");
	ok(strstr(err.msg, ":1: ") != NULL, "...naming line 1");

	write_text(path, "");
	is_int(state_read(path, &out, &err), -EINVAL, "an empty file is refused");

	write_text(path, "netsim-state 1\nfrobnicate 1\n");
	is_int(state_read(path, &out, &err), -EINVAL, "an unknown key is refused");
	ok(strstr(err.msg, ":2: ") != NULL, "...naming line 2");

	snprintf(path, sizeof(path), "%s/missing", dir);
	is_int(state_read(path, &out, &err), -ENOENT, "a missing file gives ENOENT");
}

static void test_pidfiles(void)
{
	char path[4096];
	struct error err = {0};
	state_node_path(path, sizeof(path), "lab", "n1", NULL);
	char parent[4096];
	state_sim_path(parent, sizeof(parent), "lab", NULL);
	mkdir(parent, 0755);
	state_sim_path(parent, sizeof(parent), "lab", "nodes");
	mkdir(parent, 0755);
	mkdir(path, 0755);

	is_int(state_pidfile_write("lab", "n1", getpid(), &err), 0, "pid file written");
	is_int(state_pidfile_read("lab", "n1"), getpid(), "a live process with the same start time reads back");

	/* A process that is gone: its pid file reads as 0, never as a stranger's pid. */
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	state_pidfile_write("lab", "n1", child, &err);
	waitpid(child, NULL, 0);
	is_int(state_pidfile_read("lab", "n1"), 0, "a dead process reads as 0");

	/* Same pid, different start time (pid reuse): 0. */
	state_node_path(path, sizeof(path), "lab", "n1", "pid");
	char text[64];
	snprintf(text, sizeof(text), "%d 1\n", (int)getpid());
	write_text(path, text);
	is_int(state_pidfile_read("lab", "n1"), 0, "a reused pid (other start time) reads as 0");

	is_int(state_pidfile_read("lab", "n9"), 0, "no pid file reads as 0");
	write_text(path, "garbage\n");
	is_int(state_pidfile_read("lab", "n1"), -EINVAL, "a garbled pid file is an error");
	ok(process_starttime(getpid()) > 0, "start time of this process");
}

static void test_lock(void)
{
	struct error err = {0};
	int fd = -1;
	is_int(state_lock("locked", &fd, &err), 0, "lock a sim");
	pid_t child = fork();
	if (child == 0) {
		int fd2 = -1;
		struct error e2 = {0};
		int r = state_lock("locked", &fd2, &e2);
		_exit(r == -EBUSY && strstr(e2.msg, "another netsim process") ? 0 : 1);
	}
	int status = -1;
	waitpid(child, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a second process is refused with EBUSY and a clear message");
	close(fd);
	fd = -1;
	is_int(state_lock("locked", &fd, &err), 0, "the lock is free again once closed");
	close(fd);
}

/* NETSIM_EXTRACT_MAX_BYTES / _FILES: digits and an optional K/M/G/T, nothing else. */
static void test_extract_limits(void)
{
	static const struct {
		const char *value;
		unsigned long long bytes;  /* 0: refused */
	} cases[] = {
		{"8", 8}, {"1K", 1024}, {"1k", 1024}, {"3M", 3ULL << 20}, {"2G", 2ULL << 30},
		{"1T", 1ULL << 40}, {"16777215T", 16777215ULL << 40}, {"16777216T", 0},
		{"18446744073709551615G", 0}, {"0", 0}, {"", 2ULL << 30}, {"lots", 0},
		{"-1", 0}, {"0x10", 0}, {" 5", 0}, {"1 G", 0}, {"1KB", 0},
		/* a space once passed for a suffix of 2^50 (' ' & ~0x20 is '\0') */
		{"1 ", 0}, {"7\t", 0}, {"1@", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rootfs_limits limits;
		struct error err = {0};
		setenv("NETSIM_EXTRACT_MAX_BYTES", cases[i].value, 1);
		int r = state_extract_limits(&limits, &err);
		if (cases[i].bytes)
			ok(r == 0 && limits.max_bytes == cases[i].bytes,
			   "NETSIM_EXTRACT_MAX_BYTES='%s' is %llu bytes (got %d, %llu)", cases[i].value,
			   cases[i].bytes, r, (unsigned long long)limits.max_bytes);
		else
			ok(r == -EINVAL && strstr(err.msg, "give a number above 0"),
			   "NETSIM_EXTRACT_MAX_BYTES='%s' is refused (got %d, %llu)", cases[i].value, r,
			   (unsigned long long)limits.max_bytes);
	}
	unsetenv("NETSIM_EXTRACT_MAX_BYTES");
	struct rootfs_limits limits;
	struct error err = {0};
	setenv("NETSIM_EXTRACT_MAX_FILES", "5K", 1);
	ok(state_extract_limits(&limits, &err) == -EINVAL, "NETSIM_EXTRACT_MAX_FILES takes no suffix");
	setenv("NETSIM_EXTRACT_MAX_FILES", "5", 1);
	ok(state_extract_limits(&limits, &err) == 0 && limits.max_entries == 5 &&
		   limits.max_bytes == ROOTFS_MAX_BYTES_DEFAULT,
	   "NETSIM_EXTRACT_MAX_FILES=5");
	unsetenv("NETSIM_EXTRACT_MAX_FILES");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/netsim-test-state.XXXXXX");
	if (!mkdtemp(dir))
		skip_all("cannot create a temporary directory");
	char netns[128];
	snprintf(netns, sizeof(netns), "%s/netns", dir);
	setenv("NETSIM_RUN_DIR", dir, 1);
	setenv("NETSIM_NETNS_DIR", netns, 1);

	test_paths();
	test_node_ids_injective();
	test_round_trip();
	test_malformed();
	test_pidfiles();
	test_lock();
	test_extract_limits();

	struct error err = {0};
	rootfs_remove_tree(dir, &err);
	return tap_done();
}
