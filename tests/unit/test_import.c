/* import: meshnet-lab JSON and Kathara lab.conf → netsim topology text; name
 * mapping; every untranslated field is reported; malformed input is refused. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topo/import.h"
#include "tap.h"
#include "topo/topo.h"

static void name_is(const char *raw, const char *want, bool want_changed)
{
	char out[TOPO_NAME_MAX + 1];
	bool changed = import_map_name(raw, TOPO_NAME_MAX, out, sizeof(out));
	is_str(out, want, "name \"%s\" → \"%s\"", raw, want);
	is_int(changed, want_changed, "name \"%s\" %s", raw, want_changed ? "changed" : "kept");
	ok(topo_valid_name(out, TOPO_NAME_MAX), "\"%s\" is a valid node name", out);
}

/* Translate; the result must parse as a topology. */
static int translate(enum import_format f, const char *text, struct import_result *res,
		     struct error *err)
{
	int r = import_text(f, f == IMPORT_KATHARA ? "/nonexistent/lab.conf" : "in.json", text,
			    strlen(text), res, err);
	if (r == 0) {
		struct topo t;
		struct error perr = {0};
		int pr = topo_parse_string("out.conf", res->topology, &t, &perr);
		if (!ok(pr == 0, "the translation parses as a topology"))
			printf("#   %s\n#   text:\n%s\n", perr.msg, res->topology);
		if (pr == 0)
			topo_free(&t);
	}
	return r;
}

static void has(const char *text, const char *want, const char *what)
{
	if (!ok(text && strstr(text, want) != NULL, "%s: has \"%s\"", what, want))
		printf("#   in:\n%s\n", text ? text : "(null)");
}

static void hasnt(const char *text, const char *unwanted, const char *what)
{
	if (!ok(text && strstr(text, unwanted) == NULL, "%s: no \"%s\"", what, unwanted))
		printf("#   in:\n%s\n", text ? text : "(null)");
}

static void meshnet_ok(const char *json, const char *want_in_topo, const char *want_note,
		       const char *what)
{
	struct import_result res;
	struct error err = {0};
	int r = translate(IMPORT_MESHNET_LAB, json, &res, &err);
	if (!ok(r == 0, "meshnet-lab %s: translated", what))
		printf("#   %s\n", err.msg);
	if (r < 0)
		return;
	if (want_in_topo)
		has(res.topology, want_in_topo, what);
	if (want_note) {
		has(res.notes, want_note, what);
		has(res.topology, want_note, "...and the notes are comments in the output");
	} else {
		is_int(res.nnotes, 0, "meshnet-lab %s: no notes", what);
	}
	import_result_free(&res);
}

static void meshnet_bad(const char *json, const char *want_msg, const char *what)
{
	struct import_result res;
	struct error err = {0};
	int r = import_text(IMPORT_MESHNET_LAB, "in.json", json, strlen(json), &res, &err);
	is_int(r, -EINVAL, "meshnet-lab %s: refused", what);
	has(err.msg, want_msg, what);
	ok(res.topology == NULL, "meshnet-lab %s: no output", what);
	if (r == 0)
		import_result_free(&res);
}

