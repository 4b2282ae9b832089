/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_target.c - finding the server and checking it answers (see
 * ui_target.h). The checks run one blocking request each, so a client
 * that cannot work says why before it takes the terminal or prints rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui_app.h"
#include "ui_http.h"
#include "ui_target.h"

static void set_url(struct ui_target *t, const char *url)
{
    snprintf(t->url, sizeof(t->url), "%s%s", strstr(url, "://") ? "" : "http://", url);
    size_t n = strlen(t->url);
    while (n > 8 && t->url[n - 1] == '/')
        t->url[--n] = '\0';
}

static const char *given(const char *flag, const char *env)
{
    if (flag && flag[0])
        return flag;
    const char *v = getenv(env);
    return v && v[0] ? v : NULL;
}

void ui_target_resolve(struct ui_target *t, const char *url, const char *token,
                       const char *dir, const char *ca_file)
{
    memset(t, 0, sizeof(*t));
    url = given(url, "HOOKD_URL");
    token = given(token, "HOOKD_ADMIN_TOKEN");
    dir = given(dir, "HOOKD_DATA");
    snprintf(t->dir, sizeof(t->dir), "%s", dir ? dir : "./hookd-data");
    if (ca_file)
        snprintf(t->ca_file, sizeof(t->ca_file), "%s", ca_file);
    char line[256];
    if (url) {
        set_url(t, url);
    } else if (ui_read_dir_line(t->dir, "listen", line, sizeof(line)) == 0) {
        set_url(t, line);   /* "host:port", or "https://host:port" with TLS */
        t->from_dir = 1;
    }
    if (token)
        snprintf(t->token, sizeof(t->token), "%s", token);
    else
        ui_read_dir_line(t->dir, "admin.token", t->token, sizeof(t->token));
}

/* Reachable over the network, with a certificate this machine trusts? */
static int check_reach(const struct ui_target *t)
{
    if (!t->url[0]) {
        fprintf(stderr, "hookd: no server address: '%s/listen' is missing (is 'hookd serve' "
                        "running with --data %s? or pass --url)\n", t->dir, t->dir);
        return UI_TARGET_NO_SERVER;
    }
    if (t->ca_file[0]) {
        FILE *f = fopen(t->ca_file, "r");
        if (!f) {
            fprintf(stderr, "hookd: cannot read --ca-file '%s': %s\n", t->ca_file,
                    strerror(errno));
            return UI_TARGET_NO_SERVER;
        }
        fclose(f);
        ui_http_set_ca_file(t->ca_file);
    }
    struct ui_resp *r = ui_http_request(t->url, "", "GET", "/api/v1/health", NULL, 5000);
    int bad = r->status == 0;
    if (bad && r->tls == UI_TLS_BAD_CA_FILE)
        fprintf(stderr, "hookd: cannot use --ca-file '%s': %s (it must hold PEM "
                        "certificates)\n", t->ca_file, r->error);
    else if (bad && r->tls == UI_TLS_UNTRUSTED)
        fprintf(stderr, "hookd: the server at '%s' has a certificate this machine does not "
                        "trust: %s (pass --ca-file with its CA or its own certificate)\n",
                t->url, r->error);
    else if (bad)
        fprintf(stderr, "hookd: cannot reach the server at '%s': %s (is 'hookd serve' "
                        "running? pass --url or --data)\n", t->url, r->error);
    ui_resp_free(r);
    return bad ? UI_TARGET_NO_SERVER : 0;
}

int ui_target_check(const struct ui_target *t)
{
    int rc = check_reach(t);
    if (rc)
        return rc;
    if (!t->token[0]) {
        fprintf(stderr, "hookd: no admin token: '%s/admin.token' is missing (pass --token or "
                        "set HOOKD_ADMIN_TOKEN)\n", t->dir);
        return UI_TARGET_BAD_TOKEN;
    }
    struct ui_resp *r = ui_http_request(t->url, t->token, "GET", "/hookd/v1/stats", NULL, 5000);
    if (r->status == 404) {   /* an older server: check the token on the core API */
        ui_resp_free(r);
        r = ui_http_request(t->url, t->token, "GET", "/api/v1/app?limit=1", NULL, 5000);
    }
    rc = UI_TARGET_NO_SERVER;
    if (r->status == 0)
        fprintf(stderr, "hookd: the server at '%s' did not answer: %s\n", t->url, r->error);
    else if (r->status == 401 || r->status == 403) {
        fprintf(stderr, "hookd: the server at '%s' refused the admin token (check --token, "
                        "HOOKD_ADMIN_TOKEN or '%s/admin.token')\n", t->url, t->dir);
        rc = UI_TARGET_BAD_TOKEN;
    } else if (r->status >= 500)
        fprintf(stderr, "hookd: the server at '%s' answered HTTP %ld\n", t->url, r->status);
    else
        rc = 0;
    ui_resp_free(r);
    return rc;
}
