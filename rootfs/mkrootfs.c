/* mkrootfs: build a root filesystem tarball from Debian packages and a few extra
 * files, without dpkg and without root privileges.
 *
 *   mkrootfs -o OUT.tar.gz [--mtime SECONDS] [--exclude GLOB]...
 *            [--deb PKG.deb | --file SRC:DEST:MODE | --dir DEST:MODE
 *             | --symlink TARGET:DEST]...
 *
 * A .deb is an ar(1) archive whose data.tar.* member is itself a compressed tar; we
 * stream that member straight from the outer reader into a second libarchive reader
 * (no temporary files) and copy its entries into one gzip'd pax tar.  Entries are
 * written in command-line order; every entry gets the same mtime and no atime/ctime,
 * and the gzip header carries no timestamp, so the same inputs give the same bytes
 * (and hence the same rootfs cache key in netsim).  Missing parent directories are
 * added (0755); a directory given twice is written once; any other path given twice
 * is an error.  OUT is written to a temporary sibling and renamed into place. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <search.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "deb.h"
#include "error.h"

struct written_path {
	char *path;
	bool is_dir;
};

struct rootfs_writer {
	struct archive *out;
	void *written;            /* tsearch tree of struct written_path */
	time_t mtime;
	char **excludes;          /* globs matched against deb entry paths */
	size_t n_excludes;
	uint64_t n_entries;
};

static int written_path_compare(const void *a, const void *b)
{
	const struct written_path *pa = a, *pb = b;
	return strcmp(pa->path, pb->path);
}

static void written_path_free(void *p)
{
	struct written_path *w = p;
	free(w->path);
	free(w);
}

/* "./usr/bin/" -> "usr/bin"; "" for the root.  Refuses ".." components so nothing
 * we write can point outside the rootfs when extracted. */
static int normalize_path(const char *in, char **out, struct error *err)
{
	while (in[0] == '.' && in[1] == '/')
		in += 2;
	while (in[0] == '/')
		in++;
	if (strcmp(in, ".") == 0)
		in = "";
	cleanup_free char *path = strdup(in);
	if (!path)
		return error_set(err, ENOMEM, "strdup");
	size_t len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		path[--len] = '\0';
	for (const char *p = path; *p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return error_setmsg(err, EINVAL, "%s: path contains \"..\"", in);
		p += n;
		while (*p == '/')
			p++;
	}
	*out = steal_pointer(&path);
	return 0;
}

static struct written_path *written_lookup(struct rootfs_writer *w, const char *path)
{
	struct written_path key = { .path = (char *)path };
	struct written_path **found = tfind(&key, &w->written, written_path_compare);
	return found ? *found : NULL;
}

static int written_add(struct rootfs_writer *w, const char *path, bool is_dir,
		       struct error *err)
{
	struct written_path *node = calloc(1, sizeof(*node));
	if (!node || !(node->path = strdup(path))) {
		free(node);
		return error_set(err, ENOMEM, "remember %s", path);
	}
	node->is_dir = is_dir;
	if (!tsearch(node, &w->written, written_path_compare)) {
		written_path_free(node);
		return error_set(err, ENOMEM, "remember %s", path);
	}
	return 0;
}

static bool is_excluded(const struct rootfs_writer *w, const char *path)
{
	/* A glob excludes the path itself and everything under a directory it names. */
	char prefix[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(prefix))
		return false;
	memcpy(prefix, path, len + 1);
	for (;;) {
		for (size_t i = 0; i < w->n_excludes; i++)
			if (fnmatch(w->excludes[i], prefix, 0) == 0)
				return true;
		char *slash = strrchr(prefix, '/');
		if (!slash)
			return false;
		*slash = '\0';
	}
}

/* Write one header (and nothing else) for an entry whose path is already normal. */
static int write_header(struct rootfs_writer *w, struct archive_entry *entry,
			const char *path, struct error *err)
{
	archive_entry_set_pathname(entry, path);
	archive_entry_set_mtime(entry, w->mtime, 0);
	archive_entry_unset_atime(entry);
	archive_entry_unset_ctime(entry);
	archive_entry_unset_birthtime(entry);
	if (archive_write_header(w->out, entry) < ARCHIVE_WARN)
		return archive_error(err, w->out, path);
	w->n_entries++;
	return 0;
}

static int write_directory(struct rootfs_writer *w, const char *path, mode_t mode,
			   struct error *err);

