/*
 * fuzz_batch_index.c — libFuzzer target for BatchIndexDecode
 * (src/batch_index.c): the per-batch index read back from
 * dozor.event_batches.event_index, i.e. bytes from storage, treated as hostile.
 *
 * Input layout:
 *   byte 0   mode
 *            bit 0 clear: the batch row (event_count, raw_bytes, first and
 *                         last timestamp) is derived from a lenient parse of
 *                         the index bytes, so that most inputs get past the
 *                         cross-checks; bits 1-4 then each perturb one field
 *                         by one, to reach each check;
 *            bit 0 set:   the row is read from the next 24 bytes;
 *            bit 7 set:   round trip instead: the rest are entries (2-byte
 *                         timestamp step, 2-byte length, class byte),
 *                         encoded with BatchIndexEncode, which must decode.
 *   rest     the index bytes (sealed with FUZZ_DIGEST, as seeds.js writes
 *            them; libFuzzer's comparison tracing finds the checksum).
 * Decoding either succeeds, and then the result must be self-consistent
 * (offsets tile the array, classes in range, count and time window equal
 * the row's, re-encoding decodes to the same arrays), or fails with
 * SQLSTATE XX001 and a message naming the batch id. Anything else aborts.
 */
#include "batch_index.h"
#include "event.h"

#include "util.h"

#define BATCH_ID 4242424242LL
/* The row's content_hash the index is sealed with (seeds.js uses it too). */
#define FUZZ_DIGEST "dozor-fuzz-d"

#define BASE_TIMESTAMP 1700000000000LL

typedef struct Decode
{
	const char *data;
	size_t		len;
	BatchRow	row;
	BatchIndex	index;
} Decode;

static void
RunDecode(void *arg)
{
	Decode	   *d = arg;

	memset(&d->index, 0, sizeof(d->index));
	BatchIndexDecode(d->data, d->len, &d->row, &d->index);
}

