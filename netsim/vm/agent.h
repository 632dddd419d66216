/* The client of the guest agent (rootfs/vm/agent.c) that netsim's kernel starts
 * in every VM: commands run through agent.sock, the VM's virtio-serial port in
 * its run directory (see vm/qemu.h).  The wire protocol: rootfs/vm/agent.h. */
#ifndef NETSIM_VM_AGENT_H
#define NETSIM_VM_AGENT_H

#include "error.h"

/* Shared by the agent client and vm/qemu.c: RUN_DIR/LEAF in a buffer of
 * QEMU_PATH_LEN (-ENAMETOOLONG when it is longer). */
#define QEMU_PATH_LEN 4096
int qemu_run_path(char *buf, const char *run_dir, const char *leaf);

/* Run argv[] in the guest through the agent; `in_fd` feeds its stdin (-1: none),
 * its stdout/stderr go to out_fd/err_fd.  *status gets the exit code, or 128+N
 * when signal N killed it.  timeout_ms <= 0: no limit. */
int qemu_agent_exec(const char *run_dir, char *const argv[], int in_fd, int out_fd, int err_fd,
		    int timeout_ms, int *status, struct error *err);

/* 0 when the agent answers within timeout_ms. */
int qemu_agent_ping(const char *run_dir, int timeout_ms, struct error *err);

#endif
