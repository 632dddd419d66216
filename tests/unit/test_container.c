/* The container runtime against a real kernel: needs root.  The rootfs is a
 * temporary directory holding one statically linked program (static_init, built
 * next to this test) as /sbin/init; it reports what it sees inside the node.
 *
 * TEST_CONTAINER_BENCH=N sets the number of nodes for the timing part (default 100,
 * 0 skips it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "mounts.h"
#include "tap.h"

static char test_dir[] = "/tmp/netsim-test-container-XXXXXX";
static int test_dir_created;
static char rootfs_dir[PATH_MAX];

/* ---- helpers ------------------------------------------------------------------ */

static char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t size = 0, used = 0;
	char *text = NULL;
	for (;;) {
		if (used + 4096 + 1 > size) {
			size = size ? size * 2 : 8192;
			char *bigger = realloc(text, size);
			if (!bigger) {
				free(text);
				fclose(f);
				return NULL;
			}
			text = bigger;
		}
		size_t n = fread(text + used, 1, 4096, f);
		used += n;
		if (n == 0)
			break;
	}
	fclose(f);
	text[used] = '\0';
	return text;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	}
	if (n < 0)
		rc = -1;
	close(in);
	close(out);
	return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup_test_dir(void)
{
	if (test_dir_created)
		nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	test_dir_created = 0;
}

/* The value of "KEY=..." in a static_init report, copied into buf ("" if absent). */
static const char *report_value(const char *report, const char *key, char *buf, size_t size)
{
	size_t key_len = strlen(key);
	buf[0] = '\0';
	for (const char *line = report; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > key_len && strncmp(line, key, key_len) == 0 && line[key_len] == '=') {
			snprintf(buf, size, "%.*s", (int)(len - key_len - 1), line + key_len + 1);
			break;
		}
		line = end ? end + 1 : NULL;
	}
	return buf;
}

static long report_number(const char *report, const char *key)
{
	char buf[64];
	report_value(report, key, buf, sizeof(buf));
	return buf[0] ? strtol(buf, NULL, 0) : -1;
}

static uint64_t report_hex(const char *report, const char *key)
{
	char buf[64];
	report_value(report, key, buf, sizeof(buf));
	return strtoull(buf, NULL, 16);
}

/* Polls a file until it contains `needle`; returns its text (caller frees) or NULL. */
static char *wait_for_text(const char *path, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		char *text = read_text_file(path);
		if (text && strstr(text, needle))
			return text;
		free(text);
		usleep(10 * 1000);
	}
	return NULL;
}

struct node_paths {
	char node_dir[PATH_MAX];
	char console[PATH_MAX];
};

static void node_config(const char *name, struct node_paths *paths, char *const *argv,
			struct container_config *cfg)
{
	snprintf(paths->node_dir, sizeof(paths->node_dir), "%s/nodes/%s", test_dir, name);
	snprintf(paths->console, sizeof(paths->console), "%s/nodes/%s.log", test_dir, name);
	mkdir(paths->node_dir, 0755);
	*cfg = (struct container_config){
		.hostname = name,
		.rootfs = rootfs_dir,
		.node_dir = paths->node_dir,
		.console_path = paths->console,
		.argv = argv,
	};
}

