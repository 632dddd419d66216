/* Root filesystems: secure tarball extraction and the content-addressed cache.
 *
 * Trust model: a rootfs tarball comes from the internet, so every entry is checked
 * before anything touches the disk.  Entry names are rewritten to absolute paths
 * under the (symlink-free) realpath of the destination; libarchive then refuses ".."
 * and any write through an existing symlink (its SECURE_SYMLINKS check walks every
 * component of that absolute path with lstat).  Symlink *targets* are not checked:
 * a rootfs legitimately holds etc/localtime -> /usr/share/zoneinfo/UTC, and such a
 * link is only ever resolved inside the container's own root. */
#include "rootfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "sha256.h"

/* Not ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS: the names we hand libarchive are
 * absolute on purpose (dest/name), so absolute entry names are refused by
 * unsafe_name_reason() on the original name instead.  XATTR keeps file capabilities
 * (security.capability); a filesystem without xattrs only yields a warning.  No
 * user/group lookup is installed, so numeric ids are restored as they are in the
 * archive: names would be looked up in the host's /etc/passwd, not the rootfs's. */
static const int extract_flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_PERM |
				 ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
				 ARCHIVE_EXTRACT_XATTR;

static void cleanup_archive_readp(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static void cleanup_archive_writep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

#define cleanup_archive_read __attribute__((cleanup(cleanup_archive_readp)))
#define cleanup_archive_write __attribute__((cleanup(cleanup_archive_writep)))

/* ---- safe recursive removal ------------------------------------------------ */

/* Remove `name` (relative to `parent_fd`, which lives on device `parent_dev`).
 * Directories are opened with O_NOFOLLOW, so a symlink is only ever unlinked. */
static int remove_entry_at(int parent_fd, dev_t parent_dev, const char *name,
			   const char *top, struct error *err)
{
	if (unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return error_set(err, errno, "remove %s: %s", top, name);

	cleanup_close int fd = openat(parent_fd, name,
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "remove %s: open %s", top, name);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, errno, "remove %s: stat %s", top, name);
	if (st.st_dev != parent_dev)
		return error_setmsg(err, EBUSY, "remove %s: %s is a mount point; not descending",
				    top, name);
	/* We own what we delete; a read-only directory (0555, overlayfs's work/work
	 * at 0000) must not stop us when running without CAP_DAC_OVERRIDE. */
	(void)fchmod(fd, 0700);

	DIR *dir = fdopendir(fd);
	if (!dir)
		return error_set(err, errno, "remove %s: %s", top, name);
	int dir_fd = steal_fd(&fd);
	int ret = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ret = remove_entry_at(dir_fd, st.st_dev, de->d_name, top, err);
		if (ret < 0)
			break;
		errno = 0;
	}
	if (ret == 0 && errno != 0)
		ret = error_set(err, errno, "remove %s: read %s", top, name);
	closedir(dir);
	if (ret < 0)
		return ret;
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return error_set(err, errno, "remove %s: rmdir %s", top, name);
	return 0;
}

int rootfs_remove_tree(const char *path, struct error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, errno, "remove %s", path);
	}

	cleanup_free char *dir_copy = strdup(path);
	cleanup_free char *base_copy = strdup(path);
	if (!dir_copy || !base_copy)
		return error_set(err, ENOMEM, "remove %s", path);
	const char *parent = dirname(dir_copy);
	const char *name = basename(base_copy);
	if (strcmp(name, "/") == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return error_setmsg(err, EINVAL, "remove %s: refusing to remove this path", path);

	cleanup_close int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent_fd < 0)
		return error_set(err, errno, "remove %s: open %s", path, parent);
	struct stat parent_st;
	if (fstat(parent_fd, &parent_st) < 0)
		return error_set(err, errno, "remove %s: stat %s", path, parent);
	/* Never empty a mounted filesystem: whoever mounted it must unmount it first. */
	if (S_ISDIR(st.st_mode) && st.st_dev != parent_st.st_dev)
		return error_setmsg(err, EBUSY, "remove %s: is a mount point", path);
	return remove_entry_at(parent_fd, parent_st.st_dev, name, path, err);
}

