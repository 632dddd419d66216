/* config=uci: an OpenWrt-family node's own configuration from the topology.
 *
 * Every OpenWrt image comes up with its default 192.168.1.1 on br-lan over
 * eth0, the same on every node.  With config=uci, `up` writes the node's
 * /etc/config into one read-only overlay layer of its own (nodes/NODE/uci,
 * above the rootfs and the feed, below files= so a user's file still wins),
 * before init runs:
 *
 *   network   loopback; the node's address (addr=/addr6=) on lo as interface
 *             `netsim`; one static interface per link or segment interface
 *             with the node's addresses (IPv4 as a /32, and IPv6 too, as
 *             neighbour discovery answers only for an interface's own
 *             addresses), and a device route to
 *             each neighbour's address over it (so one hop works with no
 *             routing daemon, as a babel mesh addresses its nodes);
 *   system    the hostname (the node's name), UTC;
 *   firewall  everything accepted and forwarded: a lab router, not an edge one;
 *   babeld    when the image has /usr/sbin/babeld: every interface, and the
 *             node's own addresses redistributed.
 *
 * Both option spellings are written where OpenWrt renamed one (`device` since
 * 21.02, `ifname` before), so 17.01 to 23.05 read the same files.  Interface
 * names must be plain ([A-Za-z0-9_.-]) to go into a uci file.  Images that
 * configure themselves (LibreMesh's lime-config) are left alone unless
 * config=uci is given. */
#ifndef NETSIM_UCI_H
#define NETSIM_UCI_H

#include "error.h"
#include "topo/topo.h"

/* Write DIR/etc/config/{network,system,firewall[,babeld]} for node `node` of t.
 * `layers` (top first, NULL-terminated) are the node's other lower layers, to
 * see whether the image has babeld.  DIR must not exist yet. */
int uci_layer_write(const struct topo *t, unsigned node, const char *const *layers,
		    const char *dir, struct error *err);

#endif
