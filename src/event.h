/*
 * event.h — what dozor reads from one rrweb event.
 *
 * An event is validated (SPEC §3: an object with a numeric type, a finite
 * timestamp in [0, 2^53) and a data key) and classified for the history and
 * console feeds (HISTORY.md §1) in one look, without parsing its data.
 */
#ifndef DOZOR_EVENT_H
#define DOZOR_EVENT_H

#include "json_scan.h"

/* The class of an event, as stored per event in the batch index. */
typedef enum EventClass
{
	EVENT_ORDINARY = 0,
	EVENT_CONSOLE = 1,			/* rrweb/console@1 plugin entry */
	EVENT_URL = 2,				/* well-formed dozor:url marker */
	EVENT_URL_MALFORMED = 3,
	EVENT_IDENTITY = 4,			/* well-formed dozor:identity marker */
	EVENT_IDENTITY_MALFORMED = 5
} EventClass;

#define EVENT_CLASS_MAX EVENT_IDENTITY_MALFORMED

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
} EventInfo;

/*
 * Validates and classifies the event `text` (already syntax-checked), which
 * is element `index` of the events array. Violations are reported with
 * SQLSTATE 22023 and name the element ("events[17].timestamp ...").
 */
extern void EventRead(const JsonSpan *text, int index, EventInfo *info);

/*
 * Validates a whole events array given as JSON text (the pure functions'
 * input). Calls back for every event in array order.
 */
typedef void (*EventCallback) (const EventInfo *info, int index, void *arg);
extern int	EventsForEach(const char *json, size_t len, const char *what,
						  EventCallback callback, void *arg);

#endif							/* DOZOR_EVENT_H */
