/* Topology file parser (format: docs/topology.md).
 *
 * The parser reads the whole file before judging references, so links may name
 * nodes declared further down, and it collects every error instead of stopping at
 * the first: a user fixing a file sees all problems at once.  Errors are sorted
 * by line and handed back in err->msg, one "FILE:LINE: message" per line. */
#include "topo/topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup.h"
#include "topo/ident.h"
#include "topo/lines.h"
#include "topo/quality.h"
#include "topo/units.h"
#include "util.h"

#define TOPO_NODES_MAX 65534           /* default addresses derive from the index */
#define TOPO_FILE_SIZE_MAX (64u << 20) /* far above any real topology */
#define QUOTE_MAX 64                   /* user text quoted in messages is cut here */

enum node_attr {
	NODE_ROOTFS,
	NODE_FILES,
	NODE_INIT,
	NODE_ADDR,
	NODE_ADDR6,
	NODE_BACKEND,
	NODE_MEM,
	NODE_CPUS,
	NODE_KERNEL,
	NODE_PIDS,
	NODE_CPU,
	NODE_DISK,
	NODE_FEED,
	NODE_CONFIG,
	NODE_CAPS,
	NODE_STARTUP,
	NODE_POS,
	NODE_NATTRS,
};

static const char *const node_attr_names[NODE_NATTRS] = {
	"rootfs", "files", "init", "addr", "addr6", "backend", "mem", "cpus", "kernel",
	"pids", "cpu", "disk", "feed", "config", "caps", "startup", "pos",
};
#define NODE_ATTRS_VALID "rootfs, files, init, addr, addr6, backend, mem, cpus, kernel, pids, cpu, disk, feed, config, caps, startup, pos"
#define NODE_QEMU_ONLY ((1u << NODE_CPUS) | (1u << NODE_KERNEL))
/* cgroup limits and capabilities of a container node; a VM's limit is its
 * mem=/cpus=, and its root is the guest kernel's */
#define NODE_CONTAINER_ONLY ((1u << NODE_PIDS) | (1u << NODE_CPU) | (1u << NODE_DISK) | \
			     (1u << NODE_CAPS) | (1u << NODE_STARTUP))
/* layers of a container's overlay: a VM's root is a cpio packed at boot */
#define NODE_OVERLAY_ONLY ((1u << NODE_FEED) | (1u << NODE_CONFIG))
#define NODE_PIDS_MIN 8
#define NODE_PIDS_MAX 4194304
#define NODE_CPU_WEIGHT_MAX 10000

/* Node attributes being collected from `defaults` lines and a node's own line. */
struct node_settings {
	unsigned given; /* 1 << NODE_* for each attribute set (own or inherited) */
	unsigned own;   /* the subset given on the node's own line */
	char *rootfs, *files, *init, *kernel, *feed, *startup;
	char addr4[48], addr6[64];
	enum topo_backend backend;
	uint64_t mem_mib;
	unsigned cpus;
	uint64_t pids;
	unsigned cpu_weight;
	uint64_t disk_mib;
	enum topo_config config;
	bool sys_admin;
	double pos[3];
};

struct token {
	char *text;
	int eq; /* offset of the first unquoted '=', or -1 */
};

struct parse_error {
	int line;
	unsigned seq; /* keeps errors of one line in the order found */
	char *msg;
};

typedef char node_name_t[TOPO_NAME_MAX + 1];

/* A `pair` line until the whole file is read. */
struct pair_names {
	char segment[IFNAMSIZ];
	node_name_t from, to;
	bool both;                       /* "A B": both ways */
	bool cut;
	struct topo_quality quality;
	int line;
};

struct parser {
	const char *file;
	struct topo *t;
	size_t nodes_cap, links_cap, segments_cap;
	/* Endpoint node names until they are resolved after the whole file is read;
	 * "" marks an endpoint already reported as broken. */
	node_name_t *link_ends;          /* 2 per link */
	node_name_t **segment_members;   /* one array per segment */
	struct pair_names *pair_names;   /* one per `pair` line, resolved at the end */
	size_t npair_names, pair_names_cap;
	struct node_settings defaults;
	int sim_line, first_node_line;
	bool too_many_nodes_reported;
	/* open-addressing index of node names: slot = node index + 1, 0 = empty */
	unsigned *name_slots;
	size_t name_slots_size;
	struct parse_error *errors;
	size_t nerrors, errors_cap;
	bool out_of_memory;
};

/* ---- errors ---- */

__attribute__((format(printf, 3, 4))) static void report(struct parser *p, int line,
							  const char *fmt, ...)
{
	if (p->out_of_memory)
		return;
	if (p->nerrors == p->errors_cap) {
		size_t cap = p->errors_cap ? p->errors_cap * 2 : 16;
		struct parse_error *grown = realloc(p->errors, cap * sizeof(*grown));
		if (!grown) {
			p->out_of_memory = true;
			return;
		}
		p->errors = grown;
		p->errors_cap = cap;
	}
	char *body = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		p->out_of_memory = true;
		return;
	}
	p->errors[p->nerrors] = (struct parse_error){ line, (unsigned)p->nerrors, body };
	p->nerrors++;
}

static int compare_errors(const void *a, const void *b)
{
	const struct parse_error *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* All errors, by line, into err->msg; what does not fit is counted at the end. */
static void errors_to_message(struct parser *p, struct error *err)
{
	qsort(p->errors, p->nerrors, sizeof(*p->errors), compare_errors);
	char *out = err->msg;
	size_t size = sizeof(err->msg), used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < p->nerrors; i++) {
		char entry[sizeof(err->msg)];
		snprintf(entry, sizeof(entry), "%s%s:%d: %s", i ? "\n" : "", p->file,
			 p->errors[i].line, p->errors[i].msg);
		size_t len = strlen(entry);
		size_t reserve = i + 1 < p->nerrors ? 40 : 0; /* for "...and N more" */
		if (used + len + reserve >= size && i > 0) {
			snprintf(out + used, size - used, "\n...and %zu more error%s",
				 p->nerrors - i, p->nerrors - i == 1 ? "" : "s");
			break;
		}
		snprintf(out + used, size - used, "%s", entry);
		used = strlen(out);
	}
	err->errnum = EINVAL;
}

/* ---- small validators ---- */

