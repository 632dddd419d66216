/* A statically linked stand-in for a rootfs's init, used by test_container: it is
 * the only file in the test's rootfs.  Modes:
 *   static_init init     print the report below, then wait forever (as PID 1)
 *   static_init report   print the report and exit 0
 *   static_init sleep    wait forever
 *   static_init exit N   exit with status N
 *   static_init signal N kill itself with signal N
 * The report is KEY=VALUE lines ending with "end", describing what a process sees
 * inside a node: its pid, hostname, capabilities, which syscalls the filter
 * refuses (as errno numbers, 0 = allowed), the pids and mount points visible. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

static int errno_of(long rc)
{
	return rc < 0 ? errno : 0;
}

static void print_status_field(const char *field, const char *key)
{
	char line[256];
	size_t len = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			char *value = line + len + 1;
			value += strspn(value, " \t");
			printf("%s=%s", key, value); /* value keeps its newline */
		}
	}
	fclose(f);
}

static void print_pids(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	printf("pids=");
	const char *sep = "";
	while ((e = readdir(d))) {
		if (e->d_name[strspn(e->d_name, "0123456789")] == '\0') {
			printf("%s%s", sep, e->d_name);
			sep = ",";
		}
	}
	printf("\n");
	closedir(d);
}

static void print_mount_points(void)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return;
	/* field 5 is the mount point */
	while (fgets(line, sizeof(line), f)) {
		char *save, *field = strtok_r(line, " ", &save);
		for (int i = 1; field && i < 5; i++)
			field = strtok_r(NULL, " ", &save);
		if (field)
			printf("mountpoint=%s\n", field);
	}
	fclose(f);
}

static void report(void)
{
	struct utsname u;
	char buf[128] = "";
	struct stat st;

	printf("pid=%d\n", (int)getpid());
	if (uname(&u) == 0)
		printf("hostname=%s\n", u.nodename);
	int fd = open("/etc/hostname", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		close(fd);
	}
	printf("etc_hostname=%s\n", buf);
	if (getcwd(buf, sizeof(buf)))
		printf("cwd=%s\n", buf);
	print_status_field("CapEff", "capeff");
	print_status_field("CapBnd", "capbnd");
	print_status_field("Seccomp", "seccomp");
	printf("init_module=%d\n", errno_of(syscall(SYS_init_module, NULL, 0, "")));
	/* A target that does not exist: the filter answers EPERM before the path
	 * lookup, while outside a node (no filter) this is a harmless ENOENT. */
	printf("mount=%d\n",
	       errno_of(mount("none", "/nonexistent-netsim-probe", "tmpfs", 0, NULL)));
	/* allowed without any capability, so only the filter refuses it */
	printf("keyctl=%d\n", errno_of(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0)));
	printf("clone3=%d\n", errno_of(syscall(SYS_clone3, NULL, 0)));
	printf("unshare_user=%d\n", errno_of(unshare(CLONE_NEWUSER)));
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY);
	printf("sysctl_net_write=%d\n", errno_of(fd));
	if (fd >= 0)
		close(fd);
	fd = open("/proc/sys/kernel/hostname", O_WRONLY);
	printf("sysctl_kernel_write=%d\n", errno_of(fd));
	if (fd >= 0)
		close(fd);
	/* hidden files are /dev/null or absent (kcore without CONFIG_PROC_KCORE) */
	static const char *const hidden[] = { "/proc/kcore", "/proc/keys", "/proc/timer_list",
					      "/proc/sysrq-trigger" };
	int exposed = 0;
	for (int i = 0; i < 4; i++) {
		if (stat(hidden[i], &st) == 0 && !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
			exposed++;
	}
	printf("proc_exposed=%d\n", exposed);
	printf("dev_null_mode=%o\n", stat("/dev/null", &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0u);
	print_pids();
	print_mount_points();
	printf("end\n");
	fflush(stdout);
}

static void wait_forever(void)
{
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "init";
	if (strcmp(mode, "init") == 0) {
		/* First: like most programs this opens /dev/console without O_APPEND,
		 * so it writes at offset 0 of the (still empty) console log. */
		int fd = open("/dev/console", O_WRONLY);
		if (fd >= 0) {
			dprintf(fd, "via_dev_console=1\n");
			close(fd);
		}
		report();
		wait_forever();
	}
	if (strcmp(mode, "report") == 0) {
		report();
		return 0;
	}
	if (strcmp(mode, "sleep") == 0)
		wait_forever();
	if (strcmp(mode, "exit") == 0 && argc > 2)
		return atoi(argv[2]);
	if (strcmp(mode, "signal") == 0 && argc > 2) {
		signal(atoi(argv[2]), SIG_DFL);
		raise(atoi(argv[2]));
		return 3;
	}
	fprintf(stderr, "static_init: unknown mode %s\n", mode);
	return 2;
}
