/* The fidelity watchdog: parsers, thresholds, its line and JSON, and the sampler
 * on a fake /proc (NETSIM_PROC_DIR) and a fake run dir (NETSIM_RUN_DIR). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"
#include "sim/fidelity.h"
#include "tap.h"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static void test_parsers(void)
{
	double v = -1;
	is_int(fidelity_parse_psi("some avg10=12.34 avg60=1.00 avg300=0.50 total=99\n"
				  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &v),
	       0, "PSI: parsed");
	ok(v > 12.33 && v < 12.35, "PSI: some avg10 is 12.34 (%f)", v);
	is_int(fidelity_parse_psi("full avg10=3.00 avg60=0 avg300=0 total=0\n", &v), -EINVAL,
	       "PSI: no some line is refused");
	is_int(fidelity_parse_psi("some avg60=1.0\n", &v), -EINVAL, "PSI: no avg10 is refused");
	is_int(fidelity_parse_psi("some avg10=250.0 avg60=0\n", &v), -EINVAL,
	       "PSI: over 100 is refused");
	is_int(fidelity_parse_psi("", &v), -EINVAL, "PSI: empty is refused");

	uint64_t d = 0;
	is_int(fidelity_parse_softnet("0000000e 00000002 00000000\n000011ed 00000010 00000001\n",
				      &d),
	       0, "softnet: parsed");
	is_int(d, 0x12, "softnet: dropped summed over CPUs, hex");
	is_int(fidelity_parse_softnet("", &d), -EINVAL, "softnet: empty is refused");
	is_int(fidelity_parse_softnet("zz 01\n", &d), -EINVAL, "softnet: garbage is refused");

	uint64_t delay = 0, count = 0;
	is_int(fidelity_parse_schedstat("163159 4000000 7\n", &delay, &count), 0, "schedstat: parsed");
	is_int(delay, 4000000, "schedstat: run delay");
	is_int(count, 7, "schedstat: time slices");
	is_int(fidelity_parse_schedstat("1 2\n", &delay, &count), -EINVAL,
	       "schedstat: two fields refused");
	is_int(fidelity_parse_schedstat("1 2 3 x\n", &delay, &count), -EINVAL,
	       "schedstat: trailing junk refused");
}

static void test_evaluate(void)
{
	char line[256];
	struct fidelity f = {.have_psi = true, .cpu_pressure = 12, .have_drops = true,
			     .have_late = true, .late_s = 0.002};
	fidelity_evaluate(&f, &fidelity_default_thresholds);
	fidelity_line(&f, line, sizeof(line));
	is_str(line, "ok", "low pressure, no drops, timers on time: ok");

	f.cpu_pressure = 85.2;
	f.drops = 1200;
	f.late_s = 2.14;
	fidelity_evaluate(&f, &fidelity_default_thresholds);
	fidelity_line(&f, line, sizeof(line));
	is_str(line, "degraded: CPU pressure 85%, 1200 drops, timers 2.1 s late",
	       "the line names every reason");
	ok(f.degraded, "degraded is set");

	struct fidelity g = {.have_psi = true, .cpu_pressure = 40.0, .neigh_fulls = 3,
			     .have_late = true, .late_s = 0.075};
	fidelity_evaluate(&g, &fidelity_default_thresholds);
	fidelity_line(&g, line, sizeof(line));
	is_str(line, "degraded: CPU pressure 40%, neighbour table full 3 times, timers 75 ms late",
	       "thresholds are inclusive; overflows and ms lateness are named");

	struct fidelity h = {.have_drops = true, .drops = 1};
	fidelity_evaluate(&h, &fidelity_default_thresholds);
	fidelity_line(&h, line, sizeof(line));
	is_str(line, "degraded: 1 drop", "one drop is one drop");

	struct fidelity none = {0};
	fidelity_evaluate(&none, &fidelity_default_thresholds);
	fidelity_line(&none, line, sizeof(line));
	is_str(line, "ok", "nothing measured: ok (and the JSON says what is missing)");
	struct json_object *o = fidelity_json(&none);
	struct json_object *v;
	ok(json_object_object_get_ex(o, "cpu_pressure", &v) && v == NULL,
	   "JSON: a measure not taken is null");
	json_object_put(o);

	o = fidelity_json(&f);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	struct json_object *back = json_tokener_parse(s);
	ok(back != NULL, "JSON parses back");
	ok(json_object_object_get_ex(back, "status", &v) &&
		   strcmp(json_object_get_string(v), "degraded") == 0,
	   "JSON: status degraded");
	ok(json_object_object_get_ex(back, "drops", &v) && json_object_get_int64(v) == 1200,
	   "JSON: drops");
	ok(json_object_object_get_ex(back, "cpu_pressure_of", &v) &&
		   strcmp(json_object_get_string(v), "host") == 0,
	   "JSON: pressure of the host when not the sim's cgroup");
	json_object_put(back);
	json_object_put(o);
}

static void test_sampler(void)
{
	char tmp[] = "/tmp/test_fidelity.XXXXXX";
	if (!mkdtemp(tmp)) {
		ok(0, "mkdtemp");
		return;
	}
	char p[512];
	snprintf(p, sizeof(p), "%s/proc", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/proc/pressure", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/proc/net", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/proc/pressure/cpu", tmp);
	write_text(p, "some avg10=91.50 avg60=80.00 avg300=10.00 total=5\n");
	snprintf(p, sizeof(p), "%s/proc/net/softnet_stat", tmp);
	write_text(p, "00000001 00000000\n");
	/* the node's PID 1 is this test (a live pid with its start time) */
	char pidtext[64];
	snprintf(pidtext, sizeof(pidtext), "%d %llu\n", (int)getpid(),
		 (unsigned long long)process_starttime(getpid()));
	snprintf(p, sizeof(p), "%s/proc/%d", tmp, (int)getpid());
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/proc/%d/schedstat", tmp, (int)getpid());
	write_text(p, "100 5000 10\n");
	snprintf(p, sizeof(p), "%s/run", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run/fid1", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run/fid1/nodes", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run/fid1/nodes/n1", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run/fid1/nodes/n1/pid", tmp);
	write_text(p, pidtext);

	snprintf(p, sizeof(p), "%s/proc", tmp);
	setenv("NETSIM_PROC_DIR", p, 1);
	snprintf(p, sizeof(p), "%s/run", tmp);
	setenv("NETSIM_RUN_DIR", p, 1);

	struct fidelity f;
	struct error err = {0};
	is_int(fidelity_sample("fid1", 0, &f, &err), 0, "sample without a window");
	ok(f.have_psi && !f.psi_of_sim && f.cpu_pressure > 91.4 && f.cpu_pressure < 91.6,
	   "no sim cgroup: the host's PSI is used");
	ok(!f.have_late && !f.have_drops, "no window: no drops or lateness measured");
	ok(f.degraded, "91%% pressure is degraded");

	is_int(fidelity_sample("fid1", 1, &f, &err), 0, "sample with a 1 ms window");
	ok(f.have_drops && f.drops == 0, "no drops in the window");
	/* the fake schedstat did not move: one process, no lateness */
	is_int(f.procs, 1, "the node's PID 1 was sampled");
	ok(f.have_late && f.late_s == 0, "unchanged schedstat: nothing late");

	snprintf(p, sizeof(p), "rm -rf '%s'", tmp);
	if (system(p) != 0)
		ok(0, "cleanup");
	unsetenv("NETSIM_PROC_DIR");
	unsetenv("NETSIM_RUN_DIR");
}

int main(void)
{
	test_parsers();
	test_evaluate();
	test_sampler();
	tap_plan_done();
	return tap_failed ? 1 : 0;
}
