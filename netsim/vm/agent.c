/* The guest agent's client (see vm/agent.h): frames over the VM's virtio-serial
 * port, agent.sock in the node's run directory (the wire protocol:
 * rootfs/vm/agent.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../rootfs/vm/agent.h"
#include "cleanup.h"
#include "util.h"
#include "vm/agent.h"

#define PATH_LEN QEMU_PATH_LEN

int qemu_run_path(char *buf, const char *run_dir, const char *leaf)
{
	int n = snprintf(buf, PATH_LEN, "%s/%s", run_dir, leaf);
	return n < 0 || n >= PATH_LEN ? -ENAMETOOLONG : 0;
}

struct agent_conn {
	int fd;
	long long deadline;   /* 0: none */
	unsigned char buf[AGENT_HEADER_SIZE + AGENT_MAX_PAYLOAD];
	size_t have;
};

static int conn_wait(struct agent_conn *c, short events, struct error *err)
{
	for (;;) {
		int timeout = -1;
		if (c->deadline) {
			long long left = c->deadline - now_ms();
			if (left <= 0)
				return error_setmsg(err, ETIMEDOUT, "guest agent: no answer in time");
			timeout = (int)left;
		}
		struct pollfd p = { .fd = c->fd, .events = events };
		int r = poll(&p, 1, timeout);
		if (r < 0 && errno != EINTR)
			return error_set(err, errno, "guest agent: poll");
		if (r > 0)
			return 0;
	}
}

static int send_frame(struct agent_conn *c, int type, const void *payload, size_t len,
		      struct error *err)
{
	unsigned char header[AGENT_HEADER_SIZE] = { (unsigned char)type, 0,
						    (unsigned char)(len >> 8), (unsigned char)len };
	struct iovec iov[2] = { { header, sizeof(header) }, { (void *)payload, len } };
	size_t total = sizeof(header) + len, sent = 0;
	while (sent < total) {
		int ret = conn_wait(c, POLLOUT, err);
		if (ret < 0)
			return ret;
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return error_set(err, errno, "guest agent: send");
		}
		sent += (size_t)n;
		/* advance the iovecs past what went out */
		size_t skip = (size_t)n;
		for (int i = 0; i < 2; i++) {
			size_t k = skip < iov[i].iov_len ? skip : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			skip -= k;
		}
	}
	return 0;
}

/* Next frame: *type, payload in c->buf + header, *len.  Blocks (up to the
 * deadline); `other_fd` readable makes it return 1 with no frame. */
static int read_frame(struct agent_conn *c, int other_fd, int *type, size_t *len,
		      struct error *err)
{
	for (;;) {
		if (c->have >= AGENT_HEADER_SIZE) {
			size_t need = ((size_t)c->buf[2] << 8 | c->buf[3]) + AGENT_HEADER_SIZE;
			if (c->have >= need) {
				*type = c->buf[0];
				*len = need - AGENT_HEADER_SIZE;
				return 0;
			}
		}
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN }, { .fd = other_fd, .events = POLLIN } };
		int timeout = -1;
		if (c->deadline) {
			long long left = c->deadline - now_ms();
			if (left <= 0)
				return error_setmsg(err, ETIMEDOUT, "guest agent: no answer in time");
			timeout = (int)left;
		}
		int r = poll(p, other_fd >= 0 ? 2 : 1, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, errno, "guest agent: poll");
		}
		if (r == 0)
			continue;
		if (p[0].revents) {
			ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				return error_set(err, errno, "guest agent: read");
			if (n == 0)
				return error_setmsg(err, ECONNRESET, "guest agent: QEMU closed the connection");
			if (n > 0)
				c->have += (size_t)n;
			continue;
		}
		if (other_fd >= 0 && p[1].revents)
			return 1;
	}
}

static void consume_frame(struct agent_conn *c, size_t len)
{
	size_t used = AGENT_HEADER_SIZE + len;
	memmove(c->buf, c->buf + used, c->have - used);
	c->have -= used;
}

