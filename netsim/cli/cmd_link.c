/* netsim link: take links and segments down and up, change their quality at
 * run time (docs/links.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "net/shape.h"
#include "sim/link_state.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "topo/quality.h"
#include "topo/topo.h"

enum action { ACTION_SHOW, ACTION_UP, ACTION_DOWN, ACTION_SET, ACTION_CLEAR };

static int parse_action(const char *word)
{
	static const char *const names[] = {"show", "up", "down", "set", "clear"};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(word, names[i]) == 0)
			return (int)i;
	return -1;
}

/* One veth end the command touches. */
struct end {
	char netns[PATH_MAX];
	char ifname[IFNAMSIZ];
	bool shaped;           /* a node's end (links: both; segments: not the bridge port):
				* carries the quality */
};

/* What the operands named. */
struct target {
	char label[128];       /* for messages: "a:eth0 -- b:eth0", "segment air0" */
	char state_name[64];   /* shape_link_name / shape_segment_name; "" for one member */
	const struct topo_quality *topology_quality;
	struct end ends[2 * 256];
	unsigned nends;
};

static int add_end(struct target *tg, const char *sim, const char *node, const char *ifname,
		   bool shaped, struct error *err)
{
	if (tg->nends >= sizeof(tg->ends) / sizeof(tg->ends[0]))
		return error_setmsg(err, E2BIG, "%s: too many members", tg->label);
	struct end *e = &tg->ends[tg->nends++];
	state_netns_path(e->netns, sizeof(e->netns), sim, node);
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	e->shaped = shaped;
	return 0;
}

static int find_segment(const struct topo *t, const char *name)
{
	for (unsigned s = 0; s < t->nsegments; s++)
		if (strcmp(t->segments[s].name, name) == 0)
			return (int)s;
	return -1;
}

/* "NODE" or "NODE:IF" → node index and the interface (or "" for any). */
static int split_endpoint(const struct topo *t, const char *word, int *node, char *ifname,
			  struct error *err)
{
	char name[TOPO_NAME_MAX + 1];
	int r = topo_split_endpoint(word, 0, name, ifname, err);
	if (r < 0)
		return r;
	*node = topo_find_node(t, name);
	if (*node < 0)
		return error_setmsg(err, ENOENT, "sim %s has no node %s", t->sim, name);
	return 0;
}

static bool endpoint_matches(const struct topo_endpoint *ep, int node, const char *ifname)
{
	return (int)ep->node == node && (!ifname[0] || strcmp(ep->ifname, ifname) == 0);
}

static int resolve_link(const struct topo *t, const char *w1, const char *w2,
			struct target *tg, struct error *err)
{
	int n1, n2;
	char if1[IFNAMSIZ], if2[IFNAMSIZ];
	if (split_endpoint(t, w1, &n1, if1, err) < 0 || split_endpoint(t, w2, &n2, if2, err) < 0)
		return -err->errnum;
	int found = -1;
	unsigned count = 0;
	char candidates[512] = "";
	for (unsigned l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];
		bool forward = endpoint_matches(&lk->a, n1, if1) && endpoint_matches(&lk->b, n2, if2);
		bool backward = endpoint_matches(&lk->b, n1, if1) && endpoint_matches(&lk->a, n2, if2);
		if (!forward && !backward)
			continue;
		if (count++ == 0)
			found = (int)l;
		size_t used = strlen(candidates);
		snprintf(candidates + used, sizeof(candidates) - used, "%s%s:%s %s:%s",
			 used ? ", " : "", t->nodes[lk->a.node].name, lk->a.ifname,
			 t->nodes[lk->b.node].name, lk->b.ifname);
	}
	if (count == 0)
		return error_setmsg(err, ENOENT, "%s and %s are not linked in sim %s", w1, w2,
				    t->sim);
	if (count > 1)
		return error_setmsg(err, EINVAL,
				    "%s and %s have %u parallel links (%s): pick one as NODE:IF NODE:IF",
				    w1, w2, count, candidates);
	const struct topo_link *lk = &t->links[found];
	const char *na = t->nodes[lk->a.node].name, *nb = t->nodes[lk->b.node].name;
	snprintf(tg->label, sizeof(tg->label), "%s:%s -- %s:%s", na, lk->a.ifname, nb,
		 lk->b.ifname);
	shape_link_name(t, (unsigned)found, tg->state_name, sizeof(tg->state_name));
	tg->topology_quality = &lk->quality;
	if (add_end(tg, t->sim, na, lk->a.ifname, true, err) < 0 ||
	    add_end(tg, t->sim, nb, lk->b.ifname, true, err) < 0)
		return -err->errnum;
	return 0;
}

