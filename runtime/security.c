/* Capabilities and seccomp for node processes.
 *
 * Capabilities a node keeps (everything else is removed from the bounding,
 * effective, permitted, inheritable and ambient sets):
 *
 *   CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID
 *   CAP_SETUID CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN
 *   CAP_NET_RAW CAP_SYS_CHROOT CAP_SETFCAP CAP_AUDIT_WRITE
 *
 * That is what routing daemons and an OpenWrt userland need (NET_ADMIN for
 * addresses/routes/sysctls of the node's own netns, NET_RAW for ping and raw
 * sockets, SETUID/SETGID for daemons dropping to their users).  Dropped on purpose,
 * among others: SYS_ADMIN (procd would otherwise mount a tmpfs over our /dev, and it
 * is the key to most escapes), SYS_MODULE, SYS_BOOT, SYS_TIME, SYS_RAWIO, MKNOD,
 * DAC_READ_SEARCH (open_by_handle_at escape), SYS_PTRACE, BPF, PERFMON, and the
 * three that reach past the node's cgroup (docs/security.md, "Resource limits"):
 * SYS_NICE (nice -20 and realtime priorities starve the host's own processes),
 * IPC_LOCK (mlock beyond RLIMIT_MEMLOCK) and SYS_RESOURCE (raising the hard
 * RLIMIT_NICE/RTPRIO/MEMLOCK netsim sets gives the first two back).
 *
 * One more may be given per node (security_optional_capability_mask()):
 * CAP_SYS_ADMIN, which FRR's daemons insist on holding (privs_init), and only to
 * a node in its own user namespace, where it means "admin of the node's own
 * namespaces": the kernel checks everything that reaches the host against the
 * initial user namespace, and the filesystem half (mount, pivot_root,
 * open_by_handle_at) stays refused by the filter below (docs/security.md,
 * "CAP_SYS_ADMIN for FRR").
 *
 * Seccomp: default allow; the syscalls in blocked_syscalls[] fail with EPERM;
 * clone/unshare with CLONE_NEWUSER fail with EPERM (a user namespace would hand back
 * a full capability set over new namespaces); clone3 fails with ENOSYS so libc
 * falls back to clone, whose flags we can inspect; ioctl(TIOCSTI) and
 * ioctl(TIOCLINUX) fail with EPERM and socket(AF_VSOCK) with EAFNOSUPPORT
 * (blocked_by_argument[]).  docs/security.md lists the whole set and why. */
#include "security.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <seccomp.h>
#include <string.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"

static const cap_value_t kept_capabilities[] = {
	CAP_CHOWN,        CAP_DAC_OVERRIDE, CAP_FOWNER,           CAP_FSETID,
	CAP_KILL,         CAP_SETGID,       CAP_SETUID,           CAP_SETPCAP,
	CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST, CAP_NET_ADMIN,   CAP_NET_RAW,
	CAP_SYS_CHROOT,   CAP_SETFCAP,      CAP_AUDIT_WRITE,
};
#define KEPT_COUNT (sizeof(kept_capabilities) / sizeof(kept_capabilities[0]))

static const char *const kept_capability_names[] = {
	"CAP_CHOWN",        "CAP_DAC_OVERRIDE", "CAP_FOWNER",        "CAP_FSETID",
	"CAP_KILL",         "CAP_SETGID",       "CAP_SETUID",        "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_SYS_CHROOT",   "CAP_SETFCAP",      "CAP_AUDIT_WRITE",   NULL,
};

/* Names, not numbers, so syscalls that only exist on the 32-bit x86 ABI (umount,
 * stime, the *64 time calls) are covered there too; libseccomp maps each name per
 * architecture and skips it where it does not exist. */
static const char *const blocked_syscalls[] = {
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"reboot", "open_by_handle_at", "bpf", "keyctl", "add_key", "request_key",
	"swapon", "swapoff", "acct", "settimeofday", "stime", "clock_settime",
	"clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex",
	"userfaultfd", "perf_event_open", "quotactl", "quotactl_fd", "lookup_dcookie",
	"pivot_root", "mount", "umount", "umount2",
	/* the new mount API is mount(2) by other means; open_tree(OPEN_TREE_CLONE)
	 * is a bind mount, of one mount without what is mounted over parts of it */
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "mount_setattr", "open_tree",
};

uint64_t security_optional_capability_mask(void)
{
	return UINT64_C(1) << CAP_SYS_ADMIN;
}

uint64_t security_capability_mask(void)
{
	uint64_t mask = 0;
	for (size_t i = 0; i < KEPT_COUNT; i++)
		mask |= UINT64_C(1) << kept_capabilities[i];
	return mask;
}

