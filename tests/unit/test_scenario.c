/* Scenario files: one test per grammar rule and per error (each error pins the
 * exact FILE:LINE and message), time edge cases, and the runner's handling of
 * actions (run through a stand-in script instead of netsim, so no root is
 * needed).  Format reference: docs/scenarios.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/scenario.h"
#include "tap.h"

#define FILE_NAME "t.scenario"

static const char *const sim_nodes[] = {"n1", "n2", "n3"};
static const char *const sim_segments[] = {"air0"};
static const struct scenario_names names = {sim_nodes, 3, sim_segments, 1};

static void diag(const char *msg)
{
	printf("#   ");
	for (; *msg; msg++) {
		putchar(*msg);
		if (*msg == '\n')
			printf("#   ");
	}
	putchar('\n');
}

static int parse_ok(const char *text, const struct scenario_names *with, struct scenario *sc,
		    const char *what)
{
	struct error err = {0};
	int r = scenario_parse_string(FILE_NAME, text, with, sc, &err);
	if (!ok(r == 0, "%s: parses", what))
		diag(err.msg);
	return r == 0;
}

static void fails_with(const char *text, const struct scenario_names *with, const char *want,
		       const char *what)
{
	struct scenario sc;
	struct error err = {0};
	memset(&sc, 0xaa, sizeof(sc)); /* the parser must not rely on a zeroed scenario */
	int r = scenario_parse_string(FILE_NAME, text, with, &sc, &err);
	is_int(r, -EINVAL, "%s: refused", what);
	is_str(err.msg, want, "%s: message", what);
	ok(sc.nsteps == 0 && sc.steps == NULL && sc.path == NULL, "%s: scenario left empty", what);
	scenario_free(&sc);
}

static void fails(const char *text, const char *want, const char *what)
{
	fails_with(text, &names, want, what);
}

static void test_steps(void)
{
	struct scenario sc;
	const char *text = "# cut and heal\n"
			   "\n"
			   "at 10s link n1 n2 down   # cut\n"
			   "expect noreach n1 n3 within 5s\n"
			   "  at\t30s  link n1 n2 up\r\n"
			   "expect reach all within 30s\n"
			   "at 40s node n2 restart\n"
			   "expect reach n1 n3 within 20s\n"
			   "wait 2.5s\n"
			   "at 45s link n1 n2 set rate=1mbit delay=5ms loss=1%\n"
			   "at 45s link n1 n2 clear rate\n"
			   "at 46s link n1 n2 clear\n"
			   "at 47s link n1:eth0 n2:eth0 down\n"
			   "at 48s link air0 down\n"
			   "at 49s link air0 n3 up\n"
			   "at 50s link air0 set loss=5%\n"
			   "at 51s node n3 stop\n"
			   "at 52s node n3 start\n"
			   "expect noreach all within 1s";
	if (!parse_ok(text, &names, &sc, "every statement"))
		return;
	is_str(sc.path, FILE_NAME, "path kept");
	is_int(sc.nsteps, 17, "17 steps");
	is_int(sc.nexpect, 4, "4 expectations");
	const struct scenario_step *s = sc.steps;
	is_int(s[0].kind, SCENARIO_ACTION, "at ... is an action");
	is_int(s[0].line, 3, "line numbers count comments and blank lines");
	is_int(s[0].time_us, 10000000, "at 10s");
	is_int(s[0].argc, 4, "action argv: link n1 n2 down");
	is_str(s[0].argv[0], "link", "argv[0] is the verb");
	is_str(s[0].argv[3], "down", "argv[3]");
	ok(s[0].argv[4] == NULL, "argv is NULL-terminated");
	is_str(s[0].text, "at 10s link n1 n2 down", "text: tokens joined, comment dropped");
	is_int(s[1].kind, SCENARIO_EXPECT, "expect");
	ok(!s[1].reach && !s[1].all, "noreach of a pair");
	is_str(s[1].from, "n1", "from");
	is_str(s[1].to, "n3", "to");
	is_int(s[1].time_us, 5000000, "within 5s");
	is_str(s[2].text, "at 30s link n1 n2 up", "tabs, leading blanks and CR are blanks");
	ok(s[3].reach && s[3].all, "reach all");
	is_int(s[3].time_us, 30000000, "within 30s");
	is_str(s[4].argv[0], "node", "node action");
	is_str(s[4].argv[2], "restart", "node restart");
	is_int(s[6].kind, SCENARIO_WAIT, "wait");
	is_int(s[6].time_us, 2500000, "wait 2.5s");
	is_int(s[7].argc, 7, "link set with three attributes");
	is_str(s[7].argv[6], "loss=1%", "attributes passed as written");
	is_int(s[8].time_us, s[7].time_us, "two events at the same time are fine");
	is_int(s[9].argc, 4, "clear without attributes");
	is_str(s[10].argv[1], "n1:eth0", "NODE:IF ends");
	is_int(s[11].argc, 3, "a whole segment");
	is_str(s[12].argv[2], "n3", "one member of a segment");
	ok(!s[16].reach && s[16].all, "noreach all");
	scenario_free(&sc);

	/* the topology's own interface names and quality grammar (topo/) */
	if (parse_ok("at 1s link n1:wan+1 n2:br@x.5 down\n"
		     "at 2s link n1 n2 set jitter=2ms reorder=5%\n",
		     &names, &sc, "an interface name the kernel and a topology take; a change "
		     "leaning on the link's delay"))
		scenario_free(&sc);
	ok(sc.steps == NULL && sc.nsteps == 0, "scenario_free empties it");
	scenario_free(&sc);

	if (parse_ok("at 1s link air0 n3 down\nexpect reach n1 n9 within 1s\n", NULL, &sc,
		     "without the sim's names only the syntax is checked")) {
		is_int(sc.nsteps, 2, "both steps");
		scenario_free(&sc);
	}
}

