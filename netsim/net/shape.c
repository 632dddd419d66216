/* Link quality: tbf and netem qdiscs through libnl-route-3 (see shape.h and
 * docs/links.md).  Requests go through netlink.c's socket helpers, from a socket
 * opened inside the interface's network namespace. */
#include "net/shape.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/pkt_sched.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "cleanup.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "topo/quality.h"
#include "topo/units.h"

/* ---- parameters (pure) --------------------------------------------------- */

bool shape_needs_netem(const struct topo_quality *q)
{
	return ((q->set & TOPO_Q_DELAY) && q->delay_us > 0) ||
	       ((q->set & TOPO_Q_JITTER) && q->jitter_us > 0) ||
	       ((q->set & TOPO_Q_LOSS) && q->loss_ppm > 0) ||
	       ((q->set & TOPO_Q_DUPLICATE) && q->duplicate_ppm > 0) ||
	       ((q->set & TOPO_Q_REORDER) && q->reorder_ppm > 0);
}

static uint64_t div_round_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

int shape_tbf_params(uint64_t rate_bps, struct shape_tbf *out)
{
	if (rate_bps < SHAPE_RATE_MIN_BPS || rate_bps > SHAPE_RATE_MAX_BPS)
		return -ERANGE;
	uint64_t rate = (rate_bps + 4) / 8;
	/* The bucket must hold a whole frame or nothing is ever sent, and two so
	 * back-to-back frames do not stall; beyond that, 10 ms worth keeps the
	 * shaper from sleeping per packet at high rates while a burst stays far
	 * too short to show in any transfer a test would time. */
	uint64_t burst = div_round_up(rate, 100);
	if (burst < 2 * SHAPE_FRAME_BYTES)
		burst = 2 * SHAPE_FRAME_BYTES;
	/* tc's "latency 100ms": a queue a TCP window can fill without tail drops
	 * at every burst, yet bounded in time like a real link's buffer. */
	uint64_t limit = burst + div_round_up(rate, 10);
	out->rate_bytes = (uint32_t)rate;
	out->burst_bytes = (uint32_t)burst;
	out->limit_bytes = (uint32_t)limit;
	return 0;
}

uint32_t shape_probability(uint32_t ppm)
{
	if (ppm >= 1000000)
		return UINT32_MAX;
	return (uint32_t)(((uint64_t)ppm * UINT32_MAX + 500000) / 1000000);
}

int shape_netem_params(const struct topo_quality *q, struct shape_netem *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t delay = (q->set & TOPO_Q_DELAY) ? q->delay_us : 0;
	uint64_t jitter = (q->set & TOPO_Q_JITTER) ? q->jitter_us : 0;
	if (delay > SHAPE_DELAY_MAX_US || jitter > SHAPE_DELAY_MAX_US)
		return -ERANGE;
	out->delay_us = (uint32_t)delay;
	out->jitter_us = (uint32_t)jitter;
	if (q->set & TOPO_Q_LOSS)
		out->loss = shape_probability(q->loss_ppm);
	if (q->set & TOPO_Q_DUPLICATE)
		out->duplicate = shape_probability(q->duplicate_ppm);
	if (q->set & TOPO_Q_REORDER)
		out->reorder = shape_probability(q->reorder_ppm);
	/* tc's convention: reordering without a gap means any packet may jump. */
	out->gap = out->reorder ? 1 : 0;
	/* netem holds every delayed packet: room for twice the packets that arrive
	 * during the longest delay, at the link's rate (1 gbit/s when unshaped),
	 * and never less than tc's default of 1000. */
	uint64_t rate = (q->set & TOPO_Q_RATE) ? q->rate_bps : 1000000000ULL;
	uint64_t packets_per_second = div_round_up(rate, SHAPE_FRAME_BYTES * 8);
	uint64_t limit = div_round_up(2 * packets_per_second * (delay + jitter), 1000000);
	out->limit_packets = limit < 1000 ? 1000 : (uint32_t)limit;
	return 0;
}

/* ---- talking to the kernel ------------------------------------------------ */

#define HANDLE_ROOT_QDISC TC_H_MAKE(1U << 16, 0)   /* 1: */
#define HANDLE_ROOT_CLASS TC_H_MAKE(1U << 16, 1)   /* 1:1, netem's child slot */
#define HANDLE_CHILD_QDISC TC_H_MAKE(2U << 16, 0)  /* 2: */

static struct rtnl_qdisc *new_qdisc(int ifindex, uint32_t parent, uint32_t handle,
				    const char *kind)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	if (handle)
		rtnl_tc_set_handle(TC_CAST(q), handle);
	if (kind && rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
		rtnl_qdisc_put(q);
		return NULL;
	}
	return q;
}