/* A whole segment (member < 0) or one member of it. */
static int resolve_segment(const struct topo *t, int s, const char *member_word,
			   struct target *tg, struct error *err)
{
	const struct topo_segment *seg = &t->segments[s];
	int member_node = -1;
	char member_if[IFNAMSIZ] = "";
	if (member_word && split_endpoint(t, member_word, &member_node, member_if, err) < 0)
		return -err->errnum;
	char switch_ns[PATH_MAX];
	state_netns_path(switch_ns, sizeof(switch_ns), t->sim, NULL);
	for (unsigned m = 0; m < seg->nmembers; m++) {
		const struct topo_endpoint *ep = &seg->members[m];
		if (member_word && !endpoint_matches(ep, member_node, member_if))
			continue;
		int r = add_end(tg, t->sim, t->nodes[ep->node].name, ep->ifname, true, err);
		if (r < 0)
			return r;
		/* The bridge side too, so the member is cut on both sides for `down`. */
		struct end *e = &tg->ends[tg->nends];
		r = add_end(tg, t->sim, "", "", false, err);
		if (r < 0)
			return r;
		snprintf(e->netns, sizeof(e->netns), "%s", switch_ns);
		sim_segment_port((unsigned)s, m, e->ifname, sizeof(e->ifname));
		if (member_word) {
			snprintf(tg->label, sizeof(tg->label), "segment %s member %s:%s", seg->name,
				 t->nodes[ep->node].name, ep->ifname);
			return 0;
		}
	}
	if (member_word)
		return error_setmsg(err, ENOENT, "%s is not a member of segment %s", member_word,
				    seg->name);
	snprintf(tg->label, sizeof(tg->label), "segment %s", seg->name);
	shape_segment_name(t, (unsigned)s, tg->state_name, sizeof(tg->state_name));
	tg->topology_quality = &seg->quality;
	return 0;
}

