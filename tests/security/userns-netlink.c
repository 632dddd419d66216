/* userns-netlink IFNAME: run as root inside a node.  IFNAME (e.g. eth0) is a veth
 * whose peer lives in a neighbour's netns; the kernel names that netns to us by
 * a netns id (IFLA_LINK_NETNSID, what `ip link` prints as link-netnsid).  Tries
 * every rtnetlink request that takes a netns id or moves a device, against that
 * netns, and every netns reachable through /proc/PID/ns/net.
 *
 * Prints one line per attempt, "NAME refused: REASON" or "NAME ALLOWED", and
 * exits with the number of attempts the kernel allowed (0 = contained), or 100
 * when IFNAME has no peer netns id.  Attempts that would change the neighbour
 * are aimed at names/addresses the test checks for from the host afterwards
 * (suatk*, 10.99.99.99). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef IFLA_TARGET_NETNSID
#define IFLA_TARGET_NETNSID IFLA_IF_NETNSID
#endif

struct req {
	struct nlmsghdr nh;
	char buf[4096 - sizeof(struct nlmsghdr)];
};

static int nl_fd;
static unsigned seq;
static int allowed;

static void *tail(struct req *r)
{
	return (char *)r + NLMSG_ALIGN(r->nh.nlmsg_len);
}

static struct rtattr *put(struct req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = tail(r);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void put_s32(struct req *r, unsigned short type, int v)
{
	put(r, type, &v, sizeof(v));
}

static void put_str(struct req *r, unsigned short type, const char *s)
{
	put(r, type, s, strlen(s) + 1);
}

static struct rtattr *nest(struct req *r, unsigned short type)
{
	return put(r, type, NULL, 0);
}

static void nest_end(struct req *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)tail(r) - (char *)a);
}

static struct ifinfomsg *start_link(struct req *r, unsigned short type, unsigned short flags)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = NLMSG_DATA(&r->nh);
	ifi->ifi_family = AF_UNSPEC;
	return ifi;
}

/* Send and wait for the ack; returns 0 or -errno.  Dump replies are skipped. */
static int talk(struct req *r)
{
	r->nh.nlmsg_seq = ++seq;
	if (send(nl_fd, r, r->nh.nlmsg_len, 0) < 0)
		return -errno;
	static char buf[65536];
	for (;;) {
		ssize_t n = recv(nl_fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (h->nlmsg_type == NLMSG_DONE) /* a dump's error rides on its end */
				return h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ? *(int *)NLMSG_DATA(h) : 0;
			if (!(h->nlmsg_flags & NLM_F_MULTI))
				return 0; /* a plain reply (getlink) */
		}
	}
}

static void report(const char *name, int rc)
{
	if (rc == -EXDEV) {
		printf("%s refused: the netns id was ignored, it stayed in our netns\n", name);
	} else if (rc < 0) {
		printf("%s refused: %s\n", name, strerror(-rc));
	} else {
		printf("%s ALLOWED\n", name);
		allowed++;
	}
	fflush(stdout);
}

/* Our IFNAME: its index, its peer's index and the peer's netns id. */
static int find_peer(const char *ifname, int *index, int *peer, int *nsid)
{
	struct req r;
	start_link(&r, RTM_GETLINK, 0);
	r.nh.nlmsg_flags = NLM_F_REQUEST;
	put_str(&r, IFLA_IFNAME, ifname);
	r.nh.nlmsg_seq = ++seq;
	if (send(nl_fd, &r, r.nh.nlmsg_len, 0) < 0)
		return -errno;
	static char buf[65536];
	ssize_t n = recv(nl_fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, (unsigned)n) || h->nlmsg_type != RTM_NEWLINK)
		return -ENODEV;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	*index = ifi->ifi_index;
	*peer = *nsid = -1;
	int len = (int)IFLA_PAYLOAD(h);
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_LINK)
			*peer = *(int *)RTA_DATA(a);
		if (a->rta_type == IFLA_LINK_NETNSID)
			*nsid = *(int *)RTA_DATA(a);
	}
	return *peer > 0 && *nsid >= 0 ? 0 : -ENOENT;
}

/* A veth pair a/b: the whole request aimed at netns id top_target, or with
 * IFLA_LINK_NETNSID link_netnsid, or the peer end asked for in peer_target (-1:
 * not given). */
static int veth(const char *a, const char *b, int top_target, int link_netnsid, int peer_target)
{
	struct req r;
	start_link(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	put_str(&r, IFLA_IFNAME, a);
	if (top_target >= 0)
		put_s32(&r, IFLA_TARGET_NETNSID, top_target);
	if (link_netnsid >= 0)
		put_s32(&r, IFLA_LINK_NETNSID, link_netnsid);
	struct rtattr *info = nest(&r, IFLA_LINKINFO);
	put_str(&r, IFLA_INFO_KIND, "veth");
	struct rtattr *data = nest(&r, IFLA_INFO_DATA);
	struct rtattr *peer = nest(&r, VETH_INFO_PEER);
	struct ifinfomsg pifi = { .ifi_family = AF_UNSPEC };
	memcpy(tail(&r), &pifi, sizeof(pifi));
	r.nh.nlmsg_len += NLMSG_ALIGN(sizeof(pifi));
	put_str(&r, IFLA_IFNAME, b);
	if (peer_target >= 0)
		put_s32(&r, IFLA_TARGET_NETNSID, peer_target);
	nest_end(&r, peer);
	nest_end(&r, data);
	nest_end(&r, info);
	return talk(&r);
}

static void delete_own(const char *ifname)
{
	struct req r;
	start_link(&r, RTM_DELLINK, 0);
	put_str(&r, IFLA_IFNAME, ifname);
	talk(&r);
}

static int own_index(const char *ifname)
{
	int index = -1, peer, nsid;
	find_peer(ifname, &index, &peer, &nsid);
	return index;
}

/* setns into every netns this node can open under /proc that is not its own. */
static void try_proc_namespaces(void)
{
	struct stat own;
	if (stat("/proc/self/ns/net", &own) < 0) {
		report("proc-ns-net", -errno);
		return;
	}
	DIR *d = opendir("/proc");
	int foreign = 0, joined = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[300];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || stat(path, &st) < 0 ||
		    st.st_ino == own.st_ino)
			continue;
		foreign++;
		int fd = open(path, O_RDONLY);
		if (fd >= 0 && setns(fd, CLONE_NEWNET) == 0)
			joined++;
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	printf("proc-ns-net: %d foreign netns visible, %d joined\n", foreign, joined);
	if (joined)
		allowed++;
}

