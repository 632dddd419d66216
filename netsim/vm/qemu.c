/* The QEMU backend (see qemu.h): initrd assembly, TAP + tc mirred join, QEMU
 * start/stop inside the node's netns, and the guest agent client. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "../../rootfs/vm/agent.h"
#include "cleanup.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "process.h"
#include "vm/qemu.h"

#define PATH_LEN 4096

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int run_path(char *buf, const char *run_dir, const char *leaf)
{
	int n = snprintf(buf, PATH_LEN, "%s/%s", run_dir, leaf);
	return n < 0 || n >= PATH_LEN ? -ENAMETOOLONG : 0;
}

/* ---- finding things ------------------------------------------------------ */

const char *qemu_kernel_dir(void)
{
	static char dir[PATH_LEN];
	const char *env = getenv("NETSIM_KERNEL_DIR");
	if (env && *env)
		return env;
	/* build/netsim -> build/kernel; PREFIX/bin/netsim -> PREFIX/share/netsim/kernel */
	char exe[PATH_LEN];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "/usr/local/share/netsim/kernel";
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../share/netsim/kernel", exe);
	if (access(dir, F_OK) == 0)
		return dir;
	snprintf(dir, sizeof(dir), "%s/kernel", exe);
	return dir;
}

static int find_qemu(char *out, struct error *err)
{
	const char *env = getenv("NETSIM_QEMU");
	if (env && *env) {
		if (access(env, X_OK) < 0)
			return error_set(err, errno, "NETSIM_QEMU=%s", env);
		snprintf(out, PATH_LEN, "%s", env);
		return 0;
	}
	const char *path = getenv("PATH");
	cleanup_free char *copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		return error_set(err, ENOMEM, "PATH");
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, PATH_LEN, "%s/%s", dir, QEMU_BINARY);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return error_setmsg(err, ENOENT, "%s not found in PATH: install the Debian package "
			    "qemu-system-x86 (apt-get install qemu-system-x86)", QEMU_BINARY);
}

/* The kernel dir has what `make kernel` writes, and every asked module. */
static int check_kernel(const char *dir, const char *const *modules, struct error *err)
{
	char path[PATH_LEN];
	static const char *const files[] = { "vmlinuz", "initramfs.cpio.gz", "modules" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (access(path, R_OK) < 0)
			return error_setmsg(err, ENOENT, "no kernel for QEMU nodes (%s: %s): run "
					    "`make kernel`", path, strerror(errno));
	}
	if (!modules)
		return 0;
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return error_set(err, errno, "%s", path);
	cleanup_free char *have = NULL;
	size_t size = 0;
	if (getdelim(&have, &size, '\0', f) < 0)
		return error_set(err, EIO, "%s: empty", path);
	for (const char *const *m = modules; *m; m++) {
		char want[128];
		snprintf(want, sizeof(want), "%s", *m);
		for (char *p = want; *p; p++)
			if (*p == '-')
				*p = '_';
		bool found = false;
		for (char *line = have; line && *line;) {
			char *end = strchr(line, '\n');
			size_t len = end ? (size_t)(end - line) : strlen(line);
			if (len == strlen(want) && strncmp(line, want, len) == 0)
				found = true;
			line = end ? end + 1 : NULL;
		}
		if (!found)
			return error_setmsg(err, ENOENT, "kernel module %s is not in %s/initramfs.cpio.gz: "
					    "add it to KERNEL_MODULES in rootfs/build-kernel.sh and run "
					    "`make kernel`", *m, dir);
	}
	return 0;
}

/* *chosen: the caller did not ask for one (so falling back is ours to do). */
static const char *pick_accel(const char *asked, bool *chosen)
{
	const char *env = getenv("NETSIM_QEMU_ACCEL");
	*chosen = false;
	if (asked && *asked)
		return asked;
	if (env && *env)
		return env;
	*chosen = true;
	/* /dev/kvm can exist without being usable (no permission, nested virt off). */
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "tcg";
	close(fd);
	return "kvm";
}

/* ---- the initrd ----------------------------------------------------------- */

static int archive_fail(struct error *err, struct archive *a, const char *what)
{
	int errnum = archive_errno(a) > 0 ? archive_errno(a) : EIO;
	const char *msg = archive_error_string(a);
	return error_setmsg(err, errnum, "%s: %s", what, msg ? msg : strerror(errnum));
}

/* One directory tree into the cpio, paths relative to `dir`.  Hard links are
 * written as separate files (nlink 1): the kernel's unpacker would otherwise
 * need every link to carry the same inode number. */
