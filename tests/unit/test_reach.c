/* The reach engine (netsim/tools/reach.h) against a simulated network with a virtual
 * clock: sends cost time, replies come back after a round trip into per-source
 * receive buffers of bounded size, and whatever arrives beyond a buffer's size
 * between two reads is lost, as with a real socket.  This runs the engine at
 * sizes (300 nodes, 89700 pairs) that take minutes to bring up for real, with
 * no root, and pins what issue 11 found: a round whose sends outlast its
 * interval must still read the replies. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tools/reach.h"
#include "tap.h"

struct reply {
	unsigned src, dst;
	double arrival;
};

struct fake_net {
	unsigned n;
	double t;               /* virtual clock, seconds */
	double send_cost;       /* seconds one sendto takes */
	double rtt;             /* fixed, so replies arrive in send order */
	unsigned buffer;        /* replies a source's socket holds between reads */
	double routes_at;       /* replies only for probes sent from then on */
	int unreachable_dst;    /* -1, or a node nobody reaches */
	struct reply *q;        /* FIFO of replies in flight */
	size_t head, tail, cap;
	unsigned *arrived;      /* per source, replies since the last read */
	unsigned *sends;        /* per pair */
	unsigned long total_sends, dropped;
	unsigned max_batch, batch;
	double last_send;
};

static double fake_now(void *ctx)
{
	return ((struct fake_net *)ctx)->t;
}

static void fake_send(void *ctx, unsigned src, unsigned dst)
{
	struct fake_net *f = ctx;
	f->t += f->send_cost;
	f->last_send = f->t;
	f->sends[(size_t)src * f->n + dst]++;
	f->total_sends++;
	if (++f->batch > f->max_batch)
		f->max_batch = f->batch;
	if ((int)dst == f->unreachable_dst || f->t < f->routes_at)
		return;
	if (f->tail == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 1024;
		f->q = realloc(f->q, f->cap * sizeof(*f->q));
	}
	f->q[f->tail++] = (struct reply){src, dst, f->t + f->rtt};
}

/* Like poll(): returns as soon as a reply is there, else after `seconds`;
 * then every socket is read. */
static int fake_wait(void *ctx, double seconds, const bool *probing, struct reach_result *res,
		     struct error *err)
{
	(void)err;
	struct fake_net *f = ctx;
	f->batch = 0;
	double until = f->t + seconds;
	if (f->head < f->tail && f->q[f->head].arrival > f->t && f->q[f->head].arrival < until)
		until = f->q[f->head].arrival;
	if (until > f->t)
		f->t = until;
	else if (seconds > 0) /* a real clock always moves on */
		f->t += 1e-9;
	memset(f->arrived, 0, f->n * sizeof(*f->arrived));
	for (; f->head < f->tail && f->q[f->head].arrival <= f->t; f->head++) {
		const struct reply *r = &f->q[f->head];
		if (f->arrived[r->src]++ >= f->buffer) {
			f->dropped++;
			continue;
		}
		reach_record(res, probing, r->src, r->dst, f->rtt * 1000.0);
	}
	return 0;
}

static void fake_init(struct fake_net *f, unsigned n, double send_cost)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	f->send_cost = send_cost;
	f->rtt = 0.002;
	f->buffer = 64;
	f->unreachable_dst = -1;
	f->arrived = calloc(n, sizeof(*f->arrived));
	f->sends = calloc((size_t)n * n, sizeof(*f->sends));
}

static void fake_free(struct fake_net *f)
{
	free(f->q);
	free(f->arrived);
	free(f->sends);
}

/* All pairs probed; returns the engine's result code. */
static int run(struct fake_net *f, double timeout, double interval, struct reach_result *res,
	       bool **probing_out)
{
	unsigned n = f->n;
	memset(res, 0, sizeof(*res));
	res->n = n;
	res->reached = calloc((size_t)n * n, sizeof(*res->reached));
	res->rtt_ms = calloc((size_t)n * n, sizeof(*res->rtt_ms));
	bool *probing = calloc((size_t)n * n, sizeof(*probing));
	for (unsigned s = 0; s < n; s++)
		for (unsigned d = 0; d < n; d++)
			if (s != d) {
				probing[(size_t)s * n + d] = true;
				res->pairs++;
			}
	struct reach_io io = {.ctx = f, .now = fake_now, .send = fake_send, .wait = fake_wait};
	struct error err = {0};
	int r = reach_engine_run(&io, probing, timeout, interval, res, &err);
	if (probing_out)
		*probing_out = probing;
	else
		free(probing);
	return r;
}

/* 300 nodes, 20 µs a send: one sweep of 89700 probes takes 1.8 s, nine times
 * converge's 0.2 s interval, and a socket holds 64 replies. */
