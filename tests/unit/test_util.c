/* runtime/util: clock, whole reads and writes, mkdir -p, stop signals, strict
 * unsigned numbers, libarchive's error text, helper programs. */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "process.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/test_util.XXXXXX";

static void test_clock(void)
{
	long long a = now_ns(), ms = now_ms();
	double s = now_seconds();
	usleep(20000);
	long long b = now_ns();
	ok(b - a >= 20000000LL, "now_ns advances across a 20 ms sleep (%lld ns)", b - a);
	ok(ms >= a / 1000000 - 1 && ms <= b / 1000000, "now_ms is now_ns in ms");
	ok(s * 1e9 >= (double)a - 1e6 && s * 1e9 <= (double)b + 1e6, "now_seconds is the same clock");
}

static void test_write_read(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	static char big[200000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	is_int(write_all(fd, big, sizeof(big)), 0, "write_all writes 200000 bytes");
	close(fd);

	char *buf;
	size_t len;
	is_int(read_file_all(path, sizeof(big), &buf, &len), 0, "read_file_all at exactly the cap");
	ok(buf && len == sizeof(big) && memcmp(buf, big, len) == 0 && buf[len] == '\0',
	   "reads back every byte, '\\0'-terminated");
	free(buf);
	is_int(read_file_all(path, sizeof(big) - 1, &buf, &len), -EFBIG,
	       "one byte over the cap: -EFBIG");
	ok(buf == NULL && len == 0, "and nothing is returned");
	is_int(read_file_all("/nonexistent/x", 10, &buf, &len), -ENOENT, "missing file: -ENOENT");

	/* /proc says size 0; the data is still read, and the cap still holds */
	is_int(read_file_all("/proc/self/status", 1 << 20, &buf, &len), 0, "reads a /proc file");
	ok(buf && len > 0 && strstr(buf, "Pid:") != NULL, "with its content (%zu bytes)", len);
	free(buf);
	is_int(read_file_all("/proc/self/status", 10, &buf, &len), -EFBIG,
	       "a /proc file over the cap: -EFBIG");

	/* a pipe: short reads, no size */
	int p[2];
	if (pipe(p) == 0) {
		(void)!write(p[1], "hello", 5);
		close(p[1]);
		is_int(read_fd_all(p[0], 5, &buf, &len), 0, "read_fd_all of a pipe");
		is_str(buf, "hello", "pipe content");
		free(buf);
		close(p[0]);
	}

	/* an empty file */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	close(fd);
	is_int(read_file_all(path, 0, &buf, &len), 0, "an empty file with cap 0");
	ok(buf && len == 0 && buf[0] == '\0', "is an empty string");
	free(buf);

	/* a closed reader: EPIPE, not death (SIGPIPE ignored here) */
	signal(SIGPIPE, SIG_IGN);
	if (pipe(p) == 0) {
		close(p[0]);
		is_int(write_all(p[1], "x", 1), -EPIPE, "write_all to a closed pipe: -EPIPE");
		close(p[1]);
	}
}

static void test_mkdir_p(void)
{
	char path[256], file[256];
	snprintf(path, sizeof(path), "%s/a/b//c/", tmpdir);
	is_int(mkdir_p(path, 0700), 0, "mkdir_p creates a/b/c");
	struct stat st;
	snprintf(path, sizeof(path), "%s/a/b/c", tmpdir);
	ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	   "a/b/c is a directory with mode 0700");
	is_int(mkdir_p(path, 0700), 0, "again: an existing directory is fine");
	snprintf(file, sizeof(file), "%s/a/f", tmpdir);
	close(open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	snprintf(path, sizeof(path), "%s/a/f/x", tmpdir);
	is_int(mkdir_p(path, 0700), -ENOTDIR, "through a file: -ENOTDIR");
	is_int(mkdir_p(file, 0700), -ENOTDIR, "a file in the last place: -ENOTDIR");
	is_int(mkdir_p("", 0700), -ENOENT, "an empty path: -ENOENT");
}

static void test_stop_signals(void)
{
	sigset_t before, wait_mask, now;
	sigemptyset(&before);
	sigaddset(&before, SIGUSR1);
	sigprocmask(SIG_SETMASK, &before, NULL);
	stop_signals_block(&wait_mask);
	sigprocmask(SIG_SETMASK, NULL, &now);
	ok(sigismember(&now, SIGINT) && sigismember(&now, SIGTERM) && sigismember(&now, SIGHUP),
	   "SIGINT, SIGTERM, SIGHUP are blocked");
	ok(!sigismember(&wait_mask, SIGINT) && !sigismember(&wait_mask, SIGTERM) &&
	   !sigismember(&wait_mask, SIGHUP) && sigismember(&wait_mask, SIGUSR1),
	   "the wait mask is the previous one without them");
	sigset_t set;
	stop_signals_fill(&set);
	ok(sigismember(&set, SIGHUP) && !sigismember(&set, SIGUSR1), "stop_signals_fill");
	sigemptyset(&before);
	sigprocmask(SIG_SETMASK, &before, NULL);
}

static void unsigned_is(const char *text, unsigned long long min, unsigned long long max,
			int want_ret, unsigned long long want)
{
	unsigned long long got = 4242;
	int r = parse_unsigned(text, min, max, &got);
	is_int(r, want_ret, "parse_unsigned \"%s\" in [%llu, %llu]: %d", text, min, max, want_ret);
	if (want_ret == 0)
		ok(got == want, "  = %llu", want);
	else
		ok(got == 4242, "  leaves the output alone");
}

static void test_parse_unsigned(void)
{
	unsigned_is("0", 0, 10, 0, 0);
	unsigned_is("10", 0, 10, 0, 10);
	unsigned_is("007", 0, 10, 0, 7);
	unsigned_is("11", 0, 10, -ERANGE, 0);
	unsigned_is("0", 1, 10, -ERANGE, 0);
	unsigned_is("18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX);
	unsigned_is("18446744073709551616", 0, UINT64_MAX, -ERANGE, 0);
	unsigned_is("99999999999999999999999", 0, UINT64_MAX, -ERANGE, 0);
	unsigned_is("", 0, 10, -EINVAL, 0);
	unsigned_is("-1", 0, UINT64_MAX, -EINVAL, 0);
	unsigned_is("+1", 0, 10, -EINVAL, 0);
	unsigned_is(" 1", 0, 10, -EINVAL, 0);
	unsigned_is("1 ", 0, 10, -EINVAL, 0);
	unsigned_is("1x", 0, 10, -EINVAL, 0);
	unsigned_is("0x10", 0, 100, -EINVAL, 0);
	unsigned_is("99999999999999999999x", 0, UINT64_MAX, -EINVAL, 0);

	const char *end;
	unsigned long long v = 0;
	is_int(parse_unsigned_prefix("12x34", &end, &v), 0, "prefix \"12x34\"");
	ok(v == 12 && strcmp(end, "x34") == 0, "  = 12, rest \"x34\"");
	is_int(parse_unsigned_prefix("x", &end, &v), -EINVAL, "prefix \"x\": -EINVAL");
	ok(strcmp(end, "x") == 0, "  with *end at the text");
	is_int(parse_unsigned_prefix("99999999999999999999K", &end, &v), -ERANGE,
	       "prefix overflow: -ERANGE");
	ok(strcmp(end, "K") == 0, "  with *end after the digits");
}

static void test_archive(void)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	int r = archive_read_open_filename(a, "/nonexistent/x.tar", 10240);
	ok(r != ARCHIVE_OK, "libarchive fails to open a missing file");
	is_int(archive_errnum(a, EIO), ENOENT, "archive_errnum: its ENOENT");
	ok(strstr(archive_text(a, "none"), "x.tar") != NULL, "archive_text: its message (%s)",
	   archive_text(a, "none"));
	struct error err = {0};
	is_int(archive_error(&err, a, "read x"), -ENOENT, "archive_error returns -ENOENT");
	ok(strncmp(err.msg, "read x: ", 8) == 0 && strstr(err.msg, "x.tar"),
	   "with \"WHAT: MESSAGE\" (%s)", err.msg);
	archive_read_free(a);

	a = archive_read_new();
	is_str(archive_text(a, "fallback"), "fallback", "no failure yet: the fallback");
	is_int(archive_errnum(a, EIO), EIO, "and the fallback errno");
	archive_error(&err, a, "w");
	is_str(err.msg, "w: Input/output error", "archive_error without a message: strerror");
	archive_read_free(a);
}

static void test_helper(void)
{
	struct error err = {0};
	char *const t_argv[] = {"true", NULL};
	struct helper h = {.path = "/bin/true", .argv = t_argv, .stdin_fd = HELPER_FD_NULL,
			   .stdout_fd = HELPER_FD_NULL, .stderr_fd = HELPER_FD_INHERIT,
			   .netns_fd = -1};
	is_int(helper_run(&h, &err), 0, "helper_run /bin/true");

	char *const f_argv[] = {"false", NULL};
	h.path = "/bin/false";
	h.argv = f_argv;
	is_int(helper_run(&h, &err), -EIO, "helper_run /bin/false: -EIO");
	is_str(err.msg, "/bin/false: exit status 1", "names the exit status");

	/* stdout to a pipe; an exec failure's message on stderr */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	char *const e_argv[] = {"echo", "hi", NULL};
	h = (struct helper){.path = "/bin/echo", .argv = e_argv, .stdin_fd = HELPER_FD_NULL,
			    .stdout_fd = p[1], .stderr_fd = HELPER_FD_NULL, .netns_fd = -1};
	pid_t pid;
	is_int(helper_spawn(&h, &pid, &err), 0, "helper_spawn echo");
	close(p[1]);
	char *out;
	size_t len;
	read_fd_all(p[0], 100, &out, &len);
	close(p[0]);
	is_str(out, "hi\n", "its stdout reaches the pipe");
	free(out);
	int status = -1;
	is_int(helper_wait(pid, &status), 0, "helper_wait");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status 0");

	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	h = (struct helper){.path = "/nonexistent/prog", .argv = e_argv, .stdin_fd = HELPER_FD_NULL,
			    .stdout_fd = HELPER_FD_NULL, .stderr_fd = p[1], .netns_fd = -1,
			    .exec_error_prefix = "netsim: test: exec "};
	is_int(helper_spawn(&h, &pid, &err), 0, "helper_spawn of a missing program forks");
	close(p[1]);
	read_fd_all(p[0], 1000, &out, &len);
	close(p[0]);
	is_str(out, "netsim: test: exec /nonexistent/prog: No such file or directory\n",
	       "the child says why exec failed");
	free(out);
	helper_wait(pid, &status);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 127, "and exits 127");
}

