/* `netsim forward` to a QEMU node: TCP streams over one of the VM's
 * virtio-serial ports "org.netsim.tcp.N" (host end RUN_DIR/tcpN.sock), served
 * in the guest by `/netsim/agent --tcp`, which connects to 127.0.0.1:PORT there.
 * The wire protocol and its bounds: rootfs/vm/mux.h.
 *
 * A VM has MUX_PORTS such ports, so that many forwards of one node run at once
 * (each holds an flock on RUN_DIR/tcpN.lock); each forward carries up to
 * MUX_MAX_CHANNELS connections at once, more wait in the listen backlog. */
#ifndef NETSIM_VM_FORWARD_H
#define NETSIM_VM_FORWARD_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

struct qemu_tcp;

/* Take a free port of the VM in run_dir and greet its guest end (waits up to
 * timeout_ms for the answer).  Errors name the fix: no port (a VM started by
 * an older netsim: restart the node), all ports taken, no answer. */
struct qemu_tcp *qemu_tcp_open(const char *run_dir, int timeout_ms, struct error *err);

/* The same over an already connected socket (tests stand in for the guest). */
struct qemu_tcp *qemu_tcp_attach(int sock, int timeout_ms, struct error *err);

void qemu_tcp_close(struct qemu_tcp *t);

/* Relay connections accepted on listen_fd to 127.0.0.1:node_port in the guest
 * until *stop (signals let in by poll_mask during ppoll, as forward_run) or the
 * VM goes away (-ENOENT).  One line per failed connection to `log` (NULL: quiet). */
int qemu_tcp_relay(struct qemu_tcp *t, int listen_fd, uint16_t node_port, const char *label,
		   FILE *log, const sigset_t *poll_mask, const volatile sig_atomic_t *stop,
		   struct error *err);

#endif
