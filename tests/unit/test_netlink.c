/* netlink.c + netns.c against the real kernel: namespaces, veth pairs, a bridge.
 * Needs root; everything lives in namespaces this test creates under
 * /run/netns/nltest-PID-*, which it removes on every path. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/netns.h"
#include "tap.h"

#define NETNS_DIR "/run/netns"

enum { NS_A, NS_B, NS_SWITCH, NS_PID_BOUND, NS_COUNT };
static const char *const ns_suffix[NS_COUNT] = { "a", "b", "sw", "pid" };
static char ns_path[NS_COUNT][128];
static char ns_name[NS_COUNT][64];
static char prefix[64];

static void remove_namespaces(void)
{
	struct error err;
	for (int i = 0; i < NS_COUNT; i++)
		if (ns_path[i][0] && netns_remove(ns_path[i], &err) < 0)
			fprintf(stderr, "# cleanup: %s\n", err.msg);
}

static void remove_on_signal(int sig)
{
	remove_namespaces();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int count_leftovers(void)
{
	DIR *dir = opendir(NETNS_DIR);
	struct dirent *entry;
	int count = 0;

	if (!dir)
		return 0;
	while ((entry = readdir(dir)))
		if (strncmp(entry->d_name, prefix, strlen(prefix)) == 0)
			count++;
	closedir(dir);
	return count;
}

static ino_t inode_of(int fd_or_minus, const char *path)
{
	struct stat st;
	int r = fd_or_minus >= 0 ? fstat(fd_or_minus, &st) : stat(path, &st);
	return r == 0 ? st.st_ino : 0;
}

struct mtu_try {
	const char *ifname;
	unsigned mtu;
	char kernel_msg[NET_KERNEL_MSG_LEN];
};

static int try_mtu(struct net *n, void *arg)
{
	struct mtu_try *t = arg;
	int r = net_link_change(n, t->ifname, t->mtu, 1);
	snprintf(t->kernel_msg, sizeof(t->kernel_msg), "%s", r < 0 ? net_request_message(n) : "");
	return r;
}

static void test_veth_pair(struct net *host, const int fd[])
{
	static const uint8_t mac_a[6] = { 0x02, 0x4e, 0x53, 0x00, 0x00, 0x0a };
	static const uint8_t mac_b[6] = { 0x02, 0x4e, 0x53, 0x00, 0x00, 0x0b };
	struct net_link_state state;
	struct error err = { 0 };
	char want[512];
	int r;

	r = net_veth_create(host, fd[NS_A], "eth0", mac_a, fd[NS_B], "eth0", mac_b, &err);
	if (!ok(r == 0, "veth a:eth0 — b:eth0 created"))
		printf("# %s\n", err.msg);

	r = net_link_query(fd[NS_A], "eth0", &state, &err);
	is_int(r, 0, "end A is in netns a");
	is_str(state.kind, "veth", "end A is a veth");
	ok(memcmp(state.mac, mac_a, 6) == 0, "end A has its MAC");
	ok(state.flags & IFF_UP, "end A is up");
	r = net_link_query(fd[NS_B], "eth0", &state, &err);
	is_int(r, 0, "end B is in netns b");
	ok(memcmp(state.mac, mac_b, 6) == 0, "end B has its MAC");
	ok(state.flags & IFF_UP, "end B is up");
	is_int(net_link_exists(fd[NS_SWITCH], "eth0", &err), 0, "no eth0 in the switch netns");

	r = net_veth_create(host, fd[NS_A], "eth0", mac_a, fd[NS_B], "eth0", mac_b, &err);
	is_int(r, -EEXIST, "the same veth again fails with EEXIST");
	snprintf(want, sizeof(want), "veth %s:eth0 — %s:eth0: File exists", ns_name[NS_A],
		 ns_name[NS_B]);
	is_str(err.msg, want, "the EEXIST message names both ends");

	r = net_veth_create(host, fd[NS_A], "eth1", NULL, fd[NS_B], "eth0", NULL, &err);
	is_int(r, -EEXIST, "a taken peer name fails with EEXIST too");
	is_int(net_link_exists(fd[NS_A], "eth1", &err), 0, "and leaves no half pair behind");

	r = net_link_set_up(fd[NS_A], "eth0", 0, &err);
	is_int(r, 0, "set a:eth0 down");
	net_link_query(fd[NS_A], "eth0", &state, &err);
	ok(!(state.flags & IFF_UP), "a:eth0 is down");
	r = net_link_set_up(fd[NS_A], "eth0", 1, &err);
	is_int(r, 0, "set a:eth0 up");
	net_link_query(fd[NS_A], "eth0", &state, &err);
	ok(state.flags & IFF_UP, "a:eth0 is up again");
	struct mtu_try try = { .ifname = "eth0", .mtu = 70000 };
	int result = 0;
	r = net_run_in_netns(fd[NS_A], try_mtu, &try, &result, &err);
	is_int(r, 0, "a socket inside netns a");
	is_int(result, -EINVAL, "MTU 70000 on a veth: EINVAL");
	ok(strstr(try.kernel_msg, "mtu") || strstr(try.kernel_msg, "MTU"),
	   "the kernel's extended ACK explains it: \"%s\"", try.kernel_msg);
	error_set(&err, EINVAL, "set up a:eth0");
	net_error_add_kernel_msg(&err, try.kernel_msg);
	snprintf(want, sizeof(want), "set up a:eth0: Invalid argument (%s)", try.kernel_msg);
	is_str(err.msg, want, "the kernel's words follow strerror in parentheses");
	try.mtu = 1400;
	r = net_run_in_netns(fd[NS_A], try_mtu, &try, &result, &err);
	is_int(result, 0, "MTU 1400 and up in one request");
	is_str(try.kernel_msg, "", "no kernel message after a success");
	net_link_query(fd[NS_A], "eth0", &state, &err);
	is_int((int)state.mtu, 1400, "a:eth0 has MTU 1400");
	r = net_link_set_up(fd[NS_A], "nosuch0", 1, &err);
	is_int(r, -ENODEV, "set up a missing link: ENODEV");
	snprintf(want, sizeof(want), "set up %s:nosuch0: No such device", ns_name[NS_A]);
	is_str(err.msg, want, "the ENODEV message names the link");

	r = net_link_delete(fd[NS_A], "eth0", &err);
	is_int(r, 0, "delete a:eth0");
	is_int(net_link_exists(fd[NS_A], "eth0", &err), 0, "a:eth0 is gone");
	is_int(net_link_exists(fd[NS_B], "eth0", &err), 0, "its peer b:eth0 went with it");
	is_int(net_link_delete(fd[NS_A], "eth0", &err), 0, "deleting it again returns 0");
}

static void test_bridge(struct net *host, const int fd[])
{
	struct net_link_state bridge, port;
	struct error err = { 0 };
	char want[512];
	int r;

	r = net_bridge_create(host, fd[NS_SWITCH], "br0", &err);
	if (!ok(r == 0, "bridge sw:br0 created"))
		printf("# %s\n", err.msg);
	r = net_link_query(fd[NS_SWITCH], "br0", &bridge, &err);
	is_int(r, 0, "br0 is in the switch netns");
	is_str(bridge.kind, "bridge", "br0 is a bridge");
	ok(bridge.flags & IFF_UP, "br0 is up");
	is_int(net_bridge_create(host, fd[NS_SWITCH], "br0", &err), -EEXIST,
	       "the same bridge again: EEXIST");

	for (int i = NS_A; i <= NS_B; i++) {
		char port_name[IFNAMSIZ];
		snprintf(port_name, sizeof(port_name), "%s-eth1", ns_suffix[i]);
		r = net_veth_create(host, fd[i], "eth1", NULL, fd[NS_SWITCH], port_name, NULL,
				    &err);
		if (!ok(r == 0, "veth %s:eth1 — sw:%s", ns_suffix[i], port_name))
			printf("# %s\n", err.msg);
		r = net_bridge_attach(fd[NS_SWITCH], port_name, "br0", &err);
		if (!ok(r == 0, "attach sw:%s to br0", port_name))
			printf("# %s\n", err.msg);
		net_link_query(fd[NS_SWITCH], port_name, &port, &err);
		is_int(port.master_ifindex, bridge.ifindex, "sw:%s has br0 as master", port_name);
		ok(port.flags & IFF_UP, "sw:%s is still up", port_name);
	}

	r = net_bridge_attach(fd[NS_SWITCH], "a-eth1", "nosuch-br", &err);
	is_int(r, -ENODEV, "attach to a missing bridge: ENODEV");
	snprintf(want, sizeof(want), "attach %s:a-eth1 to bridge nosuch-br: No such device",
		 ns_name[NS_SWITCH]);
	is_str(err.msg, want, "the message names port and bridge");

	is_int(net_link_delete(fd[NS_SWITCH], "br0", &err), 0, "delete br0");
	is_int(net_link_exists(fd[NS_SWITCH], "br0", &err), 0, "br0 is gone");
	net_link_query(fd[NS_SWITCH], "a-eth1", &port, &err);
	is_int(port.master_ifindex, 0, "its former port has no master");
}

static void test_enter_leave(const int fd[])
{
	struct error err;
	ino_t home = inode_of(-1, "/proc/thread-self/ns/net");
	int saved = -1;

	is_int(netns_enter(fd[NS_A], &saved, &err), 0, "enter netns a");
	ok(inode_of(-1, "/proc/thread-self/ns/net") == inode_of(fd[NS_A], NULL),
	   "the thread is in netns a");
	is_int(netns_leave(&saved, &err), 0, "leave netns a");
	ok(inode_of(-1, "/proc/thread-self/ns/net") == home, "the thread is home again");
	is_int(saved, -1, "leave closes the saved fd");
}

static void test_bind_pid(void)
{
	struct error err;
	int r = netns_bind_pid(getpid(), ns_path[NS_PID_BOUND], &err);
	if (!ok(r == 0, "bind our own netns by pid"))
		printf("# %s\n", err.msg);
	int fd = netns_open(ns_path[NS_PID_BOUND], &err);
	ok(fd >= 0 && inode_of(fd, NULL) == inode_of(-1, "/proc/self/ns/net"),
	   "the bound file is our netns");
	if (fd >= 0)
		close(fd);
	is_int(netns_bind_pid(getpid(), ns_path[NS_PID_BOUND], &err), -EEXIST,
	       "binding onto an existing file: EEXIST");
	is_int(netns_remove(ns_path[NS_PID_BOUND], &err), 0, "remove the pid binding");
}

int main(void)
{
	struct net *host = NULL;
	struct error err = { 0 };
	int fd[NS_COUNT] = { -1, -1, -1, -1 };
	int created = 1;

	if (geteuid() != 0)
		skip_all("needs root (network namespaces)");

	snprintf(prefix, sizeof(prefix), "nltest-%d-", (int)getpid());
	for (int i = 0; i < NS_COUNT; i++) {
		snprintf(ns_name[i], sizeof(ns_name[i]), "%s%s", prefix, ns_suffix[i]);
		snprintf(ns_path[i], sizeof(ns_path[i]), NETNS_DIR "/%s%s", prefix, ns_suffix[i]);
	}
	signal(SIGINT, remove_on_signal);
	signal(SIGTERM, remove_on_signal);

	for (int i = NS_A; i <= NS_SWITCH; i++) {
		int r = netns_create(ns_path[i], &err);
		if (r == -EPERM) {
			remove_namespaces();
			skip_all("not permitted to create network namespaces");
		}
		if (!ok(r == 0, "netns_create %s", ns_path[i])) {
			printf("# %s\n", err.msg);
			created = 0;
			continue;
		}
		fd[i] = netns_open(ns_path[i], &err);
		ok(fd[i] >= 0, "netns_open %s", ns_path[i]);
	}
	is_int(netns_create(ns_path[NS_A], &err), -EEXIST, "netns_create on an existing file: EEXIST");
	ok(inode_of(fd[NS_A], NULL) != inode_of(-1, "/proc/self/ns/net"),
	   "netns_create leaves the caller in its own netns");

	if (created && ok(net_open(&host, &err) == 0, "host rtnetlink socket")) {
		test_veth_pair(host, fd);
		test_bridge(host, fd);
		test_enter_leave(fd);
	}
	test_bind_pid();

	net_close(host);
	for (int i = 0; i < NS_COUNT; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	for (int i = 0; i < NS_COUNT; i++) {
		is_int(netns_remove(ns_path[i], &err), 0, "remove %s", ns_name[i]);
		is_int(netns_remove(ns_path[i], &err), 0, "remove %s again", ns_name[i]);
	}
	is_int(netns_open(ns_path[NS_A], &err), -ENOENT, "a removed netns cannot be opened");
	remove_namespaces();
	is_int(count_leftovers(), 0, "nothing named %s* is left in " NETNS_DIR, prefix);
	return tap_done();
}
