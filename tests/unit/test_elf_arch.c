/* runtime/elf_arch.c: ELF headers of router architectures, binfmt_misc entries
 * (a fake binfmt_misc dir), finding the init in layers.  No root needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_arch.h"
#include "tap.h"

static char tmp[] = "/tmp/test_elf_arch.XXXXXX";

/* An ELF header: class 1/2, data 1 (LE) / 2 (BE), machine, flags. */
static size_t header(unsigned char *h, int cls, int data, unsigned machine, unsigned flags)
{
	memset(h, 0, 64);
	memcpy(h, "\177ELF", 4);
	h[4] = (unsigned char)cls;
	h[5] = (unsigned char)data;
	h[6] = 1;
	bool big = data == 2;
	h[16] = big ? 0 : 2; /* ET_EXEC */
	h[17] = big ? 2 : 0;
	h[18] = (unsigned char)(big ? machine >> 8 : machine);
	h[19] = (unsigned char)(big ? machine : machine >> 8);
	size_t off = cls == 2 ? 48 : 36;
	for (int i = 0; i < 4; i++)
		h[off + (size_t)i] = (unsigned char)(flags >> (big ? 24 - 8 * i : 8 * i));
	return 64;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void write_bytes(const char *path, const unsigned char *b, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, b, n) != (ssize_t)n) {
		perror(path);
		exit(1);
	}
	close(fd);
}

/* Debian's qemu-mips entry, as /proc/sys/fs/binfmt_misc/qemu-mips shows it. */
static void fake_binfmt(const char *dir, const char *status, const char *entry_state,
			const char *flags)
{
	char path[512], text[1024];
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/status", dir);
	write_text(path, status);
	snprintf(path, sizeof(path), "%s/register", dir);
	write_text(path, "");
	snprintf(path, sizeof(path), "%s/qemu-mips", dir);
	if (!entry_state) {
		unlink(path);
		return;
	}
	snprintf(text, sizeof(text), "%s\ninterpreter /usr/libexec/qemu-binfmt/mips-binfmt-P\n"
		 "flags: %s\noffset 0\n"
		 "magic 7f454c46010201000000000000000000000200080000000000000000000000000000000000000000\n"
		 "mask ffffffffffffff00fefffffffffffffffffeffff0000000000000000000000000000000000000020\n",
		 entry_state, flags);
	write_text(path, text);
}

static void test_parse(void)
{
	unsigned char h[64];
	struct elf_arch a;
	size_t n = header(h, 1, 2, 8, 0x70001007); /* mips32r2 o32, as mips_24kc */
	is_int(elf_arch_parse(h, n, &a), 0, "mips_24kc header parses");
	is_str(a.name, "mips", "big-endian 32-bit MIPS is qemu's mips");
	is_str(a.detail, "ELF32 big-endian MIPS, mips32r2, o32", "MIPS ISA and ABI from e_flags");
	header(h, 1, 1, 8, 0x70001007);
	elf_arch_parse(h, n, &a);
	is_str(a.name, "mipsel", "little-endian MIPS (ramips mt7621) is mipsel");
	header(h, 1, 2, 8, 0x70000020);
	elf_arch_parse(h, n, &a);
	is_str(a.name, "mipsn32", "the n32 ABI flag makes it mipsn32");
	header(h, 2, 2, 8, 0x80000000);
	elf_arch_parse(h, n, &a);
	is_str(a.name, "mips64", "64-bit big-endian MIPS");
	header(h, 1, 1, 40, 0x05000400);
	elf_arch_parse(h, n, &a);
	is_str(a.name, "arm", "32-bit ARM");
	is_str(a.detail, "ELF32 little-endian ARM, EABI5, hard-float", "ARM EABI and float ABI");
	header(h, 2, 1, 183, 0);
	elf_arch_parse(h, n, &a);
	is_str(a.name, "aarch64", "AArch64 (mediatek filogic)");
	header(h, 2, 1, 62, 0);
	elf_arch_parse(h, n, &a);
	is_str(a.name, "x86_64", "x86-64");
	header(h, 1, 1, 0x4242, 0);
	elf_arch_parse(h, n, &a);
	is_str(a.name, "machine-16962", "an e_machine netsim does not know is named by number");
	is_int(elf_arch_parse((const unsigned char *)"#!/bin/sh\n", 10, &a), -ENOEXEC,
	       "a script is not an ELF header");
	memset(h, 0, sizeof(h));
	memcpy(h, "\177ELF\003", 5);
	is_int(elf_arch_parse(h, 64, &a), -ENOEXEC, "a bad ELF class is refused");
}

