/*
 * ingest_store.c — dozor_ingest(api_key, body, content_encoding): POST
 * /api/ingest, all of docs/SPEC.md §3 in the caller's transaction.
 *
 * src/ingest.c makes the batch (PrepareBatch); this stores it with a fixed
 * set of statements, each prepared once per backend and kept (SPI), so that
 * a batch costs its writes and little else: no planning, no PL/pgSQL, no
 * nested function calls with their own settings (issue 12, item 8).
 *
 * Returns the session's internal id, or NULL when the session was
 * cancelled or erased (it has a tombstone): the batch is acknowledged and
 * discarded, nothing is stored (HTTP 204, so the SDK does not retry). Runs
 * as the extension owner (SECURITY DEFINER; the API key is the check).
 *
 * Every statement touches one session, one key or one project row, so that
 * on Citus each goes to one shard (README "Distributing with Citus"): that
 * is why values are computed here rather than in subqueries, and why no
 * statement locks rows of two tables.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/int.h"
#include "common/sha2.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "activity.h"
#include "ingest.h"
#include "session_lock.h"

/* The statements, prepared on first use (see Statements below). */
typedef enum IngestStatement
{
	ST_PROJECT,
	ST_TOMBSTONE,
	ST_KEY,
	ST_LOCK_SESSION,
	ST_ENSURE_TODAY,
	ST_NEXT_ID,
	ST_NEW_KEY,
	ST_NEW_SESSION,
	ST_ADOPT_SESSION,
	ST_ADOPT_KEY,
	ST_BATCH,
	ST_FOLD,
	ST_MOVE_URL_MARKER,
	ST_METADATA,
	ST_URL_MARKER,
	ST_MARKERS,
	ST_PAGES,
	ST_SET_PAGES,
	ST_USER,
	ST_UPSERT_USER,
	ST_LINK_USER,
	ST_LAST_USED,
	ST_COUNT
} IngestStatement;

/*
 * A statement and its parameter types. Most look up or write one row by
 * key, so one generic plan serves every call: it is made on first use,
 * instead of after five custom plans (each a planning of its own, for each
 * new connection). Three keep the plan cache's usual choice (custom_plans):
 * the markers' INSERT ... SELECT, which Citus cannot plan without its
 * parameters' values, and the two that read or update partitioned markers
 * by session id, whose generic plan would lock every partition.
 */
typedef struct StatementDef
{
	const char *sql;			/* "%1$s": the extension's schema, quoted (ST_BATCH: its table) */
	int			nargs;
	Oid			argtypes[17];
	bool		custom_plans;
} StatementDef;

