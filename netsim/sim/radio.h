/* A sim's radio segments (docs/topology.md, "Radio segments"): their wiring in
 * the switch namespace and the medium process that carries their frames.
 *
 * A member of a medium=radio segment gets a veth pair like a bridge member,
 * but the far end (named by sim_segment_port) stays alone in the switch
 * namespace: up, in no bridge, without IPv6, so the only frames on it are the
 * node's and the medium's.  One medium process per sim (`netsim _medium SIM`,
 * netsim/medium/engine.h) owns every far end; its files:
 *
 *   /run/netsim/SIM/medium.pid    "PID STARTTIME" (sim/proc.h), written by `up`
 *   /run/netsim/SIM/medium.sock   its control socket (0600; AIR-SPEC §4)
 *   /run/netsim/SIM/medium.log    its stdout and stderr
 *
 * `up` starts it after the wiring, before the nodes' inits, and waits until
 * the socket answers; `down` and a failed `up` stop it (sim_radio_stop). */
#ifndef NETSIM_SIM_RADIO_H
#define NETSIM_SIM_RADIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "net/netlink.h"
#include "topo/topo.h"

/* Does the topology have a medium=radio segment? */
bool sim_radio_any(const struct topo *t);
/* Node `node`'s interfaces on radio segments, separated by `sep` ("" for none). */
void sim_radio_ifnames(const struct topo *t, unsigned node, char sep, char *buf, size_t len);

/* Member m of radio segment s: the veth pair from the node's netns (node_ns) to
 * the switch namespace (sw_ns), the far end without IPv6.  Through sim_kernel. */
int sim_radio_wire_member(const struct topo *t, unsigned s, unsigned m, struct net *net,
			  int node_ns, int sw_ns, struct error *err);

/* Start the sim's medium process when t has radio segments (0 otherwise). */
int sim_radio_start(const struct topo *t, struct error *err);
/* Stop it, if one runs, and remove its files; idempotent. */
void sim_radio_stop(const char *sim);

/* The real kernel ops behind those (sim_kernel_real).  sim_netns_sysctl writes
 * /proc/sys/KEY ("net/ipv6/conf/IF/disable_ipv6") as seen inside netns `ns`. */
int sim_medium_start(const char *sim, struct error *err);
int sim_medium_stop(const char *sim, struct error *err);
int sim_netns_sysctl(int ns, const char *key, const char *value, struct error *err);

/* The medium of SIM: 0 when the sim has none (no pid file), 1 with *pid when it
 * runs, -1 when it was started and is gone. */
int sim_medium_state(const char *sim, pid_t *pid);

/* One request line (without "\n") on the sim's control socket and the whole
 * reply (malloc'd, NUL-terminated; "error: ..." replies included) into *reply.
 * Fails when the medium does not answer within timeout_ms. */
int sim_medium_request(const char *sim, const char *request, int timeout_ms, char **reply,
		       struct error *err);

#endif
