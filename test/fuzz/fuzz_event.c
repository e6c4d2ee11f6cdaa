/*
 * fuzz_event.c — libFuzzer target for src/event.c: EventsForEach over an
 * events array (what the pure functions dozor_build_history,
 * dozor_console_logs, dozor_extract_markers, ... are given) and EventRead
 * on each element (what ingest runs on every event of a body).
 *
 * The input is the array's JSON text. Either the walk fails with a
 * docs/SPEC.md §3 SQLSTATE (22P02 unparsable, 22023 invalid event, 54000 nesting
 * too deep) or every callback sees a sane EventInfo:
 *   - the event's span is an object inside the input, callbacks come in
 *     index order, and their number is the array's element count;
 *   - the timestamp is floor(the last "timestamp" member) in [0, 2^53);
 *   - a marker's tag is a string starting with "dozor:", and the class is
 *     URL/IDENTITY (or their malformed variants) exactly for those tags;
 *   - a console entry is a type-6 event of the rrweb/console@1 plugin;
 *   - source/interaction are -1 or small integers, interaction only for
 *     MouseInteraction.
 */
#include "event.h"

#include <math.h>

#include "util.h"

typedef struct Walk
{
	const char *buf;
	size_t		len;
	int			seen;
	int			returned;
} Walk;

/* The number of the last member `name` of an object span, or NaN. */
static double
MemberNumber(const JsonSpan *obj, const char *name, JsonKind *kind)
{
	JsonSpan	v;

	*kind = JSON_KIND_NONE;
	if (!JsonObjectGet(obj, name, &v))
		return NAN;
	*kind = v.kind;
	return v.kind == JSON_KIND_NUMBER ? JsonNumberValue(&v) : NAN;
}

static void
CheckEvent(const EventInfo *info, int index, void *arg)
{
	Walk	   *w = arg;
	JsonKind	kind;
	double		ts;
	double		type;

	if (index != w->seen)
		FuzzFail("callback for index %d, expected %d", index, w->seen);
	w->seen++;
	if (info->text.kind != JSON_KIND_OBJECT || info->text.start < w->buf ||
		info->text.start + info->text.len > w->buf + w->len)
		FuzzFail("event %d: span is not an object inside the input", index);

	ts = MemberNumber(&info->text, "timestamp", &kind);
	if (kind != JSON_KIND_NUMBER || !(ts >= 0) || ts >= 9007199254740992.0)
		FuzzFail("event %d: accepted a timestamp that is not a number in [0, 2^53)", index);
	if (info->timestamp != (int64) floor(ts))
		FuzzFail("event %d: timestamp %lld, member says %.17g", index,
				 (long long) info->timestamp, ts);
	type = MemberNumber(&info->text, "type", &kind);
	if (kind != JSON_KIND_NUMBER)
		FuzzFail("event %d: accepted a non-numeric type", index);

	if ((int) info->cls < 0 || info->cls > EVENT_CLASS_MAX)
		FuzzFail("event %d: class %d", index, (int) info->cls);
	if (info->is_marker != EventClassIsMarker(info->cls))
		FuzzFail("event %d: marker flag and class %d disagree", index, (int) info->cls);
	if ((info->cls == EVENT_FULL_SNAPSHOT) != (type == 2.0) ||
		(info->cls == EVENT_META) != (type == 4.0))
		FuzzFail("event %d: keyframe class %d for a type %.17g event", index, (int) info->cls, type);
	if (info->is_marker)
	{
		if (type != 5.0)
			FuzzFail("event %d: marker from a type %.17g event", index, type);
		if (info->tag.kind != JSON_KIND_STRING || !JsonStringHasPrefix(&info->tag, "dozor:"))
			FuzzFail("event %d: marker without a dozor: tag", index);
		if (info->tag.start < info->text.start ||
			info->tag.start + info->tag.len > info->text.start + info->text.len)
			FuzzFail("event %d: tag span outside the event", index);
		if (info->payload.kind != JSON_KIND_NONE &&
			(info->payload.start < info->text.start ||
			 info->payload.start + info->payload.len > info->text.start + info->text.len))
			FuzzFail("event %d: payload span outside the event", index);
		if ((info->cls == EVENT_URL || info->cls == EVENT_URL_MALFORMED) !=
			JsonStringEquals(&info->tag, "dozor:url"))
			FuzzFail("event %d: url class and dozor:url tag disagree", index);
		if ((info->cls == EVENT_IDENTITY || info->cls == EVENT_IDENTITY_MALFORMED) !=
			JsonStringEquals(&info->tag, "dozor:identity"))
			FuzzFail("event %d: identity class and dozor:identity tag disagree", index);
	}
	else if (info->cls != EVENT_ORDINARY && info->cls != EVENT_CONSOLE &&
			 info->cls != EVENT_FULL_SNAPSHOT && info->cls != EVENT_META)
		FuzzFail("event %d: marker class %d without a marker", index, (int) info->cls);
	if (info->cls == EVENT_CONSOLE && type != 6.0)
		FuzzFail("event %d: console class for a type %.17g event", index, type);
	if (info->cls != EVENT_CONSOLE && info->console_level != CONSOLE_LOG)
		FuzzFail("event %d: console level on a non-console event", index);
	if (info->source < -1 || info->source > 64 ||
		(info->source >= 0 && type != 3.0))
		FuzzFail("event %d: source %d", index, info->source);
	if (info->interaction < -1 || info->interaction > 64 ||
		(info->interaction >= 0 && info->source != SOURCE_MOUSE_INTERACTION))
		FuzzFail("event %d: interaction %d", index, info->interaction);
}

static void
RunWalk(void *arg)
{
	Walk	   *w = arg;

	w->returned = EventsForEach(w->buf, w->len, "events", CheckEvent, w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Walk		w;

	w.buf = FuzzExactCopy(data, size);
	w.len = size;
	w.seen = 0;
	w.returned = -1;
	if (FuzzCall(RunWalk, &w))
	{
		JsonScanner s;
		JsonSpan	array;
		JsonIter	it;
		int			n = 0;

		if (w.returned != w.seen)
			FuzzFail("EventsForEach returned %d after %d callbacks", w.returned, w.seen);
		JsonScanInit(&s, w.buf, w.len);
		if (!JsonScanValue(&s, &array) || array.kind != JSON_KIND_ARRAY)
			FuzzFail("EventsForEach accepted something that is not a JSON array");
		JsonIterInit(&it, &array);
		while (JsonIterNext(&it, NULL, NULL))
			n++;
		if (n != w.seen)
			FuzzFail("array has %d elements, %d events were read", n, w.seen);
	}
	else
	{
		if (!FuzzErrorIn("22P02 22023 54000"))
			FuzzUnexpectedError("EventsForEach", "22P02 22023 54000");
		if (strncmp(fuzz_error.message, "events", 6) != 0)
			FuzzFail("error message does not say where: %s", fuzz_error.message);
	}
	FuzzMemoryReset();
	return 0;
}
