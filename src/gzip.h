/*
 * gzip.h — gzip compression and bounded decompression for dozor.
 *
 * libdeflate does the work: it is ~2.8x faster than zlib for whole buffers,
 * and dozor always has whole buffers (an HTTP body, a stored batch).
 * Its allocations go through palloc in TopMemoryContext, and the
 * (de)compressors are created once per backend and reused.
 *
 * Two trust levels, two functions, so each owns its SQLSTATEs:
 *   GzipInflateClient  bytes from a client: corrupt -> 22P02, more than
 *                      `cap` bytes of output -> 54000, detected as soon as the
 *                      cap is passed (a bomb is never inflated further).
 *   GzipInflateStored  bytes from our own table: the uncompressed length is
 *                      known; anything unexpected -> XX001 naming the batch.
 */
#ifndef DOZOR_GZIP_H
#define DOZOR_GZIP_H

#include "postgres.h"

#include "limits.h"

/* Sets up libdeflate allocation through palloc; called from _PG_init. */
extern void GzipInit(void);

/* gzip of in[0..len) at libdeflate level 0..12; palloc'd result. */
extern char *GzipDeflate(const char *in, size_t len, int level, size_t *out_len);

/* The same as a bytea, compressed straight behind its header (no copy). */
extern bytea *GzipDeflateBytea(const char *in, size_t len, int level);

/*
 * Inflates one or more concatenated gzip members from a client. `what`
 * names the input in messages ("body"). Result is palloc'd and has a NUL
 * byte after out_len bytes (not counted) for the convenience of parsers.
 */
extern char *GzipInflateClient(const char *in, size_t len, size_t cap,
							   const char *what, size_t *out_len);

/*
 * Inflates a stored batch whose uncompressed length must be exactly
 * `expected_len`. Any mismatch or corruption is XX001 naming batch_id.
 */
extern char *GzipInflateStored(const char *in, size_t len, size_t expected_len,
							   int64 batch_id);

/*
 * The same into dest, which has room for exactly expected_len bytes (the
 * merged stream inflates batches straight into its result this way).
 */
extern void GzipInflateStoredInto(const char *in, size_t len, char *dest,
								  size_t expected_len, int64 batch_id);

#endif							/* DOZOR_GZIP_H */
