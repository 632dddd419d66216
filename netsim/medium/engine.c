/* The medium process's frame engine (engine.h; docs/wireless.md).
 *
 * One AF_PACKET socket per member port, bound to it, with PACKET_VNET_HDR so a
 * veth's GSO super-frames and partial checksums travel intact (they are
 * segmented, if at all, by the receiving side's kernel), and
 * PACKET_IGNORE_OUTGOING so the engine never hears its own deliveries (sent by
 * the one socket below).  A frame
 * read from member i of segment s:
 *   - is checked (length, a source MAC that is not multicast), its source learnt;
 *   - goes to its learnt destination, or to every member in range (broadcast,
 *     multicast, unknown unicast);
 *   - is put on the segment's air (air.c) at the pair's rate (the lowest over its
 *     receivers for a frame with several), or dropped when i's queue is full;
 *   - per receiver j: counted as offered, dropped by the seeded loss of (i, j,
 *     frame number), else queued in the timer heap for the end of its airtime plus
 *     the pair's delay;
 * and when its time comes, dropped if it collided at j, else written to j's port
 * through one unbound sending socket (sendmmsg addressed by ifindex, so a
 * broadcast to every member is one call).  Everything is bounded: the frame size (MSG_TRUNC
 * drops), each sender's queue, the heap's entries and the bytes held. */
#include "medium/engine.h"

#include <errno.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "medium/ctl.h"
#include "net/hwsim.h"
#include "topo/ident.h"

#define RX_BATCH 32
#define TX_BATCH 64
#define RX_ROUNDS 4                 /* recvmmsg calls per port per wake-up */
#define FRAME_MAX (65536 + 256)     /* Ethernet bytes; larger reads are truncated: dropped */
#define VNET_LEN sizeof(struct virtio_net_hdr)
#define HEAP_MAX (1u << 20)         /* pending deliveries */
#define HELD_BYTES_MAX (256ull << 20)
/* A delivery due within this is made now: saves a timer wake-up per frame on
 * fast channels; the airtime reservation (hence throughput) is unaffected. */
#define SLACK_NS 20000ull
#define MAC_SLOTS 4096              /* per segment, power of two */
#define MAC_PROBE 8
#define MAC_AGE_NS (300ull * 1000000000ull)
#define MOVE_TICK_MS 50

enum { TAG_TIMER = 1, TAG_SIGNAL, TAG_HWSIM, TAG_CTL, TAG_PORT = 1u << 20 };

#define NL_BUF (64u << 10)          /* the hwsim socket's receive and send buffers */
#define NO_RECEIVER UINT32_MAX       /* a delivery that is only a TX status */

struct frame {
	unsigned refs;
	unsigned segment, sender;
	struct medium_tx tx;
	uint32_t len;                   /* vnet header + Ethernet frame; wifi: the 802.11 frame */
	/* medium=wifi: what the TX status reports */
	bool wifi, acked;
	uint32_t flags, freq, rx_rate;
	int32_t ack_signal;
	uint64_t cookie;
	struct hwsim_rate rates[HWSIM_TX_MAX_RATES];
	unsigned char data[];
};

struct delivery {
	uint64_t due_ns, seq;
	struct frame *frame;
	unsigned receiver;              /* NO_RECEIVER: none (wifi status only) */
	bool status;                    /* wifi: then report the frame's TX status */
};

struct radio {                      /* a medium=wifi member's hwsim radio */
	uint8_t mac[6];
	unsigned segment, member;
};

struct mac_entry {
	unsigned char mac[6];
	bool used;
	unsigned member;
	uint64_t seen_ns;
};

struct port {
	int fd;                         /* reads this port */
	int ifindex;
	unsigned segment, member;
};

/* Deliveries waiting for the next sendmmsg on the one sending socket, each
 * addressed to its port by ifindex: a broadcast to 99 members is one call. */
struct tx_batch {
	unsigned n;
	struct mmsghdr msg[TX_BATCH];
	struct iovec iov[TX_BATCH];
	struct sockaddr_ll to[TX_BATCH];
	struct frame *ref[TX_BATCH];
	unsigned port[TX_BATCH];
};

