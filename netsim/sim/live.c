/* The status JSON of a sim, shared by `netsim status --json` and `netsim web`. */
#include "sim/radio.h"
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
#include "sim/link_state.h"
#include "sim/node.h"
#include "sim/qemu_node.h"
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

static void json_limit(FILE *f, uint64_t value)
{
	if (value == CGROUP_UNLIMITED)
		fputs("null", f);
	else
		fprintf(f, "%llu", (unsigned long long)value);
}

/* ,"memory":{"current":..,"max":..,"oom_kills":..},"pids":{..},"cpu_usec":.. —
 * what the node's cgroup uses; absent fields are unknown (stopped, VM). */
static void write_usage(FILE *f, const char *sim, const char *node)
{
	struct cgroup_usage u;
	struct error err;
	if (node_usage(sim, node, &u, &err) < 0)
		return;
	if (u.have & CGROUP_HAVE_MEMORY) {
		fprintf(f, ",\"memory\":{\"current\":%llu,\"max\":", (unsigned long long)u.memory_current);
		json_limit(f, u.memory_max);
		fprintf(f, ",\"oom_kills\":%llu}", (unsigned long long)u.oom_kills);
	}
	if (u.have & CGROUP_HAVE_PIDS) {
		fprintf(f, ",\"pids\":{\"current\":%llu,\"max\":", (unsigned long long)u.pids_current);
		json_limit(f, u.pids_max);
		fputc('}', f);
	}
	if (u.have & CGROUP_HAVE_CPU)
		fprintf(f, ",\"cpu_usec\":%llu", (unsigned long long)u.cpu_usec);
}

/* ,"quality":{"rate":"4mbit","delay":"10ms"} — values in topology units; {} unshaped. */
static void write_quality(FILE *f, const char *sim, const struct topo *t, bool segment,
			  unsigned index)
{
	char text[512];
	link_state_text(sim, t, segment, index, text, sizeof(text));
	fprintf(f, ",\"quality\":{");
	char *save = NULL;
	bool first = true;
	for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');
		if (!eq)
			continue;
		*eq = '\0';
		fprintf(f, "%s", first ? "" : ",");
		json_string(f, w);
		fputc(':', f);
		json_string(f, eq + 1);
		first = false;
	}
	fputc('}', f);
}

int live_write_json(FILE *f, const char *sim, struct error *err)
{
	struct state st;
	int r = state_load(sim, &st, err);
	if (r < 0)
		return r;
	struct topo t;
	struct error topo_err;
	bool have_topo = sim_topology(sim, &t, &topo_err) == 0;
	fprintf(f, "{\"sim\":");
	json_string(f, st.sim);
	fprintf(f, ",\"topology\":");
	json_string(f, st.topology);
	fprintf(f, ",\"created\":%lld,\"nodes\":[", st.created);
	for (unsigned i = 0; i < st.nnodes; i++) {
		const struct state_node *n = &st.nodes[i];
		pid_t pid = state_pidfile_read(sim, n->name);
		const char *state = pid > 0 ? "running" : "stopped";
		fprintf(f, "%s{\"name\":", i ? "," : "");
		json_string(f, n->name);
		fprintf(f, ",\"state\":\"%s\",\"pid\":%d,\"addr\":", state, pid > 0 ? pid : 0);
		json_string(f, n->addr4);
		fprintf(f, ",\"addr6\":");
		json_string(f, n->addr6);
		fprintf(f, ",\"rootfs\":");
		json_string(f, n->rootfs);
		char accel[16];
		fprintf(f, ",\"backend\":\"%s\"", live_node_backend(sim, n->name, accel,
									sizeof(accel)));
		if (accel[0]) {
			fprintf(f, ",\"accel\":");
			json_string(f, accel);
		}
		char arch[24], arch_how[256];
		arch_record_read(sim, n->name, arch, sizeof(arch), arch_how, sizeof(arch_how));
		fprintf(f, ",\"arch\":");
		json_string(f, arch[0] == '-' && accel[0] ? "x86_64" : arch);
		if (arch[0] != '-') {
			fprintf(f, ",\"arch_detail\":");
			json_string(f, arch_how);
		}
		write_usage(f, sim, n->name);
		fprintf(f, "}");
	}
	fprintf(f, "],\"links\":[");
	for (unsigned l = 0; have_topo && l < t.nlinks; l++) {
		const struct topo_link *lk = &t.links[l];
		const char *na = t.nodes[lk->a.node].name, *nb = t.nodes[lk->b.node].name;
		const char *sa = live_iface_state(sim, na, lk->a.ifname);
		const char *sb = live_iface_state(sim, nb, lk->b.ifname);
		const char *state = strcmp(sa, sb) == 0 ? sa : "partial";
		fprintf(f, "%s{\"a\":\"%s:%s\",\"b\":\"%s:%s\",\"state\":\"%s\"", l ? "," : "",
			na, lk->a.ifname, nb, lk->b.ifname, state);
		write_quality(f, sim, &t, false, l);
		fprintf(f, "}");
	}
	fprintf(f, "],\"segments\":[");
	for (unsigned s = 0; have_topo && s < t.nsegments; s++) {
		const struct topo_segment *seg = &t.segments[s];
		fprintf(f, "%s{\"name\":\"%s\",\"medium\":\"%s\"", s ? "," : "", seg->name,
			seg->medium == TOPO_MEDIUM_RADIO ? "radio" : "bridge");
		write_quality(f, sim, &t, true, s);
		fprintf(f, ",\"members\":[");
		for (unsigned m = 0; m < seg->nmembers; m++) {
			const char *node = t.nodes[seg->members[m].node].name;
			const char *ifn = seg->members[m].ifname;
			fprintf(f, "%s{\"member\":\"%s:%s\",\"state\":\"%s\"}", m ? "," : "", node,
				ifn, live_iface_state(sim, node, ifn));
		}
		fprintf(f, "]}");
	}
	fprintf(f, "]");
	pid_t medium_pid = 0;
	int medium = sim_medium_state(sim, &medium_pid);
	if (medium != 0)
		fprintf(f, ",\"medium\":{\"state\":\"%s\",\"pid\":%d}",
			medium > 0 ? "running" : "dead", medium > 0 ? (int)medium_pid : 0);
	fprintf(f, "}\n");
	if (have_topo)
		topo_free(&t);
	state_free(&st);
	return 0;
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
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
