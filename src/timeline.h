/*
 * timeline.h — the idle-compressed timeline (docs/HISTORY.md §3).
 *
 * Feed it the session stream's timestamps in stream order; it records every
 * gap longer than gap_ms as a compressed range shortened to cap_ms, and then
 * maps any real time to the compressed timeline and back. Memory grows with
 * the number of compressed gaps only.
 */
#ifndef DOZOR_TIMELINE_H
#define DOZOR_TIMELINE_H

#include "postgres.h"

typedef struct IdleRange
{
	int64		orig_start;
	int64		orig_end;
	int64		comp_start;
	int64		shift_before;	/* total shortening of the ranges before */
} IdleRange;

typedef struct IdleTimeline
{
	int64		gap_ms;
	int64		cap_ms;
	bool		started;
	int64		prev;			/* timestamp of the previous event */
	int64		shift;			/* total shortening so far */
	IdleRange  *ranges;
	int			count;
	int			capacity;
} IdleTimeline;

/* 22023 when a threshold or cap is negative (or NULL where required). */
extern void TimelineCheckParameter(const char *name, int64 value);

extern void TimelineInit(IdleTimeline *t, int64 gap_ms, int64 cap_ms);

/* Records the gap before ts (TimelineAdd's rare case). */
extern void TimelineAddGap(IdleTimeline *t, int64 ts);

/*
 * Adds the next event of the stream; returns its compressed timestamp.
 * Inline: it runs once per event of a session.
 */
static inline int64
TimelineAdd(IdleTimeline *t, int64 ts)
{
	if (t->started && ts - t->prev > t->gap_ms)
		TimelineAddGap(t, ts);
	t->started = true;
	t->prev = ts;
	return ts - t->shift;
}

/* Any real time onto the compressed timeline (linear inside a gap). */
extern double TimelineToCompressed(const IdleTimeline *t, double real_ms);

/* The inverse mapping. */
extern double TimelineToReal(const IdleTimeline *t, double compressed_ms);

#endif							/* DOZOR_TIMELINE_H */