static void test_large_sweep_outlasting_interval(void)
{
	struct fake_net f;
	fake_init(&f, 300, 20e-6);
	struct reach_result res;
	int r = run(&f, 60, 0.2, &res, NULL);
	is_int(r, 0, "300 nodes: engine runs");
	is_int(res.pairs_ok, res.pairs, "300 nodes, sends 9x the interval: every pair answered");
	ok(res.seconds < 2.5, "...within one sweep (%.2f s)", res.seconds);
	is_int(f.dropped, 0, "no reply overflowed a socket's buffer");
	ok(f.max_batch <= REACH_SEND_BATCH, "replies read at least every %d sends (max %u)",
	   REACH_SEND_BATCH, f.max_batch);
	ok(f.total_sends == res.pairs, "every pair probed exactly once (%lu sends)",
	   f.total_sends);
	reach_result_free(&res);
	fake_free(&f);
}

/* --watch: timeout == interval, and the sweep is longer than both. */
static void test_watch_round_longer_than_timeout(void)
{
	struct fake_net f;
	fake_init(&f, 300, 20e-6);
	struct reach_result res;
	run(&f, 0.2, 0.2, &res, NULL);
	is_int(res.pairs_ok, res.pairs, "one 0.2 s round of a 1.8 s sweep: still every pair");
	reach_result_free(&res);
	fake_free(&f);
}

/* The same on a busy machine: replies take 0.3 s, longer than the interval. */
static void test_watch_slow_replies(void)
{
	struct fake_net f;
	fake_init(&f, 300, 20e-6);
	f.rtt = 0.3;
	f.buffer = 100000;
	struct reach_result res;
	run(&f, 0.2, 0.2, &res, NULL);
	is_int(res.pairs_ok, res.pairs, "a sweep past the timeout, replies after 0.3 s: every pair");
	reach_result_free(&res);
	fake_free(&f);
}

/* Routing comes up at 3 s: the first answers count from then on, as
 * converge needs. */
static void test_converge_time(void)
{
	struct fake_net f;
	fake_init(&f, 260, 10e-6);
	f.routes_at = 3.0;
	struct reach_result res;
	run(&f, 60, 0.2, &res, NULL);
	is_int(res.pairs_ok, res.pairs, "routes at 3 s, 260 nodes: every pair answered");
	ok(res.seconds >= 3.0 && res.seconds < 3.0 + 0.2 + 0.7 + 0.1,
	   "converged time is 3 s plus at most a round and a sweep (%.2f s)", res.seconds);
	reach_result_free(&res);
	fake_free(&f);
}

/* Nobody reaches n0: those pairs stay missing, the run ends at the timeout,
 * and a pair gets no more than one probe per interval. */
static void test_unreachable_and_pacing(void)
{
	struct fake_net f;
	fake_init(&f, 20, 0);
	f.unreachable_dst = 0;
	bool *probing;
	struct reach_result res;
	run(&f, 5, 1, &res, &probing);
	is_int(res.pairs - res.pairs_ok, 19, "the 19 pairs to an unreachable node stay missing");
	ok(res.seconds >= 5 && res.seconds <= 5.5, "run ends at the timeout (%.2f s)",
	   res.seconds);
	unsigned most = 0;
	for (unsigned s = 1; s < f.n; s++)
		if (f.sends[(size_t)s * f.n] > most)
			most = f.sends[(size_t)s * f.n];
	ok(most >= 5 && most <= 6, "an unanswered pair: one probe a second for 5 s (%u)", most);
	unsigned again = 0;
	for (unsigned s = 0; s < f.n; s++)
		for (unsigned d = 1; d < f.n; d++)
			if (s != d && f.sends[(size_t)s * f.n + d] != 1)
				again++;
	is_int(again, 0, "an answered pair is not probed again");
	free(probing);
	reach_result_free(&res);
	fake_free(&f);
}

/* A big round's sends are spread over the first half of the interval, not
 * sent at once; a small round's go out at once. */
static void test_sends_spread(void)
{
	struct fake_net f;
	fake_init(&f, 120, 0);
	f.unreachable_dst = 0; /* keep the run going until the timeout */
	struct reach_result res;
	run(&f, 1.0, 1.0, &res, NULL);
	ok(f.last_send > 0.4 && f.last_send <= 0.5 + 1e-9,
	   "14280 free sends: the last one near half the interval (%.3f s)", f.last_send);
	reach_result_free(&res);
	fake_free(&f);

	fake_init(&f, 3, 0);
	run(&f, 10, 1.0, &res, NULL);
	is_int(res.pairs_ok, 6, "3 nodes: all 6 pairs");
	ok(res.seconds < 0.01, "...answered at once, not spread over the interval (%.4f s)",
	   res.seconds);
	reach_result_free(&res);
	fake_free(&f);
}

int main(void)
{
	test_large_sweep_outlasting_interval();
	test_watch_round_longer_than_timeout();
	test_watch_slow_replies();
	test_converge_time();
	test_unreachable_and_pacing();
	test_sends_spread();
	return tap_done();
}
