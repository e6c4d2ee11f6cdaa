/*
 * history.c — the history feed (HISTORY.md §2, §3).
 *
 * One pass over the session stream builds the rows and, when compression
 * is on, the idle timeline; the rows' times are mapped onto the compressed
 * timeline at the end. Nothing is inflated: classes and timestamps come
 * from the batch indexes, and the few url/identity payloads from the
 * markers table.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "event.h"
#include "session.h"
#include "stream.h"
#include "timeline.h"
#include "url_pathname.h"

typedef enum HistoryKind
{
	HISTORY_INIT,
	HISTORY_NAVIGATION,
	HISTORY_IDLE,
	HISTORY_IDENTIFY
} HistoryKind;

static const char *const HistoryKindNames[] = {"init", "navigation", "idle", "identify"};
static const char *const HistoryIdPrefixes[] = {"init", "nav", "idle", "identify"};

typedef struct HistoryRow
{
	HistoryKind kind;
	int			k;				/* per-kind counter, in the id */
	int64		started_at;
	int64		ended_at;
	bool		open;			/* a section not yet sealed: ends at close */
	char	   *pathname;
	char	   *url;
	char	   *user_id;
	Jsonb	   *traits;
} HistoryRow;

typedef struct HistoryOptions
{
	const char *initial_url;
	bool		has_ended_at;
	int64		session_ended_at;
	bool		idle_items;		/* idle_gap_ms not NULL */
	int64		idle_gap_ms;
	bool		compress;
	int64		cap_ms;
} HistoryOptions;

typedef struct HistoryBuild
{
	HistoryRow *rows;
	int			count;
	int			capacity;
	int			counters[4];
} HistoryBuild;

/* Appends a row of the given kind and returns it. */
static HistoryRow *
AppendRow(HistoryBuild *h, HistoryKind kind, int64 started_at, int64 ended_at)
{
	HistoryRow *row;

	if (h->count == h->capacity)
	{
		h->capacity = h->capacity ? h->capacity * 2 : 32;
		h->rows = h->rows ? repalloc(h->rows, mul_size(h->capacity, sizeof(HistoryRow)))
			: palloc(mul_size(h->capacity, sizeof(HistoryRow)));
	}
	row = &h->rows[h->count++];
	memset(row, 0, sizeof(*row));
	row->kind = kind;
	row->k = h->counters[kind]++;
	row->started_at = started_at;
	row->ended_at = ended_at;
	return row;
}

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

/* Builds the feed and writes it to the SRF's tuplestore. */
static void
BuildHistory(SessionStream *stream, const HistoryOptions *opt, ReturnSetInfo *rsinfo)
{
	HistoryBuild h = {0};
	IdleTimeline timeline;
	SessionStreamEvent ev;
	int			current = 0;
	int64		prev = 0;
	int64		close;
	bool		any = false;

	TimelineInit(&timeline, opt->idle_gap_ms, opt->cap_ms);
	while (SessionStreamNext(stream, &ev))
	{
		if (!any)
		{
			HistoryRow *init = AppendRow(&h, HISTORY_INIT, ev.timestamp, 0);

			init->open = true;
			if (opt->initial_url)
			{
				init->url = pstrdup(opt->initial_url);
				init->pathname = UrlPathname(opt->initial_url, strlen(opt->initial_url));
			}
		}
		if (opt->compress)
			TimelineAdd(&timeline, ev.timestamp);

		switch ((EventClass) ev.cls)
		{
			case EVENT_URL:
				{
					Jsonb	   *payload = SessionStreamMarkerPayload(stream, &ev);
					HistoryRow *nav;

					h.rows[current].ended_at = ev.timestamp;
					h.rows[current].open = false;
					nav = AppendRow(&h, HISTORY_NAVIGATION, ev.timestamp, 0);
					nav->open = true;
					nav->url = JsonbStringMember(payload, "url");
					nav->pathname = JsonbStringMember(payload, "pathname");
					current = h.count - 1;
					break;
				}
			case EVENT_IDENTITY:
				{
					Jsonb	   *payload = SessionStreamMarkerPayload(stream, &ev);
					HistoryRow *point = AppendRow(&h, HISTORY_IDENTIFY, ev.timestamp, ev.timestamp);

					point->user_id = JsonbStringMember(payload, "userId");
					point->traits = JsonbTraits(payload);
					break;
				}
			case EVENT_URL_MALFORMED:
			case EVENT_IDENTITY_MALFORMED:
				break;			/* skipped entirely (kept for compatibility) */
			default:
				if (opt->idle_items && any && ev.timestamp - prev > opt->idle_gap_ms)
					AppendRow(&h, HISTORY_IDLE, prev, ev.timestamp);
				break;
		}
		prev = ev.timestamp;
		any = true;
	}
	if (!any)
		return;

	close = opt->has_ended_at ? opt->session_ended_at : prev;
	for (int i = 0; i < h.count; i++)
	{
		HistoryRow *row = &h.rows[i];
		Datum		values[9];
		bool		nulls[9] = {0};
		char		id[96];

		if (row->open)
			row->ended_at = close;
		if (row->kind == HISTORY_INIT)
			snprintf(id, sizeof(id), "init-" INT64_FORMAT, row->started_at);
		else
			snprintf(id, sizeof(id), "%s-%d-" INT64_FORMAT, HistoryIdPrefixes[row->kind], row->k, row->started_at);

		values[0] = CStringGetTextDatum(id);
		values[1] = CStringGetTextDatum(HistoryKindNames[row->kind]);
		values[2] = Float8GetDatum(opt->compress ? TimelineToCompressed(&timeline, (double) row->started_at) : (double) row->started_at);
		values[3] = Float8GetDatum(opt->compress ? TimelineToCompressed(&timeline, (double) row->ended_at) : (double) row->ended_at);
		values[4] = Int64GetDatum(row->ended_at - row->started_at);
		nulls[5] = row->pathname == NULL;
		if (row->pathname)
			values[5] = CStringGetTextDatum(row->pathname);
		nulls[6] = row->url == NULL;
		if (row->url)
			values[6] = CStringGetTextDatum(row->url);
		nulls[7] = row->user_id == NULL;
		if (row->user_id)
			values[7] = CStringGetTextDatum(row->user_id);
		nulls[8] = row->traits == NULL;
		if (row->traits)
			values[8] = JsonbPGetDatum(row->traits);
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

	SPI_connect();
	SessionLookup(PG_GETARG_INT64(0), &session);
	if (session.found)
	{
		opt.initial_url = session.url;
		opt.has_ended_at = session.has_ended_at;
		opt.session_ended_at = session.ended_at_ms;
		stream = SessionStreamOpen(PG_GETARG_INT64(0));
		BuildHistory(stream, &opt, rsinfo);
		SessionStreamClose(stream);
	}
	SPI_finish();
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
