/* The link quality grammar (topo/quality.h, docs/topology.md "Link quality").
 * The topology parser, `netsim link ... set`, the saved run-time quality of a
 * link and a scenario's `link ... set` all read quality through
 * topo_parse_quality_words(), so each accepts and refuses exactly the same. */
#include "topo/quality.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "topo/units.h"

#define QUOTE_MAX 64 /* user text quoted in messages is cut here */

/* Indexed by bit position: attr_names[i] sets 1 << i (TOPO_Q_*). */
static const char *const attr_names[] = {
	"rate", "delay", "jitter", "loss", "duplicate", "reorder",
};
#define NATTRS (sizeof(attr_names) / sizeof(attr_names[0]))
_Static_assert(NATTRS == TOPO_QUALITY_NATTRS, "quality.h counts the attributes");

#define RATE_EXAMPLE "a rate such as 54mbit, 500kbit, 1gbit or 10mbps (bytes)"
#define TIME_EXAMPLE "a time such as 5ms, 200us or 1.5s"
#define PERCENT_EXAMPLE "a percentage from 0% to 100%, such as 1% or 0.5%"

__attribute__((format(printf, 3, 4))) static void say(topo_quality_report_fn *report,
						       void *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(ctx, msg);
}

static int lookup(const char *key, size_t len)
{
	for (size_t i = 0; i < NATTRS; i++)
		if (strlen(attr_names[i]) == len && strncmp(attr_names[i], key, len) == 0)
			return (int)i;
	return -1;
}

/* One value into its field of q; 0, -EINVAL or -ERANGE (from units.c). */
static int parse_value(unsigned bit, const char *value, struct topo_quality *q,
		       const char **example)
{
	switch (bit) {
	case TOPO_Q_RATE:
		*example = RATE_EXAMPLE;
		return units_parse_rate(value, &q->rate_bps);
	case TOPO_Q_DELAY:
		*example = TIME_EXAMPLE;
		return units_parse_time(value, &q->delay_us);
	case TOPO_Q_JITTER:
		*example = TIME_EXAMPLE;
		return units_parse_time(value, &q->jitter_us);
	case TOPO_Q_LOSS:
		*example = PERCENT_EXAMPLE;
		return units_parse_percent(value, &q->loss_ppm);
	case TOPO_Q_DUPLICATE:
		*example = PERCENT_EXAMPLE;
		return units_parse_percent(value, &q->duplicate_ppm);
	default:
		*example = PERCENT_EXAMPLE;
		return units_parse_percent(value, &q->reorder_ppm);
	}
}

int topo_parse_quality_words(char *const words[], size_t n, unsigned flags,
			     struct topo_quality *out, topo_quality_report_fn *report, void *ctx)
{
	struct topo_quality q = {0};
	bool bad = false;
	for (size_t i = 0; i < n; i++) {
		const char *word = words[i], *eq = strchr(word, '=');
		if (!eq) {
			say(report, ctx, "`%.*s` is not an attribute (KEY=VALUE)", QUOTE_MAX, word);
			bad = true;
			continue;
		}
		int keylen = (int)(eq - word < QUOTE_MAX ? eq - word : QUOTE_MAX);
		if (eq == word) {
			say(report, ctx, "`%.*s` has no attribute name before '='", QUOTE_MAX, word);
			bad = true;
			continue;
		}
		const char *value = eq + 1;
		if (!*value) {
			say(report, ctx, "%.*s= has an empty value", keylen, word);
			bad = true;
			continue;
		}
		int attr = lookup(word, (size_t)(eq - word));
		if (attr < 0) {
			say(report, ctx,
			    "unknown link attribute `%.*s` (valid: " TOPO_QUALITY_ATTRS_VALID ")",
			    keylen, word);
			bad = true;
			continue;
		}
		unsigned bit = 1u << attr;
		if (q.set & bit) {
			say(report, ctx, "%s= given twice", attr_names[attr]);
			bad = true;
			continue;
		}
		const char *example;
		int r = parse_value(bit, value, &q, &example);
		if (r == -ERANGE) {
			say(report, ctx, "%s=%.*s is out of range; use %s", attr_names[attr],
			    QUOTE_MAX, value, example);
			bad = true;
			continue;
		}
		if (r < 0) {
			say(report, ctx, "%s=%.*s: expected %s", attr_names[attr], QUOTE_MAX, value,
			    example);
			bad = true;
			continue;
		}
		q.set |= bit;
	}
	if (!(flags & TOPO_QUALITY_CHANGE)) {
		if ((q.set & TOPO_Q_JITTER) && !(q.set & TOPO_Q_DELAY)) {
			say(report, ctx, "jitter= needs delay= (netem varies the delay by the jitter)");
			bad = true;
		}
		if ((q.set & TOPO_Q_REORDER) && !((q.set & TOPO_Q_DELAY) && q.delay_us > 0)) {
			say(report, ctx,
			    "reorder= needs a delay= above 0 (netem reorders by sending some "
			    "packets without the delay)");
			bad = true;
		}
	}
	if (bad)
		return -EINVAL;
	*out = q;
	return 0;
}