static int add_tree(struct archive *out, const char *dir, unsigned *ino, struct error *err)
{
	struct archive *disk = archive_read_disk_new();
	struct archive_entry *entry = archive_entry_new();
	size_t prefix = strlen(dir);
	int ret = 0;
	if (!disk || !entry) {
		ret = error_set(err, ENOMEM, "%s", dir);
		goto out;
	}
	archive_read_disk_set_symlink_physical(disk);
	if (archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS) != ARCHIVE_OK ||
	    archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		ret = archive_fail(err, disk, dir);
		goto out;
	}
	for (;;) {
		archive_entry_clear(entry);
		int r = archive_read_next_header2(disk, entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = archive_fail(err, disk, dir);
			goto out;
		}
		archive_read_disk_descend(disk);
		const char *path = archive_entry_pathname(entry);
		if (strncmp(path, dir, prefix) != 0)
			continue;
		path += prefix;
		while (*path == '/')
			path++;
		mode_t type = archive_entry_filetype(entry);
		if (!*path || (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK))
			continue;
		cleanup_free char *rel = strdup(path);
		if (!rel) {
			ret = error_set(err, ENOMEM, "%s", dir);
			goto out;
		}
		archive_entry_set_pathname(entry, rel);
		archive_entry_set_nlink(entry, type == AE_IFDIR ? 2 : 1);
		archive_entry_set_ino(entry, ++*ino);
		archive_entry_set_uname(entry, NULL);
		archive_entry_set_gname(entry, NULL);
		if (type != AE_IFREG && type != AE_IFLNK)
			archive_entry_set_size(entry, 0);
		if (archive_write_header(out, entry) < ARCHIVE_WARN) {
			ret = archive_fail(err, out, rel);
			goto out;
		}
		if (type != AE_IFREG)
			continue;
		char buf[65536];
		for (;;) {
			la_ssize_t n = archive_read_data(disk, buf, sizeof(buf));
			if (n < 0) {
				ret = archive_fail(err, disk, rel);
				goto out;
			}
			if (n == 0)
				break;
			if (archive_write_data(out, buf, (size_t)n) < 0) {
				ret = archive_fail(err, out, rel);
				goto out;
			}
		}
	}
out:
	if (entry)
		archive_entry_free(entry);
	if (disk)
		archive_read_free(disk);
	return ret;
}

int qemu_write_rootfs_cpio(int fd, const char *rootfs_dir, const char *files_dir,
			   struct error *err)
{
	struct archive *out = archive_write_new();
	unsigned ino = 0;
	int ret = 0;
	if (!out)
		return error_set(err, ENOMEM, "archive_write_new");
	/* Uncompressed: under TCG the guest's gunzip costs more than copying. */
	if (archive_write_set_format_cpio_newc(out) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(out, 512) != ARCHIVE_OK ||
	    archive_write_open_fd(out, fd) != ARCHIVE_OK) {
		ret = archive_fail(err, out, "cpio");
		goto out;
	}
	if ((ret = add_tree(out, rootfs_dir, &ino, err)) < 0 ||
	    (files_dir && (ret = add_tree(out, files_dir, &ino, err)) < 0))
		goto out;
	if (archive_write_close(out) != ARCHIVE_OK)
		ret = archive_fail(err, out, "cpio");
out:
	archive_write_free(out);
	return ret;
}

/* base initramfs (gzip'd cpio) + zero padding to 4 bytes (the kernel looks for
 * the next archive's header only at 4-byte offsets) + the rootfs cpio. */
static int write_initrd(const struct qemu_node_config *cfg, const char *kernel_dir,
			const char *path, struct error *err)
{
	char base[PATH_LEN];
	snprintf(base, sizeof(base), "%s/initramfs.cpio.gz", kernel_dir);
	cleanup_close int in = open(base, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return error_set(err, errno, "%s", base);
	cleanup_close int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return error_set(err, errno, "create %s", path);
	char buf[65536];
	size_t total = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0)
			return error_set(err, errno, "read %s", base);
		if (n == 0)
			break;
		if (write(out, buf, (size_t)n) != n)
			return error_set(err, errno, "write %s", path);
		total += (size_t)n;
	}
	static const char zeros[4];
	size_t pad = (4 - total % 4) % 4;
	if (pad && write(out, zeros, pad) != (ssize_t)pad)
		return error_set(err, errno, "write %s", path);
	int ret = qemu_write_rootfs_cpio(out, cfg->rootfs_dir, cfg->files_dir, err);
	if (ret < 0)
		return error_prefix(err, "rootfs %s as cpio", cfg->rootfs_dir);
	return 0;
}

/* ---- TAPs and the tc join ------------------------------------------------- */

/* A non-persistent TAP: it lives as long as an fd to it (ours, then QEMU's). */
static int tap_open(const char *name, struct error *err)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open /dev/net/tun");
	struct ifreq ifr = { 0 };
	/* VNET_HDR lets QEMU pass offloaded (unsegmented, unchecksummed) frames. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return error_set(err, e, "create TAP %s", name);
	}
	return fd;
}

static int link_configure(const char *ifname, unsigned mtu, struct error *err)
{
	cleanup_close int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	if (sock < 0)
		return error_set(err, errno, "socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
			return error_set(err, errno, "%s: set MTU %u", ifname, mtu);
	}
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return error_set(err, errno, "%s", ifname);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return error_set(err, errno, "%s: set up", ifname);
	/* The host side of the join only forwards: no addresses, no IPv6 chatter
	 * (router solicitations, DAD) mixing with the guest's frames. */
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* best effort */
		}
		close(fd);
	}
	return 0;
}

