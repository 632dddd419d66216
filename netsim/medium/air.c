/* Airtime, queues and collisions of one radio segment (see air.h).
 *
 * Carrier sense is a reservation: when s transmits over [t0, t1], every member
 * that hears s (and s itself) counts the channel busy until t1, and its next
 * frame starts no earlier.  Two saturating senders in range of each other thus
 * alternate, each getting about half the capacity; senders that do not hear each
 * other overlap, and the overlap is a collision at a receiver hearing both. */
#include "medium/air.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Recent transmissions kept for the collision check (when collisions are
 * possible at all).  The cap bounds memory under floods; a check whose partner
 * was evicted misses that collision, and only then. */
#define RECORDS_MAX 65536
/* Records are kept for the longest airtime seen plus the longest pair delay (a
 * frame is checked when delivered), at most this long. */
#define RECORD_KEEP_MAX_NS 2000000000ull

struct sender {
	uint64_t busy_until_ns;   /* the channel as this member hears it */
	uint64_t *ends;           /* ring of queue_frames end times, FIFO */
	unsigned head, count;
};

struct record {
	unsigned sender;
	uint64_t start_ns, end_ns;
};

struct medium_air {
	struct medium_model *m;
	unsigned n, queue_frames;
	struct sender *senders;
	struct medium_counters *counters; /* n*n */
	struct record *records;           /* ring */
	unsigned rec_head, rec_count;
	uint64_t max_airtime_ns;
	uint64_t cached_generation;
	bool cache_valid, possible;
	uint64_t max_delay_ns;
};

struct medium_air *medium_air_new(struct medium_model *m)
{
	struct medium_air *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->m = m;
	a->n = medium_model_size(m);
	a->queue_frames = medium_model_params(m)->queue_frames;
	if (a->queue_frames == 0)
		a->queue_frames = 1;
	a->senders = calloc(a->n, sizeof(*a->senders));
	a->counters = calloc((size_t)a->n * a->n, sizeof(*a->counters));
	if (!a->senders || !a->counters)
		goto fail;
	for (unsigned i = 0; i < a->n; i++) {
		a->senders[i].ends = calloc(a->queue_frames, sizeof(uint64_t));
		if (!a->senders[i].ends)
			goto fail;
	}
	return a;
fail:
	medium_air_free(a);
	return NULL;
}

void medium_air_free(struct medium_air *a)
{
	if (!a)
		return;
	if (a->senders)
		for (unsigned i = 0; i < a->n; i++)
			free(a->senders[i].ends);
	free(a->senders);
	free(a->counters);
	free(a->records);
	free(a);
}

uint64_t medium_airtime_ns(size_t bytes, uint64_t rate_bps)
{
	if (rate_bps == 0)
		rate_bps = 1;
	/* bytes <= 2^32 in practice; 128-bit keeps any value exact */
	unsigned __int128 ns = (unsigned __int128)bytes * 8u * 1000000000u;
	ns = (ns + rate_bps - 1) / rate_bps;
	return ns > UINT64_MAX / 4 ? UINT64_MAX / 4 : (uint64_t)ns;
}

static void refresh_cache(struct medium_air *a)
{
	uint64_t g = medium_model_generation(a->m);
	if (a->cache_valid && g == a->cached_generation)
		return;
	a->cache_valid = true;
	a->cached_generation = g;
	a->max_delay_ns = 0;
	a->possible = false;
	for (unsigned i = 0; i < a->n; i++)
		for (unsigned j = 0; j < a->n; j++) {
			const struct medium_pair *p = medium_model_pair(a->m, i, j);
			if (p->in_range && p->delay_us * 1000 > a->max_delay_ns)
				a->max_delay_ns = p->delay_us * 1000;
		}
	if (!medium_model_params(a->m)->hidden_nodes)
		return;
	/* s and s2 that do not hear each other, with a receiver r hearing both (r
	 * may be s2 itself: it cannot receive s while sending) */
	for (unsigned s = 0; s < a->n && !a->possible; s++)
		for (unsigned s2 = s + 1; s2 < a->n && !a->possible; s2++) {
			if (medium_model_hears(a->m, s, s2) && medium_model_hears(a->m, s2, s))
				continue;
			if (medium_model_hears(a->m, s, s2) || medium_model_hears(a->m, s2, s)) {
				a->possible = true;
				break;
			}
			for (unsigned r = 0; r < a->n; r++)
				if (medium_model_hears(a->m, s, r) && medium_model_hears(a->m, s2, r)) {
					a->possible = true;
					break;
				}
		}
}