static const StatementDef Statements[ST_COUNT] = {
	/* the project of a key hash, and whether last_used_at is recent */
	[ST_PROJECT] = {"SELECT p.id, p.last_used_at >= $2 - interval '5 minutes' FROM dozor.projects p"
		" WHERE p.key_hash = $1", 2, {BYTEAOID, TIMESTAMPTZOID}},
	[ST_TOMBSTONE] = {"SELECT 1 FROM dozor.session_tombstones t WHERE t.project_id = $1 AND t.external_id = $2",
	2, {INT8OID, UUIDOID}},
	[ST_KEY] = {"SELECT k.session_id FROM dozor.session_keys k WHERE k.external_id = $1 AND k.project_id = $2",
	2, {UUIDOID, INT8OID}},
	/*
	 * FOR UPDATE, not a no-op update: it leaves no row version behind, and
	 * it takes only ROW SHARE on dozor.sessions, which making a partition
	 * (when the key outlived its session) does not wait for.
	 */
	[ST_LOCK_SESSION] = {"SELECT s.event_count, s.started_at, s.ended_at, s.url IS NULL FROM dozor.sessions s"
		" WHERE s.id = $1 FOR UPDATE", 1, {INT8OID}},
	[ST_ENSURE_TODAY] = {"SELECT %1$s.dozor_ensure_today()", 0, {0}},
	[ST_NEXT_ID] = {"SELECT %1$s.dozor_next_session_id()", 0, {0}},
	[ST_NEW_KEY] = {"INSERT INTO dozor.session_keys AS k (external_id, project_id, session_id) VALUES ($1, $2, $3)"
		" ON CONFLICT ON CONSTRAINT session_keys_pkey DO UPDATE SET session_id = EXCLUDED.session_id",
	3, {UUIDOID, INT8OID, INT8OID}},
	/* (metadata and counts are filled in by the fold) */
	[ST_NEW_SESSION] = {"INSERT INTO dozor.sessions (id, project_id, external_id, started_at, ended_at)"
		" VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	5, {INT8OID, INT8OID, UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID}},
	/*
	 * A session stored without its key (a bulk load): adopt it. (Single
	 * node only: dozor_distribute drops the unique key on (project_id,
	 * external_id) that the insert above conflicted with.)
	 */
	[ST_ADOPT_SESSION] = {"UPDATE dozor.sessions s SET project_id = s.project_id"
		" WHERE s.project_id = $1 AND s.external_id = $2"
		" RETURNING s.id, s.event_count, s.started_at, s.ended_at, s.url IS NULL",
	2, {INT8OID, UUIDOID}},
	[ST_ADOPT_KEY] = {"UPDATE dozor.session_keys k SET session_id = $3 WHERE k.external_id = $1 AND k.project_id = $2",
	3, {UUIDOID, INT8OID, INT8OID}},
	/* %1$s is dozor.event_batches or its partition (RunBatchInsert) */
	[ST_BATCH] = {"INSERT INTO %1$s"
		" (session_id, first_timestamp, last_timestamp, event_count, data, raw_bytes, event_index,"
		" console_count, content_hash, click_count, keypress_count, mouse_activity_count,"
		" console_log_count, console_warn_count, console_error_count, active_ranges, project_id)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
		" ON CONFLICT (session_id, content_hash) DO NOTHING RETURNING id",
		17, {INT8OID, INT8OID, INT8OID, INT4OID, BYTEAOID, INT4OID, BYTEAOID, INT4OID, BYTEAOID,
			INT4OID, INT4OID, INT4OID, INT4OID, INT4OID, INT4OID, INT8MULTIRANGEOID, INT8OID}},
	/*
	 * Fold the batch into the session: the window, the counts, the merged
	 * activity.
	 */
	[ST_FOLD] = {"UPDATE dozor.sessions s SET started_at = $2, ended_at = $3, duration = $4,"
		" event_count = s.event_count + $5, click_count = s.click_count + $6,"
		" keypress_count = s.keypress_count + $7, mouse_activity_count = s.mouse_activity_count + $8,"
		" console_log_count = s.console_log_count + $9, console_warn_count = s.console_warn_count + $10,"
		" console_error_count = s.console_error_count + $11, active_ranges = s.active_ranges + $12,"
		" active_ms = %1$s.dozor_active_ms(s.active_ranges + $12), size_bytes = s.size_bytes + $13"
		" WHERE s.id = $1",
		13, {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, INT4OID, INT4OID, INT4OID, INT4OID,
			INT4OID, INT4OID, INT4OID, INT8MULTIRANGEOID, INT8OID}},
	[ST_MOVE_URL_MARKER] = {"UPDATE dozor.markers m SET timestamp = $2"
		" WHERE m.session_id = $1 AND m.batch_id IS NULL AND m.kind = 'url'", 2, {INT8OID, INT8OID}, true},
	[ST_METADATA] = {"UPDATE dozor.sessions s SET url = $2, referrer = $3, user_agent = $4,"
		" screen_width = $5, screen_height = $6, language = $7"
		" WHERE s.id = $1 AND s.url IS NULL RETURNING s.started_at",
	7, {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, TEXTOID}},
	[ST_URL_MARKER] = {"INSERT INTO dozor.markers (session_id, timestamp, kind, data, project_id)"
		" VALUES ($1, $2, 'url', pg_catalog.jsonb_build_object('url', $3, 'pathname', $4), $5)",
	5, {INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID}},
	[ST_MARKERS] = {"INSERT INTO dozor.markers (session_id, batch_id, event_index, timestamp, kind, data, project_id)"
		" SELECT $1, $2, m.i, m.t, m.k, m.d::jsonb, $3"
		" FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5),"
		" pg_catalog.unnest($6), pg_catalog.unnest($7)) AS m(i, t, k, d)",
	7, {INT8OID, INT8OID, INT8OID, INT4ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID}, true},
	/*
	 * Pages visited, from the url markers; read, then written: on Citus an
	 * UPDATE takes no subquery.
	 */
	[ST_PAGES] = {"SELECT pg_catalog.count(*)::integer,"
		" COALESCE(pg_catalog.array_agg(v.pathname ORDER BY v.first_seen) FILTER (WHERE v.first_visit), '{}'),"
		" (pg_catalog.array_agg(v.url ORDER BY v.ord))[1]"
		" FROM (SELECT m.ord, m.data->>'url' AS url, m.data->>'pathname' AS pathname,"
		" pg_catalog.min(m.ord) OVER (PARTITION BY m.data->>'pathname') AS first_seen,"
		" pg_catalog.row_number() OVER (PARTITION BY m.data->>'pathname' ORDER BY m.ord) = 1 AS first_visit"
		" FROM %1$s.dozor_stream_markers($1, 'url') WITH ORDINALITY AS m (\"timestamp\", kind, data, ord)"
		" WHERE pg_catalog.jsonb_typeof(m.data->'pathname') = 'string' AND m.data->>'pathname' <> '') v",
	1, {INT8OID}, true},
	[ST_SET_PAGES] = {"UPDATE dozor.sessions s SET page_count = $2, pathnames = $3, first_url = $4 WHERE s.id = $1",
	4, {INT8OID, INT4OID, TEXTARRAYOID, TEXTOID}},
	[ST_USER] = {"SELECT u.id, $3::jsonb IS DISTINCT FROM u.traits FROM dozor.tracked_users u"
		" WHERE u.project_id = $1 AND u.external_id = $2", 3, {INT8OID, TEXTOID, TEXTOID}},
	/* a value for updated_at, not now(): Citus wants DO UPDATE immutable */
	[ST_UPSERT_USER] = {"INSERT INTO dozor.tracked_users AS u (project_id, external_id, traits)"
		" VALUES ($1, $2, $3::jsonb) ON CONFLICT (project_id, external_id) DO UPDATE"
		" SET traits = COALESCE(EXCLUDED.traits, u.traits), updated_at = $4 RETURNING u.id",
	4, {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID}},
	[ST_LINK_USER] = {"UPDATE dozor.sessions s SET tracked_user_id = $2"
		" WHERE s.id = $1 AND s.tracked_user_id IS DISTINCT FROM $2", 2, {INT8OID, INT8OID}},
	[ST_LAST_USED] = {"UPDATE dozor.projects p SET last_used_at = $2 WHERE p.id = $1", 2, {INT8OID, TIMESTAMPTZOID}},
};

/* The prepared statements and the schema they were made for. */
static SPIPlanPtr plans[ST_COUNT];
static char *plans_schema;

/*
 * ST_BATCH prepared for the partitions of the last few days that got
 * batches (sessions live for hours, so a handful covers nearly all).
 */
#define BATCH_PARTITION_PLANS 8
typedef struct BatchPartitionPlan
{
	Oid			partition;
	NameData	name;			/* its name when prepared (a rename re-prepares) */
	SPIPlanPtr	plan;
} BatchPartitionPlan;
static BatchPartitionPlan batch_plans[BATCH_PARTITION_PLANS];
static int	batch_plans_next;	/* the entry replaced next, round robin */

/* The last API key hashed and its SHA-256 (a pure function: safe to keep). */
static char *last_key;
static uint8 last_key_hash[PG_SHA256_DIGEST_LENGTH];

/* One statement's parameters (SPI's nulls: ' ' or 'n'). */
typedef struct Params
{
	Datum		values[17];
	char		nulls[17];
} Params;

static void
ParamsInit(Params *p)
{
	memset(p->nulls, ' ', sizeof(p->nulls));
}

static void
ParamsSet(Params *p, int i, Datum value, bool isnull)
{
	p->values[i] = value;
	p->nulls[i] = isnull ? 'n' : ' ';
}

/*
 * Runs a statement; the rows stay in SPI_tuptable. Statements are prepared
 * the first time this backend needs them, again when the extension's schema
 * changed (the plan cache itself follows changes of the tables).
 */
/* Prepares and keeps a statement; ST_BATCH's %1$s is table, the others' schema. */
static SPIPlanPtr
Prepare(IngestStatement st, const char *schema, const char *table)
{
	const StatementDef *def = &Statements[st];
	SPIPlanPtr	plan = SPI_prepare_cursor(psprintf(def->sql, st == ST_BATCH ? table : schema),
										  def->nargs, (Oid *) def->argtypes,
										  def->custom_plans ? 0 : CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "dozor_ingest: preparing statement %d failed: %s", (int) st,
			 SPI_result_code_string(SPI_result));
	return plan;
}

/* Forgets every prepared statement when the extension's schema changed. */
static void
CheckSchema(const char *schema)
{
	if (plans_schema != NULL && strcmp(plans_schema, schema) == 0)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		if (plans[i] != NULL)
		{
			SPI_freeplan(plans[i]);
			plans[i] = NULL;
		}
	for (int i = 0; i < BATCH_PARTITION_PLANS; i++)
		if (batch_plans[i].plan != NULL)
		{
			SPI_freeplan(batch_plans[i].plan);
			batch_plans[i].plan = NULL;
			batch_plans[i].partition = InvalidOid;
		}
	if (plans_schema != NULL)
		pfree(plans_schema);
	plans_schema = MemoryContextStrdup(TopMemoryContext, schema);
}

/* Runs a prepared statement; the rows stay in SPI_tuptable. */
static uint64
Execute(SPIPlanPtr plan, IngestStatement st, const Params *p)
{
	int			rc = SPI_execute_plan(plan, p ? (Datum *) p->values : NULL, p ? p->nulls : NULL, false, 0);

	if (rc < 0)
		elog(ERROR, "dozor_ingest: statement %d failed: %s", (int) st, SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * Runs a statement; the rows stay in SPI_tuptable. Statements are prepared
 * the first time this backend needs them, again when the extension's schema
 * changed (the plan cache itself follows changes of the tables).
 */
static uint64
Run(IngestStatement st, const Params *p, const char *schema)
{
	CheckSchema(schema);
	if (plans[st] == NULL)
		plans[st] = Prepare(st, schema, "dozor.event_batches");
	return Execute(plans[st], st, p);
}

/*
 * The partition of dozor.event_batches that holds session_id's rows, found
 * as the executor finds it (a search of the parent's range bounds), or
 * InvalidOid when there is none or it is itself partitioned.
 */
static Oid
BatchPartitionOf(int64 session_id)
{
	Oid			parent = RangeVarGetRelid(makeRangeVar("dozor", "event_batches", -1), AccessShareLock, false);
	Relation	rel = table_open(parent, NoLock);
	PartitionKey key = RelationGetPartitionKey(rel);
	PartitionDesc desc = RelationGetPartitionDesc(rel, true);
	Oid			partition = InvalidOid;

	if (key != NULL && key->strategy == PARTITION_STRATEGY_RANGE && key->partnatts == 1 &&
		desc->nparts > 0)
	{
		Datum		value = Int64GetDatum(session_id);
		bool		equal;
		int			offset = partition_range_datum_bsearch(key->partsupfunc, key->partcollation,
														   desc->boundinfo, 1, &value, &equal);
		int			index = desc->boundinfo->indexes[offset + 1];

		if (index >= 0 && desc->is_leaf[index])
			partition = desc->oids[index];
	}
	table_close(rel, NoLock);
	return partition;
}

/*
 * Runs ST_BATCH into the session's partition directly: routing a row
 * through the parent sets the partition up anew for every INSERT (its
 * indexes, the ON CONFLICT arbiter mapped to them), a third of the
 * statement's cost. The parent takes the row when no partition holds the
 * session (and reports that as PostgreSQL does).
 */
static uint64
RunBatchInsert(int64 session_id, const Params *p, const char *schema)
{
	Oid			partition = BatchPartitionOf(session_id);
	char	   *name = OidIsValid(partition) ? get_rel_name(partition) : NULL;
	BatchPartitionPlan *entry = NULL;

	CheckSchema(schema);
	if (name == NULL)
		return Run(ST_BATCH, p, schema);
	for (int i = 0; i < BATCH_PARTITION_PLANS; i++)
		if (batch_plans[i].plan != NULL && batch_plans[i].partition == partition &&
			strcmp(NameStr(batch_plans[i].name), name) == 0)
			entry = &batch_plans[i];
	if (entry == NULL)
	{
		SPIPlanPtr	plan = Prepare(ST_BATCH, schema,
								   quote_qualified_identifier(get_namespace_name(get_rel_namespace(partition)),
															  name));

		entry = &batch_plans[batch_plans_next];
		batch_plans_next = (batch_plans_next + 1) % BATCH_PARTITION_PLANS;
		if (entry->plan != NULL)
			SPI_freeplan(entry->plan);
		entry->plan = plan;
		entry->partition = partition;
		namestrcpy(&entry->name, name);
	}
	return Execute(entry->plan, ST_BATCH, p);
}

/* Column c (from 1) of the first row of the last statement. */
static Datum
Column(int c, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c, isnull);
}

/*
 * The project of an API key, or 28000 (HTTP 401), and whether its
 * last_used_at is recent. The one check of a key: dozor_project_of_key
 * (below) is this too.
 */
static int64
ProjectOfKey(text *api_key, TimestampTz now, const char *schema, bool *used_recently)
{
	char	   *key = api_key ? text_to_cstring(api_key) : NULL;
	Params		p;
	bool		isnull;
	Datum		recent;

	if (key == NULL || key[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("missing API key")));
	/* as dozor_api_key_hash: SHA-256 of the key's UTF-8 */
	if (last_key == NULL || strcmp(last_key, key) != 0)
	{
		char	   *utf8 = pg_server_to_any(key, strlen(key), PG_UTF8);
		pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

		if (pg_cryptohash_init(ctx) < 0 ||
			pg_cryptohash_update(ctx, (const uint8 *) utf8, strlen(utf8)) < 0 ||
			pg_cryptohash_final(ctx, last_key_hash, sizeof(last_key_hash)) < 0)
			elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
		pg_cryptohash_free(ctx);
		if (last_key != NULL)
			pfree(last_key);
		last_key = MemoryContextStrdup(TopMemoryContext, key);
	}

	ParamsInit(&p);
	{
		bytea	   *hash = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

		SET_VARSIZE(hash, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
		memcpy(VARDATA(hash), last_key_hash, PG_SHA256_DIGEST_LENGTH);
		ParamsSet(&p, 0, PointerGetDatum(hash), false);
	}
	ParamsSet(&p, 1, TimestampTzGetDatum(now), false);
	if (Run(ST_PROJECT, &p, schema) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("unknown API key")));
	recent = Column(2, &isnull);
	*used_recently = !isnull && DatumGetBool(recent);
	return DatumGetInt64(Column(1, &isnull));
}

/* Milliseconds since the Unix epoch as timestamptz (exact for event timestamps). */
static TimestampTz
MsToTimestamptz(int64 ms)
{
	return ms * 1000 - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

/*
 * (EXTRACT(epoch FROM t) * 1000)::bigint: milliseconds since the Unix epoch,
 * rounded half away from zero, as the url marker's timestamp.
 */
static int64
TimestamptzToMs(TimestampTz t)
{
	int64		us = t + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	int64		ms = us / 1000;
	int64		rest = us % 1000;

	return ms + (rest >= 500) - (rest <= -500);
}

/*
 * LEAST(round(EXTRACT(epoch FROM last - first)), 2147483647): the session's
 * duration in seconds, capped so that a hostile window of centuries does not
 * fail the batch.
 */
static int32
DurationSeconds(TimestampTz first, TimestampTz last)
{
	int64		us;
	int64		s;
	int64		rest;

	if (pg_sub_s64_overflow(last, first, &us))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("interval out of range")));
	s = us / USECS_PER_SEC;
	rest = us % USECS_PER_SEC;
	s += (rest >= USECS_PER_SEC / 2) - (rest <= -USECS_PER_SEC / 2);
	if (s < PG_INT32_MIN)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer out of range")));
	return (int32) Min(s, (int64) PG_INT32_MAX);
}

/* Does a text[] hold 'url'? (the kinds of the batch's markers) */
static bool
HasUrlMarker(Datum kinds)
{
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;

	deconstruct_array(DatumGetArrayTypeP(kinds), TEXTOID, -1, false, TYPALIGN_INT, &elems, &elem_nulls, &n);
	for (int i = 0; i < n; i++)
		if (!elem_nulls[i] && VARSIZE_ANY_EXHDR(DatumGetPointer(elems[i])) == 3 &&
			memcmp(VARDATA_ANY(DatumGetPointer(elems[i])), "url", 3) == 0)
			return true;
	return false;
}

/* The session a batch goes to, locked, and what the fold needs of it. */
typedef struct SessionState
{
	int64		id;
	int32		event_count;
	TimestampTz started_at;
	TimestampTz ended_at;
	bool		url_missing;	/* no metadata yet */
} SessionState;

/* Reads columns 1.. (id), count, start, end, url IS NULL of the last statement's row. */
static void
ReadSessionState(SessionState *s, int first_column)
{
	bool		isnull;

	s->event_count = DatumGetInt32(Column(first_column, &isnull));
	s->started_at = DatumGetTimestampTz(Column(first_column + 1, &isnull));
	s->ended_at = DatumGetTimestampTz(Column(first_column + 2, &isnull));
	s->url_missing = DatumGetBool(Column(first_column + 3, &isnull));
}

/*
 * Finds the session of the batch's uuid by its key (dozor.session_keys),
 * locking its row (a dashboard delete of the session waits for this batch),
 * or makes it. Returns false when the key outlived its session: then the
 * caller makes a new one.
 */
static bool
FindSession(Datum uuid, int64 project, const char *schema, SessionState *s)
{
	Params		p;
	bool		isnull;

	ParamsInit(&p);
	ParamsSet(&p, 0, uuid, false);
	ParamsSet(&p, 1, Int64GetDatum(project), false);
	if (Run(ST_KEY, &p, schema) == 0)
		return false;
	s->id = DatumGetInt64(Column(1, &isnull));
	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(s->id), false);
	if (Run(ST_LOCK_SESSION, &p, schema) == 0)
		return false;
	ReadSessionState(s, 1);
	return true;
}

