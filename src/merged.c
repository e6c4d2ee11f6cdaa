/*
 * merged.c — the session stream as one JSON array (docs/SPEC.md §5.1), each
 * event's text as stored, optionally on the idle-compressed timeline, whole
 * or only a window of it (the player's progressive loading).
 *
 * The result is written straight into the returned varlena (a header
 * reserved at the front of the buffer), so 50 MB of events are copied once.
 */
#include "postgres.h"

#include <math.h>
#include <sys/mman.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "json_scan.h"
#include "session.h"
#include "stream.h"
#include "limits.h"
#include "timeline.h"

/* Appends the event with its top-level timestamp moved back by shift. */
static void
AppendShifted(StringInfo out, const char *text, size_t len, int64 shift)
{
	JsonScanner scanner;
	JsonSpan	event;
	JsonSpan	ts;
	double		value;
	size_t		before;

	JsonScanInit(&scanner, text, len);
	if (shift == 0 || !JsonScanValue(&scanner, &event) || event.kind != JSON_KIND_OBJECT ||
		!JsonObjectGet(&event, "timestamp", &ts) || ts.kind != JSON_KIND_NUMBER)
	{
		/* Nothing to move (or a corrupt event, which ingest never stores). */
		appendBinaryStringInfo(out, text, len);
		return;
	}
	before = ts.start - text;
	appendBinaryStringInfo(out, text, before);
	value = JsonNumberValue(&ts);
	if (value == floor(value))
		appendStringInfo(out, INT64_FORMAT, (int64) value - shift);
	else
		appendStringInfoString(out, float8out_internal(value - (double) shift));
	appendBinaryStringInfo(out, ts.start + ts.len, len - before - ts.len);
}

/*
 * Events with timestamps in [from, to) on the chosen timeline; the whole
 * stream when unbounded. Timestamps are compared as the stream orders them
 * (floored to the millisecond).
 */
typedef struct EventWindow
{
	double		from;
	double		to;
	bool		bounded;
} EventWindow;

static const EventWindow WHOLE_STREAM = {-INFINITY, INFINITY, false};

/* A window bound argument: NULL is open, NaN and infinities are 22023. */
static double
WindowBoundArg(FunctionCallInfo fcinfo, int argno, const char *name, double open)
{
	double		v;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return open;
	v = PG_GETARG_FLOAT8(argno);
	if (isnan(v) || isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number of milliseconds, not %s", name, float8out_internal(v)),
				 errhint("Pass NULL for an open end.")));
	return v;
}

/* Reads from_ms and to_ms (arguments 4 and 5). */
static void
ReadWindow(FunctionCallInfo fcinfo, EventWindow *w)
{
	w->from = WindowBoundArg(fcinfo, 4, "from_ms", -INFINITY);
	w->to = WindowBoundArg(fcinfo, 5, "to_ms", INFINITY);
	w->bounded = !isinf(w->from) || !isinf(w->to);
	if (w->from > w->to)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_ms (%s) is after to_ms (%s)",
						float8out_internal(w->from), float8out_internal(w->to))));
}

/*
 * The least whole millisecond at or after a bound, clamped to int64: an
 * event's (whole) timestamp t is in [from, to) exactly when
 * WindowCeil(from) <= t < WindowCeil(to).
 */
static int64
WindowCeil(double bound)
{
	double		c = ceil(bound);

	if (c <= (double) PG_INT64_MIN)
		return PG_INT64_MIN;
	if (c >= (double) PG_INT64_MAX)
		return PG_INT64_MAX;
	return (int64) c;
}

/* Writes the stream, or the window of it, as a json datum. */
static Datum
MergeStream(SessionStream *stream, bool compress, int64 gap_ms, int64 cap_ms,
			const EventWindow *window, StringInfo out)
{
	IdleTimeline timeline;
	SessionStreamEvent ev;
	bool		first = true;
	text	   *result;
	const char *event;
	size_t		len;

	TimelineInit(&timeline, gap_ms, cap_ms);
	appendStringInfoChar(out, '[');
	for (;;)
	{
		int64		t;

		/* Most batches go in whole, inflated straight into the result. */
		if (!compress && !window->bounded &&
			SessionStreamAppendWholeBatch(stream, out, first))
		{
			first = false;
			continue;
		}
		if (!SessionStreamNext(stream, &ev))
			break;
		/* Times only grow along the stream: past the window, nothing is left.
		 * Events before it are only counted, never inflated. */
		t = compress ? TimelineAdd(&timeline, ev.timestamp) : ev.timestamp;
		if ((double) t >= window->to)
			break;
		if ((double) t < window->from)
			continue;
		event = SessionStreamEventText(stream, &ev, &len);
		if (!first)
			appendStringInfoChar(out, ',');
		first = false;
		if (compress)
			AppendShifted(out, event, len, ev.timestamp - t);
		else
			appendBinaryStringInfo(out, event, len);
	}
	appendStringInfoChar(out, ']');

	result = (text *) out->data;
	SET_VARSIZE(result, out->len);
	return PointerGetDatum(result);
}

