/* The radio model (docs/wireless.md): log-distance path loss with optional
 * log-normal shadowing → SNR per ordered pair → frame error rate (a logistic
 * curve in SNR) and the usable rate (802.11g-like table scaled to the segment's
 * capacity); overrides per ordered pair win over it. */
#include "medium/model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pair_override {
	unsigned set;                /* MEDIUM_OV_* */
	uint32_t loss_ppm;
	uint64_t rate_bps, delay_us;
};

struct medium_model {
	unsigned n;
	struct medium_params p;
	double (*pos)[3];
	struct pair_override *ov;    /* n*n, [i*n+j] = i -> j */
	struct medium_pair *pairs;   /* n*n, derived */
	bool seg_loss_set, seg_delay_set;
	uint32_t seg_loss_ppm;
	uint64_t seg_delay_us;
	uint64_t generation;
};

/* 802.11g OFDM rates and the SNR each needs (dB): the highest rate whose
 * threshold the pair's SNR reaches is its usable rate. */
static const struct {
	uint64_t bps;
	double min_snr_db;
} rate_table[] = {
	{ 6000000, 4 },   { 9000000, 6 },   { 12000000, 8 },  { 18000000, 11 },
	{ 24000000, 14 }, { 36000000, 18 }, { 48000000, 22 }, { 54000000, 24 },
};
#define RATE_TABLE_LEN (sizeof(rate_table) / sizeof(rate_table[0]))

static uint64_t mix64(uint64_t z)
{
	z ^= z >> 30;
	z *= UINT64_C(0xbf58476d1ce4e5b9);
	z ^= z >> 27;
	z *= UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return z;
}

uint64_t medium_hash(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = mix64(seed + UINT64_C(0x9e3779b97f4a7c15));
	h = mix64(h ^ a);
	h = mix64(h + b * UINT64_C(0x9e3779b97f4a7c15));
	return mix64(h ^ (c + UINT64_C(0xd1b54a32d192ed03)));
}

double medium_path_loss_db(const struct medium_params *p, double distance_m)
{
	if (!(distance_m >= 1.0)) /* also NaN */
		distance_m = 1.0;
	return p->ref_loss_db + 10.0 * p->exponent * log10(distance_m);
}