bool medium_air_collisions_possible(struct medium_air *a)
{
	refresh_cache(a);
	return a->possible;
}

static unsigned queued(struct sender *snd, unsigned cap, uint64_t now_ns)
{
	while (snd->count > 0 && snd->ends[snd->head] <= now_ns) {
		snd->head = (snd->head + 1) % cap;
		snd->count--;
	}
	return snd->count;
}

unsigned medium_air_queued(struct medium_air *a, unsigned s, uint64_t now_ns)
{
	return s < a->n ? queued(&a->senders[s], a->queue_frames, now_ns) : 0;
}

static void record(struct medium_air *a, const struct medium_tx *tx, uint64_t now_ns)
{
	if (!a->records) {
		a->records = calloc(RECORDS_MAX, sizeof(*a->records));
		if (!a->records)
			return;
	}
	uint64_t keep = a->max_airtime_ns + a->max_delay_ns;
	if (keep > RECORD_KEEP_MAX_NS)
		keep = RECORD_KEEP_MAX_NS;
	/* records are appended in order of asking, so their ends are nearly sorted:
	 * evicting from the head while stale is enough */
	while (a->rec_count > 0) {
		struct record *old = &a->records[a->rec_head];
		if (old->end_ns + keep >= now_ns && a->rec_count < RECORDS_MAX)
			break;
		a->rec_head = (a->rec_head + 1) % RECORDS_MAX;
		a->rec_count--;
	}
	unsigned slot = (a->rec_head + a->rec_count) % RECORDS_MAX;
	a->records[slot] = (struct record){ tx->sender, tx->start_ns, tx->end_ns };
	a->rec_count++;
}

int medium_air_transmit(struct medium_air *a, unsigned s, uint64_t now_ns, size_t bytes,
			uint64_t rate_bps, struct medium_tx *tx)
{
	if (s >= a->n)
		return -EINVAL;
	struct sender *snd = &a->senders[s];
	if (queued(snd, a->queue_frames, now_ns) >= a->queue_frames)
		return -ENOBUFS;
	uint64_t air = medium_airtime_ns(bytes, rate_bps);
	tx->sender = s;
	tx->start_ns = snd->busy_until_ns > now_ns ? snd->busy_until_ns : now_ns;
	tx->end_ns = tx->start_ns + air;
	snd->ends[(snd->head + snd->count) % a->queue_frames] = tx->end_ns;
	snd->count++;
	if (snd->busy_until_ns < tx->end_ns)
		snd->busy_until_ns = tx->end_ns;
	for (unsigned k = 0; k < a->n; k++)
		if (k != s && medium_model_hears(a->m, s, k) &&
		    a->senders[k].busy_until_ns < tx->end_ns)
			a->senders[k].busy_until_ns = tx->end_ns;
	if (air > a->max_airtime_ns)
		a->max_airtime_ns = air;
	if (medium_air_collisions_possible(a))
		record(a, tx, now_ns);
	return 0;
}

bool medium_air_collided(struct medium_air *a, const struct medium_tx *tx, unsigned r)
{
	if (r >= a->n || !medium_air_collisions_possible(a) || !a->records)
		return false;
	for (unsigned k = 0; k < a->rec_count; k++) {
		const struct record *g = &a->records[(a->rec_head + k) % RECORDS_MAX];
		if (g->sender == tx->sender || g->start_ns >= tx->end_ns || g->end_ns <= tx->start_ns)
			continue;
		/* r transmits itself (half duplex), or hears the other sender */
		if (g->sender == r || medium_model_hears(a->m, g->sender, r))
			return true;
	}
	return false;
}

struct medium_counters *medium_air_counters(struct medium_air *a, unsigned i, unsigned j)
{
	if (i >= a->n || j >= a->n)
		return NULL;
	return &a->counters[(size_t)i * a->n + j];
}
