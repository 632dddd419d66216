/* Reading Debian packages with libarchive, never dpkg: a .deb is an `ar` archive
 * whose data.tar.* member is itself a (compressed) tar.  Shared by mkrootfs
 * (the meshlite rootfs) and mkinitramfs (the QEMU kernel and initramfs). */
#ifndef NETSIM_DEB_H
#define NETSIM_DEB_H

#include <archive.h>
#include <archive_entry.h>

#include "error.h"
#include "util.h" /* archive_error(), which deb.c's users report with */

/* Called for each entry of the package's data.tar.*; `data` is positioned at the
 * entry's contents (archive_read_data).  Return <0 to stop. */
typedef int (*deb_entry_fn)(struct archive *data, struct archive_entry *entry, void *arg,
			    struct error *err);

/* Check that DEB is a Debian package (a regular file, an ar archive with a
 * debian-binary and a data.tar.* member) and walk its data.tar.*.  Every error is
 * prefixed with the package's path. */
int deb_walk(const char *deb, deb_entry_fn fn, void *arg, struct error *err);

#endif
