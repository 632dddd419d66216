/* The live view of a running sim: a small HTTP server (libmicrohttpd) on
 * 127.0.0.1 only, serving the page embedded from netsim/web/ and a JSON API:
 *
 *   GET /                 the page (index.html, app.js, style.css)
 *   GET /api/status       the same object as `netsim status --json`
 *   GET /api/node/NODE    one node: its status fields plus addresses and routes
 *                         in iproute2's JSON form; 404 for a node the sim lacks
 *
 * Requests are answered on one thread of the server's own (it enters node
 * network namespaces with setns, which affects only that thread). */
#ifndef NETSIM_WEB_H
#define NETSIM_WEB_H

#include <stdint.h>

#include "error.h"

struct web_server;

/* Listen on 127.0.0.1:port (0 = any free port) and serve SIM.  The caller
 * should block SIGINT/SIGTERM first so the server's thread inherits the mask
 * and the caller alone receives them. */
int web_start(const char *sim, uint16_t port, struct web_server **out, struct error *err);
/* The port actually listened on. */
uint16_t web_port(const struct web_server *ws);
/* Stop serving (finishes the request in progress), close the socket, free. */
void web_stop(struct web_server *ws);

#endif
