/* TEMPORARY stub of medium_run (see medium_stub.h). */
#include "cli/medium_stub.h"

#include <errno.h>

int medium_run(const struct medium_config *c, struct error *err)
{
	(void)c;
	return error_setmsg(err, ENOSYS, "the medium engine is not built in yet");
}