static int start_node(const struct container_config *cfg, struct container *c, struct error *err)
{
	int rc = container_create(cfg, c, err);
	if (rc == 0)
		rc = container_wait_ready(c, err);
	if (rc == 0)
		rc = container_start(c, err);
	if (rc < 0)
		container_destroy(c);
	return rc;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int no_children_left(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* Runs container_enter with stdout going to a file; returns the file's text. */
static char *enter_capture(pid_t pid, char *const argv[], int *rc, int *status, struct error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/enter.out", test_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	fflush(stdout);
	int saved_stdout = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	*rc = container_enter(pid, argv, NULL, status, err);
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	return read_text_file(path);
}

/* ---- tests -------------------------------------------------------------------- */

static uint64_t expected_capeff(void)
{
	/* a host that lacks a kept capability cannot hand it on */
	char *status = read_text_file("/proc/self/status");
	const char *bnd = status ? strstr(status, "CapBnd:") : NULL;
	uint64_t host = bnd ? strtoull(bnd + strlen("CapBnd:"), NULL, 16) : ~UINT64_C(0);
	free(status);
	return container_capability_mask() & host;
}

static int mount_point_allowed(const char *mount_point)
{
	static const char *const allowed[] = {
		"/", "/proc", "/proc/sys", "/proc/sys/net", "/sys", "/dev", "/dev/pts",
		"/dev/console", "/tmp", "/run",
		"/dev/shm", /* a tmpfs with a size of its own */
		/* binds of the host's device files (no mknod in a user namespace) */
		"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
	};
	if (mounts_is_kernel_view(mount_point))
		return 1;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (strcmp(mount_point, allowed[i]) == 0)
			return 1;
	}
	return 0;
}

static void check_mount_points(const char *report, const char *who)
{
	int count = 0, foreign = 0;
	for (const char *line = strstr(report, "mountpoint="); line;
	     line = strstr(line + 1, "\nmountpoint=")) {
		if (*line == '\n')
			line++;
		char mp[PATH_MAX];
		const char *value = line + strlen("mountpoint=");
		snprintf(mp, sizeof(mp), "%.*s", (int)strcspn(value, "\n"), value);
		count++;
		if (!mount_point_allowed(mp) || strstr(mp, test_dir)) {
			foreign++;
			printf("# %s sees unexpected mount point %s\n", who, mp);
		}
	}
	ok(count >= 10 && foreign == 0, "%s: sees only the node's own %d mounts", who, count);
}

static void check_limits(const char *report, const char *who)
{
	is_int(report_hex(report, "capeff"), expected_capeff(), "%s: CapEff is the kept set", who);
	is_int(report_hex(report, "capbnd"), expected_capeff(), "%s: bounding set is the kept set", who);
	is_int(report_number(report, "seccomp"), 2, "%s: seccomp filter mode", who);
	is_int(report_number(report, "init_module"), EPERM, "%s: init_module fails with EPERM", who);
	is_int(report_number(report, "mount"), EPERM, "%s: mount fails with EPERM", who);
	is_int(report_number(report, "keyctl"), EPERM, "%s: keyctl fails with EPERM", who);
	is_int(report_number(report, "clone3"), ENOSYS, "%s: clone3 fails with ENOSYS", who);
	is_int(report_number(report, "unshare_user"), EPERM, "%s: unshare(CLONE_NEWUSER) refused", who);
}

static int same_namespace(pid_t a, pid_t b, const char *ns)
{
	char path_a[64], path_b[64];
	struct stat st_a, st_b;
	snprintf(path_a, sizeof(path_a), "/proc/%d/ns/%s", (int)a, ns);
	snprintf(path_b, sizeof(path_b), "/proc/%d/ns/%s", (int)b, ns);
	return stat(path_a, &st_a) == 0 && stat(path_b, &st_b) == 0 && st_a.st_ino == st_b.st_ino &&
	       st_a.st_dev == st_b.st_dev;
}

/* A node given netns_path joins that netns (here: another node's) instead of a new one. */
static void test_joined_netns(pid_t other_init)
{
	static char *const argv[] = { "/sbin/init", "sleep", NULL };
	struct node_paths paths;
	struct container_config cfg;
	struct container c = CONTAINER_INIT;
	struct error err = { 0 };
	char netns[64];

	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)other_init);
	node_config("joiner", &paths, argv, &cfg);
	cfg.netns_path = netns;
	int rc = start_node(&cfg, &c, &err);
	if (!ok(rc == 0, "a node with netns_path starts")) {
		printf("# %s\n", err.msg);
		return;
	}
	ok(same_namespace(c.pid, other_init, "net"), "it shares the given netns");
	ok(!same_namespace(c.pid, other_init, "mnt") && !same_namespace(c.pid, other_init, "pid") &&
		   !same_namespace(c.pid, getpid(), "uts"),
	   "but has its own mnt, pid and uts namespaces");
	container_destroy(&c);
}

/* With ids: node root is the mapped range, and a node started again on that
 * node's netns joins the user namespace owning it instead of making one. */
