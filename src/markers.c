/*
 * markers.c — markers of an events array (the pure counterpart of the
 * markers table): every Custom event whose tag starts with "dozor:", in
 * stream order, walked through the same session stream as the other pure
 * feeds so that ties are broken the same way everywhere.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "event.h"
#include "json_scan.h"
#include "stream.h"

/* Output columns of dozor_marker, in order. */
enum MarkerColumn
{
	MARKER_TIMESTAMP,
	MARKER_KIND,
	MARKER_DATA,
	MARKER_NCOLUMNS
};

/* Puts the marker row of one marker event (its text as stored). */
static void
PutMarker(ReturnSetInfo *rsinfo, const char *text, size_t len, int index)
{
	JsonScanner scanner;
	JsonSpan	span;
	EventInfo	info;
	StringInfoData tag;
	const char *data;
	Datum		values[MARKER_NCOLUMNS];
	bool		nulls[MARKER_NCOLUMNS] = {0};

	JsonScanInit(&scanner, text, len);
	if (!JsonScanValue(&scanner, &span))
		elog(ERROR, "event %d of a validated array does not scan", index);
	EventRead(&span, index, &info);
	Assert(info.is_marker);
	initStringInfo(&tag);
	JsonStringDecode(&info.tag, &tag);
	data = info.payload.kind == JSON_KIND_NONE ? "null" : JsonTextForPostgres(&info.payload);
	values[MARKER_TIMESTAMP] = Int64GetDatum(info.timestamp);
	values[MARKER_KIND] = CStringGetTextDatum(tag.data + strlen(DOZOR_MARKER_PREFIX));
	values[MARKER_DATA] = DirectFunctionCall1(jsonb_in, CStringGetDatum(data));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(dozor_extract_markers);

/* dozor_extract_markers(events json) -> (timestamp, kind, data) */
Datum
dozor_extract_markers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *events;
	SessionStream *stream;
	SessionStreamRun run;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	events = PG_GETARG_TEXT_PP(0);
	stream = SessionStreamOpenArray(VARDATA_ANY(events), VARSIZE_ANY_EXHDR(events));
	while (SessionStreamNextRun(stream, &run))
	{
		for (int i = 0; i < run.count; i++)
		{
			SessionStreamEvent ev;
			const char *text;
			size_t		len;

			if (!EventClassIsMarker(run.cls[i]))
				continue;
			SessionStreamRunEvent(&run, i, &ev);
			text = SessionStreamEventText(stream, &ev, &len);
			PutMarker(rsinfo, text, len, ev.index);
		}
	}
	SessionStreamClose(stream);
	PG_RETURN_NULL();
}
