#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "topo/units.h"

const struct verb *current_verb;

/* ---- text a node may have written ------------------------------------------ */

static void escape_byte(FILE *f, unsigned char ch)
{
	fprintf(f, "\\%03o", ch);
}

static void escape_pending(struct escaper *e, FILE *f)
{
	for (size_t i = 0; i < e->count; i++)
		escape_byte(f, e->pending[i]);
	e->count = 0;
}

/* Length of the UTF-8 sequence a lead byte starts, 0 when it cannot lead one. */
static size_t utf8_length(unsigned char lead)
{
	if (lead >= 0xc2 && lead <= 0xdf)
		return 2;
	if (lead >= 0xe0 && lead <= 0xef)
		return 3;
	if (lead >= 0xf0 && lead <= 0xf4)
		return 4;
	return 0;
}

/* Whether `ch` may follow the bytes already pending: a continuation byte, with
 * the second byte's narrower ranges that rule out overlong forms, surrogates and
 * code points above U+10FFFF. */
static bool utf8_continues(const struct escaper *e, unsigned char ch)
{
	if (ch < 0x80 || ch > 0xbf)
		return false;
	if (e->count != 1)
		return true;
	switch (e->pending[0]) {
	case 0xe0: return ch >= 0xa0;
	case 0xed: return ch <= 0x9f;
	case 0xf0: return ch >= 0x90;
	case 0xf4: return ch <= 0x8f;
	default: return true;
	}
}

static void escape_one(struct escaper *e, FILE *f, unsigned char ch)
{
	if (e->count > 0) {
		if (utf8_continues(e, ch)) {
			e->pending[e->count++] = ch;
			if (e->count == e->need) {
				/* U+0080..U+009F are the C1 controls: CSI is U+009B */
				if (e->pending[0] == 0xc2 && e->pending[1] < 0xa0)
					escape_pending(e, f);
				else
					fwrite(e->pending, 1, e->count, f);
				e->count = 0;
			}
			return;
		}
		escape_pending(e, f); /* a broken sequence; ch starts afresh */
	}
	if (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch < 0x7f)) {
		fputc(ch, f);
	} else if ((e->need = utf8_length(ch)) > 0) {
		e->pending[0] = ch;
		e->count = 1;
	} else {
		escape_byte(f, ch);
	}
}

void escape_write(struct escaper *e, FILE *f, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		escape_one(e, f, (unsigned char)buf[i]);
}

void escape_finish(struct escaper *e, FILE *f)
{
	escape_pending(e, f);
}

void print_escaped(FILE *f, const char *s)
{
	struct escaper e = ESCAPER_INIT;
	escape_write(&e, f, s, strlen(s));
	escape_finish(&e, f);
}

/* ---- errors ----------------------------------------------------------------- */

void print_error(const struct error *err)
{
	/* Parser errors come one per line; prefix each. */
	const char *p = err->msg;
	while (*p) {
		size_t len = strcspn(p, "\n");
		struct escaper e = ESCAPER_INIT;
		fputs("netsim: ", stderr);
		escape_write(&e, stderr, p, len);
		escape_finish(&e, stderr);
		fputc('\n', stderr);
		p += len;
		if (*p == '\n')
			p++;
	}
}

int verb_fail(struct error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (!err->errnum)
		err->errnum = EINVAL;
	return EXIT_FAIL;
}

int verb_usage(struct error *err, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_setmsg(err, EINVAL, "%s: %s", current_verb->name, msg);
	return EXIT_USAGE;
}

void verb_error_add(struct error *err, const struct error *more)
{
	size_t len = strlen(err->msg);
	if (len == 0)
		snprintf(err->msg, sizeof(err->msg), "%s", more->msg);
	else if (len + 1 < sizeof(err->msg))
		snprintf(err->msg + len, sizeof(err->msg) - len, "\n%s", more->msg);
	err->errnum = more->errnum ? more->errnum : EINVAL;
}

void print_verb_error(const struct verb *v, int status, const struct error *err)
{
	if (status == EXIT_OK || !err->msg[0])
		return;  /* what a verb tried and got past is no error */
	print_error(err);
	if (status == EXIT_USAGE)
		fprintf(stderr, "usage: netsim %s\n", v->usage);
}

int print_help(const struct verb *v)
{
	printf("usage: netsim %s\n\n%s", v->usage, v->help);
	return 0;
}

int require_root(struct error *err)
{
	if (geteuid() != 0)
		return verb_fail(err, "%s: needs root (namespaces, mounts and links)",
				 current_verb->name);
	return EXIT_OK;
}


bool looks_like_file(const char *arg)
{
	size_t len = strlen(arg);
	return strchr(arg, '/') || (len > 5 && strcmp(arg + len - 5, ".conf") == 0);
}

