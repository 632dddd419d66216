/* Packet capture inside a node's network namespace (libpcap).  A packet socket
 * belongs to the netns it was created in, so the handle is activated inside
 * the node's netns and keeps capturing there after we return to ours. */
#ifndef NETSIM_CAPTURE_H
#define NETSIM_CAPTURE_H

#include <pcap/pcap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Open a live capture of `ifname` ("any": every interface of the namespace)
 * inside the netns bound at `netns_path`; `who` names it in messages ("a",
 * "a:eth0").  `filter`: a pcap-filter(7) expression or NULL.  Not promiscuous:
 * capturing never changes the node's interfaces.  -ENODEV when the netns has
 * no such interface. */
int capture_open(const char *netns_path, const char *ifname, const char *filter,
		 const char *who, pcap_t **out, struct error *err);

struct capture_limits {
	unsigned long count;            /* stop after this many packets; 0: no limit */
	uint64_t duration_us;           /* stop after this long; 0: no limit */
	bool flush_each;                /* flush the output after every packet (streaming) */
	volatile sig_atomic_t *stop;    /* set by the caller's signal handler */
	const sigset_t *wait_mask;      /* signal mask while waiting (ppoll), or NULL */
};

/* Write packets to `out` until a limit is reached or *stop is set.  Signals the
 * caller wants to stop on should be blocked, and unblocked in `wait_mask`, so
 * one arriving just before the wait is not missed.  *captured counts the
 * packets written, also on error.  -EPIPE when the reader of the output went
 * away (the caller may treat that as a normal end). */
int capture_run(pcap_t *p, pcap_dumper_t *out, const struct capture_limits *lim,
		unsigned long *captured, struct error *err);

#endif
