#include "tools/reach.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <math.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "net/netns.h"
#include "sim/qemu_node.h"
#include "util.h"

/* Echo payload: lets a reply be matched to its pair even when several netsim
 * processes ping in the same namespace. */
struct probe {
	uint32_t magic;
	uint32_t src, dst;
	uint32_t pad;
	double sent;
};

#define PROBE_MAGIC 0x6e736d31u /* "nsm1" */

static uint16_t checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* linux/icmp.h, which clashes with netinet/ip_icmp.h */
#endif

/* A raw ICMP socket sees every ICMP packet of its namespace, the echo
 * requests of every other node's probes included: let only echo replies in,
 * and room for a round's worth of them (n - 1) should a batch come back
 * before the engine reads. */
static void tune_probe_socket(int fd, unsigned n)
{
	uint32_t drop = ~(1u << ICMP_ECHOREPLY);
	(void)setsockopt(fd, SOL_RAW, ICMP_FILTER, &drop, sizeof(drop));
	int bytes = (int)(n < 256 ? 256 : n) * 2048;
	/* FORCE passes net.core.rmem_max (we are root); plain is the fallback */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

/* A raw ICMP socket that lives in the node's namespace (a socket keeps the
 * namespace it was created in). */
static int open_probe_socket(int netns_fd, unsigned n, struct error *err)
{
	int saved = -1;
	int r = netns_enter(netns_fd, &saved, err);
	if (r < 0)
		return r;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	int e = errno;
	r = netns_leave(&saved, err);
	if (fd < 0)
		return error_set(err, e, "raw ICMP socket");
	if (r < 0) {
		close(fd);
		return r;
	}
	tune_probe_socket(fd, n);
	return fd;
}

static int parse_addr(const char *cidr, struct in_addr *out)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", cidr);
	buf[strcspn(buf, "/")] = '\0';
	return inet_pton(AF_INET, buf, out) == 1 ? 0 : -EINVAL;
}

static void send_probe(int fd, uint16_t ident, unsigned src, unsigned dst,
		       const struct in_addr *to)
{
	struct {
		struct icmphdr h;
		struct probe p;
	} pkt;
	memset(&pkt, 0, sizeof(pkt));
	pkt.h.type = ICMP_ECHO;
	pkt.h.un.echo.id = htons(ident);
	pkt.h.un.echo.sequence = htons((uint16_t)dst);
	pkt.p = (struct probe){.magic = PROBE_MAGIC, .src = src, .dst = dst, .sent = now_seconds()};
	pkt.h.checksum = checksum(&pkt, sizeof(pkt));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = *to};
	/* Unreachable destinations fail right here (ENETUNREACH): that is an answer
	 * for this round, not an error. */
	(void)sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&sin, sizeof(sin));
}

static void drain_replies(int fd, unsigned src, uint16_t ident, unsigned n,
			  const bool *probing, struct reach_result *res)
{
	uint8_t buf[2048];
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			return;
		if ((size_t)len < sizeof(struct iphdr))
			continue;
		const struct iphdr *ip = (const void *)buf;
		size_t hl = (size_t)ip->ihl * 4;
		if ((size_t)len < hl + sizeof(struct icmphdr) + sizeof(struct probe))
			continue;
		const struct icmphdr *h = (const void *)(buf + hl);
		struct probe p;
		memcpy(&p, buf + hl + sizeof(*h), sizeof(p));
		if (h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != ident ||
		    p.magic != PROBE_MAGIC || p.src != src || p.dst >= n)
			continue;
		reach_record(res, probing, src, p.dst, (now_seconds() - p.sent) * 1000.0);
	}
}

/* Probes from a qemu node: its VM pings, a child process relays "INDEX RTT"
 * lines (qemu_node.h); INDEX is into `dst`, the node's destinations. */
struct vm_probe {
	pid_t pid;
	unsigned *dst;
	char line[64];
	size_t have;
};

