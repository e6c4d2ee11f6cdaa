/*
 * stream.c — the merged, stably sorted session stream (see stream.h).
 *
 * Stored sessions: a k-way merge over the batches' indexes. Each batch is
 * stably sorted on its own (usually it already is), then batches compete
 * in a small binary heap keyed by (next timestamp, batch ordinal, position),
 * which is exactly the stable order of docs/SPEC.md §5.1. A batch is admitted only
 * once the merge reaches its first_timestamp, and freed when drained.
 *
 * The heap is consulted once per run, not once per event: a run is the
 * stretch of the top batch that comes before everything else (usually all
 * of it), and SessionStreamNext just walks it.
 *
 * Arrays (pure functions): one in-memory "batch" holding the whole array.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"

#include "batch_index.h"
#include "event.h"
#include "gzip.h"
#include "json_scan.h"
#include "stream.h"

/* Batch rows fetched from the cursor at a time. */
#define STREAM_FETCH_ROWS 64

struct SessionStreamBatch
{
	MemoryContext cxt;			/* everything of this batch; deleted when drained */
	BatchRow	row;
	int			ordinal;		/* position in (first_timestamp, id) order */
	BatchIndex	index;
	int32	   *order;			/* stable sort by timestamp; NULL if sorted */
	const int64 *ts;			/* timestamps and classes in that order (the */
	const uint8 *cls;			/* index's own arrays when it is sorted) */
	int			next;			/* next position in that order */
	Datum		data;			/* stored gzip (maybe a TOAST pointer), or 0 */
	const char *text;			/* inflated array, once needed */
	const char *array_json;		/* arrays only: the caller's JSON text */
};

/* The payload of one url or identity marker of the session's events. */
typedef struct StoredMarker
{
	int64		batch_id;
	int32		event_index;
	Jsonb	   *data;
} StoredMarker;

struct SessionStream
{
	MemoryContext cxt;
	/* stored sessions */
	Portal		portal;
	SPITupleTable *rows;		/* current fetch from the portal */
	uint64		row_next;
	bool		rows_done;
	int			ordinal;
	SessionStreamBatch *pending;	/* fetched, not yet admitted to the merge */
	int64		session_id;
	StoredMarker *markers;		/* url/identity payloads, loaded on first use */
	int			marker_count;
	/* the merge: a binary min-heap of batches */
	SessionStreamBatch **heap;
	int			heap_size;
	int			heap_capacity;
	SessionStreamBatch *run;	/* the heap's top (or the array) ... */
	int			run_end;		/* ... whose positions before this come next */
	char	   *scratch;		/* see StreamScratch */
	size_t		scratch_size;
	/* arrays */
	SessionStreamBatch *array;
};

/* The index position of the batch's i-th event in timestamp order. */
static inline int
BatchPosition(const SessionStreamBatch *b, int i)
{
	return b->order ? b->order[i] : i;
}

static inline int64
BatchNextTimestamp(const SessionStreamBatch *b)
{
	return b->ts[b->next];
}

/* Does an event at ts of the batch with this ordinal precede c's next? */
static inline bool
EventBefore(int64 ts, int ordinal, const SessionStreamBatch *c)
{
	int64		tc = BatchNextTimestamp(c);

	return ts < tc || (ts == tc && ordinal < c->ordinal);
}

/* Does batch a's next event come before batch b's? */
static bool
BatchBefore(const SessionStreamBatch *a, const SessionStreamBatch *b)
{
	return EventBefore(BatchNextTimestamp(a), a->ordinal, b);
}

static void
HeapSiftDown(SessionStream *s, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1;
		int			smallest = i;
		SessionStreamBatch *tmp;

		if (l < s->heap_size && BatchBefore(s->heap[l], s->heap[smallest]))
			smallest = l;
		if (l + 1 < s->heap_size && BatchBefore(s->heap[l + 1], s->heap[smallest]))
			smallest = l + 1;
		if (smallest == i)
			return;
		tmp = s->heap[i];
		s->heap[i] = s->heap[smallest];
		s->heap[smallest] = tmp;
		i = smallest;
	}
}

static void
HeapPush(SessionStream *s, SessionStreamBatch *b)
{
	int			i;

	if (s->heap_size == s->heap_capacity)
	{
		s->heap_capacity *= 2;
		s->heap = repalloc(s->heap, mul_size(s->heap_capacity, sizeof(SessionStreamBatch *)));
	}
	i = s->heap_size++;
	s->heap[i] = b;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;
		SessionStreamBatch *tmp;

		if (!BatchBefore(s->heap[i], s->heap[parent]))
			break;
		tmp = s->heap[i];
		s->heap[i] = s->heap[parent];
		s->heap[parent] = tmp;
		i = parent;
	}
}