int topo_valid_name(const char *name, unsigned max)
{
	size_t len = strlen(name);
	if (len == 0 || len > max || name[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

bool topo_plain_ifname(const char *name)
{
	if (!*name)
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
			return false;
	return true;
}

bool topo_valid_ifname(const char *name, unsigned flags)
{
	size_t len = strnlen(name, IFNAMSIZ);
	if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    ((flags & TOPO_IFNAME_CREATE) && strcmp(name, "lo") == 0))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' || name[i] == '%' || name[i] == ' ' ||
		    (name[i] >= '\t' && name[i] <= '\r'))
			return false;
	return true;
}

int topo_split_endpoint(const char *text, unsigned flags, char node[TOPO_NAME_MAX + 1],
			char ifname[IFNAMSIZ], struct error *err)
{
	const char *colon = strchr(text, ':');
	size_t name_len = colon ? (size_t)(colon - text) : strlen(text);
	char name[TOPO_NAME_MAX + 2];

	node[0] = ifname[0] = '\0';
	memcpy(name, text, name_len > TOPO_NAME_MAX + 1 ? TOPO_NAME_MAX + 1 : name_len);
	name[name_len > TOPO_NAME_MAX + 1 ? TOPO_NAME_MAX + 1 : name_len] = '\0';
	if (!topo_valid_name(name, TOPO_NAME_MAX))
		return error_setmsg(err, EINVAL,
				    "`%.*s` is not a valid node name ([a-z0-9-], 1 to %d characters, "
				    "not starting with '-')",
				    (int)(name_len < QUOTE_MAX ? name_len : QUOTE_MAX), text,
				    TOPO_NAME_MAX);
	if (colon && !topo_valid_ifname(colon + 1, flags))
		return error_setmsg(err, EINVAL,
				    "`%.*s` is not a valid interface name (1 to %d characters, no "
				    "'/', ':', '%%' or blanks%s)",
				    QUOTE_MAX, colon + 1, IFNAMSIZ - 1,
				    flags & TOPO_IFNAME_CREATE ? ", not lo" : "");
	strcpy(node, name);
	if (colon)
		strcpy(ifname, colon + 1);
	return 0;
}

/* "ADDR[/PREFIX]" → canonical "ADDR/PREFIX" in out (prefix defaults to the full
 * length); the binary address goes to bytes. */
static bool parse_cidr(int family, const char *text, char *out, size_t outlen,
		       uint8_t bytes[16])
{
	unsigned max_prefix = family == AF_INET ? 32 : 128;
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
	unsigned prefix = max_prefix;

	if (addr_len == 0 || addr_len >= sizeof(addr))
		return false;
	memcpy(addr, text, addr_len);
	addr[addr_len] = '\0';
	memset(bytes, 0, 16);
	if (inet_pton(family, addr, bytes) != 1)
		return false;
	if (slash) {
		const char *digits = slash + 1;
		size_t ndigits = strspn(digits, "0123456789");
		if (ndigits == 0 || ndigits > 3 || digits[ndigits] != '\0')
			return false;
		prefix = (unsigned)atoi(digits);
		if (prefix > max_prefix)
			return false;
	}
	if (!inet_ntop(family, bytes, addr, sizeof(addr)))
		return false;
	snprintf(out, outlen, "%s/%u", addr, prefix);
	return true;
}

/* mem=: QEMU's -m syntax restricted to MiB/GiB: "512", "512M", "2G". */
bool topo_parse_mem_mib(const char *text, uint64_t *mib)
{
	size_t ndigits = strspn(text, "0123456789");
	if (ndigits == 0 || ndigits > 9)
		return false;
	uint64_t value = strtoull(text, NULL, 10);
	const char *suffix = text + ndigits;
	if (strcmp(suffix, "G") == 0 || strcmp(suffix, "g") == 0)
		value *= 1024;
	else if (!(suffix[0] == '\0' || strcmp(suffix, "M") == 0 || strcmp(suffix, "m") == 0))
		return false;
	if (value == 0)
		return false;
	*mib = value;
	return true;
}

/* A decimal number in [min, max], digits only. */
static bool parse_bounded(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long value;
	if (parse_unsigned(text, min, max, &value) < 0)
		return false;
	*out = value;
	return true;
}

static bool parse_cpus(const char *text, unsigned *cpus)
{
	size_t ndigits = strspn(text, "0123456789");
	if (ndigits == 0 || ndigits > 4 || text[ndigits] != '\0')
		return false;
	unsigned value = (unsigned)atoi(text);
	if (value < 1 || value > 1024)
		return false;
	*cpus = value;
	return true;
}

/* ---- node name index ---- */

static size_t hash_name(const char *name)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return (size_t)h;
}

static int name_index_find(const struct parser *p, const char *name)
{
	if (!p->name_slots_size)
		return -1;
	size_t mask = p->name_slots_size - 1;
	for (size_t i = hash_name(name) & mask;; i = (i + 1) & mask) {
		unsigned slot = p->name_slots[i];
		if (!slot)
			return -1;
		if (strcmp(p->t->nodes[slot - 1].name, name) == 0)
			return (int)(slot - 1);
	}
}

static void name_index_insert(unsigned *slots, size_t size, const char *name, unsigned node)
{
	size_t mask = size - 1, i = hash_name(name) & mask;
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = node + 1;
}