/* ---- extraction ------------------------------------------------------------ */

/* Why an entry name would escape the extraction root, or NULL if it stays inside. */
static const char *unsafe_name_reason(const char *name)
{
	if (!name || name[0] == '\0')
		return "empty path";
	if (name[0] == '/')
		return "absolute path";
	for (const char *p = name; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return "path contains '..'";
		p += len;
		while (*p == '/')
			p++;
	}
	return NULL;
}

/* `name` without "." components and repeated slashes ("./etc//x/" -> "etc/x");
 * "" means the extraction root itself.  Returns a malloc'd string or NULL. */
static char *normalize_name(const char *name)
{
	char *out = malloc(strlen(name) + 1);
	if (!out)
		return NULL;
	size_t used = 0;
	for (const char *p = name; *p;) {
		size_t len = strcspn(p, "/");
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (used > 0)
				out[used++] = '/';
			memcpy(out + used, p, len);
			used += len;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	out[used] = '\0';
	return out;
}

/* Names of skipped device/FIFO/socket entries, so that a hard link to one of them
 * is skipped too instead of failing on a missing target. */
struct name_list {
	char **names;
	size_t count, capacity;
};

static void name_list_free(struct name_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->names[i]);
	free(list->names);
}

static int name_list_add(struct name_list *list, const char *name)
{
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 16;
		char **names = realloc(list->names, capacity * sizeof(*names));
		if (!names)
			return -ENOMEM;
		list->names = names;
		list->capacity = capacity;
	}
	list->names[list->count] = strdup(name);
	if (!list->names[list->count])
		return -ENOMEM;
	list->count++;
	return 0;
}

static bool name_list_contains(const struct name_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->names[i], name) == 0)
			return true;
	return false;
}

static bool is_special_file(mode_t type)
{
	return type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK;
}

/* libarchive's error as our error: its errno when it has one, else EPERM (its
 * refusals — "..", symlink in the path — carry no errno). */
static int archive_failure(struct error *err, struct archive *a, const char *entry,
			   const char *what)
{
	int errnum = archive_errno(a);
	const char *msg = archive_error_string(a);
	if (!msg)
		msg = "unknown libarchive error";
	if (errnum > 0)
		return error_setmsg(err, errnum, "entry '%s': %s: %s: %s", entry, what, msg,
				    strerror(errnum));
	return error_setmsg(err, EPERM, "entry '%s': %s: %s", entry, what, msg);
}

static int copy_entry_data(struct archive *in, struct archive *out, const char *entry,
			   struct error *err)
{
	for (;;) {
		const void *block;
		size_t size;
		la_int64_t offset;
		int r = archive_read_data_block(in, &block, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return archive_failure(err, in, entry, "read");
		la_ssize_t w = archive_write_data_block(out, block, size, offset);
		if (w < ARCHIVE_WARN)
			return archive_failure(err, out, entry, "write");
	}
}

/* Extract one entry whose header has been read; `root` is dest's realpath. */
static int extract_entry(struct archive *in, struct archive *out, struct archive_entry *entry,
			 const char *root, struct name_list *skipped, struct error *err)
{
	const char *raw_name = archive_entry_pathname(entry);
	cleanup_free char *name = strdup(raw_name ? raw_name : "");
	if (!name)
		return error_set(err, ENOMEM, "extract");

	const char *reason = unsafe_name_reason(name);
	if (reason)
		return error_setmsg(err, EPERM, "entry '%s': refused: %s", name, reason);
	cleanup_free char *relative = normalize_name(name);
	if (!relative)
		return error_set(err, ENOMEM, "entry '%s'", name);
	mode_t type = archive_entry_filetype(entry);
	const char *hardlink = archive_entry_hardlink(entry);

	/* "." may set the root's mode and owner, but must never turn it into a symlink
	 * (which would make every later entry, and the cache entry, point elsewhere). */
	if (relative[0] == '\0' && (type != AE_IFDIR || hardlink))
		return error_setmsg(err, EPERM, "entry '%s': refused: replaces the root with a non-directory",
				    name);

	if (is_special_file(type) && !hardlink)
		return name_list_add(skipped, relative) < 0 ? error_set(err, ENOMEM, "entry '%s'", name) : 0;

	cleanup_free char *target_path = NULL;
	if (hardlink) {
		reason = unsafe_name_reason(hardlink);
		if (reason)
			return error_setmsg(err, EPERM, "entry '%s': refused hard link to '%s': %s",
					    name, hardlink, reason);
		cleanup_free char *target = normalize_name(hardlink);
		if (!target)
			return error_set(err, ENOMEM, "entry '%s'", name);
		if (target[0] == '\0')
			return error_setmsg(err, EPERM, "entry '%s': refused hard link to the root",
					    name);
		if (name_list_contains(skipped, target))
			return name_list_add(skipped, relative) < 0 ? error_set(err, ENOMEM, "entry '%s'", name) : 0;
		if (asprintf(&target_path, "%s/%s", root, target) < 0) {
			target_path = NULL;
			return error_set(err, ENOMEM, "entry '%s'", name);
		}
		archive_entry_copy_hardlink(entry, target_path);
	}

	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s%s%s", root, relative[0] ? "/" : "", relative) < 0) {
		path = NULL;
		return error_set(err, ENOMEM, "entry '%s'", name);
	}
	archive_entry_copy_pathname(entry, path);

