/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0010-config - the options table: defaults, the four layers and their
 * order, flag forms, sizes and durations, every kind of validation error,
 * schedules, --help, the dump and reloading.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "tap/tap.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1) /* argv minus NULL */

static char dir[] = "/tmp/hookd-t0010-XXXXXX";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        diag("cannot write '%s'", path);
        exit(1);
    }
}

/* Load argv/envp into a fresh default config; returns config_load's code. */
static int load(struct config *c, int argc, char **argv, char **envp,
                char *err, size_t errlen)
{
    int help = 0;
    config_init(c);
    err[0] = '\0';
    return config_load(c, argc, argv, envp, &help, err, errlen);
}

/* config_load must fail and its message contain want. */
static void fails(int argc, char **argv, char **envp, const char *want,
                  const char *what)
{
    struct config c;
    char err[512];
    int rc = load(&c, argc, argv, envp, err, sizeof(err));

    ok(rc == HOOKD_EINVAL && strstr(err, want), "%s: error names '%s'",
       what, want);
    if (rc == 0 || !strstr(err, want))
        diag("rc %d, err: %s", rc, err);
    config_release(&c);
}

static void test_defaults(void)
{
    struct config c;
    char err[256];
    int help = 1;

    config_init(&c);
    ok(c.config_file == NULL, "no config file by default");
    is_str(c.listen, "127.0.0.1:8071", "default listen");
    is_str(c.data_dir, "./hookd-data", "default data dir");
    is_int(c.workers, 0, "default workers");
    is_int(c.http_threads, 0, "default http threads");
    is_str(c.allow_network, "", "default allow-network");
    is_str(c.retry_schedule, "10s,100s,1000s", "default retry schedule");
    is_str(c.log_level, "info", "default log level");
    is_str(c.log_format, "logfmt", "default log format");
    is_str(c.log_file, "", "default log file");
    is_str(c.admin_token, "", "default admin token");
    is_int(c.max_body, 1 << 20, "default max-body 1MiB");
    is_int(c.max_json_depth, 64, "default max-json-depth");
    is_int(c.max_headers, 100, "default max-headers");
    is_int(c.max_url, 8192, "default max-url");
    is_int(c.max_connections, 4096, "default max-connections");
    is_int(c.map_size, 4LL << 30, "default map-size 4GiB");
    is_int(c.idempotency_ttl_ms, 12LL * 3600 * 1000, "default ttl 12h");
    is_int(c.connect_timeout_ms, 5000, "default connect timeout");
    is_int(c.request_timeout_ms, 15000, "default request timeout");
    is_int(c.commit_delay_us, 0, "default commit delay");
    ok(config_load(&c, 0, NULL, NULL, &help, err, sizeof(err)) == 0 &&
       help == 0, "loading nothing succeeds and clears help");
    is_str(c.listen, "127.0.0.1:8071", "loading nothing keeps defaults");
    config_release(&c);
    ok(c.listen == NULL, "release frees strings");
}

