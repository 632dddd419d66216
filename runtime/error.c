#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int error_vset(struct error *err, int errnum, int with_strerror,
		      const char *fmt, va_list ap)
{
	if (errnum <= 0)
		errnum = EINVAL;
	if (!err)
		return -errnum;
	err->errnum = errnum;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_strerror && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
			 strerror(errnum));
	return -errnum;
}

int error_set(struct error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = error_vset(err, errnum, 1, fmt, ap);
	va_end(ap);
	return ret;
}

int error_setmsg(struct error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = error_vset(err, errnum, 0, fmt, ap);
	va_end(ap);
	return ret;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;
	char context[512];
	char old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", context, old);
	return -(err->errnum ? err->errnum : EINVAL);
}

void error_clear(struct error *err)
{
	if (!err)
		return;
	err->errnum = 0;
	err->msg[0] = '\0';
}
