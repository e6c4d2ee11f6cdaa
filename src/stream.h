/*
 * stream.h — the session stream (docs/SPEC.md §5.1): every event of every batch,
 * stably sorted by timestamp (ties keep batch order, then position).
 *
 * A stored session is merged from its batches' indexes (batch_index.h)
 * without inflating anything: batches are read through a cursor ordered by
 * (first_timestamp, id) and a batch joins the merge only when the merge
 * reaches its first timestamp, so memory holds the batches that overlap in
 * time — usually one — not the session. The event's text (which needs
 * inflating the batch) and a marker's payload are fetched only on request.
 *
 * The same interface walks an events array given as JSON (the pure
 * functions), so every feed has exactly one implementation.
 *
 * Stored sessions need an SPI connection open for the life of the stream.
 */
#ifndef DOZOR_STREAM_H
#define DOZOR_STREAM_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

typedef struct SessionStreamBatch SessionStreamBatch;
typedef struct SessionStream SessionStream;

typedef struct SessionStreamEvent
{
	int64		timestamp;
	uint8		cls;			/* EventClass */
	int			index;			/* position inside its batch (or array) */
	SessionStreamBatch *batch;
} SessionStreamEvent;

extern SessionStream *SessionStreamOpen(int64 session_id);

/*
 * The stream of only the batches that can hold events with timestamps in
 * [lo, hi) (their rows' windows overlap it); the caller still filters events.
 * Relative order of the events read is the whole stream's.
 */
extern SessionStream *SessionStreamOpenRange(int64 session_id, int64 lo, int64 hi);
extern SessionStream *SessionStreamOpenArray(const char *json, size_t len);

/* The next event of the stream; false at the end. */
extern bool SessionStreamNext(SessionStream *s, SessionStreamEvent *ev);

/*
 * The stream's next events as a run: all from one batch, in stream order,
 * their timestamps and classes side by side. For callers that look at most
 * events only for these two (history, the timeline). Valid until the next
 * call on the stream.
 */
typedef struct SessionStreamRun
{
	const int64 *timestamp;
	const uint8 *cls;
	int			count;
	SessionStreamBatch *batch;	/* for SessionStreamRunEvent */
	int			first;
} SessionStreamRun;

/* The next run; false at the end. Mixes with SessionStreamNext. */
extern bool SessionStreamNextRun(SessionStream *s, SessionStreamRun *run);

/* The run's i-th event as SessionStreamNext would have returned it. */
extern void SessionStreamRunEvent(const SessionStreamRun *run, int i, SessionStreamEvent *ev);

/*
 * When the stream's next events are exactly one whole stored batch, in its
 * stored order, with no other batch interleaving (the common case), appends
 * them to out in one piece — inflated straight into out — preceded by ","
 * unless first (out then ends with the array's "["), and returns true.
 * Otherwise returns false and the caller goes on with SessionStreamNext.
 */
extern bool SessionStreamAppendWholeBatch(SessionStream *s, StringInfo out, bool first);

/* The event's JSON text as stored (inflates its batch on first use). */
extern const char *SessionStreamEventText(SessionStream *s, const SessionStreamEvent *ev, size_t *len);

/* The id of the stored batch holding the event (0 for arrays). */
extern int64 SessionStreamBatchId(const SessionStreamEvent *ev);

/* data.payload of a url or identity marker event, as jsonb. */
extern Jsonb *SessionStreamMarkerPayload(SessionStream *s, const SessionStreamEvent *ev);

extern void SessionStreamClose(SessionStream *s);

#endif							/* DOZOR_STREAM_H */
