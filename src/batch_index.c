/*
 * batch_index.c — encoder and hostile-input decoder of the per-batch index
 * (format in batch_index.h).
 */
#include "postgres.h"

#include "common/int.h"
#include "port/pg_crc32c.h"

#include "batch_index.h"
#include "event.h"
#include "gzip.h"

/* Longest LEB128 varint of a uint64. */
#define VARINT_MAX_BYTES 10

/* Writes an unsigned LEB128 varint at p; returns the position after it. */
static inline char *
PutVarint(char *p, uint64 v)
{
	while (v >= 0x80)
	{
		*p++ = (char) ((v & 0x7f) | 0x80);
		v >>= 7;
	}
	*p++ = (char) v;
	return p;
}

/* Zigzag keeps small negative deltas (out-of-order events) small. */
static inline uint64
ZigzagEncode(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}

static inline int64
ZigzagDecode(uint64 v)
{
	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

/* CRC-32C of the digest, then data[0..len). */
static uint32
Checksum(const char *digest, const char *data, size_t len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, digest, BATCH_DIGEST_BYTES);
	COMP_CRC32C(crc, data, len);
	FIN_CRC32C(crc);
	return crc;
}

/* Reads 4 bytes little-endian. */
static inline uint32
GetUint32LE(const unsigned char *p)
{
	return (uint32) p[0] | (uint32) p[1] << 8 | (uint32) p[2] << 16 | (uint32) p[3] << 24;
}

/* Appends the sealed CRC-32C of out->data[start..], little-endian. */
static void
AppendChecksum(StringInfo out, int start, const char *digest)
{
	uint32		crc = Checksum(digest, out->data + start, out->len - start);
	char		bytes[4] = {(char) crc, (char) (crc >> 8), (char) (crc >> 16), (char) (crc >> 24)};

	appendBinaryStringInfo(out, bytes, 4);
}

void
BatchIndexEncode(const BatchIndexEntry *entries, int n, int64 first_timestamp,
				 const char *digest, StringInfo out)
{
	int64		prev = first_timestamp;
	int			start = out->len;
	char	   *p;

	if (n < 0 || n > (PG_INT32_MAX - 2 - VARINT_MAX_BYTES) / (2 * VARINT_MAX_BYTES + 1))
		elog(ERROR, "cannot index %d events", n);
	/* magic, version, count, and per event two varints and a class byte */
	enlargeStringInfo(out, 2 + VARINT_MAX_BYTES + n * (2 * VARINT_MAX_BYTES + 1));
	p = out->data + out->len;
	*p++ = BATCH_INDEX_MAGIC;
	*p++ = BATCH_INDEX_VERSION;
	p = PutVarint(p, (uint64) n);
	for (int i = 0; i < n; i++)
	{
		p = PutVarint(p, ZigzagEncode(entries[i].timestamp - prev));
		p = PutVarint(p, entries[i].length);
		*p++ = (char) entries[i].cls;
		prev = entries[i].timestamp;
	}
	out->len = p - out->data;
	out->data[out->len] = '\0';
	AppendChecksum(out, start, digest);
}

/* Reports stored bytes that are not the batch's own. */
static void
BatchCorrupt(const BatchRow *row, const char *what, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("stored batch %lld is corrupt: %s %s",
					(long long) row->id, what, problem)));
}

/* Checks the digest's length before anything is compared with it. */
static void
CheckDigest(const BatchRow *row)
{
	if (row->digest == NULL || row->digest_len != BATCH_DIGEST_BYTES)
		BatchCorrupt(row, "content_hash", "is not a digest");
}

void
BatchBlobCheck(const BatchRow *row, const char *gz, size_t len)
{
	const unsigned char *trailer = (const unsigned char *) gz + len - 8;

	CheckDigest(row);
	/* 18 bytes: the smallest gzip member (header, empty block, trailer) */
	if (len < 18)
		BatchCorrupt(row, "data", "is too short to be gzip");
	if (memcmp(trailer, row->digest + BATCH_DIGEST_CRC_OFFSET, 4) != 0 ||
		GetUint32LE(trailer + 4) != (uint32) row->raw_bytes)
		BatchCorrupt(row, "data", "is not this batch's (its gzip trailer disagrees with content_hash or raw_bytes)");
}

/* Reports a corrupt index of the batch. */
static void
IndexCorrupt(const BatchRow *row, const char *problem)
{
	BatchCorrupt(row, "event index", problem);
}

