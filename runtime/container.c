/* Node lifecycle: clone into new namespaces, build the root, wait for the go,
 * drop privileges, exec init.  The parent and the child walk through a fixed
 * sequence of messages on a SOCK_SEQPACKET socketpair:
 *
 *   child  -> parent   SYNC_READY     root built, blocked before exec
 *   parent -> child    SYNC_GO        drop privileges and execve
 *   child  -> parent   SYNC_ERROR     any step failed: errno + message, then _exit
 *
 * The child's end is close-on-exec, so a successful execve shows up in the parent
 * as EOF.  EOF in the child (the parent died or gave up) makes it exit quietly.
 *
 * A node's first start clones the child with CLONE_NEWUSER along with its other
 * namespaces, so all of them are owned by the new user namespace; the child waits
 * (SYNC_MAPPED) while the parent writes its id maps and makes the idmapped lower
 * layers, which need the mapped namespace, and passes them as SCM_RIGHTS.  A
 * stopped node that starts again must run in the user namespace its kept netns
 * belongs to (a new one could not own that netns): a short-lived intermediate
 * joins it and clones with CLONE_PARENT, so the node's PID 1 is still our child,
 * reports its pid through a shared page and exits. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "mounts.h"
#include "relay.h"
#include "security.h"
#include "userns.h"

enum sync_type {
	SYNC_READY = 1,
	SYNC_GO,
	SYNC_ERROR,
	SYNC_PTY,  /* container_enter: the pty master, as SCM_RIGHTS */
	SYNC_MAPPED, /* parent -> a fresh node: ids mapped; the idmapped lowers as SCM_RIGHTS */
};

struct sync_message {
	uint32_t type;    /* enum sync_type */
	int32_t errnum;   /* SYNC_ERROR: positive errno */
	char text[sizeof(((struct error *)0)->msg)];
};

/* Everything the child needs, prepared by the parent; the child sees it in its
 * copy-on-write copy of the parent's memory. */
struct child_args {
	const struct container_config *cfg;
	struct overlay_plan *overlay; /* the child fills in a fresh node's layer fds */
	char *const *argv;
	char *const *envp;
	int sync_fd;
	int netns_fd;     /* -1 for a new netns */
	int rootfs_tree;  /* idmapped clone of the rootfs dir, or -1 (no user namespace) */
	int files_tree;   /* idmapped clone of the files= dir, or -1 */
	int userns_fd;    /* the node's user namespace (joined by the intermediate), or -1 */
	bool fresh_userns; /* cloned with CLONE_NEWUSER: wait for SYNC_MAPPED first */
	const char *boot_script; /* cfg->boot_script's bytes, read by the parent, or NULL */
	size_t boot_script_len;
};

