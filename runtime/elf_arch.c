/* A node's init: which machine, and can this host run it (elf_arch.h). */
#include "elf_arch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

#define HEADER_LEN 128   /* every binfmt magic netsim has seen fits (qemu's: 40) */
#define SCRIPT_DEPTH 4

static uint32_t get16(const unsigned char *p, bool big)
{
	return big ? (uint32_t)(p[0] << 8 | p[1]) : (uint32_t)(p[1] << 8 | p[0]);
}

static uint32_t get32(const unsigned char *p, bool big)
{
	return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		   : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

struct machine {
	unsigned number;
	const char *name;     /* little-endian, 32-bit / the only one */
	const char *name_be;  /* big-endian, or NULL = same */
	const char *name_64;  /* 64-bit little-endian, or NULL = same */
	const char *name_64be;
	const char *label;
};

static const struct machine machines[] = {
	{ 2, "sparc", NULL, "sparc64", NULL, "SPARC" },
	{ 3, "i386", NULL, NULL, NULL, "x86" },
	{ 4, "m68k", NULL, NULL, NULL, "m68k" },
	{ 8, "mipsel", "mips", "mips64el", "mips64", "MIPS" },
	{ 15, "hppa", NULL, NULL, NULL, "PA-RISC" },
	{ 20, "ppc", NULL, NULL, NULL, "PowerPC" },
	{ 21, "ppc64le", "ppc64", "ppc64le", "ppc64", "PowerPC64" },
	{ 22, "s390x", NULL, NULL, NULL, "S/390" },
	{ 40, "arm", "armeb", NULL, NULL, "ARM" },
	{ 42, "sh4", "sh4eb", NULL, NULL, "SuperH" },
	{ 43, "sparc64", NULL, NULL, NULL, "SPARC V9" },
	{ 62, "x32", NULL, "x86_64", NULL, "x86-64" },
	{ 92, "or1k", NULL, NULL, NULL, "OpenRISC" },
	{ 94, "xtensa", "xtensaeb", NULL, NULL, "Xtensa" },
	{ 183, "aarch64", "aarch64_be", "aarch64", "aarch64_be", "AArch64" },
	{ 189, "microblazeel", "microblaze", NULL, NULL, "MicroBlaze" },
	{ 243, "riscv32", NULL, "riscv64", NULL, "RISC-V" },
	{ 258, "loongarch32", NULL, "loongarch64", NULL, "LoongArch" },
	{ 0x9026, "alpha", NULL, NULL, NULL, "Alpha" },
};

static const char *mips_isa(uint32_t flags)
{
	static const char *const isa[16] = { "mips1", "mips2", "mips3", "mips4", "mips5",
		"mips32", "mips64", "mips32r2", "mips64r2", "mips32r6", "mips64r6" };
	const char *s = isa[flags >> 28];
	return s ? s : "mips?";
}

static void describe_flags(struct elf_arch *a, unsigned machine, bool is64, uint32_t flags,
			   size_t used)
{
	char *out = a->detail + used;
	size_t left = sizeof(a->detail) - used;
	if (machine == 8) {
		const char *abi = is64 ? "n64" : (flags & 0x20) ? "n32" : "o32";
		snprintf(out, left, ", %s, %s%s", mips_isa(flags), abi,
			 (flags & 0x400) ? ", nan2008" : "");
		if (!is64 && (flags & 0x20)) /* n32: qemu's own binary and entry */
			snprintf(a->name, sizeof(a->name), "%s",
				 strcmp(a->name, "mips") == 0 ? "mipsn32" : "mipsn32el");
	} else if (machine == 40) {
		unsigned eabi = flags >> 24;
		snprintf(out, left, ", EABI%u%s", eabi,
			 (flags & 0x400) ? ", hard-float" : (flags & 0x200) ? ", soft-float" : "");
	}
}

int elf_arch_parse(const unsigned char *hdr, size_t len, struct elf_arch *a)
{
	memset(a, 0, sizeof(*a));
	if (len < 52 || memcmp(hdr, "\177ELF", 4) != 0 || (hdr[4] != 1 && hdr[4] != 2) ||
	    (hdr[5] != 1 && hdr[5] != 2))
		return -ENOEXEC;
	bool is64 = hdr[4] == 2, big = hdr[5] == 2;
	if (is64 && len < 64)
		return -ENOEXEC;
	unsigned machine = get16(hdr + 18, big);
	uint32_t flags = get32(hdr + (is64 ? 48 : 36), big);
	const struct machine *m = NULL;
	for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++)
		if (machines[i].number == machine)
			m = &machines[i];
	const char *name = NULL;
	if (m) {
		name = is64 ? (big ? m->name_64be : m->name_64) : (big ? m->name_be : NULL);
		if (!name && is64)
			name = big && m->name_be ? m->name_be : m->name;
		if (!name)
			name = m->name;
	}
	if (name)
		snprintf(a->name, sizeof(a->name), "%s", name);
	else
		snprintf(a->name, sizeof(a->name), "machine-%u", machine);
	int used = snprintf(a->detail, sizeof(a->detail), "ELF%d %s-endian %s", is64 ? 64 : 32,
			    big ? "big" : "little", m ? m->label : a->name);
	if (m && used > 0 && (size_t)used < sizeof(a->detail))
		describe_flags(a, machine, is64, flags, (size_t)used);
	return 0;
}