struct engine {
	struct medium_world world;
	struct port *ports;
	unsigned nports;
	unsigned **port_of;             /* [segment][member] → index into ports */
	struct mac_entry **macs;        /* [segment][MAC_SLOTS] */
	struct delivery *heap;
	unsigned nheap, heap_cap;
	uint64_t seq, held_bytes;
	int txfd;                       /* unbound AF_PACKET socket for every delivery */
	struct tx_batch tx;
	int epfd, timerfd, sigfd;
	uint64_t armed_ns;
	struct medium_ctl *ctl;
	unsigned *targets;              /* scratch, per segment size */
	uint64_t dropped_runt, dropped_big;
	/* medium=wifi: the hwsim socket, the radios by address */
	int hwfd;
	uint16_t hwfamily;
	struct radio *radios;           /* sorted by mac */
	unsigned nradios;
	struct radio **radio_of;        /* [segment][member] (wifi segments) */
	unsigned char *nlrx, *nltx;
	size_t nltx_len;
	uint64_t wifi_bad, wifi_unknown, wifi_send_failed;
	/* receive buffers, shared by every port */
	struct mmsghdr rx[RX_BATCH];
	struct iovec rxiov[RX_BATCH];
	unsigned char *rxbuf;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the world (positions, moves) -------------------------------------- */

int medium_world_init(struct medium_world *w, const struct topo *t, struct error *err)
{
	memset(w, 0, sizeof(*w));
	w->topo = t;
	unsigned n = 0;
	for (unsigned s = 0; s < t->nsegments; s++)
		n += topo_segment_on_air(&t->segments[s]);
	if (n == 0)
		return error_setmsg(err, ENOENT, "the topology has no medium=radio or medium=wifi "
				    "segment");
	w->segments = calloc(n, sizeof(*w->segments));
	w->moves = calloc(t->nnodes ? t->nnodes : 1, sizeof(*w->moves));
	if (!w->segments || !w->moves) {
		medium_world_free(w);
		return error_set(err, ENOMEM, "medium");
	}
	for (unsigned s = 0; s < t->nsegments; s++) {
		if (!topo_segment_on_air(&t->segments[s]))
			continue;
		struct medium_segment *seg = &w->segments[w->nsegments++];
		seg->topo_index = s;
		int r = medium_model_from_topo(t, s, &seg->model);
		if (r == 0 && !(seg->air = medium_air_new(seg->model)))
			r = -ENOMEM;
		if (r < 0) {
			medium_world_free(w);
			return error_set(err, -r, "segment %s", t->segments[s].name);
		}
	}
	return 0;
}

void medium_world_free(struct medium_world *w)
{
	for (unsigned s = 0; w->segments && s < w->nsegments; s++) {
		medium_air_free(w->segments[s].air);
		medium_model_free(w->segments[s].model);
	}
	free(w->segments);
	free(w->moves);
	memset(w, 0, sizeof(*w));
}

static bool set_node_pos(struct medium_world *w, unsigned node, const double pos[3])
{
	bool found = false;
	for (unsigned s = 0; s < w->nsegments; s++) {
		int m = topo_segment_member(w->topo, w->segments[s].topo_index, node);
		if (m >= 0) {
			medium_model_set_pos(w->segments[s].model, (unsigned)m, pos);
			found = true;
		}
	}
	return found;
}

static bool get_node_pos(const struct medium_world *w, unsigned node, double pos[3])
{
	for (unsigned s = 0; s < w->nsegments; s++) {
		int m = topo_segment_member(w->topo, w->segments[s].topo_index, node);
		if (m >= 0) {
			medium_model_get_pos(w->segments[s].model, (unsigned)m, pos);
			return true;
		}
	}
	return false;
}

int medium_world_move(struct medium_world *w, unsigned node, const double pos[3],
		      uint64_t over_ms, uint64_t now)
{
	double from[3];
	if (node >= w->topo->nnodes || !get_node_pos(w, node, from))
		return -ENOENT;
	struct medium_move *mv = &w->moves[node];
	if (mv->active) {
		mv->active = false;
		w->moving--;
	}
	if (over_ms == 0) {
		set_node_pos(w, node, pos);
		return 0;
	}
	memcpy(mv->from, from, sizeof(from));
	memcpy(mv->to, pos, sizeof(mv->to));
	mv->start_ns = now;
	mv->end_ns = now + over_ms * 1000000ull;
	mv->active = true;
	w->moving++;
	return 0;
}

void medium_world_tick(struct medium_world *w, uint64_t now)
{
	for (unsigned node = 0; w->moving > 0 && node < w->topo->nnodes; node++) {
		struct medium_move *mv = &w->moves[node];
		if (!mv->active)
			continue;
		double f = now >= mv->end_ns ? 1.0
			   : (double)(now - mv->start_ns) / (double)(mv->end_ns - mv->start_ns);
		double pos[3];
		for (int k = 0; k < 3; k++)
			pos[k] = mv->from[k] + (mv->to[k] - mv->from[k]) * f;
		set_node_pos(w, node, pos);
		if (f >= 1.0) {
			mv->active = false;
			w->moving--;
		}
	}
}

static bool is_wifi(const struct engine *e, unsigned s)
{
	return e->world.topo->segments[e->world.segments[s].topo_index].medium == TOPO_MEDIUM_WIFI;
}

/* ---- the timer heap ---------------------------------------------------- */

static bool earlier(const struct delivery *a, const struct delivery *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static bool heap_push(struct engine *e, const struct delivery *d)
{
	if (e->nheap == e->heap_cap) {
		if (e->heap_cap >= HEAP_MAX)
			return false;
		unsigned cap = e->heap_cap ? e->heap_cap * 2 : 1024;
		struct delivery *h = realloc(e->heap, cap * sizeof(*h));
		if (!h)
			return false;
		e->heap = h;
		e->heap_cap = cap;
	}
	unsigned i = e->nheap++;
	while (i > 0) {
		unsigned parent = (i - 1) / 2;
		if (!earlier(d, &e->heap[parent]))
			break;
		e->heap[i] = e->heap[parent];
		i = parent;
	}
	e->heap[i] = *d;
	return true;
}

static struct delivery heap_pop(struct engine *e)
{
	struct delivery top = e->heap[0];
	struct delivery last = e->heap[--e->nheap];
	unsigned i = 0;
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		const struct delivery *best = &last;
		if (l < e->nheap && earlier(&e->heap[l], best)) {
			m = l;
			best = &e->heap[l];
		}
		if (r < e->nheap && earlier(&e->heap[r], best))
			m = r;
		if (m == i)
			break;
		e->heap[i] = e->heap[m];
		i = m;
	}
	if (e->nheap > 0)
		e->heap[i] = last;
	return top;
}

static void frame_put(struct engine *e, struct frame *f)
{
	if (--f->refs == 0) {
		e->held_bytes -= f->len;
		free(f);
	}
}

/* ---- MAC learning ------------------------------------------------------- */

static unsigned mac_hash(const unsigned char *mac)
{
	uint64_t v = 0;
	memcpy(&v, mac, 6);
	v *= UINT64_C(0x9e3779b97f4a7c15);
	return (unsigned)(v >> 40) & (MAC_SLOTS - 1);
}

static void mac_learn(struct mac_entry *t, const unsigned char *mac, unsigned member, uint64_t now)
{
	unsigned h = mac_hash(mac), victim = h;
	for (unsigned k = 0; k < MAC_PROBE; k++) {
		struct mac_entry *x = &t[(h + k) & (MAC_SLOTS - 1)];
		if (x->used && memcmp(x->mac, mac, 6) == 0) {
			x->member = member;
			x->seen_ns = now;
			return;
		}
		if (!x->used || x->seen_ns < t[victim].seen_ns || !t[victim].used)
			victim = (h + k) & (MAC_SLOTS - 1);
		if (!x->used)
			break;
	}
	/* a flood of made-up sources only evicts the oldest of a few slots */
	struct mac_entry *x = &t[victim];
	memcpy(x->mac, mac, 6);
	x->used = true;
	x->member = member;
	x->seen_ns = now;
}

static int mac_lookup(const struct mac_entry *t, const unsigned char *mac, uint64_t now)
{
	unsigned h = mac_hash(mac);
	for (unsigned k = 0; k < MAC_PROBE; k++) {
		const struct mac_entry *x = &t[(h + k) & (MAC_SLOTS - 1)];
		if (!x->used)
			return -1;
		if (memcmp(x->mac, mac, 6) == 0)
			return now - x->seen_ns < MAC_AGE_NS ? (int)x->member : -1;
	}
	return -1;
}

/* ---- frames in ----------------------------------------------------------- */

/* What a frame occupies on the air: a GSO super-frame (vnet header gso_type set)
 * stands for ceil(payload / gso_size) frames, each with its own headers. */
static size_t on_air_bytes(const unsigned char *buf, size_t ethlen)
{
	struct virtio_net_hdr h;
	memcpy(&h, buf, sizeof(h));
	if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE || h.gso_size == 0)
		return ethlen;
	size_t hdr = h.hdr_len;
	if (hdr < ETH_HLEN || hdr > 256 || hdr >= ethlen)
		hdr = ETH_HLEN + 40; /* a guess where the kernel gave none */
	if (hdr >= ethlen)
		return ethlen;
	size_t payload = ethlen - hdr, segs = (payload + h.gso_size - 1) / h.gso_size;
	return ethlen + (segs - 1) * hdr;
}