static void test_user_namespace(void)
{
	static char *const argv[] = { "/sbin/init", "sleep", NULL };
	const uint32_t base = 0x6fff0000u; /* below netsim's own ranges */
	struct node_paths paths, again_paths;
	struct container_config cfg, again;
	struct container c = CONTAINER_INIT, c2 = CONTAINER_INIT;
	struct error err = { 0 };
	char path[64], want[64];

	node_config("mapped", &paths, argv, &cfg);
	cfg.id_base = base;
	cfg.id_count = 65536;
	int rc = start_node(&cfg, &c, &err);
	if (rc == -EOPNOTSUPP) { /* /tmp on tmpfs before 6.3, or valgrind (no open_tree) */
		/* TAP: a passing test marked SKIP */
		ok(1, "# SKIP no idmapped mounts here: %s", err.msg);
		return;
	}
	if (!ok(rc == 0, "a node with an id range starts")) {
		printf("# %s\n", err.msg);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)c.pid);
	char *map = read_text_file(path);
	unsigned long inside = 1, outside = 0, count = 0;
	ok(map && sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
		   outside == base && count == 65536,
	   "its uid_map is 0 %u 65536", base);
	free(map);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)c.pid);
	char *status = read_text_file(path);
	snprintf(want, sizeof(want), "\nUid:\t%u\t", base);
	ok(status && strstr(status, want), "its PID 1 runs as host uid %u", base);
	free(status);
	ok(!same_namespace(c.pid, getpid(), "user"), "in a user namespace of its own");
	struct stat st;
	char upper[PATH_MAX + 8];
	snprintf(upper, sizeof(upper), "%s/upper", paths.node_dir);
	ok(stat(upper, &st) == 0 && st.st_uid == base, "its upper dir belongs to node root");

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c.pid);
	node_config("mapped-again", &again_paths, argv, &again);
	again.netns_path = path;
	again.id_count = 0;
	rc = container_create(&again, &c2, &err);
	ok(rc == -EINVAL, "joining its netns without an id range is refused: %s", err.msg);
	again.id_base = base;
	again.id_count = 65536;
	rc = start_node(&again, &c2, &err);
	if (ok(rc == 0, "a node on its netns with the id range starts"))
		ok(same_namespace(c.pid, c2.pid, "user") && same_namespace(c.pid, c2.pid, "net") &&
			   !same_namespace(c.pid, c2.pid, "pid"),
		   "and joins the user namespace that owns that netns");
	else
		printf("# %s\n", err.msg);
	container_destroy(&c2);
	container_destroy(&c);
}

static void test_running_node(void)
{
	static char *const argv[] = { "/sbin/init", "init", NULL };
	struct node_paths paths;
	struct container_config cfg;
	struct container c = CONTAINER_INIT;
	struct error err = { 0 };
	char buf[256];

	node_config("alpha", &paths, argv, &cfg);
	int rc = start_node(&cfg, &c, &err);
	if (!ok(rc == 0 && c.pid > 0, "node alpha starts")) {
		printf("# %s\n", err.msg);
		return;
	}
	ok(c.sync_fd < 0, "sync socket closed after a successful start");

	char *report = wait_for_text(paths.console, "\nend\n", 5000);
	if (!ok(report != NULL && strncmp(report, "via_dev_console=1\n", 18) == 0,
		"init's stdout and /dev/console reach the console log")) {
		container_destroy(&c);
		return;
	}
	is_int(report_number(report, "pid"), 1, "init is PID 1 in its namespace");
	is_str(report_value(report, "hostname", buf, sizeof(buf)), "alpha", "hostname is set");
	is_str(report_value(report, "etc_hostname", buf, sizeof(buf)), "alpha", "/etc/hostname is written");
	is_str(report_value(report, "cwd", buf, sizeof(buf)), "/", "init starts in /");
	is_str(report_value(report, "pids", buf, sizeof(buf)), "1", "init sees no host process");
	check_limits(report, "init");
	is_int(report_number(report, "sysctl_net_write"), 0, "/proc/sys/net is writable");
	is_int(report_number(report, "sysctl_kernel_write"), EROFS, "the rest of /proc/sys is read-only");
	is_int(report_number(report, "proc_exposed"), 0, "kcore, keys, timer_list, sysrq-trigger are hidden");
	is_str(report_value(report, "dev_null_mode", buf, sizeof(buf)), "666", "/dev/null is 0666");
	check_mount_points(report, "init");
	free(report);

	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/upper/etc/hostname", paths.node_dir);
	ok(access(path, F_OK) == 0, "writes land in the node's upper dir");
	snprintf(path, sizeof(path), "%s/upper/.netsim-console", paths.node_dir);
	ok(access(path, F_OK) < 0 && errno == ENOENT, "the staged console file is gone");
	char *host_mounts = read_text_file("/proc/self/mountinfo");
	ok(host_mounts && !strstr(host_mounts, paths.node_dir), "the host does not see the node's overlay");
	free(host_mounts);

	/* container_enter */
	int status = -1;
	static char *const exit7[] = { "/sbin/init", "exit", "7", NULL };
	rc = container_enter(c.pid, exit7, NULL, &status, &err);
	ok(rc == 0 && status == 7, "container_enter passes the exit status through (got %d)", status);
	static char *const by_path[] = { "init", "exit", "0", NULL };
	status = -1;
	rc = container_enter(c.pid, by_path, NULL, &status, &err);
	ok(rc == 0 && status == 0, "container_enter finds a command on the node's PATH");
	static char *const killed[] = { "/sbin/init", "signal", "15", NULL };
	status = -1;
	rc = container_enter(c.pid, killed, NULL, &status, &err);
	is_int(status, 128 + SIGTERM, "a command killed by a signal gives 128+signal");
	static char *const missing[] = { "/bin/no-such-command", NULL };
	rc = container_enter(c.pid, missing, NULL, &status, &err);
	ok(rc < 0 && strstr(err.msg, "/bin/no-such-command"), "a missing command is an error: %s", err.msg);

	static char *const report_argv[] = { "/sbin/init", "report", NULL };
	report = enter_capture(c.pid, report_argv, &rc, &status, &err);
	ok(rc == 0 && status == 0 && report && strstr(report, "\nend\n"), "container_enter runs a report");
	if (report) {
		long pid = report_number(report, "pid");
		ok(pid > 1, "the entered process is in the node's pid namespace (pid %ld)", pid);
		report_value(report, "pids", buf, sizeof(buf));
		ok(strncmp(buf, "1,", 2) == 0 && !strchr(buf + 2, ','), "it sees init and itself only (%s)", buf);
		is_str(report_value(report, "hostname", buf, sizeof(buf)), "alpha", "entered: hostname");
		is_str(report_value(report, "cwd", buf, sizeof(buf)), "/", "entered: cwd is /");
		check_limits(report, "entered");
		check_mount_points(report, "entered");
	}
	free(report);

	test_joined_netns(c.pid);

	pid_t pid = c.pid;
	container_destroy(&c);
	ok(c.pid == -1 && c.sync_fd == -1, "destroy resets the handle");
	container_destroy(&c);
	ok(kill(pid, 0) < 0 && errno == ESRCH, "destroy killed and reaped init");
	ok(no_children_left(), "nothing left running");
}