/* Reads a varint like the decoder would, without its checks. */
static bool
LenientVarint(const unsigned char **p, const unsigned char *end, uint64 *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7)
	{
		unsigned char b;

		if (*p >= end)
			return false;
		b = *(*p)++;
		*v |= (uint64) (b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* The row that would make the index bytes consistent, as far as they parse. */
static void
DeriveRow(const char *data, size_t len, BatchRow *row)
{
	const unsigned char *p = (const unsigned char *) data;
	const unsigned char *end = p + len;
	uint64		count = 0;
	uint64		n = 0;
	uint64		raw = 1;
	int64		prev = 0;
	int64		hi = PG_INT64_MIN;

	if (len >= 2)
	{
		p += 2;
		if (LenientVarint(&p, end, &count))
		{
			while (n < count)
			{
				uint64		delta;
				uint64		length;

				if (!LenientVarint(&p, end, &delta) || !LenientVarint(&p, end, &length) || p >= end)
					break;
				p++;
				prev += (int64) (delta >> 1) ^ -(int64) (delta & 1);
				hi = Max(hi, prev);
				raw += length + 1;
				n++;
			}
		}
	}
	/*
	 * The decoder starts from first_timestamp, so the window it finds is
	 * [first + lo, first + hi]; it matches the row only when lo is 0, which
	 * is what the encoder writes (the earliest event has delta sum 0).
	 * Mutated deltas fail the window check; the perturbation bits and the
	 * explicit-row mode reach the remaining checks.
	 */
	row->event_count = (int32) count;
	row->raw_bytes = (int32) Min(raw, (uint64) PG_INT32_MAX);
	row->first_timestamp = BASE_TIMESTAMP;
	row->last_timestamp = n > 0 ? BASE_TIMESTAMP + hi : BASE_TIMESTAMP;
}

/* Decodes; returns true on success, checks the error otherwise. */
static bool
DecodeChecked(Decode *d)
{
	char		id[32];

	if (FuzzCall(RunDecode, d))
		return true;
	if (!FuzzErrorIn("XX001"))
		FuzzUnexpectedError("BatchIndexDecode", "XX001");
	snprintf(id, sizeof(id), "%lld", (long long) d->row.id);
	if (strstr(fuzz_error.message, id) == NULL)
		FuzzFail("XX001 message does not name batch %s: %s", id, fuzz_error.message);
	return false;
}

/* A successful decode must describe a well-formed batch. */
static void
CheckDecoded(const Decode *d)
{
	const BatchIndex *ix = &d->index;
	int64		lo = PG_INT64_MAX;
	int64		hi = PG_INT64_MIN;
	uint64		offset = 1;

	if (ix->count != d->row.event_count || ix->count <= 0)
		FuzzFail("decoded %d events for a row of %d", ix->count, d->row.event_count);
	for (int i = 0; i < ix->count; i++)
	{
		if (ix->offset[i] != offset)
			FuzzFail("event %d at offset %u, expected %llu", i, ix->offset[i],
					 (unsigned long long) offset);
		if (ix->length[i] < 2)
			FuzzFail("event %d has length %u", i, ix->length[i]);
		if (ix->cls[i] > EVENT_CLASS_MAX)
			FuzzFail("event %d has class %u", i, ix->cls[i]);
		offset += (uint64) ix->length[i] + 1;
		lo = Min(lo, ix->timestamp[i]);
		hi = Max(hi, ix->timestamp[i]);
	}
	if (offset != (uint64) d->row.raw_bytes)
		FuzzFail("events cover %llu bytes of %d", (unsigned long long) offset, d->row.raw_bytes);
	if (lo != d->row.first_timestamp || hi != d->row.last_timestamp)
		FuzzFail("time window [%lld, %lld] vs row [%lld, %lld]", (long long) lo,
				 (long long) hi, (long long) d->row.first_timestamp,
				 (long long) d->row.last_timestamp);
}

/* Encodes the decoded arrays again; they must decode to the same thing. */
static void
CheckReencode(const Decode *d)
{
	const BatchIndex *ix = &d->index;
	BatchIndexEntry *entries = palloc(sizeof(BatchIndexEntry) * ix->count);
	StringInfoData buf;
	Decode		again;

	for (int i = 0; i < ix->count; i++)
	{
		entries[i].timestamp = ix->timestamp[i];
		entries[i].length = ix->length[i];
		entries[i].cls = ix->cls[i];
	}
	initStringInfo(&buf);
	BatchIndexEncode(entries, ix->count, d->row.first_timestamp, FUZZ_DIGEST, &buf);
	if ((size_t) buf.len > d->len)
		FuzzFail("canonical encoding (%d bytes) longer than the input (%zu)", buf.len, d->len);
	again.data = buf.data;
	again.len = buf.len;
	again.row = d->row;
	if (!FuzzCall(RunDecode, &again))
		FuzzFail("re-encoded index does not decode: %s %s", fuzz_error.sqlstate, fuzz_error.message);
	for (int i = 0; i < ix->count; i++)
		if (again.index.timestamp[i] != ix->timestamp[i] || again.index.length[i] != ix->length[i] ||
			again.index.cls[i] != ix->cls[i] || again.index.offset[i] != ix->offset[i])
			FuzzFail("re-encoded index decodes differently at event %d", i);
}

/* Mode 0x80: structured entries through the encoder, then the decoder. */
static void
RoundTrip(FuzzReader *r)
{
	int			n = (int) (r->left / 5);
	BatchIndexEntry *entries;
	StringInfoData buf;
	Decode		d;
	int64		ts = 1700000000000LL;
	int64		lo = PG_INT64_MAX;
	int64		hi = PG_INT64_MIN;
	uint64		raw = 1;

	if (n == 0)
		return;
	entries = palloc(sizeof(BatchIndexEntry) * n);
	for (int i = 0; i < n; i++)
	{
		int16		step = (int16) FuzzTake(r, 2);	/* out of order allowed */

		ts += step;
		entries[i].timestamp = ts;
		entries[i].length = 2 + (uint32) FuzzTake(r, 2);
		entries[i].cls = (uint8) (FuzzTake(r, 1) % (EVENT_CLASS_MAX + 1));
		lo = Min(lo, ts);
		hi = Max(hi, ts);
		raw += entries[i].length + 1;
	}
	/* Batches hold at most DOZOR_MAX_BODY_BYTES (10 MiB); the decoder refuses more. */
	if (raw > (uint64) 10 * 1024 * 1024)
		return;
	initStringInfo(&buf);
	BatchIndexEncode(entries, n, lo, FUZZ_DIGEST, &buf);
	d.data = buf.data;
	d.len = buf.len;
	d.row.id = BATCH_ID;
	d.row.first_timestamp = lo;
	d.row.last_timestamp = hi;
	d.row.event_count = n;
	d.row.raw_bytes = (int32) raw;
	d.row.digest = FUZZ_DIGEST;
	d.row.digest_len = BATCH_DIGEST_BYTES;
	if (!FuzzCall(RunDecode, &d))
		FuzzFail("an encoded index does not decode: %s %s", fuzz_error.sqlstate, fuzz_error.message);
	CheckDecoded(&d);
	for (int i = 0; i < n; i++)
		if (d.index.timestamp[i] != entries[i].timestamp || d.index.length[i] != entries[i].length ||
			d.index.cls[i] != entries[i].cls)
			FuzzFail("round trip changed event %d", i);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzReader	r = {data, size};
	uint8		mode = (uint8) FuzzTake(&r, 1);
	Decode		d;

	if (mode & 0x80)
	{
		RoundTrip(&r);
		FuzzMemoryReset();
		return 0;
	}

	memset(&d, 0, sizeof(d));
	d.row.id = BATCH_ID;
	d.row.digest = FUZZ_DIGEST;
	d.row.digest_len = BATCH_DIGEST_BYTES;
	if (mode & 1)
	{
		d.row.first_timestamp = (int64) FuzzTake(&r, 8);
		d.row.last_timestamp = (int64) FuzzTake(&r, 8);
		d.row.event_count = (int32) FuzzTake(&r, 4);
		d.row.raw_bytes = (int32) FuzzTake(&r, 4);
	}
	d.data = FuzzExactCopy(r.p, r.left);
	d.len = r.left;
	if (!(mode & 1))
	{
		DeriveRow(d.data, d.len, &d.row);
		if (mode & 2)
			d.row.event_count++;
		if (mode & 4)
			d.row.raw_bytes--;
		if (mode & 8)
			d.row.first_timestamp--;
		if (mode & 16)
			d.row.last_timestamp++;
	}

	if (DecodeChecked(&d))
	{
		CheckDecoded(&d);
		CheckReencode(&d);
	}
	FuzzMemoryReset();
	return 0;
}
