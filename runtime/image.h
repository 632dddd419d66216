/* Root filesystem images besides plain tarballs and directories (docs/rootfs.md):
 * OCI image layouts and `docker save` archives (image_oci.c), LXD/Incus image
 * tarballs (image.c), and OpenWrt disk images: partition tables, squashfs and
 * ext2/3/4, bare or gzip'd (image_disk.c).
 *
 * Internal to runtime/: rootfs_resolve() calls the image_resolve_* hooks, and
 * every image reader writes its files through rootfs.c's writer, so an image
 * obeys exactly the rules of a tarball: bounded bytes and entries, no "..", no
 * absolute names, no write through a symlink, device nodes skipped, the
 * content-addressed cache filled through a temporary and a rename. */
#ifndef NETSIM_IMAGE_H
#define NETSIM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rootfs.h"

struct archive;
struct archive_entry;

/* ---- platforms (image.c) ----------------------------------------------------- */

/* Longest canonical platform ("arm/v7"), NUL included. */
#define IMAGE_PLATFORM_MAX 32

/* Split a rootfs source "PATH@ARCH" into *path (malloc'd) and its canonical
 * platform ("" when there is none).  A source that exists as written is never
 * split, and one whose PATH part does not exist either is returned whole (its
 * lookup reports it).  ARCH is an OCI name (amd64, arm64, arm/v7, mips, ...),
 * optionally "linux/"-prefixed, or an OpenWrt/uname name (x86_64, aarch64_*,
 * arm_cortex-a7_*, mips_24kc, mipsel_24kc, ...); an unknown one is -EINVAL. */
int image_split_platform(const char *source, char **path, char platform[IMAGE_PLATFORM_MAX],
			 struct error *err);

/* The canonical platform of `name` (see above) into `out`, or -EINVAL. */
int image_platform_canonical(const char *name, char out[IMAGE_PLATFORM_MAX]);

/* The host's own platform ("amd64" on x86_64). */
const char *image_host_platform(void);

/* Whether an image for ARCH (and VARIANT, may be NULL or "") is what `want`
 * (canonical) asks for: the same architecture, and the same variant unless one
 * side names none. */
bool image_platform_matches(const char *want, const char *arch, const char *variant);

/* ---- the hooks rootfs_resolve() calls ----------------------------------------
 * Each returns 1 when it handled `path` (*out is the malloc'd tree), 0 when
 * `path` is not its kind (rootfs_resolve goes on), or a negative errno. */

/* A directory: an OCI image layout (oci-layout + index.json) is applied into
 * the cache, named by the chosen manifest's sha256 digest (image_oci.c). */
int image_resolve_dir(const char *path, const char *platform, const char *cache_dir,
		      const struct rootfs_limits *limits, char **out, struct error *err);

/* A regular file that is a disk image: squashfs, ext2/3/4, or a partition table
 * (MBR or GPT) whose root partition holds one of them; gzip'd or not
 * (image_disk.c).  Keyed by the file's sha256. */
int image_resolve_disk(const char *path, const char *platform, const char *cache_dir,
		       const struct rootfs_limits *limits, char **out, struct error *err);

/* A tar archive whose sha256 is `hex`: a cache hit, or an OCI layout or
 * docker-save archive (cached as sha256("<hex>@<platform>"), every entry's name
 * being 64 hex digits), or an LXD/Incus tarball (its rootfs/ cached as <hex>).
 * 0: a plain rootfs tarball, not cached yet. */
int image_resolve_tar(const char *path, const char *hex, const char *platform,
		      const char *cache_real, const struct rootfs_limits *limits, char **out,
		      struct error *err);

/* Fill `temp` (created here) from the OCI layout or docker-save archive `tarball`
 * (sha256 `hex`) for `platform`; unless `explicit`, an archive of one image that
 * names no platform is taken as it is (image_oci.c). */
int image_oci_fill_tar(const char *tarball, const char *hex, const char *platform, bool explicit,
		       const struct rootfs_limits *limits, const char *temp, struct error *err);

/* ---- whiteouts (image_oci.c) ------------------------------------------------- */

enum image_whiteout {
	IMAGE_WHITEOUT_NONE,     /* an ordinary entry */
	IMAGE_WHITEOUT_FILE,     /* DIR/.wh.NAME: remove DIR/NAME of lower layers */
	IMAGE_WHITEOUT_OPAQUE,   /* DIR/.wh..wh..opq: empty DIR of lower layers */
	IMAGE_WHITEOUT_IGNORED,  /* DIR/.wh..wh.*: aufs bookkeeping, not a file */
};

/* Classify the (already normalised, safe) entry name `name`.  For FILE and
 * OPAQUE, *dir is the directory ("" for the root) and, for FILE, *target the
 * name to remove, both malloc'd.  A whiteout of "", "." or ".." is -EPERM with
 * *reason set. */
int image_whiteout_parse(const char *name, enum image_whiteout *kind, char **dir,
			 char **target, const char **reason);

/* Apply the whiteout entry `name` to the tree open at `root_fd`: its directory
 * is opened beneath the root without following any symlink (a whiteout through
 * a symlink is refused, -ELOOP), and what it removes is removed without ever
 * following a symlink.  Nothing to remove is success. */
int image_whiteout_apply(int root_fd, const char *name, struct error *err);

/* ---- partition tables (image_disk.c) ----------------------------------------- */

#define IMAGE_MAX_PARTITIONS 128

