/* medium-driver: runs netsim/medium's engine on namespaces a test made by hand,
 * and plays its clients and hostile nodes, for 58-medium.t and tests/bench/air.sh.
 *
 *   medium-driver run TOPOLOGY SWITCH_NETNS SOCKET   engine on ports s<SEG>-<MEMBER>
 *   medium-driver ctl SOCKET REQUEST                 one request; prints the reply
 *   medium-driver abuse SOCKET                       hostile control clients
 *   medium-driver send IFACE COUNT [SIZE [GAP_US]]   COUNT broadcast frames (type 0x88b5)
 *   medium-driver recv IFACE IDLE_MS                 counts 0x88b5 frames until IDLE_MS idle
 *   medium-driver hostile IFACE                      runts, jumbo garbage, MAC floods
 *
 * send/recv/hostile work in the current network namespace (run them with
 * `ip netns exec`).  Exit status 0 on success; abuse prints one line per check. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "medium/engine.h"
#include "net/netns.h"
#include "topo/topo.h"

#define TEST_ETHERTYPE 0x88b5

static void port_name(unsigned s, unsigned m, char *buf, size_t len)
{
	snprintf(buf, len, "s%u-%u", s, m);
}

static int cmd_run(const char *topo_path, const char *netns_path, const char *sock_path)
{
	struct topo t = {0};
	struct error err = {0};
	if (topo_parse_file(topo_path, &t, &err) < 0) {
		fprintf(stderr, "medium-driver: %s\n", err.msg);
		return 1;
	}
	int ns = netns_open(netns_path, &err);
	if (ns < 0) {
		fprintf(stderr, "medium-driver: %s\n", err.msg);
		return 1;
	}
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	unlink(sock_path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(sock_path, 0600) < 0 ||
	    listen(ls, 64) < 0) {
		perror("medium-driver: control socket");
		return 1;
	}
	struct medium_config c = { .topo = &t, .netns_fd = ns, .ctl_fd = ls, .port_name = port_name };
	int r = medium_run(&c, &err);
	if (r < 0)
		fprintf(stderr, "medium-driver: %s\n", err.msg);
	close(ls);
	close(ns);
	topo_free(&t);
	return r < 0 ? 1 : 0;
}

static int connect_to(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Everything the server sends until it closes (or timeout_ms passes); NUL-terminated. */
static char *read_all(int fd, int timeout_ms, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		if (n + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int cmd_ctl(const char *path, const char *req)
{
	int fd = connect_to(path);
	if (fd < 0) {
		perror("medium-driver: connect");
		return 1;
	}
	if (write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0)
		perror("medium-driver: write");
	size_t n;
	char *reply = read_all(fd, 5000, &n);
	fwrite(reply, 1, n, stdout);
	free(reply);
	close(fd);
	return 0;
}

static char *ask(const char *path, const void *req, size_t len)
{
	int fd = connect_to(path);
	if (fd < 0)
		return strdup("(connect failed)");
	if (write(fd, req, len) < 0) {
		/* the server may have closed already: read what it said */
	}
	size_t n;
	char *reply = read_all(fd, 3000, &n);
	close(fd);
	return reply;
}

static int check(int cond, const char *what, const char *got)
{
	printf("%s %s", cond ? "ok" : "FAIL", what);
	if (!cond)
		printf(" (got: %.80s)", got ? got : "");
	printf("\n");
	return cond ? 0 : 1;
}

static int cmd_abuse(const char *path)
{
	int bad = 0;
	char big[4096];
	memset(big, 'A', sizeof(big));
	char *r = ask(path, big, sizeof(big));
	bad += check(strncmp(r, "error: request longer than 512 bytes", 36) == 0, "oversized line refused", r);
	free(r);

	char exact[513];
	memset(exact, ' ', 512);
	memcpy(exact, "matrix", 6);
	exact[512] = '\n';
	r = ask(path, exact, sizeof(exact));
	bad += check(r[0] == '{', "a 512-byte request is served", r);
	free(r);

	static const char garbage[] = "\x01\x02\xff\xfe garbage \x1b[31m\n";
	r = ask(path, garbage, sizeof(garbage) - 1);
	bad += check(strncmp(r, "error: unknown request", 22) == 0 && !strchr(r, 0x1b),
		     "garbage refused, not echoed raw", r);
	free(r);

	static const char nul[] = "matrix\0junk\n";
	r = ask(path, nul, sizeof(nul) - 1);
	bad += check(strncmp(r, "error: the request has a NUL", 28) == 0, "NUL byte refused", r);
	free(r);

	static const char *const refused[] = {
		"move", "move nobody 1 2 3", "move a 1 2", "move a nan 0 0", "move a 1e300 0 0",
		"move a 1 2 3 -5", "move a 1 2 3 99999999999999999999", "pair", "pair air9 a b cut",
		"pair air0 a a cut", "pair air0 a zz cut", "pair air0 a b jitter=5ms",
		"pair air0 a b loss=200%", "pair air0 a b", "pair air0 a b cut loss=1%", "matrix extra",
		"", "   ",
	};
	for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		char line[128];
		snprintf(line, sizeof(line), "%s\n", refused[k]);
		r = ask(path, line, strlen(line));
		char what[160];
		snprintf(what, sizeof(what), "refused: \"%s\"", refused[k]);
		bad += check(strncmp(r, "error: ", 7) == 0 && strchr(r, '\n') == r + strlen(r) - 1, what, r);
		free(r);
	}

	/* many connections at once, idle: the server stays up, times them out */
	int fds[200];
	int opened = 0;
	for (int k = 0; k < 200; k++) {
		fds[k] = connect_to(path);
		opened += fds[k] >= 0;
	}
	/* one good request still gets through while they hang (maybe "busy") */
	r = ask(path, "matrix\n", 7);
	bad += check(r[0] == '{' || strncmp(r, "error: busy", 11) == 0, "served or busy with 200 idle clients", r);
	free(r);
	for (int k = 0; k < 200; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	usleep(300000);
	/* a slow client: half a line, then nothing; the deadline closes it */
	int slow = connect_to(path);
	if (write(slow, "mat", 3) < 0)
		perror("write");
	size_t n;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *rest = read_all(slow, 5000, &n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	bad += check(n == 0 && waited < 4.0, "a stalled client is closed by the deadline", rest);
	free(rest);
	close(slow);
	/* a client that sends and goes away without reading */
	for (int k = 0; k < 50; k++) {
		int fd = connect_to(path);
		if (fd >= 0) {
			if (write(fd, "matrix\n", 7) < 0)
				perror("write");
			close(fd);
		}
	}
	usleep(200000);
	r = ask(path, "matrix\n", 7);
	bad += check(r[0] == '{', "after all that, matrix still answers", r);
	free(r);
	printf("opened %d of 200 idle connections\n", opened);
	return bad ? 1 : 0;
}

static int packet_socket(const char *ifname, int *ifindex)
{
	*ifindex = (int)if_nametoindex(ifname);
	if (*ifindex == 0) {
		perror(ifname);
		return -1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = *ifindex };
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("packet socket");
		return -1;
	}
	return fd;
}

static int get_mac(int fd, const char *ifname, unsigned char mac[6])
{
	(void)fd;
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	FILE *f = fopen(path, "r");
	unsigned v[6];
	int ok = f && fscanf(f, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6;
	if (f)
		fclose(f);
	for (int k = 0; k < 6; k++)
		mac[k] = (unsigned char)v[k];
	return ok ? 0 : -1;
}

static int cmd_send(const char *ifname, unsigned long count, size_t size, unsigned gap_us)
{
	int ifindex;
	int fd = packet_socket(ifname, &ifindex);
	if (fd < 0)
		return 1;
	unsigned char frame[9000] = {0};
	if (size < 60 || size > sizeof(frame))
		size = 60;
	memset(frame, 0xff, 6);
	if (get_mac(fd, ifname, frame + 6) < 0)
		return 1;
	frame[12] = TEST_ETHERTYPE >> 8;
	frame[13] = TEST_ETHERTYPE & 0xff;
	for (unsigned long k = 0; k < count; k++) {
		memcpy(frame + 14, &k, sizeof(k));
		if (send(fd, frame, size, 0) < 0)
			perror("send");
		if (gap_us)
			usleep(gap_us);
	}
	close(fd);
	return 0;
}

static int cmd_recv(const char *ifname, int idle_ms)
{
	int ifindex;
	int fd = packet_socket(ifname, &ifindex);
	if (fd < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	unsigned long got = 0;
	unsigned char buf[70000];
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, idle_ms) <= 0)
			break;
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n >= 14 && from.sll_pkttype != PACKET_OUTGOING && buf[12] == (TEST_ETHERTYPE >> 8) &&
		    buf[13] == (TEST_ETHERTYPE & 0xff))
			got++;
	}
	printf("%lu\n", got);
	close(fd);
	return 0;
}

