#include "tools/forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "net/netns.h"
#include "util.h"

/* Connections served at once; more wait in the listen backlog.  Two fds each,
 * so this stays well inside the default limit of 1024 open files. */
#define MAX_CONNS 256
/* Per direction per connection: bounds memory at MAX_CONNS * 2 * BUF_SIZE. */
#define BUF_SIZE (32 * 1024)
/* How often the relay checks that the node's netns still exists. */
#define WATCH_MS 1000

static int parse_port(const char *s, const char *end, unsigned min, uint16_t *port)
{
	if (s == end || end - s > 5)
		return -EINVAL;
	unsigned v = 0;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < min || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int forward_parse_spec(const char *spec, uint16_t *host_port, uint16_t *node_port,
		       struct error *err)
{
	const char *colon = strchr(spec, ':');
	if (!colon || parse_port(spec, colon, 0, host_port) < 0 ||
	    parse_port(colon + 1, colon + strlen(colon), 1, node_port) < 0)
		return error_setmsg(err, EINVAL,
				    "bad port spec '%s': want HOSTPORT:NODEPORT, HOSTPORT "
				    "0-65535 (0 = any free port), NODEPORT 1-65535", spec);
	return 0;
}

int forward_listen(uint16_t port, uint16_t *bound, struct error *err)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cleanup_close int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, errno, "socket");
	/* Lets a restarted forward take its port back while old connections sit in
	 * TIME_WAIT; Linux still refuses a second listener on the same port. */
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EADDRINUSE)
			return error_setmsg(err, EADDRINUSE, "127.0.0.1:%u is already in use", port);
		return error_set(err, errno, "bind 127.0.0.1:%u", port);
	}
	if (listen(fd, 128) < 0)
		return error_set(err, errno, "listen on 127.0.0.1:%u", port);
	socklen_t len = sizeof(addr);
	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		return error_set(err, errno, "getsockname");
	*bound = ntohs(addr.sin_port);
	return steal_fd(&fd);
}

/* ---- the relay ----------------------------------------------------------- */

struct buffer {
	size_t start, end;  /* pending bytes are data[start..end) */
	char data[BUF_SIZE];
};

/* One direction of a connection: bytes read from `from`, written to `to`. */
struct pipe_half {
	struct buffer buf;
	bool eof;           /* `from` reached end of input (or failed) */
	bool shut;          /* FIN passed on: shutdown(to, SHUT_WR) done */
};

struct conn {
	int client;         /* accepted on the host */
	int node;           /* created in the node's netns */
	bool connecting;    /* non-blocking connect in progress */
	struct pipe_half up;   /* client -> node */
	struct pipe_half down; /* node -> client */
};

static void conn_free(struct conn *c)
{
	if (c->client >= 0)
		close(c->client);
	if (c->node >= 0)
		close(c->node);
	free(c);
}

