/* Images (runtime/image*.c): platform names, the partition-table parser and the
 * whiteout logic on their own, then whole images built here (OCI layouts and
 * docker-save/LXD tarballs with libarchive; squashfs, ext4 and partitioned disk
 * images with mksquashfs, mke2fs and sfdisk/sgdisk when installed) resolved into
 * a cache in a mkdtemp directory, and hostile ones that must write nothing
 * outside it. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "rootfs.h"
#include "sha256.h"
#include "tap.h"

#define FIXTURES "/work/shared/fixtures"
#define OPENWRT_FIXTURE FIXTURES "/openwrt-18.06.4-x86-64-generic-rootfs.tar.gz"
#define MIPS_FIXTURE FIXTURES "/openwrt-22.03-snapshot-r20142-mips_24kc-userspace-rootfs.tar.gz"

static char tmp[256];

static char *tmp_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tmp_path(const char *fmt, ...)
{
	static char buffers[8][PATH_MAX];
	static int next;
	char *out = buffers[next++ % 8];
	char rel[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(out, PATH_MAX, "%s/%s", tmp, rel);
	return out;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	return r == 0 ? 0 : -1;
}

static bool have(const char *tool)
{
	return run("command -v %s >/dev/null 2>&1", tool) == 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static bool has_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".tmp-", 5) == 0)
			found = true;
	closedir(d);
	return found;
}

/* Number of entries in dir (without . and ..), -1 when unreadable. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *read_text(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* "TYPE MODE UID GID SIZE PATH -> TARGET" for every inode below `root`,
 * sorted, in a string: what a node sees, compared whole. */
static char *tree_listing(const char *root)
{
	char out[PATH_MAX];
	snprintf(out, sizeof(out), "%s.listing", tmp);
	if (run("cd '%s' && find . -mindepth 1 ! -name lost+found -printf '%%y %%m %%U %%G %%s %%p -> %%l\\n'"
		" | sed 's/^d \\([0-7]*\\) \\([0-9]*\\) \\([0-9]*\\) [0-9]*/d \\1 \\2 \\3 -/' | LC_ALL=C sort >'%s'",
		root, out) < 0)
		return NULL;
	FILE *f = fopen(out, "re");
	if (!f)
		return NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	char line[8192];
	while (fgets(line, sizeof(line), f))
		fputs(line, mem);
	fclose(mem);
	fclose(f);
	unlink(out);
	return text;
}

static bool same_tree(const char *a, const char *b)
{
	char *la = tree_listing(a), *lb = tree_listing(b);
	bool same = la && lb && strcmp(la, lb) == 0 &&
		    run("diff -r -x lost+found --no-dereference '%s' '%s' >/dev/null 2>&1", a, b) == 0;
	if (!same && la && lb) {
		FILE *fa = fopen(tmp_path("la"), "we"), *fb = fopen(tmp_path("lb"), "we");
		fputs(la, fa);
		fputs(lb, fb);
		fclose(fa);
		fclose(fb);
		run("diff '%s' '%s' | head -8 | sed 's/^/# /'", tmp_path("la"), tmp_path("lb"));
	}
	free(la);
	free(lb);
	return same;
}

/* ---- platforms ----------------------------------------------------------------- */

