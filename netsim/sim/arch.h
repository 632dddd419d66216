/* A node's architecture: its init checked against this host before the node is
 * created (runtime/elf_arch.h), and recorded in nodes/NODE/arch for `status`. */
#ifndef NETSIM_ARCH_H
#define NETSIM_ARCH_H

#include <stddef.h>

#include "elf_arch.h"
#include "error.h"
#include "sim/feed.h"

/* Look up the node's init in its layers (files=, the feed's packages, the
 * rootfs; top first) and check this host can run it. */
int arch_check_node(const char *rootfs, const char *files, const struct feed *feed,
		    const char *init, struct elf_arch *a, struct error *err);

/* nodes/NODE/arch: "NAME\tDETAIL\tBINFMT-ENTRY\n". */
int arch_record_write(const char *sim, const char *node, const struct elf_arch *a,
		      struct error *err);
/* The recorded name ("mips"; "x86_64" for a VM, which has no record), "-" when
 * unknown; with `detail`, also how it runs ("qemu-user via qemu-mips"). */
void arch_record_read(const char *sim, const char *node, char *name, size_t len,
		      char *how, size_t how_len);

#endif