static void test_layers(void)
{
    char path[256], envc[300], err[512];
    struct config c;

    snprintf(path, sizeof(path), "%s/hookd.conf", dir);
    write_file(path,
               "# a comment\n"
               "\n"
               "listen = 10.0.0.1:1001\n"
               "  workers=3\n"
               "data = \"/srv/hookd data\"  # trailing comment\n"
               "max-body = 2MiB\r\n"
               "log-level = debug\n");
    snprintf(envc, sizeof(envc), "HOOKD_CONFIG=%s", path);

    char *env0[] = { envc, NULL };
    ok(load(&c, 0, NULL, env0, err, sizeof(err)) == 0, "file via HOOKD_CONFIG");
    is_str(c.listen, "10.0.0.1:1001", "file overrides default listen");
    is_int(c.workers, 3, "file: unspaced name=value");
    is_str(c.data_dir, "/srv/hookd data", "file: quoted value, comment after");
    is_int(c.max_body, 2 << 20, "file: CRLF line, size suffix");
    is_str(c.config_file, path, "config_file records HOOKD_CONFIG");
    config_release(&c);

    char *env1[] = { "PATH=/bin", envc, "HOOKD_LISTEN=10.0.0.2:1002",
                     "HOOKD_WORKERS=5", "HOOKD_UNRELATED=x", NULL };
    ok(load(&c, 0, NULL, env1, err, sizeof(err)) == 0, "file + env: %s", err);
    is_str(c.listen, "10.0.0.2:1002", "env overrides file");
    is_int(c.workers, 5, "env overrides file (int)");
    is_str(c.log_level, "debug", "file value survives where env is silent");
    config_release(&c);

    char *argv[] = { "--listen", "10.0.0.3:1003", "--log-level=warn", NULL };
    ok(load(&c, N(argv), argv, env1, err, sizeof(err)) == 0, "all layers");
    is_str(c.listen, "10.0.0.3:1003", "flag overrides env");
    is_int(c.workers, 5, "env value survives where flags are silent");
    is_str(c.log_level, "warn", "flag overrides file");
    is_str(c.data_dir, "/srv/hookd data", "file value survives");
    is_str(c.log_format, "logfmt", "default survives");
    config_release(&c);

    char *env2[] = { "HOOKD_CONFIG=/nonexistent/hookd.conf", NULL };
    char *argv2[] = { "--config", path, NULL };
    ok(load(&c, N(argv2), argv2, env2, err, sizeof(err)) == 0,
       "--config wins over HOOKD_CONFIG: %s", err);
    is_str(c.listen, "10.0.0.1:1001", "file named by --config was read");
    is_str(c.config_file, path, "config_file records --config");
    config_release(&c);

    char *argv3[] = { "--config=/nonexistent/hookd.conf", NULL };
    int rc = load(&c, N(argv3), argv3, NULL, err, sizeof(err));
    is_int(rc, -ENOENT, "missing config file is -ENOENT");
    ok(strstr(err, "cannot open config file '/nonexistent/hookd.conf'") &&
       strstr(err, "no such file"), "missing file message: %s", err);
    config_release(&c);
}

static void test_flag_forms(void)
{
    char err[512];
    struct config c;
    char *argv[] = { "--workers", "7", "--http-threads=9", "--data=/d",
                     "--map-size", "1G", "--max-body=512K",
                     "--connect-timeout", "250ms", "--idempotency-ttl=2d",
                     "--request-timeout", "90", "--commit-delay-us=500",
                     "--admin-token", "s3cret", "--listen=[::1]:8080",
                     "--allow-network", "127.0.0.0/8, ::1/128,10.1.2.3", NULL };

    ok(load(&c, N(argv), argv, NULL, err, sizeof(err)) == 0, "flags: %s", err);
    is_int(c.workers, 7, "--opt value");
    is_int(c.http_threads, 9, "--opt=value");
    is_str(c.data_dir, "/d", "--data=/d");
    is_int(c.map_size, 1LL << 30, "size 1G");
    is_int(c.max_body, 512 << 10, "size 512K");
    is_int(c.connect_timeout_ms, 250, "duration 250ms");
    is_int(c.idempotency_ttl_ms, 2LL * 86400 * 1000, "duration 2d");
    is_int(c.request_timeout_ms, 90000, "bare duration is seconds");
    is_int(c.commit_delay_us, 500, "commit-delay-us plain int");
    is_str(c.admin_token, "s3cret", "secret set by flag");
    is_str(c.listen, "[::1]:8080", "IPv6 listen address");
    is_str(c.allow_network, "127.0.0.0/8, ::1/128,10.1.2.3", "allow-network");
    config_release(&c);

    char *argv2[] = { "--log-file", "--weird name", "--admin-token=a=b", NULL };
    ok(load(&c, N(argv2), argv2, NULL, err, sizeof(err)) == 0,
       "a value may start with --");
    is_str(c.log_file, "--weird name", "value after --opt taken verbatim");
    is_str(c.admin_token, "a=b", "only the first '=' splits");
    config_release(&c);
}