struct image_partition {
	unsigned number;      /* 1-based, as Linux names them (sda2) */
	uint64_t offset;      /* bytes from the start of the image */
	uint64_t size;        /* bytes */
};

/* Read `len` bytes at `offset` of the image; 0 or a negative errno. */
typedef int (*image_read_fn)(void *ctx, uint64_t offset, void *buf, size_t len);

/* Parse the MBR or GPT partition table of an image of `size` bytes (512-byte
 * sectors).  Every partition must lie inside the image; a GPT with more than
 * IMAGE_MAX_PARTITIONS used entries or an entry array past the end is refused.
 * Empty and extended MBR entries are left out.  -ENOENT: no partition table. */
int image_partitions_parse(image_read_fn read, void *ctx, uint64_t size,
			   struct image_partition parts[IMAGE_MAX_PARTITIONS], size_t *count,
			   struct error *err);

/* ---- rootfs.c's writer and cache, shared by every reader --------------------- */

struct rootfs_writer;

/* Write into the existing directory `dest` (NULL limits = the defaults). */
int rootfs_writer_new(const char *dest, const struct rootfs_limits *limits,
		      struct rootfs_writer **out, struct error *err);
void rootfs_writer_free(struct rootfs_writer *w);
const char *rootfs_writer_root(const struct rootfs_writer *w);

/* An entry's contents, block by block: 1 with a block, 0 at its end, or an error. */
typedef int (*rootfs_data_fn)(void *ctx, const char *entry, const void **block, size_t *size,
			      int64_t *offset, struct error *err);

/* Check and write one entry (its name relative to the tree's root, as in a tar
 * archive), counting it and its contents against the limits. */
int rootfs_writer_add(struct rootfs_writer *w, struct archive_entry *entry, rootfs_data_fn data,
		      void *ctx, struct error *err);

/* Decides about each entry before it is written: 1 write it, 0 skip it, or an error. */
typedef int (*rootfs_entry_filter)(void *ctx, struct archive_entry *entry, struct error *err);

/* Write every entry of the tar reader `in` (named `what` in errors); an archive
 * without entries is an error unless `allow_empty`. */
int rootfs_writer_add_tar(struct rootfs_writer *w, struct archive *in, const char *what,
			  bool allow_empty, rootfs_entry_filter filter, void *ctx,
			  struct error *err);

/* Count `size` more bytes, or the limit's error for `entry`. */
int rootfs_writer_count_bytes(struct rootfs_writer *w, uint64_t size, const char *entry,
			      struct error *err);
/* Count one more entry read (also entries that are never written, such as
 * whiteouts), or the limit's error. */
int rootfs_writer_count_entry(struct rootfs_writer *w, const char *entry, struct error *err);

/* Set the directory modes and times of what was written so far (libarchive
 * defers them to the end, and applies them by path), and go on. */
int rootfs_writer_checkpoint(struct rootfs_writer *w, struct error *err);

/* Finish: directory modes and times, then the root made root:root 0755. */
int rootfs_writer_close(struct rootfs_writer *w, struct error *err);

/* rootfs_extract(), and with `expect_hex` the bytes read must have that sha256. */
int rootfs_extract_checked(const char *tarball, const char *dest,
			   const struct rootfs_limits *limits, const char *expect_hex,
			   struct error *err);

/* Why a relative entry name would leave the tree, or NULL. */
const char *rootfs_unsafe_name_reason(const char *name);
/* `name` without "." components and repeated slashes; malloc'd or NULL. */
char *rootfs_normalize_name(const char *name);

/* Remove `name` in the directory `parent_fd` as rootfs_remove_tree() would. */
int rootfs_remove_at(int parent_fd, const char *name, const char *what, struct error *err);

/* A file opened for libarchive whose bytes are hashed as they are read. */
struct rootfs_hashed;
/* Takes `fd`; *out is freed with rootfs_hashed_free.  `fd` must be a regular file. */
int rootfs_hashed_new(int fd, struct rootfs_hashed **out, struct error *err);
void rootfs_hashed_free(struct rootfs_hashed *r);
/* Open `in` (formats and filters already chosen) on it, from its start. */
int rootfs_hashed_open(struct rootfs_hashed *r, struct archive *in);
/* Hash the rest of the file and give the sha256 of all of it as 64 hex digits. */
int rootfs_hashed_digest(struct rootfs_hashed *r, char hex[65], struct error *err);

/* The cache directory created and checked (rootfs_cache_check); *cache_real is
 * its malloc'd realpath. */
int rootfs_cache_open(const char *cache_dir, char **cache_real, struct error *err);
/* 1 when CACHE/<key> exists (fixed up and swept as on every use), 0 when not;
 * *path (malloc'd) is CACHE/<key> either way. */
int rootfs_cache_lookup(const char *cache_real, const char *key, char **path, struct error *err);
/* Makes the tree at `temp` (which does not exist yet). */
typedef int (*rootfs_fill_fn)(void *ctx, const char *temp, struct error *err);
/* Fill CACHE/.tmp-<key>-<pid> under the shared cache lock and rename it to
 * CACHE/<key> (*out, malloc'd).  A failed fill's temporary is removed. */
int rootfs_cache_fill(const char *cache_real, const char *key, rootfs_fill_fn fill, void *ctx,
		      char **out, struct error *err);
/* A scratch name next to a fill's `temp` that sweeps treat like it:
 * CACHE/.tmp-<key>.<what>-<pid>.  malloc'd or NULL. */
char *rootfs_cache_scratch(const char *temp, const char *what);

#endif
