/* Topology parser: one test per grammar rule and per error (each error test pins
 * the exact FILE:LINE and message).  Format reference: docs/topology.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "topo/topo.h"

#define FILE_NAME "test.conf"

/* Print a (multi-line) message as TAP diagnostics. */
static void diag(const char *msg)
{
	printf("#   ");
	for (; *msg; msg++) {
		putchar(*msg);
		if (*msg == '\n')
			printf("#   ");
	}
	putchar('\n');
}

static int parse_ok(const char *name, const char *text, struct topo *t, const char *what)
{
	struct error err = { 0 };
	int ret = topo_parse_string(name, text, t, &err);
	if (!ok(ret == 0, "%s: parses", what))
		diag(err.msg);
	return ret == 0;
}

static void fails_as(const char *name, const char *text, const char *want, const char *what)
{
	struct topo t;
	struct error err = { 0 };
	memset(&t, 0xaa, sizeof(t)); /* the parser must not rely on a zeroed topo */
	int ret = topo_parse_string(name, text, &t, &err);
	is_int(ret, -EINVAL, "%s: refused", what);
	is_str(err.msg, want, "%s: message", what);
	ok(t.nnodes == 0 && t.nodes == NULL && t.nlinks == 0 && t.links == NULL &&
		   t.nsegments == 0 && t.segments == NULL && t.path == NULL,
	   "%s: topo left empty", what);
	topo_free(&t);
}

static void fails(const char *text, const char *want, const char *what)
{
	fails_as(FILE_NAME, text, want, what);
}

static void test_minimal(void)
{
	struct topo t;
	if (!parse_ok(FILE_NAME, "node n1\nnode n2\nlink n1 n2\n", &t, "minimal topology"))
		return;
	is_str(t.path, FILE_NAME, "path is kept");
	is_str(t.sim, "test", "sim defaults to the file name without .conf");
	is_int(t.nnodes, 2, "two nodes");
	is_str(t.nodes[0].name, "n1", "first node n1");
	is_int(t.nodes[0].index, 1, "n1 has index 1");
	is_int(t.nodes[1].index, 2, "n2 has index 2");
	is_int(t.nodes[1].line, 2, "n2 remembers its line");
	is_str(t.nodes[0].rootfs, "meshlite", "rootfs defaults to meshlite");
	ok(t.nodes[0].files == NULL && t.nodes[0].init == NULL, "files/init default to NULL");
	is_int(t.nodes[0].backend, TOPO_BACKEND_CONTAINER, "backend defaults to container");
	ok(t.nodes[0].qemu_mem_mib == 0 && t.nodes[0].qemu_cpus == 0 &&
		   t.nodes[0].qemu_kernel == NULL,
	   "qemu settings default to 0/NULL");
	is_str(t.nodes[0].addr4, "10.13.0.1/32", "default IPv4 from the index");
	is_str(t.nodes[1].addr6, "fd13::2/128", "default IPv6 from the index");
	is_int(t.nlinks, 1, "one link");
	is_int(t.links[0].a.node, 0, "link end a is n1");
	is_int(t.links[0].b.node, 1, "link end b is n2");
	is_str(t.links[0].a.ifname, "eth0", "first interface of n1 is eth0");
	is_str(t.links[0].b.ifname, "eth0", "first interface of n2 is eth0");
	is_int(t.links[0].quality.set, 0, "no quality set");
	is_int(t.links[0].line, 3, "link remembers its line");
	is_int(t.nodes[0].nifaces, 1, "n1 has one interface");
	is_int(topo_find_node(&t, "n2"), 1, "topo_find_node finds n2");
	is_int(topo_find_node(&t, "n3"), -1, "topo_find_node: -1 for an unknown node");
	topo_free(&t);
	ok(t.nodes == NULL && t.nnodes == 0, "topo_free empties the topo");
	topo_free(&t); /* twice is harmless */
}

static void test_lexical(void)
{
	struct topo t;
	const char *text = "# a comment line\n"
			   "\n"
			   "   \t  \n"
			   "node n1 # trailing comment\n"
			   "node\tn2\t\tinit=/bin/true#comment glued to a value\n"
			   "node n3 init=\"/bin/sh -c 'echo # not a comment'\"\r\n"
			   "node n4 init=\"say \\\"hi\\\" \\\\o/\"\n"
			   "link n1 n2";
	if (!parse_ok(FILE_NAME, text, &t, "comments, blank lines, tabs, CRLF, quotes"))
		return;
	is_int(t.nnodes, 4, "four nodes");
	is_int(t.nodes[0].line, 4, "line numbers count comment and blank lines");
	is_str(t.nodes[1].name, "n2", "tab-separated name");
	is_str(t.nodes[1].init, "/bin/true", "'#' ends a value");
	is_str(t.nodes[2].init, "/bin/sh -c 'echo # not a comment'",
	       "double quotes keep blanks and '#'; CR is a blank");
	is_str(t.nodes[3].init, "say \"hi\" \\o/", "\\\" and \\\\ inside quotes");
	is_int(t.nlinks, 1, "last line without newline");
	topo_free(&t);

	fails("node n1 init=\"/bin/sh\nnode n2\n", FILE_NAME ":1: unterminated \" quote",
	      "unterminated quote");
	fails("node n1\nrouter r1\n",
	      FILE_NAME ":2: unknown keyword `router` (expected sim, defaults, node, link, segment or pair)",
	      "unknown keyword");
	fails("node n1\nNode n2\n",
	      FILE_NAME ":2: unknown keyword `Node` (expected sim, defaults, node, link, segment or pair)",
	      "keywords are case-sensitive");
	fails("node n1 rootfs\n", FILE_NAME ":1: `rootfs` is not an attribute (KEY=VALUE)",
	      "attribute without '='");
	fails("node n1 rootfs=\n", FILE_NAME ":1: rootfs= has an empty value", "empty value");
	fails("node n1 init=\"\"\n", FILE_NAME ":1: init= has an empty value",
	      "empty quoted value");
	fails("node n1 =x\n", FILE_NAME ":1: `=x` has no attribute name before '='",
	      "attribute without a name");
}