static pid_t child_that(bool ignores_term)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		if (ignores_term)
			signal(SIGTERM, SIG_IGN);
		close(p[0]);
		close(p[1]); /* ready */
		for (;;)
			pause();
	}
	close(p[1]);
	char c;
	(void)!read(p[0], &c, 1); /* EOF once the child set its handler */
	close(p[0]);
	return pid;
}

static void test_process_stop(void)
{
	pid_t pid = child_that(false);
	unsigned long long start = process_starttime(pid);
	ok(start > 0, "a child has a start time");
	long long t0 = now_ms();
	is_int(process_stop(pid, start, 2000, 2000), 0, "process_stop: it ends on SIGTERM");
	ok(now_ms() - t0 < 1500, "without waiting out the grace time (%lld ms)", now_ms() - t0);
	errno = 0;
	ok(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "and it was reaped");

	pid = child_that(true);
	start = process_starttime(pid);
	t0 = now_ms();
	is_int(process_stop(pid, start, 200, 2000), 1, "one that ignores SIGTERM needs SIGKILL");
	ok(now_ms() - t0 >= 200, "after the grace time (%lld ms)", now_ms() - t0);
	errno = 0;
	ok(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "and it was reaped");
	is_int(process_stop(pid, start, 200, 200), 0, "a process that is gone: 0");
	ok(process_wait_gone(pid, start, 0), "process_wait_gone of it: true");

	pid = child_that(true);
	start = process_starttime(pid);
	is_int(process_stop(pid, start + 1, 100, 100), 0,
	       "another start time (a recycled pid) is left alone");
	ok(!process_wait_gone(pid, start, 50), "it still runs");
	is_int(process_stop(pid, start, 0, 2000), 1, "grace 0: SIGKILL at once");
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		skip_all("mkdtemp failed");
	test_clock();
	test_write_read();
	test_mkdir_p();
	test_stop_signals();
	test_parse_unsigned();
	test_archive();
	test_helper();
	test_process_stop();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)!system(cmd);
	return tap_done();
}