static int start_vm_probe(const struct reach_node *nodes, unsigned n, unsigned s,
			  const bool *probing, struct vm_probe *vp, int *fd, struct error *err)
{
	const char **addrs = calloc(n + 1, sizeof(*addrs));
	vp->dst = calloc(n + 1, sizeof(*vp->dst));
	if (!addrs || !vp->dst) {
		free(addrs);
		return error_set(err, ENOMEM, "reach");
	}
	unsigned k = 0;
	for (unsigned d = 0; d < n; d++)
		if (probing[(size_t)s * n + d]) {
			vp->dst[k] = d;
			addrs[k++] = nodes[d].addr4;
		}
	int r = qemu_node_probe_start(nodes[s].qemu_sim, nodes[s].name, addrs, k, &vp->pid, fd,
				      err);
	free(addrs);
	return r;
}

static void drain_vm_probe(struct pollfd *pfd, unsigned src, unsigned n, struct vm_probe *vp,
			   const bool *probing, struct reach_result *res)
{
	char buf[512];
	ssize_t len = read(pfd->fd, buf, sizeof(buf));
	if (len <= 0) {
		if (len == 0 || errno != EINTR) {
			/* the relay ended: nothing more from this node (poll skips fd -1) */
			close(pfd->fd);
			pfd->fd = -1;
		}
		return;
	}
	for (ssize_t i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (vp->have + 1 < sizeof(vp->line))
				vp->line[vp->have++] = buf[i];
			continue;
		}
		vp->line[vp->have] = '\0';
		vp->have = 0;
		unsigned k;
		double rtt;
		if (sscanf(vp->line, "%u %lf", &k, &rtt) != 2 || k >= n)
			continue;
		reach_record(res, probing, src, vp->dst[k], rtt);
	}
}

void reach_record(struct reach_result *res, const bool *probing, unsigned src, unsigned dst,
		  double rtt_ms)
{
	size_t k = (size_t)src * res->n + dst;
	if (probing[k] && !res->reached[k]) {
		res->reached[k] = true;
		res->rtt_ms[k] = rtt_ms;
		res->pairs_ok++;
	}
}

/* The unanswered pairs in sending order: destination offset outermost, so
 * consecutive probes come from different sources and go to different
 * destinations, and no socket gets a whole round's replies at once. */
static size_t round_order(const bool *probing, const struct reach_result *res, uint32_t *out)
{
	unsigned n = res->n;
	size_t count = 0;
	for (unsigned o = 1; o < n; o++)
		for (unsigned s = 0; s < n; s++) {
			unsigned d = (s + o) % n;
			size_t k = (size_t)s * n + d;
			if (probing[k] && !res->reached[k])
				out[count++] = (uint32_t)k;
		}
	return count;
}

/* One round: send `count` probes spread over `window` seconds from
 * `round_start`, reading replies between batches.  Stops sending at
 * `stop_at` (NAN: never).  Returns the time of the last send. */
static int send_round(const struct reach_io *io, const bool *probing, const uint32_t *order,
		      size_t count, double round_start, double window, double stop_at,
		      struct reach_result *res, double *last_send, struct error *err)
{
	unsigned n = res->n;
	size_t i = 0;
	while (i < count) {
		double t = io->now(io->ctx);
		if (!isnan(stop_at) && t >= stop_at)
			break;
		/* how many should be out by now; at least one, so a slow clock
		 * still makes progress */
		double share = window > 0 ? (t - round_start) / window : 1.0;
		size_t due = share >= 1.0 ? count : (size_t)((double)count * share) + 1;
		if (due > count)
			due = count;
		size_t batch = due > i ? due - i : 0;
		if (batch > REACH_SEND_BATCH)
			batch = REACH_SEND_BATCH;
		/* ahead of the schedule only by rounding: send rather than spin */
		if (batch == 0 && round_start + window * (double)i / (double)count <= t)
			batch = 1;
		for (size_t b = 0; b < batch; b++, i++) {
			uint32_t k = order[i];
			if (!res->reached[k])
				io->send(io->ctx, k / n, k % n);
		}
		*last_send = io->now(io->ctx);
		double next = round_start + window * (double)i / (double)count;
		double pause = i < count && next > *last_send ? next - *last_send : 0;
		int r = io->wait(io->ctx, pause, probing, res, err);
		if (r < 0)
			return r;
		if (res->pairs_ok == res->pairs)
			break;
	}
	return 0;
}

