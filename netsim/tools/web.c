/* netsim web: the HTTP server behind the live view (see web.h). */
#include "tools/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "net/netns.h"
#include "medium/model.h"
#include "sim/json_out.h"
#include "sim/live.h"
#include "sim/radio.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "tools/air.h"
#include "topo/topo.h"
#include "util.h"

/* ---- the page, embedded at build time ------------------------------------
 * The assembler copies the files in verbatim (.incbin), so the binary needs
 * nothing from the source tree at run time.  Paths are relative to the
 * directory make runs in (the top of the tree); the Makefile makes web.o
 * depend on the files in netsim/tools/web/. */
#define WEB_ASSET(sym, file)                                                   \
	__asm__(".pushsection .rodata\n"                                       \
		".balign 16\n"                                                 \
		".globl " #sym "\n"                                            \
		".type " #sym ", @object\n" #sym ":\n"                         \
		".incbin \"netsim/tools/web/" file "\"\n"                            \
		".globl " #sym "_end\n" #sym "_end:\n"                         \
		".byte 0\n"                                                    \
		".popsection\n");                                              \
	extern const char sym[], sym##_end[]

WEB_ASSET(netsim_web_index_html, "index.html");
WEB_ASSET(netsim_web_app_js, "app.js");
WEB_ASSET(netsim_web_style_css, "style.css");

struct asset {
	const char *url;
	const char *type;
	const char *data, *end;
};

static const struct asset assets[] = {
	{"/", "text/html; charset=utf-8", netsim_web_index_html, netsim_web_index_html_end},
	{"/index.html", "text/html; charset=utf-8", netsim_web_index_html,
	 netsim_web_index_html_end},
	{"/app.js", "text/javascript; charset=utf-8", netsim_web_app_js, netsim_web_app_js_end},
	{"/style.css", "text/css; charset=utf-8", netsim_web_style_css,
	 netsim_web_style_css_end},
};

/* Anyone on the machine can connect to 127.0.0.1, and a client that opens
 * connections and sends nothing must not lock the operator out (64 such once
 * did).  Idle connections are closed after WEB_IDLE_TIMEOUT_S; above
 * WEB_MAX_CONNECTIONS a request is answered 503 at once; MHD itself accepts a
 * few more than that so the refusal can be said, and closes anything beyond at
 * once.  A per-address limit would not help: every client is 127.0.0.1. */
#define WEB_MAX_CONNECTIONS 256u
#define WEB_REFUSAL_SLOTS 32u
#define WEB_IDLE_TIMEOUT_S 10u

struct web_server {
	struct MHD_Daemon *daemon;
	atomic_uint connections;  /* open now (MHD's notify callback) */
	char sim[TOPO_SIM_MAX + 1];
	uint16_t port;
	char ip_path[32];         /* iproute2's ip, found once at start */
	char host_ip[32];         /* the Host headers we answer: 127.0.0.1:PORT */
	char host_name[32];       /* and localhost:PORT */
};

/* ---- node details through iproute2 ---------------------------------------
 * Addresses and routes come from `ip -j` run inside the node's netns: its
 * JSON is a stable, documented format, it names route protocols (babel) and
 * scopes the way every Linux user reads them, and the netlink module has no
 * address/route dumps that would otherwise have to be added and turned into
 * JSON by hand.  The child enters the netns itself (setns before exec), so
 * NETSIM_NETNS_DIR is honoured, unlike `ip -n`. */

#define IP_TIMEOUT_MS 5000
#define IP_OUTPUT_MAX (4u << 20)

static int find_ip(char *out, size_t len, struct error *err)
{
	static const char *const candidates[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip",
						 "/bin/ip"};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		if (access(candidates[i], X_OK) == 0) {
			snprintf(out, len, "%s", candidates[i]);
			return 0;
		}
	}
	return error_setmsg(err, ENOENT, "iproute2's ip not found (install iproute2)");
}

/* Run argv (argv[0] is "ip", argv[1] is "-j") inside netns ns_fd and parse
 * its JSON output; `what` names the query in messages. */
