/* The initrd (see vm/initrd.h): netsim's base initramfs with the node's rootfs
 * appended as a newc cpio. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"
#include "vm/initrd.h"

#define PATH_LEN 4096

/* One directory tree into the cpio, paths relative to `dir`.  Hard links are
 * written as separate files (nlink 1): the kernel's unpacker would otherwise
 * need every link to carry the same inode number. */
static int add_tree(struct archive *out, const char *dir, unsigned *ino, struct error *err)
{
	struct archive *disk = archive_read_disk_new();
	struct archive_entry *entry = archive_entry_new();
	size_t prefix = strlen(dir);
	int ret = 0;
	if (!disk || !entry) {
		ret = error_set(err, ENOMEM, "%s", dir);
		goto out;
	}
	archive_read_disk_set_symlink_physical(disk);
	if (archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS) != ARCHIVE_OK ||
	    archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		ret = archive_error(err, disk, dir);
		goto out;
	}
	for (;;) {
		archive_entry_clear(entry);
		int r = archive_read_next_header2(disk, entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = archive_error(err, disk, dir);
			goto out;
		}
		archive_read_disk_descend(disk);
		const char *path = archive_entry_pathname(entry);
		if (strncmp(path, dir, prefix) != 0)
			continue;
		path += prefix;
		while (*path == '/')
			path++;
		mode_t type = archive_entry_filetype(entry);
		if (!*path || (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK))
			continue;
		cleanup_free char *rel = strdup(path);
		if (!rel) {
			ret = error_set(err, ENOMEM, "%s", dir);
			goto out;
		}
		archive_entry_set_pathname(entry, rel);
		archive_entry_set_nlink(entry, type == AE_IFDIR ? 2 : 1);
		archive_entry_set_ino(entry, ++*ino);
		archive_entry_set_uname(entry, NULL);
		archive_entry_set_gname(entry, NULL);
		if (type != AE_IFREG && type != AE_IFLNK)
			archive_entry_set_size(entry, 0);
		if (archive_write_header(out, entry) < ARCHIVE_WARN) {
			ret = archive_error(err, out, rel);
			goto out;
		}
		if (type != AE_IFREG)
			continue;
		char buf[65536];
		for (;;) {
			la_ssize_t n = archive_read_data(disk, buf, sizeof(buf));
			if (n < 0) {
				ret = archive_error(err, disk, rel);
				goto out;
			}
			if (n == 0)
				break;
			if (archive_write_data(out, buf, (size_t)n) < 0) {
				ret = archive_error(err, out, rel);
				goto out;
			}
		}
	}
out:
	if (entry)
		archive_entry_free(entry);
	if (disk)
		archive_read_free(disk);
	return ret;
}

int qemu_write_rootfs_cpio(int fd, const char *rootfs_dir, const char *files_dir,
			   struct error *err)
{
	struct archive *out = archive_write_new();
	unsigned ino = 0;
	int ret = 0;
	if (!out)
		return error_set(err, ENOMEM, "archive_write_new");
	/* Uncompressed: under TCG the guest's gunzip costs more than copying. */
	if (archive_write_set_format_cpio_newc(out) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(out, 512) != ARCHIVE_OK ||
	    archive_write_open_fd(out, fd) != ARCHIVE_OK) {
		ret = archive_error(err, out, "cpio");
		goto out;
	}
	if ((ret = add_tree(out, rootfs_dir, &ino, err)) < 0 ||
	    (files_dir && (ret = add_tree(out, files_dir, &ino, err)) < 0))
		goto out;
	if (archive_write_close(out) != ARCHIVE_OK)
		ret = archive_error(err, out, "cpio");
out:
	archive_write_free(out);
	return ret;
}

/* base initramfs (gzip'd cpio) + zero padding to 4 bytes (the kernel looks for
 * the next archive's header only at 4-byte offsets) + the rootfs cpio. */
int qemu_write_initrd(const char *kernel_dir, const char *rootfs_dir, const char *files_dir,
		      const char *path, struct error *err)
{
	char base[PATH_LEN];
	snprintf(base, sizeof(base), "%s/initramfs.cpio.gz", kernel_dir);
	cleanup_close int in = open(base, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return error_set(err, errno, "%s", base);
	cleanup_close int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return error_set(err, errno, "create %s", path);
	char buf[65536];
	size_t total = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0)
			return error_set(err, errno, "read %s", base);
		if (n == 0)
			break;
		if (write(out, buf, (size_t)n) != n)
			return error_set(err, errno, "write %s", path);
		total += (size_t)n;
	}
	static const char zeros[4];
	size_t pad = (4 - total % 4) % 4;
	if (pad && write(out, zeros, pad) != (ssize_t)pad)
		return error_set(err, errno, "write %s", path);
	int ret = qemu_write_rootfs_cpio(out, rootfs_dir, files_dir, err);
	if (ret < 0)
		return error_prefix(err, "rootfs %s as cpio", rootfs_dir);
	return 0;
}