/* ---- this host ------------------------------------------------------------- */

static int host_header(unsigned char *hdr, size_t len)
{
	static unsigned char cached[64];
	static bool have;
	if (!have) {
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		ssize_t n = pread(fd, cached, sizeof(cached), 0);
		close(fd);
		if (n != (ssize_t)sizeof(cached))
			return -EIO;
		have = true;
	}
	memcpy(hdr, cached, len < sizeof(cached) ? len : sizeof(cached));
	return 0;
}

/* The same machine, or one the host's kernel runs as a compat ABI. */
static bool runs_natively(const unsigned char *hdr)
{
	unsigned char host[64] = { 0 };
	if (host_header(host, sizeof(host)) < 0)
		return false;
	bool big = hdr[5] == 2, host_big = host[5] == 2;
	unsigned m = get16(hdr + 18, big), hm = get16(host + 18, host_big);
	if (m == hm && hdr[4] == host[4] && big == host_big)
		return true;
	if (hm == 62 && !big && (m == 3 || m == 62))  /* x86-64: i386 and x32 */
		return true;
	if (hm == 183 && !host_big && m == 40 && !big) /* arm64: 32-bit ARM (COMPAT) */
		return true;
	return false;
}

/* ---- binfmt_misc -------------------------------------------------------------- */

static int unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	while (s[0] && s[1] && s[0] != '\n' && n < cap) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return (int)n;
}

struct binfmt_entry {
	bool enabled, fix_binary;
	char interpreter[PATH_MAX];
	unsigned offset;
	unsigned char magic[HEADER_LEN], mask[HEADER_LEN];
	int len;   /* magic length, -1: not a magic entry */
};

static int read_entry(int dirfd, const char *name, struct binfmt_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->len = -1;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	cleanup_fclose FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	char line[1024];
	bool have_mask = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "enabled") == 0)
			e->enabled = true;
		else if (strncmp(line, "interpreter ", 12) == 0)
			snprintf(e->interpreter, sizeof(e->interpreter), "%s", line + 12);
		else if (strncmp(line, "flags: ", 7) == 0)
			e->fix_binary = strchr(line + 7, 'F') != NULL;
		else if (strncmp(line, "offset ", 7) == 0)
			e->offset = (unsigned)strtoul(line + 7, NULL, 10);
		else if (strncmp(line, "magic ", 6) == 0)
			e->len = unhex(line + 6, e->magic, sizeof(e->magic));
		else if (strncmp(line, "mask ", 5) == 0)
			have_mask = unhex(line + 5, e->mask, sizeof(e->mask)) >= 0;
	}
	if (e->len >= 0 && !have_mask)
		memset(e->mask, 0xff, sizeof(e->mask));
	return 0;
}

static bool entry_matches(const struct binfmt_entry *e, const unsigned char *hdr, size_t len)
{
	if (e->len <= 0 || e->offset + (size_t)e->len > len)
		return false;
	for (int i = 0; i < e->len; i++)
		if ((hdr[e->offset + i] & e->mask[i]) != (e->magic[i] & e->mask[i]))
			return false;
	return true;
}

static int missing_binfmt(const struct elf_arch *a, const char *why, struct error *err)
{
	if (strncmp(a->name, "machine-", 8) == 0)
		return error_setmsg(err, ENOEXEC, "%s is %s, an architecture netsim does not know, "
				    "and %s (give the node a rootfs built for this host, or register "
				    "a binfmt_misc interpreter for it with the F flag)", a->file,
				    a->detail, why);
	return error_setmsg(err, ENOEXEC, "%s is %s: this host runs it only through qemu-user, "
			    "and %s (install the Debian packages %s: apt-get install %s)",
			    a->file, a->detail, why, ELF_ARCH_PACKAGES, ELF_ARCH_PACKAGES);
}

