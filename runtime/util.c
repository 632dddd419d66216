/* Small helpers shared by every layer (util.h). */
#include "util.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

/* ---- clock ---- */

long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long now_ms(void)
{
	return now_ns() / 1000000;
}

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reads and writes ---- */

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_fd_all(int fd, size_t cap, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	struct stat st;
	size_t size = 4096;
	/* a regular file's size is the first guess; /proc files say 0 */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((unsigned long long)st.st_size > cap)
			return -EFBIG;
		size = (size_t)st.st_size + 1;
	}
	if (size > cap + 1)
		size = cap + 1;
	cleanup_free char *buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	size_t used = 0;
	for (;;) {
		if (used + 1 >= size) {
			/* one byte beyond the cap tells "exactly cap" from "more" */
			if (used > cap)
				return -EFBIG;
			size_t grown = size > (cap + 2) / 2 ? cap + 2 : size * 2;
			char *p = realloc(buf, grown);
			if (!p)
				return -ENOMEM;
			buf = p;
			size = grown;
		}
		ssize_t n = read(fd, buf + used, size - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > cap)
		return -EFBIG;
	buf[used] = '\0';
	*len = used;
	*out = steal_pointer(&buf);
	return 0;
}

int read_file_all(const char *path, size_t cap, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_fd_all(fd, cap, out, len);
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	if (path[0] == '\0')
		return -ENOENT;
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(tmp, mode) < 0) {
			struct stat st;
			if (errno != EEXIST)
				return -errno;
			if (stat(tmp, &st) < 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		}
		*p = c;
		while (*p == '/')
			p++;
		if (*p == '\0')
			return 0;
	}
}

/* ---- stop signals ---- */

void stop_signals_fill(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void stop_signals_block(sigset_t *wait_mask)
{
	sigset_t stop, previous;
	stop_signals_fill(&stop);
	pthread_sigmask(SIG_BLOCK, &stop, &previous);
	if (wait_mask) {
		*wait_mask = previous;
		sigdelset(wait_mask, SIGINT);
		sigdelset(wait_mask, SIGTERM);
		sigdelset(wait_mask, SIGHUP);
	}
}

/* ---- numbers ---- */

int parse_unsigned_prefix(const char *text, const char **end, unsigned long long *out)
{
	*end = text;
	if (*text < '0' || *text > '9')
		return -EINVAL;
	unsigned long long v = 0;
	bool overflow = false;
	const char *p = text;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (~0ULL - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	*end = p;
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_unsigned(const char *text, unsigned long long min, unsigned long long max,
		   unsigned long long *out)
{
	const char *end;
	unsigned long long v;
	int r = parse_unsigned_prefix(text, &end, &v);
	if (r == -EINVAL || *end != '\0')
		return -EINVAL;
	if (r < 0 || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* ---- libarchive ---- */

const char *archive_text(struct archive *a, const char *fallback)
{
	const char *msg = a ? archive_error_string(a) : NULL;
	return msg ? msg : fallback;
}

int archive_errnum(struct archive *a, int fallback)
{
	int e = a ? archive_errno(a) : 0;
	return e > 0 ? e : fallback;
}

int archive_error(struct error *err, struct archive *a, const char *what)
{
	int errnum = archive_errnum(a, EIO);
	return error_setmsg(err, errnum, "%s: %s", what, archive_text(a, strerror(errnum)));
}

/* ---- helper programs ---- */

/* In the child: dup `fd` onto `target` as asked; 0 or -1. */
static int child_fd(int fd, int target)
{
	if (fd == HELPER_FD_INHERIT)
		return 0;
	if (fd == HELPER_FD_NULL) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0)
			return -1;
		fd = null;
	}
	if (fd == target)
		return fcntl(fd, F_SETFD, 0) < 0 ? -1 : 0; /* keep it across execv */
	return dup2(fd, target) < 0 ? -1 : 0;
}

static void child_write(const char *s)
{
	if (s)
		(void)!write(STDERR_FILENO, s, strlen(s));
}

int helper_spawn(const struct helper *h, pid_t *pid, struct error *err)
{
	pid_t child = fork();
	if (child < 0)
		return error_set(err, errno, "fork");
	if (child > 0) {
		*pid = child;
		return 0;
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (child_fd(h->stdin_fd, STDIN_FILENO) < 0 || child_fd(h->stdout_fd, STDOUT_FILENO) < 0 ||
	    child_fd(h->stderr_fd, STDERR_FILENO) < 0 ||
	    (h->netns_fd >= 0 && setns(h->netns_fd, CLONE_NEWNET) < 0))
		_exit(126);
	execv(h->path, h->argv);
	int e = errno;
	if (h->exec_error_prefix) {
		child_write(h->exec_error_prefix);
		child_write(h->path);
		child_write(": ");
		child_write(strerror(e));
		child_write("\n");
	}
	_exit(127);
}

int helper_wait(pid_t pid, int *status)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (status)
		*status = st;
	return 0;
}

const char *helper_status_kind(int status)
{
	return WIFEXITED(status) ? "exit status" : "signal";
}

int helper_status_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
}

int helper_run(const struct helper *h, struct error *err)
{
	pid_t pid;
	int r = helper_spawn(h, &pid, err);
	if (r < 0)
		return error_prefix(err, "%s", h->path);
	int status;
	r = helper_wait(pid, &status);
	if (r < 0)
		return error_set(err, -r, "%s: wait", h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return error_setmsg(err, EIO, "%s: %s %d", h->path, helper_status_kind(status),
			    helper_status_code(status));
}
