/*
 * session.c — session row lookup and argument checks for the read side.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "session.h"
#include "timeline.h"

void
SessionLookup(int64 session_id, SessionInfo *info)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(session_id)};
	bool		isnull;
	Datum		d;

	memset(info, 0, sizeof(*info));
	if (SPI_execute_with_args("SELECT url, (extract(epoch FROM ended_at) * 1000)::bigint"
							  "  FROM dozor.sessions WHERE id = $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "session lookup failed");
	if (SPI_processed == 0)
		return;
	info->found = true;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		info->url = TextDatumGetCString(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	info->has_ended_at = !isnull;
	if (!isnull)
		info->ended_at_ms = DatumGetInt64(d);
	SPI_freetuptable(SPI_tuptable);
}

int64
SessionIntegerArg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	int64		value;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be null", name)));
	value = PG_GETARG_INT32(argno);
	TimelineCheckParameter(name, value);
	return value;
}

SessionStream *
SessionStreamOpenStored(int64 session_id, SessionInfo *info)
{
	SPI_connect();
	if (info != NULL)
	{
		SessionLookup(session_id, info);
		if (!info->found)
		{
			SPI_finish();
			return NULL;
		}
	}
	return SessionStreamOpen(session_id);
}

void
SessionStreamCloseStored(SessionStream *stream)
{
	SessionStreamClose(stream);
	SPI_finish();
}
