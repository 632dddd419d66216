/* rootfs_extract / rootfs_resolve / rootfs_remove_tree: tarballs are built here with
 * libarchive's writer, in a mkdtemp directory that is removed at the end. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

typedef int (*archive_setup_fn)(struct archive *);

/* Any format/filter pair libarchive writes, so the reader's refusals can be
 * tried on real cpio, zip, mtree and ar files. */
static int write_archive(const char *path, archive_setup_fn format, archive_setup_fn filter,
			 const struct spec *entries, size_t count)
{
	struct archive *a = archive_write_new();
	if (format(a) != ARCHIVE_OK || (filter && filter(a) != ARCHIVE_OK)) {
		printf("# format/filter for %s: %s\n", path, archive_error_string(a));
		archive_write_free(a);
		return -1;
	}
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
		bool owned = strcmp(s->name, "owned") == 0 || strcmp(s->name, "./") == 0;
		archive_entry_set_uid(e, owned ? 1234 : 0);
		archive_entry_set_gid(e, owned ? 2345 : 0);
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

static int write_tarball(const char *path, const struct spec *entries, size_t count)
{
	return write_archive(path, archive_write_set_format_pax_restricted,
			     archive_write_add_filter_gzip, entries, count);
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
	{ "./", AE_IFDIR, 0777, NULL, NULL },  /* owned by 1234: normalised */
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
	   "dest is a 0755 directory although './' says 0777");
	ok(lstat(dest, &st) == 0 && st.st_uid == geteuid() && st.st_gid == (geteuid() ? st.st_gid : 0),
	   "dest is root:root although './' says 1234:2345 (uid %u gid %u)", (unsigned)st.st_uid,
	   (unsigned)st.st_gid);

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


/* ---- the tar-only reader --------------------------------------------------- */

static const struct spec tiny_rootfs[] = {
	{ "sbin/", AE_IFDIR, 0755, NULL, NULL },
	{ "sbin/init", AE_IFREG, 0755, "#!/bin/sh\n", NULL },
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_formats(void)
{
	const struct {
		const char *name;
		archive_setup_fn format, filter;
	} accepted[] = {
		{ "pax.tar", archive_write_set_format_pax_restricted, NULL },
		{ "ustar.tar", archive_write_set_format_ustar, NULL },
		{ "gnu.tar", archive_write_set_format_gnutar, NULL },
		{ "v7.tar", archive_write_set_format_v7tar, NULL },
		{ "x.tar.gz", archive_write_set_format_pax_restricted, archive_write_add_filter_gzip },
		{ "x.tar.xz", archive_write_set_format_pax_restricted, archive_write_add_filter_xz },
		{ "x.tar.zst", archive_write_set_format_pax_restricted, archive_write_add_filter_zstd },
		{ "x.tar.bz2", archive_write_set_format_pax_restricted, archive_write_add_filter_bzip2 },
		{ "x.tar.lzma", archive_write_set_format_pax_restricted, archive_write_add_filter_lzma },
		{ "x.tar.lz4", archive_write_set_format_pax_restricted, archive_write_add_filter_lz4 },
	};
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		const char *file = tmp_path("fmt-%s", accepted[i].name);
		char dest[PATH_MAX], init[PATH_MAX + 16];
		snprintf(dest, sizeof(dest), "%s", tmp_path("fmt-%s.d", accepted[i].name));
		snprintf(init, sizeof(init), "%s/sbin/init", dest);
		if (write_archive(file, accepted[i].format, accepted[i].filter, tiny_rootfs, 2) < 0) {
			ok(1, "# SKIP this libarchive cannot write %s", accepted[i].name);
			continue;
		}
		struct error err = { 0 };
		int ret = rootfs_extract(file, dest, NULL, &err);
		ok(ret == 0 && exists(init), "%s accepted (%s)", accepted[i].name, ret ? err.msg : "ok");
		rootfs_remove_tree(dest, &err);
	}

	const struct {
		const char *name;
		archive_setup_fn format, filter;
	} refused[] = {
		{ "x.cpio", archive_write_set_format_cpio_newc, NULL },
		{ "x.cpio.gz", archive_write_set_format_cpio_newc, archive_write_add_filter_gzip },
		{ "x.zip", archive_write_set_format_zip, NULL },
		{ "x.mtree", archive_write_set_format_mtree, NULL },
		{ "x.ar", archive_write_set_format_ar_svr4, NULL },
		{ "x.iso", archive_write_set_format_iso9660, NULL },
		{ "x.7z", archive_write_set_format_7zip, NULL },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *file = tmp_path("fmt-%s", refused[i].name);
		char dest[PATH_MAX];
		snprintf(dest, sizeof(dest), "%s", tmp_path("fmt-%s.d", refused[i].name));
		const struct spec *entries = tiny_rootfs;
		size_t count = 2;
		if (refused[i].format == archive_write_set_format_ar_svr4) {
			entries = tiny_rootfs + 1;  /* ar holds plain files only */
			count = 1;
		}
		if (write_archive(file, refused[i].format, refused[i].filter, entries, count) < 0) {
			ok(1, "# SKIP this libarchive cannot write %s", refused[i].name);
			ok(1, "# SKIP");
			continue;
		}
		struct error err = { 0 };
		int ret = rootfs_extract(file, dest, NULL, &err);
		ok(ret == -EINVAL && strstr(err.msg, "not a tar archive") &&
		   strstr(err.msg, "netsim reads only tar"),
		   "%s refused: %s", refused[i].name, err.msg);
		ok(!exists(dest), "... and nothing extracted");
	}

	/* The reported attack: a host text file read as an mtree "archive". */
	const char *shadow = tmp_path("shadow");
	write_text(shadow, "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
	const char *mtree = tmp_path("hand.mtree");
	write_text(mtree, "#mtree\n./etc type=dir mode=0755\n");
	const char *raw = tmp_path("raw.bin");
	write_text(raw, "\x7f" "ELF\x02\x01\x01 definitely not an archive");
	const char *texts[] = { shadow, mtree, raw };
	for (size_t i = 0; i < 3; i++) {
		struct error err = { 0 };
		int ret = rootfs_check_tarball(texts[i], &err);
		ok(ret == -EINVAL && strstr(err.msg, "is not a tar archive"), "%s refused: %s",
		   strrchr(texts[i], '/') + 1, err.msg);
	}

	/* Empty: a 0-byte file, and a tar with no entries (just the end blocks). */
	const char *empty = tmp_path("empty.tar.gz");
	write_text(empty, "");
	struct error err = { 0 };
	int ret = rootfs_extract(empty, tmp_path("empty.d"), NULL, &err);
	ok(ret == -EINVAL && strstr(err.msg, "is empty (0 bytes)"), "0-byte file refused: %s",
	   err.msg);
	ok(!exists(tmp_path("empty.d")), "... nothing extracted");
	char *out = NULL;
	ret = rootfs_resolve(empty, tmp_path("empty-cache"), NULL, &out, &err);
	ok(ret == -EINVAL && !out && !exists(tmp_path("empty-cache")),
	   "0-byte file does not resolve, and no cache was created: %s", err.msg);
	const char *noentries = tmp_path("noentries.tar");
	write_archive(noentries, archive_write_set_format_pax_restricted, NULL, NULL, 0);
	ret = rootfs_check_tarball(noentries, &err);
	ok(ret == -EINVAL && strstr(err.msg, "holds no tar entries"), "tar without entries refused: %s",
	   err.msg);
	ret = rootfs_check_tarball(tmp_path("fmt-x.tar.gz"), &err);
	is_int(ret, 0, "rootfs_check_tarball accepts a tar.gz");
}

/* ---- extraction limits ----------------------------------------------------- */

/* A gzip'd tar of one `mib` MiB file of zeros: a small bomb. */
static int write_zero_bomb(const char *path, unsigned mib)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		archive_write_free(a);
		return -1;
	}
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "zeros");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)mib << 20);
	archive_write_header(a, e);
	static char block[1 << 20];
	for (unsigned i = 0; i < mib; i++)
		archive_write_data(a, block, sizeof(block));
	archive_entry_free(e);
	int r = archive_write_close(a);
	archive_write_free(a);
	return r == ARCHIVE_OK ? 0 : -1;
}

