/* netsim guest agent: runs commands for the host over a virtio-serial port.
 *
 *     /netsim/agent [PORT-DEVICE]
 *     /netsim/agent --tcp FD...
 *
 * The second form serves `netsim forward`'s TCP streams (mux.h) on the given
 * already open virtio-serial ports, in a process of its own so that a forward
 * and the commands of `netsim exec` never wait for each other.
 *
 * Without an argument the port is fd 3, opened by /netsim/init before it hands
 * over to the rootfs's init: OpenWrt's procd mounts a fresh tmpfs on /dev right
 * away, and an fd opened before that keeps working while a path would not.
 *
 * One command at a time (the host end is a unix socket QEMU serves to one client
 * at a time anyway).  Protocol: agent.h.  Static, no dependencies: it must run in
 * any rootfs, whatever C library that rootfs has. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "mux.h"

struct command {
	pid_t pid;          /* 0 when none is running */
	int stdin_fd, stdout_fd, stderr_fd;  /* -1 when closed */
	int status;         /* wait status once reaped */
	bool reaped;
	long long exited_at_ms;
};

static int port = 3;
static struct command cmd = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Writes block while no host client is connected (virtio-serial semantics); that
 * is what we want: output is kept until someone reads it or a HELLO discards it. */
static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				usleep(10000);
				continue;
			}
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void send_frame(int type, const void *payload, size_t len)
{
	unsigned char header[AGENT_HEADER_SIZE] = { (unsigned char)type, 0,
						    (unsigned char)(len >> 8),
						    (unsigned char)len };
	write_all(port, header, sizeof(header));
	if (len)
		write_all(port, payload, len);
}