	int r = archive_write_header(out, entry);
	if (r < ARCHIVE_WARN)
		return archive_failure(err, out, name, "refused");
	if (archive_entry_size(entry) > 0) {
		int ret = copy_entry_data(in, out, name, err);
		if (ret < 0)
			return ret;
	}
	/* ARCHIVE_WARN here is metadata that could not be restored (xattrs on a
	 * filesystem without them, a timestamp): the file itself is complete. */
	r = archive_write_finish_entry(out);
	if (r < ARCHIVE_WARN)
		return archive_failure(err, out, name, "finish");
	return 0;
}

static int extract_into(const char *tarball, const char *dest, struct error *err)
{
	cleanup_free char *root = realpath(dest, NULL);
	if (!root)
		return error_set(err, errno, "realpath %s", dest);

	cleanup_archive_read struct archive *in = archive_read_new();
	cleanup_archive_write struct archive *out = archive_write_disk_new();
	if (!in || !out)
		return error_set(err, ENOMEM, "libarchive");
	archive_read_support_filter_all(in);
	archive_read_support_format_all(in);
	if (archive_write_disk_set_options(out, extract_flags) != ARCHIVE_OK)
		return error_setmsg(err, EINVAL, "libarchive options: %s", archive_error_string(out));
	if (archive_read_open_filename(in, tarball, 1 << 16) != ARCHIVE_OK) {
		int errnum = archive_errno(in);
		return error_setmsg(err, errnum > 0 ? errnum : EINVAL, "open %s: %s", tarball,
				    archive_error_string(in));
	}

	struct name_list skipped = { 0 };
	int ret = 0;
	for (;;) {
		struct archive_entry *entry;
		int r = archive_read_next_header(in, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			int errnum = archive_errno(in);
			ret = error_setmsg(err, errnum > 0 ? errnum : EIO, "read %s: %s", tarball,
					   archive_error_string(in));
			break;
		}
		ret = extract_entry(in, out, entry, root, &skipped, err);
		if (ret < 0)
			break;
	}
	name_list_free(&skipped);
	if (ret < 0)
		return ret;

	/* Closing applies the deferred directory modes and times. */
	if (archive_write_close(out) < ARCHIVE_WARN)
		return error_setmsg(err, EIO, "finish %s: %s", dest, archive_error_string(out));
	struct stat st;
	if (lstat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		return error_setmsg(err, EPERM, "%s is no longer a directory", dest);
	return 0;
}

int rootfs_extract(const char *tarball, const char *dest, struct error *err)
{
	if (mkdir(dest, 0755) < 0)
		return error_set(err, errno, "create %s", dest);
	int ret = chmod(dest, 0755) < 0 ? error_set(err, errno, "chmod %s", dest) : 0;
	if (ret == 0)
		ret = extract_into(tarball, dest, err);
	if (ret < 0) {
		struct error ignored;
		rootfs_remove_tree(dest, &ignored);
	}
	return ret;
}

/* ---- the cache ------------------------------------------------------------- */

static int make_directories(const char *path, mode_t mode, struct error *err)
{
	cleanup_free char *copy = strdup(path);
	if (!copy)
		return error_set(err, ENOMEM, "create %s", path);
	for (char *p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return error_set(err, errno, "create %s", copy);
		*p = saved;
		if (saved == '\0')
			break;
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return error_set(err, errno, "create %s", path);
	if (!S_ISDIR(st.st_mode))
		return error_set(err, ENOTDIR, "create %s", path);
	return 0;
}

/* Remove ".tmp-<hex>-<pid>" siblings left by extractions that were killed: their
 * pid no longer exists.  (A live extractor's directory is never touched.) */
static void remove_stale_temporaries(const char *cache_dir)
{
	DIR *dir = opendir(cache_dir);
	if (!dir)
		return;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		const char *dash = strrchr(de->d_name, '-');
		char *end;
		long pid = strtol(dash + 1, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		cleanup_free char *path = NULL;
		if (asprintf(&path, "%s/%s", cache_dir, de->d_name) < 0) {
			path = NULL;
			continue;
		}
		struct error ignored;
		rootfs_remove_tree(path, &ignored);
	}
	closedir(dir);
}

int rootfs_resolve(const char *source, const char *cache_dir, char **out, struct error *err)
{
	struct stat st;
	if (stat(source, &st) < 0)
		return error_set(err, errno, "rootfs %s", source);
	if (S_ISDIR(st.st_mode)) {
		char *real = realpath(source, NULL);
		if (!real)
			return error_set(err, errno, "rootfs %s", source);
		*out = real;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return error_setmsg(err, EINVAL, "rootfs %s: neither a directory nor a tarball",
				    source);

	char hex[65];
	int ret = sha256_file(source, hex, err);
	if (ret < 0)
		return error_prefix(err, "rootfs %s", source);
	ret = make_directories(cache_dir, 0700, err);
	if (ret < 0)
		return error_prefix(err, "rootfs %s: cache", source);
	cleanup_free char *cache_real = realpath(cache_dir, NULL);
	if (!cache_real)
		return error_set(err, errno, "rootfs %s: cache %s", source, cache_dir);

	cleanup_free char *final_path = NULL;
	cleanup_free char *temp_path = NULL;
	if (asprintf(&final_path, "%s/%s", cache_real, hex) < 0) {
		final_path = NULL;
		return error_set(err, ENOMEM, "rootfs %s", source);
	}
	if (lstat(final_path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return error_setmsg(err, ENOTDIR, "rootfs %s: cache entry %s is not a directory",
					    source, final_path);
		*out = steal_pointer(&final_path);
		return 0;
	}

	remove_stale_temporaries(cache_real);
	if (asprintf(&temp_path, "%s/.tmp-%s-%ld", cache_real, hex, (long)getpid()) < 0) {
		temp_path = NULL;
		return error_set(err, ENOMEM, "rootfs %s", source);
	}
	/* Left over from an earlier failure in this process (or a reused pid). */
	ret = rootfs_remove_tree(temp_path, err);
	if (ret < 0)
		return error_prefix(err, "rootfs %s", source);

	ret = rootfs_extract(source, temp_path, err);
	if (ret < 0)
		return error_prefix(err, "rootfs %s", source);

	if (rename(temp_path, final_path) < 0) {
		int saved = errno;
		struct error ignored;
		rootfs_remove_tree(temp_path, &ignored);
		/* Another process finished the same tarball first: use theirs. */
		if (saved != EEXIST && saved != ENOTEMPTY)
			return error_set(err, saved, "rootfs %s: rename into cache %s", source,
					 final_path);
	}
	*out = steal_pointer(&final_path);
	return 0;
}
