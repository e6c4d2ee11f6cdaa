/*
 * activity.c — active time of a session from its merged runs of activity
 * (README: "Activity summary"). Ingest (src/ingest.c) finds each batch's
 * runs; dozor_ingest (src/ingest_store.c) merges them into the session's
 * int8multirange.
 */
#include "postgres.h"

#include "common/int.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/multirangetypes.h"
#include "utils/rangetypes.h"
#include "utils/typcache.h"

#include "activity.h"
#include "limits.h"

PG_FUNCTION_INFO_V1(dozor_active_ms);

/*
 * dozor_active_ms(ranges int8multirange) -> bigint: the sum over the runs
 * of (upper - lower) - (DOZOR_ACTIVE_GAP_MS - 1), each run being stored as
 * [first, last + DOZOR_ACTIVE_GAP_MS - 1).
 */
Datum
dozor_active_ms(PG_FUNCTION_ARGS)
{
	MultirangeType *mr = PG_GETARG_MULTIRANGE_P(0);
	TypeCacheEntry *typcache = multirange_get_typcache(fcinfo, MultirangeTypeGetOid(mr));
	int64		total = 0;

	for (int32 i = 0; i < mr->rangeCount; i++)
	{
		RangeBound lower;
		RangeBound upper;
		int64		length;

		multirange_get_bounds(typcache->rngtype, mr, i, &lower, &upper);
		if (lower.infinite || upper.infinite)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("runs of activity must be bounded")));
		if (pg_sub_s64_overflow(DatumGetInt64(upper.val), DatumGetInt64(lower.val), &length) ||
			pg_add_s64_overflow(total, length - (DOZOR_ACTIVE_GAP_MS - 1), &total))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("active time is out of range for type bigint")));
	}
	PG_RETURN_INT64(total);
}

PG_FUNCTION_INFO_V1(dozor_activity_run);

/* dozor_activity_run(first_ms bigint, last_ms bigint) -> int8range */
Datum
dozor_activity_run(PG_FUNCTION_ARGS)
{
	int64		first = PG_GETARG_INT64(0);
	int64		last = PG_GETARG_INT64(1);
	TypeCacheEntry *typcache = lookup_type_cache(INT8RANGEOID, TYPECACHE_RANGE_INFO);
	RangeBound	lower = {Int64GetDatum(first), false, true, true};
	RangeBound	upper;
	int64		end;

	if (last < first || pg_add_s64_overflow(last, DOZOR_ACTIVE_GAP_MS - 1, &end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a run of activity must end after it starts and before the end of bigint")));
	upper.val = Int64GetDatum(end);
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;
	PG_RETURN_RANGE_P(make_range(typcache, &lower, &upper, false));
}

/*
 * The stored activity of a batch: the int8multirange of its runs, each
 * first_ms .. last_ms made as dozor_activity_run makes it (what
 * range_agg(dozor_activity_run(first, last)) gives). Ingest calls it with
 * the runs of dozor_prepared_batch (active_starts, active_ends).
 */
Datum
ActivityRunsMultirange(ArrayType *starts, ArrayType *ends)
{
	TypeCacheEntry *typcache = lookup_type_cache(INT8RANGEOID, TYPECACHE_RANGE_INFO);
	int			n = ArrayGetNItems(ARR_NDIM(starts), ARR_DIMS(starts));
	int64	   *first = (int64 *) ARR_DATA_PTR(starts);
	int64	   *last = (int64 *) ARR_DATA_PTR(ends);
	RangeType **ranges;

	if (ARR_HASNULL(starts) || ARR_HASNULL(ends) ||
		ArrayGetNItems(ARR_NDIM(ends), ARR_DIMS(ends)) != n)
		elog(ERROR, "runs of activity must be two arrays of equal length without nulls");
	ranges = palloc(sizeof(RangeType *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		ranges[i] = DatumGetRangeTypeP(DirectFunctionCall2(dozor_activity_run,
														   Int64GetDatum(first[i]),
														   Int64GetDatum(last[i])));
	return MultirangeTypePGetDatum(make_multirange(INT8MULTIRANGEOID, typcache, n, ranges));
}
