/* Scenario files: parser and runner (format: docs/scenarios.md).
 *
 * The parser checks everything it can before anything runs — syntax, times,
 * link attributes, node names against the running sim — and collects every
 * error, so a scenario either runs whole or not at all.  The runner executes
 * actions as child processes of this same binary (`netsim link ...`,
 * `netsim node ...`): the verbs stay the one implementation of each fault, and a
 * failing action brings its own error message along on stderr. */
#include "tools/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "topo/lines.h"
#include "topo/quality.h"
#include "topo/units.h"
#include "util.h"

#define SCENARIO_FILE_SIZE_MAX (1u << 20)
#define QUOTE_MAX 64            /* user text quoted in messages is cut here */
#define ACTION_OUTPUT_MAX 8192  /* stderr kept from a failed action */

#define QUALITY_VALID TOPO_QUALITY_ATTRS_VALID

#define LINK_FORM "`link NODE NODE up|down|set KEY=VALUE...|clear [KEY...]` or `link SEGMENT [NODE] up|down`"
#define NODE_FORM "`node NODE stop|start|restart`"
#define MOVE_FORM "`move NODE to X,Y[,Z] [over TIME]`"
#define AIR_FORM "`air SEGMENT pair A B|A>B loss=..|rate=..|delay=..|cut|clear...`"
#define EXPECT_FORM "`expect reach|noreach NODE NODE within TIME` or `expect reach|noreach all within TIME`"
#define TIME_EXAMPLE "a time such as 10s, 500ms or 1.5s"

struct parser {
	const char *file;
	struct scenario *sc;
	size_t steps_cap;
	const struct scenario_names *names; /* the sim's, or NULL: not checked */
	uint64_t last_at_us;
	int last_at_line;
	char **errors;             /* "FILE:LINE: message", in line order */
	size_t nerrors;
	bool out_of_memory;
};

