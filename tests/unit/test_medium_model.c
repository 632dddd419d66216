/* medium/model: path loss and SNR against hand-computed values, the pair matrix
 * from positions, overrides and asymmetry, segment defaults, and seeded loss:
 * reproducible, and its measured rate within statistical bounds. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "medium/model.h"
#include "tap.h"

static const struct medium_params defaults = {
	.tx_power_dbm = 20, .ref_loss_db = 40, .exponent = 3, .noise_dbm = -95,
	.shadow_sigma_db = 0, .seed = 1, .capacity_bps = 54000000, .hidden_nodes = true,
	.queue_frames = 100,
};

static int near(double got, double want, double tol)
{
	if (fabs(got - want) <= tol)
		return 1;
	printf("#   got %.6f, want %.6f (+-%g)\n", got, want, tol);
	return 0;
}

static void test_formulas(void)
{
	/* PL(d) = 40 + 30 log10(d); d < 1 m counts as 1 m */
	ok(near(medium_path_loss_db(&defaults, 1), 40.0, 1e-9), "path loss at 1 m = reference loss");
	ok(near(medium_path_loss_db(&defaults, 0.2), 40.0, 1e-9), "below 1 m counts as 1 m");
	ok(near(medium_path_loss_db(&defaults, 0), 40.0, 1e-9), "0 m counts as 1 m");
	ok(near(medium_path_loss_db(&defaults, 10), 70.0, 1e-9), "10 m: 40 + 30 = 70 dB");
	ok(near(medium_path_loss_db(&defaults, 80), 97.0927, 1e-3), "80 m: 40 + 30*1.90309 = 97.093 dB");
	struct medium_params p2 = defaults;
	p2.exponent = 2.0;
	p2.ref_loss_db = 46.7;
	ok(near(medium_path_loss_db(&p2, 100), 86.7, 1e-9), "exponent 2, 46.7 dB ref: 100 m = 86.7 dB");

	is_int(medium_per_ppm(3.0), 500000, "PER is 1/2 at 3 dB");
	is_int(medium_per_ppm(-0.1), 1000000, "PER 1 below the range edge");
	/* 1/(1+e^(1.2*5)) = 0.0024726 */
	is_int(medium_per_ppm(8.0), 2473, "PER at 8 dB = 1/(1+e^6)");
	ok(medium_per_ppm(20) < 10, "PER negligible at 20 dB");
	ok(medium_per_ppm(5) < medium_per_ppm(4) && medium_per_ppm(4) < medium_per_ppm(2),
	   "PER falls smoothly with SNR");

	is_int(medium_rate_bps(&defaults, -1), 0, "no rate out of range");
	is_int(medium_rate_bps(&defaults, 1), 6000000, "6 Mbit/s at the edge");
	is_int(medium_rate_bps(&defaults, 17.9), 24000000, "24 Mbit/s at 17.9 dB");
	is_int(medium_rate_bps(&defaults, 24), 54000000, "54 Mbit/s at 24 dB");
	struct medium_params fast = defaults;
	fast.capacity_bps = 10000000000ull;
	is_int(medium_rate_bps(&fast, 40), 10000000000ll, "capacity 10 Gbit/s: top rate 10 Gbit/s");
	is_int(medium_rate_bps(&fast, 12), 10000000000ll * 18 / 54, "and 18/54 of it at 12 dB");
}

