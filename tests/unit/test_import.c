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
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\"}]}",
		   "node a\nnode b\nlink a b\n", NULL, "links only");
	meshnet_ok("{\"nodes\": [{\"id\": 0}, {\"id\": 1}, {\"id\": 2}],"
		   " \"links\": [{\"source\": 0, \"target\": 1}, {\"source\": 1, \"target\": 2}]}",
		   "node 0\nnode 1\nnode 2\nlink 0 1\nlink 1 2\n", NULL, "integer ids");
	meshnet_ok("{\"nodes\": [{\"id\": \"lonely\"}], \"links\": []}", "node lonely\n", NULL,
		   "a node without links");
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
		   " {\"source\": \"b\", \"target\": \"a\"}]}", "link a b\n",
		   "$.links[1]: not translated: a second link between `b` and `a`",
		   "a duplicate link");
	meshnet_ok("{\"links\": [{\"source\": \"a\", \"target\": \"b\"},"
		   " {\"source\": \"a\", \"target\": \"a\"}]}", "link a b\n",
		   "$.links[1]: not translated: a link from node `a` to itself", "a self link");
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
			is_int(res.nnotes, 4, "each unknown key is one note");
			has(res.notes, "in.json:$: not translated: top-level key `label`", "top-level key");
			has(res.notes, "in.json:$.links[0]: not translated: link attribute `source_tc`",
			    "tc command");
			has(res.notes, "in.json:$.links[0]: not translated: link attribute `type`",
			    "link type");
			hasnt(res.topology, "tbf", "no tc command in the output topology lines");
			import_result_free(&res);
		}
	}
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