static int ip_json(const struct web_server *ws, int ns_fd, const char *what,
		   char *const argv[], struct json_object **out, struct error *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe");
	/* (helper_spawn's child makes only async-signal-safe calls: we have threads) */
	struct helper ip = {.path = ws->ip_path, .argv = argv, .stdin_fd = HELPER_FD_NULL,
			    .stdout_fd = pipefd[1], .stderr_fd = HELPER_FD_NULL, .netns_fd = ns_fd};
	pid_t pid;
	int spawned = helper_spawn(&ip, &pid, err);
	close(pipefd[1]);
	if (spawned < 0) {
		close(pipefd[0]);
		return spawned;
	}

	char *buf = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&buf, &size);
	int r = 0;
	long long start = now_ms();
	while (mem) {
		long long elapsed = now_ms() - start;
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int n = elapsed < IP_TIMEOUT_MS ? poll(&p, 1, (int)(IP_TIMEOUT_MS - elapsed)) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? error_set(err, errno, "poll")
				  : error_setmsg(err, ETIMEDOUT, "%s: ip gave no answer in %d ms",
						 what, IP_TIMEOUT_MS);
			kill(pid, SIGKILL);
			break;
		}
		char chunk[8192];
		ssize_t got = read(pipefd[0], chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (size + (size_t)got > IP_OUTPUT_MAX) {
			r = error_setmsg(err, EFBIG, "%s: ip output too large", what);
			kill(pid, SIGKILL);
			break;
		}
		fwrite(chunk, 1, (size_t)got, mem);
	}
	close(pipefd[0]);
	int status = 0;
	helper_wait(pid, &status);
	if (!mem) {
		return r ? r : error_set(err, ENOMEM, "open_memstream");
	}
	fclose(mem);
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = error_setmsg(err, EIO, "%s: ip failed (exit status %d)", what,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (r == 0) {
		*out = json_tokener_parse(buf);
		if (!*out)
			r = error_setmsg(err, EPROTO, "%s: ip output is not JSON", what);
	}
	free(buf);
	return r;
}

/* The JSON of GET /api/node/NODE, or NULL with *http_status set. */
/* After `down` the state file is gone: say what docs/web.md promises, not the
 * file error. */
static void say_not_up(const struct web_server *ws, struct error *err)
{
	char path[PATH_MAX];
	if (state_sim_path(path, sizeof(path), ws->sim, "state") == 0 && access(path, F_OK) < 0 &&
	    errno == ENOENT)
		error_setmsg(err, ENOENT, "sim %s is not up", ws->sim);
}

static char *node_json(const struct web_server *ws, const char *node, unsigned *http_status,
		       struct error *err)
{
	struct state st;
	if (state_load(ws->sim, &st, err) < 0) {
		say_not_up(ws, err);
		*http_status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return NULL;
	}
	const struct state_node *sn = NULL;
	for (unsigned i = 0; i < st.nnodes; i++)
		if (strcmp(st.nodes[i].name, node) == 0)
			sn = &st.nodes[i];
	if (!sn) {
		error_setmsg(err, ENOENT, "sim %s has no node %s", ws->sim, node);
		state_free(&st);
		*http_status = MHD_HTTP_NOT_FOUND;
		return NULL;
	}
	pid_t pid = state_pidfile_read(ws->sim, node);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "sim", json_object_new_string(ws->sim));
	json_object_object_add(o, "name", json_object_new_string(sn->name));
	json_object_object_add(o, "state", json_object_new_string(pid > 0 ? "running" : "stopped"));
	json_object_object_add(o, "pid", json_object_new_int(pid > 0 ? pid : 0));
	json_object_object_add(o, "addr", json_object_new_string(sn->addr4));
	json_object_object_add(o, "addr6", json_object_new_string(sn->addr6));
	json_object_object_add(o, "rootfs", json_object_new_string(sn->rootfs));
	state_free(&st);

	/* What the kernel says; a failure is reported in "error" rather than
	 * failing the whole request, so the page can still show the rest. */
	char path[PATH_MAX];
	state_netns_path(path, sizeof(path), ws->sim, node);
	struct error ip_err = {0};
	cleanup_close int ns = netns_open(path, &ip_err);
	static char *const addr_args[] = {"ip", "-j", "address", "show", NULL};
	static char *const route_args[] = {"ip", "-j", "-4", "route", "show", NULL};
	static char *const route6_args[] = {"ip", "-j", "-6", "route", "show", NULL};
	struct { const char *key; char *const *args; } queries[] = {
		{"addresses", addr_args}, {"routes", route_args}, {"routes6", route6_args}};
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		struct json_object *v = NULL;
		if (ns >= 0 && ip_err.errnum == 0)
			ip_json(ws, ns, queries[q].key, queries[q].args, &v, &ip_err);
		json_object_object_add(o, queries[q].key, v ? v : json_object_new_array());
	}
	if (ip_err.errnum)
		json_object_object_add(o, "error", json_object_new_string(ip_err.msg));
	char *text = strdup(json_object_to_json_string_ext(o, JSON_OUT_FLAGS));
	json_object_put(o);
	if (!text) {
		error_set(err, ENOMEM, "node %s", node);
		*http_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	return text;
}

