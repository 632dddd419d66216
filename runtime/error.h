/* Error reporting shared by the runtime library and the CLI.
 *
 * Every fallible function takes a `struct error *` and returns 0 on success or a
 * negative errno.  The innermost failure fills the message; callers add context
 * with error_prefix() so the CLI prints one line: "netsim: CONTEXT: REASON". */
#ifndef NETSIM_ERROR_H
#define NETSIM_ERROR_H

#include <stddef.h>

struct error {
	int errnum;      /* positive errno, 0 when no error */
	char msg[1024];  /* human readable, without trailing newline */
};

/* Set the error; appends ": strerror(errnum)" when errnum > 0.  Returns -errnum
 * (or -EINVAL when errnum <= 0) so callers can `return error_set(...)`. */
int error_set(struct error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like error_set but without appending strerror (for messages that already say why). */
int error_setmsg(struct error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "CONTEXT: " to the message; returns -err->errnum. */
int error_prefix(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void error_clear(struct error *err);

#endif