static void test_times(void)
{
	struct scenario sc;
	if (parse_ok("at 0s link n1 n2 down\n"
		     "at 0.5s link n1 n2 up\n"
		     "at 750ms node n1 restart\n"
		     "at 800000us node n1 restart\n"
		     "wait 0s\n"
		     "wait .5s\n"
		     "expect reach n1 n2 within 1us\n"
		     "at 86400s node n1 stop\n",
		     &names, &sc, "time forms")) {
		is_int(sc.steps[0].time_us, 0, "at 0s");
		is_int(sc.steps[1].time_us, 500000, "0.5s");
		is_int(sc.steps[2].time_us, 750000, "750ms");
		is_int(sc.steps[3].time_us, 800000, "800000us");
		is_int(sc.steps[4].time_us, 0, "wait 0s is allowed");
		is_int(sc.steps[5].time_us, 500000, ".5s");
		is_int(sc.steps[6].time_us, 1, "within 1us");
		is_int(sc.steps[7].time_us, 86400000000LL, "24 hours is the limit");
		scenario_free(&sc);
	}
	fails("at 10 link n1 n2 down\n",
	      FILE_NAME ":1: at `10`: expected a time such as 10s, 500ms or 1.5s",
	      "a time needs a unit");
	fails("at 10 s link n1 n2 down\n",
	      FILE_NAME ":1: at `10`: expected a time such as 10s, 500ms or 1.5s\n" FILE_NAME
			":1: unknown action `s` (expected link, node, move or air)",
	      "no blank before the unit (both errors of the line)");
	fails("at -1s link n1 n2 down\n",
	      FILE_NAME ":1: at `-1s`: expected a time such as 10s, 500ms or 1.5s",
	      "negative time");
	fails("at 1.s link n1 n2 down\n",
	      FILE_NAME ":1: at `1.s`: expected a time such as 10s, 500ms or 1.5s",
	      "a dot without decimals");
	fails("at 1m link n1 n2 down\n",
	      FILE_NAME ":1: at `1m`: expected a time such as 10s, 500ms or 1.5s",
	      "minutes are not a unit");
	fails("at 86400.000001s link n1 n2 down\n", FILE_NAME ":1: at 86400.000001s: more than 24 hours",
	      "just above 24 hours");
	fails("wait 99999999999999999999999s\n",
	      FILE_NAME ":1: wait 99999999999999999999999s: more than 24 hours", "overflow");
	fails("expect reach all within 0s\n", FILE_NAME ":1: within 0s: must be above 0",
	      "within 0s");
	fails("expect reach all within 0.0000001s\n",
	      FILE_NAME ":1: within 0.0000001s: must be above 0", "within rounds to 0us");
	fails("at 30s link n1 n2 down\nat 10s link n1 n2 up\n",
	      FILE_NAME ":2: at 10s is before the previous event (at 30s, line 1)",
	      "events go forward in time");
	fails("at 30s link n1 n2 down\nwait 5s\nat 29.999s link n1 n2 up\n",
	      FILE_NAME ":3: at 29.999s is before the previous event (at 30s, line 1)",
	      "...also across a wait");
}

