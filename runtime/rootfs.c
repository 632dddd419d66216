/* Root filesystems: secure tarball extraction and the content-addressed cache.
 *
 * Trust model: a rootfs tarball comes from the internet, so every entry is checked
 * before anything touches the disk.  Entry names are rewritten to absolute paths
 * under the (symlink-free) realpath of the destination; libarchive then refuses ".."
 * and any write through an existing symlink (its SECURE_SYMLINKS check walks every
 * component of that absolute path with lstat).  Symlink *targets* are not checked:
 * a rootfs legitimately holds etc/localtime -> /usr/share/zoneinfo/UTC, and such a
 * link is only ever resolved inside the container's own root.
 *
 * Only tar is read (a host file must not pass for an archive: libarchive's mtree
 * reader takes any text file), and an extraction is bounded in bytes and entries
 * (a few MB of gzip can expand to the whole disk).  The cache is root's and 0700:
 * extracted trees keep their setuid programs and 1777 directories, as a router's
 * rootfs needs, and only the cache's mode keeps host users away from them. */
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
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "image.h"
#include "sha256.h"
#include "util.h"

/* Not ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS: the names we hand libarchive are
 * absolute on purpose (dest/name), so absolute entry names are refused by
 * rootfs_unsafe_name_reason() on the original name instead.  XATTR keeps file capabilities
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

#define cleanup_archive_read __attribute__((cleanup(cleanup_archive_readp)))

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

int rootfs_remove_at(int parent_fd, const char *name, const char *what, struct error *err)
{
	struct stat st;
	if (fstat(parent_fd, &st) < 0)
		return error_set(err, errno, "remove %s", what);
	return remove_entry_at(parent_fd, st.st_dev, name, what, err);
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
const char *rootfs_unsafe_name_reason(const char *name)
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
char *rootfs_normalize_name(const char *name)
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
	const char *msg = archive_text(a, "unknown libarchive error");
	if (errnum > 0)
		return error_setmsg(err, errnum, "entry '%s': %s: %s: %s", entry, what, msg,
				    strerror(errnum));
	return error_setmsg(err, EPERM, "entry '%s': %s: %s", entry, what, msg);
}

/* ---- the tar-only reader ----------------------------------------------------- */

int rootfs_archive_support_tar(struct archive *a)
{
	/* Each filter is tried on its own: a libarchive built without one of them
	 * simply cannot read that compression (the format check then fails with
	 * libarchive's own message).  No "all": that would add uudecode, rpm and
	 * the external-program filters (lrzip, grzip, lzop). */
	int (*const filters[])(struct archive *) = {
		archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
		archive_read_support_filter_xz,   archive_read_support_filter_lzma,
		archive_read_support_filter_zstd, archive_read_support_filter_lz4,
	};
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		(void)filters[i](a);
	/* "tar" reads ustar, pax, GNU tar and v7 alike. */
	return archive_read_support_format_tar(a) == ARCHIVE_OK ? 0 : -EINVAL;
}

#define TAR_ONLY "netsim reads only tar archives, uncompressed or compressed with " \
		 "gzip, bzip2, xz, lzma, zstd or lz4"

/* libarchive recognises the format while opening or at the first header; a
 * failure there with its "file format" errno (EILSEQ on Linux) means not tar. */
static int not_tar(struct archive *in, const char *tarball, struct error *err)
{
	int errnum = archive_errno(in);
	if (errnum > 0 && errnum != EILSEQ)
		return error_setmsg(err, errnum, "open %s: %s", tarball,
				    archive_text(in, strerror(errnum)));
	return error_setmsg(err, EINVAL, "%s is not a tar archive (%s; " TAR_ONLY ")", tarball,
			    archive_text(in, "unreadable"));
}

/* A file as libarchive reads it: every byte it is given is hashed, so an
 * extraction can prove it unpacked the very bytes whose sha256 names the cache
 * entry (the file may be replaced or rewritten between hashing and extracting
 * by whoever owns it). */
struct rootfs_hashed {
	int fd;
	off_t offset;
	struct sha256 sha;
	uint8_t buf[1 << 16];
};

static la_ssize_t hashed_read(struct archive *a, void *data, const void **block)
{
	struct rootfs_hashed *r = data;
	ssize_t n;
	do
		n = pread(r->fd, r->buf, sizeof(r->buf), r->offset);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	sha256_update(&r->sha, r->buf, (size_t)n);
	r->offset += n;
	*block = r->buf;
	return n;
}

