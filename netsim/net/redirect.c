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
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "cleanup.h"
#include "net/netns.h"
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

static int link_configure(const char *ifname, unsigned mtu, struct error *err)
{
	cleanup_close int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	if (sock < 0)
		return error_set(err, errno, "socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
			return error_set(err, errno, "%s: set MTU %u", ifname, mtu);
	}
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return error_set(err, errno, "%s", ifname);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return error_set(err, errno, "%s: set up", ifname);
	/* The host side of the join only forwards: no addresses, no IPv6 chatter
	 * (router solicitations, DAD) mixing with the guest's frames. */
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

static int nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_EXIST: return EEXIST;
	case NLE_OBJ_NOTFOUND: return ENOENT;
	case NLE_NODEV: return ENODEV;
	case NLE_PERM: return EPERM;
	case NLE_NOMEM: return ENOMEM;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_INVAL: return EINVAL;
	default: return EIO;
	}
}

/* Every frame arriving on `from` leaves through `to`: ingress qdisc on `from`
 * (replacing one left by an earlier run) and a match-all u32 filter whose action is
 * mirred egress redirect to `to`.  Runs with the socket inside the netns. */
static int redirect_all(struct nl_sock *sock, int from, int to, const char *label,
			struct error *err)
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
	rtnl_qdisc_delete(sock, qdisc);  /* none there is the usual case */
	if ((r = rtnl_qdisc_add(sock, qdisc, NLM_F_CREATE | NLM_F_EXCL)) < 0) {
		ret = error_setmsg(err, nl_errno(r), "%s: ingress qdisc: %s (needs sch_ingress)",
				   label, nl_geterror(r));
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
	if ((r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
	    (r = rtnl_u32_set_cls_terminal(cls)) < 0 ||
	    (r = rtnl_u32_add_action(cls, act)) < 0 ||
	    (r = rtnl_cls_add(sock, cls, NLM_F_CREATE | NLM_F_EXCL)) < 0)
		ret = error_setmsg(err, nl_errno(r), "%s: u32 filter with mirred redirect: %s "
				   "(needs cls_u32 and act_mirred)", label, nl_geterror(r));
out:
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	if (qdisc)
		rtnl_qdisc_put(qdisc);
	return ret;
}

int net_redirect_taps(int ns_fd, const char *ns_label, const char *const *veths,
		      unsigned n_veths, int *tap_fds, struct error *err)
{
	int saved = -1, ret;
	struct nl_sock *sock = NULL;
	if ((ret = netns_enter(ns_fd, &saved, err)) < 0)
		return ret;
	sock = nl_socket_alloc();
	if (!sock || nl_connect(sock, NETLINK_ROUTE) < 0) {
		ret = error_set(err, sock ? ECONNREFUSED : ENOMEM, "rtnetlink socket");
		goto out;
	}
	for (unsigned i = 0; i < n_veths; i++) {
		const char *veth = veths[i];
		char tap[IFNAMSIZ];
		snprintf(tap, sizeof(tap), "tap%u", i);
		unsigned veth_index = if_nametoindex(veth);
		if (!veth_index) {
			ret = error_set(err, errno, "link end %s in %s", veth, ns_label);
			goto out;
		}
		/* (ioctl, not sysfs: /sys shows the netns it was mounted in) */
		unsigned mtu = 0;
		int ioctl_sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr = { 0 };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", veth);
		if (ioctl_sock >= 0 && ioctl(ioctl_sock, SIOCGIFMTU, &ifr) == 0)
			mtu = (unsigned)ifr.ifr_mtu;
		if (ioctl_sock >= 0)
			close(ioctl_sock);
		if ((tap_fds[i] = tap_open(tap, err)) < 0) {
			ret = tap_fds[i];
			goto out;
		}
		unsigned tap_index = if_nametoindex(tap);
		char label[64];
		snprintf(label, sizeof(label), "join %s with %s", veth, tap);
		if ((ret = link_configure(tap, mtu, err)) < 0 ||
		    (ret = link_configure(veth, 0, err)) < 0 ||
		    (ret = redirect_all(sock, (int)veth_index, (int)tap_index, label, err)) < 0 ||
		    (ret = redirect_all(sock, (int)tap_index, (int)veth_index, label, err)) < 0)
			goto out;
	}
out:
	if (sock)
		nl_socket_free(sock);
	struct error leave_err;
	if (netns_leave(&saved, &leave_err) < 0 && ret == 0) {
		*err = leave_err;
		ret = -leave_err.errnum;
	}
	return ret;
}
