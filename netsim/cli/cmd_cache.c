/* netsim cache: list the rootfs cache's entries, or prune those no node uses. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/cache.h"

static void print_size(char *buf, size_t len, unsigned long long bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	unsigned u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]))
		v /= 1024, u++;
	if (u == 0)
		snprintf(buf, len, "%llu B", bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void print_entry(const struct cache_entry *e, const char *verb)
{
	char size[32];
	print_size(size, sizeof(size), e->bytes);
	if (verb)
		printf("%s %s  %s\n", verb, e->name, size);
	else if (e->users)
		printf("%-64s  %10s  used by %s%s\n", e->name, size, e->user,
		       e->users > 1 ? " and others" : "");
	else
		printf("%-64s  %10s  unused\n", e->name, size);
}

static int cmd_cache(int argc, char **argv, struct error *err)
{
	enum { OPT_DRY_RUN = OPT_VERB_BASE };
	static const struct option opts[] = {{"dry-run", no_argument, NULL, OPT_DRY_RUN},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	bool dry_run = false;
	int c;
	while ((c = verb_getopt(argc, argv, "n", opts)) != -1) {
		switch (c) {
		case 'n':
		case OPT_DRY_RUN: dry_run = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind + 1 != argc)
		return verb_usage(err, "expects list or prune");
	const char *action = argv[optind];
	bool prune = strcmp(action, "prune") == 0;
	if (!prune && strcmp(action, "list") != 0)
		return verb_usage(err, "unknown action '%s' (list or prune)", action);
	if (dry_run && !prune)
		return verb_usage(err, "--dry-run is for prune");
	if (require_root(err))
		return EXIT_FAIL;

	struct cache_report r;
	int ret = prune ? cache_prune(&r, dry_run, err) : cache_scan(&r, err);
	if (ret < 0) {
		cache_report_free(&r);
		if (!strstr(err->msg, "cache"))
			error_prefix(err, "cache %s", action);
		return EXIT_FAIL;
	}
	unsigned long long total = 0, freed = 0;
	unsigned removed = 0;
	for (unsigned i = 0; i < r.count; i++) {
		const struct cache_entry *e = &r.entries[i];
		total += e->bytes;
		if (!prune) {
			print_entry(e, NULL);
		} else if (e->removed) {
			print_entry(e, dry_run ? "would remove" : "removed");
			freed += e->bytes;
			removed++;
		}
	}
	char size[32], dir[4096];
	snprintf(dir, sizeof(dir), "%s", r.dir[0] ? r.dir : "(not created yet)");
	if (!prune) {
		print_size(size, sizeof(size), total);
		printf("cache %s: %u entr%s, %s\n", dir, r.count, r.count == 1 ? "y" : "ies", size);
	} else {
		print_size(size, sizeof(size), freed);
		unsigned kept = r.count - removed;
		printf("cache %s: %s %u entr%s (%s), kept %u in use\n", dir,
		       dry_run ? "would remove" : "removed", removed, removed == 1 ? "y" : "ies",
		       size, kept);
	}
	cache_report_free(&r);
	return EXIT_OK;
}

const struct verb verb_cache = {"cache", "cache list|prune [-n|--dry-run]",
	"The rootfs cache (NETSIM_CACHE_DIR, default /var/lib/netsim/cache): the trees\n"
	"`up` extracted from rootfs tarballs and images, one per sha256, kept so the\n"
	"next `up` of the same tarball starts at once.\n\n"
	"  list    every entry, its size on disk and a node that uses it (SIM/NODE), or\n"
	"          \"unused\"\n"
	"  prune   remove every entry that no node of a running sim uses (the sims'\n"
	"          nodes/NODE/lower records and state files say which do), and say\n"
	"          what was removed and how much space that freed.  Refused while a\n"
	"          sim is being changed (`up`, `down` or `node start` holds its lock),\n"
	"          while a `netsim up` that may use the cache runs, or while a rootfs\n"
	"          is being extracted; nothing is removed then.  The next `up` of a\n"
	"          removed tarball extracts it again.\n\n"
	"  -n, --dry-run   prune: say what would be removed, remove nothing\n",
	.in_vm = VERB_HERE, .run = cmd_cache};
