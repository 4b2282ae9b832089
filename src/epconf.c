/* SPDX-License-Identifier: Apache-2.0 */
/*
 * epconf.c - endpoint settings prepared once per load (see epconf.h).
 *
 * The fixed request headers are a static list every endpoint's custom
 * headers end in: curl only reads a header list, never changes it, so
 * one copy serves every transfer on every thread.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "epconf.h"
#include "mem.h"
#include "netpolicy.h"

static struct curl_slist fixed[] = {
    { (char *)"content-type: application/json", &fixed[1] },
    { (char *)"user-agent: hookd/" HOOKD_VERSION, &fixed[2] },
    { (char *)"Expect:", NULL },
};

static const char *const reserved[] = {
    "webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp",
    "svix-signature", "host", "content-length", "transfer-encoding", "content-type",
    "connection", "expect", NULL
};

int epconf_header_reserved(const char *name)
{
    for (const char *const *p = reserved; *p; p++)
        if (strcasecmp(*p, name) == 0)
            return 1;
    return 0;
}

static void add_key(struct epconf *c, json_t *secret, int64_t expires_ms)
{
    const char *text = json_string_value(secret);
    struct epconf_key *k = &c->keys[c->nkeys];
    if (!text || c->nkeys == EPCONF_MAX_KEYS || sign_key_init(&k->k, text) != 0)
        return;   /* the API never stores such a secret: nothing to sign with */
    k->expires_ms = expires_ms;
    k->text = xstrdup(text);
    c->nkeys++;
}

/* Reserved names an older build stored are left out, not sent twice. */
static void add_headers(struct epconf *c, json_t *obj)
{
    size_t n = 0, k = 0;
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
        n += !epconf_header_reserved(name);
    c->headers = xcalloc(n + 1, sizeof(char *));
    c->nodes = xcalloc(n ? n : 1, sizeof(struct curl_slist));
    json_object_foreach(obj, name, v) {
        if (epconf_header_reserved(name))
            continue;
        struct buf b = BUF_INIT;
        buf_adds(&b, name);
        buf_add(&b, ": ", 2);
        buf_adds(&b, json_string_value(v) ? json_string_value(v) : "");
        c->headers[k] = buf_detach(&b, NULL);
        c->nodes[k].data = c->headers[k];
        c->nodes[k].next = k + 1 < n ? &c->nodes[k + 1] : fixed;
        k++;
    }
    c->tail = n ? c->nodes : fixed;
}

struct epconf *epconf_from(json_t *ep)
{
    struct epconf *c = xcalloc(1, sizeof(*c));
    atomic_init(&c->refs, 1);
    c->url = xstrdup(json_string_value(json_object_get(ep, "url")) ?: "");
    char why[256];
    if (netpolicy_check_url(c->url, why, sizeof(why)))
        c->url_refused = xstrdup(why);
    add_key(c, json_object_get(ep, "secret"), 0);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(ep, "oldSecrets"), i, x)
        add_key(c, json_object_get(x, "key"),
                json_integer_value(json_object_get(x, "expiresAt")));
    add_headers(c, json_object_get(ep, "headers"));
    c->connect_timeout_ms = json_integer_value(json_object_get(ep, "connectTimeoutMs"));
    c->timeout_ms = json_integer_value(json_object_get(ep, "timeoutMs"));
    return c;
}

struct epconf *epconf_ref(struct epconf *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void epconf_unref(struct epconf *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int i = 0; i < c->nkeys; i++) {
        sign_key_free(&c->keys[i].k);
        free(c->keys[i].text);
    }
    for (char **h = c->headers; h && *h; h++)
        free(*h);
    free(c->headers);
    free(c->nodes);
    free(c->url_refused);
    free(c->url);
    free(c);
}
