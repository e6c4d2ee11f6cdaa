/*
 * util.h — small helpers shared by the fuzz targets (header-only: every
 * target is one translation unit plus the code under test and the shim).
 */
#ifndef DOZOR_FUZZ_UTIL_H
#define DOZOR_FUZZ_UTIL_H

#include "postgres_fe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

#include "shim.h"

/* Is buf[0..len) valid UTF-8 without NUL bytes (PostgreSQL's definition)? */
static inline bool
FuzzUtf8Valid(const char *buf, size_t len)
{
	return pg_encoding_verifymbstr(PG_UTF8, buf, (int) len) == (int) len;
}

/* Code points of valid UTF-8. */
static inline size_t
FuzzUtf8Count(const char *p, size_t len)
{
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char) p[i] & 0xC0) != 0x80;
	return n;
}

/*
 * PostgreSQL's own JSON parser (libpgcommon, the code behind json_in and
 * jsonb_in) on buf[0..len). need_escapes makes it de-escape strings, which
 * is when it refuses \u0000 as jsonb does.
 */
static inline bool
FuzzPgJsonValid(const char *buf, size_t len, bool need_escapes)
{
	char	   *copy = palloc(len + 1);
	JsonLexContext *lex;
	JsonParseErrorType r;

	memcpy(copy, buf, len);
	copy[len] = '\0';
	lex = makeJsonLexContextCstringLen(copy, (int) len, PG_UTF8, need_escapes);
	r = pg_parse_json(lex, &nullSemAction);
	return r == JSON_SUCCESS;
}

/* Does buf[0..len) contain the byte string s? */
static inline bool
FuzzContains(const char *buf, size_t len, const char *s)
{
	size_t		n = strlen(s);

	if (n == 0 || n > len)
		return n == 0;
	for (size_t i = 0; i + n <= len; i++)
		if (buf[i] == s[0] && memcmp(buf + i, s, n) == 0)
			return true;
	return false;
}

/* Number of bytes of buf[0..len) that open a container (an upper bound on depth). */
static inline size_t
FuzzOpenBrackets(const char *buf, size_t len)
{
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
		n += (buf[i] == '[' || buf[i] == '{');
	return n;
}

/* A little-endian reader over the fuzzer's bytes, yielding zeros at the end. */
typedef struct FuzzReader
{
	const uint8_t *p;
	size_t		left;
} FuzzReader;

static inline uint64_t
FuzzTake(FuzzReader *r, int bytes)
{
	uint64_t	v = 0;

	for (int i = 0; i < bytes; i++)
	{
		uint64_t	b = 0;

		if (r->left > 0)
		{
			b = *r->p++;
			r->left--;
		}
		v |= b << (8 * i);
	}
	return v;
}

#endif							/* DOZOR_FUZZ_UTIL_H */
