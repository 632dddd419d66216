/* Link wiring through libnl-route-3.  Creation happens from one host socket with
 * each end placed directly in its netns (IFLA_NET_NS_FD); changes to an existing
 * link happen from a socket opened inside that link's netns (run_in_netns).
 * Every request names the link it touches, so no link cache is ever dumped. */
#include <errno.h>
#include <limits.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>

#include "net/netlink.h"

#include "net/netns.h"

/* The socket only ever holds the reply to its own last request (we wait for each
 * ack and join no multicast group), so this is head-room, not a queue. */
#define SOCKET_BUFFER_BYTES (1 << 20)

struct net {
	struct nl_sock *sock;
	/* The errno from the kernel's NLMSG_ERROR for the last request: libnl folds
	 * errnos into fewer NLE_* codes, and callers need the real one. */
	int kernel_errno;
	/* The kernel's own words for it (extended ACK, NLMSGERR_ATTR_MSG), or "". */
	char kernel_msg[NET_KERNEL_MSG_LEN];
};

/* libnl-3 has no API for extended ACKs, but it hands the error callback the
 * payload of the NLMSG_ERROR message, so the header is just before it.  After
 * struct nlmsgerr come the request's header (NLM_F_CAPPED: we ask for that) or
 * the whole request, then the TLVs (NLM_F_ACK_TLVS). */
static void record_ext_ack(struct net *n, const struct nlmsgerr *nlerr)
{
	const struct nlmsghdr *hdr = (const void *)((const char *)nlerr - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t total, offset = sizeof(*nlerr);

	n->kernel_msg[0] = 0;
	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS) || hdr->nlmsg_len < NLMSG_HDRLEN)
		return;
	total = hdr->nlmsg_len - NLMSG_HDRLEN;
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
		if (nlerr->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		offset += nlerr->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	offset = NLMSG_ALIGN(offset);
	if (offset >= total ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlerr + offset),
		      (int)(total - offset), NULL) < 0 || !tb[NLMSGERR_ATTR_MSG])
		return;
	nla_strlcpy(n->kernel_msg, tb[NLMSGERR_ATTR_MSG], sizeof(n->kernel_msg));
}

static int record_kernel_error(struct sockaddr_nl *who, struct nlmsgerr *nlerr, void *arg)
{
	struct net *n = arg;
	(void)who;
	n->kernel_errno = -nlerr->error;
	record_ext_ack(n, nlerr);
	return NL_STOP;  /* libnl then returns its own code for the same error */
}

int net_error_add_kernel_msg(struct error *err, const char *kernel_msg)
{
	if (err && kernel_msg && kernel_msg[0]) {
		size_t len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, " (%s)", kernel_msg);
	}
	return err ? -err->errnum : -EINVAL;
}

/* For failures that never reached the kernel (allocation, socket, parsing). */
static int nlerr_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_INTR: return EINTR;
	case NLE_BAD_SOCK: return EBADF;
	case NLE_AGAIN: return EAGAIN;
	case NLE_NOMEM: return ENOMEM;
	case NLE_EXIST: return EEXIST;
	case NLE_INVAL: return EINVAL;
	case NLE_RANGE: return ERANGE;
	case NLE_MSGSIZE: return EMSGSIZE;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND: return ENOENT;
	case NLE_NODEV: return ENODEV;
	case NLE_BUSY: return EBUSY;
	case NLE_NOACCESS: return EACCES;
	case NLE_PERM: return EPERM;
	case NLE_IMMUTABLE: return EROFS;
	case NLE_DUMP_INTR: return EINTR;
	default: return EIO;
	}
}

/* The errno for a failed libnl call `nlerr` made on `n`. */
static int failure_errno(const struct net *n, int nlerr)
{
	return n->kernel_errno > 0 ? n->kernel_errno : nlerr_to_errno(nlerr);
}