/* Index t->nodes[node], growing the table to stay at most half full. */
static int name_index_add(struct parser *p, unsigned node)
{
	if ((node + 1) * 2 > p->name_slots_size) {
		size_t size = p->name_slots_size ? p->name_slots_size * 2 : 64;
		unsigned *slots = calloc(size, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (unsigned i = 0; i < node; i++)
			name_index_insert(slots, size, p->t->nodes[i].name, i);
		free(p->name_slots);
		p->name_slots = slots;
		p->name_slots_size = size;
	}
	name_index_insert(p->name_slots, p->name_slots_size, p->t->nodes[node].name, node);
	return 0;
}

/* ---- tokens ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split a NUL-terminated line in place.  '#' outside quotes ends the line; a
 * double-quoted part of a token may hold blanks, '#' and '=' (init="/bin/sh -c
 * 'x'"); inside quotes \" and \\ are escapes.  Returns 0, -EINVAL for an
 * unterminated quote, or -ENOMEM. */
static int tokenize(char *line, struct token **tokens, size_t *ntokens, size_t *cap)
{
	/* Unquoting only shrinks a token, so the write cursor never passes the read
	 * cursor and the tokens can live in the line itself. */
	char *r = line, *w = line;
	*ntokens = 0;
	for (;;) {
		while (is_blank(*r))
			r++;
		if (*r == '\0' || *r == '#')
			return 0;
		char *start = w;
		int eq = -1;
		bool quoted = false;
		while (*r && (quoted || (!is_blank(*r) && *r != '#'))) {
			if (*r == '"') {
				quoted = !quoted;
				r++;
				continue;
			}
			if (quoted && *r == '\\' && (r[1] == '"' || r[1] == '\\'))
				r++;
			else if (!quoted && *r == '=' && eq < 0)
				eq = (int)(w - start);
			*w++ = *r++;
		}
		if (quoted)
			return -EINVAL;
		char stop = *r; /* a blank, '#' or the end; the terminator may overwrite it */
		*w++ = '\0';
		if (*ntokens == *cap) {
			size_t grown_cap = *cap ? *cap * 2 : 16;
			struct token *grown = realloc(*tokens, grown_cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			*tokens = grown;
			*cap = grown_cap;
		}
		(*tokens)[(*ntokens)++] = (struct token){ start, eq };
		if (stop == '\0' || stop == '#')
			return 0;
		r++;
	}
}

/* ---- node settings ---- */

static void settings_clear(struct node_settings *s)
{
	free(s->rootfs);
	free(s->files);
	free(s->init);
	free(s->kernel);
	free(s->feed);
	free(s->startup);
	memset(s, 0, sizeof(*s));
}

static int settings_copy(struct node_settings *dst, const struct node_settings *src)
{
	*dst = *src;
	dst->rootfs = dst->files = dst->init = dst->kernel = dst->feed = dst->startup = NULL;
	if ((src->rootfs && !(dst->rootfs = strdup(src->rootfs))) ||
	    (src->files && !(dst->files = strdup(src->files))) ||
	    (src->init && !(dst->init = strdup(src->init))) ||
	    (src->kernel && !(dst->kernel = strdup(src->kernel))) ||
	    (src->feed && !(dst->feed = strdup(src->feed))) ||
	    (src->startup && !(dst->startup = strdup(src->startup)))) {
		settings_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

/* Values are kept as written: relative paths are resolved against the topology
 * file's directory by the code that uses them (netsim/sim.c), not here. */
static char *copy_value(struct parser *p, const char *value)
{
	char *out = strdup(value);
	if (!out)
		p->out_of_memory = true;
	return out;
}

static void replace_string(char **slot, char *value)
{
	free(*slot);
	*slot = value;
}

static void apply_node_attr(struct parser *p, struct node_settings *s, enum node_attr attr,
			    const char *value, int line)
{
	uint8_t bytes[16];
	switch (attr) {
	case NODE_ROOTFS:
		replace_string(&s->rootfs, copy_value(p, value));
		break;
	case NODE_FILES:
		replace_string(&s->files, copy_value(p, value));
		break;
	case NODE_KERNEL:
		replace_string(&s->kernel, copy_value(p, value));
		break;
	case NODE_INIT:
		replace_string(&s->init, copy_value(p, value));
		break;
	case NODE_ADDR:
		if (!parse_cidr(AF_INET, value, s->addr4, sizeof(s->addr4), bytes)) {
			report(p, line,
			       "addr=%.*s is not an IPv4 address with an optional /PREFIX (0..32)",
			       QUOTE_MAX, value);
			return;
		}
		break;
	case NODE_ADDR6:
		if (!parse_cidr(AF_INET6, value, s->addr6, sizeof(s->addr6), bytes)) {
			report(p, line,
			       "addr6=%.*s is not an IPv6 address with an optional /PREFIX (0..128)",
			       QUOTE_MAX, value);
			return;
		}
		break;
	case NODE_BACKEND:
		if (strcmp(value, "container") == 0) {
			s->backend = TOPO_BACKEND_CONTAINER;
		} else if (strcmp(value, "qemu") == 0) {
			s->backend = TOPO_BACKEND_QEMU;
		} else {
			report(p, line, "backend=%.*s: the backends are container and qemu",
			       QUOTE_MAX, value);
			return;
		}
		break;
	case NODE_MEM:
		if (!topo_parse_mem_mib(value, &s->mem_mib)) {
			report(p, line, "mem=%.*s: give MiB or GiB, e.g. mem=512M or mem=2G",
			       QUOTE_MAX, value);
			return;
		}
		break;
	case NODE_CPUS:
		if (!parse_cpus(value, &s->cpus)) {
			report(p, line, "cpus=%.*s: give a number from 1 to 1024", QUOTE_MAX,
			       value);
			return;
		}
		break;
	case NODE_PIDS:
		if (!parse_bounded(value, NODE_PIDS_MIN, NODE_PIDS_MAX, &s->pids)) {
			report(p, line, "pids=%.*s: give a number of processes from %d to %d",
			       QUOTE_MAX, value, NODE_PIDS_MIN, NODE_PIDS_MAX);
			return;
		}
		break;
	case NODE_CPU: {
		uint64_t weight;
		if (!parse_bounded(value, 1, NODE_CPU_WEIGHT_MAX, &weight)) {
			report(p, line, "cpu=%.*s: give a CPU weight from 1 to %d (100 = a default node's share)",
			       QUOTE_MAX, value, NODE_CPU_WEIGHT_MAX);
			return;
		}
		s->cpu_weight = (unsigned)weight;
		break;
	}
	case NODE_DISK:
		if (!topo_parse_mem_mib(value, &s->disk_mib)) {
			report(p, line, "disk=%.*s: give MiB or GiB, e.g. disk=512M or disk=2G",
			       QUOTE_MAX, value);
			return;
		}
		break;
	case NODE_FEED:
		replace_string(&s->feed, copy_value(p, value));
		break;
	case NODE_CONFIG:
		if (strcmp(value, "uci") == 0) {
			s->config = TOPO_CONFIG_UCI;
		} else if (strcmp(value, "none") == 0) {
			s->config = TOPO_CONFIG_NONE;
		} else {
			report(p, line, "config=%.*s: want uci (write the node's /etc/config from "
			       "the topology) or none", QUOTE_MAX, value);
			return;
		}
		break;
	case NODE_STARTUP:
		replace_string(&s->startup, copy_value(p, value));
		break;
	case NODE_CAPS:
		/* the one capability a node may be given (docs/security.md) */
		if (strcmp(value, "+sys_admin") == 0) {
			s->sys_admin = true;
		} else if (strcmp(value, "-") == 0) {
			s->sys_admin = false;
		} else {
			report(p, line, "caps=%.*s: the only one is caps=+sys_admin (for FRR; "
			       "caps=- for none)", QUOTE_MAX, value);
			return;
		}
		break;
	case NODE_POS:
		if (!topo_parse_pos(value, s->pos)) {
			report(p, line,
			       "pos=%.*s: give X,Y or X,Y,Z in metres, e.g. pos=80,0 or pos=-12.5,40,3",
			       QUOTE_MAX, value);
			return;
		}
		break;
	case NODE_NATTRS:
		return;
	}
	s->given |= 1u << attr;
}

/* Checks KEY=VALUE shape; returns the key length, or -1 after reporting. */
static int attr_key_length(struct parser *p, const struct token *tok, int line)
{
	if (tok->eq < 0) {
		report(p, line, "`%.*s` is not an attribute (KEY=VALUE)", QUOTE_MAX, tok->text);
		return -1;
	}
	if (tok->eq == 0) {
		report(p, line, "`%.*s` has no attribute name before '='", QUOTE_MAX, tok->text);
		return -1;
	}
	if (tok->text[tok->eq + 1] == '\0') {
		report(p, line, "%.*s= has an empty value", tok->eq < QUOTE_MAX ? tok->eq : QUOTE_MAX,
		       tok->text);
		return -1;
	}
	return tok->eq;
}

static int lookup_attr(const char *const *names, size_t count, const char *key, size_t len)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(names[i]) == len && strncmp(names[i], key, len) == 0)
			return (int)i;
	return -1;
}

/* Node attributes of one line (a `node` or `defaults` line) into s. */
static void apply_node_attrs(struct parser *p, struct node_settings *s,
			     const struct token *tokens, size_t ntokens, int line,
			     bool is_defaults)
{
	unsigned seen = 0;
	for (size_t i = 0; i < ntokens; i++) {
		int keylen = attr_key_length(p, &tokens[i], line);
		if (keylen < 0)
			continue;
		const char *key = tokens[i].text, *value = key + keylen + 1;
		int attr = lookup_attr(node_attr_names, NODE_NATTRS, key, (size_t)keylen);
		if (attr < 0) {
			report(p, line, "unknown node attribute `%.*s` (valid: " NODE_ATTRS_VALID ")",
			       keylen < QUOTE_MAX ? keylen : QUOTE_MAX, key);
			continue;
		}
		if (seen & (1u << attr)) {
			report(p, line, "%s= given twice", node_attr_names[attr]);
			continue;
		}
		seen |= 1u << attr;
		if (is_defaults && (attr == NODE_ADDR || attr == NODE_ADDR6)) {
			report(p, line, "%s= cannot be a default: every node needs its own address",
			       node_attr_names[attr]);
			continue;
		}
		if (is_defaults && attr == NODE_POS) {
			report(p, line, "pos= cannot be a default: every node has its own position");
			continue;
		}
		apply_node_attr(p, s, (enum node_attr)attr, value, line);
	}
	if (!is_defaults)
		s->own = seen & s->given;
}

/* ---- quality ---- */

struct quality_report {
	struct parser *p;
	int line;
};

static void report_quality(void *ctx, const char *msg)
{
	struct quality_report *r = ctx;
	report(r->p, r->line, "%s", msg);
}

static void parse_quality(struct parser *p, struct topo_quality *q,
			  const struct token *tokens, size_t ntokens, int line)
{
	cleanup_free char **words = calloc(ntokens + 1, sizeof(*words));
	if (!words) {
		p->out_of_memory = true;
		return;
	}
	for (size_t i = 0; i < ntokens; i++)
		words[i] = tokens[i].text;
	struct quality_report r = { p, line };
	topo_parse_quality_words(words, ntokens, 0, q, report_quality, &r);
}

/* ---- statements ---- */

static void parse_sim(struct parser *p, const struct token *tokens, size_t ntokens, int line)
{
	if (p->sim_line) {
		report(p, line, "sim given twice (first at line %d)", p->sim_line);
		return;
	}
	p->sim_line = line;
	if (p->first_node_line)
		report(p, line, "sim must come before the first node (line %d)",
		       p->first_node_line);
	if (ntokens != 2 || tokens[1].eq >= 0) {
		report(p, line, "expected `sim NAME`");
		return;
	}
	if (!topo_valid_name(tokens[1].text, TOPO_SIM_MAX)) {
		report(p, line,
		       "`%.*s` is not a valid sim name ([a-z0-9-], 1 to %d characters, not "
		       "starting with '-')",
		       QUOTE_MAX, tokens[1].text, TOPO_SIM_MAX);
		return;
	}
	strcpy(p->t->sim, tokens[1].text);
}

static void parse_defaults(struct parser *p, const struct token *tokens, size_t ntokens,
			   int line)
{
	if (ntokens < 2) {
		report(p, line, "expected `defaults ATTR=VALUE...`");
		return;
	}
	apply_node_attrs(p, &p->defaults, tokens + 1, ntokens - 1, line, true);
}

/* Fill a topo_node from its settings; settings' strings move into the node. */
static void node_finish(struct parser *p, struct topo_node *node, struct node_settings *s,
			int line)
{
	if (s->backend != TOPO_BACKEND_QEMU) {
		for (unsigned attr = 0; attr < NODE_NATTRS; attr++)
			if ((s->own & NODE_QEMU_ONLY) & (1u << attr))
				report(p, line, "%s= is only for backend=qemu nodes",
				       node_attr_names[attr]);
		/* inherited from `defaults` meant for qemu nodes: not this node's concern */
		s->cpus = 0;
		free(s->kernel);
		s->kernel = NULL;
		node->limit_mem_mib = s->mem_mib;
		s->mem_mib = 0;
		node->limit_pids = s->pids;
		node->limit_cpu_weight = s->cpu_weight;
		node->limit_disk_mib = s->disk_mib;
		node->sys_admin = s->sys_admin;
		node->startup = steal_pointer(&s->startup);
	} else {
		for (unsigned attr = 0; attr < NODE_NATTRS; attr++)
			if ((s->own & NODE_CONTAINER_ONLY) & (1u << attr))
				report(p, line, "%s= is only for container nodes (a VM is limited by "
				       "mem= and cpus=)", node_attr_names[attr]);
		for (unsigned attr = 0; attr < NODE_NATTRS; attr++)
			if ((s->own & NODE_OVERLAY_ONLY) & (1u << attr))
				report(p, line, "%s= is only for container nodes (it is an overlay "
				       "layer; a VM's root is packed at boot: use files=)",
				       node_attr_names[attr]);
		/* inherited from `defaults` meant for container nodes */
		free(s->feed);
		s->feed = NULL;
		s->config = TOPO_CONFIG_NONE;
	}
	node->rootfs = s->rootfs ? steal_pointer(&s->rootfs) : strdup("meshlite");
	if (!node->rootfs)
		p->out_of_memory = true;
	node->files = steal_pointer(&s->files);
	node->feed = steal_pointer(&s->feed);
	node->init = steal_pointer(&s->init);
	node->qemu_kernel = steal_pointer(&s->kernel);
	node->qemu_mem_mib = s->mem_mib;
	node->qemu_cpus = s->cpus;
	node->backend = s->backend;
	node->config = s->config;
	if (s->given & (1u << NODE_ADDR))
		snprintf(node->addr4, sizeof(node->addr4), "%s", s->addr4);
	else
		ident_addr4(node->index, node->addr4, sizeof(node->addr4));
	if (s->given & (1u << NODE_ADDR6))
		snprintf(node->addr6, sizeof(node->addr6), "%s", s->addr6);
	else
		ident_addr6(node->index, node->addr6, sizeof(node->addr6));
	if (s->own & (1u << NODE_POS)) {
		node->has_pos = true;
		memcpy(node->pos, s->pos, sizeof(node->pos));
	}
}

static void parse_node(struct parser *p, const struct token *tokens, size_t ntokens, int line)
{
	struct topo *t = p->t;
	struct node_settings s;
	bool add = true;

	if (!p->first_node_line)
		p->first_node_line = line;
	if (ntokens < 2 || tokens[1].eq >= 0) {
		report(p, line, "expected `node NAME [ATTR=VALUE...]`");
		return;
	}
	const char *name = tokens[1].text;
	if (!topo_valid_name(name, TOPO_NAME_MAX)) {
		report(p, line,
		       "`%.*s` is not a valid node name ([a-z0-9-], 1 to %d characters, not "
		       "starting with '-')",
		       QUOTE_MAX, name, TOPO_NAME_MAX);
		add = false;
	} else {
		int first = name_index_find(p, name);
		if (first >= 0) {
			report(p, line, "node %s already declared at line %d", name,
			       t->nodes[first].line);
			add = false;
		}
	}
	if (add && t->nnodes == TOPO_NODES_MAX) {
		if (!p->too_many_nodes_reported)
			report(p, line, "too many nodes (at most %d)", TOPO_NODES_MAX);
		p->too_many_nodes_reported = true;
		add = false;
	}
	if (settings_copy(&s, &p->defaults) < 0) {
		p->out_of_memory = true;
		return;
	}
	s.own = 0;
	apply_node_attrs(p, &s, tokens + 2, ntokens - 2, line, false);
	if (!add) {
		settings_clear(&s);
		return;
	}
	if (t->nnodes == p->nodes_cap) {
		size_t cap = p->nodes_cap ? p->nodes_cap * 2 : 16;
		struct topo_node *grown = realloc(t->nodes, cap * sizeof(*grown));
		if (!grown) {
			settings_clear(&s);
			p->out_of_memory = true;
			return;
		}
		t->nodes = grown;
		p->nodes_cap = cap;
	}
	struct topo_node *node = &t->nodes[t->nnodes];
	memset(node, 0, sizeof(*node));
	strcpy(node->name, name);
	node->index = t->nnodes + 1;
	node->line = line;
	t->nnodes++;
	node_finish(p, node, &s, line);
	settings_clear(&s);
	if (name_index_add(p, t->nnodes - 1) < 0)
		p->out_of_memory = true;
}

/* NODE[:IFNAME]: the node name goes to node_name ("" when broken, after
 * reporting), an explicit interface name to ep->ifname ("" = assign ethN). */
static bool parse_endpoint(struct parser *p, const char *text, int line,
			   node_name_t node_name, struct topo_endpoint *ep)
{
	struct error err;
	memset(ep, 0, sizeof(*ep));
	if (topo_split_endpoint(text, TOPO_IFNAME_CREATE, node_name, ep->ifname, &err) < 0) {
		report(p, line, "%s", err.msg);
		return false;
	}
	return true;
}

static void parse_link(struct parser *p, struct token *tokens, size_t ntokens, int line)
{
	struct topo *t = p->t;
	const char *ends[2];
	size_t nends = 0;
	struct token *attrs = tokens + 1;
	size_t nattrs = 0;

	/* endpoints are the words without '='; order among attributes is free */
	for (size_t i = 1; i < ntokens; i++) {
		if (tokens[i].eq < 0) {
			if (nends < 2)
				ends[nends] = tokens[i].text;
			nends++;
		} else {
			attrs[nattrs++] = tokens[i];
		}
	}
	if (nends != 2) {
		report(p, line,
		       "a link has two endpoints (`link A[:IF] B[:IF] [QUALITY...]`), this one "
		       "has %zu%s",
		       nends, nends > 2 ? "; use a segment to join more nodes" : "");
		return;
	}
	struct topo_link link = { .line = line };
	node_name_t names[2];
	parse_endpoint(p, ends[0], line, names[0], &link.a);
	parse_endpoint(p, ends[1], line, names[1], &link.b);
	parse_quality(p, &link.quality, attrs, nattrs, line);
	if (names[0][0] && strcmp(names[0], names[1]) == 0) {
		report(p, line, "link from node %s to itself", names[0]);
		names[0][0] = names[1][0] = '\0';
	}
	if (t->nlinks == p->links_cap) {
		size_t cap = p->links_cap ? p->links_cap * 2 : 16;
		struct topo_link *grown = realloc(t->links, cap * sizeof(*grown));
		node_name_t *grown_ends = grown ? realloc(p->link_ends, 2 * cap * sizeof(*grown_ends))
						: NULL;
		if (grown)
			t->links = grown;
		if (!grown_ends) {
			p->out_of_memory = true;
			return;
		}
		p->link_ends = grown_ends;
		p->links_cap = cap;
	}
	memcpy(p->link_ends[2 * t->nlinks], names[0], sizeof(names[0]));
	memcpy(p->link_ends[2 * t->nlinks + 1], names[1], sizeof(names[1]));
	t->links[t->nlinks++] = link;
}

/* ---- radio segments ---- */

enum radio_attr {
	RADIO_MEDIUM,
	RADIO_TXPOWER,
	RADIO_REFLOSS,
	RADIO_EXPONENT,
	RADIO_NOISE,
	RADIO_SHADOWING,
	RADIO_SEED,
	RADIO_HIDDEN,
	RADIO_QUEUE,
	RADIO_MODE,      /* medium=wifi only, from here on */
	RADIO_CHANNEL,
	RADIO_SSID,
	RADIO_FORWARDING,
	RADIO_NATTRS,
};

static const char *const radio_attr_names[RADIO_NATTRS] = {
	"medium", "txpower", "refloss", "exponent", "noise", "shadowing", "seed", "hidden", "queue",
	"mode", "channel", "ssid", "forwarding",
};
#define RADIO_QUEUE_MAX 100000
#define POS_MAX 1e6

/* A decimal number with an optional sign and fraction ("-95", "2.5", ".5"),
 * optionally followed by `unit` (case-insensitive), within [min, max].  No
 * exponent, hex, inf or nan: strtod alone would take them. */
static bool parse_real(const char *text, const char *unit, double min, double max, double *out)
{
	const char *c = text;
	if (*c == '-' || *c == '+')
		c++;
	size_t intdigits = strspn(c, "0123456789");
	c += intdigits;
	size_t fracdigits = 0;
	if (*c == '.') {
		c++;
		fracdigits = strspn(c, "0123456789");
		c += fracdigits;
	}
	if (intdigits + fracdigits == 0 || intdigits > 12 || fracdigits > 12)
		return false;
	if (*c && !(unit && strcasecmp(c, unit) == 0))
		return false;
	char number[40];
	size_t len = (size_t)(c - text);
	memcpy(number, text, len);
	number[len] = '\0';
	double value = strtod(number, NULL);
	if (!(value >= min && value <= max))
		return false;
	*out = value;
	return true;
}

bool topo_parse_pos(const char *text, double pos[3])
{
	double v[3] = { 0, 0, 0 };
	unsigned n = 0;
	const char *c = text;
	for (;;) {
		const char *comma = strchr(c, ',');
		size_t len = comma ? (size_t)(comma - c) : strlen(c);
		char part[40];
		if (n == 3 || len == 0 || len >= sizeof(part))
			return false;
		memcpy(part, c, len);
		part[len] = '\0';
		if (!parse_real(part, NULL, -POS_MAX, POS_MAX, &v[n]))
			return false;
		n++;
		if (!comma)
			break;
		c = comma + 1;
	}
	if (n < 2)
		return false;
	memcpy(pos, v, sizeof(v));
	return true;
}

/* NAME=on|off into *out, or a report. */
static void parse_on_off(struct parser *p, int line, const char *name, const char *value, bool *out)
{
	if (strcmp(value, "on") == 0)
		*out = true;
	else if (strcmp(value, "off") == 0)
		*out = false;
	else
		report(p, line, "%s=%.*s: give on or off", name, QUOTE_MAX, value);
}

/* The radio attributes among a segment's attributes go into seg (and are
 * dropped from tokens/ntokens, which keeps the quality ones); `given` gets a
 * bit per radio attribute seen. */
static void parse_radio_attrs(struct parser *p, struct topo_segment *seg, struct token *tokens,
			      size_t *ntokens, int line, unsigned *given)
{
	struct topo_radio *r = &seg->radio;
	*r = (struct topo_radio){
		.tx_power_dbm = TOPO_RADIO_TXPOWER_DBM,
		.ref_loss_db = TOPO_RADIO_REFLOSS_DB,
		.exponent = TOPO_RADIO_EXPONENT,
		.noise_dbm = TOPO_RADIO_NOISE_DBM,
		.shadow_sigma_db = 0,
		.seed = 1,
		.hidden_nodes = true,
		.queue_frames = TOPO_RADIO_QUEUE_FRAMES,
		.capacity_bps = TOPO_RADIO_CAPACITY_BPS,
	};
	seg->wifi = (struct topo_wifi){ .mode = TOPO_WIFI_MESH, .channel = TOPO_WIFI_CHANNEL,
					.forwarding = true };
	snprintf(seg->wifi.ssid, sizeof(seg->wifi.ssid), "%s",
		 topo_plain_ifname(seg->name) ? seg->name : "netsim");
	size_t kept = 0;
	*given = 0;
	for (size_t i = 0; i < *ntokens; i++) {
		const struct token *tok = &tokens[i];
		int attr = tok->eq > 0 ? lookup_attr(radio_attr_names, RADIO_NATTRS, tok->text,
						     (size_t)tok->eq)
				       : -1;
		if (attr < 0) {
			tokens[kept++] = *tok;
			continue;
		}
		const char *value = tok->text + tok->eq + 1;
		const char *name = radio_attr_names[attr];
		if (*given & (1u << attr)) {
			report(p, line, "%s= given twice", name);
			continue;
		}
		*given |= 1u << attr;
		bool good = true;
		uint64_t number;
		switch ((enum radio_attr)attr) {
		case RADIO_MEDIUM:
			if (strcmp(value, "radio") == 0)
				seg->medium = TOPO_MEDIUM_RADIO;
			else if (strcmp(value, "wifi") == 0)
				seg->medium = TOPO_MEDIUM_WIFI;
			else if (strcmp(value, "bridge") == 0)
				seg->medium = TOPO_MEDIUM_BRIDGE;
			else
				report(p, line, "medium=%.*s: the media are bridge (the default), radio "
				       "and wifi", QUOTE_MAX, value);
			break;
		case RADIO_MODE:
			if (strcmp(value, "mesh") == 0)
				seg->wifi.mode = TOPO_WIFI_MESH;
			else if (strcmp(value, "ibss") == 0)
				seg->wifi.mode = TOPO_WIFI_IBSS;
			else
				report(p, line, "mode=%.*s: give mesh (802.11s) or ibss (ad-hoc)",
				       QUOTE_MAX, value);
			break;
		case RADIO_CHANNEL:
			if (!(good = parse_bounded(value, 1, 13, &number)))
				report(p, line, "channel=%.*s: give a 2.4 GHz channel from 1 to 13",
				       QUOTE_MAX, value);
			else
				seg->wifi.channel = (unsigned)number;
			break;
		case RADIO_FORWARDING:
			parse_on_off(p, line, "forwarding", value, &seg->wifi.forwarding);
			break;
		case RADIO_SSID: {
			size_t len = strlen(value);
			/* it reaches the node's init in NETSIM_WIFI: plain characters only */
			if (len == 0 || len > TOPO_WIFI_SSID_MAX || !topo_plain_ifname(value))
				report(p, line, "ssid=%.*s: give 1 to %d characters of A-Z a-z 0-9 _ . -",
				       QUOTE_MAX, value, TOPO_WIFI_SSID_MAX);
			else
				memcpy(seg->wifi.ssid, value, len + 1);
			break;
		}
		case RADIO_TXPOWER:
			if (!(good = parse_real(value, "dbm", -50, 60, &r->tx_power_dbm)))
				report(p, line, "txpower=%.*s: give a transmit power from -50 to 60 (dBm)",
				       QUOTE_MAX, value);
			break;
		case RADIO_REFLOSS:
			if (!(good = parse_real(value, "db", 0, 200, &r->ref_loss_db)))
				report(p, line, "refloss=%.*s: give the path loss at 1 m, from 0 to 200 (dB)",
				       QUOTE_MAX, value);
			break;
		case RADIO_EXPONENT:
			if (!(good = parse_real(value, NULL, 1, 8, &r->exponent)))
				report(p, line, "exponent=%.*s: give a path loss exponent from 1 to 8 "
				       "(2 = free space)", QUOTE_MAX, value);
			break;
		case RADIO_NOISE:
			if (!(good = parse_real(value, "dbm", -200, 0, &r->noise_dbm)))
				report(p, line, "noise=%.*s: give a noise floor from -200 to 0 (dBm)",
				       QUOTE_MAX, value);
			break;
		case RADIO_SHADOWING:
			if (!(good = parse_real(value, "db", 0, 50, &r->shadow_sigma_db)))
				report(p, line, "shadowing=%.*s: give the shadowing's standard deviation "
				       "from 0 (off) to 50 (dB)", QUOTE_MAX, value);
			break;
		case RADIO_SEED:
			errno = 0;
			if (strspn(value, "0123456789") != strlen(value) || strlen(value) > 20 ||
			    (r->seed = strtoull(value, NULL, 10), errno == ERANGE)) {
				report(p, line, "seed=%.*s: give a whole number from 0 to %llu",
				       QUOTE_MAX, value, (unsigned long long)UINT64_MAX);
				good = false;
			}
			break;
		case RADIO_HIDDEN:
			parse_on_off(p, line, "hidden", value, &r->hidden_nodes);
			break;
		case RADIO_QUEUE:
			if (!(good = parse_bounded(value, 1, RADIO_QUEUE_MAX, &number)))
				report(p, line, "queue=%.*s: give a number of frames from 1 to %d",
				       QUOTE_MAX, value, RADIO_QUEUE_MAX);
			else
				r->queue_frames = (unsigned)number;
			break;
		case RADIO_NATTRS:
			break;
		}
		(void)good;
	}
	*ntokens = kept;
}

/* After the quality is parsed: what a radio segment may have, and its capacity. */
static void finish_radio_segment(struct parser *p, struct topo_segment *seg, unsigned given,
				 int line)
{
	if (seg->medium == TOPO_MEDIUM_WIFI && seg->wifi.mode == TOPO_WIFI_IBSS &&
	    (given & (1u << RADIO_FORWARDING)))
		report(p, line, "forwarding= is for mode=mesh (an IBSS cell does not forward)");
	if (seg->medium != TOPO_MEDIUM_WIFI) {
		for (unsigned a = RADIO_MODE; a < RADIO_NATTRS; a++)
			if (given & (1u << a))
				report(p, line, "%s= is only for medium=wifi segments",
				       radio_attr_names[a]);
		memset(&seg->wifi, 0, sizeof(seg->wifi));
	}
	if (!topo_segment_on_air(seg)) {
		for (unsigned a = RADIO_TXPOWER; a < RADIO_MODE; a++)
			if (given & (1u << a))
				report(p, line, "%s= is only for medium=radio and medium=wifi segments",
				       radio_attr_names[a]);
		memset(&seg->radio, 0, sizeof(seg->radio));
		return;
	}
	unsigned extra = seg->quality.set & ~(unsigned)(TOPO_Q_RATE | TOPO_Q_DELAY | TOPO_Q_LOSS);
	static const char *const names[TOPO_QUALITY_NATTRS] = {
		"rate", "delay", "jitter", "loss", "duplicate", "reorder",
	};
	for (unsigned i = 0; i < TOPO_QUALITY_NATTRS; i++)
		if (extra & (1u << i))
			report(p, line, "%s= is not for a radio segment (the medium has rate=, "
			       "delay= and loss=)", names[i]);
	if (seg->quality.set & TOPO_Q_RATE)
		seg->radio.capacity_bps = seg->quality.rate_bps;
	seg->quality.set |= TOPO_Q_RATE;
	seg->quality.rate_bps = seg->radio.capacity_bps;
}

/* pair SEG A B [QUALITY...] [cut]  /  pair SEG A>B [QUALITY...] [cut] */
static void parse_pair(struct parser *p, struct token *tokens, size_t ntokens, int line)
{
	struct pair_names pn = { .line = line };
	const char *words[4];
	size_t nwords = 0;
	struct token *attrs = tokens + 1;
	size_t nattrs = 0;

	if (ntokens < 3 || tokens[1].eq >= 0) {
		report(p, line, "expected `pair SEGMENT A B|A>B [loss=..] [rate=..] [delay=..] [cut]`");
		return;
	}
	const char *seg = tokens[1].text;
	if (!topo_valid_ifname(seg, TOPO_IFNAME_CREATE)) {
		report(p, line, "`%.*s` is not a valid segment name", QUOTE_MAX, seg);
		return;
	}
	snprintf(pn.segment, sizeof(pn.segment), "%s", seg);
	for (size_t i = 2; i < ntokens; i++) {
		if (tokens[i].eq >= 0)
			attrs[nattrs++] = tokens[i];
		else if (nwords < 4)
			words[nwords++] = tokens[i].text;
		else
			nwords++;
	}
	/* the ends come first: "A>B", or "A" "B"; then nothing or "cut" */
	size_t nends = 0;
	const char *ends[2] = { NULL, NULL };
	const char *arrow = nwords ? strchr(words[0], '>') : NULL;
	char from[TOPO_NAME_MAX + 2]; /* one more: a longer name stays invalid */
	if (arrow) {
		nends = 1;
		size_t len = (size_t)(arrow - words[0]);
		if (len > TOPO_NAME_MAX + 1)
			len = TOPO_NAME_MAX + 1;
		memcpy(from, words[0], len);
		from[len] = '\0';
		ends[0] = from;
		ends[1] = arrow + 1;
	} else if (nwords >= 2) {
		nends = 2;
		pn.both = true;
		ends[0] = words[0];
		ends[1] = words[1];
	} else {
		report(p, line, "a pair names two members: `A B` (both ways) or `A>B` (one way)");
		return;
	}
	for (size_t i = nends; i < nwords; i++) {
		if (i < 4 && strcmp(words[i], "cut") == 0 && !pn.cut) {
			pn.cut = true;
		} else {
			report(p, line, "`%.*s`: after the members a pair takes only QUALITY "
			       "attributes and cut", QUOTE_MAX, i < 4 ? words[i] : "...");
			return;
		}
	}
	bool good = true;
	for (unsigned e = 0; e < 2; e++) {
		if (!topo_valid_name(ends[e], TOPO_NAME_MAX)) {
			report(p, line, "`%.*s` is not a valid node name ([a-z0-9-], 1 to %d "
			       "characters, not starting with '-')", QUOTE_MAX,
			       ends[e], TOPO_NAME_MAX);
			good = false;
		}
	}
	if (!good)
		return;
	snprintf(pn.from, sizeof(pn.from), "%s", ends[0]);
	snprintf(pn.to, sizeof(pn.to), "%s", ends[1]);
	if (strcmp(pn.from, pn.to) == 0) {
		report(p, line, "pair from node %s to itself", pn.from);
		return;
	}
	size_t before = p->nerrors;
	parse_quality(p, &pn.quality, attrs, nattrs, line);
	if (p->nerrors != before)
		return;
	unsigned extra = pn.quality.set & ~(unsigned)(TOPO_Q_RATE | TOPO_Q_DELAY | TOPO_Q_LOSS);
	if (extra) {
		report(p, line, "a pair takes rate=, delay= and loss= only");
		return;
	}
	if (pn.cut && pn.quality.set) {
		report(p, line, "a cut pair carries no frames: give cut or quality, not both");
		return;
	}
	if (!pn.cut && !pn.quality.set) {
		report(p, line, "the pair sets nothing: give loss=, rate=, delay= or cut");
		return;
	}
	if (p->npair_names == p->pair_names_cap) {
		size_t cap = p->pair_names_cap ? p->pair_names_cap * 2 : 16;
		struct pair_names *grown = realloc(p->pair_names, cap * sizeof(*grown));
		if (!grown) {
			p->out_of_memory = true;
			return;
		}
		p->pair_names = grown;
		p->pair_names_cap = cap;
	}
	p->pair_names[p->npair_names++] = pn;
}

static int compare_names(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	int c = strcmp(*x, *y);
	/* equal names: keep file order so the later one is the one reported */
	return c ? c : (*x < *y ? -1 : *x > *y);
}

static void parse_segment(struct parser *p, struct token *tokens, size_t ntokens, int line)
{
	struct topo *t = p->t;
	struct topo_segment segment = { .line = line };
	struct token *attrs = tokens + 1;
	size_t nattrs = 0, nwords = 0;

	if (ntokens < 2 || tokens[1].eq >= 0) {
		report(p, line, "expected `segment NAME NODE[:IF]... [QUALITY...]`");
		return;
	}
	const char *name = tokens[1].text;
	if (!topo_valid_ifname(name, TOPO_IFNAME_CREATE))
		report(p, line,
		       "`%.*s` is not a valid segment name: it names a bridge, so 1 to %d "
		       "characters, no '/', ':', '%%' or blanks, not lo",
		       QUOTE_MAX, name, IFNAMSIZ - 1);
	else
		strcpy(segment.name, name);

	for (size_t i = 2; i < ntokens; i++)
		if (tokens[i].eq < 0)
			nwords++;
	cleanup_free node_name_t *members = calloc(nwords ? nwords : 1, sizeof(*members));
	segment.members = calloc(nwords ? nwords : 1, sizeof(*segment.members));
	if (!members || !segment.members) {
		free(segment.members);
		p->out_of_memory = true;
		return;
	}
	for (size_t i = 2; i < ntokens; i++) {
		if (tokens[i].eq >= 0) {
			attrs[nattrs++] = tokens[i];
			continue;
		}
		parse_endpoint(p, tokens[i].text, line, members[segment.nmembers],
			       &segment.members[segment.nmembers]);
		segment.nmembers++;
	}
	/* one member is a stub LAN: an interface with no peer that its node
	 * routes for (Kathara's one-device collision domains) */
	if (segment.nmembers < 1)
		report(p, line, "segment %.*s needs at least one member", QUOTE_MAX, name);
	unsigned radio_given;
	parse_radio_attrs(p, &segment, attrs, &nattrs, line, &radio_given);
	parse_quality(p, &segment.quality, attrs, nattrs, line);
	finish_radio_segment(p, &segment, radio_given, line);

	/* a node joins a segment once: sort pointers to the names to find repeats */
	cleanup_free const char **sorted = calloc(segment.nmembers + 1, sizeof(*sorted));
	if (!sorted) {
		free(segment.members);
		p->out_of_memory = true;
		return;
	}
	size_t nsorted = 0;
	for (unsigned i = 0; i < segment.nmembers; i++)
		if (members[i][0])
			sorted[nsorted++] = members[i];
	qsort(sorted, nsorted, sizeof(*sorted), compare_names);
	for (size_t i = 1; i < nsorted; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			report(p, line, "node %s is twice in segment %.*s", sorted[i], QUOTE_MAX,
			       name);

	if (t->nsegments == p->segments_cap) {
		size_t cap = p->segments_cap ? p->segments_cap * 2 : 8;
		struct topo_segment *grown = realloc(t->segments, cap * sizeof(*grown));
		node_name_t **grown_members =
			grown ? realloc(p->segment_members, cap * sizeof(*grown_members)) : NULL;
		if (grown)
			t->segments = grown;
		if (!grown_members) {
			free(segment.members);
			p->out_of_memory = true;
			return;
		}
		p->segment_members = grown_members;
		p->segments_cap = cap;
	}
	p->segment_members[t->nsegments] = steal_pointer(&members);
	t->segments[t->nsegments++] = segment;
}

static void parse_line(struct parser *p, char *text, int line, struct token **tokens,
		       size_t *cap)
{
	size_t ntokens;
	int ret = tokenize(text, tokens, &ntokens, cap);
	if (ret == -ENOMEM) {
		p->out_of_memory = true;
		return;
	}
	if (ret < 0) {
		report(p, line, "unterminated \" quote");
		return;
	}
	if (ntokens == 0)
		return;
	const char *keyword = (*tokens)[0].text;
	if (strcmp(keyword, "sim") == 0)
		parse_sim(p, *tokens, ntokens, line);
	else if (strcmp(keyword, "defaults") == 0)
		parse_defaults(p, *tokens, ntokens, line);
	else if (strcmp(keyword, "node") == 0)
		parse_node(p, *tokens, ntokens, line);
	else if (strcmp(keyword, "link") == 0)
		parse_link(p, *tokens, ntokens, line);
	else if (strcmp(keyword, "segment") == 0)
		parse_segment(p, *tokens, ntokens, line);
	else if (strcmp(keyword, "pair") == 0)
		parse_pair(p, *tokens, ntokens, line);
	else
		report(p, line,
		       "unknown keyword `%.*s` (expected sim, defaults, node, link, segment or pair)",
		       QUOTE_MAX, keyword);
}

/* ---- whole-file checks ---- */

struct iface_use {
	unsigned node;
	const char *ifname;
	int line;
	size_t seq;
};

static int compare_iface_uses(const void *a, const void *b)
{
	const struct iface_use *x = a, *y = b;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	int c = strcmp(x->ifname, y->ifname);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Resolve one endpoint and give it ethN if it has no name; the node's Nth
 * interface in file order (links and segments together) is ethN, and its Nth on
 * a medium=wifi segment wlanN. */
static void resolve_endpoint(struct parser *p, const char *node_name, struct topo_endpoint *ep,
			     int line, bool wlan, struct iface_use *uses, size_t *nuses)
{
	if (!node_name[0])
		return; /* already reported */
	int node = name_index_find(p, node_name);
	if (node < 0) {
		report(p, line, "node %s is not declared", node_name);
		return;
	}
	ep->node = (unsigned)node;
	struct topo_node *n = &p->t->nodes[node];
	if (!ep->ifname[0] && wlan)
		snprintf(ep->ifname, sizeof(ep->ifname), "wlan%u", n->nwlans);
	else if (!ep->ifname[0])
		snprintf(ep->ifname, sizeof(ep->ifname), "eth%u", n->nifaces - n->nwlans);
	n->nifaces++;
	n->nwlans += wlan;
	uses[*nuses] = (struct iface_use){ (unsigned)node, ep->ifname, line, *nuses };
	(*nuses)++;
}

static void resolve_endpoints(struct parser *p)
{
	struct topo *t = p->t;
	size_t total = 2 * (size_t)t->nlinks;
	for (unsigned s = 0; s < t->nsegments; s++)
		total += t->segments[s].nmembers;
	cleanup_free struct iface_use *uses = calloc(total + 1, sizeof(*uses));
	if (!uses) {
		p->out_of_memory = true;
		return;
	}
	size_t nuses = 0;
	unsigned li = 0, si = 0;
	while (li < t->nlinks || si < t->nsegments) {
		if (si == t->nsegments ||
		    (li < t->nlinks && t->links[li].line < t->segments[si].line)) {
			struct topo_link *l = &t->links[li];
			resolve_endpoint(p, p->link_ends[2 * li], &l->a, l->line, false, uses,
					 &nuses);
			resolve_endpoint(p, p->link_ends[2 * li + 1], &l->b, l->line, false, uses,
					 &nuses);
			li++;
		} else {
			struct topo_segment *seg = &t->segments[si];
			for (unsigned m = 0; m < seg->nmembers; m++)
				resolve_endpoint(p, p->segment_members[si][m], &seg->members[m],
						 seg->line, seg->medium == TOPO_MEDIUM_WIFI, uses,
						 &nuses);
			si++;
		}
	}
	for (size_t i = 0; i < nuses; i++)
		if (t->nodes[uses[i].node].config == TOPO_CONFIG_UCI &&
		    !topo_plain_ifname(uses[i].ifname))
			report(p, uses[i].line,
			       "node %s has config=uci: interface name `%.*s` cannot go into its "
			       "/etc/config (use only A-Z a-z 0-9 _ . -)",
			       t->nodes[uses[i].node].name, QUOTE_MAX, uses[i].ifname);
	qsort(uses, nuses, sizeof(*uses), compare_iface_uses);
	for (size_t i = 1; i < nuses; i++) {
		const struct iface_use *prev = &uses[i - 1], *cur = &uses[i];
		size_t first = i - 1;
		if (prev->node != cur->node || strcmp(prev->ifname, cur->ifname) != 0)
			continue;
		while (first > 0 && uses[first - 1].node == cur->node &&
		       strcmp(uses[first - 1].ifname, cur->ifname) == 0)
			first--;
		report(p, cur->line, "node %s already has an interface %s (line %d)",
		       t->nodes[cur->node].name, cur->ifname, uses[first].line);
	}
}

struct named_line {
	const char *name;
	int line;
};

static int compare_named_lines(const void *a, const void *b)
{
	const struct named_line *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void check_segment_names(struct parser *p)
{
	struct topo *t = p->t;
	cleanup_free struct named_line *names = calloc(t->nsegments + 1, sizeof(*names));
	if (!names) {
		p->out_of_memory = true;
		return;
	}
	size_t n = 0;
	for (unsigned s = 0; s < t->nsegments; s++)
		if (t->segments[s].name[0])
			names[n++] = (struct named_line){ t->segments[s].name, t->segments[s].line };
	qsort(names, n, sizeof(*names), compare_named_lines);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (strcmp(names[i].name, names[first].name) != 0) {
			first = i;
			continue;
		}
		report(p, names[i].line, "segment %s already declared at line %d", names[i].name,
		       names[first].line);
	}
}

/* Radio members need positions: the model derives every pair from them. */
static void check_radio_positions(struct parser *p)
{
	struct topo *t = p->t;
	for (unsigned s = 0; s < t->nsegments; s++) {
		const struct topo_segment *seg = &t->segments[s];
		if (!topo_segment_on_air(seg))
			continue;
		for (unsigned m = 0; m < seg->nmembers; m++) {
			int node = p->segment_members[s][m][0]
					   ? name_index_find(p, p->segment_members[s][m])
					   : -1;
			if (node >= 0 && seg->medium == TOPO_MEDIUM_WIFI &&
			    t->nodes[node].backend == TOPO_BACKEND_QEMU)
				report(p, seg->line,
				       "node %s has backend=qemu: the radios of wifi segment %s are the "
				       "host kernel's, a qemu node has its own (run the whole sim in "
				       "one VM with `netsim up --vm`)", t->nodes[node].name, seg->name);
			if (node < 0 || t->nodes[node].has_pos)
				continue;
			report(p, seg->line,
			       "node %s is on radio segment %s but has no pos= (add pos=X,Y to "
			       "its node line, line %d)",
			       t->nodes[node].name, seg->name, t->nodes[node].line);
		}
	}
}

static int member_by_name(struct parser *p, unsigned s, const char *name)
{
	for (unsigned m = 0; m < p->t->segments[s].nmembers; m++)
		if (strcmp(p->segment_members[s][m], name) == 0)
			return (int)m;
	return -1;
}

static int compare_pairs(const void *a, const void *b)
{
	const struct topo_pair *x = a, *y = b;
	if (x->segment != y->segment)
		return x->segment < y->segment ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* `pair` lines into t->pairs, each direction once. */
static void resolve_pairs(struct parser *p)
{
	struct topo *t = p->t;
	if (!p->npair_names)
		return;
	t->pairs = calloc(2 * p->npair_names, sizeof(*t->pairs));
	if (!t->pairs) {
		p->out_of_memory = true;
		return;
	}
	for (size_t i = 0; i < p->npair_names; i++) {
		const struct pair_names *pn = &p->pair_names[i];
		int s = topo_find_segment(t, pn->segment);
		if (s < 0) {
			report(p, pn->line, "segment %s is not declared", pn->segment);
			continue;
		}
		if (!topo_segment_on_air(&t->segments[s])) {
			report(p, pn->line, "segment %s is a bridge: pairs are for medium=radio "
			       "segments (line %d)", pn->segment, t->segments[s].line);
			continue;
		}
		int from = member_by_name(p, (unsigned)s, pn->from);
		int to = member_by_name(p, (unsigned)s, pn->to);
		if (from < 0 || to < 0) {
			report(p, pn->line, "node %s is not a member of segment %s (line %d)",
			       from < 0 ? pn->from : pn->to, pn->segment, t->segments[s].line);
			continue;
		}
		struct topo_pair pair = { .segment = (unsigned)s, .from = (unsigned)from,
					  .to = (unsigned)to, .quality = pn->quality,
					  .cut = pn->cut, .line = pn->line };
		t->pairs[t->npairs++] = pair;
		if (pn->both) {
			pair.from = (unsigned)to;
			pair.to = (unsigned)from;
			t->pairs[t->npairs++] = pair;
		}
	}
	/* duplicates: sort a copy, keep file order in t->pairs */
	cleanup_free struct topo_pair *sorted = calloc(t->npairs + 1, sizeof(*sorted));
	if (!sorted) {
		p->out_of_memory = true;
		return;
	}
	memcpy(sorted, t->pairs, t->npairs * sizeof(*sorted));
	qsort(sorted, t->npairs, sizeof(*sorted), compare_pairs);
	for (unsigned i = 1, first = 0; i < t->npairs; i++) {
		const struct topo_pair *cur = &sorted[i], *orig = &sorted[first];
		if (cur->segment != orig->segment || cur->from != orig->from || cur->to != orig->to) {
			first = i;
			continue;
		}
		report(p, cur->line, "pair %s>%s on %s already given at line %d",
		       p->segment_members[cur->segment][cur->from],
		       p->segment_members[cur->segment][cur->to], t->segments[cur->segment].name,
		       orig->line);
	}
}

struct address_use {
	uint8_t bytes[16];
	unsigned node;
};

static int compare_address_uses(const void *a, const void *b)
{
	const struct address_use *x = a, *y = b;
	int c = memcmp(x->bytes, y->bytes, sizeof(x->bytes));
	if (c)
		return c;
	return x->node < y->node ? -1 : x->node > y->node;
}

static void check_addresses(struct parser *p, int family)
{
	struct topo *t = p->t;
	cleanup_free struct address_use *uses = calloc(t->nnodes + 1, sizeof(*uses));
	if (!uses) {
		p->out_of_memory = true;
		return;
	}
	for (unsigned i = 0; i < t->nnodes; i++) {
		char addr[64];
		const char *cidr = family == AF_INET ? t->nodes[i].addr4 : t->nodes[i].addr6;
		snprintf(addr, sizeof(addr), "%s", cidr);
		char *slash = strchr(addr, '/');
		if (slash)
			*slash = '\0';
		uses[i].node = i;
		if (inet_pton(family, addr, uses[i].bytes) != 1)
			memset(uses[i].bytes, 0, sizeof(uses[i].bytes));
	}
	qsort(uses, t->nnodes, sizeof(*uses), compare_address_uses);
	for (size_t i = 1, first = 0; i < t->nnodes; i++) {
		if (memcmp(uses[i].bytes, uses[first].bytes, sizeof(uses[i].bytes)) != 0) {
			first = i;
			continue;
		}
		const struct topo_node *node = &t->nodes[uses[i].node];
		const struct topo_node *owner = &t->nodes[uses[first].node];
		const char *cidr = family == AF_INET ? node->addr4 : node->addr6;
		report(p, node->line, "node %s: address %s is already node %s's (line %d)",
		       node->name, cidr, owner->name, owner->line);
	}
}

/* The default sim name: the file's base name without ".conf". */
static void derive_sim_name(struct parser *p)
{
	const char *base = strrchr(p->file, '/');
	base = base ? base + 1 : p->file;
	size_t len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".conf") == 0)
		len -= 5;
	char name[TOPO_SIM_MAX + 2];
	if (len > TOPO_SIM_MAX)
		len = TOPO_SIM_MAX + 1;
	memcpy(name, base, len);
	name[len] = '\0';
	if (!topo_valid_name(name, TOPO_SIM_MAX)) {
		report(p, 1, "cannot derive a sim name from the file name; add a `sim NAME` line");
		return;
	}
	strcpy(p->t->sim, name);
}

/* ---- entry points ---- */

void topo_free(struct topo *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nnodes; i++) {
		free(t->nodes[i].rootfs);
		free(t->nodes[i].files);
		free(t->nodes[i].startup);
		free(t->nodes[i].feed);
		free(t->nodes[i].init);
		free(t->nodes[i].qemu_kernel);
	}
	for (unsigned i = 0; i < t->nsegments; i++)
		free(t->segments[i].members);
	free(t->nodes);
	free(t->links);
	free(t->segments);
	free(t->pairs);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

static void parser_free(struct parser *p)
{
	for (size_t i = 0; i < p->nerrors; i++)
		free(p->errors[i].msg);
	free(p->errors);
	if (p->segment_members)
		for (unsigned i = 0; i < p->t->nsegments; i++)
			free(p->segment_members[i]);
	free(p->segment_members);
	free(p->pair_names);
	free(p->link_ends);
	free(p->name_slots);
	settings_clear(&p->defaults);
}

/* Parse `len` bytes of text (buffer has a NUL at text[len], and is modified). */
static int parse_buffer(const char *name, char *text, size_t len, struct topo *t,
			struct error *err)
{
	struct parser p = { .file = name, .t = t };
	cleanup_free struct token *tokens = NULL;
	size_t tokens_cap = 0;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->path = strdup(name);
	if (!t->path) {
		p.out_of_memory = true;
		goto out;
	}

	struct line_reader lines;
	char *line;
	bool has_nul;
	line_reader_init(&lines, text, len);
	while (!p.out_of_memory && line_reader_next(&lines, &line, &has_nul)) {
		if (has_nul)
			report(&p, lines.lineno, "line contains a NUL byte");
		else
			parse_line(&p, line, lines.lineno, &tokens, &tokens_cap);
	}
	if (p.out_of_memory)
		goto out;

	if (!p.sim_line)
		derive_sim_name(&p);
	resolve_endpoints(&p);
	check_segment_names(&p);
	check_radio_positions(&p);
	resolve_pairs(&p);
	check_addresses(&p, AF_INET);
	check_addresses(&p, AF_INET6);
	if (t->nnodes == 0 && p.nerrors == 0)
		report(&p, 1, "no nodes declared (add `node NAME` lines)");

out:
	if (p.out_of_memory) {
		ret = error_setmsg(err, ENOMEM, "%s: out of memory", name);
	} else if (p.nerrors) {
		errors_to_message(&p, err);
		ret = -EINVAL;
	} else {
		error_clear(err);
	}
	parser_free(&p); /* first: it walks t's segments */
	if (ret < 0)
		topo_free(t);
	return ret;
}

int topo_parse_string(const char *name, const char *text, struct topo *t, struct error *err)
{
	size_t len = strlen(text);
	cleanup_free char *copy = malloc(len + 1);
	if (!copy) {
		memset(t, 0, sizeof(*t));
		return error_setmsg(err, ENOMEM, "%s: out of memory", name);
	}
	memcpy(copy, text, len + 1);
	return parse_buffer(name, copy, len, t, err);
}

int topo_parse_file(const char *path, struct topo *t, struct error *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;

	memset(t, 0, sizeof(*t));
	int r = read_file_all(path, TOPO_FILE_SIZE_MAX, &text, &len);
	if (r == -EFBIG)
		return error_setmsg(err, EFBIG, "%s: larger than %u MiB, not a topology", path,
				    TOPO_FILE_SIZE_MAX >> 20);
	if (r == -ENOMEM)
		return error_setmsg(err, ENOMEM, "%s: out of memory", path);
	if (r < 0)
		return error_set(err, -r, "%s", path);
	return parse_buffer(path, text, len, t, err);
}

int topo_find_node(const struct topo *t, const char *name)
{
	for (unsigned i = 0; i < t->nnodes; i++)
		if (strcmp(t->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

int topo_find_segment(const struct topo *t, const char *name)
{
	for (unsigned i = 0; i < t->nsegments; i++)
		if (strcmp(t->segments[i].name, name) == 0)
			return (int)i;
	return -1;
}

int topo_segment_member(const struct topo *t, unsigned s, unsigned node)
{
	if (s >= t->nsegments)
		return -1;
	for (unsigned m = 0; m < t->segments[s].nmembers; m++)
		if (t->segments[s].members[m].node == node)
			return (int)m;
	return -1;
}
