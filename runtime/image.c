/* Image platforms ("rootfs=PATH@ARCH") and the tar-wrapped image kinds: OCI
 * layouts and docker-save archives (applied by image_oci.c) and LXD/Incus image
 * tarballs (metadata.yaml + rootfs/, whose rootfs/ becomes the cache entry).
 *
 * An architecture has many names: OCI's (GOARCH plus a variant, as in an image
 * index), uname's, and OpenWrt's package architectures, which the firmware
 * selectors and the openwrt/rootfs images use.  All of them are mapped to the
 * OCI form, which is what manifests are matched against and what names a cache
 * entry ("<sha256>@arm-v7"). */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cleanup.h"
#include "sha256.h"
#include "util.h"

/* ---- platforms --------------------------------------------------------------- */

struct arch_alias {
	const char *name;
	const char *canonical;  /* OCI architecture[/variant] */
};

static const struct arch_alias arch_names[] = {
	{ "amd64", "amd64" },       { "x86_64", "amd64" },     { "x86-64", "amd64" },
	{ "386", "386" },           { "i386", "386" },         { "i686", "386" },
	{ "arm64", "arm64" },       { "arm64/v8", "arm64" },   { "aarch64", "arm64" },
	{ "arm", "arm" },           { "arm/v5", "arm/v5" },    { "arm/v6", "arm/v6" },
	{ "arm/v7", "arm/v7" },     { "armv5", "arm/v5" },     { "armv6", "arm/v6" },
	{ "armv7", "arm/v7" },      { "armv7l", "arm/v7" },    { "armhf", "arm/v7" },
	{ "armel", "arm/v5" },      { "mips", "mips" },        { "mipsle", "mipsle" },
	{ "mipsel", "mipsle" },     { "mips64", "mips64" },    { "mips64le", "mips64le" },
	{ "mips64el", "mips64le" }, { "riscv64", "riscv64" },  { "ppc64le", "ppc64le" },
	{ "s390x", "s390x" },       { "loong64", "loong64" },
};

/* OpenWrt package architectures, "FAMILY_CPU[_FPU]", by prefix and in this
 * order ("mips_" does not match "mipsel_24kc"; arm's specific CPUs come before
 * "arm_"). */
static const struct arch_alias openwrt_prefixes[] = {
	{ "i386_", "386" },         { "aarch64_", "arm64" },   { "arm_cortex-", "arm/v7" },
	{ "arm_arm1176", "arm/v6" },{ "arm_mpcore", "arm/v6" },{ "arm_", "arm/v5" },
	{ "mips_", "mips" },        { "mipsel_", "mipsle" },   { "mips64_", "mips64" },
	{ "mips64el_", "mips64le" },{ "riscv64_", "riscv64" },
};

#define KNOWN_PLATFORMS "amd64 (x86_64), 386, arm64 (aarch64), arm/v5, arm/v6, arm/v7, " \
			"mips, mipsle, mips64, mips64le, riscv64, ppc64le, s390x, loong64, " \
			"or an OpenWrt architecture such as mips_24kc, mipsel_24kc, " \
			"aarch64_cortex-a53, arm_cortex-a7_neon-vfpv4, i386_pentium4"

