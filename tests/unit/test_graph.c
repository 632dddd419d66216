/* DOT output: nodes, links with quality and interfaces, segments as boxes, and
 * the live state (colours, dashed links) — without a running sim. */
#include <stdlib.h>
#include <string.h>

#include "topo/graph.h"
#include "tap.h"
#include "topo/topo.h"

static const char *const text =
	"sim lab\n"
	"node n1\n"
	"node n2\n"
	"node n3\n"
	"link n1 n2 rate=54mbit delay=5ms loss=1%\n"
	"link n2:wan n3\n"
	"segment air0 n1 n2 n3 loss=5% jitter=1ms delay=2ms\n";

static char *dot_of(const struct topo *t, const struct graph_live *live)
{
	char *buf = NULL;
	size_t size = 0;
	struct error err = {0};
	FILE *f = open_memstream(&buf, &size);
	int r = graph_write_dot(f, t, live, &err);
	fclose(f);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void has(const char *dot, const char *want, const char *what)
{
	if (!ok(dot && strstr(dot, want), "%s", what))
		printf("#   missing: %s\n", want);
}

int main(void)
{
	struct topo t;
	struct error err = {0};
	if (topo_parse_string("lab.conf", text, &t, &err) < 0) {
		printf("# %s\n", err.msg);
		skip_all("topology does not parse");
	}

	char *dot = dot_of(&t, NULL);
	ok(dot && strncmp(dot, "// netsim graph of lab.conf\ngraph \"lab\" {\n", 41) == 0,
	   "an undirected graph named after the sim");
	has(dot, "\"n1\" [label=\"n1\\n10.13.0.1/32\"];", "node with its address");
	has(dot, "\"n1\" -- \"n2\" [label=\"rate=54mbit delay=5ms loss=1%\", taillabel=\"eth0\", "
		 "headlabel=\"eth0\"];",
	    "link labelled with its quality and interfaces");
	has(dot, "\"n2\" -- \"n3\" [label=\"\", taillabel=\"wan\", headlabel=\"eth0\"];",
	    "named interface");
	has(dot, "\"segment:air0\" [shape=box, label=\"segment air0\\ndelay=2ms jitter=1ms "
		 "loss=5%\"];",
	    "segment as a box with its quality");
	has(dot, "\"segment:air0\" -- \"n3\" [label=\"\", headlabel=\"eth1\"];",
	    "segment edge to a member, with its interface");
	ok(dot && !strstr(dot, "fillcolor") && !strstr(dot, "dashed"), "no live state for a file");
	ok(dot && dot[strlen(dot) - 2] == '}', "graph is closed");
	free(dot);

	/* n3 stopped, the n1-n2 link down at n2, n2's segment port missing */
	bool running[3] = {true, true, false};
	enum graph_iface links[2][2] = {{GRAPH_IF_UP, GRAPH_IF_DOWN}, {GRAPH_IF_UP, GRAPH_IF_UP}};
	enum graph_iface air0[3] = {GRAPH_IF_UP, GRAPH_IF_MISSING, GRAPH_IF_UP};
	enum graph_iface *members[1] = {air0};
	struct graph_live live = {.node_running = running, .link = links, .member = members};
	dot = dot_of(&t, &live);
	has(dot, "label=\"sim lab (running)\"", "title says running");
	has(dot, "\"n1\" [label=\"n1\\n10.13.0.1/32\", style=filled, fillcolor=\"#2f9e62\", fontcolor=\"white\"];",
	    "running node green");
	has(dot, "\"n3\" [label=\"n3\\n10.13.0.3/32\\n(stopped)\", style=filled, "
		 "fillcolor=\"#9aa5b1\", fontcolor=\"white\"];",
	    "stopped node grey and marked");
	has(dot, "[label=\"rate=54mbit delay=5ms loss=1%\\n(down)\", taillabel=\"eth0\", "
		 "headlabel=\"eth0\", style=dashed",
	    "link down at one end: dashed and marked");
	has(dot, "\"n2\" -- \"n3\" [label=\"\", taillabel=\"wan\", headlabel=\"eth0\"];",
	    "link up at both ends: solid");
	has(dot, "\"segment:air0\" -- \"n2\" [label=\"(missing)\", headlabel=\"eth2\", "
		 "style=dashed",
	    "missing segment port: dashed and marked");
	free(dot);

	/* DOT strings are escaped (a path may hold anything) */
	free(t.path);
	t.path = strdup("/tmp/we\"ird\n\\.conf");
	dot = dot_of(&t, NULL);
	const char *want = "// netsim graph of /tmp/we\"ird?\\.conf\ngraph";
	ok(dot && strncmp(dot, want, strlen(want)) == 0,
	   "a newline in the file name cannot end the comment");
	free(dot);
	topo_free(&t);
	return tap_done();
}