/* The receivers of a frame from member i into e->targets: every member in range,
 * or only member `only` (>= 0) when in range; *rate the lowest rate among them
 * (UINT64_MAX when there is none).  Their number. */
static unsigned pick_targets(struct engine *e, struct medium_model *m, unsigned i, int only,
			     uint64_t *rate)
{
	unsigned nm = medium_model_size(m), nt = 0;
	*rate = UINT64_MAX;
	for (unsigned j = 0; j < nm; j++) {
		if (j == i || (only >= 0 && j != (unsigned)only))
			continue;
		const struct medium_pair *pr = medium_model_pair(m, i, j);
		if (!pr->in_range)
			continue;
		e->targets[nt++] = j;
		if (pr->rate_bps < *rate)
			*rate = pr->rate_bps;
	}
	return nt;
}

/* A frame for e->targets[0..nt) that did not get on the air (sender's queue or
 * the medium's bounds): offered and dropped for each. */
static void count_queue_drops(struct engine *e, struct medium_air *air, unsigned i, unsigned nt)
{
	for (unsigned k = 0; k < nt; k++) {
		struct medium_counters *c = medium_air_counters(air, i, e->targets[k]);
		c->offered++;
		c->queue_dropped++;
	}
}

static void on_frame(struct engine *e, struct port *p, const unsigned char *buf, size_t n,
		     uint64_t now)
{
	if (n < VNET_LEN + ETH_HLEN) {
		e->dropped_runt++;
		return;
	}
	const unsigned char *eth = buf + VNET_LEN;
	size_t ethlen = n - VNET_LEN;
	const unsigned char *dst = eth, *src = eth + 6;
	if (src[0] & 1) /* a multicast source is never valid */
		return;
	struct medium_segment *seg = &e->world.segments[p->segment];
	struct medium_model *m = seg->model;
	unsigned i = p->member;
	mac_learn(e->macs[p->segment], src, i, now);

	int known = (dst[0] & 1) ? -1 : mac_lookup(e->macs[p->segment], dst, now);
	if (known == (int)i)
		return; /* to itself: nothing goes on the air */
	uint64_t rate;
	unsigned nt = pick_targets(e, m, i, known, &rate);
	if (nt == 0)
		return;

	struct medium_tx tx;
	size_t air_bytes = on_air_bytes(buf, ethlen);
	bool full = e->held_bytes + n > HELD_BYTES_MAX || e->nheap + nt > HEAP_MAX;
	if (full || medium_air_transmit(seg->air, i, now, air_bytes, rate, &tx) < 0) {
		count_queue_drops(e, seg->air, i, nt);
		return;
	}
	struct frame *f = NULL;
	for (unsigned k = 0; k < nt; k++) {
		unsigned j = e->targets[k];
		struct medium_counters *c = medium_air_counters(seg->air, i, j);
		uint64_t nth = c->offered++;
		if (medium_model_lost(m, i, j, nth)) {
			c->lost++;
			continue;
		}
		if (!f) {
			f = malloc(sizeof(*f) + n);
			if (!f) {
				c->queue_dropped++;
				continue;
			}
			/* every field set: deliver() tells the paths apart by f->wifi */
			*f = (struct frame){ .segment = p->segment, .sender = i, .tx = tx,
					     .len = (uint32_t)n };
			memcpy(f->data, buf, n);
			e->held_bytes += n;
		}
		struct delivery d = {
			.due_ns = tx.end_ns + medium_model_pair(m, i, j)->delay_us * 1000ull,
			.seq = e->seq++, .frame = f, .receiver = j,
		};
		f->refs++;
		if (!heap_push(e, &d)) {
			f->refs--;
			c->queue_dropped++;
		}
	}
	if (f && f->refs == 0) {
		e->held_bytes -= f->len;
		free(f);
	}
}

