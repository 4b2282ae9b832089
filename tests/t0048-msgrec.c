/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0048-msgrec: message records written by msgrec_head/msgrec_tail and
 * read back by msgrec_slice, against jansson. Every record ingest can
 * write without a raw payload must slice to exactly the payload, type and
 * timestamp jansson reads from it, including payloads that imitate the
 * record's own tail; records in any other shape must be refused, so the
 * dispatcher parses them instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "msgrec.h"
#include "tap/tap.h"

static const char *const tricky[] = {
    "{}",
    "{\"a\":1}",
    "{\"retentionDays\":3,\"timestamp\":17}",
    "{\"x\":\",\\\"retentionDays\\\":1,\\\"timestamp\\\":2}\"}",
    "{\"n\":{\"payload\":{},\"retentionDays\":9,\"timestamp\":9}}",
    "{\"s\":\"}\",\"t\":[1,2,{\"u\":null}]}",
    "{\"blob\":\"\xc3\xa9\\n\\\"quoted\\\"\"}",   /* as jansson prints it: UTF-8 as is */
};

/* A random compact object, as ingest stores payloads. */
static char *random_payload(unsigned *seed)
{
    json_t *o = json_object();
    int n = rand_r(seed) % 6;
    for (int i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", rand_r(seed) % 100);
        switch (rand_r(seed) % 4) {
        case 0: json_object_set_new(o, key, json_integer(rand_r(seed) % 100000)); break;
        case 1: json_object_set_new(o, key, json_string(",\"timestamp\":1}")); break;
        case 2: json_object_set_new(o, key, json_pack("{s:[i,s]}", "retentionDays", 1, "}")); break;
        default: json_object_set_new(o, key, json_null()); break;
        }
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static char *record(const char *payload, const char *type, const char *event_id,
                    const char *const *ch, size_t nch, int64_t days, int64_t ts, const char *raw,
                    size_t *len)
{
    struct buf b = BUF_INIT;
    msgrec_head(&b, "msg_2YBXZIko2xmy0s5Rm9N5U7PhHgu", type, event_id, ch, nch);
    buf_adds(&b, payload);
    msgrec_tail(&b, days, ts, raw);
    return buf_detach(&b, len);
}

/* The slice agrees with jansson's reading of rec. */
static int agrees(const char *rec, size_t n)
{
    struct msgrec_view v;
    json_t *j = json_loadb(rec, n, 0, NULL);
    if (!j || msgrec_slice(rec, n, &v) != 0) {
        diag("not sliced: %s", rec);
        json_decref(j);
        return 0;
    }
    char *want = json_dumps(json_object_get(j, "payload"), JSON_COMPACT);
    const char *type = json_string_value(json_object_get(j, "eventType"));
    int ok = want && strlen(want) == v.payload_len && memcmp(rec + v.payload, want, v.payload_len) == 0
             && type && strlen(type) == v.type_len && memcmp(rec + v.type, type, v.type_len) == 0
             && json_integer_value(json_object_get(j, "timestamp")) == v.ts_ms;
    if (!ok)
        diag("sliced wrong: %s", rec);
    free(want);
    json_decref(j);
    return ok;
}

int main(void)
{
    const char *const ch[] = { "project.1", "eu-west", "a_b" };
    size_t n;
    int all = 1;
    plan(8);

    for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++)
        for (size_t nch = 0; nch <= 3; nch++) {
            char *rec = record(tricky[i], "user.created", nch % 2 ? "evt-1" : NULL, ch, nch, 30,
                               1764380000123LL + (int64_t)i, NULL, &n);
            all &= agrees(rec, n);
            free(rec);
        }
    ok(all, "payloads that imitate the tail, any channels, with and without eventId");

    unsigned seed = 11;
    all = 1;
    for (int i = 0; i < 2000 && all; i++) {
        char *p = random_payload(&seed);
        char *rec = record(p, "t", i % 3 ? "e.v_t-9" : "", ch, (size_t)(i % 4), 1 + i % 90,
                           (int64_t)rand_r(&seed) * 1000, NULL, &n);
        all &= agrees(rec, n);
        free(p);
        free(rec);
    }
    ok(all, "2000 random records slice as jansson reads them");

    /* raw strings whose quotes and backslashes could fool a backwards scan */
    static const char *const raws[] = { "\"raw text}\"", "\"\"", "\"a\\\"b\"", "\"\\\\\"",
                                        "\"x\\\\\\\"\\\"raw\\\":\\\"\"" };
    struct msgrec_view v;
    all = 1;
    const char *tricky_payload = "{\"a\":\",\\\"raw\\\":\\\"\"}";
    for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
        char *rec = record(tricky_payload, "t", NULL, ch, 0, 30, 5, raws[i], &n);
        all &= msgrec_slice(rec, n, &v) == 0 && v.raw_len == strlen(raws[i])
               && memcmp(rec + v.raw, raws[i], v.raw_len) == 0 && v.ts_ms == 5
               && v.payload_len == strlen(tricky_payload)
               && memcmp(rec + v.payload, tricky_payload, v.payload_len) == 0;
        free(rec);
    }
    ok(all, "a raw payload is found, and the payload before it");

    /* numbers jansson cannot hold stay out of its way, and come back as written */
    char *rec = record("{\"x\":1e400,\"y\":123456789012345678901234567890}", "t", NULL, ch, 1, 30,
                       5, "\"r\"", &n);
    json_t *pj = msgrec_parse(rec, n, &v);
    ok(pj && json_is_string(json_object_get(pj, "payload"))
       && strcmp(json_string_value(json_object_get(pj, "payload")),
                 "{\"x\":1e400,\"y\":123456789012345678901234567890}") == 0
       && strcmp(json_string_value(json_object_get(pj, "raw")), "r") == 0,
       "msgrec_parse keeps the payload's text and reads the rest");
    json_decref(pj);
    free(rec);

    const char *expired = "{\"expired\":true,\"id\":\"msg_x\",\"eventType\":\"t\"}";
    is_int(msgrec_slice(expired, strlen(expired), &v), -1, "an expired record is refused");

    /* jansson's own order puts the fields elsewhere: refused, not misread */
    rec = record("{\"a\":1}", "t", "e", ch, 2, 30, 5, NULL, &n);
    json_t *j = json_loadb(rec, n, 0, NULL);
    json_object_del(j, "id");
    json_object_set_new(j, "id", json_string("msg_2YBXZIko2xmy0s5Rm9N5U7PhHgu"));
    char *moved = json_dumps(j, JSON_COMPACT);
    is_int(msgrec_slice(moved, strlen(moved), &v), -1, "another key order is refused");
    free(moved);
    json_decref(j);

    const char *bad_name = "{\"id\":\"msg_1\",\"eventType\":\"a\\\"b\",\"eventId\":null,"
                           "\"channels\":null,\"payload\":{},\"retentionDays\":1,\"timestamp\":2}";
    is_int(msgrec_slice(bad_name, strlen(bad_name), &v), -1, "an escaped name is refused");

    int cut = 1;
    for (size_t k = 0; k + 1 < n; k++)   /* every proper prefix of a whole record */
        cut &= msgrec_slice(rec, k, &v) == -1;
    ok(cut, "no prefix of a record slices");
    free(rec);
    return done_testing();
}
