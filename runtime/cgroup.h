/* Control groups for nodes: create a cgroup, limit it, put a process in it, read
 * what it uses, kill what is left in it and remove it.  Knows no topology: a
 * cgroup is named by a path relative to every hierarchy's root ("netsim/SIM/NODE").
 *
 * Hosts differ in where a controller lives.  A controller is bound to at most one
 * hierarchy: a cgroup v1 hierarchy (its mount's super options name it), or the
 * unified v2 hierarchy (listed in its cgroup.controllers).  We use each
 * controller where the host has it: v1 when it is bound to a v1 hierarchy (the
 * unified hierarchy cannot have it then), v2 otherwise.  The unified hierarchy,
 * when mounted, always gets the cgroup too, even without controllers: cgroup.kill
 * there ends every process of a node in one write.
 *
 * Controllers used:  memory (limit, usage, OOM kills), pids (limit, count),
 * cpu (weight; bandwidth cap on a parent), and for CPU time the unified
 * hierarchy's cpu.stat (present without any controller), or v1 cpuacct on a host
 * without the unified hierarchy.  A controller the host does not have is skipped (its limits are not
 * applied, its usage reads as unknown).
 *
 * Cost per node: one mkdir and a few small writes per hierarchy, no fork. */
#ifndef NETSIM_CGROUP_H
#define NETSIM_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum cgroup_controller {
	CGROUP_MEMORY,
	CGROUP_PIDS,
	CGROUP_CPU,
	CGROUP_CPUACCT, /* v1 only; on v2 CPU time is in every cgroup's cpu.stat */
	CGROUP_NCONTROLLERS,
};

#define CGROUP_MOUNT_MAX 256

/* Where the host keeps each controller, found once from /proc/self/mountinfo. */
struct cgroup_system {
	char unified[CGROUP_MOUNT_MAX];                 /* v2 mount point, "" when none */
	char v1[CGROUP_NCONTROLLERS][CGROUP_MOUNT_MAX]; /* v1 hierarchy of a controller, "" */
	bool v2[CGROUP_NCONTROLLERS];                   /* controller used on the unified one */
};

/* "max" (no limit) in a cgroup_limits or cgroup_usage field. */
#define CGROUP_UNLIMITED UINT64_MAX

struct cgroup_limits {
	uint64_t memory_max;   /* bytes (swap: none beyond it); 0 = leave as is */
	uint64_t pids_max;     /* processes and threads; 0 = leave as is */
	unsigned cpu_weight;   /* 1..10000, v2 scale (100 = the default share); 0 = leave */
	uint64_t cpu_quota_us; /* CPU time per 100 ms period (200000 = two CPUs); 0 = none */
};

/* Which fields of a cgroup_usage could be read. */
enum {
	CGROUP_HAVE_MEMORY = 1 << 0, /* memory_current, memory_max, oom_kills */
	CGROUP_HAVE_PIDS = 1 << 1,   /* pids_current, pids_max */
	CGROUP_HAVE_CPU = 1 << 2,    /* cpu_usec */
};

struct cgroup_usage {
	unsigned have;           /* CGROUP_HAVE_* */
	uint64_t memory_current; /* bytes */
	uint64_t memory_max;     /* bytes or CGROUP_UNLIMITED */
	uint64_t oom_kills;      /* processes the OOM killer ended in this cgroup */
	uint64_t pids_current;
	uint64_t pids_max;       /* or CGROUP_UNLIMITED */
	uint64_t cpu_usec;       /* CPU time used by the cgroup's processes */
};

/* Detect this host's layout (cached after the first call). */
int cgroup_system_get(const struct cgroup_system **sys, struct error *err);

/* The same from a mountinfo file; a v2 mount's controllers are read from
 * MOUNT/cgroup.controllers.  Split out so unit tests can feed a fake host. */
int cgroup_system_parse(struct cgroup_system *sys, const char *mountinfo_path,
			struct error *err);

/* True when the host has no hierarchy at all for netsim to use. */
bool cgroup_system_empty(const struct cgroup_system *sys);

/* `path` (relative, e.g. "netsim/sim1/n1") must be [a-z0-9-] components. */
bool cgroup_path_valid(const char *path);

/* Create `path` in every hierarchy (missing ancestors too; an existing cgroup is
 * reused) and write `limits` (NULL: none).  A `parent` cgroup will hold child
 * cgroups but no process: on v2 it delegates its controllers to its children.
 * On failure nothing this call created remains. */
int cgroup_create(const struct cgroup_system *sys, const char *path, bool parent,
		  const struct cgroup_limits *limits, struct error *err);

/* Whether `path` exists in any hierarchy. */
bool cgroup_exists(const struct cgroup_system *sys, const char *path);

/* Move process `pid` (all its threads) into `path` in every hierarchy. */
int cgroup_attach(const struct cgroup_system *sys, const char *path, pid_t pid,
		  struct error *err);

/* Read what `path` uses.  A cgroup that does not exist reads with have = 0. */
int cgroup_usage_read(const struct cgroup_system *sys, const char *path,
		      struct cgroup_usage *u, struct error *err);

/* SIGKILL every process left in `path` and its descendants (cgroup.kill on v2),
 * wait for them to go, and remove the cgroups, leaves first.  A path that does
 * not exist is not an error.  With `prune_parents`, empty ancestors are removed
 * too (each only when no other child keeps it). */
int cgroup_remove(const struct cgroup_system *sys, const char *path, bool prune_parents,
		  struct error *err);

/* The value a limit file gets: "max" for CGROUP_UNLIMITED, else the number. */
void cgroup_format_limit(uint64_t value, char *buf, size_t len);

/* v2 cpu.weight (1..10000, default 100) → v1 cpu.shares (2..262144, default 1024). */
uint64_t cgroup_weight_to_shares(unsigned weight);

#endif