static int nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_EXIST: return EEXIST;
	case NLE_OBJ_NOTFOUND: return ENOENT;
	case NLE_NODEV: return ENODEV;
	case NLE_PERM: return EPERM;
	case NLE_NOMEM: return ENOMEM;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_INVAL: return EINVAL;
	default: return EIO;
	}
}

/* Every frame arriving on `from` leaves through `to`: ingress qdisc on `from`
 * (replacing one left by an earlier run) and a match-all u32 filter whose action is
 * mirred egress redirect to `to`.  Runs with the socket inside the netns. */
static int redirect_all(struct nl_sock *sock, int from, int to, const char *label,
			struct error *err)
{
	struct rtnl_qdisc *qdisc = rtnl_qdisc_alloc();
	struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	int ret = 0, r;
	if (!qdisc || !cls || !act) {
		ret = error_set(err, ENOMEM, "%s", label);
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(qdisc), from);
	rtnl_tc_set_parent(TC_CAST(qdisc), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(qdisc), TC_H_MAKE(0xffffU << 16, 0));
	rtnl_tc_set_kind(TC_CAST(qdisc), "ingress");
	rtnl_qdisc_delete(sock, qdisc);  /* none there is the usual case */
	if ((r = rtnl_qdisc_add(sock, qdisc, NLM_F_CREATE | NLM_F_EXCL)) < 0) {
		ret = error_setmsg(err, nl_errno(r), "%s: ingress qdisc: %s (needs sch_ingress)",
				   label, nl_geterror(r));
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(cls), from);
	rtnl_tc_set_parent(TC_CAST(cls), TC_H_MAKE(0xffffU << 16, 0));
	rtnl_tc_set_kind(TC_CAST(cls), "u32");
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	rtnl_cls_set_prio(cls, 1);
	rtnl_tc_set_kind(TC_CAST(act), "mirred");
	rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
	rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
	rtnl_mirred_set_ifindex(act, (uint32_t)to);
	/* u32 "match u32 0 0 at 0" matches everything, like matchall, which hosts
	 * lack more often than u32. */
	if ((r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
	    (r = rtnl_u32_set_cls_terminal(cls)) < 0 ||
	    (r = rtnl_u32_add_action(cls, act)) < 0 ||
	    (r = rtnl_cls_add(sock, cls, NLM_F_CREATE | NLM_F_EXCL)) < 0)
		ret = error_setmsg(err, nl_errno(r), "%s: u32 filter with mirred redirect: %s "
				   "(needs cls_u32 and act_mirred)", label, nl_geterror(r));
out:
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	if (qdisc)
		rtnl_qdisc_put(qdisc);
	return ret;
}

/* In the node netns: one TAP per NIC, up with the veth's MTU, joined to it both
 * ways.  tap_fds[i] gets NIC i's TAP. */
static int join_nics(const struct qemu_node_config *cfg, int ns_fd, int *tap_fds,
		     struct error *err)
{
	int saved = -1, ret;
	struct nl_sock *sock = NULL;
	if ((ret = netns_enter(ns_fd, &saved, err)) < 0)
		return ret;
	sock = nl_socket_alloc();
	if (!sock || nl_connect(sock, NETLINK_ROUTE) < 0) {
		ret = error_set(err, sock ? ECONNREFUSED : ENOMEM, "rtnetlink socket");
		goto out;
	}
	for (unsigned i = 0; i < cfg->n_nics; i++) {
		const char *veth = cfg->nics[i].ifname;
		char tap[IFNAMSIZ];
		snprintf(tap, sizeof(tap), "tap%u", i);
		unsigned veth_index = if_nametoindex(veth);
		if (!veth_index) {
			ret = error_set(err, errno, "link end %s in %s", veth, cfg->netns_path);
			goto out;
		}
		/* (ioctl, not sysfs: /sys shows the netns it was mounted in) */
		unsigned mtu = 0;
		int ioctl_sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr = { 0 };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", veth);
		if (ioctl_sock >= 0 && ioctl(ioctl_sock, SIOCGIFMTU, &ifr) == 0)
			mtu = (unsigned)ifr.ifr_mtu;
		if (ioctl_sock >= 0)
			close(ioctl_sock);
		if ((tap_fds[i] = tap_open(tap, err)) < 0) {
			ret = tap_fds[i];
			goto out;
		}
		unsigned tap_index = if_nametoindex(tap);
		char label[64];
		snprintf(label, sizeof(label), "join %s with %s", veth, tap);
		if ((ret = link_configure(tap, mtu, err)) < 0 ||
		    (ret = link_configure(veth, 0, err)) < 0 ||
		    (ret = redirect_all(sock, (int)veth_index, (int)tap_index, label, err)) < 0 ||
		    (ret = redirect_all(sock, (int)tap_index, (int)veth_index, label, err)) < 0)
			goto out;
	}
out:
	if (sock)
		nl_socket_free(sock);
	struct error leave_err;
	if (netns_leave(&saved, &leave_err) < 0 && ret == 0) {
		*err = leave_err;
		ret = -leave_err.errnum;
	}
	return ret;
}

/* ---- the QEMU process ----------------------------------------------------- */

struct argv_builder {
	char *argv[128];
	int argc;
};

static int arg(struct argv_builder *b, struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int arg(struct argv_builder *b, struct error *err, const char *fmt, ...)
{
	va_list ap;
	if (b->argc >= (int)(sizeof(b->argv) / sizeof(b->argv[0])) - 1)
		return error_setmsg(err, E2BIG, "too many QEMU arguments");
	va_start(ap, fmt);
	int n = vasprintf(&b->argv[b->argc], fmt, ap);
	va_end(ap);
	if (n < 0)
		return error_set(err, ENOMEM, "QEMU arguments");
	b->argv[++b->argc] = NULL;
	return 0;
}

static void argv_free(struct argv_builder *b)
{
	for (int i = 0; i < b->argc; i++)
		free(b->argv[i]);
	b->argc = 0;
}

static int build_argv(const struct qemu_node_config *cfg, const char *qemu, const char *kernel_dir,
		      const char *accel, const int *tap_fds, struct argv_builder *b,
		      struct error *err)
{
	char path[PATH_LEN];
	cleanup_free char *cmdline = NULL;
	size_t cmdline_size = 0;
	FILE *c = open_memstream(&cmdline, &cmdline_size);
	if (!c)
		return error_set(err, ENOMEM, "kernel command line");
	/* quiet: the console log stays readable and TCG boots faster without
	 * printing at 115200 baud; panic=-1 with -no-reboot makes a guest panic end
	 * QEMU, which start and status notice. */
	fprintf(c, "console=ttyS0 quiet panic=-1 rdinit=/netsim/init netsim.node=%s", cfg->name);
	if (cfg->init)
		fprintf(c, " netsim.init=%s", cfg->init);
	for (unsigned i = 0; i < cfg->n_nics; i++) {
		const uint8_t *m = cfg->nics[i].mac;
		fprintf(c, " netsim.nic=%02x:%02x:%02x:%02x:%02x:%02x,%s", m[0], m[1], m[2], m[3],
			m[4], m[5], cfg->nics[i].ifname);
	}
	for (const char *const *e = cfg->env; e && *e; e++) {
		/* Unknown NAME=VALUE words become init's environment; a space would
		 * split the word. */
		if (strchr(*e, ' ') || !strchr(*e, '=')) {
			fclose(c);
			return error_setmsg(err, EINVAL, "environment %s: must be NAME=VALUE without spaces", *e);
		}
		fprintf(c, " %s", *e);
	}
	if (fclose(c) != 0)
		return error_set(err, ENOMEM, "kernel command line");

	int ret = 0;
	bool kvm = strcmp(accel, "kvm") == 0;
#define ARG(...) do { if ((ret = arg(b, err, __VA_ARGS__)) < 0) return ret; } while (0)
	ARG("%s", qemu);
	ARG("-name");
	ARG("%s", cfg->name);
	ARG("-machine");
	ARG("pc");
	/* TCG's translation cache defaults to 1 GiB (of which a guest this small
	 * touches a fraction, but all of it is reserved); 64 MiB is plenty for
	 * one router and keeps QEMU's footprint near the guest's own memory. */
	ARG("-accel");
	ARG("%s", kvm ? "kvm" : "tcg,tb-size=64");
	ARG("-cpu");
	ARG("%s", kvm ? "host" : "max");
	ARG("-m");
	ARG("%uM", cfg->memory_mib ? cfg->memory_mib : QEMU_DEFAULT_MEMORY_MIB);
	ARG("-smp");
	ARG("%u", cfg->cpus ? cfg->cpus : 1);
	ARG("-nodefaults");
	ARG("-no-user-config");
	ARG("-display");
	ARG("none");
	ARG("-no-reboot");
	ARG("-kernel");
	ARG("%s/vmlinuz", kernel_dir);
	run_path(path, cfg->run_dir, "initrd");
	ARG("-initrd");
	ARG("%s", path);
	ARG("-append");
	ARG("%s", cmdline);
	/* The console: a unix socket `netsim console` attaches to, logged to a file
	 * whether or not anyone is attached. */
	char log[PATH_LEN];
	run_path(path, cfg->run_dir, "console.sock");
	run_path(log, cfg->run_dir, "console.log");
	ARG("-chardev");
	ARG("socket,id=console,path=%s,server=on,wait=off,logfile=%s,logappend=on", path, log);
	ARG("-serial");
	ARG("chardev:console");
	run_path(path, cfg->run_dir, "agent.sock");
	ARG("-device");
	ARG("virtio-serial-pci,id=vser");
	ARG("-chardev");
	ARG("socket,id=agent,path=%s,server=on,wait=off", path);
	ARG("-device");
	ARG("virtserialport,bus=vser.0,chardev=agent,name=%s", AGENT_PORT_NAME);
	for (unsigned i = 0; i < cfg->n_nics; i++) {
		const uint8_t *m = cfg->nics[i].mac;
		ARG("-netdev");
		ARG("tap,id=net%u,fd=%d", i, tap_fds[i]);
		ARG("-device");
		ARG("virtio-net-pci,netdev=net%u,mac=%02x:%02x:%02x:%02x:%02x:%02x", i, m[0], m[1],
		    m[2], m[3], m[4], m[5]);
	}
#undef ARG
	return 0;
}

static int write_pidfile(const char *run_dir, pid_t pid, struct error *err)
{
	char path[PATH_LEN], tmp[PATH_LEN + 8];
	run_path(path, run_dir, "qemu.pid");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return error_set(err, errno, "create %s", tmp);
	fprintf(f, "%d %llu\n", (int)pid, process_starttime(pid));
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return error_set(err, errno, "write %s", path);
	return 0;
}

pid_t qemu_node_pid(const char *run_dir)
{
	char path[PATH_LEN];
	if (run_path(path, run_dir, "qemu.pid") < 0)
		return 0;
	cleanup_fclose FILE *f = fopen(path, "re");
	int pid;
	unsigned long long start;
	if (!f || fscanf(f, "%d %llu", &pid, &start) != 2 || pid <= 0)
		return 0;
	if (process_starttime(pid) != start)
		return 0;
	/* A zombie is gone for our purposes. */
	char stat_path[64], state = 0;
	snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", pid);
	cleanup_fclose FILE *s = fopen(stat_path, "re");
	if (s && fscanf(s, "%*d (%*[^)]) %c", &state) == 1 && state == 'Z')
		return 0;
	return pid;
}

/* Forks twice so that QEMU is nobody's child here: `up` may exit, and a
 * long-lived caller collects no zombies.  The grandchild enters the netns and
 * execs QEMU; the pipe tells us its pid, then its exec errno or (at EOF) success. */
static int spawn_qemu(char *const argv[], int ns_fd, const int *tap_fds, unsigned n_taps,
		      const char *log_path, pid_t *out, struct error *err)
{
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe");
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return error_set(err, e, "fork");
	}
	if (child == 0) {
		close(pipe_fds[0]);
		setsid();
		pid_t grandchild = fork();
		if (grandchild != 0) {
			if (grandchild > 0)
				(void)!write(pipe_fds[1], &grandchild, sizeof(grandchild));
			_exit(grandchild > 0 ? 0 : 1);
		}
		int e = 0;
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (setns(ns_fd, CLONE_NEWNET) < 0 || null < 0 || log < 0 ||
		    dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			e = errno;
		/* QEMU inherits exactly stdio and the TAPs. */
		if (!e)
			close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		for (unsigned i = 0; !e && i < n_taps; i++)
			if (fcntl(tap_fds[i], F_SETFD, 0) < 0)
				e = errno;
		signal(SIGPIPE, SIG_DFL);
		if (!e) {
			execv(argv[0], argv);
			e = errno;
		}
		(void)!write(pipe_fds[1], &e, sizeof(e));
		_exit(127);
	}
	close(pipe_fds[1]);
	waitpid(child, NULL, 0);
	pid_t pid = 0;
	int e = 0;
	ssize_t n = read(pipe_fds[0], &pid, sizeof(pid));
	if (n != sizeof(pid)) {
		close(pipe_fds[0]);
		return error_setmsg(err, ECHILD, "starting %s: the helper process failed", argv[0]);
	}
	n = read(pipe_fds[0], &e, sizeof(e));
	close(pipe_fds[0]);
	if (n == sizeof(e)) {
		return error_set(err, e, "exec %s", argv[0]);
	}
	*out = pid;
	return 0;
}

/* The last `lines` lines of a file after byte `from`, indented, for error
 * messages (console.log is appended to across boots). */
static void file_tail(const char *path, off_t from, int lines, char *out, size_t size)
{
	out[0] = '\0';
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	static char buf[8192];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	if (start < from)
		start = from;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, start);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *p = buf + n;
	int seen = 0;
	while (p > buf && seen < lines)
		if (*--p == '\n')
			seen++;
	if (*p == '\n')
		p++;
	size_t used = 0;
	for (char *line = p; line && *line && used + 8 < size;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		while (len && line[len - 1] == '\r')
			len--;
		used += (size_t)snprintf(out + used, size - used, "\n  %.*s", (int)len, line);
		line = nl ? nl + 1 : NULL;
	}
}

static void kill_and_wait(pid_t pid, int grace_ms)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	long long deadline = now_ms() + grace_ms;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", pid);
	unsigned long long start = process_starttime(pid);
	while (start && process_starttime(pid) == start && now_ms() < deadline)
		usleep(20000);
	if (start && process_starttime(pid) == start) {
		kill(pid, SIGKILL);
		/* Not our child: wait for the kernel (and its reaper) to finish it. */
		for (int i = 0; i < 250 && process_starttime(pid) == start; i++)
			usleep(20000);
	}
}

