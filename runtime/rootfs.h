/* Root filesystems: secure tarball extraction and the content-addressed cache. */
#ifndef NETSIM_ROOTFS_H
#define NETSIM_ROOTFS_H

#include <stdint.h>

#include "error.h"

struct archive;

/* What one extraction may write.  The defaults hold any real OpenWrt/LibreMesh
 * rootfs (tens of MB, a few thousand entries) many times over, and stop a
 * decompression bomb before it fills the disk. */
#define ROOTFS_MAX_BYTES_DEFAULT (2ULL << 30)  /* 2 GiB of file contents */
#define ROOTFS_MAX_ENTRIES_DEFAULT 200000ULL   /* archive entries (inodes) */

struct rootfs_limits {
	uint64_t max_bytes;        /* file contents written, summed over entries */
	uint64_t max_entries;      /* archive entries read (each may be an inode) */
	const char *bytes_knob;    /* named in the error: how to raise it, or NULL */
	const char *entries_knob;
};

/* Make reader `a` accept tar (ustar, pax, GNU, v7) and nothing else, compressed
 * with gzip, bzip2, xz, lzma, zstd, lz4 or not at all.  libarchive's other
 * formats would read any host text file (mtree) or a raw file as an "archive".
 * Returns 0 or -EINVAL. */
int rootfs_archive_support_tar(struct archive *a);

/* Check that `tarball` is a non-empty tar archive with at least one entry,
 * reading only its first header: a clear error (a 0-byte file, not a tar
 * archive, no entries) before anything is hashed or created. */
int rootfs_check_tarball(const char *tarball, struct error *err);

/* Extract `tarball` (tar only, see above) into `dest`, which must not exist yet
 * and is created.  Uses libarchive's secure flags: entries with "..", absolute
 * paths, or that would be written through a symlink are refused (the whole
 * extraction fails and `dest` is removed); device nodes and FIFOs are skipped
 * silently (the runtime provides /dev).  Ownership and modes of the entries are
 * kept (setuid bits and 1777 directories included); `dest` itself always ends up
 * root:root 0755 whatever the archive's "." entry says.  NULL limits = defaults. */
int rootfs_extract(const char *tarball, const char *dest, const struct rootfs_limits *limits,
		   struct error *err);

/* Resolve a rootfs `source` to a directory usable as an overlay lower layer.
 * A directory is used as is (its realpath).  A regular file is a tarball: it is
 * extracted once into CACHE_DIR/<sha256-of-file>/ (extracted into a temporary
 * sibling and renamed, so a concurrent or killed extraction never leaves a partial
 * cache entry).  CACHE_DIR is created 0700 and must pass rootfs_cache_check().
 * On success *out is a malloc'd absolute path. */
int rootfs_resolve(const char *source, const char *cache_dir, const struct rootfs_limits *limits,
		   char **out, struct error *err);

/* The cache must be a directory owned by us (root) with mode 0700, and every
 * directory above it owned by root (or us) and not writable by others unless
 * sticky: the cached trees keep their setuid programs and world-writable
 * directories, which only the cache's 0700 keeps out of host users' reach. */
int rootfs_cache_check(const char *cache_dir, struct error *err);

/* Remove the ".tmp-*" extractions that killed processes left in the cache.  A
 * live extraction holds CACHE_DIR/.lock shared; the sweep runs only when it gets
 * the lock exclusively, so it never removes another process's work in progress.
 * A missing cache is success. */
int rootfs_cache_sweep(const char *cache_dir, struct error *err);

/* Refuse a rootfs= or files= `path` that would show a node the host's own files:
 * one whose realpath is "/", a host system directory (/etc, /usr, /run, /home,
 * ...) or a directory above one, or lies inside /proc, /sys, /dev or /run/netns.
 * `extra` (NULL-terminated, may be NULL) adds directories refused the same way,
 * inside too (netsim's state and cache dirs).  A path that does not exist is not
 * refused here (the caller's own lookup reports it). */
int rootfs_check_host_path(const char *path, const char *const *extra, struct error *err);

/* Remove `path` and everything below it without ever following a symlink (a symlink
 * is removed, not its target) and without descending into another filesystem (a
 * mount point below `path` fails with EBUSY rather than emptying the mounted fs).
 * A missing `path` is success, so teardown can run twice. */
int rootfs_remove_tree(const char *path, struct error *err);

#endif
