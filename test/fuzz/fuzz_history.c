/*
 * fuzz_history.c — libFuzzer target for src/history_build.c, the row
 * building of dozor_history and dozor_build_history (docs/HISTORY.md §2, §3),
 * linked with src/timeline.c and src/url_pathname.c.
 *
 * Input (little-endian; missing bytes read as zeros):
 *   flags      1 byte: 0x01 idle items (idle_gap_ms not NULL), 0x02
 *              compress (with idle items only, as the SQL layer has it),
 *              0x04 session_ended_at, 0x08 initial_url, 0x10 sort the
 *              events stably by timestamp (the stream's contract; without
 *              it any order), 0x20 timestamps in [0, 2^53) (what ingest
 *              accepts; without it any int64), 0x40 feed stretches of
 *              non-marker events through HistoryBuilderAddPlain (as
 *              dozor_history does) instead of one HistoryBuilderAdd each
 *   gap, cap   2 bytes each, times 10 ms
 *   ended_at   when flagged: mode byte, 8 bytes (raw int64, or an int32
 *              offset from the last or the first event)
 *   initial_url  when flagged: a string (below)
 *   events     to the end: class byte (mostly the six classes, some bytes
 *              and two huge values outside EventClass), timestamp mode
 *              byte (small step in its high bits, a 3-byte step, a 2-byte
 *              step back, or a raw int64), then url and pathname strings
 *              for a url marker, user id string and traits byte for an
 *              identity marker
 *   string     length byte: 0xFF NULL, 0xE0.. a realistic URL or path,
 *              else that many (mod 24) raw bytes
 *
 * Checks, on every input:
 *   - Finish fails only with 22003, and exactly when some row's
 *     ended_at - started_at leaves int64 (session_ended_at or timestamps
 *     far out of range);
 *   - the rows equal an independent recomputation from the spec: the init
 *     row first and only there, one navigation row per url marker ending at
 *     the next url marker (or the close), one identify point per identity
 *     marker, idle rows exactly where an ordinary/console event follows a
 *     gap over idle_gap_ms (measured from the previous event of any class,
 *     without int64 overflow), kinds, per-kind counters, ids, durations and
 *     the caller's pointers (never the ones a class must ignore);
 *   - output times are the real ones, or with compression
 *     TimelineToCompressed over every event of the stream (markers too);
 * and on sorted in-range streams also:
 *   - started_at <= ended_at when the session does not end before its last
 *     event, so durations are >= 0; idle rows have a positive gap;
 *   - compressed times are monotone in real time, the first event keeps
 *     its time, each idle row is exactly cap_ms long, and with cap_ms <=
 *     idle_gap_ms no time moves later.
 */
#include "history_build.h"

#include "url_pathname.h"
#include "util.h"

#define MAX_SAFE INT64CONST(9007199254740992)

enum
{
	F_IDLE = 0x01,
	F_COMPRESS = 0x02,
	F_ENDED = 0x04,
	F_URL = 0x08,
	F_SORT = 0x10,
	F_RANGE = 0x20,
	F_PLAIN = 0x40
};

typedef struct Event
{
	int			order;			/* position in the input, for a stable sort */
	int64		ts;
	EventClass	cls;
	const char *url;
	const char *pathname;
	const char *user_id;
	void	   *traits;
} Event;

typedef struct Case
{
	FuzzReader	r;
	int			flags;
	HistoryOptions opt;
	Event	   *ev;
	int			n;
	HistoryBuilder b;
} Case;

/* What a class must ignore is passed as these; no row may hold them. */
static const char junk_string[] = "junk";
static int	junk_traits;
static int	traits_storage[2];

static const char *const dictionary[] = {
	"https://shop.example/a/b?c#d", "https://ex.com/a/../b", "about:blank",
	"/relative", "", "/", "/checkout", "mailto:a@b.c", "https://", "  https://ex.com/x  ",
	"file:///C:/x/y", "https://ex.com/%C3%A4", "u1", "ü-user",
};

