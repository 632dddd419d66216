/* A VM's TAPs joined to a node's veth ends.  Each link of a qemu node ends in
 * the node's netns as a veth (the normal wiring, net/netlink.h); the VM's NIC
 * for it is a TAP in the same netns, and tc joins the two: an ingress qdisc and
 * a match-all u32 filter with a mirred "egress redirect" action on each side, so
 * every frame arriving on one leaves through the other (measured faster than a
 * bridge, docs/vm.md).  Needs sch_ingress, cls_u32 and act_mirred. */
#ifndef NETSIM_NET_REDIRECT_H
#define NETSIM_NET_REDIRECT_H

#include "error.h"

/* In netns `ns_fd` (named `ns_label` in messages): for each veths[i] a
 * non-persistent TAP "tapI" (it lives as long as an fd to it), up with the
 * veth's MTU, the veth up, both without IPv6, joined both ways.  tap_fds[i]
 * gets TAP i's fd; the caller initialises tap_fds to -1 and closes what is
 * >= 0, also on failure.  Single-threaded callers only (setns there and back). */
int net_redirect_taps(int ns_fd, const char *ns_label, const char *const *veths,
		      unsigned n_veths, int *tap_fds, struct error *err);

#endif