const char *const *security_capability_names(void)
{
	return kept_capability_names;
}

/* The compiled filter; static so that clone()d children inherit it for free. */
static struct sock_filter compiled_filter[BPF_MAXINSNS];
static unsigned short compiled_filter_len;

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* Calls refused by one argument.  The argument is compared on its low 32 bits
 * only: ioctl's request and socket's family are `int`s for the kernel, which
 * ignores the upper half of the register, so a 64-bit comparison could be passed
 * by setting high bits (the snapd TIOCSTI bypass, CVE-2019-7303). */
static const struct {
	const char *syscall;
	unsigned int arg;       /* argument index */
	uint32_t value;
	int errnum;
	const char *why;
} blocked_by_argument[] = {
	/* push bytes into a terminal's input queue: keystrokes into the shell of
	 * whoever owns the terminal */
	{ "ioctl", 1, TIOCSTI, EPERM, "TIOCSTI" },
	/* console selection paste and friends: the same, on a virtual console */
	{ "ioctl", 1, TIOCLINUX, EPERM, "TIOCLINUX" },
	/* virtio-vsock talks to the hypervisor or the host's vsock services, not
	 * to the node's network namespace */
	{ "socket", 0, AF_VSOCK, EAFNOSUPPORT, "AF_VSOCK" },
};

/* `multiplexed`: the architecture reaches socket() through socketcall(2) too
 * (32-bit x86), whose arguments sit in memory; libseccomp would turn a socket rule
 * into "every socketcall(SYS_SOCKET)" there, so that architecture gets no socket
 * rule rather than no sockets. */
static int add_argument_rules(scmp_filter_ctx ctx, bool multiplexed, struct error *err)
{
	for (size_t i = 0; i < sizeof(blocked_by_argument) / sizeof(blocked_by_argument[0]); i++) {
		if (multiplexed && strcmp(blocked_by_argument[i].syscall, "socket") == 0)
			continue;
		int nr = seccomp_syscall_resolve_name(blocked_by_argument[i].syscall);
		struct scmp_arg_cmp cmp = {
			.arg = blocked_by_argument[i].arg,
			.op = SCMP_CMP_MASKED_EQ,
			.datum_a = UINT32_MAX,
			.datum_b = blocked_by_argument[i].value,
		};
		int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(blocked_by_argument[i].errnum),
						nr, 1, &cmp);
		if (rc < 0)
			return error_set(err, -rc, "seccomp: rule for %s(%s)",
					 blocked_by_argument[i].syscall, blocked_by_argument[i].why);
	}
	return 0;
}

/* Every rule, for the architectures ctx holds. */
static int add_rules(scmp_filter_ctx ctx, bool multiplexed, struct error *err)
{
	int rc;

	for (size_t i = 0; i < sizeof(blocked_syscalls) / sizeof(blocked_syscalls[0]); i++) {
		int nr = seccomp_syscall_resolve_name(blocked_syscalls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp: nothing to block */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (rc < 0)
			return error_set(err, -rc, "seccomp: rule for %s", blocked_syscalls[i]);
	}

	static const char *const namespace_creators[] = { "clone", "unshare" };
	for (size_t i = 0; i < 2; i++) {
		int nr = seccomp_syscall_resolve_name(namespace_creators[i]);
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
		if (rc < 0)
			return error_set(err, -rc, "seccomp: rule for %s", namespace_creators[i]);
	}

	if ((rc = add_argument_rules(ctx, multiplexed, err)) < 0)
		return rc;

	/* clone3 passes its flags in memory, which seccomp cannot read */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), seccomp_syscall_resolve_name("clone3"), 0);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: rule for clone3");

	/* Loaded while CAP_SYS_ADMIN is still effective, so no_new_privs is not needed
	 * and setuid programs inside the node keep working. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: clear no_new_privs attribute");
	return 0;
}

/* 32-bit x86 in a context of its own, merged into ctx: see add_argument_rules. */
static int add_x86_filter(scmp_filter_ctx ctx, struct error *err)
{
	__attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx x86 = seccomp_init(SCMP_ACT_ALLOW);
	if (!x86)
		return error_setmsg(err, ENOMEM, "seccomp: cannot initialise the x86 filter");
	int rc = seccomp_arch_add(x86, SCMP_ARCH_X86);
	if (rc < 0 && rc != -EEXIST)
		return error_set(err, -rc, "seccomp: add x86 architecture");
	if ((rc = seccomp_arch_remove(x86, SCMP_ARCH_NATIVE)) < 0)
		return error_set(err, -rc, "seccomp: x86 filter without the native architecture");
	if ((rc = add_rules(x86, true, err)) < 0)
		return rc;
	if ((rc = seccomp_merge(ctx, x86)) < 0)
		return error_set(err, -rc, "seccomp: merge the x86 filter");
	x86 = NULL; /* merged: owned by ctx now */
	return 0;
}