int rootfs_hashed_new(int fd, struct rootfs_hashed **out, struct error *err)
{
	struct rootfs_hashed *r = malloc(sizeof(*r));
	if (!r) {
		close(fd);
		return error_set(err, ENOMEM, "read");
	}
	r->fd = fd;
	r->offset = 0;
	sha256_init(&r->sha);
	*out = r;
	return 0;
}

void rootfs_hashed_free(struct rootfs_hashed *r)
{
	if (r && r->fd >= 0)
		close(r->fd);
	free(r);
}

int rootfs_hashed_open(struct rootfs_hashed *r, struct archive *in)
{
	r->offset = 0;
	sha256_init(&r->sha);
	return archive_read_open(in, r, NULL, hashed_read, NULL) == ARCHIVE_OK ? 0 : -EIO;
}

static void cleanup_hashedp(struct rootfs_hashed **r)
{
	rootfs_hashed_free(*r);
}

#define cleanup_hashed __attribute__((cleanup(cleanup_hashedp)))

int rootfs_hashed_digest(struct rootfs_hashed *r, char hex[65], struct error *err)
{
	static const char hex_digits[] = "0123456789abcdef";
	for (;;) {
		ssize_t n = pread(r->fd, r->buf, sizeof(r->buf), r->offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, errno, "read");
		if (n == 0)
			break;
		sha256_update(&r->sha, r->buf, (size_t)n);
		r->offset += n;
	}
	uint8_t digest[32];
	sha256_final(&r->sha, digest);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = hex_digits[digest[i] >> 4];
		hex[2 * i + 1] = hex_digits[digest[i] & 0xf];
	}
	hex[64] = '\0';
	return 0;
}

/* Hash the rest of the file (what follows the end of the archive) and compare
 * the whole with `expect_hex`. */
static int tarball_verify(struct rootfs_hashed *r, const char *tarball, const char *expect_hex,
			  struct error *err)
{
	char hex[65];
	if (rootfs_hashed_digest(r, hex, err) < 0)
		return error_prefix(err, "%s", tarball);
	if (strcmp(hex, expect_hex) != 0)
		return error_setmsg(err, EIO, "%s changed while it was read (sha256 %.12s... when "
				    "hashed, %.12s... when extracted): not cached", tarball,
				    expect_hex, hex);
	return 0;
}

static int open_tarball(const char *tarball, struct archive **out, struct rootfs_hashed **reader,
			struct error *err)
{
	/* Opened once and checked by its descriptor: what is read is what was checked. */
	int fd = open(tarball, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return error_set(err, errno, "open %s", tarball);
	cleanup_hashed struct rootfs_hashed *r = NULL;
	if (rootfs_hashed_new(fd, &r, err) < 0)
		return error_prefix(err, "%s", tarball);
	struct stat st;
	if (fstat(r->fd, &st) < 0)
		return error_set(err, errno, "open %s", tarball);
	if (!S_ISREG(st.st_mode))
		return error_setmsg(err, EINVAL, "%s is not a regular file", tarball);
	if (st.st_size == 0)
		return error_setmsg(err, EINVAL, "%s is empty (0 bytes), not a rootfs tarball",
				    tarball);
	cleanup_archive_read struct archive *in = archive_read_new();
	if (!in)
		return error_set(err, ENOMEM, "libarchive");
	if (rootfs_archive_support_tar(in) < 0)
		return error_setmsg(err, EINVAL, "libarchive: %s", archive_text(in, "unknown libarchive error"));
	if (rootfs_hashed_open(r, in) < 0)
		return not_tar(in, tarball, err);
	*out = steal_pointer(&in);
	*reader = steal_pointer(&r);
	return 0;
}

/* The next header: 1 and *entry, 0 at the end, or an error.  `index` is the
 * number of headers read before: the first one decides whether this is a tar
 * archive at all, and an end there means an archive with nothing in it. */
static int read_header(struct archive *in, const char *tarball, uint64_t index,
		       struct archive_entry **entry, struct error *err)
{
	int r = archive_read_next_header(in, entry);
	if (r == ARCHIVE_EOF && index == 0)
		/* (an ISO image starts with 32 KiB of zeros, which is also how an
		 * empty tar looks) */
		return error_setmsg(err, EINVAL, "%s holds no tar entries: an empty rootfs, or "
				    "not a tar archive (" TAR_ONLY ")", tarball);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN && index == 0)
		return not_tar(in, tarball, err);
	if (r < ARCHIVE_WARN)
		return error_setmsg(err, archive_errnum(in, EIO), "read %s: %s", tarball,
				    archive_text(in, "unknown libarchive error"));
	return 1;
}

