/* Root filesystems: secure tarball extraction and the content-addressed cache. */
#ifndef NETSIM_ROOTFS_H
#define NETSIM_ROOTFS_H

#include "error.h"

/* Extract `tarball` (any format/compression libarchive reads) into `dest`, which must
 * not exist yet and is created (mode 0755).  Uses libarchive's secure flags: entries
 * with "..", absolute paths, or that would be written through a symlink are refused
 * (the whole extraction fails and `dest` is removed); device nodes and FIFOs are
 * skipped silently (the runtime provides /dev).  Ownership and modes are kept. */
int rootfs_extract(const char *tarball, const char *dest, struct error *err);

/* Resolve a rootfs `source` to a directory usable as an overlay lower layer.
 * A directory is used as is (its realpath).  A regular file is a tarball: it is
 * extracted once into CACHE_DIR/<sha256-of-file>/ (extracted into a temporary
 * sibling and renamed, so a concurrent or killed extraction never leaves a partial
 * cache entry).  On success *out is a malloc'd absolute path. */
int rootfs_resolve(const char *source, const char *cache_dir, char **out, struct error *err);

/* Remove `path` and everything below it without ever following a symlink (a symlink
 * is removed, not its target) and without descending into another filesystem (a
 * mount point below `path` fails with EBUSY rather than emptying the mounted fs).
 * A missing `path` is success, so teardown can run twice. */
int rootfs_remove_tree(const char *path, struct error *err);

#endif