static void test_matrix(void)
{
	struct medium_model *m = medium_model_new(4, &defaults);
	ok(m != NULL, "model of 4");
	double a[3] = {0, 0, 0}, b[3] = {80, 0, 0}, c[3] = {160, 0, 0}, d[3] = {0, 0, 0.5};
	medium_model_set_pos(m, 0, a);
	medium_model_set_pos(m, 1, b);
	medium_model_set_pos(m, 2, c);
	medium_model_set_pos(m, 3, d);

	const struct medium_pair *ab = medium_model_pair(m, 0, 1);
	ok(near(ab->distance_m, 80, 1e-9), "a-b 80 m");
	/* 20 - 97.0927 + 95 */
	ok(near(ab->snr_db, 17.907, 1e-3), "a->b SNR 17.907 dB");
	ok(ab->in_range, "a->b in range");
	is_int(ab->rate_bps, 24000000, "a->b 24 Mbit/s");
	is_int(ab->loss_ppm, 0, "a->b no loss");
	const struct medium_pair *ac = medium_model_pair(m, 0, 2);
	/* 75 - 30 log10(160) = 75 - 66.1236 */
	ok(near(ac->snr_db, 8.876, 1e-3), "a->c SNR 8.876 dB");
	is_int(ac->rate_bps, 12000000, "a->c 12 Mbit/s");
	is_int(ac->loss_ppm, medium_per_ppm(ac->snr_db), "a->c loss = PER(SNR)");
	ok(ac->loss_ppm > 500 && ac->loss_ppm < 2000, "a->c loss about 0.1%%");
	const struct medium_pair *ad = medium_model_pair(m, 0, 3);
	ok(near(ad->snr_db, 75.0, 1e-9), "0.5 m apart: SNR as at 1 m (75 dB)");
	ok(!medium_model_pair(m, 0, 0)->in_range, "a does not hear itself");
	ok(medium_model_pair(m, 1, 0)->snr_db == ab->snr_db, "symmetric without overrides");

	double far[3] = {400, 0, 0};
	medium_model_set_pos(m, 2, far);
	ac = medium_model_pair(m, 0, 2);
	/* 75 - 30 log10(400) = -3.06 */
	ok(!ac->in_range && ac->rate_bps == 0 && ac->loss_ppm == 1000000, "400 m: out of range");
	ok(medium_model_lost(m, 0, 2, 0) && medium_model_lost(m, 0, 2, 12345),
	   "out of range: every frame lost");
	ok(!medium_model_hears(m, 0, 2) && medium_model_hears(m, 0, 1), "hears follows range");
	medium_model_free(m);
}

static void test_overrides(void)
{
	struct medium_model *m = medium_model_new(3, &defaults);
	double pos[3][3] = {{0, 0, 0}, {80, 0, 0}, {400, 0, 0}};
	for (unsigned i = 0; i < 3; i++)
		medium_model_set_pos(m, i, pos[i]);

	uint64_t g = medium_model_generation(m);
	struct topo_quality q = {.set = TOPO_Q_LOSS, .loss_ppm = 400000};
	medium_model_set_override(m, 0, 1, &q, false);
	ok(medium_model_generation(m) != g, "an override bumps the generation");
	is_int(medium_model_pair(m, 0, 1)->loss_ppm, 400000, "a>b loss=40%% wins");
	is_int(medium_model_pair(m, 1, 0)->loss_ppm, 0, "b->a untouched (asymmetric)");
	is_int(medium_model_pair(m, 0, 1)->overridden, MEDIUM_OV_LOSS, "a->b overridden: loss");
	is_int(medium_model_pair(m, 0, 1)->rate_bps, 24000000, "a->b rate still the model's");

	struct topo_quality r = {.set = TOPO_Q_RATE | TOPO_Q_DELAY, .rate_bps = 11000000,
				 .delay_us = 3000};
	medium_model_set_override(m, 0, 1, &r, false);
	const struct medium_pair *ab = medium_model_pair(m, 0, 1);
	ok(ab->rate_bps == 11000000 && ab->delay_us == 3000 && ab->loss_ppm == 400000,
	   "rate and delay merge into the override");

	medium_model_set_override(m, 0, 1, NULL, true);
	ok(!medium_model_pair(m, 0, 1)->in_range, "cut: out of range");
	ok(medium_model_pair(m, 1, 0)->in_range, "b->a still in range");
	medium_model_set_override(m, 0, 1, NULL, false);
	ab = medium_model_pair(m, 0, 1);
	ok(ab->in_range && ab->loss_ppm == 0 && ab->overridden == 0 && ab->delay_us == 0,
	   "clear: back to the model");

	struct topo_quality l = {.set = TOPO_Q_LOSS, .loss_ppm = 100000};
	medium_model_set_override(m, 0, 2, &l, false);
	ok(medium_model_pair(m, 0, 2)->in_range, "loss= on an out-of-range pair puts it in range");
	is_int(medium_model_pair(m, 0, 2)->rate_bps, 6000000, "  at the lowest rate");
	ok(!medium_model_pair(m, 2, 0)->in_range, "  one way only");

	struct topo_quality seg = {.set = TOPO_Q_LOSS | TOPO_Q_DELAY, .loss_ppm = 50000,
				   .delay_us = 2000};
	medium_model_set_defaults(m, &seg);
	is_int(medium_model_pair(m, 1, 0)->loss_ppm, 50000, "segment loss=5%% applies to a pair");
	is_int(medium_model_pair(m, 1, 0)->delay_us, 2000, "segment delay=2ms too");
	is_int(medium_model_pair(m, 0, 2)->loss_ppm, 100000, "a pair's loss= wins over the segment's");
	is_int(medium_model_pair(m, 0, 2)->delay_us, 2000, "  its delay is still the segment's");
	medium_model_free(m);
}

