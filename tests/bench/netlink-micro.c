/* Micro-benchmark of netsim/net/netlink.c: N namespaces + N-1 veth pairs in a line
 * (all ends up), then removal.  Driven by tests/bench/netlink-micro.sh, which
 * compares it with `ip -batch`.  Usage: netlink-micro N PREFIX */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/netns.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct error err = { 0 };
	struct net *host = NULL;
	int status = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s N PREFIX\n", argv[0]);
		return 2;
	}
	int count = atoi(argv[1]);
	const char *prefix = argv[2];
	char (*paths)[128] = calloc((size_t)count, sizeof(*paths));
	int *fds = malloc((size_t)count * sizeof(*fds));
	if (!paths || !fds)
		return 1;
	for (int i = 0; i < count; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/run/netns/%s%d", prefix, i);
		fds[i] = -1;
	}

	double start = now();
	for (int i = 0; i < count; i++) {
		if (netns_create(paths[i], &err) < 0 || (fds[i] = netns_open(paths[i], &err)) < 0)
			goto out;
	}
	double namespaces_done = now();
	if (net_open(&host, &err) < 0)
		goto out;
	for (int i = 1; i < count; i++) {
		uint8_t mac_a[6] = { 0x02, 0, 0, (uint8_t)(i >> 8), (uint8_t)i, 1 };
		uint8_t mac_b[6] = { 0x02, 0, 0, (uint8_t)(i >> 8), (uint8_t)i, 2 };
		if (net_veth_create(host, fds[i - 1], "eth1", mac_a, fds[i], "eth0", mac_b, &err) < 0)
			goto out;
	}
	double links_done = now();
	printf("netlink.c N=%d: namespaces %.2fs, veths %.2fs, total %.2fs\n", count,
	       namespaces_done - start, links_done - namespaces_done, links_done - start);
	status = 0;
out:
	if (status)
		fprintf(stderr, "netlink-micro: %s\n", err.msg);
	net_close(host);
	double remove_start = now();
	for (int i = 0; i < count; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (netns_remove(paths[i], &err) < 0) {
			fprintf(stderr, "netlink-micro: %s\n", err.msg);
			status = 1;
		}
	}
	printf("netlink.c N=%d: removal %.2fs\n", count, now() - remove_start);
	free(paths);
	free(fds);
	return status;
}