static void
NewSession(Datum uuid, int64 project, TimestampTz first_at, TimestampTz last_at,
		   const char *schema, SessionState *s)
{
	Params		p;
	bool		isnull;

	/*
	 * A new session may need today's partitions: made before this
	 * transaction writes anything (src/partitions.sql), and only after the
	 * session's lock: making a partition holds it ACCESS EXCLUSIVE to
	 * commit, and a cancel holding that lock (its DELETE cascades through
	 * every partition) must not be waited for while holding it. A batch of
	 * a known session skips it.
	 */
	Run(ST_ENSURE_TODAY, NULL, schema);
	Run(ST_NEXT_ID, NULL, schema);
	s->id = DatumGetInt64(Column(1, &isnull));

	ParamsInit(&p);
	ParamsSet(&p, 0, uuid, false);
	ParamsSet(&p, 1, Int64GetDatum(project), false);
	ParamsSet(&p, 2, Int64GetDatum(s->id), false);
	Run(ST_NEW_KEY, &p, schema);

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(s->id), false);
	ParamsSet(&p, 1, Int64GetDatum(project), false);
	ParamsSet(&p, 2, uuid, false);
	ParamsSet(&p, 3, TimestampTzGetDatum(first_at), false);
	ParamsSet(&p, 4, TimestampTzGetDatum(last_at), false);
	if (Run(ST_NEW_SESSION, &p, schema) == 1)
	{
		s->event_count = 0;
		s->started_at = first_at;
		s->ended_at = last_at;
		s->url_missing = true;
		return;
	}

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(project), false);
	ParamsSet(&p, 1, uuid, false);
	if (Run(ST_ADOPT_SESSION, &p, schema) != 1)
		elog(ERROR, "dozor_ingest: session conflicts but cannot be found");
	s->id = DatumGetInt64(Column(1, &isnull));
	ReadSessionState(s, 2);
	ParamsInit(&p);
	ParamsSet(&p, 0, uuid, false);
	ParamsSet(&p, 1, Int64GetDatum(project), false);
	ParamsSet(&p, 2, Int64GetDatum(s->id), false);
	Run(ST_ADOPT_KEY, &p, schema);
}

