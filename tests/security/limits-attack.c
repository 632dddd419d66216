/* Attacks on the host's resources from inside a node, for
 * tests/integration/27-security-limits.t.  Static, so it runs in any rootfs.
 *
 *   limits-attack sched       try nice -20, SCHED_FIFO, raising RLIMIT_RTPRIO/NICE
 *   limits-attack mlock MIB   try to mlock MIB MiB
 *   limits-attack forkbomb    fork until refused; print how many, then all exit
 *   limits-attack hog         allocate and touch memory until killed
 *   limits-attack spin N S    N processes busy on CPU 0 for S seconds
 *   limits-attack ptys N      open up to N ptys from /dev/pts/ptmx; print how many
 *
 * Each prints one line per attempt, "NAME ok" or "NAME refused: REASON". */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, int rc)
{
	if (rc == 0)
		printf("%s ok\n", name);
	else
		printf("%s refused: %s\n", name, strerror(errno));
}

static int sched(void)
{
	report("nice-20", setpriority(PRIO_PROCESS, 0, -20));
	struct sched_param sp = { .sched_priority = 10 };
	report("sched_fifo", sched_setscheduler(0, SCHED_FIFO, &sp));
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	report("raise_rtprio", setrlimit(RLIMIT_RTPRIO, &rl));
	report("raise_nice", setrlimit(RLIMIT_NICE, &rl));
	report("raise_memlock", setrlimit(RLIMIT_MEMLOCK, &rl));
	return 0;
}

static int lock_memory(long mib)
{
	size_t len = (size_t)mib << 20;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		report("mmap", -1);
		return 1;
	}
	report("mlock", mlock(p, len));
	return 0;
}

/* The children wait on a pipe; closing its write end ends them all (no
 * signals, which could reach beyond the bomb). */
static int forkbomb(void)
{
	int made = 0, pipefd[2];
	if (pipe(pipefd) < 0)
		return 1;
	for (;;) {
		pid_t pid = fork();
		if (pid < 0)
			break;
		if (pid == 0) {
			char c;
			close(pipefd[1]);
			while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		made++;
		if (made >= 100000)
			break;
	}
	printf("forked %d (stopped by: %s)\n", made, strerror(errno));
	close(pipefd[1]);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

static int spin(int n, int seconds)
{
	cpu_set_t cpu0;
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			sched_setaffinity(0, sizeof(cpu0), &cpu0);
			time_t end = time(NULL) + seconds;
			while (time(NULL) < end)
				;
			_exit(0);
		}
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	printf("spun %d for %d s\n", n, seconds);
	return 0;
}

static int hog(void)
{
	size_t total = 0;
	for (;;) {
		char *p = malloc(1 << 20);
		if (!p)
			break;
		memset(p, 1, 1 << 20);
		total += 1;
	}
	printf("hog: malloc refused after %zu MiB\n", total);
	return 1;
}

/* The kernel's pty count is host-wide (kernel.pty.max): a node that could open
 * as many as it likes would leave none for other nodes' shells.  The
 * descriptors stay open until we exit, so each open is a new pty. */
static int ptys(int wanted)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int opened = 0;
	errno = 0;
	while (opened < wanted && open("/dev/pts/ptmx", O_RDWR | O_NOCTTY) >= 0)
		opened++;
	printf("ptys %d (stopped by: %s)\n", opened, opened < wanted ? strerror(errno) : "enough");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "sched") == 0)
		return sched();
	if (argc >= 3 && strcmp(argv[1], "mlock") == 0)
		return lock_memory(atol(argv[2]));
	if (argc >= 2 && strcmp(argv[1], "forkbomb") == 0)
		return forkbomb();
	if (argc >= 2 && strcmp(argv[1], "hog") == 0)
		return hog();
	if (argc >= 4 && strcmp(argv[1], "spin") == 0)
		return spin(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 3 && strcmp(argv[1], "ptys") == 0)
		return ptys(atoi(argv[2]));
	fprintf(stderr, "usage: limits-attack sched|mlock MIB|forkbomb|hog|spin N S|ptys N\n");
	return 2;
}