static const char *
ReadString(FuzzReader *r)
{
	int			len = (int) FuzzTake(r, 1);
	char	   *s;

	if (len == 0xFF)
		return NULL;
	if (len >= 0xE0)
		return dictionary[(len - 0xE0) % lengthof(dictionary)];
	len %= 24;
	s = palloc(len + 1);
	for (int i = 0; i < len; i++)
		s[i] = (char) FuzzTake(r, 1);
	s[len] = '\0';
	return s;
}

static EventClass
ReadClass(FuzzReader *r)
{
	int			c = (int) FuzzTake(r, 1);

	if (c < 0xF0)
		return (EventClass) (c % (EVENT_CLASS_MAX + 1));
	if (c == 0xFE)
		return (EventClass) 0x7fffffff;
	if (c == 0xFF)
		return (EventClass) -1;
	return (EventClass) c;		/* a byte the stream could carry */
}

static int64
ReadTimestamp(FuzzReader *r, int64 prev, bool in_range)
{
	int			m = (int) FuzzTake(r, 1);
	uint64		ts;

	switch (m & 3)
	{
		case 0:
			ts = (uint64) prev + (uint64) (m >> 2);	/* ties and small steps */
			break;
		case 1:
			ts = (uint64) prev + FuzzTake(r, 3);	/* up to hours */
			break;
		case 2:
			ts = (uint64) prev - FuzzTake(r, 2);	/* backwards */
			break;
		default:
			ts = FuzzTake(r, 8);
			break;
	}
	if (in_range)
		ts %= (uint64) MAX_SAFE;
	return (int64) ts;
}

static int
CompareEvents(const void *a, const void *b)
{
	const Event *x = a;
	const Event *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order - y->order;
}

static void
Decode(void *arg)
{
	Case	   *c = arg;
	FuzzReader *r = &c->r;
	int			ended_mode = 0;
	uint64		ended_raw = 0;
	int			cap = 0;
	int64		prev = INT64CONST(1700000000000);

	c->flags = (int) FuzzTake(r, 1);
	c->opt.idle_items = (c->flags & F_IDLE) != 0;
	c->opt.idle_gap_ms = (int64) FuzzTake(r, 2) * 10;
	c->opt.cap_ms = (int64) FuzzTake(r, 2) * 10;
	c->opt.compress = c->opt.idle_items && (c->flags & F_COMPRESS);
	if (!c->opt.idle_items)
		c->opt.idle_gap_ms = 0;
	c->opt.has_ended_at = (c->flags & F_ENDED) != 0;
	if (c->opt.has_ended_at)
	{
		ended_mode = (int) FuzzTake(r, 1) % 3;
		ended_raw = FuzzTake(r, 8);
	}
	if (c->flags & F_URL)
		c->opt.initial_url = ReadString(r);

	while (r->left > 0)
	{
		Event	   *e;

		if (c->n == cap)
		{
			cap = cap ? cap * 2 : 16;
			c->ev = c->ev ? repalloc(c->ev, sizeof(Event) * cap) : palloc(sizeof(Event) * cap);
		}
		e = &c->ev[c->n];
		e->order = c->n++;
		e->cls = ReadClass(r);
		e->ts = prev = ReadTimestamp(r, prev, (c->flags & F_RANGE) != 0);
		e->url = e->pathname = e->user_id = junk_string;
		e->traits = &junk_traits;
		if (e->cls == EVENT_URL)
		{
			e->url = ReadString(r);
			e->pathname = ReadString(r);
		}
		else if (e->cls == EVENT_IDENTITY)
		{
			e->user_id = ReadString(r);
			e->traits = FuzzTake(r, 1) & 1 ? &traits_storage[e->order & 1] : NULL;
		}
	}
	if (c->n > 1 && (c->flags & F_SORT))
		qsort(c->ev, c->n, sizeof(Event), CompareEvents);

	if (c->opt.has_ended_at)
	{
		int64		base = c->n == 0 ? 0 : ended_mode == 1 ? c->ev[c->n - 1].ts : c->ev[0].ts;

		c->opt.session_ended_at = ended_mode == 0 ? (int64) ended_raw
			: (int64) ((uint64) base + (uint64) (int64) (int32) ended_raw);
	}
}