/* Stores the batch row; false when it is a retry of a stored batch. */
static bool
InsertBatch(const Datum *b, int64 sid, int64 project, Datum ranges, const char *schema, int64 *batch_id)
{
	static const int columns[] = {
		PB_FIRST_TIMESTAMP, PB_LAST_TIMESTAMP, PB_EVENT_COUNT, PB_DATA, PB_RAW_BYTES,
		PB_EVENT_INDEX, PB_CONSOLE_COUNT, PB_CONTENT_HASH, PB_CLICK_COUNT, PB_KEYPRESS_COUNT,
		PB_MOUSE_ACTIVITY_COUNT, PB_CONSOLE_LOG_COUNT, PB_CONSOLE_WARN_COUNT, PB_CONSOLE_ERROR_COUNT
	};
	Params		p;
	bool		isnull;

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(sid), false);
	for (int i = 0; i < lengthof(columns); i++)
		ParamsSet(&p, i + 1, b[columns[i]], false);
	ParamsSet(&p, 15, ranges, false);
	ParamsSet(&p, 16, Int64GetDatum(project), false);
	if (RunBatchInsert(sid, &p, schema) == 0)
		return false;
	*batch_id = DatumGetInt64(Column(1, &isnull));
	return true;
}

/*
 * Folds a stored batch into its session: widens the window (a session that
 * had no events yet takes this batch's window instead of the time of its
 * first ping), adds the counts, merges the activity. The session's url
 * marker stays at the session's start when the start moves earlier,
 * whatever order batches arrive in. *start_moved says whether it moved.
 */