/* Connect and say hello; everything before the echo of our nonce is stale
 * output for an earlier client (agent.h). */
static int agent_connect(const char *run_dir, int timeout_ms, struct agent_conn *c,
			 struct error *err)
{
	char path[PATH_LEN];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	qemu_run_path(path, run_dir, "agent.sock");
	if (strlen(path) >= sizeof(addr.sun_path))
		return error_setmsg(err, ENAMETOOLONG, "%s: path too long for a unix socket", path);
	strcpy(addr.sun_path, path);
	c->have = 0;
	c->deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return error_set(err, errno, "socket");
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return error_set(err, errno, "guest agent: connect %s", path);
	unsigned char hello[1 + 8];
	hello[0] = AGENT_VERSION;
	if (getrandom(hello + 1, 8, 0) != 8) {
		long long t = now_ms() ^ getpid();
		memcpy(hello + 1, &t, 8);
	}
	int ret = send_frame(c, AGENT_HELLO, hello, sizeof(hello), err);
	while (ret == 0) {
		int type;
		size_t len;
		if ((ret = read_frame(c, -1, &type, &len, err)) < 0)
			break;
		bool mine = type == AGENT_HELLO && len == sizeof(hello) &&
			    memcmp(c->buf + AGENT_HEADER_SIZE, hello, len) == 0;
		consume_frame(c, len);
		if (mine)
			return 0;
	}
	return ret;
}

int qemu_agent_ping(const char *run_dir, int timeout_ms, struct error *err)
{
	struct agent_conn c = { .fd = -1 };
	int ret = agent_connect(run_dir, timeout_ms, &c, err);
	if (c.fd >= 0)
		close(c.fd);
	return ret;
}

int qemu_agent_exec(const char *run_dir, char *const argv[], int in_fd, int out_fd, int err_fd,
		    int timeout_ms, int *status, struct error *err)
{
	struct agent_conn c = { .fd = -1 };
	static unsigned char args[AGENT_MAX_PAYLOAD];
	size_t len = 0;
	int ret;

	for (char *const *a = argv; *a; a++) {
		size_t n = strlen(*a) + 1;
		if (len + n > sizeof(args))
			return error_setmsg(err, E2BIG, "command too long for the guest agent");
		memcpy(args + len, *a, n);
		len += n;
	}
	if (len == 0)
		return error_setmsg(err, EINVAL, "empty command");
	if ((ret = agent_connect(run_dir, timeout_ms, &c, err)) < 0 ||
	    (ret = send_frame(&c, AGENT_EXEC, args, len, err)) < 0 ||
	    (in_fd < 0 && (ret = send_frame(&c, AGENT_STDIN_EOF, NULL, 0, err)) < 0))
		goto out;
	for (;;) {
		int type;
		size_t flen;
		ret = read_frame(&c, in_fd, &type, &flen, err);
		if (ret < 0)
			goto out;
		if (ret == 1) {
			/* our stdin has something for the command */
			unsigned char buf[16384];
			ssize_t n = read(in_fd, buf, sizeof(buf));
			if (n <= 0) {
				in_fd = -1;
				ret = send_frame(&c, AGENT_STDIN_EOF, NULL, 0, err);
			} else {
				ret = send_frame(&c, AGENT_STDIN, buf, (size_t)n, err);
			}
			if (ret < 0)
				goto out;
			continue;
		}
		const unsigned char *payload = c.buf + AGENT_HEADER_SIZE;
		if (type == AGENT_STDOUT || type == AGENT_STDERR) {
			int fd = type == AGENT_STDOUT ? out_fd : err_fd;
			if (fd >= 0)
				write_all(fd, payload, flen);
		} else if (type == AGENT_EXIT && flen == 2) {
			*status = payload[0] ? 128 + payload[1] : payload[1];
			consume_frame(&c, flen);
			ret = 0;
			goto out;
		}
		consume_frame(&c, flen);
	}
out:
	if (c.fd >= 0)
		close(c.fd);
	return ret;
}
