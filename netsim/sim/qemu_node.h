/* backend=qemu nodes inside a sim: the glue between `up`, `down`, `node`,
 * `exec`, `status` and `reach` and the VM mechanism of qemu.h.
 *
 * A qemu node's network namespace is an empty one that netsim creates at
 * /run/netns/SIM_NODE (no container); links are wired into it exactly as into a
 * container's, and then the node's VM runs inside it, one virtio-net NIC per
 * interface (same names, same order, the guest MAC = the link end's ident_mac).
 * The node directory /run/netsim/SIM/nodes/NODE/ is qemu.h's run dir
 * (console.sock, console.log, agent.sock, qemu.pid, qemu.log, initrd) and also
 * holds
 *   qemu   the marker: how the VM boots (rootfs, files, kernel dir, memory,
 *          cpus) and, once it booted, the accelerator.  Written right after the
 *          node directory, before the namespace or the VM exist, so `down` finds
 *          the VM by it even after `up` was killed half-way.
 *   pid    QEMU's pid, like a container's PID 1 (status, list, down).
 * docs/vm.md ("QEMU nodes in a sim") describes the user-facing side. */
#ifndef NETSIM_QEMU_NODE_H
#define NETSIM_QEMU_NODE_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "vm/qemu.h"
#include "topo/topo.h"

/* How one qemu node boots: the marker's contents. */
struct qemu_node_setup {
	char rootfs[PATH_MAX];     /* resolved rootfs directory */
	char files[PATH_MAX];      /* resolved files= directory, "" for none */
	char kernel_dir[PATH_MAX]; /* resolved kernel= or qemu_kernel_dir() */
	unsigned memory_mib;       /* 0: QEMU's default */
	unsigned cpus;             /* 0: 1 */
	char accel[8];             /* "kvm"/"tcg" once booted, else "" */
};

/* Before `up` creates anything: QEMU is installed, the kernel (kernel=, relative
 * to `topo_dir`, else qemu_kernel_dir(): `make kernel`'s) is complete, init= is
 * one path.  Fills kernel_dir with the resolved directory.  Errors name
 * file:line. */
int qemu_node_check(const struct topo *t, const struct topo_node *node, const char *topo_dir,
		    char *kernel_dir, size_t len, struct error *err);

/* `up`, before wiring: the node directory, its marker, and an empty netns. */
int qemu_node_create(const char *sim, const char *node, const struct qemu_node_setup *setup,
		     struct error *err);

/* `up`, after the containers started: boot the VMs of nodes idx[0..count) of t
 * all at once and wait for every agent.  vms[k] gets node idx[k]'s VM.  When
 * *interrupted becomes non-zero (a signal handler sets it), the boots are
 * abandoned.  On failure the VMs that did boot keep running: the caller's
 * teardown removes them (as everything else of the sim). */
int qemu_node_boot_all(const char *sim, const struct topo *t, const unsigned *idx,
		       unsigned count, struct qemu_vm *vms, volatile sig_atomic_t *interrupted,
		       struct error *err);

/* `node start`: boot node idx of t again, from its marker; waits for the agent. */
int qemu_node_boot(const char *sim, const struct topo *t, unsigned idx, struct qemu_vm *vm,
		   struct error *err);

/* `node stop`: stop the VM (SIGTERM, SIGKILL after 3 s) and remove its pid
 * file; *old_pid gets the QEMU pid that ran (0: none).  Idempotent. */
int qemu_node_halt(const char *sim, const char *node, pid_t *old_pid, struct error *err);

/* `down`: qemu_node_halt for a node with a marker; nothing for a container. */
void qemu_node_teardown(const char *sim, const char *node);

/* NODE has the marker. */
bool qemu_node_is(const char *sim, const char *node);

/* The marker's contents (-ENOENT: not a qemu node). */
int qemu_node_setup_read(const char *sim, const char *node, struct qemu_node_setup *setup,
			 struct error *err);

/* `exec`: argv in the guest through the agent, our stdin/stdout/stderr passed;
 * *status as a shell reports it. */
int qemu_node_exec(const char *sim, const char *node, char *const argv[], int *status,
		   struct error *err);

/* `reach` from a qemu node: the guest pings every address of addrs[0..n) until
 * it answers (the node's own netns has no addresses, its stack is in the VM).
 * A child process drives the agent; *fd reads one line per answered address,
 * "INDEX RTT_MS\n" (INDEX into addrs).  Stop it with qemu_node_probe_stop. */
int qemu_node_probe_start(const char *sim, const char *node, const char *const *addrs,
			  unsigned n, pid_t *pid, int *fd, struct error *err);
void qemu_node_probe_stop(pid_t pid, int fd);

#endif
