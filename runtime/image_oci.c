/* OCI image layouts and `docker save` archives: pick a manifest by platform and
 * apply its layers, in order, with whiteouts, into one tree of the rootfs cache.
 *
 * A layout is read through a directory descriptor: the operator's `oci-layout`
 * directory, or a private scratch copy extracted (by the tarball rules) from an
 * OCI or docker-save tar.  Every file in it is opened beneath that descriptor
 * without following any symlink, and every OCI blob is hashed as it is read and
 * must match its digest, so whoever owns a layout directory cannot swap a layer
 * between the two passes that apply it.
 *
 * Each layer is read twice.  The first pass applies its whiteouts to what the
 * layers below left (".wh.NAME" removes NAME, ".wh..wh..opq" empties its
 * directory); the second writes its other entries through rootfs.c's writer.
 * So a whiteout never removes a file of its own layer, as the OCI spec says,
 * whatever the order of the entries.  Whiteouts open their directory beneath
 * the tree's root without following symlinks: a whiteout through a symlink (which
 * an earlier layer could point at the host's /etc) is refused, never followed. */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "sha256.h"
#include "util.h"

#define JSON_MAX_BYTES (4 << 20)   /* index, manifest or config: real ones are a few kB */
#define MAX_LAYERS 256             /* Docker allows 127 */
#define MAX_MANIFESTS 64
#define MAX_INDEX_DEPTH 4

/* Open `path` beneath `dirfd` one component at a time, never following a
 * symlink (-1 with ELOOP when one is on the way or at the end) and never going
 * up (".." and absolute paths are EXDEV).  A component walk rather than
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): the same answer, and it also
 * runs under valgrind, which does not know openat2. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	if (path[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	int cur = dup(dirfd);
	for (const char *p = path; cur >= 0;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		const char *rest = p + len;
		while (*rest == '/')
			rest++;
		bool last = *rest == '\0';
		char name[256];
		if (len >= sizeof(name) || (len == 2 && p[0] == '.' && p[1] == '.')) {
			close(cur);
			errno = len >= sizeof(name) ? ENAMETOOLONG : EXDEV;
			return -1;
		}
		memcpy(name, len ? p : ".", len ? len : 1);
		name[len ? len : 1] = '\0';
		int next = openat(cur, name, (last ? flags : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		struct stat st;
		/* O_DIRECTORY on a symlink says ENOTDIR: tell the two apart */
		if (next < 0 && saved == ENOTDIR && fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			saved = ELOOP;
		close(cur);
		errno = saved;
		if (next < 0 || last)
			return next;
		cur = next;
		p = rest;
	}
	return -1;
}

static void cleanup_jsonp(json_object **j)
{
	if (*j)
		json_object_put(*j);
}
#define cleanup_json __attribute__((cleanup(cleanup_jsonp)))

/* ---- the layout ---------------------------------------------------------------- */

struct layout {
	int fd;
	const char *what;   /* named in errors */
};

/* The whole of the small file `path` (at most JSON_MAX_BYTES). */
static int read_small(const struct layout *l, const char *path, char **out, size_t *len,
		      struct error *err)
{
	cleanup_close int fd = open_beneath(l->fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return error_set(err, errno, "%s: open %s", l->what, path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, errno, "%s: %s", l->what, path);
	if (!S_ISREG(st.st_mode))
		return error_setmsg(err, EINVAL, "%s: %s is not a regular file", l->what, path);
	if (st.st_size > JSON_MAX_BYTES)
		return error_setmsg(err, EFBIG, "%s: %s has %lld bytes, more than the %d a "
				    "manifest may have", l->what, path, (long long)st.st_size,
				    JSON_MAX_BYTES);
	int r = read_fd_all(fd, JSON_MAX_BYTES, out, len);
	if (r == -EFBIG) /* it grew since the fstat */
		return error_setmsg(err, EFBIG, "%s: %s has more than the %d bytes a manifest "
				    "may have", l->what, path, JSON_MAX_BYTES);
	if (r == -ENOMEM)
		return error_set(err, ENOMEM, "%s: %s", l->what, path);
	if (r < 0)
		return error_set(err, -r, "%s: read %s", l->what, path);
	return 0;
}

static int parse_json(const char *buf, size_t len, const char *what, const char *path,
		      json_object **out, struct error *err)
{
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return error_set(err, ENOMEM, "%s: %s", what, path);
	json_object *j = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!j || jerr != json_tokener_success) {
		if (j)
			json_object_put(j);
		return error_setmsg(err, EINVAL, "%s: %s is not valid JSON (%s)", what, path,
				    json_tokener_error_desc(jerr == json_tokener_success
							    ? json_tokener_error_parse_eof : jerr));
	}
	*out = j;
	return 0;
}