static void test_sim(void)
{
	struct topo t;
	if (parse_ok(FILE_NAME, "sim lab-1\nnode n1\n", &t, "sim line")) {
		is_str(t.sim, "lab-1", "sim NAME sets the sim name");
		topo_free(&t);
	}
	if (parse_ok(FILE_NAME, "sim abcdefghijklmnop\nnode n1\n", &t, "16-character sim name")) {
		is_str(t.sim, "abcdefghijklmnop", "16 characters are allowed");
		topo_free(&t);
	}
	if (parse_ok("topologies/3node.conf", "node n1\n", &t, "sim from path")) {
		is_str(t.sim, "3node", "sim from the base name of a path");
		topo_free(&t);
	}
	if (parse_ok("lab", "node n1\n", &t, "sim from a name without .conf")) {
		is_str(t.sim, "lab", "no .conf suffix: the whole base name");
		topo_free(&t);
	}
	if (parse_ok("Bad Name.conf", "sim ok\nnode n1\n", &t, "sim line rescues a bad file name")) {
		is_str(t.sim, "ok", "sim line wins over the file name");
		topo_free(&t);
	}
	fails_as("dir/My Lab.conf", "node n1\n",
		 "dir/My Lab.conf:1: cannot derive a sim name from the file name; add a `sim NAME` line",
		 "file name that is not a sim name");
	fails_as("abcdefghijklmnopq.conf", "node n1\n",
		 "abcdefghijklmnopq.conf:1: cannot derive a sim name from the file name; add a `sim NAME` line",
		 "file name longer than 16 characters");
	fails_as(".conf", "node n1\n",
		 ".conf:1: cannot derive a sim name from the file name; add a `sim NAME` line",
		 "file name that is only .conf");
	fails("sim a\nsim b\nnode n1\n", FILE_NAME ":2: sim given twice (first at line 1)",
	      "sim twice");
	fails("node n1\nsim a\n", FILE_NAME ":2: sim must come before the first node (line 1)",
	      "sim after a node");
	fails("sim\nnode n1\n", FILE_NAME ":1: expected `sim NAME`", "sim without a name");
	fails("sim a b\nnode n1\n", FILE_NAME ":1: expected `sim NAME`", "sim with two names");
	fails("sim -a\nnode n1\n",
	      FILE_NAME ":1: `-a` is not a valid sim name ([a-z0-9-], 1 to 16 characters, not starting with '-')",
	      "sim name starting with '-'");
	fails("sim Lab\nnode n1\n",
	      FILE_NAME ":1: `Lab` is not a valid sim name ([a-z0-9-], 1 to 16 characters, not starting with '-')",
	      "sim name with upper case");
	fails("sim abcdefghijklmnopq\nnode n1\n",
	      FILE_NAME ":1: `abcdefghijklmnopq` is not a valid sim name ([a-z0-9-], 1 to 16 characters, not starting with '-')",
	      "sim name of 17 characters");
}

static void test_node_names(void)
{
	struct topo t;
	if (parse_ok(FILE_NAME, "node abcdefghij12\nnode a-b\nnode 7\n", &t, "node names")) {
		is_str(t.nodes[0].name, "abcdefghij12", "12-character node name");
		is_str(t.nodes[1].name, "a-b", "node name with '-'");
		topo_free(&t);
	}
	ok(topo_valid_name("n1", TOPO_NAME_MAX), "topo_valid_name(n1)");
	ok(!topo_valid_name("", TOPO_NAME_MAX), "topo_valid_name: empty is invalid");
	ok(!topo_valid_name("-n", TOPO_NAME_MAX), "topo_valid_name: leading '-' is invalid");
	ok(!topo_valid_name("n_1", TOPO_NAME_MAX), "topo_valid_name: '_' is invalid");
	ok(!topo_valid_name("abcdefghij123", TOPO_NAME_MAX), "topo_valid_name: 13 > 12");

	fails("node\n", FILE_NAME ":1: expected `node NAME [ATTR=VALUE...]`", "node without a name");
	fails("node rootfs=x\n", FILE_NAME ":1: expected `node NAME [ATTR=VALUE...]`",
	      "node with an attribute as name");
	fails("node abcdefghij123\n",
	      FILE_NAME ":1: `abcdefghij123` is not a valid node name ([a-z0-9-], 1 to 12 characters, not starting with '-')",
	      "node name of 13 characters");
	fails("node N1\n",
	      FILE_NAME ":1: `N1` is not a valid node name ([a-z0-9-], 1 to 12 characters, not starting with '-')",
	      "node name with upper case");
	fails("node n_1\n",
	      FILE_NAME ":1: `n_1` is not a valid node name ([a-z0-9-], 1 to 12 characters, not starting with '-')",
	      "node name with '_'");
	fails("node n1\nnode n2\n\nnode n1\n", FILE_NAME ":4: node n1 already declared at line 1",
	      "duplicate node names the first line");
}

static void test_node_attrs(void)
{
	struct topo t;
	const char *text =
		"node n1 rootfs=/srv/openwrt.tar.gz files=/srv/overlay init=/sbin/procd\n"
		"node n2 addr=192.168.1.1/24 addr6=2001:DB8:0:0::1/64\n"
		"node n3 addr=10.0.0.3 addr6=fd00::3\n"
		"node n4 backend=qemu mem=512M cpus=2 kernel=/boot/vmlinuz\n"
		"node n5 backend=qemu mem=2G\n"
		"node n6 backend=qemu mem=256\n"
		"node n7 backend=container addr=0.0.0.0/0\n"
		"defaults mem=1G pids=100\n"
		"node n8 mem=64M pids=32 cpu=200 disk=1G\n"
		"node n9 backend=qemu\n"
		"node n10 caps=+sys_admin\n";
	if (!parse_ok(FILE_NAME, text, &t, "node attributes"))
		return;
	is_str(t.nodes[0].rootfs, "/srv/openwrt.tar.gz", "rootfs=");
	is_str(t.nodes[0].files, "/srv/overlay", "files=");
	is_str(t.nodes[0].init, "/sbin/procd", "init=");
	is_str(t.nodes[1].addr4, "192.168.1.1/24", "addr= with a prefix");
	is_str(t.nodes[1].addr6, "2001:db8::1/64", "addr6= is written canonically");
	is_str(t.nodes[2].addr4, "10.0.0.3/32", "addr= without a prefix is /32");
	is_str(t.nodes[2].addr6, "fd00::3/128", "addr6= without a prefix is /128");
	is_int(t.nodes[3].backend, TOPO_BACKEND_QEMU, "backend=qemu");
	is_int(t.nodes[3].qemu_mem_mib, 512, "mem=512M");
	is_int(t.nodes[3].qemu_cpus, 2, "cpus=2");
	is_str(t.nodes[3].qemu_kernel, "/boot/vmlinuz", "kernel=");
	is_int(t.nodes[4].qemu_mem_mib, 2048, "mem=2G is 2048 MiB");
	is_int(t.nodes[5].qemu_mem_mib, 256, "mem= bare number is MiB");
	is_int(t.nodes[6].backend, TOPO_BACKEND_CONTAINER, "backend=container");
	is_str(t.nodes[6].addr4, "0.0.0.0/0", "prefix 0 is allowed");
	is_int(t.nodes[6].limit_mem_mib + t.nodes[6].limit_pids + t.nodes[6].limit_cpu_weight, 0,
	       "container node without limits: 0 (the defaults)");
	is_int(t.nodes[7].limit_mem_mib, 64, "container mem=64M");
	is_int(t.nodes[7].limit_pids, 32, "container pids=32");
	is_int(t.nodes[7].limit_cpu_weight, 200, "container cpu=200");
	is_int(t.nodes[7].limit_disk_mib, 1024, "container disk=1G");
	is_int(t.nodes[7].qemu_mem_mib, 0, "container mem= is not a VM size");
	is_int(t.nodes[8].qemu_mem_mib, 1024, "defaults mem= sizes a VM");
	is_int(t.nodes[8].limit_pids, 0, "defaults pids= does not apply to a VM");
	is_int(t.nodes[9].limit_mem_mib, 1024, "defaults mem= limits a container");
	is_int(t.nodes[9].limit_pids, 100, "defaults pids= limits a container");
	is_int(t.nodes[9].sys_admin, 1, "caps=+sys_admin");
	is_int(t.nodes[8].sys_admin, 0, "no caps=: no CAP_SYS_ADMIN");
	topo_free(&t);

	fails("node n1 colour=red\n",
	      FILE_NAME ":1: unknown node attribute `colour` (valid: rootfs, files, init, addr, addr6, backend, mem, cpus, kernel, pids, cpu, disk, feed, config, caps, startup, pos)",
	      "unknown node attribute");
	fails("node n1 rate=1mbit\n",
	      FILE_NAME ":1: unknown node attribute `rate` (valid: rootfs, files, init, addr, addr6, backend, mem, cpus, kernel, pids, cpu, disk, feed, config, caps, startup, pos)",
	      "link attribute on a node");
	fails("node n1 init=/a init=/b\n", FILE_NAME ":1: init= given twice",
	      "duplicate attribute on one line");
	fails("node n1 backend=vm\n", FILE_NAME ":1: backend=vm: the backends are container and qemu",
	      "unknown backend");
	fails("node n1 backend=qemu pids=64 cpu=50\n",
	      FILE_NAME ":1: pids= is only for container nodes (a VM is limited by mem= and cpus=)\n"
	      FILE_NAME ":1: cpu= is only for container nodes (a VM is limited by mem= and cpus=)",
	      "pids= and cpu= on a qemu node");
	fails("node n1 pids=4\n", FILE_NAME ":1: pids=4: give a number of processes from 8 to 4194304",
	      "pids= below the minimum");
	fails("node n1 pids=lots\n",
	      FILE_NAME ":1: pids=lots: give a number of processes from 8 to 4194304", "pids= not a number");
	fails("node n1 caps=+net_admin\n",
	      FILE_NAME ":1: caps=+net_admin: the only one is caps=+sys_admin (for FRR; caps=- for none)",
	      "caps= other than +sys_admin");
	fails("node n1 backend=qemu caps=+sys_admin\n",
	      FILE_NAME ":1: caps= is only for container nodes (a VM is limited by mem= and cpus=)",
	      "caps= on a qemu node");
	fails("node n1 disk=5T\n",
	      FILE_NAME ":1: disk=5T: give MiB or GiB, e.g. disk=512M or disk=2G", "disk= in TiB");
	fails("node n1 backend=qemu disk=1G\n",
	      FILE_NAME ":1: disk= is only for container nodes (a VM is limited by mem= and cpus=)",
	      "disk= on a qemu node");
	fails("node n1 cpu=0\n",
	      FILE_NAME ":1: cpu=0: give a CPU weight from 1 to 10000 (100 = a default node's share)",
	      "cpu=0");
	fails("node n1 cpu=10001\n",
	      FILE_NAME ":1: cpu=10001: give a CPU weight from 1 to 10000 (100 = a default node's share)",
	      "cpu= above the maximum");
	fails("node n1 mem=64K\n", FILE_NAME ":1: mem=64K: give MiB or GiB, e.g. mem=512M or mem=2G",
	      "mem= on a container node in KiB");
	fails("node n1 cpus=2 kernel=/k\n",
	      FILE_NAME ":1: cpus= is only for backend=qemu nodes\n" FILE_NAME
			":1: kernel= is only for backend=qemu nodes",
	      "cpus= and kernel= on a container node");
	fails("node n1 backend=qemu mem=512K\n",
	      FILE_NAME ":1: mem=512K: give MiB or GiB, e.g. mem=512M or mem=2G", "mem= in KiB");
	fails("node n1 backend=qemu mem=0\n",
	      FILE_NAME ":1: mem=0: give MiB or GiB, e.g. mem=512M or mem=2G", "mem=0");
	fails("node n1 backend=qemu cpus=0\n", FILE_NAME ":1: cpus=0: give a number from 1 to 1024",
	      "cpus=0");
	fails("node n1 backend=qemu cpus=two\n",
	      FILE_NAME ":1: cpus=two: give a number from 1 to 1024", "cpus= not a number");
}

