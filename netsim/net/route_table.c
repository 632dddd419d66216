/* Routes and addresses of a namespace over raw rtnetlink (route_table.h). */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/netns.h"
#include "net/route_table.h"

/* A dump's datagrams: the kernel fills each up to the reader's buffer. */
#define DUMP_BUFFER (64 * 1024)

int route_socket_open(int ns_fd, struct error *err)
{
	int saved = -1;
	int r = netns_enter(ns_fd, &saved, err);
	if (r < 0)
		return r;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int e = errno;
	struct error leave_err = {0};
	if (netns_leave(&saved, &leave_err) < 0) {
		if (fd >= 0)
			close(fd);
		*err = leave_err;
		return -leave_err.errnum;
	}
	if (fd < 0)
		return error_set(err, e, "rtnetlink socket");
	/* strict checking makes the kernel filter a dump by the header we send */
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	return fd;
}

static int grow(void **v, size_t *cap, size_t want, size_t size)
{
	if (want <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < want)
		n *= 2;
	void *nv = realloc(*v, n * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = n;
	return 0;
}

int route_table_add(struct route_table *t, const struct route_entry *e)
{
	if (grow((void **)&t->routes, &t->cap, t->nroutes + 1, sizeof(*t->routes)) < 0)
		return -ENOMEM;
	t->routes[t->nroutes++] = *e;
	return 0;
}

int route_table_add_addr(struct route_table *t, int family, const void *addr)
{
	if (grow((void **)&t->addrs, &t->addrs_cap, t->naddrs + 1, sizeof(*t->addrs)) < 0)
		return -ENOMEM;
	uint8_t *a = t->addrs[t->naddrs++];
	memset(a, 0, sizeof(*t->addrs));
	a[0] = (uint8_t)family;
	memcpy(a + 1, addr, family == AF_INET ? 4 : 16);
	return 0;
}

static size_t hash32(uint32_t x, size_t size)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x & (size - 1);
}

static int by_prefix(const void *a, const void *b, void *routes)
{
	const struct route_entry *v = routes;
	const struct route_entry *x = &v[*(const size_t *)a], *y = &v[*(const size_t *)b];
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->priority < y->priority ? -1 : x->priority > y->priority;
}

int route_table_index(struct route_table *t)
{
	free(t->hash);
	free(t->prefixes);
	t->hash = NULL;
	t->prefixes = NULL;
	t->nprefixes = 0;
	size_t size = 16;
	while (size < t->nroutes * 2)
		size *= 2;
	t->hash = calloc(size, sizeof(*t->hash));
	t->prefixes = calloc(t->nroutes + 1, sizeof(*t->prefixes));
	if (!t->hash || !t->prefixes)
		return -ENOMEM;
	t->hash_size = size;
	for (size_t i = 0; i < t->nroutes; i++) {
		if (t->routes[i].len != 32) {
			t->prefixes[t->nprefixes++] = i;
			continue;
		}
		size_t h = hash32(t->routes[i].dst, size);
		while (t->hash[h])
			h = (h + 1) & (size - 1);
		t->hash[h] = i + 1;
	}
	qsort_r(t->prefixes, t->nprefixes, sizeof(*t->prefixes), by_prefix, t->routes);
	return 0;
}

static bool better(const struct route_entry *e, const struct route_entry *best)
{
	return !best || e->priority < best->priority;
}

const struct route_entry *route_table_lookup(const struct route_table *t, uint32_t dst)
{
	if (!t->hash_size)
		return NULL;
	const struct route_entry *host[3] = {NULL, NULL, NULL};
	for (size_t h = hash32(dst, t->hash_size); t->hash[h]; h = (h + 1) & (t->hash_size - 1)) {
		const struct route_entry *e = &t->routes[t->hash[h] - 1];
		if (e->dst == dst && e->table_rank < 3 && better(e, host[e->table_rank]))
			host[e->table_rank] = e;
	}
	for (unsigned rank = 0; rank < 3; rank++) {
		if (host[rank])
			return host[rank];
		for (size_t k = 0; k < t->nprefixes; k++) {
			const struct route_entry *e = &t->routes[t->prefixes[k]];
			uint32_t mask = e->len ? ~0U << (32 - e->len) : 0;
			if (e->table_rank == rank && (dst & mask) == e->dst)
				return e; /* sorted: the longest, then the lowest priority */
		}
	}
	return NULL;
}

void route_table_free(struct route_table *t)
{
	free(t->routes);
	free(t->hash);
	free(t->prefixes);
	free(t->addrs);
	memset(t, 0, sizeof(*t));
}

/* ---- reading over rtnetlink ------------------------------------------------ */

/* The next hop of a route: RTA_GATEWAY (same family) or RTA_VIA (IPv4 over an
 * IPv6 link-local, as babeld installs them). */
static void next_hop(struct rtattr *rta, int len, struct route_entry *e)
{
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_GATEWAY && RTA_PAYLOAD(rta) == 4) {
			e->kind = ROUTE_VIA;
			e->gw_family = AF_INET;
			memcpy(e->gw, RTA_DATA(rta), 4);
		} else if (rta->rta_type == RTA_VIA && RTA_PAYLOAD(rta) >= sizeof(struct rtvia)) {
			const struct rtvia *via = RTA_DATA(rta);
			size_t alen = RTA_PAYLOAD(rta) - sizeof(*via);
			if ((via->rtvia_family == AF_INET6 && alen == 16) ||
			    (via->rtvia_family == AF_INET && alen == 4)) {
				e->kind = ROUTE_VIA;
				e->gw_family = (uint8_t)via->rtvia_family;
				memcpy(e->gw, via->rtvia_addr, alen);
			}
		}
	}
}

