/* shape: tbf/netem parameters from link quality, run-time state (the quality
 * grammar itself: test_quality.c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/shape.h"
#include "sim/link_state.h"
#include "topo/quality.h"
#include "tap.h"

static void tbf_is(uint64_t rate_bps, uint32_t rate, uint32_t burst, uint32_t limit)
{
	struct shape_tbf p;
	int r = shape_tbf_params(rate_bps, &p);
	is_int(r, 0, "tbf for %llu bit/s", (unsigned long long)rate_bps);
	is_int(p.rate_bytes, rate, "  rate %u bytes/s", rate);
	is_int(p.burst_bytes, burst, "  burst %u bytes", burst);
	is_int(p.limit_bytes, limit, "  limit %u bytes", limit);
}

static void test_tbf(void)
{
	/* 4mbit: 500000 B/s; burst 10 ms = 5000; limit burst + 100 ms = 55000 */
	tbf_is(4000000, 500000, 5000, 55000);
	/* 1mbit: 10 ms is 1250 bytes, less than two frames: 3028 */
	tbf_is(1000000, 125000, 3028, 3028 + 12500);
	tbf_is(SHAPE_RATE_MIN_BPS, 1000, 3028, 3128);
	tbf_is(8004, 1001, 3028, 3028 + 101);   /* bytes rounded to nearest, limit rounded up */
	tbf_is(SHAPE_RATE_MAX_BPS, 2125000000u, 21250000, 21250000 + 212500000);
	struct shape_tbf p;
	is_int(shape_tbf_params(SHAPE_RATE_MIN_BPS - 1, &p), -ERANGE, "tbf below 8kbit: ERANGE");
	is_int(shape_tbf_params(SHAPE_RATE_MAX_BPS + 1, &p), -ERANGE, "tbf above 17gbit: ERANGE");
}

static void test_probability(void)
{
	is_int(shape_probability(0), 0, "0%% is 0");
	is_int(shape_probability(1000000), UINT32_MAX, "100%% is UINT32_MAX");
	is_int(shape_probability(2000000), UINT32_MAX, "above 100%% saturates");
	is_int(shape_probability(10000), 42949673u, "1%% rounds to nearest");
	is_int(shape_probability(500000), 2147483648u, "50%%");
	is_int(shape_probability(1), 4295u, "0.0001%%");
}

static void test_netem(void)
{
	struct topo_quality q = {0};
	struct shape_netem p;
	ok(!shape_needs_netem(&q), "no quality: no netem");
	q.set = TOPO_Q_RATE;
	q.rate_bps = 4000000;
	ok(!shape_needs_netem(&q), "rate alone: no netem");
	q.set |= TOPO_Q_DELAY;
	ok(!shape_needs_netem(&q), "delay=0ms: nothing to emulate, no netem");
	q.set |= TOPO_Q_LOSS;
	ok(!shape_needs_netem(&q), "loss=0%%: no netem");
	q.loss_ppm = 1;
	ok(shape_needs_netem(&q), "loss=0.0001%%: netem");

	struct topo_quality full = {
		.set = TOPO_Q_DELAY | TOPO_Q_JITTER | TOPO_Q_LOSS | TOPO_Q_DUPLICATE | TOPO_Q_REORDER,
		.delay_us = 10000, .jitter_us = 2000, .loss_ppm = 10000, .duplicate_ppm = 5000,
		.reorder_ppm = 250000,
	};
	ok(shape_needs_netem(&full), "delay/jitter/loss/...: netem");
	is_int(shape_netem_params(&full, &p), 0, "netem params");
	is_int(p.delay_us, 10000, "  delay 10ms");
	is_int(p.jitter_us, 2000, "  jitter 2ms");
	is_int(p.loss, 42949673u, "  loss 1%%");
	is_int(p.duplicate, 21474836u, "  duplicate 0.5%%");
	is_int(p.reorder, 1073741824u, "  reorder 25%%");
	is_int(p.gap, 1, "  reorder gets gap 1 (tc's default)");
	/* unshaped: 1 gbit/s of 1514-byte frames = 82563 pkt/s; 2 x 12 ms of them */
	is_int(p.limit_packets, 1982, "  limit: twice the packets of delay+jitter at 1gbit");

	full.set |= TOPO_Q_RATE;
	full.rate_bps = 4000000;
	full.delay_us = 100000;
	shape_netem_params(&full, &p);
	is_int(p.limit_packets, 1000, "  slow link: limit never below 1000");

	struct topo_quality delay_only = {.set = TOPO_Q_DELAY, .delay_us = 5000};
	shape_netem_params(&delay_only, &p);
	is_int(p.loss + p.duplicate + p.reorder + p.gap + p.jitter_us, 0,
	       "delay only: no loss, duplicate, reorder, gap or jitter");
	delay_only.delay_us = SHAPE_DELAY_MAX_US + 1;
	is_int(shape_netem_params(&delay_only, &p), -ERANGE, "delay above 60s: ERANGE");
}