static int build_filter(scmp_filter_ctx ctx, struct error *err)
{
	int rc;
	if ((rc = add_rules(ctx, false, err)) < 0)
		return rc;
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		/* 32-bit and x32 processes must not bypass the filter */
		rc = seccomp_arch_add(ctx, SCMP_ARCH_X32);
		if (rc < 0 && rc != -EEXIST)
			return error_set(err, -rc, "seccomp: add x32 architecture");
		if ((rc = add_x86_filter(ctx, err)) < 0)
			return rc;
	}
	return 0;
}

int security_prepare(struct error *err)
{
	if (compiled_filter_len > 0)
		return 0;

	__attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return error_setmsg(err, ENOMEM, "seccomp: cannot initialise filter");
	int rc = build_filter(ctx, err);
	if (rc < 0)
		return rc;

	/* libseccomp 2.5 exports only to a file descriptor */
	cleanup_close int memfd = memfd_create("netsim-seccomp", MFD_CLOEXEC);
	if (memfd < 0)
		return error_set(err, errno, "seccomp: memfd_create");
	rc = seccomp_export_bpf(ctx, memfd);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: compile filter");
	off_t size = lseek(memfd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
	    size > (off_t)sizeof(compiled_filter))
		return error_setmsg(err, EINVAL, "seccomp: compiled filter has an unexpected size (%lld bytes)",
				    (long long)size);
	ssize_t n = pread(memfd, compiled_filter, (size_t)size, 0);
	if (n != size)
		return error_set(err, n < 0 ? errno : EIO, "seccomp: read compiled filter");
	compiled_filter_len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

int security_apply(uint64_t extra, struct error *err)
{
	int rc = security_prepare(err);
	if (rc < 0)
		return rc;
	if (extra & ~security_optional_capability_mask())
		return error_setmsg(err, EINVAL, "capabilities 0x%llx cannot be given to a node",
				    (unsigned long long)(extra & ~security_optional_capability_mask()));

	uint64_t keep = security_capability_mask() | extra;
	cap_value_t last = cap_max_bits(); /* number of capabilities this kernel knows */
	for (cap_value_t cap = 0; cap < last; cap++) {
		if (cap < 64 && (keep & (UINT64_C(1) << cap)))
			continue;
		if (cap_drop_bound(cap) < 0 && errno != EINVAL)
			return error_set(err, errno, "drop capability %d from the bounding set", cap);
	}

	struct sock_fprog prog = { .len = compiled_filter_len, .filter = compiled_filter };
	/* prctl rather than seccomp(2): same effect, and memory checkers know it */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return error_set(err, errno, "install seccomp filter");

	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return error_set(err, errno, "clear ambient capabilities");

	/* Only what we hold can be kept: a host that already lacks one of the kept
	 * capabilities (a sandbox without CAP_NET_ADMIN) passes on the rest. */
	cap_t current = cap_get_proc();
	if (!current)
		return error_set(err, errno, "cap_get_proc");
	cap_value_t keep_now[64];
	int keep_now_count = 0;
	for (cap_value_t cap = 0; cap < 64; cap++) {
		cap_flag_value_t held = CAP_CLEAR;
		if ((keep & (UINT64_C(1) << cap)) &&
		    cap_get_flag(current, cap, CAP_PERMITTED, &held) == 0 && held == CAP_SET)
			keep_now[keep_now_count++] = cap;
	}
	cap_free(current);

	cap_t caps = cap_init(); /* all three sets empty */
	if (!caps)
		return error_set(err, errno, "cap_init");
	/* Inheritable stays empty: a non-empty inheritable set lets unprivileged
	 * programs with file capabilities gain them (CVE-2022-24769). */
	if ((keep_now_count > 0 &&
	     (cap_set_flag(caps, CAP_PERMITTED, keep_now_count, keep_now, CAP_SET) < 0 ||
	      cap_set_flag(caps, CAP_EFFECTIVE, keep_now_count, keep_now, CAP_SET) < 0)) ||
	    cap_set_proc(caps) < 0) {
		int saved = errno;
		cap_free(caps);
		return error_set(err, saved, "set capabilities");
	}
	cap_free(caps);
	return 0;
}