static int add_qdisc(struct net *n, struct rtnl_qdisc *q)
{
	int r = rtnl_qdisc_add(net_request_socket(n), q, NLM_F_CREATE | NLM_F_EXCL);
	return r < 0 ? -net_request_errno(n, r) : 0;
}

static int add_tbf(struct net *n, int ifindex, uint32_t parent, uint32_t handle,
		   const struct shape_tbf *p)
{
	struct rtnl_qdisc *q = new_qdisc(ifindex, parent, handle, "tbf");
	if (!q)
		return -ENOMEM;
	rtnl_qdisc_tbf_set_rate(q, (int)p->rate_bytes, (int)p->burst_bytes, 0);
	rtnl_qdisc_tbf_set_limit(q, (int)p->limit_bytes);
	int r = add_qdisc(n, q);
	rtnl_qdisc_put(q);
	return r;
}

static int add_netem(struct net *n, int ifindex, const struct shape_netem *p)
{
	struct rtnl_qdisc *q = new_qdisc(ifindex, TC_H_ROOT, HANDLE_ROOT_QDISC, "netem");
	if (!q)
		return -ENOMEM;
	/* libnl converts microseconds to ticks; probabilities go as they are
	 * (its int parameters carry the kernel's u32 bit for bit). */
	rtnl_netem_set_limit(q, (int)p->limit_packets);
	rtnl_netem_set_delay(q, (int)p->delay_us);
	if (p->jitter_us)
		rtnl_netem_set_jitter(q, (int)p->jitter_us);
	if (p->loss)
		rtnl_netem_set_loss(q, (int)p->loss);
	if (p->duplicate)
		rtnl_netem_set_duplicate(q, (int)p->duplicate);
	if (p->reorder) {
		rtnl_netem_set_reorder_probability(q, (int)p->reorder);
		rtnl_netem_set_gap(q, (int)p->gap);
	}
	int r = add_qdisc(n, q);
	rtnl_qdisc_put(q);
	return r;
}

/* Remove the root qdisc (and with it any child); none there is fine. */
static int delete_root(struct net *n, int ifindex)
{
	struct rtnl_qdisc *q = new_qdisc(ifindex, TC_H_ROOT, 0, NULL);
	if (!q)
		return -ENOMEM;
	int r = rtnl_qdisc_delete(net_request_socket(n), q);
	rtnl_qdisc_put(q);
	if (r < 0) {
		r = -net_request_errno(n, r);
		/* "Cannot delete qdisc with handle of zero": only the default is there. */
		if (r == -ENOENT)
			r = 0;
	}
	return r;
}

struct apply_request {
	const char *ifname;
	bool use_tbf, use_netem;
	struct shape_tbf tbf;
	struct shape_netem netem;
	const char *step;   /* what failed, for the message */
	char kernel_msg[NET_KERNEL_MSG_LEN];  /* the kernel's explanation of it */
};

static int apply_in_netns(struct net *n, void *arg)
{
	struct apply_request *req = arg;
	/* if_nametoindex asks the netns we are in: the interface's. */
	int ifindex = (int)if_nametoindex(req->ifname);
	if (ifindex == 0)
		return -errno;
	req->step = "remove the old qdisc";
	int r = delete_root(n, ifindex);
	if (r == 0 && req->use_netem) {
		req->step = "add netem";
		r = add_netem(n, ifindex, &req->netem);
		if (r == 0 && req->use_tbf) {
			req->step = "add tbf below netem";
			r = add_tbf(n, ifindex, HANDLE_ROOT_CLASS, HANDLE_CHILD_QDISC, &req->tbf);
		}
	} else if (r == 0 && req->use_tbf) {
		req->step = "add tbf";
		r = add_tbf(n, ifindex, TC_H_ROOT, HANDLE_ROOT_QDISC, &req->tbf);
	}
	if (r < 0)
		snprintf(req->kernel_msg, sizeof(req->kernel_msg), "%s", net_request_message(n));
	return r;
}

int shape_apply(int ns, const char *ifname, const struct topo_quality *q, struct error *err)
{
	struct apply_request req = {.ifname = ifname, .step = "find the interface"};
	char label[PATH_MAX];
	int r = shape_check(q, err);
	if (r < 0)
		return r;
	req.use_tbf = (q->set & TOPO_Q_RATE) != 0;
	req.use_netem = shape_needs_netem(q);
	if (req.use_tbf)
		shape_tbf_params(q->rate_bps, &req.tbf);
	if (req.use_netem)
		shape_netem_params(q, &req.netem);
	int result = 0;
	r = net_run_in_netns(ns, apply_in_netns, &req, &result, err);
	netns_describe(ns, label, sizeof(label));
	if (r < 0)
		return error_prefix(err, "shape %s:%s", label, ifname);
	if (result < 0) {
		error_set(err, -result, "shape %s:%s: %s", label, ifname, req.step);
		return net_error_add_kernel_msg(err, req.kernel_msg);
	}
	return 0;
}

