/* The rootfs cache (state_cache_dir(): CACHE/<sha256> trees extracted from
 * tarballs and images) as `netsim cache` sees it: its entries, their size on
 * disk, which nodes of which running sims use each (their nodes/NODE/lower
 * records and state file), and a prune that removes the entries none uses. */
#ifndef NETSIM_SIM_CACHE_H
#define NETSIM_SIM_CACHE_H

#include <stdbool.h>

#include "error.h"

struct cache_entry {
	char name[256];               /* CACHE/<name> */
	unsigned long long bytes;     /* disk usage (st_blocks), hard links once */
	char user[64];                /* the first user, "SIM/NODE"; "" when unused */
	unsigned users;               /* how many nodes use it */
	bool removed;                 /* cache_prune removed it */
};

struct cache_report {
	char dir[4096];               /* the cache's real path; "" when it does not exist */
	struct cache_entry *entries;  /* sorted by name */
	unsigned count;
};

/* Every entry with its users.  0, or < 0 with err filled. */
int cache_scan(struct cache_report *r, struct error *err);
/* cache_scan, then remove each unused entry (not with dry_run), marking it
 * removed.  Refuses (EBUSY, nothing removed) while any sim's lock is held (an
 * `up`, `down` or `node start` is changing it), while a `netsim up` using this
 * cache is running (it resolves its rootfs before it takes its sim's lock), or
 * while an extraction into the cache is under way. */
int cache_prune(struct cache_report *r, bool dry_run, struct error *err);
void cache_report_free(struct cache_report *r);

#endif
