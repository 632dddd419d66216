/* feed=DIR: a package feed's packages/NAME/files/ as overlay layers (feed.h). */
#include "sim/feed.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"

struct feed_entry {
	char *rel;     /* path below packages/NAME/files, no leading '/' */
	unsigned pkg;
	bool dir;
};

/* nftw has no user pointer: the one scan in progress (single-threaded) */
static struct {
	struct feed_entry *v;
	size_t n, cap;
	size_t base_len;
	unsigned pkg;
	bool too_many, no_memory;
} scan;

static int scan_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return 0;
	if (scan.n >= FEED_MAX_ENTRIES) {
		scan.too_many = true;
		return 1;
	}
	if (scan.n == scan.cap) {
		size_t cap = scan.cap ? scan.cap * 2 : 256;
		struct feed_entry *grown = realloc(scan.v, cap * sizeof(*grown));
		if (!grown) {
			scan.no_memory = true;
			return 1;
		}
		scan.v = grown;
		scan.cap = cap;
	}
	char *rel = strdup(path + scan.base_len + 1);
	if (!rel) {
		scan.no_memory = true;
		return 1;
	}
	scan.v[scan.n++] = (struct feed_entry){ rel, scan.pkg, type == FTW_D || type == FTW_DNR };
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct feed_entry *x = a, *y = b;
	int c = strcmp(x->rel, y->rel);
	return c ? c : (x->pkg > y->pkg) - (x->pkg < y->pkg);
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void scan_free(void)
{
	for (size_t i = 0; i < scan.n; i++)
		free(scan.v[i].rel);
	free(scan.v);
	memset(&scan, 0, sizeof(scan));
}

/* A path two packages both have, unless every one of them is a directory. */
static int collect_clashes(struct feed *f, struct error *err)
{
	qsort(scan.v, scan.n, sizeof(*scan.v), entry_cmp);
	for (size_t i = 0; i < scan.n;) {
		size_t j = i + 1;
		bool all_dirs = scan.v[i].dir;
		while (j < scan.n && strcmp(scan.v[j].rel, scan.v[i].rel) == 0) {
			all_dirs &= scan.v[j].dir;
			j++;
		}
		if (j - i > 1 && !all_dirs) {
			char *line = NULL;
			size_t len = 0;
			FILE *mem = open_memstream(&line, &len);
			if (!mem)
				return error_set(err, ENOMEM, "feed %s", f->root);
			fprintf(mem, "%s: ", scan.v[i].rel);
			for (size_t k = i; k < j; k++)
				fprintf(mem, "%s%s", k > i ? ", " : "", f->packages[scan.v[k].pkg].name);
			fprintf(mem, " (%s's is used)", f->packages[scan.v[j - 1].pkg].name);
			fclose(mem);
			char **grown = realloc(f->clashes, (f->nclashes + 1) * sizeof(*grown));
			if (!line || !grown) {
				free(line);
				if (grown)
					f->clashes = grown;
				return error_set(err, ENOMEM, "feed %s", f->root);
			}
			f->clashes = grown;
			f->clashes[f->nclashes++] = line;
		}
		i = j;
	}
	return 0;
}

/* packages/NAME/files → a layer (1), no files/ (0), or an error. */
static int add_package(struct feed *f, const char *name, struct error *err)
{
	char path[PATH_MAX * 2], real[PATH_MAX];
	snprintf(path, sizeof(path), "%s/packages/%s/files", f->root, name);
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* a package without files (only a Makefile): nothing to lay */
	if (!realpath(path, real))
		return error_set(err, errno, "feed %s: packages/%s/files", f->root, name);
	size_t rl = strlen(f->root);
	if (strncmp(real, f->root, rl) != 0 || real[rl] != '/')
		return error_setmsg(err, EPERM, "feed %s: packages/%s/files resolves to %s, outside "
				    "the feed (a symlink out of the feed is refused: put the files "
				    "inside it)", f->root, name, real);
	if (strpbrk(real, ",:\\"))
		return error_setmsg(err, EINVAL, "feed %s: packages/%s/files: overlayfs cannot take "
				    "',' ':' or '\\' in a layer's path (rename the package dir)",
				    f->root, name);
	if (f->npackages == FEED_MAX_PACKAGES)
		return error_setmsg(err, E2BIG, "feed %s: more than %d packages with files/ (one "
				    "overlay layer each; overlayfs takes no more)", f->root,
				    FEED_MAX_PACKAGES);
	struct feed_package *grown = realloc(f->packages, (f->npackages + 1) * sizeof(*grown));
	if (!grown)
		return error_set(err, ENOMEM, "feed %s", f->root);
	f->packages = grown;
	struct feed_package *p = &f->packages[f->npackages];
	p->name = strdup(name);
	p->dir = strdup(real);
	if (!p->name || !p->dir) {
		free(p->name);
		free(p->dir);
		return error_set(err, ENOMEM, "feed %s", f->root);
	}
	f->npackages++;
	return 1;
}