static void test_sizes(void)
{
    static const struct { const char *s; long long want; } good[] = {
        { "0", 0 }, { "1048576", 1048576 }, { "1K", 1024 }, { "2KiB", 2048 },
        { "64MiB", 64LL << 20 }, { "3M", 3LL << 20 }, { "1G", 1LL << 30 },
        { "4GiB", 4LL << 30 }, { "1mib", 1 << 20 }, { "2TiB", 2LL << 40 },
    };
    static const char *const bad[] = {
        "", "abc", "1X", "-1", "1.5G", " 1K", "1 K", "K", "1KiBs",
        "99999999999999999999", "9999999999T",
    };
    int64_t v;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = -1;
        ok(config_parse_size(good[i].s, &v) == 0 && v == good[i].want,
           "size '%s' = %lld", good[i].s, good[i].want);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 42;
        ok(config_parse_size(bad[i], &v) == HOOKD_EINVAL && v == 42,
           "size '%s' rejected, out untouched", bad[i]);
    }
}

static void test_schedule(void)
{
    int64_t ms[40];
    char many[200] = "";

    is_int(config_parse_schedule("10s,100s,1000s", ms, 32), 3, "three delays");
    ok(ms[0] == 10000 && ms[1] == 100000 && ms[2] == 1000000, "delays in ms");
    is_int(config_parse_schedule(" 250ms , 2m ", ms, 32), 2, "spaces allowed");
    ok(ms[0] == 250 && ms[1] == 120000, "ms and minutes");
    is_int(config_parse_schedule("5", ms, 32), 1, "single bare seconds");
    is_int(ms[0], 5000, "bare number is seconds");
    is_int(config_parse_schedule("", ms, 32), HOOKD_EINVAL, "empty rejected");
    is_int(config_parse_schedule("1s,,2s", ms, 32), HOOKD_EINVAL,
           "empty item rejected");
    is_int(config_parse_schedule("1s,", ms, 32), HOOKD_EINVAL,
           "trailing comma rejected");
    is_int(config_parse_schedule("1s,soon", ms, 32), HOOKD_EINVAL,
           "bad duration rejected");
    is_int(config_parse_schedule("1s,2s,3s", ms, 2), HOOKD_EINVAL,
           "more than max rejected");

    for (int i = 0; i < 33; i++)
        strcat(many, i ? ",1s" : "1s");
    char arg[220];
    snprintf(arg, sizeof(arg), "--retry-schedule=%s", many);
    char *argv[] = { arg, NULL };
    fails(1, argv, NULL, "at most 32", "33 retry delays");
    many[strlen(many) - 3] = '\0';
    snprintf(arg, sizeof(arg), "--retry-schedule=%s", many);
    struct config c;
    char err[512];
    ok(load(&c, 1, argv, NULL, err, sizeof(err)) == 0, "32 delays accepted");
    config_release(&c);
}