int elf_arch_check_runnable(const unsigned char *hdr, size_t len, const char *binfmt_dir,
			    struct elf_arch *a, struct error *err)
{
	if (runs_natively(hdr)) {
		a->native = true;
		return 0;
	}
	cleanup_close int dirfd = open(binfmt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct binfmt_entry e;
	if (dirfd < 0 || read_entry(dirfd, "status", &e) < 0)
		return missing_binfmt(a, "binfmt_misc is not mounted (mount -t binfmt_misc "
				      "binfmt_misc /proc/sys/fs/binfmt_misc)", err);
	if (!e.enabled)
		return missing_binfmt(a, "binfmt_misc is disabled (echo 1 > "
				      "/proc/sys/fs/binfmt_misc/status)", err);
	DIR *d = fdopendir(dup(dirfd));
	if (!d)
		return error_set(err, errno, "read %s", binfmt_dir);
	char found[64] = "", disabled[64] = "", no_fix[64] = "", no_fix_interp[PATH_MAX] = "";
	struct dirent *de;
	while ((de = readdir(d)) && !found[0]) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "status") == 0 ||
		    strcmp(de->d_name, "register") == 0)
			continue;
		if (read_entry(dirfd, de->d_name, &e) < 0 || !entry_matches(&e, hdr, len))
			continue;
		if (!e.enabled)
			snprintf(disabled, sizeof(disabled), "%s", de->d_name);
		else if (!e.fix_binary) {
			snprintf(no_fix, sizeof(no_fix), "%s", de->d_name);
			snprintf(no_fix_interp, sizeof(no_fix_interp), "%s", e.interpreter);
		} else
			snprintf(found, sizeof(found), "%s", de->d_name);
	}
	closedir(d);
	if (found[0]) {
		snprintf(a->binfmt, sizeof(a->binfmt), "%s", found);
		return 0;
	}
	char why[PATH_MAX + 256];
	if (no_fix[0])
		snprintf(why, sizeof(why), "its binfmt_misc entry %s lacks the F flag, so %s is not "
			 "found inside the node's mount namespace (remove it: echo -1 > %s/%s; "
			 "qemu-user-static's entries have F)", no_fix, no_fix_interp, binfmt_dir,
			 no_fix);
	else if (disabled[0])
		snprintf(why, sizeof(why), "its binfmt_misc entry %s is disabled (update-binfmts "
			 "--enable %s)", disabled, disabled);
	else
		snprintf(why, sizeof(why), "binfmt_misc has no entry for %s", a->name);
	return missing_binfmt(a, why, err);
}

/* ---- finding the init ---------------------------------------------------------- */

/* openat2(RESOLVE_IN_ROOT) by hand, for kernels before 5.6 and valgrind: one
 * component at a time, symlinks followed inside `root` ('..' stops at it). */
static int open_in_root_slow(int root, const char *path)
{
	char todo[PATH_MAX * 2];
	snprintf(todo, sizeof(todo), "%s", path);
	int dir = dup(root), hops = 0;
	char *p = todo;
	while (dir >= 0) {
		while (*p == '/')
			p++;
		if (!*p)
			return dir; /* (a directory: the caller finds it is not a file) */
		char name[NAME_MAX + 1];
		size_t len = strcspn(p, "/");
		if (len > NAME_MAX) {
			close(dir);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		bool last = *p == '\0' || strspn(p, "/") == strlen(p);
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			/* never above the layer's root */
			struct stat a, b;
			int up = -1;
			if (fstat(dir, &a) == 0 && fstat(root, &b) == 0 &&
			    (a.st_dev != b.st_dev || a.st_ino != b.st_ino))
				up = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (up >= 0) {
				close(dir);
				dir = up;
			}
			continue;
		}
		int next = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;
			close(dir);
			return -e;
		}
		struct stat st;
		if (fstat(next, &st) == 0 && S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], rest[PATH_MAX * 2];
			ssize_t n = readlinkat(next, "", target, sizeof(target) - 1);
			close(next);
			if (n < 0 || ++hops > 40) {
				close(dir);
				return n < 0 ? -EIO : -ELOOP;
			}
			target[n] = '\0';
			snprintf(rest, sizeof(rest), "%s/%s", target, p);
			snprintf(todo, sizeof(todo), "%s", rest);
			p = todo;
			if (target[0] == '/') {
				close(dir);
				dir = dup(root);
			}
			continue;
		}
		close(dir);
		if (last) {
			char self[64];
			snprintf(self, sizeof(self), "/proc/self/fd/%d", next);
			int fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			int e = errno;
			close(next);
			return fd < 0 ? -e : fd;
		}
		dir = next;
	}
	return -errno;
}