static void kathara_ok(const char *conf, const char *want_in_topo, const char *want_note,
		       const char *what)
{
	struct import_result res;
	struct error err = {0};
	int r = translate(IMPORT_KATHARA, conf, &res, &err);
	if (!ok(r == 0, "kathara %s: translated", what))
		printf("#   %s\n", err.msg);
	if (r < 0)
		return;
	if (want_in_topo)
		has(res.topology, want_in_topo, what);
	if (want_note)
		has(res.notes, want_note, what);
	else
		is_int(res.nnotes, 0, "kathara %s: no notes", what);
	import_result_free(&res);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* One file-based import of the lab in `lab` with these options: the topology
 * must parse and contain want (and, for notes, want_note). */
static void kathara_dir_ok(const char *lab, const struct import_options *opts, const char *want,
			   const char *want_note, const char *what)
{
	struct import_result res;
	struct error err = {0};
	int r = import_file_with(IMPORT_KATHARA, lab, opts, &res, &err);
	if (!ok(r == 0, "kathara lab on disk, %s: translated", what)) {
		printf("#   %s\n", err.msg);
		return;
	}
	struct topo t;
	struct error perr = {0};
	ok(topo_parse_string("out.conf", res.topology, &t, &perr) == 0, "%s: parses", what);
	if (perr.errnum == 0)
		topo_free(&t);
	has(res.topology, want, what);
	if (want_note)
		has(res.notes, want_note, what);
	import_result_free(&res);
}

/* DEVICE/ and DEVICE.startup become files= and startup=, named from where the
 * topology is written; --image maps images. */
static void test_kathara_lab_dir(void)
{
	char tmpl[] = "/tmp/test-import-XXXXXX";
	char *dir = mkdtemp(tmpl), path[PATH_MAX], want[PATH_MAX * 2];
	if (!ok(dir != NULL, "a temporary lab directory"))
		return;
	snprintf(path, sizeof(path), "%s/lab", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/lab/r1", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/out", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/lab/r1.startup", dir);
	put_file(path, "ip address add 10.0.0.1/24 dev eth0\n");
	snprintf(path, sizeof(path), "%s/lab/r2.startup", dir);
	put_file(path, "ip address add 10.0.0.2/24 dev eth0\n");
	snprintf(path, sizeof(path), "%s/lab/lab.conf", dir);
	put_file(path, "r1[0]=A\nr2[0]=A\nr2[image]=me/custom:1\n");
	snprintf(path, sizeof(path), "%s/lab", dir);

	struct import_options next_to = {.output_dir = path};
	kathara_dir_ok(path, &next_to, "node r1 files=r1 startup=r1.startup\n",
		       "not translated: r2[image]=me/custom:1", "saved next to lab.conf");
	char out[PATH_MAX];
	snprintf(out, sizeof(out), "%s/out", dir);
	struct import_options elsewhere = {.output_dir = out};
	kathara_dir_ok(path, &elsewhere, "node r1 files=../lab/r1 startup=../lab/r1.startup\n",
		       NULL, "saved in a sibling directory");
	snprintf(want, sizeof(want), "node r1 files=%s/lab/r1 startup=%s/lab/r1.startup\n", dir, dir);
	kathara_dir_ok(path, NULL, want, NULL, "on stdout: absolute paths");

	const char *images[] = {"me/custom=/srv/custom.tar.gz", "other=x"};
	struct import_options mapped = {.output_dir = "/", .images = images, .nimages = 2};
	kathara_dir_ok(path, &mapped, "node r2 rootfs=srv/custom.tar.gz startup=", NULL,
		       "--image maps an image (tag ignored) to a path from the output dir");
	const char *named[] = {"me/custom:1=frr"};
	struct import_options named_opts = {.output_dir = path, .images = named, .nimages = 1};
	kathara_dir_ok(path, &named_opts, "node r2 rootfs=frr caps=+sys_admin startup=r2.startup\n",
		       NULL, "--image to the frr rootfs gives CAP_SYS_ADMIN");

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ok(system(cmd) == 0, "temporary lab removed");
}

static void kathara_bad(const char *conf, const char *want_msg, const char *what)
{
	struct import_result res;
	struct error err = {0};
	int r = import_text(IMPORT_KATHARA, "lab.conf", conf, strlen(conf), &res, &err);
	is_int(r, -EINVAL, "kathara %s: refused", what);
	has(err.msg, want_msg, what);
	if (r == 0)
		import_result_free(&res);
}

/* Translate with a file name and options; the result must parse. */
static bool meshnet_with(const char *path, const char *json, const struct import_options *opts,
			 struct import_result *res, const char *what)
{
	struct error err = {0};
	int r = import_text_with(IMPORT_MESHNET_LAB, path, json, strlen(json), opts, res, &err);
	if (!ok(r == 0, "meshnet-lab %s: translated", what)) {
		printf("#   %s\n", err.msg);
		return false;
	}
	struct topo t;
	struct error perr = {0};
	if (!ok(topo_parse_string("out.conf", res->topology, &t, &perr) == 0, "%s: parses", what))
		printf("#   %s\n%s\n", perr.msg, res->topology);
	else
		topo_free(&t);
	return true;
}

/* How many lines of `text` contain `want` (start with it: `prefix`). */
static unsigned count_lines_where(const char *text, const char *want, bool prefix)
{
	unsigned n = 0;
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		char line[4096];
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		n += prefix ? strncmp(line, want, strlen(want)) == 0 : strstr(line, want) != NULL;
		p += len + (p[len] == '\n');
	}
	return n;
}

static unsigned count_lines(const char *text, const char *want)
{
	return count_lines_where(text, want, false);
}

static unsigned count_starting(const char *text, const char *want)
{
	return count_lines_where(text, want, true);
}

/* meshnet-lab's own link keys (README, misc/tc.sh) and the ones taken before. */
static void test_meshnet_quality(void)
{
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"bandwidth_mbit\": 10,"
		   " \"latency_ms\": 5, \"loss_pc\": 1.5}]}", "link a b rate=10mbit delay=5ms loss=1.5%\n",
		   NULL, "bandwidth_mbit, latency_ms, loss_pc");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"bandwidth_mbit\": \"2.5\","
		   " \"latency_ms\": \"0.5\", \"loss_pc\": \"0\"}]}",
		   "link a b rate=2.5mbit delay=500us loss=0%\n", NULL, "numbers as strings");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"source_loss_pc\": 2,"
		   " \"target_loss_pc\": 2, \"source_bandwidth_mbit\": 100, \"target_bandwidth_mbit\": 100}]}",
		   "link a b rate=100mbit loss=2%\n", NULL, "the same value both ways");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"source_bandwidth_mbit\": 10,"
		   " \"target_bandwidth_mbit\": 20}]}", "link a b\n",
		   "$.links[0].source_bandwidth_mbit: not translated: a bandwidth_mbit for one direction only",
		   "different bandwidths per direction");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"loss_pc\": 150}]}", "link a b\n",
		   "$.links[0].loss_pc: not translated: loss_pc 150 (not a percentage from 0 to 100)",
		   "a loss above 100%");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"bandwidth_mbit\": 0}]}",
		   "link a b\n", "not translated: bandwidth_mbit 0 (not a number of Mbit/s above 0)",
		   "a bandwidth of 0");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"latency_ms\": \"soon\"}]}",
		   "link a b\n", "not translated: latency_ms \"soon\" (not a number of milliseconds)",
		   "a latency that is no number");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"bandwidth_mbit\": 10,"
		   " \"rate\": \"5mbit\", \"latency_ms\": 2, \"latency\": 7}]}",
		   "link a b rate=10mbit delay=2ms\n",
		   "$.links[0].rate: not translated: rate (bandwidth_mbit gives rate= already)",
		   "meshnet-lab's keys win over rate and latency");
}