static void test_platforms(void)
{
	static const struct { const char *name, *canonical; } names[] = {
		{ "amd64", "amd64" }, { "x86_64", "amd64" }, { "linux/amd64", "amd64" },
		{ "arm64", "arm64" }, { "aarch64_cortex-a53", "arm64" }, { "arm64/v8", "arm64" },
		{ "arm_cortex-a7_neon-vfpv4", "arm/v7" }, { "arm_cortex-a9_vfpv3-d16", "arm/v7" },
		{ "arm_arm1176jzf-s_vfp", "arm/v6" }, { "arm_xscale", "arm/v5" },
		{ "linux/arm/v7", "arm/v7" }, { "mips_24kc", "mips" }, { "mipsel_24kc", "mipsle" },
		{ "mips64_octeonplus", "mips64" }, { "i386_pentium4", "386" }, { "riscv64_riscv64", "riscv64" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char out[IMAGE_PLATFORM_MAX] = "";
		int ret = image_platform_canonical(names[i].name, out);
		ok(ret == 0 && strcmp(out, names[i].canonical) == 0, "platform %s is %s (%s)",
		   names[i].name, names[i].canonical, out);
	}
	const char *bad[] = { "", "mips_", "sparc", "x86", "arm_", "linux/" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[IMAGE_PLATFORM_MAX];
		ok(image_platform_canonical(bad[i], out) == -EINVAL, "platform '%s' is unknown", bad[i]);
	}
	ok(image_platform_matches("arm/v7", "arm", "v7"), "arm/v7 matches arm v7");
	ok(!image_platform_matches("arm/v7", "arm", "v6"), "arm/v7 does not match arm v6");
	ok(image_platform_matches("arm", "arm", "v6"), "arm matches any arm");
	ok(image_platform_matches("arm/v7", "arm", NULL), "arm/v7 matches an arm image without variant");
	ok(!image_platform_matches("amd64", "arm64", NULL), "amd64 does not match arm64");
	ok(!image_platform_matches("mips", "mipsle", NULL), "mips does not match mipsle");
	ok(!image_platform_matches("amd64", "", NULL), "an image without architecture matches nothing");
	is_str(image_host_platform(), "amd64", "the host (x86_64) is amd64");

	struct error err = { 0 };
	char platform[IMAGE_PLATFORM_MAX];
	char *path = NULL;
	FILE *f = fopen(tmp_path("img"), "we");
	fclose(f);
	f = fopen(tmp_path("odd@arm64"), "we");
	fclose(f);
	ok(image_split_platform(tmp_path("img@mips_24kc"), &path, platform, &err) == 0 &&
	   strcmp(path, tmp_path("img")) == 0 && strcmp(platform, "mips") == 0,
	   "img@mips_24kc: the image img, platform mips (%s)", platform);
	free(path);
	ok(image_split_platform(tmp_path("odd@arm64"), &path, platform, &err) == 0 &&
	   strcmp(path, tmp_path("odd@arm64")) == 0 && !platform[0],
	   "a file named odd@arm64 is not split");
	free(path);
	ok(image_split_platform(tmp_path("missing@arm64"), &path, platform, &err) == 0 &&
	   strcmp(path, tmp_path("missing@arm64")) == 0 && !platform[0],
	   "missing@arm64 stays whole (its lookup reports it)");
	free(path);
	int ret = image_split_platform(tmp_path("img@sparc"), &path, platform, &err);
	ok(ret == -EINVAL && strstr(err.msg, "unknown platform '@sparc'") && strstr(err.msg, "mips_24kc"),
	   "img@sparc: %s", err.msg);
	ok(rootfs_check_host_path("/etc/shadow@arm64", NULL, &err) == -EPERM,
	   "/etc/shadow@arm64 is checked as /etc/shadow: %s", err.msg);
}

/* ---- partition tables ------------------------------------------------------------- */

struct mem {
	uint8_t *data;
	size_t size;
};

static int mem_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	struct mem *m = ctx;
	if (offset > m->size || len > m->size - offset)
		return -EIO;
	memcpy(buf, m->data + offset, len);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void mbr_entry(uint8_t *img, int i, uint8_t type, uint32_t start, uint32_t sectors)
{
	uint8_t *e = img + 446 + 16 * i;
	e[4] = type;
	put32(e + 8, start);
	put32(e + 12, sectors);
}

static void test_partitions(void)
{
	struct mem m = { .size = 4 << 20 };
	m.data = calloc(1, m.size);
	struct image_partition parts[IMAGE_MAX_PARTITIONS];
	size_t count = 99;
	struct error err = { 0 };

	int ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -ENOENT && count == 0, "no MBR signature: -ENOENT (%s)", err.msg);

	m.data[510] = 0x55;
	m.data[511] = 0xaa;
	mbr_entry(m.data, 0, 0x83, 512, 2048);      /* like OpenWrt: /boot ... */
	mbr_entry(m.data, 1, 0x83, 2560, 4096);     /* ... then the root */
	mbr_entry(m.data, 2, 0x05, 7000, 100);      /* extended: left out */
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == 0 && count == 2 && parts[0].number == 1 && parts[0].offset == 512 * 512 &&
	   parts[0].size == 2048 * 512 && parts[1].number == 2 && parts[1].offset == 2560 * 512,
	   "MBR: two partitions, the extended one left out (%s)", ret ? err.msg : "ok");

	mbr_entry(m.data, 1, 0x83, 2560, 8192 + 1);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "partition 2") && strstr(err.msg, "past the end"),
	   "MBR partition past the end: %s", err.msg);
	mbr_entry(m.data, 1, 0x83, 0xffffffffu, 0xffffffffu);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "past the end"), "MBR partition at 2 TiB: %s", err.msg);
	mbr_entry(m.data, 1, 0x83, 0, 16);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "overlaps"), "MBR partition at sector 0: %s", err.msg);
	memset(m.data + 446, 0, 64);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "no partitions"), "empty MBR: %s", err.msg);
	ret = image_partitions_parse(mem_read, &m, 100, parts, &count, &err);
	ok(ret == -ENOENT, "image smaller than a sector: -ENOENT");

	/* GPT: protective MBR, header at LBA 1, 128 entries at LBA 2 */
	mbr_entry(m.data, 0, 0xee, 1, 0xffffffffu);
	uint8_t *hdr = m.data + 512;
	memcpy(hdr, "EFI PART", 8);
	put32(hdr + 12, 92);
	put64(hdr + 72, 2);
	put32(hdr + 80, 128);
	put32(hdr + 84, 128);
	uint8_t *e = m.data + 1024;
	memset(e, 0x11, 16);                    /* entry 1 used */
	put64(e + 32, 2048);
	put64(e + 40, 4095);
	e = m.data + 1024 + 127 * 128;          /* entry 128 used (the BIOS boot one) */
	memset(e, 0x22, 16);
	put64(e + 32, 34);
	put64(e + 40, 2047);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == 0 && count == 2 && parts[0].number == 1 && parts[0].offset == 2048 * 512 &&
	   parts[0].size == 2048 * 512 && parts[1].number == 128,
	   "GPT: partitions 1 and 128 (%s)", ret ? err.msg : "ok");

	put64(m.data + 1024 + 40, (m.size / 512));
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "partition 1") && strstr(err.msg, "past the end"),
	   "GPT partition past the end: %s", err.msg);
	put64(m.data + 1024 + 40, 100);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "not a valid range"), "GPT first > last: %s", err.msg);
	put64(m.data + 1024 + 40, 4095);
	put32(hdr + 80, 1u << 30);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "entries"), "GPT with 2^30 entries: %s", err.msg);
	put32(hdr + 80, 128);
	put64(hdr + 72, m.size / 512 - 1);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "outside the image"), "GPT entries past the end: %s", err.msg);
	put64(hdr + 72, 2);
	put32(hdr + 84, 100);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "entry size"), "GPT entry size 100: %s", err.msg);
	put32(hdr + 84, 128);
	memcpy(hdr, "NOT PART", 8);
	ret = image_partitions_parse(mem_read, &m, m.size, parts, &count, &err);
	ok(ret == -EINVAL && strstr(err.msg, "no GPT header"), "protective MBR without GPT: %s", err.msg);
	free(m.data);
}

/* ---- whiteouts -------------------------------------------------------------------- */