/* "sha256:<64 lowercase hex>" -> hex; anything else is refused (a digest names a
 * path in blobs/, so only these 71 characters are ever used in one). */
static int digest_hex(const char *digest, char hex[65], const char *what, struct error *err)
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71)
		return error_setmsg(err, EINVAL, "%s: unsupported or malformed digest '%s' (netsim "
				    "reads sha256 digests)", what, digest ? digest : "(none)");
	for (int i = 0; i < 64; i++) {
		char c = digest[7 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return error_setmsg(err, EINVAL, "%s: malformed digest '%s'", what, digest);
		hex[i] = c;
	}
	hex[64] = '\0';
	return 0;
}

/* A JSON blob named by `digest`, checked against it. */
static int read_json_blob(const struct layout *l, const char *digest, json_object **out,
			  struct error *err)
{
	char hex[65], path[96];
	int ret = digest_hex(digest, hex, l->what, err);
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "blobs/sha256/%s", hex);
	cleanup_free char *buf = NULL;
	size_t len;
	ret = read_small(l, path, &buf, &len, err);
	if (ret < 0)
		return ret;
	uint8_t d[32];
	sha256_buffer(buf, len, d);
	char got[65];
	for (int i = 0; i < 32; i++)
		snprintf(got + 2 * i, 3, "%02x", d[i]);
	if (strcmp(got, hex) != 0)
		return error_setmsg(err, EIO, "%s: blob %.19s... does not match its digest", l->what,
				    digest);
	return parse_json(buf, len, l->what, path, out, err);
}

