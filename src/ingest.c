/*
 * ingest.c — turns one SDK request body into a batch ready to store.
 *
 * dozor_prepare_batch(body, content_encoding) does all the CPU work of
 * ingest in C: bounded gunzip, UTF-8 and JSON validation, the docs/SPEC.md §3
 * schema checks with messages that name the field, classification of every
 * event, the stored gzip of the events exactly as sent, the batch index and
 * the retry digest. dozor_ingest (src/ingest_store.c) then does the table
 * writes.
 *
 * Events are never re-serialized: the stored array is "[" + the events'
 * original texts joined by "," + "]".
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "batch_index.h"
#include "event.h"
#include "gzip.h"
#include "hex.h"
#include "ingest.h"
#include "json_scan.h"
#include "limits.h"
#include "url_pathname.h"
#include "xxh64.h"


/* Reports a body field of the wrong shape (SQLSTATE 22023). */
static void
FieldError(const char *field, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s %s", field, problem)));
}

/* Decodes a JSON string span into a text datum (U+FFFD for what text cannot hold). */
static Datum
StringDatum(const JsonSpan *str)
{
	StringInfoData buf;

	initStringInfo(&buf);
	JsonStringDecode(str, &buf);
	return PointerGetDatum(cstring_to_text_with_len(buf.data, buf.len));
}

/*
 * A validated JSON value as text that jsonb accepts (U+FFFD for what it
 * cannot hold), at most 1 MiB. It stays text here: dozor_ingest casts it to
 * jsonb row by row as it inserts, so no more than one parse is alive at once.
 */
static Datum
JsonValueText(const JsonSpan *value, const char *field)
{
	if (value->len > DOZOR_MAX_JSONB_VALUE_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s exceeds %zu bytes", field, DOZOR_MAX_JSONB_VALUE_BYTES)));
	return CStringGetTextDatum(JsonTextForPostgres(value));
}

/*
 * sessionId: 8-4-4-4-12 hex (any case), version nibble 1-8 and the RFC 4122
 * variant, or the nil or max UUID.
 */
static Datum
SessionIdDatum(const JsonSpan *value)
{
	StringInfoData s;
	bool		all_zero = true;
	bool		all_f = true;

	if (value->kind == JSON_KIND_NONE)
		FieldError("sessionId", "is missing");
	if (value->kind != JSON_KIND_STRING)
		FieldError("sessionId", "must be a string");
	initStringInfo(&s);
	JsonStringDecode(value, &s);
	if (s.len != 36)
		FieldError("sessionId", "must be a UUID (8-4-4-4-12 hex digits)");
	for (int i = 0; i < 36; i++)
	{
		char		c = s.data[i];

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (c != '-')
				FieldError("sessionId", "must be a UUID (8-4-4-4-12 hex digits)");
			continue;
		}
		if (HexDigitValue((unsigned char) c) < 0)
			FieldError("sessionId", "must be a UUID (8-4-4-4-12 hex digits)");
		all_zero &= (c == '0');
		all_f &= (c == 'f' || c == 'F');
	}
	if (!all_zero && !all_f)
	{
		char		version = s.data[14];
		char		variant = pg_ascii_tolower((unsigned char) s.data[19]);

		if (version < '1' || version > '8')
			FieldError("sessionId", "must be a UUID of version 1 to 8");
		if (variant != '8' && variant != '9' && variant != 'a' && variant != 'b')
			FieldError("sessionId", "must be a UUID with the RFC 4122 variant");
	}
	return DirectFunctionCall1(uuid_in, CStringGetDatum(s.data));
}

/* A required string member of metadata. */
static Datum
MetadataString(const JsonSpan *metadata, const char *name, const char *field)
{
	JsonSpan	value;

	if (!JsonObjectGet(metadata, name, &value))
		FieldError(field, "is missing");
	if (value.kind != JSON_KIND_STRING)
		FieldError(field, "must be a string");
	return StringDatum(&value);
}

/* A required number member of metadata, floored to an integer. */
static Datum
MetadataInteger(const JsonSpan *metadata, const char *name, const char *field)
{
	JsonSpan	value;
	double		d;

	if (!JsonObjectGet(metadata, name, &value))
		FieldError(field, "is missing");
	if (value.kind != JSON_KIND_NUMBER)
		FieldError(field, "must be a number");
	d = floor(JsonNumberValue(&value));
	if (!(d >= (double) PG_INT32_MIN && d <= (double) PG_INT32_MAX))
		FieldError(field, "is out of range for an integer");
	return Int32GetDatum((int32) d);
}