int rootfs_check_tarball(const char *tarball, struct error *err)
{
	cleanup_hashed struct rootfs_hashed *reader = NULL;
	cleanup_archive_read struct archive *in = NULL;
	int ret = open_tarball(tarball, &in, &reader, err);
	struct archive_entry *entry;
	if (ret == 0)
		ret = read_header(in, tarball, 0, &entry, err);
	return ret < 0 ? ret : 0;
}

/* ---- the writer: every reader's entries go through here ---------------------- */

/* One tree being written, by one tarball or by an image's layers together. */
struct rootfs_writer {
	struct archive *out;
	char *root;                  /* dest's realpath */
	struct rootfs_limits limits;
	uint64_t bytes, entries;     /* written and read so far */
	struct name_list skipped;
};

static const struct rootfs_limits default_limits = {
	.max_bytes = ROOTFS_MAX_BYTES_DEFAULT,
	.max_entries = ROOTFS_MAX_ENTRIES_DEFAULT,
};

int rootfs_writer_new(const char *dest, const struct rootfs_limits *limits,
		      struct rootfs_writer **out, struct error *err)
{
	cleanup_free struct rootfs_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return error_set(err, ENOMEM, "extract into %s", dest);
	w->limits = limits ? *limits : default_limits;
	w->root = realpath(dest, NULL);
	if (!w->root)
		return error_set(err, errno, "realpath %s", dest);
	w->out = archive_write_disk_new();
	if (!w->out || archive_write_disk_set_options(w->out, extract_flags) != ARCHIVE_OK) {
		int ret = error_setmsg(err, ENOMEM, "libarchive: %s",
				       archive_text(w->out, "out of memory"));
		if (w->out)
			archive_write_free(w->out);
		free(w->root);
		return ret;
	}
	*out = steal_pointer(&w);
	return 0;
}

void rootfs_writer_free(struct rootfs_writer *w)
{
	if (!w)
		return;
	archive_write_free(w->out);
	name_list_free(&w->skipped);
	free(w->root);
	free(w);
}

const char *rootfs_writer_root(const struct rootfs_writer *w)
{
	return w->root;
}

static int rootfs_writer_fail_bytes(const struct rootfs_writer *w, const char *entry, struct error *err)
{
	const char *knob = w->limits.bytes_knob;
	return error_setmsg(err, EFBIG,
			    "entry '%s': extraction stopped: the archive expands to more than "
			    "%llu bytes%s%s%s", entry, (unsigned long long)w->limits.max_bytes,
			    knob ? " (raise the limit with " : "", knob ? knob : "", knob ? ")" : "");
}

int rootfs_writer_count_bytes(struct rootfs_writer *w, uint64_t size, const char *entry,
			      struct error *err)
{
	if (size > w->limits.max_bytes - w->bytes)
		return rootfs_writer_fail_bytes(w, entry, err);
	w->bytes += size;
	return 0;
}

int rootfs_writer_count_entry(struct rootfs_writer *w, const char *entry, struct error *err)
{
	if (++w->entries <= w->limits.max_entries)
		return 0;
	const char *knob = w->limits.entries_knob;
	return error_setmsg(err, EFBIG,
			    "entry '%s': extraction stopped: the archive has more than %llu "
			    "entries%s%s%s", entry, (unsigned long long)w->limits.max_entries,
			    knob ? " (raise the limit with " : "", knob ? knob : "", knob ? ")" : "");
}

static int copy_entry_data(struct rootfs_writer *w, const char *entry, rootfs_data_fn data,
			   void *ctx, struct error *err)
{
	for (;;) {
		const void *block;
		size_t size;
		int64_t offset;
		int r = data(ctx, entry, &block, &size, &offset, err);
		if (r <= 0)
			return r;
		/* Counted as decompressed, before it is written: a bomb stops within
		 * one block of the limit. */
		if (rootfs_writer_count_bytes(w, size, entry, err) < 0)
			return -EFBIG;
		la_ssize_t n = archive_write_data_block(w->out, block, size, offset);
		if (n < ARCHIVE_WARN)
			return archive_failure(err, w->out, entry, "write");
	}
}