static void send_text(int type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_text(int type, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		send_frame(type, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void kill_command(void)
{
	if (cmd.pid > 0 && !cmd.reaped) {
		kill(-cmd.pid, SIGKILL);
		waitpid(cmd.pid, NULL, 0);
	}
	close_fd(&cmd.stdin_fd);
	close_fd(&cmd.stdout_fd);
	close_fd(&cmd.stderr_fd);
	cmd.pid = 0;
	cmd.reaped = false;
}

static void start_command(const unsigned char *payload, size_t len)
{
	char *argv[256];
	size_t argc = 0, start = 0;
	static char args[AGENT_MAX_PAYLOAD + 1];

	if (cmd.pid > 0) {
		send_text(AGENT_STDERR, "netsim-agent: a command is already running\n");
		send_frame(AGENT_EXIT, (unsigned char[]){ 0, 125 }, 2);
		return;
	}
	memcpy(args, payload, len);
	args[len] = '\0';
	for (size_t i = 0; i < len && argc < 255; i++) {
		if (args[i] == '\0') {
			argv[argc++] = &args[start];
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	if (argc == 0) {
		send_text(AGENT_STDERR, "netsim-agent: empty command\n");
		send_frame(AGENT_EXIT, (unsigned char[]){ 0, 125 }, 2);
		return;
	}

	int in[2], out[2], errp[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		send_text(AGENT_STDERR, "netsim-agent: pipe: %s\n", strerror(errno));
		send_frame(AGENT_EXIT, (unsigned char[]){ 0, 125 }, 2);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		send_text(AGENT_STDERR, "netsim-agent: fork: %s\n", strerror(errno));
		send_frame(AGENT_EXIT, (unsigned char[]){ 0, 125 }, 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(errp[0]); close(errp[1]);
		return;
	}
	if (pid == 0) {
		/* Own session: a HELLO or SIGNAL frame reaches the whole command, and it
		 * has no controlling terminal to block on. */
		setsid();
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(errp[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		int e = errno;
		dprintf(2, "netsim-agent: %s: %s\n", argv[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	cmd.pid = pid;
	cmd.reaped = false;
	cmd.stdin_fd = in[1];
	cmd.stdout_fd = out[0];
	cmd.stderr_fd = errp[0];
}

static void handle_frame(int type, const unsigned char *payload, size_t len)
{
	switch (type) {
	case AGENT_HELLO:
		kill_command();
		send_frame(AGENT_HELLO, payload, len);
		break;
	case AGENT_EXEC:
		start_command(payload, len);
		break;
	case AGENT_STDIN:
		if (cmd.stdin_fd >= 0)
			write_all(cmd.stdin_fd, payload, len);
		break;
	case AGENT_STDIN_EOF:
		close_fd(&cmd.stdin_fd);
		break;
	case AGENT_SIGNAL:
		if (cmd.pid > 0 && !cmd.reaped && len == 1)
			kill(-cmd.pid, payload[0]);
		break;
	default:
		break;  /* unknown frames are skipped: newer hosts stay compatible */
	}
}

/* Forward one chunk of a command's output; closes the pipe at end of file. */
static void forward_output(int *fd, int type)
{
	unsigned char buf[16384];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n > 0)
		send_frame(type, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(fd);
}

static void finish_command(void)
{
	unsigned char status[2];
	if (WIFSIGNALED(cmd.status)) {
		status[0] = 1;
		status[1] = (unsigned char)WTERMSIG(cmd.status);
	} else {
		status[0] = 0;
		status[1] = (unsigned char)WEXITSTATUS(cmd.status);
	}
	close_fd(&cmd.stdin_fd);
	close_fd(&cmd.stdout_fd);
	close_fd(&cmd.stderr_fd);
	cmd.pid = 0;
	cmd.reaped = false;
	send_frame(AGENT_EXIT, status, sizeof(status));
}

/* ---- --tcp: the guest end of mux.h ---------------------------------------- */

struct tcp_port {
	struct mux m;
	bool connected;  /* a host client is there (the port does not read as EOF) */
};

static void tcp_connect(struct mux *m, int i)
{
	struct mux_chan *c = &m->ch[i];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		mux_chan_fail(c, errno);
		return;
	}
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(c->port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	c->fd = fd;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EINPROGRESS)
			c->connecting = true;
		else
			mux_chan_fail(c, errno);
	}
}

/* Read from the port and act on whole frames.  A frame the parser rejects
 * drops the input: the host starts over with HELLO when it sees no answer. */
static void tcp_read_port(struct tcp_port *tp)
{
	struct mux *m = &tp->m;
	ssize_t n = read(m->port_fd, m->in + m->in_have, sizeof(m->in) - m->in_have);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* No host client (any more): its connections go. */
		if (tp->connected)
			mux_reset(m);
		m->in_have = 0;
		tp->connected = false;
		return;
	}
	tp->connected = true;
	if (n < 0)
		return;
	m->in_have += (size_t)n;
	size_t used = 0;
	for (;;) {
		struct mux_frame f;
		long r = mux_parse(m->in + used, m->in_have - used, &f);
		if (r < 0) {
			used = m->in_have;
			break;
		}
		if (r == 0)
			break;
		used += (size_t)r;
		if (f.type == MUX_HELLO) {
			mux_reset(m);
			mux_queue(m, MUX_HELLO, -1, f.data, f.len, NULL, 0);
			continue;
		}
		int ch = mux_handle(m, &f, true);
		if (ch >= 0)
			tcp_connect(m, ch);
	}
	memmove(m->in, m->in + used, m->in_have - used);
	m->in_have -= used;
}

static int tcp_main(int argc, char **argv)
{
	static struct tcp_port ports[MUX_PORTS];
	int nports = 0;
	for (int i = 0; i < argc && nports < MUX_PORTS; i++) {
		int fd = atoi(argv[i]);
		if (fd < 3 || fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK) < 0) {
			fprintf(stderr, "netsim-agent: --tcp: bad fd %s\n", argv[i]);
			continue;
		}
		mux_init(&ports[nports].m, fd);
		ports[nports].connected = true;  /* find out with the first read */
		nports++;
	}
	if (nports == 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	static struct pollfd fds[MUX_PORTS * (1 + MUX_MAX_CHANNELS)];
	for (;;) {
		int n = 0, timeout = -1;
		for (int p = 0; p < nports; p++) {
			struct tcp_port *tp = &ports[p];
			struct mux *m = &tp->m;
			mux_emit(m);
			if (mux_flush(m) < 0) {
				mux_reset(m);
				tp->connected = false;
			}
			short ev = 0;
			if (tp->connected) {
				if (m->in_have < sizeof(m->in))
					ev |= POLLIN;
				if (m->out_end > m->out_start)
					ev |= POLLOUT;
			} else {
				timeout = 100;  /* poll() cannot wait for a host client */
			}
			fds[n++] = (struct pollfd){ .fd = tp->connected ? m->port_fd : -1, .events = ev };
			for (unsigned i = 0; i < MUX_MAX_CHANNELS; i++) {
				short cev = mux_chan_events(m, &m->ch[i]);
				fds[n++] = (struct pollfd){ .fd = cev ? m->ch[i].fd : -1, .events = cev };
			}
		}
		if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR)
			return 1;
		n = 0;
		for (int p = 0; p < nports; p++) {
			struct tcp_port *tp = &ports[p];
			short rev = fds[n++].revents;
			if (!tp->connected || (rev & (POLLIN | POLLHUP | POLLERR)))
				tcp_read_port(tp);
			if (!tp->connected) {
				n += MUX_MAX_CHANNELS;
				continue;
			}
			for (unsigned i = 0; i < MUX_MAX_CHANNELS; i++)
				mux_chan_service(&tp->m, i, fds[n++].revents);
		}
	}
}

int main(int argc, char **argv)
{
	static unsigned char in[2 * (AGENT_HEADER_SIZE + AGENT_MAX_PAYLOAD)];
	size_t have = 0;

	if (argc > 1 && strcmp(argv[1], "--tcp") == 0)
		return tcp_main(argc - 2, argv + 2);

	if (argc > 1) {
		port = open(argv[1], O_RDWR | O_CLOEXEC);
		if (port < 0) {
			fprintf(stderr, "netsim-agent: %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	for (;;) {
		struct pollfd fds[3];
		int n = 0, port_index = -1, out_index = -1, err_index = -1;
		int timeout = -1;

		fds[n] = (struct pollfd){ .fd = port, .events = POLLIN };
		port_index = n++;
		if (cmd.stdout_fd >= 0) {
			fds[n] = (struct pollfd){ .fd = cmd.stdout_fd, .events = POLLIN };
			out_index = n++;
		}
		if (cmd.stderr_fd >= 0) {
			fds[n] = (struct pollfd){ .fd = cmd.stderr_fd, .events = POLLIN };
			err_index = n++;
		}
		if (cmd.pid > 0)
			timeout = 50;  /* to notice the command's exit */

		if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR)
			return 1;

		ssize_t got = -1;
		if (fds[port_index].revents & POLLIN)
			got = read(port, in + have, sizeof(in) - have);
		if (got > 0) {
			have += (size_t)got;
			/* Whole frames only; a partial one waits for more bytes. */
			size_t used = 0;
			while (have - used >= AGENT_HEADER_SIZE) {
				size_t len = ((size_t)in[used + 2] << 8) | in[used + 3];
				if (have - used < AGENT_HEADER_SIZE + len)
					break;
				handle_frame(in[used], in + used + AGENT_HEADER_SIZE, len);
				used += AGENT_HEADER_SIZE + len;
			}
			memmove(in, in + used, have - used);
			have -= used;
		} else if (got == 0 || (fds[port_index].revents & (POLLHUP | POLLERR))) {
			/* No host client: the port reads as end-of-file until one connects,
			 * and poll() cannot wait for that.  A command started for a client
			 * that went away is killed, like a shell's on hangup. */
			kill_command();
			have = 0;
			usleep(100000);
		}
		if (out_index >= 0 && (fds[out_index].revents & (POLLIN | POLLHUP)))
			forward_output(&cmd.stdout_fd, AGENT_STDOUT);
		if (err_index >= 0 && (fds[err_index].revents & (POLLIN | POLLHUP)))
			forward_output(&cmd.stderr_fd, AGENT_STDERR);

		if (cmd.pid > 0 && !cmd.reaped && waitpid(cmd.pid, &cmd.status, WNOHANG) == cmd.pid) {
			cmd.reaped = true;
			cmd.exited_at_ms = now_ms();
		}
		/* Done when the output is drained, or shortly after the exit when a
		 * daemon the command started keeps the pipes open. */
		if (cmd.pid > 0 && cmd.reaped &&
		    ((cmd.stdout_fd < 0 && cmd.stderr_fd < 0) || now_ms() - cmd.exited_at_ms > 200))
			finish_command();
	}
}
