/* The control socket's server side (AIR-SPEC §4, docs/wireless.md "Control
 * protocol"): one request line per connection, reply, close.  Non-blocking and
 * bounded: at most MEDIUM_CTL_CONNS connections at once (more are closed at
 * once), MEDIUM_CTL_REQUEST_MAX bytes per request, a deadline per connection,
 * a few accepts per wake-up, so no client can hold up the frame path. */
#ifndef NETSIM_MEDIUM_CTL_H
#define NETSIM_MEDIUM_CTL_H

#include <stdint.h>

#include "medium/engine.h"

#define MEDIUM_CTL_CONNS 16
#define MEDIUM_CTL_TIMEOUT_NS 2000000000ull

struct medium_ctl;

/* Serve listen_fd (made non-blocking) on epfd: the listening socket is added with
 * epoll data `tag`, connection k with `tag + 1 + k`. */
struct medium_ctl *medium_ctl_new(int listen_fd, int epfd, uint64_t tag);
void medium_ctl_free(struct medium_ctl *c);
/* An epoll event whose data is in tag .. tag + MEDIUM_CTL_CONNS. */
void medium_ctl_event(struct medium_ctl *c, uint64_t data, uint32_t events,
		      struct medium_world *w, uint64_t now_ns);
/* Close connections past their deadline; true while any is open (the caller
 * then wakes up at least every 100 ms). */
bool medium_ctl_expire(struct medium_ctl *c, uint64_t now_ns);

#endif
