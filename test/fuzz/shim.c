/*
 * shim.c — the backend stand-ins described in shim.h.
 *
 * Compiled with -DFRONTEND like the code under test, but it includes the
 * backend headers so that every definition here is checked against the
 * declaration the code under test was compiled with.
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fe_memutils.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "shim.h"

FuzzError	fuzz_error;

/* ---------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

static sigjmp_buf *error_target = NULL;
static bool building_error = false;

bool
errstart(int elevel, const char *domain)
{
	if (elevel < ERROR)
		return false;			/* notices and warnings are not findings */
	building_error = true;
	memcpy(fuzz_error.sqlstate, "XX000", 6);	/* elog's default */
	fuzz_error.message[0] = '\0';
	fuzz_error.where = NULL;
	fuzz_error.line = 0;
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (!building_error)
		return;
	building_error = false;
	fuzz_error.where = filename;
	fuzz_error.line = lineno;
	if (error_target == NULL)
	{
		fprintf(stderr, "ERROR outside FuzzCall: %s %s (%s:%d)\n",
				fuzz_error.sqlstate, fuzz_error.message, filename, lineno);
		abort();
	}
	siglongjmp(*error_target, 1);
}

int
errcode(int sqlerrcode)
{
	int			i;

	/* inverse of MAKE_SQLSTATE: five 6-bit characters */
	for (i = 0; i < 5; i++)
	{
		fuzz_error.sqlstate[i] = PGUNSIXBIT(sqlerrcode);
		sqlerrcode >>= 6;
	}
	fuzz_error.sqlstate[5] = '\0';
	return 0;
}

int
errmsg(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(fuzz_error.message, sizeof(fuzz_error.message), fmt, ap);
	va_end(ap);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(fuzz_error.message, sizeof(fuzz_error.message), fmt, ap);
	va_end(ap);
	return 0;
}

/* Details and hints are formatted (to catch bad format arguments) and dropped. */
int
errdetail(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return 0;
}

int
errhint(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return 0;
}

/* Raises an ERROR from the shim itself (allocation failures). */
static void ShimError(const char *sqlstate, const char *fmt,...) pg_attribute_printf(2, 3);

static void
ShimError(const char *sqlstate, const char *fmt,...)
{
	va_list		ap;

	errstart(ERROR, NULL);
	memcpy(fuzz_error.sqlstate, sqlstate, 6);
	va_start(ap, fmt);
	vsnprintf(fuzz_error.message, sizeof(fuzz_error.message), fmt, ap);
	va_end(ap);
	errfinish(__FILE__, __LINE__, __func__);
	abort();					/* not reached */
}

bool
FuzzCall(void (*fn) (void *arg), void *arg)
{
	sigjmp_buf	env;
	sigjmp_buf *volatile saved = error_target;

	if (sigsetjmp(env, 0) != 0)
	{
		error_target = saved;
		return false;
	}
	error_target = &env;
	fn(arg);
	error_target = saved;
	return true;
}

bool
FuzzErrorIn(const char *states)
{
	const char *p = states;

	while ((p = strstr(p, fuzz_error.sqlstate)) != NULL)
	{
		if ((p == states || p[-1] == ' ') && (p[5] == '\0' || p[5] == ' '))
			return true;
		p++;
	}
	return false;
}

void
FuzzUnexpectedError(const char *target, const char *allowed)
{
	fprintf(stderr, "\n*** %s: unexpected ERROR %s \"%s\" (raised at %s:%d); allowed: %s\n",
			target, fuzz_error.sqlstate, fuzz_error.message,
			fuzz_error.where ? fuzz_error.where : "?", fuzz_error.line, allowed);
	abort();
}

