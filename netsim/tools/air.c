/* Client of the medium's control socket (tools/air.h). */
#include "tools/air.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/hwsim.h"
#include "sim/radio.h"
#include "sim/sim.h"
#include "sim/wifi.h"
#include "topo/ident.h"
#include "topo/quality.h"
#include "topo/topo.h"
#include "topo/units.h"

#define AIR_TIMEOUT_MS 5000

/* A one-line request whose reply is "ok" or "error: TEXT". */
static int air_command(const char *sim, const char *request, struct error *err)
{
	char *reply = NULL;
	int r = sim_medium_request(sim, request, AIR_TIMEOUT_MS, &reply, err);
	if (r < 0)
		return r;
	reply[strcspn(reply, "\n")] = '\0';
	if (strcmp(reply, "ok") == 0)
		r = 0;
	else if (strncmp(reply, "error: ", 7) == 0)
		r = error_setmsg(err, EINVAL, "medium: %.200s", reply + 7);
	else
		r = error_setmsg(err, EPROTO, "medium: unexpected reply `%.80s`", reply);
	free(reply);
	return r;
}

int air_matrix(const char *sim, struct json_object **root, struct error *err)
{
	char *reply = NULL;
	*root = NULL;
	int r = sim_medium_request(sim, "matrix", AIR_TIMEOUT_MS, &reply, err);
	if (r < 0)
		return r;
	if (strncmp(reply, "error: ", 7) == 0) {
		reply[strcspn(reply, "\n")] = '\0';
		r = error_setmsg(err, EINVAL, "medium: %.200s", reply + 7);
		free(reply);
		return r;
	}
	*root = json_tokener_parse(reply);
	free(reply);
	struct json_object *segs;
	if (!*root || !json_object_object_get_ex(*root, "segments", &segs) ||
	    !json_object_is_type(segs, json_type_array)) {
		json_object_put(*root);
		*root = NULL;
		return error_setmsg(err, EPROTO, "medium: the matrix is not the JSON expected");
	}
	return 0;
}

struct json_object *air_matrix_segment(struct json_object *root, const char *name)
{
	struct json_object *segs;
	if (!json_object_object_get_ex(root, "segments", &segs))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(segs); i++) {
		struct json_object *s = json_object_array_get_idx(segs, i), *n;
		if (json_object_object_get_ex(s, "name", &n) &&
		    strcmp(json_object_get_string(n), name) == 0)
			return s;
	}
	return NULL;
}

int air_move(const char *sim, const char *node, const double pos[3], uint64_t over_ms,
	     struct error *err)
{
	char request[256];
	snprintf(request, sizeof(request), "move %s %.3f %.3f %.3f %llu", node, pos[0], pos[1],
		 pos[2], (unsigned long long)over_ms);
	int r = air_command(sim, request, err);
	return r < 0 ? error_prefix(err, "move %s", node) : 0;
}

int air_pair(const char *sim, const char *segment, const char *from, const char *to, bool both,
	     char *const words[], size_t nwords, struct error *err)
{
	bool cut = false, clear = false;
	char *attrs[16];
	size_t nattrs = 0;
	for (size_t i = 0; i < nwords; i++) {
		if (strcmp(words[i], "cut") == 0 && !cut)
			cut = true;
		else if (strcmp(words[i], "clear") == 0 && !clear)
			clear = true;
		else if (strchr(words[i], '=') && nattrs < 16)
			attrs[nattrs++] = words[i];
		else
			return error_setmsg(err, EINVAL, "pair: `%.64s`: expected loss=, rate=, "
					    "delay=, cut or clear", words[i]);
	}
	struct topo_quality q = { 0 };
	if (nattrs && topo_parse_quality_argv(attrs, nattrs, 0, &q, err) < 0)
		return error_prefix(err, "pair");
	if (q.set & ~(unsigned)(TOPO_Q_LOSS | TOPO_Q_RATE | TOPO_Q_DELAY))
		return error_setmsg(err, EINVAL, "pair: a pair takes loss=, rate=, delay=, cut and "
				    "clear only");
	if (cut && q.set)
		return error_setmsg(err, EINVAL, "pair: a cut pair carries no frames: give cut or "
				    "quality, not both");
	if (!cut && !clear && !q.set)
		return error_setmsg(err, EINVAL, "pair: give loss=, rate=, delay=, cut or clear");
	char quality[200];
	topo_format_quality(&q, quality, sizeof(quality));
	for (int dir = 0; dir < (both ? 2 : 1); dir++) {
		char request[512];
		snprintf(request, sizeof(request), "pair %s %s %s%s%s%s%s", segment,
			 dir ? to : from, dir ? from : to, clear ? " clear" : "", cut ? " cut" : "",
			 quality[0] ? " " : "", quality);
		int r = air_command(sim, request, err);
		if (r < 0)
			return error_prefix(err, "pair %s %s>%s", segment, dir ? to : from,
					    dir ? from : to);
	}
	return 0;
}

