/* Control protocol of the medium (ctl.h): the request handler over the world
 * (matrix, move, pair) and the non-blocking connection server. */
#include "medium/ctl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "topo/quality.h"

/* ---- requests ---------------------------------------------------------- */

static int reply_text(char **reply, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int reply_text(char **reply, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(reply, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*reply = NULL;
		return -ENOMEM;
	}
	*len = (size_t)n;
	return 0;
}

/* Client text in a reply: printable ASCII only, at most 40 bytes. */
static void quote(const char *s, char *buf, size_t size)
{
	size_t o = 0;
	for (; *s && o + 1 < size && o < 40; s++)
		buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	buf[o] = '\0';
}

/* A number rounded to `scale` (1000: 3 decimals), printed that way (not 17 digits). */
static json_object *number(double v, double scale)
{
	char buf[64];
	v = isfinite(v) ? round(v * scale) / scale : 0;
	snprintf(buf, sizeof(buf), "%.12g", v);
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	return json_object_new_double_s(v, buf);
}

static json_object *pair_json(const struct medium_world *w, const struct medium_segment *seg,
			      unsigned i, unsigned j)
{
	const struct topo_segment *ts = &w->topo->segments[seg->topo_index];
	const struct medium_pair *p = medium_model_pair(seg->model, i, j);
	const struct medium_counters *c = medium_air_counters(seg->air, i, j);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "from", json_object_new_string(w->topo->nodes[ts->members[i].node].name));
	json_object_object_add(o, "to", json_object_new_string(w->topo->nodes[ts->members[j].node].name));
	json_object_object_add(o, "in_range", json_object_new_boolean(p->in_range));
	json_object_object_add(o, "distance", number(p->distance_m, 1000));
	json_object_object_add(o, "snr", number(p->snr_db, 1000));
	json_object_object_add(o, "loss", number(p->loss_ppm / 1e6, 1e6));
	json_object_object_add(o, "rate", json_object_new_int64((int64_t)p->rate_bps));
	json_object_object_add(o, "delay_us", json_object_new_int64((int64_t)p->delay_us));
	json_object *ov = json_object_new_array();
	static const struct { unsigned bit; const char *name; } bits[] = {
		{ MEDIUM_OV_LOSS, "loss" }, { MEDIUM_OV_RATE, "rate" },
		{ MEDIUM_OV_DELAY, "delay" }, { MEDIUM_OV_CUT, "cut" },
	};
	for (size_t k = 0; k < sizeof(bits) / sizeof(bits[0]); k++)
		if (p->overridden & bits[k].bit)
			json_object_array_add(ov, json_object_new_string(bits[k].name));
	json_object_object_add(o, "overridden", ov);
	json_object_object_add(o, "offered", json_object_new_int64((int64_t)c->offered));
	json_object_object_add(o, "delivered", json_object_new_int64((int64_t)c->delivered));
	json_object_object_add(o, "lost", json_object_new_int64((int64_t)c->lost));
	json_object_object_add(o, "collided", json_object_new_int64((int64_t)c->collided));
	json_object_object_add(o, "queue_dropped", json_object_new_int64((int64_t)c->queue_dropped));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)c->bytes));
	return o;
}