static void test_seeded_loss(void)
{
	struct medium_model *m = medium_model_new(2, &defaults);
	double b[3] = {10, 0, 0};
	medium_model_set_pos(m, 1, b);
	struct topo_quality q = {.set = TOPO_Q_LOSS, .loss_ppm = 300000};
	medium_model_set_override(m, 0, 1, &q, false);
	struct medium_model *m2 = medium_model_new(2, &defaults);
	medium_model_set_pos(m2, 1, b);
	medium_model_set_override(m2, 0, 1, &q, false);
	struct medium_params other = defaults;
	other.seed = 2;
	struct medium_model *m3 = medium_model_new(2, &other);
	medium_model_set_pos(m3, 1, b);
	medium_model_set_override(m3, 0, 1, &q, false);

	const unsigned N = 10000;
	unsigned lost = 0, same = 1, differs = 0;
	for (unsigned k = 0; k < N; k++) {
		bool l1 = medium_model_lost(m, 0, 1, k);
		lost += l1;
		if (l1 != medium_model_lost(m2, 0, 1, k))
			same = 0;
		if (l1 != medium_model_lost(m3, 0, 1, k))
			differs++;
	}
	ok(same, "same seed: the same frames are lost");
	ok(differs > N / 10, "another seed: other frames (%u of %u differ)", differs, N);
	/* binomial(10000, 0.3): sd = sqrt(10000*0.3*0.7) = 45.8; 4 sd = 183 */
	ok(fabs((double)lost - 3000.0) < 4 * 45.83, "30%% loss: %u of 10000 lost (3000 +- 183)", lost);

	q.loss_ppm = 10000; /* 1%: sd = 9.95 */
	medium_model_set_override(m, 0, 1, &q, false);
	lost = 0;
	for (unsigned k = 0; k < N; k++)
		lost += medium_model_lost(m, 0, 1, k);
	ok(fabs((double)lost - 100.0) < 4 * 9.95, "1%% loss: %u of 10000 lost (100 +- 40)", lost);
	unsigned rev = 0;
	for (unsigned k = 0; k < N; k++)
		rev += medium_model_lost(m, 1, 0, k);
	is_int(rev, 0, "the reverse direction (no loss) loses nothing");
	medium_model_free(m);
	medium_model_free(m2);
	medium_model_free(m3);
}

