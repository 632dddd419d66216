/* A package feed's working tree laid over a node's rootfs (feed=DIR).
 *
 * LibreMesh and OpenWrt feeds keep each package's installed files in
 * packages/NAME/files/ (lime-packages' layout); building an image from them
 * takes hours.  feed=DIR makes every packages/NAME/files/ directory one
 * read-only overlay layer of the node, read live from the tree: an edit shows
 * after `netsim node N restart`, nothing is copied.  Packages are laid in byte
 * order of their names, each above the previous one; a path that two packages
 * both provide (not two directories: those merge) is a clash, reported with the
 * package whose file is used.  The same rules as files= and rootfs dirs apply
 * (docs/security.md): the feed is checked against the host's own directories,
 * a package's files/ that resolves outside the feed is refused, and a scan is
 * bounded in packages and entries. */
#ifndef NETSIM_FEED_H
#define NETSIM_FEED_H

#include <limits.h>
#include <stdio.h>

#include "error.h"

#define FEED_MAX_PACKAGES 160     /* overlayfs takes 500 layers; its options fit ~220 */
#define FEED_MAX_ENTRIES 200000   /* files and dirs under all packages/NAME/files */

struct feed_package {
	char *name;
	char *dir;                /* resolved packages/NAME/files */
};

struct feed {
	char root[PATH_MAX];      /* resolved feed directory */
	struct feed_package *packages; /* laying order: the first is the lowest layer */
	unsigned npackages;
	char **clashes;           /* "PATH: A, B (B's is used)" */
	unsigned nclashes;
	unsigned long entries;    /* scanned */
};

/* Check and scan the feed at `path` (a resolved path, or one relative to the
 * cwd).  Errors name the path and the fix: no packages/ dir, a package whose
 * files/ leaves the feed, too many packages or entries, a name overlayfs cannot
 * take.  Does not check the host-dir rules (state_check_host_path). */
int feed_open(const char *path, struct feed *f, struct error *err);
void feed_free(struct feed *f);

/* The layers for the overlay, top first and NULL-terminated (points into f;
 * free() the array).  NULL on ENOMEM. */
const char **feed_layers(const struct feed *f);

/* One line per clash on `out`, prefixed "netsim: notice: node NODE: feed ..."
 * (NODE NULL: "netsim: notice: feed ..."),
 * at most `max` of them and then a count. */
void feed_print_clashes(const struct feed *f, const char *node, unsigned max, FILE *out);

/* The record nodes/NODE/feed: the feed, each package laid (bottom first) and
 * every clash (docs/topology.md). */
int feed_write_record(const struct feed *f, const char *path, struct error *err);

#endif
