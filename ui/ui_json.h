/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_json.h - tolerant readers for the API's JSON, shared by the model's
 * parsers. A field is looked up by a list of candidate names, each of
 * which may be a dotted path ("latency.p50"), so that the console reads a
 * snapshot whichever of the spelled-out shapes the server chose.
 * Single-threaded helpers without state.
 */
#ifndef HOOKD_UI_JSON_H
#define HOOKD_UI_JSON_H

#include <stdint.h>

#include <jansson.h>

/* The value at the first name that exists, or NULL. names ends with NULL. */
json_t *ui_json_find(json_t *o, const char *const *names);
/* A number (integer, real, or numeric string) or dflt. */
double ui_json_num(json_t *o, double dflt, const char *const *names);
/* A string value or NULL (borrowed). */
const char *ui_json_str(json_t *o, const char *name);
/* A boolean (true, or a non-zero number) or 0. */
int ui_json_bool(json_t *o, const char *name);
/* An RFC 3339 time as wall ms, 0 if absent or unparsable. */
int64_t ui_json_time(json_t *o, const char *name);
/* A heap copy of a string field, escaped for the terminal; "" if absent. */
char *ui_json_esc(json_t *o, const char *name, int utf8);
/* A heap copy of a string field as is; "" if absent. */
char *ui_json_dup(json_t *o, const char *name);
/* The "data" array of a list envelope, or the body itself if an array. */
json_t *ui_json_list(json_t *root);

#define UI_NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })

#endif
