/* Writing JSON.  Every JSON document netsim prints (the verbs' --json) or serves
 * (the web view's API) is a json-c object tree written by json_out_write(), so
 * escaping is json-c's in one place: quotes, backslashes and control bytes in
 * names or in text a node wrote come out as JSON escapes; other bytes (UTF-8,
 * and bytes that are not UTF-8) pass as they are, as json-c's parser reads them
 * back.  The text is compact (no spaces) with '/' unescaped. */
#ifndef NETSIM_JSON_OUT_H
#define NETSIM_JSON_OUT_H

#include <stdio.h>

#include <json-c/json.h>

#define JSON_OUT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* obj's text and a newline to f; drops the reference to obj.  0, or -ENOMEM
 * when obj is NULL (building it ran out of memory), -EIO when f failed. */
int json_out_write(FILE *f, struct json_object *obj);

/* A number written with the digits `fmt` gives it ("%.3f": 1.250), where
 * json-c's own doubles would show every digit (1.2500000000000000). */
struct json_object *json_out_double(const char *fmt, double value);

#endif