static void test_addresses(void)
{
	fails("node n1 addr=10.0.0.256\n",
	      FILE_NAME ":1: addr=10.0.0.256 is not an IPv4 address with an optional /PREFIX (0..32)",
	      "bad IPv4 address");
	fails("node n1 addr=10.0.0.1/33\n",
	      FILE_NAME ":1: addr=10.0.0.1/33 is not an IPv4 address with an optional /PREFIX (0..32)",
	      "IPv4 prefix above 32");
	fails("node n1 addr=10.0.0.1/\n",
	      FILE_NAME ":1: addr=10.0.0.1/ is not an IPv4 address with an optional /PREFIX (0..32)",
	      "IPv4 empty prefix");
	fails("node n1 addr=fd00::1\n",
	      FILE_NAME ":1: addr=fd00::1 is not an IPv4 address with an optional /PREFIX (0..32)",
	      "IPv6 address in addr=");
	fails("node n1 addr6=fd00::1/129\n",
	      FILE_NAME ":1: addr6=fd00::1/129 is not an IPv6 address with an optional /PREFIX (0..128)",
	      "IPv6 prefix above 128");
	fails("node n1 addr6=10.0.0.1\n",
	      FILE_NAME ":1: addr6=10.0.0.1 is not an IPv6 address with an optional /PREFIX (0..128)",
	      "IPv4 address in addr6=");
	fails("node n1 addr=10.0.0.1/24\nnode n2 addr=10.0.0.1/32\n",
	      FILE_NAME ":2: node n2: address 10.0.0.1/32 is already node n1's (line 1)",
	      "duplicate IPv4 address (prefix does not matter)");
	fails("node n1\nnode n2\nnode n3 addr=10.13.0.2\n",
	      FILE_NAME ":3: node n3: address 10.13.0.2/32 is already node n2's (line 2)",
	      "explicit address clashing with another node's default");
	fails("node n1 addr=10.13.0.2\nnode n2\n",
	      FILE_NAME ":2: node n2: address 10.13.0.2/32 is already node n1's (line 1)",
	      "default address clashing with an earlier explicit one");
	fails("node n1 addr6=fd00::1\nnode n2 addr6=fd00:0::1/64\n",
	      FILE_NAME ":2: node n2: address fd00::1/64 is already node n1's (line 1)",
	      "duplicate IPv6 address");
}

static void test_defaults(void)
{
	struct topo t;
	const char *text = "defaults rootfs=/r.tar.gz init=/bin/sh\n"
			   "node n1\n"
			   "node n2 init=/sbin/init\n"
			   "defaults backend=qemu mem=1G\n"
			   "node n3\n"
			   "node n4 backend=container\n";
	if (!parse_ok(FILE_NAME, text, &t, "defaults"))
		return;
	is_str(t.nodes[0].rootfs, "/r.tar.gz", "node inherits rootfs from defaults");
	is_str(t.nodes[0].init, "/bin/sh", "node inherits init from defaults");
	is_int(t.nodes[0].backend, TOPO_BACKEND_CONTAINER, "later defaults do not reach back");
	is_str(t.nodes[1].init, "/sbin/init", "a node's own attribute overrides the default");
	is_int(t.nodes[2].backend, TOPO_BACKEND_QEMU, "second defaults line applies to later nodes");
	is_str(t.nodes[2].rootfs, "/r.tar.gz", "defaults lines accumulate");
	is_int(t.nodes[2].qemu_mem_mib, 1024, "qemu node inherits mem=");
	is_int(t.nodes[3].qemu_mem_mib, 0, "container node ignores an inherited mem=");
	topo_free(&t);

	fails("defaults\nnode n1\n", FILE_NAME ":1: expected `defaults ATTR=VALUE...`",
	      "defaults without attributes");
	fails("defaults addr=10.0.0.1\nnode n1\n",
	      FILE_NAME ":1: addr= cannot be a default: every node needs its own address",
	      "addr= in defaults");
	fails("defaults addr6=fd00::1\nnode n1\n",
	      FILE_NAME ":1: addr6= cannot be a default: every node needs its own address",
	      "addr6= in defaults");
	fails("defaults size=3\nnode n1\n",
	      FILE_NAME ":1: unknown node attribute `size` (valid: rootfs, files, init, addr, addr6, backend, mem, cpus, kernel, pids, cpu, disk, feed, config, caps, startup, pos)",
	      "unknown attribute in defaults");
	fails("defaults backend=qemu backend=qemu\nnode n1\n", FILE_NAME ":1: backend= given twice",
	      "duplicate attribute in defaults");
	fails("defaults backend=lxc\nnode n1\n",
	      FILE_NAME ":1: backend=lxc: the backends are container and qemu",
	      "bad value in defaults is reported at the defaults line");
}