static void test_missing_init(void)
{
	static char *const argv[] = { "/sbin/no-such-init", NULL };
	struct node_paths paths;
	struct container_config cfg;
	struct container c = CONTAINER_INIT;
	struct error err = { 0 };

	node_config("noinit", &paths, argv, &cfg);
	int rc = container_create(&cfg, &c, &err);
	if (rc == 0)
		rc = container_wait_ready(&c, &err);
	ok(rc == 0, "a node with a missing init gets ready");
	rc = container_start(&c, &err);
	ok(rc == -ENOENT && strstr(err.msg, "execve /sbin/no-such-init") &&
		   strstr(err.msg, "No such file"),
	   "container_start fails clearly: %s", err.msg);
	ok(c.pid == -1 && c.sync_fd == -1 && no_children_left(), "and nothing is left running");
	container_destroy(&c);
}

static void test_bad_rootfs(void)
{
	struct node_paths paths;
	struct container_config cfg;
	struct container c = CONTAINER_INIT;
	struct error err = { 0 };
	char missing[PATH_MAX];

	node_config("badroot", &paths, NULL, &cfg);
	snprintf(missing, sizeof(missing), "%s/no-such-rootfs", test_dir);
	cfg.rootfs = missing;
	int rc = container_create(&cfg, &c, &err);
	if (rc == 0)
		rc = container_wait_ready(&c, &err);
	ok(rc < 0 && strstr(err.msg, "overlay") && strstr(err.msg, "node badroot"),
	   "a missing rootfs fails at the overlay step: %s", err.msg);
	ok(c.pid == -1 && no_children_left(), "and the child is reaped");
	container_destroy(&c);

	cfg.rootfs = "/a,b";
	rc = container_create(&cfg, &c, &err);
	ok(rc == -EINVAL && c.pid == -1, "a rootfs path with ',' is refused up front: %s", err.msg);
}

/* A lower layer is opened without following symlinks: netsim checks the real
 * paths it hands over (no host directory), and whoever owns a directory on the
 * way must not be able to swap it for a symlink (to the host's /etc, say)
 * between that check and the mount. */
