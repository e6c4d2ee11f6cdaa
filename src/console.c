/*
 * console.c — the console feed (docs/HISTORY.md §4).
 *
 * Walks the session stream's indexes for timing, and inflates only the
 * batches that hold console entries (their class is in the index), parsing
 * just those events.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "event.h"
#include "json_scan.h"
#include "session.h"
#include "stream.h"
#include "timeline.h"

/* Reports a console event that the stored bytes do not hold. */
static void
ConsoleCorrupt(int64 batch_id, int index)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("stored batch %lld is corrupt: console event %d does not parse",
					(long long) batch_id, index)));
}

/* A JSON value as text: strings decoded, anything else as its JSON text. */
static Datum
ValueText(const JsonSpan *value)
{
	if (value->kind == JSON_KIND_STRING)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		JsonStringDecode(value, &buf);
		return PointerGetDatum(cstring_to_text_with_len(buf.data, buf.len));
	}
	return CStringGetTextDatum(JsonTextForPostgres(value));
}

/* The elements of an array member as text[]; empty when not an array. */
static Datum
TextArrayMember(const JsonSpan *object, const char *name)
{
	JsonSpan	array;
	JsonSpan	element;
	JsonIter	it;
	ArrayBuildState *state = initArrayResult(TEXTOID, CurrentMemoryContext, false);

	if (JsonObjectGet(object, name, &array) && array.kind == JSON_KIND_ARRAY)
	{
		JsonIterInit(&it, &array);
		while (JsonIterNext(&it, NULL, &element))
			accumArrayResult(state, ValueText(&element), false, TEXTOID, CurrentMemoryContext);
	}
	return makeArrayResult(state, CurrentMemoryContext);
}

/* Output columns of the console feeds, in order. */
enum ConsoleColumn
{
	CONSOLE_TIME_OFFSET,
	CONSOLE_TIMESTAMP,
	CONSOLE_LEVEL,
	CONSOLE_PAYLOAD,
	CONSOLE_TRACE,
	CONSOLE_NCOLUMNS
};

/* Emits one console row from the event's text. */
static void
EmitConsoleRow(const char *text, size_t len, int64 ts, int64 offset,
			   const SessionStreamEvent *ev, ReturnSetInfo *rsinfo)
{
	JsonScanner scanner;
	JsonSpan	event;
	JsonSpan	data;
	JsonSpan	payload;
	JsonSpan	level;
	Datum		values[CONSOLE_NCOLUMNS];
	bool		nulls[CONSOLE_NCOLUMNS] = {0};

	/* Stored bytes are hostile: verify before trusting the scanner's walk. */
	if (pg_encoding_verifymbstr(PG_UTF8, text, (int) len) != (int) len)
		ConsoleCorrupt(SessionStreamBatchId(ev), ev->index);
	JsonScanInit(&scanner, text, len);
	if (!JsonScanValue(&scanner, &event) || !JsonScanAtEnd(&scanner) ||
		event.kind != JSON_KIND_OBJECT ||
		!JsonObjectGet(&event, "data", &data) || data.kind != JSON_KIND_OBJECT ||
		!JsonObjectGet(&data, "payload", &payload))
		ConsoleCorrupt(SessionStreamBatchId(ev), ev->index);

	values[CONSOLE_TIME_OFFSET] = Int64GetDatum(offset);
	values[CONSOLE_TIMESTAMP] = Int64GetDatum(ts);
	if (payload.kind == JSON_KIND_OBJECT &&
		JsonObjectGet(&payload, "level", &level) && level.kind != JSON_KIND_NULL)
		values[CONSOLE_LEVEL] = ValueText(&level);
	else
		values[CONSOLE_LEVEL] = CStringGetTextDatum("log");
	if (payload.kind == JSON_KIND_OBJECT)
	{
		values[CONSOLE_PAYLOAD] = TextArrayMember(&payload, "payload");
		values[CONSOLE_TRACE] = TextArrayMember(&payload, "trace");
	}
	else
	{
		values[CONSOLE_PAYLOAD] = PointerGetDatum(construct_empty_array(TEXTOID));
		values[CONSOLE_TRACE] = PointerGetDatum(construct_empty_array(TEXTOID));
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Builds the feed; compress selects the idle-compressed timeline. */
static void
BuildConsole(SessionStream *stream, bool compress, int64 gap_ms, int64 cap_ms,
			 ReturnSetInfo *rsinfo)
{
	IdleTimeline timeline;
	SessionStreamEvent ev;
	bool		any = false;
	int64		first = 0;

	TimelineInit(&timeline, gap_ms, cap_ms);
	while (SessionStreamNext(stream, &ev))
	{
		int64		ts = compress ? TimelineAdd(&timeline, ev.timestamp) : ev.timestamp;

		if (!any)
			first = ts;
		any = true;
		if (ev.cls == EVENT_CONSOLE)
		{
			size_t		len;
			const char *text = SessionStreamEventText(stream, &ev, &len);

			EmitConsoleRow(text, len, ts, ts - first, &ev, rsinfo);
		}
	}
}

PG_FUNCTION_INFO_V1(dozor_console);

/*
 * dozor_console(session_id bigint, compress_idle boolean, gap_ms integer,
 *               cap_ms integer) -> console rows of a stored session
 */
Datum
dozor_console(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		gap_ms = SessionIntegerArg(fcinfo, 2, "gap_ms");
	int64		cap_ms = SessionIntegerArg(fcinfo, 3, "cap_ms");
	bool		compress = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	SessionStream *stream;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	stream = SessionStreamOpenStored(PG_GETARG_INT64(0), NULL);
	BuildConsole(stream, compress, gap_ms, cap_ms, rsinfo);
	SessionStreamCloseStored(stream);
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(dozor_console_logs);

/*
 * dozor_console_logs(events json, compress_idle boolean, gap_ms integer,
 *                    cap_ms integer) -> console rows of an events array
 */
Datum
dozor_console_logs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		gap_ms = SessionIntegerArg(fcinfo, 2, "gap_ms");
	int64		cap_ms = SessionIntegerArg(fcinfo, 3, "cap_ms");
	bool		compress = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	text	   *events;
	SessionStream *stream;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	events = PG_GETARG_TEXT_PP(0);
	stream = SessionStreamOpenArray(VARDATA_ANY(events), VARSIZE_ANY_EXHDR(events));
	BuildConsole(stream, compress, gap_ms, cap_ms, rsinfo);
	SessionStreamClose(stream);
	PG_RETURN_NULL();
}