/* A sort key that makes qsort stable: ties fall back to the position. */
typedef struct SortKey
{
	int64		timestamp;
	int32		position;
} SortKey;

static int
CompareSortKeys(const void *a, const void *b)
{
	const SortKey *x = a;
	const SortKey *y = b;

	if (x->timestamp != y->timestamp)
		return x->timestamp < y->timestamp ? -1 : 1;
	return (x->position > y->position) - (x->position < y->position);
}

/*
 * Stable insertion sort of order[] by timestamp, giving up once it has moved
 * more than max_moves entries. Real batches are nearly sorted (a few events
 * stamped a little early), where this is linear; hostile ones are not.
 */
static bool
InsertionSortBounded(int32 *order, const int64 *ts, int n, int64 max_moves)
{
	int64		moves = 0;

	for (int i = 1; i < n; i++)
	{
		int32		cur = order[i];
		int			j = i;

		while (j > 0 && ts[order[j - 1]] > ts[cur])
		{
			order[j] = order[j - 1];
			j--;
		}
		order[j] = cur;
		moves += i - j;
		if (moves > max_moves)
			return false;
	}
	return true;
}

/* Stable order of the batch's events by timestamp (identity when sorted). */
static void
SortBatch(SessionStreamBatch *b)
{
	int			n = b->index.count;
	const int64 *ts = b->index.timestamp;
	int			i = 1;
	int64	   *sorted_ts;
	uint8	   *sorted_cls;

	b->ts = ts;
	b->cls = b->index.cls;
	while (i < n && ts[i] >= ts[i - 1])
		i++;
	if (i >= n)
		return;					/* already sorted: no order array */

	b->order = palloc(mul_size(n, sizeof(int32)));
	for (i = 0; i < n; i++)
		b->order[i] = i;
	if (!InsertionSortBounded(b->order, ts, n, 4 * (int64) n))
	{
		/* (timestamp, position) pairs sort stably; arrays can be huge. */
		SortKey    *keys = palloc(mul_size(n, sizeof(SortKey)));

		for (i = 0; i < n; i++)
		{
			keys[i].timestamp = ts[i];
			keys[i].position = i;
		}
		qsort(keys, n, sizeof(SortKey), CompareSortKeys);
		for (i = 0; i < n; i++)
			b->order[i] = keys[i].position;
		pfree(keys);
	}

	/* Runs hand out timestamps and classes as plain arrays. */
	sorted_ts = palloc(mul_size(n, sizeof(int64)));
	sorted_cls = palloc(n);
	for (i = 0; i < n; i++)
	{
		sorted_ts[i] = ts[b->order[i]];
		sorted_cls[i] = b->index.cls[b->order[i]];
	}
	b->ts = sorted_ts;
	b->cls = sorted_cls;
}

/* Column values of the batch query, in order. */
enum
{
	BQ_ID, BQ_FIRST, BQ_LAST, BQ_COUNT, BQ_RAW, BQ_EVENT_INDEX, BQ_DATA, BQ_DIGEST
};

