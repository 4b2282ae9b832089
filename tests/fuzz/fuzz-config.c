/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-config.c - the config file parser: the input is a config file's
 * text (config_load_text, the file layer of config_load).
 *
 * Promises checked: a failure leaves the config untouched and says why
 * in one line; a success dumps (config_dump) to text that loads back to
 * a config that dumps the same, so every value prints in a form the
 * parser takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "harness.h"
#include "mem.h"

static char *dump(const struct config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        fz_fail("open_memstream failed");
    config_dump(c, f);
    fclose(f);
    return text;
}

/* A dumped value that holds a '"' and had to be quoted or starts with one. */
static int unreadable(const char *v, size_t n)
{
    return n && v[0] == '"' && n >= 2 && memchr(v + 1, '"', n - 2);
}

/*
 * The dump without the options a config file may not set, or NULL when a
 * value holds a '"': the file format has no escapes, so such a value
 * reads back only when it needs no quotes and does not start with one.
 */
static char *loadable(const char *text)
{
    struct buf b = BUF_INIT;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        const char *v = strstr(p, " = ");
        if (v && v < p + n && unreadable(v + 3, (size_t)(p + n - v - 3))) {
            buf_release(&b);
            return NULL;
        }
        if (strncmp(p, "config ", 7) != 0)
            buf_add(&b, p, n);
        buf_addc(&b, '\n');
        p += n + (p[n] == '\n');
    }
    return buf_detach(&b, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c;
    char err[512] = "";
    config_init(&c);
    char *before = dump(&c);
    int rc = config_load_text(&c, (const char *)data, size, "fuzz.conf", err, sizeof(err));
    char *after = dump(&c);
    if (rc < 0) {
        if (!err[0] || strchr(err, '\n'))
            fz_fail("config error message '%s'", err);
        if (strcmp(before, after) != 0)
            fz_fail("a failed load changed the config");
    } else {
        char *text = loadable(after), *again;
        struct config c2;
        if (!text)
            goto out;
        config_init(&c2);
        rc = config_load_text(&c2, text, strlen(text), "dump.conf", err, sizeof(err));
        if (rc < 0)
            fz_fail("the dump does not load back: %s\n%s", err, text);
        again = dump(&c2);
        if (strcmp(after, again) != 0)
            fz_fail("the dump changed on reload:\n%s---\n%s", after, again);
        free(again);
        free(text);
        config_release(&c2);
    }
out:
    free(before);
    free(after);
    config_release(&c);
    return 0;
}