/* ---- options ---------------------------------------------------------------- */

/* verb_getopt's state across calls; a new argv starts afresh. */
static struct {
	char **argv;
	int held;        /* operands moved to the end of argv so far */
	bool mid;        /* getopt is inside a cluster of short options (-qs) */
	bool done;
	char bad[80];    /* what verb_bad_option says */
} opts_state;

static void reverse(char **a, int n)
{
	for (int i = 0, j = n - 1; i < j; i++, j--) {
		char *t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* Rotate a[0..n) left by k. */
static void rotate_left(char **a, int n, int k)
{
	reverse(a, k);
	reverse(a + k, n - k);
	reverse(a, n);
}

static bool is_operand(const char *a, const char *shortopts)
{
	if (a[0] != '-' || a[1] == '\0')
		return true;
	/* a negative number ("-3,4" of `node N move`), unless the verb has digit options */
	bool digit = isdigit((unsigned char)a[1]) || (a[1] == '.' && isdigit((unsigned char)a[2]));
	return digit && !strchr(shortopts, a[1]);
}

static void note_bad_option(int c, const char *elem, const struct option *longopts)
{
	if (strncmp(elem, "--", 2) == 0) {
		size_t len = strcspn(elem + 2, "=");
		const struct option *o = longopts;
		while (o && o->name && !(strlen(o->name) == len && strncmp(o->name, elem + 2, len) == 0))
			o++;
		bool known = o && o->name;
		snprintf(opts_state.bad, sizeof(opts_state.bad), "%s '--%.*s'",
			 c == ':' ? "option needs a value:" :
			 known && o->has_arg == no_argument ? "option takes no value:" : "unknown option",
			 (int)len, elem + 2);
	} else if (c == ':') {
		snprintf(opts_state.bad, sizeof(opts_state.bad), "option needs a value: '-%c'", optopt);
	} else {
		snprintf(opts_state.bad, sizeof(opts_state.bad), "unknown option '-%c'", optopt);
	}
}

int verb_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	if (opts_state.argv != argv) {
		memset(&opts_state, 0, sizeof(opts_state));
		opts_state.argv = argv;
	}
	bool in_order = shortopts[0] == '+';
	if (in_order)
		shortopts++;
	char spec[64];
	snprintf(spec, sizeof(spec), "+:%s", shortopts);
	opterr = 0;
	for (;;) {
		if (opts_state.done)
			return -1;
		int limit = argc - opts_state.held;
		if (!opts_state.mid) {
			if (optind >= limit) {
				opts_state.done = true;
				continue;  /* the held operands are argv[optind..argc) */
			}
			const char *a = argv[optind];
			if (strcmp(a, "--") == 0) {
				/* what follows "--" are operands, after the held ones */
				optind++;
				rotate_left(argv + optind, argc - optind, argc - optind - opts_state.held);
				opts_state.done = true;
				continue;
			}
			if (is_operand(a, shortopts)) {
				if (in_order) {
					opts_state.done = true;
					continue;
				}
				/* hold it at the end, after those held before */
				rotate_left(argv + optind, argc - optind, 1);
				opts_state.held++;
				continue;
			}
		}
		int before = optind;
		const char *elem = argv[optind];
		int c = getopt_long(limit, argv, spec, longopts, NULL);
		opts_state.mid = c != -1 && optind == before;
		if (c == '?' && optopt == 'h' && !strchr(shortopts, 'h'))
			return OPT_HELP;
		if (c == '?' || c == ':')
			note_bad_option(c, elem, longopts);
		return c;
	}
}

int verb_bad_option(struct error *err)
{
	return verb_usage(err, "%s", opts_state.bad[0] ? opts_state.bad : "unknown option");
}

int parse_sim_options(int argc, char **argv, const char **sim, struct error *err)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	int c;
	*sim = NULL;
	while ((c = verb_getopt(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's': *sim = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return verb_bad_option(err);
		}
	}
	return -1;
}

int parse_seconds_option(const char *arg, double min, double max, double *seconds)
{
	size_t len = strlen(arg);
	uint64_t usec;
	int r;
	if (len && strspn(arg, "0123456789.") == len) {
		char with_unit[64];
		if (len + 2 > sizeof(with_unit))
			return -ERANGE;
		snprintf(with_unit, sizeof(with_unit), "%ss", arg);
		r = units_parse_time(with_unit, &usec);
	} else {
		r = units_parse_time(arg, &usec);
	}
	if (r < 0)
		return r;
	double s = (double)usec / 1e6;
	if (s < min || s > max)
		return -ERANGE;
	*seconds = s;
	return 0;
}
