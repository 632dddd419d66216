/* The TCP streams of `netsim forward` to QEMU nodes (rootfs/vm/mux.h, the host
 * end vm/forward.c): the frame parser, and the host relay with this test
 * standing in for the guest agent over a socketpair: stale bytes before HELLO,
 * a connection end to end, several at once, and a hostile guest (oversized,
 * garbage, out-of-range and over-window frames) that must neither crash the
 * relay nor make it grow. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../rootfs/vm/mux.h"
#include "tools/forward.h"
#include "vm/forward.h"
#include "tap.h"

static void parse_is(const uint8_t *buf, size_t len, long want, const char *what)
{
	struct mux_frame f;
	is_int(mux_parse(buf, len, &f), want, "parse: %s", what);
}

static void parser_tests(void)
{
	parse_is((const uint8_t[]){ 'd', 0, 0 }, 3, 0, "short header: wait for more");
	parse_is((const uint8_t[]){ 'd', 0, 0, 5, 0, 1 }, 6, 0, "short payload: wait for more");
	parse_is((const uint8_t[]){ 'd', 0, 0xff, 0xff }, 4, -1, "length over MUX_MAX_PAYLOAD");
	parse_is((const uint8_t[]){ 'd', 1, 0, 3, 0, 0, 'x' }, 7, -1, "reserved byte set");
	parse_is((const uint8_t[]){ 'd', 0, 0, 3, 0, 0, 'x' }, 7, 7, "DATA with one byte");
	parse_is((const uint8_t[]){ 'd', 0, 0, 2, 0, 0 }, 6, -1, "DATA without bytes");
	parse_is((const uint8_t[]){ 'd', 0, 0, 3, 0, 64, 'x' }, 7, -1, "channel out of range");
	parse_is((const uint8_t[]){ 'w', 0, 0, 5, 0, 0, 0, 0, 1 }, 9, -1, "CREDIT of the wrong size");
	parse_is((const uint8_t[]){ 'c', 0, 0, 4, 0, 1, 2, 3 }, 8, -1, "CLOSE too long");
	parse_is((const uint8_t[]){ 'H', 0, 0, 0 }, 4, -1, "empty HELLO");
	parse_is((const uint8_t[]){ 'Z', 0, 0, 2, 9, 9 }, 6, 6, "unknown type: skipped whole");
	struct mux_frame f;
	uint8_t credit[] = { 'w', 0, 0, 6, 0, 7, 0, 1, 0, 0 };
	mux_parse(credit, sizeof(credit), &f);
	ok(f.type == MUX_CREDIT && f.channel == 7 && f.value == 65536, "CREDIT: channel 7, 65536");
	/* Random bytes never crash the parser and never claim more than they have. */
	srand(1);
	int bad = 0;
	for (int i = 0; i < 100000; i++) {
		uint8_t b[64];
		size_t n = (size_t)(rand() % 64);
		for (size_t k = 0; k < n; k++)
			b[k] = (uint8_t)rand();
		if (n > 1 && rand() % 2)
			b[1] = 0;
		long r = mux_parse(b, n, &f);
		if (r > (long)n || (r > 0 && f.type && f.type != MUX_HELLO &&
				    f.channel >= MUX_MAX_CHANNELS))
			bad++;
	}
	is_int(bad, 0, "100000 random buffers: no frame longer than its bytes or out of range");
}

/* ---- the fake guest ------------------------------------------------------ */

static int guest;              /* our end of the socketpair */
static uint8_t gin[1 << 20];
static size_t ghave;

/* The next frame from the relay of `type` (others skipped), within 3 s. */
static int next_frame(uint8_t type, struct mux_frame *f, uint8_t *copy)
{
	for (int tries = 0; tries < 300; tries++) {
		for (;;) {
			long r = mux_parse(gin, ghave, f);
			if (r <= 0)
				break;
			uint8_t t = f->type;
			if (copy)
				memcpy(copy, f->data, f->len);
			size_t len = f->len;
			memmove(gin, gin + r, ghave - (size_t)r);
			ghave -= (size_t)r;
			f->len = len;
			if (copy)
				f->data = copy;
			if (t == type)
				return 0;
		}
		struct pollfd p = { .fd = guest, .events = POLLIN };
		if (poll(&p, 1, 10) > 0) {
			ssize_t n = read(guest, gin + ghave, sizeof(gin) - ghave);
			if (n <= 0)
				return -1;
			ghave += (size_t)n;
		}
	}
	return -1;
}