/* Data errors are said, not silent; the topology is still written. */
static void test_meshnet_data_errors(void)
{
	struct import_result res;
	if (meshnet_with("in.json", "{\"nodes\": [{\"id\": \"a\"}, {\"id\": \"b\"}, {\"id\": \"c\"}],"
			 " \"links\": [{\"source\": \"a\", \"target\": \"b\"}]}", NULL, &res,
			 "an isolated node")) {
		has(res.notes, "in.json:$: 1 node is in no link: `c` (kept in the topology, but nothing "
			       "reaches it: `netsim reach` fails and `netsim converge` never completes)",
		    "isolated node named");
		has(res.notes, "in.json:$: the graph is disconnected: 2 parts, of 2, 1 nodes",
		    "...and the parts' sizes");
		has(res.topology, "node c\n", "the isolated node is in the topology");
		import_result_free(&res);
	}
	if (meshnet_with("in.json", "{\"nodes\": [{\"id\": \"p and q\"}, {\"id\": \"r\"}]}", NULL, &res,
			 "isolated nodes whose names have blanks")) {
		has(res.notes, "2 nodes are in no link: `p and q`, `r` (kept", "both named");
		has(res.notes, "the graph is disconnected: 2 parts, of 1, 1 nodes", "two parts of one");
		import_result_free(&res);
	}
	if (meshnet_with("in.json", "{\"links\": [{\"source\": \"a\", \"target\": \"b\"},"
			 " {\"source\": \"c\", \"target\": \"d\"}, {\"source\": \"d\", \"target\": \"e\"}]}",
			 NULL, &res, "two parts")) {
		has(res.notes, "the graph is disconnected: 2 parts, of 3, 2 nodes", "parts, largest first");
		hasnt(res.notes, "in no link", "no isolated node");
		is_int(res.nnotes, 1, "one note");
		import_result_free(&res);
	}
	if (meshnet_with("in.json", "{\"nodes\": [{\"id\": \"a\"}, {\"id\": \"b\"}],"
			 " \"links\": [{\"source\": \"a\", \"target\": \"b\"}, {\"source\": \"b\", \"target\": \"x\"},"
			 " {\"source\": \"y\", \"target\": \"x\"}]}", NULL, &res, "undeclared nodes")) {
		has(res.notes, "in.json:$.links[1].target: 2 nodes are not in \"nodes\" but in links: "
			       "`x`, `y` (created, as meshnet-lab does)", "undeclared nodes, one line");
		has(res.topology, "node x\nnode y\n", "...and they are nodes");
		is_int(res.nnotes, 1, "one note");
		import_result_free(&res);
	}
	if (meshnet_with("in.json", "{\"nodes\": [{\"id\": \"a\", \"x\": 1}, {\"id\": \"b\"}, {\"id\": \"a\"},"
			 " {\"id\": \"b\"}, {\"id\": \"b\"}], \"links\": [{\"source\": \"a\", \"target\": \"b\"}]}",
			 NULL, &res, "duplicate ids")) {
		has(res.notes, "in.json:$.nodes[2]: 3 node entries repeat an id listed before (2 ids: "
			       "`a`, `b`): each id is one node, and its last entry counts, as in meshnet-lab",
		    "one line with a count");
		is_int(count_starting(res.topology, "node "), 2, "two nodes");
		import_result_free(&res);
	}
	if (meshnet_with("in.json", "{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"bandwidth_mbit\": 10},"
			 " {\"source\": \"c\", \"target\": \"a\"}, {\"source\": \"b\", \"target\": \"a\","
			 " \"bandwidth_mbit\": 20}, {\"source\": \"a\", \"target\": \"c\", \"loss_pc\": 1},"
			 " {\"source\": \"a\", \"target\": \"b\", \"latency_ms\": 3}]}", NULL, &res,
			 "repeated links")) {
		has(res.topology, "link a b delay=3ms\nlink a c loss=1%\n",
		    "the last entry of each pair, in the place of the first");
		has(res.notes, "in.json:$.links[2]: 3 links repeat a pair of nodes linked before (here "
			       "`b`-`a` as at $.links[0])", "one line with a count");
		is_int(res.nnotes, 1, "one note");
		import_result_free(&res);
	}
	if (meshnet_with("data/a-very-long-file-name.json", "{\"links\": [{\"source\": \"a\", \"target\": \"b\"}]}",
			 NULL, &res, "a long file name")) {
		has(res.topology, "sim a-very-long-file\n", "the sim name is cut to 16 characters");
		has(res.notes, "data/a-very-long-file-name.json: the sim name from the file name "
			       "`a-very-long-file-name` is cut to 16 characters: `a-very-long-file`",
		    "...and says so");
		import_result_free(&res);
	}
	if (meshnet_with("My Graph.json", "{\"links\": [{\"source\": \"a\", \"target\": \"b\"}]}",
			 NULL, &res, "a file name with odd characters")) {
		has(res.topology, "sim my-graph\n", "sim name made valid");
		has(res.notes, "the sim name from the file name `My Graph` is `my-graph`", "...and said");
		import_result_free(&res);
	}
}