static void test_paths_kept(void)
{
	struct topo t;
	const char *text = "defaults files=ov\n"
			   "node n1 rootfs=img/openwrt.tar.gz\n"
			   "node n2 rootfs=/abs/root backend=qemu kernel=vmlinuz\n"
			   "node n3 rootfs=openwrt\n";
	if (parse_ok("labs/t.conf", text, &t, "paths")) {
		/* netsim/sim/sim.c resolves them against the topology's directory */
		is_str(t.nodes[0].rootfs, "img/openwrt.tar.gz", "relative rootfs= kept as written");
		is_str(t.nodes[0].files, "ov", "relative files= kept as written");
		is_str(t.nodes[1].rootfs, "/abs/root", "absolute rootfs= kept");
		is_str(t.nodes[1].qemu_kernel, "vmlinuz", "kernel= kept as written");
		is_str(t.nodes[2].rootfs, "openwrt", "a rootfs name kept");
		topo_free(&t);
	}
}

static void test_links(void)
{
	struct topo t;
	const char *text = "link n1 n2\n"          /* forward references */
			   "link n1:wan n3:lan0\n"
			   "link n1 n2\n"          /* a parallel link */
			   "node n1\nnode n2\nnode n3\n"
			   "link n3 n1\n";
	if (!parse_ok(FILE_NAME, text, &t, "links"))
		return;
	is_int(t.nlinks, 4, "four links");
	is_int(t.links[0].a.node, 0, "forward reference to n1 resolved");
	is_int(t.links[0].b.node, 1, "forward reference to n2 resolved");
	is_str(t.links[1].a.ifname, "wan", "explicit interface name");
	is_str(t.links[1].b.ifname, "lan0", "explicit interface name on end b");
	is_str(t.links[2].a.ifname, "eth2", "auto names count named interfaces: n1's third is eth2");
	is_str(t.links[2].b.ifname, "eth1", "parallel link gets the next name");
	is_str(t.links[3].a.ifname, "eth1", "n3's second interface is eth1");
	is_str(t.links[3].b.ifname, "eth3", "n1's fourth interface is eth3");
	is_int(t.nodes[0].nifaces, 4, "n1 has four interfaces");
	topo_free(&t);

	if (parse_ok(FILE_NAME, "node a\nnode b\nlink a:abcdefghijklmno b\n", &t,
		     "15-character interface name")) {
		is_str(t.links[0].a.ifname, "abcdefghijklmno", "15 characters fit IFNAMSIZ");
		topo_free(&t);
	}

	fails("node n1\nlink n1 n9\n", FILE_NAME ":2: node n9 is not declared", "undeclared node");
	fails("node n1\nlink n1 n1\n", FILE_NAME ":2: link from node n1 to itself", "self link");
	fails("node n1\nlink n1:a n1:b\n", FILE_NAME ":2: link from node n1 to itself",
	      "self link with named interfaces");
	fails("node n1\nnode n2\nlink n1\n",
	      FILE_NAME ":3: a link has two endpoints (`link A[:IF] B[:IF] [QUALITY...]`), this one has 1",
	      "link with one endpoint");
	fails("node n1\nnode n2\nnode n3\nlink n1 n2 n3\n",
	      FILE_NAME ":4: a link has two endpoints (`link A[:IF] B[:IF] [QUALITY...]`), this one has 3; use a segment to join more nodes",
	      "link with three endpoints");
	fails("node n1\nnode n2\nlink N1 n2\n",
	      FILE_NAME ":3: `N1` is not a valid node name ([a-z0-9-], 1 to 12 characters, not starting with '-')",
	      "invalid node name in a link");
	fails("node n1\nnode n2\nlink n1:lo n2\n",
	      FILE_NAME ":3: `lo` is not a valid interface name (1 to 15 characters, no '/', ':', '%' or blanks, not lo)",
	      "interface named lo");
	fails("node n1\nnode n2\nlink n1: n2\n",
	      FILE_NAME ":3: `` is not a valid interface name (1 to 15 characters, no '/', ':', '%' or blanks, not lo)",
	      "empty interface name");
	fails("node n1\nnode n2\nlink n1:abcdefghijklmnop n2\n",
	      FILE_NAME ":3: `abcdefghijklmnop` is not a valid interface name (1 to 15 characters, no '/', ':', '%' or blanks, not lo)",
	      "16-character interface name");
	fails("node n1\nnode n2\nlink n1:a/b n2\n",
	      FILE_NAME ":3: `a/b` is not a valid interface name (1 to 15 characters, no '/', ':', '%' or blanks, not lo)",
	      "interface name with '/'");
	fails("node n1\nnode n2\nlink n1:a:b n2\n",
	      FILE_NAME ":3: `a:b` is not a valid interface name (1 to 15 characters, no '/', ':', '%' or blanks, not lo)",
	      "interface name with ':'");
	fails("node n1\nnode n2\nlink n1:eth%d n2\n",
	      FILE_NAME ":3: `eth%d` is not a valid interface name (1 to 15 characters, no '/', ':', '%' or blanks, not lo)",
	      "interface name with '%'");
	fails("node n1\nnode n2\nnode n3\nlink n1:x n2\nlink n1:x n3\n",
	      FILE_NAME ":5: node n1 already has an interface x (line 4)",
	      "explicit interface name used twice on a node");
	fails("node n1\nnode n2\nnode n3\nlink n1 n2\nlink n1:eth0 n3\n",
	      FILE_NAME ":5: node n1 already has an interface eth0 (line 4)",
	      "explicit name clashing with an assigned ethN");
	fails("node n1\nnode n2\nnode n3\nlink n1:eth1 n2\nlink n1 n3\n",
	      FILE_NAME ":5: node n1 already has an interface eth1 (line 4)",
	      "assigned ethN clashing with an earlier explicit name");
}