static void test_whiteout_parse(void)
{
	static const struct {
		const char *name;
		enum image_whiteout kind;
		const char *dir, *target;
	} cases[] = {
		{ "etc/passwd", IMAGE_WHITEOUT_NONE, NULL, NULL },
		{ "etc/.wh.passwd", IMAGE_WHITEOUT_FILE, "etc", "passwd" },
		{ ".wh.etc", IMAGE_WHITEOUT_FILE, "", "etc" },
		{ "a/b/.wh..hidden", IMAGE_WHITEOUT_FILE, "a/b", ".hidden" },
		{ "var/.wh..wh..opq", IMAGE_WHITEOUT_OPAQUE, "var", NULL },
		{ ".wh..wh..opq", IMAGE_WHITEOUT_OPAQUE, "", NULL },
		{ "x/.wh..wh.plnk", IMAGE_WHITEOUT_IGNORED, NULL, NULL },
		{ "a.wh.b", IMAGE_WHITEOUT_NONE, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum image_whiteout kind;
		char *dir, *target;
		const char *reason = NULL;
		int ret = image_whiteout_parse(cases[i].name, &kind, &dir, &target, &reason);
		ok(ret == 0 && kind == cases[i].kind &&
		   (cases[i].dir ? dir && strcmp(dir, cases[i].dir) == 0 : !dir) &&
		   (cases[i].target ? target && strcmp(target, cases[i].target) == 0 : !target),
		   "whiteout parse '%s': kind %d dir '%s' target '%s'", cases[i].name, kind,
		   dir ? dir : "-", target ? target : "-");
		free(dir);
		free(target);
	}
	const char *refused[] = { ".wh...", "a/.wh...", "a/.wh..", "a/.wh." };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		enum image_whiteout kind;
		char *dir, *target;
		const char *reason = NULL;
		int ret = image_whiteout_parse(refused[i], &kind, &dir, &target, &reason);
		ok(ret == -EPERM && reason && !dir && !target, "whiteout '%s' refused: %s", refused[i],
		   reason ? reason : "-");
	}
}

static void test_whiteout_apply(void)
{
	char *root = tmp_path("wo");
	char *outside = strdup(tmp_path("wo-outside"));
	run("mkdir -p '%s/a' '%s/d/sub' '%s/keep' '%s' && touch '%s/a/b' '%s/a/c' '%s/d/e' "
	    "'%s/d/sub/f' '%s/secret' && ln -s '%s' '%s/abs' && ln -s ../wo-outside '%s/rel' && "
	    "ln -s . '%s/self'", root, root, root, outside, root, root, root, root, outside, outside,
	    root, root, root);
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	struct error err = { 0 };

	int ret = image_whiteout_apply(fd, "a/.wh.b", &err);
	ok(ret == 0 && !exists(tmp_path("wo/a/b")) && exists(tmp_path("wo/a/c")),
	   "a/.wh.b removes a/b only (%s)", ret ? err.msg : "ok");
	ret = image_whiteout_apply(fd, "abs/.wh.secret", &err);
	ok(ret == -ELOOP && exists(tmp_path("wo-outside/secret")),
	   "whiteout through an absolute symlink refused, target kept: %s", err.msg);
	ret = image_whiteout_apply(fd, "rel/.wh.secret", &err);
	ok(ret == -ELOOP && exists(tmp_path("wo-outside/secret")),
	   "whiteout through a relative symlink refused: %s", err.msg);
	ret = image_whiteout_apply(fd, "self/a/.wh.c", &err);
	ok(ret == -ELOOP && exists(tmp_path("wo/a/c")), "whiteout through a symlink to . refused: %s",
	   err.msg);
	ret = image_whiteout_apply(fd, ".wh...", &err);
	ok(ret == -EPERM && strstr(err.msg, "'..'") && exists(tmp_path("wo/a")),
	   "whiteout of '..' refused: %s", err.msg);
	ret = image_whiteout_apply(fd, ".wh.abs", &err);
	ok(ret == 0 && !exists(tmp_path("wo/abs")) && exists(tmp_path("wo-outside/secret")),
	   "a whiteout of a symlink removes the symlink, not its target");
	ret = image_whiteout_apply(fd, "d/.wh..wh..opq", &err);
	ok(ret == 0 && exists(tmp_path("wo/d")) && count_entries(tmp_path("wo/d")) == 0,
	   "d/.wh..wh..opq empties d (%s)", ret ? err.msg : "ok");
	ret = image_whiteout_apply(fd, "missing/deeper/.wh.x", &err);
	ok(ret == 0, "a whiteout in a missing directory does nothing");
	ret = image_whiteout_apply(fd, "a/c/.wh.x", &err);
	ok(ret == 0 && exists(tmp_path("wo/a/c")), "a whiteout below a file does nothing");
	ret = image_whiteout_apply(fd, ".wh.keep", &err);
	ok(ret == 0 && !exists(tmp_path("wo/keep")), ".wh.keep removes the directory keep");
	close(fd);
	free(outside);
}

/* ---- OCI layouts, built here ---------------------------------------------------------- */

struct entry {
	const char *name;
	mode_t type;             /* AE_IFREG, AE_IFDIR, AE_IFLNK */
	const char *data;        /* contents, or symlink target */
};

#define E_DIR(n) { n, AE_IFDIR, NULL }
#define E_FILE(n, d) { n, AE_IFREG, d }
#define E_LINK(n, t) { n, AE_IFLNK, t }

/* A tar of `entries` at `path`, compressed with `filter` (NULL: none). */
static int write_tar(const char *path, int (*filter)(struct archive *), const struct entry *entries,
		     size_t count)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (filter)
		filter(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		archive_write_free(a);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, entries[i].name);
		archive_entry_set_filetype(e, entries[i].type);
		archive_entry_set_perm(e, entries[i].type == AE_IFDIR ? 0755 : 0644);
		archive_entry_set_mtime(e, 1000000000, 0);
		size_t size = 0;
		if (entries[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, entries[i].data);
		else if (entries[i].type == AE_IFREG)
			size = entries[i].data ? strlen(entries[i].data) : 0;
		archive_entry_set_size(e, (la_int64_t)size);
		archive_write_header(a, e);
		if (size)
			archive_write_data(a, entries[i].data, size);
		archive_entry_free(e);
	}
	int r = archive_write_close(a);
	archive_write_free(a);
	return r == ARCHIVE_OK ? 0 : -1;
}

