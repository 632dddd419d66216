/* TCP streams between the host and a QEMU node, multiplexed over one
 * virtio-serial port: what `netsim forward` uses for backend=qemu nodes.  Shared
 * by the guest side (rootfs/vm/agent.c --tcp, static) and the host side
 * (netsim/vm/forward.c); docs/vm.md describes it for people.
 *
 * Why not the agent's port (agent.h): that one serves one client at a time and a
 * new HELLO kills the running command, while a forward lives for hours next to
 * `netsim exec`.  The VM has MUX_PORTS such ports ("org.netsim.tcp.N", host end
 * RUN_DIR/tcpN.sock), so that as many forwards of one node (web UI and ssh) run
 * at once; each forward takes the first free one (flock on RUN_DIR/tcpN.lock).
 *
 * Frames, both directions: byte 0 type, byte 1 0, bytes 2-3 payload length
 * (big-endian, at most MUX_MAX_PAYLOAD), payload.  Every payload but HELLO's
 * starts with a channel number (2 bytes, big-endian, < MUX_MAX_CHANNELS).
 *
 *   HELLO   version byte + nonce (1..16 bytes), host first; the guest closes
 *           every channel of the port and echoes it.  The host ignores
 *           everything until the echo: bytes a previous client left in the
 *           serial line are skipped, as on the agent's port.
 *   OPEN    host -> guest: channel + port (2 bytes): connect to 127.0.0.1:port.
 *           The host allocates channels and may send DATA right away.
 *   DATA    channel + 1..MUX_MAX_DATA bytes.
 *   EOF     channel: the sender's socket reached end of input (a FIN).
 *   CREDIT  channel + 4 bytes: the receiver wrote that many bytes of the
 *           channel's DATA out to its socket.
 *   CLOSE   channel [+ errno byte]: the channel is gone on the sender's side;
 *           the other side closes its socket and answers CLOSE unless it sent
 *           one already.  A channel is free again once each side sent and got
 *           one.
 *
 * Flow control: a side never has more than MUX_WINDOW bytes of a channel's DATA
 * in flight (sent minus credited); the receiver buffers at most that much per
 * channel, and treats more as a broken channel.  So neither side grows, whatever
 * the other or a slow socket does: per port at most MUX_MAX_CHANNELS windows
 * plus one output queue of MUX_OUTQ bytes.  A frame the parser rejects (too
 * long, wrong size for its type, channel out of range) ends the whole port
 * session: the host closes all its connections and starts again with HELLO.
 *
 * Everything is static inline so that each side includes it once; no libc
 * beyond POSIX sockets. */
#ifndef NETSIM_MUX_H
#define NETSIM_MUX_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MUX_PORT_PREFIX "org.netsim.tcp."
#define MUX_PORTS 4
#define MUX_VERSION 1
#define MUX_HEADER_SIZE 4
#define MUX_MAX_DATA 16384
#define MUX_MAX_PAYLOAD (2 + MUX_MAX_DATA)
#define MUX_MAX_CHANNELS 64
#define MUX_WINDOW (64 * 1024)
/* The output queue: data is only read from a socket while a whole DATA frame
 * fits, control frames wait in per-channel flags until they fit. */
#define MUX_OUTQ (4 * (MUX_HEADER_SIZE + MUX_MAX_PAYLOAD))

enum mux_type {
	MUX_HELLO = 'H',
	MUX_OPEN = 'o',
	MUX_DATA = 'd',
	MUX_EOF = 'e',
	MUX_CREDIT = 'w',
	MUX_CLOSE = 'c',
};

struct mux_frame {
	uint8_t type;          /* 0: unknown type, skip it */
	uint16_t channel;
	const uint8_t *data;   /* after the channel number (HELLO: the whole payload) */
	size_t len;
	uint32_t value;        /* OPEN: the port; CREDIT: the bytes; CLOSE: errno or 0 */
};

/* One frame from buf[0..have): returns the bytes it takes (> 0), 0 when more
 * are needed, -1 when the bytes cannot be a valid frame. */