int net_open(struct net **out, struct error *err)
{
	struct net *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return error_set(err, ENOMEM, "rtnetlink socket");
	n->sock = nl_socket_alloc();
	if (!n->sock) {
		free(n);
		return error_set(err, ENOMEM, "rtnetlink socket");
	}
	r = nl_connect(n->sock, NETLINK_ROUTE);
	if (r < 0) {
		int e = nlerr_to_errno(r);
		net_close(n);
		return error_set(err, e, "rtnetlink socket");
	}
	/* Best effort: the default buffer is already enough for one reply. */
	nl_socket_set_buffer_size(n->sock, SOCKET_BUFFER_BYTES, SOCKET_BUFFER_BYTES);
	nl_socket_modify_err_cb(n->sock, NL_CB_CUSTOM, record_kernel_error, n);
	/* Best effort (older kernels): the kernel's explanation of a refusal, and
	 * only the header of our request echoed back with it. */
	int one = 1;
	setsockopt(nl_socket_get_fd(n->sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(n->sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*out = n;
	return 0;
}

void net_close(struct net *n)
{
	if (!n)
		return;
	nl_socket_free(n->sock);  /* closes it */
	free(n);
}

/* Name, netns, MAC and admin-up for one end of a link being created. */
static int configure_new_link(struct rtnl_link *link, int ns, const char *name,
			      const uint8_t mac[6], int up)
{
	rtnl_link_set_name(link, name);
	rtnl_link_set_ns_fd(link, ns);
	if (up)
		rtnl_link_set_flags(link, IFF_UP);
	if (mac) {
		struct nl_addr *addr = nl_addr_build(AF_LLC, mac, 6);
		if (!addr)
			return -ENOMEM;
		rtnl_link_set_addr(link, addr);  /* takes its own reference */
		nl_addr_put(addr);
	}
	return 0;
}

/* Send RTM_NEWLINK for `link`; 0 or -errno (kernel's errno when it answered). */
static int link_request(struct net *n, struct rtnl_link *link, int flags)
{
	n->kernel_errno = 0;
	n->kernel_msg[0] = 0;
	int r = rtnl_link_add(n->sock, link, flags);
	return r < 0 ? -failure_errno(n, r) : 0;
}

int net_bridge_create(struct net *n, int ns, const char *name, struct error *err)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int r = -ENOMEM;

	if (link && rtnl_link_set_type(link, "bridge") == 0)
		r = configure_new_link(link, ns, name, NULL, 1);
	if (r == 0)
		r = link_request(n, link, NLM_F_CREATE | NLM_F_EXCL);
	if (link)
		rtnl_link_put(link);
	if (r < 0) {
		char label[PATH_MAX];
		netns_describe(ns, label, sizeof(label));
		error_set(err, -r, "bridge %s:%s", label, name);
		return net_error_add_kernel_msg(err, n->kernel_msg);
	}
	return 0;
}

/* One way to touch an existing link: enter its netns, open a socket there (a
 * netlink socket stays in the netns it was created in), run `operation`, close the
 * socket and come back.  Returns <0 with `err` filled when entering, opening or
 * leaving failed; otherwise 0, with the operation's own 0/-errno in *result (the
 * caller words that message: it knows what it was doing). */
static int run_in_netns(int ns, netns_operation operation, void *arg, int *result,
			char kernel_msg[NET_KERNEL_MSG_LEN], struct error *err)
{
	struct net *n = NULL;
	struct error leave_err;
	int saved = -1;
	int r = netns_enter(ns, &saved, err);

	if (r < 0)
		return r;
	r = net_open(&n, err);
	if (r == 0) {
		*result = operation(n, arg);
		if (kernel_msg)
			snprintf(kernel_msg, NET_KERNEL_MSG_LEN, "%s",
				 *result < 0 ? n->kernel_msg : "");
	}
	net_close(n);
	if (netns_leave(&saved, &leave_err) < 0 && r == 0) {
		if (err)
			*err = leave_err;
		r = -leave_err.errnum;
	}
	return r;
}

int net_run_in_netns(int ns, netns_operation operation, void *arg, int *result,
		     struct error *err)
{
	return run_in_netns(ns, operation, arg, result, NULL, err);
}

struct nl_sock *net_request_socket(struct net *n)
{
	n->kernel_errno = 0;
	n->kernel_msg[0] = 0;
	return n->sock;
}

int net_request_errno(const struct net *n, int nlerr)
{
	return failure_errno(n, nlerr);
}

const char *net_request_message(const struct net *n)
{
	return n->kernel_msg;
}

/* Run `operation` on `ifname` in `ns`; failures read "WHAT NS:IFNAME[EXTRA]: ...". */
static int operate_on_link(int ns, const char *ifname, netns_operation operation,
			   void *arg, const char *what, const char *extra, struct error *err)
{
	char label[PATH_MAX], kernel_msg[NET_KERNEL_MSG_LEN] = "";
	int result = 0;
	int r = run_in_netns(ns, operation, arg, &result, kernel_msg, err);

	if (r == 0 && result == 0)
		return 0;
	netns_describe(ns, label, sizeof(label));
	if (r < 0) {
		error_prefix(err, "%s %s:%s%s", what, label, ifname, extra);
		return r;
	}
	error_set(err, -result, "%s %s:%s%s", what, label, ifname, extra);
	return net_error_add_kernel_msg(err, kernel_msg);
}

/* Plain RTM_NEWLINK on an existing link found by name: no NLM_F_CREATE, so the
 * kernel changes it (or says ENODEV) without us looking its ifindex up first. */
struct link_change {
	const char *ifname;
	const char *master;  /* bridge to attach to, or NULL */
	int set_up;          /* 1 up, 0 down, -1 leave alone */
	unsigned mtu;        /* 0: leave alone */
};

static int change_link(struct net *n, void *arg)
{
	const struct link_change *change = arg;
	struct rtnl_link *link = rtnl_link_alloc();
	int r = 0;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, change->ifname);
	if (change->set_up == 1)
		rtnl_link_set_flags(link, IFF_UP);
	else if (change->set_up == 0)
		rtnl_link_unset_flags(link, IFF_UP);
	if (change->mtu)
		rtnl_link_set_mtu(link, change->mtu);
	if (change->master) {
		struct rtnl_link *bridge = NULL;
		n->kernel_errno = 0;
		n->kernel_msg[0] = 0;
		r = rtnl_link_get_kernel(n->sock, 0, change->master, &bridge);
		if (r < 0) {
			r = -failure_errno(n, r);
			goto out;
		}
		rtnl_link_set_master(link, rtnl_link_get_ifindex(bridge));
		rtnl_link_put(bridge);
	}
	r = link_request(n, link, 0);
out:
	rtnl_link_put(link);
	return r;
}

static int delete_link(struct net *n, void *arg)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int r;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, arg);
	n->kernel_errno = 0;
	n->kernel_msg[0] = 0;
	r = rtnl_link_delete(n->sock, link);
	rtnl_link_put(link);
	if (r < 0) {
		r = -failure_errno(n, r);
		if (r == -ENODEV)
			r = 0;  /* already gone: deleting is idempotent */
	}
	return r;
}

