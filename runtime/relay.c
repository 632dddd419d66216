/* See relay.h. */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Descriptors we create stay above 0..2, so that putting them in place in the
 * command (dup2 onto 0..2) cannot overwrite one with another. */
static int above_stdio(int fd, struct error *err, const char *what)
{
	if (fd < 0 || fd > STDERR_FILENO)
		return fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	int saved = errno;
	close(fd);
	if (moved < 0)
		return error_set(err, saved, "%s: move descriptor", what);
	return moved;
}

static void add_channel(struct relay *r, int from, int to, bool into_node, bool owns_from,
			bool owns_to)
{
	struct relay_channel *ch = &r->channels[r->count++];
	memset(ch, 0, sizeof(*ch));
	ch->from = from;
	ch->to = to;
	ch->into_node = into_node;
	ch->owns_from = owns_from;
	ch->owns_to = owns_to;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void copy_window_size(int master)
{
	struct winsize ws = { 0 };
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
	if (ws.ws_row == 0 || ws.ws_col == 0)
		ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
	ioctl(master, TIOCSWINSZ, &ws);
}

int relay_open_node_pty(struct relay *r, int *master_out, struct error *err)
{
	/* The node's own devpts instance, so the slave has a name inside the node
	 * (ttyname, `tty`, ssh) and belongs to it.  The path is the node's: refuse
	 * anything but a devpts mount and its ptmx device, and take the slave from
	 * the master (TIOCGPTPEER) rather than by name. */
	cleanup_close int dir = open("/dev/pts", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct statfs fs;
	if (dir < 0 || fstatfs(dir, &fs) < 0)
		return error_set(err, errno, "open the node's /dev/pts");
	if (fs.f_type != DEVPTS_SUPER_MAGIC)
		return error_setmsg(err, ENOTTY, "the node's /dev/pts is not a devpts mount");
	cleanup_close int master = openat(dir, "ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (master < 0 || fstat(master, &st) < 0)
		return error_set(err, errno, "open the node's /dev/pts/ptmx");
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2)
		return error_setmsg(err, ENOTTY, "the node's /dev/pts/ptmx is not the pty multiplexer");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return error_set(err, errno, "unlock the pseudo-terminal");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return error_set(err, errno, "open the pseudo-terminal's slave");
	slave = above_stdio(slave, err, "pty slave");
	if (slave < 0)
		return slave;
	for (int i = 0; i < 3; i++)
		r->node_fds[i] = slave;
	*master_out = steal_fd(&master);
	return 0;
}

int relay_attach_master(struct relay *r, int master, struct error *err)
{
	r->master = above_stdio(master, err, "pty master");
	if (r->master < 0)
		return r->master;
	copy_window_size(r->master);
	/* our end never blocks: one stuck direction must not stop the other */
	fcntl(r->master, F_SETFL, fcntl(r->master, F_GETFL) | O_NONBLOCK);
	if (fd_is_open(STDIN_FILENO) && (!isatty(STDIN_FILENO) || relay_terminal_is_ours(STDIN_FILENO)))
		add_channel(r, STDIN_FILENO, r->master, true, false, false);
	add_channel(r, r->master, STDOUT_FILENO, false, false, false);
	return 0;
}

bool relay_terminal_is_ours(int fd)
{
	pid_t fg = tcgetpgrp(fd);
	return fg < 0 || fg == getpgrp();
}

/* stdin for a command started in the background (`netsim exec ... &`): reading
 * the terminal there would stop us with SIGTTIN, as the shell gives an
 * asynchronous command /dev/null. */
static int background_stdin(struct relay *r, struct error *err)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open /dev/null");
	r->node_fds[STDIN_FILENO] = above_stdio(fd, err, "/dev/null");
	return r->node_fds[STDIN_FILENO] < 0 ? r->node_fds[STDIN_FILENO] : 0;
}

/* A pipe in place of each of our stdio descriptors that is a terminal. */
static int open_pipes(struct relay *r, struct error *err)
{
	for (int i = 0; i < 3; i++) {
		if (!isatty(i))
			continue; /* a file, pipe or socket the operator chose: as is */
		if (i == STDIN_FILENO && !relay_terminal_is_ours(i)) {
			int rc = background_stdin(r, err);
			if (rc < 0)
				return rc;
			continue;
		}
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return error_set(err, errno, "pipe");
		int read_end = above_stdio(p[0], err, "pipe");
		int write_end = above_stdio(p[1], err, "pipe");
		if (read_end < 0 || write_end < 0) {
			if (read_end >= 0)
				close(read_end);
			if (write_end >= 0)
				close(write_end);
			return -EMFILE;
		}
		bool input = i == STDIN_FILENO;
		int ours = input ? write_end : read_end;
		r->node_fds[i] = input ? read_end : write_end;
		fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
		if (input)
			add_channel(r, STDIN_FILENO, ours, true, false, true);
		else
			add_channel(r, ours, i, false, true, false);
	}
	return 0;
}

int relay_open(struct relay *r, enum relay_mode mode, struct error *err)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->master = -1;
	for (int i = 0; i < 3; i++)
		r->node_fds[i] = -1;
	/* the pty comes later, from inside the node (relay_open_node_pty) */
	int rc = mode == RELAY_PTY ? 0 : open_pipes(r, err);
	if (rc < 0)
		relay_free(r);
	return rc;
}