int qemu_node_stop(const char *run_dir, struct error *err)
{
	(void)err;
	pid_t pid = qemu_node_pid(run_dir);
	kill_and_wait(pid, 3000);
	static const char *const leaves[] = { "qemu.pid", "console.sock", "agent.sock", "initrd" };
	char path[PATH_LEN];
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		if (run_path(path, run_dir, leaves[i]) == 0)
			unlink(path);
	return 0;
}

/* One boot with `accel`; all or nothing.  -ECHILD when QEMU exited on its own. */
static int boot(const struct qemu_node_config *cfg, const char *qemu, const char *kernel_dir,
		const char *accel, struct qemu_vm *vm, struct error *err)
{
	char path[PATH_LEN];
	struct argv_builder b = { .argc = 0 };
	int tap_fds[64];
	unsigned n_taps = 0;
	cleanup_close int ns_fd = -1;
	pid_t pid = 0;
	int ret;

	if (cfg->n_nics > sizeof(tap_fds) / sizeof(tap_fds[0]))
		return error_setmsg(err, E2BIG, "at most %zu links for a QEMU node",
				    sizeof(tap_fds) / sizeof(tap_fds[0]));
	snprintf(vm->accel, sizeof(vm->accel), "%s", accel);
	qemu_node_stop(cfg->run_dir, err);  /* what an earlier run may have left */
	struct stat st;
	run_path(path, cfg->run_dir, "console.log");
	off_t console_start = stat(path, &st) == 0 ? st.st_size : 0;
	run_path(path, cfg->run_dir, "qemu.log");
	off_t qemu_log_start = stat(path, &st) == 0 ? st.st_size : 0;

	run_path(path, cfg->run_dir, "initrd");
	if ((ret = write_initrd(cfg, kernel_dir, path, err)) < 0)
		goto fail;
	if ((ns_fd = netns_open(cfg->netns_path, err)) < 0) {
		ret = ns_fd;
		goto fail;
	}
	for (unsigned i = 0; i < cfg->n_nics; i++)
		tap_fds[i] = -1;
	n_taps = cfg->n_nics;
	if ((ret = join_nics(cfg, ns_fd, tap_fds, err)) < 0 ||
	    (ret = build_argv(cfg, qemu, kernel_dir, accel, tap_fds, &b, err)) < 0)
		goto fail;
	run_path(path, cfg->run_dir, "qemu.log");
	long long started = now_ms();
	if ((ret = spawn_qemu(b.argv, ns_fd, tap_fds, n_taps, path, &pid, err)) < 0 ||
	    (ret = write_pidfile(cfg->run_dir, pid, err)) < 0)
		goto fail;
	/* QEMU has its own copies of the TAP fds now. */
	for (unsigned i = 0; i < n_taps; i++)
		close(tap_fds[i]);
	n_taps = 0;

	unsigned timeout = cfg->boot_timeout_ms ? cfg->boot_timeout_ms
						: strcmp(accel, "kvm") == 0 ? 60000 : 120000;
	long long deadline = started + timeout;
	for (;;) {
		struct error ping_err = { 0 };
		if (qemu_node_pid(cfg->run_dir) != pid) {
			char qemu_tail[2048], console_tail[2048];
			run_path(path, cfg->run_dir, "qemu.log");
			file_tail(path, qemu_log_start, 5, qemu_tail, sizeof(qemu_tail));
			run_path(path, cfg->run_dir, "console.log");
			file_tail(path, console_start, 10, console_tail, sizeof(console_tail));
			ret = error_setmsg(err, ECHILD, "QEMU exited during boot; its output:%s\n"
					   "last console lines:%s", qemu_tail[0] ? qemu_tail : " (none)",
					   console_tail[0] ? console_tail : " (none)");
			goto fail;
		}
		long long left = deadline - now_ms();
		if (left <= 0) {
			char console_tail[2048];
			run_path(path, cfg->run_dir, "console.log");
			file_tail(path, console_start, 10, console_tail, sizeof(console_tail));
			ret = error_setmsg(err, ETIMEDOUT, "VM not up within %u s (%s); last console lines:%s",
					   timeout / 1000, accel, console_tail[0] ? console_tail : " (none)");
			goto fail;
		}
		if (qemu_agent_ping(cfg->run_dir, left < 2000 ? (int)left : 2000, &ping_err) == 0)
			break;
		usleep(100000);
	}
	vm->pid = pid;
	vm->boot_ms = now_ms() - started;
	argv_free(&b);
	return 0;

fail:
	for (unsigned i = 0; i < n_taps; i++)
		if (tap_fds[i] >= 0)
			close(tap_fds[i]);
	argv_free(&b);
	if (pid > 0)
		kill_and_wait(pid, 0);
	struct error ignored;
	qemu_node_stop(cfg->run_dir, &ignored);
	return ret;
}