static int handle_matrix(struct medium_world *w, char **reply, size_t *len)
{
	json_object *root = json_object_new_object();
	json_object *segs = json_object_new_array();
	json_object_object_add(root, "segments", segs);
	for (unsigned s = 0; s < w->nsegments; s++) {
		const struct medium_segment *seg = &w->segments[s];
		const struct topo_segment *ts = &w->topo->segments[seg->topo_index];
		const struct medium_params *p = medium_model_params(seg->model);
		json_object *so = json_object_new_object();
		json_object_object_add(so, "name", json_object_new_string(ts->name));
		json_object_object_add(so, "capacity", json_object_new_int64((int64_t)p->capacity_bps));
		json_object_object_add(so, "hidden", json_object_new_boolean(p->hidden_nodes));
		json_object *members = json_object_new_array();
		json_object *positions = json_object_new_object();
		for (unsigned m = 0; m < ts->nmembers; m++) {
			const char *name = w->topo->nodes[ts->members[m].node].name;
			json_object_array_add(members, json_object_new_string(name));
			double pos[3];
			medium_model_get_pos(seg->model, m, pos);
			json_object *pa = json_object_new_array();
			for (int k = 0; k < 3; k++)
				json_object_array_add(pa, number(pos[k], 1000));
			json_object_object_add(positions, name, pa);
		}
		json_object_object_add(so, "members", members);
		json_object_object_add(so, "positions", positions);
		json_object *pairs = json_object_new_array();
		for (unsigned i = 0; i < ts->nmembers; i++)
			for (unsigned j = 0; j < ts->nmembers; j++)
				if (i != j)
					json_object_array_add(pairs, pair_json(w, seg, i, j));
		json_object_object_add(so, "pairs", pairs);
		json_object_array_add(segs, so);
	}
	size_t n = 0;
	const char *text = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &n);
	int r = text ? reply_text(reply, len, "%s\n", text) : -ENOMEM;
	json_object_put(root);
	return r;
}

static bool parse_coord(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && isfinite(*v) && fabs(*v) <= 1e6;
}

static int handle_move(struct medium_world *w, char **words, int n, uint64_t now_ns,
		       char **reply, size_t *len)
{
	char q[48];
	if (n != 5 && n != 6)
		return reply_text(reply, len, "error: usage: move NODE X Y Z [OVER_MS]\n");
	int node = topo_find_node(w->topo, words[1]);
	if (node < 0) {
		quote(words[1], q, sizeof(q));
		return reply_text(reply, len, "error: no node `%s`\n", q);
	}
	double pos[3];
	for (int k = 0; k < 3; k++)
		if (!parse_coord(words[2 + k], &pos[k])) {
			quote(words[2 + k], q, sizeof(q));
			return reply_text(reply, len,
					  "error: `%s` is not a coordinate (metres, at most 1e6 from 0)\n", q);
		}
	uint64_t over_ms = 0;
	if (n == 6) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(words[5], &end, 10);
		if (errno || end == words[5] || *end || words[5][0] == '-' || v > 86400000ull) {
			quote(words[5], q, sizeof(q));
			return reply_text(reply, len, "error: `%s` is not a duration in ms (0..86400000)\n", q);
		}
		over_ms = v;
	}
	if (medium_world_move(w, (unsigned)node, pos, over_ms, now_ns) < 0)
		return reply_text(reply, len, "error: node %s is on no radio segment\n",
				  w->topo->nodes[node].name);
	return reply_text(reply, len, "ok\n");
}

static void collect_error(void *ctx, const char *msg)
{
	char *first = ctx;
	if (!first[0])
		snprintf(first, 160, "%s", msg);
}

