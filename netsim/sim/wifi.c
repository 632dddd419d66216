/* A sim's medium=wifi segments: mac80211_hwsim radios (sim/wifi.h). */
#include "sim/wifi.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "net/hwsim.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "sim/kernel.h"
#include "sim/state.h"
#include "topo/ident.h"

bool sim_wifi_any(const struct topo *t)
{
	for (unsigned s = 0; s < t->nsegments; s++)
		if (t->segments[s].medium == TOPO_MEDIUM_WIFI)
			return true;
	return false;
}

void sim_wifi_env(const struct topo *t, unsigned node, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned s = 0; s < t->nsegments; s++) {
		const struct topo_segment *seg = &t->segments[s];
		if (seg->medium != TOPO_MEDIUM_WIFI)
			continue;
		for (unsigned m = 0; m < seg->nmembers; m++) {
			if (seg->members[m].node != node)
				continue;
			char entry[IFNAMSIZ + TOPO_WIFI_SSID_MAX + 48], extra[20];
			if (seg->wifi.mode == TOPO_WIFI_IBSS) {
				/* every member joins the one cell: with each starting its
				 * own, hwsim's shared clock never lets them merge */
				uint8_t b[6];
				ident_port_mac(t->sim, seg->name, "bssid", b);
				snprintf(extra, sizeof(extra), "%02x-%02x-%02x-%02x-%02x-%02x", b[0],
					 b[1], b[2], b[3], b[4], b[5]);
			} else {
				snprintf(extra, sizeof(extra), "%d", seg->wifi.forwarding ? 1 : 0);
			}
			int n = snprintf(entry, sizeof(entry), "%s%s:%s:%s:%u:%s", used ? " " : "",
					 seg->members[m].ifname,
					 seg->wifi.mode == TOPO_WIFI_IBSS ? "ibss" : "mesh",
					 seg->wifi.ssid, topo_wifi_freq(seg->wifi.channel), extra);
			if (n > 0 && used + (size_t)n < len) {
				memcpy(buf + used, entry, (size_t)n + 1);
				used += (size_t)n;
			}
		}
	}
}

static void marker_path(char *buf, size_t len, const char *sim)
{
	state_sim_path(buf, len, sim, "wifi");
}

int sim_wifi_wire_member(const struct topo *t, unsigned s, unsigned m, int node_ns, int sw_ns,
			 struct error *err)
{
	const struct topo_segment *seg = &t->segments[s];
	const struct topo_endpoint *ep = &seg->members[m];
	const char *node = t->nodes[ep->node].name;
	char marker[PATH_MAX];
	marker_path(marker, sizeof(marker), t->sim);
	/* before the first radio: a `down` after a killed `up` knows to look */
	int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(err, errno, "create %s", marker);
	close(fd);
	uint8_t mac[6];
	ident_mac(t->sim, node, ep->ifname, mac);
	int r = sim_kernel->wifi_radio_create(sw_ns, node_ns, mac, ep->ifname,
					      seg->wifi.mode == TOPO_WIFI_IBSS, err);
	if (r < 0)
		return error_prefix(err, "wifi segment %s: member %s:%s", seg->name, node,
				    ep->ifname);
	return 0;
}

void sim_wifi_teardown(const char *sim, char **nodes, unsigned n)
{
	char path[PATH_MAX];
	marker_path(path, sizeof(path), sim);
	if (access(path, F_OK) < 0)
		return;
	struct error ignored;
	for (unsigned i = 0; i <= n; i++) {
		/* the nodes' namespaces, then the switch's (a radio not moved yet) */
		if (state_netns_path(path, sizeof(path), sim, i < n ? nodes[i] : NULL) < 0)
			continue;
		cleanup_close int ns = sim_kernel->netns_open(path, &ignored);
		struct error e;
		if (ns >= 0 && sim_kernel->wifi_radios_delete(ns, &e) < 0)
			fprintf(stderr, "netsim: warning: %s (the kernel deletes them with the "
				"namespace)\n", e.msg);
	}
	marker_path(path, sizeof(path), sim);
	unlink(path);
}

typedef int (*hwsim_fn)(struct hwsim *h, void *ctx, struct error *err);

/* Run fn(h, ctx) with an hwsim socket inside the namespace ns. */
static int in_ns(int ns, hwsim_fn fn, void *ctx, struct error *err)
{
	int saved = -1;
	int r = netns_enter(ns, &saved, err);
	if (r < 0)
		return r;
	struct hwsim *h = NULL;
	r = hwsim_open(&h, err);
	if (r == 0)
		r = fn(h, ctx, err);
	hwsim_close(h);
	struct error leave_err;
	if (netns_leave(&saved, &leave_err) < 0 && r == 0) {
		*err = leave_err;
		r = -leave_err.errnum;
	}
	return r;
}

