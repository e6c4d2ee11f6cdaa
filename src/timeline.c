/*
 * timeline.c — idle compression of a session's timeline (docs/HISTORY.md §3).
 *
 * The arithmetic follows the dashboard's exactly (divide, multiply, add, in
 * double precision) so that compressed times agree to the last bit.
 */
#include "postgres.h"

#include <math.h>

#include "timeline.h"

void
TimelineCheckParameter(const char *name, int64 value)
{
	if (value < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", name)));
}

void
TimelineInit(IdleTimeline *t, int64 gap_ms, int64 cap_ms)
{
	memset(t, 0, sizeof(*t));
	t->gap_ms = gap_ms;
	t->cap_ms = cap_ms;
}

void
TimelineAddGap(IdleTimeline *t, int64 ts)
{
	IdleRange  *r;

	if (t->count == t->capacity)
	{
		t->capacity = t->capacity ? t->capacity * 2 : 16;
		t->ranges = t->ranges ? repalloc(t->ranges, mul_size(t->capacity, sizeof(IdleRange)))
			: palloc(mul_size(t->capacity, sizeof(IdleRange)));
	}
	r = &t->ranges[t->count++];
	r->orig_start = t->prev;
	r->orig_end = ts;
	r->comp_start = t->prev - t->shift;
	r->shift_before = t->shift;
	t->shift += (ts - t->prev) - t->cap_ms;
}

double
TimelineToCompressed(const IdleTimeline *t, double real_ms)
{
	int			lo = 0;
	int			hi = t->count;

	if (isnan(real_ms))
		return real_ms;
	/* The first range that does not end before real_ms (ends ascend). */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (real_ms > (double) t->ranges[mid].orig_end)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->count && real_ms >= (double) t->ranges[lo].orig_start)
	{
		const IdleRange *r = &t->ranges[lo];
		double		span = (double) Max(1, r->orig_end - r->orig_start);
		double		fraction = (real_ms - (double) r->orig_start) / span;
		double		scaled = fraction * (double) t->cap_ms;

		return (double) r->comp_start + scaled;
	}
	return real_ms - (double) (lo < t->count ? t->ranges[lo].shift_before : t->shift);
}

double
TimelineToReal(const IdleTimeline *t, double compressed_ms)
{
	int			lo = 0;
	int			hi = t->count;

	if (isnan(compressed_ms))
		return compressed_ms;
	/* The first range whose compressed window does not end before the point. */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (compressed_ms > (double) (t->ranges[mid].comp_start + t->cap_ms))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->count && compressed_ms >= (double) t->ranges[lo].comp_start)
	{
		const IdleRange *r = &t->ranges[lo];

		if (t->cap_ms == 0)
			return (double) r->orig_start;
		return (double) r->orig_start +
			((compressed_ms - (double) r->comp_start) / (double) t->cap_ms) *
			(double) (r->orig_end - r->orig_start);
	}
	return compressed_ms + (double) (lo < t->count ? t->ranges[lo].shift_before : t->shift);
}
