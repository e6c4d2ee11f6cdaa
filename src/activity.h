/*
 * activity.h — runs of user interaction as stored (src/activity.c).
 */
#ifndef DOZOR_ACTIVITY_H
#define DOZOR_ACTIVITY_H

#include "postgres.h"

#include "utils/array.h"

/* int8multirange of the runs first[i] .. last[i] (two int8[] of one length). */
extern Datum ActivityRunsMultirange(ArrayType *starts, ArrayType *ends);

extern Datum dozor_activity_run(PG_FUNCTION_ARGS);

#endif
