/* forward: the HOSTPORT:NODEPORT parser, the 127.0.0.1 listener, and the relay
 * (with the test's own netns standing in for a node's, so only root runs it). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/forward.h"
#include "tap.h"

static void spec_is(const char *spec, int want_ret, unsigned want_host, unsigned want_node)
{
	struct error err = { 0 };
	uint16_t host = 7, node = 7;
	int r = forward_parse_spec(spec, &host, &node, &err);
	is_int(r, want_ret, "spec \"%s\" returns %d", spec, want_ret);
	if (want_ret == 0) {
		is_int(host, want_host, "spec \"%s\": host port %u", spec, want_host);
		is_int(node, want_node, "spec \"%s\": node port %u", spec, want_node);
	} else {
		ok(strstr(err.msg, "HOSTPORT:NODEPORT") != NULL, "spec \"%s\": message says the form",
		   spec);
	}
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static size_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += (size_t)n;
	return got;
}

static volatile sig_atomic_t relay_stop;
static void on_term(int sig)
{
	relay_stop = sig;
}

/* A child runs the relay from `listen_fd` to node_port in our own netns.  It
 * must not keep a copy of the server's listener (`other_fd`), or closing that
 * would not refuse connections. */
static pid_t start_relay(int listen_fd, uint16_t node_port, int other_fd)
{
	fflush(stdout);  /* the child leaves with exit(): libnl's destructors keep valgrind quiet */
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	close(other_fd);
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigset_t block, wait_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	struct error err = { 0 };
	int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct forward_relay relay = { .listen_fd = listen_fd, .netns_fd = ns,
				       .netns_path = "/proc/self/ns/net", .node_port = node_port,
				       .label = "test/self", .log = NULL };
	int r = forward_run(&relay, &wait_mask, &relay_stop, &err);
	close(ns);
	close(listen_fd);
	exit(r == 0 ? 0 : 1);
}

static void relay_tests(void)
{
	struct error err = { 0 };
	uint16_t relay_port, echo_port;
	int listen_fd = forward_listen(0, &relay_port, &err);
	int echo_fd = forward_listen(0, &echo_port, &err);
	ok(listen_fd >= 0 && echo_fd >= 0, "two listeners on 127.0.0.1");
	int fl = fcntl(echo_fd, F_GETFL);
	fcntl(echo_fd, F_SETFL, fl & ~O_NONBLOCK);
	pid_t relay = start_relay(listen_fd, echo_port, echo_fd);
	close(listen_fd);

	/* Half-close: the client sends, shuts its write side, and still gets the
	 * server's answer, which comes only after the server saw end of input. */
	int c = connect_to(relay_port);
	ok(c >= 0, "connect to the relay");
	int s = accept(echo_fd, NULL, NULL);
	ok(s >= 0, "the relay connected through to the server");
	static char big[200000], got[200000];
	memset(big, 'x', sizeof(big));
	big[0] = 'A';
	big[sizeof(big) - 1] = 'Z';
	fflush(stdout);
	pid_t writer = fork();
	if (writer == 0) {
		ssize_t w = write(c, big, sizeof(big));
		shutdown(c, SHUT_WR);
		exit(w == (ssize_t)sizeof(big) ? 0 : 1);
	}
	size_t n = read_all(s, got, sizeof(got));
	char extra;
	is_int(n, sizeof(big), "server got all %zu bytes", sizeof(big));
	ok(memcmp(got, big, sizeof(big)) == 0, "...unchanged");
	is_int(read(s, &extra, 1), 0, "...then end of input (the FIN was passed on)");
	int status = -1;
	waitpid(writer, &status, 0);
	is_int(status, 0, "the client wrote everything");
	ok(write(s, "reply", 5) == 5, "server answers after the client's half-close");
	close(s);
	char reply[16] = "";
	n = read_all(c, reply, sizeof(reply) - 1);
	is_str(reply, "reply", "client got the answer");
	close(c);

	/* Refused inside the "node": the client's connection is closed, the relay goes on. */
	close(echo_fd);
	c = connect_to(relay_port);
	n = c >= 0 ? read_all(c, reply, sizeof(reply)) : 99;
	is_int(n, 0, "a refused node port closes the client's connection");
	if (c >= 0)
		close(c);
	c = connect_to(relay_port);
	ok(c >= 0, "the relay still accepts afterwards");
	if (c >= 0)
		close(c);

	kill(relay, SIGTERM);
	status = -1;
	waitpid(relay, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM stops the relay with status 0");
}

int main(void)
{
	spec_is("8080:80", 0, 8080, 80);
	spec_is("0:22", 0, 0, 22);
	spec_is("65535:65535", 0, 65535, 65535);
	spec_is("80", -EINVAL, 0, 0);
	spec_is("80:", -EINVAL, 0, 0);
	spec_is(":80", -EINVAL, 0, 0);
	spec_is("80:0", -EINVAL, 0, 0);
	spec_is("65536:80", -EINVAL, 0, 0);
	spec_is("80:65536", -EINVAL, 0, 0);
	spec_is("-1:80", -EINVAL, 0, 0);
	spec_is("8o:80", -EINVAL, 0, 0);
	spec_is("80:80:80", -EINVAL, 0, 0);
	spec_is("000080:80", -EINVAL, 0, 0);

	struct error err = { 0 };
	uint16_t port = 0, again;
	int fd = forward_listen(0, &port, &err);
	ok(fd >= 0 && port > 0, "port 0 picks a free port (%u)", port);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	is_int(ntohl(a.sin_addr.s_addr), INADDR_LOOPBACK, "bound to 127.0.0.1 only");
	int fd2 = forward_listen(port, &again, &err);
	is_int(fd2, -EADDRINUSE, "the same port again: EADDRINUSE");
	ok(strstr(err.msg, "already in use") != NULL, "...with a clear message (%s)", err.msg);
	close(fd);

	signal(SIGPIPE, SIG_IGN);
	if (geteuid() == 0)
		relay_tests();
	else
		ok(1, "# SKIP relay tests need root (setns)");
	return tap_done();
}
