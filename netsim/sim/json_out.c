/* Writing JSON with json-c (json_out.h). */
#include "sim/json_out.h"

#include <errno.h>

int json_out_write(FILE *f, struct json_object *obj)
{
	if (!obj)
		return -ENOMEM;
	const char *text = json_object_to_json_string_ext(obj, JSON_OUT_FLAGS);
	int r = text && fputs(text, f) >= 0 && fputc('\n', f) != EOF ? 0 : -EIO;
	if (!text)
		r = -ENOMEM;
	json_object_put(obj);
	return r;
}

struct json_object *json_out_double(const char *fmt, double value)
{
	char text[64];
	snprintf(text, sizeof(text), fmt, value);
	return json_object_new_double_s(value, text);
}
