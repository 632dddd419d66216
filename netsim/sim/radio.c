/* A sim's radio segments: wiring and the medium process (sim/radio.h). */
#include "sim/radio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "process.h"
#include "net/netns.h"
#include "sim/kernel.h"
#include "sim/proc.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "topo/ident.h"

#define MEDIUM_READY_MS 10000  /* `up` waits this long for the socket to answer */
#define MEDIUM_STOP_MS 2000    /* SIGTERM, then SIGKILL after this */
#define MEDIUM_REPLY_MAX (16u << 20)

bool sim_radio_any(const struct topo *t)
{
	for (unsigned s = 0; s < t->nsegments; s++)
		if (topo_segment_on_air(&t->segments[s]))
			return true;
	return false;
}

void sim_radio_ifnames(const struct topo *t, unsigned node, char sep, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned s = 0; s < t->nsegments; s++) {
		const struct topo_segment *seg = &t->segments[s];
		if (!topo_segment_on_air(seg))
			continue;
		for (unsigned m = 0; m < seg->nmembers; m++)
			if (seg->members[m].node == node && used + IFNAMSIZ + 1 < len) {
				if (used)
					buf[used++] = sep;
				used += (size_t)snprintf(buf + used, len - used, "%s",
							 seg->members[m].ifname);
			}
	}
}

int sim_radio_wire_member(const struct topo *t, unsigned s, unsigned m, struct net *net,
			  int node_ns, int sw_ns, struct error *err)
{
	const struct topo_segment *seg = &t->segments[s];
	const struct topo_endpoint *ep = &seg->members[m];
	const char *node = t->nodes[ep->node].name;
	char port[IFNAMSIZ], key[64];
	uint8_t mac_node[6], mac_port[6];
	sim_segment_port(s, m, port, sizeof(port));
	ident_mac(t->sim, node, ep->ifname, mac_node);
	ident_port_mac(t->sim, seg->name, port, mac_port);
	/* A new interface takes the namespace's default: with it off while the
	 * pair is made, the far end never gets a link-local address, so it sends
	 * no router solicitation, DAD or MLD report of its own into the node. */
	int r = sim_kernel->netns_sysctl(sw_ns, "net/ipv6/conf/default/disable_ipv6", "1", err);
	if (r == 0)
		r = sim_kernel->net_veth_create(net, node_ns, ep->ifname, mac_node, sw_ns, port,
						mac_port, err);
	if (r == 0) {
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", port);
		r = sim_kernel->netns_sysctl(sw_ns, key, "1", err);
	}
	if (r < 0)
		return error_prefix(err, "radio segment %s: member %s:%s", seg->name, node,
				    ep->ifname);
	return 0;
}

int sim_radio_start(const struct topo *t, struct error *err)
{
	if (!sim_radio_any(t))
		return 0;
	int r = sim_kernel->medium_start(t->sim, err);
	return r < 0 ? error_prefix(err, "medium") : 0;
}

void sim_radio_stop(const char *sim)
{
	struct error ignored;
	sim_kernel->medium_stop(sim, &ignored);
}

/* ---- the real medium process ---- */

static void medium_path(char *buf, size_t len, const char *sim, const char *leaf)
{
	state_sim_path(buf, len, sim, leaf);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last line of the medium's log, for a message on why it did not come up. */
static void log_tail(const char *sim, char *buf, size_t len)
{
	char path[PATH_MAX];
	medium_path(path, sizeof(path), sim, "medium.log");
	buf[0] = '\0';
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			snprintf(buf, len, "%s", line);
	buf[strcspn(buf, "\n")] = '\0';
}

int sim_medium_start(const char *sim, struct error *err)
{
	char pidfile[PATH_MAX], logfile[PATH_MAX];
	medium_path(pidfile, sizeof(pidfile), sim, "medium.pid");
	medium_path(logfile, sizeof(logfile), sim, "medium.log");
	cleanup_close int logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0)
		return error_set(err, errno, "create %s", logfile);
	cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return error_set(err, errno, "open /dev/null");
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return error_set(err, errno, "fork");
	if (pid == 0) {
		/* Its own session: a ^C on `up`'s terminal is not for it.  Only
		 * stdio stays open: a lock the caller holds (flock(1) passes its fd
		 * on) must not live as long as the medium. */
		setsid();
		dup2(devnull, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		close_range(3, ~0u, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *argv[] = { "netsim", "_medium", (char *)sim, NULL };
		execv("/proc/self/exe", argv);
		dprintf(STDERR_FILENO, "netsim: _medium: exec /proc/self/exe: %s\n",
			strerror(errno));
		_exit(127);
	}
	int r = proc_pid_write(pidfile, pid, err);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	long long deadline = now_ms() + MEDIUM_READY_MS;
	for (;;) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			char tail[400];
			log_tail(sim, tail, sizeof(tail));
			unlink(pidfile);
			return error_setmsg(err, EIO, "the medium process %s %d at start%s%s",
					    WIFEXITED(status) ? "exited with" : "was killed by signal",
					    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
					    tail[0] ? ": " : "", tail);
		}
		char *reply = NULL;
		struct error ignored;
		if (sim_medium_request(sim, "matrix", 500, &reply, &ignored) == 0) {
			bool good = reply[0] == '{';
			free(reply);
			if (good)
				return 0;
		}
		if (now_ms() > deadline)
			break;
		usleep(20000);
	}
	struct error ignored;
	sim_medium_stop(sim, &ignored);
	return error_setmsg(err, ETIMEDOUT, "the medium process did not answer on %s/medium.sock "
			    "within %d s (its log: %s)", sim, MEDIUM_READY_MS / 1000, logfile);
}

