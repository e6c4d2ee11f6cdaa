/*
 * event.c — validation and classification of single rrweb events.
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"

#include "event.h"

/* 2^53: timestamps must be exact integers in a double (docs/SPEC.md §3). */
#define MAX_SAFE_TIMESTAMP 9007199254740992.0

/* Reports an invalid field of events[index]. */
static void
EventFieldError(int index, const char *field, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("events[%d]%s%s %s", index, field[0] ? "." : "", field, problem)));
}

/* Is str a string whose decoded text is non-empty? */
static bool
IsNonEmptyString(const JsonSpan *str)
{
	return str->kind == JSON_KIND_STRING && str->len > 2;
}

/*
 * The last members named name1 and name2 of a validated object, in one walk
 * (JsonObjectGet twice would skip over a large payload twice). A name that
 * is absent leaves its span of kind NONE.
 */
static void
ObjectGetTwo(const JsonSpan *object, const char *name1, JsonSpan *value1,
			 const char *name2, JsonSpan *value2)
{
	JsonIter	it;

	memset(value1, 0, sizeof(*value1));
	memset(value2, 0, sizeof(*value2));
	JsonIterInit(&it, object);
	while (JsonIterNext(&it, NULL, NULL))
	{
		if (JsonIterKeyEquals(&it, name1))
			JsonIterValue(&it, value1);
		else if (JsonIterKeyEquals(&it, name2))
			JsonIterValue(&it, value2);
	}
}

/* Classifies a Custom event (type 5) from its data object. */
static void
ClassifyCustom(const JsonSpan *data, EventInfo *info)
{
	JsonSpan	tag;
	JsonSpan	payload;
	JsonSpan	field;

	if (data->kind != JSON_KIND_OBJECT)
		return;
	ObjectGetTwo(data, "tag", &tag, "payload", &payload);
	if (tag.kind != JSON_KIND_STRING || !JsonStringHasPrefix(&tag, DOZOR_MARKER_PREFIX))
		return;

	info->is_marker = true;
	info->cls = EVENT_MARKER_OTHER;
	info->tag = tag;
	info->payload = payload;

	if (JsonStringEquals(&tag, "dozor:url"))
	{
		bool		ok = info->payload.kind == JSON_KIND_OBJECT &&
			JsonObjectGet(&info->payload, "url", &field) && IsNonEmptyString(&field) &&
			JsonObjectGet(&info->payload, "pathname", &field) && IsNonEmptyString(&field);

		info->cls = ok ? EVENT_URL : EVENT_URL_MALFORMED;
	}
	else if (JsonStringEquals(&tag, "dozor:identity"))
	{
		bool		ok = info->payload.kind == JSON_KIND_OBJECT &&
			JsonObjectGet(&info->payload, "userId", &field) && IsNonEmptyString(&field);

		info->cls = ok ? EVENT_IDENTITY : EVENT_IDENTITY_MALFORMED;
	}
}

/* Classifies a Plugin event (type 6): console entries only. */
static void
ClassifyPlugin(const JsonSpan *data, EventInfo *info)
{
	JsonSpan	plugin;
	JsonSpan	payload;
	JsonSpan	level;

	if (data->kind != JSON_KIND_OBJECT)
		return;
	ObjectGetTwo(data, "plugin", &plugin, "payload", &payload);
	if (plugin.kind == JSON_KIND_STRING &&
		JsonStringEquals(&plugin, DOZOR_CONSOLE_PLUGIN) &&
		JsonIsTruthy(&payload))
	{
		info->cls = EVENT_CONSOLE;
		if (payload.kind == JSON_KIND_OBJECT && JsonObjectGet(&payload, "level", &level) &&
			level.kind == JSON_KIND_STRING)
		{
			if (JsonStringEquals(&level, "warn"))
				info->console_level = CONSOLE_WARN;
			else if (JsonStringEquals(&level, "error") || JsonStringEquals(&level, "assert"))
				info->console_level = CONSOLE_ERROR;
		}
	}
}

/*
 * Reads data.source (and data.type of a MouseInteraction) of an
 * IncrementalSnapshot. Unlike everywhere else this takes the first
 * occurrence and stops early: rrweb writes "source" first, and walking the
 * rest would skip over a Mutation's whole DOM diff a second time. Only the
 * activity counters depend on it, never stored bytes or feeds.
 */
static void
ReadIncremental(const JsonSpan *data, EventInfo *info)
{
	JsonIter	it;
	JsonSpan	value;
	bool		have_source = false;
	double		d;

	if (data->kind != JSON_KIND_OBJECT)
		return;
	JsonIterInit(&it, data);
	while (JsonIterNext(&it, NULL, NULL))
	{
		if (!have_source && JsonIterKeyEquals(&it, "source"))
		{
			have_source = true;
			JsonIterValue(&it, &value);
			if (value.kind != JSON_KIND_NUMBER)
				break;
			d = JsonNumberValue(&value);
			if (!(d >= 0 && d <= 64 && d == (int) d))
				break;
			info->source = (int) d;
			if (info->source != SOURCE_MOUSE_INTERACTION || info->interaction >= 0)
				break;
		}
		else if (info->interaction < 0 && JsonIterKeyEquals(&it, "type"))
		{
			JsonIterValue(&it, &value);
			if (value.kind == JSON_KIND_NUMBER)
			{
				d = JsonNumberValue(&value);
				if (d >= 0 && d <= 64 && d == (int) d)
					info->interaction = (int) d;
			}
			if (have_source)
				break;
		}
	}
	/* data.type belongs to MouseInteraction only */
	if (info->source != SOURCE_MOUSE_INTERACTION)
		info->interaction = -1;
}

