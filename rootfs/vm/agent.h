/* The guest agent's wire protocol, shared by the agent (rootfs/vm/agent.c, static,
 * runs inside the VM) and its host-side client (netsim/vm/qemu.c).  docs/vm.md
 * describes it for people; this header is the definition.
 *
 * The channel is a virtio-serial port ("org.netsim.agent") whose host end is a
 * unix socket.  Both directions carry frames:
 *
 *     byte 0     type (one of enum agent_frame)
 *     byte 1     0 (reserved)
 *     bytes 2-3  payload length, big-endian, at most AGENT_MAX_PAYLOAD
 *     payload
 *
 * A serial line has no connection boundaries: bytes a previous client left
 * unread can still be in flight when a new one connects.  So every client starts
 * with HELLO carrying a fresh nonce, and ignores everything until the HELLO that
 * echoes it.  A HELLO also makes the agent kill whatever command it was running
 * for an earlier client. */
#ifndef NETSIM_AGENT_H
#define NETSIM_AGENT_H

#define AGENT_PORT_NAME "org.netsim.agent"
#define AGENT_VERSION 1
#define AGENT_HEADER_SIZE 4
#define AGENT_MAX_PAYLOAD 65535

enum agent_frame {
	/* host -> guest */
	AGENT_HELLO = 'H',   /* payload: version byte + nonce; answered by HELLO, same payload */
	AGENT_EXEC = 'E',    /* payload: argv as NUL-terminated strings (PATH is searched) */
	AGENT_STDIN = 'I',   /* payload: bytes for the command's stdin */
	AGENT_STDIN_EOF = 'C', /* no payload: close the command's stdin */
	AGENT_SIGNAL = 'K',  /* payload: one byte, a signal number for the command's process group */
	/* guest -> host */
	AGENT_STDOUT = 'O',  /* payload: bytes the command wrote to stdout */
	AGENT_STDERR = 'R',  /* payload: bytes the command wrote to stderr */
	AGENT_EXIT = 'X',    /* payload: 2 bytes: 0 + exit code, or 1 + signal number */
};

#endif
