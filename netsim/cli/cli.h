/* Shared pieces of the command line: the verb table entry, the exit statuses,
 * error printing in the one format ("netsim: CONTEXT: REASON"), option
 * conventions.  Each verb
 * lives in a cmd_*.c file and exports a `const struct verb verb_NAME`. */
#ifndef NETSIM_CLI_H
#define NETSIM_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"

/* What a verb does on a sim started with `up --vm` (cli/vm_forward.c). */
enum verb_in_vm {
	VERB_HERE = 0,       /* not sim-scoped: runs here */
	VERB_IN_VM,          /* forwarded as it is */
	VERB_IN_VM_EXEC,     /* forwarded with our stdin; its own options end at NODE */
	VERB_IN_VM_STATUS,   /* forwarded; the output names the VM */
	VERB_IN_VM_CAPTURE,  /* forwarded; the pcap comes back on stdout */
	VERB_IN_VM_RUN,      /* forwarded with the scenario file as its stdin */
	VERB_NOT_IN_VM,      /* refused: it needs the host's view of the node */
};

/* Exit statuses, one convention for every verb (docs/cli.md).  exec and shell
 * pass the node command's own status through instead. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,          /* the verb failed; its error says why */
	EXIT_USAGE = 2,         /* bad command line; main adds the usage line */
	EXIT_CANNOT_RUN = 127,  /* exec/shell: the command could not be started */
	EXIT_INTERRUPTED = 130, /* reach --watch: Ctrl-C before a round finished */
};

/* A verb's run() returns its exit status and, when it failed, fills err; main
 * prints err once ("netsim: MESSAGE", one line per line of it) after the verb
 * returned (unless the status is EXIT_OK), and after a usage error the verb's
 * usage line too.  argv[0] is the verb. */
struct verb {
	const char *name;
	const char *usage;   /* first line of --help, after "usage: netsim " */
	const char *help;    /* the rest of --help */
	enum verb_in_vm in_vm;
	int (*run)(int argc, char **argv, struct error *err);
};

/* main.c's hook, with the verb's argv (argv[0] the verb): when its sim runs in a
 * VM, run the verb there and return its exit status (err filled when it could
 * not); otherwise -1 (run it here). */
int vm_forward(const struct verb *verb, int argc, char **argv, struct error *err);

/* The verb being run (set by main), for messages. */
extern const struct verb *current_verb;

/* Text a node controls (its console log, messages carrying node-written text)
 * reaches the operator's terminal only through these: printable ASCII, newline,
 * tab and well-formed UTF-8 pass; every other byte (ESC, CR, BEL, DEL, C1
 * controls, broken UTF-8) is shown as a backslash and three octal digits, so
 * ESC reads \033.  An escaper carries an unfinished UTF-8 sequence from one
 * escape_write() to the next; escape_finish() escapes what is left. */
struct escaper {
	unsigned char pending[4];
	size_t count, need;
};
#define ESCAPER_INIT { .count = 0 }
void escape_write(struct escaper *e, FILE *f, const char *buf, size_t len);
void escape_finish(struct escaper *e, FILE *f);
void print_escaped(FILE *f, const char *s);

/* Print every line of err->msg as "netsim: LINE" on stderr, escaped (main, for
 * the verb's error; a verb only for a note it prints and goes on after). */
void print_error(const struct error *err);
/* The verb's error: fill err with MESSAGE; return EXIT_FAIL. */
int verb_fail(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error: fill err with "VERB: MESSAGE"; return EXIT_USAGE. */
int verb_usage(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a verb that goes on after a failure (down --all): add more's message to
 * err as a line of its own. */
void verb_error_add(struct error *err, const struct error *more);
/* What main prints for a verb's result: after a non-zero status, err (when
 * set) as print_error does, then after EXIT_USAGE the verb's usage line. */
void print_verb_error(const struct verb *v, int status, const struct error *err);
/* --help of a verb on stdout; returns 0. */
int print_help(const struct verb *v);
/* EXIT_OK when running as root, else fills err and returns EXIT_FAIL. */
int require_root(struct error *err);
/* The one option parser of every verb: getopt_long, except that options may
 * come anywhere before "--" (`status SIM --json`), -h means --help (it returns
 * OPT_HELP unless the verb has its own -h), and a bad option is not printed
 * here: the verb's default case returns verb_bad_option(err).  An operand that
 * looks like a negative number ("-3,4") stays an operand.  When it returns -1
 * the operands are argv[optind..argc), in their order, and a "--" is gone.
 * A leading '+' in shortopts keeps getopt's own rule instead: options end at
 * the first operand (exec, shell: what follows NODE is the command's). */
int verb_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* The usage error for the option verb_getopt just refused ('?' or ':'). */
int verb_bad_option(struct error *err);
/* Options of verbs that take only -s SIM and --help.  Returns -1 to go on
 * (operands start at optind, *sim is the -s value or NULL), else the exit
 * status the verb returns (help printed, or a usage error in err). */
int parse_sim_options(int argc, char **argv, const char **sim, struct error *err);
/* A duration option: a bare number of seconds ("10", "1.5") or a time with a
 * unit ("500ms", "2s"; units_parse_time).  0 when it lies in [min, max]. */
int parse_seconds_option(const char *arg, double min, double max, double *seconds);
/* "s" unless n is 1: "%u link%s" (never "1 links"). */
static inline const char *plural(unsigned long n)
{
	return n == 1 ? "" : "s";
}
/* A topology argument: a path (contains '/' or ends in .conf) rather than a sim. */
bool looks_like_file(const char *arg);

/* Entering a node, shared by exec and shell (cmd_exec.c).  parse_enter_options
 * takes -s SIM, -t, -T, --help and returns -1 to go on, else the verb's exit
 * status; run_in_node runs cmd[] in NODE and returns its exit status
 * (EXIT_FAIL or EXIT_CANNOT_RUN with err filled when it could not). */
enum tty_choice { TTY_AUTO, TTY_ALWAYS, TTY_NEVER };
int parse_enter_options(int argc, char **argv, const char **sim, enum tty_choice *tty,
			struct error *err);
int run_in_node(char **argv, const char *given, const char *node, char *const cmd[],
		bool shell, enum tty_choice tty, struct error *err);

/* The sim a reach-based verb means (-s or the only one running), opened for
 * probing (converge, run; cmd_run.c).  Returns < 0 with err filled. */
struct reach_sim;
int open_reach_sim(const char *given, char *sim, size_t len, struct reach_sim *rs,
		   struct error *err);

/* Long-option values shared by the verbs (short options use their letter). */
enum {
	OPT_HELP = 1000,
	OPT_JSON,
	OPT_TIMEOUT,
	OPT_ALL,
	OPT_VM,
	OPT_INTERVAL,
	OPT_RAW,
	OPT_VERB_BASE = 1100, /* verbs may number their own options from here */
};

#endif
