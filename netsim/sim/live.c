/* The status JSON of a sim, shared by `netsim status --json` and `netsim web`. */
#include "sim/live.h"

#include "sim/arch.h"

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/shape.h"
#include "sim/fidelity.h"
#include "sim/link_state.h"
#include "sim/neigh_limits.h"
#include "sim/node.h"
#include "sim/qemu_node.h"
#include "sim/radio.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "topo/topo.h"

const char *live_iface_state(const char *sim, const char *node, const char *ifname)
{
	char path[PATH_MAX];
	state_netns_path(path, sizeof(path), sim, node);
	struct error err;
	cleanup_close int fd = netns_open(path, &err);
	if (fd < 0)
		return "missing";
	struct net_link_state ls;
	if (net_link_query(fd, ifname, &ls, &err) < 0)
		return "missing";
	return (ls.flags & IFF_UP) ? "up" : "down";
}

const char *live_node_backend(const char *sim, const char *node, char *accel, size_t len)
{
	struct qemu_node_setup setup;
	struct error err;
	accel[0] = '\0';
	if (!qemu_node_is(sim, node))
		return "container";
	if (qemu_node_setup_read(sim, node, &setup, &err) == 0)
		snprintf(accel, len, "%s", setup.accel);
	return "qemu";
}

static void format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	if (bytes == CGROUP_UNLIMITED) {
		snprintf(buf, len, "max");
		return;
	}
	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return;
	}
	double v = (double)bytes / 1024;
	unsigned u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 10 && v != (double)(uint64_t)v ? "%.1f%c" : "%.0f%c", v, units[u]);
}

void live_usage_text(const struct cgroup_usage *u, struct live_usage_text *out)
{
	snprintf(out->memory, sizeof(out->memory), "-");
	snprintf(out->pids, sizeof(out->pids), "-");
	snprintf(out->cpu, sizeof(out->cpu), "-");
	snprintf(out->oom, sizeof(out->oom), "-");
	if (u->have & CGROUP_HAVE_MEMORY) {
		char cur[16], max[16];
		format_bytes(u->memory_current, cur, sizeof(cur));
		format_bytes(u->memory_max, max, sizeof(max));
		snprintf(out->memory, sizeof(out->memory), "%s/%s", cur, max);
		snprintf(out->oom, sizeof(out->oom), "%llu", (unsigned long long)u->oom_kills);
	}
	if (u->have & CGROUP_HAVE_PIDS) {
		char max[24];
		cgroup_format_limit(u->pids_max, max, sizeof(max));
		snprintf(out->pids, sizeof(out->pids), "%llu/%s", (unsigned long long)u->pids_current,
			 max);
	}
	if (u->have & CGROUP_HAVE_CPU)
		snprintf(out->cpu, sizeof(out->cpu), "%.2fs", (double)u->cpu_usec / 1e6);
}

static struct json_object *json_limit(uint64_t value)
{
	return value == CGROUP_UNLIMITED ? NULL : json_object_new_uint64(value);  /* NULL: null */
}

/* "memory":{"current":..,"max":..,"oom_kills":..},"pids":{..},"cpu_usec":.. —
 * what the node's cgroup uses; absent fields are unknown (stopped, VM). */
static void add_usage(struct json_object *o, const char *sim, const char *node)
{
	struct cgroup_usage u;
	struct error err;
	if (node_usage(sim, node, &u, &err) < 0)
		return;
	if (u.have & CGROUP_HAVE_MEMORY) {
		struct json_object *m = json_object_new_object();
		json_object_object_add(m, "current", json_object_new_uint64(u.memory_current));
		json_object_object_add(m, "max", json_limit(u.memory_max));
		json_object_object_add(m, "oom_kills", json_object_new_uint64(u.oom_kills));
		json_object_object_add(o, "memory", m);
	}
	if (u.have & CGROUP_HAVE_PIDS) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "current", json_object_new_uint64(u.pids_current));
		json_object_object_add(p, "max", json_limit(u.pids_max));
		json_object_object_add(o, "pids", p);
	}
	if (u.have & CGROUP_HAVE_CPU)
		json_object_object_add(o, "cpu_usec", json_object_new_uint64(u.cpu_usec));
}

/* "quality":{"rate":"4mbit","delay":"10ms"} — values in topology units; {} unshaped. */
static void add_quality(struct json_object *o, const char *sim, const struct topo *t,
			bool segment, unsigned index)
{
	char text[512];
	link_state_text(sim, t, segment, index, text, sizeof(text));
	struct json_object *q = json_object_new_object();
	char *save = NULL;
	for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');
		if (!eq)
			continue;
		*eq = '\0';
		json_object_object_add(q, w, json_object_new_string(eq + 1));
	}
	json_object_object_add(o, "quality", q);
}

