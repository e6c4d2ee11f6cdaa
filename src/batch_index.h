/*
 * batch_index.h — the compact per-batch event index stored beside each
 * gzip blob (dozor.event_batches.event_index).
 *
 * It is what lets the history feed, the marker list and the timeline
 * mapping skip decompression entirely (docs/SPEC.md §6): for every event of the
 * batch, in the order sent, its timestamp, its class and the length of its
 * text inside the stored JSON array. About 4–6 bytes an event.
 *
 * Format, version 2:
 *   byte    'D'  magic
 *   byte    2    version
 *   varint  n    number of events (must equal event_batches.event_count)
 *   n times:
 *     zigzag varint  timestamp minus the previous event's (the first event's
 *                    is relative to event_batches.first_timestamp)
 *     varint         length in bytes of the event's text
 *     byte           EventClass
 *   4 bytes CRC-32C of the batch's digest (event_batches.content_hash)
 *           followed by everything before it, little-endian
 *
 * Seeding the checksum with the digest binds the index to its row: a valid
 * index copied from another batch fails it. The gzip blob is bound the same
 * way: its trailer (CRC-32 and length of the events) must agree with the
 * digest and raw_bytes (BatchBlobCheck). Version 1 (dozor 0.1.0) had an
 * unseeded checksum and no keyframe classes; the 0.2.0 upgrade rebuilds
 * those indexes from their blobs.
 *
 * The stored array is "[" e0 "," e1 "," ... "]", so offsets follow from
 * lengths. The decoder trusts nothing: the checksum first, then every
 * varint, class, total length and the min/max timestamps against the batch
 * row; any mismatch is XX001 naming the batch.
 */
#ifndef DOZOR_BATCH_INDEX_H
#define DOZOR_BATCH_INDEX_H

#include "postgres.h"
#include "lib/stringinfo.h"

#define BATCH_INDEX_MAGIC 'D'
#define BATCH_INDEX_VERSION 2

/* event_batches.content_hash: 64-bit hash, then the gzip trailer's CRC-32. */
#define BATCH_DIGEST_BYTES 12
#define BATCH_DIGEST_CRC_OFFSET 8

/* What the encoder is given per event. */
typedef struct BatchIndexEntry
{
	int64		timestamp;
	uint32		length;
	uint8		cls;
} BatchIndexEntry;

/* A decoded batch index: parallel arrays in batch order. */
typedef struct BatchIndex
{
	int			count;
	int64	   *timestamp;
	uint32	   *offset;			/* of the event's text in the inflated array */
	uint32	   *length;
	uint8	   *cls;
} BatchIndex;

/* The batch row fields the decoder checks the index against. */
typedef struct BatchRow
{
	int64		id;
	int64		first_timestamp;
	int64		last_timestamp;
	int32		event_count;
	int32		raw_bytes;
	const char *digest;			/* content_hash bytes */
	size_t		digest_len;
} BatchRow;

/* Appends the encoded index of entries[0..n), sealed with the digest. */
extern void BatchIndexEncode(const BatchIndexEntry *entries, int n,
							 int64 first_timestamp, const char *digest,
							 StringInfo out);

/* Decodes and verifies a stored index; XX001 naming the batch on any lie. */
extern void BatchIndexDecode(const char *data, size_t len, const BatchRow *row,
							 BatchIndex *out);

/*
 * Checks that a stored gzip blob is the row's own: its trailer's CRC-32 and
 * length agree with the digest and raw_bytes. XX001 naming the batch if not.
 */
extern void BatchBlobCheck(const BatchRow *row, const char *gz, size_t len);

#endif							/* DOZOR_BATCH_INDEX_H */