static void test_segments(void)
{
	struct topo t;
	const char *text = "node n1\nnode n2\nnode n3\n"
			   "link n1 n2\n"
			   "segment air0 n1 n2:mesh n3 loss=5%\n"
			   "segment air1 n3 n1\n";
	if (!parse_ok(FILE_NAME, text, &t, "segments"))
		return;
	is_int(t.nsegments, 2, "two segments");
	is_str(t.segments[0].name, "air0", "segment name");
	is_int(t.segments[0].nmembers, 3, "three members");
	is_int(t.segments[0].line, 5, "segment line");
	is_int(t.segments[0].members[0].node, 0, "member 0 is n1");
	is_str(t.segments[0].members[0].ifname, "eth1", "n1: eth0 for the link, eth1 for air0");
	is_str(t.segments[0].members[1].ifname, "mesh", "explicit member interface");
	is_str(t.segments[0].members[2].ifname, "eth0", "n3's first interface");
	is_int(t.segments[0].quality.set, TOPO_Q_LOSS, "segment quality");
	is_int(t.segments[0].quality.loss_ppm, 50000, "loss=5%%");
	is_str(t.segments[1].members[0].ifname, "eth1", "n3's second interface");
	is_str(t.segments[1].members[1].ifname, "eth2", "n1's third interface");
	topo_free(&t);

	fails("node n1\nnode n2\nsegment\n",
	      FILE_NAME ":3: expected `segment NAME NODE[:IF]... [QUALITY...]`", "segment without name");
	fails("node n1\nnode n2\nsegment loss=1% n1 n2\n",
	      FILE_NAME ":3: expected `segment NAME NODE[:IF]... [QUALITY...]`",
	      "segment with an attribute as name");
	if (parse_ok(FILE_NAME, "node n1\nsegment stub0 n1:eth1\n", &t, "a one-member segment")) {
		is_int(t.nsegments, 1, "a one-member segment is a stub LAN");
		is_int(t.segments[0].nmembers, 1, "...of one member");
		is_str(t.segments[0].members[0].ifname, "eth1", "...on the named interface");
		topo_free(&t);
	}
	fails("node n1\nnode n2\nsegment air0 n1 n2 n1\n",
	      FILE_NAME ":3: node n1 is twice in segment air0", "node twice in a segment");
	fails("node n1\nnode n2\nsegment air0 n1:a n2 n1:b\n",
	      FILE_NAME ":3: node n1 is twice in segment air0",
	      "node twice in a segment with different interfaces");
	fails("node n1\nsegment air0 n1 n7\n", FILE_NAME ":2: node n7 is not declared",
	      "undeclared member");
	fails("node n1\nnode n2\nsegment lo n1 n2\n",
	      FILE_NAME ":3: `lo` is not a valid segment name: it names a bridge, so 1 to 15 characters, no '/', ':', '%' or blanks, not lo",
	      "invalid segment name");
	fails("node n1\nnode n2\nsegment abcdefghijklmnop n1 n2\n",
	      FILE_NAME ":3: `abcdefghijklmnop` is not a valid segment name: it names a bridge, so 1 to 15 characters, no '/', ':', '%' or blanks, not lo",
	      "segment name too long");
	fails("node n1\nnode n2\nsegment s n1 n2\nsegment t n1 n2\nsegment s n1 n2\n",
	      FILE_NAME ":5: segment s already declared at line 3", "duplicate segment name");
	fails("node n1\nnode n2\nlink n1:x n2\nsegment s n1:x n2\n",
	      FILE_NAME ":4: node n1 already has an interface x (line 3)",
	      "segment interface clashing with a link's");
}

static void test_quality(void)
{
	struct topo t;
	const char *text = "node n1\nnode n2\n"
			   "link n1 n2 rate=54mbit delay=5ms jitter=1ms loss=1% duplicate=0.5% reorder=25%\n"
			   "link rate=1mbps n1 n2\n"
			   "link n1 n2 delay=0ms\n";
	if (!parse_ok(FILE_NAME, text, &t, "link quality"))
		return;
	const struct topo_quality *q = &t.links[0].quality;
	is_int(q->set,
	       TOPO_Q_RATE | TOPO_Q_DELAY | TOPO_Q_JITTER | TOPO_Q_LOSS | TOPO_Q_DUPLICATE |
		       TOPO_Q_REORDER,
	       "every TOPO_Q_* bit set");
	is_int(q->rate_bps, 54000000, "rate=54mbit");
	is_int(q->delay_us, 5000, "delay=5ms");
	is_int(q->jitter_us, 1000, "jitter=1ms");
	is_int(q->loss_ppm, 10000, "loss=1%%");
	is_int(q->duplicate_ppm, 5000, "duplicate=0.5%%");
	is_int(q->reorder_ppm, 250000, "reorder=25%%");
	is_int(t.links[1].quality.set, TOPO_Q_RATE, "attributes may come before endpoints");
	is_int(t.links[1].quality.rate_bps, 8000000, "rate=1mbps is bytes");
	ok((t.links[1].quality.set & TOPO_Q_NETEM) == 0, "a rate alone needs no netem");
	is_int(t.links[2].quality.set, TOPO_Q_DELAY, "delay=0ms is allowed");
	topo_free(&t);

	const char *rate_hint = "a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)";
	const char *time_hint = "a time such as 5ms, 200us or 1.5s";
	const char *pct_hint = "a percentage from 0% to 100%, such as 1% or 0.5%";
	char want[512];

	snprintf(want, sizeof(want), FILE_NAME ":3: rate=10mbitx: expected %s", rate_hint);
	fails("node n1\nnode n2\nlink n1 n2 rate=10mbitx\n", want, "bad rate");
	snprintf(want, sizeof(want), FILE_NAME ":3: rate=0: expected %s", rate_hint);
	fails("node n1\nnode n2\nlink n1 n2 rate=0\n", want, "zero rate");
	snprintf(want, sizeof(want), FILE_NAME ":3: rate=99999999999999999999gbit is out of range; use %s",
		 rate_hint);
	fails("node n1\nnode n2\nlink n1 n2 rate=99999999999999999999gbit\n", want, "huge rate");
	snprintf(want, sizeof(want), FILE_NAME ":3: delay=5: expected %s", time_hint);
	fails("node n1\nnode n2\nlink n1 n2 delay=5\n", want, "delay without unit");
	snprintf(want, sizeof(want), FILE_NAME ":3: jitter=x: expected %s", time_hint);
	fails("node n1\nnode n2\nlink n1 n2 delay=1ms jitter=x\n", want, "bad jitter");
	snprintf(want, sizeof(want), FILE_NAME ":3: loss=100.1%% is out of range; use %s", pct_hint);
	fails("node n1\nnode n2\nlink n1 n2 loss=100.1%\n", want, "loss above 100%");
	snprintf(want, sizeof(want), FILE_NAME ":3: duplicate=5: expected %s", pct_hint);
	fails("node n1\nnode n2\nlink n1 n2 duplicate=5\n", want, "percent without %");
	snprintf(want, sizeof(want), FILE_NAME ":3: reorder=-1%%: expected %s", pct_hint);
	fails("node n1\nnode n2\nlink n1 n2 delay=1ms reorder=-1%\n", want, "negative reorder");
	fails("node n1\nnode n2\nlink n1 n2 jitter=5ms\n",
	      FILE_NAME ":3: jitter= needs delay= (netem varies the delay by the jitter)",
	      "jitter without delay");
	fails("node n1\nnode n2\nlink n1 n2 reorder=5%\n",
	      FILE_NAME ":3: reorder= needs a delay= above 0 (netem reorders by sending some packets without the delay)",
	      "reorder without delay");
	fails("node n1\nnode n2\nlink n1 n2 reorder=5% delay=0ms\n",
	      FILE_NAME ":3: reorder= needs a delay= above 0 (netem reorders by sending some packets without the delay)",
	      "reorder with delay=0ms");
	fails("node n1\nnode n2\nsegment s n1 n2 jitter=5ms\n",
	      FILE_NAME ":3: jitter= needs delay= (netem varies the delay by the jitter)",
	      "segment jitter without delay");
	fails("node n1\nnode n2\nlink n1 n2 rate=1mbit rate=2mbit\n",
	      FILE_NAME ":3: rate= given twice", "duplicate quality attribute");
	fails("node n1\nnode n2\nlink n1 n2 bandwidth=1mbit\n",
	      FILE_NAME ":3: unknown link attribute `bandwidth` (valid: rate, delay, jitter, loss, duplicate, reorder)",
	      "unknown link attribute");
	fails("node n1\nnode n2\nsegment s n1 n2 rootfs=x\n",
	      FILE_NAME ":3: unknown link attribute `rootfs` (valid: rate, delay, jitter, loss, duplicate, reorder)",
	      "node attribute on a segment");
	fails("node n1\nnode n2\nlink n1 n2 loss=\n", FILE_NAME ":3: loss= has an empty value",
	      "empty quality value");
}