static void port_read(struct engine *e, struct port *p, uint64_t now)
{
	for (int round = 0; round < RX_ROUNDS; round++) {
		for (unsigned k = 0; k < RX_BATCH; k++) {
			e->rxiov[k].iov_base = e->rxbuf + (size_t)k * (VNET_LEN + FRAME_MAX);
			e->rxiov[k].iov_len = VNET_LEN + FRAME_MAX;
			memset(&e->rx[k].msg_hdr, 0, sizeof(e->rx[k].msg_hdr));
			e->rx[k].msg_hdr.msg_iov = &e->rxiov[k];
			e->rx[k].msg_hdr.msg_iovlen = 1;
		}
		int got = recvmmsg(p->fd, e->rx, RX_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (got <= 0)
			return;
		for (int k = 0; k < got; k++) {
			if ((e->rx[k].msg_hdr.msg_flags & MSG_TRUNC) ||
			    e->rx[k].msg_len > VNET_LEN + FRAME_MAX) {
				e->dropped_big++;
				continue;
			}
			on_frame(e, p, e->rxiov[k].iov_base, e->rx[k].msg_len, now);
		}
		if (got < RX_BATCH)
			return;
	}
}

/* ---- 802.11 frames in (medium=wifi) ------------------------------------------ */

static int radio_cmp(const void *a, const void *b)
{
	return memcmp(((const struct radio *)a)->mac, ((const struct radio *)b)->mac, 6);
}

static const struct radio *radio_find(const struct engine *e, const uint8_t *mac)
{
	struct radio key;
	memcpy(key.mac, mac, 6);
	return bsearch(&key, e->radios, e->nradios, sizeof(key), radio_cmp);
}

static int32_t signal_dbm(struct medium_model *m, unsigned i, unsigned j)
{
	double s = medium_model_pair(m, i, j)->snr_db + medium_model_params(m)->noise_dbm;
	return s < -120 ? -120 : s > 0 ? 0 : (int32_t)lround(s);
}

static struct frame *wifi_frame_new(struct engine *e, unsigned s, unsigned i,
				    const struct hwsim_frame *in)
{
	struct frame *f = malloc(sizeof(*f) + in->len);
	if (!f)
		return NULL;
	*f = (struct frame){ .segment = s, .sender = i, .len = (uint32_t)in->len, .wifi = true,
			     .flags = in->flags, .freq = in->freq, .cookie = in->cookie };
	memcpy(f->rates, in->rates, sizeof(f->rates));
	memcpy(f->data, in->data, in->len);
	e->held_bytes += in->len;
	return f;
}

static bool push(struct engine *e, struct frame *f, uint64_t due, unsigned receiver, bool status)
{
	struct delivery d = { .due_ns = due, .seq = e->seq++, .frame = f, .receiver = receiver,
			      .status = status };
	f->refs++;
	if (heap_push(e, &d))
		return true;
	f->refs--;
	return false;
}

/* A unicast frame that wants an ACK: mac80211's retry chain (up to four rates,
 * count tries each) played against the pair's loss, every try on the air; the
 * first try that gets through is delivered, and the TX status with it (acked
 * unless it collides at the receiver).  What the status reports is the tries
 * made. */
static void wifi_unicast(struct engine *e, struct frame *f, unsigned j, uint64_t now)
{
	struct medium_segment *seg = &e->world.segments[f->segment];
	struct medium_model *m = seg->model;
	unsigned i = f->sender;
	const struct medium_pair *pr = medium_model_pair(m, i, j);
	struct medium_counters *c = medium_air_counters(seg->air, i, j);
	uint64_t rate = pr->in_range ? pr->rate_bps : medium_model_params(m)->capacity_bps;
	struct hwsim_rate used[HWSIM_TX_MAX_RATES];
	bool got = false, any = false;
	struct medium_tx tx = { .sender = i, .start_ns = now, .end_ns = now };
	for (unsigned r = 0; r < HWSIM_TX_MAX_RATES; r++)
		used[r] = (struct hwsim_rate){ .idx = -1, .count = 0 };
	if (f->rates[0].idx < 0 || f->rates[0].count == 0)
		f->rates[0] = (struct hwsim_rate){ .idx = f->rates[0].idx < 0 ? 0 : f->rates[0].idx,
						   .count = 1 };
	for (unsigned r = 0; r < HWSIM_TX_MAX_RATES && !got; r++) {
		if (f->rates[r].idx < 0)
			break;
		used[r].idx = f->rates[r].idx;
		for (unsigned k = 0; k < f->rates[r].count && !got; k++) {
			bool full = e->nheap + 1 > HEAP_MAX;
			if (full || medium_air_transmit(seg->air, i, now, f->len, rate, &tx) < 0) {
				if (pr->in_range) {
					c->offered++;
					c->queue_dropped++;
				}
				goto status;
			}
			any = true;
			used[r].count++;
			if (!pr->in_range)
				continue;
			if (medium_model_lost(m, i, j, c->offered++)) {
				c->lost++;
				continue;
			}
			got = true;
			f->rx_rate = (uint32_t)f->rates[r].idx;
		}
	}
status:
	memcpy(f->rates, used, sizeof(used));
	f->ack_signal = pr->in_range ? signal_dbm(m, i, j) : 0;
	f->acked = got;
	(void)any;
	if (!push(e, f, tx.end_ns + (got ? pr->delay_us * 1000ull : 0), got ? j : NO_RECEIVER,
		  true) && got)
		c->queue_dropped++;
	f->tx = tx;
}

/* Broadcast, multicast, a frame without ACK or to an address not seen: one
 * transmission at the lowest rate among the receivers in range, each with its
 * own loss; the status (never acked) at its end. */
static void wifi_group(struct engine *e, struct frame *f, int only, uint64_t now)
{
	struct medium_segment *seg = &e->world.segments[f->segment];
	struct medium_model *m = seg->model;
	unsigned i = f->sender;
	uint64_t rate;
	unsigned nt = pick_targets(e, m, i, only, &rate);
	if (rate == UINT64_MAX)
		rate = medium_model_params(m)->capacity_bps;
	struct hwsim_rate first = f->rates[0];
	for (unsigned r = 0; r < HWSIM_TX_MAX_RATES; r++)
		f->rates[r] = (struct hwsim_rate){ .idx = -1, .count = 0 };
	f->rates[0] = (struct hwsim_rate){ .idx = first.idx < 0 ? 0 : first.idx, .count = 1 };
	f->rx_rate = (uint32_t)f->rates[0].idx;
	f->acked = false;
	struct medium_tx tx = { .sender = i, .start_ns = now, .end_ns = now };
	bool full = e->nheap + nt + 1 > HEAP_MAX;
	if (full || medium_air_transmit(seg->air, i, now, f->len, rate, &tx) < 0) {
		count_queue_drops(e, seg->air, i, nt);
		nt = 0;
	}
	f->tx = tx;
	for (unsigned k = 0; k < nt; k++) {
		unsigned j = e->targets[k];
		struct medium_counters *c = medium_air_counters(seg->air, i, j);
		if (medium_model_lost(m, i, j, c->offered++)) {
			c->lost++;
			continue;
		}
		if (!push(e, f, tx.end_ns + medium_model_pair(m, i, j)->delay_us * 1000ull, j, false))
			c->queue_dropped++;
	}
	push(e, f, tx.end_ns, NO_RECEIVER, true);
}

static void on_wifi_frame(struct engine *e, const struct hwsim_frame *in, uint64_t now)
{
	const struct radio *rd = radio_find(e, in->transmitter);
	if (!rd) {
		e->wifi_unknown++;
		return;
	}
	if (e->held_bytes + in->len > HELD_BYTES_MAX)
		return; /* no status either: hwsim drops its oldest pending frames itself */
	const uint8_t *addr1 = in->data + 4;
	unsigned s = rd->segment, i = rd->member;
	/* the sender's own address as its interface uses it (a node may change
	 * it): unicast to it finds this member */
	if (in->len >= 16 && !(in->data[10] & 1))
		mac_learn(e->macs[s], in->data + 10, i, now);
	int dest = (addr1[0] & 1) ? -1 : mac_lookup(e->macs[s], addr1, now);
	struct frame *f = wifi_frame_new(e, s, i, in);
	if (!f)
		return;
	if (dest >= 0 && (unsigned)dest == i)
		push(e, f, now, NO_RECEIVER, true); /* to itself: nothing on the air */
	else if (dest >= 0 && !(in->flags & HWSIM_TX_CTL_NO_ACK))
		wifi_unicast(e, f, (unsigned)dest, now);
	else
		wifi_group(e, f, dest, now);
	if (f->refs == 0) {
		e->held_bytes -= f->len;
		free(f);
	}
}

static void hwsim_read(struct engine *e, uint64_t now)
{
	for (int round = 0; round < RX_ROUNDS * RX_BATCH; round++) {
		ssize_t n = recv(e->hwfd, e->nlrx, NL_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS)
			continue; /* the kernel dropped some: read on */
		if (n <= 0)
			return;
		size_t left = (size_t)n;
		for (const struct nlmsghdr *nh = (const struct nlmsghdr *)e->nlrx; NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			struct hwsim_frame in;
			int r = hwsim_parse_frame(nh, left, e->hwfamily, &in);
			if (r < 0)
				e->wifi_bad++;
			else if (r > 0)
				on_wifi_frame(e, &in, now);
		}
	}
}

/* ---- frames out ---------------------------------------------------------- */

static void flush_hwsim(struct engine *e)
{
	if (e->nltx_len == 0)
		return;
	if (send(e->hwfd, e->nltx, e->nltx_len, MSG_DONTWAIT) != (ssize_t)e->nltx_len)
		e->wifi_send_failed++;
	e->nltx_len = 0;
}

static void deliver_wifi(struct engine *e, const struct delivery *d)
{
	struct frame *f = d->frame;
	struct medium_segment *seg = &e->world.segments[f->segment];
	bool acked = f->acked;
	if (d->receiver != NO_RECEIVER) {
		struct medium_counters *c = medium_air_counters(seg->air, f->sender, d->receiver);
		if (medium_air_collided(seg->air, &f->tx, d->receiver)) {
			c->collided++;
			acked = false;
		} else {
			size_t need = NLMSG_SPACE(GENL_HDRLEN) + f->len + 128;
			if (e->nltx_len + need > NL_BUF)
				flush_hwsim(e);
			if (hwsim_put_rx(e->nltx, NL_BUF, &e->nltx_len, e->hwfamily,
					 e->radio_of[f->segment][d->receiver].mac, f->data, f->len,
					 f->rx_rate, signal_dbm(seg->model, f->sender, d->receiver),
					 f->freq)) {
				c->delivered++;
				c->bytes += f->len;
			} else {
				c->queue_dropped++;
			}
		}
	}
	if (d->status) {
		if (e->nltx_len + 256 > NL_BUF)
			flush_hwsim(e);
		hwsim_put_tx_info(e->nltx, NL_BUF, &e->nltx_len, e->hwfamily,
				  e->radio_of[f->segment][f->sender].mac,
				  f->flags | (acked ? HWSIM_TX_STAT_ACK : 0), f->ack_signal, f->rates,
				  f->cookie);
	}
	frame_put(e, f);
}


static void flush_tx(struct engine *e)
{
	struct tx_batch *b = &e->tx;
	unsigned done = 0;
	while (done < b->n) {
		int r = sendmmsg(e->txfd, b->msg + done, b->n - done, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* that port cannot take it (full, gone, a frame it refuses):
			 * skip this one frame, keep the rest */
			struct frame *f = b->ref[done];
			struct medium_counters *c = medium_air_counters(
				e->world.segments[f->segment].air, f->sender,
				e->ports[b->port[done]].member);
			c->delivered--;
			c->bytes -= f->len - VNET_LEN;
			c->queue_dropped++;
			done++;
			continue;
		}
		done += (unsigned)r;
	}
	for (unsigned k = 0; k < b->n; k++)
		frame_put(e, b->ref[k]);
	b->n = 0;
}

static void deliver(struct engine *e, const struct delivery *d)
{
	struct frame *f = d->frame;
	if (f->wifi) {
		deliver_wifi(e, d);
		return;
	}
	struct medium_segment *seg = &e->world.segments[f->segment];
	struct medium_counters *c = medium_air_counters(seg->air, f->sender, d->receiver);
	if (medium_air_collided(seg->air, &f->tx, d->receiver)) {
		c->collided++;
		frame_put(e, f);
		return;
	}
	struct tx_batch *b = &e->tx;
	if (b->n == TX_BATCH)
		flush_tx(e);
	unsigned k = b->n++, pi = e->port_of[f->segment][d->receiver];
	b->iov[k].iov_base = f->data;
	b->iov[k].iov_len = f->len;
	b->to[k] = (struct sockaddr_ll){ .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
					 .sll_ifindex = e->ports[pi].ifindex };
	memset(&b->msg[k].msg_hdr, 0, sizeof(b->msg[k].msg_hdr));
	b->msg[k].msg_hdr.msg_name = &b->to[k];
	b->msg[k].msg_hdr.msg_namelen = sizeof(b->to[k]);
	b->msg[k].msg_hdr.msg_iov = &b->iov[k];
	b->msg[k].msg_hdr.msg_iovlen = 1;
	b->ref[k] = f;
	b->port[k] = pi;
	c->delivered++;
	c->bytes += f->len - VNET_LEN;
}

static void deliver_due(struct engine *e, uint64_t now)
{
	while (e->nheap > 0 && e->heap[0].due_ns <= now + SLACK_NS) {
		struct delivery d = heap_pop(e);
		deliver(e, &d);
	}
	flush_tx(e);
	flush_hwsim(e);
}

static void arm_timer(struct engine *e)
{
	uint64_t due = e->nheap > 0 ? e->heap[0].due_ns : 0;
	if (due == e->armed_ns)
		return;
	struct itimerspec its = {0};
	if (due) {
		its.it_value.tv_sec = (time_t)(due / 1000000000ull);
		its.it_value.tv_nsec = (long)(due % 1000000000ull);
	}
	if (timerfd_settime(e->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		e->armed_ns = due;
}

/* ---- setup ------------------------------------------------------------------ */

static int open_port(struct port *p, const char *name, struct error *err)
{
	unsigned ifindex = if_nametoindex(name);
	if (ifindex == 0)
		return error_set(err, errno, "port %s", name);
	/* protocol 0 until bound: no frame of another interface slips in */
	cleanup_close int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, errno, "port %s: AF_PACKET socket", name);
	int one = 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return error_set(err, errno, "port %s: PACKET_VNET_HDR", name);
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		return error_set(err, errno, "port %s: PACKET_IGNORE_OUTGOING", name);
	int bufsize = 8 << 20;
	/* FORCE: beyond rmem_max/wmem_max, which we may (CAP_NET_ADMIN) */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)ifindex,
	};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return error_set(err, errno, "port %s: bind", name);
	p->fd = steal_fd(&fd);
	p->ifindex = (int)ifindex;
	return 0;
}

