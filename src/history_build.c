/*
 * history_build.c — the history feed's rows (docs/HISTORY.md §2, §3).
 *
 * One pass over the session stream builds the rows and, when compression
 * is on, the idle timeline; the rows' times are mapped onto the compressed
 * timeline at the end.
 */
#include "postgres.h"

#include "common/int.h"

#include "history_build.h"
#include "url_pathname.h"

const char *const HistoryKindNames[HISTORY_KINDS] = {"init", "navigation", "idle", "identify"};
static const char *const HistoryIdPrefixes[HISTORY_KINDS] = {"init", "nav", "idle", "identify"};

/* Appends a row of the given kind and returns it. */
static HistoryRow *
AppendRow(HistoryBuilder *b, HistoryKind kind, int64 started_at, int64 ended_at)
{
	HistoryRow *row;

	if (b->count == b->capacity)
	{
		b->capacity = b->capacity ? b->capacity * 2 : 32;
		b->rows = b->rows ? repalloc(b->rows, mul_size(b->capacity, sizeof(HistoryRow)))
			: palloc(mul_size(b->capacity, sizeof(HistoryRow)));
	}
	row = &b->rows[b->count++];
	memset(row, 0, sizeof(*row));
	row->kind = kind;
	row->k = b->counters[kind]++;
	row->started_at = started_at;
	row->ended_at = ended_at;
	return row;
}

/*
 * Is ts - prev > gap (gap >= 0)? Without overflow, so that timestamps
 * nowhere near each other still compare right.
 */
static inline bool
GapExceeds(int64 prev, int64 ts, int64 gap)
{
	return ts > prev && (uint64) ts - (uint64) prev > (uint64) gap;
}

/* An idle row for a gap longer than idle_gap_ms before an ordinary event. */
static inline void
NoteIdleGap(HistoryBuilder *b, int64 prev, int64 ts)
{
	if (b->opt.idle_items && GapExceeds(prev, ts, b->opt.idle_gap_ms))
		AppendRow(b, HISTORY_IDLE, prev, ts);
}

void
HistoryBuilderInit(HistoryBuilder *b, const HistoryOptions *opt)
{
	memset(b, 0, sizeof(*b));
	b->opt = *opt;
	TimelineInit(&b->timeline, opt->idle_gap_ms, opt->cap_ms);
}

void
HistoryBuilderAdd(HistoryBuilder *b, int64 ts, EventClass cls,
				  const char *url, const char *pathname,
				  const char *user_id, void *traits)
{
	const HistoryOptions *opt = &b->opt;

	if (!b->any)
	{
		HistoryRow *init = AppendRow(b, HISTORY_INIT, ts, 0);

		init->open = true;
		if (opt->initial_url)
		{
			init->url = pstrdup(opt->initial_url);
			init->pathname = UrlPathname(opt->initial_url, strlen(opt->initial_url));
		}
	}
	if (opt->compress)
		TimelineAdd(&b->timeline, ts);

	switch (cls)
	{
		case EVENT_URL:
			{
				HistoryRow *nav;

				b->rows[b->current].ended_at = ts;
				b->rows[b->current].open = false;
				nav = AppendRow(b, HISTORY_NAVIGATION, ts, 0);
				nav->open = true;
				nav->url = url;
				nav->pathname = pathname;
				b->current = b->count - 1;
				break;
			}
		case EVENT_IDENTITY:
			{
				HistoryRow *point = AppendRow(b, HISTORY_IDENTIFY, ts, ts);

				point->user_id = user_id;
				point->traits = traits;
				break;
			}
		case EVENT_URL_MALFORMED:
		case EVENT_IDENTITY_MALFORMED:
			break;				/* skipped entirely (kept for compatibility) */
		default:
			/* the gap from the previous event, whatever its class */
			if (b->any)
				NoteIdleGap(b, b->prev, ts);
			break;
	}
	b->prev = ts;
	b->any = true;
}

void
HistoryBuilderAddPlain(HistoryBuilder *b, const int64 *ts, int n)
{
	const HistoryOptions *opt = &b->opt;
	int			i = 0;
	int64		prev;

	if (n > 0 && !b->any)
		HistoryBuilderAdd(b, ts[i++], EVENT_ORDINARY, NULL, NULL, NULL, NULL);
	prev = b->prev;
	for (; i < n; i++)
	{
		if (opt->compress)
			TimelineAdd(&b->timeline, ts[i]);
		NoteIdleGap(b, prev, ts[i]);
		prev = ts[i];
	}
	b->prev = prev;
}

void
HistoryBuilderFinish(HistoryBuilder *b)
{
	const HistoryOptions *opt = &b->opt;
	int64		close;

	if (!b->any)
		return;
	close = opt->has_ended_at ? opt->session_ended_at : b->prev;
	for (int i = 0; i < b->count; i++)
	{
		HistoryRow *row = &b->rows[i];

		if (row->open)
			row->ended_at = close;
		if (row->kind == HISTORY_INIT)
			snprintf(row->id, sizeof(row->id), "init-" INT64_FORMAT, row->started_at);
		else
			snprintf(row->id, sizeof(row->id), "%s-%d-" INT64_FORMAT,
					 HistoryIdPrefixes[row->kind], row->k, row->started_at);

		/* only a session_ended_at far out of range gets here */
		if (pg_sub_s64_overflow(row->ended_at, row->started_at, &row->real_duration_ms))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("duration of history row %s is out of range for type bigint", row->id),
					 errdetail("It runs from " INT64_FORMAT " to " INT64_FORMAT ".",
							   row->started_at, row->ended_at)));
		if (opt->compress)
		{
			row->out_started_at = TimelineToCompressed(&b->timeline, (double) row->started_at);
			row->out_ended_at = TimelineToCompressed(&b->timeline, (double) row->ended_at);
		}
		else
		{
			row->out_started_at = (double) row->started_at;
			row->out_ended_at = (double) row->ended_at;
		}
	}
}
