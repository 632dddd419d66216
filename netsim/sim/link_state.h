/* The quality a running sim's links have now: `netsim link ... set` records a
 * change in /run/netsim/SIM/links/NAME (NAME from shape_link_name() or
 * shape_segment_name()), one line of quality attributes; a link without a
 * record has its topology's quality. */
#ifndef NETSIM_LINK_STATE_H
#define NETSIM_LINK_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "topo/topo.h"

/* The quality last set at run time, or `topology` when it was never changed. */
int link_state_load(const char *sim, const char *name, const struct topo_quality *topology,
		    struct topo_quality *q, struct error *err);
/* The current quality of link `index` (or segment `index`) of a running sim as
 * text ("rate=4mbit", "" for none, "?" when it cannot be read): for status. */
void link_state_text(const char *sim, const struct topo *t, bool segment, unsigned index,
		     char *buf, size_t len);
int link_state_save(const char *sim, const char *name, const struct topo_quality *q,
		    struct error *err);

#endif
