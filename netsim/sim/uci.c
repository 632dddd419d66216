/* config=uci (uci.h). */
#include "sim/uci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "elf_arch.h"

/* One interface of the node and the neighbours it reaches over it. */
struct uci_iface {
	const char *ifname;
	char section[IFNAMSIZ + 8];
	unsigned *peers; /* node indices */
	unsigned npeers;
};

struct uci_plan {
	struct uci_iface *ifaces;
	unsigned n;
};

static void plan_free(struct uci_plan *p)
{
	for (unsigned i = 0; i < p->n; i++)
		free(p->ifaces[i].peers);
	free(p->ifaces);
}

static struct uci_iface *plan_add(struct uci_plan *p, const char *ifname, struct error *err)
{
	struct uci_iface *v = realloc(p->ifaces, (p->n + 1) * sizeof(*v));
	if (!v) {
		error_set(err, ENOMEM, "config=uci");
		return NULL;
	}
	p->ifaces = v;
	struct uci_iface *f = &v[p->n++];
	memset(f, 0, sizeof(*f));
	f->ifname = ifname;
	/* a uci section name is [A-Za-z0-9_]: eth0 stays eth0, wan.1 is wan_1 */
	size_t k = 0;
	for (const char *c = ifname; *c && k < IFNAMSIZ; c++)
		f->section[k++] = (*c == '.' || *c == '-') ? '_' : *c;
	f->section[k] = '\0';
	for (unsigned i = 0; i + 1 < p->n; i++)
		if (strcmp(p->ifaces[i].section, f->section) == 0 ||
		    strcmp(f->section, "loopback") == 0 || strcmp(f->section, "netsim") == 0) {
			snprintf(f->section + k, sizeof(f->section) - k, "_%u", p->n);
			break;
		}
	return f;
}

static int add_peer(struct uci_iface *f, unsigned peer, struct error *err)
{
	unsigned *v = realloc(f->peers, (f->npeers + 1) * sizeof(*v));
	if (!v)
		return error_set(err, ENOMEM, "config=uci");
	f->peers = v;
	f->peers[f->npeers++] = peer;
	return 0;
}

static int plan_of(const struct topo *t, unsigned node, struct uci_plan *p, struct error *err)
{
	for (unsigned l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];
		for (int side = 0; side < 2; side++) {
			const struct topo_endpoint *me = side ? &lk->b : &lk->a;
			const struct topo_endpoint *other = side ? &lk->a : &lk->b;
			if (me->node != node)
				continue;
			struct uci_iface *f = plan_add(p, me->ifname, err);
			if (!f || add_peer(f, other->node, err) < 0)
				return -ENOMEM;
		}
	}
	for (unsigned s = 0; s < t->nsegments; s++) {
		const struct topo_segment *seg = &t->segments[s];
		for (unsigned m = 0; m < seg->nmembers; m++) {
			if (seg->members[m].node != node)
				continue;
			struct uci_iface *f = plan_add(p, seg->members[m].ifname, err);
			if (!f)
				return -ENOMEM;
			for (unsigned o = 0; o < seg->nmembers; o++)
				if (o != m && seg->members[o].node != node &&
				    add_peer(f, seg->members[o].node, err) < 0)
					return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < p->n; i++)
		if (!topo_plain_ifname(p->ifaces[i].ifname))
			return error_setmsg(err, EINVAL,
					    "config=uci: interface name `%s` cannot go into "
					    "/etc/config (use only A-Z a-z 0-9 _ . -)",
					    p->ifaces[i].ifname);
	return 0;
}

/* "10.13.0.2/32" -> "10.13.0.2" and the dotted netmask */
static void split_v4(const char *cidr, char *addr, size_t len, char *mask, size_t mlen)
{
	snprintf(addr, len, "%s", cidr);
	char *slash = strchr(addr, '/');
	unsigned bits = 32;
	if (slash) {
		bits = (unsigned)atoi(slash + 1);
		*slash = '\0';
	}
	if (bits > 32)
		bits = 32;
	uint32_t m = bits ? 0xffffffffu << (32 - bits) : 0;
	snprintf(mask, mlen, "%u.%u.%u.%u", m >> 24, (m >> 16) & 255, (m >> 8) & 255, m & 255);
}

static FILE *open_config(int dirfd, const char *name, struct error *err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		error_set(err, errno, "config=uci: create etc/config/%s", name);
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		error_set(err, errno, "config=uci: etc/config/%s", name);
		close(fd);
	}
	return f;
}

static int close_config(FILE *f, const char *name, struct error *err)
{
	int failed = ferror(f);
	if (fclose(f) != 0 || failed)
		return error_set(err, errno ? errno : EIO, "config=uci: write etc/config/%s", name);
	return 0;
}

#define HEADER "# written by netsim for config=uci (docs/rootfs.md); `netsim up` writes it anew\n"

