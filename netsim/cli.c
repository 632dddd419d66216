#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "units.h"

const struct verb *current_verb;

void print_error(const struct error *err)
{
	/* Parser errors come one per line; prefix each. */
	const char *p = err->msg;
	while (*p) {
		size_t len = strcspn(p, "\n");
		fprintf(stderr, "netsim: %.*s\n", (int)len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
}

int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("netsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "netsim %s: ", current_verb->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: netsim %s\n", current_verb->usage);
	return 2;
}

int print_help(const struct verb *v)
{
	printf("usage: netsim %s\n\n%s", v->usage, v->help);
	return 0;
}

int need_root(void)
{
	if (geteuid() != 0)
		return fail("%s: needs root (namespaces, mounts and links)", current_verb->name);
	return 0;
}

bool looks_like_file(const char *arg)
{
	size_t len = strlen(arg);
	return strchr(arg, '/') || (len > 5 && strcmp(arg + len - 5, ".conf") == 0);
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

int load_state(const char *sim, struct state *st, struct error *err)
{
	char path[PATH_MAX];
	state_sim_path(path, sizeof(path), sim, "state");
	return state_read(path, st, err);
}


int parse_sim_options(int argc, char **argv, const char **sim)
{
	static const struct option opts[] = {{"sim", required_argument, NULL, 's'},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	int c;
	*sim = NULL;
	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		switch (c) {
		case 's': *sim = optarg; break;
		case OPT_HELP: return print_help(current_verb);
		default: return usage_error("unknown option");
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