/* ---- HTTP ---------------------------------------------------------------- */

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
			       void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* The page loads only its own script and style, and only talks to us. */
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, unsigned status,
				     const char *msg)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	int r = json_out_write(f, o);
	fclose(f);
	if (r < 0) {
		free(body);
		return MHD_NO;
	}
	return respond(conn, status, "application/json", body, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result serve_status(const struct web_server *ws, struct MHD_Connection *conn)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	if (!f)
		return respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	struct error err = {0};
	int r = live_write_json(f, ws->sim, &err);
	fclose(f);
	if (r < 0) {
		free(body);
		say_not_up(ws, &err);
		return respond_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, err.msg);
	}
	return respond(conn, MHD_HTTP_OK, "application/json", body, len, MHD_RESPMEM_MUST_FREE);
}

/* GET /api/air: the medium's matrix (tools/air.h), each radio segment with the
 * model's nominal range in metres (where the SNR falls to the range limit,
 * shadowing left out) for the range circles. */
static enum MHD_Result serve_air(const struct web_server *ws, struct MHD_Connection *conn)
{
	struct error err = {0};
	struct json_object *root;
	pid_t pid;
	if (sim_medium_state(ws->sim, &pid) == 0)
		return respond_error(conn, MHD_HTTP_NOT_FOUND, "the sim has no radio segment");
	if (air_matrix(ws->sim, &root, &err) < 0)
		return respond_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, err.msg);
	struct topo t;
	if (sim_topology(ws->sim, &t, &err) == 0) {
		for (unsigned s = 0; s < t.nsegments; s++) {
			const struct topo_segment *seg = &t.segments[s];
			struct json_object *o = air_matrix_segment(root, seg->name);
			if (!o || !topo_segment_on_air(seg))
				continue;
			const struct topo_radio *r = &seg->radio;
			double range = pow(10, (r->tx_power_dbm - r->ref_loss_db - r->noise_dbm -
						MEDIUM_SNR_RANGE_DB) / (10 * r->exponent));
			json_object_object_add(o, "range_m", json_object_new_double(round(range * 10) / 10));
		}
		topo_free(&t);
	}
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	char *body = text ? strdup(text) : NULL;
	json_object_put(root);
	if (!body)
		return respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return respond(conn, MHD_HTTP_OK, "application/json", body, strlen(body),
		       MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result serve_node(const struct web_server *ws, struct MHD_Connection *conn,
				  const char *node)
{
	if (!topo_valid_name(node, TOPO_NAME_MAX))
		return respond_error(conn, MHD_HTTP_NOT_FOUND, "no such node");
	struct error err = {0};
	unsigned status = MHD_HTTP_OK;
	char *body = node_json(ws, node, &status, &err);
	if (!body)
		return respond_error(conn, status, err.msg);
	return respond(conn, MHD_HTTP_OK, "application/json", body, strlen(body),
		       MHD_RESPMEM_MUST_FREE);
}

static void count_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			     enum MHD_ConnectionNotificationCode code)
{
	struct web_server *ws = cls;
	(void)conn;
	(void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&ws->connections, 1);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&ws->connections, 1);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct web_server *ws = cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (atomic_load(&ws->connections) > WEB_MAX_CONNECTIONS)
		return respond_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "too many connections; try again in a few seconds");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET");
	/* A page on some other site could point its own name at 127.0.0.1 (DNS
	 * rebinding) and read our answers; such requests carry that name. */
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	if (host && strcmp(host, ws->host_ip) != 0 && strcmp(host, ws->host_name) != 0)
		return respond_error(conn, MHD_HTTP_FORBIDDEN, "unexpected Host header");

	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (strcmp(url, assets[i].url) == 0)
			return respond(conn, MHD_HTTP_OK, assets[i].type, (void *)assets[i].data,
				       (size_t)(assets[i].end - assets[i].data),
				       MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/api/status") == 0)
		return serve_status(ws, conn);
	if (strcmp(url, "/api/air") == 0)
		return serve_air(ws, conn);
	static const char node_prefix[] = "/api/node/";
	if (strncmp(url, node_prefix, sizeof(node_prefix) - 1) == 0)
		return serve_node(ws, conn, url + sizeof(node_prefix) - 1);
	return respond_error(conn, MHD_HTTP_NOT_FOUND, "not found");
}

