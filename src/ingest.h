/*
 * ingest.h — one SDK request body made ready to store (src/ingest.c), as
 * the columns of the SQL type dozor_prepared_batch.
 */
#ifndef DOZOR_INGEST_H
#define DOZOR_INGEST_H

#include "postgres.h"

/* Columns of the composite type dozor_prepared_batch, in order. */
enum PreparedColumn
{
	PB_SESSION_ID,
	PB_HAS_METADATA,
	PB_URL,
	PB_REFERRER,
	PB_USER_AGENT,
	PB_SCREEN_WIDTH,
	PB_SCREEN_HEIGHT,
	PB_LANGUAGE,
	PB_URL_PATHNAME,
	PB_USER_ID,
	PB_TRAITS,
	PB_EVENT_COUNT,
	PB_FIRST_TIMESTAMP,
	PB_LAST_TIMESTAMP,
	PB_DATA,
	PB_RAW_BYTES,
	PB_EVENT_INDEX,
	PB_CONSOLE_COUNT,
	PB_CONTENT_HASH,
	PB_MARKER_INDEX,
	PB_MARKER_TIMESTAMP,
	PB_MARKER_KIND,
	PB_MARKER_DATA,
	PB_CLICK_COUNT,
	PB_KEYPRESS_COUNT,
	PB_MOUSE_ACTIVITY_COUNT,
	PB_CONSOLE_LOG_COUNT,
	PB_CONSOLE_WARN_COUNT,
	PB_CONSOLE_ERROR_COUNT,
	PB_ACTIVE_STARTS,
	PB_ACTIVE_ENDS,
	PB_NCOLUMNS
};

/*
 * Validates a request body (NULL: 22023) sent with a Content-Encoding
 * (NULL: plain) and fills values[PB_NCOLUMNS] / nulls[PB_NCOLUMNS].
 */
extern void PrepareBatch(bytea *body, text *content_encoding, Datum *values, bool *nulls);

#endif