int elf_arch_open_in_layer(const char *layer, const char *path)
{
	cleanup_close int root = open(layer, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	struct open_how how = {
		.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		return open_in_root_slow(root, path);
	return fd < 0 ? -errno : fd;
}

/* The first layer that has `path`: its header in hdr, the host path in a->file. */
static int read_from_layers(const char *const *layers, const char *path, unsigned char *hdr,
			    size_t *len, struct elf_arch *a, struct error *err)
{
	for (size_t i = 0; layers[i]; i++) {
		int fd = elf_arch_open_in_layer(layers[i], path);
		if (fd == -ENOENT || fd == -ENOTDIR)
			continue;
		snprintf(a->file, sizeof(a->file), "%s%s", layers[i], path);
		if (fd < 0)
			return error_set(err, -fd, "open %s", a->file);
		/* the file itself, after its symlinks (inside the layer) */
		char link[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t ln = readlink(link, a->file, sizeof(a->file) - 1);
		if (ln > 0)
			a->file[ln] = '\0';
		else
			snprintf(a->file, sizeof(a->file), "%s%s", layers[i], path);
		struct stat st;
		ssize_t n = -1;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			n = pread(fd, hdr, HEADER_LEN, 0);
		int saved = errno;
		close(fd);
		if (!S_ISREG(st.st_mode))
			return error_setmsg(err, ENOEXEC, "%s is not a regular file (give the node "
					    "init=PATH of a program in its rootfs)", a->file);
		if (n < 0)
			return error_set(err, saved, "read %s", a->file);
		*len = (size_t)n;
		return 0;
	}
	return error_setmsg(err, ENOENT, "%s has no %s (give the node init=PATH of a program "
			    "it has, or a rootfs with %s)", layers[0] ? layers[0] : "rootfs", path,
			    path);
}

int elf_arch_check_init(const char *const *layers, const char *init, const char *binfmt_dir,
			struct elf_arch *a, struct error *err)
{
	char path[PATH_MAX];
	const char *cmd = init ? init : "/sbin/init";
	cmd += strspn(cmd, " \t");
	size_t plen = strcspn(cmd, " \t");
	if (plen == 0 || plen >= sizeof(path) - 1)
		return error_setmsg(err, EINVAL, "empty or overlong init command");
	snprintf(path, sizeof(path), "%s%.*s", cmd[0] == '/' ? "" : "/", (int)plen, cmd);
	unsigned char hdr[HEADER_LEN];
	/* the rootfs (last layer) is the one to name when nothing has it */
	size_t nlayers = 0;
	while (layers[nlayers])
		nlayers++;
	for (int depth = 0; depth <= SCRIPT_DEPTH; depth++) {
		size_t len = 0;
		memset(hdr, 0, sizeof(hdr));
		struct elf_arch found;
		memset(&found, 0, sizeof(found));
		int r = read_from_layers(layers, path, hdr, &len, &found, err);
		if (r == -ENOENT && nlayers > 1)
			r = error_setmsg(err, ENOENT, "%s has no %s (give the node init=PATH of a "
					 "program it has, or a rootfs with %s)", layers[nlayers - 1],
					 path, path);
		if (r < 0)
			return r;
		if (len >= 2 && hdr[0] == '#' && hdr[1] == '!') {
			char *p = (char *)hdr + 2, *end = (char *)hdr + len;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			size_t n = 0;
			while (p + n < end && p[n] != ' ' && p[n] != '\t' && p[n] != '\n' && p[n] != '\0')
				n++;
			if (n == 0 || p + n == end || p[0] != '/')
				return error_setmsg(err, ENOEXEC, "%s: a #! line without an absolute "
						    "interpreter path", found.file);
			snprintf(path, sizeof(path), "%.*s", (int)n, p);
			continue;
		}
		if (elf_arch_parse(hdr, len, a) < 0)
			return error_setmsg(err, ENOEXEC, "%s is neither an ELF executable nor a #! "
					    "script (give the node init=PATH of a program in its "
					    "rootfs)", found.file);
		memcpy(a->file, found.file, sizeof(a->file));
		return elf_arch_check_runnable(hdr, len, binfmt_dir, a, err);
	}
	return error_setmsg(err, ELOOP, "init %.*s: more than %d #! interpreters in a row",
			    (int)plen, cmd, SCRIPT_DEPTH);
}