static void
Build(void *arg)
{
	Case	   *c = arg;

	HistoryBuilderInit(&c->b, &c->opt);
	for (int i = 0; i < c->n; i++)
	{
		const Event *e = &c->ev[i];

		if ((c->flags & F_PLAIN) && HistoryClassIsPlain(e->cls))
		{
			int			end = i;
			int64	   *ts;

			while (end < c->n && HistoryClassIsPlain(c->ev[end].cls))
				end++;
			ts = palloc(sizeof(int64) * (end - i));
			for (int k = i; k < end; k++)
				ts[k - i] = c->ev[k].ts;
			HistoryBuilderAddPlain(&c->b, ts, end - i);
			pfree(ts);
			i = end - 1;
			continue;
		}
		HistoryBuilderAdd(&c->b, e->ts, e->cls, e->url, e->pathname, e->user_id, e->traits);
	}
}

static void
Finish(void *arg)
{
	HistoryBuilderFinish(&((Case *) arg)->b);
}

/* The row the spec expects (docs/HISTORY.md §2), found without a state machine. */
typedef struct Expected
{
	HistoryKind kind;
	int			k;
	int64		started_at;
	int64		ended_at;
	const char *url;
	const char *pathname;
	const char *user_id;
	void	   *traits;
} Expected;

/* ts of the first url marker at or after i, else close. */
static int64
NextUrlOrClose(const Case *c, int i, int64 close)
{
	for (; i < c->n; i++)
		if (c->ev[i].cls == EVENT_URL)
			return c->ev[i].ts;
	return close;
}

/* Appends the next expected row of a kind; its strings and traits NULL. */
static Expected *
Push(Expected *x, int *m, int *counters, HistoryKind kind, int64 started_at, int64 ended_at)
{
	Expected   *e = &x[(*m)++];

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->k = counters[kind]++;
	e->started_at = started_at;
	e->ended_at = ended_at;
	return e;
}

static int
Expect(const Case *c, Expected *x)
{
	int64		close = c->opt.has_ended_at ? c->opt.session_ended_at : c->ev[c->n - 1].ts;
	int			counters[HISTORY_KINDS] = {0};
	int			m = 0;
	Expected   *row;

	row = Push(x, &m, counters, HISTORY_INIT, c->ev[0].ts, NextUrlOrClose(c, 0, close));
	row->url = c->opt.initial_url;
	for (int i = 0; i < c->n; i++)
	{
		const Event *e = &c->ev[i];

		if (e->cls == EVENT_URL)
		{
			row = Push(x, &m, counters, HISTORY_NAVIGATION, e->ts, NextUrlOrClose(c, i + 1, close));
			row->url = e->url;
			row->pathname = e->pathname;
		}
		else if (e->cls == EVENT_IDENTITY)
		{
			row = Push(x, &m, counters, HISTORY_IDENTIFY, e->ts, e->ts);
			row->user_id = e->user_id;
			row->traits = e->traits;
		}
		else if (e->cls != EVENT_URL_MALFORMED && e->cls != EVENT_IDENTITY_MALFORMED &&
				 c->opt.idle_items && i > 0 &&
				 (__int128) e->ts - c->ev[i - 1].ts > c->opt.idle_gap_ms)
			Push(x, &m, counters, HISTORY_IDLE, c->ev[i - 1].ts, e->ts);
	}
	return m;
}

/* A real time and its compressed time, sorted by real time. */
typedef struct Pair
{
	double		real;
	double		comp;
} Pair;

static int
ComparePairs(const void *a, const void *b)
{
	const Pair *x = a;
	const Pair *y = b;

	if (x->real != y->real)
		return x->real < y->real ? -1 : 1;
	return 0;
}