static void test_errors(void)
{
    char path[256], err[512];
    struct config c;

    char *a1[] = { "--listen", "127.0.0.1:-1", NULL };
    fails(N(a1), a1, NULL, "invalid value '127.0.0.1:-1' for option 'listen'",
          "negative port");
    char *a2[] = { "--listen=127.0.0.1:65536", NULL };
    fails(N(a2), a2, NULL, "port must be a number from 0 to 65535",
          "port 65536");
    char *a3[] = { "--listen=127.0.0.1", NULL };
    fails(N(a3), a3, NULL, "expected HOST:PORT", "no port");
    char *a4[] = { "--listen=::1:80", NULL };
    fails(N(a4), a4, NULL, "need brackets", "bare IPv6");
    char *a5[] = { "--listen=[nope]:80", NULL };
    fails(N(a5), a5, NULL, "not an IPv6 address", "bad IPv6");
    char *a6[] = { "--listen=:80", NULL };
    fails(N(a6), a6, NULL, "option 'listen'", "empty host");
    char *a7[] = { "--listen=localhost:http", NULL };
    fails(N(a7), a7, NULL, "port must be", "named port");

    char *b1[] = { "--foo", "1", NULL };
    fails(N(b1), b1, NULL, "unknown option '--foo' (see hookd serve --help)",
          "unknown flag");
    char *b2[] = { "--foo=1", NULL };
    fails(N(b2), b2, NULL, "unknown option '--foo' (see", "unknown --foo=");
    char *b3[] = { "serve", NULL };
    fails(N(b3), b3, NULL, "unexpected argument 'serve'", "positional arg");
    char *b4[] = { "--listen", NULL };
    fails(N(b4), b4, NULL, "option '--listen' needs a value", "missing value");

    char *c1[] = { "--log-level", "loud", NULL };
    fails(N(c1), c1, NULL, "invalid value 'loud' for option 'log-level': "
          "must be one of debug, info, warn, error", "bad log level");
    char *c2[] = { "--log-format=xml", NULL };
    fails(N(c2), c2, NULL, "'xml' for option 'log-format'", "bad log format");
    char *c3[] = { "--workers=2000", NULL };
    fails(N(c3), c3, NULL, "invalid value '2000' for option 'workers': "
          "must be from 0 to 1024", "workers out of range");
    char *c4[] = { "--workers=-1", NULL };
    fails(N(c4), c4, NULL, "option 'workers'", "negative workers");
    char *c5[] = { "--workers=four", NULL };
    fails(N(c5), c5, NULL, "expected a whole number", "workers not a number");
    char *c6[] = { "--http-threads=257", NULL };
    fails(N(c6), c6, NULL, "option 'http-threads'", "http-threads range");
    char *c7[] = { "--max-json-depth=0", NULL };
    fails(N(c7), c7, NULL, "must be from 1 to 1000", "max-json-depth range");
    char *c8[] = { "--max-body=lots", NULL };
    fails(N(c8), c8, NULL, "expected a size", "bad size");
    char *c9[] = { "--map-size=1K", NULL };
    fails(N(c9), c9, NULL, "must be from 1MiB to", "map-size too small");
    char *c10[] = { "--connect-timeout=soon", NULL };
    fails(N(c10), c10, NULL, "expected a duration", "bad duration");
    char *c11[] = { "--allow-network=10.0.0.0/33", NULL };
    fails(N(c11), c11, NULL, "'10.0.0.0/33' is not an address or CIDR",
          "bad CIDR prefix");
    char *c12[] = { "--allow-network=10.0.0.0/8,,::1", NULL };
    fails(N(c12), c12, NULL, "option 'allow-network'", "empty CIDR item");
    char *c13[] = { "--data=", NULL };
    fails(N(c13), c13, NULL, "must not be empty", "empty data dir");
    char *c14[] = { "--retry-schedule=10s,later", NULL };
    fails(N(c14), c14, NULL, "option 'retry-schedule'", "bad schedule");

    char *e1[] = { "HOOKD_WORKERS=many", NULL };
    fails(0, NULL, e1, "environment variable HOOKD_WORKERS: invalid value "
          "'many' for option 'workers'", "bad env value");

    snprintf(path, sizeof(path), "%s/bad.conf", dir);
    char arg[300];
    snprintf(arg, sizeof(arg), "--config=%s", path);
    char *f[] = { arg, NULL };
    char want[400];

    write_file(path, "# hookd\nlisten = 127.0.0.1:9000\nlisen = 1\n");
    snprintf(want, sizeof(want),
             "config file '%s' line 3: unknown option 'lisen'", path);
    ok(load(&c, 1, f, NULL, err, sizeof(err)) == HOOKD_EINVAL &&
       strcmp(err, want) == 0, "unknown option in file: %s", err);
    is_str(c.listen, "127.0.0.1:8071", "failed load leaves config untouched");
    config_release(&c);

    write_file(path, "\n\nworkers = 9999\n");
    snprintf(want, sizeof(want), "config file '%s' line 3: invalid value "
             "'9999' for option 'workers'", path);
    fails(1, f, NULL, want, "bad value in file");

    write_file(path, "listen 127.0.0.1:80\n");
    fails(1, f, NULL, "line 1: expected 'name = value'", "no '=' in file");
    write_file(path, "data = \"/x\n");
    fails(1, f, NULL, "line 1: missing closing", "unterminated quote");
    write_file(path, "data = \"/x\" y\n");
    fails(1, f, NULL, "line 1: unexpected text after", "text after quote");
    write_file(path, "config = /etc/other.conf\n");
    fails(1, f, NULL, "option 'config' cannot be set in a config file",
          "config in config file");
}

