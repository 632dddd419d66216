/* A VM's initrd: netsim's base initramfs (`make kernel`) with the node's rootfs
 * appended as a second, uncompressed newc cpio, so the rootfs's own init runs
 * as PID 1 after netsim's /netsim/init (docs/vm.md). */
#ifndef NETSIM_VM_INITRD_H
#define NETSIM_VM_INITRD_H

#include "error.h"

/* Write `rootfs_dir` (and `files_dir` over it, may be NULL) as newc cpio to fd.
 * Only regular files, directories and symlinks; hard links become copies. */
int qemu_write_rootfs_cpio(int fd, const char *rootfs_dir, const char *files_dir,
			   struct error *err);

/* `path` (created, mode 0600): kernel_dir/initramfs.cpio.gz, zero padding to a
 * 4-byte offset (where the kernel looks for the next archive), then the rootfs
 * cpio of qemu_write_rootfs_cpio. */
int qemu_write_initrd(const char *kernel_dir, const char *rootfs_dir, const char *files_dir,
		      const char *path, struct error *err);

#endif
