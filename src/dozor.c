/*
 * dozor.c — module entry point. Each subsystem initialises itself.
 */
#include "postgres.h"
#include "fmgr.h"

#include "gzip.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	GzipInit();
}
