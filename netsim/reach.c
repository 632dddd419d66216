#include "reach.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netlink.h"
#include "qemu_node.h"

/* Echo payload: lets a reply be matched to its pair even when several netsim
 * processes ping in the same namespace. */
struct probe {
	uint32_t magic;
	uint32_t src, dst;
	uint32_t pad;
	double sent;
};

#define PROBE_MAGIC 0x6e736d31u /* "nsm1" */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

/* A raw ICMP socket that lives in the node's namespace (a socket keeps the
 * namespace it was created in). */
static int open_probe_socket(int netns_fd, struct error *err)
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
		size_t k = (size_t)src * n + p.dst;
		if (probing[k] && !res->reached[k]) {
			res->reached[k] = true;
			res->rtt_ms[k] = (now_seconds() - p.sent) * 1000.0;
			res->pairs_ok++;
		}
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
		size_t idx = (size_t)src * n + vp->dst[k];
		if (probing[idx] && !res->reached[idx]) {
			res->reached[idx] = true;
			res->rtt_ms[idx] = rtt;
			res->pairs_ok++;
		}
	}
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
		fd = open_probe_socket(nodes[i].netns_fd, err);
		if (fd < 0) {
			r = error_prefix(err, "node %s", nodes[i].name);
			goto out;
		}
		pfds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	uint16_t ident = (uint16_t)(getpid() & 0xffff);
	double start = now_seconds(), deadline = start + timeout;
	while (res->pairs_ok < res->pairs) {
		double round_end = now_seconds() + interval;
		for (unsigned s = 0; s < n; s++)
			for (unsigned d = 0; d < n; d++) {
				size_t k = (size_t)s * n + d;
				if (probing[k] && !res->reached[k] && !nodes[s].qemu_sim)
					send_probe(pfds[s].fd, ident, s, d, &addrs[d]);
			}
		for (;;) {
			double now = now_seconds();
			double until = round_end < deadline ? round_end : deadline;
			if (now >= until || res->pairs_ok == res->pairs)
				break;
			int ms = (int)((until - now) * 1000.0) + 1;
			if (poll(pfds, n, ms) < 0 && errno != EINTR) {
				r = error_set(err, errno, "poll");
				goto out;
			}
			for (unsigned s = 0; s < n; s++)
				if (nodes[s].qemu_sim && pfds[s].revents)
					drain_vm_probe(&pfds[s], s, n, &vps[s], probing, res);
				else if (pfds[s].revents & POLLIN)
					drain_replies(pfds[s].fd, s, ident, n, probing, res);
		}
		if (now_seconds() >= deadline)
			break;
	}
	res->seconds = now_seconds() - start;
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
	for (unsigned i = 0; i < rs->n; i++)
		close(rs->nodes[i].netns_fd);
	free(rs->nodes);
	state_free(&rs->st);
	memset(rs, 0, sizeof(*rs));
}

int reach_sim_find(const struct reach_sim *rs, const char *name)
{
	for (unsigned i = 0; i < rs->n; i++)
		if (strcmp(rs->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}