/* One RTM_NEWLINK creating both ends in their netns; end A up. */
static int request_veth(struct net *n, int ns_a, const char *name_a, const uint8_t mac_a[6],
			int ns_b, const char *name_b, const uint8_t mac_b[6])
{
	struct rtnl_link *link = rtnl_link_veth_alloc();
	struct rtnl_link *peer = NULL;
	int r = -ENOMEM;

	if (!link)
		goto out;
	peer = rtnl_link_veth_get_peer(link);
	if (!peer)
		goto out;
	r = configure_new_link(link, ns_a, name_a, mac_a, 1);
	/* The kernel configures the peer before pairing it, and a veth without its
	 * peer refuses to go up (ENOTCONN), so end B is brought up afterwards. */
	if (r == 0)
		r = configure_new_link(peer, ns_b, name_b, mac_b, 0);
	if (r == 0)
		r = link_request(n, link, NLM_F_CREATE | NLM_F_EXCL);
out:
	if (peer)
		rtnl_link_put(peer);
	if (link)
		rtnl_link_put(link);
	return r;
}

int net_veth_create(struct net *n, int ns_a, const char *name_a, const uint8_t mac_a[6],
		    int ns_b, const char *name_b, const uint8_t mac_b[6], struct error *err)
{
	struct link_change bring_up_b = { .ifname = name_b, .set_up = 1 };
	char label_a[PATH_MAX], label_b[PATH_MAX];
	int r = request_veth(n, ns_a, name_a, mac_a, ns_b, name_b, mac_b);
	int created = r == 0;

	if (created) {
		r = operate_on_link(ns_b, name_b, change_link, &bring_up_b, "set up", "", err);
		if (r < 0) {
			/* No half-made pair: deleting end A takes end B with it. */
			int ignored;
			run_in_netns(ns_a, delete_link, (void *)name_a, &ignored, NULL, NULL);
		}
	}
	if (r == 0)
		return 0;
	netns_describe(ns_a, label_a, sizeof(label_a));
	netns_describe(ns_b, label_b, sizeof(label_b));
	if (!created) {
		error_set(err, -r, "veth %s:%s — %s:%s", label_a, name_a, label_b, name_b);
		return net_error_add_kernel_msg(err, n->kernel_msg);
	}
	error_prefix(err, "veth %s:%s — %s:%s", label_a, name_a, label_b, name_b);
	return r;
}