bool
EventIsInteraction(int source)
{
	switch (source)
	{
		case SOURCE_MOUSE_MOVE:
		case SOURCE_MOUSE_INTERACTION:
		case SOURCE_SCROLL:
		case SOURCE_VIEWPORT_RESIZE:
		case SOURCE_INPUT:
		case SOURCE_TOUCH_MOVE:
		case SOURCE_MEDIA_INTERACTION:
		case SOURCE_DRAG:
			return true;
		default:
			return false;
	}
}

void
EventRead(const JsonSpan *text, int index, EventInfo *info)
{
	JsonIter	it;
	JsonSpan	type = {0};
	JsonSpan	timestamp = {0};
	JsonSpan	data = {0};
	double		ts;
	double		type_value;

	memset(info, 0, sizeof(*info));
	info->text = *text;
	info->cls = EVENT_ORDINARY;
	info->source = -1;
	info->interaction = -1;

	if (text->kind != JSON_KIND_OBJECT)
		EventFieldError(index, "", "must be an object");

	/* One walk over the members; later duplicates win, as in JSON.parse. */
	JsonIterInit(&it, text);
	while (JsonIterNext(&it, NULL, NULL))
	{
		if (JsonIterKeyEquals(&it, "type"))
			JsonIterValue(&it, &type);
		else if (JsonIterKeyEquals(&it, "timestamp"))
			JsonIterValue(&it, &timestamp);
		else if (JsonIterKeyEquals(&it, "data"))
			JsonIterValue(&it, &data);
	}

	if (type.kind != JSON_KIND_NUMBER)
		EventFieldError(index, "type", type.kind == JSON_KIND_NONE ? "is missing" : "must be a number");
	if (timestamp.kind != JSON_KIND_NUMBER)
		EventFieldError(index, "timestamp", timestamp.kind == JSON_KIND_NONE ? "is missing" : "must be a number");
	if (data.kind == JSON_KIND_NONE)
		EventFieldError(index, "data", "is missing");

	ts = JsonNumberValue(&timestamp);
	if (!isfinite(ts) || !(ts >= 0.0) || ts >= MAX_SAFE_TIMESTAMP)
		EventFieldError(index, "timestamp", "must be a finite number in [0, 2^53)");
	info->timestamp = (int64) floor(ts);

	type_value = JsonNumberValue(&type);
	if (type_value == 2.0)
		info->cls = EVENT_FULL_SNAPSHOT;
	else if (type_value == 4.0)
		info->cls = EVENT_META;
	else if (type_value == 3.0)
		ReadIncremental(&data, info);
	else if (type_value == 5.0)
		ClassifyCustom(&data, info);
	else if (type_value == 6.0)
		ClassifyPlugin(&data, info);
}

void
JsonScanWhole(const char *buf, size_t len, const char *what, bool utf8,
			  int outline_depth, uint32 outline_nodes, JsonSpan *out)
{
	JsonScanner scanner;

	JsonScanInit(&scanner, buf, len);
	JsonScanOutline(&scanner, outline_depth, outline_nodes);
	if (utf8)
		JsonScanCheckUtf8(&scanner);
	if (!JsonScanValue(&scanner, out) || !JsonScanAtEnd(&scanner))
	{
		/*
		 * Valid JSON is valid UTF-8 once its strings are (the scanner
		 * checked those); on failure the whole text is checked, so that
		 * bad UTF-8 is reported first, at the byte PostgreSQL names.
		 */
		int			valid = utf8 ? pg_encoding_verifymbstr(PG_UTF8, buf, (int) len) : (int) len;

		if (valid != (int) len)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("%s is not valid UTF-8 at byte %d", what, valid)));
		ereport(ERROR,
				(errcode(scanner.too_deep ? ERRCODE_PROGRAM_LIMIT_EXCEEDED : ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("%s is not valid JSON", what),
				 errdetail("%c%s at byte %zu.", pg_toupper((unsigned char) scanner.error[0]),
						   scanner.error + 1, scanner.error_pos)));
	}
}

int
EventsForEach(const char *json, size_t len, const char *what,
			  EventCallback callback, void *arg)
{
	JsonSpan	array;
	JsonIter	it;
	JsonSpan	element;
	int			index = 0;

	JsonScanWhole(json, len, what, false, -1, 0, &array);
	if (array.kind != JSON_KIND_ARRAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON array of events", what)));

	JsonIterInit(&it, &array);
	while (JsonIterNext(&it, NULL, &element))
	{
		EventInfo	info;

		CHECK_FOR_INTERRUPTS();
		if (index == PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s has too many events", what)));
		EventRead(&element, index, &info);
		callback(&info, index, arg);
		index++;
	}
	return index;
}