static const char *get_string(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?";
}

static double get_double(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static void print_stations(FILE *f, struct json_object *views);

void air_print_segment(FILE *f, struct json_object *seg)
{
	struct json_object *pairs, *positions, *members;
	char cap[32];
	units_format_rate((uint64_t)get_int(seg, "capacity"), cap, sizeof(cap));
	fprintf(f, "segment %s  capacity %s", get_string(seg, "name"), cap);
	if (json_object_object_get_ex(seg, "members", &members) &&
	    json_object_object_get_ex(seg, "positions", &positions)) {
		fprintf(f, "  positions:");
		for (size_t i = 0; i < json_object_array_length(members); i++) {
			const char *m = json_object_get_string(json_object_array_get_idx(members, i));
			struct json_object *p;
			if (!json_object_object_get_ex(positions, m, &p) ||
			    json_object_array_length(p) < 3)
				continue;
			fprintf(f, " %s=%g,%g,%g", m,
				json_object_get_double(json_object_array_get_idx(p, 0)),
				json_object_get_double(json_object_array_get_idx(p, 1)),
				json_object_get_double(json_object_array_get_idx(p, 2)));
		}
	}
	fputc('\n', f);
	fprintf(f, "%-12s %-12s %-5s %9s %7s %8s %9s %8s %9s %9s %8s %8s %7s %s\n", "FROM", "TO",
		"RANGE", "DIST(m)", "SNR(dB)", "LOSS", "RATE", "DELAY", "OFFERED", "DELIVERED",
		"LOST", "COLLIDED", "QDROP", "SET");
	if (!json_object_object_get_ex(seg, "pairs", &pairs))
		return;
	for (size_t i = 0; i < json_object_array_length(pairs); i++) {
		struct json_object *p = json_object_array_get_idx(pairs, i), *v, *ov;
		bool in_range = json_object_object_get_ex(p, "in_range", &v) &&
				json_object_get_boolean(v);
		char loss[16], rate[32], delay[32], set[64] = "";
		double l = get_double(p, "loss");
		snprintf(loss, sizeof(loss), "%.1f%%", l * 100);
		int64_t rb = get_int(p, "rate");
		if (rb > 0)
			units_format_rate((uint64_t)rb, rate, sizeof(rate));
		else
			snprintf(rate, sizeof(rate), "-");
		units_format_time((uint64_t)get_int(p, "delay_us"), delay, sizeof(delay));
		if (json_object_object_get_ex(p, "overridden", &ov))
			for (size_t k = 0; k < json_object_array_length(ov); k++) {
				size_t used = strlen(set);
				snprintf(set + used, sizeof(set) - used, "%s%s", used ? "," : "",
					 json_object_get_string(json_object_array_get_idx(ov, k)));
			}
		fprintf(f, "%-12s %-12s %-5s %9.1f %7.1f %8s %9s %8s %9lld %9lld %8lld %8lld %7lld %s\n",
			get_string(p, "from"), get_string(p, "to"), in_range ? "yes" : "no",
			get_double(p, "distance"), get_double(p, "snr"), in_range ? loss : "-",
			in_range ? rate : "-", delay, (long long)get_int(p, "offered"),
			(long long)get_int(p, "delivered"), (long long)get_int(p, "lost"),
			(long long)get_int(p, "collided"), (long long)get_int(p, "queue_dropped"),
			set[0] ? set : "-");
	}
	struct json_object *views;
	if (json_object_object_get_ex(seg, "stations", &views))
		print_stations(f, views);
}

static const char *node_of_mac(const struct topo *t, const struct topo_segment *seg,
			       const uint8_t mac[6])
{
	for (unsigned m = 0; m < seg->nmembers; m++) {
		uint8_t own[6];
		const char *node = t->nodes[seg->members[m].node].name;
		ident_mac(t->sim, node, seg->members[m].ifname, own);
		if (memcmp(own, mac, 6) == 0)
			return node;
	}
	return NULL;
}

static struct json_object *station_json(const struct topo *t, const struct topo_segment *seg,
					const struct hwsim_station *s)
{
	struct json_object *o = json_object_new_object();
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1],
		 s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
	const char *node = node_of_mac(t, seg, s->mac);
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "node", node ? json_object_new_string(node) : NULL);
	json_object_object_add(o, "signal", json_object_new_int(s->signal_dbm));
	json_object_object_add(o, "plink", json_object_new_string(hwsim_plink_name(s->plink)));
	json_object_object_add(o, "tx_retries", json_object_new_int64(s->tx_retries));
	json_object_object_add(o, "tx_failed", json_object_new_int64(s->tx_failed));
	json_object_object_add(o, "tx_packets", json_object_new_int64(s->tx_packets));
	json_object_object_add(o, "rx_packets", json_object_new_int64(s->rx_packets));
	json_object_object_add(o, "tx_bitrate", json_object_new_int64((int64_t)s->tx_bitrate_kbps * 1000));
	return o;
}

