/*
 * fuzz_gzip.c — libFuzzer target for src/gzip.c (libdeflate behind a
 * gzip framing parser, palloc'd buffers, a hard output cap).
 *
 * Input layout: byte 0 is the mode, the rest is the payload.
 *   mode bits 0-1  output cap: 64 B, 4 KiB, 1 MiB or the 10 MiB body cap
 *   mode bit 2     0: the payload is a client body -> GzipInflateClient
 *                     (22P02 or 54000 allowed);
 *                  1: the payload is a stored blob -> GzipInflateStored with
 *                     expected length from the next 3 bytes (XX001 naming
 *                     the batch allowed)
 *   mode bit 3     round trip instead: the payload is compressed with
 *                  GzipDeflate (level from byte 1) as one or two members
 *                  (bit 4), must inflate back exactly through both paths
 *                  (client: unless over the cap, then 54000); then one bit
 *                  of the compressed bytes (position from bytes 2-3) is
 *                  flipped, and both inflaters must either fail cleanly or
 *                  return the original bytes.
 * Client output must also respect the cap; stored output must be exactly
 * the expected length.
 */
#include "gzip.h"

#include "util.h"

#define BATCH_ID 777000777LL

static const size_t caps[4] = {64, 4096, 1024 * 1024, DOZOR_MAX_BODY_BYTES};

typedef struct Inflate
{
	const char *in;
	size_t		len;
	size_t		cap;			/* client */
	size_t		expected;		/* stored */
	bool		stored;
	char	   *out;
	size_t		out_len;
} Inflate;

static void
RunInflate(void *arg)
{
	Inflate    *f = arg;

	if (f->stored)
	{
		f->out = GzipInflateStored(f->in, f->len, f->expected, BATCH_ID);
		f->out_len = f->expected;
	}
	else
		f->out = GzipInflateClient(f->in, f->len, f->cap, "body", &f->out_len);
}

/* Runs one inflate; true on success, aborts on an error outside the contract. */
static bool
InflateChecked(Inflate *f)
{
	if (FuzzCall(RunInflate, f))
	{
		if (!f->stored && f->out_len > f->cap)
			FuzzFail("client inflate returned %zu bytes over the cap %zu", f->out_len, f->cap);
		if (f->out[f->out_len] != '\0')
			FuzzFail("inflated output is not NUL-terminated");
		return true;
	}
	if (f->stored)
	{
		if (!FuzzErrorIn("XX001"))
			FuzzUnexpectedError("GzipInflateStored", "XX001");
		if (strstr(fuzz_error.message, "777000777") == NULL)
			FuzzFail("XX001 message does not name the batch: %s", fuzz_error.message);
	}
	else if (!FuzzErrorIn("22P02 54000"))
		FuzzUnexpectedError("GzipInflateClient", "22P02 54000");
	return false;
}

typedef struct Deflate
{
	const char *in;
	size_t		len;
	int			level;
	char	   *out;
	size_t		out_len;
} Deflate;

static void
RunDeflate(void *arg)
{
	Deflate    *d = arg;

	d->out = GzipDeflate(d->in, d->len, d->level, &d->out_len);
}

static void
RoundTrip(uint8 mode, FuzzReader *r)
{
	Deflate		d;
	Inflate		f;
	size_t		cap = caps[mode & 3];
	int			level = (int) (FuzzTake(r, 1) % 13);
	size_t		flip = (size_t) FuzzTake(r, 2);
	bool		two = (mode & 16) != 0;
	char	   *gz;
	size_t		gz_len;
	bool		ok;

	d.in = FuzzExactCopy(r->p, r->left);
	d.len = r->left;
	d.level = level;
	if (!FuzzCall(RunDeflate, &d))
		FuzzUnexpectedError("GzipDeflate", "(none)");
	gz = d.out;
	gz_len = d.out_len;
	if (two)
	{
		/* two members: the body, then the body again */
		gz = palloc(gz_len * 2);
		memcpy(gz, d.out, gz_len);
		memcpy(gz + gz_len, d.out, gz_len);
		gz_len *= 2;
	}

	/* client path */
	memset(&f, 0, sizeof(f));
	f.in = FuzzExactCopy((const uint8_t *) gz, gz_len);
	f.len = gz_len;
	f.cap = cap;
	ok = InflateChecked(&f);
	if (d.len * (two ? 2 : 1) <= cap)
	{
		if (!ok)
			FuzzFail("round trip of %zu bytes failed: %s %s", d.len, fuzz_error.sqlstate, fuzz_error.message);
		if (f.out_len != d.len * (two ? 2 : 1) || memcmp(f.out, d.in, d.len) != 0 ||
			(two && memcmp(f.out + d.len, d.in, d.len) != 0))
			FuzzFail("round trip changed the bytes");
	}
	else if (ok || !FuzzErrorIn("54000"))
		FuzzFail("%zu bytes over a cap of %zu were not refused with 54000", d.len, cap);

	/* stored path: right length works, a wrong one is XX001 */
	f.stored = true;
	f.expected = d.len * (two ? 2 : 1);
	if (!InflateChecked(&f))
		FuzzFail("stored round trip failed: %s", fuzz_error.message);
	if (memcmp(f.out, d.in, d.len) != 0)
		FuzzFail("stored round trip changed the bytes");
	f.expected = d.len * (two ? 2 : 1) + 1;
	if (InflateChecked(&f))
		FuzzFail("stored inflate accepted a wrong expected length");
	if (f.expected > 1)
	{
		f.expected -= 2;
		if (InflateChecked(&f))
			FuzzFail("stored inflate accepted a shorter expected length");
	}

	/* one flipped bit: a clean error, or the same bytes */
	if (gz_len > 0)
	{
		char	   *bad = FuzzExactCopy((const uint8_t *) gz, gz_len);
		size_t		bit = flip % (gz_len * 8);

		bad[bit / 8] ^= (char) (1 << (bit % 8));
		memset(&f, 0, sizeof(f));
		f.in = bad;
		f.len = gz_len;
		f.cap = caps[3];
		if (InflateChecked(&f) &&
			(f.out_len != d.len * (two ? 2 : 1) || memcmp(f.out, d.in, d.len) != 0))
			FuzzFail("a flipped bit (%zu) inflated to different bytes without an error", bit);
		f.stored = true;
		f.expected = d.len * (two ? 2 : 1);
		if (InflateChecked(&f) && memcmp(f.out, d.in, d.len) != 0)
			FuzzFail("a flipped bit (%zu) in a stored blob went unnoticed", bit);
	}
}

static bool initialized = false;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzReader	r = {data, size};
	uint8		mode = (uint8) FuzzTake(&r, 1);
	Inflate		f;

	if (!initialized)
	{
		GzipInit();
		initialized = true;
	}
	if (mode & 8)
	{
		RoundTrip(mode, &r);
		FuzzMemoryReset();
		return 0;
	}

	memset(&f, 0, sizeof(f));
	f.stored = (mode & 4) != 0;
	f.cap = caps[mode & 3];
	if (f.stored)
		f.expected = (size_t) FuzzTake(&r, 3);	/* up to 16 MiB */
	f.in = FuzzExactCopy(r.p, r.left);
	f.len = r.left;
	(void) InflateChecked(&f);
	FuzzMemoryReset();
	return 0;
}
