/* netsim/cli/cli.c: a verb's error as main prints it — one format, one set of
 * exit statuses (docs/cli.md), node text escaped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tap.h"

static const struct verb fake = {"frob", "frob [-x] THING", "Frob a thing.\n",
				 .in_vm = VERB_HERE};

/* What print_verb_error() writes to stderr (malloc'd). */
static char *printed(int status, const struct error *err)
{
	fflush(stderr);
	int saved = dup(STDERR_FILENO), fd = memfd_create("stderr", 0);
	dup2(fd, STDERR_FILENO);
	print_verb_error(&fake, status, err);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)len + 1);
	if (pread(fd, buf, (size_t)len, 0) != len)
		buf[0] = '\0';
	close(fd);
	return buf;
}

int main(void)
{
	current_verb = &fake;
	struct error err = {0};
	char *out;

	is_int(verb_usage(&err, "unknown option `%s`", "-q"), EXIT_USAGE, "verb_usage returns 2");
	out = printed(EXIT_USAGE, &err);
	is_str(out, "netsim: frob: unknown option `-q`\nusage: netsim frob [-x] THING\n",
	       "usage error: netsim: VERB: REASON, then the usage line");
	free(out);

	error_clear(&err);
	is_int(verb_fail(&err, "sim %s is not up", "x"), EXIT_FAIL, "verb_fail returns 1");
	out = printed(EXIT_FAIL, &err);
	is_str(out, "netsim: sim x is not up\n", "failure: one line, no usage");
	free(out);

	out = printed(EXIT_OK, &err);
	is_str(out, "", "nothing after success, whatever err holds");
	free(out);

	error_clear(&err);
	out = printed(3, &err);
	is_str(out, "", "an exec'd command's own status: nothing of ours");
	free(out);

	error_clear(&err);
	struct error a = {0}, b = {0};
	error_setmsg(&a, EIO, "down s1: busy");
	error_setmsg(&b, ENOENT, "down s2: gone");
	verb_error_add(&err, &a);
	verb_error_add(&err, &b);
	out = printed(EXIT_FAIL, &err);
	is_str(out, "netsim: down s1: busy\nnetsim: down s2: gone\n",
	       "errors gathered by a verb that goes on: one prefixed line each");
	free(out);

	error_clear(&err);
	verb_fail(&err, "node said \033[2J\a%s", "\xff");
	out = printed(EXIT_FAIL, &err);
	is_str(out, "netsim: node said \\033[2J\\007\\377\n", "node text in an error is escaped");
	free(out);

	error_clear(&err);
	is_int(require_root(&err), geteuid() == 0 ? EXIT_OK : EXIT_FAIL,
	       "require_root: 0 as root, else 1");
	ok(geteuid() == 0 ? !err.msg[0] : strstr(err.msg, "frob: needs root") != NULL,
	   "...with the verb named when it fails");

	tap_plan_done();
	return tap_failed != 0;
}
