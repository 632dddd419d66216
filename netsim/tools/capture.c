/* `netsim capture` (tools/capture.h): sim and node → the node's netns → a pcap
 * handle there (net/capture.c) → the output, until a limit or a signal. */
#include "tools/capture.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/capture.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "sim/wifi.h"
#include "util.h"

struct capture_session {
	char sim[TOPO_SIM_MAX + 1], node[TOPO_NAME_MAX + 1];
	char monitor[IFNAMSIZ];         /* a monitor interface this capture made, or "" */
	pcap_t *p;
	pcap_dumper_t *dumper;
	struct capture_limits lim;
	sigset_t wait_mask;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The interfaces the topology gives NODE, for a hint when one is unknown. */
static void topology_ifaces(const char *sim, const char *node, char *buf, size_t len)
{
	cleanup_topo struct topo t = {0};
	struct error err;
	buf[0] = '\0';
	if (sim_topology(sim, &t, &err) < 0)
		return;
	int i = topo_find_node(&t, node);
	for (unsigned l = 0; i >= 0 && l < t.nlinks; l++) {
		const struct topo_link *lk = &t.links[l];
		if (lk->a.node == (unsigned)i)
			snprintf(buf + strlen(buf), len - strlen(buf), " %s", lk->a.ifname);
		if (lk->b.node == (unsigned)i)
			snprintf(buf + strlen(buf), len - strlen(buf), " %s", lk->b.ifname);
	}
	for (unsigned s = 0; i >= 0 && s < t.nsegments; s++)
		for (unsigned m = 0; m < t.segments[s].nmembers; m++)
			if (t.segments[s].members[m].node == (unsigned)i)
				snprintf(buf + strlen(buf), len - strlen(buf), " %s",
					 t.segments[s].members[m].ifname);
}

/* Is NODE:IFNAME a member of a wifi segment of the sim's topology? */
static bool is_wifi_member(const char *sim, const char *node, const char *ifname)
{
	cleanup_topo struct topo t = {0};
	struct error err;
	if (sim_topology(sim, &t, &err) < 0)
		return false;
	int i = topo_find_node(&t, node);
	for (unsigned s = 0; i >= 0 && s < t.nsegments; s++)
		for (unsigned m = 0; t.segments[s].medium == TOPO_MEDIUM_WIFI &&
				     m < t.segments[s].nmembers; m++)
			if (t.segments[s].members[m].node == (unsigned)i &&
			    strcmp(t.segments[s].members[m].ifname, ifname) == 0)
				return true;
	return false;
}

static int open_handle(const struct capture_request *req, const struct capture_summary *sum,
		       pcap_t **p, struct error *err)
{
	char netns[PATH_MAX];
	if (state_netns_path(netns, sizeof(netns), sum->sim, req->node) < 0 ||
	    access(netns, F_OK) < 0)
		return error_setmsg(err, ENOENT, "capture: sim %s has no node %s", sum->sim,
				    req->node);
	int r = capture_open(netns, req->ifname, req->filter, sum->who, p, err);
	if (r == -ENODEV) {
		char ifs[256];
		topology_ifaces(sum->sim, req->node, ifs, sizeof(ifs));
		if (ifs[0])
			snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
				 " (its links:%s; or `any`)", ifs);
	}
	return r;
}

static int open_output(struct capture_session *s, const char *path, struct error *err)
{
	if (path && strcmp(path, "-") != 0) {
		s->dumper = pcap_dump_open(s->p, path);
		/* pcap's message for a file already names it */
		return s->dumper ? 0 : error_setmsg(err, EIO, "capture: %s", pcap_geterr(s->p));
	}
	/* Our own stream for stdout: main() made stdout line buffered, which would
	 * split binary pcap at every 0x0a byte. */
	int fd = dup(STDOUT_FILENO);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
	if (!f && fd >= 0)
		close(fd);
	s->dumper = f ? pcap_dump_fopen(s->p, f) : NULL;
	if (f && !s->dumper)
		fclose(f);
	return s->dumper ? 0 : error_set(err, errno, "capture: stdout");
}

/* Stop signals are only delivered while waiting for packets (ppoll's mask), so
 * the output is always closed cleanly; a reader that goes away is a write error
 * (EPIPE), not a death by SIGPIPE. */
static void catch_stop_signals(struct capture_session *s)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	stop_signals_block(&s->wait_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->lim.stop = &stop_requested;
	s->lim.wait_mask = &s->wait_mask;
}

static void session_free(struct capture_session *s)
{
	if (s->dumper)
		pcap_dump_close(s->dumper);
	if (s->p)
		pcap_close(s->p);
	if (s->monitor[0])
		sim_wifi_monitor_del(s->sim, s->node, s->monitor);
	free(s);
}

int capture_start(const struct capture_request *req, struct capture_session **out,
		  struct capture_summary *sum, struct error *err)
{
	*out = NULL;
	memset(sum, 0, sizeof(*sum));
	snprintf(sum->node, sizeof(sum->node), "%s", req->node);
	snprintf(sum->ifname, sizeof(sum->ifname), "%s", req->ifname);
	snprintf(sum->who, sizeof(sum->who), "%s:%s", req->node, req->ifname);
	int r = sim_pick(req->sim, sum->sim, sizeof(sum->sim), err);
	if (r < 0)
		return r;
	struct capture_session *s = calloc(1, sizeof(*s));
	if (!s)
		return error_set(err, ENOMEM, "capture");
	snprintf(s->sim, sizeof(s->sim), "%s", sum->sim);
	snprintf(s->node, sizeof(s->node), "%s", req->node);
	struct capture_request on = *req;
	if (!req->data && is_wifi_member(sum->sim, req->node, req->ifname)) {
		/* 802.11 frames with radiotap headers: a monitor interface on its phy */
		if ((r = sim_wifi_monitor_add(sum->sim, req->node, req->ifname, s->monitor,
					      err)) < 0) {
			s->monitor[0] = '\0';
			session_free(s);
			return error_prefix(err, "capture %s", sum->who);
		}
		on.ifname = s->monitor;
		sum->wifi = true;
	}
	r = open_handle(&on, sum, &s->p, err);
	if (r == 0)
		r = open_output(s, req->path, err);
	if (r < 0) {
		session_free(s);
		return r;
	}
	s->lim.count = req->count;
	s->lim.duration_us = req->duration_us;
	s->lim.flush_each = !req->path || strcmp(req->path, "-") == 0;
	catch_stop_signals(s);
	*out = s;
	return 0;
}

int capture_finish(struct capture_session *s, struct capture_summary *sum, struct error *err)
{
	int r = capture_run(s->p, s->dumper, &s->lim, &sum->packets, err);
	struct pcap_stat stats;
	sum->dropped = pcap_stats(s->p, &stats) == 0 ? stats.ps_drop : 0;
	session_free(s);
	return r;
}
