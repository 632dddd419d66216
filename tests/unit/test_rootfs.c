/* rootfs_extract / rootfs_resolve / rootfs_remove_tree: tarballs are built here with
 * libarchive's writer, in a mkdtemp directory that is removed at the end. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rootfs.h"
#include "sha256.h"
#include "tap.h"

#define OPENWRT_FIXTURE "/work/shared/fixtures/openwrt-18.06.4-x86-64-generic-rootfs.tar.gz"
#define TEST_MTIME 1000000000

static char tmp[256];

struct spec {
	const char *name;
	mode_t type;      /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO */
	mode_t perm;
	const char *data; /* file content, or symlink target */
	const char *hardlink;
};

static char *tmp_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tmp_path(const char *fmt, ...)
{
	static char buffers[8][PATH_MAX];
	static int next;
	char *out = buffers[next++ % 8];
	char rel[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(out, PATH_MAX, "%s/%s", tmp, rel);
	return out;
}

static int write_tarball(const char *path, const struct spec *entries, size_t count)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		printf("# open %s: %s\n", path, archive_error_string(a));
		archive_write_free(a);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		const struct spec *s = &entries[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, s->name);
		archive_entry_set_filetype(e, s->type);
		archive_entry_set_perm(e, s->perm);
		archive_entry_set_uid(e, strcmp(s->name, "owned") == 0 ? 1234 : 0);
		archive_entry_set_gid(e, strcmp(s->name, "owned") == 0 ? 2345 : 0);
		archive_entry_set_mtime(e, TEST_MTIME, 0);
		if (s->type == AE_IFCHR)
			archive_entry_set_rdev(e, makedev(1, 3));
		if (s->type == AE_IFLNK)
			archive_entry_set_symlink(e, s->data);
		if (s->hardlink)
			archive_entry_set_hardlink(e, s->hardlink);
		size_t size = s->type == AE_IFREG && s->data && !s->hardlink ? strlen(s->data) : 0;
		archive_entry_set_size(e, (la_int64_t)size);
		archive_write_header(a, e);
		if (size)
			archive_write_data(a, s->data, size);
		archive_entry_free(e);
	}
	int r = archive_write_close(a);
	archive_write_free(a);
	return r == ARCHIVE_OK ? 0 : -1;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static bool has_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".tmp-", 5) == 0)
			found = true;
	closedir(d);
	return found;
}

static double elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static const struct spec normal_rootfs[] = {
	{ "./", AE_IFDIR, 0755, NULL, NULL },
	{ "bin/", AE_IFDIR, 0755, NULL, NULL },
	{ "bin/tool", AE_IFREG, 0755, "#!/bin/sh\necho tool\n", NULL },
	{ "bin/sh", AE_IFLNK, 0777, "tool", NULL },
	{ "bin/tool-hard", AE_IFREG, 0755, NULL, "bin/tool" },
	{ "./etc/", AE_IFDIR, 0755, NULL, NULL },
	{ "etc/shadow", AE_IFREG, 0600, "root:*:0:0:99999:7:::\n", NULL },
	{ "etc/localtime", AE_IFLNK, 0777, "/usr/share/zoneinfo/UTC", NULL },
	{ "usr/share/zoneinfo/UTC", AE_IFREG, 0644, "TZif2", NULL },
	{ "usr/bin/setuid", AE_IFREG, 04755, "suid", NULL },
	{ "ro/", AE_IFDIR, 0555, NULL, NULL },
	{ "ro/file", AE_IFREG, 0444, "read only", NULL },
	{ "tmp/", AE_IFDIR, 01777, NULL, NULL },
	{ "dev/", AE_IFDIR, 0755, NULL, NULL },
	{ "dev/null", AE_IFCHR, 0666, NULL, NULL },
	{ "dev/initctl", AE_IFIFO, 0600, NULL, NULL },
	{ "dev/null-again", AE_IFCHR, 0666, NULL, "dev/null" },
	{ "owned", AE_IFREG, 0640, "owned by 1234:2345", NULL },
};

