/*
 * markers.c — markers of an events array (the pure counterpart of the
 * markers table): every Custom event whose tag starts with "dozor:", in
 * stream order.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "event.h"
#include "json_scan.h"

typedef struct MarkerRow
{
	int64		timestamp;
	int			index;
	Datum		kind;
	Datum		data;
} MarkerRow;

typedef struct MarkerList
{
	MarkerRow  *rows;
	int			count;
	int			capacity;
} MarkerList;

/* Collects the marker of one event, if it is one. */
static void
CollectMarker(const EventInfo *info, int index, void *arg)
{
	MarkerList *list = (MarkerList *) arg;
	MarkerRow  *row;
	StringInfoData tag;
	const char *data;

	if (!info->is_marker)
		return;
	if (list->count == list->capacity)
	{
		list->capacity = list->capacity ? list->capacity * 2 : 16;
		list->rows = list->rows ? repalloc(list->rows, mul_size(list->capacity, sizeof(MarkerRow)))
			: palloc(mul_size(list->capacity, sizeof(MarkerRow)));
	}
	row = &list->rows[list->count++];
	initStringInfo(&tag);
	JsonStringDecode(&info->tag, &tag);
	row->timestamp = info->timestamp;
	row->index = index;
	row->kind = CStringGetTextDatum(tag.data + strlen(DOZOR_MARKER_PREFIX));
	data = info->payload.kind == JSON_KIND_NONE ? "null" : JsonTextForPostgres(&info->payload);
	row->data = DirectFunctionCall1(jsonb_in, CStringGetDatum(data));
}

/* Stable order: by timestamp, then position in the array. */
static int
CompareMarkers(const void *a, const void *b)
{
	const MarkerRow *x = a;
	const MarkerRow *y = b;

	if (x->timestamp != y->timestamp)
		return x->timestamp < y->timestamp ? -1 : 1;
	return x->index - y->index;
}

PG_FUNCTION_INFO_V1(dozor_extract_markers);

/* dozor_extract_markers(events json) -> (timestamp, kind, data) */
Datum
dozor_extract_markers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MarkerList	list = {0};
	text	   *events;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	events = PG_GETARG_TEXT_PP(0);
	EventsForEach(VARDATA_ANY(events), VARSIZE_ANY_EXHDR(events), "events", CollectMarker, &list);
	if (list.count > 1)
		qsort(list.rows, list.count, sizeof(MarkerRow), CompareMarkers);
	for (int i = 0; i < list.count; i++)
	{
		Datum		values[3] = {Int64GetDatum(list.rows[i].timestamp), list.rows[i].kind, list.rows[i].data};
		bool		nulls[3] = {0};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}