static void test_help(void)
{
    struct config c;
    char err[256] = "";
    int help = 0;
    char *a1[] = { "--workers=3", "--help", "--bogus", NULL };
    char *a2[] = { "-h", NULL };

    config_init(&c);
    ok(config_load(&c, N(a1), a1, NULL, &help, err, sizeof(err)) == 0 &&
       help == 1, "--help sets help and returns 0");
    help = 0;
    ok(config_load(&c, N(a2), a2, NULL, &help, err, sizeof(err)) == 0 &&
       help == 1, "-h sets help");
    is_int(c.workers, 0, "--help applies nothing");
    config_release(&c);
}

/* Run fn(out) into a string the caller frees. */
static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    fn(f, arg);
    fclose(f);
    return s;
}

static void usage_fn(FILE *f, const void *arg)
{
    config_usage(f);
}

static void dump_fn(FILE *f, const void *arg)
{
    config_dump(arg, f);
}

static void test_usage(void)
{
    char *u = capture(usage_fn, NULL);
    const char *opts[] = { "--listen", "--data", "--workers", "--map-size",
                           "--retry-schedule", "--commit-delay-us", "--config" };
    int col = -1, aligned = 1;

    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        ok(strstr(u, opts[i]) != NULL, "usage lists %s", opts[i]);
    ok(strstr(u, "127.0.0.1:8071") && strstr(u, "4GiB") &&
       strstr(u, "10s,100s,1000s"), "usage shows defaults");
    ok(strstr(u, "HOOKD_MAP_SIZE") && strstr(u, "HOOKD_CONFIG") &&
       strstr(u, "name = value"), "usage explains env and file");
    /* each option's help starts in the same column */
    for (char *line = strtok(u, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "  --", 4) != 0)
            continue;
        char *gap = strstr(line + 4, "  ");
        int c = gap ? (int)(gap - line) : -1;
        while (gap && gap[0] == ' ')
            gap++, c++;
        if (col < 0)
            col = c;
        if (c != col)
            aligned = 0, diag("misaligned: %s", line);
    }
    ok(aligned && col > 0, "usage help column aligned at %d", col);
    free(u);
}

static void test_dump(void)
{
    struct config c, d;
    char err[512], path[256], arg[300];
    char *a1[] = { "--admin-token=hunter2", "--map-size=64MiB",
                   "--request-timeout=90s", "--data=/srv/a b", NULL };

    ok(load(&c, N(a1), a1, NULL, err, sizeof(err)) == 0, "load for dump");
    char *s = capture(dump_fn, &c);
    ok(strstr(s, "listen = 127.0.0.1:8071\n") != NULL, "dump listen");
    ok(strstr(s, "map-size = 64MiB\n") != NULL, "dump size in units");
    ok(strstr(s, "idempotency-ttl = 12h\n") != NULL, "dump duration in units");
    ok(strstr(s, "request-timeout = 90s\n") != NULL, "dump 90s");
    ok(strstr(s, "admin-token = <set>\n") && !strstr(s, "hunter2"),
       "secret hidden");
    ok(strstr(s, "ingest-tokens = \"\"\n") != NULL, "unset secret empty");
    ok(strstr(s, "workers = 0\n") != NULL, "dump int");

    /* the dump (minus config and secrets) reads back as a config file */
    snprintf(path, sizeof(path), "%s/dump.conf", dir);
    FILE *f = fopen(path, "w");
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "config ", 7) && !strstr(line, "<set>"))
            fprintf(f, "%s\n", line);
    fclose(f);
    free(s);
    snprintf(arg, sizeof(arg), "--config=%s", path);
    char *a2[] = { arg, NULL };
    ok(load(&d, 1, a2, NULL, err, sizeof(err)) == 0, "dump reloads: %s", err);
    ok(d.map_size == c.map_size && d.request_timeout_ms == c.request_timeout_ms &&
       d.idempotency_ttl_ms == c.idempotency_ttl_ms &&
       strcmp(d.data_dir, c.data_dir) == 0 && strcmp(d.listen, c.listen) == 0,
       "dump round-trips");
    config_release(&c);
    config_release(&d);
}