static int probe_netem(struct net *n, void *arg)
{
	(void)arg;
	int ifindex = (int)if_nametoindex("lo");
	if (ifindex == 0)
		return -errno;
	struct rtnl_qdisc *q = new_qdisc(ifindex, TC_H_ROOT, HANDLE_ROOT_QDISC, "netem");
	if (!q)
		return -ENOMEM;
	rtnl_netem_set_delay(q, 1000);
	int r = add_qdisc(n, q);
	rtnl_qdisc_put(q);
	return r;
}

int shape_netem_available(struct error *err)
{
	static int known = -1;  /* the kernel does not change under us: ask once */
	if (known >= 0)
		return known;
	/* A scratch netns only this process refers to: the kernel frees it (with
	 * the probe's qdisc) as soon as the fd below is closed. */
	cleanup_close int saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		return error_set(err, errno, "probe for sch_netem: open /proc/self/ns/net");
	if (unshare(CLONE_NEWNET) < 0)
		return error_set(err, errno, "probe for sch_netem: new network namespace");
	cleanup_close int scratch = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int open_errno = errno;
	int r = netns_leave(&saved, err);
	if (r < 0)
		return error_prefix(err, "probe for sch_netem");
	if (scratch < 0)
		return error_set(err, open_errno, "probe for sch_netem: open scratch netns");
	int result = 0;
	r = net_run_in_netns(scratch, probe_netem, NULL, &result, err);
	if (r < 0)
		return error_prefix(err, "probe for sch_netem");
	if (result == 0)
		known = 1;
	else if (result == -ENOENT) /* "Specified qdisc kind is unknown" */
		known = 0;
	else
		return error_set(err, -result, "probe for sch_netem: netem qdisc on lo");
	return known;
}

/* "delay=10ms loss=1%": the netem attributes of q that do something. */
static void format_netem_part(const struct topo_quality *q, char *buf, size_t len)
{
	struct topo_quality part = *q;
	part.set &= TOPO_Q_NETEM;
	if (part.delay_us == 0)
		part.set &= ~(unsigned)TOPO_Q_DELAY;
	if (part.jitter_us == 0)
		part.set &= ~(unsigned)TOPO_Q_JITTER;
	if (part.loss_ppm == 0)
		part.set &= ~(unsigned)TOPO_Q_LOSS;
	if (part.duplicate_ppm == 0)
		part.set &= ~(unsigned)TOPO_Q_DUPLICATE;
	if (part.reorder_ppm == 0)
		part.set &= ~(unsigned)TOPO_Q_REORDER;
	topo_format_quality(&part, buf, len);
}

int shape_check(const struct topo_quality *q, struct error *err)
{
	char value[64];
	if ((q->set & TOPO_Q_RATE) &&
	    (q->rate_bps < SHAPE_RATE_MIN_BPS || q->rate_bps > SHAPE_RATE_MAX_BPS)) {
		units_format_rate(q->rate_bps, value, sizeof(value));
		return error_setmsg(err, ERANGE, "rate=%s is out of range (tbf takes 8kbit to 17gbit)",
				    value);
	}
	struct shape_netem netem;
	if (shape_netem_params(q, &netem) < 0)
		return error_setmsg(err, ERANGE,
				    "delay= and jitter= are limited to 60s (netem's clock)");
	if (!shape_needs_netem(q))
		return 0;
	int r = shape_netem_available(err);
	if (r < 0)
		return r;
	if (r == 0) {
		char attrs[256];
		format_netem_part(q, attrs, sizeof(attrs));
		return error_setmsg(err, ENOTSUP,
				    "%s %s the kernel module sch_netem (the netem qdisc), which "
				    "this host's kernel does not have and cannot load; run the sim in "
				    "kernel-level mode (netsim up --vm), whose kernel has it",
				    attrs, strchr(attrs, ' ') ? "need" : "needs");
	}
	return 0;
}

/* ---- names of a sim's links ------------------------------------------------ */

void shape_link_name(const struct topo *t, unsigned l, char *buf, size_t len)
{
	const struct topo_link *link = &t->links[l];
	snprintf(buf, len, "%s:%s--%s:%s", t->nodes[link->a.node].name, link->a.ifname,
		 t->nodes[link->b.node].name, link->b.ifname);
}

void shape_segment_name(const struct topo *t, unsigned s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", t->segments[s].name);
}