static int sync_send(int fd, enum sync_type type, const struct error *err)
{
	struct sync_message msg = { .type = type };
	size_t len = offsetof(struct sync_message, text);
	if (err) {
		msg.errnum = err->errnum > 0 ? err->errnum : EINVAL;
		snprintf(msg.text, sizeof(msg.text), "%s", err->msg);
		len += strlen(msg.text) + 1;
	}
	ssize_t n;
	do
		n = send(fd, &msg, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/* Returns the message length, 0 on EOF, or -errno. */
static ssize_t sync_receive(int fd, struct sync_message *msg)
{
	ssize_t n;
	memset(msg, 0, sizeof(*msg));
	do
		n = recv(fd, msg, sizeof(*msg), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n > 0 && (size_t)n < offsetof(struct sync_message, text))
		return -EPROTO;
	msg->text[sizeof(msg->text) - 1] = '\0';
	return n;
}

/* Descriptors that ride along with a message (SCM_RIGHTS, at most 253 per
 * message): the rootfs, files= and the feed layers of a fresh node. */
#define SYNC_MAX_FDS (2 + OVERLAY_MAX_LAYERS)

static int sync_send_fds(int sock, enum sync_type type, const int *fds, size_t nfds)
{
	struct sync_message msg = { .type = type };
	char control[CMSG_SPACE(SYNC_MAX_FDS * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &msg, .iov_len = offsetof(struct sync_message, text) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > SYNC_MAX_FDS)
		return -EINVAL;
	if (nfds > 0) {
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/* sync_receive that also takes up to `nfds` passed descriptors, in order; the
 * rest of fds[] is -1.  Descriptors beyond nfds are closed, not leaked. */
static ssize_t sync_receive_fds(int sock, struct sync_message *msg, int *fds, size_t nfds)
{
	char control[CMSG_SPACE(SYNC_MAX_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control, .msg_controllen = sizeof(control) };
	ssize_t n;
	for (size_t i = 0; i < nfds; i++)
		fds[i] = -1;
	memset(msg, 0, sizeof(*msg));
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		size_t got = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < got; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (i < nfds && fds[i] < 0)
				fds[i] = fd;
			else
				close(fd);
		}
	}
	if (n > 0 && (size_t)n < offsetof(struct sync_message, text))
		return -EPROTO;
	msg->text[sizeof(msg->text) - 1] = '\0';
	return n;
}

/* ---- child side ------------------------------------------------------------ */

/* The child starts as a copy of the parent: it must not keep the parent's other
 * descriptors (another node's sync socket held here would hide that node's EOF,
 * a lock file would stay locked) nor run the parent's signal handlers. */
static void child_reset_process_state(const struct child_args *a)
{
	int keep[4 + OVERLAY_MAX_LAYERS] = { a->sync_fd, a->netns_fd, a->rootfs_tree, a->files_tree };
	size_t n = 4;
	for (size_t i = 0; i < a->overlay->nlayers; i++)
		keep[n++] = a->overlay->layer_tree[i];
	for (size_t i = 1; i < n; i++) /* sort ascending: insertion sort, few */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned int next = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)next)
			continue; /* -1, stdio, or a duplicate */
		if ((unsigned int)keep[i] > next)
			close_range(next, (unsigned int)keep[i] - 1, 0);
		next = (unsigned int)keep[i] + 1;
	}
	close_range(next, ~0U, 0);

	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* fails harmlessly for KILL, STOP, RT internals */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Out of the caller's session: a Ctrl-C meant for `netsim up` must not reach
	 * a node's init. */
	setsid();
	umask(0);
}

/* /etc of the node's root, opened without following a symlink.  This runs after
 * pivot_root but with every capability: a rootfs whose /etc (or /etc/hostname)
 * points at /proc/sysrq-trigger, a /proc/sys knob or /dev/console (the host's
 * console log) would otherwise have us write the node's name there.  One path
 * component below "/" with O_NOFOLLOW is all it takes, and unlike openat2 it
 * works under valgrind and on any kernel. */
static int open_etc_dir(struct error *err)
{
	if (mkdir("/etc", 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir /etc");
	cleanup_close int root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return error_set(err, errno, "open /");
	int fd = openat(root_fd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open /etc of the rootfs (a symlink is refused)");
	return fd;
}

static int child_set_hostname(const char *hostname, struct error *err)
{
	if (sethostname(hostname, strlen(hostname)) < 0)
		return error_set(err, errno, "sethostname %s", hostname);
	cleanup_close int etc_fd = open_etc_dir(err);
	if (etc_fd < 0)
		return etc_fd;
	/* A symlink (or anything else) named hostname is replaced, not followed:
	 * the unlink lands in the node's upper dir, the rootfs stays as it is. */
	if (unlinkat(etc_fd, "hostname", 0) < 0 && errno != ENOENT)
		return error_set(err, errno, "replace /etc/hostname");
	cleanup_close int fd = openat(etc_fd, "hostname",
				      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_set(err, errno, "create /etc/hostname");
	char line[80];
	int len = snprintf(line, sizeof(line), "%s\n", hostname);
	if (write(fd, line, (size_t)len) != len)
		return error_set(err, errno ? errno : EIO, "write /etc/hostname");
	return 0;
}

/* The boot script on the node's fresh /run (a tmpfs of its own: nothing in it to
 * follow), for the rootfs's init; owned by node root. */
static int child_write_boot_script(const struct child_args *a, struct error *err)
{
	if (!a->boot_script)
		return 0;
	if (mkdir("/run/netsim", 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir /run/netsim");
	cleanup_close int fd = open(CONTAINER_BOOT_SCRIPT,
				    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755);
	if (fd < 0)
		return error_set(err, errno, "create %s", CONTAINER_BOOT_SCRIPT);
	size_t done = 0;
	while (done < a->boot_script_len) {
		ssize_t n = write(fd, a->boot_script + done, a->boot_script_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, n < 0 ? errno : EIO, "write %s", CONTAINER_BOOT_SCRIPT);
		done += (size_t)n;
	}
	return 0;
}

/* The parent's half: the host file's bytes, at most 1 MiB. */
static int read_boot_script(const char *path, char **data, size_t *len, struct error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return error_set(err, errno, "boot script %s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > (1 << 20))
		return error_setmsg(err, EINVAL, "boot script %s: not a regular file of at most 1 MiB",
				    path);
	*data = malloc((size_t)st.st_size + 1);
	if (!*data)
		return error_set(err, ENOMEM, "boot script %s", path);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

static int child_redirect_stdio(int console_fd, struct error *err)
{
	cleanup_close int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0)
		return error_set(err, errno, "open /dev/null");
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(console_fd, STDOUT_FILENO) < 0 ||
	    dup2(console_fd, STDERR_FILENO) < 0)
		return error_set(err, errno, "redirect stdio to the console log");
	return 0;
}

/* Steps up to SYNC_READY, in order. */
static int child_build_root(const struct child_args *a, struct error *err)
{
	const struct container_config *cfg = a->cfg;
	int rc;

	if (a->netns_fd >= 0 && setns(a->netns_fd, CLONE_NEWNET) < 0)
		return error_set(err, errno, "join network namespace %s", cfg->netns_path);
	if (a->netns_fd >= 0)
		close(a->netns_fd);

	/* opened here, not inherited: a file opened in the parent's mount
	 * namespace cannot be the source of a bind mount in ours */
	cleanup_close int console_fd = open(cfg->console_path,
					    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (console_fd < 0)
		return error_set(err, errno, "open console log %s", cfg->console_path);

	int rootfs_tree = a->rootfs_tree, files_tree = a->files_tree;
	struct root_mounts pre;
	root_mounts_init(&pre);
	if ((rc = mounts_enter_overlay_root(a->overlay, &rootfs_tree, &files_tree, console_fd,
					    &pre, err)) < 0 ||
	    (rc = mounts_populate_root(&pre, err)) < 0 ||
	    (rc = child_set_hostname(cfg->hostname, err)) < 0 ||
	    (rc = child_write_boot_script(a, err)) < 0 ||
	    (rc = child_redirect_stdio(console_fd, err)) < 0) {
		root_mounts_release(&pre);
		return rc;
	}
	return 0;
}

/* A node cloned with CLONE_NEWUSER starts as the overflow id of an unmapped user
 * namespace: the parent writes its maps and sends the idmapped lower layers it
 * could only make after that (they need the mapped namespace). */
static int child_wait_mapped(struct child_args *a, struct error *err)
{
	struct sync_message msg;
	int fds[SYNC_MAX_FDS];
	size_t want = 1 + (a->cfg->extra_lower != NULL) + a->overlay->nlayers;
	ssize_t n = sync_receive_fds(a->sync_fd, &msg, fds, want);
	bool complete = n > 0 && msg.type == SYNC_MAPPED;
	for (size_t i = 0; i < want; i++)
		complete = complete && fds[i] >= 0;
	if (!complete) {
		for (size_t i = 0; i < want; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return n <= 0 ? -ECANCELED : error_setmsg(err, EPROTO, "unexpected id-map message");
	}
	size_t k = 0;
	a->rootfs_tree = fds[k++];
	if (a->cfg->extra_lower)
		a->files_tree = fds[k++];
	for (size_t i = 0; i < a->overlay->nlayers; i++)
		a->overlay->layer_tree[i] = fds[k++];
	return userns_become_root(err);
}

/* A node with CAP_SYS_ADMIN can create namespaces (FRR's netns VRFs), each a
 * piece of kernel memory that no cgroup fully accounts for: cap them in the
 * node's user namespace while we still hold CAP_SYS_RESOURCE there (the node
 * loses it, so cannot raise them), and allow no nested user namespace.  Writes
 * through the host's /proc, still ours before pivot_root; /proc/sys/user is
 * per user namespace whichever proc mount shows it. */
static int child_limit_namespaces(struct error *err)
{
	static const char *const kinds[] = { "net", "mnt", "pid", "uts", "ipc", "cgroup",
					     "time", "user" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char path[64], value[16];
		snprintf(path, sizeof(path), "/proc/sys/user/max_%s_namespaces", kinds[i]);
		int len = snprintf(value, sizeof(value), "%d\n",
				   strcmp(kinds[i], "user") == 0 ? 0 : CONTAINER_NAMESPACES_MAX);
		cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT)
			continue; /* a kernel without that kind of namespace */
		if (fd < 0 || write(fd, value, (size_t)len) != len)
			return error_set(err, errno, "limit namespaces: write %s", path);
	}
	return 0;
}

__attribute__((noreturn)) static void child_main(const struct child_args *args)
{
	struct error err = { 0 };
	struct child_args local = *args;
	struct child_args *a = &local;
	int fd = a->sync_fd;

	child_reset_process_state(a);

	if (a->fresh_userns) {
		int rc = child_wait_mapped(a, &err);
		if (rc == -ECANCELED)
			_exit(0); /* parent gone or gave up: leave quietly */
		if (rc < 0) {
			error_prefix(&err, "node %s", a->cfg->hostname);
			sync_send(fd, SYNC_ERROR, &err);
			_exit(1);
		}
	}
	if ((a->cfg->extra_capabilities && child_limit_namespaces(&err) < 0) ||
	    child_build_root(a, &err) < 0) {
		error_prefix(&err, "node %s", a->cfg->hostname);
		sync_send(fd, SYNC_ERROR, &err);
		_exit(1);
	}
	if (sync_send(fd, SYNC_READY, NULL) < 0)
		_exit(0);

	struct sync_message msg;
	ssize_t n = sync_receive(fd, &msg);
	if (n <= 0 || msg.type != SYNC_GO)
		_exit(0); /* parent gone or gave up: leave quietly */

	if (security_apply(a->cfg->extra_capabilities, &err) < 0) {
		error_prefix(&err, "node %s", a->cfg->hostname);
		sync_send(fd, SYNC_ERROR, &err);
		_exit(1);
	}
	umask(022);
	execve(a->argv[0], a->argv, a->envp);
	error_set(&err, errno, "node %s: execve %s", a->cfg->hostname, a->argv[0]);
	sync_send(fd, SYNC_ERROR, &err);
	_exit(127);
}

/* ---- parent side ----------------------------------------------------------- */

static void describe_wait_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "stopped (status 0x%x)", status);
}

static int validate_config(const struct container_config *cfg, struct error *err)
{
	if (!cfg->hostname || !cfg->rootfs || !cfg->node_dir || !cfg->console_path)
		return error_setmsg(err, EINVAL,
				    "container: hostname, rootfs, node_dir and console_path are required");
	size_t len = strlen(cfg->hostname);
	if (len == 0 || len > 64)
		return error_setmsg(err, EINVAL, "container: hostname '%s' must be 1..64 characters",
				    cfg->hostname);
	if (cfg->argv && !cfg->argv[0])
		return error_setmsg(err, EINVAL, "container %s: empty init command", cfg->hostname);
	return 0;
}

/* What the intermediate process tells the parent, in a shared anonymous page. */
struct spawn_report {
	pid_t pid;        /* the node's PID 1, > 0 on success */
	struct error err; /* otherwise */
};

__attribute__((noreturn)) static void spawn_intermediate(const struct child_args *a,
							 unsigned long flags,
							 struct spawn_report *report)
{
	if (userns_join(a->userns_fd, &report->err) < 0)
		_exit(1);
	/* A fork-style clone (no new stack): the child is PID 1 of the new pid
	 * namespace and continues right here on its copy of our stack. */
	pid_t pid = (pid_t)syscall(SYS_clone, flags | CLONE_PARENT, NULL, NULL, NULL, NULL);
	if (pid == 0)
		child_main(a);
	if (pid < 0) {
		error_set(&report->err, errno, "clone");
		_exit(1);
	}
	report->pid = pid;
	_exit(0);
}

/* The node's first process, a direct child of ours.  With a user namespace to
 * join (a node starting again in the one its kept netns belongs to), a short-lived
 * intermediate joins it first and clones with CLONE_PARENT, so that the
 * namespaces the clone creates are owned by it; otherwise we clone it ourselves
 * (with CLONE_NEWUSER for a fresh one): one process creation per node. */
static int spawn_child(const struct child_args *a, unsigned long flags, pid_t *child,
		       struct error *err)
{
	if (a->userns_fd < 0) {
		/* fork-style clone (no new stack): PID 1 of its new pid namespace,
		 * continuing here on its copy of our stack */
		pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
		if (pid == 0)
			child_main(a);
		if (pid < 0)
			return error_set(err, errno, "clone");
		*child = pid;
		return 0;
	}

	struct spawn_report *report = mmap(NULL, sizeof(*report), PROT_READ | PROT_WRITE,
					   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (report == MAP_FAILED)
		return error_set(err, errno, "mmap");
	memset(report, 0, sizeof(*report));
	int rc = 0;
	pid_t mid = fork();
	if (mid == 0)
		spawn_intermediate(a, flags, report);
	if (mid < 0) {
		rc = error_set(err, errno, "fork");
	} else {
		while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
			;
		if (report->pid > 0)
			*child = report->pid;
		else if (report->err.errnum)
			rc = error_setmsg(err, report->err.errnum, "%s", report->err.msg);
		else
			rc = error_setmsg(err, ECHILD, "the process starting the node died");
	}
	munmap(report, sizeof(*report));
	return rc;
}

/* The user namespace a node starting again in its kept netns runs in: the one
 * that owns that netns (-1 in *userns_fd: the node runs in ours, because its
 * netns was made without one).  A node's first start makes a fresh one in its
 * clone (container_create). */
static int kept_netns_userns(const struct container_config *cfg, int netns_fd,
			     int *userns_fd, struct error *err)
{
	int rc = userns_owner_of(netns_fd, userns_fd, err);
	if (rc < 0)
		return rc;
	if (*userns_fd >= 0 && cfg->id_count == 0) {
		close(*userns_fd);
		*userns_fd = -1;
		return error_setmsg(err, EINVAL, "its netns belongs to a user namespace, "
				    "but no id range was given");
	}
	return 0;
}

/* The child opens the log itself (see child_build_root); node root needs to own it. */
static int prepare_console(const char *path, uid_t owner, struct error *err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(err, errno, "open console log %s", path);
	if (owner != 0 && fchown(fd, owner, owner) < 0)
		return error_set(err, errno, "chown %s", path);
	return 0;
}

static int open_idmapped_lowers(const struct container_config *cfg, int userns_fd,
				int *rootfs_tree, int *files_tree, struct error *err)
{
	int rc = userns_idmapped_tree(cfg->rootfs, userns_fd, rootfs_tree, err);
	if (rc == 0 && cfg->extra_lower)
		rc = userns_idmapped_tree(cfg->extra_lower, userns_fd, files_tree, err);
	return rc;
}

/* A fresh node waits in its unmapped user namespace (child_wait_mapped): map its
 * ids, make the idmapped lower layers through its namespace, give node root the
 * log and the overlay dirs, and send it the layers. */
static int map_fresh_node(const struct container_config *cfg, const struct container *c,
			  struct overlay_plan *overlay, struct error *err)
{
	int rc = userns_write_maps(c->pid, cfg->id_base, cfg->id_count, err);
	if (rc < 0)
		return rc;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)c->pid);
	cleanup_close int userns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (userns_fd < 0)
		return error_set(err, errno, "open %s", path);
	cleanup_close int rootfs_tree = -1, files_tree = -1;
	/* the trees first: a caller retrying without ids (EOPNOTSUPP) must find
	 * nothing chowned yet */
	if ((rc = open_idmapped_lowers(cfg, userns_fd, &rootfs_tree, &files_tree, err)) < 0 ||
	    (rc = overlay_plan_open_layers(overlay, userns_fd, err)) < 0 ||
	    (rc = prepare_console(cfg->console_path, cfg->id_base, err)) < 0 ||
	    (rc = overlay_prepare_dirs(overlay, cfg->id_base, err)) < 0)
		return rc;
	/* in the order child_wait_mapped takes them: rootfs, files=, feed layers */
	int fds[SYNC_MAX_FDS];
	size_t n = 0;
	fds[n++] = rootfs_tree;
	if (files_tree >= 0)
		fds[n++] = files_tree;
	for (size_t i = 0; i < overlay->nlayers; i++)
		fds[n++] = overlay->layer_tree[i];
	rc = sync_send_fds(c->sync_fd, SYNC_MAPPED, fds, n);
	if (rc < 0)
		return error_set(err, -rc, "container process %d: send the id map", (int)c->pid);
	return 0;
}

int container_create(const struct container_config *cfg, struct container *c,
		     struct error *err)
{
	static char *const default_argv[] = { "/sbin/init", NULL };
	static char *const empty_envp[] = { NULL };
	int rc;

	c->pid = -1;
	c->sync_fd = -1;
	if ((rc = validate_config(cfg, err)) < 0)
		return rc;
	/* compiled once in the parent; every child inherits the program */
	if ((rc = security_prepare(err)) < 0)
		return rc;

	cleanup_close int netns_fd = -1, userns_fd = -1;
	cleanup_close int rootfs_tree = -1, files_tree = -1;
	if (cfg->netns_path) {
		netns_fd = open(cfg->netns_path, O_RDONLY | O_CLOEXEC);
		if (netns_fd < 0)
			return error_set(err, errno, "container %s: open netns %s", cfg->hostname,
					 cfg->netns_path);
		if ((rc = kept_netns_userns(cfg, netns_fd, &userns_fd, err)) < 0)
			return error_prefix(err, "container %s", cfg->hostname);
	}
	/* a first start with ids: the clone makes the user namespace */
	bool fresh = netns_fd < 0 && cfg->id_count > 0;
	bool mapped = fresh || userns_fd >= 0;
	if (cfg->extra_capabilities & ~container_optional_capability_mask())
		return error_setmsg(err, EINVAL, "container %s: capabilities 0x%llx cannot be given",
				    cfg->hostname, (unsigned long long)cfg->extra_capabilities);
	/* without a user namespace CAP_SYS_ADMIN would be the host's */
	if (cfg->extra_capabilities && !mapped)
		return error_setmsg(err, EPERM, "container %s: CAP_SYS_ADMIN is given only to a node "
				    "in its own user namespace, and this one has none",
				    cfg->hostname);

	cleanup_free char *boot_script = NULL;
	size_t boot_script_len = 0;
	if (cfg->boot_script &&
	    (rc = read_boot_script(cfg->boot_script, &boot_script, &boot_script_len, err)) < 0)
		return error_prefix(err, "container %s", cfg->hostname);

	struct overlay_plan overlay;
	if ((rc = overlay_plan_init(&overlay, cfg->rootfs, cfg->extra_lower, cfg->node_dir,
				    mapped, err)) < 0)
		return error_prefix(err, "container %s", cfg->hostname);
	if ((rc = overlay_plan_add_layers(&overlay, cfg->layers, cfg->node_dir, mapped, err)) < 0)
		goto out;
	if (!fresh) {
		/* the trees first, as in map_fresh_node */
		if (mapped && ((rc = open_idmapped_lowers(cfg, userns_fd, &rootfs_tree,
							  &files_tree, err)) < 0 ||
			       (rc = overlay_plan_open_layers(&overlay, userns_fd, err)) < 0))
			goto out;
		/* node root (a mapped id) may not create files in the node dir: the
		 * log and the overlay dirs are made here, with our credentials */
		if ((rc = prepare_console(cfg->console_path, mapped ? cfg->id_base : 0, err)) < 0 ||
		    (rc = overlay_prepare_dirs(&overlay, mapped ? cfg->id_base : 0, err)) < 0)
			goto out;
	}

	int sync_pair[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pair) < 0) {
		rc = error_set(err, errno, "socketpair");
		goto out;
	}

	struct child_args args = {
		.cfg = cfg,
		.overlay = &overlay,
		.argv = cfg->argv ? cfg->argv : default_argv,
		.envp = cfg->envp ? cfg->envp : empty_envp,
		.sync_fd = sync_pair[1],
		.netns_fd = netns_fd,
		.rootfs_tree = rootfs_tree,
		.files_tree = files_tree,
		.userns_fd = userns_fd,
		.fresh_userns = fresh,
		.boot_script = boot_script,
		.boot_script_len = boot_script_len,
	};
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
	if (netns_fd < 0)
		flags |= CLONE_NEWNET;
	if (fresh)
		flags |= CLONE_NEWUSER; /* made first: it owns the others */
	pid_t pid = -1;
	rc = spawn_child(&args, flags, &pid, err);
	close(sync_pair[1]);
	if (rc < 0) {
		close(sync_pair[0]);
		goto out;
	}
	c->pid = pid;
	c->sync_fd = sync_pair[0];
	if (fresh && (rc = map_fresh_node(cfg, c, &overlay, err)) < 0)
		container_destroy(c);
out:
	overlay_plan_free(&overlay);
	if (rc < 0)
		error_prefix(err, "container %s", cfg->hostname);
	return rc;
}

/* After the child reported failure or vanished: reap it and describe it. */
static int fail_and_destroy(struct container *c, const struct sync_message *msg,
			    ssize_t received, const char *step, struct error *err)
{
	int rc;
	if (received > 0 && msg->type == SYNC_ERROR) {
		rc = error_setmsg(err, msg->errnum > 0 ? msg->errnum : EINVAL, "%s", msg->text);
	} else if (received == 0) {
		int status = 0;
		char what[96] = "vanished";
		pid_t pid = c->pid;
		if (pid > 0 && waitpid(pid, &status, 0) == pid) {
			describe_wait_status(status, what, sizeof(what));
			c->pid = -1;
		}
		rc = error_setmsg(err, ECHILD, "container process %d %s while %s", (int)pid, what, step);
	} else if (received < 0) {
		rc = error_set(err, (int)-received, "container process %d: read sync socket while %s",
			       (int)c->pid, step);
	} else {
		rc = error_setmsg(err, EPROTO, "container process %d: unexpected sync message %u while %s",
				  (int)c->pid, msg->type, step);
	}
	container_destroy(c);
	return rc;
}

int container_wait_ready(struct container *c, struct error *err)
{
	if (c->pid <= 0 || c->sync_fd < 0)
		return error_setmsg(err, EINVAL, "container_wait_ready: no container being created");
	struct sync_message msg;
	ssize_t n = sync_receive(c->sync_fd, &msg);
	if (n > 0 && msg.type == SYNC_READY)
		return 0;
	return fail_and_destroy(c, &msg, n, "setting up", err);
}

int container_start(struct container *c, struct error *err)
{
	if (c->pid <= 0 || c->sync_fd < 0)
		return error_setmsg(err, EINVAL, "container_start: no container waiting to start");
	int rc = sync_send(c->sync_fd, SYNC_GO, NULL);
	if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET) {
		error_set(err, -rc, "container process %d: send go", (int)c->pid);
		container_destroy(c);
		return rc;
	}
	/* on EPIPE the child is gone: the receive below sees EOF and reports it */
	struct sync_message msg;
	ssize_t n = sync_receive(c->sync_fd, &msg);
	if (n == 0 && rc == 0) {
		/* EOF: the close-on-exec sync fd went away in a successful execve */
		close(c->sync_fd);
		c->sync_fd = -1;
		return 0;
	}
	return fail_and_destroy(c, &msg, n, "starting init", err);
}

void container_release(struct container *c)
{
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	c->sync_fd = -1;
	c->pid = -1;
}

void container_destroy(struct container *c)
{
	if (c->pid > 0) {
		/* SIGKILL of a pid namespace's init takes every process in it along */
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->pid = -1;
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	c->sync_fd = -1;
}

uint64_t container_capability_mask(void)
{
	return security_capability_mask();
}

const char *const *container_capability_names(void)
{
	return security_capability_names();
}

uint64_t container_optional_capability_mask(void)
{
	return security_optional_capability_mask();
}

/* ---- entering a running node ----------------------------------------------- */

/* Joined in this order; a user namespace would go first (it decides what the
 * capabilities mean for the others). */
static const struct {
	const char *name;
	int nstype;
} entered_namespaces[] = {
	/* user first: the others are owned by it, so joining them takes its
	 * capabilities; mnt last: after it, /proc/PID paths would resolve inside
	 * the node */
	{ "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
	{ "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};
#define ENTERED_COUNT (sizeof(entered_namespaces) / sizeof(entered_namespaces[0]))

/* Everything the two forked processes need, prepared by the caller; they read it
 * in their copy of its memory. */
struct enter_plan {
	pid_t init_pid;
	uint64_t extra_capabilities; /* those of the node's PID 1 beyond the kept set */
	int ns_fds[ENTERED_COUNT];
	int report_fd;      /* the processes' end of the report socket */
	char *const *argv;
	char *const *envp;
	struct relay relay; /* the command's stdio */
};

__attribute__((noreturn)) static void enter_fail(const struct enter_plan *plan, struct error *err)
{
	sync_send(plan->report_fd, SYNC_ERROR, err);
	_exit(127);
}

/* Nothing the operator's shell set up (ignored signals: nohup's SIGHUP, a
 * blocked mask) passes into the node. */
static void reset_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The command's process: inside the node's pid namespace.  Never returns. */
__attribute__((noreturn)) static void enter_exec(const struct enter_plan *plan)
{
	struct error err = { 0 };
	extern char **environ;

	reset_signals();
	if (chdir("/") < 0) {
		error_set(&err, errno, "chdir / inside the node");
		enter_fail(plan, &err);
	}
	if (relay_attach_command(&plan->relay, &err) < 0 ||
	    security_apply(plan->extra_capabilities, &err) < 0)
		enter_fail(plan, &err);
	/* the caller's other descriptors stay out of the node */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* execvp searches the PATH of `environ`, and that must be the node's */
	environ = (char **)plan->envp;
	execvp(plan->argv[0], plan->argv);
	error_set(&err, errno, "execute %s inside the node", plan->argv[0]);
	enter_fail(plan, &err);
}

/* Signals for the intermediate process go on to the command's process group
 * (its own session), where a terminal would have sent them. */
static volatile pid_t command_pid;

static void forward_to_command(int sig)
{
	pid_t pid = command_pid;
	if (pid > 0 && kill(-pid, sig) < 0)
		kill(pid, sig); /* not yet its own group leader */
}

static const int forwarded_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
#define FORWARDED_COUNT (sizeof(forwarded_signals) / sizeof(forwarded_signals[0]))

static void forward_signals(sigset_t *blocked)
{
	sigemptyset(blocked);
	for (size_t i = 0; i < FORWARDED_COUNT; i++)
		sigaddset(blocked, forwarded_signals[i]);
	struct sigaction sa = { .sa_handler = forward_to_command, .sa_mask = *blocked };
	for (size_t i = 0; i < FORWARDED_COUNT; i++)
		sigaction(forwarded_signals[i], &sa, NULL);
}

/* The intermediate process: joins the namespaces (so the caller does not), forks
 * the command into the pid namespace and passes its exit status on. */
__attribute__((noreturn)) static void enter_join_and_run(struct enter_plan *plan)
{
	struct error err = { 0 };

	/* Before anything of the node can see us or our children: a non-dumpable
	 * process's /proc/PID/{exe,environ,mem,cwd,root,fd} need CAP_SYS_PTRACE over
	 * our (the host's) user namespace, and it cannot be ptraced by node root.
	 * fork() passes it on; the command's execve resets it for the node's own
	 * program. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		error_set(&err, errno, "prctl(PR_SET_DUMPABLE, 0)");
		enter_fail(plan, &err);
	}
	relay_close_relay_side(&plan->relay);
	for (size_t i = 0; i < ENTERED_COUNT; i++) {
		if (entered_namespaces[i].nstype == CLONE_NEWUSER) {
			/* a node without one shares ours, and setns to it is EINVAL */
			if (!userns_is_own(plan->ns_fds[i]) && userns_join(plan->ns_fds[i], &err) < 0)
				enter_fail(plan, &err);
			continue;
		}
		if (setns(plan->ns_fds[i], entered_namespaces[i].nstype) < 0) {
			error_set(&err, errno, "join %s namespace of process %d",
				  entered_namespaces[i].name, (int)plan->init_pid);
			enter_fail(plan, &err);
		}
	}
	/* Becoming root of the node's user namespace changed our uids, and the
	 * kernel then resets dumpable to fs.suid_dumpable (1 on some hosts): clear
	 * it again before the node can see us. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		error_set(&err, errno, "prctl(PR_SET_DUMPABLE, 0)");
		enter_fail(plan, &err);
	}

	if (plan->relay.mode == RELAY_PTY) {
		int master = -1;
		int rc = relay_open_node_pty(&plan->relay, &master, &err);
		if (rc == 0 && (rc = sync_send_fds(plan->report_fd, SYNC_PTY, &master, 1)) < 0)
			error_set(&err, -rc, "pass the pty to netsim");
		if (master >= 0)
			close(master);
		if (rc < 0)
			enter_fail(plan, &err);
	}

	sigset_t forwarded, previous;
	forward_signals(&forwarded);
	sigprocmask(SIG_BLOCK, &forwarded, &previous);
	pid_t pid = fork();
	if (pid < 0) {
		error_set(&err, errno, "fork inside the node");
		enter_fail(plan, &err);
	}
	if (pid == 0)
		enter_exec(plan);
	command_pid = pid;
	sigprocmask(SIG_SETMASK, &previous, NULL);
	close(plan->report_fd);
	relay_close_node_side(&plan->relay);

	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			_exit(127);
	}
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

/* TERM passes into a pty session only, and only as a plain terminal name: the
 * value lands in the node's environment and in its programs' output. */
static void node_term(char *buf, size_t size, enum relay_mode mode)
{
	const char *term = getenv("TERM");
	size_t len = term ? strlen(term) : 0;
	bool plain = len > 0 && len < 64 &&
		     strspn(term, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") == len;
	snprintf(buf, size, "TERM=%s", mode == RELAY_PTY && plain ? term : "dumb");
}

static int open_namespaces(struct enter_plan *plan, struct error *err)
{
	for (size_t i = 0; i < ENTERED_COUNT; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)plan->init_pid,
			 entered_namespaces[i].name);
		plan->ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (plan->ns_fds[i] < 0)
			return error_set(err, errno, "open %s", path);
	}
	/* A command gets what the node's PID 1 was given (so `exec` can restart
	 * FRR), read from its bounding set, which node root can only shrink; and
	 * never without a user namespace of the node's own. */
	if (userns_is_own(plan->ns_fds[0]))
		return 0;
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)plan->init_pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return error_set(err, errno, "open %s", path);
	unsigned long long bounding = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapBnd: %llx", &bounding) == 1)
			break;
	fclose(f);
	plan->extra_capabilities = bounding & container_optional_capability_mask();
	return 0;
}

/* In the caller: wait for the report (EOF once the command's execve closed it),
 * relay while the command runs, collect its status. */
static int enter_wait(struct enter_plan *plan, int report_fd, pid_t pid, int *exit_status,
		      struct error *err)
{
	struct sync_message msg;
	int passed, rc = 0;
	ssize_t n = sync_receive_fds(report_fd, &msg, &passed, 1);
	if (n > 0 && msg.type == SYNC_PTY && passed >= 0 && plan->relay.mode == RELAY_PTY) {
		rc = relay_attach_master(&plan->relay, passed, err);
		n = sync_receive_fds(report_fd, &msg, &passed, 1);
	}
	if (passed >= 0)
		close(passed); /* not asked for */
	if (rc == 0 && n > 0 && msg.type == SYNC_ERROR)
		rc = error_setmsg(err, msg.errnum > 0 ? msg.errnum : EINVAL, "%s", msg.text);
	else if (rc == 0 && n != 0)
		rc = error_setmsg(err, EPROTO, "unexpected report from the node's process");
	else if (rc == 0)
		rc = relay_run(&plan->relay, pid, err);
	if (rc < 0)
		kill(pid, SIGTERM); /* the intermediate passes it to the command, if any */
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0)
		*exit_status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	return rc;
}

static int enter_node(pid_t init_pid, char *const argv[], char *const envp[],
		      enum relay_mode mode, int *exit_status, struct error *err)
{
	struct enter_plan plan = { .init_pid = init_pid, .argv = argv, .envp = envp, .report_fd = -1 };
	int report_pair[2] = { -1, -1 };
	int rc;

	if (!argv || !argv[0])
		return error_setmsg(err, EINVAL, "container_enter: empty command");
	for (size_t i = 0; i < ENTERED_COUNT; i++)
		plan.ns_fds[i] = -1;

	char term[96];
	node_term(term, sizeof(term), mode);
	char *default_envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", term, NULL };
	if (!plan.envp)
		plan.envp = default_envp;

	if ((rc = open_namespaces(&plan, err)) < 0 || (rc = security_prepare(err)) < 0)
		goto out_ns;
	if ((rc = relay_open(&plan.relay, mode, err)) < 0)
		goto out_ns;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, report_pair) < 0) {
		rc = error_set(err, errno, "socketpair");
		goto out_relay;
	}
	plan.report_fd = report_pair[1];

	/* Like system(3): the terminal's Ctrl-C is for the command, not for us (the
	 * intermediate process passes it on). */
	struct sigaction ignore = { .sa_handler = SIG_IGN }, caller_sigint, caller_sigquit;
	sigaction(SIGINT, &ignore, &caller_sigint);
	sigaction(SIGQUIT, &ignore, &caller_sigquit);

	pid_t pid = fork();
	if (pid == 0) {
		close(report_pair[0]);
		enter_join_and_run(&plan);
	}
	int fork_errno = errno;
	close(report_pair[1]);
	relay_close_node_side(&plan.relay);
	if (pid < 0)
		rc = error_set(err, fork_errno, "fork");
	else
		rc = enter_wait(&plan, report_pair[0], pid, exit_status, err);
	close(report_pair[0]);
	sigaction(SIGINT, &caller_sigint, NULL);
	sigaction(SIGQUIT, &caller_sigquit, NULL);
out_relay:
	relay_free(&plan.relay);
out_ns:
	for (size_t i = 0; i < ENTERED_COUNT; i++) {
		if (plan.ns_fds[i] >= 0)
			close(plan.ns_fds[i]);
	}
	if (rc < 0)
		error_prefix(err, "enter node of process %d", (int)init_pid);
	return rc;
}

int container_enter(pid_t init_pid, char *const argv[], char *const envp[],
		    int *exit_status, struct error *err)
{
	return enter_node(init_pid, argv, envp, RELAY_PIPES, exit_status, err);
}

int container_enter_tty(pid_t init_pid, char *const argv[], char *const envp[],
			int *exit_status, struct error *err)
{
	return enter_node(init_pid, argv, envp, RELAY_PTY, exit_status, err);
}