/* Listen until `until`, or every pair answered. */
static int listen_until(const struct reach_io *io, const bool *probing, double until,
			struct reach_result *res, struct error *err)
{
	for (;;) {
		double now = io->now(io->ctx);
		if (now >= until || res->pairs_ok == res->pairs)
			return 0;
		int r = io->wait(io->ctx, until - now, probing, res, err);
		if (r < 0)
			return r;
	}
}

int reach_engine_run(const struct reach_io *io, const bool *probing, double timeout,
		     double interval, struct reach_result *res, struct error *err)
{
	cleanup_free uint32_t *order = calloc(res->pairs + 1, sizeof(*order));
	if (!order)
		return error_set(err, ENOMEM, "reach");
	double start = io->now(io->ctx), deadline = start + timeout;
	for (unsigned round = 0; res->pairs_ok < res->pairs; round++) {
		double round_start = io->now(io->ctx);
		if (round > 0 && round_start >= deadline)
			break;
		size_t count = round_order(probing, res, order);
		double last_send = round_start;
		/* spread over half the interval, but no slower than one probe per
		 * REACH_SEND_GAP: a small sim's few probes go out at once */
		double window = (double)count * REACH_SEND_GAP;
		if (window > interval / 2)
			window = interval / 2;
		int r = send_round(io, probing, order, count, round_start, window,
				   round == 0 ? NAN : deadline, res, &last_send, err);
		if (r < 0)
			return r;
		/* the next round no sooner than one interval after this one began,
		 * and half an interval after its last probe, but not past the
		 * deadline unless the last probes need that long to come back */
		double end = round_start + interval;
		if (end < last_send + interval / 2)
			end = last_send + interval / 2;
		/* a first sweep that ran past the deadline is measuring a busy
		 * machine: its last replies get REACH_LATE_GRACE, not a fraction
		 * of a short interval */
		double grace = interval / 2;
		if (last_send >= deadline && grace < REACH_LATE_GRACE)
			grace = REACH_LATE_GRACE;
		double last_chance = deadline > last_send + grace ? deadline : last_send + grace;
		if (end >= deadline)
			end = last_chance; /* no round follows: this one's last chance */
		r = listen_until(io, probing, end, res, err);
		if (r < 0)
			return r;
	}
	res->seconds = io->now(io->ctx) - start;
	return 0;
}

/* The real transport: raw ICMP sockets in the nodes' namespaces, and the
 * relays of qemu nodes (whose own stacks send their probes). */
struct socket_io {
	const struct reach_node *nodes;
	unsigned n;
	const struct in_addr *addrs;
	struct pollfd *pfds;
	struct vm_probe *vps;
	uint16_t ident;
};

static double socket_now(void *ctx)
{
	(void)ctx;
	return now_seconds();
}

static void socket_send(void *ctx, unsigned src, unsigned dst)
{
	struct socket_io *sio = ctx;
	if (!sio->nodes[src].qemu_sim)
		send_probe(sio->pfds[src].fd, sio->ident, src, dst, &sio->addrs[dst]);
}

static int socket_wait(void *ctx, double seconds, const bool *probing, struct reach_result *res,
		       struct error *err)
{
	struct socket_io *sio = ctx;
	int ms = seconds > 0 ? (int)(seconds * 1000.0) + 1 : 0;
	int ready = poll(sio->pfds, sio->n, ms);
	if (ready < 0)
		return errno == EINTR ? 0 : error_set(err, errno, "poll");
	for (unsigned s = 0; s < sio->n && ready > 0; s++) {
		if (!sio->pfds[s].revents)
			continue;
		ready--;
		if (sio->nodes[s].qemu_sim)
			drain_vm_probe(&sio->pfds[s], s, sio->n, &sio->vps[s], probing, res);
		else if (sio->pfds[s].revents & POLLIN)
			drain_replies(sio->pfds[s].fd, s, sio->ident, sio->n, probing, res);
	}
	return 0;
}

