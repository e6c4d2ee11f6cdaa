/*
 * xxh64.h — XXH64, the 64-bit xxHash (src/xxh64.c), as its specification
 * defines it: the retry digest of a stored batch hashes the events with it.
 */
#ifndef DOZOR_XXH64_H
#define DOZOR_XXH64_H

#include "c.h"

extern uint64 Xxh64(const void *data, size_t len, uint64 seed);

#endif