/* What a node's root can put on the wire: the medium must survive all of it. */
static int cmd_hostile(const char *ifname)
{
	int ifindex;
	int fd = packet_socket(ifname, &ifindex);
	if (fd < 0)
		return 1;
	static unsigned char frame[65536];
	srand(12345);
	for (size_t k = 0; k < sizeof(frame); k++)
		frame[k] = (unsigned char)rand();
	unsigned sent = 0;
	/* short frames of every length the kernel lets through */
	for (size_t len = 1; len < 64; len++)
		sent += send(fd, frame, len, 0) > 0;
	/* multicast sources, zero MACs */
	memset(frame + 6, 0x01, 6);
	sent += send(fd, frame, 60, 0) > 0;
	memset(frame, 0, 12);
	sent += send(fd, frame, 60, 0) > 0;
	/* a flood of made-up unicast sources and destinations */
	for (unsigned k = 0; k < 20000; k++) {
		for (int b = 0; b < 12; b++)
			frame[b] = (unsigned char)rand();
		frame[0] &= 0xfe;
		frame[6] &= 0xfe;
		sent += send(fd, frame, 60 + k % 1400, 0) > 0;
	}
	/* the largest the interface takes (the test raises the MTU) */
	memset(frame, 0xff, 6);
	frame[6] = 0x02;
	for (int k = 0; k < 20; k++)
		sent += send(fd, frame, 65535 - 14, 0) > 0;
	printf("sent %u hostile frames\n", sent);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "ctl") == 0)
		return cmd_ctl(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "abuse") == 0)
		return cmd_abuse(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "send") == 0)
		return cmd_send(argv[2], strtoul(argv[3], NULL, 10),
				argc > 4 ? strtoul(argv[4], NULL, 10) : 60,
				argc > 5 ? (unsigned)strtoul(argv[5], NULL, 10) : 0);
	if (argc == 4 && strcmp(argv[1], "recv") == 0)
		return cmd_recv(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "hostile") == 0)
		return cmd_hostile(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of tests/integration/medium-driver.c\n");
	return 2;
}