static void test_runnable(void)
{
	char dir[512];
	unsigned char h[64];
	struct elf_arch a;
	struct error err = {0};
	snprintf(dir, sizeof(dir), "%s/binfmt", tmp);
	size_t n = header(h, 1, 2, 8, 0x70001007);

	fake_binfmt(dir, "enabled\n", "enabled", "PF");
	elf_arch_parse(h, n, &a);
	is_int(elf_arch_check_runnable(h, n, dir, &a, &err), 0, "mips runs through an enabled F entry");
	is_str(a.binfmt, "qemu-mips", "the entry that runs it is named");
	ok(!a.native, "mips is not native here");

	fake_binfmt(dir, "enabled\n", "enabled", "P");
	elf_arch_parse(h, n, &a);
	is_int(elf_arch_check_runnable(h, n, dir, &a, &err), -ENOEXEC, "an entry without F is refused");
	ok(strstr(err.msg, "lacks the F flag") && strstr(err.msg, "apt-get install qemu-user-static binfmt-support"),
	   "the error says F is missing and names the packages: %s", err.msg);

	fake_binfmt(dir, "enabled\n", "disabled", "PF");
	elf_arch_parse(h, n, &a);
	is_int(elf_arch_check_runnable(h, n, dir, &a, &err), -ENOEXEC, "a disabled entry is refused");
	ok(strstr(err.msg, "update-binfmts --enable qemu-mips") != NULL, "the fix for a disabled entry: %s", err.msg);

	fake_binfmt(dir, "enabled\n", NULL, "");
	elf_arch_parse(h, n, &a);
	is_int(elf_arch_check_runnable(h, n, dir, &a, &err), -ENOEXEC, "no entry is refused");
	ok(strstr(err.msg, "binfmt_misc has no entry for mips") &&
	   strstr(err.msg, "ELF32 big-endian MIPS, mips32r2, o32") && !strchr(err.msg, '\n'),
	   "one line naming the architecture: %s", err.msg);

	fake_binfmt(dir, "disabled\n", "enabled", "PF");
	elf_arch_parse(h, n, &a);
	is_int(elf_arch_check_runnable(h, n, dir, &a, &err), -ENOEXEC, "binfmt_misc disabled as a whole");

	snprintf(dir, sizeof(dir), "%s/not-mounted", tmp);
	elf_arch_parse(h, n, &a);
	is_int(elf_arch_check_runnable(h, n, dir, &a, &err), -ENOEXEC, "binfmt_misc not mounted");
	ok(strstr(err.msg, "mount -t binfmt_misc") != NULL, "the fix: mount it: %s", err.msg);

	/* the host's own machine needs no entry at all */
	unsigned char self[64];
	int fd = open("/proc/self/exe", O_RDONLY);
	ok(fd >= 0 && read(fd, self, 64) == 64, "read our own ELF header");
	close(fd);
	elf_arch_parse(self, 64, &a);
	is_int(elf_arch_check_runnable(self, 64, dir, &a, &err), 0, "the host's machine runs natively");
	ok(a.native && !a.binfmt[0], "native, no binfmt entry");
#if defined(__x86_64__)
	header(h, 1, 1, 3, 0);
	elf_arch_parse(h, n, &a);
	is_int(elf_arch_check_runnable(h, n, dir, &a, &err), 0, "i386 runs natively on x86-64");
#endif
}