static int parse_route(struct route_table *t, struct nlmsghdr *h)
{
	struct rtmsg *rtm = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rtm));
	if (len < 0 || rtm->rtm_family != AF_INET || (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	struct route_entry e = {.len = rtm->rtm_dst_len};
	uint32_t table = rtm->rtm_table;
	for (struct rtattr *rta = RTM_RTA(rtm); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type) {
		case RTA_TABLE:
			if (RTA_PAYLOAD(rta) == 4)
				memcpy(&table, RTA_DATA(rta), 4);
			break;
		case RTA_DST:
			if (RTA_PAYLOAD(rta) == 4) {
				uint32_t a;
				memcpy(&a, RTA_DATA(rta), 4);
				e.dst = ntohl(a);
			}
			break;
		case RTA_PRIORITY:
			if (RTA_PAYLOAD(rta) == 4)
				memcpy(&e.priority, RTA_DATA(rta), 4);
			break;
		case RTA_NH_ID:
			e.kind = ROUTE_UNKNOWN;
			break;
		case RTA_MULTIPATH: {
			/* the first next hop stands for all: a check of one path */
			struct rtnexthop *nh = RTA_DATA(rta);
			if (e.kind != ROUTE_UNKNOWN && RTA_PAYLOAD(rta) >= sizeof(*nh) &&
			    nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= RTA_PAYLOAD(rta))
				next_hop(RTNH_DATA(nh), nh->rtnh_len - (int)sizeof(*nh), &e);
			break;
		}
		default: break;
		}
	}
	if (e.kind != ROUTE_UNKNOWN && e.kind != ROUTE_VIA) {
		len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rtm));
		next_hop(RTM_RTA(rtm), len, &e);
	}
	if (table == RT_TABLE_LOCAL)
		e.table_rank = 0;
	else if (table == RT_TABLE_MAIN)
		e.table_rank = 1;
	else if (table == RT_TABLE_DEFAULT)
		e.table_rank = 2;
	else {
		t->policy = true; /* another table: some rule sends packets there */
		return 0;
	}
	switch (rtm->rtm_type) {
	case RTN_UNICAST:
		if (e.kind != ROUTE_VIA && e.kind != ROUTE_UNKNOWN)
			e.kind = ROUTE_CONNECTED;
		/* through a link without carrier (or a dead next hop) nothing
		 * arrives, whatever the route says */
		if (rtm->rtm_flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN))
			e.kind = ROUTE_REJECT;
		break;
	case RTN_LOCAL: e.kind = ROUTE_LOCAL; break;
	case RTN_BLACKHOLE: case RTN_UNREACHABLE: case RTN_PROHIBIT: e.kind = ROUTE_REJECT; break;
	case RTN_THROW: e.kind = ROUTE_UNKNOWN; break;
	default: return 0; /* broadcast, multicast, anycast: not a unicast destination */
	}
	if (e.len > 32)
		return 0;
	e.dst &= e.len ? ~0U << (32 - e.len) : 0;
	return route_table_add(t, &e);
}

static int parse_addr(struct route_table *t, struct nlmsghdr *h)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	if (len < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
	for (struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if ((rta->rta_type == IFA_LOCAL || rta->rta_type == IFA_ADDRESS) &&
		    RTA_PAYLOAD(rta) == alen) {
			/* IFA_LOCAL is the address on point-to-point links; else the same */
			return route_table_add_addr(t, ifa->ifa_family, RTA_DATA(rta));
		}
	return 0;
}

/* One dump: send the request, parse every message until NLMSG_DONE. */
static int dump(int sock, uint16_t type, uint8_t family, struct route_table *t, char *buf,
		struct error *err)
{
	struct {
		struct nlmsghdr h;
		union { struct rtmsg rt; struct ifaddrmsg ifa; } body;
	} req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	static uint32_t seq;
	req.h.nlmsg_seq = ++seq;
	if (type == RTM_GETROUTE) {
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
		req.body.rt.rtm_family = family;
	} else {
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
		req.body.ifa.ifa_family = family;
	}
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(sock, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return error_set(err, errno, "rtnetlink dump request");
	for (;;) {
		ssize_t got = recv(sock, buf, DUMP_BUFFER, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return error_set(err, errno, "rtnetlink dump");
		}
		int left = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != req.h.nlmsg_seq)
				continue; /* an earlier dump's tail (an interrupted read) */
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return error_set(err, e->error ? -e->error : EIO, "rtnetlink dump");
			}
			int r = h->nlmsg_type == RTM_NEWROUTE ? parse_route(t, h) :
				h->nlmsg_type == RTM_NEWADDR ? parse_addr(t, h) : 0;
			if (r < 0)
				return error_set(err, -r, "rtnetlink dump");
		}
	}
}

int route_table_read(int sock, struct route_table *t, struct error *err)
{
	t->nroutes = 0;
	t->naddrs = 0;
	t->policy = false;
	char *buf = malloc(DUMP_BUFFER);
	if (!buf)
		return error_set(err, ENOMEM, "rtnetlink dump");
	int r = dump(sock, RTM_GETROUTE, AF_INET, t, buf, err);
	/* one dump per family: an AF_UNSPEC dump goes through rtnl_dump_all,
	 * which takes the RTNL lock that every namespace's route changes
	 * contend for (230 ms a dump measured at 32x32), where the per-family
	 * address dumps do not */
	if (r == 0)
		r = dump(sock, RTM_GETADDR, AF_INET, t, buf, err);
	if (r == 0)
		r = dump(sock, RTM_GETADDR, AF_INET6, t, buf, err);
	free(buf);
	if (r == 0 && route_table_index(t) < 0)
		r = error_set(err, ENOMEM, "route table");
	return r;
}