static bool
SameString(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Finishes the rows of a stream of at least one event and checks them. */
static void
CheckRows(Case *c)
{
	const HistoryBuilder *b = &c->b;
	Expected   *x = palloc(sizeof(Expected) * (c->n + 1));
	int			m = Expect(c, x);
	bool		overflow = false;
	bool		sorted = true;
	bool		in_range = true;
	char	   *init_pathname = NULL;
	int			kinds[HISTORY_KINDS] = {0};
	int			classes[EVENT_CLASS_MAX + 1] = {0};

	for (int i = 0; i < m; i++)
	{
		__int128	d = (__int128) x[i].ended_at - x[i].started_at;

		overflow |= d < PG_INT64_MIN || d > PG_INT64_MAX;
	}
	if (!FuzzCall(Finish, c))
	{
		if (!overflow || !FuzzErrorIn("22003"))
			FuzzUnexpectedError("HistoryBuilderFinish", overflow ? "22003" : "(none)");
		return;
	}
	if (overflow)
		FuzzFail("a duration overflows int64 and Finish did not fail");

	if (b->count != m)
		FuzzFail("%d rows, the spec gives %d", b->count, m);
	if (c->opt.initial_url)
		init_pathname = UrlPathname(c->opt.initial_url, strlen(c->opt.initial_url));
	for (int i = 0; i < c->n; i++)
	{
		if ((unsigned) c->ev[i].cls <= EVENT_CLASS_MAX)
			classes[c->ev[i].cls]++;
		if (i > 0 && c->ev[i].ts < c->ev[i - 1].ts)
			sorted = false;
		if (c->ev[i].ts < 0 || c->ev[i].ts >= MAX_SAFE)
			in_range = false;
	}

	for (int i = 0; i < m; i++)
	{
		const HistoryRow *row = &b->rows[i];
		const Expected *e = &x[i];
		char		id[HISTORY_ID_SIZE];
		const char *prefix[] = {"init", "nav", "idle", "identify"};

		if (row->kind != e->kind || row->k != e->k ||
			row->started_at != e->started_at || row->ended_at != e->ended_at)
			FuzzFail("row %d: %s #%d %lld..%lld, the spec gives %s #%d %lld..%lld", i,
					 HistoryKindNames[row->kind], row->k, (long long) row->started_at,
					 (long long) row->ended_at, HistoryKindNames[e->kind], e->k,
					 (long long) e->started_at, (long long) e->ended_at);
		kinds[row->kind]++;
		if (e->kind == HISTORY_INIT)
		{
			snprintf(id, sizeof(id), "init-%lld", (long long) e->started_at);
			if (!SameString(row->url, e->url) ||
				!SameString(row->pathname, init_pathname))
				FuzzFail("init row: url or pathname not those of the initial url");
		}
		else
		{
			snprintf(id, sizeof(id), "%s-%d-%lld", prefix[e->kind], e->k, (long long) e->started_at);
			if (row->url != e->url || row->pathname != e->pathname)
				FuzzFail("row %d: url or pathname not the marker's", i);
		}
		if (row->user_id != e->user_id || row->traits != e->traits)
			FuzzFail("row %d: user_id or traits not the marker's", i);
		if (strcmp(row->id, id) != 0)
			FuzzFail("row %d: id %s, the spec gives %s", i, row->id, id);
		if (row->real_duration_ms != e->ended_at - e->started_at)
			FuzzFail("row %d: duration %lld", i, (long long) row->real_duration_ms);
		if (!c->opt.compress &&
			(row->out_started_at != (double) e->started_at || row->out_ended_at != (double) e->ended_at))
			FuzzFail("row %d: output times moved without compression", i);
	}
	if (kinds[HISTORY_INIT] != 1 || b->rows[0].kind != HISTORY_INIT)
		FuzzFail("the init row is not the one first row");
	if (kinds[HISTORY_NAVIGATION] != classes[EVENT_URL] ||
		kinds[HISTORY_IDENTIFY] != classes[EVENT_IDENTITY])
		FuzzFail("%d navigation rows for %d url markers, %d identify points for %d identity markers",
				 kinds[HISTORY_NAVIGATION], classes[EVENT_URL],
				 kinds[HISTORY_IDENTIFY], classes[EVENT_IDENTITY]);

	if (sorted && (!c->opt.has_ended_at || c->opt.session_ended_at >= c->ev[c->n - 1].ts))
		for (int i = 0; i < m; i++)
			if (b->rows[i].started_at > b->rows[i].ended_at || b->rows[i].real_duration_ms < 0 ||
				(b->rows[i].kind == HISTORY_IDLE && b->rows[i].real_duration_ms <= 0))
				FuzzFail("sorted stream, row %d ends before it starts", i);

	if (c->opt.compress)
	{
		IdleTimeline t;
		Pair	   *pairs = palloc(sizeof(Pair) * 2 * m);

		/* every event counts, markers included (kept for compatibility) */
		TimelineInit(&t, c->opt.idle_gap_ms, c->opt.cap_ms);
		for (int i = 0; i < c->n; i++)
			TimelineAdd(&t, c->ev[i].ts);
		for (int i = 0; i < m; i++)
		{
			const HistoryRow *row = &b->rows[i];

			pairs[2 * i] = (Pair) {(double) row->started_at, row->out_started_at};
			pairs[2 * i + 1] = (Pair) {(double) row->ended_at, row->out_ended_at};
			if (row->out_started_at != TimelineToCompressed(&t, (double) row->started_at) ||
				row->out_ended_at != TimelineToCompressed(&t, (double) row->ended_at))
				FuzzFail("row %d: compressed times are not the stream's timeline", i);
		}
		if (sorted && in_range)
		{
			if (b->rows[0].out_started_at != (double) c->ev[0].ts)
				FuzzFail("the first event's compressed time moved");
			/* (exact while the compressed end stays below 2^53) */
			for (int i = 0; i < m; i++)
				if (b->rows[i].kind == HISTORY_IDLE &&
					b->rows[i].out_started_at + (double) c->opt.cap_ms < (double) MAX_SAFE &&
					b->rows[i].out_ended_at - b->rows[i].out_started_at != (double) c->opt.cap_ms)
					FuzzFail("idle row %d is %.17g long compressed, cap is %lld", i,
							 b->rows[i].out_ended_at - b->rows[i].out_started_at,
							 (long long) c->opt.cap_ms);
			for (int i = 0; i < 2 * m; i++)
				if (c->opt.cap_ms <= c->opt.idle_gap_ms && pairs[i].comp > pairs[i].real)
					FuzzFail("cap <= gap, yet %.17g compresses to later %.17g",
							 pairs[i].real, pairs[i].comp);
			qsort(pairs, 2 * m, sizeof(Pair), ComparePairs);
			for (int i = 1; i < 2 * m; i++)
				if (pairs[i].comp < pairs[i - 1].comp)
					FuzzFail("not monotone: %.17g -> %.17g but %.17g -> %.17g",
							 pairs[i - 1].real, pairs[i - 1].comp, pairs[i].real, pairs[i].comp);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Case		c;

	memset(&c, 0, sizeof(c));
	c.r.p = data;
	c.r.left = size;
	if (!FuzzCall(Decode, &c))
		FuzzUnexpectedError("decoding", "(none)");
	if (!FuzzCall(Build, &c))
		FuzzUnexpectedError("HistoryBuilderAdd", "(none)");
	if (c.n == 0)
	{
		if (!FuzzCall(Finish, &c))
			FuzzUnexpectedError("HistoryBuilderFinish", "(none)");
		if (c.b.count != 0)
			FuzzFail("%d rows from no events", c.b.count);
	}
	else
		CheckRows(&c);
	FuzzMemoryReset();
	return 0;
}
