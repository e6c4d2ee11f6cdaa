/*
 * shim.h — just enough of the PostgreSQL backend for dozor's parsers to run
 * inside a libFuzzer process (compiled with -DFRONTEND, linked against
 * libpgcommon/libpgport for StringInfo, psprintf and the encoding checks).
 *
 * What it stands in for:
 *   ereport/elog   errstart/errfinish record the SQLSTATE and message of an
 *                  ERROR and siglongjmp to the innermost FuzzCall(); a
 *                  WARNING or lower is ignored. An ERROR outside FuzzCall
 *                  aborts (that is a bug in the harness).
 *   palloc family  malloc'd blocks of exactly the requested size (so ASan
 *                  sees every overrun), remembered in a table so that
 *                  FuzzMemoryReset() frees what one input left behind, as a
 *                  backend's per-query memory context would. Requests over
 *                  MaxAllocSize fail like the backend's: elog(ERROR) with
 *                  XX000, which every target treats as a bug (a hostile
 *                  input must not reach an unchecked allocation size).
 *                  TopMemoryContext allocations (libdeflate's (de)compressor
 *                  state) live for the whole process.
 *   add_size/mul_size  overflow is 54000, as in the backend.
 *   CHECK_FOR_INTERRUPTS  a flag that is never set.
 *
 * The replacement palloc/pfree/... symbols keep libpgcommon's fe_memutils.o
 * out of the link (every symbol it defines is defined here).
 */
#ifndef DOZOR_FUZZ_SHIM_H
#define DOZOR_FUZZ_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the last ERROR said. */
typedef struct FuzzError
{
	char		sqlstate[6];	/* "22P02", ... */
	char		message[1024];
	const char *where;			/* source file:line of the ereport */
	int			line;
} FuzzError;

extern FuzzError fuzz_error;

/*
 * Runs fn(arg) and returns true, or returns false when it raised an ERROR
 * (fuzz_error then says which). Calls nest.
 */
extern bool FuzzCall(void (*fn) (void *arg), void *arg);

/* Does the last error's SQLSTATE appear in the space-separated list? */
extern bool FuzzErrorIn(const char *states);

/* Prints the last error and what was expected, then aborts (a finding). */
extern void FuzzUnexpectedError(const char *target, const char *allowed) __attribute__((noreturn));

/* Prints a formatted complaint and aborts (a finding). */
extern void FuzzFail(const char *fmt,...) __attribute__((noreturn, format(printf, 1, 2)));

/* Frees every palloc'd block not yet freed (call at the end of each input). */
extern void FuzzMemoryReset(void);

/* A palloc'd copy of exactly len bytes (no terminator): overruns are caught. */
extern char *FuzzExactCopy(const uint8_t *data, size_t len);

/* Bytes currently allocated through palloc and friends (not TopMemoryContext). */
extern size_t FuzzLiveBytes(void);

#endif							/* DOZOR_FUZZ_SHIM_H */
