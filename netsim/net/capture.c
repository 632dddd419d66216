/* Packet capture inside a node's network namespace. */
#include "net/capture.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "util.h"

/* Create and activate the handle; runs inside the node's netns. */
static int activate(const char *ifname, const char *who, pcap_t **out, struct error *err)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(ifname, errbuf);
	if (!p)
		return error_setmsg(err, ENODEV, "capture %s: %s", who, errbuf);
	/* Immediate mode hands each packet over as it arrives (TPACKET_V3 would
	 * batch them into blocks): a pipe to Wireshark stays live. */
	if (pcap_set_immediate_mode(p, 1) != 0 || pcap_set_snaplen(p, 262144) != 0 ||
	    pcap_set_promisc(p, 0) != 0) {
		pcap_close(p);
		return error_setmsg(err, EINVAL, "capture %s: cannot set capture options", who);
	}
	int r = pcap_activate(p);
	if (r < 0) {
		int e = r == PCAP_ERROR_PERM_DENIED ? EPERM
			: r == PCAP_ERROR_NO_SUCH_DEVICE ? ENODEV
			: EIO;
		/* pcap_statustostr alone is vague ("Generic error"); geterr says why */
		const char *why = pcap_geterr(p);
		error_setmsg(err, e, "capture %s: %s", who,
			     why && *why ? why : pcap_statustostr(r));
		pcap_close(p);
		return -e;
	}
	*out = p;
	return 0;
}

int capture_open(const char *netns_path, const char *ifname, const char *filter,
		 const char *who, pcap_t **out, struct error *err)
{
	cleanup_close int ns = netns_open(netns_path, err);
	if (ns < 0)
		return error_prefix(err, "capture %s", who);
	if (strcmp(ifname, "any") != 0) {
		int exists = net_link_exists(ns, ifname, err);
		if (exists < 0)
			return error_prefix(err, "capture %s", who);
		if (!exists)
			return error_setmsg(err, ENODEV, "capture %s: no interface %s there",
					    who, ifname);
	}
	int saved = -1;
	int r = netns_enter(ns, &saved, err);
	if (r < 0)
		return error_prefix(err, "capture %s", who);
	pcap_t *p = NULL;
	r = activate(ifname, who, &p, err);
	struct error leave_err = {0};
	if (netns_leave(&saved, &leave_err) < 0) {
		/* staying in the node's netns would be worse than failing */
		if (p)
			pcap_close(p);
		*err = leave_err;
		return error_prefix(err, "capture %s", who);
	}
	if (r < 0)
		return r;

	if (filter) {
		struct bpf_program prog;
		if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			r = error_setmsg(err, EINVAL, "capture %s: filter `%s`: %s", who, filter,
					 pcap_geterr(p));
			pcap_close(p);
			return r;
		}
		int set = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (set < 0) {
			r = error_setmsg(err, EINVAL, "capture %s: filter `%s`: %s", who, filter,
					 pcap_geterr(p));
			pcap_close(p);
			return r;
		}
	}
	*out = p;
	return 0;
}

struct run_ctx {
	pcap_dumper_t *out;
	bool flush_each;
	unsigned long captured;
	int write_errno;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct run_ctx *ctx = (struct run_ctx *)user;
	if (ctx->write_errno)
		return;
	pcap_dump((u_char *)ctx->out, h, bytes);
	ctx->captured++;
	if (ctx->flush_each && pcap_dump_flush(ctx->out) != 0)
		ctx->write_errno = errno ? errno : EIO;
}

int capture_run(pcap_t *p, pcap_dumper_t *out, const struct capture_limits *lim,
		unsigned long *captured, struct error *err)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct run_ctx ctx = {.out = out, .flush_each = lim->flush_each};
	int r = 0;
	*captured = 0;
	/* Our own poll loop rather than pcap_loop: it can wait for a deadline and
	 * for signals at the same time, without relying on pcap_breakloop. */
	if (pcap_setnonblock(p, 1, errbuf) < 0)
		return error_setmsg(err, EIO, "capture: %s", errbuf);
	int fd = pcap_get_selectable_fd(p);
	if (fd < 0)
		return error_setmsg(err, EIO, "capture: no selectable descriptor");
	uint64_t deadline = lim->duration_us ? (uint64_t)(now_ns() / 1000) + lim->duration_us : 0;

	while (!*lim->stop && (!lim->count || ctx.captured < lim->count)) {
		struct timespec ts, *timeout = NULL;
		if (deadline) {
			uint64_t now = (uint64_t)(now_ns() / 1000);
			if (now >= deadline)
				break;
			uint64_t left = deadline - now;
			ts.tv_sec = (time_t)(left / 1000000u);
			ts.tv_nsec = (long)(left % 1000000u) * 1000;
			timeout = &ts;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int ready = ppoll(&pfd, 1, timeout, lim->wait_mask);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			r = error_set(err, errno, "capture: poll");
			break;
		}
		if (ready == 0)
			continue;
		int left = lim->count ? (int)(lim->count - ctx.captured) : -1;
		int got = pcap_dispatch(p, left, on_packet, (u_char *)&ctx);
		if (ctx.write_errno) {
			r = error_set(err, ctx.write_errno, "capture: write");
			break;
		}
		if (got == PCAP_ERROR) {
			/* e.g. the interface went away: the node was stopped */
			r = error_setmsg(err, EIO, "capture: %s", pcap_geterr(p));
			break;
		}
	}
	if (r == 0 && pcap_dump_flush(out) != 0)
		r = error_set(err, errno ? errno : EIO, "capture: write");
	*captured = ctx.captured;
	return r;
}