/* Make sure every ancestor of `path` is in the archive, so extraction never has to
 * invent directories with a umask-dependent mode. */
static int ensure_parents(struct rootfs_writer *w, const char *path, struct error *err)
{
	char parent[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(parent))
		return error_setmsg(err, ENAMETOOLONG, "%s: path too long", path);
	memcpy(parent, path, len + 1);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	struct written_path *existing = written_lookup(w, parent);
	if (existing) {
		if (!existing->is_dir)
			return error_setmsg(err, ENOTDIR, "%s: parent %s is not a directory",
					    path, parent);
		return 0;
	}
	return write_directory(w, parent, 0755, err);
}

/* Checks for a duplicate before writing `path`.  Returns 1 when the entry should be
 * skipped (a directory already written), 0 to write it, or a negative errno. */
static int claim_path(struct rootfs_writer *w, const char *path, bool is_dir,
		      struct error *err)
{
	struct written_path *existing = written_lookup(w, path);
	if (existing) {
		if (existing->is_dir && is_dir)
			return 1;
		return error_setmsg(err, EEXIST, "%s: already in the rootfs (given twice)", path);
	}
	int ret = ensure_parents(w, path, err);
	if (ret < 0)
		return ret;
	ret = written_add(w, path, is_dir, err);
	return ret < 0 ? ret : 0;
}

static struct archive_entry *new_root_owned_entry(void)
{
	struct archive_entry *entry = archive_entry_new();
	if (!entry)
		return NULL;
	archive_entry_set_uid(entry, 0);
	archive_entry_set_gid(entry, 0);
	archive_entry_set_uname(entry, "root");
	archive_entry_set_gname(entry, "root");
	return entry;
}

static int write_directory(struct rootfs_writer *w, const char *path, mode_t mode,
			   struct error *err)
{
	int ret = claim_path(w, path, true, err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	struct archive_entry *entry = new_root_owned_entry();
	if (!entry)
		return error_set(err, ENOMEM, "%s", path);
	archive_entry_set_filetype(entry, AE_IFDIR);
	archive_entry_set_perm(entry, mode & 07777);
	ret = write_header(w, entry, path, err);
	archive_entry_free(entry);
	return ret;
}

static int write_symlink(struct rootfs_writer *w, const char *target, const char *path,
			 struct error *err)
{
	int ret = claim_path(w, path, false, err);
	if (ret < 0)
		return ret;
	struct archive_entry *entry = new_root_owned_entry();
	if (!entry)
		return error_set(err, ENOMEM, "%s", path);
	archive_entry_set_filetype(entry, AE_IFLNK);
	archive_entry_set_perm(entry, 0777);
	archive_entry_set_symlink(entry, target);
	ret = write_header(w, entry, path, err);
	archive_entry_free(entry);
	return ret;
}

static int write_file_from_disk(struct rootfs_writer *w, const char *source,
				const char *path, mode_t mode, struct error *err)
{
	cleanup_close int fd = open(source, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open %s", source);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_set(err, errno, "stat %s", source);
	if (!S_ISREG(st.st_mode))
		return error_setmsg(err, EINVAL, "%s: not a regular file", source);
	int ret = claim_path(w, path, false, err);
	if (ret < 0)
		return ret;

	struct archive_entry *entry = new_root_owned_entry();
	if (!entry)
		return error_set(err, ENOMEM, "%s", path);
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_perm(entry, mode & 07777);
	archive_entry_set_size(entry, st.st_size);
	ret = write_header(w, entry, path, err);
	archive_entry_free(entry);
	if (ret < 0)
		return ret;

	char buf[65536];
	off_t copied = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, errno, "read %s", source);
		}
		if (n == 0)
			break;
		if (archive_write_data(w->out, buf, (size_t)n) < 0)
			return archive_error(err, w->out, path);
		copied += n;
	}
	if (copied != st.st_size)
		return error_setmsg(err, EIO, "%s: changed size while being read", source);
	return 0;
}

/* Copies one entry of a package's data.tar into the output. */
static int copy_package_entry(struct rootfs_writer *w, struct archive *data,
			      struct archive_entry *entry, struct error *err)
{
	cleanup_free char *path = NULL;
	int ret = normalize_path(archive_entry_pathname(entry), &path, err);
	if (ret < 0)
		return ret;
	if (path[0] == '\0' || is_excluded(w, path))
		return 0;

