/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay.c - a main() for a fuzz target without libFuzzer: every file
 * named, and every file in every directory named, goes once through
 * LLVMFuzzerTestOneInput(). make test links each target with this and
 * replays the committed corpora (tests/t0800-fuzz-replay.sh).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "mem.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open '%s'\n", path);
        return -1;
    }
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    /* an exact-size copy, so reads past the input's end are caught */
    uint8_t *data = xmemdup(b.data ? b.data : "", b.len ? b.len : 1);
    LLVMFuzzerTestOneInput(data, b.len);
    free(data);
    buf_release(&b);
    return 0;
}

/* Files of dir in name order; the count run, or -1. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory '%s'\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        names = xrealloc(names, (n + 1) * sizeof(char *));
        names[n] = xmalloc(strlen(dir) + strlen(e->d_name) + 2);
        sprintf(names[n++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(char *), cmp);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        if (count >= 0)
            count = run_file(names[i]) == 0 ? count + 1 : -1;
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int n;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            n = run_dir(argv[i]);
        else
            n = run_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0)
            return 2;
        total += n;
    }
    printf("replayed %d inputs\n", total);
    return 0;
}