/* --names: node names from the "name" field. */
static void test_meshnet_names(void)
{
	struct import_options opts = {.node_names = true};
	struct import_result res;
	const char *json = "{\"nodes\": [{\"id\": \"a\", \"name\": \"Alpha\"}, {\"id\": \"b\", \"name\": \"alpha\"},"
			   " {\"id\": 7, \"name\": \"gw\"}, {\"id\": \"c\"}, {\"id\": \"x\", \"name\": \"c\"}],"
			   " \"links\": [{\"source\": \"a\", \"target\": \"b\"}, {\"source\": \"b\", \"target\": 7},"
			   " {\"source\": 7, \"target\": \"c\"}, {\"source\": \"c\", \"target\": \"x\"}]}";
	if (meshnet_with("in.json", json, &opts, &res, "--names")) {
		has(res.topology, "node alpha    # id a, name Alpha\nnode alpha-2    # id b, name alpha\n"
				  "node gw    # id 7\nnode c\nnode c-2    # id x, name c\n",
		    "names from \"name\", ids and names as comments");
		has(res.topology, "link alpha alpha-2\nlink alpha-2 gw\nlink gw c\nlink c c-2\n",
		    "links by the new names");
		has(res.notes, "in.json:$.nodes[0]: 1 name is made valid netsim node names ([a-z0-9-], "
			       "at most 12 characters), such as `Alpha` is `alpha`", "a name made valid is said");
		has(res.notes, "in.json:$.nodes[1]: node `b`: its name `alpha` is another node's "
			       "already; it is named `alpha-2`", "a collision is said");
		has(res.notes, "in.json:$.nodes[4]: node `x`: its name `c` is another node's already; "
			       "it is named `c-2`", "a name that is another node's id");
		has(res.notes, "in.json:$.nodes[3]: 1 node has no \"name\" (or an empty one): named "
			       "after its id", "nodes without a name, one line");
		hasnt(res.notes, "node attribute `name`", "name is translated");
		import_result_free(&res);
	}
	if (meshnet_with("in.json", json, NULL, &res, "without --names")) {
		has(res.topology, "node a\nnode b\nnode 7\nnode c\nnode x\n", "ids are the names");
		has(res.notes, "not translated: node attribute `name` (4 times", "name is not translated");
		import_result_free(&res);
	}
	if (meshnet_with("in.json", "{\"nodes\": [{\"id\": \"a\", \"name\": \"old\"}, {\"id\": \"b\"},"
			 " {\"id\": \"a\", \"name\": \"new\"}], \"links\": [{\"source\": \"a\", \"target\": \"b\"}]}",
			 &opts, &res, "--names with a repeated id")) {
		has(res.topology, "node new    # id a\n", "the last entry's name counts");
		import_result_free(&res);
	}
}

