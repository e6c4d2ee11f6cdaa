/*
 * event.c — validation and classification of single rrweb events.
 */
#include "postgres.h"

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

/* An IncrementalSnapshot field rrweb writes as a small integer, else -1. */
static inline int
SmallInteger(const JsonSpan *value)
{
	double		d;

	if (value->kind != JSON_KIND_NUMBER)
		return -1;
	d = JsonNumberValue(value);
	return d >= 0 && d <= 64 && d == (int) d ? (int) d : -1;
}

typedef enum IncrementalKey
{
	KEY_OTHER,
	KEY_SOURCE,
	KEY_TYPE
} IncrementalKey;

/*
 * Folds a member of an IncrementalSnapshot's data named source or type
 * into info (ReadIncremental). False once nothing more is wanted.
 */
static inline bool
IncrementalMember(IncrementalKey key, const JsonSpan *value, bool *have_source, EventInfo *info)
{
	if (key == KEY_SOURCE && !*have_source)
	{
		*have_source = true;
		info->source = SmallInteger(value);
		return info->source == SOURCE_MOUSE_INTERACTION && info->interaction < 0;
	}
	if (key == KEY_TYPE && info->interaction < 0)
	{
		info->interaction = SmallInteger(value);
		return !*have_source;
	}
	return true;
}

/* ReadIncremental's walk over the text, for data without recorded members. */
static pg_noinline void
ReadIncrementalText(const JsonSpan *data, EventInfo *info)
{
	JsonIter	it;
	JsonSpan	value;
	bool		have_source = false;

	JsonIterInit(&it, data);
	while (JsonIterNext(&it, NULL, NULL))
	{
		IncrementalKey key = JsonIterKeyEquals(&it, "source") ? KEY_SOURCE :
			JsonIterKeyEquals(&it, "type") ? KEY_TYPE : KEY_OTHER;

		if (key == KEY_OTHER)
			continue;
		JsonIterValue(&it, &value);
		if (!IncrementalMember(key, &value, &have_source, info))
			break;
	}
}

/*
 * Reads data.source (and data.type of a MouseInteraction) of an
 * IncrementalSnapshot. Unlike everywhere else this takes the first
 * occurrence and stops early: rrweb writes "source" first, and walking the
 * rest would skip over a Mutation's whole DOM diff a second time. Only the
 * activity counters depend on it, never stored bytes or feeds. Ingest's
 * data objects have recorded members, walked here as nodes.
 */
static inline void
ReadIncremental(const JsonSpan *data, EventInfo *info)
{
	const JsonNode *n;
	const JsonNode *stop;
	JsonSpan	value;
	bool		have_source = false;

	if (data->kind != JSON_KIND_OBJECT)
		return;
	if (!JsonNodeChildren(data, &n, &stop))
		ReadIncrementalText(data, info);
	else
	{
		for (; n < stop; n += n->skip)
		{
			IncrementalKey key = JsonNodeKeyEquals(n, "source") ? KEY_SOURCE :
				JsonNodeKeyEquals(n, "type") ? KEY_TYPE : KEY_OTHER;

			if (key == KEY_OTHER)
				continue;
			JsonNodeValue(n, &value);
			if (!IncrementalMember(key, &value, &have_source, info))
				break;
		}
	}
	/* data.type belongs to MouseInteraction only */
	if (info->source != SOURCE_MOUSE_INTERACTION)
		info->interaction = -1;
}

/*
 * The event's members type, timestamp and data; kind NONE when absent,
 * later duplicates win, as in JSON.parse. This walks the text, for events
 * without an outline (EventMembers has ingest's).
 */
static pg_noinline void
EventMembersText(const JsonSpan *text, JsonSpan *type, JsonSpan *timestamp, JsonSpan *data)
{
	JsonIter	it;

	JsonIterInit(&it, text);
	while (JsonIterNext(&it, NULL, NULL))
	{
		if (JsonIterKeyEquals(&it, "type"))
			JsonIterValue(&it, type);
		else if (JsonIterKeyEquals(&it, "timestamp"))
			JsonIterValue(&it, timestamp);
		else if (JsonIterKeyEquals(&it, "data"))
			JsonIterValue(&it, data);
	}
}

/*
 * EventMembersText for an event with recorded members (ingest's bodies
 * have an outline): its nodes are walked here directly, the walk's state
 * in registers, and each key's length picks the one name it may be.
 */
static inline void
EventMembers(const JsonSpan *text, JsonSpan *type, JsonSpan *timestamp, JsonSpan *data)
{
	const JsonNode *n;
	const JsonNode *stop;
	const JsonNode *t = NULL;
	const JsonNode *ts = NULL;
	const JsonNode *d = NULL;

	if (!JsonNodeChildren(text, &n, &stop))
	{
		/* copies: EventRead's spans then never leave registers */
		JsonSpan	found[3] = {{0}};

		EventMembersText(text, &found[0], &found[1], &found[2]);
		*type = found[0];
		*timestamp = found[1];
		*data = found[2];
		return;
	}
	for (; n < stop; n += n->skip)
	{
		if (n->flags & JSON_NODE_KEY_ESCAPES)
		{
			/* rare: decode the key to compare it */
			if (JsonNodeKeyEquals(n, "type"))
				t = n;
			else if (JsonNodeKeyEquals(n, "timestamp"))
				ts = n;
			else if (JsonNodeKeyEquals(n, "data"))
				d = n;
		}
		else if (n->key_len == sizeof("\"type\"") - 1)
		{
			if (memcmp(n->key + 1, "type", 4) == 0)
				t = n;
			else if (memcmp(n->key + 1, "data", 4) == 0)
				d = n;
		}
		else if (n->key_len == sizeof("\"timestamp\"") - 1 &&
				 memcmp(n->key + 1, "timestamp", 9) == 0)
			ts = n;
	}
	if (t != NULL)
		JsonNodeValue(t, type);
	if (ts != NULL)
		JsonNodeValue(ts, timestamp);
	if (d != NULL)
		JsonNodeValue(d, data);
}

void
EventRead(const JsonSpan *text, int index, EventInfo *info)
{
	JsonSpan	type = {0};
	JsonSpan	timestamp = {0};
	JsonSpan	data = {0};
	double		ts;
	double		type_value;

	/* field by field: a memset of the whole struct costs more */
	info->text = *text;
	info->timestamp = 0;
	info->cls = EVENT_ORDINARY;
	info->is_marker = false;
	info->tag = (JsonSpan) {0};
	info->payload = (JsonSpan) {0};
	info->source = -1;
	info->interaction = -1;
	info->console_level = CONSOLE_LOG;

	if (text->kind != JSON_KIND_OBJECT)
		EventFieldError(index, "", "must be an object");

	EventMembers(text, &type, &timestamp, &data);

	if (type.kind != JSON_KIND_NUMBER)
		EventFieldError(index, "type", type.kind == JSON_KIND_NONE ? "is missing" : "must be a number");
	if (timestamp.kind != JSON_KIND_NUMBER)
		EventFieldError(index, "timestamp", timestamp.kind == JSON_KIND_NONE ? "is missing" : "must be a number");
	if (data.kind == JSON_KIND_NONE)
		EventFieldError(index, "data", "is missing");

	ts = JsonNumberValue(&timestamp);
	/* false for NaN too; infinities are outside */
	if (!(ts >= 0.0 && ts < MAX_SAFE_TIMESTAMP))
		EventFieldError(index, "timestamp", "must be a finite number in [0, 2^53)");
	/* the floor: truncation, as ts >= 0 */
	info->timestamp = (int64) ts;

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
