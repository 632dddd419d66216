/* OpenWrt disk images: "*-combined.img(.gz)" (an MBR or GPT partition table whose
 * root partition holds squashfs or ext4) and bare "*-rootfs.squashfs" /
 * "*-rootfs.ext4(.gz)".  Read with libsquashfs (squashfs-tools-ng) and libext2fs
 * (e2fsprogs), never by mounting: the host kernel never parses a filesystem a
 * download handed us.
 *
 * The image (decompressed when gzip'd, bounded by the byte limit) is first
 * copied into a private scratch file of the cache, hashing the bytes as they are
 * read: the libraries seek around in it, and what they read must be the bytes
 * whose sha256 names the cache entry, not a file its owner rewrites meanwhile.
 * The partition table is parsed by hand (small; every field bounds-checked).
 * Each inode the walk finds becomes an archive entry for rootfs.c's writer, so
 * a filesystem gets the tarball rules: an absolute symlink followed by a file
 * "under" it, a ".." or "/" in a name, a device node, a huge size all end the
 * same way as in a tarball.  A directory inode met twice (a loop, or a
 * hard-linked directory) is refused.  Hard-linked files are written as copies;
 * extended attributes are not read. */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <et/com_err.h>
#include <fcntl.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <sqfs/dir.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "sha256.h"
#include "util.h"

#define SECTOR 512
#define MAX_DEPTH 256            /* directory nesting */
#define MAX_SYMLINK 4095

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- partition tables ------------------------------------------------------------ */

static int parse_gpt(image_read_fn read, void *ctx, uint64_t size,
		     struct image_partition parts[IMAGE_MAX_PARTITIONS], size_t *count,
		     struct error *err)
{
	uint8_t hdr[SECTOR];
	if (size < 2 * SECTOR || read(ctx, SECTOR, hdr, sizeof(hdr)) < 0)
		return error_setmsg(err, EINVAL, "a protective MBR but no GPT header");
	if (memcmp(hdr, "EFI PART", 8) != 0)
		return error_setmsg(err, EINVAL, "a protective MBR but no GPT header (no \"EFI PART\")");
	uint32_t header_size = le32(hdr + 12);
	uint64_t entries_lba = le64(hdr + 72);
	uint32_t entries = le32(hdr + 80), entry_size = le32(hdr + 84);
	uint64_t sectors = size / SECTOR;
	if (header_size < 92 || header_size > SECTOR)
		return error_setmsg(err, EINVAL, "GPT header size %u is invalid", header_size);
	if (entry_size < 128 || entry_size > 4096 || entry_size % 8)
		return error_setmsg(err, EINVAL, "GPT entry size %u is invalid", entry_size);
	if (entries > 4096)
		return error_setmsg(err, EINVAL, "GPT declares %u entries, more than 4096", entries);
	uint64_t array_bytes = (uint64_t)entries * entry_size;
	if (entries_lba < 2 || entries_lba >= sectors ||
	    array_bytes > size - entries_lba * SECTOR)
		return error_setmsg(err, EINVAL, "GPT entry array (sector %llu, %llu bytes) lies "
				    "outside the image (%llu bytes)", (unsigned long long)entries_lba,
				    (unsigned long long)array_bytes, (unsigned long long)size);
	static const uint8_t unused[16];
	*count = 0;
	for (uint32_t i = 0; i < entries; i++) {
		uint8_t e[128];
		if (read(ctx, entries_lba * SECTOR + (uint64_t)i * entry_size, e, sizeof(e)) < 0)
			return error_setmsg(err, EIO, "read GPT entry %u", i + 1);
		if (memcmp(e, unused, 16) == 0)
			continue;
		uint64_t first = le64(e + 32), last = le64(e + 40);
		if (first < 1 || first > last || last >= sectors)
			return error_setmsg(err, EINVAL, "partition %u (sectors %llu-%llu) %s the image "
					    "(%llu bytes)", i + 1, (unsigned long long)first,
					    (unsigned long long)last, last >= sectors ? "ends past the end of" :
					    "is not a valid range of", (unsigned long long)size);
		if (*count == IMAGE_MAX_PARTITIONS)
			return error_setmsg(err, EINVAL, "more than %d partitions", IMAGE_MAX_PARTITIONS);
		parts[(*count)++] = (struct image_partition){
			.number = i + 1, .offset = first * SECTOR, .size = (last - first + 1) * SECTOR,
		};
	}
	return 0;
}