/* Makes the next cursor row a pending batch, or returns false at the end. */
static bool
FetchPending(SessionStream *s)
{
	HeapTuple	tuple;
	TupleDesc	desc;
	SessionStreamBatch *b;
	MemoryContext old;
	bool		isnull;
	bytea	   *event_index;
	bytea	   *digest;

	if (s->rows == NULL || s->row_next >= s->rows->numvals)
	{
		if (s->rows)
			SPI_freetuptable(s->rows);
		s->rows = NULL;
		if (s->rows_done)
			return false;
		SPI_cursor_fetch(s->portal, true, STREAM_FETCH_ROWS);
		s->rows = SPI_tuptable;
		s->row_next = 0;
		if (SPI_processed < STREAM_FETCH_ROWS)
			s->rows_done = true;
		if (SPI_processed == 0)
			return false;
	}
	tuple = s->rows->vals[s->row_next++];
	desc = s->rows->tupdesc;

	b = MemoryContextAllocZero(s->cxt, sizeof(SessionStreamBatch));
	b->cxt = AllocSetContextCreate(s->cxt, "dozor stream batch", ALLOCSET_DEFAULT_SIZES);
	b->ordinal = s->ordinal++;
	b->row.id = DatumGetInt64(SPI_getbinval(tuple, desc, BQ_ID + 1, &isnull));
	b->row.first_timestamp = DatumGetInt64(SPI_getbinval(tuple, desc, BQ_FIRST + 1, &isnull));
	b->row.last_timestamp = DatumGetInt64(SPI_getbinval(tuple, desc, BQ_LAST + 1, &isnull));
	b->row.event_count = DatumGetInt32(SPI_getbinval(tuple, desc, BQ_COUNT + 1, &isnull));
	b->row.raw_bytes = DatumGetInt32(SPI_getbinval(tuple, desc, BQ_RAW + 1, &isnull));

	old = MemoryContextSwitchTo(b->cxt);
	/* copied: the fetched rows are freed before the blob is checked */
	digest = DatumGetByteaPCopy(SPI_getbinval(tuple, desc, BQ_DIGEST + 1, &isnull));
	b->row.digest = VARDATA(digest);
	b->row.digest_len = VARSIZE(digest) - VARHDRSZ;
	event_index = DatumGetByteaPP(SPI_getbinval(tuple, desc, BQ_EVENT_INDEX + 1, &isnull));
	BatchIndexDecode(VARDATA_ANY(event_index), VARSIZE_ANY_EXHDR(event_index), &b->row, &b->index);
	SortBatch(b);
	/* Keep the (small) TOAST pointer; the blob itself is read only if asked. */
	b->data = datumCopy(SPI_getbinval(tuple, desc, BQ_DATA + 1, &isnull), false, -1);
	MemoryContextSwitchTo(old);

	s->pending = b;
	return true;
}

/* Admits every batch that starts no later than the merge's next event. */
static void
AdmitBatches(SessionStream *s)
{
	for (;;)
	{
		if (s->pending == NULL && !FetchPending(s))
			return;
		if (s->heap_size > 0 &&
			s->pending->row.first_timestamp > BatchNextTimestamp(s->heap[0]))
			return;
		HeapPush(s, s->pending);
		s->pending = NULL;
	}
}

/*
 * Opens the cursor over the session's batches, or over those whose windows
 * overlap [lo, hi) when ranged. The whole stream has no range condition at
 * all: a row whose timestamps are corrupt must still be read (and refused
 * by its index check), never silently left out.
 */
static SessionStream *
OpenStored(int64 session_id, bool ranged, int64 lo, int64 hi)
{
	SessionStream *s;
	MemoryContext cxt;
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
	Datum		args[3];
	const char *query;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "dozor session stream", ALLOCSET_DEFAULT_SIZES);
	s = MemoryContextAllocZero(cxt, sizeof(SessionStream));
	s->cxt = cxt;
	s->heap_capacity = 16;
	s->heap = MemoryContextAlloc(cxt, s->heap_capacity * sizeof(SessionStreamBatch *));

	query = ranged
		? "SELECT id, first_timestamp, last_timestamp, event_count, raw_bytes, event_index, data, content_hash"
		"  FROM dozor.event_batches WHERE session_id = $1"
		"   AND first_timestamp < $3 AND last_timestamp >= $2"
		"  ORDER BY first_timestamp, id"
		: "SELECT id, first_timestamp, last_timestamp, event_count, raw_bytes, event_index, data, content_hash"
		"  FROM dozor.event_batches WHERE session_id = $1"
		"  ORDER BY first_timestamp, id";
	s->session_id = session_id;
	args[0] = Int64GetDatum(session_id);
	args[1] = Int64GetDatum(lo);
	args[2] = Int64GetDatum(hi);
	/* A fast-start plan walks the (session_id, first_timestamp, id) index
	 * instead of sorting every index of a long session up front. */
	s->portal = SPI_cursor_open_with_args(NULL, query, ranged ? 3 : 1, argtypes, args, NULL, true,
										  CURSOR_OPT_FAST_PLAN);
	return s;
}

SessionStream *
SessionStreamOpen(int64 session_id)
{
	return OpenStored(session_id, false, 0, 0);
}

SessionStream *
SessionStreamOpenRange(int64 session_id, int64 lo, int64 hi)
{
	return OpenStored(session_id, true, lo, hi);
}

/* Growing arrays of the single in-memory batch of an array stream. */
typedef struct ArrayCollector
{
	SessionStreamBatch *batch;
	int			capacity;
} ArrayCollector;

