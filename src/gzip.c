/*
 * gzip.c — gzip compression and bounded decompression with libdeflate.
 *
 * libdeflate works on whole buffers only: it inflates into a buffer the
 * caller sizes and returns LIBDEFLATE_INSUFFICIENT_SPACE the moment output
 * would pass its end.  That is what bounds a gzip bomb: the buffer is never
 * larger than the cap, so a 1 GiB bomb costs at most `cap` bytes of work.
 *
 * The buffer starts at a guess (the last member's ISIZE trailer, exact for
 * the usual single-member body, or the known length of a stored batch) and
 * grows at most once, to the cap, when the guess was too small (multi-member
 * input, or an ISIZE that lies).  The member being inflated is then redone
 * into the larger buffer; members already inflated are kept.
 *
 * The gzip framing (RFC 1952) is parsed here and libdeflate only inflates the
 * raw DEFLATE body.  That costs nothing (libdeflate's gzip wrapper does the
 * same CRC-32 pass) and lets messages say what is wrong — truncated header or
 * trailer, CRC mismatch, trailing garbage — where libdeflate has one BAD_DATA.
 * libdeflate cannot tell a DEFLATE body cut short from one that is corrupt,
 * so neither can we.
 *
 * Every failure inside the inflater is a GzipStatus plus a reason string; the
 * two public inflaters map it to their own SQLSTATEs, so the client path
 * (22P02/54000) and the storage path (XX001) share one implementation.
 */
#include "postgres.h"

#include <libdeflate.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "gzip.h"

PG_FUNCTION_INFO_V1(dozor_gzip);
PG_FUNCTION_INFO_V1(dozor_gunzip);

#define GZIP_MAX_LEVEL		12

/* RFC 1952 header: magic, method, flags, mtime, xfl, os. */
#define GZIP_ID1			0x1f
#define GZIP_ID2			0x8b
#define GZIP_CM_DEFLATE		8
#define GZIP_HEADER_MIN		10
#define GZIP_TRAILER_LEN	8
#define GZIP_FHCRC			0x02
#define GZIP_FEXTRA			0x04
#define GZIP_FNAME			0x08
#define GZIP_FCOMMENT		0x10
#define GZIP_FRESERVED		0xe0

/*
 * DEFLATE cannot expand more than 1032:1 (a 258-byte match costs at least
 * two bits), so a claim of more output than this per input byte is a lie.
 */
#define DEFLATE_MAX_RATIO	1032

/*
 * Unused tail of an output buffer worth giving back with repalloc: the
 * buffer may have grown to the 10 MiB cap for a few bytes of output.
 */
#define GZIP_SHRINK_SLACK	((size_t) 64 * 1024)

typedef enum GzipStatus
{
	GZIP_OK,
	GZIP_CORRUPT,				/* not gzip, or damaged */
	GZIP_TOO_LONG				/* more output than the cap */
} GzipStatus;

/* Created on first use, kept for the life of the backend. */
static struct libdeflate_decompressor *gzip_decompressor = NULL;
static struct libdeflate_compressor *gzip_compressors[GZIP_MAX_LEVEL + 1];