static int write_network(int dirfd, const struct topo *t, unsigned node,
			 const struct uci_plan *p, struct error *err)
{
	const struct topo_node *n = &t->nodes[node];
	FILE *f = open_config(dirfd, "network", err);
	if (!f)
		return -err->errnum;
	char a4[48], m4[16];
	split_v4(n->addr4, a4, sizeof(a4), m4, sizeof(m4));
	fprintf(f, HEADER "\n"
		"config interface 'loopback'\n"
		"\toption device 'lo'\n\toption ifname 'lo'\n\toption proto 'static'\n"
		"\toption ipaddr '127.0.0.1'\n\toption netmask '255.0.0.0'\n\n"
		"config interface 'netsim'\n"
		"\toption device 'lo'\n\toption ifname 'lo'\n\toption proto 'static'\n"
		"\toption ipaddr '%s'\n\toption netmask '%s'\n\toption ip6addr '%s'\n",
		a4, m4, n->addr6);
	for (unsigned i = 0; i < p->n; i++) {
		const struct uci_iface *u = &p->ifaces[i];
		fprintf(f, "\nconfig interface '%s'\n"
			"\toption device '%s'\n\toption ifname '%s'\n\toption proto 'static'\n"
			"\toption ipaddr '%s'\n\toption netmask '255.255.255.255'\n"
			"\toption ip6addr '%s'\n",
			u->section, u->ifname, u->ifname, a4, n->addr6);
		for (unsigned k = 0; k < u->npeers; k++) {
			const struct topo_node *peer = &t->nodes[u->peers[k]];
			char pa[48], pm[16];
			split_v4(peer->addr4, pa, sizeof(pa), pm, sizeof(pm));
			fprintf(f, "\nconfig route\n\toption interface '%s'\n\toption target '%s'\n"
				"\toption netmask '%s'\n", u->section, pa, pm);
			fprintf(f, "\nconfig route6\n\toption interface '%s'\n\toption target '%s'\n",
				u->section, peer->addr6);
		}
	}
	return close_config(f, "network", err);
}

static int write_system(int dirfd, const struct topo_node *n, struct error *err)
{
	FILE *f = open_config(dirfd, "system", err);
	if (!f)
		return -err->errnum;
	fprintf(f, HEADER "\nconfig system\n\toption hostname '%s'\n\toption timezone 'UTC'\n"
		"\toption zonename 'UTC'\n\toption ttylogin '0'\n\toption log_size '64'\n",
		n->name);
	return close_config(f, "system", err);
}

static int write_firewall(int dirfd, struct error *err)
{
	FILE *f = open_config(dirfd, "firewall", err);
	if (!f)
		return -err->errnum;
	fprintf(f, HEADER "# A lab router: everything is accepted and forwarded.\n\n"
		"config defaults\n\toption input 'ACCEPT'\n\toption output 'ACCEPT'\n"
		"\toption forward 'ACCEPT'\n\toption syn_flood '0'\n");
	return close_config(f, "firewall", err);
}

static int write_babeld(int dirfd, const struct topo_node *n, const struct uci_plan *p,
			struct error *err)
{
	FILE *f = open_config(dirfd, "babeld", err);
	if (!f)
		return -err->errnum;
	fprintf(f, HEADER "\nconfig general\n\toption ipv6_subtrees 'true'\n");
	for (unsigned i = 0; i < p->n; i++)
		fprintf(f, "\nconfig interface\n\toption ifname '%s'\n", p->ifaces[i].ifname);
	fprintf(f, "\nconfig filter\n\toption type 'redistribute'\n\toption local 'true'\n"
		"\toption ip '%s'\n"
		"\nconfig filter\n\toption type 'redistribute'\n\toption local 'true'\n"
		"\toption ip '%s'\n"
		"\nconfig filter\n\toption type 'redistribute'\n\toption local 'true'\n"
		"\toption action 'deny'\n",
		n->addr4, n->addr6);
	return close_config(f, "babeld", err);
}

static bool has_file(const char *const *layers, const char *path)
{
	for (size_t i = 0; layers && layers[i]; i++) {
		int fd = elf_arch_open_in_layer(layers[i], path);
		if (fd >= 0) {
			close(fd);
			return true;
		}
	}
	return false;
}

static int mkdir_at(int dirfd, const char *name, int *out, struct error *err)
{
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "config=uci: create %s", name);
	*out = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*out < 0)
		return error_set(err, errno, "config=uci: open %s", name);
	return 0;
}

int uci_layer_write(const struct topo *t, unsigned node, const char *const *layers,
		    const char *dir, struct error *err)
{
	struct uci_plan plan = {0};
	int r = plan_of(t, node, &plan, err);
	if (r < 0) {
		plan_free(&plan);
		return r;
	}
	if (mkdir(dir, 0755) < 0) {
		plan_free(&plan);
		return error_set(err, errno, "config=uci: create %s", dir);
	}
	cleanup_close int top = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int etc = -1;
	cleanup_close int conf = -1;
	if (top < 0)
		r = error_set(err, errno, "config=uci: open %s", dir);
	if (r == 0)
		r = mkdir_at(top, "etc", &etc, err);
	if (r == 0)
		r = mkdir_at(etc, "config", &conf, err);
	if (r == 0)
		r = write_network(conf, t, node, &plan, err);
	if (r == 0)
		r = write_system(conf, &t->nodes[node], err);
	if (r == 0)
		r = write_firewall(conf, err);
	if (r == 0 && has_file(layers, "/usr/sbin/babeld"))
		r = write_babeld(conf, &t->nodes[node], &plan, err);
	plan_free(&plan);
	return r;
}
