/* `netsim forward` to a QEMU node: the host end of rootfs/vm/mux.h (see
 * vm/forward.h).  Everything the guest sends is bounded by the mux engine: a
 * fixed input buffer, at most MUX_MAX_CHANNELS channels that the host itself
 * opens, at most MUX_WINDOW buffered bytes per channel; a frame the parser
 * rejects starts a new session instead of being trusted. */
#include "vm/forward.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../rootfs/vm/mux.h"
#include "cleanup.h"
#include "util.h"
#include "vm/agent.h"

#define HELLO_RETRY_MS 1000

struct qemu_tcp {
	int lock_fd;
	bool ready;             /* the guest echoed our HELLO */
	uint8_t hello[9];       /* version + nonce */
	long long hello_sent_ms;
	struct mux m;
};

static void send_hello(struct qemu_tcp *t)
{
	t->hello[0] = MUX_VERSION;
	long long now = now_ms();
	for (unsigned i = 1; i < sizeof(t->hello); i++)
		t->hello[i] = (uint8_t)((now >> (i * 5)) ^ (getpid() >> i) ^ rand());
	mux_reset(&t->m);
	t->ready = false;
	mux_queue(&t->m, MUX_HELLO, -1, t->hello, sizeof(t->hello), NULL, 0);
	t->hello_sent_ms = now;
}

/* What the guest sent: act on whole frames.  Returns -1 when the port is gone. */
static int read_port(struct qemu_tcp *t, FILE *log, const char *label, uint16_t node_port)
{
	struct mux *m = &t->m;
	ssize_t n = read(m->port_fd, m->in + m->in_have, sizeof(m->in) - m->in_have);
	if (n == 0)
		return -1;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	m->in_have += (size_t)n;
	size_t used = 0;
	while (used < m->in_have) {
		struct mux_frame f;
		long r = mux_parse(m->in + used, m->in_have - used, &f);
		if (r == 0)
			break;
		if (r < 0) {
			if (!t->ready) {
				used++;  /* leftovers of an earlier session: resynchronise */
				continue;
			}
			if (log) {
				fprintf(log, "netsim: forward %s: the VM sent a bad frame; "
					"its connections are closed and a new session starts\n", label);
				fflush(log);
			}
			m->in_have = 0;
			send_hello(t);
			return 0;
		}
		used += (size_t)r;
		if (!t->ready) {
			if (f.type == MUX_HELLO && f.len == sizeof(t->hello) &&
			    memcmp(f.data, t->hello, f.len) == 0)
				t->ready = true;
			continue;
		}
		if (f.type == MUX_CLOSE && f.value && m->ch[f.channel].used &&
		    !m->ch[f.channel].close_sent && log) {
			fprintf(log, "netsim: forward %s: connect 127.0.0.1:%u in the node: %s\n",
				label, node_port, strerror(f.value));
			fflush(log);
		}
		mux_handle(m, &f, false);
	}
	memmove(m->in, m->in + used, m->in_have - used);
	m->in_have -= used;
	return 0;
}

/* Flush and read until the guest answers HELLO. */
static int handshake(struct qemu_tcp *t, int timeout_ms, struct error *err)
{
	long long deadline = now_ms() + timeout_ms;
	send_hello(t);
	while (!t->ready) {
		long long now = now_ms();
		if (now >= deadline)
			return error_setmsg(err, ETIMEDOUT,
					    "the VM's TCP agent does not answer (a kernel from before "
					    "forward knew qemu nodes? run `make kernel` and restart "
					    "the node)");
		if (now - t->hello_sent_ms >= HELLO_RETRY_MS)
			send_hello(t);
		if (mux_flush(&t->m) < 0)
			return error_set(err, errno, "the VM's TCP port");
		struct pollfd p = { .fd = t->m.port_fd, .events = POLLIN };
		if (t->m.out_end > t->m.out_start)
			p.events |= POLLOUT;
		long long wait = t->hello_sent_ms + HELLO_RETRY_MS - now;
		if (wait > deadline - now)
			wait = deadline - now;
		if (poll(&p, 1, (int)(wait > 0 ? wait : 0)) < 0 && errno != EINTR)
			return error_set(err, errno, "poll");
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && read_port(t, NULL, "", 0) < 0)
			return error_setmsg(err, ECONNRESET, "the VM closed its TCP port");
	}
	return 0;
}

struct qemu_tcp *qemu_tcp_attach(int sock, int timeout_ms, struct error *err)
{
	struct qemu_tcp *t = calloc(1, sizeof(*t));
	if (!t) {
		error_set(err, ENOMEM, "forward");
		close(sock);
		return NULL;
	}
	t->lock_fd = -1;
	int fl = fcntl(sock, F_GETFL);
	if (fl >= 0)
		fcntl(sock, F_SETFL, fl | O_NONBLOCK);
	mux_init(&t->m, sock);
	if (handshake(t, timeout_ms, err) < 0) {
		qemu_tcp_close(t);
		return NULL;
	}
	return t;
}

