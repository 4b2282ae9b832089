/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_json.c - tolerant JSON field readers (see ui_json.h).
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "ui_fmt.h"
#include "ui_json.h"

static json_t *path_get(json_t *o, const char *path)
{
    char key[64];
    while (o && json_is_object(o)) {
        const char *dot = strchr(path, '.');
        if (!dot)
            return json_object_get(o, path);
        size_t n = (size_t)(dot - path);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path = dot + 1;
    }
    return NULL;
}

json_t *ui_json_find(json_t *o, const char *const *names)
{
    for (; *names; names++) {
        json_t *v = path_get(o, *names);
        if (v && !json_is_null(v))
            return v;
    }
    return NULL;
}

double ui_json_num(json_t *o, double dflt, const char *const *names)
{
    json_t *v = ui_json_find(o, names);
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) {
        char *end;
        double d = strtod(json_string_value(v), &end);
        return end != json_string_value(v) ? d : dflt;
    }
    return dflt;
}

const char *ui_json_str(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

int ui_json_bool(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_true(v) || (json_is_number(v) && json_number_value(v) != 0);
}

int64_t ui_json_time(json_t *o, const char *name)
{
    const char *s = ui_json_str(o, name);
    int64_t ms = 0;
    if (!s || clock_parse(s, &ms))
        return 0;
    return ms;
}

char *ui_json_esc(json_t *o, const char *name, int utf8)
{
    json_t *v = json_object_get(o, name);
    const char *s = json_string_value(v);
    struct buf b = BUF_INIT;
    ui_escape(&b, s ? s : "", s ? json_string_length(v) : 0, utf8, 1);
    return buf_detach(&b, NULL);
}

char *ui_json_dup(json_t *o, const char *name)
{
    const char *s = ui_json_str(o, name);
    return xstrdup(s ? s : "");
}

json_t *ui_json_list(json_t *root)
{
    if (json_is_array(root))
        return root;
    json_t *d = ui_json_find(root, UI_NAMES("data", "items", "endpoints", "deliveries"));
    return json_is_array(d) ? d : NULL;
}
