/*
 * url_pathname.h — the pathname of a URL as the WHATWG URL standard
 * defines it (docs/HISTORY.md §5). Used at ingest for the initial url marker
 * and by the history feed for the init section.
 */
#ifndef DOZOR_URL_PATHNAME_H
#define DOZOR_URL_PATHNAME_H

/* Frontend-buildable too: unit tests and fuzz targets link it standalone. */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

/*
 * The pathname of url[0..len) as a palloc'd NUL-terminated string, or NULL
 * when the URL cannot be parsed (relative, no valid scheme, bad host/port).
 */
extern char *UrlPathname(const char *url, size_t len);

#endif							/* DOZOR_URL_PATHNAME_H */
