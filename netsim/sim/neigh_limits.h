/* The host's neighbour-table limits, which every sim shares.
 *
 * The kernel keeps one ARP table and one IPv6 neighbour (ndisc) table for all
 * network namespaces together, and net.ipv{4,6}.neigh.default.gc_thresh3 caps
 * the entries of each across the whole host.  A node's interface holds an
 * entry per neighbour it talks to plus one per multicast group it sends to
 * (babel's ff02::1:6, MLD's ff02::16, a solicited-node group per neighbour),
 * so a sim of a few hundred links fills the default 1024: the kernel logs
 * "neighbor table overflow", babeld's multicast sendmsg fails with EINVAL, and
 * routing breaks in that sim and in every other sim on the host.
 *
 * `up` records what its sim needs (/run/netsim/SIM/neigh) and, under one
 * host-wide lock, sets the limits to what all sims on the host need together,
 * writing the values it found first to /run/netsim/neigh-limits.saved (a dot:
 * `list` takes every other valid name there for a sim).  `down`, and
 * the rollback of a failed `up`, recompute without the sim; when no sim needs
 * more than the host had, the original values come back and the record goes.
 * Because the originals live in one place, the last sim to go restores them
 * whichever sim raised them, even if that one crashed.  A value someone else
 * changed meanwhile is left alone.  The record is written before the sysctls
 * (so a kill at any point leaves it describing them), and only the needs of
 * sims that still exist (up, `up` running, or a node alive) count, so the
 * next `up` or `down` restores what a crashed one raised
 * (docs/architecture.md, step 3a, lists what is guaranteed).
 *
 * NETSIM_SYSCTL_DIR (default /proc/sys) and NETSIM_PROC_NET_STAT (default
 * /proc/net/stat) let the unit test run all of it on plain files. */
#ifndef NETSIM_NEIGH_LIMITS_H
#define NETSIM_NEIGH_LIMITS_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "topo/topo.h"

enum { NEIGH_IPV4, NEIGH_IPV6, NEIGH_FAMILIES };

/* Neighbour entries a sim's container nodes create on the host, per family. */
struct neigh_need {
	unsigned long entries[NEIGH_FAMILIES];
};

void neigh_need_of_topo(const struct topo *t, struct neigh_need *need);

/* Before the sim's nodes start: record its need and fit the host's limits to
 * every sim's.  Prints a one-line notice to `notice` when it raised them.
 * Refuses (with the sysctl command to run) when the limits must grow and
 * cannot be written. */
int neigh_limits_claim(const char *sim, const struct neigh_need *need, FILE *notice,
		       struct error *err);
/* After a sim's directory is gone: fit the limits to the sims that are left,
 * restoring the host's own values when none needs more. */
int neigh_limits_release(struct error *err);

/* One family's table right now, for `status`. */
struct neigh_table_status {
	bool present;                 /* the kernel has this table */
	unsigned long entries;        /* entries host-wide */
	unsigned long thresh2, thresh3;
	unsigned long orig3;          /* netsim raised thresh3 from this; 0 if not */
	unsigned long fulls;          /* times the table was full (since boot) */
	unsigned long fulls_since_up; /* since SIM's up (when SIM recorded a need) */
	unsigned long need;           /* SIM's need, 0 if none recorded */
};

int neigh_limits_status(const char *sim, struct neigh_table_status st[NEIGH_FAMILIES],
			struct error *err);
/* For the unit test: called after every file netsim writes on the way (the
 * sim's need, the record, each sysctl), so a test can kill a `claim` or
 * `release` at each point and check what the next one finds.  NULL in netsim. */
extern void (*neigh_limits_step_hook)(void);

/* "IPv4" / "IPv6" */
const char *neigh_family_name(int family);

#endif
