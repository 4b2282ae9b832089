/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0001-tap: the TAP producer itself. Failing cases run in a fresh copy of
 * this program (re-executed with the case name, so tap's counters start at
 * zero) whose stdout is captured, and this script's own stream stays "ok".
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap/tap.h"

/* Run case name in a child with stdout captured into out; its exit code. */
static int run_child(const char *name, char *out, size_t n)
{
    int fd[2];
    size_t len = 0;
    ssize_t got;
    int status;

    if (pipe(fd) < 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fd[1], 1);
        if (!freopen("/dev/null", "w", stderr))
            _exit(99);
        close(fd[0]);
        close(fd[1]);
        execl("/proc/self/exe", "t0001-tap", name, (char *)NULL);
        _exit(98);
    }
    close(fd[1]);
    while (len + 1 < n && (got = read(fd[0], out + len, n - 1 - len)) > 0)
        len += (size_t)got;
    out[len] = '\0';
    close(fd[0]);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void mixed(void)
{
    ok(1, "pass");
    is_int(1, 2, "int mismatch");
    is_str(NULL, "x", "null vs string");
    is_str(NULL, NULL, "null vs null");
    is_str("a", "a", "equal");
    int f = tap_failures();
    int r = done_testing();
    _exit(f * 2 + r);
}

static void plan_met(void)
{
    plan(2);
    ok(1, "one");
    skip(1, "skipped");
    _exit(done_testing());
}

static void plan_short(void)
{
    plan(3);
    ok(1, "one");
    _exit(done_testing());
}

static void skip_all(void)
{
    tap_skip_all("nothing to do");
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"mixed", mixed}, {"plan_met", plan_met}, {"plan_short", plan_short},
    {"skip_all", skip_all},
};

int main(int argc, char **argv)
{
    char out[4096];

    if (argc > 1) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            if (strcmp(argv[1], cases[i].name) == 0)
                cases[i].fn();
        return 97;
    }

    ok(1, "ok passes");
    is_int(42, 42, "is_int passes");
    is_str("hookd", "hookd", "is_str passes");
    is_str(NULL, NULL, "is_str treats two NULLs as equal");
    is_int(tap_failures(), 0, "no failures so far");

    is_int(run_child("mixed", out, sizeof(out)), 2 * 2 + 1,
           "two failures counted and done_testing returns 1");
    ok(strstr(out, "not ok 2 - int mismatch\n") != NULL, "failure line numbered");
    ok(strstr(out, "not ok 3 - null vs string\n") != NULL, "NULL mismatch fails");
    ok(strstr(out, "ok 5 - equal\n1..5\n") != NULL, "plan printed at the end");
    ok(strncmp(out, "TAP version 13\n", 15) == 0, "version line first");

    is_int(run_child("plan_met", out, sizeof(out)), 0, "met plan returns 0");
    is_str(out, "TAP version 13\n1..2\nok 1 - one\nok 2 # skip skipped\n",
           "plan and skip output");
    is_int(run_child("plan_short", out, sizeof(out)), 1, "short plan returns 1");
    is_int(run_child("skip_all", out, sizeof(out)), 0, "skip_all exits 0");
    is_str(out, "TAP version 13\n1..0 # SKIP nothing to do\n", "skip_all output");

    return done_testing();
}