static inline long mux_parse(const uint8_t *buf, size_t have, struct mux_frame *f)
{
	if (have < MUX_HEADER_SIZE)
		return 0;
	size_t len = ((size_t)buf[2] << 8) | buf[3];
	if (buf[1] != 0 || len > MUX_MAX_PAYLOAD)
		return -1;
	if (have < MUX_HEADER_SIZE + len)
		return 0;
	const uint8_t *p = buf + MUX_HEADER_SIZE;
	memset(f, 0, sizeof(*f));
	f->type = buf[0];
	if (f->type == MUX_HELLO) {
		if (len < 2 || len > 17)
			return -1;
		f->data = p;
		f->len = len;
		return (long)(MUX_HEADER_SIZE + len);
	}
	size_t want_min, want_max;
	switch (f->type) {
	case MUX_OPEN: want_min = want_max = 4; break;
	case MUX_DATA: want_min = 3; want_max = MUX_MAX_PAYLOAD; break;
	case MUX_EOF: want_min = want_max = 2; break;
	case MUX_CREDIT: want_min = want_max = 6; break;
	case MUX_CLOSE: want_min = 2; want_max = 3; break;
	default:
		f->type = 0;  /* unknown: skipped, so newer peers stay compatible */
		return (long)(MUX_HEADER_SIZE + len);
	}
	if (len < want_min || len > want_max)
		return -1;
	f->channel = (uint16_t)((p[0] << 8) | p[1]);
	if (f->channel >= MUX_MAX_CHANNELS)
		return -1;
	f->data = p + 2;
	f->len = len - 2;
	if (f->type == MUX_OPEN)
		f->value = (uint32_t)((p[2] << 8) | p[3]);
	else if (f->type == MUX_CREDIT)
		f->value = ((uint32_t)p[2] << 24) | ((uint32_t)p[3] << 16) | ((uint32_t)p[4] << 8) | p[5];
	else if (f->type == MUX_CLOSE && len == 3)
		f->value = p[2];
	return (long)(MUX_HEADER_SIZE + len);
}

/* ---- the channel engine, the same on both sides ------------------------- */

struct mux_chan {
	bool used;
	int fd;                /* the local socket; -1 once closed */
	bool connecting;       /* guest: non-blocking connect in progress */
	/* peer -> socket */
	uint8_t *buf;          /* MUX_WINDOW bytes while the channel is used */
	size_t start, end;
	bool peer_eof, shut_wr;
	uint32_t credit_owed;
	/* socket -> peer */
	uint32_t window;       /* DATA bytes we may still send */
	bool sock_eof, eof_sent;
	/* lifetime */
	bool open_pending;     /* host: OPEN still to send */
	uint16_t port;
	bool close_pending, close_sent, close_got;
	uint8_t close_err;     /* sent in our CLOSE */
	uint8_t peer_err;      /* from the peer's CLOSE */
	void *user;            /* the host's per-connection data */
};

struct mux {
	int port_fd;
	struct mux_chan ch[MUX_MAX_CHANNELS];
	uint8_t in[2 * (MUX_HEADER_SIZE + MUX_MAX_PAYLOAD)];
	size_t in_have;
	uint8_t out[MUX_OUTQ];
	size_t out_start, out_end;
};

static inline void mux_init(struct mux *m, int port_fd)
{
	memset(m, 0, sizeof(*m));
	m->port_fd = port_fd;
	for (unsigned i = 0; i < MUX_MAX_CHANNELS; i++)
		m->ch[i].fd = -1;
}

static inline size_t mux_out_room(const struct mux *m)
{
	return MUX_OUTQ - (m->out_end - m->out_start);
}

static inline bool mux_queue(struct mux *m, uint8_t type, int channel, const void *a, size_t alen,
			     const void *b, size_t blen)
{
	size_t len = (channel >= 0 ? 2 : 0) + alen + blen;
	if (mux_out_room(m) < MUX_HEADER_SIZE + len)
		return false;
	if (MUX_OUTQ - m->out_end < MUX_HEADER_SIZE + len) {
		memmove(m->out, m->out + m->out_start, m->out_end - m->out_start);
		m->out_end -= m->out_start;
		m->out_start = 0;
	}
	uint8_t *p = m->out + m->out_end;
	*p++ = type;
	*p++ = 0;
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	if (channel >= 0) {
		*p++ = (uint8_t)(channel >> 8);
		*p++ = (uint8_t)channel;
	}
	if (alen)
		memcpy(p, a, alen);
	if (blen)
		memcpy(p + alen, b, blen);
	m->out_end += MUX_HEADER_SIZE + len;
	return true;
}