void
FuzzFail(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "\n*** ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

/* ---------------------------------------------------------------------
 * Interrupts (never pending here)
 * --------------------------------------------------------------------- */

volatile sig_atomic_t InterruptPending = false;

void
ProcessInterrupts(void)
{
}

/* ---------------------------------------------------------------------
 * Memory: a table of live blocks (open addressing on the pointer)
 * --------------------------------------------------------------------- */

typedef struct Block
{
	void	   *ptr;
	size_t		size;
	bool		permanent;		/* TopMemoryContext: survives resets */
} Block;

static Block *blocks = NULL;
static size_t block_cap = 0;	/* power of two */
static size_t block_count = 0;
static size_t live_bytes = 0;

/* Two distinct contexts are all the code under test can tell apart. */
static char top_context_storage[64];
static char query_context_storage[64];
MemoryContext TopMemoryContext = (MemoryContext) top_context_storage;
MemoryContext CurrentMemoryContext = (MemoryContext) query_context_storage;

static inline size_t
BlockHash(const void *p)
{
	uint64		h = (uint64) (uintptr_t) p;

	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (size_t) h;
}

static void BlockInsert(void *ptr, size_t size, bool permanent);

static void
BlockGrow(void)
{
	Block	   *old = blocks;
	size_t		old_cap = block_cap;

	block_cap = block_cap ? block_cap * 2 : 1024;
	blocks = calloc(block_cap, sizeof(Block));
	if (blocks == NULL)
		abort();
	block_count = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].ptr != NULL)
		{
			size_t		saved = live_bytes;

			BlockInsert(old[i].ptr, old[i].size, old[i].permanent);
			live_bytes = saved;
		}
	free(old);
}

static void
BlockInsert(void *ptr, size_t size, bool permanent)
{
	size_t		i;

	if ((block_count + 1) * 2 > block_cap)
		BlockGrow();
	i = BlockHash(ptr) & (block_cap - 1);
	while (blocks[i].ptr != NULL)
		i = (i + 1) & (block_cap - 1);
	blocks[i].ptr = ptr;
	blocks[i].size = size;
	blocks[i].permanent = permanent;
	block_count++;
	if (!permanent)
		live_bytes += size;
}

/* Removes ptr from the table (backward-shift deletion); false if unknown. */
static bool
BlockRemove(void *ptr, Block *removed)
{
	size_t		i;
	size_t		j;

	if (block_cap == 0)
		return false;
	i = BlockHash(ptr) & (block_cap - 1);
	while (blocks[i].ptr != ptr)
	{
		if (blocks[i].ptr == NULL)
			return false;
		i = (i + 1) & (block_cap - 1);
	}
	*removed = blocks[i];
	if (!removed->permanent)
		live_bytes -= removed->size;
	block_count--;
	blocks[i].ptr = NULL;
	j = i;
	for (;;)
	{
		size_t		home;

		j = (j + 1) & (block_cap - 1);
		if (blocks[j].ptr == NULL)
			break;
		home = BlockHash(blocks[j].ptr) & (block_cap - 1);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j)))
		{
			blocks[i] = blocks[j];
			blocks[j].ptr = NULL;
			i = j;
		}
	}
	return true;
}

/* The one allocator: size limit like the backend's, then a tracked malloc. */
static void *
ShimAlloc(size_t size, bool huge, bool zero, bool no_oom, bool permanent)
{
	void	   *p;

	if (size > (huge ? MaxAllocHugeSize : MaxAllocSize))
		ShimError("XX000", "invalid memory alloc request size %zu", size);
	p = zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
	if (p == NULL)
	{
		if (no_oom)
			return NULL;
		ShimError("53200", "out of memory (request of %zu bytes)", size);
	}
	BlockInsert(p, size, permanent);
	return p;
}

static void *
ShimRealloc(void *ptr, size_t size, bool huge)
{
	Block		b;
	void	   *p;

	if (size > (huge ? MaxAllocHugeSize : MaxAllocSize))
		ShimError("XX000", "invalid memory alloc request size %zu", size);
	if (ptr == NULL || !BlockRemove(ptr, &b))
		FuzzFail("repalloc of a pointer palloc never returned: %p", ptr);
	p = realloc(ptr, size ? size : 1);
	if (p == NULL)
	{
		BlockInsert(ptr, b.size, b.permanent);
		ShimError("53200", "out of memory (request of %zu bytes)", size);
	}
	BlockInsert(p, size, b.permanent);
	return p;
}

void
pfree(void *pointer)
{
	Block		b;

	if (pointer == NULL || !BlockRemove(pointer, &b))
		FuzzFail("pfree of a pointer palloc never returned: %p", pointer);
	free(pointer);
}

void
FuzzMemoryReset(void)
{
	Block	   *old = blocks;
	size_t		old_cap = block_cap;

	/* Rebuild the table with the permanent blocks only; free the rest. */
	blocks = NULL;
	block_cap = 0;
	block_count = 0;
	live_bytes = 0;
	for (size_t i = 0; i < old_cap; i++)
	{
		if (old[i].ptr == NULL)
			continue;
		if (old[i].permanent)
			BlockInsert(old[i].ptr, old[i].size, true);
		else
			free(old[i].ptr);
	}
	free(old);
}

