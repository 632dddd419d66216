/* The fidelity watchdog: can the results of this sim be trusted right now?
 *
 * On a small machine a large sim silently stops behaving like a network: hellos
 * go out late, frames are dropped, timers fire seconds late, and a routing
 * protocol that is fine looks broken.  fidelity_sample() looks at the host over a
 * short window and says "ok" or "degraded: ..." with the reasons:
 *
 *   CPU pressure  PSI "some avg10" of the sim's cgroup (cpu.pressure on the
 *                 unified hierarchy), the host's /proc/pressure/cpu otherwise:
 *                 the share of time some task of the sim waited for a CPU;
 *   drops         frames the kernel dropped during the window: the host's
 *                 softnet backlog drops (/proc/net/softnet_stat, every CPU);
 *   neighbour     times a host-wide neighbour table was full since the sim came
 *                 up (neigh_limits.h): routing fails while it is;
 *   timers        how late the sim's processes run once woken: the mean time
 *                 a task of the sim waited on a run queue per time it was
 *                 scheduled during the window (/proc/PID/schedstat), the
 *                 lateness of every timer that fires in the sim.
 *
 * Thresholds (docs/performance.md, "Fidelity"): CPU pressure >= 40 %, any
 * drop, any neighbour-table overflow, timers >= 50 ms late.
 *
 * NETSIM_PROC_DIR (default /proc) lets the unit test run the sampler on files. */
#ifndef NETSIM_FIDELITY_H
#define NETSIM_FIDELITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct json_object;

struct fidelity_thresholds {
	double cpu_pressure_pct; /* degraded at or above */
	uint64_t drops;          /* degraded above */
	unsigned long neigh_fulls;
	double late_s;           /* degraded at or above */
};

extern const struct fidelity_thresholds fidelity_default_thresholds;

struct fidelity {
	bool have_psi;
	bool psi_of_sim;       /* the sim's own cgroup (else the host's) */
	double cpu_pressure;   /* %, PSI some avg10 */
	bool have_drops;
	uint64_t drops;        /* during the window */
	unsigned long neigh_fulls; /* since up, both families */
	bool have_late;
	double late_s;         /* mean run-queue wait per scheduling, window */
	double late_max_s;     /* the worst process's mean */
	unsigned procs;        /* processes sampled */
	unsigned window_ms;
	bool degraded;
	char reasons[160];     /* "CPU pressure 85%, 1200 drops, timers 2.1 s late" */
};

/* Pure parts (unit-tested). */
/* "some avg10=12.34 ..." -> 12.34; -EINVAL when there is no "some" line. */
int fidelity_parse_psi(const char *text, double *avg10);
/* Sum of the second column (dropped) over every CPU line of softnet_stat. */
int fidelity_parse_softnet(const char *text, uint64_t *dropped);
/* "RUNTIME RUN_DELAY PCOUNT" (ns ns count) of /proc/PID/schedstat. */
int fidelity_parse_schedstat(const char *text, uint64_t *run_delay_ns, uint64_t *pcount);
/* Sets degraded and reasons from the measures and the thresholds. */
void fidelity_evaluate(struct fidelity *f, const struct fidelity_thresholds *th);
/* "ok" or "degraded: REASONS" (measures that could not be taken are left out). */
void fidelity_line(const struct fidelity *f, char *buf, size_t len);
/* {"status":"ok"|"degraded","reasons":"...","cpu_pressure":..,"cpu_pressure_of":
 *  "sim"|"host","drops":..,"neigh_overflows":..,"timer_late_s":..,
 *  "timer_late_max_s":..,"procs":..,"window_ms":..}; a measure not taken is null. */
struct json_object *fidelity_json(const struct fidelity *f);

/* The window `status`, `converge`, `run` and the web view sample over. */
#define FIDELITY_WINDOW_MS 200

/* Sample SIM over window_ms (0 = no window: PSI and overflows only). */
int fidelity_sample(const char *sim, unsigned window_ms, struct fidelity *f,
		    struct error *err);

#endif
