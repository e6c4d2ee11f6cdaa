/*
 * session.h — what the session-level read functions share: the session
 * row's fields the feeds need, and argument checks.
 */
#ifndef DOZOR_SESSION_H
#define DOZOR_SESSION_H

#include "postgres.h"
#include "fmgr.h"

#include "stream.h"

typedef struct SessionInfo
{
	bool		found;
	char	   *url;			/* NULL when the session has none */
	bool		has_ended_at;
	int64		ended_at_ms;
} SessionInfo;

/* Reads dozor.sessions (SPI must be connected). */
extern void SessionLookup(int64 session_id, SessionInfo *info);

/*
 * The feeds' preamble: connects SPI and opens the stored session's stream.
 * With info, the session row is looked up first and NULL is returned (SPI
 * finished again) when there is no such session, or none the caller may
 * see; without, a missing session is simply an empty stream.
 */
extern SessionStream *SessionStreamOpenStored(int64 session_id, SessionInfo *info);

/* Closes a stream of SessionStreamOpenStored and finishes SPI. */
extern void SessionStreamCloseStored(SessionStream *stream);

/* A non-null, non-negative integer argument (22023 otherwise). */
extern int64 SessionIntegerArg(FunctionCallInfo fcinfo, int argno, const char *name);

#endif							/* DOZOR_SESSION_H */
