/* Shared airtime of one radio segment (docs/wireless.md, "Airtime"): a frame
 * occupies bytes*8/rate of the channel; a sender defers to every transmission it
 * hears (carrier sense), so senders in range of each other share the capacity;
 * each sender's queue is bounded; overlapping transmissions from senders that do
 * not hear each other are lost at a receiver that hears both (hidden nodes), and a
 * member cannot receive while it transmits.  Per ordered pair counters.  Pure:
 * times are given by the caller (ns, any monotonic origin), so it is unit-tested
 * without a clock or frames. */
#ifndef NETSIM_MEDIUM_AIR_H
#define NETSIM_MEDIUM_AIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "medium/model.h"

struct medium_counters {     /* sender i -> receiver j */
	uint64_t offered;        /* frames sent towards j (in range) */
	uint64_t delivered;      /* frames j got */
	uint64_t lost;           /* dropped by the pair's loss */
	uint64_t collided;       /* lost at j by a hidden-node collision or half duplex */
	uint64_t queue_dropped;  /* dropped because i's queue was full */
	uint64_t bytes;          /* bytes delivered */
};

struct medium_tx {            /* one transmission on the air */
	unsigned sender;
	uint64_t start_ns, end_ns;
};

struct medium_air;

/* The air of the segment whose model is m (borrowed: it must outlive the air). */
struct medium_air *medium_air_new(struct medium_model *m);
void medium_air_free(struct medium_air *a);

/* bytes*8/rate in ns (rate 0 counts as 1 bit/s). */
uint64_t medium_airtime_ns(size_t bytes, uint64_t rate_bps);

/* Sender s asks, at now_ns, to put `bytes` on the air at `rate_bps`.  -ENOBUFS
 * when s already has queue_frames frames waiting or on the air (the frame is
 * dropped; count it with medium_air_count_queue_drop).  Else 0 and *tx: it starts
 * when the channel is free as s hears it (no earlier than now_ns) and ends one
 * airtime later; every member that hears s defers until its end. */
int medium_air_transmit(struct medium_air *a, unsigned s, uint64_t now_ns, size_t bytes,
			uint64_t rate_bps, struct medium_tx *tx);

/* Was tx lost at receiver r by a collision?  Ask at or after tx->end_ns.
 * Always false when the segment's hidden_nodes is off. */
bool medium_air_collided(struct medium_air *a, const struct medium_tx *tx, unsigned r);

/* Could a collision happen at all with the current model (some two senders that
 * do not hear each other share a receiver)?  Cached per model generation. */
bool medium_air_collisions_possible(struct medium_air *a);

/* i -> j counters (NULL when out of bounds); zeroed by medium_air_new. */
struct medium_counters *medium_air_counters(struct medium_air *a, unsigned i, unsigned j);

/* Frames queued or on the air for s at now_ns. */
unsigned medium_air_queued(struct medium_air *a, unsigned s, uint64_t now_ns);

#endif
