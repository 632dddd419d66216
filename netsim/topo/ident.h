/* Stable identities derived from names: MAC addresses and default node addresses. */
#ifndef NETSIM_IDENT_H
#define NETSIM_IDENT_H

#include <stddef.h>
#include <stdint.h>

/* MAC from sha256("SIM/NODE/IFNAME"): locally administered, unicast. */
void ident_mac(const char *sim, const char *node, const char *ifname, uint8_t mac[6]);
/* MAC of a segment's switch-side port, from sha256("SIM//SEGMENT/PORT"): never
 * a node's, even when a node is named like the segment and an interface like the
 * port. */
void ident_port_mac(const char *sim, const char *segment, const char *port, uint8_t mac[6]);
/* Default addresses of the node with 1-based index i (1..65534):
 * 10.13.(i/256).(i%256)/32 and fd13::(i/256):(i%256)/128. */
void ident_addr4(unsigned index, char *buf, size_t len);
void ident_addr6(unsigned index, char *buf, size_t len);

#endif