static void test_reload(void)
{
    struct config live, fresh;
    char err[512];
    char *a[] = { "--log-level=debug", "--listen=0.0.0.0:9", "--log-format=json",
                  "--connect-timeout=1s", "--ingest-tokens=t1,t2",
                  "--retry-schedule=1s", "--workers=2", NULL };

    config_init(&live);
    ok(load(&fresh, N(a), a, NULL, err, sizeof(err)) == 0, "fresh config");
    config_reload(&live, &fresh);
    is_str(live.log_level, "debug", "log-level reloaded");
    is_str(live.log_format, "json", "log-format reloaded");
    is_str(live.retry_schedule, "1s", "retry-schedule reloaded");
    is_str(live.ingest_tokens, "t1,t2", "ingest-tokens reloaded");
    is_int(live.connect_timeout_ms, 1000, "connect-timeout reloaded");
    is_str(live.listen, "127.0.0.1:8071", "listen not reloaded");
    is_int(live.workers, 0, "workers not reloaded");
    ok(live.log_level != fresh.log_level, "reloaded strings are copies");
    config_release(&fresh);
    config_release(&live);
}

static void test_bool_and_changed(void)
{
    struct config a, b;
    char err[512], names[256];
    char *off[] = { "--log-requests=off", NULL };
    char *no[] = { "--log-requests", "No", NULL };
    char *bad[] = { "--log-requests=maybe", NULL };
    char *diff[] = { "--log-requests=false", "--listen=0.0.0.0:9", "--ingest-tokens=s3cr3t",
                     "--workers=3", "--retry-schedule=5s", NULL };

    config_init(&a);
    is_int(a.log_requests, 1, "log-requests defaults to true");
    config_release(&a);
    ok(load(&a, N(off), off, NULL, err, sizeof(err)) == 0 && a.log_requests == 0,
       "log-requests=off");
    config_release(&a);
    ok(load(&a, N(no), no, NULL, err, sizeof(err)) == 0 && a.log_requests == 0,
       "log-requests No (any case)");
    config_release(&a);
    fails(N(bad), bad, NULL, "invalid value 'maybe' for option 'log-requests': expected true or false",
          "bad bool");

    config_init(&a);
    ok(load(&b, N(diff), diff, NULL, err, sizeof(err)) == 0, "a changed config");
    config_changed(&a, &b, 1, names, sizeof(names));
    is_str(names, "retry-schedule,log-requests,ingest-tokens", "reloadable options that changed");
    config_changed(&a, &b, 0, names, sizeof(names));
    is_str(names, "listen,workers", "options that need a restart");
    config_changed(&a, &a, 1, names, sizeof(names));
    is_str(names, "", "nothing changed");
    config_changed(&a, &b, 1, names, 20);
    is_str(names, "retry-schedule", "only whole names when out is short");
    config_release(&a);
    config_release(&b);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        printf("Bail out! cannot create a temporary directory\n");
        return 1;
    }
    test_defaults();
    test_layers();
    test_flag_forms();
    test_sizes();
    test_schedule();
    test_errors();
    test_help();
    test_usage();
    test_dump();
    test_reload();
    test_bool_and_changed();

    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return done_testing();
}
