/* DOT output of a topology, with the live state of a running sim (live_graph_read). */
#include "topo/graph.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "topo/units.h"

/* ---- live state (read by sim/live.c) ---------------------------------------- */

void graph_live_free(const struct topo *t, struct graph_live *live)
{
	if (live->member)
		for (unsigned s = 0; s < t->nsegments; s++)
			free(live->member[s]);
	free(live->member);
	free(live->link);
	free(live->node_running);
	memset(live, 0, sizeof(*live));
}

/* ---- DOT ------------------------------------------------------------------- */

/* A DOT string literal; a newline in s becomes a centred line break. */
static void dot_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* "rate=54mbit delay=5ms loss=1%": the topology file's own syntax, so the
 * label reads like the line it came from. */
static void quality_label(const struct topo_quality *q, char *buf, size_t len)
{
	char v[32];
	buf[0] = '\0';
#define ADD(bit, key, fmt, value)                                                       \
	if (q->set & (bit)) {                                                           \
		fmt(value, v, sizeof(v));                                               \
		snprintf(buf + strlen(buf), len - strlen(buf), "%s" key "=%s",          \
			 buf[0] ? " " : "", v);                                         \
	}
	ADD(TOPO_Q_RATE, "rate", units_format_rate, q->rate_bps)
	ADD(TOPO_Q_DELAY, "delay", units_format_time, q->delay_us)
	ADD(TOPO_Q_JITTER, "jitter", units_format_time, q->jitter_us)
	ADD(TOPO_Q_LOSS, "loss", units_format_percent, q->loss_ppm)
	ADD(TOPO_Q_DUPLICATE, "duplicate", units_format_percent, q->duplicate_ppm)
	ADD(TOPO_Q_REORDER, "reorder", units_format_percent, q->reorder_ppm)
#undef ADD
}

/* The worse of two ends: a link is only up when both ends are. */
static enum graph_iface worse(enum graph_iface a, enum graph_iface b)
{
	return a > b ? a : b;
}

static const char *iface_word(enum graph_iface s)
{
	return s == GRAPH_IF_MISSING ? "missing" : "down";
}

/* Attributes of an edge ("label=..." already written) for its live state. */
static void edge_state(FILE *f, const struct graph_live *live, enum graph_iface s)
{
	if (live && s != GRAPH_IF_UP)
		fprintf(f, ", style=dashed, color=\"" GRAPH_COLOUR_DOWN "\", fontcolor=\""
			GRAPH_COLOUR_DOWN "\"");
}

static void write_label(FILE *f, const char *text, const struct graph_live *live,
			enum graph_iface s)
{
	char label[256];
	if (live && s != GRAPH_IF_UP)
		snprintf(label, sizeof(label), "%s%s(%s)", text, text[0] ? "\n" : "",
			 iface_word(s));
	else
		snprintf(label, sizeof(label), "%s", text);
	fputs("label=", f);
	dot_string(f, label);
}

int graph_write_dot(FILE *f, const struct topo *t, const struct graph_live *live,
		    struct error *err)
{
	char title[96];
	snprintf(title, sizeof(title), "sim %s%s", t->sim, live ? " (running)" : "");
	/* a comment ends at a newline, which a file name may hold */
	fputs("// netsim graph of ", f);
	for (const char *p = t->path ? t->path : t->sim; *p; p++)
		fputc((unsigned char)*p < 0x20 ? '?' : *p, f);
	fputs("\ngraph ", f);
	dot_string(f, t->sim);
	fputs(" {\n\tgraph [label=", f);
	dot_string(f, title);
	fputs(", labelloc=t, fontname=\"sans-serif\"];\n"
	      "\tnode [shape=ellipse, fontname=\"sans-serif\"];\n"
	      "\tedge [fontname=\"sans-serif\", fontsize=10];\n",
	      f);

	for (unsigned i = 0; i < t->nnodes; i++) {
		const struct topo_node *n = &t->nodes[i];
		char label[160];
		bool stopped = live && !live->node_running[i];
		snprintf(label, sizeof(label), "%s\n%s%s", n->name, n->addr4,
			 stopped ? "\n(stopped)" : "");
		fputc('\t', f);
		dot_string(f, n->name);
		fputs(" [label=", f);
		dot_string(f, label);
		if (live)
			fprintf(f, ", style=filled, fillcolor=\"%s\", fontcolor=\"white\"",
				stopped ? GRAPH_COLOUR_STOPPED : GRAPH_COLOUR_RUNNING);
		fputs("];\n", f);
	}

	for (unsigned l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];
		char q[200];
		enum graph_iface s = live ? worse(live->link[l][0], live->link[l][1])
					  : GRAPH_IF_UP;
		quality_label(&lk->quality, q, sizeof(q));
		fputc('\t', f);
		dot_string(f, t->nodes[lk->a.node].name);
		fputs(" -- ", f);
		dot_string(f, t->nodes[lk->b.node].name);
		fputs(" [", f);
		write_label(f, q, live, s);
		fputs(", taillabel=", f);
		dot_string(f, lk->a.ifname);
		fputs(", headlabel=", f);
		dot_string(f, lk->b.ifname);
		edge_state(f, live, s);
		fputs("];\n", f);
	}

	for (unsigned s = 0; s < t->nsegments; s++) {
		const struct topo_segment *seg = &t->segments[s];
		char q[200], label[256], id[IFNAMSIZ + 16];
		quality_label(&seg->quality, q, sizeof(q));
		snprintf(label, sizeof(label), "segment %s%s%s", seg->name, q[0] ? "\n" : "", q);
		/* node names cannot contain ':', so this id never clashes with one */
		snprintf(id, sizeof(id), "segment:%s", seg->name);
		fputc('\t', f);
		dot_string(f, id);
		fputs(" [shape=box, label=", f);
		dot_string(f, label);
		fputs("];\n", f);
		for (unsigned m = 0; m < seg->nmembers; m++) {
			enum graph_iface st = live ? live->member[s][m] : GRAPH_IF_UP;
			fputc('\t', f);
			dot_string(f, id);
			fputs(" -- ", f);
			dot_string(f, t->nodes[seg->members[m].node].name);
			fputs(" [", f);
			write_label(f, "", live, st);
			fputs(", headlabel=", f);
			dot_string(f, seg->members[m].ifname);
			edge_state(f, live, st);
			fputs("];\n", f);
		}
	}
	fputs("}\n", f);
	if (fflush(f) == EOF || ferror(f))
		return error_set(err, errno ? errno : EIO, "write DOT");
	return 0;
}
