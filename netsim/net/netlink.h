/* Network wiring through libnl-route-3 — the only module that changes anything
 * over rtnetlink (the namespaces themselves: net/netns.h; reading routing
 * tables in bulk: net/route_table.h).  Interfaces are created from the
 * host with each end placed directly in its namespace (IFLA_NET_NS_FD), never
 * renamed or moved afterwards. */
#ifndef NETSIM_NETLINK_H
#define NETSIM_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct net;  /* a connected rtnetlink socket in the caller's netns */

/* The socket asks for extended ACKs (NETLINK_EXT_ACK): when the kernel explains
 * a refusal, the explanation follows in parentheses, as iproute2 shows it, e.g.
 *   "set up n1:eth0: Invalid argument (MTU too large)" */
#define NET_KERNEL_MSG_LEN 256

/* Errors carry the kernel's own errno (EEXIST, ENODEV, EPERM, ...), not libnl's
 * lossy NLE_* codes, and name both ends, e.g.
 *   "veth n1:eth0 — n2:eth0: File exists"
 * where n1/n2 are the basenames of the netns bind mounts (/run/netns/n1). */

int net_open(struct net **out, struct error *err);
void net_close(struct net *n);

/* veth pair: end A called name_a in the netns `ns_a` (an fd), end B in `ns_b`,
 * with the given MACs (NULL: kernel picks one), both administratively up.
 * One RTM_NEWLINK creates both ends (A up); B is brought up by a second request
 * from inside ns_b, because the kernel refuses IFF_UP on a peer being created
 * (ENOTCONN).  If that fails the pair is deleted again.  EEXIST when either
 * name is taken in its netns. */
int net_veth_create(struct net *n, int ns_a, const char *name_a, const uint8_t mac_a[6],
		    int ns_b, const char *name_b, const uint8_t mac_b[6], struct error *err);

/* A bridge called `name` inside netns `ns`, up. */
int net_bridge_create(struct net *n, int ns, const char *name, struct error *err);

/* Make `ifname` (inside netns `ns`) a port of `bridge` (same netns).  ENODEV
 * when either is missing.  This and the functions below work from a socket
 * opened inside `ns` (setns there and back: not for multi-threaded callers). */
int net_bridge_attach(int ns, const char *ifname, const char *bridge, struct error *err);

/* Administrative state of `ifname` inside netns `ns`. */
int net_link_set_up(int ns, const char *ifname, int up, struct error *err);

/* Delete `ifname` inside netns `ns`; a missing link counts as done. */
int net_link_delete(int ns, const char *ifname, struct error *err);

/* What `status` shows about one interface. */
struct net_link_state {
	int ifindex;
	unsigned int flags;       /* IFF_*: IFF_UP = admin up, IFF_LOWER_UP = carrier */
	uint8_t operstate;        /* IF_OPER_* (linux/if.h): IF_OPER_UP, IF_OPER_DOWN, ... */
	unsigned int mtu;
	uint8_t mac[6];
	int master_ifindex;       /* bridge it is a port of; 0 when none */
	char kind[16];            /* "veth", "bridge", ... or "" */
};

/* State of `ifname` inside netns `ns`; -ENODEV when there is no such link. */
int net_link_query(int ns, const char *ifname, struct net_link_state *out,
		   struct error *err);
/* 1 when `ifname` exists inside netns `ns`, 0 when not, or -errno. */
int net_link_exists(int ns, const char *ifname, struct error *err);
/* "up", "down", "lowerlayerdown", ... for an IF_OPER_* value. */
const char *net_operstate_name(uint8_t operstate);

/* For other rtnetlink users (tc shaping in shape.c): run `operation` with a
 * socket opened inside netns `ns` (setns there and back; single-threaded callers
 * only).  Returns <0 with `err` filled when entering/opening/leaving failed,
 * otherwise 0 with the operation's own 0/-errno in *result. */
struct nl_sock;
typedef int (*netns_operation)(struct net *n, void *arg);
int net_run_in_netns(int ns, netns_operation operation, void *arg, int *result,
		     struct error *err);
/* The socket for one libnl request on `n` (and forget the previous request's
 * kernel errno); after a failed request, net_request_errno() gives the kernel's
 * own errno (or the nearest errno for libnl's code `nlerr`). */
struct nl_sock *net_request_socket(struct net *n);
int net_request_errno(const struct net *n, int nlerr);
/* The kernel's explanation of the last failed request on `n`, or "". */
const char *net_request_message(const struct net *n);
/* Append " (kernel_msg)" to err's message when kernel_msg is not empty;
 * returns -err->errnum. */
int net_error_add_kernel_msg(struct error *err, const char *kernel_msg);

/* The same on `n` itself, for an operation already inside the link's netns
 * (net_run_in_netns); they return 0 or the kernel's -errno.  net_link_change
 * sets the MTU (0: leave it) and brings the link up (up != 0) or down, in one
 * request. */
int net_link_get(struct net *n, const char *ifname, struct net_link_state *out);
int net_link_change(struct net *n, const char *ifname, unsigned mtu, int up);

#endif