/* malloc for libdeflate: TopMemoryContext, NULL (not ERROR) when out of memory. */
static void *
GzipMalloc(size_t size)
{
	/* libdeflate handles NULL; an ERROR longjmp through it is avoided. */
	return MemoryContextAllocExtended(TopMemoryContext, Max(size, 1),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/* free for libdeflate. */
static void
GzipFree(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/* Routes libdeflate's allocations through palloc; called from _PG_init. */
void
GzipInit(void)
{
	/* Must precede any (de)compressor: they are all created lazily. */
	libdeflate_set_memory_allocator(GzipMalloc, GzipFree);
}

/* The backend's decompressor, created on first use. */
static struct libdeflate_decompressor *
GzipDecompressor(void)
{
	if (gzip_decompressor == NULL)
	{
		gzip_decompressor = libdeflate_alloc_decompressor();
		if (gzip_decompressor == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not allocate a gzip decompressor.")));
	}
	return gzip_decompressor;
}

/* The backend's compressor for `level`, created on first use. */
static struct libdeflate_compressor *
GzipCompressor(int level)
{
	if (level < 0 || level > GZIP_MAX_LEVEL)
		elog(ERROR, "gzip level %d out of range", level);
	if (gzip_compressors[level] == NULL)
	{
		gzip_compressors[level] = libdeflate_alloc_compressor(level);
		if (gzip_compressors[level] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not allocate a gzip compressor for level %d.",
							   level)));
	}
	return gzip_compressors[level];
}

/* Little-endian 32-bit value at p (gzip trailers are little-endian). */
static inline uint32
GzipLe32(const unsigned char *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) |
		((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

/*
 * Parses the member header at in[0..avail); on success sets *hdr_len to its
 * length.  `first` chooses how bytes without the gzip magic are described.
 */
static GzipStatus
GzipParseHeader(const unsigned char *in, size_t avail, bool first,
				size_t *hdr_len, const char **reason)
{
	size_t		pos;
	unsigned char flags;

	if ((avail >= 1 && in[0] != GZIP_ID1) ||
		(avail >= 2 && in[1] != GZIP_ID2))
	{
		*reason = first ? "missing gzip magic bytes" : "trailing garbage";
		return GZIP_CORRUPT;
	}
	if (avail < GZIP_HEADER_MIN)
	{
		*reason = "truncated data";
		return GZIP_CORRUPT;
	}
	if (in[2] != GZIP_CM_DEFLATE)
	{
		*reason = "unsupported compression method";
		return GZIP_CORRUPT;
	}
	flags = in[3];
	if (flags & GZIP_FRESERVED)
	{
		*reason = "reserved header flags set";
		return GZIP_CORRUPT;
	}
	pos = GZIP_HEADER_MIN;

	if (flags & GZIP_FEXTRA)
	{
		size_t		xlen;

		if (avail - pos < 2)
			goto truncated;
		xlen = (size_t) in[pos] | ((size_t) in[pos + 1] << 8);
		pos += 2;
		if (avail - pos < xlen)
			goto truncated;
		pos += xlen;
	}
	if (flags & GZIP_FNAME)
	{
		const unsigned char *nul = memchr(in + pos, 0, avail - pos);

		if (nul == NULL)
			goto truncated;
		pos = (nul - in) + 1;
	}
	if (flags & GZIP_FCOMMENT)
	{
		const unsigned char *nul = memchr(in + pos, 0, avail - pos);

		if (nul == NULL)
			goto truncated;
		pos = (nul - in) + 1;
	}
	if (flags & GZIP_FHCRC)
	{
		uint32		crc;

		if (avail - pos < 2)
			goto truncated;
		/* The header CRC is the low 16 bits of the CRC-32 of the bytes before it. */
		crc = libdeflate_crc32(0, in, pos);
		if ((crc & 0xffff) != ((uint32) in[pos] | ((uint32) in[pos + 1] << 8)))
		{
			*reason = "header CRC mismatch";
			return GZIP_CORRUPT;
		}
		pos += 2;
	}
	*hdr_len = pos;
	return GZIP_OK;

truncated:
	*reason = "truncated data";
	return GZIP_CORRUPT;
}

/* Allocates prefix + size + 1 bytes (the 1 for a NUL) with overflow checks. */
static char *
GzipAllocOutput(size_t prefix, size_t size)
{
	return MemoryContextAllocHuge(CurrentMemoryContext,
								  add_size(add_size(prefix, size), 1));
}

/*
 * Inflates every gzip member of in[0..len) into buf[0..size). Returns
 * GZIP_TOO_LONG as soon as the output would pass size; otherwise *produced
 * is the output length, or *reason says what was wrong.
 */
static GzipStatus
GzipInflateInto(const char *in, size_t len, char *buf, size_t size,
				size_t *produced, const char **reason)
{
	struct libdeflate_decompressor *d = GzipDecompressor();
	const unsigned char *src = (const unsigned char *) in;
	size_t		pos = 0;

	*produced = 0;
	if (len == 0)
	{
		*reason = "empty input";
		return GZIP_CORRUPT;
	}

	for (;;)
	{
		GzipStatus	st;
		size_t		hdr_len;
		size_t		body;
		size_t		in_used;
		size_t		got;
		size_t		tail;
		enum libdeflate_result res;

		CHECK_FOR_INTERRUPTS();

		st = GzipParseHeader(src + pos, len - pos, pos == 0, &hdr_len, reason);
		if (st != GZIP_OK)
			return st;
		body = pos + hdr_len;
		if (body == len)
		{
			*reason = "truncated data";
			return GZIP_CORRUPT;
		}

		res = libdeflate_deflate_decompress_ex(d, src + body, len - body,
											   buf + *produced, size - *produced,
											   &in_used, &got);
		if (res == LIBDEFLATE_INSUFFICIENT_SPACE)
			return GZIP_TOO_LONG;
		if (res != LIBDEFLATE_SUCCESS)
		{
			*reason = "invalid or truncated deflate data";
			return GZIP_CORRUPT;
		}

		tail = body + in_used;
		if (len - tail < GZIP_TRAILER_LEN)
		{
			*reason = "truncated data";
			return GZIP_CORRUPT;
		}
		if (libdeflate_crc32(0, buf + *produced, got) != GzipLe32(src + tail))
		{
			*reason = "CRC mismatch";
			return GZIP_CORRUPT;
		}
		/* ISIZE is the length modulo 2^32. */
		if ((uint32) got != GzipLe32(src + tail + 4))
		{
			*reason = "length mismatch";
			return GZIP_CORRUPT;
		}

		*produced += got;
		pos = tail + GZIP_TRAILER_LEN;
		if (pos == len)
			return GZIP_OK;
		/* More bytes: they must be another member (checked by its header). */
	}
}

/*
 * Inflates client input into a buffer of at most `cap` bytes of output,
 * trying `guess` bytes first and, when that is short, the cap once (so the
 * work stays bounded by about twice the cap). The buffer has `prefix`
 * unused bytes in front (room for a varlena header) and a NUL after the
 * output.
 */
static GzipStatus
GzipInflateMembers(const char *in, size_t len, size_t cap, size_t guess,
				   size_t prefix, char **out, size_t *out_len,
				   const char **reason)
{
	size_t		size = Min(guess, cap);
	char	   *buf = GzipAllocOutput(prefix, size);
	GzipStatus	st;

	st = GzipInflateInto(in, len, buf + prefix, size, out_len, reason);
	if (st == GZIP_TOO_LONG && size < cap)
	{
		/* The guess was short: grow once to the cap and start over. */
		size = cap;
		buf = repalloc_huge(buf, add_size(add_size(prefix, size), 1));
		st = GzipInflateInto(in, len, buf + prefix, size, out_len, reason);
	}
	if (st != GZIP_OK)
		return st;

	/* Give back a buffer grown to the cap for a much smaller output. */
	if (size - *out_len > GZIP_SHRINK_SLACK)
		buf = repalloc_huge(buf, prefix + *out_len + 1);
	buf[prefix + *out_len] = '\0';
	*out = buf;
	return GZIP_OK;
}

/* The size to try first for client input: the last member's ISIZE. */
static size_t
GzipGuess(const char *in, size_t len, size_t cap)
{
	size_t		isize;

	if (len < GZIP_HEADER_MIN + GZIP_TRAILER_LEN)
		return 0;
	isize = GzipLe32((const unsigned char *) in + len - 4);
	/* A claim beyond what DEFLATE can produce from len bytes is ignored. */
	if (isize / DEFLATE_MAX_RATIO > len)
		return cap;
	return Min(isize, cap);
}

/*
 * Client-input inflate with `prefix` spare bytes in front of the output;
 * reports errors as 22P02 / 54000.  Returns the buffer start.
 */
static char *
GzipInflateClientPrefixed(const char *in, size_t len, size_t cap,
						  const char *what, size_t prefix, size_t *out_len)
{
	char	   *out = NULL;
	const char *reason = NULL;
	GzipStatus	st;

	st = GzipInflateMembers(in, len, cap, GzipGuess(in, len, cap), prefix,
							&out, out_len, &reason);
	if (st == GZIP_TOO_LONG)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s exceeds %zu bytes after decompression", what, cap)));
	if (st != GZIP_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("%s is not valid gzip", what),
				 errdetail("%c%s.", pg_toupper((unsigned char) reason[0]), reason + 1)));
	return out;
}

/* Inflates one or more concatenated gzip members from a client. */
char *
GzipInflateClient(const char *in, size_t len, size_t cap,
				  const char *what, size_t *out_len)
{
	return GzipInflateClientPrefixed(in, len, cap, what, 0, out_len);
}

/* Inflates a stored batch of exactly expected_len bytes into dest. */
void
GzipInflateStoredInto(const char *in, size_t len, char *dest, size_t expected_len,
					  int64 batch_id)
{
	size_t		out_len = 0;
	const char *reason = NULL;
	GzipStatus	st;

	st = GzipInflateInto(in, len, dest, expected_len, &out_len, &reason);
	if (st == GZIP_TOO_LONG)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: inflates to more than %zu bytes",
						(long long) batch_id, expected_len)));
	if (st != GZIP_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: its data is not valid gzip",
						(long long) batch_id),
				 errdetail("%c%s.", pg_toupper((unsigned char) reason[0]), reason + 1)));
	if (out_len != expected_len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: inflates to %zu bytes instead of %zu",
						(long long) batch_id, out_len, expected_len)));
}

