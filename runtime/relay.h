/* The stdio of a command that runs inside a node, and netsim's relay for it.
 *
 * A node process must never hold a descriptor of the operator's terminal: with
 * one it can read the operator's keystrokes, write escape sequences, or (as its
 * controlling tty) push input with TIOCSTI, also after the command returned,
 * from a background job.  So the command gets either
 *
 *   RELAY_PTY    a pseudo-terminal from the node's own devpts (the master comes
 *                back to netsim, the slave is the command's stdin/stdout/stderr
 *                and becomes its controlling tty); netsim copies the operator's stdin to the
 *                master and the master to the operator's stdout, keeps the window
 *                size in step (SIGWINCH) and puts the operator's terminal in raw
 *                mode while it runs;
 *   RELAY_PIPES  for each of stdin/stdout/stderr that is a terminal, a pipe
 *                netsim copies through; the others (files, pipes, sockets) are
 *                passed as they are; a terminal stdin while we run in the
 *                background becomes /dev/null, as for any `cmd &`.
 *
 * Once the command has exited the relay copies what is left of its output and
 * stops; whatever a background job writes later goes nowhere. */
#ifndef NETSIM_RELAY_H
#define NETSIM_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <termios.h>

#include "error.h"

enum relay_mode { RELAY_PIPES, RELAY_PTY };

struct relay_channel {
	int from;        /* read end; -1 once at EOF */
	int to;          /* write end; -1 once it failed (output is then dropped) */
	bool into_node;  /* operator -> node: at EOF close `to` (pipe) or send VEOF (pty) */
	bool owns_from;  /* `from` was opened by the relay (else the caller's stdio) */
	bool owns_to;
	char buf[4096];
	size_t len, off;
};

struct relay {
	enum relay_mode mode;
	int node_fds[3];  /* the command's fds 0, 1, 2; -1: the caller's own, as is */
	int master;       /* RELAY_PTY: the pty master, else -1 */
	struct relay_channel channels[3];
	size_t count;
	bool raw;         /* the operator's terminal is in raw mode: restore `saved` */
	bool input_ended; /* RELAY_PTY: the operator's stdin is at EOF */
	int eof_sent;     /* end-of-file characters typed since */
	struct termios saved;
};

/* Whether the terminal on fd may be read and set by us: we are in its
 * foreground process group (not started with `&` from a job-control shell). */
bool relay_terminal_is_ours(int fd);
/* Prepare the command's stdio.  On failure nothing is left open. */
int relay_open(struct relay *r, enum relay_mode mode, struct error *err);
/* RELAY_PTY, in a process already in the node's mount namespace: allocate a pty
 * from the node's devpts; the slave becomes node_fds, the master is returned in
 * *master_out for the caller (pass it over a socket). */
int relay_open_node_pty(struct relay *r, int *master_out, struct error *err);
/* RELAY_PTY, in the caller: the master it received; takes ownership. */
int relay_attach_master(struct relay *r, int master, struct error *err);
/* In the command's process, inside the node: make node_fds its fds 0..2; with a
 * pty, start a new session with the slave as controlling tty (else a new
 * session without one).  Returns <0 with a message. */
int relay_attach_command(const struct relay *r, struct error *err);
/* In the caller after the fork: close the node's ends, so EOF is seen. */
void relay_close_node_side(struct relay *r);
/* In any other forked process: close the relay's own ends. */
void relay_close_relay_side(struct relay *r);
/* Copy until `child` (our child) exits, then drain the output; the child is
 * left for the caller to reap.
 * SIGTERM and SIGHUP received meanwhile are passed to `child`; if it has not
 * exited 2 s after the first, it is killed (SIGKILL). */
int relay_run(struct relay *r, pid_t child, struct error *err);
/* Restore the operator's terminal and close everything; idempotent. */
void relay_free(struct relay *r);

#endif