/* Check and write one entry, whose contents `data` delivers (NULL: none). */
int rootfs_writer_add(struct rootfs_writer *w, struct archive_entry *entry, rootfs_data_fn data,
		      void *ctx, struct error *err)
{
	const char *raw_name = archive_entry_pathname(entry);
	cleanup_free char *name = strdup(raw_name ? raw_name : "");
	if (!name)
		return error_set(err, ENOMEM, "extract");
	int ret = rootfs_writer_count_entry(w, name, err);
	if (ret < 0)
		return ret;

	const char *reason = rootfs_unsafe_name_reason(name);
	if (reason)
		return error_setmsg(err, EPERM, "entry '%s': refused: %s", name, reason);
	cleanup_free char *relative = rootfs_normalize_name(name);
	if (!relative)
		return error_set(err, ENOMEM, "entry '%s'", name);
	mode_t type = archive_entry_filetype(entry);
	const char *hardlink = archive_entry_hardlink(entry);

	/* "." may set the root's mode and owner (normalised again at the end), but
	 * must never turn it into a symlink (which would make every later entry, and
	 * the cache entry, point elsewhere). */
	if (relative[0] == '\0' && (type != AE_IFDIR || hardlink))
		return error_setmsg(err, EPERM, "entry '%s': refused: replaces the root with a non-directory",
				    name);

	if (is_special_file(type) && !hardlink)
		return name_list_add(&w->skipped, relative) < 0 ? error_set(err, ENOMEM, "entry '%s'", name) : 0;

	/* The header's size is checked before anything is written, so one huge
	 * entry fails at once; copy_entry_data counts what really arrives. */
	la_int64_t size = archive_entry_size(entry);
	if (size > 0 && (uint64_t)size > w->limits.max_bytes - w->bytes)
		return rootfs_writer_fail_bytes(w, name, err);

	cleanup_free char *target_path = NULL;
	if (hardlink) {
		reason = rootfs_unsafe_name_reason(hardlink);
		if (reason)
			return error_setmsg(err, EPERM, "entry '%s': refused hard link to '%s': %s",
					    name, hardlink, reason);
		cleanup_free char *target = rootfs_normalize_name(hardlink);
		if (!target)
			return error_set(err, ENOMEM, "entry '%s'", name);
		if (target[0] == '\0')
			return error_setmsg(err, EPERM, "entry '%s': refused hard link to the root",
					    name);
		if (name_list_contains(&w->skipped, target))
			return name_list_add(&w->skipped, relative) < 0 ? error_set(err, ENOMEM, "entry '%s'", name) : 0;
		if (asprintf(&target_path, "%s/%s", w->root, target) < 0) {
			target_path = NULL;
			return error_set(err, ENOMEM, "entry '%s'", name);
		}
		archive_entry_copy_hardlink(entry, target_path);
	}

	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s%s%s", w->root, relative[0] ? "/" : "", relative) < 0) {
		path = NULL;
		return error_set(err, ENOMEM, "entry '%s'", name);
	}
	archive_entry_copy_pathname(entry, path);

	int r = archive_write_header(w->out, entry);
	/* (the caller's entry keeps its own name for its messages) */
	archive_entry_copy_pathname(entry, name);
	if (r < ARCHIVE_WARN)
		return archive_failure(err, w->out, name, "refused");
	if (size > 0 && data) {
		ret = copy_entry_data(w, name, data, ctx, err);
		if (ret < 0)
			return ret;
	}
	/* ARCHIVE_WARN here is metadata that could not be restored (xattrs on a
	 * filesystem without them, a timestamp): the file itself is complete. */
	r = archive_write_finish_entry(w->out);
	if (r < ARCHIVE_WARN)
		return archive_failure(err, w->out, name, "finish");
	return 0;
}

/* The contents of the current entry of the tar reader `ctx`. */
static int tar_entry_data(void *ctx, const char *entry, const void **block, size_t *size,
			  int64_t *offset, struct error *err)
{
	struct archive *in = ctx;
	la_int64_t off;
	int r = archive_read_data_block(in, block, size, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN)
		return archive_failure(err, in, entry, "read");
	*offset = off;
	return 1;
}

int rootfs_writer_add_tar(struct rootfs_writer *w, struct archive *in, const char *what,
			  bool allow_empty, rootfs_entry_filter filter, void *ctx,
			  struct error *err)
{
	for (uint64_t index = 0;; index++) {
		struct archive_entry *entry;
		int r = read_header(in, what, allow_empty ? 1 : index, &entry, err);
		if (r <= 0)
			return r;
		if (filter) {
			r = filter(ctx, entry, err);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
		}
		r = rootfs_writer_add(w, entry, tar_entry_data, in, err);
		if (r < 0)
			return r;
	}
}

/* The root of an extracted tree is root:root 0755 whatever the archive said:
 * a "." entry owned by a user or mode 0777 would otherwise become the node's "/"
 * and the cache entry's top (host users reach neither: the cache is 0700). */
