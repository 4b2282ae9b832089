/* SPDX-License-Identifier: Apache-2.0 */
/*
 * part.h - partitions and partition groups: where an app's data lives.
 *
 * An app belongs to partition hash(key) mod P, key being the app's id or
 * its uid (the two are chosen to land in the same partition group, so a
 * request naming either is routed without a lookup); P is fixed when a
 * cluster is created (cluster.h, default 64). Partitions are cut into G
 * contiguous ranges, the partition groups: group g holds the partitions
 * p with p * G / P == g and is one log (a stream), one store and one
 * writer. A single node has one group, so every app is in group 0.
 *
 * Pure functions: any thread.
 */
#ifndef HOOKD_PART_H
#define HOOKD_PART_H

#include <stdint.h>

#define PART_DEFAULT 64       /* partitions of a cluster unless init says otherwise */
#define PART_GROUPS_MAX 64    /* partition groups a node can hold */

/* The key's hash: FNV-1a, 64 bits, so every node and version agree. */
uint64_t part_hash(const char *key);
/* The partition of an app named key (its id or uid), 0 to partitions - 1: the hash, mixed, mod P. */
int part_of(const char *key, int partitions);
/* The group that holds partition p. */
int part_group(int p, int partitions, int groups);
/* The first partition of group g (its log's subject is named after it). */
int part_first(int g, int partitions, int groups);
/* The group of an app named key: part_group(part_of(key)). */
int part_app_group(const char *key, int partitions, int groups);

#endif