int relay_attach_command(const struct relay *r, struct error *err)
{
	if (setsid() < 0)
		return error_set(err, errno, "setsid");
	if (r->mode == RELAY_PTY && ioctl(r->node_fds[0], TIOCSCTTY, 0) < 0)
		return error_set(err, errno, "make the pty the controlling terminal");
	for (int i = 0; i < 3; i++) {
		if (r->node_fds[i] >= 0 && dup2(r->node_fds[i], i) < 0)
			return error_set(err, errno, "set up file descriptor %d", i);
	}
	return 0;
}

void relay_close_node_side(struct relay *r)
{
	for (int i = 0; i < 3; i++) {
		int fd = r->node_fds[i];
		if (fd < 0)
			continue;
		close(fd);
		for (int j = i; j < 3; j++) /* the pty slave is in all three */
			if (r->node_fds[j] == fd)
				r->node_fds[j] = -1;
	}
}

void relay_close_relay_side(struct relay *r)
{
	for (size_t i = 0; i < r->count; i++) {
		struct relay_channel *ch = &r->channels[i];
		if (ch->owns_from)
			close_fd(&ch->from);
		if (ch->owns_to)
			close_fd(&ch->to);
	}
	close_fd(&r->master);
	r->count = 0;
}

/* ---- the copy loop ------------------------------------------------------------ */

/* After the operator's stdin ended: ^D after this much silence, this often. */
#define EOF_QUIET_NS 300000000L
#define EOF_REPEATS 20

static volatile sig_atomic_t window_changed;
static volatile sig_atomic_t forward_signal;

static void on_window_change(int sig)
{
	(void)sig;
	window_changed = 1;
}

static void on_terminate(int sig)
{
	forward_signal = sig;
}

static void on_child(int sig)
{
	(void)sig; /* only to interrupt ppoll: child_exited() tells */
}

static const int handled_signals[] = { SIGWINCH, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD };
#define HANDLED_COUNT (sizeof(handled_signals) / sizeof(handled_signals[0]))

struct saved_signals {
	struct sigaction actions[HANDLED_COUNT];
	sigset_t mask;
};

/* The signals stay blocked except inside ppoll, so none is lost between a
 * check and the wait.  SIGPIPE is ignored: a closed stdout ends that channel,
 * not netsim (which still has to restore the terminal). */