int reach_run(const struct reach_node *nodes, unsigned n, double timeout, double interval,
	      struct reach_result *res, struct error *err)
{
	return reach_run_pairs(nodes, n, NULL, timeout, interval, res, err);
}

int reach_run_pairs(const struct reach_node *nodes, unsigned n, const bool *want,
		    double timeout, double interval, struct reach_result *res,
		    struct error *err)
{
	memset(res, 0, sizeof(*res));
	res->n = n;
	res->reached = calloc((size_t)n * n + 1, sizeof(*res->reached));
	res->rtt_ms = calloc((size_t)n * n + 1, sizeof(*res->rtt_ms));
	struct in_addr *addrs = calloc(n + 1, sizeof(*addrs));
	struct pollfd *pfds = calloc(n + 1, sizeof(*pfds));
	bool *probing = calloc((size_t)n * n + 1, sizeof(*probing));
	struct vm_probe *vps = calloc(n + 1, sizeof(*vps));
	int r = 0;
	if (!res->reached || !res->rtt_ms || !addrs || !pfds || !probing || !vps) {
		r = error_set(err, ENOMEM, "reach");
		goto out;
	}
	for (unsigned s = 0; s < n; s++)
		for (unsigned d = 0; d < n; d++)
			if (s != d && (!want || want[(size_t)s * n + d])) {
				probing[(size_t)s * n + d] = true;
				res->pairs++;
			}
	for (unsigned i = 0; i < n; i++)
		pfds[i].fd = -1;
	for (unsigned i = 0; i < n; i++) {
		if (parse_addr(nodes[i].addr4, &addrs[i]) < 0) {
			r = error_setmsg(err, EINVAL, "node %s: bad address %s", nodes[i].name,
					 nodes[i].addr4);
			goto out;
		}
		/* A socket only where a probe starts: a pair subset (scenario
		 * expectations) should not cost a socket in every namespace. */
		bool source = false;
		for (unsigned d = 0; d < n && !source; d++)
			source = probing[(size_t)i * n + d];
		if (!source)
			continue;
		int fd;
		if (nodes[i].qemu_sim) {
			/* A stopped VM sends nothing, like a stopped container. */
			r = start_vm_probe(nodes, n, i, probing, &vps[i], &fd, err);
			if (r == -ESRCH) {
				r = 0;
				continue;
			}
			if (r < 0) {
				error_prefix(err, "node %s", nodes[i].name);
				goto out;
			}
			pfds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
			continue;
		}
		fd = open_probe_socket(nodes[i].netns_fd, n, err);
		if (fd < 0) {
			r = error_prefix(err, "node %s", nodes[i].name);
			goto out;
		}
		pfds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	struct socket_io sio = {.nodes = nodes, .n = n, .addrs = addrs, .pfds = pfds, .vps = vps,
				.ident = (uint16_t)(getpid() & 0xffff)};
	struct reach_io io = {.ctx = &sio, .now = socket_now, .send = socket_send,
			      .wait = socket_wait};
	r = reach_engine_run(&io, probing, timeout, interval, res, err);
out:
	for (unsigned i = 0; pfds && i < n; i++) {
		if (vps && nodes[i].qemu_sim) {
			qemu_node_probe_stop(vps[i].pid, pfds[i].fd);
			free(vps[i].dst);
		} else if (pfds[i].fd >= 0) {
			close(pfds[i].fd);
		}
	}
	free(vps);
	free(pfds);
	free(addrs);
	free(probing);
	if (r < 0)
		reach_result_free(res);
	return r;
}

void reach_print_matrix(FILE *out, const struct reach_node *nodes,
			const struct reach_result *res)
{
	unsigned n = res->n, w = 4, first = (unsigned)strlen("from\\to");
	for (unsigned i = 0; i < n; i++)
		if (strlen(nodes[i].name) + 1 > w)
			w = (unsigned)strlen(nodes[i].name) + 1;
	if (w > first)
		first = w;
	fprintf(out, "%-*s", (int)first, "from\\to");
	for (unsigned d = 0; d < n; d++)
		fprintf(out, " %*s", (int)w, nodes[d].name);
	fputc('\n', out);
	for (unsigned s = 0; s < n; s++) {
		fprintf(out, "%-*s", (int)first, nodes[s].name);
		for (unsigned d = 0; d < n; d++) {
			const char *mark = s == d ? "." : res->reached[(size_t)s * n + d] ? "ok" : "--";
			fprintf(out, " %*s", (int)w, mark);
		}
		fputc('\n', out);
	}
}

void reach_result_free(struct reach_result *res)
{
	free(res->reached);
	free(res->rtt_ms);
	res->reached = NULL;
	res->rtt_ms = NULL;
}

int reach_sim_open(const char *sim, struct reach_sim *rs, struct error *err)
{
	char path[PATH_MAX];
	memset(rs, 0, sizeof(*rs));
	state_sim_path(path, sizeof(path), sim, "state");
	int r = state_read(path, &rs->st, err);
	if (r < 0)
		return r;
	rs->nodes = calloc(rs->st.nnodes + 1, sizeof(*rs->nodes));
	if (!rs->nodes) {
		state_free(&rs->st);
		return error_set(err, ENOMEM, "sim %s", sim);
	}
	rs->nnodes = rs->st.nnodes;
	for (; rs->n < rs->st.nnodes; rs->n++) {
		const struct state_node *sn = &rs->st.nodes[rs->n];
		state_netns_path(path, sizeof(path), sim, sn->name);
		rs->nodes[rs->n].name = sn->name;
		rs->nodes[rs->n].addr4 = sn->addr4;
		rs->nodes[rs->n].qemu_sim = qemu_node_is(sim, sn->name) ? rs->st.sim : NULL;
		rs->nodes[rs->n].netns_fd = netns_open(path, err);
		if (rs->nodes[rs->n].netns_fd < 0) {
			r = error_prefix(err, "node %s", sn->name);
			reach_sim_close(rs);
			return r;
		}
	}
	return 0;
}

void reach_sim_close(struct reach_sim *rs)
{
	for (unsigned i = 0; i < rs->nnodes && i < rs->n; i++)
		close(rs->nodes[i].netns_fd);
	free(rs->nodes);
	free(rs->want);
	free(rs->owner);
	free(rs->target_text);
	state_free(&rs->st);
	memset(rs, 0, sizeof(*rs));
}

int reach_sim_find(const struct reach_sim *rs, const char *name)
{
	for (unsigned i = 0; i < rs->nnodes; i++)
		if (strcmp(rs->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- the lab's own addresses as targets ------------------------------------ */

struct found_addr {
	struct in_addr addr;
	unsigned node;
};

/* The global IPv4 addresses in node i's netns (appended to *v). */
static int node_addresses(const struct reach_sim *rs, unsigned i, struct found_addr **v,
			  size_t *n, struct error *err)
{
	int saved = -1;
	if (netns_enter(rs->nodes[i].netns_fd, &saved, err) < 0)
		return error_prefix(err, "node %s", rs->nodes[i].name);
	struct ifaddrs *list = NULL;
	int r = getifaddrs(&list) < 0 ? error_set(err, errno, "node %s: getifaddrs",
						   rs->nodes[i].name) : 0;
	struct error leave_err = {0};
	if (netns_leave(&saved, &leave_err) < 0 && r == 0) {
		*err = leave_err;
		r = -leave_err.errnum;
	}
	struct in_addr own = {0};
	parse_addr(rs->nodes[i].addr4, &own);
	for (struct ifaddrs *a = list; r == 0 && a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET)
			continue;
		struct in_addr in = ((const struct sockaddr_in *)(const void *)a->ifa_addr)->sin_addr;
		uint32_t h = ntohl(in.s_addr);
		if ((h >> 24) == 127 || (h >> 16) == 0xa9fe || in.s_addr == own.s_addr)
			continue;
		bool seen = false;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = (*v)[k].addr.s_addr == in.s_addr && (*v)[k].node == i;
		if (seen)
			continue;
		struct found_addr *nv = realloc(*v, (*n + 1) * sizeof(*nv));
		if (!nv) {
			r = error_set(err, ENOMEM, "reach");
			break;
		}
		*v = nv;
		(*v)[(*n)++] = (struct found_addr){in, i};
	}
	if (list)
		freeifaddrs(list);
	return r;
}

/* The addresses `spec` names (a comma list, or a file when it names one). */
static int spec_addresses(const char *spec, struct in_addr **out, size_t *n, struct error *err)
{
	cleanup_free char *text = NULL;
	if (access(spec, F_OK) == 0) {
		cleanup_fclose FILE *f = fopen(spec, "re");
		if (!f)
			return error_set(err, errno, "--addrs %s", spec);
		size_t len = 0;
		if (getdelim(&text, &len, '\0', f) < 0 && !text)
			return error_set(err, errno ? errno : EIO, "--addrs %s: read", spec);
		if (!text)
			return error_set(err, ENOMEM, "--addrs %s", spec);
		/* comments end at the line's end; commas, blanks and newlines separate */
		for (char *p = text; *p; p++)
			if (*p == '#')
				while (*p && *p != '\n')
					*p++ = ' ';
	} else if (!(text = strdup(spec))) {
		return error_set(err, ENOMEM, "--addrs");
	}
	char *save = NULL;
	for (char *tok = strtok_r(text, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
		struct in_addr a;
		if (parse_addr(tok, &a) < 0)
			return error_setmsg(err, EINVAL, "--addrs: `%.60s` is not an IPv4 address", tok);
		struct in_addr *nv = realloc(*out, (*n + 1) * sizeof(*nv));
		if (!nv)
			return error_set(err, ENOMEM, "--addrs");
		*out = nv;
		(*out)[(*n)++] = a;
	}
	if (*n == 0)
		return error_setmsg(err, EINVAL, "--addrs %s: no addresses", spec);
	return 0;
}

/* Every node's addresses now (*found replaced). */
static int discover_addresses(const struct reach_sim *rs, struct found_addr **found, size_t *n,
			      struct error *err)
{
	free(*found);
	*found = NULL;
	*n = 0;
	for (unsigned i = 0; i < rs->nnodes; i++) {
		if (rs->nodes[i].qemu_sim)
			continue; /* its stack is in the VM */
		int r = node_addresses(rs, i, found, n, err);
		if (r < 0)
			return error_prefix(err, "reach --addrs");
	}
	return 0;
}

static bool same_addresses(const struct found_addr *a, size_t na, const struct found_addr *b,
			   size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static void pause_seconds(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

/* How often, while waiting, the nodes' addresses are looked at again. */
#define TARGETS_RECHECK 0.5

int reach_sim_set_targets(struct reach_sim *rs, const char *spec, double wait,
			  struct error *err)
{
	cleanup_free struct found_addr *found = NULL, *before = NULL;
	size_t nfound = 0, nbefore = 0;
	cleanup_free struct in_addr *given = NULL;
	size_t ngiven = 0;
	bool all = strcmp(spec, "all") == 0;
	if (!all) {
		int r = spec_addresses(spec, &given, &ngiven, err);
		if (r < 0)
			return r;
	}
	cleanup_free struct found_addr *targets = calloc(all ? 1 : ngiven, sizeof(*targets));
	if (!targets)
		return error_set(err, ENOMEM, "reach --addrs");
	size_t ntargets = 0;
	/* Startup scripts address the nodes after `up` returned: with `wait`, look
	 * again until every given address is there, or (all) until the addresses
	 * stay the same between two looks. */
	for (double waited = 0;; waited += TARGETS_RECHECK) {
		int r = discover_addresses(rs, &found, &nfound, err);
		if (r < 0)
			return r;
		bool more_time = waited + TARGETS_RECHECK <= wait;
		if (all) {
			bool settled = nfound > 0 && same_addresses(found, nfound, before, nbefore);
			if (settled || !more_time || (wait <= 0 && nfound > 0))
				break;
			free(before);
			before = steal_pointer(&found);
			nbefore = nfound;
			nfound = 0;
		} else {
			ntargets = 0;
			size_t missing = ngiven;
			for (size_t g = 0; g < ngiven; g++) {
				size_t k;
				for (k = 0; k < nfound && found[k].addr.s_addr != given[g].s_addr; k++)
					;
				if (k == nfound) {
					missing = g;
					break;
				}
				targets[ntargets++] = found[k];
			}
			if (missing == ngiven)
				break;
			if (!more_time) {
				char text[INET_ADDRSTRLEN];
				inet_ntop(AF_INET, &given[missing], text, sizeof(text));
				return error_setmsg(err, ENOENT, "reach --addrs: %s is on no node's "
								 "interface", text);
			}
		}
		pause_seconds(TARGETS_RECHECK);
	}
	if (all) {
		free(targets);
		targets = steal_pointer(&found);
		ntargets = nfound;
	}
	if (ntargets == 0)
		return error_setmsg(err, ENOENT, "reach --addrs %s: the nodes have no addresses of "
						 "their own", spec);
	unsigned n = rs->nnodes + (unsigned)ntargets;
	struct reach_node *nodes = realloc(rs->nodes, n * sizeof(*nodes));
	if (!nodes)
		return error_set(err, ENOMEM, "reach --addrs");
	rs->nodes = nodes;
	rs->want = calloc((size_t)n * n, sizeof(*rs->want));
	rs->owner = calloc(ntargets, sizeof(*rs->owner));
	rs->target_text = calloc(ntargets, sizeof(*rs->target_text));
	if (!rs->want || !rs->owner || !rs->target_text)
		return error_set(err, ENOMEM, "reach --addrs");
	for (size_t k = 0; k < ntargets; k++) {
		unsigned t = rs->nnodes + (unsigned)k;
		rs->owner[k] = targets[k].node;
		char addr[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &targets[k].addr, addr, sizeof(addr));
		/* "ADDR\0NODE:ADDR": the address for the prober, a name for messages */
		snprintf(rs->target_text[k], 20, "%s", addr);
		char *name = rs->target_text[k] + 20;
		snprintf(name, 44, "%.12s:%s", rs->nodes[targets[k].node].name, addr);
		rs->nodes[t] = (struct reach_node){.name = name, .addr4 = rs->target_text[k],
						   .netns_fd = -1};
		for (unsigned s = 0; s < rs->nnodes; s++)
			if (s != targets[k].node)
				rs->want[(size_t)s * n + t] = true;
	}
	rs->n = n;
	return 0;
}

int reach_sim_run(const struct reach_sim *rs, double timeout, double interval,
		  struct reach_result *res, struct error *err)
{
	return reach_run_pairs(rs->nodes, rs->n, rs->want, timeout, interval, res, err);
}

bool reach_sim_probed(const struct reach_sim *rs, unsigned s, unsigned d)
{
	return s != d && (!rs->want || rs->want[(size_t)s * rs->n + d]);
}

void reach_sim_print(FILE *out, const struct reach_sim *rs, const struct reach_result *res)
{
	if (!rs->want) {
		reach_print_matrix(out, rs->nodes, res);
		return;
	}
	unsigned n = rs->n, w = 4;
	for (unsigned i = 0; i < rs->nnodes; i++)
		if (strlen(rs->nodes[i].name) + 1 > w)
			w = (unsigned)strlen(rs->nodes[i].name) + 1;
	/* one line per target: its address and node, then each node's answer */
	fprintf(out, "%-*s", 28, "to\\from");
	for (unsigned s = 0; s < rs->nnodes; s++)
		fprintf(out, " %*s", (int)w, rs->nodes[s].name);
	fputc('\n', out);
	for (unsigned d = rs->nnodes; d < n; d++) {
		fprintf(out, "%-*s", 28, rs->nodes[d].name);
		for (unsigned s = 0; s < rs->nnodes; s++) {
			const char *mark = !reach_sim_probed(rs, s, d) ? "." :
				res->reached[(size_t)s * n + d] ? "ok" : "--";
			fprintf(out, " %*s", (int)w, mark);
		}
		fputc('\n', out);
	}
}
