/* netsim run: scenario files (faults on a timeline, with expectations) against a
 * running sim; open_reach_sim() serves netsim converge too. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/fidelity.h"
#include "sim/json_out.h"
#include "sim/sim.h"
#include "tools/scenario.h"
#include "topo/units.h"

enum { OPT_CHECK = OPT_VERB_BASE };

int open_reach_sim(const char *given, char *sim, size_t len, struct reach_sim *rs,
		   struct error *err)
{
	if (sim_pick(given, sim, len, err) < 0 || reach_sim_open(sim, rs, err) < 0)
		return error_prefix(err, "%s", current_verb->name);
	return 0;
}

static void format_within(const struct scenario_step *step, char *buf, size_t len)
{
	units_format_time(step->time_us, buf, (unsigned)len);
}

/* The result column of one timeline line. */
static void describe(const struct scenario_step *step, const struct scenario_outcome *o,
		     char *buf, size_t len)
{
	char within[32];
	format_within(step, within, sizeof(within));
	switch (step->kind) {
	case SCENARIO_ACTION:
		if (o->ok)
			snprintf(buf, len, "ok (due %.2f s, took %.2f s)", o->scheduled,
				 o->finished - o->started);
		else
			snprintf(buf, len, "FAILED (exit status %d)", o->status);
		break;
	case SCENARIO_WAIT:
		snprintf(buf, len, "ok");
		break;
	case SCENARIO_EXPECT:
		if (step->reach && o->ok)
			snprintf(buf, len, "PASS after %.2f s", o->measured);
		else if (step->reach && o->measured >= 0)
			snprintf(buf, len, "FAIL: took %.2f s", o->measured);
		else if (step->reach)
			snprintf(buf, len, "FAIL: %u/%u pair%s answered within %s", o->pairs_ok,
				 o->pairs, plural(o->pairs), within);
		else if (o->ok)
			snprintf(buf, len, "PASS: silent from %.2f s", o->measured);
		else if (o->measured >= 0)
			snprintf(buf, len, "FAIL: silent only from %.2f s", o->measured);
		else
			snprintf(buf, len, "FAIL: %u/%u pair%s still answering after %s",
				 o->pairs - o->pairs_ok, o->pairs, plural(o->pairs), within);
		break;
	}
}

static void print_step(const struct scenario *sc, unsigned i, const struct scenario_outcome *o,
		       void *arg)
{
	(void)arg;
	const struct scenario_step *step = &sc->steps[i];
	char result[160];
	describe(step, o, result, sizeof(result));
	printf("%8.2f s  %-40s %s\n", o->started, step->text, result);
	if (step->kind == SCENARIO_ACTION && !o->ok && o->output && o->output[0]) {
		/* the action's own error message, as it printed it */
		for (const char *p = o->output; *p;) {
			size_t l = strcspn(p, "\n");
			printf("            | %.*s\n", (int)l, p);
			p += l;
			if (*p)
				p++;
		}
	}
	fflush(stdout);
}

static void add_seconds(struct json_object *o, const char *key, double seconds)
{
	json_object_object_add(o, key, json_out_double("%.3f", seconds));
}