/* Errors of topo_parse_quality, one per line, as many as fit. */
struct collected {
	struct error *err;
	size_t used;
	unsigned count, dropped;
};

static void collect(void *ctx, const char *msg)
{
	struct collected *c = ctx;
	size_t size = sizeof(c->err->msg), len = strlen(msg) + (c->count ? 1 : 0);
	c->count++;
	if (c->dropped || c->used + len + 40 >= size) { /* 40: "...and N more" */
		c->dropped++;
		return;
	}
	snprintf(c->err->msg + c->used, size - c->used, "%s%s", c->count > 1 ? "\n" : "", msg);
	c->used += len;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int topo_parse_quality_argv(char *const words[], size_t n, unsigned flags,
			    struct topo_quality *q, struct error *err)
{
	error_clear(err);
	struct collected c = { .err = err };
	int r = topo_parse_quality_words(words, n, flags, q, collect, &c);
	if (r < 0) {
		if (c.dropped)
			snprintf(err->msg + c.used, sizeof(err->msg) - c.used,
				 "\n...and %u more error%s", c.dropped, c.dropped == 1 ? "" : "s");
		err->errnum = EINVAL;
	}
	return r;
}

int topo_parse_quality(const char *attrs, unsigned flags, struct topo_quality *q,
		       struct error *err)
{
	size_t len = strlen(attrs), n = 0;
	cleanup_free char *copy = strdup(attrs);
	/* a word and its blank take two bytes at least */
	cleanup_free char **words = calloc(len / 2 + 1, sizeof(*words));
	if (!copy || !words)
		return error_setmsg(err, ENOMEM, "parse quality: out of memory");
	for (char *p = copy; *p;) {
		while (is_blank(*p))
			*p++ = '\0';
		if (!*p)
			break;
		words[n++] = p;
		while (*p && !is_blank(*p))
			p++;
	}
	return topo_parse_quality_argv(words, n, flags, q, err);
}

void topo_format_quality(const struct topo_quality *q, char *buf, size_t len)
{
	size_t used = 0;
	if (len == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < NATTRS; i++) {
		unsigned bit = 1u << i;
		char value[64];
		if (!(q->set & bit))
			continue;
		switch (bit) {
		case TOPO_Q_RATE: units_format_rate(q->rate_bps, value, sizeof(value)); break;
		case TOPO_Q_DELAY: units_format_time(q->delay_us, value, sizeof(value)); break;
		case TOPO_Q_JITTER: units_format_time(q->jitter_us, value, sizeof(value)); break;
		case TOPO_Q_LOSS: units_format_percent(q->loss_ppm, value, sizeof(value)); break;
		case TOPO_Q_DUPLICATE:
			units_format_percent(q->duplicate_ppm, value, sizeof(value));
			break;
		default: units_format_percent(q->reorder_ppm, value, sizeof(value)); break;
		}
		int w = snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", attr_names[i],
				 value);
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
	}
}

unsigned topo_quality_bit(const char *name)
{
	int attr = lookup(name, strlen(name));
	return attr < 0 ? 0 : 1u << attr;
}

void topo_merge_quality(struct topo_quality *base, const struct topo_quality *change)
{
	unsigned set = change->set;
	if (set & TOPO_Q_RATE)
		base->rate_bps = change->rate_bps;
	if (set & TOPO_Q_DELAY)
		base->delay_us = change->delay_us;
	if (set & TOPO_Q_JITTER)
		base->jitter_us = change->jitter_us;
	if (set & TOPO_Q_LOSS)
		base->loss_ppm = change->loss_ppm;
	if (set & TOPO_Q_DUPLICATE)
		base->duplicate_ppm = change->duplicate_ppm;
	if (set & TOPO_Q_REORDER)
		base->reorder_ppm = change->reorder_ppm;
	base->set |= set;
}

void topo_clear_quality(struct topo_quality *q, unsigned bits)
{
	q->set &= ~bits;
	if (bits & TOPO_Q_RATE)
		q->rate_bps = 0;
	if (bits & TOPO_Q_DELAY)
		q->delay_us = 0;
	if (bits & TOPO_Q_JITTER)
		q->jitter_us = 0;
	if (bits & TOPO_Q_LOSS)
		q->loss_ppm = 0;
	if (bits & TOPO_Q_DUPLICATE)
		q->duplicate_ppm = 0;
	if (bits & TOPO_Q_REORDER)
		q->reorder_ppm = 0;
}
