/* Tables first, then ICMP (converge.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/converge.h"
#include "tools/route_check.h"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

void converge_sample(const struct reach_sim *rs, bool *want)
{
	unsigned n = rs->n;
	unsigned *cand = malloc((n + 1) * sizeof(*cand));
	if (!cand) {
		/* no memory for the spread: probe everything rather than nothing */
		for (unsigned s = 0; s < rs->nnodes; s++)
			for (unsigned d = 0; d < n; d++)
				want[(size_t)s * n + d] |= reach_sim_probed(rs, s, d);
		return;
	}
	for (unsigned s = 0; s < rs->nnodes; s++) {
		unsigned len = 0;
		for (unsigned d = 0; d < n; d++)
			if (reach_sim_probed(rs, s, d))
				cand[len++] = d;
		if (len <= CONVERGE_SAMPLE_PER_NODE) {
			for (unsigned k = 0; k < len; k++)
				want[(size_t)s * n + cand[k]] = true;
			continue;
		}
		/* evenly spaced from an offset that moves with s: for a fixed k the
		 * sources draw different destinations, so each is drawn about
		 * CONVERGE_SAMPLE_PER_NODE times, near ones and far ones alike */
		for (unsigned k = 0; k < CONVERGE_SAMPLE_PER_NODE; k++) {
			size_t at = (s + (size_t)k * len / CONVERGE_SAMPLE_PER_NODE) % len;
			want[(size_t)s * n + cand[at]] = true;
		}
	}
	free(cand);
}

/* The result of the tables alone: reached = a path in the tables. */
static void count_tables(const struct reach_sim *rs, const uint8_t *paths, struct reach_result *res,
			 unsigned *missing, unsigned *undecided)
{
	unsigned n = rs->n;
	res->pairs = res->pairs_ok = 0;
	*missing = *undecided = 0;
	for (unsigned s = 0; s < rs->nnodes; s++)
		for (unsigned d = 0; d < n; d++) {
			if (!reach_sim_probed(rs, s, d))
				continue;
			uint8_t p = paths[(size_t)s * n + d];
			res->pairs++;
			res->reached[(size_t)s * n + d] = p == PATH_OK;
			res->pairs_ok += p == PATH_OK;
			*missing += p == PATH_MISSING;
			*undecided += p == PATH_UNDECIDED;
		}
}

int converge_run(const struct reach_sim *rs, double timeout, double interval,
		 enum converge_sweep sweep, struct reach_result *res, struct converge_info *info,
		 struct error *err)
{
	unsigned n = rs->n;
	size_t cells = (size_t)n * n + 1;
	double start = now_seconds();
	memset(info, 0, sizeof(*info));
	info->tables_seconds = -1;
	memset(res, 0, sizeof(*res));
	res->n = n;
	res->reached = calloc(cells, sizeof(*res->reached));
	res->rtt_ms = calloc(cells, sizeof(*res->rtt_ms));
	uint8_t *paths = calloc(cells, sizeof(*paths));
	bool *want = calloc(cells, sizeof(*want));
	struct route_check rc = {0};
	struct reach_result probe = {0};
	int r = 0;
	if (!res->reached || !res->rtt_ms || !paths || !want) {
		r = error_set(err, ENOMEM, "converge");
		goto out;
	}
	r = route_check_open(&rc, rs, err);
	if (r < 0)
		goto out;
	unsigned pairs = 0;
	for (unsigned s = 0; s < rs->nnodes; s++)
		for (unsigned d = 0; d < n; d++)
			pairs += reach_sim_probed(rs, s, d);
	info->sampled = sweep == CONVERGE_SWEEP_SAMPLE ||
			(sweep == CONVERGE_SWEEP_AUTO && pairs > CONVERGE_FULL_SWEEP_PAIRS);
	/* 1. tables: until no pair lacks a path, or the time is up */
	unsigned missing, undecided;
	for (;;) {
		double looked = now_seconds();
		r = route_check_look(&rc, paths, err);
		if (r < 0)
			goto out;
		info->looks++;
		count_tables(rs, paths, res, &missing, &undecided);
		double t = now_seconds();
		if (missing == 0) {
			info->tables_seconds = t - start;
			break;
		}
		if (t - start >= timeout) {
			res->seconds = t - start;
			goto out; /* not converged: the pairs without a path */
		}
		/* a 1024-node sim's read and trace take about a second of CPU: keep
		 * to a third of one CPU, which the daemons being waited for need */
		double pause = 3 * (t - looked);
		sleep_seconds(looked + (pause > CONVERGE_TABLES_INTERVAL ? pause :
					CONVERGE_TABLES_INTERVAL) - t);
	}
	/* 2. sweep: all pairs, or a sample and what the tables could not tell */
	if (info->sampled)
		converge_sample(rs, want);
	for (unsigned s = 0; s < rs->nnodes; s++)
		for (unsigned d = 0; d < n; d++) {
			size_t k = (size_t)s * n + d;
			if (!reach_sim_probed(rs, s, d))
				continue;
			if (!info->sampled || paths[k] == PATH_UNDECIDED)
				want[k] = true;
			info->probed += want[k];
			info->undecided += want[k] && paths[k] == PATH_UNDECIDED;
		}
	double left = timeout - (now_seconds() - start);
	/* the engine's first round probes every pair even past its timeout */
	r = reach_run_pairs(rs->nodes, n, want, left > 0 ? left : 1e-3, interval, &probe, err);
	if (r < 0)
		goto out;
	res->pairs_ok = 0;
	for (unsigned s = 0; s < rs->nnodes; s++)
		for (unsigned d = 0; d < n; d++) {
			size_t k = (size_t)s * n + d;
			if (!reach_sim_probed(rs, s, d))
				continue;
			if (want[k]) {
				res->reached[k] = probe.reached[k];
				res->rtt_ms[k] = probe.rtt_ms[k];
			}
			res->pairs_ok += res->reached[k];
		}
	res->seconds = now_seconds() - start;
out:
	reach_result_free(&probe);
	route_check_close(&rc);
	free(paths);
	free(want);
	if (r < 0)
		reach_result_free(res);
	return r;
}