static void print_run_json(const char *sim, const struct scenario *sc,
			   const struct scenario_outcome *out, unsigned passed, bool ok,
			   double seconds)
{
	static const char *const kinds[] = {"action", "wait", "expect"};
	struct json_object *o = json_object_new_object(), *steps = json_object_new_array();
	json_object_object_add(o, "sim", json_object_new_string(sim));
	json_object_object_add(o, "scenario", json_object_new_string(sc->path));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	add_seconds(o, "seconds", seconds);
	json_object_object_add(o, "expectations", json_object_new_int64(sc->nexpect));
	json_object_object_add(o, "passed", json_object_new_int64(passed));
	for (unsigned i = 0; i < sc->nsteps; i++) {
		const struct scenario_step *step = &sc->steps[i];
		const struct scenario_outcome *so = &out[i];
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "line", json_object_new_int(step->line));
		json_object_object_add(j, "kind", json_object_new_string(kinds[step->kind]));
		json_object_object_add(j, "text", json_object_new_string(step->text));
		json_object_object_add(j, "ran", json_object_new_boolean(so->ran));
		json_object_object_add(j, "ok", json_object_new_boolean(so->ran && so->ok));
		if (so->ran) {
			add_seconds(j, "started", so->started);
			add_seconds(j, "finished", so->finished);
		}
		if (step->kind == SCENARIO_ACTION) {
			add_seconds(j, "scheduled", (double)step->time_us / 1e6);
			if (so->ran) {
				json_object_object_add(j, "status", json_object_new_int(so->status));
				/* the action's stderr: text a node may have written */
				json_object_object_add(j, "stderr",
						       json_object_new_string(so->output ? so->output : ""));
			}
		} else if (step->kind == SCENARIO_EXPECT) {
			add_seconds(j, "within", (double)step->time_us / 1e6);
			if (so->ran) {
				add_seconds(j, "since", so->base);
				/* null: the expectation never held */
				json_object_object_add(j, "seconds", so->measured >= 0
						       ? json_out_double("%.3f", so->measured) : NULL);
				json_object_object_add(j, "pairs_ok", json_object_new_int64(so->pairs_ok));
				json_object_object_add(j, "pairs", json_object_new_int64(so->pairs));
			}
		}
		json_object_array_add(steps, j);
	}
	json_object_object_add(o, "steps", steps);
	struct fidelity fid;
	struct error fid_err = {0};
	json_object_object_add(o, "fidelity",
			       fidelity_sample(sim, FIDELITY_WINDOW_MS, &fid, &fid_err) == 0
				       ? fidelity_json(&fid) : NULL);
	json_out_write(stdout, o);
}

/* The fidelity line after a run: was the host able to keep up? */
static void print_fidelity(const char *sim)
{
	struct fidelity fid;
	struct error fid_err = {0};
	char line[256];
	if (fidelity_sample(sim, FIDELITY_WINDOW_MS, &fid, &fid_err) < 0)
		return;
	fidelity_line(&fid, line, sizeof(line));
	printf("fidelity: %s\n", line);
}

/* Parse with the sim's node and segment names, so that a typo in a name is
 * found before anything runs. */
static int parse_for_sim(const char *path, const char *sim, const struct reach_sim *rs,
			 struct scenario *sc, struct error *err)
{
	struct topo t;
	int r = sim_topology(sim, &t, err);
	if (r < 0)
		return error_prefix(err, "run");
	const char **nodes = calloc(rs->n + 1, sizeof(*nodes));
	const char **segments = calloc(t.nsegments + 1, sizeof(*segments));
	if (!nodes || !segments) {
		r = error_set(err, ENOMEM, "run");
		goto out;
	}
	for (unsigned i = 0; i < rs->n; i++)
		nodes[i] = rs->nodes[i].name;
	for (unsigned i = 0; i < t.nsegments; i++)
		segments[i] = t.segments[i].name;
	struct scenario_names names = {nodes, rs->n, segments, t.nsegments};
	r = scenario_parse_file(path, &names, sc, err);
out:
	free(nodes);
	free(segments);
	topo_free(&t);
	return r;
}