/* metadata.userIdentity: {userId: 1..255 chars, traits?: object}. */
static void
ReadIdentity(const JsonSpan *metadata, Datum *values, bool *nulls)
{
	JsonSpan	identity;
	JsonSpan	user_id;
	JsonSpan	traits;
	size_t		chars;

	if (!JsonObjectGet(metadata, "userIdentity", &identity) ||
		identity.kind == JSON_KIND_NULL)
		return;
	if (identity.kind != JSON_KIND_OBJECT)
		FieldError("metadata.userIdentity", "must be an object");
	if (!JsonObjectGet(&identity, "userId", &user_id))
		FieldError("metadata.userIdentity.userId", "is missing");
	if (user_id.kind != JSON_KIND_STRING)
		FieldError("metadata.userIdentity.userId", "must be a string");
	chars = JsonStringCharCount(&user_id);
	if (chars < 1 || chars > DOZOR_MAX_USER_ID_CHARS)
		FieldError("metadata.userIdentity.userId", "must be 1 to 255 characters long");
	values[PB_USER_ID] = StringDatum(&user_id);
	nulls[PB_USER_ID] = false;

	if (JsonObjectGet(&identity, "traits", &traits) && traits.kind != JSON_KIND_NULL)
	{
		if (traits.kind != JSON_KIND_OBJECT)
			FieldError("metadata.userIdentity.traits", "must be an object");
		values[PB_TRAITS] = JsonValueText(&traits, "metadata.userIdentity.traits");
		nulls[PB_TRAITS] = false;
	}
}

/* metadata: all six fields with the right JSON types (null = absent). */
static void
ReadMetadata(const JsonSpan *metadata, Datum *values, bool *nulls)
{
	char	   *url;
	char	   *pathname;

	if (metadata->kind == JSON_KIND_NONE || metadata->kind == JSON_KIND_NULL)
		return;
	if (metadata->kind != JSON_KIND_OBJECT)
		FieldError("metadata", "must be an object");

	values[PB_HAS_METADATA] = BoolGetDatum(true);
	values[PB_URL] = MetadataString(metadata, "url", "metadata.url");
	values[PB_REFERRER] = MetadataString(metadata, "referrer", "metadata.referrer");
	values[PB_USER_AGENT] = MetadataString(metadata, "userAgent", "metadata.userAgent");
	values[PB_SCREEN_WIDTH] = MetadataInteger(metadata, "screenWidth", "metadata.screenWidth");
	values[PB_SCREEN_HEIGHT] = MetadataInteger(metadata, "screenHeight", "metadata.screenHeight");
	values[PB_LANGUAGE] = MetadataString(metadata, "language", "metadata.language");
	for (int c = PB_URL; c <= PB_LANGUAGE; c++)
		nulls[c] = false;

	/* docs/SPEC.md §3 step 4: an unparsable URL gives "/". */
	url = text_to_cstring(DatumGetTextPP(values[PB_URL]));
	pathname = UrlPathname(url, strlen(url));
	values[PB_URL_PATHNAME] = CStringGetTextDatum(pathname ? pathname : "/");
	nulls[PB_URL_PATHNAME] = false;

	ReadIdentity(metadata, values, nulls);
}

/* Everything collected while walking the events array. */
typedef struct BatchBuild
{
	const char *joined;			/* "[" e0 "," e1 ... "]" */
	int			joined_len;
	BatchIndexEntry *entries;
	const char **texts;			/* where each event's text starts */
	int			count;
	int64		first_timestamp;
	int64		last_timestamp;
	int			console_count;
	ArrayBuildState *marker_index;
	ArrayBuildState *marker_timestamp;
	ArrayBuildState *marker_kind;
	ArrayBuildState *marker_data;
	/* activity summary */
	int			click_count;
	int			keypress_count;
	int			mouse_activity_count;
	int			console_counts[3];	/* by ConsoleLevel */
	int64	   *interactions;	/* timestamps of user interactions */
	int			interaction_count;
} BatchBuild;

