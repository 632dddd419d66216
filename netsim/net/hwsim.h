/* mac80211_hwsim radios and their medium, over generic netlink (docs/wireless.md,
 * "Wi-Fi segments").  The only module that speaks the MAC80211_HWSIM and nl80211
 * families.  Plain netlink (a socket, messages built and parsed here): the few
 * requests netsim makes do not need a library, and the medium's frame path
 * parses kernel messages with explicit bounds.
 *
 * Radios are created in the caller's network namespace (netsim: the sim's switch
 * namespace), which makes them members of that namespace's hwsim "netgroup":
 * only a medium registered from the same namespace gets their frames, and only
 * it may inject frames to them.  Their phy then moves into the node's
 * namespace.  A radio whose phy is in a namespace that dies is destroyed by the
 * kernel with it (radios created in the initial namespace excepted, which netsim
 * never does). */
#ifndef NETSIM_HWSIM_H
#define NETSIM_HWSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HWSIM_NAME_MAX 64         /* NL80211_WIPHY_NAME_MAXLEN */
#define HWSIM_TX_MAX_RATES 4      /* IEEE80211_TX_MAX_RATES */

/* The kernel's own values (drivers/net/wireless/mac80211_hwsim.h: not a uapi
 * header, so copied by value; they are ABI). */
enum {
	HWSIM_CMD_REGISTER = 1,
	HWSIM_CMD_FRAME = 2,
	HWSIM_CMD_TX_INFO_FRAME = 3,
	HWSIM_CMD_NEW_RADIO = 4,
	HWSIM_CMD_DEL_RADIO = 5,
	HWSIM_CMD_GET_RADIO = 6,
};
enum {
	HWSIM_ATTR_ADDR_RECEIVER = 1,
	HWSIM_ATTR_ADDR_TRANSMITTER = 2,
	HWSIM_ATTR_FRAME = 3,
	HWSIM_ATTR_FLAGS = 4,
	HWSIM_ATTR_RX_RATE = 5,
	HWSIM_ATTR_SIGNAL = 6,
	HWSIM_ATTR_TX_INFO = 7,
	HWSIM_ATTR_COOKIE = 8,
	HWSIM_ATTR_CHANNELS = 9,
	HWSIM_ATTR_RADIO_ID = 10,
	HWSIM_ATTR_RADIO_NAME = 17,
	HWSIM_ATTR_NO_VIF = 18,
	HWSIM_ATTR_FREQ = 19,
	HWSIM_ATTR_PAD = 20,
	HWSIM_ATTR_PERM_ADDR = 22,
};
enum {
	HWSIM_TX_CTL_REQ_TX_STATUS = 1 << 0,
	HWSIM_TX_CTL_NO_ACK = 1 << 1,
	HWSIM_TX_STAT_ACK = 1 << 2,
};

struct hwsim_rate {               /* struct hwsim_tx_rate: idx -1 ends the list */
	int8_t idx;
	uint8_t count;
};

/* ---- radios (netsim up/down) ---- */

struct hwsim;  /* a generic netlink socket in the caller's netns */

/* ENOENT with "the kernel has no mac80211_hwsim ..." when the family is missing. */
int hwsim_open(struct hwsim **out, struct error *err);
void hwsim_close(struct hwsim *h);

/* A radio with one channel, no interface, permanent address mac; its wiphy
 * index into *wiphy and name into name (HWSIM_NAME_MAX). */
int hwsim_radio_new(struct hwsim *h, const uint8_t mac[6], uint32_t *wiphy, char *name,
		    struct error *err);
/* Move wiphy (with its interfaces) into the namespace ns_fd. */
int hwsim_wiphy_to_netns(struct hwsim *h, uint32_t wiphy, int ns_fd, struct error *err);
/* A new interface on wiphy (which must be in the socket's namespace). */
enum hwsim_iftype { HWSIM_IF_MESH, HWSIM_IF_IBSS, HWSIM_IF_MONITOR };
int hwsim_interface_new(struct hwsim *h, uint32_t wiphy, const char *ifname,
			enum hwsim_iftype type, struct error *err);