static void test_normal_extract(void)
{
	const char *tarball = tmp_path("normal.tar.gz");
	ok(write_tarball(tarball, normal_rootfs, sizeof(normal_rootfs) / sizeof(normal_rootfs[0])) == 0,
	   "built the normal tarball");
	char dest[PATH_MAX];
	snprintf(dest, sizeof(dest), "%s", tmp_path("normal"));
	char path[PATH_MAX + 64];
	struct error err = { 0 };
	struct stat st;

	int ret = rootfs_extract(tarball, dest, NULL, &err);
	is_int(ret, 0, "normal tarball extracts (%s)", ret ? err.msg : "ok");

#define AT(rel) (snprintf(path, sizeof(path), "%s/%s", dest, rel), path)
	ok(lstat(AT("bin/tool"), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0755,
	   "bin/tool is a 0755 regular file");
	ok(lstat(AT("bin/tool"), &st) == 0 && st.st_mtime == TEST_MTIME, "mtime kept");
	ok(lstat(AT("etc/shadow"), &st) == 0 && (st.st_mode & 07777) == 0600, "etc/shadow is 0600");
	ok(lstat(AT("usr/bin/setuid"), &st) == 0 && (st.st_mode & 07777) == 04755,
	   "setuid bit kept");
	ok(lstat(AT("ro"), &st) == 0 && (st.st_mode & 07777) == 0555,
	   "read-only directory got its mode after its contents");
	ok(lstat(AT("ro/file"), &st) == 0 && (st.st_mode & 07777) == 0444, "ro/file is 0444");
	ok(lstat(AT("tmp"), &st) == 0 && (st.st_mode & 07777) == 01777, "tmp is 01777");
	if (geteuid() == 0)
		ok(lstat(AT("owned"), &st) == 0 && st.st_uid == 1234 && st.st_gid == 2345,
		   "numeric owner 1234:2345 kept");
	else
		ok(1, "# SKIP ownership is only restored as root");
	ok(lstat(dest, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
	   "dest is a 0755 directory");

	char target[PATH_MAX];
	ssize_t n = readlink(AT("bin/sh"), target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	is_str(target, "tool", "relative symlink bin/sh -> tool");
	n = readlink(AT("etc/localtime"), target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	is_str(target, "/usr/share/zoneinfo/UTC", "absolute symlink kept as a symlink");

	struct stat hard;
	ok(lstat(AT("bin/tool"), &st) == 0 && lstat(AT("bin/tool-hard"), &hard) == 0 &&
	   st.st_ino == hard.st_ino && st.st_nlink == 2,
	   "hard link bin/tool-hard shares bin/tool's inode");
	ok(!exists(AT("dev/null")), "character device skipped");
	ok(!exists(AT("dev/initctl")), "fifo skipped");
	ok(!exists(AT("dev/null-again")), "hard link to a skipped device skipped");
	ok(exists(AT("dev")), "dev/ itself extracted");
#undef AT

	ret = rootfs_extract(tarball, dest, NULL, &err);
	is_int(ret, -EEXIST, "extracting onto an existing dest fails with EEXIST");
	ok(exists(dest), "... and leaves the existing dest alone");

	ret = rootfs_remove_tree(dest, &err);
	is_int(ret, 0, "remove the extracted tree (%s)", ret ? err.msg : "ok");
	ok(!exists(dest), "tree gone");
}

struct hostile {
	const char *label;
	const char *entry;   /* must be named in the error */
	const char *escape;  /* relative to the case dir: must not exist afterwards */
	struct spec specs[4];
	size_t count;
};

static void test_hostile(int index, const struct hostile *h)
{
	char dir[1024], dest[1100], tarball[1100], escape[2048];
	snprintf(dir, sizeof(dir), "%s", tmp_path("hostile%d", index));
	mkdir(dir, 0755);
	snprintf(dest, sizeof(dest), "%s/dest", dir);
	snprintf(tarball, sizeof(tarball), "%s/evil.tar.gz", dir);
	if (h->escape[0] == '/')
		snprintf(escape, sizeof(escape), "%s", h->escape);
	else
		snprintf(escape, sizeof(escape), "%s/%s", dir, h->escape);

	if (write_tarball(tarball, h->specs, h->count) < 0) {
		ok(0, "%s: build tarball", h->label);
		return;
	}
	struct error err = { 0 };
	int ret = rootfs_extract(tarball, dest, NULL, &err);
	ok(ret < 0, "%s: extraction refused", h->label);
	char quoted[PATH_MAX];
	snprintf(quoted, sizeof(quoted), "'%s'", h->entry);
	ok(strstr(err.msg, quoted) != NULL, "%s: error names the entry: %s", h->label, err.msg);
	ok(!exists(escape), "%s: nothing written at %s", h->label, escape);
	ok(!exists(dest), "%s: partial dest removed", h->label);
	if (exists(escape) && h->escape[0] == '/')
		unlink(escape);
}

static void test_hostile_tarballs(void)
{
	char outside[1024], abs_name[64], hardlink_escape[1100];
	snprintf(outside, sizeof(outside), "%s", tmp_path("outside"));
	mkdir(outside, 0755);
	FILE *f = fopen(tmp_path("outside/secret"), "w");
	if (f) {
		fputs("secret\n", f);
		fclose(f);
	}
	snprintf(abs_name, sizeof(abs_name), "/netsim-test-abs-%ld", (long)getpid());
	snprintf(hardlink_escape, sizeof(hardlink_escape), "%s/secret", outside);
	char outside_pwned[PATH_MAX + 16];
	snprintf(outside_pwned, sizeof(outside_pwned), "%s/pwned", outside);

	const struct hostile cases[] = {
		{ "dotdot entry", "../x", "x",
		  { { "fine", AE_IFREG, 0644, "fine", NULL }, { "../x", AE_IFREG, 0644, "x", NULL } }, 2 },
		{ "absolute entry", abs_name, abs_name,
		  { { "fine", AE_IFREG, 0644, "fine", NULL }, { abs_name, AE_IFREG, 0644, "x", NULL } }, 2 },
		{ "write through absolute symlink", "evil/pwned", outside_pwned,
		  { { "evil", AE_IFLNK, 0777, outside, NULL },
		    { "evil/pwned", AE_IFREG, 0644, "pwned", NULL } }, 2 },
		{ "write through up -> ..", "up/escaped", "escaped",
		  { { "up", AE_IFLNK, 0777, "..", NULL },
		    { "up/escaped", AE_IFREG, 0644, "escaped", NULL } }, 2 },
		{ "nested dotdot", "a/../../y", "y",
		  { { "a/", AE_IFDIR, 0755, NULL, NULL }, { "a/../../y", AE_IFREG, 0644, "y", NULL } }, 2 },
		{ "hard link to an absolute path", "hl", "dest/hl",
		  { { "hl", AE_IFREG, 0644, NULL, "/etc/passwd" } }, 1 },
		{ "hard link with ..", "hl", "dest/hl",
		  { { "hl", AE_IFREG, 0644, NULL, "../outside/secret" } }, 1 },
		{ "hard link through a symlink", "hl", "dest/hl",
		  { { "evil", AE_IFLNK, 0777, outside, NULL },
		    { "hl", AE_IFREG, 0644, NULL, "evil/secret" } }, 2 },
		{ "root replaced by a symlink", ".", "dest",
		  { { ".", AE_IFLNK, 0777, outside, NULL },
		    { "pwned", AE_IFREG, 0644, "pwned", NULL } }, 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_hostile((int)i, &cases[i]);

	struct stat st;
	ok(stat(hardlink_escape, &st) == 0 && st.st_nlink == 1,
	   "outside/secret gained no hard link");
	ok(!exists(outside_pwned), "outside/pwned never created");

	/* Not an archive at all. */
	struct error err = { 0 };
	f = fopen(tmp_path("garbage.tar.gz"), "w");
	if (f) {
		fputs("this is not an archive\n", f);
		fclose(f);
	}
	int ret = rootfs_extract(tmp_path("garbage.tar.gz"), tmp_path("garbage"), NULL, &err);
	ok(ret < 0, "garbage is refused: %s", err.msg);
	ok(!exists(tmp_path("garbage")), "... and its dest removed");
}

static void test_resolve(void)
{
	struct error err = { 0 };
	const char *tarball = tmp_path("normal.tar.gz");
	char cache[PATH_MAX], real_tmp[PATH_MAX], hex[65], stale[PATH_MAX + 128];
	snprintf(cache, sizeof(cache), "%s", tmp_path("cache/a/b"));
	if (!realpath(tmp, real_tmp))
		snprintf(real_tmp, sizeof(real_tmp), "%s", tmp);
	sha256_file(tarball, hex, &err);

	/* A killed run left a partial extraction behind (pid 999999999 cannot exist). */
	mkdir(tmp_path("cache"), 0700);
	mkdir(tmp_path("cache/a"), 0700);
	mkdir(cache, 0700);
	snprintf(stale, sizeof(stale), "%s/.tmp-%s-999999999", cache, hex);
	mkdir(stale, 0755);
	FILE *f = fopen(tmp_path("cache/a/b/.tmp-%s-999999999/half", hex), "w");
	if (f)
		fclose(f);

	char *first = NULL, *second = NULL;
	int ret = rootfs_resolve(tarball, cache, NULL, &first, &err);
	is_int(ret, 0, "resolve a tarball (%s)", ret ? err.msg : "ok");
	char want[PATH_MAX + 128];
	snprintf(want, sizeof(want), "%s/cache/a/b/%s", real_tmp, hex);
	is_str(first, want, "cache entry is CACHE_DIR/<sha256>");
	ok(!has_temporaries(cache), "stale and own temporaries are gone");

	struct stat before, after;
	char marker[PATH_MAX + 160];
	snprintf(marker, sizeof(marker), "%s/bin/tool", want);
	int have_marker = lstat(marker, &before) == 0;
	ok(have_marker, "cache entry holds bin/tool");

	ret = rootfs_resolve(tarball, cache, NULL, &second, &err);
	is_int(ret, 0, "resolve the same tarball again");
	is_str(second, first, "same cache dir");
	ok(have_marker && lstat(marker, &after) == 0 && after.st_ino == before.st_ino &&
	   after.st_ctim.tv_nsec == before.st_ctim.tv_nsec && after.st_ctime == before.st_ctime,
	   "second resolve did not re-extract (same inode and ctime)");
	free(first);
	free(second);

	/* Two processes race for a fresh tarball: both get the same complete entry. */
	static const struct spec racy[] = {
		{ "bin/", AE_IFDIR, 0755, NULL, NULL },
		{ "bin/racy", AE_IFREG, 0755, "racy", NULL },
	};
	const char *racy_tarball = tmp_path("racy.tar");
	write_tarball(racy_tarball, racy, 2);
	char racy_hex[65];
	sha256_file(racy_tarball, racy_hex, &err);
	char racy_want[PATH_MAX + 128];
	snprintf(racy_want, sizeof(racy_want), "%s/cache/a/b/%s", real_tmp, racy_hex);
	fflush(stdout);
	pid_t children[2];
	for (int i = 0; i < 2; i++) {
		children[i] = fork();
		if (children[i] == 0) {
			char *out = NULL;
			struct error child_err;
			int r = rootfs_resolve(racy_tarball, cache, NULL, &out, &child_err);
			int good = r == 0 && out && strcmp(out, racy_want) == 0;
			free(out);
			_exit(good ? 0 : 1);
		}
	}
	int all_good = 1;
	for (int i = 0; i < 2; i++) {
		int status = 0;
		if (children[i] < 0 || waitpid(children[i], &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			all_good = 0;
	}
	ok(all_good, "two concurrent resolves both succeed with the same path");
	char racy_file[PATH_MAX + 160];
	snprintf(racy_file, sizeof(racy_file), "%s/bin/racy", racy_want);
	ok(exists(racy_file) && !has_temporaries(cache), "complete entry, no temporaries left");

	/* A hostile tarball leaves nothing in the cache. */
	static const struct spec evil[] = {
		{ "up", AE_IFLNK, 0777, "..", NULL },
		{ "up/escaped", AE_IFREG, 0644, "x", NULL },
	};
	const char *evil_tarball = tmp_path("evil-resolve.tar.gz");
	write_tarball(evil_tarball, evil, 2);
	char evil_hex[65];
	sha256_file(evil_tarball, evil_hex, &err);
	char *out = NULL;
	ret = rootfs_resolve(evil_tarball, cache, NULL, &out, &err);
	ok(ret < 0 && out == NULL, "hostile tarball does not resolve");
	ok(strstr(err.msg, "'up/escaped'") != NULL && strstr(err.msg, evil_tarball) != NULL,
	   "error names the source and the entry: %s", err.msg);
	ok(!exists(tmp_path("cache/a/b/%s", evil_hex)) && !has_temporaries(cache) &&
	   !exists(tmp_path("cache/a/escaped")),
	   "no cache entry, no temporary, nothing escaped");

	/* A directory is used as is, by its realpath. */
	mkdir(tmp_path("dirsrc"), 0755);
	symlink("dirsrc", tmp_path("dirlink"));
	ret = rootfs_resolve(tmp_path("dirlink/"), cache, NULL, &out, &err);
	is_int(ret, 0, "resolve a directory");
	snprintf(want, sizeof(want), "%s/dirsrc", real_tmp);
	is_str(out, want, "directory resolves to its realpath");
	free(out);
	out = NULL;

	const char *missing = tmp_path("missing.tar.gz");
	ret = rootfs_resolve(missing, cache, NULL, &out, &err);
	is_int(ret, -ENOENT, "missing source gives -ENOENT");
	snprintf(want, sizeof(want), "rootfs %s: No such file or directory", missing);
	is_str(err.msg, want, "missing source message");
}

static void test_remove_tree(void)
{
	struct error err = { 0 };
	mkdir(tmp_path("victim"), 0755);
	mkdir(tmp_path("victim/locked"), 0755);
	mkdir(tmp_path("victim/locked/inner"), 0755);
	FILE *f = fopen(tmp_path("victim/locked/inner/file"), "w");
	if (f)
		fclose(f);
	chmod(tmp_path("victim/locked/inner"), 0);
	chmod(tmp_path("victim/locked"), 0555);
	symlink(tmp_path("outside"), tmp_path("victim/to-outside"));
	symlink("/etc", tmp_path("victim/locked/to-etc"));

	int ret = rootfs_remove_tree(tmp_path("victim"), &err);
	is_int(ret, 0, "remove_tree with locked dirs and symlinks (%s)", ret ? err.msg : "ok");
	ok(!exists(tmp_path("victim")), "tree removed");
	ok(exists(tmp_path("outside/secret")) && exists("/etc/passwd"),
	   "symlink targets untouched");
	is_int(rootfs_remove_tree(tmp_path("victim"), &err), 0, "removing a missing tree is success");

	/* A mount below the tree is never emptied. */
	mkdir(tmp_path("mounted"), 0755);
	mkdir(tmp_path("mounted/mnt"), 0755);
	if (mount("netsim-test", tmp_path("mounted/mnt"), "tmpfs", 0, "size=1m") < 0) {
		ok(1, "# SKIP cannot mount tmpfs: %s", strerror(errno));
		ok(1, "# SKIP cannot mount tmpfs");
	} else {
		f = fopen(tmp_path("mounted/mnt/keep"), "w");
		if (f)
			fclose(f);
		ret = rootfs_remove_tree(tmp_path("mounted"), &err);
		is_int(ret, -EBUSY, "mount point below the tree: EBUSY (%s)", err.msg);
		ok(exists(tmp_path("mounted/mnt/keep")), "mounted filesystem not emptied");
		umount2(tmp_path("mounted/mnt"), MNT_DETACH);
	}
}

static void test_openwrt(void)
{
	if (access(OPENWRT_FIXTURE, R_OK) != 0) {
		for (int i = 0; i < 5; i++)
			ok(1, "# SKIP fixture %s not present", OPENWRT_FIXTURE);
		return;
	}
	struct error err = { 0 };
	char dest[PATH_MAX], path[PATH_MAX + 32];
	snprintf(dest, sizeof(dest), "%s", tmp_path("openwrt"));
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int ret = rootfs_extract(OPENWRT_FIXTURE, dest, NULL, &err);
	double ms = elapsed_ms(&start);
	is_int(ret, 0, "OpenWrt 18.06.4 rootfs extracts (%s)", ret ? err.msg : "ok");
	printf("# OpenWrt rootfs extracted in %.1f ms\n", ms);

	struct stat st;
	snprintf(path, sizeof(path), "%s/sbin/init", dest);
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111),
	   "sbin/init exists and is executable");
	char target[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bin/kill", dest);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	is_str(target, "/bin/busybox", "absolute symlink bin/kill -> /bin/busybox kept");

	char *cached = NULL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	ret = rootfs_resolve(OPENWRT_FIXTURE, tmp_path("cache"), NULL, &cached, &err);
	printf("# first resolve (hash + extract) %.1f ms\n", elapsed_ms(&start));
	is_int(ret, 0, "OpenWrt resolves into the cache");
	free(cached);
	cached = NULL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	ret = rootfs_resolve(OPENWRT_FIXTURE, tmp_path("cache"), NULL, &cached, &err);
	printf("# cached resolve (hash only) %.1f ms\n", elapsed_ms(&start));
	ok(ret == 0 && strstr(cached, "adf9875c2532ea70fc4aea8dc6a2e730176edabb91f2670e39f7ef57f3135585"),
	   "cache entry named by the fixture's published sha256");
	free(cached);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/netsim-test-rootfs-XXXXXX");
	if (!mkdtemp(tmp))
		skip_all("mkdtemp failed");

	test_normal_extract();
	test_hostile_tarballs();
	test_resolve();
	test_remove_tree();
	test_openwrt();

	struct error err = { 0 };
	int ret = rootfs_remove_tree(tmp, &err);
	ok(ret == 0 && !exists(tmp), "test directory removed (%s)", ret ? err.msg : "ok");
	return tap_done();
}