static bool gone(pid_t pid, unsigned long long start)
{
	/* our own child (a failed `up` stops it) stays a zombie until reaped */
	waitpid(pid, NULL, WNOHANG);
	return process_starttime(pid) != start;
}

int sim_medium_stop(const char *sim, struct error *err)
{
	(void)err;
	char path[PATH_MAX];
	medium_path(path, sizeof(path), sim, "medium.pid");
	pid_t pid = proc_pid_read(path);
	if (pid > 0) {
		unsigned long long start = process_starttime(pid);
		kill(pid, SIGTERM);
		long long deadline = now_ms() + MEDIUM_STOP_MS;
		while (!gone(pid, start) && now_ms() < deadline)
			usleep(10000);
		if (!gone(pid, start)) {
			kill(pid, SIGKILL);
			deadline = now_ms() + MEDIUM_STOP_MS;
			while (!gone(pid, start) && now_ms() < deadline)
				usleep(10000);
		}
	}
	unlink(path);
	medium_path(path, sizeof(path), sim, "medium.sock");
	unlink(path);
	medium_path(path, sizeof(path), sim, "medium.log");
	unlink(path);
	return 0;
}

/* A zombie still has its start time: it counts as gone. */
static bool is_zombie(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
}

int sim_medium_state(const char *sim, pid_t *pid)
{
	char path[PATH_MAX];
	medium_path(path, sizeof(path), sim, "medium.pid");
	if (access(path, F_OK) < 0)
		return 0;
	pid_t p = proc_pid_read(path);
	if (p <= 0 || is_zombie(p))
		return -1;
	*pid = p;
	return 1;
}

int sim_medium_request(const char *sim, const char *request, int timeout_ms, char **reply,
		       struct error *err)
{
	*reply = NULL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	medium_path(path, sizeof(path), sim, "medium.sock");
	if (strlen(path) >= sizeof(addr.sun_path))
		return error_setmsg(err, ENAMETOOLONG, "%s: path too long for a socket", path);
	strcpy(addr.sun_path, path);
	size_t rlen = strlen(request);
	if (rlen == 0 || rlen >= 512 || memchr(request, '\n', rlen))
		return error_setmsg(err, EINVAL, "medium request: one line of 1 to 511 bytes");
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;
		if (e == ENOENT || e == ECONNREFUSED) {
			pid_t pid;
			if (sim_medium_state(sim, &pid) <= 0)
				return error_setmsg(err, e, "sim %s: %s", sim,
						    sim_medium_state(sim, &pid) == 0
							    ? "no medium (the sim has no radio segment)"
							    : "its medium process is not running");
		}
		return error_set(err, e, "connect %s", path);
	}
	char line[516];
	int n = snprintf(line, sizeof(line), "%s\n", request);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		return error_set(err, errno ? errno : EIO, "send to %s", path);
	size_t len = 0, cap = 4096;
	cleanup_free char *buf = malloc(cap);
	if (!buf)
		return error_set(err, ENOMEM, "medium reply");
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return error_setmsg(err, ETIMEDOUT, "sim %s: the medium did not answer `%s` "
					    "within %d ms", sim, request, timeout_ms);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int p = poll(&pfd, 1, (int)left);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return error_set(err, errno, "poll %s", path);
		if (p == 0)
			continue;
		if (len + 1 >= cap) {
			if (cap >= MEDIUM_REPLY_MAX)
				return error_setmsg(err, EFBIG, "sim %s: medium reply too large", sim);
			char *grown = realloc(buf, cap * 2);
			if (!grown)
				return error_set(err, ENOMEM, "medium reply");
			buf = grown;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return error_set(err, errno, "read %s", path);
		if (got == 0)
			break;
		len += (size_t)got;
	}
	buf[len] = '\0';
	*reply = steal_pointer(&buf);
	return 0;
}

int sim_netns_sysctl(int ns, const char *key, const char *value, struct error *err)
{
	int saved = -1;
	int r = netns_enter(ns, &saved, err);
	if (r < 0)
		return r;
	char path[256];
	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int e = 0;
	if (fd < 0) {
		/* no IPv6 in this kernel: nothing to turn off */
		e = errno == ENOENT && strncmp(key, "net/ipv6/", 9) == 0 ? 0 : errno;
	} else {
		if (write(fd, value, strlen(value)) < 0)
			e = errno;
		close(fd);
	}
	struct error leave_err;
	if (netns_leave(&saved, &leave_err) < 0) {
		*err = leave_err;
		return -leave_err.errnum;
	}
	if (e)
		return error_set(err, e, "write %s", path);
	return 0;
}
