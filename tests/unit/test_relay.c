/* runtime/relay.c: the copy loop's end.  The command netsim waits for is a
 * node's program, so node root decides whether it ever exits; SIGTERM or SIGHUP
 * to netsim must end netsim all the same (docs/security.md, "Entering a node"). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"
#include "tap.h"

/* How the stand-in for the command ends, as the runner saw it. */
enum runner_result { RUN_OK = 0, RUN_RELAY_FAILED = 1, RUN_WRONG_END = 2, RUN_SETUP = 3 };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In a forked runner: relay_run over a child that sleeps `seconds`, ignoring
 * `ignored` (0: none); exits RUN_OK when the relay returned and the child ended
 * by `want_signal`. */
__attribute__((noreturn)) static void runner(int ignored, unsigned seconds, int want_signal)
{
	/* SIGTERM sent before relay_run installs its handler waits, blocked */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGHUP);
	sigprocmask(SIG_BLOCK, &term, NULL);
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		_exit(RUN_SETUP);
	close(null);

	pid_t child = fork();
	if (child == 0) {
		if (ignored)
			signal(ignored, SIG_IGN);
		sigprocmask(SIG_UNBLOCK, &term, NULL);
		sleep(seconds);
		_exit(0);
	}
	if (child < 0)
		_exit(RUN_SETUP);
	struct relay r;
	struct error err = { 0 };
	if (relay_open(&r, RELAY_PIPES, &err) < 0)
		_exit(RUN_SETUP);
	int rc = relay_run(&r, child, &err);
	relay_free(&r);
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (rc < 0)
		_exit(RUN_RELAY_FAILED);
	_exit(WIFSIGNALED(status) && WTERMSIG(status) == want_signal ? RUN_OK : RUN_WRONG_END);
}

/* Start a runner, send it `sig` after 0.3 s, wait for it; returns its exit
 * status (-1: it did not exit normally) and the seconds from the signal on. */
static int run_and_signal(int sig, int ignored, unsigned seconds, int want_signal, double *took)
{
	pid_t pid = fork();
	if (pid == 0)
		runner(ignored, seconds, want_signal);
	if (pid < 0)
		return -1;
	usleep(300000);
	double start = now_s();
	kill(pid, sig);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*took = now_s() - start;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
	double took = 0;
	int rc = run_and_signal(SIGTERM, 0, 8, SIGTERM, &took);
	is_int(rc, RUN_OK, "SIGTERM is passed on: a command that obeys ends by it");
	ok(took < 1.5, "... and the relay returns at once (%.2f s)", took);

	rc = run_and_signal(SIGTERM, SIGTERM, 8, SIGKILL, &took);
	is_int(rc, RUN_OK, "a command that ignores the SIGTERM passed on is killed (SIGKILL)");
	ok(took >= 1.5 && took < 5, "... about 2 s later, not when it chooses to exit (%.2f s)", took);

	rc = run_and_signal(SIGHUP, SIGHUP, 8, SIGKILL, &took);
	is_int(rc, RUN_OK, "the same for SIGHUP (the operator's terminal went away)");
	ok(took >= 1.5 && took < 5, "... about 2 s later (%.2f s)", took);
	return tap_done();
}
