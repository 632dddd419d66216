/* Topology files (format: docs/topology.md).  The parser validates the whole file
 * and reports every error as "FILE:LINE: message"; a topology with any error is
 * never returned, so nothing is ever created from it. */
#ifndef NETSIM_TOPO_H
#define NETSIM_TOPO_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TOPO_NAME_MAX 12   /* node names: [a-z0-9-]{1,12} */
#define TOPO_SIM_MAX 16    /* sim names:  [a-z0-9-]{1,16}, not starting with '-' */

/* Link quality; `set` has a TOPO_Q_* bit for each attribute given. */
enum {
	TOPO_Q_RATE = 1 << 0,
	TOPO_Q_DELAY = 1 << 1,
	TOPO_Q_JITTER = 1 << 2,
	TOPO_Q_LOSS = 1 << 3,
	TOPO_Q_DUPLICATE = 1 << 4,
	TOPO_Q_REORDER = 1 << 5,
	/* everything that needs sch_netem */
	TOPO_Q_NETEM = TOPO_Q_DELAY | TOPO_Q_JITTER | TOPO_Q_LOSS | TOPO_Q_DUPLICATE |
		       TOPO_Q_REORDER,
};

struct topo_quality {
	unsigned set;
	uint64_t rate_bps;
	uint64_t delay_us;
	uint64_t jitter_us;
	uint32_t loss_ppm;
	uint32_t duplicate_ppm;
	uint32_t reorder_ppm;
};

enum topo_backend { TOPO_BACKEND_CONTAINER = 0, TOPO_BACKEND_QEMU };
/* config=: who configures an OpenWrt-family node's network (sim/uci.h) */
enum topo_config { TOPO_CONFIG_NONE = 0, TOPO_CONFIG_UCI };

struct topo_node {
	char name[TOPO_NAME_MAX + 1];
	unsigned index;          /* 1-based, in file order; derives the default address */
	int line;
	char *rootfs;            /* "meshlite" (default), a directory or a tarball path */
	char *files;             /* optional overlay directory (files=), or NULL */
	char *feed;              /* optional package feed tree (feed=, netsim/feed.h), or NULL */
	char *init;              /* optional init command (init=), or NULL = /sbin/init */
	enum topo_config config; /* config=uci: /etc/config written from the topology */
	char addr4[48];          /* "10.13.X.Y/32" unless addr= given */
	char addr6[64];          /* "fd13::X:Y/128"-style ULA unless addr6= given */
	enum topo_backend backend;
	unsigned nifaces;        /* how many interfaces links/segments gave this node */
	unsigned nwlans;         /* of them on medium=wifi segments (default names wlanN) */
	/* backend=qemu only; 0/NULL = the backend's default */
	uint64_t qemu_mem_mib;   /* mem= ("512M", "2G"; a bare number is MiB) */
	unsigned qemu_cpus;      /* cpus= (1..1024) */
	char *qemu_kernel;       /* kernel= (path) */
	/* backend=container cgroup limits; 0 = netsim's default (docs/security.md) */
	uint64_t limit_mem_mib;  /* mem= (same syntax as a VM's): memory limit */
	uint64_t limit_pids;     /* pids= (8..4194304): processes and threads */
	unsigned limit_cpu_weight; /* cpu= (1..10000): CPU weight, 100 = the default */
	uint64_t limit_disk_mib; /* disk= (mem= syntax): its share of the sim's upper-dir tmpfs */
	bool sys_admin;          /* caps=+sys_admin: node root keeps CAP_SYS_ADMIN (FRR) */
	char *startup;           /* startup=: a script the rootfs's init runs at boot
				  * (Kathara's DEVICE.startup), or NULL */
	bool has_pos;            /* pos=X,Y[,Z] given (metres; Z defaults to 0) */
	double pos[3];
};

struct topo_endpoint {
	unsigned node;           /* index into topo.nodes (0-based) */
	char ifname[IFNAMSIZ];   /* given NODE:IFNAME, or ethN assigned in file order */
};

struct topo_link {
	struct topo_endpoint a, b;
	struct topo_quality quality;
	int line;
};

/* What carries a segment's frames: a bridge in the switch namespace, or
 * netsim's medium process (docs/topology.md, "Radio segments"). */
enum topo_medium { TOPO_MEDIUM_BRIDGE = 0, TOPO_MEDIUM_RADIO, TOPO_MEDIUM_WIFI };

/* A medium=wifi segment (docs/wireless.md, "Wi-Fi segments"): each member gets
 * a mac80211_hwsim radio whose 802.11 frames netsim's medium carries by the
 * same model as a medium=radio segment's Ethernet frames. */
enum topo_wifi_mode { TOPO_WIFI_MESH = 0, TOPO_WIFI_IBSS };
#define TOPO_WIFI_CHANNEL 1
#define TOPO_WIFI_SSID_MAX 32
struct topo_wifi {
	enum topo_wifi_mode mode;    /* mode=mesh (802.11s, the default) | ibss */
	unsigned channel;            /* channel= 1..13 (2.4 GHz), default 1 */
	char ssid[TOPO_WIFI_SSID_MAX + 1]; /* ssid= mesh id / IBSS SSID, default: the segment's name */
	bool forwarding;             /* forwarding=on|off: 802.11s path forwarding (mesh_fwding), default on */
};