	mode_t type = archive_entry_filetype(entry);
	const char *hardlink = archive_entry_hardlink(entry);
	cleanup_free char *link_path = NULL;
	if (hardlink) {
		ret = normalize_path(hardlink, &link_path, err);
		if (ret < 0)
			return ret;
		struct written_path *target = written_lookup(w, link_path);
		if (!target || target->is_dir)
			return error_setmsg(err, ENOENT, "%s: hard link to %s, which is excluded "
					    "or missing", path, link_path);
	}
	ret = claim_path(w, path, type == AE_IFDIR, err);
	if (ret != 0)
		return ret < 0 ? ret : 0;

	struct archive_entry *copy = archive_entry_clone(entry);
	if (!copy)
		return error_set(err, ENOMEM, "%s", path);
	if (link_path)
		archive_entry_set_hardlink(copy, link_path);
	ret = write_header(w, copy, path, err);
	archive_entry_free(copy);
	if (ret < 0)
		return ret;
	if (type != AE_IFREG || hardlink)
		return 0;

	char buf[65536];
	for (;;) {
		la_ssize_t n = archive_read_data(data, buf, sizeof(buf));
		if (n < 0)
			return archive_error(err, data, path);
		if (n == 0)
			return 0;
		if (archive_write_data(w->out, buf, (size_t)n) < 0)
			return archive_error(err, w->out, path);
	}
}

static int copy_entry(struct archive *data, struct archive_entry *entry, void *writer,
		      struct error *err)
{
	return copy_package_entry(writer, data, entry, err);
}

static int add_package(struct rootfs_writer *w, const char *deb, struct error *err)
{
	return deb_walk(deb, copy_entry, w, err);
}

/* Splits "A:B" at its last colon (or "A:B:C" at its last two). */
static int split_last(char *arg, char **tail, const char *what, struct error *err)
{
	char *colon = strrchr(arg, ':');
	if (!colon || colon == arg || colon[1] == '\0')
		return error_setmsg(err, EINVAL, "%s: expected %s", arg, what);
	*colon = '\0';
	*tail = colon + 1;
	return 0;
}

static int parse_mode(const char *text, mode_t *mode, struct error *err)
{
	char *end;
	errno = 0;
	unsigned long value = strtoul(text, &end, 8);
	if (errno || *end || end == text || value > 07777)
		return error_setmsg(err, EINVAL, "%s: not an octal mode", text);
	*mode = (mode_t)value;
	return 0;
}

enum { OPT_DEB = 256, OPT_FILE, OPT_DIR, OPT_SYMLINK, OPT_EXCLUDE, OPT_MTIME };

static int handle_item(struct rootfs_writer *w, int opt, char *arg, struct error *err)
{
	cleanup_free char *dest = NULL;
	char *tail;
	mode_t mode;
	int ret;

	switch (opt) {
	case OPT_DEB:
		return add_package(w, arg, err);
	case OPT_DIR:
		if ((ret = split_last(arg, &tail, "--dir DEST:MODE", err)) < 0 ||
		    (ret = parse_mode(tail, &mode, err)) < 0 ||
		    (ret = normalize_path(arg, &dest, err)) < 0)
			return ret;
		return dest[0] ? write_directory(w, dest, mode, err) : 0;
	case OPT_SYMLINK:
		if ((ret = split_last(arg, &tail, "--symlink TARGET:DEST", err)) < 0 ||
		    (ret = normalize_path(tail, &dest, err)) < 0)
			return ret;
		return write_symlink(w, arg, dest, err);
	case OPT_FILE: {
		char *dest_arg;
		if ((ret = split_last(arg, &tail, "--file SRC:DEST:MODE", err)) < 0 ||
		    (ret = parse_mode(tail, &mode, err)) < 0 ||
		    (ret = split_last(arg, &dest_arg, "--file SRC:DEST:MODE", err)) < 0 ||
		    (ret = normalize_path(dest_arg, &dest, err)) < 0)
			return ret;
		return write_file_from_disk(w, arg, dest, mode, err);
	}
	}
	return error_setmsg(err, EINVAL, "internal: unknown item %d", opt);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mkrootfs -o OUT.tar.gz [--mtime SECONDS] [--exclude GLOB]...\n"
		"                [--deb PKG.deb | --file SRC:DEST:MODE | --dir DEST:MODE\n"
		"                 | --symlink TARGET:DEST]...\n"
		"Writes a gzip'd tar of the packages' data (minus --exclude'd paths and\n"
		"everything under them) and the extra entries, in command-line order.\n"
		"--mtime defaults to $SOURCE_DATE_EPOCH, else 0.\n");
}