/* Collects one event of an array into the in-memory batch. */
static void
CollectArrayEvent(const EventInfo *info, int index, void *arg)
{
	ArrayCollector *c = (ArrayCollector *) arg;
	BatchIndex *ix = &c->batch->index;

	if (index == c->capacity)
	{
		c->capacity = c->capacity ? c->capacity * 2 : 256;
		ix->timestamp = repalloc(ix->timestamp, mul_size(c->capacity, sizeof(int64)));
		ix->offset = repalloc(ix->offset, mul_size(c->capacity, sizeof(uint32)));
		ix->length = repalloc(ix->length, mul_size(c->capacity, sizeof(uint32)));
		ix->cls = repalloc(ix->cls, c->capacity);
	}
	ix->timestamp[index] = info->timestamp;
	ix->offset[index] = (uint32) (info->text.start - c->batch->array_json);
	ix->length[index] = (uint32) info->text.len;
	ix->cls[index] = (uint8) info->cls;
	ix->count = index + 1;
}

SessionStream *
SessionStreamOpenArray(const char *json, size_t len)
{
	SessionStream *s;
	MemoryContext cxt;
	MemoryContext old;
	SessionStreamBatch *b;
	ArrayCollector collector;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "dozor array stream", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	s = palloc0(sizeof(SessionStream));
	s->cxt = cxt;
	b = palloc0(sizeof(SessionStreamBatch));
	b->cxt = cxt;
	b->array_json = json;
	b->text = json;
	/* repalloc needs a first chunk */
	b->index.timestamp = palloc(sizeof(int64));
	b->index.offset = palloc(sizeof(uint32));
	b->index.length = palloc(sizeof(uint32));
	b->index.cls = palloc(1);
	collector.batch = b;
	collector.capacity = 1;
	EventsForEach(json, len, "events", CollectArrayEvent, &collector);
	SortBatch(b);
	s->array = b;
	MemoryContextSwitchTo(old);
	return s;
}

/*
 * Ends the current run: its batch goes back to its place in the heap, or is
 * freed when drained (the caller is done with its last event by now).
 */
static void
EndRun(SessionStream *s)
{
	SessionStreamBatch *b = s->run;

	s->run = NULL;
	if (b == NULL || s->array)
		return;
	if (b->next < b->index.count)
		HeapSiftDown(s, 0);
	else
	{
		s->heap[0] = s->heap[--s->heap_size];
		HeapSiftDown(s, 0);
		MemoryContextDelete(b->cxt);
		pfree(b);
	}
}

/*
 * Starts a run of the heap's top batch: its next events up to the first one
 * that does not precede the next event of every other admitted batch (the
 * top's children bound the rest of the heap) and the pending batch's first
 * event (later batches start no earlier; ties go to the top, fetched first).
 */
static void
StartRun(SessionStream *s)
{
	SessionStreamBatch *b = s->heap[0];
	int			end = b->next + 1;

	while (end < b->index.count)
	{
		int64		ts = b->ts[end];

		if ((s->pending && ts > s->pending->row.first_timestamp) ||
			(s->heap_size > 1 && !EventBefore(ts, b->ordinal, s->heap[1])) ||
			(s->heap_size > 2 && !EventBefore(ts, b->ordinal, s->heap[2])))
			break;
		end++;
	}
	s->run = b;
	s->run_end = end;
}

/* The batch of the next run, or NULL at the end of the stream. */
static SessionStreamBatch *
AdvanceRun(SessionStream *s)
{
	if (s->array)
	{
		if (s->array->next >= s->array->index.count)
			return NULL;
		s->run = s->array;
		s->run_end = s->array->index.count;
		return s->run;
	}
	EndRun(s);
	AdmitBatches(s);
	if (s->heap_size == 0)
		return NULL;
	StartRun(s);
	return s->run;
}

/* Does the run in progress have events left? */
static inline bool
RunHasEvents(const SessionStream *s)
{
	return s->run != NULL && s->run->next < s->run_end;
}

/* The batch of the run in progress if it has events left, else the next. */
static inline SessionStreamBatch *
CurrentRun(SessionStream *s)
{
	CHECK_FOR_INTERRUPTS();
	return RunHasEvents(s) ? s->run : AdvanceRun(s);
}

/* The i-th event of the batch in timestamp order. */
static inline void
FillEvent(SessionStreamBatch *b, int i, SessionStreamEvent *ev)
{
	ev->index = BatchPosition(b, i);
	ev->timestamp = b->ts[i];
	ev->cls = b->cls[i];
	ev->batch = b;
}