static void install_signals(struct saved_signals *saved, sigset_t *wait_mask)
{
	sigset_t block;
	sigemptyset(&block);
	for (size_t i = 0; i < HANDLED_COUNT; i++)
		sigaddset(&block, handled_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &saved->mask);
	*wait_mask = saved->mask;
	for (size_t i = 0; i < HANDLED_COUNT; i++) {
		int sig = handled_signals[i];
		struct sigaction sa = { 0 };
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = sig == SIGWINCH ? on_window_change :
				sig == SIGPIPE	? SIG_IGN :
				sig == SIGCHLD	? on_child :
						  on_terminate;
		sigaction(sig, &sa, &saved->actions[i]);
		if (sig != SIGPIPE)
			sigdelset(wait_mask, sig);
	}
	window_changed = 0;
	forward_signal = 0;
}

static void restore_signals(const struct saved_signals *saved)
{
	for (size_t i = 0; i < HANDLED_COUNT; i++)
		sigaction(handled_signals[i], &saved->actions[i], NULL);
	sigprocmask(SIG_SETMASK, &saved->mask, NULL);
}

static void restore_terminal(struct relay *r)
{
	if (!r->raw)
		return;
	tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved);
	r->raw = false;
}

/* Raw: every byte, ^C and ^Z included, goes to the node's pty, whose own line
 * discipline turns them into signals for the node's foreground job. */
static void make_terminal_raw(struct relay *r)
{
	if (r->mode != RELAY_PTY || !isatty(STDIN_FILENO) || !relay_terminal_is_ours(STDIN_FILENO) ||
	    tcgetattr(STDIN_FILENO, &r->saved) < 0)
		return;
	struct termios raw = r->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0)
		r->raw = true;
}

static void send_end_of_file(struct relay *r)
{
	struct termios t;
	char eof = tcgetattr(r->master, &t) == 0 && t.c_cc[VEOF] ? (char)t.c_cc[VEOF] : 4;
	if (write(r->master, &eof, 1) == 1)
		r->eof_sent++;
}

static void channel_input_eof(struct relay *r, struct relay_channel *ch)
{
	ch->from = -1;
	if (r->mode == RELAY_PTY) {
		/* A pty has no half-close: type the end-of-file character instead,
		 * once the node has gone quiet (typed while a program switches its
		 * terminal between line and raw mode, it can get lost), and again
		 * while it stays quiet, as a user would press ^D until it exits. */
		r->input_ended = true;
	} else if (ch->owns_to) {
		close_fd(&ch->to);
	}
}

/* Read what `from` offers into the empty buffer. */
static void channel_read(struct relay *r, struct relay_channel *ch)
{
	ssize_t n = read(ch->from, ch->buf, sizeof(ch->buf));
	if (n > 0) {
		ch->len = (size_t)n;
		ch->off = 0;
		if (ch->to < 0)
			ch->len = 0; /* nowhere to go: dropped */
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	/* 0, or EIO from a pty master once every slave is closed */
	if (ch->into_node)
		channel_input_eof(r, ch);
	else if (ch->owns_from)
		close_fd(&ch->from);
	else
		ch->from = -1;
}

static void channel_write(struct relay_channel *ch)
{
	ssize_t n = write(ch->to, ch->buf + ch->off, ch->len - ch->off);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* the reader is gone (EPIPE, a closed terminal): drop this direction */
		if (ch->owns_to)
			close(ch->to);
		ch->to = -1;
		ch->len = ch->off = 0;
		return;
	}
	ch->off += (size_t)n;
	if (ch->off == ch->len)
		ch->len = ch->off = 0;
}

/* SIGTERM or SIGHUP passed on, and the command still runs this long after the
 * first: `child` is killed.  The command is the node's program, and node root
 * can make it ignore every signal (or stop it): without this, netsim would wait
 * for it forever, with the operator's terminal in raw mode. */
#define KILL_GRACE_NS 2000000000LL

/* Returns true when a terminating signal was passed on. */
static bool handle_signals(struct relay *r, pid_t child)
{
	if (window_changed) {
		window_changed = 0;
		if (r->master >= 0)
			copy_window_size(r->master);
	}
	if (!forward_signal)
		return false;
	kill(child, forward_signal);
	forward_signal = 0;
	return true;
}

