/* Link quality as text: the one grammar for the QUALITY attributes of a
 * topology's links and segments (docs/topology.md, "Link quality"), of
 * `netsim link ... set` and of a scenario's `link ... set`, and the one
 * formatter back to that text.  Pure: no kernel, no files. */
#ifndef NETSIM_TOPO_QUALITY_H
#define NETSIM_TOPO_QUALITY_H

#include <stddef.h>

#include "error.h"
#include "topo/topo.h"

/* rate delay jitter loss duplicate reorder: bit i of topo_quality.set is 1 << i. */
#define TOPO_QUALITY_NATTRS 6
#define TOPO_QUALITY_ATTRS_VALID "rate, delay, jitter, loss, duplicate, reorder"

/* Flags of the parsers. */
enum {
	/* A change to an existing quality (`link ... set`): jitter= and reorder=
	 * may come without delay=, which the merged result must have (check that
	 * by formatting it and parsing it again without this flag). */
	TOPO_QUALITY_CHANGE = 1 << 0,
};

/* Called once per error, in the order of the words; `msg` has no file:line. */
typedef void topo_quality_report_fn(void *ctx, const char *msg);

/* ATTR=VALUE words into *q.  Every problem is reported (unknown attribute, one
 * given twice, a bad or out-of-range value, the jitter/reorder rules), then
 * -EINVAL is returned and *q is left alone; 0 with *q set otherwise. */
int topo_parse_quality_words(char *const words[], size_t n, unsigned flags,
			     struct topo_quality *q, topo_quality_report_fn *report, void *ctx);

/* The same with the errors in err->msg, one per line (what does not fit is
 * counted: "...and N more errors"): over words (command-line arguments), and
 * over a blank-separated string ("rate=4mbit delay=10ms", a saved quality). */
int topo_parse_quality_argv(char *const words[], size_t n, unsigned flags,
			    struct topo_quality *q, struct error *err);
int topo_parse_quality(const char *attrs, unsigned flags, struct topo_quality *q,
		       struct error *err);

/* "rate=4mbit delay=10ms loss=1%" (units_format_*, which parse back to the
 * same values); "" when nothing is set.  Cut to len like snprintf. */
void topo_format_quality(const struct topo_quality *q, char *buf, size_t len);

/* The TOPO_Q_* bit of an attribute name ("rate", "delay", ...), or 0. */
unsigned topo_quality_bit(const char *name);
/* `base` with every attribute set in `change` replaced by change's value. */
void topo_merge_quality(struct topo_quality *base, const struct topo_quality *change);
/* Drop the attributes in `bits` (TOPO_Q_*) from `q`, values too. */
void topo_clear_quality(struct topo_quality *q, unsigned bits);

#endif