/* Records a dozor:* Custom event as a marker row. */
static void
AddMarker(BatchBuild *b, const EventInfo *info, int index)
{
	StringInfoData tag;
	Datum		data;
	const char *kind;

	initStringInfo(&tag);
	JsonStringDecode(&info->tag, &tag);
	kind = tag.data + strlen(DOZOR_MARKER_PREFIX);
	if (info->payload.kind == JSON_KIND_NONE)
		data = CStringGetTextDatum("null");
	else
	{
		char		field[64];

		snprintf(field, sizeof(field), "events[%d].data.payload", index);
		data = JsonValueText(&info->payload, field);
	}

	accumArrayResult(b->marker_index, Int32GetDatum(index), false, INT4OID, CurrentMemoryContext);
	accumArrayResult(b->marker_timestamp, Int64GetDatum(info->timestamp), false, INT8OID, CurrentMemoryContext);
	accumArrayResult(b->marker_kind, CStringGetTextDatum(kind), false, TEXTOID, CurrentMemoryContext);
	accumArrayResult(b->marker_data, data, false, TEXTOID, CurrentMemoryContext);
}

/* Folds one event into the batch's activity summary. */
static void
CountActivity(BatchBuild *b, const EventInfo *info)
{
	if (info->source < 0)
		return;
	if (info->source == SOURCE_MOUSE_INTERACTION &&
		(info->interaction == INTERACTION_CLICK || info->interaction == INTERACTION_DBLCLICK))
		b->click_count++;
	if (info->source == SOURCE_INPUT)
		b->keypress_count++;
	if (info->source == SOURCE_MOUSE_MOVE || info->source == SOURCE_MOUSE_INTERACTION ||
		info->source == SOURCE_TOUCH_MOVE || info->source == SOURCE_DRAG)
		b->mouse_activity_count++;
	if (EventIsInteraction(info->source))
		b->interactions[b->interaction_count++] = info->timestamp;
}

/* Ascending int64 order for qsort. */
static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * The batch's runs of activity: maximal runs of interactions whose
 * consecutive gaps are under DOZOR_ACTIVE_GAP_MS (src/limits.h), as their
 * first and last interactions; dozor_activity_run makes each the stored
 * range. (The pairs are 0.1.0's: a new library serves 0.1.0's dozor_ingest
 * correctly until ALTER EXTENSION UPDATE.)
 * The session merges runs of all its batches (src/dozor.sql), which gives
 * the same active time as walking the whole merged stream, in any batch
 * arrival order.
 */
static void
ActiveRuns(BatchBuild *b, Datum *starts, Datum *ends)
{
	ArrayBuildState *s = initArrayResult(INT8OID, CurrentMemoryContext, false);
	ArrayBuildState *e = initArrayResult(INT8OID, CurrentMemoryContext, false);
	int			n = b->interaction_count;

	if (n > 1)
		qsort(b->interactions, n, sizeof(int64), CompareInt64);
	for (int i = 0; i < n;)
	{
		int			j = i;

		while (j + 1 < n && b->interactions[j + 1] - b->interactions[j] < DOZOR_ACTIVE_GAP_MS)
			j++;
		accumArrayResult(s, Int64GetDatum(b->interactions[i]), false, INT8OID, CurrentMemoryContext);
		accumArrayResult(e, Int64GetDatum(b->interactions[j]), false, INT8OID, CurrentMemoryContext);
		i = j + 1;
	}
	*starts = makeArrayResult(s, CurrentMemoryContext);
	*ends = makeArrayResult(e, CurrentMemoryContext);
}

/*
 * The stored array, "[" e0 "," e1 ... "]". SDKs send the events array in
 * exactly that form (JSON.stringify puts no whitespace in it), and then it
 * is the array's own text, used in place; otherwise it is joined anew.
 * (In place, not copied: a fresh copy of ~165 KB costs more in page faults
 * than it saves; measured with bench/prepare-cost.sh.)
 */
static void
JoinEvents(const JsonSpan *events, BatchBuild *b)
{
	const char *expect = events->start + 1;
	StringInfoData joined;

	/* validated JSON: one byte between two elements is the comma */
	for (int i = 0; i < b->count && expect != NULL; i++)
		expect = b->texts[i] == expect ? expect + b->entries[i].length + 1 : NULL;
	if (expect != NULL && (b->count > 0 ? expect : expect + 1) == events->start + events->len)
	{
		b->joined = events->start;
		b->joined_len = (int) events->len;
		return;
	}

	initStringInfo(&joined);
	/* The stored array is never longer than the array as sent. */
	enlargeStringInfo(&joined, (int) events->len);
	appendStringInfoChar(&joined, '[');
	for (int i = 0; i < b->count; i++)
	{
		if (i > 0)
			appendStringInfoChar(&joined, ',');
		appendBinaryStringInfo(&joined, b->texts[i], b->entries[i].length);
	}
	appendStringInfoChar(&joined, ']');
	b->joined = joined.data;
	b->joined_len = joined.len;
}

