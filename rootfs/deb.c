#include "deb.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "rootfs.h"
#include "util.h"

/* The inner reader pulls the data.tar member's bytes from the outer ar reader. */
static la_ssize_t read_from_member(struct archive *inner, void *outer_archive,
				   const void **buffer)
{
	static char chunk[65536];
	struct archive *outer = outer_archive;
	la_ssize_t n = archive_read_data(outer, chunk, sizeof(chunk));
	if (n < 0) {
		archive_set_error(inner, archive_errnum(outer, EIO), "%s",
				  archive_text(outer, "read error in .deb"));
		return -1;
	}
	*buffer = chunk;
	return n;
}

static int walk_data_member(struct archive *outer, deb_entry_fn fn, void *arg,
			    struct error *err)
{
	struct archive *data = archive_read_new();
	if (!data)
		return error_set(err, ENOMEM, "archive_read_new");
	int ret = 0;
	/* The same tar-only reader as rootfs tarballs: data.tar.{gz,xz,zst,...}. */
	rootfs_archive_support_tar(data);
	if (archive_read_open(data, outer, NULL, read_from_member, NULL) != ARCHIVE_OK) {
		ret = archive_error(err, data, "data.tar");
		goto out;
	}
	for (;;) {
		struct archive_entry *entry;
		int r = archive_read_next_header(data, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = archive_error(err, data, "data.tar");
			goto out;
		}
		ret = fn(data, entry, arg, err);
		if (ret < 0)
			goto out;
	}
out:
	archive_read_free(data);
	return ret;
}

int deb_walk(const char *deb, deb_entry_fn fn, void *arg, struct error *err)
{
	struct archive *ar = archive_read_new();
	if (!ar)
		return error_set(err, ENOMEM, "archive_read_new");
	int ret = 0;
	bool found_data = false, found_version = false;
	archive_read_support_format_ar(ar);
	/* Check the file ourselves: libarchive's message for a missing file lacks the
	 * reason, and once the file opens, any failure means "not a .deb". */
	struct stat st;
	if (stat(deb, &st) < 0) {
		ret = error_set(err, errno, "open");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = error_setmsg(err, EINVAL, "not a regular file");
		goto out;
	}
	if (archive_read_open_filename(ar, deb, 65536) != ARCHIVE_OK) {
		ret = error_setmsg(err, EINVAL, "not a Debian package (%s)",
				   archive_text(ar, "unreadable"));
		goto out;
	}
	for (;;) {
		struct archive_entry *member;
		int r = archive_read_next_header(ar, &member);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = archive_error(err, ar, "reading the ar archive");
			goto out;
		}
		const char *name = archive_entry_pathname(member);
		if (name && strcmp(name, "debian-binary") == 0) {
			found_version = true;
		} else if (name && strncmp(name, "data.tar", 8) == 0) {
			found_data = true;
			ret = walk_data_member(ar, fn, arg, err);
			if (ret < 0)
				goto out;
		}
	}
	if (!found_version || !found_data)
		ret = error_setmsg(err, EINVAL, "not a Debian package (no %s member)",
				   found_version ? "data.tar.*" : "debian-binary");
out:
	archive_read_free(ar);
	if (ret < 0)
		error_prefix(err, "%s", deb);
	return ret;
}