static const struct option long_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "deb", required_argument, NULL, OPT_DEB },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "symlink", required_argument, NULL, OPT_SYMLINK },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "mtime", required_argument, NULL, OPT_MTIME },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct item {
	int opt;
	char *arg;
};

static int parse_mtime(const char *text, time_t *out, struct error *err)
{
	char *end;
	errno = 0;
	long long value = strtoll(text, &end, 10);
	if (errno || *end || end == text || value < 0)
		return error_setmsg(err, EINVAL, "%s: not a number of seconds", text);
	*out = (time_t)value;
	return 0;
}

static int build_rootfs(const char *out_path, struct rootfs_writer *w,
			struct item *items, size_t n_items, struct error *err)
{
	cleanup_free char *tmp_path = NULL;
	if (asprintf(&tmp_path, "%s.tmp.%d", out_path, (int)getpid()) < 0)
		return error_set(err, ENOMEM, "asprintf");
	cleanup_close int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_set(err, errno, "create %s", tmp_path);

	int ret = 0;
	w->out = archive_write_new();
	if (!w->out) {
		ret = error_set(err, ENOMEM, "archive_write_new");
		goto out;
	}
	/* pax_restricted writes plain ustar headers unless a field needs pax. */
	if (archive_write_set_format_pax_restricted(w->out) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(w->out) != ARCHIVE_OK ||
	    archive_write_set_filter_option(w->out, "gzip", "compression-level", "9") != ARCHIVE_OK ||
	    /* A NULL value turns the option off: no build time in the gzip header. */
	    archive_write_set_filter_option(w->out, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_open_fd(w->out, fd) != ARCHIVE_OK) {
		ret = archive_error(err, w->out, tmp_path);
		goto out;
	}
	for (size_t i = 0; i < n_items; i++) {
		ret = handle_item(w, items[i].opt, items[i].arg, err);
		if (ret < 0)
			goto out;
	}
	if (archive_write_close(w->out) != ARCHIVE_OK) {
		ret = archive_error(err, w->out, tmp_path);
		goto out;
	}
	if (fsync(fd) < 0) {
		ret = error_set(err, errno, "fsync %s", tmp_path);
		goto out;
	}
	if (rename(tmp_path, out_path) < 0)
		ret = error_set(err, errno, "rename %s to %s", tmp_path, out_path);
out:
	if (w->out)
		archive_write_free(w->out);
	w->out = NULL;
	if (ret < 0)
		unlink(tmp_path);
	return ret;
}

int main(int argc, char **argv)
{
	struct error err = { 0 };
	struct rootfs_writer w = { .mtime = 0 };
	cleanup_free struct item *items = calloc((size_t)argc, sizeof(*items));
	cleanup_free char **excludes = calloc((size_t)argc, sizeof(*excludes));
	size_t n_items = 0;
	const char *out_path = NULL;
	int ret = 0;

	if (!items || !excludes) {
		fprintf(stderr, "mkrootfs: out of memory\n");
		return 1;
	}
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	if (epoch && *epoch && parse_mtime(epoch, &w.mtime, &err) < 0) {
		fprintf(stderr, "mkrootfs: SOURCE_DATE_EPOCH: %s\n", err.msg);
		return 2;
	}
	int opt;
	while ((opt = getopt_long(argc, argv, "o:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_EXCLUDE:
			excludes[w.n_excludes++] = optarg;
			break;
		case OPT_MTIME:
			if (parse_mtime(optarg, &w.mtime, &err) < 0) {
				fprintf(stderr, "mkrootfs: --mtime: %s\n", err.msg);
				return 2;
			}
			break;
		case OPT_DEB:
		case OPT_FILE:
		case OPT_DIR:
		case OPT_SYMLINK:
			items[n_items].opt = opt;
			items[n_items].arg = optarg;
			n_items++;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!out_path || optind != argc || n_items == 0) {
		usage(stderr);
		return 2;
	}
	w.excludes = excludes;

	ret = build_rootfs(out_path, &w, items, n_items, &err);
	tdestroy(w.written, written_path_free);
	if (ret < 0) {
		fprintf(stderr, "mkrootfs: %s\n", err.msg);
		return 1;
	}
	struct stat st;
	if (stat(out_path, &st) == 0)
		printf("mkrootfs: wrote %s (%" PRIu64 " entries, %lld bytes)\n", out_path,
		       w.n_entries, (long long)st.st_size);
	return 0;
}
