/* mac80211_hwsim radios and their medium over generic netlink (net/hwsim.h). */
#include "net/hwsim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/nl80211.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cleanup.h"

#define MSG_MAX 8192
#define REPLY_MAX 32768
#define FRAME_MIN 10              /* frame control, duration, addr1 */
#define FRAME_MAX 4096            /* above IEEE80211_MAX_DATA_LEN + headers */

struct hwsim {
	int fd;
	uint32_t seq;
	uint16_t hwsim_family, nl80211_family;
};

/* ---- building messages ---- */

struct msg {
	size_t len, cap;
	unsigned char *buf;
};

static bool put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	size_t total = NLA_HDRLEN + len, padded = NLA_ALIGN(total);
	if (m->len + padded > m->cap)
		return false;
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);
	a->nla_type = type;
	a->nla_len = (uint16_t)total;
	if (len)
		memcpy(m->buf + m->len + NLA_HDRLEN, data, len);
	memset(m->buf + m->len + total, 0, padded - total);
	m->len += padded;
	return true;
}

static bool put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	return put(m, type, &v, sizeof(v));
}

static bool begin(struct msg *m, uint16_t family, uint8_t cmd, uint16_t flags, uint32_t seq)
{
	size_t hdr = NLMSG_HDRLEN + GENL_HDRLEN;
	if (m->len + hdr > m->cap)
		return false;
	struct nlmsghdr *n = (struct nlmsghdr *)(m->buf + m->len);
	memset(n, 0, hdr);
	n->nlmsg_type = family;
	n->nlmsg_flags = NLM_F_REQUEST | flags;
	n->nlmsg_seq = seq;
	struct genlmsghdr *g = (struct genlmsghdr *)NLMSG_DATA(n);
	g->cmd = cmd;
	g->version = 1;
	m->len += hdr;
	return true;
}

/* close the message that starts at `start` */
static void end(struct msg *m, size_t start)
{
	((struct nlmsghdr *)(m->buf + start))->nlmsg_len = (uint32_t)(m->len - start);
}

/* ---- parsing ---- */

/* The attributes of a genl message body: tb[type] (NULL when absent); false when
 * an attribute runs past the end. */
static bool parse_attrs(const unsigned char *p, size_t len, const struct nlattr **tb, unsigned max)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return false;
		unsigned type = a->nla_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = a;
		size_t step = NLA_ALIGN(a->nla_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return true;
}

static size_t attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static const void *attr_data(const struct nlattr *a)
{
	return (const unsigned char *)a + NLA_HDRLEN;
}

static bool attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || attr_len(a) < sizeof(*v))
		return false;
	memcpy(v, attr_data(a), sizeof(*v));
	return true;
}

/* ---- requests ---- */

typedef int (*reply_fn)(const unsigned char *body, size_t len, void *ctx);

/* Send m (one request) and read its replies until the ack or NLMSG_DONE; each
 * reply's genl body goes to fn.  The ack's code: negative errno (the return
 * value), or a non-negative value some commands return (*code). */
static int transact(struct hwsim *h, struct msg *m, reply_fn fn, void *ctx, int *code)
{
	if (send(h->fd, m->buf, m->len, 0) != (ssize_t)m->len)
		return -(errno ? errno : EIO);
	uint32_t seq = ((struct nlmsghdr *)m->buf)->nlmsg_seq;
	cleanup_free unsigned char *buf = malloc(REPLY_MAX);
	if (!buf)
		return -ENOMEM;
	int result = 0;
	for (;;) {
		ssize_t n = recv(h->fd, buf, REPLY_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -(errno == EAGAIN ? ETIMEDOUT : errno);
		size_t left = (size_t)n;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return result;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
					return -EIO;
				int e = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				if (e < 0)
					return e;
				if (code)
					*code = e;
				return result;
			}
			if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
				continue;
			if (fn && result == 0)
				result = fn((const unsigned char *)NLMSG_DATA(nh) + GENL_HDRLEN,
					    nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), ctx);
		}
	}
}

/* A request of `n` u32 attributes (types[k] = values[k]) and its replies, as
 * transact: 0, or the ack's negative errno (-EMSGSIZE when it does not fit). */
