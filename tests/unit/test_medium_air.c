/* medium/air: airtime arithmetic, two saturating senders sharing the channel,
 * the bounded queue, and hidden-node collisions. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "medium/air.h"
#include "tap.h"

static const struct medium_params defaults = {
	.tx_power_dbm = 20, .ref_loss_db = 40, .exponent = 3, .noise_dbm = -95,
	.seed = 1, .capacity_bps = 54000000, .hidden_nodes = true, .queue_frames = 100,
};

static struct medium_model *line(unsigned n, double spacing, const struct medium_params *p)
{
	struct medium_model *m = medium_model_new(n, p);
	for (unsigned i = 0; i < n; i++) {
		double pos[3] = {i * spacing, 0, 0};
		medium_model_set_pos(m, i, pos);
	}
	return m;
}

static void test_airtime(void)
{
	is_int(medium_airtime_ns(1500, 54000000), 222223, "1500 B at 54 Mbit/s: 222.2 us");
	is_int(medium_airtime_ns(1500, 1000000000), 12000, "1500 B at 1 Gbit/s: 12 us");
	is_int(medium_airtime_ns(65536, 10000000000ull), 52429, "64 KiB at 10 Gbit/s: 52.4 us");
	ok(medium_airtime_ns(100, 0) > 0, "rate 0 does not divide by zero");
}

/* Senders 0 and 1 offer 120 Mbit/s each for one simulated second; bytes each got on the air. */
static void saturate(struct medium_air *a, uint64_t rate, uint64_t got[2], unsigned *dropped)
{
	const uint64_t period = 100000; /* one 1500 B frame per 100 us each: 120 Mbit/s */
	got[0] = got[1] = 0;
	*dropped = 0;
	for (uint64_t t = 0; t < 1000000000ull; t += period)
		for (unsigned s = 0; s < 2; s++) {
			struct medium_tx tx;
			int r = medium_air_transmit(a, s, t + s, 1500, rate, &tx);
			if (r == -ENOBUFS) {
				(*dropped)++;
				continue;
			}
			if (tx.end_ns <= 1000000000ull)
				got[s] += 1500;
		}
}

static void test_share(void)
{
	struct medium_model *m = line(3, 10, &defaults);
	struct medium_air *a = medium_air_new(m);
	uint64_t got[2];
	unsigned dropped;
	saturate(a, 54000000, got, &dropped);
	double s0 = got[0] * 8 / 1e6, s1 = got[1] * 8 / 1e6;
	printf("# sender 0: %.2f Mbit/s, sender 1: %.2f Mbit/s, %u queue drops\n", s0, s1, dropped);
	ok(fabs(s0 - 27) < 2.7 && fabs(s1 - 27) < 2.7, "two saturating senders in range: about half each");
	ok(s0 + s1 <= 54.0 && s0 + s1 > 52.0, "together the channel's capacity (%.2f of 54)", s0 + s1);
	ok(dropped > 0, "the excess is dropped by the queue");
	ok(medium_air_queued(a, 0, 1000000000ull) <= 100, "queue bounded at queue_frames");
	ok(!medium_air_collisions_possible(a), "all in range of each other: no collisions possible");
	medium_air_free(a);
	medium_model_free(m);

	/* far apart (a and c do not hear each other): each gets the whole channel */
	m = line(3, 200, &defaults);
	ok(!medium_model_hears(m, 0, 2), "0 and 2 at 400 m: out of range");
	a = medium_air_new(m);
	uint64_t got2[2] = {0, 0};
	for (uint64_t t = 0; t < 1000000000ull; t += 100000)
		for (unsigned s = 0; s < 3; s += 2) {
			struct medium_tx tx;
			if (medium_air_transmit(a, s, t, 1500, 54000000, &tx) == 0 &&
			    tx.end_ns <= 1000000000ull)
				got2[s / 2] += 1500;
		}
	ok(got2[0] * 8 / 1e6 > 52 && got2[1] * 8 / 1e6 > 52,
	   "hidden from each other: both send at full rate (%.1f, %.1f Mbit/s)",
	   got2[0] * 8 / 1e6, got2[1] * 8 / 1e6);
	medium_air_free(a);
	medium_model_free(m);
}