int qemu_check(const char *kernel_dir, const char *const *modules, struct error *err)
{
	char qemu[PATH_LEN];
	int ret = find_qemu(qemu, err);
	return ret < 0 ? ret : check_kernel(kernel_dir ? kernel_dir : qemu_kernel_dir(), modules, err);
}

int qemu_node_start(const struct qemu_node_config *cfg, struct qemu_vm *vm, struct error *err)
{
	char qemu[PATH_LEN];
	const char *kernel_dir = cfg->kernel_dir ? cfg->kernel_dir : qemu_kernel_dir();
	bool chosen;
	int ret;

	memset(vm, 0, sizeof(*vm));
	if ((ret = find_qemu(qemu, err)) < 0 || (ret = check_kernel(kernel_dir, cfg->modules, err)) < 0)
		return error_prefix(err, "node %s", cfg->name);
	const char *accel = pick_accel(cfg->accel, &chosen);
	if (strcmp(accel, "kvm") != 0 && strcmp(accel, "tcg") != 0)
		return error_setmsg(err, EINVAL, "node %s: accelerator %s: expected kvm or tcg",
				    cfg->name, accel);
	ret = boot(cfg, qemu, kernel_dir, accel, vm, err);
	/* A /dev/kvm that opens is not always a KVM that runs a guest (nested
	 * virtualisation without the MSRs QEMU sets: it aborts at once).  When we
	 * chose KVM ourselves, TCG is the answer. */
	if (ret == -ECHILD && chosen && strcmp(accel, "kvm") == 0) {
		error_clear(err);
		ret = boot(cfg, qemu, kernel_dir, "tcg", vm, err);
	}
	return ret < 0 ? error_prefix(err, "node %s", cfg->name) : 0;
}