static void
FoldBatch(const Datum *b, SessionState *s, TimestampTz first_at, TimestampTz last_at,
		  Datum ranges, const char *schema, bool *start_moved)
{
	static const int counts[] = {
		PB_EVENT_COUNT, PB_CLICK_COUNT, PB_KEYPRESS_COUNT, PB_MOUSE_ACTIVITY_COUNT,
		PB_CONSOLE_LOG_COUNT, PB_CONSOLE_WARN_COUNT, PB_CONSOLE_ERROR_COUNT
	};
	TimestampTz new_start = first_at;
	Params		p;

	if (s->event_count > 0)
	{
		new_start = Min(s->started_at, first_at);
		last_at = Max(s->ended_at, last_at);
	}
	*start_moved = new_start != s->started_at;

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(s->id), false);
	ParamsSet(&p, 1, TimestampTzGetDatum(new_start), false);
	ParamsSet(&p, 2, TimestampTzGetDatum(last_at), false);
	ParamsSet(&p, 3, Int32GetDatum(DurationSeconds(new_start, last_at)), false);
	for (int i = 0; i < lengthof(counts); i++)
		ParamsSet(&p, 4 + i, b[counts[i]], false);
	ParamsSet(&p, 11, ranges, false);
	ParamsSet(&p, 12, Int64GetDatum(VARSIZE_ANY_EXHDR(DatumGetPointer(b[PB_DATA]))), false);
	Run(ST_FOLD, &p, schema);

	if (*start_moved)
	{
		ParamsInit(&p);
		ParamsSet(&p, 0, Int64GetDatum(s->id), false);
		ParamsSet(&p, 1, Int64GetDatum(TimestamptzToMs(new_start)), false);
		Run(ST_MOVE_URL_MARKER, &p, schema);
	}
}