static int set_admin(const struct target *tg, bool up, struct error *err)
{
	/* Down: both ends, so neither side keeps a carrier.  Up: both again. */
	for (unsigned i = 0; i < tg->nends; i++) {
		const struct end *e = &tg->ends[i];
		cleanup_close int fd = netns_open(e->netns, err);
		if (fd < 0)
			return fd;
		int r = net_link_set_up(fd, e->ifname, up, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_quality(const struct target *tg, const struct topo_quality *q,
			 struct error *err)
{
	for (unsigned i = 0; i < tg->nends; i++) {
		const struct end *e = &tg->ends[i];
		if (!e->shaped)
			continue;
		cleanup_close int fd = netns_open(e->netns, err);
		if (fd < 0)
			return fd;
		int r = shape_apply(fd, e->ifname, q, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Re-read a quality through the grammar: a merge or a clear can leave what a
 * file could not say (jitter= without delay=), and that is refused the same way. */
static int revalidate(const struct topo_quality *q, struct topo_quality *out, struct error *err)
{
	char text[512];
	topo_format_quality(q, text, sizeof(text));
	return topo_parse_quality(text, 0, out, err);
}

static int change_quality(const char *sim, struct target *tg, enum action action,
			  char *const words[], unsigned nwords, struct error *err)
{
	struct topo_quality old, wanted;
	int r = link_state_load(sim, tg->state_name, tg->topology_quality, &old, err);
	if (r < 0)
		return r;
	wanted = old;
	if (action == ACTION_SET) {
		struct topo_quality change = {0};
		if (nwords == 0)
			return error_setmsg(err, EINVAL, "set needs ATTR=VALUE... (such as rate=4mbit)");
		r = topo_parse_quality_argv(words, nwords, TOPO_QUALITY_CHANGE, &change, err);
		if (r < 0)
			return r;
		topo_merge_quality(&wanted, &change);
	} else {
		unsigned bits = nwords ? 0 : ~0u;
		for (unsigned i = 0; i < nwords; i++) {
			unsigned bit = topo_quality_bit(words[i]);
			if (!bit)
				return error_setmsg(err, EINVAL,
						    "clear: unknown attribute `%s` (valid: "
						    TOPO_QUALITY_ATTRS_VALID ")",
						    words[i]);
			bits |= bit;
		}
		topo_clear_quality(&wanted, bits);
	}
	struct topo_quality checked;
	r = revalidate(&wanted, &checked, err);
	if (r == 0)
		r = shape_check(&checked, err);  /* before touching anything */
	if (r < 0)
		return r;
	r = apply_quality(tg, &checked, err);
	if (r < 0) {
		struct error ignored;
		apply_quality(tg, &old, &ignored);  /* best effort: as it was */
		return r;
	}
	r = link_state_save(sim, tg->state_name, &checked, err);
	if (r < 0)
		return r;
	char text[512];
	topo_format_quality(&checked, text, sizeof(text));
	printf("%s: %s\n", tg->label, text[0] ? text : "no shaping");
	return 0;
}

static const char *end_state(const struct end *e)
{
	struct error err;
	cleanup_close int fd = netns_open(e->netns, &err);
	struct net_link_state ls;
	if (fd < 0 || net_link_query(fd, e->ifname, &ls, &err) < 0)
		return "missing";
	return (ls.flags & IFF_UP) ? "up" : "down";
}

static int show(const char *sim, const struct target *tg, struct error *err)
{
	const char *state = NULL;
	for (unsigned i = 0; i < tg->nends; i++) {
		const char *s = end_state(&tg->ends[i]);
		state = !state || strcmp(state, s) == 0 ? s : "partial";
	}
	char text[512] = "";
	if (tg->state_name[0]) {
		struct topo_quality q;
		int r = link_state_load(sim, tg->state_name, tg->topology_quality, &q, err);
		if (r < 0)
			return r;
		topo_format_quality(&q, text, sizeof(text));
	}
	printf("%s: %s%s%s\n", tg->label, state ? state : "missing", text[0] ? "  " : "",
	       text[0] ? text : (tg->state_name[0] ? "  no shaping" : ""));
	return 0;
}

static int cmd_link(int argc, char **argv, struct error *err)
{
	const char *given;
	int rc = parse_sim_options(argc, argv, &given, err);
	if (rc >= 0)
		return rc;
	char **ops = argv + optind;
	int nops = argc - optind;
	if (nops < 1)
		return verb_usage(err, "expects N1 N2 or SEGMENT, then up, down, set or clear");
	if (require_root(err))
		return EXIT_FAIL;
	char sim[TOPO_SIM_MAX + 1];
	struct topo t;
	if (sim_pick(given, sim, sizeof(sim), err) < 0 || sim_topology(sim, &t, err) < 0)
		return EXIT_FAIL;
	/* The action is the first word after one operand (a segment) or two
	 * (two link ends, or a segment and a member); none means show. */
	int nargs, action;
	if (nops >= 2 && parse_action(ops[1]) >= 0 && find_segment(&t, ops[0]) >= 0)
		nargs = 1;
	else if (nops >= 3 && parse_action(ops[2]) >= 0)
		nargs = 2;
	else if (nops >= 2 && parse_action(ops[1]) >= 0)
		nargs = 1;
	else if (nops <= 2)
		nargs = nops;
	else {
		topo_free(&t);
		return verb_usage(err, "expected up, down, set or clear after `%s %s`", ops[0], ops[1]);
	}
	action = nargs < nops ? parse_action(ops[nargs]) : ACTION_SHOW;
	char **words = ops + nargs + (nargs < nops);
	unsigned nwords = (unsigned)(nops - nargs - (nargs < nops));
	if ((action == ACTION_UP || action == ACTION_DOWN || action == ACTION_SHOW) && nwords) {
		topo_free(&t);
		return verb_usage(err, "%s takes nothing after it (got `%s`)", ops[nargs], words[0]);
	}

	cleanup_free struct target *tg = calloc(1, sizeof(*tg));
	int r = tg ? 0 : error_set(err, ENOMEM, "link");
	int s = find_segment(&t, ops[0]);
	if (r < 0) {
		/* reported below */
	} else if (nargs == 1) {
		if (s < 0 && topo_find_node(&t, ops[0]) >= 0)
			r = error_setmsg(err, EINVAL,
					 "%s is a node: a link is named by both of its nodes (N1 N2)",
					 ops[0]);
		else if (s < 0)
			r = error_setmsg(err, ENOENT, "sim %s has no segment %s", sim, ops[0]);
		else
			r = resolve_segment(&t, s, NULL, tg, err);
	} else if (s >= 0 && topo_find_node(&t, ops[0]) < 0) {
		r = resolve_segment(&t, s, ops[1], tg, err);
	} else {
		r = resolve_link(&t, ops[0], ops[1], tg, err);
	}
	if (r == 0 && s >= 0 && topo_segment_on_air(&t.segments[s]) &&
	    (action == ACTION_SET || action == ACTION_CLEAR))
		r = error_setmsg(err, EINVAL,
				 "%s is a radio segment: its quality is the medium's, per pair: "
				 "netsim air -s %s %s pair A B loss=.. rate=.. delay=..",
				 t.segments[s].name, sim, t.segments[s].name);
	else if (r == 0 && !tg->state_name[0] && (action == ACTION_SET || action == ACTION_CLEAR))
		r = error_setmsg(err, EINVAL,
				 "quality belongs to the whole segment: netsim link %s %s ...",
				 t.segments[s].name, ops[nargs]);
	cleanup_close int lock_fd = -1;
	if (r == 0 && action != ACTION_SHOW)
		r = state_lock(sim, &lock_fd, err);
	if (r == 0) {
		switch (action) {
		case ACTION_SHOW: r = show(sim, tg, err); break;
		case ACTION_UP:
		case ACTION_DOWN:
			r = set_admin(tg, action == ACTION_UP, err);
			if (r == 0)
				printf("%s: %s\n", tg->label, action == ACTION_UP ? "up" : "down");
			break;
		default: r = change_quality(sim, tg, (enum action)action, words, nwords, err); break;
		}
		if (r < 0)
			error_prefix(err, "%s", tg->label);
	}
	topo_free(&t);
	if (r < 0) {
		error_prefix(err, "link");
		return EXIT_FAIL;
	}
	return 0;
}

const struct verb verb_link = {"link",
		"link [-s SIM] (N1[:IF] N2[:IF] | SEGMENT [NODE]) [up|down|set ATTR=VALUE...|clear [ATTR...]]",
		"Change a running sim's links.  A link is named by its two nodes (N1:IF N2:IF\n"
		"picks one of parallel links), a segment by its name; SEGMENT NODE is one\n"
		"member of a segment (up and down only).\n\n"
		"  (nothing)        show the admin state and quality\n"
		"  down             take both veth ends administratively down: the link is cut\n"
		"                   (routing daemons see the carrier go; a segment: every member)\n"
		"  up               bring both ends up again\n"
		"  set ATTR=VALUE.. change the quality; attributes not given stay as they are.\n"
		"                   rate= (tbf), delay= jitter= loss= duplicate= reorder= (netem,\n"
		"                   needs sch_netem in the kernel); units as in topology files\n"
		"  clear [ATTR...]  remove the given attributes, or all shaping\n\n"
		"Both directions change together.  Examples:\n"
		"  netsim link n1 n2 down\n"
		"  netsim link n1 n2 set rate=4mbit\n"
		"  netsim link n1 n2 clear rate\n"
		"  netsim link air0 n3 down\n\n"
		"  -s, --sim SIM    the sim, when more than one is up\n",
		.in_vm = VERB_IN_VM,
	.run = cmd_link};