/* ---- the agent client ----------------------------------------------------- */

struct agent_conn {
	int fd;
	long long deadline;   /* 0: none */
	unsigned char buf[AGENT_HEADER_SIZE + AGENT_MAX_PAYLOAD];
	size_t have;
};

static int conn_wait(struct agent_conn *c, short events, struct error *err)
{
	for (;;) {
		int timeout = -1;
		if (c->deadline) {
			long long left = c->deadline - now_ms();
			if (left <= 0)
				return error_setmsg(err, ETIMEDOUT, "guest agent: no answer in time");
			timeout = (int)left;
		}
		struct pollfd p = { .fd = c->fd, .events = events };
		int r = poll(&p, 1, timeout);
		if (r < 0 && errno != EINTR)
			return error_set(err, errno, "guest agent: poll");
		if (r > 0)
			return 0;
	}
}

static int send_frame(struct agent_conn *c, int type, const void *payload, size_t len,
		      struct error *err)
{
	unsigned char header[AGENT_HEADER_SIZE] = { (unsigned char)type, 0,
						    (unsigned char)(len >> 8), (unsigned char)len };
	struct iovec iov[2] = { { header, sizeof(header) }, { (void *)payload, len } };
	size_t total = sizeof(header) + len, sent = 0;
	while (sent < total) {
		int ret = conn_wait(c, POLLOUT, err);
		if (ret < 0)
			return ret;
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return error_set(err, errno, "guest agent: send");
		}
		sent += (size_t)n;
		/* advance the iovecs past what went out */
		size_t skip = (size_t)n;
		for (int i = 0; i < 2; i++) {
			size_t k = skip < iov[i].iov_len ? skip : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			skip -= k;
		}
	}
	return 0;
}

