/*
 * history_build.h — the rows of the history feed (docs/HISTORY.md §2, §3) from
 * the session stream's timestamps and classes.
 *
 * The caller walks the stream and hands each event to HistoryBuilderAdd,
 * with the marker strings it read from a url or identity marker's payload;
 * HistoryBuilderFinish closes the open sections, makes the ids and maps the
 * times onto the compressed timeline. No SPI, jsonb or tuplestore here, so
 * the fuzz target links it standalone (with timeline.c and url_pathname.c).
 */
#ifndef DOZOR_HISTORY_BUILD_H
#define DOZOR_HISTORY_BUILD_H

#include "postgres.h"

#include "event.h"
#include "timeline.h"

typedef enum HistoryKind
{
	HISTORY_INIT,
	HISTORY_NAVIGATION,
	HISTORY_IDLE,
	HISTORY_IDENTIFY
} HistoryKind;

#define HISTORY_KINDS (HISTORY_IDENTIFY + 1)

/* The kind column of each HistoryKind. */
extern const char *const HistoryKindNames[HISTORY_KINDS];

typedef struct HistoryOptions
{
	const char *initial_url;	/* NULL: none */
	bool		has_ended_at;
	int64		session_ended_at;
	bool		idle_items;		/* idle_gap_ms not NULL */
	int64		idle_gap_ms;
	bool		compress;		/* only with idle_items */
	int64		cap_ms;
} HistoryOptions;

/* "identify-<int>-<int64>" and its NUL fit. */
#define HISTORY_ID_SIZE 48

typedef struct HistoryRow
{
	HistoryKind kind;
	int			k;				/* per-kind counter, in the id */
	int64		started_at;		/* real times */
	int64		ended_at;
	bool		open;			/* a section not yet sealed: ends at close */
	const char *pathname;
	const char *url;
	const char *user_id;
	void	   *traits;			/* the caller's, passed through */
	/* set by HistoryBuilderFinish */
	char		id[HISTORY_ID_SIZE];
	double		out_started_at; /* compressed when compress is on */
	double		out_ended_at;
	int64		real_duration_ms;
} HistoryRow;

typedef struct HistoryBuilder
{
	HistoryOptions opt;
	IdleTimeline timeline;
	HistoryRow *rows;			/* rows[0..count), in feed order */
	int			count;
	int			capacity;
	int			counters[HISTORY_KINDS];
	int			current;		/* the current section */
	int64		prev;			/* timestamp of the previous event */
	bool		any;
} HistoryBuilder;

/* opt is copied; initial_url must outlive the builder. */
extern void HistoryBuilderInit(HistoryBuilder *b, const HistoryOptions *opt);

/*
 * The next event of the stream. url and pathname are read for EVENT_URL,
 * user_id and traits for EVENT_IDENTITY, and ignored otherwise; the rows
 * keep the pointers. Classes outside EventClass count as ordinary events.
 */
extern void HistoryBuilderAdd(HistoryBuilder *b, int64 ts, EventClass cls,
							  const char *url, const char *pathname,
							  const char *user_id, void *traits);

/*
 * HistoryBuilderAdd of n events in a row whose classes are neither url nor
 * identity markers (malformed or not): the common case, in a tight loop.
 */
extern void HistoryBuilderAddPlain(HistoryBuilder *b, const int64 *ts, int n);

/* Does HistoryBuilderAddPlain take events of this class? */
static inline bool
HistoryClassIsPlain(int cls)
{
	return cls != EVENT_URL && cls != EVENT_IDENTITY &&
		cls != EVENT_URL_MALFORMED && cls != EVENT_IDENTITY_MALFORMED;
}

/* Completes the rows; no rows when no event was added. */
extern void HistoryBuilderFinish(HistoryBuilder *b);

#endif							/* DOZOR_HISTORY_BUILD_H */
