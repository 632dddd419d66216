/* A sim's medium=wifi segments (docs/wireless.md, "Wi-Fi segments"): one
 * mac80211_hwsim radio per member, created in the sim's switch namespace (so
 * that only the sim's medium, registered there, carries its frames), its phy
 * moved into the node's namespace with one interface of the segment's mode
 * (802.11s mesh point or IBSS) named as the topology says.  The node's init
 * joins the mesh or cell (meshlite: NETSIM_WIFI).
 *
 *   /run/netsim/SIM/wifi   marker: the sim has radios (`down` deletes them)
 *
 * Radios die with the namespace their phy is in, so a killed `up` leaves none
 * once `down` has removed the namespaces; `down` deletes them explicitly first,
 * so that when it returns they are gone. */
#ifndef NETSIM_SIM_WIFI_H
#define NETSIM_SIM_WIFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "topo/topo.h"

bool sim_wifi_any(const struct topo *t);
/* Node `node`'s Wi-Fi interfaces for its init: "IF:MODE:SSID:FREQ:EXTRA"
 * separated by blanks ("" for none).  EXTRA: for mode mesh 802.11s path
 * forwarding (1 on, 0 off), e.g. "wlan0:mesh:air0:2412:1"; for mode ibss the
 * cell's BSSID with dashes, e.g. "wlan1:ibss:cell:2437:0a-12-..". */
void sim_wifi_env(const struct topo *t, unsigned node, char *buf, size_t len);

/* Member m of wifi segment s (through sim_kernel). */
int sim_wifi_wire_member(const struct topo *t, unsigned s, unsigned m, int node_ns, int sw_ns,
			 struct error *err);
/* `down`: delete the sim's radios if it has any (marker), from the node
 * namespaces given and the switch namespace. */
void sim_wifi_teardown(const char *sim, char **nodes, unsigned n);

/* What node NODE's kernel knows of the peers of its Wi-Fi interface IF
 * (`iw dev IF station dump`), read from its namespace over nl80211, not by a
 * program of the node's. */
struct hwsim_station;
int sim_wifi_stations(const char *sim, const char *node, const char *ifname,
		      struct hwsim_station **out, unsigned *count, struct error *err);

/* A monitor interface on the phy of NODE's Wi-Fi interface IFNAME, up, for
 * `capture` to see 802.11 frames with radiotap headers: its name (IFNAME cut to
 * 12 characters + "mon") into mon (IFNAMSIZ).  ENODEV when IFNAME is not a
 * Wi-Fi interface.  sim_wifi_monitor_del removes it again. */
int sim_wifi_monitor_add(const char *sim, const char *node, const char *ifname, char *mon,
			 struct error *err);
void sim_wifi_monitor_del(const char *sim, const char *node, const char *mon);

/* The real kernel ops (sim_kernel_real). */
int sim_wifi_radio_create(int sw_ns, int node_ns, const uint8_t mac[6], const char *ifname,
			  bool ibss, struct error *err);
int sim_wifi_radios_delete(int ns, struct error *err);
/* Can this kernel make radios (mac80211_hwsim loaded)?  The error says what to do. */
int sim_wifi_check(struct error *err);

#endif