static const char *json_string_field(json_object *obj, const char *key)
{
	json_object *v;
	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *json_array_field(json_object *obj, const char *key)
{
	json_object *v;
	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* ---- choosing the image ------------------------------------------------------------ */

/* One image of a layout: an OCI manifest (by digest) or a docker-save entry. */
struct candidate {
	char manifest[72];            /* OCI: the manifest's digest */
	int docker_index;             /* docker-save: index in manifest.json, else -1 */
	char arch[24], variant[16], os[16];
};

struct candidates {
	struct candidate c[MAX_MANIFESTS];
	size_t count;
};

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void platform_from(struct candidate *c, json_object *obj)
{
	copy_field(c->arch, sizeof(c->arch), json_string_field(obj, "architecture"));
	copy_field(c->variant, sizeof(c->variant), json_string_field(obj, "variant"));
	copy_field(c->os, sizeof(c->os), json_string_field(obj, "os"));
}

static bool is_index_type(const char *media_type)
{
	return media_type && (strcmp(media_type, "application/vnd.oci.image.index.v1+json") == 0 ||
			      strcmp(media_type, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

/* Attestations and other non-images in an index (buildx adds them). */
static bool is_non_image(json_object *desc)
{
	json_object *ann, *v;
	if (json_object_object_get_ex(desc, "annotations", &ann) &&
	    json_object_object_get_ex(ann, "vnd.docker.reference.type", &v))
		return true;
	json_object *platform;
	const char *os = json_object_object_get_ex(desc, "platform", &platform)
			 ? json_string_field(platform, "os") : NULL;
	return os && strcmp(os, "unknown") == 0;
}

static int collect_index(const struct layout *l, json_object *index, unsigned depth,
			 struct candidates *out, struct error *err)
{
	json_object *manifests = json_array_field(index, "manifests");
	if (!manifests)
		return error_setmsg(err, EINVAL, "%s: an image index without \"manifests\"", l->what);
	size_t n = json_object_array_length(manifests);
	for (size_t i = 0; i < n; i++) {
		json_object *desc = json_object_array_get_idx(manifests, i);
		const char *digest = json_string_field(desc, "digest");
		if (!digest)
			return error_setmsg(err, EINVAL, "%s: a manifest without a digest", l->what);
		if (is_non_image(desc))
			continue;
		if (is_index_type(json_string_field(desc, "mediaType"))) {
			if (depth >= MAX_INDEX_DEPTH)
				return error_setmsg(err, EINVAL, "%s: image indexes nested more than %d deep",
						    l->what, MAX_INDEX_DEPTH);
			cleanup_json json_object *nested = NULL;
			int ret = read_json_blob(l, digest, &nested, err);
			if (ret == 0)
				ret = collect_index(l, nested, depth + 1, out, err);
			if (ret < 0)
				return ret;
			continue;
		}
		if (out->count == MAX_MANIFESTS)
			return error_setmsg(err, EINVAL, "%s: more than %d images", l->what, MAX_MANIFESTS);
		struct candidate *c = &out->c[out->count++];
		memset(c, 0, sizeof(*c));
		c->docker_index = -1;
		copy_field(c->manifest, sizeof(c->manifest), digest);
		json_object *platform;
		if (json_object_object_get_ex(desc, "platform", &platform))
			platform_from(c, platform);
	}
	return 0;
}

/* A manifest's config descriptor, and the manifest itself. */
static int read_manifest(const struct layout *l, const char *digest, json_object **manifest,
			 struct error *err)
{
	int ret = read_json_blob(l, digest, manifest, err);
	if (ret < 0)
		return ret;
	json_object *config;
	if (!json_object_object_get_ex(*manifest, "config", &config) ||
	    !json_array_field(*manifest, "layers"))
		return error_setmsg(err, EINVAL, "%s: manifest %.19s... has no config or layers",
				    l->what, digest);
	return 0;
}

/* A candidate whose descriptor named no platform: its config says. */
static int platform_from_config(const struct layout *l, struct candidate *c,
				json_object *docker_manifest, struct error *err)
{
	cleanup_json json_object *config = NULL;
	int ret;
	if (c->docker_index >= 0) {
		json_object *entry = json_object_array_get_idx(docker_manifest, (size_t)c->docker_index);
		const char *path = json_string_field(entry, "Config");
		if (!path)
			return 0;
		const char *reason = rootfs_unsafe_name_reason(path);
		if (reason)
			return error_setmsg(err, EPERM, "%s: config '%s' refused: %s", l->what, path,
					    reason);
		cleanup_free char *buf = NULL;
		size_t len;
		ret = read_small(l, path, &buf, &len, err);
		if (ret == 0)
			ret = parse_json(buf, len, l->what, path, &config, err);
	} else {
		cleanup_json json_object *manifest = NULL;
		ret = read_manifest(l, c->manifest, &manifest, err);
		json_object *desc;
		if (ret == 0 && json_object_object_get_ex(manifest, "config", &desc))
			ret = read_json_blob(l, json_string_field(desc, "digest"), &config, err);
	}
	if (ret < 0)
		return ret;
	platform_from(c, config);
	return 0;
}

static int choose(const struct layout *l, struct candidates *cs, json_object *docker_manifest,
		  const char *want, bool explicit, const struct candidate **out, struct error *err)
{
	if (cs->count == 0)
		return error_setmsg(err, EINVAL, "%s: the image index lists no images", l->what);
	for (size_t i = 0; i < cs->count; i++) {
		struct candidate *c = &cs->c[i];
		if (!c->arch[0]) {
			int ret = platform_from_config(l, c, docker_manifest, err);
			if (ret < 0)
				return ret;
		}
		if ((!c->os[0] || strcmp(c->os, "linux") == 0) &&
		    image_platform_matches(want, c->arch, c->variant)) {
			*out = c;
			return 0;
		}
	}
	/* One image that says nothing about its platform: take it unless asked
	 * for a particular one. */
	if (cs->count == 1 && !cs->c[0].arch[0] && !explicit) {
		*out = &cs->c[0];
		return 0;
	}
	char have[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < cs->count && used < sizeof(have) - 64; i++)
		used += (size_t)snprintf(have + used, sizeof(have) - used, "%s%s/%s%s%s",
					 i ? ", " : "", cs->c[i].os[0] ? cs->c[i].os : "?",
					 cs->c[i].arch[0] ? cs->c[i].arch : "?",
					 cs->c[i].variant[0] ? "/" : "", cs->c[i].variant);
	return error_setmsg(err, ENOENT, "%s has no linux/%s image (it has %s); pick one with "
			    "rootfs=PATH@ARCH (docs/rootfs.md)", l->what, want, have);
}

/* ---- the layers ------------------------------------------------------------------- */

struct layer {
	char path[256];     /* in the layout */
	char hex[65];       /* "" for a docker-save layer: its tar's hash covers it */
};

struct layers {
	struct layer l[MAX_LAYERS];
	size_t count;
};

static int layers_from_oci(const struct layout *l, const char *manifest_digest,
			   struct layers *out, struct error *err)
{
	cleanup_json json_object *manifest = NULL;
	int ret = read_manifest(l, manifest_digest, &manifest, err);
	if (ret < 0)
		return ret;
	json_object *layers = json_array_field(manifest, "layers");
	size_t n = json_object_array_length(layers);
	if (n > MAX_LAYERS)
		return error_setmsg(err, EINVAL, "%s: %zu layers, more than %d", l->what, n, MAX_LAYERS);
	for (size_t i = 0; i < n; i++) {
		json_object *desc = json_object_array_get_idx(layers, i);
		const char *media = json_string_field(desc, "mediaType");
		if (media && strstr(media, "encrypted"))
			return error_setmsg(err, EINVAL, "%s: layer %zu is encrypted (%s)", l->what,
					    i + 1, media);
		struct layer *layer = &out->l[i];
		ret = digest_hex(json_string_field(desc, "digest"), layer->hex, l->what, err);
		if (ret < 0)
			return ret;
		snprintf(layer->path, sizeof(layer->path), "blobs/sha256/%s", layer->hex);
	}
	out->count = n;
	return 0;
}

static int layers_from_docker(const struct layout *l, json_object *docker_manifest, int index,
			      struct layers *out, struct error *err)
{
	json_object *entry = json_object_array_get_idx(docker_manifest, (size_t)index);
	json_object *layers = json_array_field(entry, "Layers");
	if (!layers)
		return error_setmsg(err, EINVAL, "%s: manifest.json has no \"Layers\"", l->what);
	size_t n = json_object_array_length(layers);
	if (n > MAX_LAYERS)
		return error_setmsg(err, EINVAL, "%s: %zu layers, more than %d", l->what, n, MAX_LAYERS);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(layers, i);
		const char *path = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		const char *reason = path ? rootfs_unsafe_name_reason(path) : "not a string";
		if (!reason && strlen(path) >= sizeof(out->l[i].path))
			reason = "too long";
		if (reason)
			return error_setmsg(err, EPERM, "%s: layer %zu '%s' refused: %s", l->what, i + 1,
					    path ? path : "", reason);
		snprintf(out->l[i].path, sizeof(out->l[i].path), "%s", path);
		out->l[i].hex[0] = '\0';
	}
	out->count = n;
	return 0;
}

/* ---- whiteouts ----------------------------------------------------------------------- */

int image_whiteout_parse(const char *name, enum image_whiteout *kind, char **dir,
			 char **target, const char **reason)
{
	*kind = IMAGE_WHITEOUT_NONE;
	*dir = *target = NULL;
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	if (strncmp(base, ".wh.", 4) != 0)
		return 0;
	if (strcmp(base, ".wh..wh..opq") == 0) {
		*kind = IMAGE_WHITEOUT_OPAQUE;
	} else if (strncmp(base, ".wh..wh.", 8) == 0) {
		*kind = IMAGE_WHITEOUT_IGNORED;
		return 0;
	} else {
		const char *t = base + 4;
		if (t[0] == '\0' || strcmp(t, ".") == 0 || strcmp(t, "..") == 0) {
			*reason = t[0] ? "a whiteout of '.' or '..'" : "a whiteout without a name";
			return -EPERM;
		}
		*kind = IMAGE_WHITEOUT_FILE;
		*target = strdup(t);
		if (!*target)
			return -ENOMEM;
	}
	*dir = strndup(name, slash ? (size_t)(slash - name) : 0);
	if (!*dir) {
		free(steal_pointer(target));
		return -ENOMEM;
	}
	return 0;
}

/* Remove everything in the directory `dir_fd` (an opaque whiteout). */
static int empty_directory(int dir_fd, const char *what, struct error *err)
{
	int fd = dup(dir_fd);
	if (fd < 0)
		return error_set(err, errno, "%s", what);
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return error_set(err, errno, "%s", what);
	}
	int ret = 0;
	struct dirent *de;
	while (ret == 0 && (de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ret = rootfs_remove_at(dir_fd, de->d_name, what, err);
		/* removing while reading: start over, so no entry is skipped */
		if (ret == 0)
			rewinddir(dir);
	}
	closedir(dir);
	return ret;
}

int image_whiteout_apply(int root_fd, const char *name, struct error *err)
{
	enum image_whiteout kind;
	cleanup_free char *dir = NULL, *target = NULL;
	const char *reason = NULL;
	int ret = image_whiteout_parse(name, &kind, &dir, &target, &reason);
	if (ret == -EPERM)
		return error_setmsg(err, EPERM, "whiteout '%s': refused: %s", name, reason);
	if (ret < 0)
		return error_set(err, -ret, "whiteout '%s'", name);
	if (kind != IMAGE_WHITEOUT_FILE && kind != IMAGE_WHITEOUT_OPAQUE)
		return 0;
	cleanup_close int dir_fd = open_beneath(root_fd, dir[0] ? dir : ".",
						O_RDONLY | O_DIRECTORY);
	if (dir_fd < 0) {
		/* Nothing there, or a file where a directory was: nothing to hide. */
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		if (errno == ELOOP || errno == EXDEV)
			return error_setmsg(err, ELOOP, "whiteout '%s': refused: '%s' is or passes "
					    "through a symlink", name, dir);
		return error_set(err, errno, "whiteout '%s'", name);
	}
	if (kind == IMAGE_WHITEOUT_OPAQUE)
		return empty_directory(dir_fd, name, err);
	return rootfs_remove_at(dir_fd, target, name, err);
}

/* ---- applying a layer ------------------------------------------------------------------ */

struct apply {
	struct rootfs_writer *w;
	int root_fd;
	const struct layout *l;
	const struct rootfs_limits *limits;
	char what[320];      /* "layer N (sha256:...)" */
};

static int open_layer_archive(struct rootfs_hashed *h, struct archive **out, const char *what,
			      struct error *err)
{
	struct archive *in = archive_read_new();
	if (!in)
		return error_set(err, ENOMEM, "%s", what);
	if (rootfs_archive_support_tar(in) < 0 || rootfs_hashed_open(h, in) < 0) {
		int ret = error_setmsg(err, EINVAL, "%s: %s", what, archive_text(in, "not a tar archive"));
		archive_read_free(in);
		return ret;
	}
	*out = in;
	return 0;
}

static int verify_layer(struct rootfs_hashed *h, const struct layer *layer, const char *what,
			struct error *err)
{
	if (!layer->hex[0])
		return 0;
	char got[65];
	int ret = rootfs_hashed_digest(h, got, err);
	if (ret < 0)
		return error_prefix(err, "%s", what);
	if (strcmp(got, layer->hex) != 0)
		return error_setmsg(err, EIO, "%s does not match its digest (sha256:%.12s... read): "
				    "a corrupt or changed layer", what, got);
	return 0;
}

/* Pass 1: the whiteouts, against the layers below. */
static int apply_whiteouts(struct apply *a, int layer_fd, const struct layer *layer,
			   struct error *err)
{
	struct rootfs_hashed *h = NULL;
	int fd = dup(layer_fd);
	if (fd < 0)
		return error_set(err, errno, "%s", a->what);
	int ret = rootfs_hashed_new(fd, &h, err);
	if (ret < 0)
		return ret;
	struct archive *in = NULL;
	ret = open_layer_archive(h, &in, a->what, err);
	uint64_t seen = 0;
	uint64_t max = a->limits ? a->limits->max_entries : ROOTFS_MAX_ENTRIES_DEFAULT;
	while (ret == 0) {
		struct archive_entry *entry;
		int r = archive_read_next_header(in, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = error_setmsg(err, EIO, "%s: %s", a->what, archive_text(in, "unknown libarchive error"));
			break;
		}
		const char *raw = archive_entry_pathname(entry);
		if (!raw)
			raw = "";
		if (++seen > max) {
			ret = error_setmsg(err, EFBIG, "%s: extraction stopped: the layer has more "
					   "than %llu entries", a->what, (unsigned long long)max);
			break;
		}
		const char *reason = rootfs_unsafe_name_reason(raw);
		if (reason) {
			ret = error_setmsg(err, EPERM, "%s: entry '%s': refused: %s", a->what, raw, reason);
			break;
		}
		cleanup_free char *name = rootfs_normalize_name(raw);
		if (!name) {
			ret = error_set(err, ENOMEM, "%s", a->what);
			break;
		}
		const char *slash = strrchr(name, '/');
		if (strncmp(slash ? slash + 1 : name, ".wh.", 4) != 0)
			continue;
		ret = rootfs_writer_count_entry(a->w, name, err);
		if (ret == 0)
			ret = image_whiteout_apply(a->root_fd, name, err);
		if (ret < 0)
			error_prefix(err, "%s", a->what);
	}
	if (ret == 0)
		ret = verify_layer(h, layer, a->what, err);
	if (in)
		archive_read_free(in);
	rootfs_hashed_free(h);
	return ret;
}

/* Pass 2's filter: whiteouts were applied already; a file replacing a directory
 * of a lower layer replaces the whole of it (libarchive would only rmdir). */
static int content_filter(void *ctx, struct archive_entry *entry, struct error *err)
{
	struct apply *a = ctx;
	const char *raw = archive_entry_pathname(entry);
	if (!raw || rootfs_unsafe_name_reason(raw))
		return 1;    /* the writer refuses it, with its message */
	cleanup_free char *name = rootfs_normalize_name(raw);
	if (!name)
		return error_set(err, ENOMEM, "%s", a->what);
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	if (strncmp(base, ".wh.", 4) == 0)
		return 0;
	if (archive_entry_filetype(entry) == AE_IFDIR || !name[0])
		return 1;
	cleanup_free char *dir = strndup(name, slash ? (size_t)(slash - name) : 0);
	if (!dir)
		return error_set(err, ENOMEM, "%s", a->what);
	cleanup_close int dir_fd = open_beneath(a->root_fd, dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY);
	if (dir_fd < 0)
		return 1;    /* missing parents are made, symlinks refused, by the writer */
	struct stat st;
	if (fstatat(dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return rootfs_remove_at(dir_fd, base, name, err) < 0 ? error_prefix(err, "%s", a->what) : 1;
	return 1;
}

static int apply_content(struct apply *a, int layer_fd, const struct layer *layer,
			 struct error *err)
{
	struct rootfs_hashed *h = NULL;
	int fd = dup(layer_fd);
	if (fd < 0)
		return error_set(err, errno, "%s", a->what);
	int ret = rootfs_hashed_new(fd, &h, err);
	if (ret < 0)
		return ret;
	struct archive *in = NULL;
	ret = open_layer_archive(h, &in, a->what, err);
	if (ret == 0) {
		ret = rootfs_writer_add_tar(a->w, in, a->what, true, content_filter, a, err);
		if (ret < 0 && strncmp(err->msg, a->what, strlen(a->what)) != 0)
			error_prefix(err, "%s", a->what);
	}
	if (ret == 0)
		ret = verify_layer(h, layer, a->what, err);
	if (in)
		archive_read_free(in);
	rootfs_hashed_free(h);
	return ret;
}

static int apply_layer(struct apply *a, const struct layer *layer, struct error *err)
{
	cleanup_close int layer_fd = open_beneath(a->l->fd, layer->path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (layer_fd < 0)
		return error_set(err, errno, "%s: open %s", a->what, layer->path);
	struct stat st;
	if (fstat(layer_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return error_setmsg(err, EINVAL, "%s: %s is not a regular file", a->what, layer->path);
	int ret = apply_whiteouts(a, layer_fd, layer, err);
	if (ret == 0)
		ret = apply_content(a, layer_fd, layer, err);
	/* libarchive sets directory modes and times when it closes, by path: so
	 * that happens before the next layer may replace those directories. */
	if (ret == 0)
		ret = rootfs_writer_checkpoint(a->w, err);
	return ret;
}

static int apply_layers(const struct layout *l, const struct layers *layers, const char *temp,
			const struct rootfs_limits *limits, struct error *err)
{
	if (mkdir(temp, 0700) < 0)
		return error_set(err, errno, "create %s", temp);
	struct apply a = { .l = l, .limits = limits, .root_fd = -1 };
	int ret = rootfs_writer_new(temp, limits, &a.w, err);
	if (ret == 0) {
		a.root_fd = open(rootfs_writer_root(a.w), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (a.root_fd < 0)
			ret = error_set(err, errno, "open %s", temp);
	}
	for (size_t i = 0; i < layers->count && ret == 0; i++) {
		const struct layer *layer = &layers->l[i];
		if (layer->hex[0])
			snprintf(a.what, sizeof(a.what), "%s: layer %zu (sha256:%.12s...)", l->what,
				 i + 1, layer->hex);
		else
			snprintf(a.what, sizeof(a.what), "%s: layer %zu (%s)", l->what, i + 1,
				 layer->path);
		ret = apply_layer(&a, layer, err);
	}
	if (ret == 0)
		ret = rootfs_writer_close(a.w, err);
	if (a.root_fd >= 0)
		close(a.root_fd);
	rootfs_writer_free(a.w);
	if (ret < 0) {
		struct error ignored;
		rootfs_remove_tree(temp, &ignored);
	}
	return ret;
}

/* ---- the two ways in: a layout directory, a tar of one -------------------------------- */

static bool is_regular_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* The chosen image of the layout, as its list of layers; *manifest_hex (when
 * not NULL) is the OCI manifest's digest, which names the cache entry. */
static int select_layers(const struct layout *l, const char *want, bool explicit,
			 struct layers *layers, char *manifest_hex, struct error *err)
{
	cleanup_free struct candidates *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return error_set(err, ENOMEM, "%s", l->what);
	cleanup_json json_object *docker = NULL;
	int ret;
	if (is_regular_at(l->fd, "index.json")) {
		cleanup_free char *buf = NULL;
		size_t len;
		cleanup_json json_object *index = NULL;
		ret = read_small(l, "index.json", &buf, &len, err);
		if (ret == 0)
			ret = parse_json(buf, len, l->what, "index.json", &index, err);
		if (ret == 0)
			ret = collect_index(l, index, 0, cs, err);
	} else {
		cleanup_free char *buf = NULL;
		size_t len;
		ret = read_small(l, "manifest.json", &buf, &len, err);
		if (ret == 0)
			ret = parse_json(buf, len, l->what, "manifest.json", &docker, err);
		if (ret == 0 && !json_object_is_type(docker, json_type_array))
			ret = error_setmsg(err, EINVAL, "%s: manifest.json is not a list of images",
					   l->what);
		size_t n = ret == 0 ? json_object_array_length(docker) : 0;
		for (size_t i = 0; i < n && ret == 0; i++) {
			if (cs->count == MAX_MANIFESTS) {
				ret = error_setmsg(err, EINVAL, "%s: more than %d images", l->what,
						   MAX_MANIFESTS);
				break;
			}
			struct candidate *c = &cs->c[cs->count++];
			memset(c, 0, sizeof(*c));
			c->docker_index = (int)i;
		}
	}
	const struct candidate *c = NULL;
	if (ret == 0)
		ret = choose(l, cs, docker, want, explicit, &c, err);
	if (ret < 0)
		return ret;
	if (c->docker_index >= 0)
		return layers_from_docker(l, docker, c->docker_index, layers, err);
	if (manifest_hex && (ret = digest_hex(c->manifest, manifest_hex, l->what, err)) < 0)
		return ret;
	return layers_from_oci(l, c->manifest, layers, err);
}

int image_oci_fill_tar(const char *tarball, const char *hex, const char *platform, bool explicit,
		       const struct rootfs_limits *limits, const char *temp, struct error *err)
{
	cleanup_free char *scratch = rootfs_cache_scratch(temp, "layout");
	if (!scratch)
		return error_set(err, ENOMEM, "%s", tarball);
	/* The archive's own files (blobs, manifests) by the tarball rules, and
	 * the very bytes that were hashed. */
	int ret = rootfs_remove_tree(scratch, err);
	if (ret == 0)
		ret = rootfs_extract_checked(tarball, scratch, limits, hex, err);
	if (ret < 0)
		return ret;
	struct layout l = { .what = "image" };
	l.fd = open(scratch, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (l.fd < 0)
		ret = error_set(err, errno, "open %s", scratch);
	cleanup_free struct layers *layers = calloc(1, sizeof(*layers));
	if (ret == 0 && !layers)
		ret = error_set(err, ENOMEM, "%s", tarball);
	if (ret == 0)
		ret = select_layers(&l, platform, explicit, layers, NULL, err);
	if (ret == 0)
		ret = apply_layers(&l, layers, temp, limits, err);
	if (l.fd >= 0)
		close(l.fd);
	struct error ignored;
	rootfs_remove_tree(scratch, &ignored);
	return ret;
}

struct dir_fill {
	const struct layout *l;
	const struct layers *layers;
	const struct rootfs_limits *limits;
};

static int fill_from_dir(void *ctx, const char *temp, struct error *err)
{
	const struct dir_fill *f = ctx;
	return apply_layers(f->l, f->layers, temp, f->limits, err);
}

int image_resolve_dir(const char *path, const char *platform, const char *cache_dir,
		      const struct rootfs_limits *limits, char **out, struct error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open %s", path);
	if (!is_regular_at(fd, "oci-layout") || !is_regular_at(fd, "index.json")) {
		if (platform[0])
			return error_setmsg(err, EINVAL, "not an OCI image layout: a platform (@%s) "
					    "picks one of an OCI or Docker image's manifests", platform);
		return 0;
	}
	struct layout l = { .fd = fd, .what = "OCI layout" };
	cleanup_free struct layers *layers = calloc(1, sizeof(*layers));
	if (!layers)
		return error_set(err, ENOMEM, "%s", path);
	char manifest_hex[65];
	int ret = select_layers(&l, platform[0] ? platform : image_host_platform(), platform[0] != 0,
				layers, manifest_hex, err);
	cleanup_free char *cache_real = NULL;
	if (ret == 0)
		ret = rootfs_cache_open(cache_dir, &cache_real, err);
	if (ret < 0)
		return ret;
	/* Named by the manifest's digest, which pins every layer's digest: the
	 * layers are checked against theirs as they are applied. */
	const char *key = manifest_hex;
	ret = rootfs_cache_lookup(cache_real, key, out, err);
	if (ret != 0)
		return ret;
	free(steal_pointer(out));
	struct dir_fill fill = { .l = &l, .layers = layers, .limits = limits };
	ret = rootfs_cache_fill(cache_real, key, fill_from_dir, &fill, out, err);
	return ret < 0 ? ret : 1;
}