/*
 * The first metadata a session receives fills it in (normally with its
 * first batch; later when that batch was lost or overtaken), with the
 * session's url as a marker at its start (kept there by FoldBatch), ahead
 * of event markers of the same millisecond. True when it did.
 */
static bool
FillMetadata(const Datum *b, int64 sid, int64 project, const char *schema)
{
	Params		p;
	bool		isnull;
	int64		url_at;

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(sid), false);
	for (int c = PB_URL; c <= PB_LANGUAGE; c++)
		ParamsSet(&p, 1 + c - PB_URL, b[c], false);
	if (Run(ST_METADATA, &p, schema) == 0)
		return false;
	url_at = TimestamptzToMs(DatumGetTimestampTz(Column(1, &isnull)));

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(sid), false);
	ParamsSet(&p, 1, Int64GetDatum(url_at), false);
	ParamsSet(&p, 2, b[PB_URL], false);
	ParamsSet(&p, 3, b[PB_URL_PATHNAME], false);
	ParamsSet(&p, 4, Int64GetDatum(project), false);
	Run(ST_URL_MARKER, &p, schema);
	return true;
}

/* The batch's dozor:* markers, if it has any. */
static void
InsertMarkers(const Datum *b, int64 sid, int64 batch_id, int64 project, const char *schema)
{
	Params		p;

	if (ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(b[PB_MARKER_INDEX])),
					   ARR_DIMS(DatumGetArrayTypeP(b[PB_MARKER_INDEX]))) == 0)
		return;
	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(sid), false);
	ParamsSet(&p, 1, Int64GetDatum(batch_id), false);
	ParamsSet(&p, 2, Int64GetDatum(project), false);
	ParamsSet(&p, 3, b[PB_MARKER_INDEX], false);
	ParamsSet(&p, 4, b[PB_MARKER_TIMESTAMP], false);
	ParamsSet(&p, 5, b[PB_MARKER_KIND], false);
	ParamsSet(&p, 6, b[PB_MARKER_DATA], false);
	Run(ST_MARKERS, &p, schema);
}