static int normalize_root(const char *root, struct error *err)
{
	cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open %s", root);
	/* Without root (unit tests, a user namespace) the tree is ours anyway. */
	if (geteuid() == 0 && fchown(fd, 0, 0) < 0)
		return error_set(err, errno, "chown %s", root);
	if (fchmod(fd, 0755) < 0)
		return error_set(err, errno, "chmod %s", root);
	return 0;
}

int rootfs_writer_close(struct rootfs_writer *w, struct error *err)
{
	/* Closing applies the deferred directory modes and times. */
	if (archive_write_close(w->out) < ARCHIVE_WARN)
		return error_setmsg(err, EIO, "finish %s: %s", w->root, archive_text(w->out, "unknown libarchive error"));
	struct stat st;
	if (lstat(w->root, &st) < 0 || !S_ISDIR(st.st_mode))
		return error_setmsg(err, EPERM, "%s is no longer a directory", w->root);
	return normalize_root(w->root, err);
}

int rootfs_writer_checkpoint(struct rootfs_writer *w, struct error *err)
{
	if (archive_write_close(w->out) < ARCHIVE_WARN)
		return error_setmsg(err, EIO, "finish %s: %s", w->root, archive_text(w->out, "unknown libarchive error"));
	archive_write_free(w->out);
	w->out = archive_write_disk_new();
	if (!w->out || archive_write_disk_set_options(w->out, extract_flags) != ARCHIVE_OK)
		return error_set(err, ENOMEM, "libarchive");
	return 0;
}

static void cleanup_writerp(struct rootfs_writer **w)
{
	rootfs_writer_free(*w);
}
#define cleanup_writer __attribute__((cleanup(cleanup_writerp)))

static int extract_into(const char *tarball, const char *dest, const struct rootfs_limits *limits,
			const char *expect_hex, struct error *err)
{
	cleanup_writer struct rootfs_writer *w = NULL;
	int ret = rootfs_writer_new(dest, limits, &w, err);
	if (ret < 0)
		return ret;
	/* (freed after `in`, whose reads it serves: cleanups run in reverse) */
	cleanup_hashed struct rootfs_hashed *reader = NULL;
	cleanup_archive_read struct archive *in = NULL;
	ret = open_tarball(tarball, &in, &reader, err);
	if (ret == 0)
		ret = rootfs_writer_add_tar(w, in, tarball, false, NULL, NULL, err);
	if (ret == 0)
		ret = rootfs_writer_close(w, err);
	if (ret == 0 && expect_hex)
		ret = tarball_verify(reader, tarball, expect_hex, err);
	return ret;
}

/* rootfs_extract; with `expect_hex`, the bytes extracted must have that sha256. */
int rootfs_extract_checked(const char *tarball, const char *dest,
			   const struct rootfs_limits *limits, const char *expect_hex,
			   struct error *err)
{
	if (mkdir(dest, 0700) < 0)
		return error_set(err, errno, "create %s", dest);
	int ret = extract_into(tarball, dest, limits, expect_hex, err);
	if (ret < 0) {
		struct error ignored;
		rootfs_remove_tree(dest, &ignored);
	}
	return ret;
}

int rootfs_extract(const char *tarball, const char *dest, const struct rootfs_limits *limits,
		   struct error *err)
{
	return rootfs_extract_checked(tarball, dest, limits, NULL, err);
}

/* ---- the cache ------------------------------------------------------------- */

static int make_directories(const char *path, mode_t mode, struct error *err)
{
	int r = mkdir_p(path, mode);
	return r < 0 ? error_set(err, -r, "create %s", path) : 0;
}

#define CACHE_FIX "chown root:root %s && chmod 0700 %s, or point NETSIM_CACHE_DIR elsewhere"

/* A directory above the cache: whoever may rename entries in it could swap the
 * cache (or a directory on the way) for one of their own. */
static int check_cache_ancestor(const char *cache, const char *dir, struct error *err)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return error_set(err, errno, "rootfs cache %s: stat %s", cache, dir);
	bool owner_ok = st.st_uid == 0 || st.st_uid == geteuid();
	bool writable = (st.st_mode & 022) && !(st.st_mode & S_ISVTX);
	if (owner_ok && !writable)
		return 0;
	return error_setmsg(err, EPERM,
			    "rootfs cache %s: %s above it is %s (mode %04o, owner uid %u), so "
			    "another user could replace the cache; fix: make it root's and not "
			    "writable by others, or point NETSIM_CACHE_DIR elsewhere", cache, dir,
			    owner_ok ? "writable by other users" : "owned by another user",
			    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
}