/* How long ppoll may wait: NULL for ever, else the earlier of the ^D pause and
 * the kill deadline (0: none). */
static struct timespec *poll_timeout(struct timespec *ts, bool eof_due, long long kill_at)
{
	long long wait = -1;
	if (eof_due)
		wait = EOF_QUIET_NS;
	if (kill_at) {
		long long left = kill_at - now_ns();
		if (left < 0)
			left = 0;
		if (wait < 0 || left < wait)
			wait = left;
	}
	if (wait < 0)
		return NULL;
	*ts = (struct timespec){ .tv_sec = wait / 1000000000LL, .tv_nsec = wait % 1000000000LL };
	return ts;
}

/* After the command's exit: what it wrote before exiting is in the pipe or pty
 * buffer; copy that, but do not wait for background jobs that keep the pty or
 * pipe open. */
static void drain_output(struct relay *r)
{
	for (size_t i = 0; i < r->count; i++) {
		struct relay_channel *ch = &r->channels[i];
		if (ch->into_node)
			continue;
		for (int rounds = 0; rounds < 1024; rounds++) {
			while (ch->len > 0 && ch->to >= 0) {
				struct pollfd p = { .fd = ch->to, .events = POLLOUT };
				if (poll(&p, 1, 1000) <= 0)
					break; /* a stuck reader does not keep us here */
				channel_write(ch);
			}
			ch->len = ch->off = 0;
			if (ch->from < 0)
				break;
			ssize_t n = read(ch->from, ch->buf, sizeof(ch->buf));
			if (n <= 0)
				break;
			ch->len = (size_t)n;
		}
	}
}

/* Exited, but left for the caller to reap. */
static bool child_exited(pid_t child)
{
	siginfo_t info = { 0 };
	return waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       info.si_pid == child;
}

int relay_run(struct relay *r, pid_t child, struct error *err)
{
	struct saved_signals saved;
	sigset_t wait_mask;
	install_signals(&saved, &wait_mask);
	make_terminal_raw(r);

	int rc = 0;
	long long kill_at = 0; /* monotonic ns; 0: no terminating signal yet */
	for (;;) {
		/* SIGCHLD is blocked outside ppoll: an exit after this check
		 * interrupts the wait below */
		if (child_exited(child))
			break;
		struct pollfd fds[3];
		struct relay_channel *which[3];
		nfds_t n = 0;
		for (size_t i = 0; i < r->count; i++) {
			struct relay_channel *ch = &r->channels[i];
			if (ch->len > 0 && ch->to >= 0)
				fds[n] = (struct pollfd){ .fd = ch->to, .events = POLLOUT };
			else if (ch->len == 0 && ch->from >= 0)
				fds[n] = (struct pollfd){ .fd = ch->from, .events = POLLIN };
			else
				continue;
			which[n++] = ch;
		}
		bool eof_due = r->input_ended && r->eof_sent < EOF_REPEATS;
		struct timespec timeout;
		int ready = ppoll(fds, n, poll_timeout(&timeout, eof_due, kill_at), &wait_mask);
		if (handle_signals(r, child) && !kill_at)
			kill_at = now_ns() + KILL_GRACE_NS;
		if (kill_at && now_ns() >= kill_at) {
			kill(child, SIGKILL); /* its exit ends the loop above */
			kill_at = 0;
			continue;
		}
		if (ready == 0) {
			if (eof_due)
				send_end_of_file(r);
			continue;
		}
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			rc = error_set(err, errno, "poll");
			break;
		}
		for (nfds_t i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (fds[i].events & POLLOUT)
				channel_write(which[i]);
			else
				channel_read(r, which[i]);
		}
	}
	drain_output(r);
	restore_terminal(r);
	restore_signals(&saved);
	return rc;
}

void relay_free(struct relay *r)
{
	restore_terminal(r);
	relay_close_node_side(r);
	relay_close_relay_side(r);
}