static void test_limits(void)
{
	char bomb[PATH_MAX];
	snprintf(bomb, sizeof(bomb), "%s", tmp_path("bomb.tar.gz"));
	ok(write_zero_bomb(bomb, 64) == 0, "built a bomb: 64 MiB of zeros, gzip'd");
	struct stat st;
	if (stat(bomb, &st) == 0)
		printf("# bomb is %lld bytes compressed\n", (long long)st.st_size);

	struct rootfs_limits small = {
		.max_bytes = 8 << 20, .max_entries = 1000, .bytes_knob = "MAX_BYTES_KNOB",
		.entries_knob = "MAX_FILES_KNOB",
	};
	struct error err = { 0 };
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int ret = rootfs_extract(bomb, tmp_path("bomb.d"), &small, &err);
	printf("# bomb refused after %.1f ms\n", elapsed_ms(&start));
	ok(ret == -EFBIG && strstr(err.msg, "more than 8388608 bytes") &&
	   strstr(err.msg, "MAX_BYTES_KNOB") && strstr(err.msg, "'zeros'"),
	   "64 MiB bomb with an 8 MiB limit refused: %s", err.msg);
	ok(!exists(tmp_path("bomb.d")), "... and its partial tree removed");

	/* Many entries, each small: the byte limit is reached across entries, in
	 * the data stream (16 x 1 MiB with an 8 MiB limit)... */
	static struct spec many[300];
	static char one_mib[(1 << 20) + 1];
	memset(one_mib, 'x', 1 << 20);
	static char names[300][16];
	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "f%03d", i);
		many[i] = (struct spec){ names[i], AE_IFREG, 0644, i < 16 ? one_mib : "x", NULL };
	}
	char sixteen[PATH_MAX], lots[PATH_MAX];
	snprintf(sixteen, sizeof(sixteen), "%s", tmp_path("sixteen.tar.gz"));
	write_tarball(sixteen, many, 16);
	ret = rootfs_extract(sixteen, tmp_path("sixteen.d"), &small, &err);
	ok(ret == -EFBIG && strstr(err.msg, "more than 8388608 bytes"),
	   "16 x 1 MiB with an 8 MiB limit refused: %s", err.msg);
	ok(!exists(tmp_path("sixteen.d")), "... and removed");

	/* ... and the entry limit (300 entries, limit 100). */
	snprintf(lots, sizeof(lots), "%s", tmp_path("lots.tar"));
	write_archive(lots, archive_write_set_format_pax_restricted, NULL, many + 16, 284);
	small.max_entries = 100;
	ret = rootfs_extract(lots, tmp_path("lots.d"), &small, &err);
	ok(ret == -EFBIG && strstr(err.msg, "more than 100 entries") &&
	   strstr(err.msg, "MAX_FILES_KNOB") && strstr(err.msg, "'f116'"),
	   "284 entries with a limit of 100 refused at the 101st: %s", err.msg);
	ok(!exists(tmp_path("lots.d")), "... and removed");
	small.max_entries = 284;
	ret = rootfs_extract(lots, tmp_path("lots.d"), &small, &err);
	is_int(ret, 0, "exactly at the entry limit is fine (%s)", ret ? err.msg : "ok");

	/* The defaults take the bomb (64 MiB < 2 GiB). */
	ret = rootfs_extract(bomb, tmp_path("bomb-default.d"), NULL, &err);
	is_int(ret, 0, "the default limits let 64 MiB through (%s)", ret ? err.msg : "ok");
	rootfs_remove_tree(tmp_path("bomb-default.d"), &err);
	rootfs_remove_tree(tmp_path("lots.d"), &err);

	/* Through the cache: nothing left behind. */
	char *out = NULL;
	small.max_bytes = 8 << 20;
	ret = rootfs_resolve(bomb, tmp_path("bomb-cache"), &small, &out, &err);
	ok(ret == -EFBIG && !out && !has_temporaries(tmp_path("bomb-cache")),
	   "bomb through rootfs_resolve: refused, no temporary left: %s", err.msg);
}