/* The wiphy of interface ifname (in the socket's namespace); ENODEV when it has
 * none (not a Wi-Fi interface). */
int hwsim_interface_wiphy(struct hwsim *h, const char *ifname, uint32_t *wiphy,
			  struct error *err);
/* Delete interface ifname (a missing one counts as done). */
int hwsim_interface_del(struct hwsim *h, const char *ifname, struct error *err);
/* Delete every hwsim radio whose phy is in the socket's namespace; *deleted
 * counts them.  Phys that are not hwsim's are left alone. */
int hwsim_radios_delete_all(struct hwsim *h, unsigned *deleted, struct error *err);
/* The names of the phys (wiphys) in the socket's namespace: malloc'd array of
 * HWSIM_NAME_MAX strings. */
int hwsim_wiphy_names(struct hwsim *h, char (**names)[HWSIM_NAME_MAX], unsigned *count,
		      struct error *err);

/* What the kernel of the socket's namespace knows of one peer of an interface
 * (nl80211 GET_STATION, as `iw dev IF station dump` shows it). */
struct hwsim_station {
	uint8_t mac[6];
	int signal_dbm;           /* of the last frame received; 0 when unknown */
	int plink;                /* mesh peer link state (NL80211_PLINK_*), -1 when none (IBSS) */
	uint32_t tx_retries, tx_failed, tx_packets, rx_packets;
	uint32_t tx_bitrate_kbps; /* 0 when unknown */
	uint32_t inactive_ms;
};
#define HWSIM_STATIONS_MAX 1024
/* The stations of interface ifname in the socket's namespace (at most
 * HWSIM_STATIONS_MAX; malloc'd array). */
int hwsim_stations(struct hwsim *h, const char *ifname, struct hwsim_station **out,
		   unsigned *count, struct error *err);
/* "ESTAB", "LISTEN", ... for a plink value; "-" for -1. */
const char *hwsim_plink_name(int plink);

/* ---- the medium: the frame path ---- */

/* A socket registered as the wireless medium of the namespace's radios (the
 * caller's netns), non-blocking; *family for the messages below.  EBUSY when
 * another medium is registered there. */
int hwsim_medium_open(int *fd, uint16_t *family, struct error *err);

/* One HWSIM_CMD_FRAME the kernel sent (a radio transmits). */
struct hwsim_frame {
	const uint8_t *transmitter;   /* 6 bytes: the radio's address */
	const uint8_t *data;          /* the 802.11 frame */
	size_t len;
	uint32_t flags;               /* HWSIM_TX_CTL_* */
	uint32_t freq;                /* MHz; 0 when absent */
	uint64_t cookie;
	struct hwsim_rate rates[HWSIM_TX_MAX_RATES];
};

/* The one netlink message at msg (len bytes from its nlmsghdr, as far as the
 * buffer goes): 1 with *f when it is a frame, 0 when it is another message
 * (an ack, an error for a frame a radio refused), -EINVAL when malformed.
 * Bounds: every attribute checked against the message, the frame 10..4096
 * bytes, the addresses 6 bytes. */
int hwsim_parse_frame(const void *msg, size_t len, uint16_t family, struct hwsim_frame *f);

/* Append to out (capacity cap, used *used) a HWSIM_CMD_FRAME that hands `frame`
 * to the radio `receiver`; false when it does not fit. */
bool hwsim_put_rx(void *out, size_t cap, size_t *used, uint16_t family,
		  const uint8_t receiver[6], const uint8_t *frame, size_t len, uint32_t rate_idx,
		  int32_t signal_dbm, uint32_t freq);
/* Append the TX status of a transmission (HWSIM_CMD_TX_INFO_FRAME). */
bool hwsim_put_tx_info(void *out, size_t cap, size_t *used, uint16_t family,
		       const uint8_t transmitter[6], uint32_t flags, int32_t signal_dbm,
		       const struct hwsim_rate rates[HWSIM_TX_MAX_RATES], uint64_t cookie);

#endif
