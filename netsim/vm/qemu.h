/* The QEMU backend: one node as a virtual machine with netsim's own kernel.
 *
 * The VM runs inside the node's network namespace.  Each of the node's links
 * already ends there as a veth (made by the normal wiring); for each, qemu.c
 * has net/redirect.h make a TAP in the same namespace and join the two with tc
 * (mirred redirects both ways; measured faster than a bridge, docs/vm.md).  The guest sees one virtio-net NIC per link, renamed to
 * the link's interface name and given the MAC the caller asks for.
 *
 * The kernel and base initramfs come from `make kernel` (build/kernel/,
 * rootfs/build-kernel.sh).  The node's rootfs directory is appended as a second,
 * uncompressed newc cpio (vm/initrd.h), so the rootfs's own init (procd, meshlite's init) runs
 * as PID 1 after netsim's /netsim/init has loaded the modules and started the
 * guest agent.  docs/vm.md has the whole story.
 *
 * Files in the node's run directory (cfg->run_dir, e.g. /run/netsim/SIM/nodes/NODE):
 *   qemu.pid       "PID STARTTIME" of the QEMU process
 *   console.sock   the serial console (unix socket; `netsim console` attaches)
 *   console.log    everything the console printed since the start
 *   agent.sock     the guest agent's virtio-serial port (qemu_agent_exec)
 *   qemu.log       QEMU's own stdout/stderr
 *   initrd         the base initramfs with the rootfs appended */
#ifndef NETSIM_QEMU_H
#define NETSIM_QEMU_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "vm/agent.h"  /* qemu_agent_exec: how callers run commands in a node */

#define QEMU_DEFAULT_MEMORY_MIB 128
#define QEMU_BINARY "qemu-system-x86_64"

struct qemu_nic {
	char ifname[16];     /* the link's veth end in the node netns; also the guest NIC's name */
	uint8_t mac[6];      /* the guest NIC's MAC */
};

struct qemu_node_config {
	const char *name;          /* node name: the guest's hostname, and messages */
	const char *netns_path;    /* the node's netns (/run/netns/SIM_NODE); must exist */
	const char *run_dir;       /* per-node directory for the files above; must exist */
	const char *rootfs_dir;    /* the resolved rootfs (a directory, e.g. from rootfs_resolve) */
	const char *files_dir;     /* optional directory laid over the rootfs, or NULL */
	const char *kernel_dir;    /* NULL: qemu_kernel_dir() */
	const struct qemu_nic *nics;
	unsigned n_nics;
	const char *const *env;    /* NULL-terminated NAME=VALUE for the rootfs's init, or NULL */
	const char *const *modules; /* NULL-terminated modules the node needs (features), or NULL */
	const char *init;          /* the rootfs's init; NULL: /sbin/init */
	unsigned memory_mib;       /* 0: QEMU_DEFAULT_MEMORY_MIB */
	unsigned cpus;             /* 0: 1 */
	const char *accel;         /* "kvm" or "tcg"; NULL: $NETSIM_QEMU_ACCEL, else kvm when
				    * /dev/kvm opens, else tcg */
	unsigned boot_timeout_ms;  /* until the agent answers; 0: 120 s (TCG) / 60 s (KVM) */
};

struct qemu_vm {
	pid_t pid;                 /* the QEMU process (not our child: it is double-forked) */
	char accel[8];             /* "kvm" or "tcg" */
	long long boot_ms;         /* start until the agent answered */
};

/* Where the kernel is: $NETSIM_KERNEL_DIR, else kernel/ next to the netsim
 * binary (build/kernel), else PREFIX/share/netsim/kernel. */
const char *qemu_kernel_dir(void);

/* What qemu_node_start checks first, for callers that want to refuse before
 * creating anything: QEMU is installed and `kernel_dir` (NULL: qemu_kernel_dir())
 * has the kernel and every module of `modules` (may be NULL). */
int qemu_check(const char *kernel_dir, const char *const *modules, struct error *err);

/* Boot the node and wait until its agent answers.  All or nothing: on failure
 * QEMU is killed and the run dir's files removed; the error says why (QEMU
 * missing: the Debian package; no kernel: `make kernel`; a module missing; not up
 * in time or QEMU died: the last console lines). */
int qemu_node_start(const struct qemu_node_config *cfg, struct qemu_vm *vm, struct error *err);

/* Stop the VM of `run_dir` (SIGTERM, then SIGKILL after 3 s) and remove its pid
 * file, sockets and initrd; the logs stay.  TAPs vanish with QEMU.  Idempotent. */
int qemu_node_stop(const char *run_dir, struct error *err);

/* QEMU's pid for `run_dir` when it is running (pid file and start time agree), else 0. */
pid_t qemu_node_pid(const char *run_dir);

#endif