__attribute__((format(printf, 3, 4))) static void report(struct parser *p, int line,
							  const char *fmt, ...)
{
	if (p->out_of_memory)
		return;
	char **grown = realloc(p->errors, (p->nerrors + 1) * sizeof(*grown));
	if (!grown) {
		p->out_of_memory = true;
		return;
	}
	p->errors = grown;
	char body[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (asprintf(&p->errors[p->nerrors], "%s:%d: %s", p->file, line, body) < 0) {
		p->out_of_memory = true;
		return;
	}
	p->nerrors++;
}

/* Lines are parsed in order, so the errors already are; what does not fit the
 * message is counted at the end. */
static void errors_to_message(struct parser *p, struct error *err)
{
	size_t used = 0, size = sizeof(err->msg);
	err->msg[0] = '\0';
	for (size_t i = 0; i < p->nerrors; i++) {
		size_t len = strlen(p->errors[i]) + (i ? 1 : 0);
		size_t reserve = i + 1 < p->nerrors ? 40 : 0;
		if (i > 0 && used + len + reserve >= size) {
			snprintf(err->msg + used, size - used, "\n...and %zu more error%s",
				 p->nerrors - i, p->nerrors - i == 1 ? "" : "s");
			break;
		}
		snprintf(err->msg + used, size - used, "%s%s", i ? "\n" : "", p->errors[i]);
		used = strlen(err->msg);
	}
	err->errnum = EINVAL;
}

/* ---- pieces ---- */

static bool parse_time(struct parser *p, int line, const char *what, const char *text,
		       bool zero_ok, uint64_t *us)
{
	int r = units_parse_time(text, us);
	if (r == -ERANGE || (r == 0 && *us > SCENARIO_TIME_MAX_US)) {
		report(p, line, "%s %.*s: more than 24 hours", what, QUOTE_MAX, text);
		return false;
	}
	if (r < 0) {
		report(p, line, "%s `%.*s`: expected " TIME_EXAMPLE, what, QUOTE_MAX, text);
		return false;
	}
	if (!zero_ok && *us == 0) {
		report(p, line, "%s %s: must be above 0", what, text);
		return false;
	}
	return true;
}

static bool in_list(const char *const *list, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* A node name: well formed and, when the sim is known, one of its nodes. */
static bool check_node(struct parser *p, int line, const char *what, const char *name)
{
	if (!topo_valid_name(name, TOPO_NAME_MAX)) {
		report(p, line, "%s: `%.*s` is not a node name ([a-z0-9-], at most %d)", what,
		       QUOTE_MAX, name, TOPO_NAME_MAX);
		return false;
	}
	if (p->names && !in_list(p->names->nodes, p->names->nnodes, name)) {
		report(p, line, "%s: the sim has no node %s", what, name);
		return false;
	}
	return true;
}

/* A link end: NODE or NODE:IFNAME (topo_split_endpoint, the topology's own
 * rule); *node gets the node part. */
static bool check_endpoint(struct parser *p, int line, const char *word,
			   char node[TOPO_NAME_MAX + 1])
{
	char ifname[IFNAMSIZ];
	struct error err;
	if (topo_split_endpoint(word, 0, node, ifname, &err) < 0) {
		report(p, line, "link: %s", err.msg);
		return false;
	}
	return check_node(p, line, "link", node);
}

/* Two distinct node names. */
static bool check_node_pair(struct parser *p, int line, const char *what, const char *a,
			    const char *b)
{
	bool good = check_node(p, line, what, a);
	good = check_node(p, line, what, b) && good;
	if (good && strcmp(a, b) == 0) {
		report(p, line, "%s: both ends are %s", what, a);
		return false;
	}
	return good;
}

struct quality_report {
	struct parser *p;
	int line;
};

static void report_quality(void *ctx, const char *msg)
{
	struct quality_report *r = ctx;
	report(r->p, r->line, "link set: %s", msg);
}

/* `set` attributes go through the topology's own grammar (a change: jitter=
 * and reorder= may rely on the link's delay), so a typo fails before the
 * scenario starts rather than half-way through it. */
static bool check_link_set(struct parser *p, int line, char **attrs, size_t n)
{
	if (n == 0) {
		report(p, line, "link set: give at least one KEY=VALUE (" QUALITY_VALID ")");
		return false;
	}
	struct topo_quality q;
	struct quality_report r = { p, line };
	return topo_parse_quality_words(attrs, n, TOPO_QUALITY_CHANGE, &q, report_quality, &r) == 0;
}

/* `clear` takes attribute names only (or none: all shaping). */
static bool check_link_clear(struct parser *p, int line, char **attrs, size_t n)
{
	bool good = true;
	for (size_t i = 0; i < n; i++)
		if (!topo_quality_bit(attrs[i])) {
			report(p, line, "link clear: unknown attribute `%.*s` (valid: " QUALITY_VALID ")",
			       QUOTE_MAX, attrs[i]);
			good = false;
		}
	return good;
}

static bool is_link_operation(const char *word)
{
	return strcmp(word, "up") == 0 || strcmp(word, "down") == 0 || strcmp(word, "set") == 0 ||
	       strcmp(word, "clear") == 0;
}

/* The forms of `netsim link` that change something:
 *   link NODE[:IF] NODE[:IF] OPERATION       a point-to-point link
 *   link SEGMENT OPERATION                   a whole segment
 *   link SEGMENT NODE up|down                one member of a segment
 * Without the sim's names, "link a b down" may be either of the two-word forms;
 * then only the shape of the words is checked. */
static bool check_link(struct parser *p, int line, char **tok, size_t n)
{
	size_t op = n >= 3 && is_link_operation(tok[2]) ? 2 : 3;
	if (n <= op || !is_link_operation(tok[op])) {
		if (n >= 4 && op == 3)
			report(p, line, "link: unknown operation `%.*s` (expected up, down, set or clear)",
			       QUOTE_MAX, tok[3]);
		else
			report(p, line, "link: expected " LINK_FORM);
		return false;
	}
	const char *operation = tok[op];
	bool good = true, member = false;
	if (op == 2) {
		if (!topo_valid_ifname(tok[1], TOPO_IFNAME_CREATE)) {
			report(p, line, "link: `%.*s` is not a segment name", QUOTE_MAX, tok[1]);
			good = false;
		} else if (p->names && !in_list(p->names->segments, p->names->nsegments, tok[1])) {
			if (in_list(p->names->nodes, p->names->nnodes, tok[1]))
				report(p, line, "link: a link is named by both of its nodes (link %s NODE %s)",
				       tok[1], operation);
			else
				report(p, line, "link: the sim has no segment %.*s", QUOTE_MAX, tok[1]);
			good = false;
		}
	} else if (p->names && in_list(p->names->segments, p->names->nsegments, tok[1])) {
		member = true;
		good = check_node(p, line, "link", tok[2]);
	} else {
		char a[TOPO_NAME_MAX + 1], b[TOPO_NAME_MAX + 1];
		good = check_endpoint(p, line, tok[1], a);
		good = check_endpoint(p, line, tok[2], b) && good;
		if (good && strcmp(a, b) == 0) {
			report(p, line, "link: both ends are %s", a);
			good = false;
		}
	}
	if (member && strcmp(operation, "up") != 0 && strcmp(operation, "down") != 0) {
		report(p, line, "link %s %s: one member of a segment only goes up or down", tok[1],
		       tok[2]);
		return false;
	}
	char **args = tok + op + 1;
	size_t nargs = n - op - 1;
	if (strcmp(operation, "set") == 0)
		return check_link_set(p, line, args, nargs) && good;
	if (strcmp(operation, "clear") == 0)
		return check_link_clear(p, line, args, nargs) && good;
	if (nargs) {
		report(p, line, "link %s: unexpected `%.*s`", operation, QUOTE_MAX, args[0]);
		return false;
	}
	return good;
}

static void report_air_quality(void *ctx, const char *msg)
{
	struct quality_report *r = ctx;
	report(r->p, r->line, "air pair: %s", msg);
}

/* move NODE to X,Y[,Z] [over TIME]: `netsim node NODE move X,Y[,Z] [--over TIME]` */
static bool check_move(struct parser *p, int line, char **tok, size_t n)
{
	if ((n != 4 && n != 6) || strcmp(tok[2], "to") != 0 || (n == 6 && strcmp(tok[4], "over") != 0)) {
		report(p, line, "move: expected " MOVE_FORM);
		return false;
	}
	bool good = check_node(p, line, "move", tok[1]);
	double pos[3];
	if (!topo_parse_pos(tok[3], pos)) {
		report(p, line, "move: `%.*s` is no position: give X,Y or X,Y,Z in metres", QUOTE_MAX,
		       tok[3]);
		good = false;
	}
	uint64_t us;
	if (n == 6 && !parse_time(p, line, "move over", tok[5], true, &us))
		good = false;
	return good;
}

/* air SEGMENT pair A B|A>B CHANGE...: `netsim air SEGMENT pair ...` */
static bool check_air(struct parser *p, int line, char **tok, size_t n)
{
	if (n < 4 || strcmp(tok[2], "pair") != 0) {
		report(p, line, "air: expected " AIR_FORM);
		return false;
	}
	bool good = true;
	if (p->names && !in_list(p->names->segments, p->names->nsegments, tok[1])) {
		report(p, line, "air: the sim has no segment %.*s", QUOTE_MAX, tok[1]);
		good = false;
	}
	size_t first = 4;
	char *arrow = strchr(tok[3], '>');
	if (arrow) {
		char from[TOPO_NAME_MAX + 2];
		size_t len = (size_t)(arrow - tok[3]);
		snprintf(from, sizeof(from), "%.*s", (int)(len > TOPO_NAME_MAX + 1 ? TOPO_NAME_MAX + 1 : len),
			 tok[3]);
		good = check_node_pair(p, line, "air pair", from, arrow + 1) && good;
	} else if (n >= 5) {
		good = check_node_pair(p, line, "air pair", tok[3], tok[4]) && good;
		first = 5;
	} else {
		report(p, line, "air: expected " AIR_FORM);
		return false;
	}
	char *attrs[16];
	size_t nattrs = 0;
	bool any = false;
	for (size_t i = first; i < n; i++) {
		if (strcmp(tok[i], "cut") == 0 || strcmp(tok[i], "clear") == 0) {
			any = true;
		} else if (strchr(tok[i], '=') && nattrs < 16) {
			attrs[nattrs++] = tok[i];
		} else {
			report(p, line, "air pair: `%.*s`: expected loss=, rate=, delay=, cut or clear",
			       QUOTE_MAX, tok[i]);
			return false;
		}
	}
	struct topo_quality q;
	struct quality_report r = { p, line };
	if (nattrs && topo_parse_quality_words(attrs, nattrs, 0, &q, report_air_quality, &r) < 0)
		return false;
	if (nattrs && (q.set & ~(unsigned)(TOPO_Q_LOSS | TOPO_Q_RATE | TOPO_Q_DELAY))) {
		report(p, line, "air pair: a pair takes loss=, rate=, delay=, cut and clear only");
		return false;
	}
	if (!any && !nattrs) {
		report(p, line, "air pair: give loss=, rate=, delay=, cut or clear");
		return false;
	}
	return good;
}

static bool check_action(struct parser *p, int line, char **tok, size_t n)
{
	if (strcmp(tok[0], "link") == 0)
		return check_link(p, line, tok, n);
	if (strcmp(tok[0], "move") == 0)
		return check_move(p, line, tok, n);
	if (strcmp(tok[0], "air") == 0)
		return check_air(p, line, tok, n);
	if (strcmp(tok[0], "node") == 0) {
		if (n != 3) {
			report(p, line, "node: expected " NODE_FORM);
			return false;
		}
		bool good = check_node(p, line, "node", tok[1]);
		if (strcmp(tok[2], "stop") && strcmp(tok[2], "start") && strcmp(tok[2], "restart")) {
			report(p, line, "node: unknown operation `%.*s` (expected stop, start or restart)",
			       QUOTE_MAX, tok[2]);
			return false;
		}
		return good;
	}
	report(p, line, "unknown action `%.*s` (expected link, node, move or air)", QUOTE_MAX, tok[0]);
	return false;
}

/* ---- statements ---- */

static struct scenario_step *add_step(struct parser *p, enum scenario_kind kind, int line,
				      char **tok, size_t n)
{
	struct scenario *sc = p->sc;
	if (sc->nsteps == p->steps_cap) {
		size_t cap = p->steps_cap ? p->steps_cap * 2 : 16;
		struct scenario_step *grown = realloc(sc->steps, cap * sizeof(*grown));
		if (!grown) {
			p->out_of_memory = true;
			return NULL;
		}
		sc->steps = grown;
		p->steps_cap = cap;
	}
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(tok[i]) + 1;
	char *text = malloc(len + 1);
	if (!text) {
		p->out_of_memory = true;
		return NULL;
	}
	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(text, " ");
		strcat(text, tok[i]);
	}
	struct scenario_step *s = &sc->steps[sc->nsteps++];
	*s = (struct scenario_step){.kind = kind, .line = line, .text = text};
	return s;
}

static void parse_at(struct parser *p, int line, char **tok, size_t n)
{
	if (n < 2) {
		report(p, line, "at: expected `at TIME ACTION`, e.g. at 10s link n1 n2 down");
		return;
	}
	uint64_t us;
	bool good = parse_time(p, line, "at", tok[1], true, &us);
	if (n < 3) {
		report(p, line, "at %.*s: missing the action (" LINK_FORM ", " NODE_FORM ", " MOVE_FORM
		       " or " AIR_FORM ")",
		       QUOTE_MAX, tok[1]);
		return;
	}
	good = check_action(p, line, tok + 2, n - 2) && good;
	if (!good)
		return;
	if (p->last_at_line && us < p->last_at_us) {
		char prev[32];
		units_format_time(p->last_at_us, prev, sizeof(prev));
		report(p, line, "at %s is before the previous event (at %s, line %d)", tok[1], prev,
		       p->last_at_line);
		return;
	}
	p->last_at_us = us;
	p->last_at_line = line;
	struct scenario_step *s = add_step(p, SCENARIO_ACTION, line, tok, n);
	if (!s)
		return;
	s->time_us = us;
	/* move NODE to POS [over T] is `node NODE move POS [--over T]` */
	char *move[6];
	char **words = tok + 2;
	size_t nwords = n - 2;
	if (strcmp(tok[2], "move") == 0) {
		move[0] = "node";
		move[1] = tok[3];
		move[2] = "move";
		move[3] = tok[5];
		move[4] = "--over";
		move[5] = n == 8 ? tok[7] : "0s";
		words = move;
		nwords = 6;
	}
	s->argc = (unsigned)nwords;
	s->argv = calloc(nwords + 1, sizeof(*s->argv));
	if (!s->argv) {
		p->out_of_memory = true;
		return;
	}
	for (size_t i = 0; i < nwords; i++)
		if (!(s->argv[i] = strdup(words[i])))
			p->out_of_memory = true;
}

static void parse_wait(struct parser *p, int line, char **tok, size_t n)
{
	if (n != 2) {
		report(p, line, "wait: expected `wait TIME`, e.g. wait 5s");
		return;
	}
	uint64_t us;
	if (!parse_time(p, line, "wait", tok[1], true, &us))
		return;
	struct scenario_step *s = add_step(p, SCENARIO_WAIT, line, tok, n);
	if (s)
		s->time_us = us;
}

static void parse_expect(struct parser *p, int line, char **tok, size_t n)
{
	/* expect reach|noreach (all | NODE NODE) within TIME */
	bool all = n >= 3 && strcmp(tok[2], "all") == 0;
	size_t within_at = all ? 3 : 4;
	if (n < 2 || (strcmp(tok[1], "reach") != 0 && strcmp(tok[1], "noreach") != 0)) {
		if (n < 2)
			report(p, line, "expect: expected " EXPECT_FORM);
		else
			report(p, line, "expect: `%.*s` is not reach or noreach", QUOTE_MAX, tok[1]);
		return;
	}
	if (n < within_at + 2 || strcmp(tok[within_at], "within") != 0) {
		report(p, line, "expect: expected " EXPECT_FORM);
		return;
	}
	if (n > within_at + 2) {
		report(p, line, "expect: unexpected `%.*s` after the time", QUOTE_MAX,
		       tok[within_at + 2]);
		return;
	}
	bool good = all || check_node_pair(p, line, "expect", tok[2], tok[3]);
	uint64_t us;
	good = parse_time(p, line, "within", tok[within_at + 1], false, &us) && good;
	if (!good)
		return;
	struct scenario_step *s = add_step(p, SCENARIO_EXPECT, line, tok, n);
	if (!s)
		return;
	s->time_us = us;
	s->reach = strcmp(tok[1], "reach") == 0;
	s->all = all;
	if (!all) {
		snprintf(s->from, sizeof(s->from), "%s", tok[2]);
		snprintf(s->to, sizeof(s->to), "%s", tok[3]);
	}
	p->sc->nexpect++;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void parse_line(struct parser *p, char *text, int line)
{
	char *tok[64];
	size_t n = 0;
	text[strcspn(text, "#")] = '\0';
	for (char *c = text; *c;) {
		while (is_blank(*c))
			*c++ = '\0';
		if (!*c)
			break;
		if (n == sizeof(tok) / sizeof(tok[0])) {
			report(p, line, "more than %zu words", n);
			return;
		}
		tok[n++] = c;
		while (*c && !is_blank(*c))
			c++;
	}
	if (n == 0)
		return;
	if (strcmp(tok[0], "at") == 0)
		parse_at(p, line, tok, n);
	else if (strcmp(tok[0], "wait") == 0)
		parse_wait(p, line, tok, n);
	else if (strcmp(tok[0], "expect") == 0)
		parse_expect(p, line, tok, n);
	else
		report(p, line, "unknown keyword `%.*s` (expected at, wait or expect)", QUOTE_MAX,
		       tok[0]);
}

/* ---- entry points ---- */

static void step_free(struct scenario_step *s)
{
	if (s->argv)
		for (unsigned i = 0; s->argv[i]; i++)
			free(s->argv[i]);
	free(s->argv);
	free(s->text);
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	for (unsigned i = 0; i < sc->nsteps; i++)
		step_free(&sc->steps[i]);
	free(sc->steps);
	free(sc->path);
	memset(sc, 0, sizeof(*sc));
}

/* Parse `len` bytes of text (NUL at text[len]; modified in place). */
static int parse_buffer(const char *name, char *text, size_t len,
			const struct scenario_names *names, struct scenario *sc, struct error *err)
{
	struct parser p = {.file = name, .sc = sc, .names = names};
	int ret = 0;
	memset(sc, 0, sizeof(*sc));
	if (!(sc->path = strdup(name)))
		p.out_of_memory = true;
	struct line_reader lines;
	char *line;
	bool has_nul;
	line_reader_init(&lines, text, len);
	while (!p.out_of_memory && line_reader_next(&lines, &line, &has_nul)) {
		if (has_nul)
			report(&p, lines.lineno, "line contains a NUL byte");
		else
			parse_line(&p, line, lines.lineno);
	}
	if (!p.out_of_memory && sc->nsteps == 0 && p.nerrors == 0)
		report(&p, lines.lineno ? lines.lineno : 1,
		       "no steps (add `at`, `wait` or `expect` lines)");
	if (p.out_of_memory) {
		ret = error_setmsg(err, ENOMEM, "%s: out of memory", name);
	} else if (p.nerrors) {
		errors_to_message(&p, err);
		ret = -EINVAL;
	} else {
		error_clear(err);
	}
	for (size_t i = 0; i < p.nerrors; i++)
		free(p.errors[i]);
	free(p.errors);
	if (ret < 0)
		scenario_free(sc);
	return ret;
}

int scenario_parse_string(const char *name, const char *text,
			  const struct scenario_names *names, struct scenario *sc, struct error *err)
{
	size_t len = strlen(text);
	cleanup_free char *copy = malloc(len + 1);
	if (!copy) {
		memset(sc, 0, sizeof(*sc));
		return error_setmsg(err, ENOMEM, "%s: out of memory", name);
	}
	memcpy(copy, text, len + 1);
	return parse_buffer(name, copy, len, names, sc, err);
}

int scenario_parse_file(const char *path, const struct scenario_names *names,
			struct scenario *sc, struct error *err)
{
	memset(sc, 0, sizeof(*sc));
	cleanup_free char *text = NULL;
	size_t len = 0;
	int r = read_file_all(path, SCENARIO_FILE_SIZE_MAX, &text, &len);
	if (r == -EFBIG)
		return error_setmsg(err, EFBIG, "%s: larger than %u KiB, not a scenario", path,
				    SCENARIO_FILE_SIZE_MAX >> 10);
	if (r == -ENOMEM)
		return error_setmsg(err, ENOMEM, "%s: out of memory", path);
	if (r < 0)
		return error_set(err, -r, "%s", path);
	return parse_buffer(path, text, len, names, sc, err);
}

/* ---- runner ---- */

static void sleep_until(double when)
{
	if (when <= now_seconds())
		return;
	struct timespec ts = {(time_t)when, (long)((when - (double)(time_t)when) * 1e9)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* `EXE VERB -s SIM ARGS...` with stderr captured; stdout is dropped because
 * the timeline is the report (and --json output must stay clean). */
static int run_action(const struct scenario_step *step, const struct scenario_env *env,
		      struct scenario_outcome *o, struct error *err)
{
	cleanup_free char **argv = calloc(step->argc + 4, sizeof(*argv));
	if (!argv)
		return error_set(err, ENOMEM, "line %d", step->line);
	argv[0] = "netsim";
	argv[1] = step->argv[0];
	argv[2] = "-s";
	argv[3] = (char *)env->sim;
	for (unsigned i = 1; i < step->argc; i++)
		argv[i + 3] = step->argv[i];
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_set(err, errno, "line %d: pipe", step->line);
	fflush(NULL);
	struct helper verb = {.path = env->exe, .argv = argv, .stdin_fd = HELPER_FD_NULL,
			      .stdout_fd = HELPER_FD_NULL, .stderr_fd = pipefd[1], .netns_fd = -1,
			      .exec_error_prefix = "netsim: run "};
	pid_t pid;
	int spawned = helper_spawn(&verb, &pid, err);
	close(pipefd[1]);
	if (spawned < 0) {
		close(pipefd[0]);
		return error_prefix(err, "line %d", step->line);
	}
	char *buf = malloc(ACTION_OUTPUT_MAX + 1);
	size_t len = 0;
	double deadline = now_seconds() + env->action_timeout;
	bool timed_out = false;
	for (;;) {
		struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
		double left = deadline - now_seconds();
		if (left <= 0) {
			timed_out = true;
			kill(pid, SIGKILL); /* our own child, by pid */
			break;
		}
		int r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		char chunk[1024];
		ssize_t got = read(pipefd[0], chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		size_t keep = buf && len < ACTION_OUTPUT_MAX ? ACTION_OUTPUT_MAX - len : 0;
		if ((size_t)got < keep)
			keep = (size_t)got;
		if (keep) {
			memcpy(buf + len, chunk, keep);
			len += keep;
		}
	}
	close(pipefd[0]);
	int status = 0;
	helper_wait(pid, &status);
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (buf) {
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
			len--;
		buf[len] = '\0';
		if (timed_out) {
			free(buf);
			buf = NULL;
			if (asprintf(&buf, "netsim: still running after %g s; killed",
				     env->action_timeout) < 0)
				buf = NULL;
		}
	}
	o->output = buf;
	o->ok = !timed_out && o->status == 0;
	return 0;
}

/* Poll the expectation's pairs until it holds or its deadline passes.  reach:
 * every pair answered an echo.  noreach: every pair stayed silent for a whole
 * window that began before the deadline. */
static int run_expect(const struct scenario_step *step, const struct scenario_env *env,
		      double t0, struct scenario_outcome *o, struct error *err)
{
	unsigned n = env->nnodes;
	cleanup_free bool *want = NULL;
	if (!step->all) {
		int from = -1, to = -1;
		for (unsigned i = 0; i < n; i++) {
			if (strcmp(env->nodes[i].name, step->from) == 0)
				from = (int)i;
			if (strcmp(env->nodes[i].name, step->to) == 0)
				to = (int)i;
		}
		if (from < 0 || to < 0)
			return error_setmsg(err, ENOENT, "line %d: the sim has no node %s",
					    step->line, from < 0 ? step->from : step->to);
		want = calloc((size_t)n * n, sizeof(*want));
		if (!want)
			return error_set(err, ENOMEM, "line %d", step->line);
		want[(size_t)from * n + (size_t)to] = true;
	}
	double within = (double)step->time_us / 1e6;
	double deadline = t0 + o->base + within;
	o->measured = -1;
	if (step->reach) {
		/* At least one probe interval even when earlier steps used up the
		 * time: the answer then comes too late, and says by how much. */
		double start = now_seconds(), left = deadline - start;
		if (left < env->probe_interval)
			left = env->probe_interval;
		struct reach_result res;
		int r = reach_run_pairs(env->nodes, n, want, left, env->probe_interval, &res, err);
		if (r < 0)
			return error_prefix(err, "line %d", step->line);
		o->pairs_ok = res.pairs_ok;
		o->pairs = res.pairs;
		if (res.pairs_ok == res.pairs)
			o->measured = start + res.seconds - (t0 + o->base);
		reach_result_free(&res);
	} else {
		double window = env->noreach_window < within ? env->noreach_window : within;
		for (;;) {
			double start = now_seconds();
			struct reach_result res;
			int r = reach_run_pairs(env->nodes, n, want, window, env->probe_interval, &res,
						err);
			if (r < 0)
				return error_prefix(err, "line %d", step->line);
			o->pairs = res.pairs;
			o->pairs_ok = res.pairs - res.pairs_ok;
			reach_result_free(&res);
			if (o->pairs_ok == o->pairs) {
				o->measured = start - (t0 + o->base);
				break;
			}
			/* the pair answered at once: do not spin */
			sleep_until(start + env->probe_interval);
			if (now_seconds() >= deadline)
				break;
		}
	}
	o->ok = o->measured >= 0 && o->measured <= within + 1e-3;
	return 0;
}

int scenario_run(const struct scenario *sc, const struct scenario_env *env,
		 struct scenario_outcome *out, struct error *err)
{
	memset(out, 0, sc->nsteps * sizeof(*out));
	double t0 = now_seconds(), base = 0;
	bool stopped = false;
	for (unsigned i = 0; i < sc->nsteps && !stopped; i++) {
		const struct scenario_step *step = &sc->steps[i];
		struct scenario_outcome *o = &out[i];
		int r = 0;
		o->ran = true;
		switch (step->kind) {
		case SCENARIO_ACTION:
			o->scheduled = (double)step->time_us / 1e6;
			sleep_until(t0 + o->scheduled);
			o->started = now_seconds() - t0;
			r = run_action(step, env, o, err);
			o->finished = now_seconds() - t0;
			/* faults take effect when the verb returns (a restarted node is
			 * back), so convergence is measured from there */
			base = o->finished;
			stopped = !o->ok;
			break;
		case SCENARIO_WAIT:
			o->started = now_seconds() - t0;
			sleep_until(t0 + o->started + (double)step->time_us / 1e6);
			o->finished = now_seconds() - t0;
			base = o->finished;
			o->ok = true;
			break;
		case SCENARIO_EXPECT:
			o->base = base;
			o->started = now_seconds() - t0;
			r = run_expect(step, env, t0, o, err);
			o->finished = now_seconds() - t0;
			break;
		}
		if (r < 0) {
			o->ran = false;
			return r;
		}
		if (env->on_step)
			env->on_step(sc, i, o, env->arg);
	}
	return 0;
}

void scenario_outcomes_free(struct scenario_outcome *out, unsigned n)
{
	for (unsigned i = 0; out && i < n; i++) {
		free(out[i].output);
		out[i].output = NULL;
	}
}