static int handle_pair(struct medium_world *w, char **words, int n, char **reply, size_t *len)
{
	char q[48];
	if (n < 4)
		return reply_text(reply, len,
				  "error: usage: pair SEG FROM TO [loss=P] [rate=R] [delay=D] [cut] [clear]\n");
	int s = topo_find_segment(w->topo, words[1]);
	const struct medium_segment *seg = NULL;
	for (unsigned k = 0; s >= 0 && k < w->nsegments; k++)
		if (w->segments[k].topo_index == (unsigned)s)
			seg = &w->segments[k];
	if (!seg) {
		quote(words[1], q, sizeof(q));
		return reply_text(reply, len, "error: no radio segment `%s`\n", q);
	}
	int member[2];
	for (int k = 0; k < 2; k++) {
		int node = topo_find_node(w->topo, words[2 + k]);
		member[k] = node < 0 ? -1 : topo_segment_member(w->topo, (unsigned)s, (unsigned)node);
		if (member[k] < 0) {
			quote(words[2 + k], q, sizeof(q));
			return reply_text(reply, len, "error: `%s` is not a member of %s\n", q,
					  w->topo->segments[s].name);
		}
	}
	if (member[0] == member[1])
		return reply_text(reply, len, "error: a pair needs two different members\n");
	bool cut = false, clear = false;
	char *attrs[8];
	size_t nattrs = 0;
	for (int k = 4; k < n; k++) {
		if (strcmp(words[k], "cut") == 0)
			cut = true;
		else if (strcmp(words[k], "clear") == 0)
			clear = true;
		else if (nattrs < sizeof(attrs) / sizeof(attrs[0]))
			attrs[nattrs++] = words[k];
		else
			return reply_text(reply, len, "error: too many attributes\n");
	}
	struct topo_quality quality = {0};
	char first[160] = "";
	if (nattrs > 0 &&
	    topo_parse_quality_words(attrs, nattrs, 0, &quality, collect_error, first) < 0)
		return reply_text(reply, len, "error: %s\n", first);
	if (quality.set & ~(unsigned)(TOPO_Q_LOSS | TOPO_Q_RATE | TOPO_Q_DELAY))
		return reply_text(reply, len, "error: a pair takes loss=, rate=, delay=, cut and clear only\n");
	if (cut && quality.set)
		return reply_text(reply, len, "error: a cut pair carries no frames: give cut or quality, not both\n");
	if (!cut && !clear && !quality.set)
		return reply_text(reply, len, "error: the pair change sets nothing\n");
	if (clear)
		medium_model_set_override(seg->model, (unsigned)member[0], (unsigned)member[1], NULL, false);
	if (cut || quality.set)
		medium_model_set_override(seg->model, (unsigned)member[0], (unsigned)member[1],
					  quality.set ? &quality : NULL, cut);
	return reply_text(reply, len, "ok\n");
}

int medium_ctl_handle(struct medium_world *w, const char *line, uint64_t now_ns,
		      char **reply, size_t *len)
{
	char buf[MEDIUM_CTL_REQUEST_MAX + 1];
	*reply = NULL;
	*len = 0;
	if (strlen(line) > MEDIUM_CTL_REQUEST_MAX)
		return reply_text(reply, len, "error: request longer than %d bytes\n", MEDIUM_CTL_REQUEST_MAX);
	snprintf(buf, sizeof(buf), "%s", line);
	char *words[16];
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, " \t\r", &save); tok;
	     tok = strtok_r(NULL, " \t\r", &save)) {
		if (n == (int)(sizeof(words) / sizeof(words[0])))
			return reply_text(reply, len, "error: too many words\n");
		words[n++] = tok;
	}
	if (n == 0)
		return reply_text(reply, len, "error: empty request (matrix, move or pair)\n");
	if (strcmp(words[0], "matrix") == 0 && n == 1)
		return handle_matrix(w, reply, len);
	if (strcmp(words[0], "move") == 0)
		return handle_move(w, words, n, now_ns, reply, len);
	if (strcmp(words[0], "pair") == 0)
		return handle_pair(w, words, n, reply, len);
	char q[48];
	quote(words[0], q, sizeof(q));
	return reply_text(reply, len, "error: unknown request `%s` (matrix, move or pair)\n", q);
}

/* ---- connections ------------------------------------------------------- */

struct conn {
	int fd;                       /* -1: free */
	char in[MEDIUM_CTL_REQUEST_MAX + 2];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	uint64_t deadline_ns;
};

struct medium_ctl {
	int listen_fd, epfd;
	uint64_t tag;
	struct conn conns[MEDIUM_CTL_CONNS];
};

struct medium_ctl *medium_ctl_new(int listen_fd, int epfd, uint64_t tag)
{
	struct medium_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->listen_fd = listen_fd;
	c->epfd = epfd;
	c->tag = tag;
	for (int k = 0; k < MEDIUM_CTL_CONNS; k++)
		c->conns[k].fd = -1;
	int fl = fcntl(listen_fd, F_GETFL);
	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		goto fail;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		goto fail;
	return c;
fail:
	free(c);
	return NULL;
}

static void conn_close(struct medium_ctl *c, struct conn *k)
{
	if (k->fd >= 0) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, k->fd, NULL);
		close(k->fd);
	}
	free(k->out);
	k->out = NULL;
	k->fd = -1;
	k->inlen = k->outlen = k->outoff = 0;
}

