/* Run as root inside a node started with caps=+sys_admin by
 * tests/integration/24-security-sysadmin.t: with CAP_SYS_ADMIN in its own user
 * namespace, try every way that capability is known to lead out of a container.
 * Static, so it runs in any rootfs.  One line per attempt, "NAME refused ERRNO"
 * or "NAME ALLOWED"; then "namespaces: N net namespaces made" (the cap on them);
 * exit status 1 when anything was allowed that must not be. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static int allowed;

static void outcome(const char *name, long rc)
{
	if (rc < 0)
		printf("%s refused %s\n", name, strerror(errno));
	else {
		printf("%s ALLOWED\n", name);
		allowed++;
	}
}

/* Does this process hold CAP_SYS_ADMIN?  Otherwise the test proves nothing. */
static int has_sys_admin(void)
{
	char line[128];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> 21) & 1; /* CAP_SYS_ADMIN */
}

static long write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	long n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

/* Write back the value a knob has now (the bracketed one for sysfs choices):
 * as much of an attack as any other value, and harmless to the shared host if
 * it ever got through. */
static long write_same(const char *path)
{
	char now[256] = "";
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(now, sizeof(now), f))
			now[0] = '\0';
		fclose(f);
	}
	char *open_bracket = strchr(now, '['), *close_bracket = open_bracket ? strchr(open_bracket, ']') : NULL;
	if (open_bracket && close_bracket) {
		*close_bracket = '\0';
		memmove(now, open_bracket + 1, strlen(open_bracket + 1) + 1);
	}
	return write_file(path, now[0] ? now : "\n");
}

int main(void)
{
	if (!has_sys_admin()) {
		printf("no CAP_SYS_ADMIN: nothing to test\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* mounts: a tmpfs over something, proc/sys made writable again, the
	 * read-only kernel views taken away, a new mount namespace to do it in */
	mkdir("/tmp/sa-mnt", 0755);
	outcome("mount-tmpfs", mount("none", "/tmp/sa-mnt", "tmpfs", 0, NULL));
	outcome("remount-proc-sys-rw", mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
	outcome("remount-sys-rw", mount(NULL, "/sys", NULL, MS_REMOUNT, NULL));
	outcome("mount-proc-again", mount("proc", "/tmp/sa-mnt", "proc", 0, NULL));
	outcome("mount-sysfs-again", mount("sysfs", "/tmp/sa-mnt", "sysfs", 0, NULL));
	outcome("bind-root", mount("/", "/tmp/sa-mnt", NULL, MS_BIND | MS_REC, NULL));
	outcome("umount-proc-sys", umount2("/proc/sys", MNT_DETACH));
	outcome("fsopen-tmpfs", syscall(SYS_fsopen, "tmpfs", 0));
	/* a detached copy of /proc without what netsim mounted over parts of it */
	outcome("open_tree-clone-proc", syscall(SYS_open_tree, AT_FDCWD, "/proc", 1 /* OPEN_TREE_CLONE */));
	outcome("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp/sa-mnt"));
	if (unshare(CLONE_NEWNS) == 0)
		outcome("mount-in-new-mntns", mount("none", "/tmp/sa-mnt", "tmpfs", 0, NULL));
	else
		outcome("unshare-mntns", -1);

	/* the file-handle escape (shocker): open an inode by handle from the root */
	struct {
		struct file_handle fh;
		unsigned char bytes[128];
	} handle = { .fh.handle_bytes = 128 };
	int mount_id;
	/* a tmpfs has file handles, the overlay root may not */
	if (name_to_handle_at(AT_FDCWD, "/tmp", &handle.fh, &mount_id, 0) == 0) {
		int root = open("/tmp", O_RDONLY | O_DIRECTORY);
		outcome("open_by_handle_at", syscall(SYS_open_by_handle_at, root, &handle.fh, O_RDONLY));
	} else {
		outcome("open_by_handle_at", -1);
	}

	/* a user namespace of its own would give a fresh full capability set */
	outcome("unshare-user", unshare(CLONE_NEWUSER));

	/* host-global kernel knobs and devices */
	outcome("write-proc-sys-vm", write_file("/proc/sys/vm/drop_caches", "1\n"));
	outcome("write-proc-sys-kernel", write_same("/proc/sys/kernel/core_pattern"));
	outcome("write-sys-kernel", write_same("/sys/kernel/mm/transparent_hugepage/enabled"));
	outcome("mknod-block-device", mknod("/tmp/sa-sda", S_IFBLK | 0600, makedev(8, 0)));
	/* clearing needs CAP_SYSLOG or CAP_SYS_ADMIN over the host, whatever dmesg_restrict says */
	outcome("syslog-clear", syscall(SYS_syslog, 5 /* CLEAR */, NULL, 0));
	outcome("ioprio-realtime", syscall(SYS_ioprio_set, 1 /* WHO_PROCESS */, 0, (1 << 13) | 0));
	outcome("swapon", syscall(SYS_swapon, "/tmp/sa-swap", 0));
	outcome("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
	outcome("bpf", syscall(SYS_bpf, 0, NULL, 0));
	outcome("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	outcome("fanotify-content", syscall(SYS_fanotify_init, 0x08 /* FAN_CLASS_CONTENT */, O_RDONLY));
	int fd = open("/tmp/sa-xattr", O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	outcome("trusted-xattr", setxattr("/tmp/sa-xattr", "trusted.sa", "x", 1, 0));

	/* namespaces it may make (FRR's netns VRFs), but not without end */
	int made = 0;
	for (int i = 0; i < 200; i++) {
		if (unshare(CLONE_NEWNET) < 0)
			break;
		if (open("/proc/self/ns/net", O_RDONLY) < 0)
			break;
		made++;
	}
	printf("namespaces: %d net namespaces made\n", made);
	if (made >= 200)
		allowed++;
	return allowed ? 1 : 0;
}