bool
SessionStreamNext(SessionStream *s, SessionStreamEvent *ev)
{
	SessionStreamBatch *b = CurrentRun(s);

	if (b == NULL)
		return false;
	FillEvent(b, b->next++, ev);
	return true;
}

bool
SessionStreamNextRun(SessionStream *s, SessionStreamRun *run)
{
	SessionStreamBatch *b = CurrentRun(s);

	if (b == NULL)
		return false;
	run->timestamp = b->ts + b->next;
	run->cls = b->cls + b->next;
	run->count = s->run_end - b->next;
	run->batch = b;
	run->first = b->next;
	b->next = s->run_end;
	return true;
}

void
SessionStreamRunEvent(const SessionStreamRun *run, int i, SessionStreamEvent *ev)
{
	Assert(i >= 0 && i < run->count);
	FillEvent(run->batch, run->first + i, ev);
}

/* Reports stored bytes that do not hold an event where the index says. */
static void
TextCorrupt(const SessionStreamBatch *b, int index)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("stored batch %lld is corrupt: event %d is not where its index says",
					(long long) b->row.id, index)));
}

/* Checks that every event of an inflated batch is where its index says. */
static void
CheckEventBoundaries(const SessionStreamBatch *b, const char *text)
{
	if (text[0] != '[' || text[b->row.raw_bytes - 1] != ']')
		TextCorrupt(b, 0);
	for (int i = 0; i < b->index.count; i++)
	{
		const char *start = text + b->index.offset[i];
		uint32		len = b->index.length[i];

		if (start[0] != '{' || start[len - 1] != '}' || start[-1] != (i == 0 ? '[' : ',') ||
			(start[len] != ',' && start[len] != ']'))
			TextCorrupt(b, i);
	}
}

/*
 * A buffer of at least len bytes kept for the life of the stream, so that
 * batches that need reordering do not each fault in fresh memory.
 */
static char *
StreamScratch(SessionStream *s, size_t len)
{
	if (len > s->scratch_size)
	{
		if (s->scratch)
			pfree(s->scratch);
		s->scratch_size = Max(len, 2 * s->scratch_size);
		s->scratch = MemoryContextAlloc(s->cxt, s->scratch_size);
	}
	return s->scratch;
}

/*
 * Puts the events of an inflated batch (text as stored) into timestamp
 * order where they are not. An event stamped early moves back a few places,
 * so only short windows differ from the stored order: a window starts at
 * the first misplaced event and ends where the positions seen so far are
 * exactly the window's own. Each window is copied aside and rewritten.
 */
static void
ReorderInPlace(SessionStream *s, const SessionStreamBatch *b, char *text)
{
	const BatchIndex *ix = &b->index;
	int			i = 0;

	while (i < ix->count)
	{
		int			j = i;
		int			highest = b->order[i];
		size_t		span_start;
		size_t		span_len;
		char	   *aside;
		char	   *w;

		if (highest == i)
		{
			i++;
			continue;
		}
		while (highest > j)
		{
			j++;
			highest = Max(highest, b->order[j]);
		}
		span_start = ix->offset[i];
		span_len = ix->offset[j] + ix->length[j] - span_start;
		aside = StreamScratch(s, span_len);
		memcpy(aside, text + span_start, span_len);
		w = text + span_start;
		for (int k = i; k <= j; k++)
		{
			int			pos = b->order[k];

			if (k > i)
				*w++ = ',';
			memcpy(w, aside + (ix->offset[pos] - span_start), ix->length[pos]);
			w += ix->length[pos];
		}
		i = j + 1;
	}
}

bool
SessionStreamAppendWholeBatch(SessionStream *s, StringInfo out, bool first)
{
	SessionStreamBatch *b;
	bytea	   *gz;
	char	   *dest;
	size_t		raw;

	CHECK_FOR_INTERRUPTS();
	if (s->array || RunHasEvents(s))
		return false;
	EndRun(s);
	AdmitBatches(s);
	if (s->heap_size != 1)
		return false;
	b = s->heap[0];
	/* Later batches start no earlier than this one ends: ties go to it. */
	if (b->next != 0 ||
		(s->pending != NULL && s->pending->row.first_timestamp < b->row.last_timestamp))
		return false;

	/* The stored "[e0,...,en]" lands in place; its "[" becomes the separator. */
	raw = (size_t) b->row.raw_bytes;
	enlargeStringInfo(out, raw + 1);
	dest = first ? out->data + out->len - 1 : out->data + out->len;
	gz = DatumGetByteaPP(b->data);
	BatchBlobCheck(&b->row, VARDATA_ANY(gz), VARSIZE_ANY_EXHDR(gz));
	GzipInflateStoredInto(VARDATA_ANY(gz), VARSIZE_ANY_EXHDR(gz), dest, raw, b->row.id);
	CheckEventBoundaries(b, dest);
	if (!first)
		dest[0] = ',';
	if (b->order != NULL)
		ReorderInPlace(s, b, dest);
	out->len = (int) (dest - out->data) + raw - 1;
	out->data[out->len] = '\0';

	s->heap_size = 0;
	MemoryContextDelete(b->cxt);
	pfree(b);
	return true;
}