/* Take a channel into use with socket fd (-1 for a guest still to connect). */
static inline struct mux_chan *mux_chan_open(struct mux *m, unsigned i, int fd)
{
	struct mux_chan *c = &m->ch[i];
	uint8_t *buf = malloc(MUX_WINDOW);
	if (!buf)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->fd = fd;
	c->buf = buf;
	c->window = MUX_WINDOW;
	return c;
}

/* The local end is done (error, refused, or both directions finished): close
 * the socket and tell the peer. */
static inline void mux_chan_fail(struct mux_chan *c, int errnum)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (!c->close_sent && !c->close_pending) {
		c->close_pending = true;
		c->close_err = (uint8_t)(errnum > 0 && errnum < 256 ? errnum : 0);
	}
}

static inline void mux_chan_free(struct mux_chan *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* A new session (HELLO) or a lost port: every channel and the output queue
 * go; the input buffer is the caller's. */
static inline void mux_reset(struct mux *m)
{
	for (unsigned i = 0; i < MUX_MAX_CHANNELS; i++)
		if (m->ch[i].used)
			mux_chan_free(&m->ch[i]);
	m->out_start = m->out_end = 0;
}

/* A frame from the peer.  Returns the channel a guest must connect for OPEN
 * (the caller does that), else -1. */
static inline int mux_handle(struct mux *m, const struct mux_frame *f, bool guest)
{
	if (f->type == 0 || f->type == MUX_HELLO)
		return -1;
	struct mux_chan *c = &m->ch[f->channel];
	if (f->type == MUX_OPEN) {
		/* Only the host opens; an OPEN for a channel in use is ignored. */
		if (!guest || c->used || !f->value)
			return -1;
		if (!mux_chan_open(m, f->channel, -1)) {
			/* No memory: refuse the channel right here. */
			uint8_t e = ENOMEM;
			mux_queue(m, MUX_CLOSE, f->channel, &e, 1, NULL, 0);
			return -1;
		}
		m->ch[f->channel].port = (uint16_t)f->value;
		return f->channel;
	}
	if (!c->used)
		return -1;  /* stale: a channel of an earlier session */
	switch (f->type) {
	case MUX_DATA:
		if (c->close_sent || c->close_pending || c->peer_eof)
			break;  /* we are closing: drop it */
		if (f->len > MUX_WINDOW - (c->end - c->start)) {
			/* More than the window: the peer is broken. */
			mux_chan_fail(c, EPROTO);
			break;
		}
		if (MUX_WINDOW - c->end < f->len) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		memcpy(c->buf + c->end, f->data, f->len);
		c->end += f->len;
		break;
	case MUX_EOF:
		c->peer_eof = true;
		break;
	case MUX_CREDIT:
		/* Credit beyond the window would only let us send more than the
		 * peer said it buffers: cap it. */
		if (f->value > MUX_WINDOW - c->window)
			c->window = MUX_WINDOW;
		else
			c->window += f->value;
		break;
	case MUX_CLOSE:
		/* Whatever the peer sent before is still written out to the
		 * socket, unless the peer closed with an error. */
		c->close_got = true;
		c->peer_eof = true;
		c->peer_err = (uint8_t)f->value;
		if (c->peer_err || c->start == c->end)
			mux_chan_fail(c, 0);
		break;
	}
	return -1;
}

/* poll events the channel's socket needs (0: leave it out). */
static inline short mux_chan_events(const struct mux *m, const struct mux_chan *c)
{
	if (!c->used || c->fd < 0)
		return 0;
	if (c->connecting)
		return POLLOUT;
	short ev = 0;
	if (!c->sock_eof && !c->close_got && c->window > 0 &&
	    mux_out_room(m) >= MUX_HEADER_SIZE + MUX_MAX_PAYLOAD + 64)
		ev |= POLLIN;
	/* POLLOUT also for a FIN still to pass on (and, after the peer's CLOSE,
	 * the channel's end), which service() does once writable. */
	if (c->end > c->start || (c->peer_eof && !c->shut_wr))
		ev |= POLLOUT;
	return ev;
}

/* Move bytes between the socket and the port queues after poll. */
static inline void mux_chan_service(struct mux *m, unsigned i, short revents)
{
	struct mux_chan *c = &m->ch[i];
	if (!c->used || c->fd < 0)
		return;
	if (c->connecting) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr) {
			mux_chan_fail(c, soerr);
			return;
		}
		c->connecting = false;
		revents = POLLIN | POLLOUT;  /* try both below */
	}
	bool can_read = revents & (POLLIN | POLLHUP | POLLERR);
	bool can_write = revents & (POLLOUT | POLLHUP | POLLERR);
	if (can_read && !c->sock_eof && !c->close_got && c->window > 0 &&
	    mux_out_room(m) >= MUX_HEADER_SIZE + MUX_MAX_PAYLOAD + 64) {
		uint8_t data[MUX_MAX_DATA];
		size_t want = c->window < sizeof(data) ? c->window : sizeof(data);
		ssize_t n = read(c->fd, data, want);
		if (n > 0) {
			mux_queue(m, MUX_DATA, (int)i, data, (size_t)n, NULL, 0);
			c->window -= (uint32_t)n;
		} else if (n == 0) {
			c->sock_eof = true;
		} else if (errno != EAGAIN && errno != EINTR) {
			mux_chan_fail(c, errno);
			return;
		}
	}
	if (can_write && c->end > c->start) {
		ssize_t n = send(c->fd, c->buf + c->start, c->end - c->start, MSG_NOSIGNAL);
		if (n > 0) {
			c->start += (size_t)n;
			c->credit_owed += (uint32_t)n;
			if (c->start == c->end)
				c->start = c->end = 0;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			mux_chan_fail(c, errno);
			return;
		}
	}
	if (c->peer_eof && !c->shut_wr && c->start == c->end) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = true;
	}
	/* Both directions done and the EOF frame out, or the peer closed and
	 * its last bytes are written: the channel has served. */
	if ((c->sock_eof && c->eof_sent && c->shut_wr) || (c->close_got && c->shut_wr))
		mux_chan_fail(c, 0);
}

