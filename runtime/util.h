/* Small helpers that every layer needs and that were written several times over:
 * the monotonic clock, whole writes and reads, mkdir -p, the stop signals,
 * strict unsigned numbers, libarchive's error text, and running a helper
 * program.  Each returns 0 or a negative errno unless it says otherwise. */
#ifndef NETSIM_UTIL_H
#define NETSIM_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* ---- the monotonic clock (CLOCK_MONOTONIC: immune to clock changes) ---- */
long long now_ns(void);
long long now_ms(void);
double now_seconds(void);

/* ---- whole reads and writes ---- */

/* All `len` bytes, across short writes and EINTR.  -errno (EPIPE, ENOSPC...). */
int write_all(int fd, const void *buf, size_t len);

/* Everything `fd` has until EOF into a malloc'd buffer with a '\0' after the
 * last byte (*len excludes it).  Works for regular files and for /proc files
 * (whose size says 0).  -EFBIG when there are more than `cap` bytes; *out is
 * then NULL. */
int read_fd_all(int fd, size_t cap, char **out, size_t *len);

/* read_fd_all of the file at `path` (opened O_RDONLY|O_CLOEXEC). */
int read_file_all(const char *path, size_t cap, char **out, size_t *len);

/* mkdir -p: every missing directory of `path` with `mode`; an existing
 * directory is fine.  -ENOTDIR when a component is not a directory. */
int mkdir_p(const char *path, mode_t mode);

/* ---- the stop signals (SIGINT, SIGTERM, SIGHUP) ---- */

/* The set of them. */
void stop_signals_fill(sigset_t *set);

/* Block them in this thread.  *wait_mask (unless NULL) becomes the mask to wait
 * with in ppoll/pselect/sigsuspend: the previous mask without them, so they are
 * delivered only there and none is lost between a check and the wait. */
void stop_signals_block(sigset_t *wait_mask);

/* ---- strict unsigned numbers (options, topology values) ---- */

/* A decimal number in [min, max]: digits only — no sign, no blanks, no base
 * prefix, nothing after it.  -EINVAL when it is not such a number, -ERANGE when
 * it is one outside [min, max] (overflow included). */
int parse_unsigned(const char *text, unsigned long long min, unsigned long long max,
		   unsigned long long *out);

/* The leading digits of `text` as a number (at least one digit, no sign);
 * *end points after them (at `text` when there is none).  -EINVAL without a
 * digit, -ERANGE on overflow; *out is set only on success. */
int parse_unsigned_prefix(const char *text, const char **end, unsigned long long *out);

/* ---- libarchive ---- */

struct archive;

/* Its message for the last failure on `a`, or `fallback` when it has none. */
const char *archive_text(struct archive *a, const char *fallback);

/* Its errno for the last failure on `a`, or `fallback` when it set none. */
int archive_errnum(struct archive *a, int fallback);

/* "WHAT: MESSAGE" with libarchive's errno (EIO when it has none); the message
 * is strerror's when libarchive has none.  Returns the negative errno. */
int archive_error(struct error *err, struct archive *a, const char *what);

/* ---- running a helper program ---- */

enum { HELPER_FD_INHERIT = -1, HELPER_FD_NULL = -2 };

struct helper {
	const char *path;      /* executable, run with execv (no $PATH search) */
	char *const *argv;
	int stdin_fd;          /* an fd to dup2 onto it, HELPER_FD_INHERIT or _NULL */
	int stdout_fd;
	int stderr_fd;
	int netns_fd;          /* a netns to enter first, or -1 */
	/* Written to the helper's stderr, before PATH: strerror, when execv fails
	 * (e.g. "netsim: graph: exec "); NULL writes nothing. */
	const char *exec_error_prefix;
};

/* fork and exec `h`: the child gets an empty signal mask, default SIGPIPE and
 * the fds asked for (everything else this process opens close-on-exec stays
 * behind); it exits 126 when it cannot set them up and 127 when execv fails.
 * Only async-signal-safe calls run in the child, so threaded callers may use it. */
int helper_spawn(const struct helper *h, pid_t *pid, struct error *err);

/* Reap our child `pid` (across EINTR); *status as waitpid gives it. */
int helper_wait(pid_t pid, int *status);

/* helper_spawn + helper_wait: 0 when it exited 0; -EIO with "PATH: exit
 * status N" / "PATH: signal N" otherwise. */
int helper_run(const struct helper *h, struct error *err);

/* "exit status N" or "signal N" for a waitpid status. */
const char *helper_status_kind(int status);
int helper_status_code(int status);

#endif