/* Reads a varint of at most 10 bytes from [*p, end). */
static uint64
GetVarintSlow(const unsigned char **p, const unsigned char *end, const BatchRow *row)
{
	uint64		v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		unsigned char b;

		if (*p >= end)
			IndexCorrupt(row, "is truncated");
		b = *(*p)++;
		v |= (uint64) (b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	IndexCorrupt(row, "has an overlong varint");
	return 0;					/* keep compiler quiet */
}

/* GetVarintSlow with the one- and two-byte cases (almost every one) inline. */
static inline uint64
GetVarint(const unsigned char **p, const unsigned char *end, const BatchRow *row)
{
	const unsigned char *q = *p;

	if (likely(end - q >= 2))
	{
		if (q[0] < 0x80)
		{
			*p = q + 1;
			return q[0];
		}
		if (q[1] < 0x80)
		{
			*p = q + 2;
			return (q[0] & 0x7f) | ((uint64) q[1] << 7);
		}
	}
	return GetVarintSlow(p, end, row);
}

void
BatchIndexDecode(const char *data, size_t len, const BatchRow *row, BatchIndex *out)
{
	const unsigned char *p = (const unsigned char *) data;
	const unsigned char *end = p + len;
	uint64		count;
	int64		prev = row->first_timestamp;
	int64		min_ts = PG_INT64_MAX;
	int64		max_ts = PG_INT64_MIN;
	uint64		offset = 1;		/* after "[" */

	if (len >= 6 && p[0] == BATCH_INDEX_MAGIC && p[1] == 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: event index has the format of dozor 0.1.0",
						(long long) row->id),
				 errhint("After installing dozor 0.2.0, run ALTER EXTENSION dozor UPDATE: it rebuilds these indexes.")));
	if (len < 6 || p[0] != BATCH_INDEX_MAGIC || p[1] != BATCH_INDEX_VERSION)
		IndexCorrupt(row, "has an unknown format");
	CheckDigest(row);
	/* A flipped class bit, or another batch's index, would silently change
	 * a feed: the sealed checksum covers both. */
	if (Checksum(row->digest, data, len - 4) != GetUint32LE(p + len - 4))
		IndexCorrupt(row, "fails its checksum");
	end -= 4;
	if (row->raw_bytes < 2 || (size_t) row->raw_bytes > DOZOR_MAX_BODY_BYTES)
		IndexCorrupt(row, "belongs to a batch of impossible size");
	p += 2;
	count = GetVarint(&p, end, row);
	/* Each event takes at least 3 bytes, so this also bounds the allocation. */
	if (count != (uint64) row->event_count || count == 0 || count > (uint64) (end - p) / 3)
		IndexCorrupt(row, "does not match the batch's event count");

	out->count = (int) count;
	out->timestamp = palloc(mul_size(count, sizeof(int64)));
	out->offset = palloc(mul_size(count, sizeof(uint32)));
	out->length = palloc(mul_size(count, sizeof(uint32)));
	out->cls = palloc(count);

	for (int i = 0; i < out->count; i++)
	{
		uint64		delta = GetVarint(&p, end, row);
		uint64		length = GetVarint(&p, end, row);
		int64		ts;

		if (p >= end)
			IndexCorrupt(row, "is truncated");
		if (pg_add_s64_overflow(prev, ZigzagDecode(delta), &ts))
			IndexCorrupt(row, "has a timestamp out of range");
		out->cls[i] = *p++;
		if (out->cls[i] > EVENT_CLASS_MAX)
			IndexCorrupt(row, "has an unknown event class");
		if (length < 2 || length > (uint64) row->raw_bytes)
			IndexCorrupt(row, "has an impossible event length");
		out->timestamp[i] = ts;
		out->offset[i] = (uint32) offset;
		out->length[i] = (uint32) length;
		offset += length + 1;	/* the "," or the final "]" */
		if (offset > (uint64) row->raw_bytes)
			IndexCorrupt(row, "describes more bytes than the batch holds");
		prev = ts;
		min_ts = Min(min_ts, ts);
		max_ts = Max(max_ts, ts);
	}
	if (p != end)
		IndexCorrupt(row, "has trailing bytes");
	if (offset != (uint64) row->raw_bytes)
		IndexCorrupt(row, "does not cover the batch's bytes");
	if (min_ts != row->first_timestamp || max_ts != row->last_timestamp)
		IndexCorrupt(row, "disagrees with the batch's time window");
}
