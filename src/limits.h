/*
 * limits.h — the contract's limits and rules in one place (docs/SPEC.md §3,
 * README "Activity summary"). C code includes this; the SQL side reads the
 * ones it needs through C functions, never through a copy of the number.
 */
#ifndef DOZOR_LIMITS_H
#define DOZOR_LIMITS_H

/* Most bytes a request body may have, compressed or not. */
#define DOZOR_MAX_BODY_BYTES ((size_t) 10 * 1024 * 1024)

/* At most this many events in one batch. */
#define DOZOR_MAX_BATCH_EVENTS 500

/* Longest tracked user id, in characters (also the CHECK on tracked_users). */
#define DOZOR_MAX_USER_ID_CHARS 255

/*
 * Largest marker payload or traits value, as JSON text. PostgreSQL's jsonb
 * input needs tens of times the text's size while it parses, so this bounds
 * the memory one request can take (README: "What does one request cost").
 */
#define DOZOR_MAX_JSONB_VALUE_BYTES ((size_t) 1024 * 1024)

/*
 * Two user interactions closer than this count the time between them as
 * active. A run of interactions is stored as [first, last + GAP - 1): two
 * runs then overlap or touch exactly when they are closer than GAP.
 */
#define DOZOR_ACTIVE_GAP_MS 5000

/* Compression level used for stored batches (chosen by `make bench`). */
#define DOZOR_STORAGE_GZIP_LEVEL 3

#endif							/* DOZOR_LIMITS_H */
