/*
 * keyframes.c — where a player can start rendering: every Meta (type 4)
 * and FullSnapshot (type 2) event of a stored session, in stream order,
 * read from the batch indexes alone (nothing is inflated). To show moment
 * t the player fetches the stream from the last Meta/FullSnapshot pair at
 * or before t (dozor_events with a window).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"

#include "event.h"
#include "session.h"
#include "stream.h"
#include "timeline.h"

/* rrweb's EventType numbers of the two keyframe classes. */
#define RRWEB_FULL_SNAPSHOT 2
#define RRWEB_META 4

/* Output columns, in order. */
enum KeyframeColumn
{
	KEYFRAME_TIMESTAMP,
	KEYFRAME_TYPE,
	KEYFRAME_NCOLUMNS
};

PG_FUNCTION_INFO_V1(dozor_keyframes);

/*
 * dozor_keyframes(session_id bigint, compress_idle boolean, gap_ms integer,
 *                 cap_ms integer) -> (timestamp double precision, type integer)
 */
Datum
dozor_keyframes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		gap_ms = SessionIntegerArg(fcinfo, 2, "gap_ms");
	int64		cap_ms = SessionIntegerArg(fcinfo, 3, "cap_ms");
	bool		compress = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	IdleTimeline timeline;
	SessionStream *stream;
	SessionStreamRun run;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	TimelineInit(&timeline, gap_ms, cap_ms);
	stream = SessionStreamOpenStored(PG_GETARG_INT64(0), NULL);
	while (SessionStreamNextRun(stream, &run))
	{
		for (int i = 0; i < run.count; i++)
		{
			int64		t = compress ? TimelineAdd(&timeline, run.timestamp[i]) : run.timestamp[i];
			Datum		values[KEYFRAME_NCOLUMNS];
			bool		nulls[KEYFRAME_NCOLUMNS] = {0};

			if (run.cls[i] != EVENT_FULL_SNAPSHOT && run.cls[i] != EVENT_META)
				continue;
			values[KEYFRAME_TIMESTAMP] = Float8GetDatum((double) t);
			values[KEYFRAME_TYPE] = Int32GetDatum(run.cls[i] == EVENT_META ? RRWEB_META : RRWEB_FULL_SNAPSHOT);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	SessionStreamCloseStored(stream);
	PG_RETURN_NULL();
}
