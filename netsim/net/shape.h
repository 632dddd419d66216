/* Link quality on the wire: tc qdiscs on a link's veth ends, through
 * libnl-route-3 (docs/links.md).
 *
 *   rate only                 root tbf
 *   delay/jitter/loss/...     root netem                (needs sch_netem)
 *   both                      root netem, tbf as its child (1:1)
 *
 * A link is shaped on the egress of both of its veth ends, so each direction
 * sees the quality once; a segment on the egress of each member's node-side end
 * (into the medium), so a frame crossing the segment sees it once too.
 *
 * The parameter calculations are pure functions so the unit tests pin them
 * without root (and the netem ones without a kernel that has netem). */
#ifndef NETSIM_SHAPE_H
#define NETSIM_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "topo/topo.h"

/* tbf accepts 8kbit .. 17gbit: libnl passes the rate as a signed 32-bit byte
 * rate, and below 8kbit the bucket's transmit time overflows tc's 32-bit ticks. */
#define SHAPE_RATE_MIN_BPS 8000ULL
#define SHAPE_RATE_MAX_BPS 17000000000ULL
/* netem keeps delay and jitter in 32-bit ticks (64 ns): up to about 274 s. */
#define SHAPE_DELAY_MAX_US 60000000ULL

/* One full-size Ethernet frame on a veth (MTU 1500 + 14 bytes of header). */
#define SHAPE_FRAME_BYTES 1514u

struct shape_tbf {
	uint32_t rate_bytes;   /* bytes per second (rate_bps / 8, rounded, at least 1) */
	uint32_t burst_bytes;  /* bucket: 10 ms at the rate, at least two full frames */
	uint32_t limit_bytes;  /* queue: burst + 100 ms at the rate */
};

struct shape_netem {
	uint32_t delay_us;
	uint32_t jitter_us;
	uint32_t loss;         /* probabilities scaled to 0..UINT32_MAX, as the kernel wants */
	uint32_t duplicate;
	uint32_t reorder;
	uint32_t gap;          /* 1 with reorder= (every packet may be sent ahead), else 0 */
	uint32_t limit_packets;/* enough for (delay + jitter) of packets at the rate, >= 1000 */
};

/* True when `q` asks for anything only netem does: a non-zero delay, jitter,
 * loss, duplicate or reorder (a zero one is a no-op and needs nothing). */
bool shape_needs_netem(const struct topo_quality *q);

/* tbf parameters for a rate; -ERANGE outside SHAPE_RATE_MIN_BPS..MAX. */
int shape_tbf_params(uint64_t rate_bps, struct shape_tbf *out);
/* netem parameters for the netem part of `q`; -ERANGE when delay or jitter is
 * above SHAPE_DELAY_MAX_US. */
int shape_netem_params(const struct topo_quality *q, struct shape_netem *out);
/* A probability in parts per million scaled to 0..UINT32_MAX (100% = UINT32_MAX). */
uint32_t shape_probability(uint32_t ppm);

/* 1 when the running kernel has the netem qdisc, 0 when it does not (and cannot
 * load it), <0 when the probe itself failed.  Found out once per process by
 * adding a netem qdisc to lo in a scratch network namespace that disappears
 * right after. */
int shape_netem_available(struct error *err);

/* Can `q` be applied here?  Checks the ranges above and, when netem is needed,
 * that the kernel has it; the message names the attributes, the missing module
 * and kernel-level mode.  Callers prefix the message with what they shape. */
int shape_check(const struct topo_quality *q, struct error *err);

/* Make the egress shaping of `ifname` (in netns `ns`) be exactly `q`: whatever
 * root qdisc it had is removed first, so an empty `q` removes shaping. */
int shape_apply(int ns, const char *ifname, const struct topo_quality *q, struct error *err);

/* ---- names of a sim's links ------------------------------------------------ */

/* File name for link `l` ("n1:eth0--n2:eth0") or segment `s` ("air0") under
 * /run/netsim/SIM/links/ (':' is in neither, so they never clash). */
void shape_link_name(const struct topo *t, unsigned l, char *buf, size_t len);
void shape_segment_name(const struct topo *t, unsigned s, char *buf, size_t len);

#endif
