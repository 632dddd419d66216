/* The operator's terminal, for tests/integration/25-security-exec.t: runs a
 * command on a fresh pseudo-terminal as its controlling tty (as a login shell
 * would), types input into it, copies its output to stdout, and afterwards
 * reports what it finds on that terminal.
 *
 *   ptydrive [-e EXPECT] [-R ROWSxCOLS] [-i INPUT] [-l LINGER] [-t TIMEOUT] -- COMMAND...
 *
 *   -e EXPECT   type INPUT only once EXPECT appeared in the output
 *   -R ROWSxCOLS  resize the terminal (the kernel sends SIGWINCH) just before
 *               typing, then wait 0.3 s
 *   -i INPUT    what to type; \n \r \t \\ and \NNN (octal) are understood
 *   -l LINGER   after COMMAND exited, keep the terminal open that many seconds
 *               (a background job left behind may try to use it)
 *   -t TIMEOUT  kill COMMAND after that many seconds (default 30)
 *
 * Exits with COMMAND's exit status (128+signal).  On stderr, at the end:
 *   ptydrive: input-queue=BYTES   what is waiting in the terminal's input that
 *                                 nobody typed (injected), escaped; empty if none
 *   ptydrive: modes=same|changed  whether the terminal's modes are as before */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static size_t unescape(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (const char *p = in; *p && n < size; p++) {
		if (*p != '\\' || !p[1]) {
			out[n++] = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case '\\': out[n++] = '\\'; break;
		default:
			if (*p >= '0' && *p <= '7') {
				int v = 0, digits = 0;
				while (digits < 3 && *p >= '0' && *p <= '7') {
					v = v * 8 + (*p - '0');
					p++;
					digits++;
				}
				p--;
				out[n++] = (char)v;
			} else {
				out[n++] = *p;
			}
		}
	}
	return n;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool same_modes(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
	       a->c_lflag == b->c_lflag && memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) == 0;
}

/* Read what sits in the terminal's input queue, from the slave side. */
static void report_input_queue(int slave)
{
	struct termios t;
	tcgetattr(slave, &t);
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	tcsetattr(slave, TCSANOW, &t);
	char buf[4096];
	ssize_t n = read(slave, buf, sizeof(buf));
	fprintf(stderr, "ptydrive: input-queue=");
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\%03o", c);
	}
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	const char *expect = NULL;
	char input[4096];
	size_t input_len = 0;
	double linger = 0, timeout = 30;
	struct winsize resize = { 0 };
	int c;
	while ((c = getopt(argc, argv, "+e:i:l:t:R:")) != -1) {
		switch (c) {
		case 'R':
			if (sscanf(optarg, "%hux%hu", &resize.ws_row, &resize.ws_col) != 2)
				return 2;
			break;
		case 'e': expect = optarg; break;
		case 'i': input_len = unescape(optarg, input, sizeof(input)); break;
		case 'l': linger = atof(optarg); break;
		case 't': timeout = atof(optarg); break;
		default: return 2;
		}
	}
	if (optind >= argc)
		return 2;

	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		perror("ptydrive: pty");
		return 2;
	}
	const char *name = ptsname(master);
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		perror("ptydrive: slave");
		return 2;
	}
	struct winsize ws = { .ws_row = 30, .ws_col = 100 };
	ioctl(master, TIOCSWINSZ, &ws);
	struct termios before;
	tcgetattr(slave, &before);

	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int fd = open(name, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
			_exit(126);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}

	char seen[65536];
	size_t seen_len = 0;
	bool sent = input_len == 0;
	int status = 0;
	bool exited = false;
	double start = now(), exit_time = 0;
	for (;;) {
		if (!sent && (!expect || memmem(seen, seen_len, expect, strlen(expect)))) {
			if (resize.ws_row) {
				ioctl(master, TIOCSWINSZ, &resize);
				resize.ws_row = 0;
				poll(NULL, 0, 300);
			}
			if (write(master, input, input_len) == (ssize_t)input_len)
				sent = true;
		}
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 50) > 0) {
			char buf[4096];
			ssize_t n = read(master, buf, sizeof(buf));
			if (n > 0) {
				fwrite(buf, 1, (size_t)n, stdout);
				fflush(stdout);
				size_t room = sizeof(seen) - seen_len;
				size_t take = (size_t)n < room ? (size_t)n : room;
				memcpy(seen + seen_len, buf, take);
				seen_len += take;
			} else if (exited) {
				poll(NULL, 0, 50);
			}
		}
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = true;
			exit_time = now();
		}
		if (exited && now() - exit_time >= linger)
			break;
		if (!exited && now() - start > timeout) {
			fprintf(stderr, "ptydrive: timeout, killing %d\n", (int)pid);
			kill(pid, SIGKILL);
		}
	}
	struct termios after;
	tcgetattr(slave, &after);
	report_input_queue(slave);
	fprintf(stderr, "ptydrive: modes=%s\n", same_modes(&before, &after) ? "same" : "changed");
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
