#include "topo/import.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "topo/topo.h"
#include "topo/units.h"
#include "util.h"

#define IMPORT_MAX_BYTES (64u << 20)   /* same limit as topology files */
#define KATHARA_MAX_IFACE 99999u       /* eth99999 still fits IFNAMSIZ */

/* ---- names ---------------------------------------------------------------- */

bool import_map_name(const char *raw, unsigned max, char *out, size_t outlen)
{
	size_t n = 0;
	for (const char *p = raw; *p && n < max && n + 1 < outlen; p++) {
		unsigned char ch = (unsigned char)*p;
		char c = '-';
		if (ch >= 'A' && ch <= 'Z')
			c = (char)(ch - 'A' + 'a');
		else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			c = (char)ch;
		if (c == '-' && (n == 0 || out[n - 1] == '-'))
			continue; /* no leading '-', and one '-' for a run of odd characters */
		out[n++] = c;
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	if (n == 0 && outlen > 1)
		out[n++] = 'n';
	out[n] = '\0';
	return strcmp(out, raw) != 0;
}

/* Segment (bridge) names keep their case: an interface name only has to avoid
 * blanks, '/', ':', '%' and the names "lo", ".", "..". */
static bool map_ifname(const char *raw, unsigned max, char *out, size_t outlen)
{
	size_t n = 0;
	for (const char *p = raw; *p && n < max && n + 1 < outlen; p++) {
		unsigned char ch = (unsigned char)*p;
		out[n++] = isalnum(ch) || ch == '_' || ch == '-' || ch == '.' ? (char)ch : '-';
	}
	out[n] = '\0';
	if (n == 0 || strcmp(out, "lo") == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, outlen, "cd-%.*s", (int)(max > 3 ? max - 3 : 0), raw);
	return strcmp(out, raw) != 0;
}

/* Foreign names → unique netsim names, in order of first appearance. */
struct namer {
	char **raw;
	char (*name)[IFNAMSIZ + 1];
	unsigned n, cap;
	unsigned max;
	bool (*map)(const char *raw, unsigned max, char *out, size_t outlen);
};

static void namer_free(struct namer *nm)
{
	for (unsigned i = 0; i < nm->n; i++)
		free(nm->raw[i]);
	free(nm->raw);
	free(nm->name);
}

static int namer_find(const struct namer *nm, const char *raw)
{
	for (unsigned i = 0; i < nm->n; i++)
		if (strcmp(nm->raw[i], raw) == 0)
			return (int)i;
	return -1;
}

static bool namer_taken(const struct namer *nm, const char *name)
{
	for (unsigned i = 0; i < nm->n; i++)
		if (strcmp(nm->name[i], name) == 0)
			return true;
	return false;
}

/* Index of `raw`, adding it when new (*added) with a name made from `source`
 * (NULL: from raw itself); *renamed when the name differs from raw, *numbered
 * when it had to be numbered because another one took it. */
static int namer_get_from(struct namer *nm, const char *raw, const char *source, bool *added,
			  bool *renamed, bool *numbered)
{
	*added = *renamed = *numbered = false;
	int i = namer_find(nm, raw);
	if (i >= 0)
		return i;
	if (!source)
		source = raw;
	if (nm->n == nm->cap) {
		unsigned cap = nm->cap ? nm->cap * 2 : 16;
		char **r = realloc(nm->raw, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		nm->raw = r;
		char(*nn)[IFNAMSIZ + 1] = realloc(nm->name, cap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		nm->name = nn;
		nm->cap = cap;
	}
	char name[IFNAMSIZ + 1];
	nm->map(source, nm->max, name, sizeof(name));
	/* Two foreign names may map to the same one ("A" and "a"): number them. */
	for (unsigned k = 2; namer_taken(nm, name); k++) {
		char base[IFNAMSIZ + 1], suffix[16];
		nm->map(source, nm->max, base, sizeof(base));
		int slen = snprintf(suffix, sizeof(suffix), "-%u", k);
		snprintf(name, sizeof(name), "%.*s%s", (int)(nm->max - (unsigned)slen), base, suffix);
		*numbered = true;
	}
	*renamed = strcmp(name, raw) != 0;
	if (!(nm->raw[nm->n] = strdup(raw)))
		return -ENOMEM;
	memcpy(nm->name[nm->n], name, sizeof(name));
	*added = true;
	return (int)nm->n++;
}

static int namer_get(struct namer *nm, const char *raw, bool *added, bool *renamed)
{
	bool numbered;
	return namer_get_from(nm, raw, NULL, added, renamed, &numbered);
}

/* ---- notes and output ---------------------------------------------------- */

struct importer {
	const char *path;
	char *notes;
	size_t notes_len;
	FILE *notes_f;
	unsigned nnotes;
	char *body;
	size_t body_len;
	FILE *body_f;
	struct namer nodes;
	char **node_labels;  /* meshnet-lab --names: the "name" of node i, or NULL */
	unsigned nlabels;
	char sim[TOPO_SIM_MAX + 1];
	/* meshnet-lab: untranslated keys are reported once per key, with a count */
	struct repeated {
		char *what;   /* "node attribute `x`" */
		char *where;  /* the first JSON path */
		unsigned count;
	} *repeated;
	unsigned nrepeated;
};

static void vnote_at(struct importer *im, const char *location, const char *fmt, va_list ap)
{
	fprintf(im->notes_f, "%s: ", location);
	vfprintf(im->notes_f, fmt, ap);
	fputc('\n', im->notes_f);
	im->nnotes++;
}

/* A note about a place in the input: "PATH:WHERE: ..." (WHERE: a line or JSON path). */
__attribute__((format(printf, 3, 4))) static void note(struct importer *im, const char *where,
							 const char *fmt, ...)
{
	char location[PATH_MAX + 160];
	va_list ap;
	snprintf(location, sizeof(location), "%s:%s", im->path, where);
	va_start(ap, fmt);
	vnote_at(im, location, fmt, ap);
	va_end(ap);
}

/* A note about another file: "FILE: ...". */
__attribute__((format(printf, 3, 4))) static void note_file(struct importer *im,
							      const char *file,
							      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote_at(im, file, fmt, ap);
	va_end(ap);
}

static int note_repeated(struct importer *im, const char *where, const char *what)
{
	for (unsigned i = 0; i < im->nrepeated; i++) {
		if (strcmp(im->repeated[i].what, what) == 0) {
			im->repeated[i].count++;
			return 0;
		}
	}
	struct repeated *r = realloc(im->repeated, (im->nrepeated + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	im->repeated = r;
	r = &im->repeated[im->nrepeated];
	r->what = strdup(what);
	r->where = strdup(where);
	r->count = 1;
	if (!r->what || !r->where) {
		free(r->what);
		free(r->where);
		return -ENOMEM;
	}
	im->nrepeated++;
	return 0;
}

static int importer_init(struct importer *im, const char *path, struct error *err)
{
	memset(im, 0, sizeof(*im));
	im->path = path;
	im->nodes.max = TOPO_NAME_MAX;
	im->nodes.map = import_map_name;
	im->notes_f = open_memstream(&im->notes, &im->notes_len);
	im->body_f = open_memstream(&im->body, &im->body_len);
	if (!im->notes_f || !im->body_f)
		return error_set(err, errno, "import %s", path);
	return 0;
}

static void importer_free(struct importer *im)
{
	if (im->notes_f)
		fclose(im->notes_f);
	if (im->body_f)
		fclose(im->body_f);
	free(im->notes);
	free(im->body);
	for (unsigned i = 0; i < im->nlabels; i++)
		free(im->node_labels[i]);
	free(im->node_labels);
	namer_free(&im->nodes);
	for (unsigned i = 0; i < im->nrepeated; i++) {
		free(im->repeated[i].what);
		free(im->repeated[i].where);
	}
	free(im->repeated);
}

/* The node's index, noting a changed name the first time it is seen
 * (*added then; `added` may be NULL). */
static int node_ref_new(struct importer *im, const char *raw, const char *where, bool *added,
			struct error *err)
{
	bool is_new, renamed;
	int i = namer_get(&im->nodes, raw, &is_new, &renamed);
	if (i < 0)
		return error_set(err, -i, "import %s", im->path);
	if (is_new && renamed)
		note(im, where, "node `%s` is named `%s` (netsim node names: [a-z0-9-], at most %d "
				"characters)", raw, im->nodes.name[i], TOPO_NAME_MAX);
	if (added)
		*added = is_new;
	return i;
}

static int node_ref(struct importer *im, const char *raw, const char *where, struct error *err)
{
	return node_ref_new(im, raw, where, NULL, err);
}

/* Header comments + the notes as comments + `sim` + the body. */
static int importer_finish(struct importer *im, const char *format_name,
			   const char *header_extra, struct import_result *res,
			   struct error *err)
{
	for (unsigned i = 0; i < im->nrepeated; i++) {
		const struct repeated *r = &im->repeated[i];
		if (r->count == 1)
			note(im, r->where, "not translated: %s", r->what);
		else
			note(im, r->where, "not translated: %s (%u times; the first is here)",
			     r->what, r->count);
	}
	if (fclose(im->notes_f) != 0 || fclose(im->body_f) != 0) {
		im->notes_f = im->body_f = NULL;
		return error_set(err, ENOMEM, "import %s", im->path);
	}
	im->notes_f = im->body_f = NULL;

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return error_set(err, errno, "import %s", im->path);
	fprintf(f, "# Translated from %s by `netsim import %s`.\n", im->path, format_name);
	if (header_extra)
		fputs(header_extra, f);
	if (im->nnotes > 0) {
		fprintf(f, "# Renamed or not translated (netsim import also said so on stderr):\n");
		for (const char *p = im->notes; *p;) {
			size_t l = strcspn(p, "\n");
			fprintf(f, "#   %.*s\n", (int)l, p);
			p += l + (p[l] == '\n');
		}
	}
	if (im->sim[0])
		fprintf(f, "sim %s\n", im->sim);
	fprintf(f, "defaults rootfs=meshlite\n");
	fwrite(im->body, 1, im->body_len, f);
	if (fclose(f) != 0) {
		free(text);
		return error_set(err, ENOMEM, "import %s", im->path);
	}
	res->topology = text;
	res->notes = steal_pointer(&im->notes);
	res->nnotes = im->nnotes;
	return 0;
}

/* The base name of `path` without `suffix` as the sim name, noted when it had
 * to change (cut to TOPO_SIM_MAX characters, or odd characters replaced). */
static void sim_from_path(struct importer *im, const char *path, const char *suffix,
			  const char *from)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", base);
	size_t bl = strlen(buf), sl = strlen(suffix);
	if (bl > sl && strcmp(buf + bl - sl, suffix) == 0)
		buf[bl - sl] = '\0';
	if (!import_map_name(buf, TOPO_SIM_MAX, im->sim, sizeof(im->sim)))
		return;
	char full[PATH_MAX];
	import_map_name(buf, sizeof(full) - 1, full, sizeof(full));
	if (strlen(full) > TOPO_SIM_MAX)
		note_file(im, im->path, "the sim name from the %s `%s` is cut to %d characters: "
					"`%s` (give another with `netsim up -n SIM`)",
			  from, buf, TOPO_SIM_MAX, im->sim);
	else
		note_file(im, im->path, "the sim name from the %s `%s` is `%s` (sim names: "
					"[a-z0-9-], at most %d characters)", from, buf, im->sim,
			  TOPO_SIM_MAX);
}

/* ---- meshnet-lab JSON ---------------------------------------------------- */

/* Line and column of byte `offset` in text. */
static void text_position(const char *text, size_t offset, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < offset && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* A node reference: a string, or an integer (meshnet-lab's generators use both). */
static int json_id(json_object *v, char *out, size_t len)
{
	if (json_object_is_type(v, json_type_string)) {
		if (json_object_get_string_len(v) == 0)
			return -EINVAL;
		snprintf(out, len, "%s", json_object_get_string(v));
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		snprintf(out, len, "%lld", (long long)json_object_get_int64(v));
		return 0;
	}
	return -EINVAL;
}

/* A short rendering of a JSON value for messages. */
static void json_brief(json_object *v, char *out, size_t len)
{
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		s = "?";
	if (strlen(s) + 1 > len && len > 4)
		snprintf(out, len, "%.*s...", (int)(len - 4), s);
	else
		snprintf(out, len, "%s", s);
}

/* meshnet-lab applies `source_KEY` to the source's end and `target_KEY` to the
 * target's; netsim links are symmetric, so only KEY itself, or both ends with the
 * same value, translate.  Returns whether the link has the attribute at all;
 * *value is then its value (NULL for JSON null, or when the two ends differ:
 * *asymmetric), and `where` names it. */
static bool link_value(json_object *link, const char *key, const char *link_path,
		       json_object **value, bool *asymmetric, char *where, size_t wlen)
{
	char skey[64], tkey[64];
	json_object *s = NULL, *t = NULL;
	*value = NULL;
	*asymmetric = false;
	snprintf(where, wlen, "%s.%s", link_path, key);
	if (json_object_object_get_ex(link, key, value))
		return true;
	snprintf(skey, sizeof(skey), "source_%s", key);
	snprintf(tkey, sizeof(tkey), "target_%s", key);
	bool hs = json_object_object_get_ex(link, skey, &s);
	bool ht = json_object_object_get_ex(link, tkey, &t);
	if (!hs && !ht)
		return false;
	snprintf(where, wlen, "%s.%s", link_path, hs ? skey : tkey);
	if (hs && ht && json_object_equal(s, t))
		*value = s;
	else
		*asymmetric = true;
	return true;
}

/* The quality keys a meshnet-lab link may carry, alone or as source_KEY and
 * target_KEY: its own bandwidth_mbit, latency_ms and loss_pc (the variables
 * of its misc/tc.sh link command), and the rate and latency netsim took before.
 * For each netsim attribute the first key present counts. */
enum mesh_unit { MESH_MBIT, MESH_RATE, MESH_MS, MESH_PERCENT };

static const struct mesh_key {
	const char *attr;    /* the netsim attribute */
	const char *key;
	enum mesh_unit unit;
	const char *expect;  /* what the value should be, for notes */
} mesh_keys[] = {
	{"rate", "bandwidth_mbit", MESH_MBIT, "a number of Mbit/s above 0"},
	{"rate", "rate", MESH_RATE, "a rate such as \"54mbit\""},
	{"delay", "latency_ms", MESH_MS, "a number of milliseconds"},
	{"delay", "latency", MESH_MS, "milliseconds or a time such as \"5ms\""},
	{"loss", "loss_pc", MESH_PERCENT, "a percentage from 0 to 100"},
};

static bool link_key_known(const char *key)
{
	if (strcmp(key, "source") == 0 || strcmp(key, "target") == 0)
		return true;
	if (strncmp(key, "source_", 7) == 0 || strncmp(key, "target_", 7) == 0)
		key += 7;
	for (size_t i = 0; i < sizeof(mesh_keys) / sizeof(mesh_keys[0]); i++)
		if (strcmp(key, mesh_keys[i].key) == 0)
			return true;
	return false;
}

/* A JSON number, or a string holding one (tc.sh gets them as text anyway). */
static bool json_number(json_object *v, double *out)
{
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return isfinite(*out);
	}
	if (!json_object_is_type(v, json_type_string))
		return false;
	const char *s = json_object_get_string(v);
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return *s && !isspace((unsigned char)*s) && *end == '\0' && errno == 0 && isfinite(*out);
}

/* The value of one quality key as a netsim attribute value ("10mbit", "5ms",
 * "1%"); -EINVAL when it is not what the key holds. */
static int mesh_value(json_object *v, enum mesh_unit unit, char *out, size_t len)
{
	char text[64];
	double d;
	uint64_t n;
	uint32_t ppm;
	switch (unit) {
	case MESH_RATE:
		if (!json_object_is_type(v, json_type_string) ||
		    units_parse_rate(json_object_get_string(v), &n) < 0)
			return -EINVAL;
		units_format_rate(n, out, (unsigned)len);
		return 0;
	case MESH_MBIT:
		if (!json_number(v, &d) || !(d > 0) || d > 1e9)
			return -EINVAL;
		snprintf(text, sizeof(text), "%.6fmbit", d);
		if (units_parse_rate(text, &n) < 0)
			return -EINVAL;
		units_format_rate(n, out, (unsigned)len);
		return 0;
	case MESH_MS:
		if (json_object_is_type(v, json_type_string) &&
		    units_parse_time(json_object_get_string(v), &n) == 0) {
			units_format_time(n, out, (unsigned)len); /* "5ms": a time with a unit */
			return 0;
		}
		if (!json_number(v, &d) || !(d >= 0) || d >= 1e9)
			return -EINVAL;
		snprintf(text, sizeof(text), "%.3fms", d);
		if (units_parse_time(text, &n) < 0)
			return -EINVAL;
		units_format_time(n, out, (unsigned)len);
		return 0;
	case MESH_PERCENT:
		if (!json_number(v, &d) || !(d >= 0) || d > 100)
			return -EINVAL;
		snprintf(text, sizeof(text), "%.4f%%", d);
		if (units_parse_percent(text, &ppm) < 0)
			return -EINVAL;
		units_format_percent(ppm, out, (unsigned)len);
		return 0;
	}
	return -EINVAL;
}

/* rate=, delay= and loss= from the link's quality keys, appended to `attrs`. */
static void meshnet_quality(struct importer *im, json_object *link, const char *path,
			    char *attrs, size_t alen)
{
	const char *given[sizeof(mesh_keys) / sizeof(mesh_keys[0])] = {0}; /* key per attr */
	for (size_t k = 0; k < sizeof(mesh_keys) / sizeof(mesh_keys[0]); k++) {
		const struct mesh_key *mk = &mesh_keys[k];
		char where[256], brief[64], value[64];
		bool asym;
		json_object *v;
		if (!link_value(link, mk->key, path, &v, &asym, where, sizeof(where)))
			continue;
		size_t first; /* the first entry of the same attribute */
		for (first = 0; strcmp(mesh_keys[first].attr, mk->attr) != 0; first++)
			;
		if (given[first]) {
			note(im, where, "not translated: %s (%s gives %s= already)", mk->key,
			     given[first], mk->attr);
			continue;
		}
		if (asym) {
			note(im, where, "not translated: a %s for one direction only (netsim links "
					"are symmetric)", mk->key);
			continue;
		}
		json_brief(v, brief, sizeof(brief));
		if (mesh_value(v, mk->unit, value, sizeof(value)) < 0) {
			note(im, where, "not translated: %s %s (not %s)", mk->key, brief, mk->expect);
			continue;
		}
		given[first] = mk->key;
		snprintf(attrs + strlen(attrs), alen - strlen(attrs), " %s=%s", mk->attr, value);
	}
}

/* Node ids of the "nodes" list in order, each with its last entry: meshnet-lab
 * keeps the last of entries with the same id. */
struct mesh_ids {
	char **id;
	size_t *last;
	unsigned *entries;  /* how many entries have the id */
	unsigned n, cap;
};

static int mesh_ids_find(const struct mesh_ids *ids, const char *id)
{
	for (unsigned i = 0; i < ids->n; i++)
		if (strcmp(ids->id[i], id) == 0)
			return (int)i;
	return -1;
}

static int mesh_ids_add(struct mesh_ids *ids, const char *id, size_t entry)
{
	if (ids->n == ids->cap) {
		unsigned cap = ids->cap ? ids->cap * 2 : 16;
		char **i = realloc(ids->id, cap * sizeof(*i));
		if (!i)
			return -ENOMEM;
		ids->id = i;
		size_t *l = realloc(ids->last, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		ids->last = l;
		unsigned *e = realloc(ids->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		ids->entries = e;
		ids->cap = cap;
	}
	if (!(ids->id[ids->n] = strdup(id)))
		return -ENOMEM;
	ids->entries[ids->n] = 1;
	ids->last[ids->n++] = entry;
	return 0;
}

static void mesh_ids_free(struct mesh_ids *ids)
{
	for (unsigned i = 0; i < ids->n; i++)
		free(ids->id[i]);
	free(ids->id);
	free(ids->last);
	free(ids->entries);
}

/* A short list of names for a summary note: "`a`, `b`, `c` and 7 more". */
struct name_list {
	char text[400];
	size_t shown_len;  /* the names, without " and N more" */
	unsigned n;
};

static void name_list_add(struct name_list *l, const char *name)
{
	enum { SHOWN = 8 };
	if (l->n < SHOWN) {
		snprintf(l->text + l->shown_len, sizeof(l->text) - l->shown_len, "%s`%.40s`",
			 l->n ? ", " : "", name);
		l->shown_len = strlen(l->text);
	}
	l->n++;
	if (l->n > SHOWN)
		snprintf(l->text + l->shown_len, sizeof(l->text) - l->shown_len, " and %u more",
			 l->n - SHOWN);
}

/* A raw id in a comment of the topology: no line breaks or control characters. */
static void emit_comment_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

struct mesh_link {
	unsigned a, b;   /* node indices: source and target of the entry that counts */
	size_t entry;    /* that entry, in $.links: the pair's last */
	bool skip;       /* a link to itself, or an earlier entry of a pair */
};

struct mesh_pair_entry {
	unsigned lo, hi;
	size_t entry;
};

static int compare_pair_entries(const void *x, const void *y)
{
	const struct mesh_pair_entry *p = x, *q = y;
	if (p->lo != q->lo)
		return p->lo < q->lo ? -1 : 1;
	if (p->hi != q->hi)
		return p->hi < q->hi ? -1 : 1;
	return p->entry < q->entry ? -1 : p->entry > q->entry;
}

static int compare_unsigned_desc(const void *x, const void *y)
{
	unsigned p = *(const unsigned *)x, q = *(const unsigned *)y;
	return p > q ? -1 : p < q;
}

static unsigned find_root(unsigned *parent, unsigned i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

/* Nodes in no link, and a graph in parts: a converge never completes, so say so
 * (the topology is still written: it may be what the data means). */
static int meshnet_check_graph(struct importer *im, const struct mesh_link *ml, size_t nl)
{
	unsigned n = im->nodes.n;
	if (n == 0)
		return 0;
	cleanup_free unsigned *parent = calloc(n, sizeof(*parent));
	cleanup_free unsigned *degree = calloc(n, sizeof(*degree));
	cleanup_free unsigned *size = calloc(n, sizeof(*size));
	if (!parent || !degree || !size)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		parent[i] = i;
	for (size_t i = 0; i < nl; i++) {
		if (ml[i].skip)
			continue;
		degree[ml[i].a]++;
		degree[ml[i].b]++;
		unsigned ra = find_root(parent, ml[i].a), rb = find_root(parent, ml[i].b);
		if (ra != rb)
			parent[ra] = rb;
	}
	struct name_list isolated = {0};
	for (unsigned i = 0; i < n; i++) {
		if (degree[i] == 0)
			name_list_add(&isolated, im->nodes.raw[i]);
		size[find_root(parent, i)]++;
	}
	if (isolated.n)
		note(im, "$", "%u node%s in no link: %s (kept in the topology, but nothing reaches "
			      "%s: `netsim reach` fails and `netsim converge` never completes)",
		     isolated.n, isolated.n == 1 ? " is" : "s are", isolated.text,
		     isolated.n == 1 ? "it" : "them");
	unsigned parts = 0;
	for (unsigned i = 0; i < n; i++)
		if (size[i])
			size[parts++] = size[i];
	if (parts < 2)
		return 0;
	qsort(size, parts, sizeof(*size), compare_unsigned_desc);
	char sizes[200] = "";
	for (unsigned i = 0; i < parts; i++) {
		size_t used = strlen(sizes);
		if (i == 10) {
			snprintf(sizes + used, sizeof(sizes) - used, " and %u more", parts - 10);
			break;
		}
		snprintf(sizes + used, sizeof(sizes) - used, "%s%u", i ? ", " : "", size[i]);
	}
	note(im, "$", "the graph is disconnected: %u parts, of %s nodes (no route crosses "
		      "between them: `netsim reach` fails and `netsim converge` never completes)",
	     parts, sizes);
	return 0;
}

/* The nodes list: ids (the last entry of an id counts, as in meshnet-lab), the
 * node names (--names: from "name"), untranslated node keys. */
static int meshnet_nodes(struct importer *im, json_object *nodes, bool names,
			 struct mesh_ids *ids, struct error *err)
{
	size_t nn = nodes ? json_object_array_length(nodes) : 0;
	char id[256], where[128], what[320];
	unsigned repeats = 0;
	char dup_where[64] = "";
	for (size_t i = 0; i < nn; i++) {
		json_object *node = json_object_array_get_idx(nodes, i), *v;
		snprintf(where, sizeof(where), "$.nodes[%zu]", i);
		if (!json_object_is_type(node, json_type_object))
			return error_setmsg(err, EINVAL, "%s:%s: expected an object {\"id\": ...}",
					    im->path, where);
		if (!json_object_object_get_ex(node, "id", &v) || json_id(v, id, sizeof(id)) < 0)
			return error_setmsg(err, EINVAL, "%s:%s: needs an \"id\" (a string or an "
							 "integer)", im->path, where);
		int k = mesh_ids_find(ids, id);
		if (k >= 0) {
			if (repeats++ == 0)
				snprintf(dup_where, sizeof(dup_where), "%s", where);
			ids->entries[k]++;
			ids->last[k] = i;
		} else if (mesh_ids_add(ids, id, i) < 0) {
			return error_set(err, ENOMEM, "import %s", im->path);
		}
		json_object_object_foreach(node, nkey, nval) {
			(void)nval;
			if (strcmp(nkey, "id") == 0 || (names && strcmp(nkey, "name") == 0))
				continue;
			snprintf(what, sizeof(what), "node attribute `%s`", nkey);
			if (note_repeated(im, where, what) < 0)
				return error_set(err, ENOMEM, "import %s", im->path);
		}
	}
	if (repeats) {
		struct name_list dups = {0};
		for (unsigned k = 0; k < ids->n; k++)
			if (ids->entries[k] > 1)
				name_list_add(&dups, ids->id[k]);
		note(im, dup_where, "%u node entr%s an id listed before (%u id%s: %s): each id is "
				    "one node, and its last entry counts, as in meshnet-lab",
		     repeats, repeats == 1 ? "y repeats" : "ies repeat", dups.n,
		     dups.n == 1 ? "" : "s", dups.text);
	}

	unsigned unnamed = 0, changed_names = 0;
	char unnamed_where[64] = "", changed_where[64] = "", changed_example[80] = "";
	if (names) {
		if (!(im->node_labels = calloc(ids->n + 1, sizeof(*im->node_labels))))
			return error_set(err, ENOMEM, "import %s", im->path);
		im->nlabels = ids->n;
	}
	for (unsigned k = 0; k < ids->n; k++) {
		json_object *node = json_object_array_get_idx(nodes, ids->last[k]), *v;
		snprintf(where, sizeof(where), "$.nodes[%zu]", ids->last[k]);
		const char *name = NULL;
		if (names && json_object_object_get_ex(node, "name", &v) &&
		    json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0)
			name = json_object_get_string(v);
		if (names && !name && unnamed++ == 0)
			snprintf(unnamed_where, sizeof(unnamed_where), "%s", where);
		if (!name) {
			if (node_ref(im, ids->id[k], where, err) < 0)
				return -EINVAL;
			continue;
		}
		bool added, renamed, numbered;
		int i = namer_get_from(&im->nodes, ids->id[k], name, &added, &renamed, &numbered);
		if (i < 0)
			return error_set(err, -i, "import %s", im->path);
		if (!(im->node_labels[i] = strdup(name)))
			return error_set(err, ENOMEM, "import %s", im->path);
		char valid[TOPO_NAME_MAX + 1];
		if (numbered)
			note(im, where, "node `%s`: its name `%s` is another node's already; it is "
					"named `%s`", ids->id[k], name, im->nodes.name[i]);
		else if (import_map_name(name, TOPO_NAME_MAX, valid, sizeof(valid)) &&
			 changed_names++ == 0) {
			snprintf(changed_where, sizeof(changed_where), "%s", where);
			snprintf(changed_example, sizeof(changed_example), "`%.40s` is `%s`", name,
				 valid);
		}
	}
	/* one line: every node line says its id and name in a comment */
	if (changed_names)
		note(im, changed_where, "%u name%s made valid netsim node names ([a-z0-9-], at "
					"most %d characters), such as %s; each node line's comment "
					"has the id and name", changed_names,
		     changed_names == 1 ? " is" : "s are", TOPO_NAME_MAX, changed_example);
	if (unnamed)
		note(im, unnamed_where, "%u node%s no \"name\" (or an empty one): named after %s id",
		     unnamed, unnamed == 1 ? " has" : "s have", unnamed == 1 ? "its" : "their");
	return 0;
}

/* The links: ends (links may name nodes the nodes list lacks: meshnet-lab
 * creates them, and so do we, saying so), self links, repeated pairs. */
static int meshnet_links(struct importer *im, json_object *links, bool have_nodes_list,
			 struct mesh_link *ml, struct error *err)
{
	size_t nl = links ? json_object_array_length(links) : 0;
	char id[256], where[128];
	struct name_list undeclared = {0}, self = {0};
	char undeclared_where[160] = "", self_where[64] = "";
	for (size_t i = 0; i < nl; i++) {
		json_object *link = json_object_array_get_idx(links, i), *v;
		snprintf(where, sizeof(where), "$.links[%zu]", i);
		if (!json_object_is_type(link, json_type_object))
			return error_setmsg(err, EINVAL, "%s:%s: expected an object {\"source\": ..., "
							 "\"target\": ...}", im->path, where);
		unsigned end_node[2];
		for (int e = 0; e < 2; e++) {
			const char *end = e ? "target" : "source";
			char ewhere[160];
			snprintf(ewhere, sizeof(ewhere), "%s.%s", where, end);
			if (!json_object_object_get_ex(link, end, &v) || json_id(v, id, sizeof(id)) < 0)
				return error_setmsg(err, EINVAL, "%s:%s: needs a \"%s\" (a node id: a "
								 "string or an integer)", im->path,
						    where, end);
			bool added;
			int r = node_ref_new(im, id, ewhere, &added, err);
			if (r < 0)
				return r;
			if (added && have_nodes_list) {
				if (undeclared.n == 0)
					snprintf(undeclared_where, sizeof(undeclared_where), "%s", ewhere);
				name_list_add(&undeclared, id);
			}
			end_node[e] = (unsigned)r;
		}
		ml[i] = (struct mesh_link){end_node[0], end_node[1], i, false};
		if (end_node[0] == end_node[1]) {
			if (self.n == 0)
				snprintf(self_where, sizeof(self_where), "%s", where);
			name_list_add(&self, im->nodes.raw[end_node[0]]);
			ml[i].skip = true;
		}
	}
	if (self.n)
		note(im, self_where, "not translated: %u link%s from a node to itself (%s), dropped "
				     "as meshnet-lab does", self.n, self.n == 1 ? "" : "s", self.text);
	if (undeclared.n)
		note(im, undeclared_where, "%u node%s not in \"nodes\" but in links: %s (created, as "
					   "meshnet-lab does)", undeclared.n,
		     undeclared.n == 1 ? " is" : "s are", undeclared.text);

	/* A pair of nodes linked more than once: the last entry counts (meshnet-lab
	 * keys its links by the pair), in the place of the first. */
	cleanup_free struct mesh_pair_entry *pairs = calloc(nl + 1, sizeof(*pairs));
	if (!pairs)
		return error_set(err, ENOMEM, "import %s", im->path);
	size_t np = 0;
	for (size_t i = 0; i < nl; i++)
		if (!ml[i].skip)
			pairs[np++] = (struct mesh_pair_entry){ml[i].a < ml[i].b ? ml[i].a : ml[i].b,
								ml[i].a < ml[i].b ? ml[i].b : ml[i].a, i};
	qsort(pairs, np, sizeof(*pairs), compare_pair_entries);
	unsigned repeats = 0;
	size_t example = SIZE_MAX, example_first = 0;
	for (size_t g = 0; g < np;) {
		size_t h = g + 1;
		while (h < np && pairs[h].lo == pairs[g].lo && pairs[h].hi == pairs[g].hi)
			h++;
		if (h - g > 1) {
			size_t first = pairs[g].entry, last = pairs[h - 1].entry;
			ml[first].a = ml[last].a;
			ml[first].b = ml[last].b;
			ml[first].entry = last;
			for (size_t k = g + 1; k < h; k++)
				ml[pairs[k].entry].skip = true;
			repeats += (unsigned)(h - g - 1);
			if (pairs[g + 1].entry < example) {
				example = pairs[g + 1].entry;
				example_first = first;
			}
		}
		g = h;
	}
	if (repeats) {
		snprintf(where, sizeof(where), "$.links[%zu]", example);
		note(im, where, "%u link%s repeat%s a pair of nodes linked before (here `%s`-`%s` as at "
				"$.links[%zu]): one link per pair, and the last entry's values count, "
				"as in meshnet-lab", repeats,
		     repeats == 1 ? "" : "s", repeats == 1 ? "s" : "",
		     im->nodes.raw[ml[example].a], im->nodes.raw[ml[example].b], example_first);
	}
	return 0;
}

/* --radio: metres between neighbouring nodes of the grid they are placed on */
#define MESH_RADIO_SPACING 1000

static int meshnet_translate(struct importer *im, json_object *root,
			     const struct import_options *opts, struct error *err)
{
	if (!json_object_is_type(root, json_type_object))
		return error_setmsg(err, EINVAL, "%s: expected a JSON object with \"links\" and "
						 "\"nodes\" (meshnet-lab format)", im->path);
	json_object *nodes = NULL, *links = NULL;
	json_object_object_foreach(root, key, val) {
		if (strcmp(key, "nodes") == 0)
			nodes = val;
		else if (strcmp(key, "links") == 0)
			links = val;
		else
			note(im, "$", "not translated: top-level key `%s`", key);
	}
	if (!nodes && !links)
		return error_setmsg(err, EINVAL, "%s: no \"nodes\" and no \"links\": not a "
						 "meshnet-lab topology", im->path);
	if (nodes && !json_object_is_type(nodes, json_type_array))
		return error_setmsg(err, EINVAL, "%s:$.nodes: expected an array", im->path);
	if (links && !json_object_is_type(links, json_type_array))
		return error_setmsg(err, EINVAL, "%s:$.links: expected an array", im->path);
	bool names = opts && opts->node_names;
	size_t nl = links ? json_object_array_length(links) : 0;
	struct mesh_ids ids = {0};
	cleanup_free struct mesh_link *ml = calloc(nl + 1, sizeof(*ml));
	if (!ml)
		return error_set(err, ENOMEM, "import %s", im->path);
	int r = meshnet_nodes(im, nodes, names, &ids, err);
	mesh_ids_free(&ids);
	if (r < 0)
		return r;
	if ((r = meshnet_links(im, links, nodes && json_object_array_length(nodes) > 0, ml,
			       err)) < 0)
		return r;
	cleanup_free bool *in_link = calloc(im->nodes.n + 1, sizeof(*in_link));
	if (!in_link)
		return error_set(err, ENOMEM, "import %s", im->path);
	bool radio_started = false;
	for (size_t i = 0; i < nl; i++)
		if (!ml[i].skip)
			in_link[ml[i].a] = in_link[ml[i].b] = true;

	bool radio = opts && opts->radio;
	/* --radio: a grid MESH_RADIO_SPACING m apart, where the default model hears no
	 * pair (SNR -15 dB at 1 km), so only the pair lines carry frames */
	unsigned cols = 1;
	while (cols * cols < im->nodes.n)
		cols++;
	for (unsigned i = 0; i < im->nodes.n; i++) {
		fprintf(im->body_f, "node %s", im->nodes.name[i]);
		if (radio)
			fprintf(im->body_f, " pos=%u,%u", (i % cols) * MESH_RADIO_SPACING,
				(i / cols) * MESH_RADIO_SPACING);
		const char *label = i < im->nlabels ? im->node_labels[i] : NULL;
		if (names && (label || strcmp(im->nodes.name[i], im->nodes.raw[i]) != 0)) {
			fputs("    # id ", im->body_f);
			emit_comment_text(im->body_f, im->nodes.raw[i]);
		}
		if (label && strcmp(label, im->nodes.name[i]) != 0) {
			fputs(", name ", im->body_f);
			emit_comment_text(im->body_f, label);
		}
		fputc('\n', im->body_f);
	}
	for (size_t i = 0; i < nl; i++) {
		if (ml[i].skip)
			continue;
		json_object *link = json_object_array_get_idx(links, ml[i].entry);
		char where[64], what[320], attrs[256] = "";
		snprintf(where, sizeof(where), "$.links[%zu]", ml[i].entry);
		meshnet_quality(im, link, where, attrs, sizeof(attrs));
		json_object_object_foreach(link, lkey, lval) {
			(void)lval;
			if (link_key_known(lkey))
				continue;
			snprintf(what, sizeof(what), "link attribute `%s`", lkey);
			if (note_repeated(im, where, what) < 0)
				return error_set(err, ENOMEM, "import %s", im->path);
		}
		if (radio) {
			if (!radio_started) {
				/* the members: every node in a link, in node order */
				fputs("segment air0", im->body_f);
				for (unsigned n = 0; n < im->nodes.n; n++)
					if (in_link[n])
						fprintf(im->body_f, " %s", im->nodes.name[n]);
				fputs(" medium=radio rate=10gbit hidden=off\n", im->body_f);
				radio_started = true;
			}
			/* loss= (or rate=) is what brings a pair into range at any
			 * distance (docs/wireless.md): give it even when lossless */
			fprintf(im->body_f, "pair air0 %s %s%s%s\n", im->nodes.name[ml[i].a],
				im->nodes.name[ml[i].b], attrs,
				strstr(attrs, " loss=") ? "" : " loss=0%");
		} else {
			fprintf(im->body_f, "link %s %s%s\n", im->nodes.name[ml[i].a],
				im->nodes.name[ml[i].b], attrs);
		}
	}
	if (radio && radio_started)
		note(im, "$", "imported as one radio segment air0 (--radio): a pair line per "
		     "link carries its quality, the nodes sit %u m apart so no other pair "
		     "hears another, the channel is 10gbit and has no hidden-node "
		     "collisions (meshnet-lab models no interference)", MESH_RADIO_SPACING);
	if (meshnet_check_graph(im, ml, nl) < 0)
		return error_set(err, ENOMEM, "import %s", im->path);
	return 0;
}

static int import_meshnet_lab(const char *path, const char *text, size_t len,
			      const struct import_options *opts, struct import_result *res,
			      struct error *err)
{
	struct importer im;
	int r = importer_init(&im, path, err);
	if (r < 0)
		goto out;
	json_tokener *tok = json_tokener_new();
	if (!tok) {
		r = error_set(err, ENOMEM, "import %s", path);
		goto out;
	}
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	int line, col;
	if (!root || jerr != json_tokener_success) {
		text_position(text, end, &line, &col);
		r = error_setmsg(err, EINVAL, "%s:%d:%d: malformed JSON: %s", path, line, col,
				 jerr == json_tokener_continue ? "unexpected end of file"
							       : json_tokener_error_desc(jerr));
		json_object_put(root);
		goto out;
	}
	while (end < len && isspace((unsigned char)text[end]))
		end++;
	if (end < len) {
		text_position(text, end, &line, &col);
		r = error_setmsg(err, EINVAL, "%s:%d:%d: malformed JSON: text after the top-level "
					      "value", path, line, col);
		json_object_put(root);
		goto out;
	}
	sim_from_path(&im, path, ".json", "file name");
	r = meshnet_translate(&im, root, opts, err);
	json_object_put(root);
	if (r == 0)
		r = importer_finish(&im, "meshnet-lab", NULL, res, err);
out:
	importer_free(&im);
	return r;
}

/* ---- Kathara lab.conf ---------------------------------------------------- */

struct kathara_member {
	unsigned node;
	unsigned iface;
	int line;
};

struct kathara_domain {
	char *raw;
	struct kathara_member *members;
	unsigned n;
};

/* A device's Kathara image (DEVICE[image]=), by node index. */
struct kathara_image {
	char *name;
	int line;
};

struct kathara_lab {
	struct kathara_domain *domains;
	unsigned ndomains;
	struct kathara_image *images;
	unsigned nimages;
	char *meta;        /* LAB_DESCRIPTION and friends, as comments */
	size_t meta_len;
	FILE *meta_f;
};

static void kathara_lab_free(struct kathara_lab *lab)
{
	for (unsigned i = 0; i < lab->nimages; i++)
		free(lab->images[i].name);
	free(lab->images);
	for (unsigned i = 0; i < lab->ndomains; i++) {
		free(lab->domains[i].raw);
		free(lab->domains[i].members);
	}
	free(lab->domains);
	if (lab->meta_f)
		fclose(lab->meta_f);
	free(lab->meta);
}

/* A value: "quoted", 'quoted' or a bare word, then only blanks or a # comment.
 * Returns it NUL-terminated in place, or NULL when malformed. */
static char *kathara_value(char *s)
{
	char *rest;
	if (*s == '"' || *s == '\'') {
		char quote = *s++;
		char *end = strchr(s, quote);
		if (!end)
			return NULL;
		*end = '\0';
		rest = end + 1;
	} else {
		size_t n = strcspn(s, " \t#");
		if (n == 0)
			return NULL;
		rest = s + n;
		char after = *rest;
		*rest = '\0';
		if (after == '#')
			return s;
		if (after)
			rest++;
	}
	rest += strspn(rest, " \t");
	return *rest == '\0' || *rest == '#' ? s : NULL;
}

static bool is_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int kathara_image_set(struct kathara_lab *lab, unsigned node, const char *image, int line)
{
	if (node >= lab->nimages) {
		struct kathara_image *v = realloc(lab->images, (node + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + lab->nimages, 0, (node + 1 - lab->nimages) * sizeof(*v));
		lab->images = v;
		lab->nimages = node + 1;
	}
	free(lab->images[node].name);
	lab->images[node] = (struct kathara_image){strdup(image), line};
	return lab->images[node].name ? 0 : -ENOMEM;
}

static bool kathara_true(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0;
}

static int kathara_member_add(struct kathara_lab *lab, const char *domain, unsigned node,
			      unsigned iface, int line)
{
	unsigned d;
	for (d = 0; d < lab->ndomains; d++)
		if (strcmp(lab->domains[d].raw, domain) == 0)
			break;
	if (d == lab->ndomains) {
		struct kathara_domain *v = realloc(lab->domains, (d + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		lab->domains = v;
		v[d] = (struct kathara_domain){.raw = strdup(domain)};
		if (!v[d].raw)
			return -ENOMEM;
		lab->ndomains++;
	}
	struct kathara_domain *dom = &lab->domains[d];
	struct kathara_member *m = realloc(dom->members, (dom->n + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	dom->members = m;
	m[dom->n++] = (struct kathara_member){node, iface, line};
	return 0;
}

/* Why an option has no netsim equivalent (the generic reason otherwise). */
static const char *kathara_option_reason(const char *opt)
{
	static const struct {
		const char *opt, *why;
	} reasons[] = {
		{"mem", "container nodes share the host's memory"},
		{"cpus", "container nodes share the host's CPUs"},
		{"bridged", "netsim nodes have no uplink to the host network"},
		{"port", "use `netsim forward` to reach a node's port"},
		{"exec", "put the command in the node's init or a files= overlay"},
		{"sysctl", "set it in the node's init or a files= overlay"},
		{"env", "netsim sets its own environment (NETSIM_*)"},
		{"ipv6", "netsim nodes always have IPv6; it cannot be turned off"},
		{"shell", "use `netsim shell`"},
		{"num_terms", "use `netsim shell`"},
		{"hosthome_mount", "nodes see no host directories"},
		{"shared_mount", "nodes see no host directories"},
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(opt, reasons[i].opt) == 0)
			return reasons[i].why;
	return "no netsim equivalent";
}

static int kathara_parse(struct importer *im, struct kathara_lab *lab, char *text,
			 struct error *err)
{
	char where[32];
	char *save = NULL;
	int line = 0;
	/* (node, iface) → line, to refuse an interface given twice */
	struct assigned {
		unsigned node, iface;
		int line;
	} *assigned = NULL;
	unsigned nassigned = 0;
	int r = 0;
	for (char *p = text; p && r == 0; p = save) {
		save = strchr(p, '\n');
		if (save)
			*save++ = '\0';
		line++;
		snprintf(where, sizeof(where), "%d", line);
		size_t l = strlen(p);
		while (l > 0 && isspace((unsigned char)p[l - 1]))
			p[--l] = '\0';
		p += strspn(p, " \t");
		if (!*p || *p == '#')
			continue;
		char *bracket = strchr(p, '['), *eq = strchr(p, '=');
		if (strncmp(p, "LAB_", 4) == 0 && eq && (!bracket || bracket > eq)) {
			*eq = '\0';
			char *value = kathara_value(eq + 1);
			if (!value) {
				r = error_setmsg(err, EINVAL, "%s:%d: malformed value of %s", im->path,
						 line, p);
				break;
			}
			if (strcmp(p, "LAB_NAME") == 0) {
				import_map_name(value, TOPO_SIM_MAX, im->sim, sizeof(im->sim));
				if (strcmp(im->sim, value) != 0)
					note(im, where, "lab name `%s` is sim `%s` (sim names: "
							"[a-z0-9-], at most %d characters)",
					     value, im->sim, TOPO_SIM_MAX);
			} else if (strcmp(p, "LAB_DESCRIPTION") == 0 || strcmp(p, "LAB_VERSION") == 0 ||
				   strcmp(p, "LAB_AUTHOR") == 0 || strcmp(p, "LAB_EMAIL") == 0 ||
				   strcmp(p, "LAB_WEB") == 0) {
				fprintf(lab->meta_f, "# %s: %s\n", p + 4, value);
			} else {
				note(im, where, "not translated: %s=%s (unknown lab setting)", p, value);
			}
			continue;
		}
		char *close = bracket ? strchr(bracket, ']') : NULL;
		if (!bracket || !close || close[1] != '=' || bracket == p) {
			r = error_setmsg(err, EINVAL, "%s:%d: expected DEVICE[N]=DOMAIN, "
						      "DEVICE[OPTION]=VALUE or LAB_...=VALUE",
					 im->path, line);
			break;
		}
		*bracket = *close = '\0';
		const char *device = p, *arg = bracket + 1;
		char *value = kathara_value(close + 2);
		if (!value || !*value || !is_word(arg)) {
			r = error_setmsg(err, EINVAL, "%s:%d: malformed %s[%s]= line", im->path, line,
					 device, arg);
			break;
		}
		int node = node_ref(im, device, where, err);
		if (node < 0) {
			r = node;
			break;
		}
		if (strcmp(arg, "image") == 0) {
			if (kathara_image_set(lab, (unsigned)node, value, line) < 0) {
				r = error_set(err, ENOMEM, "import %s", im->path);
				break;
			}
			continue;
		}
		if (strcmp(arg, "ipv6") == 0 && kathara_true(value))
			continue; /* netsim nodes always have IPv6 */
		if (strspn(arg, "0123456789") != strlen(arg)) {
			note(im, where, "not translated: %s[%s]=%s (%s)", device, arg, value,
			     kathara_option_reason(arg));
			continue;
		}
		unsigned long long iface = 0;
		if (arg[0] && parse_unsigned(arg, 0, KATHARA_MAX_IFACE, &iface) < 0) {
			r = error_setmsg(err, EINVAL, "%s:%d: interface number %s is too large "
						      "(at most %u)", im->path, line, arg,
					 KATHARA_MAX_IFACE);
			break;
		}
		/* Kathara allows DOMAIN/MAC; netsim derives MACs from the names. */
		char *mac = strchr(value, '/');
		if (mac) {
			*mac++ = '\0';
			note(im, where, "not translated: MAC address %s of %s[%s] (netsim derives "
					"stable MACs from sim, node and interface names)", mac, device, arg);
		}
		if (!is_word(value)) {
			r = error_setmsg(err, EINVAL, "%s:%d: collision domain `%s`: use letters, "
						      "digits and '_'", im->path, line, value);
			break;
		}
		for (unsigned i = 0; i < nassigned; i++) {
			if (assigned[i].node == (unsigned)node && assigned[i].iface == iface) {
				r = error_setmsg(err, EINVAL, "%s:%d: %s[%s] is already assigned at "
							      "line %d", im->path, line, device,
						 arg, assigned[i].line);
				break;
			}
		}
		if (r < 0)
			break;
		struct assigned *a = realloc(assigned, (nassigned + 1) * sizeof(*a));
		if (!a) {
			r = error_set(err, ENOMEM, "import %s", im->path);
			break;
		}
		assigned = a;
		assigned[nassigned++] = (struct assigned){(unsigned)node, (unsigned)iface, line};
		if (kathara_member_add(lab, value, (unsigned)node, (unsigned)iface, line) < 0)
			r = error_set(err, ENOMEM, "import %s", im->path);
	}
	free(assigned);
	return r;
}

/* Lab files netsim has no place for, each with why and what to do instead.
 * (DEVICE/ and DEVICE.startup become the node's files= and startup=, see
 * kathara_node_line.)  Kathara mounts shared/ read-write into every device at
 * /shared; a netsim node sees no host directory (docs/security.md), so the
 * nearest thing is a copy under DEVICE/shared/, per device and not shared.
 * DEVICE.shutdown is not run: `down` kills a node without entering it, so no
 * script of a lab can delay or outlive it. */
static void kathara_note_files(struct importer *im, const char *dir)
{
	static const struct {
		const char *name, *why;
	} lab_files[] = {
		{"shared", "Kathara's /shared in every device: netsim nodes see no host "
			   "directory; copy what a device needs into DEVICE/shared/, its "
			   "files= layer, to have it at /shared: one copy per device"},
		{"shared.startup", "Kathara runs it in every device before DEVICE.startup: "
				   "add its lines to each DEVICE.startup"},
		{"shared.shutdown", "netsim down stops the nodes without running anything "
				    "in them"},
		{"lab.dep", "netsim starts every node at once"},
		{"lab.ext", "netsim nodes have no link to the host's networks"},
	};
	char path[PATH_MAX + 64];
	struct stat st;
	for (size_t i = 0; i < sizeof(lab_files) / sizeof(lab_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, lab_files[i].name);
		if (stat(path, &st) == 0)
			note_file(im, path, "not translated: Kathara lab %s (%s)",
				  S_ISDIR(st.st_mode) ? "directory" : "file", lab_files[i].why);
	}
	for (unsigned n = 0; n < im->nodes.n; n++) {
		snprintf(path, sizeof(path), "%s/%s.shutdown", dir, im->nodes.raw[n]);
		if (stat(path, &st) == 0)
			note_file(im, path, "not translated: shutdown script of device %s (`netsim "
					    "down` stops a node without running anything in it; run "
					    "what you need with `netsim exec` before down)",
				  im->nodes.raw[n]);
	}
}

/* `target` (absolute) as the topology names it: relative to `base` (an absolute
 * directory, canonical like target), or absolute when base is NULL. */
static void path_from(const char *base, const char *target, char *out, size_t len)
{
	if (!base) {
		snprintf(out, len, "%s", target);
		return;
	}
	/* the longest common prefix that ends at a component boundary */
	size_t common = 0;
	for (size_t i = 0;; i++) {
		bool base_end = base[i] == '\0' || base[i] == '/';
		bool target_end = target[i] == '\0' || target[i] == '/';
		if (base_end && target_end)
			common = i;
		if (base[i] != target[i] || base[i] == '\0')
			break;
	}
	if (strcmp(base, "/") == 0)
		common = 0;
	size_t used = 0;
	out[0] = '\0';
	for (const char *p = base + common; *p; p++)
		if (*p == '/' && p[1] != '\0' && used + 3 < len) {
			memcpy(out + used, "../", 4);
			used += 3;
		}
	const char *rest = target + common;
	rest += *rest == '/';
	snprintf(out + used, len - used, "%s", *rest || used ? rest : ".");
	if (used > 0 && !*rest)
		out[used - 1] = '\0'; /* "../.." rather than "../../" */
}

/* A topology value, double-quoted when it holds what would end or split it. */
static void emit_value(FILE *f, const char *v)
{
	if (*v && !strpbrk(v, " \t#\"\\=")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

/* "docker.io/kathara/frr:latest" → "kathara/frr" (registry prefix and tag off). */
static void image_base_name(const char *image, char *out, size_t len)
{
	if (strncmp(image, "docker.io/", 10) == 0)
		image += 10;
	snprintf(out, len, "%s", image);
	char *slash = strrchr(out, '/'), *colon = strrchr(out, ':');
	if (colon && (!slash || colon > slash))
		*colon = '\0';
}

/* Kathara images netsim has a rootfs for; NULL: the default (meshlite). */
static const struct {
	const char *image;
	const char *rootfs;
} kathara_known_images[] = {
	{"kathara/base", NULL},
	{"kathara/frr", "frr"},
};

/* The rootfs value for device n's image (NULL: the default), in buf if it is
 * a path; *frr when it runs FRR (whose daemons need caps=+sys_admin);
 * *unmapped when netsim has nothing for it. */
static const char *kathara_rootfs(const struct kathara_image *img,
				  const struct import_options *opts, const char *out_dir,
				  char *buf, size_t len, bool *frr, bool *unmapped)
{
	char base[256];
	*frr = *unmapped = false;
	if (!img || !img->name)
		return NULL; /* Kathara's default image is kathara/base */
	image_base_name(img->name, base, sizeof(base));
	const char *last = strrchr(base, '/');
	*frr = strstr(last ? last + 1 : base, "frr") != NULL;
	for (size_t i = 0; opts && i < opts->nimages; i++) {
		const char *eq = strchr(opts->images[i], '=');
		if (!eq)
			continue;
		size_t nl = (size_t)(eq - opts->images[i]);
		if ((strlen(img->name) != nl || strncmp(img->name, opts->images[i], nl) != 0) &&
		    (strlen(base) != nl || strncmp(base, opts->images[i], nl) != 0))
			continue;
		const char *value = eq + 1;
		if (!strchr(value, '/') && !strstr(value, ".tar") && !strstr(value, ".tgz")) {
			*frr = *frr || strcmp(value, "frr") == 0;
			return value; /* a named rootfs */
		}
		char abs[PATH_MAX], cwd[PATH_MAX];
		if (!realpath(value, abs)) {
			if (value[0] == '/' || !getcwd(cwd, sizeof(cwd)))
				snprintf(abs, sizeof(abs), "%s", value);
			else
				snprintf(abs, sizeof(abs), "%.2000s/%.2000s", cwd, value);
		}
		path_from(out_dir, abs, buf, len);
		return buf;
	}
	for (size_t i = 0; i < sizeof(kathara_known_images) / sizeof(kathara_known_images[0]); i++)
		if (strcmp(base, kathara_known_images[i].image) == 0)
			return kathara_known_images[i].rootfs;
	*unmapped = true;
	return NULL;
}

/* `node NAME ...`: the device's rootfs (from its image), DEVICE/ as files= and
 * DEVICE.startup as startup=, as Kathara copies the one over the image and runs
 * the other at boot, with paths the topology resolves from where it is saved. */
static void kathara_node_line(struct importer *im, const struct kathara_lab *lab, unsigned n,
			      const char *lab_dir, const struct import_options *opts,
			      const char *out_dir)
{
	const struct kathara_image *img = n < lab->nimages && lab->images[n].name ?
		&lab->images[n] : NULL;
	char rootfs_buf[PATH_MAX], path[PATH_MAX + 300], rel[PATH_MAX + 300];
	bool frr, unmapped;
	const char *rootfs = kathara_rootfs(img, opts, out_dir, rootfs_buf, sizeof(rootfs_buf),
					    &frr, &unmapped);
	FILE *f = im->body_f;
	fprintf(f, "node %s", im->nodes.name[n]);
	if (rootfs) {
		fputs(" rootfs=", f);
		emit_value(f, rootfs);
	}
	if (frr)
		fputs(" caps=+sys_admin", f);
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", lab_dir, im->nodes.raw[n]);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		path_from(out_dir, path, rel, sizeof(rel));
		fputs(" files=", f);
		emit_value(f, rel);
	}
	snprintf(path, sizeof(path), "%s/%s.startup", lab_dir, im->nodes.raw[n]);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		path_from(out_dir, path, rel, sizeof(rel));
		fputs(" startup=", f);
		emit_value(f, rel);
	}
	fputc('\n', f);
	if (unmapped) {
		char where[32];
		snprintf(where, sizeof(where), "%d", img->line);
		note(im, where, "not translated: %s[image]=%s (netsim has no rootfs for this image: "
				"the node runs meshlite; give one with --image %s=ROOTFS)",
		     im->nodes.raw[n], img->name, img->name);
	}
}

static int kathara_emit(struct importer *im, struct kathara_lab *lab, const char *lab_dir,
			const struct import_options *opts, const char *out_dir, struct error *err)
{
	struct namer segs = {.max = IFNAMSIZ - 1, .map = map_ifname};
	char where[32];
	for (unsigned i = 0; i < im->nodes.n; i++)
		kathara_node_line(im, lab, i, lab_dir, opts, out_dir);
	for (unsigned d = 0; d < lab->ndomains; d++) {
		struct kathara_domain *dom = &lab->domains[d];
		snprintf(where, sizeof(where), "%d", dom->members[0].line);
		/* A node twice on one domain has no netsim equivalent (a link to itself,
		 * or a node twice in a segment): keep its first interface. */
		unsigned n = 0;
		for (unsigned m = 0; m < dom->n; m++) {
			unsigned k;
			for (k = 0; k < n; k++)
				if (dom->members[k].node == dom->members[m].node)
					break;
			if (k < n) {
				char w[32];
				snprintf(w, sizeof(w), "%d", dom->members[m].line);
				note(im, w, "not translated: %s[%u] (the device is on collision domain "
					    "%s already, line %d)", im->nodes.raw[dom->members[m].node],
				     dom->members[m].iface, dom->raw, dom->members[k].line);
				continue;
			}
			dom->members[n++] = dom->members[m];
		}
		/* one device: a stub LAN (labs announce it), a segment of one member */
		if (n == 2) {
			fprintf(im->body_f, "link %s:eth%u %s:eth%u    # collision domain %s\n",
				im->nodes.name[dom->members[0].node], dom->members[0].iface,
				im->nodes.name[dom->members[1].node], dom->members[1].iface, dom->raw);
			continue;
		}
		bool added, renamed;
		int s = namer_get(&segs, dom->raw, &added, &renamed);
		if (s < 0) {
			namer_free(&segs);
			return error_set(err, -s, "import %s", im->path);
		}
		if (renamed)
			note(im, where, "collision domain `%s` is segment `%s` (an interface name: at "
					"most %d characters)", dom->raw, segs.name[s], IFNAMSIZ - 1);
		fprintf(im->body_f, "segment %s", segs.name[s]);
		for (unsigned m = 0; m < n; m++)
			fprintf(im->body_f, " %s:eth%u", im->nodes.name[dom->members[m].node],
				dom->members[m].iface);
		fprintf(im->body_f, "\n");
	}
	namer_free(&segs);
	return 0;
}

static int import_kathara(const char *path, const char *text, size_t len,
			  const struct import_options *opts, struct import_result *res,
			  struct error *err)
{
	struct importer im;
	struct kathara_lab lab = {0};
	cleanup_free char *copy = NULL;
	int r = importer_init(&im, path, err);
	if (r < 0)
		goto out;
	if (memchr(text, '\0', len)) {
		r = error_setmsg(err, EINVAL, "%s: contains a NUL byte: not a lab.conf", path);
		goto out;
	}
	lab.meta_f = open_memstream(&lab.meta, &lab.meta_len);
	copy = strndup(text, len);
	if (!lab.meta_f || !copy) {
		r = error_set(err, ENOMEM, "import %s", path);
		goto out;
	}
	r = kathara_parse(&im, &lab, copy, err);
	if (r < 0)
		goto out;
	if (im.nodes.n == 0) {
		r = error_setmsg(err, EINVAL, "%s: no devices (lines such as pc1[0]=A): not a "
					      "Kathara lab.conf", path);
		goto out;
	}
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (!im.sim[0]) {
		/* A Kathara lab is its directory: name the sim after it. */
		char real[PATH_MAX];
		sim_from_path(&im, realpath(dir, real) ? real : dir, "", "lab directory");
	}
	/* device directories and scripts are named from where the topology goes */
	char lab_dir[PATH_MAX], out_dir[PATH_MAX];
	if (!realpath(dir, lab_dir))
		snprintf(lab_dir, sizeof(lab_dir), "%s", dir);
	bool relative = opts && opts->output_dir && realpath(opts->output_dir, out_dir);
	r = kathara_emit(&im, &lab, lab_dir, opts, relative ? out_dir : NULL, err);
	if (r < 0)
		goto out;
	kathara_note_files(&im, dir);
	fclose(lab.meta_f);
	lab.meta_f = NULL;
	r = importer_finish(&im, "kathara", lab.meta, res, err);
out:
	kathara_lab_free(&lab);
	importer_free(&im);
	return r;
}

/* ---- entry points -------------------------------------------------------- */

int import_format_parse(const char *name, enum import_format *format)
{
	if (strcmp(name, "meshnet-lab") == 0 || strcmp(name, "meshnet") == 0)
		*format = IMPORT_MESHNET_LAB;
	else if (strcmp(name, "kathara") == 0)
		*format = IMPORT_KATHARA;
	else
		return -EINVAL;
	return 0;
}

int import_text(enum import_format format, const char *path, const char *text, size_t len,
		struct import_result *res, struct error *err)
{
	return import_text_with(format, path, text, len, NULL, res, err);
}

int import_text_with(enum import_format format, const char *path, const char *text, size_t len,
		     const struct import_options *opts, struct import_result *res,
		     struct error *err)
{
	memset(res, 0, sizeof(*res));
	if (len > IMPORT_MAX_BYTES)
		return error_setmsg(err, EFBIG, "%s: larger than %u MiB", path,
				    IMPORT_MAX_BYTES >> 20);
	if (format == IMPORT_MESHNET_LAB)
		return import_meshnet_lab(path, text, len, opts, res, err);
	return import_kathara(path, text, len, opts, res, err);
}

int import_file(enum import_format format, const char *path, struct import_result *res,
		struct error *err)
{
	return import_file_with(format, path, NULL, res, err);
}

int import_file_with(enum import_format format, const char *path,
		     const struct import_options *opts, struct import_result *res,
		     struct error *err)
{
	char conf[PATH_MAX];
	struct stat st;
	memset(res, 0, sizeof(*res));
	if (format == IMPORT_KATHARA && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(conf, sizeof(conf), "%s/lab.conf", path);
		path = conf;
	}
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return error_set(err, errno, "read %s", path);
	if (!S_ISREG(st.st_mode))
		return error_setmsg(err, EINVAL, "%s: not a regular file", path);
	if ((unsigned long long)st.st_size > IMPORT_MAX_BYTES)
		return error_setmsg(err, EFBIG, "%s: larger than %u MiB", path,
				    IMPORT_MAX_BYTES >> 20);
	cleanup_free char *text = NULL;
	size_t got = 0;
	int r = read_fd_all(fd, IMPORT_MAX_BYTES, &text, &got);
	if (r == -EFBIG) /* it grew since the fstat */
		return error_setmsg(err, EFBIG, "%s: larger than %u MiB", path,
				    IMPORT_MAX_BYTES >> 20);
	if (r < 0)
		return error_set(err, -r, "read %s", path);
	return import_text_with(format, path, text, got, opts, res, err);
}

void import_result_free(struct import_result *res)
{
	free(res->topology);
	free(res->notes);
	memset(res, 0, sizeof(*res));
}