/* Inflates the stored batch once (stored streams only). */
static void
InflateBatch(SessionStreamBatch *b)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	bytea	   *gz = DatumGetByteaPP(b->data);

	BatchBlobCheck(&b->row, VARDATA_ANY(gz), VARSIZE_ANY_EXHDR(gz));
	b->text = GzipInflateStored(VARDATA_ANY(gz), VARSIZE_ANY_EXHDR(gz),
								(size_t) b->row.raw_bytes, b->row.id);
	MemoryContextSwitchTo(old);
}


const char *
SessionStreamEventText(SessionStream *s, const SessionStreamEvent *ev, size_t *len)
{
	SessionStreamBatch *b = ev->batch;

	if (b->text == NULL)
	{
		InflateBatch(b);
		CheckEventBoundaries(b, b->text);
	}
	*len = b->index.length[ev->index];
	return b->text + b->index.offset[ev->index];
}

int64
SessionStreamBatchId(const SessionStreamEvent *ev)
{
	return ev->batch->row.id;
}

/*
 * Loads the payloads of every url and identity marker that came from the
 * session's events, in one query: a session has few of them, and one query
 * beats one per marker (each pays for row-level security too).
 */
static void
LoadMarkers(SessionStream *s)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(s->session_id)};
	MemoryContext old;

	if (SPI_execute_with_args("SELECT batch_id, event_index, data FROM dozor.markers"
							  "  WHERE session_id = $1 AND batch_id IS NOT NULL AND kind IN ('url', 'identity')"
							  "  ORDER BY batch_id, event_index",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "marker lookup failed");
	old = MemoryContextSwitchTo(s->cxt);
	s->marker_count = (int) SPI_processed;
	s->markers = palloc(mul_size(Max(SPI_processed, 1), sizeof(StoredMarker)));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		data;

		s->markers[i].batch_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		s->markers[i].event_index = DatumGetInt32(SPI_getbinval(tuple, desc, 2, &isnull));
		data = SPI_getbinval(tuple, desc, 3, &isnull);
		s->markers[i].data = isnull ? NULL : DatumGetJsonbPCopy(data);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
}

Jsonb *
SessionStreamMarkerPayload(SessionStream *s, const SessionStreamEvent *ev)
{
	int			lo;
	int			hi;

	if (s->array)
	{
		EventInfo	info;
		JsonSpan	text;
		JsonScanner scanner;

		JsonScanInit(&scanner, s->array->array_json + s->array->index.offset[ev->index],
					 s->array->index.length[ev->index]);
		if (!JsonScanValue(&scanner, &text))
			elog(ERROR, "event %d of a validated array does not scan", ev->index);
		EventRead(&text, ev->index, &info);
		if (info.payload.kind == JSON_KIND_NONE)
			return NULL;
		return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(JsonTextForPostgres(&info.payload))));
	}

	if (s->markers == NULL)
		LoadMarkers(s);
	/* Binary search by (batch id, event index): the query sorted them so. */
	lo = 0;
	hi = s->marker_count;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		const StoredMarker *m = &s->markers[mid];

		if (m->batch_id < ev->batch->row.id ||
			(m->batch_id == ev->batch->row.id && m->event_index < ev->index))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->marker_count || s->markers[lo].batch_id != ev->batch->row.id ||
		s->markers[lo].event_index != ev->index)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: the marker of event %d is missing",
						(long long) ev->batch->row.id, ev->index)));
	return s->markers[lo].data;
}

void
SessionStreamClose(SessionStream *s)
{
	if (s->portal)
		SPI_cursor_close(s->portal);
	if (s->rows)
		SPI_freetuptable(s->rows);
	MemoryContextDelete(s->cxt);
}
