/*
 * session.h — what the session-level read functions share: the session
 * row's fields the feeds need, and argument checks.
 */
#ifndef DOZOR_SESSION_H
#define DOZOR_SESSION_H

#include "postgres.h"
#include "fmgr.h"

typedef struct SessionInfo
{
	bool		found;
	char	   *url;			/* NULL when the session has none */
	bool		has_ended_at;
	int64		ended_at_ms;
} SessionInfo;

/* Reads dozor.sessions (SPI must be connected). */
extern void SessionLookup(int64 session_id, SessionInfo *info);

/* A non-null, non-negative integer argument (22023 otherwise). */
extern int64 SessionIntegerArg(FunctionCallInfo fcinfo, int argno, const char *name);

#endif							/* DOZOR_SESSION_H */
