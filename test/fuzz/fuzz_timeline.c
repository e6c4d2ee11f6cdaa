/*
 * fuzz_timeline.c — libFuzzer target for src/timeline.c, the numeric core
 * of the history feed, the console feed's offsets, dozor_events with
 * compress_idle and dozor_to_compressed / dozor_to_real.
 *
 * Input: gap_ms (2 bytes, scaled), cap_ms (2 bytes, scaled), then steps
 * between consecutive timestamps of a session stream (2 bytes each; the
 * stream is sorted, so steps are >= 0; a flag in the high bit makes a step
 * huge, up to the 2^53 limit of ingest). Checks:
 *   - TimelineAdd: compressed times are non-decreasing and every gap over
 *     gap_ms becomes exactly cap_ms, every other gap is kept;
 *   - TimelineToCompressed(event time) equals what TimelineAdd returned
 *     for it (history rows and console offsets use the two and must agree);
 *   - with cap_ms > 0, TimelineToReal inverts it: exactly at event times,
 *     to within rounding anywhere in (and around) the session;
 *   - TimelineToCompressed is monotone over a sweep of real times.
 */
#include "timeline.h"

#include <math.h>

#include "util.h"

#define MAX_SAFE 9007199254740992LL

typedef struct Line
{
	IdleTimeline t;
	int64	   *ts;
	int64	   *comp;
	int			n;
	FuzzReader	r;
} Line;

static void
Build(void *arg)
{
	Line	   *l = arg;
	int64		ts = 1700000000000LL;

	l->n = (int) (l->r.left / 2);
	l->ts = palloc(sizeof(int64) * (l->n + 1));
	l->comp = palloc(sizeof(int64) * (l->n + 1));
	for (int i = 0; i < l->n; i++)
	{
		uint64		step = FuzzTake(&l->r, 2);

		/* high bit: a long idle stretch (hours to years) */
		if (step & 0x8000)
			step = (step & 0x7fff) * UINT64CONST(3600000) * (step % 7 + 1);
		if (ts + (int64) step >= MAX_SAFE)
			step = 0;
		ts += (int64) step;
		l->ts[i] = ts;
		l->comp[i] = TimelineAdd(&l->t, ts);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Line		l;
	int64		gap;
	int64		cap;

	memset(&l, 0, sizeof(l));
	l.r.p = data;
	l.r.left = size;
	gap = (int64) FuzzTake(&l.r, 2) * 10;	/* 0 .. ~11 minutes */
	cap = (int64) FuzzTake(&l.r, 2) * 10;
	TimelineInit(&l.t, gap, cap);
	if (!FuzzCall(Build, &l))
		FuzzUnexpectedError("TimelineAdd", "(none)");

	for (int i = 0; i < l.n; i++)
	{
		double		c = TimelineToCompressed(&l.t, (double) l.ts[i]);

		if (i > 0)
		{
			int64		real_gap = l.ts[i] - l.ts[i - 1];
			int64		want = real_gap > gap ? cap : real_gap;

			if (l.comp[i] - l.comp[i - 1] != want)
				FuzzFail("gap %lld (threshold %lld, cap %lld) became %lld", (long long) real_gap,
						 (long long) gap, (long long) cap, (long long) (l.comp[i] - l.comp[i - 1]));
		}
		if (c != (double) l.comp[i])
			FuzzFail("event %d at %lld: TimelineAdd says %lld, TimelineToCompressed %.17g",
					 i, (long long) l.ts[i], (long long) l.comp[i], c);
		if (cap > 0)
		{
			double		back = TimelineToReal(&l.t, c);

			if (back != (double) l.ts[i])
				FuzzFail("event %d at %lld: compressed %.17g maps back to %.17g",
						 i, (long long) l.ts[i], c, back);
		}
	}

	if (l.n > 0)
	{
		double		lo = (double) l.ts[0] - 100000.0;
		double		hi = (double) l.ts[l.n - 1] + 100000.0;
		double		prev = -INFINITY;

		for (int k = 0; k <= 256; k++)
		{
			double		x = lo + (hi - lo) * k / 256.0;
			double		c = TimelineToCompressed(&l.t, x);

			if (c < prev)
				FuzzFail("TimelineToCompressed not monotone at %.17g: %.17g < %.17g", x, c, prev);
			prev = c;
			if (cap > 0)
			{
				double		back = TimelineToReal(&l.t, c);

				if (fabs(back - x) > 1e-6 * fmax(1.0, fabs(x)) + 1e-3 * fmax(1.0, (hi - lo) / cap))
					FuzzFail("%.17g -> %.17g -> %.17g", x, c, back);
			}
		}
		if (!isnan(TimelineToCompressed(&l.t, NAN)) || !isnan(TimelineToReal(&l.t, NAN)))
			FuzzFail("NaN does not map to NaN");
	}
	FuzzMemoryReset();
	return 0;
}
