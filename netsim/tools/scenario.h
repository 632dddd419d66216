/* Scenario files (format: docs/scenarios.md): a timeline of faults (`at 10s link
 * n1 n2 down`) and expectations (`expect reach n1 n3 within 20s`) run against a
 * running sim.  Like topologies, the parser reports every error as
 * "FILE:LINE: message" and a scenario with any error is never returned, so
 * nothing of it ever runs. */
#ifndef NETSIM_SCENARIO_H
#define NETSIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "tools/reach.h"
#include "topo/topo.h"

/* Times above this are typos (a missing "m" in "500ms"), not scenarios. */
#define SCENARIO_TIME_MAX_US (86400ULL * 1000000ULL)

enum scenario_kind {
	SCENARIO_ACTION,  /* at TIME VERB ARGS...: run `netsim VERB -s SIM ARGS...` */
	SCENARIO_WAIT,    /* wait TIME */
	SCENARIO_EXPECT,  /* expect reach|noreach FROM TO|all within TIME */
};

struct scenario_step {
	enum scenario_kind kind;
	int line;
	char *text;              /* the statement, tokens joined by one blank (reports) */
	uint64_t time_us;        /* ACTION: since the start; WAIT: how long; EXPECT: within */
	/* ACTION */
	char **argv;             /* VERB ARG..., NULL-terminated, without -s SIM */
	unsigned argc;
	/* EXPECT */
	bool reach;              /* reach (true) or noreach */
	bool all;                /* every pair, else from -> to */
	char from[TOPO_NAME_MAX + 1];
	char to[TOPO_NAME_MAX + 1];
};

struct scenario {
	char *path;              /* as given */
	struct scenario_step *steps;
	unsigned nsteps;
	unsigned nexpect;        /* how many steps are expectations */
};

/* The names a running sim has; naming anything else is an error too. */
struct scenario_names {
	const char *const *nodes;
	unsigned nnodes;
	const char *const *segments;
	unsigned nsegments;
};

/* Parse a file; `names` may be NULL (syntax only).  On error returns -EINVAL,
 * err->msg holds every error ("FILE:LINE: message", one per line) and *sc is
 * left empty. */
int scenario_parse_file(const char *path, const struct scenario_names *names,
			struct scenario *sc, struct error *err);
/* Same from memory; `name` stands for the file name in messages. */
int scenario_parse_string(const char *name, const char *text,
			  const struct scenario_names *names, struct scenario *sc,
			  struct error *err);
void scenario_free(struct scenario *sc);

/* What happened to one step. */
struct scenario_outcome {
	bool ran;                /* false: skipped after a failed action */
	bool ok;                 /* action exited 0 / expectation held in time */
	double scheduled;        /* ACTION: seconds since the start it was due */
	double started;          /* seconds since the start */
	double finished;
	double base;             /* EXPECT: the previous event's end, deadline = base+within */
	double measured;         /* EXPECT: seconds from base until it held; <0: never */
	unsigned pairs_ok, pairs;/* EXPECT: pairs that answered (reach) / stayed silent (noreach) */
	int status;              /* ACTION: exit status, or 128+signal */
	char *output;            /* ACTION: its stderr (malloc'd, may be NULL) */
};

struct scenario_env {
	const char *sim;
	const char *exe;         /* the netsim binary actions run: "/proc/self/exe" */
	const struct reach_node *nodes;
	unsigned nnodes;
	double probe_interval;   /* seconds between echoes of one pair (0.2) */
	double noreach_window;   /* silent seconds that prove "noreach" (1.0) */
	double action_timeout;   /* an action running longer is killed (120) */
	/* Called after each step (progress output); may be NULL. */
	void (*on_step)(const struct scenario *sc, unsigned step,
			const struct scenario_outcome *out, void *arg);
	void *arg;
};

/* Run every step in order.  out[] has sc->nsteps entries.  Returns 0 when the
 * scenario ran (check out[].ok: a failed action stops the run, a failed
 * expectation does not), negative errno when it could not be run at all. */
int scenario_run(const struct scenario *sc, const struct scenario_env *env,
		 struct scenario_outcome *out, struct error *err);
void scenario_outcomes_free(struct scenario_outcome *out, unsigned n);

#endif