/* Validates the events array and builds the stored form. */
static void
ReadEvents(const JsonSpan *events, BatchBuild *b)
{
	JsonIter	it;
	JsonSpan	element;

	if (events->kind == JSON_KIND_NONE)
		FieldError("events", "is missing");
	if (events->kind != JSON_KIND_ARRAY)
		FieldError("events", "must be an array");

	b->entries = palloc(sizeof(BatchIndexEntry) * DOZOR_MAX_BATCH_EVENTS);
	b->texts = palloc(sizeof(const char *) * DOZOR_MAX_BATCH_EVENTS);
	b->interactions = palloc(sizeof(int64) * DOZOR_MAX_BATCH_EVENTS);

	JsonIterInit(&it, events);
	while (JsonIterNext(&it, NULL, &element))
	{
		EventInfo	info;
		BatchIndexEntry *entry;

		CHECK_FOR_INTERRUPTS();
		if (b->count == DOZOR_MAX_BATCH_EVENTS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("events has more than %d elements", DOZOR_MAX_BATCH_EVENTS)));
		EventRead(&element, b->count, &info);

		b->texts[b->count] = element.start;
		entry = &b->entries[b->count];
		entry->timestamp = info.timestamp;
		entry->length = (uint32) element.len;
		entry->cls = (uint8) info.cls;

		if (b->count == 0 || info.timestamp < b->first_timestamp)
			b->first_timestamp = info.timestamp;
		if (b->count == 0 || info.timestamp > b->last_timestamp)
			b->last_timestamp = info.timestamp;
		if (info.cls == EVENT_CONSOLE)
		{
			b->console_count++;
			b->console_counts[info.console_level]++;
		}
		CountActivity(b, &info);
		if (info.is_marker)
			AddMarker(b, &info, b->count);
		b->count++;
	}
	JoinEvents(events, b);
}

/*
 * A 96-bit digest of the stored events, the key that makes retries
 * idempotent: the XXH64 of the bytes (src/xxh64.c) plus the CRC-32 that the
 * gzip trailer already carries (free: libdeflate computed it while
 * compressing). (0.1.0 hashed with hash_bytes_extended, four times slower;
 * the 0.2.0 upgrade computes every stored batch's digest anew.)
 */
static bytea *
ContentHash(const char *data, size_t len, const char *gz, size_t gz_len)
{
	bytea	   *hash = palloc(VARHDRSZ + BATCH_DIGEST_BYTES);
	uint64		h = Xxh64(data, len, UINT64CONST(0x646f7a6f72));

	SET_VARSIZE(hash, VARHDRSZ + BATCH_DIGEST_BYTES);
	memcpy(VARDATA(hash), &h, 8);
	/* the CRC-32 of the bytes */
	memcpy(VARDATA(hash) + BATCH_DIGEST_CRC_OFFSET, gz + gz_len - 8, 4);
	return hash;
}

/* Wraps bytes in a bytea datum. */
static Datum
ByteaDatum(const char *data, size_t len)
{
	bytea	   *b = palloc(add_size(VARHDRSZ, len));

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return PointerGetDatum(b);
}

/* Is the Content-Encoding header value gzip? NULL/""/identity mean plain. */
static bool
IsGzipEncoding(text *encoding)
{
	char	   *s;
	char	   *end;

	if (encoding == NULL)
		return false;
	s = text_to_cstring(encoding);
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*s == '\0' || pg_strcasecmp(s, "identity") == 0)
		return false;
	if (pg_strcasecmp(s, "gzip") == 0 || pg_strcasecmp(s, "x-gzip") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unsupported content encoding \"%s\"", s),
			 errhint("Send the body plain or with Content-Encoding: gzip.")));
	return false;
}

/*
 * The request body as text: size-capped and gunzipped. (Its UTF-8 is
 * checked by JsonScanWhole, in the validating pass.)
 */
static const char *
BodyText(bytea *body, text *encoding, size_t *len)
{
	const char *data = VARDATA_ANY(body);
	size_t		size = VARSIZE_ANY_EXHDR(body);

	if (size > DOZOR_MAX_BODY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("body exceeds %zu bytes", DOZOR_MAX_BODY_BYTES)));
	if (IsGzipEncoding(encoding))
		data = GzipInflateClient(data, size, DOZOR_MAX_BODY_BYTES, "body", &size);
	*len = size;
	return data;
}

