/* Which machine a node's init is for, and whether this host can run it.
 *
 * Router images are MIPS, ARM, ... as often as x86.  A container node's init is
 * exec'd by the host kernel: an init of another architecture runs only through
 * a binfmt_misc entry (Debian's qemu-user-static + binfmt-support register one
 * per architecture) whose F flag makes the kernel open the interpreter once, at
 * registration, so it works inside the node's mount namespace too, where the
 * host's /usr/libexec/qemu-binfmt is not.  This finds the init in the node's
 * layers, follows #! to the interpreter, reads the ELF header (class,
 * endianness, e_machine, MIPS/ARM flags) and checks the binfmt_misc entry that
 * matches it: present, enabled, F flag.  Knows nothing about topologies. */
#ifndef NETSIM_ELF_ARCH_H
#define NETSIM_ELF_ARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define ELF_ARCH_BINFMT_DIR "/proc/sys/fs/binfmt_misc"
#define ELF_ARCH_PACKAGES "qemu-user-static binfmt-support"

struct elf_arch {
	char name[24];       /* qemu's name: "x86_64", "mips", "mipsel", "aarch64", "arm",
			      * ...; "machine-N" for an e_machine netsim does not know */
	char detail[96];     /* "ELF32 big-endian MIPS, mips32r2, o32" */
	bool native;         /* runs on this host's kernel without an interpreter */
	char binfmt[64];     /* the binfmt_misc entry that runs it, or "" */
	char file[4096];     /* the ELF file read (host path) */
};

/* From an ELF header (at least 52 bytes).  -ENOEXEC when it is not one. */
int elf_arch_parse(const unsigned char *hdr, size_t len, struct elf_arch *a);

/* Whether `a` (with its header) can run here: native, or a matching binfmt_misc
 * entry in `binfmt_dir` that is enabled and has the F flag.  The error names the
 * file, what is missing and the exact fix. */
int elf_arch_check_runnable(const unsigned char *hdr, size_t len, const char *binfmt_dir,
			    struct elf_arch *a, struct error *err);

/* The whole check for a node: `init` (its command line; the first word is the
 * program, "/sbin/init" when NULL) is looked up in `layers` (top first,
 * NULL-terminated: files=, a feed's packages, the rootfs), each searched with
 * its own symlinks resolved inside it; a #! script's interpreter is followed
 * (4 levels).  Fills `a`; fails with a one-line error naming the file and the
 * fix when the init is missing, not an executable, or not runnable here. */
int elf_arch_check_init(const char *const *layers, const char *init, const char *binfmt_dir,
			struct elf_arch *a, struct error *err);

/* Opens `path` read-only inside the directory `layer` as the node would see it:
 * symlinks (absolute ones too) resolve inside the layer, never above it.
 * An fd or -errno (-ENOENT when the layer has no such path). */
int elf_arch_open_in_layer(const char *layer, const char *path);

#endif
