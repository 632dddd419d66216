/* Running from a sealed in-memory copy of our own executable, for processes that
 * enter a node (the runc fix for CVE-2019-5736).
 *
 * A process that joins a node's namespaces runs our binary until it execs the
 * node's command.  If that binary were the host file, node root could reach it
 * through /proc/PID/exe and, once the text is no longer busy, overwrite it; or run
 * a node script whose interpreter is `#!/proc/self/exe` and so execute the host
 * file under the node's control.  Running from a memfd with every seal set
 * (write, grow, shrink, seal) leaves nothing to overwrite: /proc/self/exe in such a
 * process is the memfd, and no one can change its bytes. */
#ifndef NETSIM_SEALED_EXE_H
#define NETSIM_SEALED_EXE_H

#include <stdbool.h>

#include "error.h"

/* True when this process runs from a memfd with all four seals. */
bool sealed_exe_active(void);

/* Unless sealed_exe_active(): copy /proc/self/exe into a memfd, seal it and
 * fexecve it with the same argv and environment (does not return on success).
 * Returns 0 when already sealed, <0 with a message when the copy or the exec
 * fails (nothing has been entered then). */
int sealed_exe_ensure(char *const argv[], struct error *err);

#endif
