/* netsim/sim/json_out.c: the JSON netsim prints and serves is json-c's, and a
 * hostile string (a node's name or text: quotes, backslashes, control bytes,
 * bytes that are not UTF-8) comes back byte for byte through json-c's parser,
 * in strict mode, as a value and as a key. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/json_out.h"
#include "tap.h"

/* What json_out_write() printed for obj (malloc'd). */
static char *written(struct json_object *obj, int *rc)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	*rc = json_out_write(f, obj);
	fclose(f);
	return buf;
}

static struct json_object *parse_strict(const char *text)
{
	json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static void round_trip(const char *s, const char *what)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(o, "value", json_object_new_string(s));
	json_object_object_add(o, s, json_object_new_int(7));
	json_object_array_add(arr, json_object_new_string(s));
	json_object_object_add(o, "list", arr);
	int rc;
	char *text = written(o, &rc);
	is_int(rc, 0, "%s: written", what);
	size_t len = strlen(text);
	ok(len > 0 && strchr(text, '\n') == text + len - 1, "%s: one line", what);
	bool raw_control = false;
	for (size_t i = 0; i + 1 < len; i++)
		raw_control |= (unsigned char)text[i] < 0x20;
	ok(!raw_control, "%s: no raw control byte in the text", what);
	struct json_object *back = parse_strict(text);
	ok(back != NULL, "%s: parses (strict)", what);
	struct json_object *v = NULL, *k = NULL;
	json_object_object_get_ex(back, "value", &v);
	const char *got = json_object_get_string(v);
	ok(got && (size_t)json_object_get_string_len(v) == strlen(s) && memcmp(got, s, strlen(s)) == 0,
	   "%s: the value comes back byte for byte", what);
	ok(json_object_object_get_ex(back, s, &k) && json_object_get_int(k) == 7,
	   "%s: so does the key", what);
	json_object_object_get_ex(back, "list", &v);
	got = json_object_get_string(json_object_array_get_idx(v, 0));
	ok(got && strcmp(got, s) == 0, "%s: and the array element", what);
	json_object_put(back);
	free(text);
}

int main(void)
{
	round_trip("n1", "a plain name");
	round_trip("say \"hi\"", "double quotes");
	round_trip("back\\slash\\", "backslashes");
	round_trip("a\\\"b\\\\\"", "backslash before a quote");
	char controls[40];
	size_t n = 0;
	for (int c = 1; c < 0x20; c++)
		controls[n++] = (char)c;
	controls[n++] = 0x7f;
	controls[n] = '\0';
	round_trip(controls, "every control byte and DEL");
	round_trip("\033[2J\033]0;owned\007\r\n\t", "terminal escape sequences");
	round_trip("\xff\xfe", "bytes that are never UTF-8");
	round_trip("\xc0\x80 \xe2\x82 \x80 \xed\xa0\x80 \xf4\x90\x80\x80", "overlong, truncated, lone "
		   "continuation, surrogate, beyond U+10FFFF");
	round_trip("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "valid UTF-8");
	round_trip("</script><script>alert(1)</script>", "HTML in a name");
	round_trip("/run/netsim/x/../../etc", "slashes");

	/* numbers with the digits chosen, parsed back as numbers */
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "seconds", json_out_double("%.3f", 1.25));
	json_object_object_add(o, "timeout", json_out_double("%g", 60));
	json_object_object_add(o, "none", NULL);
	int rc;
	char *text = written(o, &rc);
	is_str(text, "{\"seconds\":1.250,\"timeout\":60,\"none\":null}\n",
	       "compact text, chosen digits, NULL is null");
	struct json_object *back = parse_strict(text);
	struct json_object *v = NULL;
	ok(json_object_object_get_ex(back, "seconds", &v) && json_object_get_double(v) == 1.25,
	   "1.250 reads back as 1.25");
	json_object_put(back);
	free(text);

	text = written(NULL, &rc);
	ok(rc < 0 && text && !text[0], "a NULL object (out of memory) is an error, nothing written");
	free(text);

	tap_plan_done();
	return tap_failed != 0;
}