static void test_symlinked_lower(void)
{
	struct node_paths paths;
	struct container_config cfg;
	struct container c = CONTAINER_INIT;
	struct error err = { 0 };
	char link[PATH_MAX], files[PATH_MAX], via_link[PATH_MAX];

	/* the real test directory: rootfs_dir without its "/rootfs" */
	char base[PATH_MAX];
	snprintf(base, sizeof(base), "%s", rootfs_dir);
	*strrchr(base, '/') = '\0';
	snprintf(files, sizeof(files), "%s/files", base);
	snprintf(link, sizeof(link), "%s/link", base);
	snprintf(via_link, sizeof(via_link), "%s/link/files", base);
	mkdir(files, 0755);

	node_config("reallower", &paths, NULL, &cfg);
	cfg.extra_lower = files;
	int rc = container_create(&cfg, &c, &err);
	if (rc == 0)
		rc = container_wait_ready(&c, &err);
	ok(rc == 0, "real rootfs and files= paths mount: %s", rc < 0 ? err.msg : "ok");
	container_destroy(&c);

	ok(symlink(rootfs_dir, link) == 0, "symlink %s -> %s", link, rootfs_dir);
	node_config("linkroot", &paths, NULL, &cfg);
	cfg.rootfs = link;
	rc = container_create(&cfg, &c, &err);
	if (rc == 0)
		rc = container_wait_ready(&c, &err);
	ok(rc == -ELOOP && strstr(err.msg, "a symlink on its way") && strstr(err.msg, link),
	   "a rootfs that is a symlink is refused at the mount: %s", err.msg);
	ok(c.pid == -1 && no_children_left(), "and the child is reaped");
	container_destroy(&c);
	unlink(link);

	ok(symlink(base, link) == 0, "symlink %s -> %s", link, base);
	node_config("linkfiles", &paths, NULL, &cfg);
	cfg.extra_lower = via_link;
	rc = container_create(&cfg, &c, &err);
	if (rc == 0)
		rc = container_wait_ready(&c, &err);
	ok(rc == -ELOOP && strstr(err.msg, via_link),
	   "a files= layer with a symlink on its way is refused at the mount: %s", err.msg);
	ok(c.pid == -1 && no_children_left(), "and the child is reaped");
	container_destroy(&c);
	unlink(link);
	rmdir(files);
}

/* The parent is a sub-process that dies between wait_ready and start; we are the
 * subreaper, so the orphaned node becomes our child and we can see it exit. */
