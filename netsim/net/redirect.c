/* The join of a VM's TAPs with a node's veth ends (see net/redirect.h): every
 * frame arriving on one leaves through the other, by tc mirred redirect. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "net/netlink.h"
#include "net/redirect.h"

/* A non-persistent TAP: it lives as long as an fd to it (ours, then QEMU's). */
static int tap_open(const char *name, struct error *err)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open /dev/net/tun");
	struct ifreq ifr = { 0 };
	/* VNET_HDR lets QEMU pass offloaded (unsegmented, unchecksummed) frames. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return error_set(err, e, "create TAP %s", name);
	}
	return fd;
}

/* Up with `mtu` (0: as it is), and without IPv6: the host side of the join only
 * forwards, so no addresses and no IPv6 chatter (router solicitations, DAD)
 * mixing with the guest's frames. */
static int link_configure(struct net *n, const char *ifname, unsigned mtu, struct error *err)
{
	int r = net_link_change(n, ifname, mtu, 1);
	if (r < 0) {
		if (mtu)
			error_set(err, -r, "%s: set up with MTU %u", ifname, mtu);
		else
			error_set(err, -r, "%s: set up", ifname);
		return net_error_add_kernel_msg(err, net_request_message(n));
	}
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* best effort */
		}
		close(fd);
	}
	return 0;
}

/* Every frame arriving on `from` leaves through `to`: ingress qdisc on `from`
 * (replacing one left by an earlier run) and a match-all u32 filter whose action is
 * mirred egress redirect to `to`.  `n` is a socket inside the netns. */
static int redirect_all(struct net *n, int from, int to, const char *label, struct error *err)
{
	struct rtnl_qdisc *qdisc = rtnl_qdisc_alloc();
	struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	int ret = 0, r;
	if (!qdisc || !cls || !act) {
		ret = error_set(err, ENOMEM, "%s", label);
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(qdisc), from);
	rtnl_tc_set_parent(TC_CAST(qdisc), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(qdisc), TC_H_MAKE(0xffffU << 16, 0));
	rtnl_tc_set_kind(TC_CAST(qdisc), "ingress");
	rtnl_qdisc_delete(net_request_socket(n), qdisc);  /* none there is the usual case */
	if ((r = rtnl_qdisc_add(net_request_socket(n), qdisc, NLM_F_CREATE | NLM_F_EXCL)) < 0) {
		error_set(err, net_request_errno(n, r), "%s: ingress qdisc (needs sch_ingress)", label);
		ret = net_error_add_kernel_msg(err, net_request_message(n));
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(cls), from);
	rtnl_tc_set_parent(TC_CAST(cls), TC_H_MAKE(0xffffU << 16, 0));
	rtnl_tc_set_kind(TC_CAST(cls), "u32");
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	rtnl_cls_set_prio(cls, 1);
	rtnl_tc_set_kind(TC_CAST(act), "mirred");
	rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
	rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
	rtnl_mirred_set_ifindex(act, (uint32_t)to);
	/* u32 "match u32 0 0 at 0" matches everything, like matchall, which hosts
	 * lack more often than u32. */
	struct nl_sock *sock = net_request_socket(n);
	if ((r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
	    (r = rtnl_u32_set_cls_terminal(cls)) < 0 ||
	    (r = rtnl_u32_add_action(cls, act)) < 0 ||
	    (r = rtnl_cls_add(sock, cls, NLM_F_CREATE | NLM_F_EXCL)) < 0) {
		error_set(err, net_request_errno(n, r), "%s: u32 filter with mirred redirect "
			  "(needs cls_u32 and act_mirred)", label);
		ret = net_error_add_kernel_msg(err, net_request_message(n));
	}
out:
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	if (qdisc)
		rtnl_qdisc_put(qdisc);
	return ret;
}

struct join {
	const char *ns_label;
	const char *const *veths;
	unsigned n_veths;
	int *tap_fds;
	struct error err;
};

/* Inside the node's netns, on a socket opened there. */
static int join_in_netns(struct net *n, void *arg)
{
	struct join *j = arg;
	struct error *err = &j->err;
	int r;
	for (unsigned i = 0; i < j->n_veths; i++) {
		const char *veth = j->veths[i];
		char tap[IFNAMSIZ];
		snprintf(tap, sizeof(tap), "tap%u", i);
		struct net_link_state veth_state, tap_state;
		if ((r = net_link_get(n, veth, &veth_state)) < 0)
			return error_set(err, -r, "link end %s in %s", veth, j->ns_label);
		if ((j->tap_fds[i] = tap_open(tap, err)) < 0)
			return j->tap_fds[i];
		if ((r = net_link_get(n, tap, &tap_state)) < 0)
			return error_set(err, -r, "TAP %s", tap);
		char label[64];
		snprintf(label, sizeof(label), "join %s with %s", veth, tap);
		if ((r = link_configure(n, tap, veth_state.mtu, err)) < 0 ||
		    (r = link_configure(n, veth, 0, err)) < 0 ||
		    (r = redirect_all(n, veth_state.ifindex, tap_state.ifindex, label, err)) < 0 ||
		    (r = redirect_all(n, tap_state.ifindex, veth_state.ifindex, label, err)) < 0)
			return r;
	}
	return 0;
}

int net_redirect_taps(int ns_fd, const char *ns_label, const char *const *veths,
		      unsigned n_veths, int *tap_fds, struct error *err)
{
	struct join j = { .ns_label = ns_label, .veths = veths, .n_veths = n_veths,
			  .tap_fds = tap_fds };
	int result = 0;
	int r = net_run_in_netns(ns_fd, join_in_netns, &j, &result, err);
	if (r < 0)
		return r;
	if (result < 0) {
		*err = j.err;
		return result;
	}
	return 0;
}
