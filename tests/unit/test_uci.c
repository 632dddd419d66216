/* config=uci: the topology attribute and the /etc/config files written from it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/uci.h"
#include "tap.h"
#include "topo/topo.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_parse(void)
{
	struct topo t;
	struct error err = {0};
	is_int(topo_parse_string("t.conf", "defaults config=uci\nnode a\nnode b config=none\n"
				 "link a b\n", &t, &err), 0, "config=uci and config=none parse");
	is_int(t.nodes[0].config, TOPO_CONFIG_UCI, "config=uci from defaults");
	is_int(t.nodes[1].config, TOPO_CONFIG_NONE, "config=none on the node wins");
	topo_free(&t);

	is_int(topo_parse_string("t.conf", "node a config=lime\n", &t, &err), -EINVAL,
	       "config=lime is refused");
	is_str(err.msg, "t.conf:1: config=lime: want uci (write the node's /etc/config from the "
	       "topology) or none", "... with what it takes");
	is_int(topo_parse_string("t.conf", "node a backend=qemu config=uci\n", &t, &err), -EINVAL,
	       "config=uci on a VM is refused");
	ok(strstr(err.msg, "config= is only for container nodes") != NULL, "... saying why (%s)",
	   err.msg);
	is_int(topo_parse_string("t.conf", "node a config=uci\nnode b\nlink a:we'ird b\n", &t,
				 &err), -EINVAL, "an interface name uci cannot hold is refused");
	ok(strstr(err.msg, "t.conf:3: node a has config=uci: interface name `we'ird`") != NULL,
	   "... at its line (%s)", err.msg);
	is_int(topo_parse_string("t.conf", "node a\nnode b\nlink a:we'ird b\n", &t, &err), 0,
	       "the same name without config=uci is fine");
	topo_free(&t);
}

static void test_files(void)
{
	char tmp[] = "/tmp/test_uci.XXXXXX";
	if (!mkdtemp(tmp)) {
		ok(0, "mkdtemp");
		return;
	}
	char path[512], dir[512], layer[512];
	struct topo t;
	struct error err = {0};
	if (!ok(topo_parse_string("t.conf", "node a addr=10.9.0.1 config=uci\nnode b\nnode c\n"
				  "node d\nlink a b\nsegment s0 a:wan.1 c d\n",
				  &t, &err) == 0, "topology parses"))
		printf("# %s\n", err.msg);

	/* a rootfs without babeld */
	snprintf(layer, sizeof(layer), "%s/rootfs", tmp);
	mkdir(layer, 0755);
	const char *layers[] = {layer, NULL};
	snprintf(dir, sizeof(dir), "%s/uci", tmp);
	is_int(uci_layer_write(&t, 0, layers, dir, &err), 0, "the layer is written");
	snprintf(path, sizeof(path), "%s/etc/config/network", dir);
	const char *net = slurp(path);
	ok(net && strstr(net, "config interface 'netsim'\n\toption device 'lo'\n\toption ifname "
			 "'lo'\n\toption proto 'static'\n\toption ipaddr '10.9.0.1'\n\toption "
			 "netmask '255.255.255.255'\n\toption ip6addr 'fd13::1/128'\n"),
	   "network: the node's addresses on lo, both spellings of the device");
	ok(net && strstr(net, "config interface 'eth0'\n\toption device 'eth0'\n"),
	   "network: the link's interface");
	ok(net && strstr(net, "config route\n\toption interface 'eth0'\n\toption target "
			 "'10.13.0.2'\n\toption netmask '255.255.255.255'\n"),
	   "network: a device route to the link's peer");
	ok(net && strstr(net, "config route6\n\toption interface 'eth0'\n\toption target "
			 "'fd13::2/128'\n"),
	   "network: and its IPv6 address");
	ok(net && strstr(net, "config interface 'wan_1'\n\toption device 'wan.1'\n"),
	   "network: a dotted name gets a uci-safe section name");
	ok(net && strstr(net, "option interface 'wan_1'\n\toption target '10.13.0.3'") &&
		   strstr(net, "option interface 'wan_1'\n\toption target '10.13.0.4'"),
	   "network: routes to every other member of the segment");
	snprintf(path, sizeof(path), "%s/etc/config/system", dir);
	const char *sys = slurp(path);
	ok(sys && strstr(sys, "option hostname 'a'"), "system: the hostname");
	snprintf(path, sizeof(path), "%s/etc/config/firewall", dir);
	const char *fw = slurp(path);
	ok(fw && strstr(fw, "option forward 'ACCEPT'"), "firewall: forwards");
	snprintf(path, sizeof(path), "%s/etc/config/babeld", dir);
	ok(access(path, F_OK) < 0, "no babeld config for an image without babeld");
	is_int(uci_layer_write(&t, 0, layers, dir, &err), -EEXIST, "an existing layer is not "
	       "overwritten");

	/* an image with babeld, reached through an absolute symlink inside it */
	char p2[600];
	snprintf(p2, sizeof(p2), "%s/usr", layer);
	mkdir(p2, 0755);
	snprintf(p2, sizeof(p2), "%s/usr/bin", layer);
	mkdir(p2, 0755);
	snprintf(p2, sizeof(p2), "%s/usr/bin/babeld", layer);
	fclose(fopen(p2, "w"));
	snprintf(p2, sizeof(p2), "%s/usr/sbin", layer);
	if (symlink("/usr/bin", p2) < 0)
		ok(0, "symlink");
	snprintf(dir, sizeof(dir), "%s/uci2", tmp);
	is_int(uci_layer_write(&t, 0, layers, dir, &err), 0, "written for an image with babeld");
	snprintf(path, sizeof(path), "%s/etc/config/babeld", dir);
	const char *bab = slurp(path);
	ok(bab && strstr(bab, "config interface\n\toption ifname 'eth0'\n") &&
		   strstr(bab, "config interface\n\toption ifname 'wan.1'\n"),
	   "babeld: every interface");
	ok(bab && strstr(bab, "option ip '10.9.0.1/32'") && strstr(bab, "option action 'deny'"),
	   "babeld: the node's address redistributed, nothing else local");

	/* a symlink out of the layer does not count as the image's babeld */
	snprintf(layer, sizeof(layer), "%s/rootfs2", tmp);
	mkdir(layer, 0755);
	snprintf(p2, sizeof(p2), "%s/usr", layer);
	if (symlink(tmp, p2) < 0) /* tmp/sbin/babeld would be outside */
		ok(0, "symlink");
	snprintf(p2, sizeof(p2), "%s/sbin", tmp);
	mkdir(p2, 0755);
	snprintf(p2, sizeof(p2), "%s/sbin/babeld", tmp);
	fclose(fopen(p2, "w"));
	const char *layers2[] = {layer, NULL};
	snprintf(dir, sizeof(dir), "%s/uci3", tmp);
	is_int(uci_layer_write(&t, 0, layers2, dir, &err), 0, "written (escaping symlink)");
	snprintf(path, sizeof(path), "%s/etc/config/babeld", dir);
	ok(access(path, F_OK) < 0, "a symlink out of the layer is not followed");
	topo_free(&t);

	snprintf(path, sizeof(path), "rm -rf '%s'", tmp);
	if (system(path) != 0)
		ok(0, "cleanup");
}

int main(void)
{
	test_parse();
	test_files();
	tap_plan_done();
	return tap_failed ? 1 : 0;
}