int main(int argc, char **argv)
{
	const char *ifname = argc > 1 ? argv[1] : "eth0";
	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl_fd < 0) {
		perror("netlink socket");
		return 100;
	}
	/* strict checking, or dump requests ignore IFA_TARGET_NETNSID */
	int one = 1;
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	int index, peer, nsid;
	if (find_peer(ifname, &index, &peer, &nsid) < 0) {
		fprintf(stderr, "%s: no veth peer with a netns id\n", ifname);
		return 100;
	}
	printf("%s: index %d, peer index %d in netnsid %d\n", ifname, index, peer, nsid);

	struct req r;
	struct ifinfomsg *ifi;
	int rc;

	ifi = start_link(&r, RTM_GETLINK, 0);
	ifi->ifi_index = peer;
	put_s32(&r, IFLA_TARGET_NETNSID, nsid);
	report("getlink-peer-by-netnsid", talk(&r));

	/* a peer end that stayed here (the request ignored the id) is no escape */
	rc = veth("suatk0", "suatk1", -1, -1, nsid);
	if (rc == 0 && own_index("suatk1") > 0)
		rc = -EXDEV;
	report("veth-peer-into-netnsid", rc);
	delete_own("suatk0");
	rc = veth("suatk2", "suatk3", -1, nsid, -1);
	if (rc == 0 && own_index("suatk3") > 0)
		rc = -EXDEV;
	report("veth-with-link-netnsid", rc);
	delete_own("suatk2");
	report("veth-created-in-netnsid", veth("suatk4", "suatk5", nsid, -1, -1));

	/* rtnetlink has no "rename/down the device with index I in netns id N":
	 * RTM_NEWLINK/SETLINK with a netns id move OUR device I there.  Deleting
	 * by netns id does act on the other netns. */
	ifi = start_link(&r, RTM_DELLINK, 0);
	ifi->ifi_index = peer;
	put_s32(&r, IFLA_TARGET_NETNSID, nsid);
	report("delete-peer-by-netnsid", talk(&r));

	memset(&r, 0, sizeof(r));
	ifi = start_link(&r, RTM_DELLINK, 0);
	put_str(&r, IFLA_IFNAME, "eth0");
	put_s32(&r, IFLA_TARGET_NETNSID, nsid);
	report("delete-eth0-by-netnsid", talk(&r));

	/* A pair of our own (allowed: our netns), one end moved by netns id, once
	 * as it is and once renamed on the way (the setlink form of "rename"). */
	rc = veth("suatk7", "suatk8", -1, -1, -1);
	if (rc < 0) {
		printf("move-own-into-netnsid: cannot even make a veth here: %s\n", strerror(-rc));
	} else {
		ifi = start_link(&r, RTM_NEWLINK, 0);
		ifi->ifi_index = own_index("suatk7");
		put_s32(&r, IFLA_TARGET_NETNSID, nsid);
		report("move-own-into-netnsid", talk(&r));
		ifi = start_link(&r, RTM_SETLINK, 0);
		ifi->ifi_index = own_index("suatk8");
		put_str(&r, IFLA_IFNAME, "suatk9");
		put_s32(&r, IFLA_TARGET_NETNSID, nsid);
		report("move-renamed-own-into-netnsid", talk(&r));
		delete_own("suatk7");
		delete_own("suatk8");
	}

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_type = RTM_GETADDR;
	r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	put_s32(&r, IFA_TARGET_NETNSID, nsid);
	report("getaddr-dump-by-netnsid", talk(&r));

	/* RTM_NEWADDR, RTM_NEWROUTE (and the address/route dumps other than the
	 * one above) take no netns id at all: they act on the netns of the socket,
	 * and a socket in another netns needs setns(), tried below. */

	/* Every other netns id this netns may know (the switch namespace, or
	 * ids the host assigned while wiring). */
	int other = 0;
	for (int id = 0; id < 64; id++) {
		if (id == nsid)
			continue;
		ifi = start_link(&r, RTM_GETLINK, 0);
		ifi->ifi_index = 1;
		put_s32(&r, IFLA_TARGET_NETNSID, id);
		if (talk(&r) == 0)
			other++;
	}
	printf("getlink-other-netnsids: %d of 63 reachable\n", other);
	allowed += other;

	try_proc_namespaces();
	printf("allowed: %d\n", allowed);
	return allowed;
}