/* ---- host paths -------------------------------------------------------------- */

static void test_host_paths(void)
{
	mkdir(tmp_path("hp"), 0755);
	mkdir(tmp_path("hp/cache"), 0700);
	mkdir(tmp_path("hp/mine"), 0755);
	symlink("/", tmp_path("hp/to-root"));
	symlink("/etc", tmp_path("hp/to-etc"));
	symlink("/run/netns", tmp_path("hp/to-netns"));
	char cache[PATH_MAX];
	snprintf(cache, sizeof(cache), "%s", tmp_path("hp/cache"));
	const char *const extra[] = { cache, NULL };

	const char *refused[] = {
		"/", "//", "/etc", "/etc/", "/etc/../etc", "/usr/lib/..", "/tmp", "/tmp/",
		"/home", "/var", "/var/lib", "/run", "/proc", "/proc/self", "/proc/self/root",
		"/sys/kernel", "/dev", "/dev/shm", "/etc/apt", "/etc/passwd", "/boot/.",
		tmp_path("hp/to-etc/apt"),
		tmp_path("hp/to-root"), tmp_path("hp/to-root/"), tmp_path("hp/to-etc"),
		tmp_path("hp/mine/../../../.."), cache, tmp_path("hp/cache/"),
		tmp_path("hp"), tmp_path("hp/cache/../cache"),
	};
	struct error err = { 0 };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int ret = rootfs_check_host_path(refused[i], extra, &err);
		ok(ret == -EPERM && (strstr(err.msg, "the host's") || strstr(err.msg, "netsim's own")) &&
		   strstr(err.msg, refused[i]),
		   "%s refused: %s", refused[i], ret ? err.msg : "accepted");
	}
	/* /run/netns when it exists (ip netns creates it). */
	struct stat st;
	if (stat("/run/netns", &st) == 0) {
		ok(rootfs_check_host_path("/run/netns", NULL, &err) == -EPERM, "/run/netns refused: %s",
		   err.msg);
		ok(rootfs_check_host_path(tmp_path("hp/to-netns"), NULL, &err) == -EPERM &&
		   strstr(err.msg, "resolves to /run/netns"),
		   "a symlink to /run/netns refused: %s", err.msg);
	} else {
		ok(1, "# SKIP no /run/netns");
		ok(1, "# SKIP no /run/netns");
	}
	/* a home's credentials, wherever the home is */
	mkdir(tmp_path("hp/mine/.ssh"), 0700);
	mkdir(tmp_path("hp/mine/.gnupg"), 0700);
	mkdir(tmp_path("hp/mine/.ssh/sub"), 0700);
	const char *credentials[] = { tmp_path("hp/mine/.ssh"), tmp_path("hp/mine/.gnupg"),
				      tmp_path("hp/mine/.ssh/sub/") };
	for (size_t i = 0; i < sizeof(credentials) / sizeof(credentials[0]); i++) {
		int ret = rootfs_check_host_path(credentials[i], extra, &err);
		ok(ret == -EPERM && strstr(err.msg, "credentials"), "%s refused: %s", credentials[i],
		   ret ? err.msg : "accepted");
	}
	mkdir(tmp_path("hp/mine/.sshx"), 0755);
	mkdir(tmp_path("hp/mine/x.ssh"), 0755);
	const char *accepted[] = {
		tmp_path("hp/mine"), tmp_path("hp/mine/"), tmp_path("normal.tar.gz"),
		tmp_path("hp/missing"), tmp_path("hp/mine/.sshx"), tmp_path("hp/mine/x.ssh"),
	};
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		int ret = rootfs_check_host_path(accepted[i], extra, &err);
		is_int(ret, 0, "%s accepted (%s)", accepted[i], ret ? err.msg : "ok");
	}
}

