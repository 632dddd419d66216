/* Processes that need not be our children: start times, pinning, stopping. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

unsigned long long process_starttime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields resume after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long start = 0;
	/* after ") " come fields 3..: state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime cutime cstime priority nice threads
	 * itrealvalue starttime(22) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			  "%*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

/* Gone, or a zombie (its namespaces and fds are already released). */
static bool exited(pid_t pid, unsigned long long starttime)
{
	if (process_starttime(pid) != starttime)
		return true;
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] && (p[2] == 'Z' || p[2] == 'X');
}

int process_ref_open(pid_t pid, unsigned long long starttime, struct process_ref *ref)
{
	ref->pid = pid;
	ref->starttime = starttime;
	ref->fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (ref->fd < 0 && errno != ENOSYS && errno != EPERM)
		return errno == ESRCH ? -ESRCH : -errno;
	/* checked after opening, so the pidfd cannot be a recycled pid's */
	if (starttime == 0 || process_starttime(pid) != starttime) {
		process_ref_close(ref);
		return -ESRCH;
	}
	return 0;
}

void process_ref_close(struct process_ref *ref)
{
	if (ref->fd >= 0)
		close(ref->fd);
	ref->fd = -1;
}

int process_ref_signal(const struct process_ref *ref, int sig)
{
	int r;
	if (ref->fd >= 0)
		r = (int)syscall(SYS_pidfd_send_signal, ref->fd, sig, NULL, 0);
	else if (process_starttime(ref->pid) != ref->starttime)
		return 0;
	else
		r = kill(ref->pid, sig);
	return r < 0 && errno != ESRCH ? -errno : 0;
}

bool process_ref_wait(const struct process_ref *ref, unsigned timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		long long left = deadline - now_ms();
		if (ref->fd < 0) {
			if (exited(ref->pid, ref->starttime))
				return true;
			if (left <= 0)
				return false;
			usleep(10000);
			continue;
		}
		struct pollfd p = {.fd = ref->fd, .events = POLLIN};
		int n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n > 0)
			return true;
		if (n == 0 || errno != EINTR)
			return false;
	}
}

bool process_wait_gone(pid_t pid, unsigned long long starttime, unsigned timeout_ms)
{
	struct process_ref ref;
	int r = process_ref_open(pid, starttime, &ref);
	if (r == -ESRCH)
		return true;
	if (r < 0)
		return false;
	bool gone = process_ref_wait(&ref, timeout_ms);
	process_ref_close(&ref);
	return gone;
}

/* Collect it if it is our child (ECHILD otherwise, which is fine). */
static void reap(const struct process_ref *ref)
{
	siginfo_t info;
	if (ref->fd >= 0)
		(void)waitid((idtype_t)P_PIDFD, (id_t)ref->fd, &info, WEXITED | WNOHANG);
	else if (process_starttime(ref->pid) == ref->starttime) /* still its zombie */
		(void)waitpid(ref->pid, NULL, WNOHANG);
}

int process_stop(pid_t pid, unsigned long long starttime, unsigned grace_ms,
		 unsigned kill_wait_ms)
{
	struct process_ref ref;
	int r = pid > 0 ? process_ref_open(pid, starttime, &ref) : -ESRCH;
	if (r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	int killed = 0;
	if (grace_ms) {
		r = process_ref_signal(&ref, SIGTERM);
		if (r == 0 && process_ref_wait(&ref, grace_ms))
			goto out;
	}
	if (r == 0) {
		killed = 1;
		r = process_ref_signal(&ref, SIGKILL);
	}
	if (r == 0 && !process_ref_wait(&ref, kill_wait_ms))
		r = -ETIMEDOUT;
out:
	if (r == 0)
		reap(&ref);
	process_ref_close(&ref);
	return r < 0 ? r : killed;
}