static int cmd_run(int argc, char **argv, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"check", no_argument, NULL, OPT_CHECK},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	const char *given = NULL;
	bool json = false, check_only = false;
	int c;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's': given = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_CHECK: check_only = true; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	if (optind + 1 != argc)
		return verb_usage(err, optind == argc ? "missing SCENARIO file" : "too many arguments");
	const char *path = argv[optind];
	struct scenario sc;
	if (check_only && !given) {
		/* syntax only: no sim to check node names against */
		if (scenario_parse_file(path, NULL, &sc, err) < 0)
			return EXIT_FAIL;
		printf("%s: %u step%s, %u expectation%s\n", path, sc.nsteps, plural(sc.nsteps),
		       sc.nexpect, plural(sc.nexpect));
		scenario_free(&sc);
		return 0;
	}
	if (require_root(err))
		return EXIT_FAIL;
	char sim[TOPO_SIM_MAX + 1];
	struct reach_sim rs;
	if (open_reach_sim(given, sim, sizeof(sim), &rs, err) < 0)
		return EXIT_FAIL;
	int rc = EXIT_FAIL;
	struct scenario_outcome *out = NULL;
	int parsed = parse_for_sim(path, sim, &rs, &sc, err);
	if (parsed < 0) {
		reach_sim_close(&rs);
		return EXIT_FAIL;
	}
	if (check_only) {
		printf("%s: %u step%s, %u expectation%s\n", path, sc.nsteps, plural(sc.nsteps),
		       sc.nexpect, plural(sc.nexpect));
		rc = EXIT_OK;
		goto out_scenario;
	}
	out = calloc(sc.nsteps, sizeof(*out));
	if (!out) {
		verb_fail(err, "run: out of memory");
		goto out_scenario;
	}
	struct scenario_env env = {
		.sim = sim,
		.exe = "/proc/self/exe",
		.nodes = rs.nodes,
		.nnodes = rs.n,
		.probe_interval = 0.2,
		.noreach_window = 1.0,
		.action_timeout = 120,
		.on_step = json ? NULL : print_step,
	};
	if (!json)
		printf("run %s on sim %s: %u step%s, %u expectation%s\n", path, sim, sc.nsteps,
		       plural(sc.nsteps), sc.nexpect, plural(sc.nexpect));
	if (scenario_run(&sc, &env, out, err) < 0) {
		error_prefix(err, "run: %s", path);
		goto out_scenario;
	}
	unsigned passed = 0, failed_action = 0;
	double seconds = 0;
	for (unsigned i = 0; i < sc.nsteps; i++) {
		if (!out[i].ran)
			continue;
		seconds = out[i].finished;
		if (sc.steps[i].kind == SCENARIO_EXPECT && out[i].ok)
			passed++;
		if (sc.steps[i].kind == SCENARIO_ACTION && !out[i].ok)
			failed_action = i + 1;
	}
	bool ok = !failed_action && passed == sc.nexpect;
	if (json) {
		print_run_json(sim, &sc, out, passed, ok, seconds);
	} else {
		for (unsigned i = 0; i < sc.nsteps; i++)
			if (!out[i].ran)
				printf("%8s    %-40s skipped\n", "-", sc.steps[i].text);
		if (failed_action)
			printf("run %s: FAIL: the action at line %d failed; %u/%u expectation%s "
			       "passed before it\n",
			       path, sc.steps[failed_action - 1].line, passed, sc.nexpect,
			       plural(sc.nexpect));
		else
			printf("run %s: %s: %u/%u expectation%s passed in %.1f s\n", path,
			       ok ? "PASS" : "FAIL", passed, sc.nexpect, plural(sc.nexpect), seconds);
		print_fidelity(sim);
	}
	rc = ok ? EXIT_OK : EXIT_FAIL;
out_scenario:
	scenario_outcomes_free(out, sc.nsteps);
	free(out);
	scenario_free(&sc);
	reach_sim_close(&rs);
	return rc;
}

const struct verb verb_run = {"run", "run [-s SIM] [--json] [--check] SCENARIO",
		"Run a scenario file (docs/scenarios.md) against a running sim: faults on a\n"
		"timeline (`at 10s link n1 n2 down`, `at 40s node n2 restart`) and\n"
		"expectations (`expect reach n1 n3 within 20s`, `expect noreach n1 n3\n"
		"within 5s`, `expect reach all within 30s`).  The whole file is checked\n"
		"first, node names against the sim included; any error (FILE:LINE: message)\n"
		"and nothing runs.  Actions run as `netsim VERB -s SIM ...`; a failing action\n"
		"stops the run and its error is shown.  Prints a timeline: each step with\n"
		"its actual time, each expectation with the measured time to (re)converge\n"
		"and PASS/FAIL.  Exit status 0 when every action succeeded and every\n"
		"expectation passed, 1 otherwise.\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n"
		"      --json       one JSON object at the end instead of the timeline\n"
		"      --check      only check the file (node names too with -s); run nothing\n",
		.in_vm = VERB_IN_VM_RUN,
	.run = cmd_run};
