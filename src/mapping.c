/*
 * mapping.c — SQL access to the idle-compressed timeline: a real time to
 * the compressed timeline and back, for a stored session (from the batch
 * indexes, never inflating) or for an events array.
 */
#include "postgres.h"

#include "fmgr.h"

#include "session.h"
#include "stream.h"
#include "timeline.h"

/* Feeds the whole stream's timestamps into the timeline. */
static void
BuildTimeline(SessionStream *stream, IdleTimeline *timeline)
{
	SessionStreamRun run;

	while (SessionStreamNextRun(stream, &run))
		for (int i = 0; i < run.count; i++)
			TimelineAdd(timeline, run.timestamp[i]);
}

/*
 * Maps t for a stored session; to_real selects the direction. False when
 * the session does not exist (or is not visible to the caller).
 */
static bool
MapSession(FunctionCallInfo fcinfo, bool to_real, double *result)
{
	IdleTimeline timeline;
	SessionStream *stream;
	SessionInfo session;
	double		t = PG_GETARG_FLOAT8(1);

	TimelineInit(&timeline, SessionIntegerArg(fcinfo, 2, "gap_ms"),
				 SessionIntegerArg(fcinfo, 3, "cap_ms"));
	stream = SessionStreamOpenStored(PG_GETARG_INT64(0), &session);
	if (stream == NULL)
		return false;
	BuildTimeline(stream, &timeline);
	*result = to_real ? TimelineToReal(&timeline, t) : TimelineToCompressed(&timeline, t);
	SessionStreamCloseStored(stream);
	return true;
}

/* Maps t for an events array; to_real selects the direction. */
static double
MapArray(FunctionCallInfo fcinfo, bool to_real)
{
	IdleTimeline timeline;
	SessionStream *stream;
	text	   *events = PG_GETARG_TEXT_PP(0);
	double		t = PG_GETARG_FLOAT8(1);
	double		result;

	TimelineInit(&timeline, SessionIntegerArg(fcinfo, 2, "gap_ms"),
				 SessionIntegerArg(fcinfo, 3, "cap_ms"));
	stream = SessionStreamOpenArray(VARDATA_ANY(events), VARSIZE_ANY_EXHDR(events));
	BuildTimeline(stream, &timeline);
	result = to_real ? TimelineToReal(&timeline, t) : TimelineToCompressed(&timeline, t);
	SessionStreamClose(stream);
	return result;
}

/* Arguments 0 and 1 (the session or array, and the time) are required. */
#define MAPPING_ARGS_OR_NULL() \
	do { if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL(); } while (0)

PG_FUNCTION_INFO_V1(dozor_to_compressed);

/* dozor_to_compressed(session_id, real_ms, gap_ms, cap_ms) -> double precision */
Datum
dozor_to_compressed(PG_FUNCTION_ARGS)
{
	double		result;

	MAPPING_ARGS_OR_NULL();
	if (!MapSession(fcinfo, false, &result))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(result);
}

PG_FUNCTION_INFO_V1(dozor_to_real);

/* dozor_to_real(session_id, compressed_ms, gap_ms, cap_ms) -> double precision */
Datum
dozor_to_real(PG_FUNCTION_ARGS)
{
	double		result;

	MAPPING_ARGS_OR_NULL();
	if (!MapSession(fcinfo, true, &result))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(result);
}

PG_FUNCTION_INFO_V1(dozor_map_to_compressed);

/* dozor_map_to_compressed(events json, real_ms, gap_ms, cap_ms) -> double precision */
Datum
dozor_map_to_compressed(PG_FUNCTION_ARGS)
{
	MAPPING_ARGS_OR_NULL();
	PG_RETURN_FLOAT8(MapArray(fcinfo, false));
}

PG_FUNCTION_INFO_V1(dozor_map_to_real);

/* dozor_map_to_real(events json, compressed_ms, gap_ms, cap_ms) -> double precision */
Datum
dozor_map_to_real(PG_FUNCTION_ARGS)
{
	MAPPING_ARGS_OR_NULL();
	PG_RETURN_FLOAT8(MapArray(fcinfo, true));
}
