/*
 * history.c — the history feed's SQL functions (docs/HISTORY.md §2, §3).
 *
 * The rows come from history_build.c, fed from the session stream. Nothing
 * is inflated: classes and timestamps come from the batch indexes, and the
 * few url/identity payloads from the markers table.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "event.h"
#include "history_build.h"
#include "session.h"
#include "stream.h"
#include "timeline.h"

/* A string member of a jsonb object, or NULL. */
static char *
JsonbStringMember(Jsonb *jb, const char *name)
{
	JsonbValue	key;
	JsonbValue *v;

	if (jb == NULL || !JB_ROOT_IS_OBJECT(jb))
		return NULL;
	key.type = jbvString;
	key.val.string.val = (char *) name;
	key.val.string.len = strlen(name);
	v = findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &key);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* payload.traits when it is an object or an array, else NULL. */
static Jsonb *
JsonbTraits(Jsonb *jb)
{
	JsonbValue	key;
	JsonbValue *v;

	if (jb == NULL || !JB_ROOT_IS_OBJECT(jb))
		return NULL;
	key.type = jbvString;
	key.val.string.val = "traits";
	key.val.string.len = strlen("traits");
	v = findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &key);
	if (v == NULL || v->type != jbvBinary)
		return NULL;			/* scalars; objects and arrays are binary */
	return JsonbValueToJsonb(v);
}

/* Adds a marker event, with the strings its stored payload carries. */
static void
AddMarkerEvent(SessionStream *stream, HistoryBuilder *b, const SessionStreamRun *run, int i)
{
	SessionStreamEvent ev;
	Jsonb	   *payload = NULL;

	SessionStreamRunEvent(run, i, &ev);
	if (ev.cls == EVENT_URL || ev.cls == EVENT_IDENTITY)
		payload = SessionStreamMarkerPayload(stream, &ev);
	if (ev.cls == EVENT_URL)
		HistoryBuilderAdd(b, ev.timestamp, EVENT_URL, JsonbStringMember(payload, "url"),
						  JsonbStringMember(payload, "pathname"), NULL, NULL);
	else if (ev.cls == EVENT_IDENTITY)
		HistoryBuilderAdd(b, ev.timestamp, EVENT_IDENTITY, NULL, NULL,
						  JsonbStringMember(payload, "userId"), JsonbTraits(payload));
	else
		HistoryBuilderAdd(b, ev.timestamp, (EventClass) ev.cls, NULL, NULL, NULL, NULL);
}

/* Output columns of the history feeds, in order. */
enum HistoryColumn
{
	HC_ID,
	HC_KIND,
	HC_STARTED_AT,
	HC_ENDED_AT,
	HC_REAL_DURATION_MS,
	HC_PATHNAME,
	HC_URL,
	HC_USER_ID,
	HC_TRAITS,
	HISTORY_NCOLUMNS
};

/* Builds the feed and writes it to the SRF's tuplestore. */
static void
BuildHistory(SessionStream *stream, const HistoryOptions *opt, ReturnSetInfo *rsinfo)
{
	HistoryBuilder b;
	SessionStreamRun run;

	HistoryBuilderInit(&b, opt);
	while (SessionStreamNextRun(stream, &run))
	{
		int			i = 0;

		/* stretches of plain events in one call, markers one by one */
		while (i < run.count)
		{
			int			plain = i;

			while (plain < run.count && HistoryClassIsPlain(run.cls[plain]))
				plain++;
			HistoryBuilderAddPlain(&b, run.timestamp + i, plain - i);
			if (plain < run.count)
				AddMarkerEvent(stream, &b, &run, plain++);
			i = plain;
		}
	}
	HistoryBuilderFinish(&b);

	for (int i = 0; i < b.count; i++)
	{
		const HistoryRow *row = &b.rows[i];
		Datum		values[HISTORY_NCOLUMNS];
		bool		nulls[HISTORY_NCOLUMNS] = {0};

		values[HC_ID] = CStringGetTextDatum(row->id);
		values[HC_KIND] = CStringGetTextDatum(HistoryKindNames[row->kind]);
		values[HC_STARTED_AT] = Float8GetDatum(row->out_started_at);
		values[HC_ENDED_AT] = Float8GetDatum(row->out_ended_at);
		values[HC_REAL_DURATION_MS] = Int64GetDatum(row->real_duration_ms);
		nulls[HC_PATHNAME] = row->pathname == NULL;
		if (row->pathname)
			values[HC_PATHNAME] = CStringGetTextDatum(row->pathname);
		nulls[HC_URL] = row->url == NULL;
		if (row->url)
			values[HC_URL] = CStringGetTextDatum(row->url);
		nulls[HC_USER_ID] = row->user_id == NULL;
		if (row->user_id)
			values[HC_USER_ID] = CStringGetTextDatum(row->user_id);
		nulls[HC_TRAITS] = row->traits == NULL;
		if (row->traits)
			values[HC_TRAITS] = JsonbPGetDatum(row->traits);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* Reads idle_gap_ms (NULL disables idle items and compression) and cap_ms. */
static void
ReadIdleOptions(FunctionCallInfo fcinfo, int compress_arg, int gap_arg, int cap_arg,
				HistoryOptions *opt)
{
	opt->idle_items = !PG_ARGISNULL(gap_arg);
	if (opt->idle_items)
	{
		opt->idle_gap_ms = PG_GETARG_INT32(gap_arg);
		TimelineCheckParameter("idle_gap_ms", opt->idle_gap_ms);
	}
	opt->cap_ms = SessionIntegerArg(fcinfo, cap_arg, "cap_ms");
	opt->compress = opt->idle_items && !PG_ARGISNULL(compress_arg) && PG_GETARG_BOOL(compress_arg);
}

PG_FUNCTION_INFO_V1(dozor_history);

/*
 * dozor_history(session_id bigint, compress_idle boolean, idle_gap_ms integer,
 *               cap_ms integer) -> history rows of a stored session
 */
Datum
dozor_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HistoryOptions opt = {0};
	SessionInfo session;
	SessionStream *stream;

	ReadIdleOptions(fcinfo, 1, 2, 3, &opt);
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	stream = SessionStreamOpenStored(PG_GETARG_INT64(0), &session);
	if (stream != NULL)
	{
		opt.initial_url = session.url;
		opt.has_ended_at = session.has_ended_at;
		opt.session_ended_at = session.ended_at_ms;
		BuildHistory(stream, &opt, rsinfo);
		SessionStreamCloseStored(stream);
	}
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(dozor_build_history);

/*
 * dozor_build_history(events json, initial_url text, session_ended_at bigint,
 *                     compress_idle boolean, idle_gap_ms integer, cap_ms integer)
 */
Datum
dozor_build_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HistoryOptions opt = {0};
	text	   *events;
	SessionStream *stream;

	ReadIdleOptions(fcinfo, 3, 4, 5, &opt);
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	events = PG_GETARG_TEXT_PP(0);
	opt.initial_url = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	opt.has_ended_at = !PG_ARGISNULL(2);
	if (opt.has_ended_at)
		opt.session_ended_at = PG_GETARG_INT64(2);

	stream = SessionStreamOpenArray(VARDATA_ANY(events), VARSIZE_ANY_EXHDR(events));
	BuildHistory(stream, &opt, rsinfo);
	SessionStreamClose(stream);
	PG_RETURN_NULL();
}