static void test_errors(void)
{
	fails("", FILE_NAME ":1: no steps (add `at`, `wait` or `expect` lines)", "empty file");
	fails("# only\n# comments\n",
	      FILE_NAME ":2: no steps (add `at`, `wait` or `expect` lines)", "only comments");
	fails("at 1s link n1 n2 down\nlink n1 n2 up\n",
	      FILE_NAME ":2: unknown keyword `link` (expected at, wait or expect)",
	      "an action needs `at`");
	fails("At 1s link n1 n2 down\n",
	      FILE_NAME ":1: unknown keyword `At` (expected at, wait or expect)",
	      "keywords are case-sensitive");
	fails("at\n", FILE_NAME ":1: at: expected `at TIME ACTION`, e.g. at 10s link n1 n2 down",
	      "at alone");
	fails("at 5s\n",
	      FILE_NAME ":1: at 5s: missing the action (`link NODE NODE up|down|set KEY=VALUE...|clear "
			"[KEY...]` or `link SEGMENT [NODE] up|down`, `node NODE stop|start|restart`, "
			"`move NODE to X,Y[,Z] [over TIME]` or `air SEGMENT pair A B|A>B "
			"loss=..|rate=..|delay=..|cut|clear...`)",
	      "at without an action");
	fails("at 5s reboot n1\n", FILE_NAME ":1: unknown action `reboot` (expected link, node, move or air)",
	      "unknown action");
	fails("at 5s link n1\n",
	      FILE_NAME ":1: link: expected `link NODE NODE up|down|set KEY=VALUE...|clear [KEY...]` "
			"or `link SEGMENT [NODE] up|down`",
	      "link with one word");
	fails("at 5s link n1 n2 flap\n",
	      FILE_NAME ":1: link: unknown operation `flap` (expected up, down, set or clear)",
	      "unknown link operation");
	fails("at 5s link n1 n2 down now\n", FILE_NAME ":1: link down: unexpected `now`",
	      "extra word after down");
	fails("at 5s link n1 n1 down\n", FILE_NAME ":1: link: both ends are n1", "self link");
	fails("at 5s link n1 N2 down\n",
	      FILE_NAME ":1: link: `N2` is not a valid node name ([a-z0-9-], 1 to 12 characters, "
			"not starting with '-')",
	      "bad node name");
	fails("at 5s link n1 n9 down\n", FILE_NAME ":1: link: the sim has no node n9",
	      "unknown node");
	fails("at 5s link n1:eth/0 n2 down\n", FILE_NAME ":1: link: `eth/0` is not a valid interface name (1 to "
			"15 characters, no '/', ':', '%' or blanks)",
	      "bad interface name");
	fails("at 5s link n1: n2 down\n", FILE_NAME ":1: link: `` is not a valid interface name (1 to 15 "
			"characters, no '/', ':', '%' or blanks)",
	      "empty interface name");
	fails("at 5s link air9 down\n", FILE_NAME ":1: link: the sim has no segment air9",
	      "unknown segment");
	fails("at 5s link n1 down\n",
	      FILE_NAME ":1: link: a link is named by both of its nodes (link n1 NODE down)",
	      "a node is not a segment");
	fails("at 5s link air0 n3 set loss=1%\n",
	      FILE_NAME ":1: link air0 n3: one member of a segment only goes up or down",
	      "segment member set");
	fails("at 5s link air0 n9 down\n", FILE_NAME ":1: link: the sim has no node n9",
	      "unknown segment member");
	fails("at 5s link n1 n2 set\n",
	      FILE_NAME ":1: link set: give at least one KEY=VALUE (rate, delay, jitter, loss, "
			"duplicate, reorder)",
	      "set without attributes");
	fails("at 5s link n1 n2 set rate\n", FILE_NAME ":1: link set: `rate` is not an attribute (KEY=VALUE)",
	      "attribute without =");
	fails("at 5s link n1 n2 set rate=\n", FILE_NAME ":1: link set: rate= has an empty value",
	      "attribute without a value");
	fails("at 5s link n1 n2 set speed=1mbit\n",
	      FILE_NAME ":1: link set: unknown link attribute `speed` (valid: rate, delay, jitter, loss, "
			"duplicate, reorder)",
	      "unknown attribute");
	fails("at 5s link n1 n2 set rate=1mbit rate=2mbit\n",
	      FILE_NAME ":1: link set: rate= given twice", "attribute twice");
	fails("at 5s link n1 n2 set rate=fast delay=5 loss=200%\n",
	      FILE_NAME ":1: link set: rate=fast: expected a rate such as 54mbit, 500kbit, 1gbit or "
			"10mbps (bytes)\n"
		FILE_NAME ":1: link set: delay=5: expected a time such as 5ms, 200us or 1.5s\n"
		FILE_NAME ":1: link set: loss=200% is out of range; use a percentage from 0% to 100%, "
			"such as "
			"1% or 0.5%",
	      "bad values, every one reported");
	fails("at 5s link n1 n2 clear loss=1%\n",
	      FILE_NAME ":1: link clear: unknown attribute `loss=1%` (valid: rate, delay, jitter, "
			"loss, duplicate, reorder)",
	      "clear takes names only");
	fails("at 5s node n1\n", FILE_NAME ":1: node: expected `node NODE stop|start|restart`",
	      "node without operation");
	fails("at 5s node n1 reboot\n",
	      FILE_NAME ":1: node: unknown operation `reboot` (expected stop, start or restart)",
	      "unknown node operation");
	fails("at 5s node n7 stop\n", FILE_NAME ":1: node: the sim has no node n7",
	      "node not in the sim");
	fails("wait\n", FILE_NAME ":1: wait: expected `wait TIME`, e.g. wait 5s", "wait alone");
	fails("wait 5s 6s\n", FILE_NAME ":1: wait: expected `wait TIME`, e.g. wait 5s",
	      "wait with two times");
	fails("wait soon\n", FILE_NAME ":1: wait `soon`: expected a time such as 10s, 500ms or 1.5s",
	      "wait with a bad time");
	const char *form = FILE_NAME ":1: expect: expected `expect reach|noreach NODE NODE within "
				     "TIME` or `expect reach|noreach all within TIME`";
	fails("expect\n", form, "expect alone");
	fails("expect ping n1 n2 within 5s\n", FILE_NAME ":1: expect: `ping` is not reach or noreach",
	      "expect what");
	fails("expect reach n1 n2\n", form, "expect without within");
	fails("expect reach n1 within 5s\n", form, "expect with one node");
	fails("expect reach n1 n2 in 5s\n", form, "in instead of within");
	fails("expect reach all within 5s please\n",
	      FILE_NAME ":1: expect: unexpected `please` after the time", "extra word");
	fails("expect reach n1 n1 within 5s\n", FILE_NAME ":1: expect: both ends are n1",
	      "a node and itself");
	fails("expect noreach n1 n8 within 5s\n", FILE_NAME ":1: expect: the sim has no node n8",
	      "expect names an unknown node");
	fails("expect reach n1 n2 within 5\n",
	      FILE_NAME ":1: within `5`: expected a time such as 10s, 500ms or 1.5s",
	      "within without unit");
}