/*
 * Asks the kernel to back a large buffer with transparent huge pages where
 * it allows them (the "madvise" setting): faulting in a 50 MB result 4 kB at
 * a time costs about half as much again as inflating it. Only the 2 MB
 * aligned interior is advised, so nothing outside the buffer is touched.
 */
static void
AdviseHugePages(char *buf, size_t len)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = 2 * 1024 * 1024;
	uintptr_t	start = ((uintptr_t) buf + huge - 1) & ~(huge - 1);
	uintptr_t	end = ((uintptr_t) buf + len) & ~(huge - 1);

	if (end > start)
		(void) madvise((void *) start, end - start, MADV_HUGEPAGE);	/* a hint */
#endif
}

/*
 * Sizes the result buffer once for the whole session (the batches' inflated
 * bytes), instead of doubling through a few hundred megabytes; a session too
 * large for one json value is refused up front.
 */
static void
ReserveForSession(int64 session_id, StringInfo out)
{
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		args[2] = {Int64GetDatum(session_id), Int32GetDatum((int32) DOZOR_MAX_BODY_BYTES)};
	bool		isnull;
	int64		total;

	/* Implausible sizes are left to the batch's own checks (XX001). */
	if (SPI_execute_with_args("SELECT COALESCE(sum(raw_bytes) FILTER (WHERE raw_bytes BETWEEN 2 AND $2), 0)::bigint"
							  "  FROM dozor.event_batches WHERE session_id = $1",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "session size lookup failed");
	total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	if (total > (int64) MaxAllocSize - 65536)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("session %lld holds %lld bytes of events, too many for one json value",
						(long long) session_id, (long long) total),
				 errhint("Read it batch by batch with dozor_session_batches.")));
	enlargeStringInfo(out, (int) total + 16);
	AdviseHugePages(out->data, out->maxlen);
}

/* A buffer whose first VARHDRSZ bytes will become the result's header. */
static void
InitResultBuffer(StringInfo out)
{
	initStringInfo(out);
	appendStringInfoSpaces(out, VARHDRSZ);
}

PG_FUNCTION_INFO_V1(dozor_events);

/*
 * dozor_events(session_id bigint, compress_idle boolean, gap_ms integer,
 *              cap_ms integer, from_ms double precision, to_ms double
 *              precision) -> json; NULL when the session does not exist.
 * A window reads only the batches that overlap it: on the real timeline
 * the query skips the others; on the compressed one every index is walked
 * (an event's compressed time depends on all before it) but only the
 * window's batches are inflated.
 */
Datum
dozor_events(PG_FUNCTION_ARGS)
{
	int64		gap_ms = SessionIntegerArg(fcinfo, 2, "gap_ms");
	int64		cap_ms = SessionIntegerArg(fcinfo, 3, "cap_ms");
	bool		compress = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	StringInfoData out;
	SessionInfo session;
	SessionStream *stream;
	EventWindow window;
	Datum		result;

	ReadWindow(fcinfo, &window);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	InitResultBuffer(&out);		/* in the caller's context: outlives SPI */
	SPI_connect();
	SessionLookup(PG_GETARG_INT64(0), &session);
	if (!session.found)
	{
		SPI_finish();
		PG_RETURN_NULL();
	}
	if (!window.bounded)
	{
		ReserveForSession(PG_GETARG_INT64(0), &out);
		stream = SessionStreamOpen(PG_GETARG_INT64(0));
	}
	else if (compress)
		stream = SessionStreamOpen(PG_GETARG_INT64(0));
	else
		stream = SessionStreamOpenRange(PG_GETARG_INT64(0), WindowCeil(window.from),
										WindowCeil(window.to));
	result = MergeStream(stream, compress, gap_ms, cap_ms, &window, &out);
	SessionStreamClose(stream);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(dozor_compress_events);

/*
 * dozor_compress_events(events json, gap_ms integer, cap_ms integer) -> json:
 * the array as a session stream on the idle-compressed timeline.
 */
Datum
dozor_compress_events(PG_FUNCTION_ARGS)
{
	int64		gap_ms = SessionIntegerArg(fcinfo, 1, "gap_ms");
	int64		cap_ms = SessionIntegerArg(fcinfo, 2, "cap_ms");
	text	   *events;
	StringInfoData out;
	SessionStream *stream;
	Datum		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	events = PG_GETARG_TEXT_PP(0);
	InitResultBuffer(&out);
	stream = SessionStreamOpenArray(VARDATA_ANY(events), VARSIZE_ANY_EXHDR(events));
	result = MergeStream(stream, true, gap_ms, cap_ms, &WHOLE_STREAM, &out);
	SessionStreamClose(stream);
	PG_RETURN_DATUM(result);
}