static int request_u32(struct hwsim *h, uint16_t family, uint8_t cmd, uint16_t flags, unsigned n,
		       const uint16_t types[], const uint32_t values[], reply_fn fn, void *ctx)
{
	unsigned char buf[128];
	struct msg m = { .cap = sizeof(buf), .buf = buf };
	if (!begin(&m, family, cmd, flags, ++h->seq))
		return -EMSGSIZE;
	for (unsigned k = 0; k < n; k++)
		if (!put_u32(&m, types[k], values[k]))
			return -EMSGSIZE;
	end(&m, 0);
	return transact(h, &m, fn, ctx, NULL);
}

static int family_reply(const unsigned char *body, size_t len, void *ctx)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	if (!parse_attrs(body, len, tb, CTRL_ATTR_MAX) || !tb[CTRL_ATTR_FAMILY_ID] ||
	    attr_len(tb[CTRL_ATTR_FAMILY_ID]) < 2)
		return -EIO;
	memcpy(ctx, attr_data(tb[CTRL_ATTR_FAMILY_ID]), 2);
	return 0;
}

static int resolve_family(int fd, uint32_t seq, const char *name, uint16_t *id)
{
	unsigned char buf[256];
	struct msg m = { .cap = sizeof(buf), .buf = buf };
	struct hwsim h = { .fd = fd };
	if (!begin(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK, seq) ||
	    !put(&m, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1))
		return -EMSGSIZE;
	end(&m, 0);
	*id = 0;
	int r = transact(&h, &m, family_reply, id, NULL);
	return r < 0 ? r : *id ? 0 : -ENOENT;
}