/* Several errors: all of them, in line order, and nothing of the file kept. */
static void test_all_errors(void)
{
	fails("at 1s link n1 n2 down\n"
	      "bogus\n"
	      "at 2s node n9 stop\n"
	      "expect reach n1 n2 within 5s\n"
	      "wait forever\n",
	      FILE_NAME ":2: unknown keyword `bogus` (expected at, wait or expect)\n" FILE_NAME
			":3: node: the sim has no node n9\n" FILE_NAME
			":5: wait `forever`: expected a time such as 10s, 500ms or 1.5s",
	      "three errors among good lines");
	char big[8192] = "";
	for (int i = 0; i < 200; i++)
		strcat(big, "nonsense\n");
	struct scenario sc;
	struct error err = {0};
	ok(scenario_parse_string(FILE_NAME, big, &names, &sc, &err) == -EINVAL &&
		   strstr(err.msg, "more errors") != NULL,
	   "200 errors: the message ends with how many more there were");
}

static int write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	return chmod(path, 0755);
}

struct seen {
	unsigned calls;
	unsigned last;
};

static void on_step(const struct scenario *sc, unsigned step, const struct scenario_outcome *o,
		    void *arg)
{
	(void)sc;
	(void)o;
	struct seen *s = arg;
	s->calls++;
	s->last = step;
}