int image_platform_canonical(const char *name, char out[IMAGE_PLATFORM_MAX])
{
	if (strncmp(name, "linux/", 6) == 0)
		name += 6;
	for (size_t i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++) {
		if (strcmp(name, arch_names[i].name) == 0) {
			snprintf(out, IMAGE_PLATFORM_MAX, "%s", arch_names[i].canonical);
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(openwrt_prefixes) / sizeof(openwrt_prefixes[0]); i++) {
		size_t len = strlen(openwrt_prefixes[i].name);
		if (strncmp(name, openwrt_prefixes[i].name, len) == 0 && name[len]) {
			snprintf(out, IMAGE_PLATFORM_MAX, "%s", openwrt_prefixes[i].canonical);
			return 0;
		}
	}
	return -EINVAL;
}

const char *image_host_platform(void)
{
	static char host[IMAGE_PLATFORM_MAX];
	if (host[0])
		return host;
	struct utsname u;
	if (uname(&u) < 0 || image_platform_canonical(u.machine, host) < 0)
		snprintf(host, sizeof(host), "%s", uname(&u) == 0 ? u.machine : "unknown");
	return host;
}

bool image_platform_matches(const char *want, const char *arch, const char *variant)
{
	if (!arch || !arch[0])
		return false;
	const char *slash = strchr(want, '/');
	size_t len = slash ? (size_t)(slash - want) : strlen(want);
	if (strlen(arch) != len || strncmp(want, arch, len) != 0)
		return false;
	if (!slash || !variant || !variant[0])
		return true;
	return strcmp(slash + 1, variant) == 0;
}

int image_split_platform(const char *source, char **path, char platform[IMAGE_PLATFORM_MAX],
			 struct error *err)
{
	platform[0] = '\0';
	struct stat st;
	const char *at = strrchr(source, '@');
	const char *slash = strrchr(source, '/');
	if (stat(source, &st) == 0 || !at || (slash && at < slash) || at == source) {
		*path = strdup(source);
		return *path ? 0 : error_set(err, ENOMEM, "rootfs");
	}
	cleanup_free char *prefix = strndup(source, (size_t)(at - source));
	if (!prefix)
		return error_set(err, ENOMEM, "rootfs");
	if (stat(prefix, &st) < 0) {
		*path = strdup(source);
		return *path ? 0 : error_set(err, ENOMEM, "rootfs");
	}
	if (image_platform_canonical(at + 1, platform) < 0)
		return error_setmsg(err, EINVAL, "unknown platform '@%s' (known: " KNOWN_PLATFORMS ")",
				    at + 1);
	*path = steal_pointer(&prefix);
	return 0;
}

/* ---- tar-wrapped images ---------------------------------------------------------- */

enum tar_kind { TAR_PLAIN, TAR_OCI, TAR_DOCKER, TAR_LXD };

/* Which kind of tarball `path` is, from its top-level names: one pass over the
 * headers (contents are skipped), stopping at the entry limit. */
static int tar_kind(const char *path, const struct rootfs_limits *limits, enum tar_kind *kind,
		    struct error *err)
{
	struct archive *in = archive_read_new();
	if (!in)
		return error_set(err, ENOMEM, "libarchive");
	bool oci_layout = false, index_json = false, manifest = false, metadata = false,
	     rootfs_dir = false;
	int ret = 0;
	uint64_t entries = 0;
	if (rootfs_archive_support_tar(in) < 0 ||
	    archive_read_open_filename(in, path, 1 << 16) != ARCHIVE_OK) {
		ret = error_setmsg(err, EIO, "read %s: %s", path, archive_text(in, "unknown libarchive error"));
		goto out;
	}
	for (;;) {
		struct archive_entry *entry;
		int r = archive_read_next_header(in, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = error_setmsg(err, EIO, "read %s: %s", path, archive_text(in, "unknown libarchive error"));
			goto out;
		}
		/* Past the limit: extracting it fails anyway, with the limit's own
		 * message, whatever kind it is. */
		uint64_t max = limits ? limits->max_entries : ROOTFS_MAX_ENTRIES_DEFAULT;
		if (++entries > max)
			break;
		const char *raw = archive_entry_pathname(entry);
		cleanup_free char *name = rootfs_normalize_name(raw ? raw : "");
		if (!name) {
			ret = error_set(err, ENOMEM, "read %s", path);
			goto out;
		}
		bool reg = archive_entry_filetype(entry) == AE_IFREG;
		oci_layout |= reg && strcmp(name, "oci-layout") == 0;
		index_json |= reg && strcmp(name, "index.json") == 0;
		manifest |= reg && strcmp(name, "manifest.json") == 0;
		metadata |= reg && strcmp(name, "metadata.yaml") == 0;
		rootfs_dir |= strncmp(name, "rootfs/", 7) == 0 ||
			      (strcmp(name, "rootfs") == 0 && archive_entry_filetype(entry) == AE_IFDIR);
	}
	*kind = oci_layout && index_json ? TAR_OCI : manifest ? TAR_DOCKER
		: metadata && rootfs_dir ? TAR_LXD : TAR_PLAIN;
out:
	archive_read_free(in);
	return ret;
}

struct tar_fill {
	const char *tarball, *hex, *platform;
	bool explicit;
	const struct rootfs_limits *limits;
};

static int fill_oci(void *ctx, const char *temp, struct error *err)
{
	const struct tar_fill *f = ctx;
	return image_oci_fill_tar(f->tarball, f->hex, f->platform, f->explicit, f->limits, temp, err);
}

/* An LXD/Incus tarball is extracted whole (metadata and templates are small)
 * into a scratch directory, and its rootfs/ is moved to be the entry. */
static int fill_lxd(void *ctx, const char *temp, struct error *err)
{
	const struct tar_fill *f = ctx;
	cleanup_free char *scratch = rootfs_cache_scratch(temp, "lxd");
	cleanup_free char *rootfs = NULL;
	if (!scratch || asprintf(&rootfs, "%s/rootfs", scratch) < 0) {
		rootfs = NULL;
		return error_set(err, ENOMEM, "%s", f->tarball);
	}
	int ret = rootfs_remove_tree(scratch, err);
	if (ret == 0)
		ret = rootfs_extract_checked(f->tarball, scratch, f->limits, f->hex, err);
	if (ret < 0)
		return ret;
	struct stat st;
	if (lstat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		ret = error_setmsg(err, EINVAL, "%s: an LXD image's rootfs is not a directory",
				   f->tarball);
	else if (rename(rootfs, temp) < 0)
		ret = error_set(err, errno, "rename %s", rootfs);
	/* the root as rootfs_writer_close() leaves it */
	else if ((geteuid() == 0 && chown(temp, 0, 0) < 0) || chmod(temp, 0755) < 0)
		ret = error_set(err, errno, "chmod %s", temp);
	struct error ignored;
	rootfs_remove_tree(scratch, &ignored);
	return ret;
}

int image_resolve_tar(const char *path, const char *hex, const char *platform,
		      const char *cache_real, const struct rootfs_limits *limits, char **out,
		      struct error *err)
{
	int ret;
	if (!platform[0]) {
		ret = rootfs_cache_lookup(cache_real, hex, out, err);
		if (ret != 0)
			return ret;
		free(steal_pointer(out));
	}
	/* One tar may hold images for several platforms: each one's tree is named
	 * by sha256("<sha256 of the tar>@<platform>"), so a cache entry's name is
	 * always 64 hex digits (what a node's lower layer is checked against). */
	const char *want = platform[0] ? platform : image_host_platform();
	char keyed[65 + 1 + IMAGE_PLATFORM_MAX], key[65];
	snprintf(keyed, sizeof(keyed), "%s@%s", hex, want);
	uint8_t digest[32];
	sha256_buffer(keyed, strlen(keyed), digest);
	for (int i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", digest[i]);
	ret = rootfs_cache_lookup(cache_real, key, out, err);
	if (ret != 0)
		return ret;
	free(steal_pointer(out));

	enum tar_kind kind = TAR_PLAIN;
	ret = tar_kind(path, limits, &kind, err);
	if (ret < 0)
		return ret;
	struct tar_fill fill = { .tarball = path, .hex = hex, .platform = want,
				  .explicit = platform[0] != 0, .limits = limits };
	if (kind == TAR_OCI || kind == TAR_DOCKER)
		ret = rootfs_cache_fill(cache_real, key, fill_oci, &fill, out, err);
	else if (platform[0])
		return error_setmsg(err, EINVAL, "not an OCI or Docker image: a platform (@%s) "
				    "picks one of an OCI or Docker image's manifests", platform);
	else if (kind == TAR_LXD)
		ret = rootfs_cache_fill(cache_real, hex, fill_lxd, &fill, out, err);
	else
		return 0;
	return ret < 0 ? ret : 1;
}