/* ---- cache permissions -------------------------------------------------------- */

static void test_cache_permissions(void)
{
	char tarball[PATH_MAX];
	snprintf(tarball, sizeof(tarball), "%s", tmp_path("normal.tar.gz"));
	char cache[PATH_MAX];
	snprintf(cache, sizeof(cache), "%s", tmp_path("permcache/c"));
	mkdir(tmp_path("permcache"), 0755);
	struct error err = { 0 };
	char *out = NULL;

	int ret = rootfs_resolve(tarball, cache, NULL, &out, &err);
	is_int(ret, 0, "a fresh cache is created (%s)", ret ? err.msg : "ok");
	struct stat st;
	ok(stat(cache, &st) == 0 && (st.st_mode & 07777) == 0700 && st.st_uid == geteuid(),
	   "... 0700 and ours (mode %04o)", (unsigned)(st.st_mode & 07777));
	ok(out && stat(out, &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_uid == geteuid(),
	   "cache entry root is 0755 and ours although './' said 0777 1234:2345");
	ok(out && stat(out, &st) == 0 && (geteuid() != 0 || st.st_gid == 0), "... group root");
	/* An entry an older netsim left 0777: normalised on the next resolve. */
	if (out)
		chmod(out, 0777);
	free(out);
	out = NULL;
	ret = rootfs_resolve(tarball, cache, NULL, &out, &err);
	ok(ret == 0 && out && stat(out, &st) == 0 && (st.st_mode & 07777) == 0755,
	   "a cached entry with a 0777 root is normalised on use");
	free(out);
	out = NULL;

	chmod(cache, 0755);
	ret = rootfs_resolve(tarball, cache, NULL, &out, &err);
	ok(ret == -EPERM && !out && strstr(err.msg, cache) && strstr(err.msg, "mode 0755") &&
	   strstr(err.msg, "chmod 0700"),
	   "a 0755 cache is refused, naming the path and the fix: %s", err.msg);
	ok(rootfs_cache_sweep(cache, &err) == -EPERM, "... and not swept either");
	chmod(cache, 0700);

	if (geteuid() == 0) {
		chown(cache, 1234, 1234);
		ret = rootfs_resolve(tarball, cache, NULL, &out, &err);
		ok(ret == -EPERM && strstr(err.msg, "owner uid 1234"),
		   "a cache owned by another uid is refused: %s", err.msg);
		chown(cache, 0, 0);
	} else {
		ok(1, "# SKIP chown needs root");
	}

	chmod(tmp_path("permcache"), 0777);
	ret = rootfs_resolve(tarball, cache, NULL, &out, &err);
	ok(ret == -EPERM && strstr(err.msg, "writable by other users") &&
	   strstr(err.msg, tmp_path("permcache")),
	   "a cache below a world-writable directory is refused: %s", err.msg);
	chmod(tmp_path("permcache"), 01777);
	ret = rootfs_resolve(tarball, cache, NULL, &out, &err);
	is_int(ret, 0, "... but one below a sticky directory (like /tmp) is fine (%s)",
	       ret ? err.msg : "ok");
	free(out);
	out = NULL;
	chmod(tmp_path("permcache"), 0755);

	symlink("c", tmp_path("permcache/link"));
	ret = rootfs_resolve(tarball, tmp_path("permcache/link"), NULL, &out, &err);
	ok(ret == 0 && out && strstr(out, "/permcache/c/"), "a symlink to a good cache works (%s)",
	   ret ? err.msg : out);
	free(out);
}

/* ---- sweeping stale temporaries ------------------------------------------------ */

static void test_sweep(void)
{
	char cache[PATH_MAX], lock[PATH_MAX + 16], stale[PATH_MAX + 64], live[PATH_MAX + 64],
		old[PATH_MAX + 64];
	snprintf(cache, sizeof(cache), "%s", tmp_path("sweep"));
	mkdir(cache, 0700);
	snprintf(lock, sizeof(lock), "%s/.lock", cache);
	snprintf(stale, sizeof(stale), "%s/.tmp-aaaa-999999999", cache);
	mkdir(stale, 0755);
	mkdir(tmp_path("sweep/.tmp-aaaa-999999999/etc"), 0755);
	/* An older netsim (no lock) extracting as pid 1: alive, so kept. */
	snprintf(old, sizeof(old), "%s/.tmp-cccc-1", cache);
	mkdir(old, 0755);

	/* A live extraction in another process: it holds the lock shared. */
	int ready[2], go[2];
	if (pipe(ready) < 0 || pipe(go) < 0) {
		ok(0, "pipe");
		return;
	}
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		close(ready[0]);
		close(go[1]);
		int fd = open(lock, O_RDWR | O_CREAT, 0600);
		flock(fd, LOCK_SH);
		char mine[PATH_MAX + 64];
		snprintf(mine, sizeof(mine), "%s/.tmp-bbbb-%ld", cache, (long)getpid());
		mkdir(mine, 0755);
		char c = 'r';
		(void)!write(ready[1], &c, 1);
		(void)!read(go[0], &c, 1);
		_exit(0);  /* killed mid-extraction: its temporary stays, the lock goes */
	}
	close(ready[1]);
	close(go[0]);
	char c;
	(void)!read(ready[0], &c, 1);
	snprintf(live, sizeof(live), "%s/.tmp-bbbb-%ld", cache, (long)child);

	struct error err = { 0 };
	int ret = rootfs_cache_sweep(cache, &err);
	is_int(ret, 0, "sweep while an extraction is live (%s)", ret ? err.msg : "ok");
	ok(exists(live), "the live extraction's temporary is kept");
	ok(exists(stale), "nothing is swept while the lock is held shared");

	(void)!write(go[1], "g", 1);
	int status;
	waitpid(child, &status, 0);
	close(ready[0]);
	close(go[1]);
	ret = rootfs_cache_sweep(cache, &err);
	is_int(ret, 0, "sweep after the extractor died (%s)", ret ? err.msg : "ok");
	ok(!exists(live) && !exists(stale), "stale temporaries (dead pids) removed");
	ok(exists(old), "a temporary of a live pid without the lock (older netsim) kept");
	rmdir(old);
	ok(rootfs_cache_sweep(tmp_path("no-such-cache"), &err) == 0 &&
	   !exists(tmp_path("no-such-cache")), "sweeping a missing cache: success, nothing created");
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

/* Every real image in the shared fixtures passes the tar-only reader and the
 * default limits. */
static void test_fixtures(void)
{
	static const char *const fixtures[] = {
		"lede-17.01.4-x86-64-generic-rootfs.tar.gz",
		"openwrt-18.06.4-x86-64-generic-rootfs.tar.gz",
		"openwrt-21.02-snapshot-r16847-x86_64-assembled-rootfs.tar.gz",
		"openwrt-22.03-snapshot-r20142-mips_24kc-userspace-rootfs.tar.gz",
	};
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		char path[PATH_MAX], dest[PATH_MAX];
		snprintf(path, sizeof(path), "/work/shared/fixtures/%s", fixtures[i]);
		if (access(path, R_OK) != 0) {
			ok(1, "# SKIP fixture %s not present", fixtures[i]);
			continue;
		}
		snprintf(dest, sizeof(dest), "%s", tmp_path("fixture%zu", i));
		struct error err = { 0 };
		int ret = rootfs_extract(path, dest, NULL, &err);
		is_int(ret, 0, "%s extracts within the default limits (%s)", fixtures[i],
		       ret ? err.msg : "ok");
		rootfs_remove_tree(dest, &err);
	}
}