/* Inflates a stored batch that must be exactly expected_len bytes. */
char *
GzipInflateStored(const char *in, size_t len, size_t expected_len,
				  int64 batch_id)
{
	char	   *out;

	/* Refuse before allocating when the stored length cannot be right. */
	if (expected_len / DEFLATE_MAX_RATIO > len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: %zu compressed bytes cannot inflate to %zu bytes",
						(long long) batch_id, len, expected_len)));
	out = GzipAllocOutput(0, expected_len);
	GzipInflateStoredInto(in, len, out, expected_len, batch_id);
	out[expected_len] = '\0';
	return out;
}

/*
 * gzip of in[0..len) with `prefix` spare bytes in front of the output.
 * Returns the buffer start; *out_len excludes the prefix.
 */
static char *
GzipDeflatePrefixed(const char *in, size_t len, int level, size_t prefix,
					size_t *out_len)
{
	struct libdeflate_compressor *c = GzipCompressor(level);
	size_t		bound = libdeflate_gzip_compress_bound(c, len);
	size_t		total = add_size(prefix, bound);
	char	   *buf;
	size_t		n;

	if (total > MaxAllocHugeSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot gzip %zu bytes", len)));
	buf = MemoryContextAllocHuge(CurrentMemoryContext, total);
	n = libdeflate_gzip_compress(c, in, len, buf + prefix, bound);
	/* The bound is libdeflate's own worst case, so 0 (no room) cannot happen. */
	if (n == 0)
		elog(ERROR, "libdeflate_gzip_compress failed for %zu bytes", len);
	if (bound - n > GZIP_SHRINK_SLACK)
		buf = repalloc_huge(buf, prefix + n);
	*out_len = n;
	return buf;
}

/* gzip of in[0..len) at libdeflate level 0..12; palloc'd result. */
char *
GzipDeflate(const char *in, size_t len, int level, size_t *out_len)
{
	return GzipDeflatePrefixed(in, len, level, 0, out_len);
}

/* gzip of in[0..len) as a bytea, compressed straight behind its header. */
bytea *
GzipDeflateBytea(const char *in, size_t len, int level)
{
	size_t		out_len;
	char	   *buf = GzipDeflatePrefixed(in, len, level, VARHDRSZ, &out_len);

	SET_VARSIZE(buf, VARHDRSZ + out_len);
	return (bytea *) buf;
}

/* SQL: dozor_gzip(data bytea, level integer DEFAULT 6) RETURNS bytea */
Datum
dozor_gzip(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	int32		level = PG_GETARG_INT32(1);
	size_t		len = VARSIZE_ANY_EXHDR(data);

	if (level < 0 || level > GZIP_MAX_LEVEL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("gzip level must be between 0 and %d, not %d",
						GZIP_MAX_LEVEL, level)));
	if (len > DOZOR_MAX_BODY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("data exceeds %zu bytes", DOZOR_MAX_BODY_BYTES)));

	PG_RETURN_BYTEA_P(GzipDeflateBytea(VARDATA_ANY(data), len, level));
}

/* SQL: dozor_gunzip(data bytea) RETURNS bytea, capped like a request body. */
Datum
dozor_gunzip(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	size_t		out_len;
	char	   *buf;

	buf = GzipInflateClientPrefixed(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data),
									DOZOR_MAX_BODY_BYTES, "data", VARHDRSZ,
									&out_len);
	SET_VARSIZE(buf, VARHDRSZ + out_len);
	PG_RETURN_BYTEA_P((bytea *) buf);
}