/* N(0, sigma) from two hashed uniforms (Box-Muller), the same both ways. */
double medium_shadowing_db(const struct medium_params *p, unsigned i, unsigned j)
{
	if (!(p->shadow_sigma_db > 0))
		return 0.0;
	unsigned lo = i < j ? i : j, hi = i < j ? j : i;
	uint64_t h1 = medium_hash(p->seed, lo, hi, UINT64_C(0x5ad0));
	uint64_t h2 = medium_hash(p->seed, lo, hi, UINT64_C(0x5ad1));
	double u1 = ((double)(h1 >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
	double u2 = (double)(h2 >> 11) / 9007199254740992.0;         /* [0, 1) */
	return p->shadow_sigma_db * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint32_t medium_per_ppm(double snr_db)
{
	if (!(snr_db >= MEDIUM_SNR_RANGE_DB))
		return 1000000;
	double per = 1.0 / (1.0 + exp(MEDIUM_PER_SLOPE * (snr_db - MEDIUM_PER_MID_DB)));
	return (uint32_t)lround(per * 1e6);
}

static uint64_t scale_rate(const struct medium_params *p, uint64_t table_bps)
{
	/* capacity * table / 54M without overflow for any 64-bit capacity */
	long double r = (long double)p->capacity_bps * (long double)table_bps /
			(long double)MEDIUM_TABLE_TOP_BPS;
	return r < 1 ? 1 : (uint64_t)r;
}

uint64_t medium_rate_bps(const struct medium_params *p, double snr_db)
{
	if (!(snr_db >= MEDIUM_SNR_RANGE_DB))
		return 0;
	uint64_t best = rate_table[0].bps;
	for (size_t k = 0; k < RATE_TABLE_LEN; k++)
		if (snr_db >= rate_table[k].min_snr_db)
			best = rate_table[k].bps;
	return scale_rate(p, best);
}

static void derive(struct medium_model *m, unsigned i, unsigned j)
{
	struct medium_pair *pr = &m->pairs[i * m->n + j];
	const struct pair_override *ov = &m->ov[i * m->n + j];
	const double *a = m->pos[i], *b = m->pos[j];
	double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];

	pr->distance_m = sqrt(dx * dx + dy * dy + dz * dz);
	pr->snr_db = m->p.tx_power_dbm - medium_path_loss_db(&m->p, pr->distance_m) -
		     medium_shadowing_db(&m->p, i, j) - m->p.noise_dbm;
	pr->overridden = ov->set;
	pr->in_range = pr->snr_db >= MEDIUM_SNR_RANGE_DB;
	/* an explicit loss= or rate= says the link exists */
	if (ov->set & (MEDIUM_OV_LOSS | MEDIUM_OV_RATE))
		pr->in_range = true;
	if ((ov->set & MEDIUM_OV_CUT) || i == j)
		pr->in_range = false;
	if (!pr->in_range) {
		pr->loss_ppm = 1000000;
		pr->rate_bps = 0;
		pr->delay_us = 0;
		return;
	}

	if (ov->set & MEDIUM_OV_LOSS) {
		pr->loss_ppm = ov->loss_ppm;
	} else {
		double keep = 1.0 - medium_per_ppm(pr->snr_db) / 1e6;
		if (m->seg_loss_set)
			keep *= 1.0 - m->seg_loss_ppm / 1e6;
		pr->loss_ppm = (uint32_t)lround((1.0 - keep) * 1e6);
	}
	if (ov->set & MEDIUM_OV_RATE)
		pr->rate_bps = ov->rate_bps;
	else if (pr->snr_db >= MEDIUM_SNR_RANGE_DB)
		pr->rate_bps = medium_rate_bps(&m->p, pr->snr_db);
	else
		pr->rate_bps = scale_rate(&m->p, rate_table[0].bps);
	if (ov->set & MEDIUM_OV_DELAY)
		pr->delay_us = ov->delay_us;
	else
		pr->delay_us = m->seg_delay_set ? m->seg_delay_us : 0;
}

static void derive_node(struct medium_model *m, unsigned i)
{
	for (unsigned k = 0; k < m->n; k++) {
		derive(m, i, k);
		derive(m, k, i);
	}
	m->generation++;
}

static void derive_all(struct medium_model *m)
{
	for (unsigned i = 0; i < m->n; i++)
		for (unsigned j = 0; j < m->n; j++)
			derive(m, i, j);
	m->generation++;
}

struct medium_model *medium_model_new(unsigned n, const struct medium_params *p)
{
	if (n == 0 || n > 65536)
		return NULL;
	struct medium_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->n = n;
	m->p = *p;
	if (m->p.capacity_bps == 0)
		m->p.capacity_bps = MEDIUM_TABLE_TOP_BPS;
	if (m->p.queue_frames == 0)
		m->p.queue_frames = 100;
	m->pos = calloc(n, sizeof(*m->pos));
	m->ov = calloc((size_t)n * n, sizeof(*m->ov));
	m->pairs = calloc((size_t)n * n, sizeof(*m->pairs));
	if (!m->pos || !m->ov || !m->pairs) {
		medium_model_free(m);
		return NULL;
	}
	derive_all(m);
	return m;
}

void medium_model_free(struct medium_model *m)
{
	if (!m)
		return;
	free(m->pos);
	free(m->ov);
	free(m->pairs);
	free(m);
}

unsigned medium_model_size(const struct medium_model *m)
{
	return m->n;
}

const struct medium_params *medium_model_params(const struct medium_model *m)
{
	return &m->p;
}

uint64_t medium_model_generation(const struct medium_model *m)
{
	return m->generation;
}

void medium_model_set_pos(struct medium_model *m, unsigned i, const double pos[3])
{
	if (i >= m->n)
		return;
	for (int k = 0; k < 3; k++)
		m->pos[i][k] = isfinite(pos[k]) ? pos[k] : 0.0;
	derive_node(m, i);
}

void medium_model_get_pos(const struct medium_model *m, unsigned i, double pos[3])
{
	for (int k = 0; k < 3; k++)
		pos[k] = i < m->n ? m->pos[i][k] : 0.0;
}

void medium_model_set_override(struct medium_model *m, unsigned i, unsigned j,
			       const struct topo_quality *q, bool cut)
{
	if (i >= m->n || j >= m->n)
		return;
	struct pair_override *ov = &m->ov[i * m->n + j];
	if (!q && !cut) {
		memset(ov, 0, sizeof(*ov));
	} else {
		if (cut)
			ov->set |= MEDIUM_OV_CUT;
		if (q && (q->set & TOPO_Q_LOSS)) {
			ov->set |= MEDIUM_OV_LOSS;
			ov->loss_ppm = q->loss_ppm > 1000000 ? 1000000 : q->loss_ppm;
		}
		if (q && (q->set & TOPO_Q_RATE) && q->rate_bps > 0) {
			ov->set |= MEDIUM_OV_RATE;
			ov->rate_bps = q->rate_bps;
		}
		if (q && (q->set & TOPO_Q_DELAY)) {
			ov->set |= MEDIUM_OV_DELAY;
			ov->delay_us = q->delay_us;
		}
	}
	derive(m, i, j);
	m->generation++;
}

void medium_model_set_defaults(struct medium_model *m, const struct topo_quality *q)
{
	m->seg_loss_set = q && (q->set & TOPO_Q_LOSS);
	m->seg_loss_ppm = m->seg_loss_set ? (q->loss_ppm > 1000000 ? 1000000 : q->loss_ppm) : 0;
	m->seg_delay_set = q && (q->set & TOPO_Q_DELAY);
	m->seg_delay_us = m->seg_delay_set ? q->delay_us : 0;
	derive_all(m);
}

const struct medium_pair *medium_model_pair(struct medium_model *m, unsigned i, unsigned j)
{
	if (i >= m->n || j >= m->n)
		return NULL;
	return &m->pairs[i * m->n + j];
}

bool medium_model_hears(struct medium_model *m, unsigned i, unsigned j)
{
	return i < m->n && j < m->n && m->pairs[i * m->n + j].in_range;
}

bool medium_model_lost(struct medium_model *m, unsigned i, unsigned j, uint64_t nth)
{
	if (i >= m->n || j >= m->n)
		return true;
	const struct medium_pair *pr = &m->pairs[i * m->n + j];
	if (!pr->in_range)
		return true;
	if (pr->loss_ppm == 0)
		return false;
	if (pr->loss_ppm >= 1000000)
		return true;
	return medium_hash(m->p.seed, i, j, nth) % 1000000 < pr->loss_ppm;
}

int medium_model_from_topo(const struct topo *t, unsigned segment, struct medium_model **out)
{
	*out = NULL;
	if (segment >= t->nsegments)
		return -EINVAL;
	const struct topo_segment *seg = &t->segments[segment];
	if (!topo_segment_on_air(seg) || seg->nmembers == 0)
		return -EINVAL;
	const struct topo_radio *r = &seg->radio;
	struct medium_params p = {
		.tx_power_dbm = r->tx_power_dbm, .ref_loss_db = r->ref_loss_db,
		.exponent = r->exponent, .noise_dbm = r->noise_dbm,
		.shadow_sigma_db = r->shadow_sigma_db, .seed = r->seed,
		.capacity_bps = r->capacity_bps, .hidden_nodes = r->hidden_nodes,
		.queue_frames = r->queue_frames,
	};
	if ((seg->quality.set & TOPO_Q_RATE) && seg->quality.rate_bps > 0)
		p.capacity_bps = seg->quality.rate_bps;
	struct medium_model *m = medium_model_new(seg->nmembers, &p);
	if (!m)
		return -ENOMEM;
	for (unsigned i = 0; i < seg->nmembers; i++) {
		unsigned node = seg->members[i].node;
		if (node < t->nnodes && t->nodes[node].has_pos)
			medium_model_set_pos(m, i, t->nodes[node].pos);
	}
	medium_model_set_defaults(m, &seg->quality);
	for (unsigned k = 0; k < t->npairs; k++) {
		const struct topo_pair *pr = &t->pairs[k];
		if (pr->segment != segment)
			continue;
		medium_model_set_override(m, pr->from, pr->to, &pr->quality, pr->cut);
	}
	*out = m;
	return 0;
}