int net_bridge_attach(int ns, const char *ifname, const char *bridge, struct error *err)
{
	struct link_change change = { .ifname = ifname, .master = bridge, .set_up = -1 };
	char extra[IFNAMSIZ + 16];

	snprintf(extra, sizeof(extra), " to bridge %s", bridge);
	return operate_on_link(ns, ifname, change_link, &change, "attach", extra, err);
}

int net_link_set_up(int ns, const char *ifname, int up, struct error *err)
{
	struct link_change change = { .ifname = ifname, .set_up = up ? 1 : 0 };

	return operate_on_link(ns, ifname, change_link, &change, up ? "set up" : "set down",
			       "", err);
}

int net_link_delete(int ns, const char *ifname, struct error *err)
{
	return operate_on_link(ns, ifname, delete_link, (void *)ifname, "delete", "", err);
}

struct link_query {
	const char *ifname;
	struct net_link_state *state;
};

static int query_link(struct net *n, void *arg)
{
	struct link_query *query = arg;
	struct net_link_state *state = query->state;
	struct rtnl_link *link = NULL;
	struct nl_addr *addr;
	const char *kind;

	n->kernel_errno = 0;
	n->kernel_msg[0] = 0;
	int r = rtnl_link_get_kernel(n->sock, 0, query->ifname, &link);
	if (r < 0)
		return -failure_errno(n, r);

	memset(state, 0, sizeof(*state));
	state->ifindex = rtnl_link_get_ifindex(link);
	state->flags = rtnl_link_get_flags(link);
	state->operstate = rtnl_link_get_operstate(link);
	state->mtu = rtnl_link_get_mtu(link);
	state->master_ifindex = rtnl_link_get_master(link);
	addr = rtnl_link_get_addr(link);
	if (addr && nl_addr_get_len(addr) == sizeof(state->mac))
		memcpy(state->mac, nl_addr_get_binary_addr(addr), sizeof(state->mac));
	kind = rtnl_link_get_type(link);
	if (kind)
		snprintf(state->kind, sizeof(state->kind), "%s", kind);
	rtnl_link_put(link);
	return 0;
}

int net_link_get(struct net *n, const char *ifname, struct net_link_state *out)
{
	struct link_query query = { .ifname = ifname, .state = out };

	return query_link(n, &query);
}

int net_link_change(struct net *n, const char *ifname, unsigned mtu, int up)
{
	struct link_change change = { .ifname = ifname, .set_up = up ? 1 : 0, .mtu = mtu };

	return change_link(n, &change);
}

int net_link_query(int ns, const char *ifname, struct net_link_state *out,
		   struct error *err)
{
	struct link_query query = { .ifname = ifname, .state = out };

	return operate_on_link(ns, ifname, query_link, &query, "query", "", err);
}

int net_link_exists(int ns, const char *ifname, struct error *err)
{
	struct net_link_state state;
	int r = net_link_query(ns, ifname, &state, err);

	if (r == -ENODEV) {
		error_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

const char *net_operstate_name(uint8_t operstate)
{
	switch (operstate) {
	case IF_OPER_NOTPRESENT: return "notpresent";
	case IF_OPER_DOWN: return "down";
	case IF_OPER_LOWERLAYERDOWN: return "lowerlayerdown";
	case IF_OPER_TESTING: return "testing";
	case IF_OPER_DORMANT: return "dormant";
	case IF_OPER_UP: return "up";
	default: return "unknown";
	}
}