static void test_shadowing(void)
{
	struct medium_params p = defaults;
	p.shadow_sigma_db = 6;
	p.seed = 7;
	double s01 = medium_shadowing_db(&p, 0, 1);
	ok(s01 == medium_shadowing_db(&p, 1, 0), "shadowing is the same both ways");
	ok(s01 == medium_shadowing_db(&p, 0, 1), "and the same every time");
	/* mean ~0, sd ~6 over many pairs */
	double sum = 0, sq = 0;
	unsigned n = 0;
	for (unsigned i = 0; i < 100; i++)
		for (unsigned j = i + 1; j < 100; j++) {
			double s = medium_shadowing_db(&p, i, j);
			sum += s;
			sq += s * s;
			n++;
		}
	double mean = sum / n, sd = sqrt(sq / n - mean * mean);
	ok(fabs(mean) < 0.5 && fabs(sd - 6) < 0.5, "4950 pairs: mean %.2f, sd %.2f (0, 6)", mean, sd);
	p.shadow_sigma_db = 0;
	ok(medium_shadowing_db(&p, 0, 1) == 0, "sigma 0: no shadowing");

	struct medium_params sp = defaults;
	sp.shadow_sigma_db = 6;
	struct medium_model *m = medium_model_new(2, &sp);
	double b[3] = {80, 0, 0};
	medium_model_set_pos(m, 1, b);
	ok(near(medium_model_pair(m, 0, 1)->snr_db,
		17.907 - medium_shadowing_db(&sp, 0, 1), 1e-3), "the model subtracts it from the SNR");
	medium_model_free(m);
}

static void test_from_topo(void)
{
	static const char text[] =
		"node a pos=0,0\n"
		"node b pos=80,0\n"
		"node c pos=160,0,5\n"
		"node d\n"
		"segment air0 a b c medium=radio rate=11mbit exponent=2 seed=7 loss=1% queue=20\n"
		"segment wired a d\n"
		"pair air0 a>b loss=40%\n"
		"pair air0 b c delay=3ms rate=2mbit\n"
		"pair air0 a c cut\n";
	struct topo t = {0};
	struct error err = {0};
	int r = topo_parse_string("air.conf", text, &t, &err);
	is_int(r, 0, "the radio topology parses");
	if (r < 0) {
		printf("#   %s\n", err.msg);
		return;
	}
	struct medium_model *m = NULL;
	is_int(medium_model_from_topo(&t, 1, &m), -EINVAL, "a bridge segment has no model");
	is_int(medium_model_from_topo(&t, 0, &m), 0, "model of air0");
	const struct medium_params *p = medium_model_params(m);
	ok(p->capacity_bps == 11000000 && p->exponent == 2 && p->seed == 7 && p->queue_frames == 20,
	   "parameters from the segment line");
	ok(near(medium_model_pair(m, 0, 1)->distance_m, 80, 1e-9), "positions from the nodes");
	/* 20 - (40 + 20 log10(80)) + 95 = 75 - 38.06 */
	ok(near(medium_model_pair(m, 1, 0)->snr_db, 36.938, 1e-3), "b->a SNR with exponent 2");
	is_int(medium_model_pair(m, 1, 0)->loss_ppm, 10000, "segment loss=1%% on b->a");
	is_int(medium_model_pair(m, 0, 1)->loss_ppm, 400000, "pair a>b loss=40%%");
	ok(medium_model_pair(m, 1, 2)->delay_us == 3000 && medium_model_pair(m, 2, 1)->rate_bps == 2000000,
	   "pair b c: both directions");
	ok(!medium_model_pair(m, 0, 2)->in_range && !medium_model_pair(m, 2, 0)->in_range, "a c cut");
	is_int(medium_model_pair(m, 1, 0)->rate_bps, 11000000, "b->a at the channel's top rate");
	medium_model_free(m);
	topo_free(&t);
}

int main(void)
{
	test_from_topo();
	test_formulas();
	test_matrix();
	test_overrides();
	test_seeded_loss();
	test_shadowing();
	return tap_done();
}
