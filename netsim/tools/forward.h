/* Port forwarding from the host to a node: a small TCP relay.
 *
 * The relay listens on 127.0.0.1 in the caller's (the host's) network namespace
 * and, for each accepted connection, opens a socket inside the node's network
 * namespace and connects to 127.0.0.1:NODEPORT there.  A socket stays in the
 * namespace it was created in, so one single-threaded process serves both
 * sides: the host never gets a route into the node, and a service inside the
 * node bound to 127.0.0.1 or 0.0.0.0 is reachable.
 *
 * Background relays record themselves in /run/netsim/SIM/forwards/HOSTPORT
 * ("PID STARTTIME", proc_pid_write) so that `netsim down` stops them
 * (proc_stop_forwards). */
#ifndef NETSIM_FORWARD_H
#define NETSIM_FORWARD_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "vm/forward.h"

/* Parse "HOSTPORT:NODEPORT": HOSTPORT 0..65535 (0 = any free port), NODEPORT
 * 1..65535. */
int forward_parse_spec(const char *spec, uint16_t *host_port, uint16_t *node_port,
		       struct error *err);

/* A listening TCP socket on 127.0.0.1:port in the current netns (non-blocking,
 * close-on-exec); *bound gets the port actually bound (port 0 picks one).
 * Returns the fd or a negative errno. */
int forward_listen(uint16_t port, uint16_t *bound, struct error *err);

struct forward_relay {
	int listen_fd;          /* from forward_listen; not closed by forward_run */
	int netns_fd;           /* the node's netns (netns_open of netns_path) */
	const char *netns_path; /* watched: the relay ends when it is gone or replaced */
	uint16_t node_port;
	const char *label;      /* "SIM/NODE", for messages */
	FILE *log;              /* one line per failed connection; NULL = quiet */
	struct qemu_tcp *vm;    /* a backend=qemu node: its TCP port (vm/forward.h), relayed
				 * instead of sockets in netns_fd; NULL for containers */
};

/* Relay connections until *stop becomes non-zero or the node's netns
 * disappears (`netsim down` from elsewhere).  poll_mask is the signal mask while
 * waiting (ppoll): the caller blocks its stop signals and lets them through
 * only here, so a signal cannot slip in between the check of *stop and the wait.
 * Returns 0 when stopped by *stop, -ENOENT when the netns went away, or another
 * negative errno. */
int forward_run(const struct forward_relay *relay, const sigset_t *poll_mask,
		const volatile sig_atomic_t *stop, struct error *err);

#endif