/* Protocol 0 and never bound: it receives nothing, it only sends (to an ifindex). */
static int open_sender(struct engine *e, struct error *err)
{
	e->txfd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (e->txfd < 0)
		return error_set(err, errno, "AF_PACKET socket");
	int one = 1, bufsize = 32 << 20;
	if (setsockopt(e->txfd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return error_set(err, errno, "PACKET_VNET_HDR");
	if (setsockopt(e->txfd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
		setsockopt(e->txfd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	return 0;
}

static const char *const allowed_syscalls[] = {
	"read", "write", "writev", "close", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"epoll_ctl", "recvmmsg", "recvmsg", "recvfrom", "sendmmsg", "sendmsg", "sendto",
	"accept4", "accept", "shutdown", "timerfd_settime", "timerfd_gettime",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "getpid", "gettid",
	"exit", "exit_group", "rt_sigreturn", "rt_sigprocmask", "brk", "mmap", "munmap",
	"mremap", "madvise", "futex", "fstat", "newfstatat", "lseek", "getrandom", "fcntl",
	"restart_syscall", "sched_yield", "tgkill",
};

/* No capabilities, no_new_privs, and a seccomp allow list of what the loop
 * calls; anything else fails with EPERM (not a kill: a sanitizer's or libc's
 * extra call degrades, it does not take the medium down). */
static int drop_privileges(struct error *err)
{
	cap_value_t last = cap_max_bits();
	for (cap_value_t cap = 0; cap < last; cap++)
		if (cap_drop_bound(cap) < 0 && errno != EINVAL)
			return error_set(err, errno, "drop capability %d from the bounding set", cap);
	cap_t none = cap_init();
	if (!none)
		return error_set(err, errno, "cap_init");
	int r = cap_set_proc(none);
	int saved = errno;
	cap_free(none);
	if (r < 0)
		return error_set(err, saved, "drop capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_set(err, errno, "no_new_privs");
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return error_setmsg(err, ENOMEM, "seccomp: cannot initialise the filter");
	int rc = 0;
	for (size_t k = 0; k < sizeof(allowed_syscalls) / sizeof(allowed_syscalls[0]) && rc == 0; k++) {
		int nr = seccomp_syscall_resolve_name(allowed_syscalls[k]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: load the medium's filter");
	return 0;
}

static void engine_free(struct engine *e)
{
	while (e->nheap > 0) {
		struct delivery d = heap_pop(e);
		frame_put(e, d.frame);
	}
	for (unsigned t = 0; t < e->tx.n; t++)
		frame_put(e, e->tx.ref[t]);
	e->tx.n = 0;
	for (unsigned k = 0; k < e->nports; k++)
		if (e->ports[k].fd >= 0)
			close(e->ports[k].fd);
	if (e->txfd >= 0)
		close(e->txfd);
	if (e->hwfd >= 0)
		close(e->hwfd);
	for (unsigned s = 0; e->radio_of && s < e->world.nsegments; s++)
		free(e->radio_of[s]);
	free(e->radio_of);
	free(e->radios);
	free(e->nlrx);
	free(e->nltx);
	medium_ctl_free(e->ctl);
	for (unsigned s = 0; e->port_of && s < e->world.nsegments; s++)
		free(e->port_of[s]);
	for (unsigned s = 0; e->macs && s < e->world.nsegments; s++)
		free(e->macs[s]);
	free(e->port_of);
	free(e->macs);
	free(e->ports);
	free(e->heap);
	free(e->targets);
	free(e->rxbuf);
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->timerfd >= 0)
		close(e->timerfd);
	if (e->sigfd >= 0)
		close(e->sigfd);
	medium_world_free(&e->world);
}

static int epoll_add(int epfd, int fd, uint64_t tag, struct error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return error_set(err, errno, "epoll_ctl");
	return 0;
}

static int engine_setup(struct engine *e, const struct medium_config *c, struct error *err)
{
	int r = medium_world_init(&e->world, c->topo, err);
	if (r < 0)
		return r;
	unsigned nseg = e->world.nsegments, maxm = 0;
	for (unsigned s = 0; s < nseg; s++) {
		unsigned n = medium_model_size(e->world.segments[s].model);
		if (is_wifi(e, s))
			e->nradios += n;
		else
			e->nports += n;
		if (n > maxm)
			maxm = n;
	}
	e->ports = calloc(e->nports ? e->nports : 1, sizeof(*e->ports));
	e->radio_of = calloc(nseg, sizeof(*e->radio_of));
	if (e->nradios) {
		e->radios = calloc(e->nradios, sizeof(*e->radios));
		e->nlrx = malloc(NL_BUF);
		e->nltx = malloc(NL_BUF);
		if (!e->radios || !e->nlrx || !e->nltx || !e->radio_of)
			return error_set(err, ENOMEM, "medium");
	}
	e->port_of = calloc(nseg, sizeof(*e->port_of));
	e->macs = calloc(nseg, sizeof(*e->macs));
	e->targets = calloc(maxm, sizeof(*e->targets));
	e->rxbuf = malloc((size_t)RX_BATCH * (VNET_LEN + FRAME_MAX));
	if (!e->ports || !e->port_of || !e->macs || !e->targets || !e->rxbuf)
		return error_set(err, ENOMEM, "medium");
	for (unsigned k = 0; k < e->nports; k++)
		e->ports[k].fd = -1;

	if (setns(c->netns_fd, CLONE_NEWNET) < 0)
		return error_set(err, errno, "enter the switch namespace");
	if ((r = open_sender(e, err)) < 0)
		return r;
	if (e->nradios && (r = hwsim_medium_open(&e->hwfd, &e->hwfamily, err)) < 0)
		return r;
	unsigned pi = 0, ri = 0;
	for (unsigned s = 0; s < nseg; s++) {
		unsigned n = medium_model_size(e->world.segments[s].model);
		e->port_of[s] = calloc(n, sizeof(unsigned));
		e->macs[s] = calloc(MAC_SLOTS, sizeof(struct mac_entry));
		if (!e->port_of[s] || !e->macs[s])
			return error_set(err, ENOMEM, "medium");
		if (is_wifi(e, s)) {
			const struct topo_segment *ts =
				&c->topo->segments[e->world.segments[s].topo_index];
			if (!(e->radio_of[s] = calloc(n, sizeof(struct radio))))
				return error_set(err, ENOMEM, "medium");
			for (unsigned m = 0; m < n; m++) {
				struct radio *rd = &e->radio_of[s][m];
				ident_mac(c->topo->sim, c->topo->nodes[ts->members[m].node].name,
					  ts->members[m].ifname, rd->mac);
				rd->segment = s;
				rd->member = m;
				e->radios[ri++] = *rd;
				/* unicast to a radio's own address works from the first frame */
				mac_learn(e->macs[s], rd->mac, m, now_ns());
			}
			continue;
		}
		for (unsigned m = 0; m < n; m++, pi++) {
			char name[IF_NAMESIZE + 8];
			c->port_name(e->world.segments[s].topo_index, m, name, sizeof(name));
			struct port *p = &e->ports[pi];
			p->segment = s;
			p->member = m;
			e->port_of[s][m] = pi;
			if ((r = open_port(p, name, err)) < 0)
				return error_prefix(err, "segment %s",
						    c->topo->segments[e->world.segments[s].topo_index].name);
		}
	}

	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return error_set(err, errno, "sigprocmask");
	sigdelset(&set, SIGPIPE);
	e->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (e->epfd < 0 || e->timerfd < 0 || e->sigfd < 0)
		return error_set(err, errno, "epoll/timerfd/signalfd");
	if ((r = epoll_add(e->epfd, e->timerfd, TAG_TIMER, err)) < 0 ||
	    (r = epoll_add(e->epfd, e->sigfd, TAG_SIGNAL, err)) < 0)
		return r;
	for (unsigned k = 0; k < e->nports; k++)
		if ((r = epoll_add(e->epfd, e->ports[k].fd, TAG_PORT + k, err)) < 0)
			return r;
	if (e->nradios) {
		qsort(e->radios, e->nradios, sizeof(*e->radios), radio_cmp);
		for (unsigned k = 1; k < e->nradios; k++)
			if (memcmp(e->radios[k - 1].mac, e->radios[k].mac, 6) == 0)
				return error_setmsg(err, EEXIST, "two radios with one address");
		if ((r = epoll_add(e->epfd, e->hwfd, TAG_HWSIM, err)) < 0)
			return r;
	}
	if (c->ctl_fd >= 0 && !(e->ctl = medium_ctl_new(c->ctl_fd, e->epfd, TAG_CTL)))
		return error_set(err, errno ? errno : ENOMEM, "control socket");
	return 0;
}

int medium_run(const struct medium_config *c, struct error *err)
{
	struct engine e = { .epfd = -1, .timerfd = -1, .sigfd = -1, .txfd = -1, .hwfd = -1 };
	int r = engine_setup(&e, c, err);
	if (r == 0)
		r = drop_privileges(err);
	if (r < 0) {
		engine_free(&e);
		return r;
	}
	fprintf(stderr, "medium: %u radio segment(s), %u ports, %u Wi-Fi radios\n",
		e.world.nsegments, e.nports, e.nradios);

	struct epoll_event evs[64];
	uint64_t last_tick = 0;
	bool stop = false;
	while (!stop) {
		bool conns = e.ctl && medium_ctl_expire(e.ctl, now_ns());
		int timeout = e.world.moving ? MOVE_TICK_MS : conns ? 100 : -1;
		int n = epoll_wait(e.epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			r = error_set(err, errno, "epoll_wait");
			break;
		}
		uint64_t now = now_ns();
		for (int k = 0; k < n; k++) {
			uint64_t tag = evs[k].data.u64;
			if (tag == TAG_TIMER) {
				uint64_t ticks;
				ssize_t ignored = read(e.timerfd, &ticks, sizeof(ticks));
				(void)ignored;
				e.armed_ns = 0;
			} else if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;
				if (read(e.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					stop = true;
			} else if (tag == TAG_HWSIM) {
				hwsim_read(&e, now);
			} else if (tag >= TAG_PORT && tag - TAG_PORT < e.nports) {
				port_read(&e, &e.ports[tag - TAG_PORT], now);
			} else if (e.ctl && tag >= TAG_CTL && tag <= TAG_CTL + MEDIUM_CTL_CONNS) {
				medium_ctl_event(e.ctl, tag, evs[k].events, &e.world, now);
			}
		}
		if (e.world.moving && now - last_tick >= MOVE_TICK_MS * 1000000ull) {
			medium_world_tick(&e.world, now);
			last_tick = now;
		}
		deliver_due(&e, now_ns());
		arm_timer(&e);
	}
	fprintf(stderr, "medium: stopping (%llu runt, %llu oversized frames dropped; wifi: %llu "
		"malformed, %llu from unknown radios, %llu sends failed)\n",
		(unsigned long long)e.dropped_runt, (unsigned long long)e.dropped_big,
		(unsigned long long)e.wifi_bad, (unsigned long long)e.wifi_unknown,
		(unsigned long long)e.wifi_send_failed);
	engine_free(&e);
	return r < 0 ? r : 0;
}