/* --radio: one radio segment, a pair line per link that brings it into range. */
static void test_meshnet_radio(void)
{
	struct import_options opts = {.radio = true};
	struct import_result res;
	const char *json = "{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"bandwidth_mbit\": 10},"
			   " {\"source\": \"b\", \"target\": \"c\", \"latency_ms\": 5},"
			   " {\"source\": \"c\", \"target\": \"d\", \"loss_pc\": 5}]}";
	if (meshnet_with("in.json", json, &opts, &res, "--radio")) {
		has(res.topology, "node a pos=0,0\nnode b pos=1000,0\nnode c pos=0,1000\n"
				  "node d pos=1000,1000\n", "nodes on a 1 km grid");
		has(res.topology, "segment air0 a b c d medium=radio rate=10gbit hidden=off\n",
		    "one radio segment of every linked node");
		has(res.topology, "pair air0 a b rate=10mbit loss=0%\npair air0 b c delay=5ms loss=0%\n"
				  "pair air0 c d loss=5%\n", "a pair line per link, loss= always given");
		hasnt(res.topology, "\nlink ", "no veth links");
		has(res.notes, "imported as one radio segment air0 (--radio)", "the form is named");
		struct topo t;
		struct error err = {0};
		ok(topo_parse_string("radio", res.topology, &t, &err) == 0 && t.nsegments == 1 &&
			   t.segments[0].medium == TOPO_MEDIUM_RADIO && t.npairs == 6,
		   "it parses: one radio segment, 3 pairs both ways (%s)", err.msg);
		topo_free(&t);
		import_result_free(&res);
	}
}

/* 300 generated nodes: every kind of data error at once, each said in one line. */
static void test_meshnet_generated(void)
{
	char *json = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&json, &len);
	if (!ok(f != NULL, "generated data"))
		return;
	fputs("{\"nodes\": [", f);
	for (int i = 0; i < 300; i++)
		fprintf(f, "%s{\"id\": %d, \"name\": \"Node %d\"}", i ? ", " : "", i, i);
	for (int i = 0; i < 20; i++) /* 20 repeated ids */
		fprintf(f, ", {\"id\": %d, \"name\": \"Node %d\"}", i * 3, i * 3);
	fputs("], \"links\": [", f);
	/* a line 0..279 (280 nodes), a line 300..309 of 10 undeclared nodes, nodes
	 * 280..299 isolated, and 15 repeated links */
	for (int i = 0; i < 279; i++)
		fprintf(f, "%s{\"source\": %d, \"target\": %d, \"bandwidth_mbit\": %d}", i ? ", " : "",
			i, i + 1, 1 + i % 50);
	for (int i = 300; i < 309; i++)
		fprintf(f, ", {\"source\": %d, \"target\": %d, \"loss_pc\": 1}", i, i + 1);
	for (int i = 0; i < 15; i++)
		fprintf(f, ", {\"source\": %d, \"target\": %d, \"latency_ms\": 4}", i * 10 + 1, i * 10);
	for (int i = 0; i < 12; i++) /* 12 links from a node to itself */
		fprintf(f, ", {\"source\": %d, \"target\": %d}", i, i);
	fputs("]}", f);
	fclose(f);
	struct import_result res;
	struct import_options opts = {.node_names = true};
	if (meshnet_with("generated.json", json, &opts, &res, "300 generated nodes")) {
		is_int(count_starting(res.topology, "node "), 310, "310 nodes");
		is_int(count_starting(res.topology, "link "), 279 + 9, "288 links (repeats merged)");
		is_int(count_lines(res.notes, "repeat an id"), 1, "repeated ids: one line");
		has(res.notes, "generated.json:$.nodes[300]: 20 node entries repeat an id listed before "
			       "(20 ids: `0`, `3`, `6`, `9`, `12`, `15`, `18`, `21` and 12 more)",
		    "...with the counts");
		is_int(count_lines(res.notes, "in no link"), 1, "isolated nodes: one line");
		has(res.notes, "20 nodes are in no link: `280`, `281`, `282`, `283`, `284`, `285`, "
			       "`286`, `287` and 12 more", "...with the count");
		has(res.notes, "the graph is disconnected: 22 parts, of 280, 10, 1, 1, 1, 1, 1, 1, 1, 1 "
			       "and 12 more nodes", "parts' sizes");
		has(res.notes, "10 nodes are not in \"nodes\" but in links: `300`, `301`", "undeclared");
		has(res.notes, "15 links repeat a pair of nodes linked before", "repeated links: a count");
		has(res.notes, "not translated: 12 links from a node to itself (`0`, `1`, `2`, `3`, `4`, "
			       "`5`, `6`, `7` and 4 more)", "self links: one line");
		hasnt(res.notes, "no \"name\"", "undeclared nodes are not nodes without a name");
		has(res.notes, "generated.json:$.nodes[300]: 300 names are made valid netsim node names "
			       "([a-z0-9-], at most 12 characters), such as `Node 0` is `node-0`; each "
			       "node line's comment has the id and name", "made-valid names: one line");
		has(res.topology, "node node-0    # id 0, name Node 0\n", "--names on generated data");
		has(res.topology, "node 300\n", "an undeclared node is named after its id");
		has(res.topology, "link node-1 node-0 delay=4ms\n", "the last entry of 0-1 counts, its direction too");
		has(res.topology, "link node-2 node-3 rate=3mbit\n", "bandwidth_mbit kept");
		ok(res.nnotes <= 8, "at most 8 notes for 300 nodes (%u)", res.nnotes);
		import_result_free(&res);
	}
	free(json);
}

