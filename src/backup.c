/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup.c - `hookd backup DIR`.
 *
 * The log is copied by LMDB itself (store_backup) inside one read
 * transaction, which is what makes the copy consistent while a server
 * writes. The admin token travels with it so that clients of the restored
 * server keep working; the listen file does not, it is the state of a
 * running process. The destination must be new or empty: a backup never
 * mixes with, or overwrites, another data directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "err.h"
#include "store.h"

/* 1 when empty, 0 when not, -errno when it cannot be read. */
static int dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* Create dst (0700) or accept an empty one; *created says which. */
static int prepare_dst(const char *dst, int *created, FILE *err)
{
    *created = mkdir(dst, 0700) == 0;
    if (*created)
        return 0;
    if (errno != EEXIST) {
        fprintf(err, "hookd: cannot create backup directory '%s': %s\n", dst, strerror(errno));
        return -1;
    }
    int rc = dir_empty(dst);
    if (rc == 1 && chmod(dst, 0700) == 0)
        return 0;
    if (rc == 0)
        fprintf(err, "hookd: backup directory '%s' is not empty (give a new or empty "
                     "directory)\n", dst);
    else
        fprintf(err, "hookd: cannot use backup directory '%s': %s\n", dst,
                rc < 0 ? strerror(-rc) : strerror(errno));
    return -1;
}

/* Copy src/admin.token to dst/admin.token, mode 0600, synced. */
static int copy_token(const char *src, const char *dst)
{
    char from[4096], to[4096], buf[512];
    snprintf(from, sizeof(from), "%s/admin.token", src);
    snprintf(to, sizeof(to), "%s/admin.token", dst);
    int in = open(from, O_RDONLY), rc = 0;
    if (in < 0)
        return -errno;
    ssize_t n = read(in, buf, sizeof(buf));
    close(in);
    if (n < 0)
        return -errno;
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, buf, (size_t)n);
    if (w != n)
        rc = w < 0 ? -errno : -EIO;
    else if (fsync(fd))
        rc = -errno;
    close(fd);
    return rc;
}

/* Undo a failed backup: the files are ours, dst was new or empty. */
static void remove_backup(const char *dst, int created)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/admin.token", dst);
    unlink(path);
    snprintf(path, sizeof(path), "%s/data.mdb", dst);
    unlink(path);
    if (created)
        rmdir(dst);
}

/* The token goes first: store_backup's final directory sync covers both. */
int backup_run(const char *src, const char *dst, FILE *out, FILE *err)
{
    char path[4096];
    struct stat st;
    int created;
    snprintf(path, sizeof(path), "%s/data.mdb", src);
    if (stat(path, &st)) {
        fprintf(err, "hookd: no log to back up in '%s': %s\n", src, strerror(errno));
        return 1;
    }
    if (prepare_dst(dst, &created, err))
        return 1;
    int rc = copy_token(src, dst);
    if (rc == -ENOENT)
        fprintf(err, "hookd: no admin.token in '%s'; the restored server will make a new one "
                     "unless HOOKD_ADMIN_TOKEN is set\n", src);
    else if (rc) {
        fprintf(err, "hookd: cannot copy '%s/admin.token' to '%s': %s\n", src, dst,
                hookd_strerror(rc));
        goto undo;
    }
    rc = store_backup(src, dst);
    if (rc) {
        char why[640];
        fprintf(err, "hookd: cannot back up the log in '%s' to '%s': %s\n", src, dst,
                store_open_why(src, rc, why, sizeof(why)));
        goto undo;
    }
    snprintf(path, sizeof(path), "%s/data.mdb", dst);
    long long size = stat(path, &st) ? -1 : (long long)st.st_size;
    fprintf(out, "backed up '%s' to '%s' (%lld bytes, compacted)\n", src, dst, size);
    return 0;
undo:
    remove_backup(dst, created);
    return 1;
}