static void test_check(void)
{
	struct error err = {0};
	struct topo_quality q = {.set = TOPO_Q_RATE, .rate_bps = 100000000000ULL};
	ok(shape_check(&q, &err) == -ERANGE, "rate=100gbit is refused");
	ok(strstr(err.msg, "rate=100gbit is out of range") != NULL, "  message: %s", err.msg);
	q.rate_bps = 4000000;
	is_int(shape_check(&q, &err), 0, "rate=4mbit is fine (no kernel needed)");
	struct topo_quality slow = {.set = TOPO_Q_DELAY, .delay_us = 61000000};
	ok(shape_check(&slow, &err) == -ERANGE, "delay=61s is refused before asking the kernel");

	if (geteuid() != 0) {
		ok(1, "# SKIP netem probe needs root");
		return;
	}
	int have = shape_netem_available(&err);
	ok(have == 0 || have == 1, "netem probe answers (%d)", have);
	is_int(shape_netem_available(&err), have, "  the same the second time (cached)");
	struct topo_quality netem = {.set = TOPO_Q_DELAY | TOPO_Q_LOSS, .delay_us = 10000,
				     .loss_ppm = 10000};
	int r = shape_check(&netem, &err);
	if (have) {
		is_int(r, 0, "delay= passes the check where the kernel has netem");
	} else {
		is_int(r, -ENOTSUP, "delay= refused where the kernel lacks netem");
		ok(strstr(err.msg, "delay=10ms loss=1% need the kernel module sch_netem") != NULL,
		   "  names the attributes and sch_netem: %s", err.msg);
		ok(strstr(err.msg, "kernel-level mode (netsim up --vm)") != NULL,
		   "  points at kernel-level mode");
	}
}

static void test_state(void)
{
	char dir[] = "/tmp/test_shape.XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	setenv("NETSIM_RUN_DIR", dir, 1);
	struct topo t;
	struct error err = {0};
	const char *text = "sim s\nnode a\nnode b\nlink a b rate=2mbit\nsegment air0 a b loss=1%\n";
	if (topo_parse_string("s.conf", text, &t, &err) < 0) {
		ok(0, "parse: %s", err.msg);
		return;
	}
	char name[128], seg[64];
	shape_link_name(&t, 0, name, sizeof(name));
	is_str(name, "a:eth0--b:eth0", "link state name");
	shape_segment_name(&t, 0, seg, sizeof(seg));
	is_str(seg, "air0", "segment state name");

	struct topo_quality q;
	is_int(link_state_load("s", name, &t.links[0].quality, &q, &err), 0,
	       "load without a state file");
	is_int(q.rate_bps, 2000000, "  is the topology's quality");
	char out[128];
	link_state_text("s", &t, true, 0, out, sizeof(out));
	is_str(out, "loss=1%", "segment quality text from the topology");

	char sim_dir[256];
	snprintf(sim_dir, sizeof(sim_dir), "%s/s", dir);
	mkdir(sim_dir, 0755);
	struct topo_quality set = {.set = TOPO_Q_RATE | TOPO_Q_DELAY, .rate_bps = 4000000,
				   .delay_us = 0};
	is_int(link_state_save("s", name, &set, &err), 0, "save");
	is_int(link_state_load("s", name, &t.links[0].quality, &q, &err), 0, "load it back");
	topo_format_quality(&q, out, sizeof(out));
	is_str(out, "rate=4mbit delay=0us", "  the saved quality");
	link_state_text("s", &t, false, 0, out, sizeof(out));
	is_str(out, "rate=4mbit delay=0us", "  status text shows it");
	struct topo_quality none = {0};
	link_state_save("s", name, &none, &err);
	link_state_text("s", &t, false, 0, out, sizeof(out));
	is_str(out, "", "cleared: empty text (not the topology's)");

	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		ok(0, "remove %s", dir);
	topo_free(&t);
}

int main(void)
{
	test_tbf();
	test_probability();
	test_netem();
	test_check();
	test_state();
	return tap_done();
}
