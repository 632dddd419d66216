/* The radio model of a medium=radio segment: member positions → per ordered
 * pair path loss, SNR, frame error rate and usable rate; explicit per-pair
 * overrides that win over the model; seeded, reproducible loss decisions.
 * Pure: no kernel, no frames, no clock.  The formulas and every constant are in
 * docs/wireless.md; the frame engines (Ethernet here, 802.11 next) share it. */
#ifndef NETSIM_MEDIUM_MODEL_H
#define NETSIM_MEDIUM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "topo/topo.h"

/* Below this SNR a pair is out of range: no frames at all. */
#define MEDIUM_SNR_RANGE_DB 0.0
/* The frame error rate is 1/2 at this SNR, falling by e per 1/MEDIUM_PER_SLOPE dB. */
#define MEDIUM_PER_MID_DB 3.0
#define MEDIUM_PER_SLOPE 1.2
/* The rate table's rates are those of a 54 Mbit/s channel; a segment's capacity
 * scales them (capacity * table_rate / 54 Mbit/s). */
#define MEDIUM_TABLE_TOP_BPS 54000000ull

struct medium_params {
	double tx_power_dbm, ref_loss_db, exponent, noise_dbm, shadow_sigma_db;
	uint64_t seed;
	uint64_t capacity_bps;    /* the channel's rate at the best SNR */
	bool hidden_nodes;
	unsigned queue_frames;    /* per sender */
};

/* What overrides set: bits of medium_pair.overridden. */
enum {
	MEDIUM_OV_LOSS = 1 << 0,
	MEDIUM_OV_RATE = 1 << 1,
	MEDIUM_OV_DELAY = 1 << 2,
	MEDIUM_OV_CUT = 1 << 3,
};

struct medium_pair {          /* sender i -> receiver j */
	bool in_range;
	double distance_m, snr_db;
	uint32_t loss_ppm;        /* what the engine applies (model, segment, override) */
	uint64_t rate_bps;        /* 0 when out of range */
	uint64_t delay_us;
	unsigned overridden;      /* MEDIUM_OV_* */
};

struct medium_model;

/* n members at (0,0,0); NULL on ENOMEM or n == 0.  p->capacity_bps 0 = 54 Mbit/s,
 * p->queue_frames 0 = 100. */
struct medium_model *medium_model_new(unsigned n, const struct medium_params *p);
void medium_model_free(struct medium_model *m);
unsigned medium_model_size(const struct medium_model *m);
const struct medium_params *medium_model_params(const struct medium_model *m);

void medium_model_set_pos(struct medium_model *m, unsigned i, const double pos[3]);
void medium_model_get_pos(const struct medium_model *m, unsigned i, double pos[3]);
/* i -> j; quality bits TOPO_Q_LOSS/RATE/DELAY (others ignored) are merged into the
 * pair's override; cut=true = out of range whatever the model says.  q == NULL and
 * !cut clears every override of the pair. */
void medium_model_set_override(struct medium_model *m, unsigned i, unsigned j,
			       const struct topo_quality *q, bool cut);
/* The segment's loss= and delay= (TOPO_Q_LOSS/TOPO_Q_DELAY), for every pair
 * without an override of the same attribute; NULL clears. */
void medium_model_set_defaults(struct medium_model *m, const struct topo_quality *q);

const struct medium_pair *medium_model_pair(struct medium_model *m, unsigned i, unsigned j);
/* Does frame number `nth` from i to j get lost?  Out of range: always.  A pure
 * function of (seed, i, j, nth, loss): the same seed gives the same drops. */
bool medium_model_lost(struct medium_model *m, unsigned i, unsigned j, uint64_t nth);
/* Does j hear i at all (carrier sense, collisions): medium_model_pair(i, j)->in_range. */
bool medium_model_hears(struct medium_model *m, unsigned i, unsigned j);
/* Bumped on every change, so users of the pairs know to refresh what they derived. */
uint64_t medium_model_generation(const struct medium_model *m);

/* The model, one formula at a time (docs/wireless.md); exposed for tests. */
double medium_path_loss_db(const struct medium_params *p, double distance_m);
double medium_shadowing_db(const struct medium_params *p, unsigned i, unsigned j);
uint32_t medium_per_ppm(double snr_db);       /* frame error rate, ppm */
uint64_t medium_rate_bps(const struct medium_params *p, double snr_db); /* 0: out of range */
/* The counter-based hash behind the drops: uniform over 0..2^64-1. */
uint64_t medium_hash(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* Segment `segment` (medium=radio) of a parsed topology: params, positions,
 * the segment's loss/delay, its pair lines. */
int medium_model_from_topo(const struct topo *t, unsigned segment, struct medium_model **out);

#endif