static void add_string(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value));
}

/* "NODE:IF" */
static struct json_object *end_name(const char *node, const char *ifname)
{
	char text[TOPO_NAME_MAX + IFNAMSIZ + 2];
	snprintf(text, sizeof(text), "%s:%s", node, ifname);
	return json_object_new_string(text);
}

static struct json_object *node_json(const char *sim, const struct state_node *n)
{
	pid_t pid = state_pidfile_read(sim, n->name);
	struct json_object *o = json_object_new_object();
	add_string(o, "name", n->name);
	add_string(o, "state", pid > 0 ? "running" : "stopped");
	json_object_object_add(o, "pid", json_object_new_int(pid > 0 ? pid : 0));
	add_string(o, "addr", n->addr4);
	add_string(o, "addr6", n->addr6);
	add_string(o, "rootfs", n->rootfs);
	char accel[16];
	add_string(o, "backend", live_node_backend(sim, n->name, accel, sizeof(accel)));
	if (accel[0])
		add_string(o, "accel", accel);
	char arch[24], arch_how[256];
	arch_record_read(sim, n->name, arch, sizeof(arch), arch_how, sizeof(arch_how));
	add_string(o, "arch", arch[0] == '-' && accel[0] ? "x86_64" : arch);
	if (arch[0] != '-')
		add_string(o, "arch_detail", arch_how);
	add_usage(o, sim, n->name);
	return o;
}

/* The host's neighbour tables (neigh_limits.h): one object per family the
 * kernel has, null when they cannot be read. */
static struct json_object *neigh_json(const char *sim)
{
	struct neigh_table_status nt[NEIGH_FAMILIES];
	struct error err = {0};
	if (neigh_limits_status(sim, nt, &err) < 0)
		return NULL;
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < NEIGH_FAMILIES; i++) {
		if (!nt[i].present)
			continue;
		struct json_object *f = json_object_new_object();
		add_string(f, "family", neigh_family_name(i));
		json_object_object_add(f, "entries", json_object_new_uint64(nt[i].entries));
		json_object_object_add(f, "limit", json_object_new_uint64(nt[i].thresh3));
		json_object_object_add(f, "raised_from",
				       nt[i].orig3 ? json_object_new_uint64(nt[i].orig3) : NULL);
		json_object_object_add(f, "need", json_object_new_uint64(nt[i].need));
		json_object_object_add(f, "overflows_since_up",
				       json_object_new_uint64(nt[i].fulls_since_up));
		json_object_array_add(a, f);
	}
	return a;
}

struct json_object *live_status_json(const char *sim, struct error *err)
{
	struct state st;
	if (state_load(sim, &st, err) < 0)
		return NULL;
	struct topo t;
	struct error topo_err;
	bool have_topo = sim_topology(sim, &t, &topo_err) == 0;
	struct json_object *o = json_object_new_object();
	add_string(o, "sim", st.sim);
	add_string(o, "topology", st.topology);
	json_object_object_add(o, "created", json_object_new_int64(st.created));
	struct json_object *nodes = json_object_new_array();
	for (unsigned i = 0; i < st.nnodes; i++)
		json_object_array_add(nodes, node_json(sim, &st.nodes[i]));
	json_object_object_add(o, "nodes", nodes);
	struct json_object *links = json_object_new_array();
	for (unsigned l = 0; have_topo && l < t.nlinks; l++) {
		const struct topo_link *lk = &t.links[l];
		const char *na = t.nodes[lk->a.node].name, *nb = t.nodes[lk->b.node].name;
		const char *sa = live_iface_state(sim, na, lk->a.ifname);
		const char *sb = live_iface_state(sim, nb, lk->b.ifname);
		struct json_object *lo = json_object_new_object();
		json_object_object_add(lo, "a", end_name(na, lk->a.ifname));
		json_object_object_add(lo, "b", end_name(nb, lk->b.ifname));
		add_string(lo, "state", strcmp(sa, sb) == 0 ? sa : "partial");
		add_quality(lo, sim, &t, false, l);
		json_object_array_add(links, lo);
	}
	json_object_object_add(o, "links", links);
	struct json_object *segments = json_object_new_array();
	for (unsigned s = 0; have_topo && s < t.nsegments; s++) {
		const struct topo_segment *seg = &t.segments[s];
		struct json_object *so = json_object_new_object();
		add_string(so, "name", seg->name);
		add_string(so, "medium", topo_medium_name(seg->medium));
		add_quality(so, sim, &t, true, s);
		struct json_object *members = json_object_new_array();
		for (unsigned m = 0; m < seg->nmembers; m++) {
			const char *node = t.nodes[seg->members[m].node].name;
			const char *ifn = seg->members[m].ifname;
			struct json_object *mo = json_object_new_object();
			json_object_object_add(mo, "member", end_name(node, ifn));
			add_string(mo, "state", live_iface_state(sim, node, ifn));
			json_object_array_add(members, mo);
		}
		json_object_object_add(so, "members", members);
		json_object_array_add(segments, so);
	}
	json_object_object_add(o, "segments", segments);
	json_object_object_add(o, "neigh", neigh_json(sim));
	struct fidelity fid;
	struct error fid_err = {0};
	json_object_object_add(o, "fidelity",
			       fidelity_sample(sim, FIDELITY_WINDOW_MS, &fid, &fid_err) == 0
				       ? fidelity_json(&fid) : NULL);
	pid_t medium_pid = 0;
	int medium = sim_medium_state(sim, &medium_pid);
	if (medium != 0) {
		struct json_object *mo = json_object_new_object();
		add_string(mo, "state", medium > 0 ? "running" : "dead");
		json_object_object_add(mo, "pid", json_object_new_int(medium > 0 ? (int)medium_pid : 0));
		json_object_object_add(o, "medium", mo);
	}
	if (have_topo)
		topo_free(&t);
	state_free(&st);
	return o;
}

