/* Network wiring through libnl-route-3 — the only module that speaks rtnetlink —
 * and the network-namespace helpers (create/bind/enter/remove).  Interfaces are
 * created from the host with each end placed directly in its namespace
 * (IFLA_NET_NS_FD), never renamed or moved afterwards. */
#ifndef NETSIM_NETLINK_H
#define NETSIM_NETLINK_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct net;  /* a connected rtnetlink socket in the caller's netns */

int net_open(struct net **out, struct error *err);
void net_close(struct net *n);

/* veth pair: end A called name_a in the netns `ns_a` (an fd), end B in `ns_b`,
 * with the given MACs, both administratively up. */
int net_veth_create(struct net *n, int ns_a, const char *name_a, const uint8_t mac_a[6],
		    int ns_b, const char *name_b, const uint8_t mac_b[6], struct error *err);

/* A bridge called `name` inside netns `ns`, up. */
int net_bridge_create(struct net *n, int ns, const char *name, struct error *err);

/* Make `ifname` (inside netns `ns`) a port of `bridge` (same netns). */
int net_bridge_attach(int ns, const char *ifname, const char *bridge, struct error *err);

/* Administrative state of `ifname` inside netns `ns`. */
int net_link_set_up(int ns, const char *ifname, int up, struct error *err);

/* Delete `ifname` inside netns `ns`; a missing link counts as done. */
int net_link_delete(int ns, const char *ifname, struct error *err);

/* Network namespaces.  Paths are bind-mount targets such as /run/netns/NAME; the
 * parent directory is prepared like iproute2 does (so `ip netns exec` works). */
int netns_create(const char *bind_path, struct error *err);          /* new, empty */
int netns_bind_pid(pid_t pid, const char *bind_path, struct error *err); /* existing */
int netns_open(const char *bind_path, struct error *err);           /* fd or -errno */
int netns_remove(const char *bind_path, struct error *err);         /* idempotent */
/* Enter `ns_fd`; *saved gets an fd of the current netns for netns_leave(). */
int netns_enter(int ns_fd, int *saved, struct error *err);
int netns_leave(int *saved, struct error *err);

#endif