/* The session's pages visited, made again from its url markers. */
static void
UpdatePages(int64 sid, const char *schema)
{
	Params		p;
	bool		isnull;
	Datum		page_count;
	Datum		pathnames;
	Datum		first_url;
	bool		first_url_null;

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(sid), false);
	Run(ST_PAGES, &p, schema);
	page_count = Column(1, &isnull);
	pathnames = Column(2, &isnull);
	first_url = Column(3, &first_url_null);

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(sid), false);
	ParamsSet(&p, 1, page_count, false);
	ParamsSet(&p, 2, pathnames, false);
	ParamsSet(&p, 3, first_url, first_url_null);
	Run(ST_SET_PAGES, &p, schema);
}

/*
 * Links the session to its tracked user. The user's row is written only
 * when the person is new or their traits change, not per batch: on Citus
 * this is a reference table, and each write of one is a two-phase commit on
 * every node.
 */
static void
LinkUser(const Datum *b, const bool *b_nulls, int64 sid, int64 project, TimestampTz now, const char *schema)
{
	Params		p;
	bool		isnull;
	bool		known;
	Datum		user_id = 0;

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(project), false);
	ParamsSet(&p, 1, b[PB_USER_ID], false);
	ParamsSet(&p, 2, b[PB_TRAITS], b_nulls[PB_TRAITS]);
	known = Run(ST_USER, &p, schema) == 1;
	if (known)
		user_id = Column(1, &isnull);
	if (!known || (!b_nulls[PB_TRAITS] && DatumGetBool(Column(2, &isnull))))
	{
		ParamsSet(&p, 3, TimestampTzGetDatum(now), false);
		Run(ST_UPSERT_USER, &p, schema);
		user_id = Column(1, &isnull);
	}

	ParamsInit(&p);
	ParamsSet(&p, 0, Int64GetDatum(sid), false);
	ParamsSet(&p, 1, user_id, false);
	Run(ST_LINK_USER, &p, schema);
}

/* The extension's schema, quoted: the schema of the function called. */
static const char *
ExtensionSchema(FunctionCallInfo fcinfo)
{
	return quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid)));
}