static void test_every_error(void)
{
	/* errors of all phases, reported together and in line order */
	const char *text = "node n1 colour=red\n"   /* 1 */
			   "node n1\n"              /* 2 */
			   "link n1 n9\n"           /* 3: resolved after the file */
			   "sim late\n"             /* 4 */
			   "frobnicate\n"           /* 5 */
			   "link n1 n2 delay=5\n"   /* 6 */
			   "node n2\n";
	fails(text,
	      FILE_NAME ":1: unknown node attribute `colour` (valid: rootfs, files, init, addr, addr6, backend, mem, cpus, kernel, pids, cpu, disk, feed, config, caps, startup, pos)\n"
	      FILE_NAME ":2: node n1 already declared at line 1\n"
	      FILE_NAME ":3: node n9 is not declared\n"
	      FILE_NAME ":4: sim must come before the first node (line 1)\n"
	      FILE_NAME ":5: unknown keyword `frobnicate` (expected sim, defaults, node, link, segment or pair)\n"
	      FILE_NAME ":6: delay=5: expected a time such as 5ms, 200us or 1.5s",
	      "every error is reported, one per line, by line");

	fails("node n1 bad=1 init=\n",
	      FILE_NAME ":1: unknown node attribute `bad` (valid: rootfs, files, init, addr, addr6, backend, mem, cpus, kernel, pids, cpu, disk, feed, config, caps, startup, pos)\n"
	      FILE_NAME ":1: init= has an empty value",
	      "several errors on one line, in order");

	/* more errors than fit in err->msg: the tail says how many were left out */
	size_t size = 200 * 32;
	char *many = malloc(size), *p = many;
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "bogus%d\n", i);
	struct topo t;
	struct error err = { 0 };
	int ret = topo_parse_string(FILE_NAME, many, &t, &err);
	is_int(ret, -EINVAL, "200 errors: refused");
	ok(strncmp(err.msg, FILE_NAME ":1: unknown keyword `bogus0`", 35) == 0,
	   "200 errors: first one first");
	const char *tail = strrchr(err.msg, '\n');
	ok(tail && strncmp(tail, "\n...and ", 8) == 0 && strstr(tail, " more errors"),
	   "200 errors: ends with ...and N more errors");
	unsigned shown = 0, more = 0;
	for (const char *c = err.msg; *c; c++)
		shown += *c == '\n';
	if (tail)
		sscanf(tail, "\n...and %u more errors", &more);
	is_int(shown + more, 200, "200 errors: shown + counted = 200 (%u + %u)", shown, more);
	ok(strlen(err.msg) < sizeof(err.msg), "200 errors: message fits");
	free(many);

	/* a token longer than the message buffer is cut, not overflowing */
	size_t long_len = 5000;
	char *long_line = malloc(long_len + 32);
	strcpy(long_line, "node n1 ");
	memset(long_line + 8, 'x', long_len);
	long_line[8 + long_len] = '\0';
	ret = topo_parse_string(FILE_NAME, long_line, &t, &err);
	is_int(ret, -EINVAL, "huge bad token: refused");
	ok(strlen(err.msg) < 200, "huge bad token: quoted text is shortened");
	free(long_line);
}

static void test_empty(void)
{
	fails("", FILE_NAME ":1: no nodes declared (add `node NAME` lines)", "empty file");
	fails("# nothing\nsim x\n", FILE_NAME ":1: no nodes declared (add `node NAME` lines)",
	      "file without nodes");
}

static void test_long_lines(void)
{
	/* lines of any length: a 1 MB init= value */
	size_t len = 1 << 20;
	char *text = malloc(len + 64);
	strcpy(text, "node n1 init=/bin/");
	size_t at = strlen(text);
	memset(text + at, 'a', len);
	strcpy(text + at + len, "\nnode n2\n");
	struct topo t;
	if (parse_ok(FILE_NAME, text, &t, "1 MB line")) {
		is_int(strlen(t.nodes[0].init), len + 5, "1 MB init= value kept whole");
		is_int(t.nodes[1].line, 2, "next line numbered 2");
		topo_free(&t);
	}
	free(text);
}

static void test_limits(void)
{
	/* 65534 nodes in a ring: addresses derive from the index, so this is the limit */
	size_t size = 65535 * 40;
	char *text = malloc(size), *p = text;
	for (unsigned i = 1; i <= 65534; i++)
		p += sprintf(p, "node n%u\n", i);
	for (unsigned i = 1; i <= 65534; i++)
		p += sprintf(p, "link n%u n%u\n", i, i % 65534 + 1);
	struct topo t;
	if (parse_ok(FILE_NAME, text, &t, "65534 nodes in a ring")) {
		is_int(t.nnodes, 65534, "65534 nodes");
		is_str(t.nodes[65533].addr4, "10.13.255.254/32", "last node's IPv4");
		is_str(t.nodes[65533].addr6, "fd13::ff:fe/128", "last node's IPv6");
		is_str(t.links[65533].a.ifname, "eth1", "last link's first end: n65534's second");
		topo_free(&t);
	}
	free(text);

	text = malloc(65536 * 16);
	p = text;
	for (unsigned i = 1; i <= 65536; i++)
		p += sprintf(p, "node n%u\n", i);
	fails(text, FILE_NAME ":65535: too many nodes (at most 65534)",
	      "65535th node refused, reported once");
	free(text);
}

static char tmpdir[] = "/tmp/netsim-test-topo-XXXXXX";

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		printf("# cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
}

