/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0011-log - the logger: logfmt and JSON lines read back from a file,
 * escaping (a line is always one line), level filtering, and reopening
 * after rotation, including while other threads log.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "tap/tap.h"

static char dir[] = "/tmp/hookd-t0011-XXXXXX";

/* Whole file as a string (the caller frees), "" if missing. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    int ch;

    while (f && (ch = fgetc(f)) != EOF)
        fputc(ch, m);
    fclose(m);
    if (f)
        fclose(f);
    return s;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_ts(const char *s)
{
    /* 2024-05-01T12:34:56.123Z */
    const char *pat = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (; *pat; pat++, s++)
        if (*pat == 'd' ? (*s < '0' || *s > '9') : *s != *pat)
            return 0;
    return 1;
}

static void test_logfmt(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/logfmt.log", dir);

    is_int(log_open("info", "logfmt", path), 0, "open logfmt file");
    ok(!log_enabled(LOG_DEBUG) && log_enabled(LOG_INFO) &&
       log_enabled(LOG_ERROR), "info enables info and above only");
    log_info("listening", "addr", "127.0.0.1:8071", NULL);
    log_debug("hidden", "k", "v", NULL);
    log_warn("odd value", "v", "a b\"c", "nl", "x\ny", "eq", "k=v",
             "empty", "", "bs", "c:\\x", "ctl", "a\x01z", NULL);
    log_error("truncated", "k", NULL, "never", "seen", NULL);

    char *s = slurp(path);
    char *l1 = s, *l2 = strchr(s, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    is_int(count_lines(s), 3, "three lines: debug filtered, newline escaped");
    ok(strncmp(l1, "ts=", 3) == 0 && is_ts(l1 + 3), "line starts with ts=");
    ok(starts(l1 + 27, " level=info msg=listening addr=127.0.0.1:8071\n"),
       "plain fields unquoted");
    if (!ok(starts(l2 + 27, " level=warn msg=\"odd value\" v=\"a b\\\"c\" "
                   "nl=\"x\\ny\" eq=\"k=v\" empty=\"\" bs=c:\\x "
                   "ctl=\"a\\u0001z\"\n"), "quoting and escaping"))
        diag("got: %.*s", (int)(strchr(l2, '\n') - l2), l2);
    ok(strstr(l3, "level=error msg=truncated k=\"\"\n") != NULL,
       "a NULL value ends the list");
    ok(!strstr(s, "hidden"), "debug line not written");
    free(s);
}

/* Parse every line as JSON, checking each is an object with ts and level. */
static int parse_json_lines(const char *s, json_t **out, int max)
{
    int n = 0;
    while (*s && n < max) {
        const char *nl = strchr(s, '\n');
        json_error_t e;
        json_t *j = json_loadb(s, (size_t)(nl - s), 0, &e);
        if (!j) {
            diag("bad JSON line: %.*s (%s)", (int)(nl - s), s, e.text);
            return -1;
        }
        out[n++] = j;
        s = nl + 1;
    }
    return n;
}

static const char *jstr(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "(missing)";
}

static void test_json(void)
{
    char path[256];
    json_t *j[4] = { 0 };
    snprintf(path, sizeof(path), "%s/json.log", dir);

    is_int(log_open("debug", "json", path), 0, "open json file");
    log_debug("dbg", "k", "v", NULL);
    log_error("boom", "v", "a \"q\" \\ \n\t\x01 \xc3\xa9", "bad", "\xff\xc3",
              "k\"ey", "x", NULL);

    char *s = slurp(path);
    is_int(count_lines(s), 2, "two JSON lines");
    ok(strstr(s, "\"level\":\"debug\",\"msg\":\"dbg\",\"k\":\"v\"}\n") != NULL,
       "json field order and form");
    ok(strstr(s, "\"v\":\"a \\\"q\\\" \\\\ \\n\\t\\u0001 \xc3\xa9\"") != NULL,
       "json escaping, UTF-8 kept");
    is_int(parse_json_lines(s, j, 4), 2, "every line parses as JSON");
    if (j[0] && j[1]) {
        ok(is_ts(jstr(j[0], "ts")), "ts is RFC 3339 ms");
        is_str(jstr(j[0], "level"), "debug", "level field");
        is_str(jstr(j[1], "msg"), "boom", "msg field");
        is_str(jstr(j[1], "v"), "a \"q\" \\ \n\t\x01 \xc3\xa9", "value round-trips");
        is_str(jstr(j[1], "bad"), "\xef\xbf\xbd\xef\xbf\xbd",
               "invalid UTF-8 becomes U+FFFD");
        is_str(jstr(j[1], "k\"ey"), "x", "keys escaped too");
    } else {
        skip(6, "JSON did not parse");
    }
    for (int i = 0; i < 4; i++)
        json_decref(j[i]);
    free(s);
}

static void test_levels_and_errors(void)
{
    char path[256], bad[300];
    snprintf(path, sizeof(path), "%s/levels.log", dir);
    snprintf(bad, sizeof(bad), "%s/no/such/dir/x.log", dir);

    is_int(log_open("loud", "logfmt", path), HOOKD_EINVAL, "bad level");
    is_int(log_open("info", "xml", path), HOOKD_EINVAL, "bad format");
    is_int(log_open("info", "logfmt", bad), -ENOENT, "unopenable file");
    is_int(log_open("warn", "logfmt", path), 0, "open at warn");
    log_debug("d", NULL);
    log_info("i", NULL);
    log_warn("w", NULL);
    log_error("e", NULL);
    char *s = slurp(path);
    ok(count_lines(s) == 2 && strstr(s, "msg=w\n") && strstr(s, "msg=e\n"),
       "warn passes warn and error only");
    free(s);
}

static void test_reopen(void)
{
    char path[256], old[300];
    snprintf(path, sizeof(path), "%s/rot.log", dir);
    snprintf(old, sizeof(old), "%s.1", path);

    is_int(log_open("info", "logfmt", path), 0, "open for rotation");
    log_info("before", NULL);
    ok(rename(path, old) == 0, "rotate the file away");
    log_info("between", NULL);
    is_int(log_reopen(), 0, "log_reopen");
    log_info("after", NULL);

    char *a = slurp(old), *b = slurp(path);
    ok(strstr(a, "msg=before") && strstr(a, "msg=between") &&
       !strstr(a, "msg=after"), "old file has lines up to the reopen");
    ok(strstr(b, "msg=after") && count_lines(b) == 1,
       "new file has lines after the reopen");
    free(a);
    free(b);
}

#define THREADS 4
#define LINES 2000

static void *spam(void *arg)
{
    char n[16];
    for (int i = 0; i < LINES; i++) {
        snprintf(n, sizeof(n), "%d", i);
        log_info("tick", "thread", (const char *)arg, "n", n,
                 "pad", "some text that makes the line longer than a few bytes",
                 NULL);
    }
    return NULL;
}

/* Rotate repeatedly while threads log: no line lost, torn or doubled. */
static void test_reopen_concurrent(void)
{
    static const char *names[THREADS] = { "a", "b", "c", "d" };
    pthread_t t[THREADS];
    char path[256], rot[300];
    int total = 0, torn = 0, rotations;

    snprintf(path, sizeof(path), "%s/busy.log", dir);
    is_int(log_open("info", "json", path), 0, "open busy log");
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, spam, (void *)names[i]);
    for (rotations = 0; rotations < 20; rotations++) {
        snprintf(rot, sizeof(rot), "%s.%d", path, rotations);
        if (rename(path, rot) != 0 || log_reopen() != 0)
            break;
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    is_int(rotations, 20, "20 rotations under load");

    for (int r = 0; r <= rotations; r++) {
        if (r < rotations)
            snprintf(rot, sizeof(rot), "%s.%d", path, r);
        char *s = slurp(r < rotations ? rot : path);
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
            json_t *j = json_loads(line, 0, NULL);
            torn += !j || strcmp(jstr(j, "msg"), "tick") != 0;
            total++;
            json_decref(j);
        }
        free(s);
    }
    is_int(total, THREADS * LINES, "every line landed in some file");
    is_int(torn, 0, "no torn or interleaved lines");
}

int main(void)
{
    char cmd[300];

    if (!mkdtemp(dir)) {
        printf("Bail out! cannot create a temporary directory\n");
        return 1;
    }
    test_logfmt();
    test_json();
    test_levels_and_errors();
    test_reopen();
    test_reopen_concurrent();
    log_close();

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return done_testing();
}