static void test_queue(void)
{
	struct medium_params p = defaults;
	p.queue_frames = 10;
	struct medium_model *m = line(2, 10, &p);
	struct medium_air *a = medium_air_new(m);
	struct medium_tx tx;
	unsigned accepted = 0, refused = 0;
	for (unsigned k = 0; k < 25; k++) {
		int r = medium_air_transmit(a, 0, 0, 1500, 54000000, &tx);
		if (r == 0)
			accepted++;
		else if (r == -ENOBUFS)
			refused++;
	}
	is_int(accepted, 10, "a burst of 25: 10 queued");
	is_int(refused, 15, "15 refused (-ENOBUFS)");
	is_int(tx.start_ns, 9 * 222223, "the 10th starts after nine airtimes");
	is_int(medium_air_transmit(a, 0, 222223, 1500, 54000000, &tx), 0,
	       "one airtime later there is room again");
	is_int(medium_air_queued(a, 0, 10 * 222223 + 222223), 0, "all sent by then");
	medium_air_free(a);
	medium_model_free(m);
}

static void test_hidden(void)
{
	/* a(0) -- b(200) -- c(400): b hears both, a and c do not hear each other */
	struct medium_model *m = line(3, 200, &defaults);
	struct medium_air *a = medium_air_new(m);
	ok(medium_air_collisions_possible(a), "a hidden pair: collisions possible");
	struct medium_tx ta, tc, tc2;
	medium_air_transmit(a, 0, 0, 1500, 6000000, &ta);
	medium_air_transmit(a, 2, 1000000, 1500, 6000000, &tc); /* overlaps a's 2 ms */
	is_int(tc.start_ns, 1000000, "c does not defer to a (it cannot hear it)");
	ok(medium_air_collided(a, &ta, 1), "a's frame collides at b");
	ok(medium_air_collided(a, &tc, 1), "c's frame collides at b");
	medium_air_transmit(a, 2, 10000000, 1500, 6000000, &tc2);
	ok(!medium_air_collided(a, &tc2, 1), "c's later frame alone on the air: no collision");
	medium_air_free(a);

	/* half duplex: c does not hear b (b>c cut), so it sends while b does;
	 * b, sending, cannot receive it */
	medium_model_set_override(m, 1, 2, NULL, true);
	a = medium_air_new(m);
	struct medium_tx tb;
	medium_air_transmit(a, 1, 0, 1500, 6000000, &tb);
	medium_air_transmit(a, 2, 100, 1500, 6000000, &tc);
	is_int(tc.start_ns, 100, "c does not defer to b (b>c cut)");
	ok(medium_air_collided(a, &tc, 1), "c's frame is lost at b while b sends (half duplex)");
	ok(!medium_air_collided(a, &tb, 0), "b's frame reaches a (a does not hear c)");
	medium_model_free(m);
	medium_air_free(a);

	struct medium_params off = defaults;
	off.hidden_nodes = false;
	m = line(3, 200, &off);
	a = medium_air_new(m);
	medium_air_transmit(a, 0, 0, 1500, 6000000, &ta);
	medium_air_transmit(a, 2, 1000000, 1500, 6000000, &tc);
	ok(!medium_air_collided(a, &ta, 1) && !medium_air_collided(a, &tc, 1),
	   "hidden=off: no collisions");
	medium_air_free(a);
	medium_model_free(m);

	/* in range of each other: b defers, no collision */
	m = line(3, 10, &defaults);
	a = medium_air_new(m);
	medium_air_transmit(a, 0, 0, 1500, 6000000, &ta);
	medium_air_transmit(a, 2, 1000000, 1500, 6000000, &tc);
	is_int(tc.start_ns, ta.end_ns, "a sender that hears the other waits for its end");
	ok(!medium_air_collided(a, &ta, 1) && !medium_air_collided(a, &tc, 1), "  and nothing collides");
	struct medium_counters *c = medium_air_counters(a, 0, 1);
	ok(c && c->offered == 0 && !medium_air_counters(a, 3, 0), "counters zeroed, bounds checked");
	medium_air_free(a);
	medium_model_free(m);
}

int main(void)
{
	test_airtime();
	test_share();
	test_queue();
	test_hidden();
	return tap_done();
}