size_t
FuzzLiveBytes(void)
{
	return live_bytes;
}

char *
FuzzExactCopy(const uint8_t *data, size_t len)
{
	char	   *p = ShimAlloc(len, true, false, false, false);

	if (len > 0)
		memcpy(p, data, len);
	return p;
}

/* backend memory API */

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return ShimAlloc(size, false, false, false, context == TopMemoryContext);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return ShimAlloc(size, false, true, false, context == TopMemoryContext);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return ShimAlloc(size, (flags & MCXT_ALLOC_HUGE) != 0, (flags & MCXT_ALLOC_ZERO) != 0,
					 (flags & MCXT_ALLOC_NO_OOM) != 0, context == TopMemoryContext);
}

void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return ShimAlloc(size, true, false, false, context == TopMemoryContext);
}

void *
repalloc_huge(void *pointer, Size size)
{
	return ShimRealloc(pointer, size, true);
}

/* palloc family (also what libpgcommon's StringInfo and psprintf call) */

void *
palloc(Size size)
{
	return ShimAlloc(size, false, false, false, false);
}

void *
palloc0(Size size)
{
	return ShimAlloc(size, false, true, false, false);
}

void *
palloc_extended(Size size, int flags)
{
	return ShimAlloc(size, (flags & MCXT_ALLOC_HUGE) != 0, (flags & MCXT_ALLOC_ZERO) != 0,
					 (flags & MCXT_ALLOC_NO_OOM) != 0, false);
}

void *
repalloc(void *pointer, Size size)
{
	return ShimRealloc(pointer, size, false);
}

char *
pstrdup(const char *in)
{
	size_t		n = strlen(in);
	char	   *p = palloc(n + 1);

	memcpy(p, in, n + 1);
	return p;
}

char *
pnstrdup(const char *in, Size size)
{
	size_t		n = strnlen(in, size);
	char	   *p = palloc(n + 1);

	memcpy(p, in, n);
	p[n] = '\0';
	return p;
}

Size
add_size(Size s1, Size s2)
{
	Size		result = s1 + s2;

	if (result < s1 || result < s2)
		ShimError("54000", "requested shared memory size overflows size_t");
	return result;
}

Size
mul_size(Size s1, Size s2)
{
	Size		result;

	if (s1 == 0 || s2 == 0)
		return 0;
	result = s1 * s2;
	if (result / s2 != s1)
		ShimError("54000", "requested shared memory size overflows size_t");
	return result;
}

void *
palloc_mul(Size s1, Size s2)
{
	return palloc(mul_size(s1, s2));
}

void *
palloc0_mul(Size s1, Size s2)
{
	return palloc0(mul_size(s1, s2));
}

void *
palloc_mul_extended(Size s1, Size s2, int flags)
{
	return palloc_extended(mul_size(s1, s2), flags);
}

void *
repalloc_mul(void *p, Size s1, Size s2)
{
	return repalloc(p, mul_size(s1, s2));
}

/* frontend names for the same thing */

void *
pg_malloc(size_t size)
{
	return palloc(size);
}

void *
pg_malloc0(size_t size)
{
	return palloc0(size);
}

void *
pg_malloc_extended(size_t size, int flags)
{
	return palloc_extended(size, flags);
}

void *
pg_realloc(void *pointer, size_t size)
{
	return pointer ? repalloc(pointer, size) : palloc(size);
}

char *
pg_strdup(const char *in)
{
	return pstrdup(in);
}

void
pg_free(void *pointer)
{
	if (pointer != NULL)
		pfree(pointer);
}

void *
pg_malloc_mul(Size s1, Size s2)
{
	return palloc_mul(s1, s2);
}

void *
pg_malloc0_mul(Size s1, Size s2)
{
	return palloc0_mul(s1, s2);
}

void *
pg_malloc_mul_extended(Size s1, Size s2, int flags)
{
	return palloc_mul_extended(s1, s2, flags);
}

void *
pg_realloc_mul(void *p, Size s1, Size s2)
{
	return pg_realloc(p, mul_size(s1, s2));
}

/* ---------------------------------------------------------------------
 * fmgr: gzip.c's SQL wrappers reference it; the targets never call them.
 * --------------------------------------------------------------------- */

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	FuzzFail("pg_detoast_datum_packed is not available in the fuzz build");
}