static void gsend(uint8_t type, int ch, const void *data, size_t len)
{
	uint8_t b[MUX_HEADER_SIZE + MUX_MAX_PAYLOAD];
	size_t plen = (ch >= 0 ? 2 : 0) + len;
	b[0] = type; b[1] = 0; b[2] = (uint8_t)(plen >> 8); b[3] = (uint8_t)plen;
	size_t off = 4;
	if (ch >= 0) {
		b[4] = (uint8_t)(ch >> 8); b[5] = (uint8_t)ch;
		off = 6;
	}
	memcpy(b + off, data, len);
	size_t total = off + len, done = 0;
	while (done < total) {
		ssize_t n = write(guest, b + done, total - done);
		if (n <= 0) {
			struct pollfd p = { .fd = guest, .events = POLLOUT };
			poll(&p, 1, 100);
			continue;
		}
		done += (size_t)n;
	}
}

static int answer_hello(void)
{
	struct mux_frame f;
	uint8_t copy[MUX_MAX_PAYLOAD];
	if (next_frame(MUX_HELLO, &f, copy) < 0)
		return -1;
	gsend(MUX_HELLO, -1, copy, f.len);
	return 0;
}

static volatile sig_atomic_t stop;
static void on_term(int sig) { stop = sig; }

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static int client(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	struct timeval tv = { .tv_sec = 3 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void relay_tests(void)
{
	int sp[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
	guest = sp[0];
	struct error err = { 0 };
	uint16_t port;
	int listen_fd = forward_listen(0, &port, &err);
	/* Stale bytes of an earlier session wait in the line. */
	gsend(MUX_DATA, 3, "stale", 5);
	write(guest, "\x01\x02garbage", 9);

	pid_t relay = fork();
	if (relay == 0) {
		close(sp[0]);
		signal(SIGTERM, on_term);
		sigset_t none;
		sigemptyset(&none);
		struct error e = { 0 };
		struct qemu_tcp *t = qemu_tcp_attach(sp[1], 5000, &e);
		if (!t)
			_exit(2);
		int r = qemu_tcp_relay(t, listen_fd, 80, "t/n", NULL, &none, &stop, &e);
		qemu_tcp_close(t);
		_exit(r < 0 ? 3 : 0);
	}
	close(sp[1]);
	fcntl(guest, F_SETFL, O_NONBLOCK);
	ok(answer_hello() == 0, "the relay greets with HELLO past stale bytes");

	/* One connection end to end. */
	int c = client(port);
	struct mux_frame f;
	uint8_t buf[MUX_MAX_PAYLOAD];
	ok(next_frame(MUX_OPEN, &f, buf) == 0 && f.value == 80, "a connection opens a channel to port 80");
	int ch = f.channel;
	write(c, "GET", 3);
	ok(next_frame(MUX_DATA, &f, buf) == 0 && f.len == 3 && memcmp(buf, "GET", 3) == 0,
	   "the client's bytes arrive as DATA");
	gsend(MUX_DATA, ch, "200 OK", 6);
	gsend(MUX_EOF, ch, NULL, 0);
	char got[64] = "";
	ssize_t n = read(c, got, sizeof(got));
	ok(n == 6 && memcmp(got, "200 OK", 6) == 0, "the guest's DATA reaches the client");
	is_int(read(c, got, sizeof(got)), 0, "the guest's EOF is the client's end of file");
	ok(next_frame(MUX_CREDIT, &f, buf) == 0 && f.value == 6, "the relay credits the 6 bytes");
	close(c);
	ok(next_frame(MUX_CLOSE, &f, buf) == 0 && f.channel == ch, "the client's close closes the channel");
	gsend(MUX_CLOSE, ch, NULL, 0);

	/* Several at once. */
	int cs[8], chans[8], seen = 0;
	for (int i = 0; i < 8; i++)
		cs[i] = client(port);
	for (int i = 0; i < 8; i++)
		if (next_frame(MUX_OPEN, &f, buf) == 0)
			chans[seen++] = f.channel;
	is_int(seen, 8, "8 connections at once: 8 channels");
	for (int i = 0; i < seen; i++) {
		char msg[8];
		snprintf(msg, sizeof(msg), "c%d", chans[i]);
		gsend(MUX_DATA, chans[i], msg, strlen(msg));
	}
	int right = 0;
	for (int i = 0; i < 8; i++) {
		n = read(cs[i], got, sizeof(got) - 1);
		right += n > 1 && got[0] == 'c';
	}
	is_int(right, 8, "each gets its own channel's bytes");
	for (int i = 0; i < seen; i++)
		gsend(MUX_CLOSE, chans[i], NULL, 0);
	for (int i = 0; i < 8; i++) {
		is_int(read(cs[i], got, sizeof(got)), 0, "guest CLOSE ends connection %d", i);
		close(cs[i]);
	}

	/* Over the window with a client that never reads: the channel is cut, the
	 * relay does not buffer it. */
	long before = rss_kib(relay);
	c = client(port);
	int rcv = 4096;
	setsockopt(c, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	next_frame(MUX_OPEN, &f, buf);
	ch = f.channel;
	memset(buf, 'x', MUX_MAX_DATA);
	for (int i = 0; i < 200; i++)
		gsend(MUX_DATA, ch, buf, MUX_MAX_DATA);
	ok(next_frame(MUX_CLOSE, &f, buf) == 0 && f.channel == ch && f.len == 1 && buf[0] == EPROTO,
	   "3.2 MB of DATA without credit: the relay closes the channel (EPROTO)");
	long after = rss_kib(relay);
	ok(before > 0 && after - before < 2048, "...and did not grow (RSS %ld -> %ld KiB)", before,
	   after);
	gsend(MUX_CLOSE, ch, NULL, 0);
	close(c);

	/* Frames for channels the relay never opened, credit floods, unknown
	 * types: ignored. */
	for (int i = 0; i < 1000; i++) {
		gsend(MUX_DATA, i % MUX_MAX_CHANNELS, "zz", 2);
		gsend(MUX_CREDIT, i % MUX_MAX_CHANNELS, "\xff\xff\xff\xff", 4);
		gsend('Q', 1, "??", 2);
	}
	c = client(port);
	ok(next_frame(MUX_OPEN, &f, buf) == 0, "unopened channels' frames ignored: still serving");
	gsend(MUX_CLOSE, f.channel, "\x6f", 1);  /* ECONNREFUSED */
	is_int(read(c, got, sizeof(got)), 0, "a refused connection is closed");
	close(c);

	/* Garbage after the handshake: a new session, the relay lives on. */
	write(guest, "d\0\xff\xff", 4);
	ok(answer_hello() == 0, "an oversized frame: the relay starts a new session with HELLO");
	gsend(MUX_DATA, 70, "x", 1);
	ok(answer_hello() == 0, "a channel out of range: a new session again");
	c = client(port);
	ok(next_frame(MUX_OPEN, &f, buf) == 0, "...and serves connections after it");
	gsend(MUX_DATA, f.channel, "ok", 2);
	n = read(c, got, sizeof(got));
	ok(n == 2, "...end to end");
	close(c);
	ok(kill(relay, 0) == 0, "the relay survived all of it");
	after = rss_kib(relay);
	ok(after - before < 4096, "RSS after everything: %ld KiB (started at %ld)", after, before);

	/* The guest goes away: the relay ends with "gone". */
	close(guest);
	int status = 0;
	waitpid(relay, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3, "the VM gone: the relay ends with an error");
	close(listen_fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	parser_tests();
	relay_tests();
	return tap_done();
}