static void test_init(void)
{
	char root[512], files[512], path[1024], bin[64];
	struct elf_arch a;
	struct error err = {0};
	char binfmt[512];
	snprintf(binfmt, sizeof(binfmt), "%s/binfmt", tmp);
	fake_binfmt(binfmt, "enabled\n", NULL, "");
	snprintf(root, sizeof(root), "%s/rootfs", tmp);
	snprintf(files, sizeof(files), "%s/files", tmp);
	const char *dirs[] = { "", "/sbin", "/bin", "/usr", "/usr/bin" };
	for (size_t i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s%s", files, dirs[i]);
		mkdir(path, 0755);
	}
	unsigned char self[64];
	int fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0 || read(fd, self, 64) != 64)
		exit(1);
	close(fd);
	snprintf(path, sizeof(path), "%s/bin/busybox", root);
	write_bytes(path, self, 64, 0755);
	/* absolute symlink: resolved inside the rootfs, not on the host */
	snprintf(path, sizeof(path), "%s/sbin/init", root);
	snprintf(bin, sizeof(bin), "/bin/busybox");
	ok(symlink(bin, path) == 0, "sbin/init -> /bin/busybox");
	const char *only_root[] = { root, NULL };
	is_int(elf_arch_check_init(only_root, NULL, binfmt, &a, &err), 0, "init via a symlink inside the rootfs");
	snprintf(path, sizeof(path), "%s/bin/busybox", root);
	is_str(a.file, path, "the file read is the rootfs's busybox");

	snprintf(path, sizeof(path), "%s/usr/bin/run", files);
	write_text(path, "#!/bin/busybox sh\necho\n");
	const char *layered[] = { files, root, NULL };
	is_int(elf_arch_check_init(layered, "/usr/bin/run --flag", binfmt, &a, &err), 0,
	       "a #! init in files= with its interpreter in the rootfs");

	snprintf(path, sizeof(path), "%s/usr/bin/evil", root);
	ok(symlink("/etc/passwd", path) == 0, "usr/bin/evil -> /etc/passwd (a host file)");
	is_int(elf_arch_check_init(only_root, "/usr/bin/evil", binfmt, &a, &err), -ENOENT,
	       "a symlink to a host file resolves inside the rootfs (absent there)");

	snprintf(path, sizeof(path), "%s/usr/bin/fifo", root);
	ok(mkfifo(path, 0644) == 0, "a FIFO as init");
	is_int(elf_arch_check_init(only_root, "/usr/bin/fifo", binfmt, &a, &err), -ENOEXEC,
	       "a FIFO init is refused without blocking");

	snprintf(path, sizeof(path), "%s/usr/bin/text", root);
	write_text(path, "hello\n");
	is_int(elf_arch_check_init(only_root, "/usr/bin/text", binfmt, &a, &err), -ENOEXEC,
	       "a text file is not an init");
	ok(strstr(err.msg, "neither an ELF executable nor a #! script") != NULL, "says so: %s", err.msg);

	is_int(elf_arch_check_init(layered, "/sbin/procd", binfmt, &a, &err), -ENOENT, "missing init");
	snprintf(path, sizeof(path), "%s has no /sbin/procd (give the node init=PATH", root);
	ok(strstr(err.msg, path) != NULL, "names the rootfs and the fix: %s", err.msg);

	unsigned char mips[64];
	header(mips, 1, 2, 8, 0x70001007);
	snprintf(path, sizeof(path), "%s/sbin/procd", files);
	write_bytes(path, mips, 64, 0755);
	is_int(elf_arch_check_init(layered, "/sbin/procd", binfmt, &a, &err), -ENOEXEC,
	       "a mips init without a binfmt entry");
	ok(strstr(err.msg, "apt-get install qemu-user-static binfmt-support") != NULL,
	   "names the Debian packages: %s", err.msg);
	fake_binfmt(binfmt, "enabled\n", "enabled", "PF");
	is_int(elf_arch_check_init(layered, "/sbin/procd", binfmt, &a, &err), 0, "with the entry it runs");
	is_str(a.name, "mips", "and is mips");
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	test_parse();
	test_runnable();
	test_init();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