/* The propagation model of a medium=radio segment; the parser fills the defaults. */
#define TOPO_RADIO_TXPOWER_DBM 20.0
#define TOPO_RADIO_REFLOSS_DB 40.0
#define TOPO_RADIO_EXPONENT 3.0
#define TOPO_RADIO_NOISE_DBM (-95.0)
#define TOPO_RADIO_QUEUE_FRAMES 100
#define TOPO_RADIO_CAPACITY_BPS 54000000ull
struct topo_radio {
	double tx_power_dbm;     /* txpower=  default 20 (dBm) */
	double ref_loss_db;      /* refloss=  path loss at 1 m, default 40 (dB) */
	double exponent;         /* exponent= default 3.0 */
	double noise_dbm;        /* noise=    default -95 (dBm) */
	double shadow_sigma_db;  /* shadowing= default 0 (dB; 0 = off) */
	uint64_t seed;           /* seed=     default 1 */
	bool hidden_nodes;       /* hidden=on|off, default on */
	unsigned queue_frames;   /* queue=    default 100 frames per sender */
	uint64_t capacity_bps;   /* the segment's rate= (default 54mbit), also in quality */
};

struct topo_segment {
	char name[IFNAMSIZ];     /* the bridge's name in the switch namespace */
	struct topo_endpoint *members;
	unsigned nmembers;
	/* A radio segment's quality: rate= is the channel's capacity (always set,
	 * default 54mbit); loss= and delay= apply to every pair without a pair
	 * line saying otherwise; nothing else is allowed. */
	struct topo_quality quality;
	int line;
	enum topo_medium medium;
	struct topo_radio radio; /* medium=radio and medium=wifi */
	struct topo_wifi wifi;   /* medium=wifi only */
};

/* Carried by netsim's medium through the radio model (radio or wifi)? */
static inline bool topo_segment_on_air(const struct topo_segment *seg)
{
	return seg->medium == TOPO_MEDIUM_RADIO || seg->medium == TOPO_MEDIUM_WIFI;
}
/* "bridge", "radio", "wifi". */
static inline const char *topo_medium_name(enum topo_medium m)
{
	return m == TOPO_MEDIUM_WIFI ? "wifi" : m == TOPO_MEDIUM_RADIO ? "radio" : "bridge";
}
/* MHz of a 2.4 GHz channel 1..13. */
static inline unsigned topo_wifi_freq(unsigned channel)
{
	return 2407 + 5 * channel;
}

/* "pair SEG A B ..." (both ways: two entries), "pair SEG A>B ..." (one way). */
struct topo_pair {
	unsigned segment;        /* index into topo.segments (a radio one) */
	unsigned from, to;       /* member indices within that segment */
	struct topo_quality quality; /* TOPO_Q_LOSS / TOPO_Q_RATE / TOPO_Q_DELAY only */
	bool cut;                /* "cut": out of range, no frames at all */
	int line;
};

struct topo {
	char *path;              /* as given */
	char sim[TOPO_SIM_MAX + 1];
	struct topo_node *nodes;
	unsigned nnodes;
	struct topo_link *links;
	unsigned nlinks;
	struct topo_segment *segments;
	unsigned nsegments;
	struct topo_pair *pairs;  /* in file order; A B gives A>B then B>A */
	unsigned npairs;
};

/* Parse a file.  On error returns -EINVAL and err->msg holds every error, one per
 * line ("FILE:LINE: message\n..."), and *t is left empty. */
int topo_parse_file(const char *path, struct topo *t, struct error *err);
/* Same from memory; `name` stands for the file name in messages and for the
 * default sim name. */
int topo_parse_string(const char *name, const char *text, struct topo *t,
		      struct error *err);
void topo_free(struct topo *t);
/* A struct topo variable that topo_free()s itself at the end of its scope:
 * start it as {0} or have topo_parse_*() fill it (it leaves *t empty on error). */
#define cleanup_topo __attribute__((cleanup(topo_free)))

/* Lookup helpers. */
int topo_find_node(const struct topo *t, const char *name); /* index or -1 */
int topo_find_segment(const struct topo *t, const char *name); /* index or -1 */
/* The member index of node `node` (a topo.nodes index) in segment s, or -1. */
int topo_segment_member(const struct topo *t, unsigned s, unsigned node);
/* "X,Y[,Z]" in metres (Z defaults to 0), each a finite decimal number with an
 * optional sign, at most 1e6 from 0; false if bad. */
bool topo_parse_pos(const char *text, double pos[3]);
int topo_valid_name(const char *name, unsigned max);         /* [a-z0-9-], no leading '-' */
/* An interface name the kernel takes (its dev_valid_name(): 1 to IFNAMSIZ-1
 * bytes, not "." or "..", no '/', ':' or white space), minus '%', which
 * rtnetlink would expand as a "%d" template.  With TOPO_IFNAME_CREATE also not
 * "lo": a name netsim creates (a link end, a bridge) cannot be one every
 * namespace already has; naming an existing interface (capture) may. */
enum { TOPO_IFNAME_CREATE = 1 << 0 };
bool topo_valid_ifname(const char *name, unsigned flags);
/* A name that can go into a uci file unquoted: [A-Za-z0-9_.-]+ (config=uci). */
bool topo_plain_ifname(const char *name);
/* Split "NODE" or "NODE:IFNAME": the node name (checked with topo_valid_name)
 * to node, the interface (checked with topo_valid_ifname and `flags`) to
 * ifname, "" when none is given.  -EINVAL with a message naming which part is
 * bad (and quoting at most 64 bytes of it). */
int topo_split_endpoint(const char *text, unsigned flags, char node[TOPO_NAME_MAX + 1],
			char ifname[IFNAMSIZ], struct error *err);
/* A memory size as mem= takes it: "512", "512M", "2G" (MiB, or GiB with G); false if bad. */
bool topo_parse_mem_mib(const char *text, uint64_t *mib);

#endif