/* The listening socket is ours rather than MHD's, so that it is certain to be
 * bound to the loopback address only and a port of 0 can be reported. */
static int listen_loopback(uint16_t port, uint16_t *bound, struct error *err)
{
	cleanup_close int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, errno, "socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return error_set(err, errno, "listen on 127.0.0.1:%u", port);
	if (listen(fd, 16) < 0)
		return error_set(err, errno, "listen on 127.0.0.1:%u", port);
	socklen_t len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return error_set(err, errno, "getsockname");
	*bound = ntohs(sa.sin_port);
	return steal_fd(&fd);
}

int web_start(const char *sim, uint16_t port, struct web_server **out, struct error *err)
{
	cleanup_free struct web_server *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return error_set(err, ENOMEM, "web");
	snprintf(ws->sim, sizeof(ws->sim), "%s", sim);
	int r = find_ip(ws->ip_path, sizeof(ws->ip_path), err);
	if (r < 0)
		return r;
	int fd = listen_loopback(port, &ws->port, err);
	if (fd < 0)
		return fd;
	snprintf(ws->host_ip, sizeof(ws->host_ip), "127.0.0.1:%u", ws->port);
	snprintf(ws->host_name, sizeof(ws->host_name), "localhost:%u", ws->port);
	/* One internal thread answers every request in turn: the handlers setns
	 * on it, and one browser tab polling once a second is all the load.  It
	 * polls with epoll (MHD_USE_AUTO), which has no FD_SETSIZE ceiling. */
	ws->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0,
				      NULL, NULL, handle, ws, MHD_OPTION_LISTEN_SOCKET, fd,
				      MHD_OPTION_CONNECTION_LIMIT,
				      WEB_MAX_CONNECTIONS + WEB_REFUSAL_SLOTS,
				      MHD_OPTION_CONNECTION_TIMEOUT, WEB_IDLE_TIMEOUT_S,
				      MHD_OPTION_NOTIFY_CONNECTION, count_connection, ws,
				      MHD_OPTION_END);
	if (!ws->daemon) {
		close(fd);
		return error_setmsg(err, EIO, "web: libmicrohttpd failed to start");
	}
	*out = steal_pointer(&ws);
	return 0;
}

uint16_t web_port(const struct web_server *ws)
{
	return ws->port;
}

void web_stop(struct web_server *ws)
{
	if (!ws)
		return;
	MHD_stop_daemon(ws->daemon); /* joins its thread, closes the socket */
	free(ws);
}