/* Move `file` into LAYOUT/blobs/sha256/<hex>; `hex` gets its digest. */
static void add_blob(const char *layout, const char *file, char hex[65])
{
	struct error err;
	sha256_file(file, hex, &err);
	run("mkdir -p '%s/blobs/sha256' && mv '%s' '%s/blobs/sha256/%s'", layout, file, layout, hex);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void add_json_blob(const char *layout, const char *json, char hex[65])
{
	char *path = tmp_path("json.tmp");
	FILE *f = fopen(path, "we");
	fputs(json, f);
	fclose(f);
	add_blob(layout, path, hex);
}

struct layer_spec {
	const struct entry *entries;
	size_t count;
	int (*filter)(struct archive *);
};

/* An image manifest of these layers and a config for `arch`; its digest in
 * `manifest_hex`, its size in *manifest_size. */
static void add_image(const char *layout, const char *arch, const struct layer_spec *layers,
		      size_t nlayers, char manifest_hex[65], long *manifest_size)
{
	char json[8192], layers_json[4096] = "", hex[65];
	size_t used = 0;
	for (size_t i = 0; i < nlayers; i++) {
		char *file = tmp_path("layer.tmp");
		write_tar(file, layers[i].filter, layers[i].entries, layers[i].count);
		long size = file_size(file);
		add_blob(layout, file, hex);
		used += (size_t)snprintf(layers_json + used, sizeof(layers_json) - used,
					 "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar%s\","
					 "\"digest\":\"sha256:%s\",\"size\":%ld}", i ? "," : "",
					 layers[i].filter == archive_write_add_filter_gzip ? "+gzip" :
					 layers[i].filter ? "+zstd" : "", hex, size);
	}
	snprintf(json, sizeof(json), "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":"
		 "{\"type\":\"layers\",\"diff_ids\":[]}}", arch);
	char config_hex[65];
	add_json_blob(layout, json, config_hex);
	snprintf(json, sizeof(json), "{\"schemaVersion\":2,\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
		 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu},"
		 "\"layers\":[%s]}", config_hex, strlen(json), layers_json);
	*manifest_size = (long)strlen(json);
	add_json_blob(layout, json, manifest_hex);
}

/* index.json listing `n` manifests; with_platform adds each one's platform. */
static void write_index(const char *layout, const char *const *hexes, const long *sizes,
			const char *const *arches, size_t n, bool with_platform)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/oci-layout", layout);
	FILE *f = fopen(path, "we");
	fputs("{\"imageLayoutVersion\":\"1.0.0\"}", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/index.json", layout);
	f = fopen(path, "we");
	fputs("{\"schemaVersion\":2,\"manifests\":[", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			"\"digest\":\"sha256:%s\",\"size\":%ld", i ? "," : "", hexes[i], sizes[i]);
		if (with_platform) {
			char arch[32];
			snprintf(arch, sizeof(arch), "%s", arches[i]);
			char *slash = strchr(arch, '/');
			if (slash)
				*slash = '\0';
			fprintf(f, ",\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"%s%s%s}", arch,
				slash ? ",\"variant\":\"" : "", slash ? slash + 1 : "", slash ? "\"" : "");
		}
		fputs("}", f);
	}
	fputs("]}", f);
	fclose(f);
}

static const struct entry layer1[] = {
	E_DIR("etc"), E_FILE("etc/a", "1"), E_FILE("etc/b", "2"), E_DIR("opq"),
	E_FILE("opq/x", "x"), E_FILE("opq/y", "y"), E_DIR("keep"), E_FILE("keep/z", "z"),
	E_DIR("dir2file"), E_FILE("dir2file/child", "c"), E_DIR("bin"), E_FILE("bin/sh", "sh"),
	E_LINK("bin/ash", "sh"),
};
/* The opaque marker comes after an entry of its own layer: the spec keeps it. */
static const struct entry layer2[] = {
	E_FILE("etc/.wh.a", ""), E_FILE("opq/new", "n"), E_FILE("opq/.wh..wh..opq", ""),
	E_FILE("etc/c", "3"), E_FILE("dir2file", "now a file"), E_FILE("x/.wh..wh.plnk", ""),
};
/* What a node must see: layer 1, then layer 2 over it. */
static const struct entry expected[] = {
	E_DIR("bin"), E_FILE("bin/sh", "sh"), E_LINK("bin/ash", "sh"), E_DIR("etc"),
	E_FILE("etc/b", "2"), E_FILE("etc/c", "3"), E_DIR("opq"), E_FILE("opq/new", "n"),
	E_DIR("keep"), E_FILE("keep/z", "z"), E_FILE("dir2file", "now a file"),
};

/* The expected tree, extracted from a tarball of it, for same_tree(). */
static char *expected_tree(const char *name, const struct entry *entries, size_t count)
{
	static char dir[PATH_MAX];
	char *tar = tmp_path("%s.tar", name);
	write_tar(tar, NULL, entries, count);
	snprintf(dir, sizeof(dir), "%s", tmp_path("%s.tree", name));
	struct error err;
	rootfs_extract(tar, dir, NULL, &err);
	return dir;
}

static int resolve(const char *source, const char *cache, const struct rootfs_limits *limits,
		   char **out, struct error *err)
{
	*out = NULL;
	error_clear(err);
	return rootfs_resolve(source, cache, limits, out, err);
}

