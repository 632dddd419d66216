/* TEMPORARY: AIR-SPEC §3's prototype until the medium branch (netsim/medium/engine.h)
 * is merged; deleted then. */
#ifndef NETSIM_CLI_MEDIUM_STUB_H
#define NETSIM_CLI_MEDIUM_STUB_H
#include <stddef.h>
#include "error.h"
#include "topo/topo.h"
struct medium_config {
	const struct topo *topo;
	int netns_fd;
	int ctl_fd;
	void (*port_name)(unsigned s, unsigned m, char *buf, size_t len);
};
int medium_run(const struct medium_config *c, struct error *err);
#endif
