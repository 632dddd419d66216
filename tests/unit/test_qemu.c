/* netsim/vm/qemu.c without QEMU: the rootfs-as-cpio writer (read back with
 * libarchive), and the guest agent protocol end to end against the real agent
 * (build/kernel/agent from `make kernel`; skipped when it is not built) on a unix
 * socket instead of a virtio port.  No root needed. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/initrd.h"
#include "vm/qemu.h"
#include "rootfs.h"
#include "tap.h"

static char tmp[256];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* rootfs with a file, a dir, a symlink; files dir overriding the file. */
static void test_cpio(void)
{
	char root[PATH_MAX], files[PATH_MAX], path[PATH_MAX], cpio[PATH_MAX];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(files, sizeof(files), "%s/files", tmp);
	snprintf(cpio, sizeof(cpio), "%s/out.cpio", tmp);
	mkdir(root, 0755);
	snprintf(path, sizeof(path), "%s/etc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/hostname", root);
	write_text(path, "base\n");
	snprintf(path, sizeof(path), "%s/init", root);
	if (symlink("/sbin/init", path) < 0)
		perror("symlink");
	mkdir(files, 0755);
	snprintf(path, sizeof(path), "%s/etc", files);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/hostname", files);
	write_text(path, "overlay\n");

	struct error err = { 0 };
	int fd = open(cpio, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int r = qemu_write_rootfs_cpio(fd, root, files, &err);
	close(fd);
	is_int(r, 0, "qemu_write_rootfs_cpio: %s", r ? err.msg : "ok");

	struct archive *a = archive_read_new();
	archive_read_support_format_cpio(a);
	int n_entries = 0, n_hostname = 0, newc = 1;
	char last_hostname[32] = "", link_target[64] = "";
	if (archive_read_open_filename(a, cpio, 10240) == ARCHIVE_OK) {
		struct archive_entry *e;
		while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
			n_entries++;
			if (archive_format(a) != ARCHIVE_FORMAT_CPIO_SVR4_NOCRC)
				newc = 0;
			const char *name = archive_entry_pathname(e);
			if (strcmp(name, "etc/hostname") == 0) {
				n_hostname++;
				la_ssize_t got = archive_read_data(a, last_hostname, sizeof(last_hostname) - 1);
				last_hostname[got > 0 ? got : 0] = '\0';
			} else if (strcmp(name, "init") == 0 && archive_entry_symlink(e)) {
				snprintf(link_target, sizeof(link_target), "%s", archive_entry_symlink(e));
			} else if (name[0] == '/' || strncmp(name, tmp, strlen(tmp)) == 0) {
				ok(0, "entry path %s is relative to the rootfs", name);
			}
		}
	}
	archive_read_free(a);
	ok(newc, "the archive is newc (what the kernel unpacks)");
	is_int(n_entries, 5, "root's etc, etc/hostname, init, then files' etc, etc/hostname");
	is_int(n_hostname, 2, "a path in both trees is written twice");
	is_str(last_hostname, "overlay\n", "the files dir comes last, so it wins in the guest");
	is_str(link_target, "/sbin/init", "symlinks are kept as symlinks");
}

/* The agent binary next to this test's build dir: BUILD/tests/test_qemu -> BUILD/kernel/agent. */
static int agent_path(char *out, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(out, size, "%s/../kernel/agent", exe);
	return access(out, X_OK);
}

static void test_agent(void)
{
	char agent[PATH_MAX], sock_path[PATH_MAX];
	if (agent_path(agent, sizeof(agent)) < 0) {
		ok(1, "# SKIP agent not built (make kernel)");
		return;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", tmp);
	int listener = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(listener, 4) < 0) {
		ok(0, "listen on %s: %s", sock_path, strerror(errno));
		return;
	}
	/* The agent serves one connection after another on fd 3, like QEMU's
	 * chardev hands it one client at a time: a helper accepts and relays. */
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);  /* the helper and its agents: one group to kill at the end */
		for (;;) {
			int conn = accept(listener, NULL, NULL);
			if (conn < 0)
				_exit(1);
			pid_t a = fork();
			if (a == 0) {
				dup2(conn, 3);
				execl(agent, agent, (char *)NULL);
				_exit(127);
			}
			close(conn);
			waitpid(a, NULL, WNOHANG);
		}
	}
	close(listener);
	setpgid(pid, pid);  /* also here: no race with the child's own call */

	struct error err = { 0 };
	is_int(qemu_agent_ping(tmp, 5000, &err), 0, "HELLO is echoed: %s", err.msg);

	int out[2], errp[2], in[2];
	if (pipe(out) < 0 || pipe(errp) < 0 || pipe(in) < 0)
		return;
	char *argv[] = { "sh", "-c", "read line; echo out:$line; echo err >&2; exit 3", NULL };
	if (write(in[1], "hello\n", 6) != 6)
		return;
	close(in[1]);
	int status = -1;
	int r = qemu_agent_exec(tmp, argv, in[0], out[1], errp[1], 5000, &status, &err);
	close(out[1]);
	close(errp[1]);
	close(in[0]);
	char buf[256];
	ssize_t n;
	is_int(r, 0, "exec: %s", r ? err.msg : "ok");
	is_int(status, 3, "the exit status passes through");
	n = read(out[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "out:hello\n", "stdin in, stdout out");
	n = read(errp[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "err\n", "stderr separately");
	close(out[0]);
	close(errp[0]);

	char *killed[] = { "sh", "-c", "kill -9 $$", NULL };
	r = qemu_agent_exec(tmp, killed, -1, -1, -1, 5000, &status, &err);
	is_int(status, 128 + 9, "killed by signal 9: status 137");
	char *missing[] = { "/no/such/program", NULL };
	r = qemu_agent_exec(tmp, missing, -1, -1, -1, 5000, &status, &err);
	is_int(status, 127, "a missing program: status 127");

	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_qemu.XXXXXX");
	if (!mkdtemp(tmp))
		skip_all("mkdtemp failed");
	signal(SIGPIPE, SIG_IGN);
	test_cpio();
	test_agent();
	struct error err;
	rootfs_remove_tree(tmp, &err);
	return tap_done();
}