int air_add_stations(const char *sim, struct json_object *root, struct error *err)
{
	struct topo t;
	int r = sim_topology(sim, &t, err);
	if (r < 0)
		return r;
	for (unsigned s = 0; s < t.nsegments; s++) {
		const struct topo_segment *seg = &t.segments[s];
		struct json_object *o = air_matrix_segment(root, seg->name);
		if (!o || seg->medium != TOPO_MEDIUM_WIFI)
			continue;
		struct json_object *views = json_object_new_array();
		for (unsigned m = 0; m < seg->nmembers; m++) {
			const char *node = t.nodes[seg->members[m].node].name;
			struct json_object *v = json_object_new_object();
			json_object_object_add(v, "node", json_object_new_string(node));
			json_object_object_add(v, "interface",
					       json_object_new_string(seg->members[m].ifname));
			struct hwsim_station *st = NULL;
			unsigned n = 0;
			struct error e;
			if (sim_wifi_stations(sim, node, seg->members[m].ifname, &st, &n, &e) < 0) {
				json_object_object_add(v, "error", json_object_new_string(e.msg));
			} else {
				struct json_object *peers = json_object_new_array();
				for (unsigned k = 0; k < n; k++)
					json_object_array_add(peers, station_json(&t, seg, &st[k]));
				json_object_object_add(v, "peers", peers);
			}
			free(st);
			json_object_array_add(views, v);
		}
		json_object_object_add(o, "stations", views);
	}
	topo_free(&t);
	return 0;
}

/* The stations part of air_print_segment. */
static void print_stations(FILE *f, struct json_object *views)
{
	fprintf(f, "stations (each node's own view, as `iw dev IF station dump`):\n");
	fprintf(f, "%-12s %-8s %-12s %-17s %7s %-8s %9s %10s %9s\n", "NODE", "IF", "PEER", "MAC",
		"SIGNAL", "PLINK", "BITRATE", "TX-RETRIES", "TX-FAILED");
	for (size_t i = 0; i < json_object_array_length(views); i++) {
		struct json_object *v = json_object_array_get_idx(views, i), *peers, *e;
		const char *node = get_string(v, "node"), *ifn = get_string(v, "interface");
		if (json_object_object_get_ex(v, "error", &e)) {
			fprintf(f, "%-12s %-8s (%s)\n", node, ifn, json_object_get_string(e));
			continue;
		}
		if (!json_object_object_get_ex(v, "peers", &peers) ||
		    json_object_array_length(peers) == 0) {
			fprintf(f, "%-12s %-8s (no stations)\n", node, ifn);
			continue;
		}
		for (size_t k = 0; k < json_object_array_length(peers); k++) {
			struct json_object *p = json_object_array_get_idx(peers, k);
			char rate[32] = "-";
			if (get_int(p, "tx_bitrate") > 0)
				units_format_rate((uint64_t)get_int(p, "tx_bitrate"), rate, sizeof(rate));
			const char *peer = get_string(p, "node");
			fprintf(f, "%-12s %-8s %-12s %-17s %4lld dBm %-8s %9s %10lld %9lld\n", node, ifn,
				peer && peer[0] ? peer : "?", get_string(p, "mac"),
				(long long)get_int(p, "signal"), get_string(p, "plink"), rate,
				(long long)get_int(p, "tx_retries"), (long long)get_int(p, "tx_failed"));
		}
	}
}
