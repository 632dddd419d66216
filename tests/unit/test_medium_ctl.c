/* medium/ctl: the control protocol's request handler over a world built from a
 * topology (no sockets): matrix JSON, move (now and timed), pair, and refusals. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medium/engine.h"
#include "tap.h"

static char *req(struct medium_world *w, const char *line, uint64_t now)
{
	char *reply = NULL;
	size_t len = 0;
	if (medium_ctl_handle(w, line, now, &reply, &len) < 0)
		return strdup("(ENOMEM)");
	if (!reply || len != strlen(reply) || len == 0 || reply[len - 1] != '\n')
		printf("#   reply not one newline-terminated string\n");
	return reply;
}

static void expect(struct medium_world *w, const char *line, const char *prefix)
{
	char *r = req(w, line, 0);
	ok(strncmp(r, prefix, strlen(prefix)) == 0, "\"%.50s\" -> %s", line, prefix);
	if (strncmp(r, prefix, strlen(prefix)) != 0)
		printf("#   got: %s", r);
	free(r);
}

static json_object *find_pair(json_object *root, const char *from, const char *to)
{
	json_object *segs, *pairs;
	json_object_object_get_ex(root, "segments", &segs);
	json_object_object_get_ex(json_object_array_get_idx(segs, 0), "pairs", &pairs);
	for (size_t k = 0; k < json_object_array_length(pairs); k++) {
		json_object *p = json_object_array_get_idx(pairs, k), *f, *t;
		json_object_object_get_ex(p, "from", &f);
		json_object_object_get_ex(p, "to", &t);
		if (!strcmp(json_object_get_string(f), from) && !strcmp(json_object_get_string(t), to))
			return p;
	}
	return NULL;
}

static double field(json_object *p, const char *name)
{
	json_object *v;
	return p && json_object_object_get_ex(p, name, &v) ? json_object_get_double(v) : -999;
}

int main(void)
{
	static const char text[] =
		"node a pos=0,0\n"
		"node b pos=80,0\n"
		"node c pos=400,0\n"
		"node d\n"
		"segment air0 a b c medium=radio\n"
		"segment wired a d\n"
		"pair air0 a>b loss=40%\n";
	struct topo t = {0};
	struct error err = {0};
	if (topo_parse_string("ctl.conf", text, &t, &err) < 0) {
		printf("# %s\n", err.msg);
		ok(0, "topology parses");
		return tap_done();
	}
	struct medium_world w;
	is_int(medium_world_init(&w, &t, &err), 0, "world of one radio segment");
	is_int(w.nsegments, 1, "  the bridge segment is not in it");

	char *m = req(&w, "matrix", 0);
	json_object *root = json_tokener_parse(m);
	ok(root != NULL, "matrix is JSON");
	json_object *ab = find_pair(root, "a", "b");
	ok(ab && field(ab, "loss") == 0.4 && field(ab, "distance") == 80.0, "a->b: loss 0.4, 80 m");
	ok(field(find_pair(root, "a", "c"), "rate") == 0, "a->c out of range: rate 0");
	ok(find_pair(root, "a", "a") == NULL, "no a->a");
	json_object_put(root);
	free(m);

	expect(&w, "move c 10 0 0", "ok");
	m = req(&w, "matrix", 0);
	root = json_tokener_parse(m);
	ok(field(find_pair(root, "a", "c"), "distance") == 10.0, "after move c: a-c 10 m");
	json_object_put(root);
	free(m);

	expect(&w, "move c 110 0 0 1000", "ok");
	is_int(w.moving, 1, "a timed move is running");
	medium_world_tick(&w, 500000000ull);
	double pos[3];
	medium_model_get_pos(w.segments[0].model, 2, pos);
	ok(pos[0] == 60.0, "half way after 500 ms: x = 60 (got %g)", pos[0]);
	medium_world_tick(&w, 2000000000ull);
	medium_model_get_pos(w.segments[0].model, 2, pos);
	ok(pos[0] == 110.0 && w.moving == 0, "there after 1 s, move done");

	expect(&w, "pair air0 b a loss=10% delay=2ms", "ok");
	const struct medium_pair *ba = medium_model_pair(w.segments[0].model, 1, 0);
	ok(ba->loss_ppm == 100000 && ba->delay_us == 2000, "b->a loss 10%%, delay 2 ms");
	expect(&w, "pair air0 b a clear", "ok");
	ba = medium_model_pair(w.segments[0].model, 1, 0);
	ok(ba->overridden == 0 && ba->loss_ppm == 0, "clear: b->a back to the model");
	expect(&w, "pair air0 a b clear rate=1mbit", "ok");
	const struct medium_pair *abp = medium_model_pair(w.segments[0].model, 0, 1);
	ok(abp->overridden == MEDIUM_OV_RATE && abp->rate_bps == 1000000, "clear then rate=: only the rate");
	expect(&w, "pair air0 a c cut", "ok");
	ok(!medium_model_pair(w.segments[0].model, 0, 2)->in_range, "cut");

	expect(&w, "move d 1 2 3", "error: node d is on no radio segment");
	expect(&w, "move zz 1 2 3", "error: no node `zz`");
	expect(&w, "move a 1 2 x", "error: `x` is not a coordinate");
	expect(&w, "move a inf 2 3", "error:");
	expect(&w, "move a 1 2 3 -1", "error:");
	expect(&w, "pair wired a d cut", "error: no radio segment `wired`");
	expect(&w, "pair air0 a d cut", "error: `d` is not a member of air0");
	expect(&w, "pair air0 a b reorder=1%", "error:");
	expect(&w, "pair air0 a b loss=x", "error: loss=x");
	expect(&w, "pair air0 a b", "error: the pair change sets nothing");
	expect(&w, "frobnicate", "error: unknown request `frobnicate`");
	expect(&w, "\x1b[2J", "error: unknown request `?[2J`");
	expect(&w, "", "error: empty request");
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect(&w, big, "error: request longer than 512 bytes");
	expect(&w, "a b c d e f g h i j k l m n o p q r", "error: too many words");

	medium_world_free(&w);
	topo_free(&t);
	return tap_done();
}
