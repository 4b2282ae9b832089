/* SPDX-License-Identifier: Apache-2.0 */
/* part.c - partitions and partition groups (part.h). */
#include "part.h"

uint64_t part_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/*
 * FNV-1a's low bits hardly change between keys that differ in their last
 * byte ("shop-1", "shop-2": a mod 64 of them left a group of four empty),
 * so the hash is mixed through MurmurHash3's 64-bit finalizer first.
 */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

int part_of(const char *key, int partitions)
{
    return partitions > 1 ? (int)(mix(part_hash(key)) % (uint64_t)partitions) : 0;
}

int part_group(int p, int partitions, int groups)
{
    return (int)((int64_t)p * groups / partitions);
}

int part_first(int g, int partitions, int groups)
{
    /* the least p with p * groups / partitions == g: ceil(g * partitions / groups) */
    return (int)(((int64_t)g * partitions + groups - 1) / groups);
}

int part_app_group(const char *key, int partitions, int groups)
{
    return groups > 1 ? part_group(part_of(key, partitions), partitions, groups) : 0;
}