/* Put the channels' pending control frames into the output queue while they
 * fit, and free channels both sides have closed. */
static inline void mux_emit(struct mux *m)
{
	for (unsigned i = 0; i < MUX_MAX_CHANNELS; i++) {
		struct mux_chan *c = &m->ch[i];
		if (!c->used)
			continue;
		if (c->open_pending) {
			uint8_t port[2] = { (uint8_t)(c->port >> 8), (uint8_t)c->port };
			if (!mux_queue(m, MUX_OPEN, (int)i, port, 2, NULL, 0))
				return;
			c->open_pending = false;
		}
		if (c->close_sent)
			goto maybe_free;
		if (c->credit_owed) {
			uint32_t v = c->credit_owed;
			uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
					 (uint8_t)v };
			if (!mux_queue(m, MUX_CREDIT, (int)i, b, 4, NULL, 0))
				return;
			c->credit_owed = 0;
		}
		if (c->sock_eof && !c->eof_sent) {
			if (!mux_queue(m, MUX_EOF, (int)i, NULL, 0, NULL, 0))
				return;
			c->eof_sent = true;
			/* the socket may be finished now that the EOF is out */
			if (c->shut_wr && c->fd >= 0)
				mux_chan_fail(c, 0);
		}
		if (c->close_pending) {
			if (!mux_queue(m, MUX_CLOSE, (int)i, &c->close_err, c->close_err ? 1 : 0, NULL,
				       0))
				return;
			c->close_pending = false;
			c->close_sent = true;
		}
maybe_free:
		if (c->close_sent && c->close_got)
			mux_chan_free(c);
	}
}

/* Write what the output queue holds to the port (non-blocking).  -1 when the
 * port failed. */
static inline int mux_flush(struct mux *m)
{
	while (m->out_end > m->out_start) {
		ssize_t n = write(m->port_fd, m->out + m->out_start, m->out_end - m->out_start);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (n == 0)
			return 0;
		m->out_start += (size_t)n;
	}
	m->out_start = m->out_end = 0;
	return 0;
}

#endif