/*
 * Validates a request body and fills the columns of dozor_prepared_batch
 * (values and nulls of PB_NCOLUMNS, in the order of enum PreparedColumn).
 */
void
PrepareBatch(bytea *body, text *content_encoding, Datum *values, bool *nulls)
{
	JsonSpan	root;
	JsonIter	it;
	JsonSpan	key;
	JsonSpan	value;
	JsonSpan	session_id = {0};
	JsonSpan	events = {0};
	JsonSpan	metadata = {0};
	BatchBuild	build = {0};
	const char *json;
	size_t		json_len;

	if (body == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("body must not be null")));
	json = BodyText(body, content_encoding, &json_len);

	JsonScanWhole(json, json_len, "body", true, EVENT_BODY_OUTLINE_DEPTH, EVENT_BODY_OUTLINE_NODES, &root);
	if (root.kind != JSON_KIND_OBJECT)
		FieldError("body", "must be a JSON object");

	/* Unknown keys (sliceMarkers, pageViews, ...) are ignored; the last duplicate wins. */
	JsonIterInit(&it, &root);
	while (JsonIterNext(&it, &key, &value))
	{
		if (JsonStringEquals(&key, "sessionId"))
			session_id = value;
		else if (JsonStringEquals(&key, "events"))
			events = value;
		else if (JsonStringEquals(&key, "metadata"))
			metadata = value;
	}

	memset(nulls, true, sizeof(bool) * PB_NCOLUMNS);
	values[PB_SESSION_ID] = SessionIdDatum(&session_id);
	nulls[PB_SESSION_ID] = false;
	values[PB_HAS_METADATA] = BoolGetDatum(false);
	nulls[PB_HAS_METADATA] = false;
	ReadMetadata(&metadata, values, nulls);

	build.marker_index = initArrayResult(INT4OID, CurrentMemoryContext, false);
	build.marker_timestamp = initArrayResult(INT8OID, CurrentMemoryContext, false);
	build.marker_kind = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	build.marker_data = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	ReadEvents(&events, &build);

	values[PB_EVENT_COUNT] = Int32GetDatum(build.count);
	nulls[PB_EVENT_COUNT] = false;
	values[PB_CONSOLE_COUNT] = Int32GetDatum(build.console_count);
	nulls[PB_CONSOLE_COUNT] = false;
	values[PB_MARKER_INDEX] = makeArrayResult(build.marker_index, CurrentMemoryContext);
	values[PB_MARKER_TIMESTAMP] = makeArrayResult(build.marker_timestamp, CurrentMemoryContext);
	values[PB_MARKER_KIND] = makeArrayResult(build.marker_kind, CurrentMemoryContext);
	values[PB_MARKER_DATA] = makeArrayResult(build.marker_data, CurrentMemoryContext);
	values[PB_CLICK_COUNT] = Int32GetDatum(build.click_count);
	values[PB_KEYPRESS_COUNT] = Int32GetDatum(build.keypress_count);
	values[PB_MOUSE_ACTIVITY_COUNT] = Int32GetDatum(build.mouse_activity_count);
	values[PB_CONSOLE_LOG_COUNT] = Int32GetDatum(build.console_counts[CONSOLE_LOG]);
	values[PB_CONSOLE_WARN_COUNT] = Int32GetDatum(build.console_counts[CONSOLE_WARN]);
	values[PB_CONSOLE_ERROR_COUNT] = Int32GetDatum(build.console_counts[CONSOLE_ERROR]);
	ActiveRuns(&build, &values[PB_ACTIVE_STARTS], &values[PB_ACTIVE_ENDS]);
	for (int c = PB_MARKER_INDEX; c < PB_NCOLUMNS; c++)
		nulls[c] = false;

	/* An empty batch only creates or links the session: nothing to store. */
	if (build.count > 0)
	{
		StringInfoData index;
		bytea	   *gz;
		bytea	   *digest;

		gz = GzipDeflateBytea(build.joined, build.joined_len, DOZOR_STORAGE_GZIP_LEVEL);
		digest = ContentHash(build.joined, build.joined_len, VARDATA(gz), VARSIZE(gz) - VARHDRSZ);
		initStringInfo(&index);
		BatchIndexEncode(build.entries, build.count, build.first_timestamp, VARDATA(digest), &index);

		values[PB_FIRST_TIMESTAMP] = Int64GetDatum(build.first_timestamp);
		values[PB_LAST_TIMESTAMP] = Int64GetDatum(build.last_timestamp);
		values[PB_DATA] = PointerGetDatum(gz);
		values[PB_RAW_BYTES] = Int32GetDatum(build.joined_len);
		values[PB_EVENT_INDEX] = ByteaDatum(index.data, index.len);
		values[PB_CONTENT_HASH] = PointerGetDatum(digest);
		for (int c = PB_FIRST_TIMESTAMP; c <= PB_CONTENT_HASH; c++)
			nulls[c] = false;
	}
}

