/* SPDX-License-Identifier: Apache-2.0 */
/*
 * partof.c - the partition group of an app key (part.h), for the tests of
 * partition groups: which store an app of that id or uid must be in.
 *
 *   partof KEY PARTITIONS GROUPS    print part_app_group(KEY, P, G)
 */
#include <stdio.h>
#include <stdlib.h>

#include "part.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: partof KEY PARTITIONS GROUPS\n");
        return 2;
    }
    int p = atoi(argv[2]), g = atoi(argv[3]);
    if (p < 1 || g < 1 || g > p) {
        fprintf(stderr, "partof: need 1 <= GROUPS <= PARTITIONS\n");
        return 2;
    }
    printf("%d\n", part_app_group(argv[1], p, g));
    return 0;
}