int live_write_json(FILE *f, const char *sim, struct error *err)
{
	struct json_object *o = live_status_json(sim, err);
	if (!o)
		return -(err->errnum ? err->errnum : EINVAL);
	int r = json_out_write(f, o);
	if (r < 0)
		return error_set(err, -r, "status %s", sim);
	return 0;
}

/* ---- the graph's view ------------------------------------------------------- */

static enum graph_iface graph_iface_state(int ns_fd, const char *ifname)
{
	struct error err;
	struct net_link_state ls;
	if (ns_fd < 0 || net_link_query(ns_fd, ifname, &ls, &err) < 0)
		return GRAPH_IF_MISSING;
	return (ls.flags & IFF_UP) ? GRAPH_IF_UP : GRAPH_IF_DOWN;
}

int live_graph_read(const char *sim, const struct topo *t, struct graph_live *live,
		    struct error *err)
{
	int r = 0;
	memset(live, 0, sizeof(*live));
	/* one netns fd per node, opened once: links and segments reuse them */
	cleanup_free int *ns = malloc((t->nnodes ? t->nnodes : 1) * sizeof(*ns));
	live->node_running = calloc(t->nnodes ? t->nnodes : 1, sizeof(*live->node_running));
	live->link = calloc(t->nlinks ? t->nlinks : 1, sizeof(*live->link));
	live->member = calloc(t->nsegments ? t->nsegments : 1, sizeof(*live->member));
	if (!ns || !live->node_running || !live->link || !live->member) {
		graph_live_free(t, live);
		return error_setmsg(err, ENOMEM, "graph %s: out of memory", sim);
	}
	for (unsigned i = 0; i < t->nnodes; i++) {
		char path[PATH_MAX];
		struct error ignored;
		live->node_running[i] = state_pidfile_read(sim, t->nodes[i].name) > 0;
		ns[i] = -1;
		/* a node without its netns simply has every interface missing */
		if (state_netns_path(path, sizeof(path), sim, t->nodes[i].name) == 0)
			ns[i] = netns_open(path, &ignored);
	}
	for (unsigned l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];
		live->link[l][0] = graph_iface_state(ns[lk->a.node], lk->a.ifname);
		live->link[l][1] = graph_iface_state(ns[lk->b.node], lk->b.ifname);
	}
	for (unsigned s = 0; s < t->nsegments; s++) {
		const struct topo_segment *seg = &t->segments[s];
		live->member[s] = calloc(seg->nmembers, sizeof(**live->member));
		if (!live->member[s]) {
			r = error_setmsg(err, ENOMEM, "graph %s: out of memory", sim);
			break;
		}
		for (unsigned m = 0; m < seg->nmembers; m++)
			live->member[s][m] =
				graph_iface_state(ns[seg->members[m].node], seg->members[m].ifname);
	}
	for (unsigned i = 0; i < t->nnodes; i++)
		if (ns[i] >= 0)
			close(ns[i]);
	if (r < 0)
		graph_live_free(t, live);
	return r;
}