struct qemu_tcp *qemu_tcp_open(const char *run_dir, int timeout_ms, struct error *err)
{
	char path[QEMU_PATH_LEN];
	bool any = false;
	for (unsigned i = 0; i < MUX_PORTS; i++) {
		char leaf[16];
		snprintf(leaf, sizeof(leaf), "tcp%u.sock", i);
		if (qemu_run_path(path, run_dir, leaf) < 0) {
			error_set(err, ENAMETOOLONG, "%s", run_dir);
			return NULL;
		}
		if (access(path, F_OK) < 0)
			continue;
		any = true;
		snprintf(leaf, sizeof(leaf), "tcp%u.lock", i);
		char lock_path[QEMU_PATH_LEN];
		qemu_run_path(lock_path, run_dir, leaf);
		cleanup_close int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lock < 0) {
			error_set(err, errno, "open %s", lock_path);
			return NULL;
		}
		if (flock(lock, LOCK_EX | LOCK_NB) < 0)
			continue;  /* another forward has this port */
		int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (sock < 0) {
			error_set(err, errno, "socket");
			return NULL;
		}
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		if (strlen(path) >= sizeof(addr.sun_path)) {
			close(sock);
			error_setmsg(err, ENAMETOOLONG, "%s: path too long for a socket", path);
			return NULL;
		}
		strcpy(addr.sun_path, path);
		if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			error_set(err, errno, "connect %s (is the VM running?)", path);
			close(sock);
			return NULL;
		}
		struct qemu_tcp *t = qemu_tcp_attach(sock, timeout_ms, err);
		if (t)
			t->lock_fd = steal_fd(&lock);
		return t;
	}
	if (!any)
		error_setmsg(err, ENOENT, "the VM has no TCP port (%s/tcp0.sock; started by an "
			     "older netsim?): restart the node", run_dir);
	else
		error_setmsg(err, EBUSY, "all %d TCP ports of the VM are taken by other forwards "
			     "of this node: stop one", MUX_PORTS);
	return NULL;
}

void qemu_tcp_close(struct qemu_tcp *t)
{
	if (!t)
		return;
	mux_reset(&t->m);
	if (t->m.port_fd >= 0)
		close(t->m.port_fd);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	free(t);
}

static void accept_some(struct qemu_tcp *t, int listen_fd, uint16_t node_port, FILE *log,
			const char *label)
{
	for (unsigned k = 0; k < 16; k++) {
		unsigned i = 0;
		while (i < MUX_MAX_CHANNELS && t->m.ch[i].used)
			i++;
		if (i == MUX_MAX_CHANNELS)
			return;
		int client = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (client < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED && log) {
				fprintf(log, "netsim: forward %s: accept: %s\n", label, strerror(errno));
				fflush(log);
			}
			return;
		}
		struct mux_chan *c = mux_chan_open(&t->m, i, client);
		if (!c) {
			close(client);
			return;
		}
		c->port = node_port;
		c->open_pending = true;
	}
}

static bool channel_free(const struct mux *m)
{
	for (unsigned i = 0; i < MUX_MAX_CHANNELS; i++)
		if (!m->ch[i].used)
			return true;
	return false;
}

int qemu_tcp_relay(struct qemu_tcp *t, int listen_fd, uint16_t node_port, const char *label,
		   FILE *log, const sigset_t *poll_mask, const volatile sig_atomic_t *stop,
		   struct error *err)
{
	struct mux *m = &t->m;
	struct pollfd fds[2 + MUX_MAX_CHANNELS];
	while (!*stop) {
		if (!t->ready && now_ms() - t->hello_sent_ms >= HELLO_RETRY_MS)
			send_hello(t);
		mux_emit(m);
		if (mux_flush(m) < 0)
			return error_setmsg(err, ENOENT, "%s: the node's VM is gone", label);
		fds[0] = (struct pollfd){ .fd = t->ready && channel_free(m) ? listen_fd : -1,
					  .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = m->port_fd, .events = 0 };
		if (m->in_have < sizeof(m->in))
			fds[1].events |= POLLIN;
		if (m->out_end > m->out_start)
			fds[1].events |= POLLOUT;
		for (unsigned i = 0; i < MUX_MAX_CHANNELS; i++) {
			short ev = t->ready ? mux_chan_events(m, &m->ch[i]) : 0;
			fds[2 + i] = (struct pollfd){ .fd = ev ? m->ch[i].fd : -1, .events = ev };
		}
		struct timespec timeout = { .tv_sec = 1 };
		int n = ppoll(fds, 2 + MUX_MAX_CHANNELS, t->ready ? NULL : &timeout, poll_mask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, errno, "poll");
		}
		if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    read_port(t, log, label, node_port) < 0)
			return error_setmsg(err, ENOENT, "%s: the node's VM is gone", label);
		if (!t->ready)
			continue;
		for (unsigned i = 0; i < MUX_MAX_CHANNELS; i++)
			if (fds[2 + i].revents)
				mux_chan_service(m, i, fds[2 + i].revents);
		if (fds[0].revents & POLLIN)
			accept_some(t, listen_fd, node_port, log, label);
	}
	return 0;
}