/* Next frame: *type, payload in c->buf + header, *len.  Blocks (up to the
 * deadline); `other_fd` readable makes it return 1 with no frame. */
static int read_frame(struct agent_conn *c, int other_fd, int *type, size_t *len,
		      struct error *err)
{
	for (;;) {
		if (c->have >= AGENT_HEADER_SIZE) {
			size_t need = ((size_t)c->buf[2] << 8 | c->buf[3]) + AGENT_HEADER_SIZE;
			if (c->have >= need) {
				*type = c->buf[0];
				*len = need - AGENT_HEADER_SIZE;
				return 0;
			}
		}
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN }, { .fd = other_fd, .events = POLLIN } };
		int timeout = -1;
		if (c->deadline) {
			long long left = c->deadline - now_ms();
			if (left <= 0)
				return error_setmsg(err, ETIMEDOUT, "guest agent: no answer in time");
			timeout = (int)left;
		}
		int r = poll(p, other_fd >= 0 ? 2 : 1, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, errno, "guest agent: poll");
		}
		if (r == 0)
			continue;
		if (p[0].revents) {
			ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				return error_set(err, errno, "guest agent: read");
			if (n == 0)
				return error_setmsg(err, ECONNRESET, "guest agent: QEMU closed the connection");
			if (n > 0)
				c->have += (size_t)n;
			continue;
		}
		if (other_fd >= 0 && p[1].revents)
			return 1;
	}
}