int image_partitions_parse(image_read_fn read, void *ctx, uint64_t size,
			   struct image_partition parts[IMAGE_MAX_PARTITIONS], size_t *count,
			   struct error *err)
{
	uint8_t mbr[SECTOR];
	*count = 0;
	if (size < SECTOR || read(ctx, 0, mbr, sizeof(mbr)) < 0 || mbr[510] != 0x55 || mbr[511] != 0xaa)
		return error_setmsg(err, ENOENT, "no partition table (no MBR signature)");
	for (int i = 0; i < 4; i++)
		if (mbr[446 + 16 * i + 4] == 0xee)
			return parse_gpt(read, ctx, size, parts, count, err);
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + 446 + 16 * i;
		uint8_t type = e[4];
		uint64_t start = le32(e + 8), sectors = le32(e + 12);
		/* empty, and extended partitions (OpenWrt images have none) */
		if (type == 0 || type == 0x05 || type == 0x0f || type == 0x85 || sectors == 0)
			continue;
		if (start == 0 || (start + sectors) * SECTOR > size)
			return error_setmsg(err, EINVAL, "partition %d (sectors %llu-%llu) %s the image "
					    "(%llu bytes)", i + 1, (unsigned long long)start,
					    (unsigned long long)(start + sectors - 1),
					    start == 0 ? "overlaps the partition table of" :
					    "ends past the end of", (unsigned long long)size);
		parts[(*count)++] = (struct image_partition){
			.number = (unsigned)i + 1, .offset = start * SECTOR, .size = sectors * SECTOR,
		};
	}
	if (*count == 0)
		return error_setmsg(err, EINVAL, "the partition table lists no partitions");
	return 0;
}

/* ---- what a region of the image holds -------------------------------------------- */

enum fs_kind { FS_NONE, FS_SQUASHFS, FS_EXT };

static int pread_full(int fd, uint64_t offset, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int fd_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	return pread_full(*(int *)ctx, offset, buf, len);
}

static enum fs_kind kind_of(const uint8_t *head, size_t len)
{
	if (len >= 4 && memcmp(head, "hsqs", 4) == 0)
		return FS_SQUASHFS;
	if (len >= 1082 && head[1080] == 0x53 && head[1081] == 0xef)
		return FS_EXT;
	return FS_NONE;
}

static enum fs_kind kind_at(int fd, uint64_t offset, uint64_t size)
{
	uint8_t head[1082];
	if (size < sizeof(head) || pread_full(fd, offset, head, sizeof(head)) < 0)
		return FS_NONE;
	return kind_of(head, sizeof(head));
}

/* ---- copying the image into the cache -------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static int open_raw(struct rootfs_hashed *h, struct archive **out, struct error *err)
{
	struct archive *in = archive_read_new();
	if (!in)
		return error_set(err, ENOMEM, "libarchive");
	/* the tar reader's decompressors; "raw" is the identity when none applies */
	int (*const filters[])(struct archive *) = {
		archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
		archive_read_support_filter_xz,   archive_read_support_filter_lzma,
		archive_read_support_filter_zstd, archive_read_support_filter_lz4,
	};
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		(void)filters[i](in);
	struct archive_entry *entry;
	if (archive_read_support_format_raw(in) != ARCHIVE_OK || rootfs_hashed_open(h, in) < 0 ||
	    archive_read_next_header(in, &entry) != ARCHIVE_OK) {
		int ret = error_setmsg(err, EIO, "%s", archive_text(in, "unreadable"));
		archive_read_free(in);
		return ret;
	}
	*out = in;
	return 0;
}

/* The first bytes of `path`, decompressed. */
static int read_head(const char *path, uint8_t *buf, size_t len, size_t *got)
{
	*got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct rootfs_hashed *h = NULL;
	struct error ignored;
	if (rootfs_hashed_new(fd, &h, &ignored) < 0)
		return -ENOMEM;
	struct archive *in = NULL;
	if (open_raw(h, &in, &ignored) == 0) {
		while (*got < len) {
			la_ssize_t n = archive_read_data(in, buf + *got, len - *got);
			if (n <= 0)
				break;
			*got += (size_t)n;
		}
		archive_read_free(in);
	}
	rootfs_hashed_free(h);
	return 0;
}

/* Decompress `path` into the new file `scratch` (zero blocks left as holes),
 * at most max_bytes, checking that what was read has the sha256 `hex`. */
static int copy_image(const char *path, const char *scratch, const char *hex,
		      const struct rootfs_limits *limits, uint64_t *size, struct error *err)
{
	int src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (src < 0)
		return error_set(err, errno, "open %s", path);
	struct rootfs_hashed *h = NULL;
	int ret = rootfs_hashed_new(src, &h, err);
	if (ret < 0)
		return ret;
	struct archive *in = NULL;
	ret = open_raw(h, &in, err);
	if (ret < 0) {
		rootfs_hashed_free(h);
		return error_prefix(err, "read %s", path);
	}
	cleanup_close int dst = open(scratch, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dst < 0)
		ret = error_set(err, errno, "create %s", scratch);
	uint64_t max = limits ? limits->max_bytes : ROOTFS_MAX_BYTES_DEFAULT;
	const char *knob = limits ? limits->bytes_knob : NULL;
	uint64_t end = 0;
	while (ret == 0) {
		const void *block;
		size_t len;
		la_int64_t offset;
		int r = archive_read_data_block(in, &block, &len, &offset);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = error_setmsg(err, EIO, "read %s: %s", path, archive_text(in, "unknown libarchive error"));
			break;
		}
		if (offset < 0 || (uint64_t)offset > max || len > max - (uint64_t)offset) {
			ret = error_setmsg(err, EFBIG, "extraction stopped: the image expands to "
					   "more than %llu bytes%s%s%s", (unsigned long long)max,
					   knob ? " (raise the limit with " : "", knob ? knob : "",
					   knob ? ")" : "");
			break;
		}
		if (!all_zero(block, len) && pwrite(dst, block, len, offset) != (ssize_t)len)
			ret = error_set(err, errno ? errno : EIO, "write %s", scratch);
		end = (uint64_t)offset + len;
	}
	if (ret == 0 && ftruncate(dst, (off_t)end) < 0)
		ret = error_set(err, errno, "write %s", scratch);
	char got[65];
	if (ret == 0 && (ret = rootfs_hashed_digest(h, got, err)) == 0 && strcmp(got, hex) != 0)
		ret = error_setmsg(err, EIO, "%s changed while it was read (sha256 %.12s... when "
				   "hashed, %.12s... when extracted): not cached", path, hex, got);
	archive_read_free(in);
	rootfs_hashed_free(h);
	*size = end;
	return ret;
}