static int genl_socket(struct error *err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return error_set(err, errno, "generic netlink socket");
	int one = 1;
	/* errors do not echo our (frame-sized) requests back */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

#define NO_HWSIM "the kernel has no mac80211_hwsim (load it with `modprobe mac80211_hwsim " \
		 "radios=0`, or run the sim with `netsim up --vm`, whose kernel has it)"

int hwsim_open(struct hwsim **out, struct error *err)
{
	*out = NULL;
	cleanup_close int fd = genl_socket(err);
	if (fd < 0)
		return fd;
	uint16_t hw = 0, nl = 0;
	int r = resolve_family(fd, 1, "MAC80211_HWSIM", &hw);
	if (r == -ENOENT)
		return error_setmsg(err, ENOENT, "%s", NO_HWSIM);
	if (r < 0)
		return error_set(err, -r, "generic netlink: family MAC80211_HWSIM");
	if ((r = resolve_family(fd, 2, "nl80211", &nl)) < 0)
		return error_set(err, -r, "generic netlink: family nl80211");
	struct hwsim *h = calloc(1, sizeof(*h));
	if (!h)
		return error_set(err, ENOMEM, "hwsim");
	h->fd = steal_fd(&fd);
	h->seq = 10;
	h->hwsim_family = hw;
	h->nl80211_family = nl;
	*out = h;
	return 0;
}

void hwsim_close(struct hwsim *h)
{
	if (!h)
		return;
	close(h->fd);
	free(h);
}

struct name_ctx {
	char *name;
};

static int radio_name_reply(const unsigned char *body, size_t len, void *ctx)
{
	struct name_ctx *c = ctx;
	const struct nlattr *tb[HWSIM_ATTR_PERM_ADDR + 1];
	if (!parse_attrs(body, len, tb, HWSIM_ATTR_PERM_ADDR) || !tb[HWSIM_ATTR_RADIO_NAME])
		return -EIO;
	size_t n = attr_len(tb[HWSIM_ATTR_RADIO_NAME]);
	if (n >= HWSIM_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(c->name, attr_data(tb[HWSIM_ATTR_RADIO_NAME]), n);
	c->name[n] = '\0';
	return 0;
}

struct wiphy_ctx {
	const char *want;             /* look up this name ... */
	uint32_t idx;
	bool found;
	char (*names)[HWSIM_NAME_MAX]; /* ... or collect every name */
	unsigned count, cap;
};

static int wiphy_reply(const unsigned char *body, size_t len, void *ctx)
{
	struct wiphy_ctx *c = ctx;
	const struct nlattr *tb[NL80211_ATTR_WIPHY_NAME + 1];
	uint32_t idx;
	if (!parse_attrs(body, len, tb, NL80211_ATTR_WIPHY_NAME) ||
	    !attr_u32(tb[NL80211_ATTR_WIPHY], &idx) || !tb[NL80211_ATTR_WIPHY_NAME])
		return 0; /* a split dump's later parts: no name */
	char name[HWSIM_NAME_MAX];
	size_t n = attr_len(tb[NL80211_ATTR_WIPHY_NAME]);
	if (n >= sizeof(name))
		return 0;
	memcpy(name, attr_data(tb[NL80211_ATTR_WIPHY_NAME]), n);
	name[n] = '\0';
	if (c->want) {
		if (strcmp(name, c->want) == 0) {
			c->idx = idx;
			c->found = true;
		}
		return 0;
	}
	for (unsigned k = 0; k < c->count; k++)
		if (strcmp(c->names[k], name) == 0)
			return 0;
	if (c->count == c->cap) {
		unsigned cap = c->cap ? 2 * c->cap : 8;
		void *grown = realloc(c->names, cap * sizeof(*c->names));
		if (!grown)
			return -ENOMEM;
		c->names = grown;
		c->cap = cap;
	}
	memcpy(c->names[c->count++], name, sizeof(name));
	return 0;
}

static int wiphy_dump(struct hwsim *h, struct wiphy_ctx *c)
{
	return request_u32(h, h->nl80211_family, NL80211_CMD_GET_WIPHY, NLM_F_DUMP, 0, NULL, NULL,
			   wiphy_reply, c);
}

int hwsim_radio_new(struct hwsim *h, const uint8_t mac[6], uint32_t *wiphy, char *name,
		    struct error *err)
{
	unsigned char buf[256];
	struct msg m = { .cap = sizeof(buf), .buf = buf };
	if (!begin(&m, h->hwsim_family, HWSIM_CMD_NEW_RADIO, NLM_F_ACK, ++h->seq) ||
	    !put_u32(&m, HWSIM_ATTR_CHANNELS, 1) || !put(&m, HWSIM_ATTR_NO_VIF, NULL, 0) ||
	    !put(&m, HWSIM_ATTR_PERM_ADDR, mac, 6))
		return error_set(err, EMSGSIZE, "hwsim: new radio");
	end(&m, 0);
	int id = -1;
	int r = transact(h, &m, NULL, NULL, &id);
	if (r < 0 || id < 0)
		return error_set(err, r < 0 ? -r : EIO, "hwsim: new radio %02x:%02x:%02x:%02x:%02x:%02x",
				 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	name[0] = '\0';
	struct name_ctx nc = { .name = name };
	const uint16_t type = HWSIM_ATTR_RADIO_ID;
	const uint32_t radio = (uint32_t)id;
	if ((r = request_u32(h, h->hwsim_family, HWSIM_CMD_GET_RADIO, NLM_F_ACK, 1, &type, &radio,
			     radio_name_reply, &nc)) < 0 || !name[0])
		return error_set(err, r < 0 ? -r : EIO, "hwsim: radio %d's name", id);
	struct wiphy_ctx wc = { .want = name };
	if ((r = wiphy_dump(h, &wc)) < 0)
		return error_set(err, -r, "nl80211: list the phys");
	if (!wc.found)
		return error_setmsg(err, ENODEV, "nl80211: no phy %s after creating it", name);
	*wiphy = wc.idx;
	return 0;
}

int hwsim_wiphy_to_netns(struct hwsim *h, uint32_t wiphy, int ns_fd, struct error *err)
{
	const uint16_t types[] = { NL80211_ATTR_WIPHY, NL80211_ATTR_NETNS_FD };
	const uint32_t values[] = { wiphy, (uint32_t)ns_fd };
	int r = request_u32(h, h->nl80211_family, NL80211_CMD_SET_WIPHY_NETNS, NLM_F_ACK, 2, types,
			    values, NULL, NULL);
	return r < 0 ? error_set(err, -r, "nl80211: move phy %u into the node", wiphy) : 0;
}

int hwsim_interface_new(struct hwsim *h, uint32_t wiphy, const char *ifname,
			enum hwsim_iftype type, struct error *err)
{
	unsigned char buf[128];
	struct msg m = { .cap = sizeof(buf), .buf = buf };
	uint32_t iftype = type == HWSIM_IF_IBSS	     ? NL80211_IFTYPE_ADHOC
			  : type == HWSIM_IF_MONITOR ? NL80211_IFTYPE_MONITOR
						     : NL80211_IFTYPE_MESH_POINT;
	if (!begin(&m, h->nl80211_family, NL80211_CMD_NEW_INTERFACE, NLM_F_ACK, ++h->seq) ||
	    !put_u32(&m, NL80211_ATTR_WIPHY, wiphy) ||
	    !put(&m, NL80211_ATTR_IFNAME, ifname, strlen(ifname) + 1) ||
	    !put_u32(&m, NL80211_ATTR_IFTYPE, iftype))
		return error_set(err, EMSGSIZE, "nl80211: new interface");
	end(&m, 0);
	int r = transact(h, &m, NULL, NULL, NULL);
	return r < 0 ? error_set(err, -r, "nl80211: create %s on phy %u", ifname, wiphy) : 0;
}

static int iface_reply(const unsigned char *body, size_t len, void *ctx)
{
	const struct nlattr *tb[NL80211_ATTR_WIPHY + 1];
	if (!parse_attrs(body, len, tb, NL80211_ATTR_WIPHY) || !attr_u32(tb[NL80211_ATTR_WIPHY], ctx))
		return -ENODEV;
	return 0;
}

int hwsim_interface_wiphy(struct hwsim *h, const char *ifname, uint32_t *wiphy,
			  struct error *err)
{
	unsigned ifindex = if_nametoindex(ifname);
	if (ifindex == 0)
		return error_set(err, errno, "interface %s", ifname);
	const uint16_t type = NL80211_ATTR_IFINDEX;
	int r = request_u32(h, h->nl80211_family, NL80211_CMD_GET_INTERFACE, NLM_F_ACK, 1, &type,
			    &ifindex, iface_reply, wiphy);
	return r < 0 ? error_set(err, -r, "nl80211: %s is not a Wi-Fi interface", ifname) : 0;
}

int hwsim_interface_del(struct hwsim *h, const char *ifname, struct error *err)
{
	unsigned ifindex = if_nametoindex(ifname);
	if (ifindex == 0)
		return errno == ENODEV ? 0 : error_set(err, errno, "interface %s", ifname);
	const uint16_t type = NL80211_ATTR_IFINDEX;
	int r = request_u32(h, h->nl80211_family, NL80211_CMD_DEL_INTERFACE, NLM_F_ACK, 1, &type,
			    &ifindex, NULL, NULL);
	return r < 0 && r != -ENODEV ? error_set(err, -r, "nl80211: delete %s", ifname) : 0;
}

int hwsim_wiphy_names(struct hwsim *h, char (**names)[HWSIM_NAME_MAX], unsigned *count,
		      struct error *err)
{
	struct wiphy_ctx c = {0};
	int r = wiphy_dump(h, &c);
	if (r < 0) {
		free(c.names);
		return error_set(err, -r, "nl80211: list the phys");
	}
	*names = c.names;
	*count = c.count;
	return 0;
}

int hwsim_radios_delete_all(struct hwsim *h, unsigned *deleted, struct error *err)
{
	char (*names)[HWSIM_NAME_MAX] = NULL;
	unsigned n = 0;
	*deleted = 0;
	int r = hwsim_wiphy_names(h, &names, &n, err);
	for (unsigned k = 0; k < n && r == 0; k++) {
		unsigned char buf[256];
		struct msg m = { .cap = sizeof(buf), .buf = buf };
		if (!begin(&m, h->hwsim_family, HWSIM_CMD_DEL_RADIO, NLM_F_ACK, ++h->seq) ||
		    !put(&m, HWSIM_ATTR_RADIO_NAME, names[k], strlen(names[k]))) {
			r = error_set(err, EMSGSIZE, "hwsim: delete radio");
			break;
		}
		end(&m, 0);
		int e = transact(h, &m, NULL, NULL, NULL);
		if (e == 0)
			(*deleted)++;
		else if (e != -ENODEV) /* ENODEV: not a hwsim radio, or gone meanwhile */
			r = error_set(err, -e, "hwsim: delete radio %s", names[k]);
	}
	free(names);
	return r;
}

struct stations_ctx {
	struct hwsim_station *v;
	unsigned n, cap;
};

static int station_reply(const unsigned char *body, size_t len, void *ctx)
{
	struct stations_ctx *c = ctx;
	const struct nlattr *tb[NL80211_ATTR_STA_INFO + 1], *si[NL80211_STA_INFO_MAX + 1];
	if (!parse_attrs(body, len, tb, NL80211_ATTR_STA_INFO) || !tb[NL80211_ATTR_MAC] ||
	    attr_len(tb[NL80211_ATTR_MAC]) != 6 || !tb[NL80211_ATTR_STA_INFO])
		return 0;
	if (c->n >= HWSIM_STATIONS_MAX)
		return 0;
	if (!parse_attrs(attr_data(tb[NL80211_ATTR_STA_INFO]), attr_len(tb[NL80211_ATTR_STA_INFO]),
			 si, NL80211_STA_INFO_MAX))
		return 0;
	if (c->n == c->cap) {
		unsigned cap = c->cap ? 2 * c->cap : 8;
		void *grown = realloc(c->v, cap * sizeof(*c->v));
		if (!grown)
			return -ENOMEM;
		c->v = grown;
		c->cap = cap;
	}
	struct hwsim_station *s = &c->v[c->n++];
	*s = (struct hwsim_station){ .plink = -1 };
	memcpy(s->mac, attr_data(tb[NL80211_ATTR_MAC]), 6);
	const struct nlattr *a;
	if ((a = si[NL80211_STA_INFO_SIGNAL]) && attr_len(a) >= 1)
		s->signal_dbm = *(const int8_t *)attr_data(a);
	if ((a = si[NL80211_STA_INFO_PLINK_STATE]) && attr_len(a) >= 1)
		s->plink = *(const uint8_t *)attr_data(a);
	attr_u32(si[NL80211_STA_INFO_TX_RETRIES], &s->tx_retries);
	attr_u32(si[NL80211_STA_INFO_TX_FAILED], &s->tx_failed);
	attr_u32(si[NL80211_STA_INFO_TX_PACKETS], &s->tx_packets);
	attr_u32(si[NL80211_STA_INFO_RX_PACKETS], &s->rx_packets);
	attr_u32(si[NL80211_STA_INFO_INACTIVE_TIME], &s->inactive_ms);
	const struct nlattr *ri[NL80211_RATE_INFO_MAX + 1];
	if ((a = si[NL80211_STA_INFO_TX_BITRATE]) &&
	    parse_attrs(attr_data(a), attr_len(a), ri, NL80211_RATE_INFO_MAX)) {
		uint32_t v32;
		if (attr_u32(ri[NL80211_RATE_INFO_BITRATE32], &v32))
			s->tx_bitrate_kbps = v32 * 100;
		else if ((a = ri[NL80211_RATE_INFO_BITRATE]) && attr_len(a) >= 2)
			s->tx_bitrate_kbps = (uint32_t)*(const uint16_t *)attr_data(a) * 100;
	}
	return 0;
}

int hwsim_stations(struct hwsim *h, const char *ifname, struct hwsim_station **out,
		   unsigned *count, struct error *err)
{
	*out = NULL;
	*count = 0;
	unsigned ifindex = if_nametoindex(ifname);
	if (ifindex == 0)
		return error_set(err, errno, "interface %s", ifname);
	struct stations_ctx c = {0};
	const uint16_t type = NL80211_ATTR_IFINDEX;
	int r = request_u32(h, h->nl80211_family, NL80211_CMD_GET_STATION, NLM_F_DUMP, 1, &type,
			    &ifindex, station_reply, &c);
	if (r < 0) {
		free(c.v);
		return error_set(err, -r, "nl80211: stations of %s", ifname);
	}
	*out = c.v;
	*count = c.n;
	return 0;
}

const char *hwsim_plink_name(int plink)
{
	static const char *const names[] = { "LISTEN", "OPN_SNT", "OPN_RCVD", "CNF_RCVD",
					     "ESTAB", "HOLDING", "BLOCKED" };
	if (plink < 0)
		return "-";
	return (unsigned)plink < sizeof(names) / sizeof(names[0]) ? names[plink] : "?";
}

/* ---- the medium ---- */

int hwsim_medium_open(int *fd_out, uint16_t *family, struct error *err)
{
	cleanup_close int fd = genl_socket(err);
	if (fd < 0)
		return fd;
	int r = resolve_family(fd, 1, "MAC80211_HWSIM", family);
	if (r == -ENOENT)
		return error_setmsg(err, ENOENT, "%s", NO_HWSIM);
	if (r < 0)
		return error_set(err, -r, "generic netlink: family MAC80211_HWSIM");
	int size = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	unsigned char buf[64];
	struct msg m = { .cap = sizeof(buf), .buf = buf };
	struct hwsim h = { .fd = fd };
	if (!begin(&m, *family, HWSIM_CMD_REGISTER, NLM_F_ACK, 2))
		return error_set(err, EMSGSIZE, "hwsim: register");
	end(&m, 0);
	if ((r = transact(&h, &m, NULL, NULL, NULL)) < 0)
		return error_set(err, -r, "hwsim: register as the wireless medium");
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return error_set(err, errno, "hwsim: non-blocking socket");
	*fd_out = steal_fd(&fd);
	return 0;
}

int hwsim_parse_frame(const void *msg, size_t len, uint16_t family, struct hwsim_frame *f)
{
	const struct nlmsghdr *nh = msg;
	if (len < NLMSG_HDRLEN || nh->nlmsg_len < NLMSG_HDRLEN || nh->nlmsg_len > len)
		return -EINVAL;
	if (nh->nlmsg_type != family)
		return 0;
	if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return -EINVAL;
	const struct genlmsghdr *g = NLMSG_DATA(nh);
	if (g->cmd != HWSIM_CMD_FRAME)
		return 0;
	const struct nlattr *tb[HWSIM_ATTR_PERM_ADDR + 1];
	if (!parse_attrs((const unsigned char *)g + GENL_HDRLEN,
			 nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), tb, HWSIM_ATTR_PERM_ADDR))
		return -EINVAL;
	const struct nlattr *tx = tb[HWSIM_ATTR_ADDR_TRANSMITTER], *fr = tb[HWSIM_ATTR_FRAME],
			    *info = tb[HWSIM_ATTR_TX_INFO], *cookie = tb[HWSIM_ATTR_COOKIE];
	if (!tx || attr_len(tx) != 6 || !fr || attr_len(fr) < FRAME_MIN ||
	    attr_len(fr) > FRAME_MAX || !cookie || attr_len(cookie) != 8 ||
	    !attr_u32(tb[HWSIM_ATTR_FLAGS], &f->flags))
		return -EINVAL;
	f->transmitter = attr_data(tx);
	f->data = attr_data(fr);
	f->len = attr_len(fr);
	memcpy(&f->cookie, attr_data(cookie), 8);
	if (!attr_u32(tb[HWSIM_ATTR_FREQ], &f->freq))
		f->freq = 0;
	for (unsigned k = 0; k < HWSIM_TX_MAX_RATES; k++)
		f->rates[k] = (struct hwsim_rate){ .idx = -1, .count = 0 };
	if (info) {
		size_t n = attr_len(info) / sizeof(struct hwsim_rate);
		if (n > HWSIM_TX_MAX_RATES)
			n = HWSIM_TX_MAX_RATES;
		memcpy(f->rates, attr_data(info), n * sizeof(struct hwsim_rate));
	}
	return 1;
}

bool hwsim_put_rx(void *out, size_t cap, size_t *used, uint16_t family,
		  const uint8_t receiver[6], const uint8_t *frame, size_t len, uint32_t rate_idx,
		  int32_t signal_dbm, uint32_t freq)
{
	struct msg m = { .len = *used, .cap = cap, .buf = out };
	size_t start = m.len;
	if (!begin(&m, family, HWSIM_CMD_FRAME, 0, 0) ||
	    !put(&m, HWSIM_ATTR_ADDR_RECEIVER, receiver, 6) ||
	    !put(&m, HWSIM_ATTR_FRAME, frame, len) || !put_u32(&m, HWSIM_ATTR_RX_RATE, rate_idx) ||
	    !put_u32(&m, HWSIM_ATTR_SIGNAL, (uint32_t)signal_dbm) ||
	    (freq && !put_u32(&m, HWSIM_ATTR_FREQ, freq)))
		return false;
	end(&m, start);
	*used = m.len;
	return true;
}

bool hwsim_put_tx_info(void *out, size_t cap, size_t *used, uint16_t family,
		       const uint8_t transmitter[6], uint32_t flags, int32_t signal_dbm,
		       const struct hwsim_rate rates[HWSIM_TX_MAX_RATES], uint64_t cookie)
{
	struct msg m = { .len = *used, .cap = cap, .buf = out };
	size_t start = m.len;
	if (!begin(&m, family, HWSIM_CMD_TX_INFO_FRAME, 0, 0) ||
	    !put(&m, HWSIM_ATTR_ADDR_TRANSMITTER, transmitter, 6) ||
	    !put_u32(&m, HWSIM_ATTR_FLAGS, flags) ||
	    !put_u32(&m, HWSIM_ATTR_SIGNAL, (uint32_t)signal_dbm) ||
	    !put(&m, HWSIM_ATTR_TX_INFO, rates, HWSIM_TX_MAX_RATES * sizeof(*rates)) ||
	    !put(&m, HWSIM_ATTR_COOKIE, &cookie, sizeof(cookie)))
		return false;
	end(&m, start);
	*used = m.len;
	return true;
}