static void test_file(void)
{
	char path[256], missing[256];
	struct topo t;
	struct error err = { 0 };

	if (!mkdtemp(tmpdir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/lab.conf", tmpdir);
	write_file(path, "node n1\nnode n2 rootfs=r.tar.gz\nlink n1 n2\n", 42);
	int ret = topo_parse_file(path, &t, &err);
	is_int(ret, 0, "topo_parse_file reads a file");
	if (ret == 0) {
		is_str(t.sim, "lab", "sim name from the file name");
		is_str(t.path, path, "path as given");
		is_str(t.nodes[1].rootfs, "r.tar.gz", "rootfs= as written");
		topo_free(&t);
	}

	write_file(path, "node n1\nnode n2 \0x\n", 19);
	ret = topo_parse_file(path, &t, &err);
	is_int(ret, -EINVAL, "NUL byte refused");
	char want[300];
	snprintf(want, sizeof(want), "%s:2: line contains a NUL byte", path);
	is_str(err.msg, want, "NUL byte: message with FILE:LINE");
	unlink(path);

	snprintf(missing, sizeof(missing), "%s/missing.conf", tmpdir);
	ret = topo_parse_file(missing, &t, &err);
	is_int(ret, -ENOENT, "missing file: -ENOENT");
	snprintf(want, sizeof(want), "%s: No such file or directory", missing);
	is_str(err.msg, want, "missing file: FILE: No such file or directory");
	ok(t.nodes == NULL && t.path == NULL, "missing file: topo empty");

	ret = topo_parse_file(tmpdir, &t, &err);
	ok(ret < 0, "a directory is refused");
	rmdir(tmpdir);

	/* the shipped example (prove runs from the top of the tree) */
	if (access("topologies/3node.conf", R_OK) == 0) {
		ret = topo_parse_file("topologies/3node.conf", &t, &err);
		is_int(ret, 0, "topologies/3node.conf parses");
		if (ret == 0) {
			is_str(t.sim, "3node", "3node: sim name");
			is_int(t.nnodes, 3, "3node: three nodes");
			is_int(t.nlinks, 2, "3node: two links");
			topo_free(&t);
		} else {
			diag(err.msg);
		}
	}
}

static void test_radio(void)
{
	struct topo t;
	const char *text = "node a pos=0,0\n"
			   "node b pos=80,0\n"
			   "node c pos=160,-2.5,5\n"
			   "segment air0 a b c medium=radio rate=11mbit exponent=3.5 seed=7 loss=1%\n"
			   "pair air0 a>b loss=40%\n"
			   "pair air0 b c delay=3ms rate=1mbit\n"
			   "pair air0 a c cut\n";
	if (!parse_ok(FILE_NAME, text, &t, "radio segment"))
		return;
	ok(t.nodes[0].has_pos && t.nodes[0].pos[0] == 0 && t.nodes[0].pos[2] == 0, "a at 0,0,0");
	ok(t.nodes[2].pos[0] == 160 && t.nodes[2].pos[1] == -2.5 && t.nodes[2].pos[2] == 5,
	   "c at 160,-2.5,5");
	const struct topo_segment *seg = &t.segments[0];
	is_int(seg->medium, TOPO_MEDIUM_RADIO, "medium=radio");
	ok(seg->radio.exponent == 3.5, "exponent=3.5");
	ok(seg->radio.seed == 7, "seed=7");
	ok(seg->radio.tx_power_dbm == 20 && seg->radio.ref_loss_db == 40 &&
		   seg->radio.noise_dbm == -95 && seg->radio.shadow_sigma_db == 0 &&
		   seg->radio.hidden_nodes && seg->radio.queue_frames == 100,
	   "the other parameters default");
	ok(seg->radio.capacity_bps == 11000000 && (seg->quality.set & TOPO_Q_RATE) &&
		   seg->quality.rate_bps == 11000000,
	   "rate= is the capacity");
	ok(seg->quality.loss_ppm == 10000 && (seg->quality.set & TOPO_Q_LOSS),
	   "the segment's loss= stays for every pair");
	is_int(t.npairs, 5, "a>b once, b c and a c both ways");
	ok(t.pairs[0].segment == 0 && t.pairs[0].from == 0 && t.pairs[0].to == 1 &&
		   t.pairs[0].quality.set == TOPO_Q_LOSS && t.pairs[0].quality.loss_ppm == 400000 &&
		   !t.pairs[0].cut && t.pairs[0].line == 5,
	   "a>b loss=40%%");
	ok(t.pairs[1].from == 1 && t.pairs[1].to == 2 && t.pairs[2].from == 2 && t.pairs[2].to == 1 &&
		   t.pairs[2].quality.delay_us == 3000 && t.pairs[2].quality.rate_bps == 1000000,
	   "b c: both ways, the same quality");
	ok(t.pairs[3].cut && t.pairs[4].cut && t.pairs[3].quality.set == 0 && t.pairs[4].line == 7,
	   "a c cut, both ways");
	topo_free(&t);

	if (parse_ok(FILE_NAME,
		     "node a pos=0,0\nnode b pos=1,0\nnode c pos=2,0\nlink a b\n"
		     "segment air0 a b medium=wifi\n"
		     "segment cell a b:mesh1 c medium=wifi mode=ibss channel=11 ssid=Lime-1 seed=3\n"
		     "segment m2 a c medium=wifi forwarding=off\n"
		     "segment b+x a b medium=wifi\n"
		     "pair air0 a b loss=10%\n",
		     &t, "wifi segments")) {
		const struct topo_segment *w = &t.segments[0], *c = &t.segments[1];
		ok(w->medium == TOPO_MEDIUM_WIFI && w->wifi.mode == TOPO_WIFI_MESH &&
			   w->wifi.channel == 1 && strcmp(w->wifi.ssid, "air0") == 0 &&
			   w->wifi.forwarding && w->radio.capacity_bps == 54000000,
		   "medium=wifi defaults: 802.11s mesh on channel 1, the segment's name as mesh id, "
		   "forwarding on, the radio model's defaults");
		ok(c->wifi.mode == TOPO_WIFI_IBSS && c->wifi.channel == 11 &&
			   strcmp(c->wifi.ssid, "Lime-1") == 0 && c->radio.seed == 3,
		   "mode=ibss channel=11 ssid=Lime-1, with model parameters");
		ok(!t.segments[2].wifi.forwarding, "forwarding=off");
		is_str(t.segments[3].wifi.ssid, "netsim", "a segment name with other characters: ssid netsim");
		is_str(w->members[0].ifname, "wlan0", "a's first wifi interface is wlan0");
		is_str(c->members[0].ifname, "wlan1", "its second wlan1");
		is_str(t.links[0].a.ifname, "eth0", "its link stays eth0");
		is_str(c->members[1].ifname, "mesh1", "a name given is kept");
		is_str(c->members[2].ifname, "wlan0", "c is not on air0: its first wifi interface is this wlan0");
		is_int(t.npairs, 2, "pair lines apply to wifi segments");
		is_int(topo_wifi_freq(1), 2412, "channel 1 is 2412 MHz");
		is_int(topo_wifi_freq(13), 2472, "channel 13 is 2472 MHz");
		topo_free(&t);
	}

	if (parse_ok(FILE_NAME,
		     "node a pos=1,2\nnode b pos=3,4\nnode c\n"
		     "segment s0 a b medium=radio txpower=15dBm refloss=46.7dB noise=-90 "
		     "shadowing=4 hidden=off queue=20 seed=18446744073709551615\n"
		     "segment s1 a b c\n",
		     &t, "radio parameters")) {
		const struct topo_radio *r = &t.segments[0].radio;
		ok(r->tx_power_dbm == 15 && r->ref_loss_db == 46.7 && r->noise_dbm == -90 &&
			   r->shadow_sigma_db == 4 && !r->hidden_nodes && r->queue_frames == 20 &&
			   r->seed == UINT64_MAX,
		   "every parameter is read");
		ok(r->capacity_bps == 54000000 && t.segments[0].quality.rate_bps == 54000000,
		   "capacity defaults to 54mbit");
		is_int(t.segments[1].medium, TOPO_MEDIUM_BRIDGE, "a segment is a bridge by default");
		is_int(t.segments[1].quality.set, 0, "a bridge gets no default rate");
		ok(!t.nodes[2].has_pos, "no pos=: has_pos false");
		topo_free(&t);
	}

	double pos[3];
	ok(topo_parse_pos("1,2", pos) && pos[0] == 1 && pos[1] == 2 && pos[2] == 0, "pos X,Y");
	ok(topo_parse_pos("-1.5,+2,.5", pos) && pos[0] == -1.5 && pos[2] == 0.5, "signs, fractions");
	ok(!topo_parse_pos("1", pos) && !topo_parse_pos("1,2,3,4", pos) && !topo_parse_pos("1,,2", pos) &&
		   !topo_parse_pos("1,2,", pos) && !topo_parse_pos("inf,0", pos) &&
		   !topo_parse_pos("nan,0", pos) && !topo_parse_pos("1e3,0", pos) &&
		   !topo_parse_pos("0x10,0", pos) && !topo_parse_pos("2000000,0", pos) &&
		   !topo_parse_pos("1m,2", pos) && !topo_parse_pos("-,2", pos) && !topo_parse_pos(".,2", pos),
	   "bad positions refused");

	/* errors, each with its line */
	fails("node a pos=0,0\nnode b\nsegment air0 a b medium=radio\n",
	      FILE_NAME ":3: node b is on radio segment air0 but has no pos= (add pos=X,Y to its node line, line 2)",
	      "radio member without pos=");
	fails("node a pos=0\n", FILE_NAME ":1: pos=0: give X,Y or X,Y,Z in metres, e.g. pos=80,0 or pos=-12.5,40,3",
	      "bad pos");
	fails("defaults pos=1,1\nnode a\n",
	      FILE_NAME ":1: pos= cannot be a default: every node has its own position", "pos= on defaults");
	fails("node a pos=0,0\nnode b pos=1,0\nsegment air0 a b medium=lte\n",
	      FILE_NAME ":3: medium=lte: the media are bridge (the default), radio and wifi",
	      "unknown medium");
	fails("node a\nnode b\nsegment s a b exponent=3\n",
	      FILE_NAME ":3: exponent= is only for medium=radio and medium=wifi segments",
	      "radio parameter on a bridge");
	fails("node a pos=0,0\nnode b pos=1,0\nsegment s a b medium=radio mode=mesh\n",
	      FILE_NAME ":3: mode= is only for medium=wifi segments", "wifi parameter on a radio segment");
	fails("node a pos=0,0\nnode b pos=1,0\n"
	      "segment w a b medium=wifi mode=adhoc channel=14 ssid=a;b forwarding=maybe\n",
	      FILE_NAME ":3: mode=adhoc: give mesh (802.11s) or ibss (ad-hoc)\n"
	      FILE_NAME ":3: channel=14: give a 2.4 GHz channel from 1 to 13\n"
	      FILE_NAME ":3: ssid=a;b: give 1 to 32 characters of A-Z a-z 0-9 _ . -\n"
	      FILE_NAME ":3: forwarding=maybe: give on or off", "bad wifi values, each named");
	fails("node a pos=0,0\nnode b\nsegment w a b medium=wifi\n",
	      FILE_NAME ":3: node b is on radio segment w but has no pos= (add pos=X,Y to its node "
	      "line, line 2)", "a wifi member needs a position");
	fails("node a pos=0,0 backend=qemu\nnode b pos=1,0\nsegment w a b medium=wifi\n",
	      FILE_NAME ":3: node a has backend=qemu: the radios of wifi segment w are the host "
	      "kernel's, a qemu node has its own (run the whole sim in one VM with `netsim up --vm`)",
	      "a qemu node on a wifi segment is refused");
	fails("node a pos=0,0\nnode b pos=1,0\nsegment s a b medium=radio exponent=0.5 txpower=x "
	      "refloss=-1 noise=5 shadowing=51 seed=-1 hidden=yes queue=0 seed=2\n",
	      FILE_NAME ":3: exponent=0.5: give a path loss exponent from 1 to 8 (2 = free space)\n"
	      FILE_NAME ":3: txpower=x: give a transmit power from -50 to 60 (dBm)\n"
	      FILE_NAME ":3: refloss=-1: give the path loss at 1 m, from 0 to 200 (dB)\n"
	      FILE_NAME ":3: noise=5: give a noise floor from -200 to 0 (dBm)\n"
	      FILE_NAME ":3: shadowing=51: give the shadowing's standard deviation from 0 (off) to 50 (dB)\n"
	      FILE_NAME ":3: seed=-1: give a whole number from 0 to 18446744073709551615\n"
	      FILE_NAME ":3: hidden=yes: give on or off\n"
	      FILE_NAME ":3: queue=0: give a number of frames from 1 to 100000\n"
	      FILE_NAME ":3: seed= given twice",
	      "bad radio numbers");
	fails("node a pos=0,0\nnode b pos=1,0\nsegment s a b medium=radio delay=1ms jitter=1ms\n",
	      FILE_NAME ":3: jitter= is not for a radio segment (the medium has rate=, delay= and loss=)",
	      "netem-only quality on a radio segment");
	fails("node a pos=0,0\nnode b pos=1,0\nnode c\nsegment s a b medium=radio\nsegment w a b c\n"
	      "pair w a b loss=1%\npair s a c loss=1%\npair t a b cut\npair s a>a cut\n"
	      "pair s a b\npair s a b cut loss=1%\npair s a b jitter=1ms delay=1ms\npair s a\n"
	      "pair s a b c\npair s A>b cut\npair s a b loss=2\n",
	      FILE_NAME ":6: segment w is a bridge: pairs are for medium=radio segments (line 5)\n"
	      FILE_NAME ":7: node c is not a member of segment s (line 4)\n"
	      FILE_NAME ":8: segment t is not declared\n"
	      FILE_NAME ":9: pair from node a to itself\n"
	      FILE_NAME ":10: the pair sets nothing: give loss=, rate=, delay= or cut\n"
	      FILE_NAME ":11: a cut pair carries no frames: give cut or quality, not both\n"
	      FILE_NAME ":12: a pair takes rate=, delay= and loss= only\n"
	      FILE_NAME ":13: a pair names two members: `A B` (both ways) or `A>B` (one way)\n"
	      FILE_NAME ":14: `c`: after the members a pair takes only QUALITY attributes and cut\n"
	      FILE_NAME ":15: `A` is not a valid node name ([a-z0-9-], 1 to 12 characters, not starting with '-')\n"
	      FILE_NAME ":16: loss=2: expected a percentage from 0% to 100%, such as 1% or 0.5%",
	      "bad pair lines");
	fails("node a pos=0,0\nnode b pos=1,0\nsegment s a b medium=radio\n"
	      "pair s a>b loss=1%\npair s a b cut\npair s b>a rate=1mbit\n",
	      FILE_NAME ":5: pair a>b on s already given at line 4\n"
	      FILE_NAME ":6: pair b>a on s already given at line 5",
	      "duplicate pair");
	fails("pair\nnode a\n",
	      FILE_NAME ":1: expected `pair SEGMENT A B|A>B [loss=..] [rate=..] [delay=..] [cut]`",
	      "pair without words");
}

int main(void)
{
	test_minimal();
	test_lexical();
	test_sim();
	test_node_names();
	test_node_attrs();
	test_addresses();
	test_defaults();
	test_paths_kept();
	test_links();
	test_segments();
	test_radio();
	test_quality();
	test_every_error();
	test_empty();
	test_long_lines();
	test_limits();
	test_file();
	return tap_done();
}