int rootfs_cache_check(const char *cache_dir, struct error *err)
{
	cleanup_free char *real = realpath(cache_dir, NULL);
	if (!real)
		return error_set(err, errno, "rootfs cache %s", cache_dir);
	struct stat st;
	if (stat(real, &st) < 0)
		return error_set(err, errno, "rootfs cache %s", cache_dir);
	if (!S_ISDIR(st.st_mode))
		return error_setmsg(err, ENOTDIR, "rootfs cache %s is not a directory", cache_dir);
	if (st.st_uid != geteuid() || (st.st_mode & 07777) != 0700)
		return error_setmsg(err, EPERM,
				    "rootfs cache %s has mode %04o and owner uid %u; it must be "
				    "0700 and owned by uid %u, because the cached root filesystems "
				    "keep their setuid programs and world-writable directories "
				    "(fix: " CACHE_FIX ")", cache_dir, (unsigned)(st.st_mode & 07777),
				    (unsigned)st.st_uid, (unsigned)geteuid(), real, real);
	for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
		*slash = '\0';
		int ret = check_cache_ancestor(cache_dir, real[0] ? real : "/", err);
		if (ret < 0)
			return ret;
		if (slash == real)
			break;
	}
	return 0;
}

/* Open (creating) CACHE/.lock: extractors hold it shared, sweeps exclusively. */
static int cache_lock_open(const char *cache_real, struct error *err)
{
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/.lock", cache_real) < 0)
		return error_set(err, ENOMEM, "rootfs cache %s", cache_real);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(err, errno, "rootfs cache: open %s", path);
	return fd;
}