void medium_ctl_free(struct medium_ctl *c)
{
	if (!c)
		return;
	for (int k = 0; k < MEDIUM_CTL_CONNS; k++)
		conn_close(c, &c->conns[k]);
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->listen_fd, NULL);
	free(c);
}

/* Write what the socket takes; close when all is out or the peer is gone. */
static void conn_flush(struct medium_ctl *c, struct conn *k)
{
	while (k->outoff < k->outlen) {
		ssize_t n = send(k->fd, k->out + k->outoff, k->outlen - k->outoff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			k->outoff += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct epoll_event ev = { .events = EPOLLOUT,
						  .data.u64 = c->tag + 1 + (uint64_t)(k - c->conns) };
			epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ev);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	conn_close(c, k);
}

static void conn_request(struct medium_ctl *c, struct conn *k, struct medium_world *w,
			 uint64_t now_ns)
{
	k->in[k->inlen] = '\0';
	char *nl = memchr(k->in, '\n', k->inlen);
	size_t linelen = nl ? (size_t)(nl - k->in) : k->inlen;
	k->in[linelen] = '\0';
	int r;
	if (strlen(k->in) != linelen)
		r = reply_text(&k->out, &k->outlen, "error: the request has a NUL byte\n");
	else /* longer than the limit: refused there */
		r = medium_ctl_handle(w, k->in, now_ns, &k->out, &k->outlen);
	if (r < 0 || !k->out) {
		conn_close(c, k);
		return;
	}
	/* no more reading: one request per connection */
	conn_flush(c, k);
}

static void conn_read(struct medium_ctl *c, struct conn *k, struct medium_world *w,
		      uint64_t now_ns)
{
	for (;;) {
		size_t room = MEDIUM_CTL_REQUEST_MAX + 1 - k->inlen;
		ssize_t n = recv(k->fd, k->in + k->inlen, room, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			conn_close(c, k);
			return;
		}
		if (n == 0) { /* EOF: a last line without its newline counts */
			if (k->inlen == 0) {
				conn_close(c, k);
				return;
			}
			conn_request(c, k, w, now_ns);
			return;
		}
		size_t old = k->inlen;
		k->inlen += (size_t)n;
		if (memchr(k->in + old, '\n', (size_t)n) || k->inlen > MEDIUM_CTL_REQUEST_MAX) {
			conn_request(c, k, w, now_ns);
			return;
		}
	}
}

static void accept_some(struct medium_ctl *c, uint64_t now_ns)
{
	for (int burst = 0; burst < 8; burst++) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct conn *k = NULL;
		for (int i = 0; i < MEDIUM_CTL_CONNS && !k; i++)
			if (c->conns[i].fd < 0)
				k = &c->conns[i];
		if (!k) {
			static const char busy[] = "error: busy, try again\n";
			ssize_t ignored = send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			(void)ignored;
			close(fd);
			continue;
		}
		k->fd = fd;
		k->inlen = 0;
		k->deadline_ns = now_ns + MEDIUM_CTL_TIMEOUT_NS;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
					  .data.u64 = c->tag + 1 + (uint64_t)(k - c->conns) };
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			conn_close(c, k);
	}
}

void medium_ctl_event(struct medium_ctl *c, uint64_t data, uint32_t events,
		      struct medium_world *w, uint64_t now_ns)
{
	if (data == c->tag) {
		accept_some(c, now_ns);
		return;
	}
	uint64_t slot = data - c->tag - 1;
	if (slot >= MEDIUM_CTL_CONNS)
		return;
	struct conn *k = &c->conns[slot];
	if (k->fd < 0)
		return;
	if (k->out) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			conn_flush(c, k);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(c, k, w, now_ns);
}

bool medium_ctl_expire(struct medium_ctl *c, uint64_t now_ns)
{
	bool open = false;
	for (int k = 0; k < MEDIUM_CTL_CONNS; k++) {
		if (c->conns[k].fd < 0)
			continue;
		if (now_ns >= c->conns[k].deadline_ns)
			conn_close(c, &c->conns[k]);
		else
			open = true;
	}
	return open;
}