/* The runner with a stand-in for netsim: argv, timing, failures, timeouts. */
static void test_runner(void)
{
	char dir[] = "/tmp/test_scenario.XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	char exe[256], log[256], body[1024];
	snprintf(exe, sizeof(exe), "%s/fake-netsim", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	/* Records its arguments; `node n3 ...` fails like a verb would; n2 hangs. */
	snprintf(body, sizeof(body),
		 "echo \"$*\" >>%s\n"
		 "echo 'this goes to stdout'\n"
		 "case \"$*\" in *n3*) echo 'netsim: node: n3 is on fire' >&2; exit 3;; esac\n"
		 "case \"$*\" in *n2\\ stop*) exec sleep 30;; esac\n"
		 "exit 0",
		 log);
	write_script(exe, body);

	struct scenario sc;
	struct error err = {0};
	if (!parse_ok("at 0.2s link n1 n2 set rate=1mbit\n"
		      "expect reach all within 1s\n"
		      "wait 0.1s\n"
		      "expect noreach all within 1s\n"
		      "at 0.3s node n3 restart\n"
		      "at 0.4s link n1 n2 up\n",
		      &names, &sc, "runner scenario"))
		return;
	struct scenario_outcome out[6];
	struct seen seen = {0, 0};
	struct scenario_env env = {.sim = "lab", .exe = exe, .nodes = NULL, .nnodes = 0,
				   .probe_interval = 0.05, .noreach_window = 0.1,
				   .action_timeout = 5, .on_step = on_step, .arg = &seen};
	int r = scenario_run(&sc, &env, out, &err);
	if (!ok(r == 0, "scenario runs"))
		diag(err.msg);
	ok(out[0].ran && out[0].ok, "first action ran and succeeded");
	ok(out[0].started >= 0.2 && out[0].started < 1.0, "...at its time (%.3f s)", out[0].started);
	is_int(out[0].status, 0, "...exit status 0");
	ok(out[1].ran && out[1].ok && out[1].measured >= 0, "expect with no pairs holds at once");
	ok(out[1].base == out[0].finished, "expect measures from the end of the previous action");
	ok(out[2].ok && out[2].finished - out[2].started >= 0.1, "wait waits");
	ok(out[3].ok && out[3].base == out[2].finished, "after a wait, expect counts from its end");
	ok(out[4].ran && !out[4].ok, "failing action fails");
	is_int(out[4].status, 3, "...with its exit status");
	is_str(out[4].output, "netsim: node: n3 is on fire", "...and its stderr, not stdout");
	ok(!out[5].ran, "a failed action stops the run");
	is_int(seen.calls, 5, "on_step called once per step run");
	FILE *f = fopen(log, "r");
	char line[256] = "";
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	is_str(line, "link -s lab n1 n2 set rate=1mbit\n",
	       "action runs as VERB -s SIM ARGS (the child's argv)");
	scenario_outcomes_free(out, 6);
	scenario_free(&sc);

	if (parse_ok("at 0s node n2 stop\n", &names, &sc, "hanging action")) {
		env.action_timeout = 0.3;
		env.on_step = NULL;
		r = scenario_run(&sc, &env, out, &err);
		ok(r == 0 && !out[0].ok && out[0].finished < 5, "an action past its timeout is killed");
		is_str(out[0].output, "netsim: still running after 0.3 s; killed", "...and says so");
		scenario_outcomes_free(out, 1);
		scenario_free(&sc);
	}

	if (parse_ok("at 0s node n1 stop\n", &names, &sc, "missing binary")) {
		env.exe = "/nonexistent/netsim";
		r = scenario_run(&sc, &env, out, &err);
		ok(r == 0 && !out[0].ok && out[0].status == 127, "a binary that cannot run: status 127");
		ok(out[0].output && strstr(out[0].output, "No such file") != NULL,
		   "...with the reason");
		scenario_outcomes_free(out, 1);
		scenario_free(&sc);
	}
	unlink(exe);
	unlink(log);
	rmdir(dir);
}

static void test_radio_steps(void)
{
	struct scenario sc;
	if (parse_ok("at 1s move n3 to 300,0 over 30s\n"
		     "at 2s move n1 to -5,2.5,1\n"
		     "at 3s air air0 pair n1>n2 loss=40%\n"
		     "at 4s air air0 pair n1 n3 cut\n"
		     "at 5s air air0 pair n1 n2 clear\n",
		     &names, &sc, "radio steps")) {
		is_int(sc.nsteps, 5, "five steps");
		const struct scenario_step *m = &sc.steps[0];
		ok(m->argc == 6 && strcmp(m->argv[0], "node") == 0 && strcmp(m->argv[1], "n3") == 0 &&
			   strcmp(m->argv[2], "move") == 0 && strcmp(m->argv[3], "300,0") == 0 &&
			   strcmp(m->argv[4], "--over") == 0 && strcmp(m->argv[5], "30s") == 0 &&
			   m->argv[6] == NULL,
		   "move ... over is node NODE move POS --over T");
		is_str(sc.steps[1].argv[5], "0s", "a move without over jumps");
		is_str(m->text, "at 1s move n3 to 300,0 over 30s", "the step reads as written");
		const struct scenario_step *a = &sc.steps[2];
		ok(a->argc == 5 && strcmp(a->argv[0], "air") == 0 && strcmp(a->argv[1], "air0") == 0 &&
			   strcmp(a->argv[3], "n1>n2") == 0 && strcmp(a->argv[4], "loss=40%") == 0,
		   "air ... is the air verb");
		scenario_free(&sc);
	}
	fails("at 1s move n3 300,0\n", FILE_NAME ":1: move: expected `move NODE to X,Y[,Z] [over TIME]`",
	      "move without to");
	fails("at 1s move n9 to 1,2\n", FILE_NAME ":1: move: the sim has no node n9", "move of no node");
	fails("at 1s move n1 to 1\n",
	      FILE_NAME ":1: move: `1` is no position: give X,Y or X,Y,Z in metres", "bad position");
	fails("at 1s move n1 to 1,2 over 5\n",
	      FILE_NAME ":1: move over `5`: expected a time such as 10s, 500ms or 1.5s", "bad over");
	fails("at 1s air air9 pair n1 n2 cut\n", FILE_NAME ":1: air: the sim has no segment air9",
	      "air of no segment");
	fails("at 1s air air0 pair n1>n1 cut\n", FILE_NAME ":1: air pair: both ends are n1",
	      "pair to itself");
	fails("at 1s air air0 pair n1 n2 delay=2ms jitter=1ms\n",
	      FILE_NAME ":1: air pair: a pair takes loss=, rate=, delay=, cut and clear only",
	      "pair with jitter");
	fails("at 1s air air0 pair n1 n2\n",
	      FILE_NAME ":1: air pair: give loss=, rate=, delay=, cut or clear", "pair without change");
	fails("at 1s air air0 pair n1 n2 loss=4\n",
	      FILE_NAME ":1: air pair: loss=4: expected a percentage from 0% to 100%, such as 1% or 0.5%",
	      "pair with a bad loss");
	fails("at 1s air air0 n1 n2 cut\n",
	      FILE_NAME ":1: air: expected `air SEGMENT pair A B|A>B loss=..|rate=..|delay=..|cut|clear...`",
	      "air without pair");
}

int main(void)
{
	test_steps();
	test_times();
	test_errors();
	test_all_errors();
	test_radio_steps();
	test_runner();
	return tap_done();
}
