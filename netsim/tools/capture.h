/* `netsim capture`: the packets of one node interface into a pcap file or a
 * pipe.  This owns the orchestration (which sim, which namespace, the output,
 * the stop signals); net/capture.h is the packet I/O inside the namespace. */
#ifndef NETSIM_TOOLS_CAPTURE_H
#define NETSIM_TOOLS_CAPTURE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "topo/topo.h"

struct capture_request {
	const char *sim;          /* -s SIM, or NULL: the only sim that is up */
	const char *node;
	const char *ifname;       /* "any": every interface of the node */
	const char *filter;       /* a pcap-filter(7) expression, or NULL */
	const char *path;         /* the pcap file; NULL or "-": stdout, flushed per packet */
	unsigned long count;      /* stop after this many packets; 0: no limit */
	uint64_t duration_us;     /* stop after this long; 0: no limit */
	bool data;                /* a Wi-Fi interface: its data frames (Ethernet), not 802.11 */
};

/* What a capture was and what it got, for the verb to print. */
struct capture_summary {
	char sim[TOPO_SIM_MAX + 1];
	char node[TOPO_NAME_MAX + 1];
	char ifname[IFNAMSIZ];
	bool wifi;                /* 802.11 frames with radiotap headers (a monitor interface) */
	char who[64];             /* "NODE:IF", as messages name it */
	unsigned long packets;    /* written to the output */
	unsigned dropped;         /* by the kernel (0 when it does not say) */
};

struct capture_session;

/* Open the capture: find the sim and node, activate the handle inside the node's
 * netns, open the output, and from here on stop on SIGINT/SIGTERM/SIGHUP (only
 * while waiting for packets, so the output is always closed cleanly) and ignore
 * SIGPIPE.  An unknown interface's error lists the node's links. */
int capture_start(const struct capture_request *req, struct capture_session **out,
		  struct capture_summary *sum, struct error *err);

/* Write packets until a limit or a stop signal, then close the output and free
 * the session.  sum->packets and sum->dropped are set also on error; -EPIPE
 * when the reader of stdout went away (a normal end for a pipe). */
int capture_finish(struct capture_session *s, struct capture_summary *sum, struct error *err);

#endif
