/*
 * event.h — what dozor reads from one rrweb event.
 *
 * An event is validated (docs/SPEC.md §3: an object with a numeric type, a finite
 * timestamp in [0, 2^53) and a data key) and classified for the history and
 * console feeds (docs/HISTORY.md §1) in one look, without parsing its data.
 */
#ifndef DOZOR_EVENT_H
#define DOZOR_EVENT_H

#include "json_scan.h"
#include "limits.h"

/* The class of an event, as stored per event in the batch index. */
typedef enum EventClass
{
	EVENT_ORDINARY = 0,
	EVENT_CONSOLE = 1,			/* rrweb/console@1 plugin entry */
	EVENT_URL = 2,				/* well-formed dozor:url marker */
	EVENT_URL_MALFORMED = 3,
	EVENT_IDENTITY = 4,			/* well-formed dozor:identity marker */
	EVENT_IDENTITY_MALFORMED = 5,
	EVENT_FULL_SNAPSHOT = 6,	/* type 2: a keyframe the player starts from */
	EVENT_META = 7,				/* type 4: the viewport a keyframe needs */
	EVENT_MARKER_OTHER = 8		/* any other dozor:* Custom event */
} EventClass;

#define EVENT_CLASS_MAX EVENT_MARKER_OTHER

/* Is the event a dozor:* marker (a row of dozor.markers at ingest)? */
static inline bool
EventClassIsMarker(int cls)
{
	return cls == EVENT_URL || cls == EVENT_URL_MALFORMED ||
		cls == EVENT_IDENTITY || cls == EVENT_IDENTITY_MALFORMED ||
		cls == EVENT_MARKER_OTHER;
}

/* IncrementalSnapshot sources dozor counts (rrweb's IncrementalSource). */
#define SOURCE_MUTATION 0
#define SOURCE_MOUSE_MOVE 1
#define SOURCE_MOUSE_INTERACTION 2
#define SOURCE_SCROLL 3
#define SOURCE_VIEWPORT_RESIZE 4
#define SOURCE_INPUT 5
#define SOURCE_TOUCH_MOVE 6
#define SOURCE_MEDIA_INTERACTION 7
#define SOURCE_DRAG 12

/* MouseInteraction types that are clicks. */
#define INTERACTION_CLICK 2
#define INTERACTION_DBLCLICK 4

/* Console levels as the activity summary buckets them. */
typedef enum ConsoleLevel
{
	CONSOLE_LOG = 0,			/* log, info, debug and every other method */
	CONSOLE_WARN,
	CONSOLE_ERROR				/* error and assert */
} ConsoleLevel;

/* Is the event a user interaction (counts toward active time)? Inline: ingest asks at every event. */
static inline bool
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

#define DOZOR_MARKER_PREFIX "dozor:"
#define DOZOR_CONSOLE_PLUGIN "rrweb/console@1"

typedef struct EventInfo
{
	JsonSpan	text;			/* the whole event, as sent */
	int64		timestamp;		/* floored */
	EventClass	cls;
	bool		is_marker;		/* Custom event whose tag starts "dozor:" */
	JsonSpan	tag;			/* data.tag when is_marker */
	JsonSpan	payload;		/* data.payload; kind NONE when absent */
	int			source;			/* IncrementalSnapshot data.source, else -1 */
	int			interaction;	/* MouseInteraction data.type, else -1 */
	ConsoleLevel console_level; /* console entries only */
} EventInfo;

/*
 * Validates and classifies the event `text` (already syntax-checked), which
 * is element `index` of the events array. Violations are reported with
 * SQLSTATE 22023 and name the element ("events[17].timestamp ...").
 */
extern void EventRead(const JsonSpan *text, int index, EventInfo *info);

/*
 * The outline ingest takes of a request body (json_scan.h), so that each
 * level is walked from recorded nodes instead of skipping through the text
 * again: the root is level 0, its members 1 (events), the events 2, their
 * members 3 (type, timestamp, data), data's members 4 (source, tag, plugin,
 * payload). Bodies need ~10 nodes an event; one with more than the cap
 * (about 1 MB of nodes) is walked from the text alone, with the same answers.
 */
#define EVENT_BODY_OUTLINE_DEPTH 4
#define EVENT_BODY_OUTLINE_NODES (64 * DOZOR_MAX_BATCH_EVENTS)

/*
 * Scans buf[0..len) as exactly one JSON value into *out, or reports it as
 * `what` "is not valid JSON" (22P02; 54000 when nested too deep), with the
 * reason and byte in errdetail. With utf8, buf is checked to be UTF-8 as
 * well, in the same pass, and invalid UTF-8 anywhere is what is reported
 * ("is not valid UTF-8 at byte N", 22P02), whatever else is wrong. With
 * outline_depth >= 0 the value comes with its outline down to that level,
 * of at most outline_nodes nodes (JsonScanOutline).
 */
extern void JsonScanWhole(const char *buf, size_t len, const char *what, bool utf8,
						  int outline_depth, uint32 outline_nodes, JsonSpan *out);

/*
 * Validates a whole events array given as JSON text (the pure functions'
 * input). Calls back for every event in array order.
 */
typedef void (*EventCallback) (const EventInfo *info, int index, void *arg);
extern int	EventsForEach(const char *json, size_t len, const char *what,
						  EventCallback callback, void *arg);

#endif							/* DOZOR_EVENT_H */