/* Whoever owns a tarball can replace it between the hash that names the cache
 * entry and the extraction: CACHE/<sha256 of a known good tarball> must never
 * hold another tarball's files (every later user of the good one would get
 * them).  A child holds the cache lock, so rootfs_resolve waits between hashing
 * and extracting; the child swaps the file exactly then. */
static bool lock_has_waiter(ino_t ino)
{
	FILE *f = fopen("/proc/locks", "r");
	if (!f)
		return false;
	char line[256], want[64];
	snprintf(want, sizeof(want), ":%lu ", (unsigned long)ino);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "->") && strstr(line, want);
	fclose(f);
	return found;
}

static void test_swapped_tarball(void)
{
	static const struct spec good[] = { { "marker", AE_IFREG, 0644, "good", NULL } };
	static const struct spec evil[] = { { "marker", AE_IFREG, 0644, "evil", NULL } };
	struct error err = { 0 };
	const char *tarball = tmp_path("swap-good.tar.gz");
	char evil_path[PATH_MAX], cache[PATH_MAX], lock[PATH_MAX + 8], hex[65];
	snprintf(evil_path, sizeof(evil_path), "%s", tmp_path("swap-evil.tar.gz"));
	snprintf(cache, sizeof(cache), "%s", tmp_path("swapcache"));
	snprintf(lock, sizeof(lock), "%s/.lock", cache);
	write_tarball(tarball, good, 1);
	write_tarball(evil_path, evil, 1);
	sha256_file(tarball, hex, &err);
	mkdir(cache, 0700);
	int lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	int ready[2];
	if (!ok(lock_fd >= 0 && fstat(lock_fd, &st) == 0 && pipe(ready) == 0, "cache lock %s", lock))
		return;
	pid_t child = fork();
	if (child == 0) {
		close(ready[0]);
		if (flock(lock_fd, LOCK_EX) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		for (int i = 0; i < 2000 && !lock_has_waiter(st.st_ino); i++)
			usleep(5000);
		_exit(rename(evil_path, tarball) == 0 ? 0 : 1);  /* and the lock goes */
	}
	close(ready[1]);
	char c;
	ok(read(ready[0], &c, 1) == 1, "a child holds the cache lock");
	close(ready[0]);
	close(lock_fd);
	char *dir = NULL;
	int ret = rootfs_resolve(tarball, cache, NULL, &dir, &err);
	int status = -1;
	waitpid(child, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "it swapped the tarball mid-resolve");
	ok(ret < 0 && strstr(err.msg, "changed while it was read"),
	   "the swapped tarball is not cached (%s)", ret < 0 ? err.msg : dir);
	char entry[PATH_MAX + 80];
	snprintf(entry, sizeof(entry), "%s/%s", cache, hex);
	ok(!exists(entry) && !has_temporaries(cache),
	   "no entry under the good tarball's sha256, no .tmp-* left");
	free(dir);
	ret = rootfs_resolve(tarball, cache, NULL, &dir, &err);
	ok(ret == 0, "the (now evil) tarball resolves once it holds still (%s)",
	   ret < 0 ? err.msg : "ok");
	free(dir);
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
	test_formats();
	test_limits();
	test_host_paths();
	test_cache_permissions();
	test_sweep();
	test_swapped_tarball();
	test_openwrt();
	test_fixtures();

	struct error err = { 0 };
	int ret = rootfs_remove_tree(tmp, &err);
	ok(ret == 0 && !exists(tmp), "test directory removed (%s)", ret ? err.msg : "ok");
	return tap_done();
}