int main(void)
{
	/* ---- names ---- */
	name_is("a", "a", false);
	name_is("n-1", "n-1", false);
	name_is("3", "3", false);
	name_is("Gate_Way", "gate-way", true);
	name_is("--x", "x", true);
	name_is("a__b..c", "a-b-c", true);
	name_is("x_", "x", true);
	name_is("abcdefghijklmnop", "abcdefghijkl", true);
	name_is("\xc3\x84\xc3\x96", "n", true);
	name_is("", "n", true);

	enum import_format f;
	is_int(import_format_parse("meshnet-lab", &f), 0, "format meshnet-lab");
	is_int(f, IMPORT_MESHNET_LAB, "...is IMPORT_MESHNET_LAB");
	is_int(import_format_parse("kathara", &f), 0, "format kathara");
	is_int(f, IMPORT_KATHARA, "...is IMPORT_KATHARA");
	is_int(import_format_parse("gns3", &f), -EINVAL, "unknown format refused");

	/* ---- meshnet-lab ---- */
	test_meshnet_radio();
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\"}]}",
		   "node a\nnode b\nlink a b\n", NULL, "links only");
	meshnet_ok("{\"nodes\": [{\"id\": 0}, {\"id\": 1}, {\"id\": 2}],"
		   " \"links\": [{\"source\": 0, \"target\": 1}, {\"source\": 1, \"target\": 2}]}",
		   "node 0\nnode 1\nnode 2\nlink 0 1\nlink 1 2\n", NULL, "integer ids");
	meshnet_ok("{\"nodes\": [{\"id\": \"lonely\"}], \"links\": []}", "node lonely\n",
		   "in.json:$: 1 node is in no link: `lonely` (kept in the topology", "a node without links");
	meshnet_ok("{\"links\": [{\"source\": \"in.json\", \"target\": \"b\"}]}", "sim in\n",
		   "node `in.json` is named `in-json`", "sim name from the file, renamed node");
	meshnet_ok("{\"nodes\": [{\"id\": \"A\"}, {\"id\": \"a\"}],"
		   " \"links\": [{\"source\": \"A\", \"target\": \"a\"}]}",
		   "node a\nnode a-2\nlink a a-2\n", "node `a` is named `a-2`",
		   "names that map to the same name are numbered");
	meshnet_ok("{\"links\": [{\"source\": \"abcdefghijklmX\", \"target\": \"abcdefghijklmY\"}]}",
		   "node abcdefghijkl\nnode abcdefghij-2\n", "is named `abcdefghij-2`",
		   "long names are cut and numbered");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"rate\": \"10mbit\","
		   " \"latency\": 5}]}", "link a b rate=10mbit delay=5ms\n", NULL,
		   "rate and latency (ms)");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"source_latency\": 2.5,"
		   " \"target_latency\": 2.5, \"latency\": null}]}", NULL,
		   "latency null (not milliseconds", "latency null");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"source_latency\": 2.5,"
		   " \"target_latency\": 2.5}]}", "link a b delay=2.5ms\n", NULL,
		   "the same latency both ways");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"source_latency\": 2,"
		   " \"target_latency\": 10}]}", "link a b\n",
		   "$.links[0].source_latency: not translated: a latency for one direction only",
		   "different latencies per direction");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\", \"rate\": 100}]}",
		   "link a b\n", "$.links[0].rate: not translated: rate 100",
		   "a rate without a unit");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\"},"
		   " {\"source\": \"b\", \"target\": \"a\"}]}", "node b\nlink b a\n",
		   "$.links[1]: 1 link repeats a pair of nodes linked before (here `b`-`a` as at "
		   "$.links[0]): one link per pair, and the last entry's values count",
		   "a duplicate link: the last entry counts");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\"},"
		   " {\"source\": \"a\", \"target\": \"a\"}]}", "link a b\n",
		   "$.links[1]: not translated: 1 link from a node to itself (`a`), dropped as meshnet-lab "
		   "does", "a self link");
	meshnet_ok("{\"nodes\": [{\"id\": \"a\", \"x\": 1}, {\"id\": \"b\", \"x\": 2}],"
		   " \"links\": [{\"source\": \"a\", \"target\": \"b\", \"source_tc\": \"tbf\"}],"
		   " \"label\": \"x\"}", "link a b\n",
		   "in.json:$.nodes[0]: not translated: node attribute `x` (2 times; the first is here)",
		   "node attributes, counted");
	{
		struct import_result res;
		struct error err = {0};
		const char *json = "{\"nodes\": [{\"id\": \"a\", \"x\": 1}],"
				   " \"links\": [{\"source\": \"a\", \"target\": \"b\","
				   " \"source_tc\": \"tbf\", \"type\": \"wifi\"}], \"label\": \"x\"}";
		if (ok(translate(IMPORT_MESHNET_LAB, json, &res, &err) == 0, "unknown keys: translated")) {
			is_int(res.nnotes, 5, "each unknown key is one note, and b is undeclared");
			has(res.notes, "in.json:$.links[0].target: 1 node is not in \"nodes\" but in links: "
				       "`b` (created, as meshnet-lab does)", "undeclared node");
			has(res.notes, "in.json:$: not translated: top-level key `label`", "top-level key");
			has(res.notes, "in.json:$.links[0]: not translated: link attribute `source_tc`",
			    "tc command");
			has(res.notes, "in.json:$.links[0]: not translated: link attribute `type`",
			    "link type");
			hasnt(res.topology, "tbf", "no tc command in the output topology lines");
			import_result_free(&res);
		}
	}
	test_meshnet_quality();
	test_meshnet_data_errors();
	test_meshnet_names();
	test_meshnet_generated();

	meshnet_bad("{\"links\": [", "in.json:1:12: malformed JSON: unexpected end of file",
		    "truncated JSON");
	meshnet_bad("{\"links\": []}\n}", "in.json:2:1: malformed JSON: text after",
		    "text after the value");
	meshnet_bad("{\n  \"links\": [}\n", "in.json:2:", "bad JSON reports the line");
	meshnet_bad("[]", "expected a JSON object", "an array at the top");
	meshnet_bad("{\"edges\": []}", "no \"nodes\" and no \"links\"", "neither nodes nor links");
	meshnet_bad("{\"links\": {}}", "in.json:$.links: expected an array", "links not an array");
	meshnet_bad("{\"links\": [{\"source\": \"a\"}]}",
		    "in.json:$.links[0]: needs a \"target\"", "a link without target");
	meshnet_bad("{\"links\": [{\"source\": 1.5, \"target\": \"b\"}]}",
		    "in.json:$.links[0]: needs a \"source\"", "a fractional id");
	meshnet_bad("{\"nodes\": [{\"name\": \"a\"}]}", "in.json:$.nodes[0]: needs an \"id\"",
		    "a node without id");
	meshnet_bad("{\"links\": [\"a-b\"]}", "in.json:$.links[0]: expected an object",
		    "a link that is a string");

	/* ---- Kathara ---- */
	kathara_ok("a[0]=X\nb[0]=X\nc[0]=Y\nd[0]=Y\ne[0]=Y\n",
		   "node a\nnode b\nnode c\nnode d\nnode e\n"
		   "link a:eth0 b:eth0    # collision domain X\n"
		   "segment Y c:eth0 d:eth0 e:eth0\n", NULL,
		   "two members → link, three → segment");
	kathara_ok("a[3]=\"X\"\nb[1]='X'   # comment\n", "link a:eth3 b:eth1", NULL,
		   "interface N is ethN; quotes and comments");
	kathara_ok("# comment\n\n  \na[0]=X\r\nb[0]=X\r\n", "link a:eth0 b:eth0", NULL,
		   "comments, blank lines, CRLF");
	kathara_ok("LAB_NAME=\"ospf\"\nLAB_DESCRIPTION=\"a test\"\na[0]=X\nb[0]=X\n",
		   "# DESCRIPTION: a test\nsim ospf\n", NULL, "lab name and description");
	kathara_ok("LAB_NAME=\"My Lab\"\na[0]=X\nb[0]=X\n", "sim my-lab\n",
		   "lab.conf:1: lab name `My Lab` is sim `my-lab`", "lab name mapped");
	kathara_ok("a[0]=X\nb[0]=X\na[image]=\"kathara/frr\"\n",
		   "node a rootfs=frr caps=+sys_admin\nnode b\n", NULL,
		   "kathara/frr is the frr rootfs, with CAP_SYS_ADMIN for its daemons");
	kathara_ok("a[0]=X\nb[0]=X\na[image]=docker.io/kathara/frr:latest\nb[image]=kathara/base\n",
		   "node a rootfs=frr caps=+sys_admin\nnode b\n", NULL,
		   "registry and tag are ignored; kathara/base is the default (meshlite)");
	kathara_ok("a[0]=X\nb[0]=X\na[image]=\"kathara/p4\"\n", "node a\n",
		   "/nonexistent/lab.conf:3: not translated: a[image]=kathara/p4 (netsim has no rootfs "
		   "for this image: the node runs meshlite; give one with --image kathara/p4=ROOTFS)",
		   "an unknown image is named");
	kathara_ok("a[0]=X\nb[0]=X\na[ipv6]=True\n", "link a:eth0 b:eth0", NULL,
		   "ipv6=True is what netsim does anyway");
	kathara_ok("a[0]=X\nb[0]=X\na[ipv6]=false\n", "link a:eth0 b:eth0",
		   "a[ipv6]=false (netsim nodes always have IPv6", "ipv6=false is named");
	kathara_ok("a[0]=X\nb[0]=X\nb[mem]=256m\nb[colour]=red\n", NULL,
		   "lab.conf:4: not translated: b[colour]=red (no netsim equivalent)",
		   "unknown option");
	kathara_ok("a[0]=X/02:00:00:00:00:01\nb[0]=X\n", "link a:eth0 b:eth0",
		   "lab.conf:1: not translated: MAC address 02:00:00:00:00:01", "MAC address");
	kathara_ok("a[0]=X\nb[0]=X\nb[1]=Z\n", "link a:eth0 b:eth0    # collision domain X\n"
		   "segment Z b:eth1\n", NULL,
		   "a domain with one device");
	kathara_ok("a[0]=X\nb[0]=X\nb[1]=X\nc[0]=X\n", "segment X a:eth0 b:eth0 c:eth0\n",
		   "lab.conf:3: not translated: b[1] (the device is on collision domain X already, line 2)",
		   "a device twice on one domain");
	kathara_ok("router_one[0]=X\nrouter_two[0]=X\n", "link router-one:eth0 router-two:eth0",
		   "node `router_one` is named `router-one`", "device names mapped");
	kathara_ok("a[0]=LONG_DOMAIN_NAME_HERE\nb[0]=LONG_DOMAIN_NAME_HERE\nc[0]=LONG_DOMAIN_NAME_HERE\n",
		   "segment LONG_DOMAIN_NAM a:eth0", "is segment `LONG_DOMAIN_NAM`",
		   "long domain names cut to an interface name");
	kathara_ok("LAB_FOO=1\na[0]=X\nb[0]=X\n", NULL,
		   "lab.conf:1: not translated: LAB_FOO=1 (unknown lab setting)", "unknown lab setting");
	kathara_bad("", "no devices", "an empty file");
	kathara_bad("a[0]=X\nthis is not kathara\n",
		    "lab.conf:2: expected DEVICE[N]=DOMAIN", "a malformed line");
	kathara_bad("a[0]=\"X\n", "lab.conf:1: malformed a[0]= line", "an unterminated quote");
	kathara_bad("a[0]=X Y\n", "lab.conf:1: malformed a[0]= line", "two words");
	kathara_bad("a[0]=X\na[0]=Y\n", "lab.conf:2: a[0] is already assigned at line 1",
		    "an interface twice");
	kathara_bad("a[0]=\"X-1\"\n", "lab.conf:1: collision domain `X-1`", "a bad domain name");
	kathara_bad("a[100000]=X\n", "lab.conf:1: interface number 100000 is too large",
		    "a huge interface number");
	kathara_bad("a[]=X\n", "lab.conf:1: malformed a[]= line", "an empty index");
	test_kathara_lab_dir();

	return tap_done();
}