/* Remove ".tmp-<hex>-<pid>" entries; the caller holds the cache lock exclusively,
 * so no live netsim of this version is extracting.  The pid check keeps a live
 * older netsim's (which took no lock) temporary too. */
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
		if (*end == '\0' && pid > 0 && pid != getpid() &&
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
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

/* Sweep if no extraction is live; with `keep` >= 0, then hold the lock shared
 * in *keep (the caller is about to extract).  Returns 0 or an error. */
static int cache_sweep_and_lock(const char *cache_real, int *keep, struct error *err)
{
	cleanup_close int fd = cache_lock_open(cache_real, err);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		remove_stale_temporaries(cache_real);
	else if (errno != EWOULDBLOCK)
		return error_set(err, errno, "rootfs cache %s: lock", cache_real);
	if (!keep)
		return 0;
	/* Converting is not atomic: a sweep may slip in, but finds nothing of ours
	 * yet (the temporary is created only once we hold the lock shared). */
	while (flock(fd, LOCK_SH) < 0)
		if (errno != EINTR)
			return error_set(err, errno, "rootfs cache %s: lock", cache_real);
	*keep = steal_fd(&fd);
	return 0;
}

int rootfs_cache_sweep(const char *cache_dir, struct error *err)
{
	struct stat st;
	if (stat(cache_dir, &st) < 0 && errno == ENOENT)
		return 0;
	int ret = rootfs_cache_check(cache_dir, err);
	if (ret < 0)
		return ret;
	cleanup_free char *real = realpath(cache_dir, NULL);
	if (!real)
		return error_set(err, errno, "rootfs cache %s", cache_dir);
	return cache_sweep_and_lock(real, NULL, err);
}

int rootfs_cache_open(const char *cache_dir, char **cache_real, struct error *err)
{
	int ret = make_directories(cache_dir, 0700, err);
	if (ret == 0)
		ret = rootfs_cache_check(cache_dir, err);
	if (ret < 0)
		return ret;
	*cache_real = realpath(cache_dir, NULL);
	if (!*cache_real)
		return error_set(err, errno, "cache %s", cache_dir);
	return 0;
}

int rootfs_cache_lookup(const char *cache_real, const char *key, char **path, struct error *err)
{
	if (asprintf(path, "%s/%s", cache_real, key) < 0) {
		*path = NULL;
		return error_set(err, ENOMEM, "cache %s", cache_real);
	}
	struct stat st;
	if (lstat(*path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return error_setmsg(err, ENOTDIR, "cache entry %s is not a directory", *path);
	/* Entries made before roots were normalised get it now; and what a killed
	 * extraction left is swept on every `up`, not only on a miss. */
	int ret = normalize_root(*path, err);
	if (ret == 0)
		ret = cache_sweep_and_lock(cache_real, NULL, err);
	return ret < 0 ? ret : 1;
}

char *rootfs_cache_scratch(const char *temp_path, const char *what)
{
	const char *dash = strrchr(temp_path, '-');
	char *out = NULL;
	if (!dash || asprintf(&out, "%.*s.%s%s", (int)(dash - temp_path), temp_path, what, dash) < 0)
		return NULL;
	return out;
}

int rootfs_cache_fill(const char *cache_real, const char *key, rootfs_fill_fn fill, void *ctx,
		      char **out, struct error *err)
{
	cleanup_close int lock_fd = -1;
	int ret = cache_sweep_and_lock(cache_real, &lock_fd, err);
	if (ret < 0)
		return ret;
	cleanup_free char *temp_path = NULL, *final_path = NULL;
	if (asprintf(&temp_path, "%s/.tmp-%s-%ld", cache_real, key, (long)getpid()) < 0 ||
	    asprintf(&final_path, "%s/%s", cache_real, key) < 0) {
		temp_path = final_path = NULL;
		return error_set(err, ENOMEM, "cache %s", cache_real);
	}
	/* Left over from an earlier failure in this process (or a reused pid). */
	ret = rootfs_remove_tree(temp_path, err);
	if (ret == 0)
		ret = fill(ctx, temp_path, err);
	if (ret < 0) {
		struct error ignored;
		rootfs_remove_tree(temp_path, &ignored);
		return ret;
	}
	if (rename(temp_path, final_path) < 0) {
		int saved = errno;
		struct error ignored;
		rootfs_remove_tree(temp_path, &ignored);
		/* Another process finished the same image first: use theirs. */
		if (saved != EEXIST && saved != ENOTEMPTY)
			return error_set(err, saved, "rename into cache %s", final_path);
	}
	*out = steal_pointer(&final_path);
	return 0;
}

struct tarball_fill {
	const char *tarball, *hex;
	const struct rootfs_limits *limits;
};

static int fill_from_tarball(void *ctx, const char *temp_path, struct error *err)
{
	const struct tarball_fill *f = ctx;
	/* the cache entry is named by `hex`: it must hold exactly those bytes */
	return rootfs_extract_checked(f->tarball, temp_path, f->limits, f->hex, err);
}

int rootfs_resolve(const char *source, const char *cache_dir, const struct rootfs_limits *limits,
		   char **out, struct error *err)
{
	/* "PATH@ARCH" picks a platform of an OCI or Docker image (image.c). */
	cleanup_free char *path = NULL;
	char platform[IMAGE_PLATFORM_MAX];
	int ret = image_split_platform(source, &path, platform, err);
	if (ret < 0)
		return error_prefix(err, "rootfs %s", source);
	struct stat st;
	if (stat(path, &st) < 0)
		return error_set(err, errno, "rootfs %s", source);
	if (S_ISDIR(st.st_mode)) {
		ret = image_resolve_dir(path, platform, cache_dir, limits, out, err);
		if (ret != 0)
			return ret < 0 ? error_prefix(err, "rootfs %s", source) : 0;
		char *real = realpath(path, NULL);
		if (!real)
			return error_set(err, errno, "rootfs %s", source);
		*out = real;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return error_setmsg(err, EINVAL, "rootfs %s: neither a directory nor a tarball",
				    source);
	/* Disk images (partition tables, squashfs, ext4, maybe gzip'd) are told by
	 * their first bytes. */
	ret = image_resolve_disk(path, platform, cache_dir, limits, out, err);
	if (ret != 0)
		return ret < 0 ? error_prefix(err, "rootfs %s", source) : 0;

	/* Before hashing or creating anything: is it a tar archive at all? */
	ret = rootfs_check_tarball(path, err);
	if (ret < 0)
		return error_prefix(err, "rootfs");
	char hex[65];
	ret = sha256_file(path, hex, err);
	cleanup_free char *cache_real = NULL;
	if (ret == 0)
		ret = rootfs_cache_open(cache_dir, &cache_real, err);
	/* OCI layouts, docker-save and LXD tarballs (image_oci.c, image.c) */
	if (ret == 0)
		ret = image_resolve_tar(path, hex, platform, cache_real, limits, out, err);
	if (ret != 0)
		return ret < 0 ? error_prefix(err, "rootfs %s", source) : 0;

	cleanup_free char *final_path = NULL;
	ret = rootfs_cache_lookup(cache_real, hex, &final_path, err);
	if (ret == 0) {
		struct tarball_fill fill = { .tarball = path, .hex = hex, .limits = limits };
		free(steal_pointer(&final_path));
		ret = rootfs_cache_fill(cache_real, hex, fill_from_tarball, &fill, &final_path, err);
	}
	if (ret < 0)
		return error_prefix(err, "rootfs %s", source);
	*out = steal_pointer(&final_path);
	return 0;
}

/* ---- host paths a node must never see ------------------------------------------ */

/* Refused as rootfs=/files= themselves and as anything above them. */
static const char *const host_system_dirs[] = {
	"/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/boot", "/dev", "/proc", "/sys", "/run", "/var", "/root", "/home", "/tmp",
	"/opt", "/srv", "/mnt", "/media", "/usr/local", "/var/lib", "/var/cache", "/var/log",
	"/var/tmp", NULL,
};

/* Refused below too: kernel interfaces, live namespace handles, and the host's
 * configuration and boot files (its keys live there: /etc/ssh, /etc/ssl/private,
 * /boot's initramfs); no router overlay has a reason to live there. */
static const char *const host_never_inside[] = {
	"/proc", "/sys", "/dev", "/run/netns", "/etc", "/boot", NULL,
};

/* Refused wherever they are: directories of credentials in a home (a lab kept
 * under /root or /home is fine, its owner's keys are not). */
static const char *const credential_dirs[] = { ".ssh", ".gnupg", NULL };

static int refused_component(const char *real, const char *path, struct error *err)
{
	for (const char *p = real; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		for (const char *const *c = credential_dirs; *c; c++) {
			if (len == strlen(*c) && strncmp(p, *c, len) == 0)
				return error_setmsg(err, EPERM,
						    "%s is inside a %s directory: a node must not see "
						    "the host's credentials (give it a directory of its own)",
						    path, *c);
		}
		p += len;
	}
	return 0;
}

/* `a` is `b` or a directory above it. */
static bool at_or_above(const char *a, const char *b)
{
	size_t len = strlen(a);
	if (strcmp(a, "/") == 0)
		return true;
	return strncmp(a, b, len) == 0 && (b[len] == '\0' || b[len] == '/');
}

/* The realpath of a refused directory (itself when it does not exist).  The
 * host's own directories are resolved once per process: `up` checks every
 * node's layers against all of them, and realpath costs a readlink per
 * component. */
static const char *resolved_dir(const char *dir, char buf[PATH_MAX])
{
	static struct {
		const char *dir;
		char *real;
	} known[64];
	static size_t count;
	for (size_t i = 0; i < count; i++)
		if (known[i].dir == dir)
			return known[i].real;
	const char *d = realpath(dir, buf) ? buf : dir;
	bool host_table = false;
	for (const char *const *t = host_system_dirs; *t && !host_table; t++)
		host_table = *t == dir;
	for (const char *const *t = host_never_inside; *t && !host_table; t++)
		host_table = *t == dir;
	if (host_table && count < sizeof(known) / sizeof(known[0])) {
		char *copy = strdup(d);
		if (copy) {
			known[count].dir = dir;
			known[count++].real = copy;
			return copy;
		}
	}
	return d;
}

/* A refused directory by its realpath (/lib is /usr/lib on merged-/usr hosts);
 * one that does not exist is compared as written. */
static int refused_match(const char *real, const char *dir, bool inside_too, const char *owner,
			 const char *path, struct error *err)
{
	char resolved[PATH_MAX];
	const char *d = resolved_dir(dir, resolved);
	const char *why = NULL;
	if (strcmp(real, d) == 0)
		why = "is";
	else if (at_or_above(real, d))
		why = "contains";
	else if (inside_too && at_or_above(d, real))
		why = "is inside";
	if (!why)
		return 0;
	char shown[PATH_MAX + 32] = "";
	if (strcmp(path, real) != 0)
		snprintf(shown, sizeof(shown), " (resolves to %s)", real);
	return error_setmsg(err, EPERM,
			    "%s%s %s %s %s: a node must not see the host's own files "
			    "(give it a directory of its own)", path, shown, why, owner, d);
}

int rootfs_check_host_path(const char *path, const char *const *extra, struct error *err)
{
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		/* "IMAGE@ARCH" (image.c) is checked as IMAGE */
		cleanup_free char *image = NULL;
		char platform[IMAGE_PLATFORM_MAX];
		struct error ignored;
		if (image_split_platform(path, &image, platform, &ignored) < 0 || !platform[0] ||
		    !realpath(image, real))
			return 0;
	}
	for (const char *const *d = host_system_dirs; *d; d++) {
		int ret = refused_match(real, *d, false, "the host's", path, err);
		if (ret < 0)
			return ret;
	}
	for (const char *const *d = host_never_inside; *d; d++) {
		int ret = refused_match(real, *d, true, "the host's", path, err);
		if (ret < 0)
			return ret;
	}
	for (const char *const *d = extra; d && *d; d++) {
		int ret = refused_match(real, *d, true, "netsim's own", path, err);
		if (ret < 0)
			return ret;
	}
	return refused_component(real, path, err);
}