/* ---- a set of inode numbers (directories already walked) ---------------------------- */

struct inode_set {
	uint64_t *slots;   /* 0 = empty; stored as number + 1 */
	size_t capacity, count;
};

/* 1 when added, 0 when it was there already, -ENOMEM. */
static int inode_set_add(struct inode_set *s, uint64_t number)
{
	if (s->count * 2 >= s->capacity) {
		size_t capacity = s->capacity ? s->capacity * 2 : 256;
		uint64_t *slots = calloc(capacity, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (size_t i = 0; i < s->capacity; i++) {
			if (!s->slots[i])
				continue;
			size_t j = (size_t)(s->slots[i] * 0x9e3779b97f4a7c15ULL) & (capacity - 1);
			while (slots[j])
				j = (j + 1) & (capacity - 1);
			slots[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = slots;
		s->capacity = capacity;
	}
	uint64_t key = number + 1;
	size_t j = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (s->capacity - 1);
	while (s->slots[j]) {
		if (s->slots[j] == key)
			return 0;
		j = (j + 1) & (s->capacity - 1);
	}
	s->slots[j] = key;
	s->count++;
	return 1;
}

/* ---- walking a filesystem ------------------------------------------------------------- */

/* What both walks share. */
struct walk {
	struct rootfs_writer *w;
	struct inode_set dirs;
	const char *what;
	uint64_t listed, max_listed;   /* directory entries read, bounded like entries */
	uint8_t buf[1 << 20];          /* a squashfs block at most: each read decompresses whole blocks */
};

static const char *bad_component(const char *name, size_t len)
{
	if (len == 0)
		return "an empty name";
	if (memchr(name, '/', len))
		return "a name with '/'";
	if (memchr(name, '\0', len))
		return "a name with a NUL byte";
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return "a directory entry named '.' or '..'";
	return NULL;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory never lists a name twice; a crafted one could ("etc" a symlink
 * to the host's /etc, and "etc" a directory of files to put there). `names`
 * point at the first member (a char *) of `count` elements of `size` bytes. */
static int check_unique(struct walk *wk, void *names, size_t count, size_t size,
			struct error *err)
{
	qsort(names, count, size, compare_names);
	for (size_t i = 1; i < count; i++) {
		const char *a = *(char **)((char *)names + (i - 1) * size);
		const char *b = *(char **)((char *)names + i * size);
		if (strcmp(a, b) == 0)
			return error_setmsg(err, EPERM, "%s: entry '%s': refused: the name appears "
					    "twice in its directory", wk->what, b);
	}
	return 0;
}

static int child_path(struct walk *wk, const char *prefix, const char *name, size_t len,
		      char **out, struct error *err)
{
	const char *reason = bad_component(name, len);
	if (reason)
		return error_setmsg(err, EPERM, "%s: entry '%s/%.*s': refused: %s", wk->what, prefix,
				    (int)len, name, reason);
	if (++wk->listed > wk->max_listed)
		return error_setmsg(err, EFBIG, "%s: extraction stopped: the filesystem has more "
				    "than %llu entries", wk->what, (unsigned long long)wk->max_listed);
	if (asprintf(out, "%s%s%.*s", prefix, prefix[0] ? "/" : "", (int)len, name) < 0) {
		*out = NULL;
		return error_set(err, ENOMEM, "%s", wk->what);
	}
	return 0;
}

static int enter_directory(struct walk *wk, uint64_t number, const char *path, unsigned depth,
			   struct error *err)
{
	if (depth > MAX_DEPTH)
		return error_setmsg(err, ELOOP, "%s: entry '%s': directories nested more than %d deep",
				    wk->what, path, MAX_DEPTH);
	int r = inode_set_add(&wk->dirs, number);
	if (r < 0)
		return error_set(err, ENOMEM, "%s", wk->what);
	if (r == 0)
		return error_setmsg(err, ELOOP, "%s: entry '%s': refused: directory inode %llu "
				    "appears twice (a loop or a hard-linked directory)", wk->what,
				    path[0] ? path : ".", (unsigned long long)number);
	return 0;
}

static struct archive_entry *new_entry(const char *path, mode_t mode, uint64_t uid, uint64_t gid,
				       int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return NULL;
	archive_entry_copy_pathname(e, path);
	archive_entry_set_mode(e, mode);
	archive_entry_set_uid(e, (la_int64_t)uid);
	archive_entry_set_gid(e, (la_int64_t)gid);
	archive_entry_set_mtime(e, mtime, 0);
	return e;
}

static mode_t archive_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return AE_IFDIR;
	case S_IFREG: return AE_IFREG;
	case S_IFLNK: return AE_IFLNK;
	case S_IFCHR: return AE_IFCHR;
	case S_IFBLK: return AE_IFBLK;
	case S_IFIFO: return AE_IFIFO;
	case S_IFSOCK: return AE_IFSOCK;
	default: return 0;
	}
}

/* ---- squashfs ---------------------------------------------------------------------------- */

/* The image's region [offset, offset+size) as libsquashfs's file: reads outside
 * it fail, writes always fail. */
struct sqfs_window {
	sqfs_file_t base;
	int fd;
	uint64_t offset, size;
};

static int window_read_at(sqfs_file_t *file, sqfs_u64 offset, void *buffer, size_t size)
{
	struct sqfs_window *w = (struct sqfs_window *)file;
	if (offset > w->size || size > w->size - offset)
		return SQFS_ERROR_OUT_OF_BOUNDS;
	return pread_full(w->fd, w->offset + offset, buffer, size) < 0 ? SQFS_ERROR_IO : 0;
}

static int window_write_at(sqfs_file_t *file, sqfs_u64 offset, const void *buffer, size_t size)
{
	(void)file, (void)offset, (void)buffer, (void)size;
	return SQFS_ERROR_IO;
}

static sqfs_u64 window_get_size(const sqfs_file_t *file)
{
	return ((const struct sqfs_window *)file)->size;
}

static int window_truncate(sqfs_file_t *file, sqfs_u64 size)
{
	(void)file, (void)size;
	return SQFS_ERROR_IO;
}

static void window_destroy(sqfs_object_t *obj)
{
	(void)obj;   /* lives on the caller's stack */
}

struct squashfs {
	struct walk *wk;
	sqfs_dir_reader_t *dr;
	sqfs_data_reader_t *data;
	sqfs_id_table_t *ids;
};

static const char *sqfs_reason(int code)
{
	switch (code) {
	case SQFS_ERROR_ALLOC: return "out of memory";
	case SQFS_ERROR_IO: return "read error";
	case SQFS_ERROR_COMPRESSOR: return "a block does not decompress";
	case SQFS_ERROR_CORRUPTED: return "corrupted";
	case SQFS_ERROR_UNSUPPORTED: return "an unsupported feature or compressor";
	case SQFS_ERROR_OVERFLOW: return "a size overflows";
	case SQFS_ERROR_OUT_OF_BOUNDS: return "a reference points outside the filesystem";
	case SFQS_ERROR_SUPER_MAGIC: return "no squashfs magic";
	case SFQS_ERROR_SUPER_VERSION: return "an unsupported squashfs version";
	case SQFS_ERROR_SUPER_BLOCK_SIZE: return "an invalid block size";
	case SQFS_ERROR_NOT_DIR: return "a directory that is not one";
	default: return "unreadable";
	}
}

struct sqfs_data_ctx {
	struct squashfs *sq;
	const sqfs_inode_generic_t *inode;
	uint64_t offset, size;
};

static int sqfs_entry_data(void *ctx, const char *entry, const void **block, size_t *size,
			   int64_t *offset, struct error *err)
{
	struct sqfs_data_ctx *d = ctx;
	if (d->offset >= d->size)
		return 0;
	uint64_t want = d->size - d->offset;
	if (want > sizeof(d->sq->wk->buf))
		want = sizeof(d->sq->wk->buf);
	sqfs_s32 n = sqfs_data_reader_read(d->sq->data, d->inode, d->offset, d->sq->wk->buf,
					   (sqfs_u32)want);
	if (n <= 0)
		return error_setmsg(err, EIO, "%s: entry '%s': read: %s", d->sq->wk->what, entry,
				    n == 0 ? "shorter than its size" : sqfs_reason(n));
	*block = d->sq->wk->buf;
	*size = (size_t)n;
	*offset = (int64_t)d->offset;
	d->offset += (uint64_t)n;
	return 1;
}

static mode_t sqfs_type(const sqfs_inode_generic_t *inode)
{
	switch (inode->base.type) {
	case SQFS_INODE_DIR: case SQFS_INODE_EXT_DIR: return S_IFDIR;
	case SQFS_INODE_FILE: case SQFS_INODE_EXT_FILE: return S_IFREG;
	case SQFS_INODE_SLINK: case SQFS_INODE_EXT_SLINK: return S_IFLNK;
	case SQFS_INODE_BDEV: case SQFS_INODE_EXT_BDEV: return S_IFBLK;
	case SQFS_INODE_CDEV: case SQFS_INODE_EXT_CDEV: return S_IFCHR;
	case SQFS_INODE_FIFO: case SQFS_INODE_EXT_FIFO: return S_IFIFO;
	case SQFS_INODE_SOCKET: case SQFS_INODE_EXT_SOCKET: return S_IFSOCK;
	default: return 0;
	}
}

static int sqfs_walk(struct squashfs *sq, const sqfs_inode_generic_t *dir, const char *prefix,
		     unsigned depth, struct error *err);

static int sqfs_add(struct squashfs *sq, const char *path, const sqfs_inode_generic_t *inode,
		    unsigned depth, struct error *err)
{
	struct walk *wk = sq->wk;
	mode_t type = sqfs_type(inode);
	if (!type)
		return error_setmsg(err, EINVAL, "%s: entry '%s': unknown inode type %u", wk->what,
				    path, inode->base.type);
	sqfs_u32 uid, gid;
	if (sqfs_id_table_index_to_id(sq->ids, inode->base.uid_idx, &uid) != 0 ||
	    sqfs_id_table_index_to_id(sq->ids, inode->base.gid_idx, &gid) != 0)
		return error_setmsg(err, EINVAL, "%s: entry '%s': owner not in the id table",
				    wk->what, path);
	struct archive_entry *e = new_entry(path, archive_type(type) | (inode->base.mode & 07777),
					    uid, gid, inode->base.mod_time);
	if (!e)
		return error_set(err, ENOMEM, "%s", wk->what);
	int ret = 0;
	struct sqfs_data_ctx data = { .sq = sq, .inode = inode };
	if (type == S_IFREG) {
		sqfs_u64 size = 0;
		sqfs_inode_get_file_size(inode, &size);
		data.size = size;
		archive_entry_set_size(e, (la_int64_t)(size > INT64_MAX ? INT64_MAX : size));
	} else if (type == S_IFLNK) {
		sqfs_u32 len = inode->base.type == SQFS_INODE_SLINK ? inode->data.slink.target_size
				: inode->data.slink_ext.target_size;
		if (len == 0 || len > MAX_SYMLINK || len > inode->payload_bytes_used)
			ret = error_setmsg(err, EINVAL, "%s: entry '%s': symlink target of %u bytes",
					   wk->what, path, len);
		else {
			char target[MAX_SYMLINK + 1];
			memcpy(target, inode->extra, len);
			target[len] = '\0';
			archive_entry_copy_symlink(e, target);
		}
	}
	if (ret == 0)
		ret = rootfs_writer_add(wk->w, e, sqfs_entry_data, &data, err);
	archive_entry_free(e);
	if (ret == 0 && type == S_IFDIR)
		ret = sqfs_walk(sq, inode, path, depth + 1, err);
	return ret;
}

struct sqfs_child {
	char *name;
	sqfs_inode_generic_t *inode;
};

static int sqfs_walk(struct squashfs *sq, const sqfs_inode_generic_t *dir, const char *prefix,
		     unsigned depth, struct error *err)
{
	struct walk *wk = sq->wk;
	int ret = enter_directory(wk, dir->base.inode_number, prefix, depth, err);
	if (ret < 0)
		return ret;
	int r = sqfs_dir_reader_open_dir(sq->dr, dir, 0);
	if (r != 0)
		return error_setmsg(err, EINVAL, "%s: directory '%s': %s", wk->what, prefix[0] ? prefix : ".",
				    sqfs_reason(r));
	/* The reader has one position: list the directory, then descend. */
	struct sqfs_child *children = NULL;
	size_t count = 0, capacity = 0;
	for (;;) {
		sqfs_dir_entry_t *ent = NULL;
		r = sqfs_dir_reader_read(sq->dr, &ent);
		if (r > 0)
			break;
		if (r < 0) {
			ret = error_setmsg(err, EINVAL, "%s: directory '%s': %s", wk->what,
					   prefix[0] ? prefix : ".", sqfs_reason(r));
			break;
		}
		char *path = NULL;
		ret = child_path(wk, prefix, (const char *)ent->name, (size_t)ent->size + 1, &path, err);
		sqfs_free(ent);
		if (ret == 0 && count == capacity) {
			capacity = capacity ? capacity * 2 : 32;
			struct sqfs_child *grown = realloc(children, capacity * sizeof(*children));
			if (!grown)
				ret = error_set(err, ENOMEM, "%s", wk->what);
			else
				children = grown;
		}
		sqfs_inode_generic_t *inode = NULL;
		if (ret == 0 && (r = sqfs_dir_reader_get_inode(sq->dr, &inode)) != 0)
			ret = error_setmsg(err, EINVAL, "%s: entry '%s': %s", wk->what, path, sqfs_reason(r));
		if (ret < 0) {
			free(path);
			break;
		}
		children[count++] = (struct sqfs_child){ .name = path, .inode = inode };
	}
	if (ret == 0)
		ret = check_unique(wk, children, count, sizeof(*children), err);
	for (size_t i = 0; i < count; i++) {
		if (ret == 0)
			ret = sqfs_add(sq, children[i].name, children[i].inode, depth, err);
		free(children[i].name);
		sqfs_free(children[i].inode);
	}
	free(children);
	return ret;
}

static int read_squashfs(struct walk *wk, int fd, uint64_t offset, uint64_t size,
			 struct error *err)
{
	struct sqfs_window file = {
		.base = { .base = { .destroy = window_destroy }, .read_at = window_read_at,
			  .write_at = window_write_at, .get_size = window_get_size,
			  .truncate = window_truncate },
		.fd = fd, .offset = offset, .size = size,
	};
	sqfs_super_t super;
	int r = sqfs_super_read(&super, &file.base);
	if (r != 0)
		return error_setmsg(err, EINVAL, "%s: superblock: %s", wk->what, sqfs_reason(r));
	sqfs_compressor_config_t cfg;
	sqfs_compressor_t *cmp = NULL;
	if (sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR)super.compression_id, super.block_size,
					SQFS_COMP_FLAG_UNCOMPRESS) != 0 ||
	    sqfs_compressor_create(&cfg, &cmp) != 0)
		return error_setmsg(err, EINVAL, "%s: compressor %s is not supported",
				    wk->what, sqfs_compressor_name_from_id((SQFS_COMPRESSOR)super.compression_id)
				    ? sqfs_compressor_name_from_id((SQFS_COMPRESSOR)super.compression_id) : "?");
	struct squashfs sq = { .wk = wk };
	sqfs_inode_generic_t *root = NULL;
	int ret = 0;
	sq.ids = sqfs_id_table_create(0);
	sq.dr = sqfs_dir_reader_create(&super, cmp, &file.base, 0);
	sq.data = sqfs_data_reader_create(&file.base, super.block_size, cmp, 0);
	if (!sq.ids || !sq.dr || !sq.data)
		ret = error_set(err, ENOMEM, "%s", wk->what);
	else if ((r = sqfs_id_table_read(sq.ids, &file.base, &super, cmp)) != 0 ||
		 (r = sqfs_data_reader_load_fragment_table(sq.data, &super)) != 0 ||
		 (r = sqfs_dir_reader_get_root_inode(sq.dr, &root)) != 0)
		ret = error_setmsg(err, EINVAL, "%s: tables: %s", wk->what, sqfs_reason(r));
	else if (sqfs_type(root) != S_IFDIR)
		ret = error_setmsg(err, EINVAL, "%s: the root is not a directory", wk->what);
	else
		ret = sqfs_walk(&sq, root, "", 0, err);
	sqfs_free(root);
	sqfs_destroy(sq.data);
	sqfs_destroy(sq.dr);
	sqfs_destroy(sq.ids);
	sqfs_destroy(cmp);
	return ret;
}

/* ---- ext2/3/4 -------------------------------------------------------------------------- */

struct ext {
	struct walk *wk;
	ext2_filsys fs;
};

struct ext_child {
	char *name;
	ext2_ino_t ino;
};

struct ext_listing {
	struct ext *ex;
	const char *prefix;
	struct ext_child *v;
	size_t count, capacity;
	struct error *err;
	int ret;
};

static int ext_collect(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset,
		       int blocksize, char *buf, void *priv)
{
	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	struct ext_listing *l = priv;
	size_t len = (size_t)ext2fs_dirent_name_len(dirent);
	if ((len == 1 && dirent->name[0] == '.') ||
	    (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
		return 0;
	char *path = NULL;
	l->ret = child_path(l->ex->wk, l->prefix, dirent->name, len, &path, l->err);
	if (l->ret == 0 && l->count == l->capacity) {
		size_t capacity = l->capacity ? l->capacity * 2 : 32;
		struct ext_child *grown = realloc(l->v, capacity * sizeof(*grown));
		if (!grown)
			l->ret = error_set(l->err, ENOMEM, "%s", l->ex->wk->what);
		else {
			l->v = grown;
			l->capacity = capacity;
		}
	}
	if (l->ret < 0) {
		free(path);
		return DIRENT_ABORT;
	}
	l->v[l->count++] = (struct ext_child){ .name = path, .ino = dirent->inode };
	return 0;
}

struct ext_data_ctx {
	struct ext *ex;
	ext2_file_t file;
	uint64_t offset, size;
};

static int ext_entry_data(void *ctx, const char *entry, const void **block, size_t *size,
			  int64_t *offset, struct error *err)
{
	struct ext_data_ctx *d = ctx;
	if (d->offset >= d->size)
		return 0;
	uint64_t want = d->size - d->offset;
	if (want > sizeof(d->ex->wk->buf))
		want = sizeof(d->ex->wk->buf);
	unsigned int got = 0;
	errcode_t e = ext2fs_file_read(d->file, d->ex->wk->buf, (unsigned int)want, &got);
	if (e || got == 0)
		return error_setmsg(err, EIO, "%s: entry '%s': read: %s", d->ex->wk->what, entry,
				    e ? error_message(e) : "shorter than its size");
	*block = d->ex->wk->buf;
	*size = got;
	*offset = (int64_t)d->offset;
	d->offset += got;
	return 1;
}

static int ext_walk(struct ext *ex, ext2_ino_t dir, const char *prefix, unsigned depth,
		    struct error *err);

static int ext_add(struct ext *ex, const char *path, ext2_ino_t ino, unsigned depth,
		   struct error *err)
{
	struct walk *wk = ex->wk;
	struct ext2_inode inode;
	errcode_t e = ext2fs_read_inode(ex->fs, ino, &inode);
	if (e)
		return error_setmsg(err, EINVAL, "%s: entry '%s': inode %u: %s", wk->what, path, ino,
				    error_message(e));
	mode_t type = archive_type(inode.i_mode);
	if (!type)
		return error_setmsg(err, EINVAL, "%s: entry '%s': unknown file type %o", wk->what,
				    path, inode.i_mode & S_IFMT);
	struct archive_entry *ae = new_entry(path, type | (inode.i_mode & 07777), inode_uid(inode),
					     inode_gid(inode), (int32_t)inode.i_mtime);
	if (!ae)
		return error_set(err, ENOMEM, "%s", wk->what);
	uint64_t size = EXT2_I_SIZE(&inode);
	struct ext_data_ctx data = { .ex = ex, .size = size };
	int ret = 0;
	if (type == AE_IFREG || (type == AE_IFLNK && !ext2fs_is_fast_symlink(&inode))) {
		if (type == AE_IFLNK && (size == 0 || size > MAX_SYMLINK))
			ret = error_setmsg(err, EINVAL, "%s: entry '%s': symlink target of %llu bytes",
					   wk->what, path, (unsigned long long)size);
		else if ((e = ext2fs_file_open(ex->fs, ino, 0, &data.file)) != 0)
			ret = error_setmsg(err, EINVAL, "%s: entry '%s': %s", wk->what, path,
					   error_message(e));
	}
	if (ret == 0 && type == AE_IFREG) {
		archive_entry_set_size(ae, (la_int64_t)(size > INT64_MAX ? INT64_MAX : size));
	} else if (ret == 0 && type == AE_IFLNK) {
		char target[MAX_SYMLINK + 1];
		size_t len = 0;
		if (!data.file) {
			len = size < sizeof(inode.i_block) ? (size_t)size : sizeof(inode.i_block);
			memcpy(target, inode.i_block, len);
		} else {
			while (ret == 0 && len < size) {
				unsigned int got = 0;
				e = ext2fs_file_read(data.file, target + len, (unsigned)(size - len), &got);
				if (e || got == 0)
					ret = error_setmsg(err, EIO, "%s: entry '%s': read symlink: %s",
							   wk->what, path, e ? error_message(e) : "short");
				len += got;
			}
		}
		target[len] = '\0';
		if (ret == 0 && (len == 0 || strlen(target) != len))
			ret = error_setmsg(err, EINVAL, "%s: entry '%s': malformed symlink target",
					   wk->what, path);
		if (ret == 0)
			archive_entry_copy_symlink(ae, target);
	}
	if (ret == 0)
		ret = rootfs_writer_add(wk->w, ae, type == AE_IFREG ? ext_entry_data : NULL, &data, err);
	if (data.file)
		ext2fs_file_close(data.file);
	archive_entry_free(ae);
	if (ret == 0 && type == AE_IFDIR)
		ret = ext_walk(ex, ino, path, depth + 1, err);
	return ret;
}

static int ext_walk(struct ext *ex, ext2_ino_t dir, const char *prefix, unsigned depth,
		    struct error *err)
{
	int ret = enter_directory(ex->wk, dir, prefix, depth, err);
	if (ret < 0)
		return ret;
	struct ext_listing l = { .ex = ex, .prefix = prefix, .err = err };
	errcode_t e = ext2fs_dir_iterate2(ex->fs, dir, 0, NULL, ext_collect, &l);
	ret = l.ret;
	if (ret == 0 && e)
		ret = error_setmsg(err, EINVAL, "%s: directory '%s': %s", ex->wk->what,
				   prefix[0] ? prefix : ".", error_message(e));
	if (ret == 0)
		ret = check_unique(ex->wk, l.v, l.count, sizeof(*l.v), err);
	for (size_t i = 0; i < l.count; i++) {
		if (ret == 0)
			ret = ext_add(ex, l.v[i].name, l.v[i].ino, depth, err);
		free(l.v[i].name);
	}
	free(l.v);
	return ret;
}

static int read_ext(struct walk *wk, const char *image, uint64_t offset, struct error *err)
{
	char options[64];
	snprintf(options, sizeof(options), "offset=%llu", (unsigned long long)offset);
	struct ext ex = { .wk = wk };
	/* read-only: libext2fs never writes to the image */
	errcode_t e = ext2fs_open2(image, options, EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS,
				   0, 0, unix_io_manager, &ex.fs);
	if (e)
		return error_setmsg(err, EINVAL, "%s: %s", wk->what, error_message(e));
	int ret = ext_walk(&ex, EXT2_ROOT_INO, "", 0, err);
	ext2fs_close_free(&ex.fs);
	return ret;
}

/* ---- the image as a whole --------------------------------------------------------------- */

/* Where the root filesystem of the image in `fd` is: the whole image, or the
 * root partition (the squashfs one, else the last one with ext2/3/4: OpenWrt's
 * partition 1 is /boot, also ext4, and the root follows it). */
static int find_root(int fd, uint64_t size, const char *what, uint64_t *offset, uint64_t *len,
		     enum fs_kind *kind, struct error *err)
{
	*offset = 0;
	*len = size;
	*kind = kind_at(fd, 0, size);
	if (*kind != FS_NONE)
		return 0;
	struct image_partition parts[IMAGE_MAX_PARTITIONS];
	size_t count = 0;
	int ret = image_partitions_parse(fd_read, &fd, size, parts, &count, err);
	if (ret < 0)
		return error_prefix(err, "%s: not a squashfs or ext2/3/4 image, and its partition table",
				    what);
	const struct image_partition *found = NULL;
	for (size_t i = 0; i < count && *kind != FS_SQUASHFS; i++) {
		enum fs_kind k = kind_at(fd, parts[i].offset, parts[i].size);
		if (k != FS_NONE) {
			found = &parts[i];
			*kind = k;
		}
	}
	if (!found)
		return error_setmsg(err, EINVAL, "%s: none of its %zu partitions holds a squashfs or "
				    "ext2/3/4 filesystem", what, count);
	*offset = found->offset;
	*len = found->size;
	return 0;
}

struct disk_fill {
	const char *path, *hex;
	const struct rootfs_limits *limits;
};

static int fill_disk(void *ctx, const char *temp, struct error *err)
{
	const struct disk_fill *f = ctx;
	cleanup_free char *scratch = rootfs_cache_scratch(temp, "img");
	if (!scratch)
		return error_set(err, ENOMEM, "%s", f->path);
	(void)unlink(scratch);
	uint64_t size = 0;
	int ret = copy_image(f->path, scratch, f->hex, f->limits, &size, err);
	cleanup_close int fd = ret == 0 ? open(scratch, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (ret == 0 && fd < 0)
		ret = error_set(err, errno, "open %s", scratch);
	uint64_t offset = 0, len = 0;
	enum fs_kind kind = FS_NONE;
	if (ret == 0)
		ret = find_root(fd, size, "disk image", &offset, &len, &kind, err);
	if (ret == 0 && mkdir(temp, 0700) < 0)
		ret = error_set(err, errno, "create %s", temp);
	struct walk *wk = ret == 0 ? calloc(1, sizeof(*wk)) : NULL;
	if (ret == 0 && !wk)
		ret = error_set(err, ENOMEM, "%s", f->path);
	if (ret == 0) {
		wk->what = kind == FS_SQUASHFS ? "squashfs" : "ext2/3/4 filesystem";
		wk->max_listed = f->limits ? f->limits->max_entries : ROOTFS_MAX_ENTRIES_DEFAULT;
		ret = rootfs_writer_new(temp, f->limits, &wk->w, err);
	}
	if (ret == 0)
		ret = kind == FS_SQUASHFS ? read_squashfs(wk, fd, offset, len, err)
					  : read_ext(wk, scratch, offset, err);
	if (ret == 0)
		ret = rootfs_writer_close(wk->w, err);
	if (wk) {
		rootfs_writer_free(wk->w);
		free(wk->dirs.slots);
		free(wk);
	}
	(void)unlink(scratch);
	return ret;
}

int image_resolve_disk(const char *path, const char *platform, const char *cache_dir,
		       const struct rootfs_limits *limits, char **out, struct error *err)
{
	uint8_t head[2048];
	size_t got = 0;
	if (read_head(path, head, sizeof(head), &got) < 0)
		return 0;   /* the tarball reader reports it */
	bool tar = got >= 262 && memcmp(head + 257, "ustar", 5) == 0;
	bool table = got >= SECTOR && head[510] == 0x55 && head[511] == 0xaa;
	if (tar || (kind_of(head, got) == FS_NONE && !table))
		return 0;
	if (platform[0])
		return error_setmsg(err, EINVAL, "a disk image has one architecture: a platform (@%s) "
				    "picks one of an OCI or Docker image's manifests", platform);
	char hex[65];
	cleanup_free char *cache_real = NULL;
	int ret = sha256_file(path, hex, err);
	if (ret == 0)
		ret = rootfs_cache_open(cache_dir, &cache_real, err);
	if (ret == 0)
		ret = rootfs_cache_lookup(cache_real, hex, out, err);
	if (ret != 0)
		return ret;
	free(steal_pointer(out));
	struct disk_fill fill = { .path = path, .hex = hex, .limits = limits };
	ret = rootfs_cache_fill(cache_real, hex, fill_disk, &fill, out, err);
	return ret < 0 ? ret : 1;
}
