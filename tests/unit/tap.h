/* Minimal TAP producer for the C unit tests (run by prove). */
#ifndef NETSIM_TAP_H
#define NETSIM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void tap_plan_done(void)
{
	printf("1..%d\n", tap_count);
}

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	tap_count++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...)                                                      \
	do {                                                                        \
		long long g_ = (long long)(got), w_ = (long long)(want);            \
		if (!ok(g_ == w_, __VA_ARGS__))                                     \
			printf("#   got %lld, want %lld\n", g_, w_);                    \
	} while (0)

#define is_str(got, want, ...)                                                      \
	do {                                                                        \
		const char *g_ = (got), *w_ = (want);                               \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))              \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",         \
			       w_ ? w_ : "(null)");                                 \
	} while (0)

static inline void skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	exit(0);
}

static inline int tap_done(void)
{
	tap_plan_done();
	return tap_failed ? 1 : 0;
}

#endif