static int scan_package(struct feed *f, unsigned i, struct error *err)
{
	scan.base_len = strlen(f->packages[i].dir);
	scan.pkg = i;
	int r = nftw(f->packages[i].dir, scan_one, 16, FTW_PHYS);
	if (scan.too_many)
		return error_setmsg(err, E2BIG, "feed %s: more than %d entries under "
				    "packages/*/files (a feed is a source tree, not an image; "
				    "give a smaller one)", f->root, FEED_MAX_ENTRIES);
	if (scan.no_memory)
		return error_set(err, ENOMEM, "feed %s", f->root);
	if (r < 0)
		return error_set(err, errno, "feed %s: read packages/%s/files", f->root,
				 f->packages[i].name);
	return 0;
}

int feed_open(const char *path, struct feed *f, struct error *err)
{
	memset(f, 0, sizeof(*f));
	struct stat st;
	if (!realpath(path, f->root))
		return error_set(err, errno, "feed %s", path);
	if (stat(f->root, &st) < 0 || !S_ISDIR(st.st_mode))
		return error_setmsg(err, ENOTDIR, "feed %s is not a directory (give the top of a "
				    "package feed checkout, e.g. a lime-packages clone)", path);
	char packages[PATH_MAX * 2];
	snprintf(packages, sizeof(packages), "%s/packages", f->root);
	if (stat(packages, &st) < 0 || !S_ISDIR(st.st_mode))
		return error_setmsg(err, ENOENT, "feed %s has no packages/ directory (feed= names "
				    "the top of a package feed checkout laid out as "
				    "packages/NAME/files/..., e.g. a lime-packages clone)", path);
	struct dirent **names = NULL;
	int n = scandir(packages, &names, NULL, name_cmp);
	if (n < 0)
		return error_set(err, errno, "feed %s: read %s", path, packages);
	int r = 0;
	for (int i = 0; i < n; i++) {
		if (r >= 0 && names[i]->d_name[0] != '.')
			r = add_package(f, names[i]->d_name, err);
		free(names[i]);
	}
	free(names);
	for (unsigned i = 0; r >= 0 && i < f->npackages; i++)
		r = scan_package(f, i, err);
	f->entries = scan.n;
	if (r >= 0)
		r = collect_clashes(f, err);
	scan_free();
	if (r < 0) {
		feed_free(f);
		return r;
	}
	return 0;
}

void feed_free(struct feed *f)
{
	for (unsigned i = 0; i < f->npackages; i++) {
		free(f->packages[i].name);
		free(f->packages[i].dir);
	}
	free(f->packages);
	for (unsigned i = 0; i < f->nclashes; i++)
		free(f->clashes[i]);
	free(f->clashes);
	memset(f, 0, sizeof(*f));
}

const char **feed_layers(const struct feed *f)
{
	const char **v = calloc(f->npackages + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (unsigned i = 0; i < f->npackages; i++)
		v[i] = f->packages[f->npackages - 1 - i].dir;
	return v;
}

void feed_print_clashes(const struct feed *f, const char *node, unsigned max, FILE *out)
{
	const char *pre = node ? "node " : "", *name = node ? node : "", *sep = node ? ": " : "";
	for (unsigned i = 0; i < f->nclashes && i < max; i++)
		fprintf(out, "netsim: notice: %s%s%sfeed %s: clash: %s\n", pre, name, sep, f->root,
			f->clashes[i]);
	if (f->nclashes > max)
		fprintf(out, "netsim: notice: %s%s%sfeed %s: %u more clashes (all in each node's "
			"feed record, docs/topology.md)\n", pre, name, sep, f->root, f->nclashes - max);
}

int feed_write_record(const struct feed *f, const char *path, struct error *err)
{
	cleanup_fclose FILE *out = fopen(path, "we");
	if (!out)
		return error_set(err, errno, "write %s", path);
	fprintf(out, "feed %s\n# packages laid, lowest first (a later one's file is used)\n",
		f->root);
	for (unsigned i = 0; i < f->npackages; i++)
		fprintf(out, "package %s %s\n", f->packages[i].name, f->packages[i].dir);
	for (unsigned i = 0; i < f->nclashes; i++)
		fprintf(out, "clash %s\n", f->clashes[i]);
	int failed = ferror(out);
	FILE *done = steal_pointer(&out);
	if (fclose(done) != 0 || failed)
		return error_set(err, errno ? errno : EIO, "write %s", path);
	return 0;
}