PG_FUNCTION_INFO_V1(dozor_prepare_batch);

/*
 * dozor_prepare_batch(body bytea, content_encoding text) -> dozor_prepared_batch
 */
Datum
dozor_prepare_batch(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[PB_NCOLUMNS];
	bool		nulls[PB_NCOLUMNS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != PB_NCOLUMNS)
		elog(ERROR, "dozor_prepare_batch must return dozor_prepared_batch");
	PrepareBatch(PG_ARGISNULL(0) ? NULL : PG_GETARG_BYTEA_PP(0),
				 PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

PG_FUNCTION_INFO_V1(dozor_rebuild_batch);

/*
 * dozor_rebuild_batch(batch_id bigint, data bytea, raw_bytes integer,
 *                     stored_hash bytea) -> (content_hash bytea, event_index bytea)
 *
 * A stored batch's digest and event index made again from its blob, exactly
 * as ingest makes them: how the 0.2.0 upgrade gives batches of 0.1.0 the
 * digest of 0.2.0 (so that a retry after the update is still stored once),
 * the keyframe classes and the checksum sealed with the digest. Blobs that
 * are not their row's (the gzip CRC-32 in stored_hash differs), or do not
 * hold the events as stored, are XX001.
 */
Datum
dozor_rebuild_batch(PG_FUNCTION_ARGS)
{
	BatchRow	row = {0};
	bytea	   *gz = PG_GETARG_BYTEA_PP(1);
	bytea	   *stored_hash = PG_GETARG_BYTEA_PP(3);
	BatchBuild	build = {0};
	JsonScanner scanner;
	JsonSpan	events;
	StringInfoData index;
	char	   *text;
	bytea	   *digest;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE || tupdesc->natts != 2)
		elog(ERROR, "dozor_rebuild_batch must return (content_hash bytea, event_index bytea)");
	row.id = PG_GETARG_INT64(0);
	row.raw_bytes = PG_GETARG_INT32(2);
	row.digest = VARDATA_ANY(stored_hash);
	row.digest_len = VARSIZE_ANY_EXHDR(stored_hash);
	if (row.raw_bytes < 2 || (size_t) row.raw_bytes > DOZOR_MAX_BODY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: raw_bytes %d is impossible",
						(long long) row.id, row.raw_bytes)));
	BatchBlobCheck(&row, VARDATA_ANY(gz), VARSIZE_ANY_EXHDR(gz));
	text = GzipInflateStored(VARDATA_ANY(gz), VARSIZE_ANY_EXHDR(gz), (size_t) row.raw_bytes, row.id);

	JsonScanInit(&scanner, text, (size_t) row.raw_bytes);
	if (!JsonScanValue(&scanner, &events) || !JsonScanAtEnd(&scanner))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: its events are not valid JSON", (long long) row.id),
				 errdetail("%c%s at byte %zu.", pg_toupper((unsigned char) scanner.error[0]),
						   scanner.error + 1, scanner.error_pos)));
	build.marker_index = initArrayResult(INT4OID, CurrentMemoryContext, false);
	build.marker_timestamp = initArrayResult(INT8OID, CurrentMemoryContext, false);
	build.marker_kind = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	build.marker_data = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	ReadEvents(&events, &build);
	if (build.joined_len != row.raw_bytes || memcmp(build.joined, text, row.raw_bytes) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored batch %lld is corrupt: its events are not stored as ingest stores them",
						(long long) row.id)));

	digest = ContentHash(text, row.raw_bytes, VARDATA_ANY(gz), VARSIZE_ANY_EXHDR(gz));
	initStringInfo(&index);
	BatchIndexEncode(build.entries, build.count, build.first_timestamp, VARDATA(digest), &index);
	values[0] = PointerGetDatum(digest);
	values[1] = ByteaDatum(index.data, index.len);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