static void test_oci_layout(void)
{
	char *layout = strdup(tmp_path("oci"));
	char *cache = strdup(tmp_path("cache"));
	const struct layer_spec layers[] = {
		{ layer1, sizeof(layer1) / sizeof(layer1[0]), archive_write_add_filter_gzip },
		{ layer2, sizeof(layer2) / sizeof(layer2[0]), archive_write_add_filter_zstd },
	};
	char amd_hex[65], arm_hex[65];
	long amd_size, arm_size;
	add_image(layout, "amd64", layers, 2, amd_hex, &amd_size);
	static const struct entry arm_layer[] = { E_FILE("arch", "arm64") };
	const struct layer_spec arm_layers[] = { { arm_layer, 1, NULL } };
	add_image(layout, "arm64", arm_layers, 1, arm_hex, &arm_size);
	const char *hexes[] = { arm_hex, amd_hex };
	const long sizes[] = { arm_size, amd_size };
	const char *arches[] = { "arm64", "amd64" };
	write_index(layout, hexes, sizes, arches, 2, true);
	char *want = strdup(expected_tree("expected", expected, sizeof(expected) / sizeof(expected[0])));

	struct error err;
	char *dir = NULL;
	int ret = resolve(layout, cache, NULL, &dir, &err);
	ok(ret == 0 && dir && strstr(dir, amd_hex) && same_tree(dir, want),
	   "OCI layout: the host's (amd64) image, whiteouts and opaque dir applied (%s)",
	   ret ? err.msg : dir);
	struct stat st;
	ok(dir && stat(dir, &st) == 0 && (st.st_mode & 07777) == 0755, "the entry's root is 0755");
	char *again = NULL;
	ret = resolve(layout, cache, NULL, &again, &err);
	ok(ret == 0 && dir && again && strcmp(dir, again) == 0, "a second resolve uses the cache entry");
	free(again);
	free(dir);

	char source[PATH_MAX];
	snprintf(source, sizeof(source), "%s@aarch64", layout);
	ret = resolve(source, cache, NULL, &dir, &err);
	char arch_file[PATH_MAX];
	snprintf(arch_file, sizeof(arch_file), "%s/arch", dir ? dir : "");
	ok(ret == 0 && dir && read_text(arch_file) && strcmp(read_text(arch_file), "arm64") == 0,
	   "layout@aarch64 picks the arm64 image (%s)", ret ? err.msg : "ok");
	free(dir);
	snprintf(source, sizeof(source), "%s@mips_24kc", layout);
	ret = resolve(source, cache, NULL, &dir, &err);
	ok(ret == -ENOENT && strstr(err.msg, "no linux/mips image") && strstr(err.msg, "linux/arm64") &&
	   strstr(err.msg, "@ARCH"), "layout@mips_24kc: %s", err.msg);

	/* the same layout as a tar (what `skopeo copy oci-archive:` writes) */
	char *tar = tmp_path("oci.tar");
	run("tar -C '%s' -cf '%s' .", layout, tar);
	char tar_hex[65], keyed[128], key[65];
	sha256_file(tar, tar_hex, &err);
	snprintf(keyed, sizeof(keyed), "%s@amd64", tar_hex);
	uint8_t digest[32];
	sha256_buffer(keyed, strlen(keyed), digest);
	for (int i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", digest[i]);
	ret = resolve(tar, cache, NULL, &dir, &err);
	ok(ret == 0 && dir && strstr(dir, key) && same_tree(dir, want),
	   "OCI layout tar: the same tree, cached as sha256(<sha256>@amd64) (%s)", ret ? err.msg : dir);
	char *amd_dir = dir;
	snprintf(source, sizeof(source), "%s@arm64", tar);
	ret = resolve(source, cache, NULL, &dir, &err);
	ok(ret == 0 && dir && amd_dir && strcmp(dir, amd_dir) != 0 && strlen(strrchr(dir, '/')) == 65,
	   "OCI tar@arm64: another 64-hex entry (%s)", ret ? err.msg : dir);
	free(amd_dir);
	free(dir);
	ok(!has_temporaries(cache), "no temporaries or scratch copies left in the cache");

	/* a layer changed after the manifest was written */
	char blob[PATH_MAX];
	snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", layout, arm_hex);
	char manifest_path[PATH_MAX];
	snprintf(manifest_path, sizeof(manifest_path), "%s/blobs/sha256/%s", layout, arm_hex);
	(void)blob;
	run("rm -rf '%s'/%s", cache, arm_hex);
	run("f=$(ls '%s'/blobs/sha256/ | while read h; do b='%s'/blobs/sha256/$h; "
	    "tar -tf $b 2>/dev/null | grep -qx arch && echo $b; done); echo x >>$f", layout, layout);
	snprintf(source, sizeof(source), "%s@arm64", layout);
	ret = resolve(source, cache, NULL, &dir, &err);
	ok(ret == -EIO && strstr(err.msg, "does not match its digest"), "a changed layer: %s", err.msg);
	ok(!has_temporaries(cache), "nothing cached for it");

	/* platform@ on things that have none */
	snprintf(source, sizeof(source), "%s@arm64", want);
	ret = resolve(source, cache, NULL, &dir, &err);
	ok(ret == -EINVAL && strstr(err.msg, "not an OCI image layout"), "dir@arm64: %s", err.msg);
	char *plain = tmp_path("expected.tar");
	snprintf(source, sizeof(source), "%s@arm64", plain);
	ret = resolve(source, cache, NULL, &dir, &err);
	ok(ret == -EINVAL && strstr(err.msg, "not an OCI or Docker image"), "tarball@arm64: %s", err.msg);
	free(layout);
	free(cache);
	free(want);
}

/* One hostile image: `layers` over each other must fail with `expect` in the
 * message and leave nothing in the cache or in `outside`. */
static void hostile_oci(const char *label, const struct layer_spec *layers, size_t n,
			const char *expect, const char *outside)
{
	char *layout = strdup(tmp_path("hostile-%s", label));
	char *cache = strdup(tmp_path("hostile-cache"));
	char hex[65];
	long size;
	add_image(layout, "amd64", layers, n, hex, &size);
	const char *hexes[] = { hex };
	const long sizes[] = { size };
	const char *arches[] = { "amd64" };
	write_index(layout, hexes, sizes, arches, 1, false);
	int before = count_entries(outside);
	struct error err;
	char *dir = NULL;
	int ret = resolve(layout, cache, NULL, &dir, &err);
	ok(ret < 0 && strstr(err.msg, expect) && !has_temporaries(cache) &&
	   count_entries(cache) <= 1 && count_entries(outside) == before &&
	   exists(tmp_path("outside/secret")),
	   "hostile OCI image (%s): %s", label, err.msg);
	free(dir);
	free(layout);
	free(cache);
}

static void test_oci_hostile(void)
{
	char *outside = strdup(tmp_path("outside"));
	run("mkdir -p '%s' && echo keep >'%s/secret'", outside, outside);
	char target[PATH_MAX + 16];
	snprintf(target, sizeof(target), "%s", outside);

	static const struct entry dotdot[] = { E_FILE("../outside/pwned", "x") };
	const struct layer_spec l_dotdot[] = { { dotdot, 1, NULL } };
	hostile_oci("dotdot", l_dotdot, 1, "refused: path contains '..'", outside);

	static const struct entry absolute[] = { E_FILE("/tmp/pwned", "x") };
	const struct layer_spec l_abs[] = { { absolute, 1, NULL } };
	hostile_oci("absolute", l_abs, 1, "refused: absolute path", outside);

	/* an earlier layer's absolute symlink, written through by a later one */
	struct entry link[] = { E_LINK("evil", target) };
	static const struct entry through[] = { E_FILE("evil/pwned", "x") };
	const struct layer_spec l_through[] = { { link, 1, NULL }, { through, 1, NULL } };
	hostile_oci("symlink-write", l_through, 2, "symlink", outside);

	static const struct entry wh_dotdot[] = { E_DIR("a"), E_FILE("a/.wh...", "") };
	const struct layer_spec l_wh_dotdot[] = { { wh_dotdot, 2, NULL } };
	hostile_oci("whiteout-dotdot", l_wh_dotdot, 1, "a whiteout of '.' or '..'", outside);

	static const struct entry wh_through[] = { E_FILE("evil/.wh.secret", "") };
	const struct layer_spec l_wh_through[] = { { link, 1, NULL }, { wh_through, 1, NULL } };
	hostile_oci("whiteout-symlink", l_wh_through, 2, "passes through a symlink", outside);

	struct entry rel_link[] = { E_LINK("up", "../../outside") };
	const struct layer_spec l_wh_rel[] = { { rel_link, 1, NULL }, { wh_through, 1, NULL } };
	(void)l_wh_rel;
	static const struct entry wh_up[] = { E_FILE("up/.wh.secret", "") };
	const struct layer_spec l_wh_up[] = { { rel_link, 1, NULL }, { wh_up, 1, NULL } };
	hostile_oci("whiteout-relative-symlink", l_wh_up, 2, "passes through a symlink", outside);
	free(outside);
}

/* docker save (the format before Docker 25): manifest.json naming layer tars. */
static void test_docker_save(void)
{
	char *dir = strdup(tmp_path("docker"));
	run("mkdir -p '%s/l1' '%s/l2'", dir, dir);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/l1/layer.tar", dir);
	write_tar(path, NULL, layer1, sizeof(layer1) / sizeof(layer1[0]));
	snprintf(path, sizeof(path), "%s/l2/layer.tar", dir);
	write_tar(path, NULL, layer2, sizeof(layer2) / sizeof(layer2[0]));
	snprintf(path, sizeof(path), "%s/cfg.json", dir);
	FILE *f = fopen(path, "we");
	fputs("{\"architecture\":\"amd64\",\"os\":\"linux\"}", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	f = fopen(path, "we");
	fputs("[{\"Config\":\"cfg.json\",\"RepoTags\":[\"openwrt:test\"],"
	      "\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]", f);
	fclose(f);
	char *tar = strdup(tmp_path("docker.tar"));
	run("tar -C '%s' -cf '%s' manifest.json cfg.json l1 l2", dir, tar);
	char *want = strdup(expected_tree("expected2", expected, sizeof(expected) / sizeof(expected[0])));
	struct error err;
	char *out = NULL;
	int ret = resolve(tar, tmp_path("cache"), NULL, &out, &err);
	ok(ret == 0 && out && same_tree(out, want), "docker-save tar: layers and whiteouts applied (%s)",
	   ret ? err.msg : out);
	free(out);

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	f = fopen(path, "we");
	fputs("[{\"Config\":\"cfg.json\",\"Layers\":[\"../../etc/passwd\"]}]", f);
	fclose(f);
	run("tar -C '%s' -cf '%s' manifest.json cfg.json l1 l2", dir, tar);
	ret = resolve(tar, tmp_path("cache"), NULL, &out, &err);
	ok(ret == -EPERM && strstr(err.msg, "refused: path contains '..'"),
	   "docker-save layer path with '..': %s", err.msg);
	free(dir);
	free(tar);
	free(want);
}

static void test_lxd(void)
{
	static const struct entry lxd[] = {
		E_FILE("metadata.yaml", "architecture: x86_64\ncreation_date: 1\n"),
		E_DIR("templates"), E_FILE("templates/hostname.tpl", "{{ container.name }}"),
		E_DIR("rootfs"), E_DIR("rootfs/etc"), E_FILE("rootfs/etc/openwrt_release", "x"),
		E_DIR("rootfs/sbin"), E_FILE("rootfs/sbin/init", "#!/bin/sh"),
	};
	static const struct entry inside[] = {
		E_DIR("etc"), E_FILE("etc/openwrt_release", "x"), E_DIR("sbin"), E_FILE("sbin/init", "#!/bin/sh"),
	};
	char *tar = tmp_path("lxd.tar.xz");
	write_tar(tar, archive_write_add_filter_xz, lxd, sizeof(lxd) / sizeof(lxd[0]));
	char *want = strdup(expected_tree("lxd-expected", inside, 4));
	struct error err;
	char *out = NULL;
	int ret = resolve(tmp_path("lxd.tar.xz"), tmp_path("cache"), NULL, &out, &err);
	struct stat st;
	ok(ret == 0 && out && same_tree(out, want) && stat(out, &st) == 0 && (st.st_mode & 07777) == 0755,
	   "LXD tarball: its rootfs/ is the tree (%s)", ret ? err.msg : out);
	ok(!has_temporaries(tmp_path("cache")), "no scratch left");
	free(out);
	free(want);
}

/* ---- disk images ----------------------------------------------------------------------------- */

/* A source tree for the filesystem images: files, a symlink, a hard link, a
 * setuid file, an empty dir and a FIFO (skipped). */
static char *make_source(void)
{
	static char src[PATH_MAX];
	snprintf(src, sizeof(src), "%s", tmp_path("src"));
	run("mkdir -p '%s/etc/config' '%s/bin' '%s/empty' && echo 'config system' >'%s/etc/config/system' && "
	    "head -c 300000 /dev/urandom >'%s/bin/busybox' && chmod 4755 '%s/bin/busybox' && "
	    "ln -s busybox '%s/bin/sh' && ln -s /tmp/resolv.conf '%s/etc/resolv.conf' && "
	    "chown 1000:1000 '%s/etc/config' && printf x >'%s/etc/x'",
	    src, src, src, src, src, src, src, src, src, src);
	return src;
}

static void test_disk_images(void)
{
	if (!have("mksquashfs") || !have("mke2fs") || !have("sfdisk") || !have("sgdisk")) {
		ok(1, "# skip disk images: mksquashfs, mke2fs, sfdisk or sgdisk missing "
		   "(apt-get install squashfs-tools e2fsprogs fdisk gdisk)");
		return;
	}
	char *src = strdup(make_source());
	char *cache = strdup(tmp_path("cache"));
	char *sq = strdup(tmp_path("openwrt-rootfs.squashfs"));
	char *ext = strdup(tmp_path("openwrt-rootfs.ext4"));
	run("mksquashfs '%s' '%s' -quiet -no-progress -comp xz >/dev/null", src, sq);
	run("mke2fs -q -t ext4 -d '%s' '%s' 8M >/dev/null", src, ext);
	struct error err;
	char *out = NULL;

	int ret = resolve(sq, cache, NULL, &out, &err);
	ok(ret == 0 && out && same_tree(out, src), "squashfs: the same tree (%s)", ret ? err.msg : out);
	free(out);
	ret = resolve(ext, cache, NULL, &out, &err);
	ok(ret == 0 && out && same_tree(out, src), "ext4: the same tree (%s)", ret ? err.msg : out);
	free(out);
	run("gzip -k '%s'", ext);
	ret = resolve(tmp_path("openwrt-rootfs.ext4.gz"), cache, NULL, &out, &err);
	ok(ret == 0 && out && same_tree(out, src), "ext4.gz: the same tree (%s)", ret ? err.msg : out);
	free(out);

	/* combined images: partition 1 is /boot (ext4, with a kernel), 2 the root */
	char *boot = strdup(tmp_path("boot.ext4"));
	run("mkdir -p '%s/bootsrc/boot' && echo kernel >'%s/bootsrc/boot/vmlinuz' && "
	    "mke2fs -q -t ext4 -d '%s/bootsrc' '%s' 4M >/dev/null", tmp, tmp, tmp, boot);
	char *img = strdup(tmp_path("openwrt-combined-squashfs.img"));
	run("truncate -s 20M '%s' && printf 'label: dos\\nstart=2048, size=8192, type=83\\n"
	    "start=10240, size=20000, type=83\\n' | sfdisk -q '%s' >/dev/null && "
	    "dd if='%s' of='%s' bs=512 seek=2048 conv=notrunc status=none && "
	    "dd if='%s' of='%s' bs=512 seek=10240 conv=notrunc status=none && gzip -k '%s'",
	    img, img, boot, img, sq, img, img);
	ret = resolve(tmp_path("openwrt-combined-squashfs.img.gz"), cache, NULL, &out, &err);
	ok(ret == 0 && out && same_tree(out, src), "combined MBR image (.img.gz, squashfs root): "
	   "the root partition's tree (%s)", ret ? err.msg : out);
	free(out);
	char *efi = strdup(tmp_path("openwrt-combined-efi.img"));
	run("truncate -s 20M '%s' && sgdisk -n 1:2048:10239 -n 2:10240:30000 -n 128:34:2047 "
	    "-t 128:ef02 '%s' >/dev/null && dd if='%s' of='%s' bs=512 seek=2048 conv=notrunc status=none && "
	    "dd if='%s' of='%s' bs=512 seek=10240 conv=notrunc status=none", efi, efi, boot, efi, ext, efi);
	ret = resolve(efi, cache, NULL, &out, &err);
	ok(ret == 0 && out && same_tree(out, src), "combined GPT image (ext4 root after an ext4 /boot): "
	   "the root partition's tree (%s)", ret ? err.msg : out);
	free(out);
	ok(!has_temporaries(cache), "no scratch copies left in the cache");

	/* hostile: a table pointing past the end */
	char *past = tmp_path("past.img");
	run("truncate -s 4M '%s' && printf 'label: dos\\nstart=2048, size=4096, type=83\\n' | "
	    "sfdisk -q '%s' >/dev/null && truncate -s 2M '%s'", past, past, past);
	ret = resolve(past, cache, NULL, &out, &err);
	ok(ret == -EINVAL && strstr(err.msg, "partition 1") && strstr(err.msg, "past the end") &&
	   !has_temporaries(cache), "partition past the end of the image: %s", err.msg);

	/* hostile: a huge declared size (a sparse 1 GiB file) */
	char *huge = strdup(tmp_path("huge.ext4"));
	run("mkdir -p '%s/hugesrc' && truncate -s 1G '%s/hugesrc/big' && "
	    "mke2fs -q -t ext4 -d '%s/hugesrc' '%s' 8M >/dev/null", tmp, tmp, tmp, huge);
	struct rootfs_limits small = { .max_bytes = 64 << 20, .max_entries = 1000,
				       .bytes_knob = "NETSIM_EXTRACT_MAX_BYTES" };
	ret = resolve(huge, cache, &small, &out, &err);
	ok(ret == -EFBIG && strstr(err.msg, "entry 'big'") && strstr(err.msg, "NETSIM_EXTRACT_MAX_BYTES") &&
	   !has_temporaries(cache), "a 1 GiB sparse file with a 64 MiB limit: %s", err.msg);

	/* hostile: a gzip'd image expanding past the limit */
	char *bomb = tmp_path("bomb.img.gz");
	run("(cat '%s'; head -c 100M /dev/zero) | gzip -c >'%s'", sq, bomb);
	ret = resolve(bomb, cache, &small, &out, &err);
	ok(ret == -EFBIG && strstr(err.msg, "image expands to more than") && !has_temporaries(cache),
	   "a disk image gzip bomb: %s", err.msg);

	/* hostile: a squashfs whose root lists "etc" twice: a symlink to a host
	 * directory and a directory of files to put there.  Built uncompressed
	 * with "etd", which is then renamed in the directory table. */
	char *outside = strdup(tmp_path("sq-outside"));
	char *evil = strdup(tmp_path("evil.squashfs"));
	run("mkdir -p '%s' '%s/evilsrc/etd' && echo pwned >'%s/evilsrc/etd/passwd' && "
	    "ln -s '%s' '%s/evilsrc/etc' && mksquashfs '%s/evilsrc' '%s' -quiet -no-progress "
	    "-noI -noD -noF -noX >/dev/null && sed -i 's/etd/etc/' '%s'",
	    outside, tmp, tmp, outside, tmp, tmp, evil, evil);
	ret = resolve(evil, cache, NULL, &out, &err);
	ok(ret == -EPERM && strstr(err.msg, "appears twice") && count_entries(outside) == 0 &&
	   !has_temporaries(cache), "squashfs with 'etc' a symlink and a directory: %s", err.msg);

	/* a bare squashfs with an absolute symlink is fine: it resolves in the node */
	char *abs = strdup(tmp_path("abs.squashfs"));
	run("mkdir -p '%s/abssrc' && ln -s '%s' '%s/abssrc/etc' && "
	    "mksquashfs '%s/abssrc' '%s' -quiet -no-progress >/dev/null", tmp, outside, tmp, tmp, abs);
	ret = resolve(abs, cache, NULL, &out, &err);
	ok(ret == 0 && count_entries(outside) == 0, "squashfs with an absolute symlink: kept as a "
	   "symlink, nothing written through it (%s)", ret ? err.msg : "ok");
	free(out);
	free(src);
	free(cache);
	free(sq);
	free(ext);
	free(boot);
	free(img);
	free(efi);
	free(huge);
	free(outside);
	free(evil);
	free(abs);
}

/* ---- the real OpenWrt userspace in other wrappers ---------------------------------------------- */

static void test_fixtures(void)
{
	if (access(OPENWRT_FIXTURE, R_OK) < 0 || access(MIPS_FIXTURE, R_OK) < 0) {
		ok(1, "# skip fixtures: %s not found", FIXTURES);
		return;
	}
	char *cache = strdup(tmp_path("fixture-cache"));
	struct error err;
	char *plain = NULL, *out = NULL;
	int ret = resolve(OPENWRT_FIXTURE, cache, NULL, &plain, &err);
	if (have("sqfstar")) {
		char *sq = tmp_path("openwrt-18.06.4-rootfs.squashfs");
		run("zcat '%s' | sqfstar -quiet -no-progress -comp xz '%s' >/dev/null 2>&1", OPENWRT_FIXTURE, sq);
		ret = resolve(sq, cache, NULL, &out, &err);
		ok(ret == 0 && plain && out && same_tree(out, plain),
		   "OpenWrt 18.06.4 as a squashfs: the same tree as its tarball (%s)", ret ? err.msg : "ok");
		free(out);
	}
	/* The mips_24kc userspace as the only layer of a mips image, next to an
	 * amd64 one: @mips_24kc picks it. */
	char *layout = strdup(tmp_path("mips-oci"));
	char hex[65], mips_hex[65], amd_hex[65];
	run("mkdir -p '%s/blobs/sha256' && cp '%s' '%s/layer.tmp'", layout, MIPS_FIXTURE, layout);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/layer.tmp", layout);
	long layer_size = file_size(path);
	add_blob(layout, path, hex);
	char json[2048];
	add_json_blob(layout, "{\"architecture\":\"mips\",\"os\":\"linux\"}", mips_hex);
	snprintf(json, sizeof(json), "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
		 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":38},"
		 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
		 "\"digest\":\"sha256:%s\",\"size\":%ld}]}", mips_hex, hex, layer_size);
	long mips_size = (long)strlen(json);
	add_json_blob(layout, json, mips_hex);
	static const struct entry tiny[] = { E_FILE("arch", "amd64") };
	const struct layer_spec amd[] = { { tiny, 1, NULL } };
	long amd_size;
	add_image(layout, "amd64", amd, 1, amd_hex, &amd_size);
	const char *hexes[] = { amd_hex, mips_hex };
	const long sizes[] = { amd_size, mips_size };
	const char *arches[] = { "amd64", "mips" };
	write_index(layout, hexes, sizes, arches, 2, true);
	char *mips_plain = NULL;
	resolve(MIPS_FIXTURE, cache, NULL, &mips_plain, &err);
	char source[PATH_MAX];
	snprintf(source, sizeof(source), "%s@mips_24kc", layout);
	ret = resolve(source, cache, NULL, &out, &err);
	ok(ret == 0 && out && mips_plain && same_tree(out, mips_plain),
	   "OpenWrt 22.03 mips_24kc as an OCI image, picked by @mips_24kc: the same tree as its "
	   "tarball (%s)", ret ? err.msg : "ok");
	free(out);
	free(mips_plain);
	free(plain);
	free(layout);
	free(cache);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/netsim-test-image-XXXXXX");
	if (!mkdtemp(tmp))
		skip_all("mkdtemp failed");

	test_platforms();
	test_partitions();
	test_whiteout_parse();
	test_whiteout_apply();
	test_oci_layout();
	test_oci_hostile();
	test_docker_save();
	test_lxd();
	test_disk_images();
	test_fixtures();

	struct error err = { 0 };
	int ret = rootfs_remove_tree(tmp, &err);
	ok(ret == 0 && !exists(tmp), "test directory removed (%s)", ret ? err.msg : "ok");
	return tap_done();
}