/* The same inside NODE's namespace; its fd into *ns_out when asked (and all went well). */
static int in_node(const char *sim, const char *node, hwsim_fn fn, void *ctx, int *ns_out,
		   struct error *err)
{
	char path[PATH_MAX];
	if (state_netns_path(path, sizeof(path), sim, node) < 0)
		return error_setmsg(err, ENAMETOOLONG, "node %s: namespace path", node);
	int ns = netns_open(path, err);
	if (ns < 0)
		return ns;
	int r = in_ns(ns, fn, ctx, err);
	if (ns_out && r == 0)
		*ns_out = ns;
	else
		close(ns);
	return r;
}

struct stations_ctx {
	const char *ifname;
	struct hwsim_station **out;
	unsigned *count;
};

static int stations(struct hwsim *h, void *ctx, struct error *err)
{
	struct stations_ctx *c = ctx;
	return hwsim_stations(h, c->ifname, c->out, c->count, err);
}

int sim_wifi_stations(const char *sim, const char *node, const char *ifname,
		      struct hwsim_station **out, unsigned *count, struct error *err)
{
	*out = NULL;
	*count = 0;
	struct stations_ctx c = { .ifname = ifname, .out = out, .count = count };
	int r = in_node(sim, node, stations, &c, NULL, err);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*count = 0;
		return error_prefix(err, "node %s", node);
	}
	return 0;
}

struct monitor_ctx {
	const char *ifname, *mon;
};

static int monitor_add(struct hwsim *h, void *ctx, struct error *err)
{
	struct monitor_ctx *c = ctx;
	uint32_t wiphy;
	int r = hwsim_interface_wiphy(h, c->ifname, &wiphy, err);
	return r < 0 ? r : hwsim_interface_new(h, wiphy, c->mon, HWSIM_IF_MONITOR, err);
}

static int monitor_del(struct hwsim *h, void *ctx, struct error *err)
{
	return hwsim_interface_del(h, ((struct monitor_ctx *)ctx)->mon, err);
}

int sim_wifi_monitor_add(const char *sim, const char *node, const char *ifname, char *mon,
			 struct error *err)
{
	snprintf(mon, IFNAMSIZ, "%.12smon", ifname);
	struct monitor_ctx c = { .ifname = ifname, .mon = mon };
	int ns = -1;
	int r = in_node(sim, node, monitor_add, &c, &ns, err);
	if (r < 0)
		return r;
	r = net_link_set_up(ns, mon, 1, err);
	close(ns);
	if (r < 0)
		sim_wifi_monitor_del(sim, node, mon);
	return r;
}

void sim_wifi_monitor_del(const char *sim, const char *node, const char *mon)
{
	struct monitor_ctx c = { .mon = mon };
	struct error ignored;
	in_node(sim, node, monitor_del, &c, NULL, &ignored);
}

/* ---- the real kernel ops ---- */

int sim_wifi_check(struct error *err)
{
	struct hwsim *h = NULL;
	int r = hwsim_open(&h, err);
	hwsim_close(h);
	return r;
}

struct radio_ctx {
	const uint8_t *mac;
	const char *ifname;
	bool ibss;
	int node_ns;
	uint32_t wiphy;
};

static int radio_make(struct hwsim *h, void *ctx, struct error *err)
{
	struct radio_ctx *c = ctx;
	char name[HWSIM_NAME_MAX];
	int r = hwsim_radio_new(h, c->mac, &c->wiphy, name, err);
	/* a radio that cannot move dies with the switch namespace, and
	 * sim_wifi_teardown deletes it from there before that */
	return r < 0 ? r : hwsim_wiphy_to_netns(h, c->wiphy, c->node_ns, err);
}

static int radio_interface(struct hwsim *h, void *ctx, struct error *err)
{
	struct radio_ctx *c = ctx;
	return hwsim_interface_new(h, c->wiphy, c->ifname, c->ibss ? HWSIM_IF_IBSS : HWSIM_IF_MESH,
				   err);
}

int sim_wifi_radio_create(int sw_ns, int node_ns, const uint8_t mac[6], const char *ifname,
			  bool ibss, struct error *err)
{
	struct radio_ctx c = { .mac = mac, .ifname = ifname, .ibss = ibss, .node_ns = node_ns };
	int r = in_ns(sw_ns, radio_make, &c, err);
	return r < 0 ? r : in_ns(node_ns, radio_interface, &c, err);
}

static int radios_delete(struct hwsim *h, void *ctx, struct error *err)
{
	(void)ctx;
	unsigned deleted;
	return hwsim_radios_delete_all(h, &deleted, err);
}

int sim_wifi_radios_delete(int ns, struct error *err)
{
	int r = in_ns(ns, radios_delete, NULL, err);
	return r == -ENOENT ? 0 : r; /* no hwsim in this kernel: no radios */
}