/* A socket inside the node: socket() while in its netns, so it stays there. */
static int node_socket(int netns_fd, struct error *err)
{
	int saved = -1;
	int r = netns_enter(netns_fd, &saved, err);
	if (r < 0)
		return r;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int e = errno;
	r = netns_leave(&saved, err);
	if (r < 0) {
		/* Still in the node's netns: nothing more may be done in this process. */
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (fd < 0)
		return error_set(err, e, "socket in the node's netns");
	return fd;
}

static void log_line(const struct forward_relay *relay, const char *what, int errnum)
{
	if (!relay->log)
		return;
	fprintf(relay->log, "netsim: forward %s: %s 127.0.0.1:%u in the node: %s\n", relay->label,
		what, relay->node_port, strerror(errnum));
	fflush(relay->log);
}

/* Close the client without a reset: FIN first, then discard what it already
 * sent (closing with unread data would send RST instead). */
static void close_client_gently(int fd)
{
	char sink[4096];
	shutdown(fd, SHUT_WR);
	while (read(fd, sink, sizeof(sink)) > 0)
		;
}

static int accept_one(const struct forward_relay *relay, struct conn **slot, struct error *err)
{
	int client = accept4(relay->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (client < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return 0;
		/* EMFILE and friends: wait for the next round rather than give up. */
		log_line(relay, "accept", errno);
		return 0;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(client);
		return 0;
	}
	c->client = client;
	c->node = -1;
	struct error e = { 0 };
	int fd = node_socket(relay->netns_fd, &e);
	if (fd < 0) {
		conn_free(c);
		if (e.errnum == ENOMEM || e.errnum == EMFILE || e.errnum == ENFILE ||
		    e.errnum == ENOBUFS) {
			log_line(relay, "socket", e.errnum);
			return 0;
		}
		*err = e;
		return -e.errnum;
	}
	c->node = fd;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(relay->node_port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno != EINPROGRESS) {
			log_line(relay, "connect", errno);
			close_client_gently(c->client);
			conn_free(c);
			return 0;
		}
		c->connecting = true;
	}
	*slot = c;
	return 0;
}

/* Move bytes of one direction: read what fits, write what is pending, pass the
 * FIN on once everything before it was written.  Returns false when the
 * connection is broken (reset, error). */
static bool pump(struct pipe_half *h, int from, int to, bool can_read, bool can_write)
{
	struct buffer *b = &h->buf;
	if (can_read && !h->eof && b->end < BUF_SIZE) {
		ssize_t n = read(from, b->data + b->end, BUF_SIZE - b->end);
		if (n > 0)
			b->end += (size_t)n;
		else if (n == 0)
			h->eof = true;
		else if (errno != EAGAIN && errno != EINTR)
			return false;
	}
	if (can_write && b->end > b->start) {
		ssize_t n = send(to, b->data + b->start, b->end - b->start, MSG_NOSIGNAL);
		if (n > 0)
			b->start += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
	}
	if (b->start == b->end) {
		b->start = b->end = 0;
	} else if (b->end == BUF_SIZE && b->start > 0) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	if (h->eof && !h->shut && b->start == b->end) {
		shutdown(to, SHUT_WR);
		h->shut = true;
	}
	return true;
}

static short want_events(const struct pipe_half *in, const struct pipe_half *out)
{
	short ev = 0;
	if (!in->eof && in->buf.end < BUF_SIZE)
		ev |= POLLIN;
	if (out->buf.end > out->buf.start)
		ev |= POLLOUT;
	return ev;
}

/* Service one connection after poll; false when it is finished or broken. */
static bool conn_step(const struct forward_relay *relay, struct conn *c,
		      const struct pollfd *pc, const struct pollfd *pn)
{
	if (c->connecting) {
		if (!(pn->revents & (POLLOUT | POLLERR | POLLHUP)))
			return true;
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (getsockopt(c->node, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr) {
			log_line(relay, "connect", soerr);
			close_client_gently(c->client);
			return false;
		}
		c->connecting = false;
		return true;  /* the next round polls for data */
	}
	short rc = pc->revents, rn = pn->revents;
	/* POLLHUP/POLLERR without POLLIN: let read() or send() report what happened. */
	bool client_in = rc & (POLLIN | POLLHUP | POLLERR);
	bool node_in = rn & (POLLIN | POLLHUP | POLLERR);
	bool client_out = rc & (POLLOUT | POLLHUP | POLLERR);
	bool node_out = rn & (POLLOUT | POLLHUP | POLLERR);
	if (!pump(&c->up, c->client, c->node, client_in, node_out) ||
	    !pump(&c->down, c->node, c->client, node_in, client_out))
		return false;
	return !(c->up.shut && c->down.shut);
}

/* The netns file still names the namespace the relay opened: `netsim down`
 * unmounts it, and a new sim of the same name binds a different one. */
static bool netns_still_there(const struct forward_relay *relay)
{
	struct stat now, ours;
	if (stat(relay->netns_path, &now) < 0 || fstat(relay->netns_fd, &ours) < 0)
		return false;
	return now.st_dev == ours.st_dev && now.st_ino == ours.st_ino;
}

int forward_run(const struct forward_relay *relay, const sigset_t *poll_mask,
		const volatile sig_atomic_t *stop, struct error *err)
{
	if (relay->vm)
		return qemu_tcp_relay(relay->vm, relay->listen_fd, relay->node_port, relay->label,
				      relay->log, poll_mask, stop, err);
	struct conn **conns = calloc(MAX_CONNS, sizeof(*conns));
	struct pollfd *fds = calloc(1 + 2 * MAX_CONNS, sizeof(*fds));
	int r = 0;
	if (!conns || !fds) {
		r = error_set(err, ENOMEM, "forward");
		goto out;
	}
	unsigned nconns = 0;
	long long next_watch = now_ms() + WATCH_MS;
	while (!*stop) {
		fds[0] = (struct pollfd){ .fd = nconns < MAX_CONNS ? relay->listen_fd : -1,
					  .events = POLLIN };
		for (unsigned i = 0; i < nconns; i++) {
			struct conn *c = conns[i];
			struct pollfd *pc = &fds[1 + 2 * i], *pn = pc + 1;
			if (c->connecting) {
				*pc = (struct pollfd){ .fd = -1 };
				*pn = (struct pollfd){ .fd = c->node, .events = POLLOUT };
				continue;
			}
			pc->events = want_events(&c->up, &c->down);
			pn->events = want_events(&c->down, &c->up);
			/* A socket with nothing to do is left out: its POLLHUP would
			 * wake every round; read or send finds the state later. */
			pc->fd = pc->events ? c->client : -1;
			pn->fd = pn->events ? c->node : -1;
			pc->revents = pn->revents = 0;
		}
		long long wait_ms = next_watch - now_ms();
		struct timespec timeout = { .tv_sec = wait_ms > 0 ? wait_ms / 1000 : 0,
					    .tv_nsec = wait_ms > 0 ? (wait_ms % 1000) * 1000000 : 0 };
		int n = ppoll(fds, 1 + 2 * nconns, &timeout, poll_mask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = error_set(err, errno, "poll");
			goto out;
		}
		if (now_ms() >= next_watch) {
			if (!netns_still_there(relay)) {
				r = error_setmsg(err, ENOENT, "%s: the node's network namespace is gone",
						 relay->label);
				goto out;
			}
			next_watch = now_ms() + WATCH_MS;
		}
		/* Connections first: the accept below appends to the array that the
		 * pollfds were built from. */
		for (unsigned i = 0; i < nconns;) {
			if (conn_step(relay, conns[i], &fds[1 + 2 * i], &fds[2 + 2 * i])) {
				i++;
				continue;
			}
			conn_free(conns[i]);
			/* Keep the pollfds in step with the array for the rest of this round. */
			nconns--;
			conns[i] = conns[nconns];
			conns[nconns] = NULL;
			fds[1 + 2 * i] = fds[1 + 2 * nconns];
			fds[2 + 2 * i] = fds[2 + 2 * nconns];
		}
		if (fds[0].revents & POLLIN) {
			/* Take what is queued, up to the connection limit. */
			for (unsigned k = 0; k < 16 && nconns < MAX_CONNS; k++) {
				struct conn *c = NULL;
				r = accept_one(relay, &c, err);
				if (r < 0)
					goto out;
				if (!c)
					break;
				conns[nconns++] = c;
			}
		}
	}
out:
	if (conns) {
		for (unsigned i = 0; i < MAX_CONNS; i++)
			if (conns[i])
				conn_free(conns[i]);
	}
	free(conns);
	free(fds);
	return r;
}
