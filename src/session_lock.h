/*
 * session_lock.h — the advisory locks on which ingest, cancel and erasure
 * of a session (or a tracked user) serialize (src/session_lock.c).
 */
#ifndef DOZOR_SESSION_LOCK_H
#define DOZOR_SESSION_LOCK_H

#include "postgres.h"

typedef enum DozorLockKind
{
	DOZOR_LOCK_SESSION,			/* key: the session's uuid as text */
	DOZOR_LOCK_USER				/* key: the tracked user's external id */
} DozorLockKind;

/* Takes the lock of (project_id, key) to the end of the transaction. */
extern void DozorLock(DozorLockKind kind, int64 project_id, const char *key, int key_len);

#endif