PG_FUNCTION_INFO_V1(dozor_project_of_key);

/* dozor_project_of_key(api_key text) -> bigint, or 28000 (HTTP 401) */
Datum
dozor_project_of_key(PG_FUNCTION_ARGS)
{
	const char *schema = ExtensionSchema(fcinfo);
	bool		used_recently;
	int64		project;

	SPI_connect();
	project = ProjectOfKey(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0),
						   GetCurrentTransactionStartTimestamp(), schema, &used_recently);
	SPI_finish();
	PG_RETURN_INT64(project);
}

PG_FUNCTION_INFO_V1(dozor_ingest);

/* dozor_ingest(api_key text, body bytea, content_encoding text) -> bigint */
Datum
dozor_ingest(PG_FUNCTION_ARGS)
{
	const char *schema = ExtensionSchema(fcinfo);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum		b[PB_NCOLUMNS];
	bool		b_nulls[PB_NCOLUMNS];
	int64		project;
	bool		used_recently;
	Datum		uuid;
	char	   *uuid_text;
	TimestampTz first_at = now;
	TimestampTz last_at = now;
	SessionState session;
	int64		batch_id = 0;
	bool		stored = false;
	bool		start_moved = false;
	bool		url_added = false;
	int32		event_count;

	SPI_connect();
	project = ProjectOfKey(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0), now, schema, &used_recently);
	PrepareBatch(PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1),
				 PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2), b, b_nulls);
	uuid = b[PB_SESSION_ID];
	uuid_text = DatumGetCString(DirectFunctionCall1(uuid_out, uuid));
	event_count = DatumGetInt32(b[PB_EVENT_COUNT]);
	if (event_count > 0)
	{
		first_at = MsToTimestamptz(DatumGetInt64(b[PB_FIRST_TIMESTAMP]));
		last_at = MsToTimestamptz(DatumGetInt64(b[PB_LAST_TIMESTAMP]));
	}

	/*
	 * A cancelled or erased session stays so (src/session_lock.c has the
	 * race); a batch that identifies a user locks the user first, as erasure
	 * does. The session's lock also makes parallel first batches of one
	 * session take turns: the second finds the session the first made.
	 */
	if (!b_nulls[PB_USER_ID])
	{
		text	   *user = DatumGetTextPP(b[PB_USER_ID]);

		DozorLock(DOZOR_LOCK_USER, project, VARDATA_ANY(user), VARSIZE_ANY_EXHDR(user));
	}
	DozorLock(DOZOR_LOCK_SESSION, project, uuid_text, strlen(uuid_text));
	{
		Params		p;

		ParamsInit(&p);
		ParamsSet(&p, 0, Int64GetDatum(project), false);
		ParamsSet(&p, 1, uuid, false);
		if (Run(ST_TOMBSTONE, &p, schema) > 0)
		{
			SPI_finish();
			PG_RETURN_NULL();
		}
	}

	if (!FindSession(uuid, project, schema, &session))
		NewSession(uuid, project, first_at, last_at, schema, &session);

	if (event_count > 0)
	{
		Datum		ranges = ActivityRunsMultirange(DatumGetArrayTypeP(b[PB_ACTIVE_STARTS]),
													DatumGetArrayTypeP(b[PB_ACTIVE_ENDS]));

		stored = InsertBatch(b, session.id, project, ranges, schema, &batch_id);
		if (!stored)
		{
			/* a retry of a stored batch changes nothing */
			SPI_finish();
			PG_RETURN_INT64(session.id);
		}
		FoldBatch(b, &session, first_at, last_at, ranges, schema, &start_moved);
	}

	if (DatumGetBool(b[PB_HAS_METADATA]) && session.url_missing)
		url_added = FillMetadata(b, session.id, project, schema);
	if (stored)
		InsertMarkers(b, session.id, batch_id, project, schema);
	/* pages visited change only when a url marker was added or moved */
	if (url_added || start_moved || HasUrlMarker(b[PB_MARKER_KIND]))
		UpdatePages(session.id, schema);
	if (!b_nulls[PB_USER_ID])
		LinkUser(b, b_nulls, session.id, project, now, schema);

	/*
	 * "Last used" to within 5 minutes (docs/SPEC.md §3, effect 7), not per
	 * batch: the project row is every session's, and on Citus a reference
	 * table, whose every write is a two-phase commit on every node.
	 */
	if (!used_recently)
	{
		Params		p;

		ParamsInit(&p);
		ParamsSet(&p, 0, Int64GetDatum(project), false);
		ParamsSet(&p, 1, TimestampTzGetDatum(now), false);
		Run(ST_LAST_USED, &p, schema);
	}
	SPI_finish();
	PG_RETURN_INT64(session.id);
}