static void test_parent_death(void)
{
	struct node_paths paths;
	struct container_config cfg;
	int pipe_fds[2];

	node_config("orphan", &paths, NULL, &cfg);
	if (pipe(pipe_fds) < 0) {
		ok(0, "pipe");
		return;
	}
	fflush(stdout);
	pid_t parent = fork();
	if (parent == 0) {
		struct container c = CONTAINER_INIT;
		struct error err = { 0 };
		close(pipe_fds[0]);
		pid_t node = -1;
		if (container_create(&cfg, &c, &err) == 0 && container_wait_ready(&c, &err) == 0)
			node = c.pid;
		if (write(pipe_fds[1], &node, sizeof(node)) != sizeof(node))
			_exit(1);
		for (;;)
			pause();
	}
	close(pipe_fds[1]);
	pid_t node = -1;
	if (read(pipe_fds[0], &node, sizeof(node)) != sizeof(node))
		node = -1;
	close(pipe_fds[0]);
	ok(node > 0, "a sub-process created a node and got it ready");
	kill(parent, SIGKILL);
	waitpid(parent, NULL, 0);
	if (node <= 0)
		return;

	int status = 0, gone = 0;
	for (int waited = 0; waited < 5000 && !gone; waited += 10) {
		if (waitpid(node, &status, WNOHANG) == node)
			gone = 1;
		else
			usleep(10 * 1000);
	}
	ok(gone && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the node exits quietly when its parent dies before GO");
	if (!gone) {
		kill(node, SIGKILL);
		waitpid(node, NULL, 0);
	}
}

static long mem_available_kib(void)
{
	char *meminfo = read_text_file("/proc/meminfo");
	const char *line = meminfo ? strstr(meminfo, "MemAvailable:") : NULL;
	long kib = line ? strtol(line + strlen("MemAvailable:"), NULL, 10) : 0;
	free(meminfo);
	return kib;
}

static void test_bench(int count)
{
	static char *const argv[] = { "/sbin/init", "sleep", NULL };
	struct container *nodes = calloc((size_t)count, sizeof(*nodes));
	struct node_paths *paths = calloc((size_t)count, sizeof(*paths));
	struct container_config *cfgs = calloc((size_t)count, sizeof(*cfgs));
	char (*names)[16] = calloc((size_t)count, sizeof(*names));
	struct error err = { 0 };
	if (!nodes || !paths || !cfgs || !names) {
		ok(0, "bench allocation");
		goto out;
	}
	for (int i = 0; i < count; i++) {
		nodes[i] = (struct container)CONTAINER_INIT;
		snprintf(names[i], sizeof(names[i]), "b%d", i);
		node_config(names[i], &paths[i], argv, &cfgs[i]);
	}

	int started = 0;
	double t0 = now_ms();
	for (int i = 0; i < count; i++)
		started += start_node(&cfgs[i], &nodes[i], &err) == 0;
	double sequential = now_ms() - t0;
	ok(started == count, "sequential: %d of %d nodes started", started, count);
	for (int i = 0; i < count; i++)
		container_destroy(&nodes[i]);

	long mem_before = mem_available_kib();
	started = 0;
	t0 = now_ms();
	int failed = 0;
	for (int i = 0; i < count; i++)
		failed += container_create(&cfgs[i], &nodes[i], &err) < 0;
	for (int i = 0; i < count; i++)
		failed += nodes[i].pid > 0 && container_wait_ready(&nodes[i], &err) < 0;
	for (int i = 0; i < count; i++)
		started += nodes[i].pid > 0 && container_start(&nodes[i], &err) == 0;
	double pipelined = now_ms() - t0;
	ok(started == count && failed == 0, "pipelined: %d of %d nodes started", started, count);
	if (failed)
		printf("# last error: %s\n", err.msg);
	usleep(200 * 1000);
	long mem_after = mem_available_kib();

	printf("# create+start %d nodes: sequential %.0f ms (%.2f ms/node), "
	       "pipelined %.0f ms (%.2f ms/node)\n",
	       count, sequential, sequential / count, pipelined, pipelined / count);
	printf("# MemAvailable dropped by %ld KiB with %d idle nodes (%.0f KiB/node, "
	       "static init, kernel + tmpfs included)\n",
	       mem_before - mem_after, count, (double)(mem_before - mem_after) / count);

	t0 = now_ms();
	for (int i = 0; i < count; i++)
		container_destroy(&nodes[i]);
	printf("# destroy %d nodes: %.0f ms\n", count, now_ms() - t0);
	ok(no_children_left(), "bench: nothing left running");
out:
	if (nodes) {
		for (int i = 0; i < count; i++)
			container_destroy(&nodes[i]);
	}
	free(nodes);
	free(paths);
	free(cfgs);
	free(names);
}

int main(void)
{
	if (geteuid() != 0)
		skip_all("needs root (namespaces, mounts)");
	char *filesystems = read_text_file("/proc/filesystems");
	int have_overlay = filesystems && strstr(filesystems, "\toverlay\n");
	free(filesystems);
	if (!have_overlay)
		skip_all("kernel has no overlayfs");

	char helper[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", helper, sizeof(helper) - 32);
	if (n <= 0)
		skip_all("cannot find our own executable");
	helper[n] = '\0';
	snprintf(strrchr(helper, '/'), 32, "/static_init");
	if (access(helper, X_OK) != 0)
		skip_all("static_init helper not built next to the test");

	if (!mkdtemp(test_dir)) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	test_dir_created = 1;
	/* a mapped node root must be able to reach its upper dir in here */
	chmod(test_dir, 0755);
	char path[PATH_MAX];
	/* (lower layers must be real paths: mkdtemp's, in case /tmp is a symlink) */
	char real_dir[PATH_MAX];
	if (!realpath(test_dir, real_dir))
		snprintf(real_dir, sizeof(real_dir), "%s", test_dir);
	snprintf(rootfs_dir, sizeof(rootfs_dir), "%s/rootfs", real_dir);
	snprintf(path, sizeof(path), "%s/sbin", rootfs_dir);
	mkdir(rootfs_dir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sbin/init", rootfs_dir);
	int ready = copy_file(helper, path, 0755) == 0;
	snprintf(path, sizeof(path), "%s/nodes", test_dir);
	ready = ready && mkdir(path, 0755) == 0;
	/* orphaned nodes must come back to us, not to the host's init */
	ready = ready && prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
	if (ok(ready, "test rootfs in %s", test_dir)) {
		test_running_node();
		test_user_namespace();
		test_missing_init();
		test_bad_rootfs();
		test_symlinked_lower();
		test_parent_death();
		const char *bench = getenv("TEST_CONTAINER_BENCH");
		int count = bench ? atoi(bench) : 100;
		if (count > 0)
			test_bench(count);
	}
	cleanup_test_dir();
	return tap_done();
}
