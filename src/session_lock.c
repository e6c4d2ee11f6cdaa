/*
 * session_lock.c — dozor_lock(what, project_id, key): the transaction-level
 * advisory lock of one session of a project (what = 'session', key = its
 * uuid) or of one tracked user (what = 'user', key = its external id).
 *
 * Ingest, cancel and erasure of a session serialize on it: each takes it
 * before it reads or writes the session's tombstone. A row lock cannot do
 * this: a cancel that overtakes the session's first batch has no row to
 * lock, and an ingest that waited behind a cancel's DELETE would then
 * insert a fresh session row (ON CONFLICT finds nothing left to conflict
 * with). With the lock, an ingest either commits before the cancel takes
 * it (and the cancel's DELETE, a later statement, sees its rows) or reads
 * the tombstone after the cancel committed (each statement of READ
 * COMMITTED takes a new snapshot). REPEATABLE READ would read a snapshot
 * taken before the wait, so it is refused; SERIALIZABLE is safe (SSI
 * aborts one of the two). Whoever needs both locks takes the user's first.
 *
 * The keys are two int4: a class per kind, and the hash of
 * "<project_id>/<key>" as hashtext() makes it, so that the SQL function and
 * dozor_ingest (src/ingest_store.c) take the same lock. Two int4 keys keep
 * clear of applications' one-bigint advisory locks; a hash collision only
 * makes two sessions wait for each other.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "session_lock.h"

/* The first key of each kind's locks. */
#define LOCK_CLASS_SESSION 1685027329
#define LOCK_CLASS_USER 1685027330

void
DozorLock(DozorLockKind kind, int64 project_id, const char *key, int key_len)
{
	StringInfoData name;
	int32		hash;

	if (XactIsoLevel == XACT_REPEATABLE_READ)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ingest, cancel and erasure cannot lock a %s under REPEATABLE READ isolation",
						kind == DOZOR_LOCK_SESSION ? "session" : "user"),
				 errhint("Run ingest, cancel and erasure in READ COMMITTED (the default) or SERIALIZABLE transactions.")));

	initStringInfo(&name);
	appendStringInfo(&name, INT64_FORMAT "/", project_id);
	appendBinaryStringInfo(&name, key, key_len);
	/* hashtext() of a deterministic collation: the bytes' hash_any */
	hash = DatumGetInt32(hash_any((const unsigned char *) name.data, name.len));
	pfree(name.data);
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum(kind == DOZOR_LOCK_SESSION ? LOCK_CLASS_SESSION : LOCK_CLASS_USER),
						Int32GetDatum(hash));
}

PG_FUNCTION_INFO_V1(dozor_lock);

/* dozor_lock(what text, project_id bigint, key text) -> void */
Datum
dozor_lock(PG_FUNCTION_ARGS)
{
	char	   *what = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *key;
	DozorLockKind kind;

	if (what != NULL && strcmp(what, "session") == 0)
		kind = DOZOR_LOCK_SESSION;
	else if (what != NULL && strcmp(what, "user") == 0)
		kind = DOZOR_LOCK_USER;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dozor_lock: what must be session or user (got %s)", what ? what : "NULL")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dozor_lock: project_id and key must not be NULL")));
	key = PG_GETARG_TEXT_PP(2);
	DozorLock(kind, PG_GETARG_INT64(1), VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	PG_RETURN_VOID();
}