static void consume_frame(struct agent_conn *c, size_t len)
{
	size_t used = AGENT_HEADER_SIZE + len;
	memmove(c->buf, c->buf + used, c->have - used);
	c->have -= used;
}

/* Connect and say hello; everything before the echo of our nonce is stale
 * output for an earlier client (agent.h). */
static int agent_connect(const char *run_dir, int timeout_ms, struct agent_conn *c,
			 struct error *err)
{
	char path[PATH_LEN];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	run_path(path, run_dir, "agent.sock");
	if (strlen(path) >= sizeof(addr.sun_path))
		return error_setmsg(err, ENAMETOOLONG, "%s: path too long for a unix socket", path);
	strcpy(addr.sun_path, path);
	c->have = 0;
	c->deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return error_set(err, errno, "socket");
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return error_set(err, errno, "guest agent: connect %s", path);
	unsigned char hello[1 + 8];
	hello[0] = AGENT_VERSION;
	if (getrandom(hello + 1, 8, 0) != 8) {
		long long t = now_ms() ^ getpid();
		memcpy(hello + 1, &t, 8);
	}
	int ret = send_frame(c, AGENT_HELLO, hello, sizeof(hello), err);
	while (ret == 0) {
		int type;
		size_t len;
		if ((ret = read_frame(c, -1, &type, &len, err)) < 0)
			break;
		bool mine = type == AGENT_HELLO && len == sizeof(hello) &&
			    memcmp(c->buf + AGENT_HEADER_SIZE, hello, len) == 0;
		consume_frame(c, len);
		if (mine)
			return 0;
	}
	return ret;
}

int qemu_agent_ping(const char *run_dir, int timeout_ms, struct error *err)
{
	struct agent_conn c = { .fd = -1 };
	int ret = agent_connect(run_dir, timeout_ms, &c, err);
	if (c.fd >= 0)
		close(c.fd);
	return ret;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int qemu_agent_exec(const char *run_dir, char *const argv[], int in_fd, int out_fd, int err_fd,
		    int timeout_ms, int *status, struct error *err)
{
	struct agent_conn c = { .fd = -1 };
	static unsigned char args[AGENT_MAX_PAYLOAD];
	size_t len = 0;
	int ret;

	for (char *const *a = argv; *a; a++) {
		size_t n = strlen(*a) + 1;
		if (len + n > sizeof(args))
			return error_setmsg(err, E2BIG, "command too long for the guest agent");
		memcpy(args + len, *a, n);
		len += n;
	}
	if (len == 0)
		return error_setmsg(err, EINVAL, "empty command");
	if ((ret = agent_connect(run_dir, timeout_ms, &c, err)) < 0 ||
	    (ret = send_frame(&c, AGENT_EXEC, args, len, err)) < 0 ||
	    (in_fd < 0 && (ret = send_frame(&c, AGENT_STDIN_EOF, NULL, 0, err)) < 0))
		goto out;
	for (;;) {
		int type;
		size_t flen;
		ret = read_frame(&c, in_fd, &type, &flen, err);
		if (ret < 0)
			goto out;
		if (ret == 1) {
			/* our stdin has something for the command */
			unsigned char buf[16384];
			ssize_t n = read(in_fd, buf, sizeof(buf));
			if (n <= 0) {
				in_fd = -1;
				ret = send_frame(&c, AGENT_STDIN_EOF, NULL, 0, err);
			} else {
				ret = send_frame(&c, AGENT_STDIN, buf, (size_t)n, err);
			}
			if (ret < 0)
				goto out;
			continue;
		}
		const unsigned char *payload = c.buf + AGENT_HEADER_SIZE;
		if (type == AGENT_STDOUT || type == AGENT_STDERR) {
			int fd = type == AGENT_STDOUT ? out_fd : err_fd;
			if (fd >= 0)
				write_all(fd, payload, flen);
		} else if (type == AGENT_EXIT && flen == 2) {
			*status = payload[0] ? 128 + payload[1] : payload[1];
			consume_frame(&c, flen);
			ret = 0;
			goto out;
		}
		consume_frame(&c, flen);
	}
out:
	if (c.fd >= 0)
		close(c.fd);
	return ret;
}
