/*
 * json_scan_test.c — unit tests of src/json_scan.c, built as frontend code.
 *
 * Every document is copied into a heap buffer of exactly its length, so
 * AddressSanitizer reports any read past the end (the scanner must never
 * rely on a terminating NUL). Besides hand-written cases, a seeded fuzz loop
 * compares validity with PostgreSQL's own JSON parser (libpgcommon) and
 * checks that the trusted walk (JsonIter) agrees with the validator on every
 * value it yields. The throughput lines at the end are printed, not asserted.
 */
#include "json_scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

/* An empty span, so that a failed lookup leaves something harmless behind. */
#define NO_SPAN {NULL, 0, JSON_KIND_NONE, false, NULL}

static long n_checks = 0;
static long n_failed = 0;

/* Counts a check; prints the first failures with a formatted explanation. */
#define CHECKF(cond, ...) \
	do { \
		n_checks++; \
		if (!(cond)) \
		{ \
			if (n_failed++ < 60) \
			{ \
				fprintf(stderr, "%s:%d: FAILED %s: ", __FILE__, __LINE__, #cond); \
				fprintf(stderr, __VA_ARGS__); \
				fputc('\n', stderr); \
			} \
		} \
	} while (0)
#define CHECK(cond) CHECKF(cond, "%s", "")

/* Buffers handed out by Keep(), freed by ArenaReset(). */
static char *arena[8192];
static int	n_arena = 0;

/* A heap copy of exactly len bytes (no terminator), kept until ArenaReset. */
static char *
Keep(const char *src, size_t len)
{
	char	   *b = malloc(len);

	if (b == NULL && len > 0)
		abort();
	if (len > 0)
		memcpy(b, src, len);
	if (n_arena == lengthof(arena))
		abort();
	arena[n_arena++] = b;
	return b;
}

/* Frees everything Keep() handed out. */
static void
ArenaReset(void)
{
	while (n_arena > 0)
		free(arena[--n_arena]);
}

/* Validates [text, text+len) as one whole document; the span points into an exact copy. */
static bool
ParseLen(const char *text, size_t len, JsonScanner *s, JsonSpan *v)
{
	char	   *b = Keep(text, len);

	JsonScanInit(s, b, len);
	if (!JsonScanValue(s, v))
		return false;
	return JsonScanAtEnd(s);
}

/* ParseLen for a C string, scanner discarded. */
static bool
Parse(const char *text, JsonSpan *v)
{
	JsonScanner s;

	return ParseLen(text, strlen(text), &s, v);
}

/* Does the span's text equal the C string? */
static bool
SpanIs(const JsonSpan *v, const char *text)
{
	return v->start != NULL && v->len == strlen(text) &&
		memcmp(v->start, text, v->len) == 0;
}

/* PostgreSQL's own parser on a copy: the reference for strict validity. */
static bool
PgValid(const char *buf, size_t len, bool need_escapes)
{
	char	   *copy = malloc(len + 1);
	JsonLexContext *lex;
	JsonParseErrorType r;

	if (len > 0)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	lex = makeJsonLexContextCstringLen(copy, (int) len, PG_UTF8, need_escapes);
	r = pg_parse_json(lex, &nullSemAction);
	if (lex->strval != NULL)
	{
		pfree(lex->strval->data);
		pfree(lex->strval);
	}
	pfree(lex);
	free(copy);
	return r == JSON_SUCCESS;
}

/* Code points of a UTF-8 buffer. */
static size_t
Utf8Count(const char *p, size_t len)
{
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		n += ((unsigned char) p[i] & 0xC0) != 0x80;
	return n;
}

/* True when [p, p+len) holds no "\u" escape start (outside an escaped backslash or not). */
static bool
HasUEscape(const char *p, size_t len)
{
	size_t		i;

	for (i = 0; i + 1 < len; i++)
		if (p[i] == '\\' && p[i + 1] == 'u')
			return true;
	return false;
}

/*
 * Checks a validated value and, recursively, everything inside it: each
 * span the iterator yields re-validates on its own as the same kind, the
 * members tile the container exactly (only whitespace, ',' and ':' between
 * them), and the string helpers agree with one another.
 */
static void
WalkCheck(const JsonSpan *v, int depth)
{
	JsonScanner s;
	JsonSpan	w = NO_SPAN;
	char	   *copy;
	bool		ok;
	char	   *pgtext;

	CHECKF(v->start != NULL && v->len > 0, "nothing to walk (the parse failed)");
	if (v->start == NULL || v->len == 0)
		return;
	copy = malloc(v->len);
	memcpy(copy, v->start, v->len);
	JsonScanInit(&s, copy, v->len);
	ok = JsonScanValue(&s, &w) && JsonScanAtEnd(&s);
	CHECKF(ok && w.kind == v->kind && w.len == v->len,
		   "span %.*s does not re-validate alone", (int) Min(v->len, 80), v->start);
	if (v->kind == JSON_KIND_STRING)
		CHECKF(w.has_escapes == v->has_escapes, "has_escapes differs for %.*s",
			   (int) Min(v->len, 80), v->start);
	free(copy);

	/* text for PostgreSQL: same length, still valid, and accepted by jsonb's lexer */
	pgtext = JsonTextForPostgres(v);
	CHECK(strlen(pgtext) == v->len);
	CHECKF(PgValid(pgtext, v->len, true), "PostgreSQL rejects %s", pgtext);
	if (!HasUEscape(v->start, v->len))
		CHECK(memcmp(pgtext, v->start, v->len) == 0);
	pfree(pgtext);

	(void) JsonIsTruthy(v);

	switch (v->kind)
	{
		case JSON_KIND_STRING:
			{
				StringInfoData d;
				size_t		cut;

				initStringInfo(&d);
				JsonStringDecode(v, &d);
				CHECKF(memchr(d.data, '\0', d.len) == NULL, "decoded NUL in %.*s",
					   (int) v->len, v->start);
				/* UTF-8 in, UTF-8 out: escapes never produce surrogates or NULs */
				if (pg_encoding_verifymbstr(PG_UTF8, v->start, v->len) == v->len)
					CHECKF(pg_encoding_verifymbstr(PG_UTF8, d.data, d.len) == d.len,
						   "decode of %.*s is not valid UTF-8", (int) v->len, v->start);
				CHECK(JsonStringCharCount(v) == Utf8Count(d.data, d.len));
				CHECK(JsonStringEquals(v, d.data));
				for (cut = 0; cut <= (size_t) d.len; cut++)
				{
					char		save = d.data[cut];

					d.data[cut] = '\0';
					CHECK(JsonStringHasPrefix(v, d.data));
					if (cut < (size_t) d.len)
						CHECK(!JsonStringEquals(v, d.data));
					d.data[cut] = save;
				}
				appendStringInfoChar(&d, 'x');
				CHECK(!JsonStringEquals(v, d.data));
				CHECK(!JsonStringHasPrefix(v, d.data));
				pfree(d.data);
				break;
			}
		case JSON_KIND_NUMBER:
			CHECK(!isnan(JsonNumberValue(v)));
			break;
		case JSON_KIND_OBJECT:
		case JSON_KIND_ARRAY:
			{
				JsonIter	it;
				JsonSpan	k = NO_SPAN;
				JsonSpan	e = NO_SPAN;
				const char *prev = v->start + 1;
				const char *close = v->start + v->len - 1;
				int			n = 0;
				bool		is_obj = (v->kind == JSON_KIND_OBJECT);

				CHECK(*v->start == (is_obj ? '{' : '['));
				CHECK(*close == (is_obj ? '}' : ']'));
				JsonIterInit(&it, v);
				while (JsonIterNext(&it, &k, &e))
				{
					const char *first = is_obj ? k.start : e.start;
					const char *q;
					int			commas = 0;

					/* between members: whitespace and exactly one comma (none before the first) */
					for (q = prev; q < first; q++)
					{
						if (*q == ',')
							commas++;
						else
							CHECK(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r');
					}
					CHECK(commas == (n > 0 ? 1 : 0));
					if (is_obj)
					{
						int			colons = 0;

						CHECK(k.kind == JSON_KIND_STRING);
						for (q = k.start + k.len; q < e.start; q++)
						{
							if (*q == ':')
								colons++;
							else
								CHECK(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r');
						}
						CHECK(colons == 1);
						WalkCheck(&k, depth + 1);
					}
					else
						CHECK(k.kind == JSON_KIND_NONE);
					CHECK(e.start + e.len <= close);
					WalkCheck(&e, depth + 1);
					prev = e.start + e.len;
					n++;
				}
				for (; prev < close; prev++)
					CHECK(*prev == ' ' || *prev == '\t' || *prev == '\n' || *prev == '\r');
				CHECK(!JsonIterNext(&it, &k, &e));	/* done stays done */
				break;
			}
		default:
			break;
	}
}

/*
 * Walks a value scanned without an outline (a) and the same value scanned
 * with one (b) side by side: the outline must yield exactly the members,
 * keys and flags the text walk yields, and record every container above
 * `depth` (level is the nesting level of a and b, the root being 0).
 */
/*
 * JsonIterKeyEquals*, JsonIterValue and (outline) JsonNodeKeyEquals on the
 * member the iterator returned last agree with JsonStringEquals on its key
 * and with its value: for the decoded key, a prefix of it, one byte longer,
 * and the literals ingest looks for.
 */
static void
IterMemberSame(const JsonIter *it, const JsonSpan *key, const JsonSpan *value)
{
	static const char *const names[] = {"type", "timestamp", "data", "source", "", "\"", "t"};
	JsonSpan	v = NO_SPAN;

	JsonIterValue(it, &v);
	CHECK(v.start == value->start && v.len == value->len && v.kind == value->kind &&
		  v.has_escapes == value->has_escapes && v.node == value->node);
	if (key->kind == JSON_KIND_STRING)
	{
		StringInfoData name;

		initStringInfo(&name);
		JsonStringDecode(key, &name);
		CHECK(JsonIterKeyEqualsLen(it, name.data, name.len));
		if (name.len > 0)
			CHECK(!JsonIterKeyEqualsLen(it, name.data, name.len - 1));
		appendStringInfoChar(&name, 'x');
		CHECK(!JsonIterKeyEqualsLen(it, name.data, name.len));
		pfree(name.data);
	}
	for (int i = 0; i < lengthof(names); i++)
	{
		bool		want = JsonStringEquals(key, names[i]);

		CHECK(JsonIterKeyEquals(it, names[i]) == want);
		if (it->outline)
			CHECK(JsonNodeKeyEquals(it->member, names[i]) == want);
	}
}

static void
OutlineSame(const JsonSpan *a, const JsonSpan *b, int level, int depth, bool recorded)
{
	JsonIter	ia;
	JsonIter	ib;
	JsonSpan	ka = NO_SPAN;
	JsonSpan	ea = NO_SPAN;
	JsonSpan	kb = NO_SPAN;
	JsonSpan	eb = NO_SPAN;
	bool		more;

	CHECKF(a->start == b->start && a->len == b->len && a->kind == b->kind &&
		   a->has_escapes == b->has_escapes,
		   "outline span differs at level %d: %.*s", level, (int) Min(a->len, 60), a->start);
	CHECK(a->node == NULL);
	if (recorded)
	{
		CHECKF(b->node != NULL, "no node at level %d", level);
		if (b->node != NULL)
			CHECK(b->node->start == b->start && b->node->len == b->len &&
				  b->node->kind == b->kind);
	}
	else
		CHECK(b->node == NULL);
	if (a->kind != JSON_KIND_OBJECT && a->kind != JSON_KIND_ARRAY)
		return;
	if (recorded && b->node != NULL)
		CHECKF(((b->node->flags & JSON_NODE_RECORDED) != 0) == (level < depth),
			   "RECORDED flag wrong at level %d of %d", level, depth);
	JsonIterInit(&ia, a);
	JsonIterInit(&ib, b);
	CHECK(ib.outline == (recorded && level < depth));
	do
	{
		more = JsonIterNext(&ia, &ka, &ea);
		CHECK(more == JsonIterNext(&ib, &kb, &eb));
		if (!more)
			break;
		CHECK(ka.start == kb.start && ka.len == kb.len && ka.kind == kb.kind &&
			  ka.has_escapes == kb.has_escapes);
		IterMemberSame(&ia, &ka, &ea);
		IterMemberSame(&ib, &kb, &eb);
		OutlineSame(&ea, &eb, level + 1, depth, recorded && level < depth);
	} while (more);
	CHECK(!JsonIterNext(&ib, &kb, &eb));	/* done stays done */
	if (a->kind == JSON_KIND_OBJECT && ka.start != NULL)
	{
		/* JsonObjectGet through the outline finds the same last duplicate */
		StringInfoData name;
		JsonSpan	ga = NO_SPAN;
		JsonSpan	gb = NO_SPAN;

		initStringInfo(&name);
		JsonStringDecode(&ka, &name);
		CHECK(JsonObjectGet(a, name.data, &ga) && JsonObjectGet(b, name.data, &gb) &&
			  ga.start == gb.start && ga.len == gb.len);
		pfree(name.data);
	}
}

/*
 * Scans text[0..len) without and with an outline of `depth` levels and at
 * most `cap` nodes: same verdict, same error and position, same walk.
 */
static void
OutlineCheck(const char *text, size_t len, int depth, uint32 cap)
{
	char	   *b = Keep(text, len);
	JsonScanner s1;
	JsonScanner s2;
	JsonSpan	v1 = NO_SPAN;
	JsonSpan	v2 = NO_SPAN;
	bool		ok1;
	bool		ok2;

	JsonScanInit(&s1, b, len);
	ok1 = JsonScanValue(&s1, &v1);
	JsonScanInit(&s2, b, len);
	JsonScanOutline(&s2, depth, cap);
	ok2 = JsonScanValue(&s2, &v2);
	CHECKF(ok1 == ok2, "outline changes the verdict on %.*s", (int) Min(len, 80), text);
	if (!ok1 || !ok2)
	{
		CHECK(s1.error == s2.error && s1.error_pos == s2.error_pos &&
			  s1.too_deep == s2.too_deep);
		if (s2.nodes != NULL)
			pfree(s2.nodes);
		return;
	}
	CHECK(s1.pos == s2.pos);
	/* an outline that did not fit the cap is given up whole */
	CHECK(v2.node == NULL || s2.nnodes <= cap);
	/* deeper than JSON_OUTLINE_MAX_DEPTH is that deep */
	OutlineSame(&v1, &v2, 0, Min(depth, JSON_OUTLINE_MAX_DEPTH), v2.node != NULL);
	if (v2.node != NULL)
		CHECK(v2.node == &s2.nodes[0] && v2.node->skip == s2.nnodes);

	/* the outline is for one call: scanning again gives none */
	s2.pos = 0;
	CHECK(JsonScanValue(&s2, &v2) && v2.node == NULL);
	if (s2.nodes != NULL)
		pfree(s2.nodes);
}

/* The outline on hand-written documents, at every depth and tight caps. */
static void
TestOutline(void)
{
	static const char *const docs[] = {
		"{}", "[]", "{ }", "[ ]", "1", "\"s\\u0041\"", "null",
		"{\"a\":1}", "[1,2,3]", " { \"a\" : [ 1 , { } , [ ] , \"x\" ] , \"b\" : { \"c\" : null } } ",
		"{\"sessionId\":\"0a1b2c3d-5e55-4abc-8def-0123456789ab\",\"events\":[{\"type\":3,\"data\":{\"source\":2,\"type\":2,\"id\":5},\"timestamp\":1},"
		"{\"type\":5,\"data\":{\"tag\":\"dozor:url\",\"payload\":{\"url\":\"https://a/\",\"pathname\":\"/\"}},\"timestamp\":2}],"
		"\"metadata\":{\"url\":\"u\",\"userIdentity\":{\"userId\":\"x\",\"traits\":{\"a\":[1,{\"b\":2}]}}}}",
		"{\"t\\u0079pe\":1,\"type\":2,\"type\":[3],\"\\\"\":{\"\":{}}}",
		"[{\"\\u0074ype\":3,\"tim\\u0065stamp\":1,\"d\\u0061ta\":{\"sourc\\u0065\":2,\"typ\\u0065\":4}}]",
		"[[[[[[[[[[[[1]]]]]]]]]]]]", "[{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":1}}}}}}}}]",
		"{\"a\":\"x\\\\\",\"b\":\"\\\"}\",\"c\":\"]\"}", "[\"\\ud83d\",\"\\u0000\",true,false,-0.5e+3]",
		"{\"a\":1,}", "[1 2]", "{\"a\" 1}", "[{\"a\":[1,2,{\"b\":]}]", "{\"a\":[1,2,3", "[1,2,3]x",
	};

	for (int i = 0; i < lengthof(docs); i++)
		for (int depth = 0; depth <= JSON_OUTLINE_MAX_DEPTH + 1; depth++)
			for (uint32 cap = 1; cap <= 24; cap += (cap < 6 ? 1 : 9))
				OutlineCheck(docs[i], strlen(docs[i]), depth, cap);
	ArenaReset();

	/* no outline asked for, or a budget of nothing: none is made */
	{
		JsonScanner s;
		JsonSpan	v = NO_SPAN;
		char	   *b = Keep("[1,[2]]", 7);

		JsonScanInit(&s, b, 7);
		JsonScanOutline(&s, -1, 100);
		CHECK(JsonScanValue(&s, &v) && v.node == NULL && s.nodes == NULL);
		JsonScanInit(&s, b, 7);
		JsonScanOutline(&s, 3, 0);
		CHECK(JsonScanValue(&s, &v) && v.node == NULL && s.nodes == NULL);
		/* exactly as many nodes as the document has: recorded; one fewer: given up */
		JsonScanInit(&s, b, 7);
		JsonScanOutline(&s, 3, 4);
		CHECK(JsonScanValue(&s, &v) && v.node != NULL && s.nnodes == 4);
		pfree(s.nodes);
		JsonScanInit(&s, b, 7);
		JsonScanOutline(&s, 3, 3);
		CHECK(JsonScanValue(&s, &v) && v.node == NULL);
		pfree(s.nodes);
		ArenaReset();
	}

	/* a large array: the node array grows several times */
	{
		StringInfoData d;

		initStringInfo(&d);
		appendStringInfoChar(&d, '[');
		for (int i = 0; i < 3000; i++)
			appendStringInfo(&d, "%s{\"k%d\":[%d,\"v\"]}", i ? "," : "", i % 7, i);
		appendStringInfoChar(&d, ']');
		OutlineCheck(d.data, d.len, 2, 100000);
		OutlineCheck(d.data, d.len, 3, 100000);
		OutlineCheck(d.data, d.len, 3, 9000);
		ArenaReset();
		pfree(d.data);
	}
}

/*
 * JsonScanCheckUtf8 on text[0..len): accepted exactly when the text is
 * valid JSON and valid UTF-8 (PostgreSQL's pg_encoding_verifymbstr), and on
 * valid UTF-8 with the same verdict and error as without the check.
 */
static void
Utf8Check(const char *text, size_t len)
{
	char	   *b = Keep(text, len);
	JsonScanner s1;
	JsonScanner s2;
	JsonSpan	v1 = NO_SPAN;
	JsonSpan	v2 = NO_SPAN;
	bool		json;
	bool		both;
	bool		utf8 = pg_encoding_verifymbstr(PG_UTF8, b, (int) len) == (int) len;

	JsonScanInit(&s1, b, len);
	json = JsonScanValue(&s1, &v1) && JsonScanAtEnd(&s1);
	JsonScanInit(&s2, b, len);
	JsonScanCheckUtf8(&s2);
	both = JsonScanValue(&s2, &v2) && JsonScanAtEnd(&s2);
	CHECKF(both == (json && utf8), "UTF-8 check says %d (JSON %d, UTF-8 %d) on %.*s",
		   both, json, utf8, (int) Min(len, 80), text);
	if (utf8 && !json)
		CHECK(s1.error == s2.error && s1.error_pos == s2.error_pos);
}

static uint64 Rand(uint64 *state);

/* The UTF-8 check inside strings: short and long, keys and values, bad bytes. */
static void
TestUtf8(void)
{
	static const char *const good[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
	};
	static const char *const bad[] = {
		"\x80", "\xc3", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80", "\xff", "\xe2\x82", "\xf0\x9f\x98",
	};
	uint64		rs = 12345;

	for (int pad = 0; pad < 40; pad += 3)
		for (int g = 0; g < lengthof(good) + lengthof(bad); g++)
		{
			const char *piece = g < lengthof(good) ? good[g] : bad[g - lengthof(good)];
			StringInfoData d;

			/* in a value, in a key, before an escape, outside any string */
			for (int form = 0; form < 4; form++)
			{
				initStringInfo(&d);
				appendStringInfoString(&d, "{\"k\":[1,");
				if (form == 3)
					appendStringInfoString(&d, piece);
				else
				{
					appendStringInfo(&d, "%s\"%*s%s%s\"", form == 1 ? "{" : "", pad, "", piece,
									 form == 2 ? "\\n\\u00e9" : "");
					if (form == 1)
						appendStringInfoString(&d, ":2}");
				}
				appendStringInfoString(&d, "]}");
				Utf8Check(d.data, d.len);
				/* the same cut short anywhere */
				for (int cut = d.len - 1; cut > 0; cut -= 1 + cut / 8)
					Utf8Check(d.data, cut);
				ArenaReset();
				pfree(d.data);
			}
		}
	/* random bytes >= 0x80 (and a NUL now and then) dropped into rrweb-like text */
	for (int r = 0; r < 3000; r++)
	{
		StringInfoData d;
		static const char doc[] =
			"{\"events\":[{\"type\":3,\"data\":{\"source\":0,\"texts\":[{\"id\":4,\"value\":\"price 12 EUR today only\"}]},"
			"\"timestamp\":1},{\"type\":5,\"data\":{\"tag\":\"dozor:url\",\"payload\":{\"url\":\"https://x/\"}},\"timestamp\":2}]}";

		initStringInfo(&d);
		appendBinaryStringInfo(&d, doc, sizeof(doc) - 1);
		for (int m = 1 + Rand(&rs) % 3; m > 0; m--)
		{
			int			at = Rand(&rs) % d.len;
			uint32		v = Rand(&rs);

			d.data[at] = (v % 17 == 0) ? '\0' : (char) (0x80 | (v >> 8));
			if (v % 3 == 0 && at + 1 < d.len)
				d.data[at + 1] = (char) (0x80 | (v >> 16 & 0x3f));
		}
		Utf8Check(d.data, d.len);
		ArenaReset();
		pfree(d.data);
	}
}

/* Valid documents of every kind, with the kind of their top-level value. */
static void
TestValid(void)
{
	static const struct
	{
		const char *doc;
		JsonKind	kind;
	}			cases[] = {
		{"0", JSON_KIND_NUMBER},
		{"-0", JSON_KIND_NUMBER},
		{"1", JSON_KIND_NUMBER},
		{"-1", JSON_KIND_NUMBER},
		{"1.5", JSON_KIND_NUMBER},
		{"0.0001", JSON_KIND_NUMBER},
		{"1e5", JSON_KIND_NUMBER},
		{"1E+5", JSON_KIND_NUMBER},
		{"1e-5", JSON_KIND_NUMBER},
		{"-0.0e0", JSON_KIND_NUMBER},
		{"10", JSON_KIND_NUMBER},
		{"1e400", JSON_KIND_NUMBER},
		{"123456789012345678901234567890", JSON_KIND_NUMBER},
		{"\"abc\"", JSON_KIND_STRING},
		{"\"\"", JSON_KIND_STRING},
		{"\"\\u0000\"", JSON_KIND_STRING},
		{"\"\\ud83d\"", JSON_KIND_STRING},
		{"\"\\udc00\"", JSON_KIND_STRING},
		{"\"\\ude00\\ud83d\"", JSON_KIND_STRING},
		{"\"\\ud83d\\ude00\"", JSON_KIND_STRING},
		{"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", JSON_KIND_STRING},
		{"\"\\uABCD\\uabcd\\u0aF9\"", JSON_KIND_STRING},
		{"\"\xc3\xa9\xf0\x9f\x98\x80\"", JSON_KIND_STRING},
		{"\"\x7f\"", JSON_KIND_STRING},
		{"\"\xff\xfe\"", JSON_KIND_STRING},	/* UTF-8 is the caller's job */
		{"\"[{]},:\"", JSON_KIND_STRING},
		{"\"/\"", JSON_KIND_STRING},
		{"true", JSON_KIND_TRUE},
		{"false", JSON_KIND_FALSE},
		{"null", JSON_KIND_NULL},
		{"[]", JSON_KIND_ARRAY},
		{"{}", JSON_KIND_OBJECT},
		{" [ ] ", JSON_KIND_ARRAY},
		{"\t\n\r {\t\n\r }\t\n\r ", JSON_KIND_OBJECT},
		{"[1,2,3]", JSON_KIND_ARRAY},
		{"[[],{},[[]],[{}]]", JSON_KIND_ARRAY},
		{"{\"a\":1}", JSON_KIND_OBJECT},
		{"{\"\":\"\"}", JSON_KIND_OBJECT},
		{"{\"a\":1,\"a\":2}", JSON_KIND_OBJECT},
		{"{\"a\":{\"b\":[1,{\"c\":null}]}}", JSON_KIND_OBJECT},
		{" \t\n\r{ \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\" : \"x\" } \n", JSON_KIND_OBJECT},
		{"[true,false,null,-1.25e-10,\"s\",{\"k\":[]}]", JSON_KIND_ARRAY},
		{"{\"k\\u0000\\ud800\":\"\\udfff\"}", JSON_KIND_OBJECT},
		{"[\"\\\\\",\"\\\\\\\"\",\"a\\\\\\\\\"]", JSON_KIND_ARRAY},
	};
	int			i;

	for (i = 0; i < lengthof(cases); i++)
	{
		JsonSpan	v = NO_SPAN;
		bool		ok = Parse(cases[i].doc, &v);

		CHECKF(ok, "valid document rejected: %s", cases[i].doc);
		if (!ok)
			continue;
		CHECKF(v.kind == cases[i].kind, "kind %d for %s", v.kind, cases[i].doc);
		/* the span is the value without the surrounding whitespace */
		CHECK(v.len > 0 && v.start[0] != ' ' && v.start[0] != '\t' &&
			  v.start[0] != '\n' && v.start[0] != '\r');
		CHECK(v.start[v.len - 1] != ' ' && v.start[v.len - 1] != '\n');
		WalkCheck(&v, 0);
	}

	/* spans and has_escapes of top-level values */
	{
		JsonSpan	v = NO_SPAN;

		CHECK(Parse("  {\"a\":1}  ", &v) && SpanIs(&v, "{\"a\":1}"));
		CHECK(Parse("\"a\\nb\"", &v) && v.has_escapes);
		CHECK(Parse("\"ab\"", &v) && !v.has_escapes);
		CHECK(Parse("[\"a\\nb\"]", &v) && !v.has_escapes);
		CHECK(Parse("{\"a\\nb\":1}", &v) && !v.has_escapes);
	}

	/* several values in one buffer, scanned one after another */
	{
		const char *text = " 1 [2]{\"a\":3}\"x\"null  ";
		char	   *b = Keep(text, strlen(text));
		JsonScanner s;
		JsonSpan	v = NO_SPAN;

		JsonScanInit(&s, b, strlen(text));
		CHECK(JsonScanValue(&s, &v) && SpanIs(&v, "1") && v.kind == JSON_KIND_NUMBER);
		CHECK(JsonScanValue(&s, &v) && SpanIs(&v, "[2]"));
		CHECK(JsonScanValue(&s, &v) && SpanIs(&v, "{\"a\":3}"));
		CHECK(JsonScanValue(&s, &v) && SpanIs(&v, "\"x\""));
		CHECK(JsonScanValue(&s, &v) && SpanIs(&v, "null"));
		CHECK(JsonScanAtEnd(&s));
		CHECK(s.pos == strlen(text));
		CHECK(!JsonScanValue(&s, &v));
		CHECK(s.error != NULL && strcmp(s.error, "unexpected end of input") == 0);
		CHECK(v.kind == JSON_KIND_NONE && v.start == NULL);
	}

	/* bytes past len are never looked at: a valid prefix of a longer buffer */
	{
		const char *text = "[1,2]garbage";
		JsonScanner s;
		JsonSpan	v = NO_SPAN;

		CHECK(ParseLen(text, 5, &s, &v) && v.len == 5);
		CHECK(!ParseLen(text, 4, &s, &v));
	}
	ArenaReset();
}

/* Invalid documents: each class of error, with message and byte offset. */
static void
TestInvalid(void)
{
	static const struct
	{
		const char *doc;
		const char *msg;
		int			pos;
	}			cases[] = {
		{"", "unexpected end of input", 0},
		{"   ", "unexpected end of input", 3},
		{"[1,]", "unexpected character", 3},
		{"[1,2,3,]", "unexpected character", 7},
		{"[1,\n]", "unexpected character", 4},
		{"{\"a\":1,}", "object key must be a string", 7},
		{"[,1]", "unexpected character", 1},
		{"[,]", "unexpected character", 1},
		{"{,}", "object key must be a string", 1},
		{"{\"a\":1,,\"b\":2}", "object key must be a string", 7},
		{"[1 2]", "expected ',' or ']'", 3},
		{"[true false]", "expected ',' or ']'", 6},
		{"[\"a\":1]", "expected ',' or ']'", 4},
		{"{\"a\" 1}", "expected ':' after object key", 5},
		{"{\"a\",1}", "expected ':' after object key", 4},
		{"{\"a\"::1}", "unexpected character", 5},
		{"{\"a\":}", "unexpected character", 5},
		{"{\"a\":1 \"b\":2}", "expected ',' or '}'", 7},
		{"{a:1}", "object key must be a string", 1},
		{"{'a':1}", "object key must be a string", 1},
		{"{1:2}", "object key must be a string", 1},
		{"{null:2}", "object key must be a string", 1},
		{"[1}", "expected ',' or ']'", 2},
		{"{\"a\":1]", "expected ',' or '}'", 6},
		{"[[1]}", "expected ',' or ']'", 4},
		{"]", "unexpected character", 0},
		{"}", "unexpected character", 0},
		{",", "unexpected character", 0},
		{":", "unexpected character", 0},
		{"[", "unexpected end of input", 1},
		{"{", "unexpected end of input", 1},
		{"[1", "unexpected end of input", 2},
		{"[1,", "unexpected end of input", 3},
		{"{\"a\"", "unexpected end of input", 4},
		{"{\"a\":", "unexpected end of input", 5},
		{"{\"a\":1", "unexpected end of input", 6},
		{"01", "invalid number", 1},
		{"00", "invalid number", 1},
		{"-01", "invalid number", 2},
		{"[01]", "invalid number", 2},
		{"[01.5]", "invalid number", 2},
		{"-", "unexpected end of input", 1},
		{"[-]", "invalid number", 2},
		{"-a", "invalid number", 1},
		{"- 1", "invalid number", 1},
		{"[--1]", "invalid number", 2},
		{"1.", "unexpected end of input", 2},
		{"[1.]", "invalid number", 3},
		{"[2.e1]", "invalid number", 3},
		{"1.e5", "invalid number", 2},
		{".5", "unexpected character", 0},
		{"[.]", "unexpected character", 1},
		{"1e", "unexpected end of input", 2},
		{"1e+", "unexpected end of input", 3},
		{"[1e]", "invalid number", 3},
		{"[1E]", "invalid number", 3},
		{"[1e+]", "invalid number", 4},
		{"[1e-x]", "invalid number", 4},
		{"+1", "unexpected character", 0},
		{"1ee5", "invalid number", 2},
		{"1.5.3", "invalid number", 3},
		{"0x10", "invalid number", 1},
		{"1e5.5", "invalid number", 3},
		{"[1-2]", "invalid number", 2},
		{"[1+2]", "invalid number", 2},
		{"NaN", "unexpected character", 0},
		{"Infinity", "unexpected character", 0},
		{"-Infinity", "invalid number", 1},
		{"[Infinity]", "unexpected character", 1},
		{"[-Infinity]", "invalid number", 2},
		{"[nan]", "invalid literal", 2},
		{"[undefined]", "unexpected character", 1},
		{"tru", "unexpected end of input", 3},
		{"nul", "unexpected end of input", 3},
		{"fals", "unexpected end of input", 4},
		{"t", "unexpected end of input", 1},
		{"trux", "invalid literal", 3},
		{"truex", "invalid literal", 4},
		{"nulll", "invalid literal", 4},
		{"True", "unexpected character", 0},
		{"NULL", "unexpected character", 0},
		{"\"a\x01b\"", "control character in string", 2},
		{"\"\x1f\"", "control character in string", 1},
		{"\"\t\"", "control character in string", 1},
		{"\"a\nb\"", "control character in string", 2},
		{"[\"0123456789abcdefghij\rxyz\"]", "control character in string", 22},
		{"\"\\x\"", "invalid escape", 1},
		{"\"\\u12\"", "invalid escape", 1},
		{"\"\\u12G4\"", "invalid escape", 1},
		{"\"\\U1234\"", "invalid escape", 1},
		{"\"\\'\"", "invalid escape", 1},
		{"\"\\a\"", "invalid escape", 1},
		{"\"\\0\"", "invalid escape", 1},
		{"\"\\ \"", "invalid escape", 1},
		{"\"\\ud83d\\u\"", "invalid escape", 7},
		{"\"ok\\uD83D\\uDE0G\"", "invalid escape", 9},
		{"\"abc", "unterminated string", 0},
		{"\"", "unterminated string", 0},
		{"\"abc\\\"", "unterminated string", 0},
		{"\"abc\\", "unterminated string", 0},
		{"\"\\u00", "unterminated string", 0},
		{"\"\\u", "unterminated string", 0},
		{"[\"a]", "unterminated string", 1},
		{"{\"a:1}", "unterminated string", 1},
		{"1 2", "trailing characters after the value", 2},
		{"[] x", "trailing characters after the value", 3},
		{"{}}", "trailing characters after the value", 2},
		{"[1]]", "trailing characters after the value", 3},
		{"\"a\"\"b\"", "trailing characters after the value", 3},
		{"\xEF\xBB\xBF[]", "unexpected character", 0},
		{"// c\n[]", "unexpected character", 0},
		{"[/* */]", "unexpected character", 1},
		{"\f[]", "unexpected character", 0},
		{"\v[]", "unexpected character", 0},
		{"['a']", "unexpected character", 1},
	};
	int			i;

	for (i = 0; i < lengthof(cases); i++)
	{
		JsonScanner s;
		JsonSpan	v = NO_SPAN;
		bool		ok = ParseLen(cases[i].doc, strlen(cases[i].doc), &s, &v);

		CHECKF(!ok, "invalid document accepted: %s", cases[i].doc);
		if (ok)
			continue;
		CHECKF(s.error != NULL && strcmp(s.error, cases[i].msg) == 0,
			   "%s: got error \"%s\", want \"%s\"", cases[i].doc,
			   s.error ? s.error : "(null)", cases[i].msg);
		CHECKF(s.error_pos == (size_t) cases[i].pos, "%s: error_pos %zu, want %d",
			   cases[i].doc, s.error_pos, cases[i].pos);
		CHECK(!s.too_deep);
		/* PostgreSQL agrees that these are not JSON */
		CHECKF(!PgValid(cases[i].doc, strlen(cases[i].doc), false),
			   "PostgreSQL accepts %s", cases[i].doc);

		/*
		 * Bytes after the error do not change it, and with enough of them
		 * the scanner's inline paths (which need 17 bytes) see the case:
		 * the short documents above take only the long ways.
		 */
		if (strcmp(cases[i].msg, "unexpected end of input") != 0 &&
			strcmp(cases[i].msg, "unterminated string") != 0)
		{
			static const char *const pads[] = {"                                ",
			"\v\v\v\v\v\v\v\v\v\v\v\v\v\v\v\v\v\v\v\v"};
			int			k;

			for (k = 0; k < lengthof(pads); k++)
			{
				char		padded[128];
				int			n = snprintf(padded, sizeof(padded), "%s%s", cases[i].doc, pads[k]);

				ok = ParseLen(padded, n, &s, &v);
				CHECKF(!ok && strcmp(s.error, cases[i].msg) == 0 &&
					   s.error_pos == (size_t) cases[i].pos,
					   "%s + padding %d: error \"%s\" at %zu", cases[i].doc, k,
					   ok ? "(none)" : s.error, s.error_pos);
			}
		}
	}

	/* NUL bytes (need explicit lengths) */
	{
		JsonScanner s;
		JsonSpan	v = NO_SPAN;

		CHECK(!ParseLen("\0", 1, &s, &v) && s.error_pos == 0);
		CHECK(!ParseLen("[\"a\0b\"]", 7, &s, &v) && s.error_pos == 3 &&
			  strcmp(s.error, "control character in string") == 0);
		CHECK(!ParseLen("[1]\0", 4, &s, &v) && s.error_pos == 3);
		CHECK(!ParseLen("nu\0l", 4, &s, &v) && s.error_pos == 2);
	}
	ArenaReset();
}

/*
 * Scans doc followed by pad spaces: the verdict, and for an invalid doc the
 * error and its byte, must not depend on the padding (which decides whether
 * the inline paths run). want_pos < 0: the doc must be valid.
 */
static void
ExpectPadded(const char *doc, const char *msg, int want_pos)
{
	static const int pads[] = {0, 1, 15, 16, 17, 40};
	int			k;

	for (k = 0; k < lengthof(pads); k++)
	{
		char		buf[512];
		size_t		len = strlen(doc);
		JsonScanner s;
		JsonSpan	v = NO_SPAN;
		bool		ok;

		if (len + pads[k] > sizeof(buf))
			abort();
		memcpy(buf, doc, len);
		memset(buf + len, ' ', pads[k]);
		ok = ParseLen(buf, len + pads[k], &s, &v);
		if (want_pos < 0)
			CHECKF(ok, "%s + %d spaces: %s at %zu", doc, pads[k], s.error, s.error_pos);
		else
			CHECKF(!ok && strcmp(s.error, msg) == 0 && s.error_pos == (size_t) want_pos,
				   "%s + %d spaces: \"%s\" at %zu, want \"%s\" at %d", doc, pads[k],
				   ok ? "(valid)" : s.error, s.error_pos, msg, want_pos);
		/* PostgreSQL agrees on the verdict */
		CHECKF(PgValid(buf, len + pads[k], false) == ok, "PostgreSQL disagrees on %s", doc);
		OutlineCheck(buf, len + pads[k], 4, 1000);
		ArenaReset();
	}
}

/*
 * The inline paths of JsonScanValue for compact JSON: short integers,
 * short strings and keys, a key's colon, and whitespace skipped only where
 * it is met. Each case at and around the 17 bytes they need.
 */
static void
TestFastPaths(void)
{
	static const char *const long_key = "\"kkkkkkkkkkkkkkkkkkkkkkkk\"";
	static const struct
	{
		const char *doc;
		const char *msg;
		int			pos;
	}			cases[] = {
		/* a key's colon, and whitespace around it */
		{"{\"key\":1,\"other\":[2,3]}", NULL, -1},
		{"{ \"key\" : 1 , \"other\" : [ 2 , 3 ] }", NULL, -1},
		{"{\n\t\"key\"\r\n:\t1\n,\n\"other\":{}}", NULL, -1},
		{"{\"key\"1}", "expected ':' after object key", 6},
		{"{\"key\" 1}", "expected ':' after object key", 7},
		{"{\"key\"}", "expected ':' after object key", 6},
		{"{\"key\",\"x\":1}", "expected ':' after object key", 6},
		{"{\"key\"\v:1}", "expected ':' after object key", 6},
		{"{\"key\":\v1}", "unexpected character", 7},
		{"{\"key\": \v1}", "unexpected character", 8},
		{"{\"key\":,\"x\":1}", "unexpected character", 7},
		{"{\"key\"::1}", "unexpected character", 7},
		/* after a comma: a key, or whitespace and then one */
		{"{\"a\":1,}", "object key must be a string", 7},
		{"{\"a\":1, }", "object key must be a string", 8},
		{"{\"a\":1,\v\"b\":2}", "object key must be a string", 7},
		{"{\"a\":1, \v\"b\":2}", "object key must be a string", 8},
		{"{\"a\":1,1:2}", "object key must be a string", 7},
		{"{\v\"a\":1}", "object key must be a string", 1},
		{"[1,]", "unexpected character", 3},
		{"[1, ]", "unexpected character", 4},
		{"[1,\v2]", "unexpected character", 3},
		{"[1 ,2 , 3]", NULL, -1},
		{"[1 2]", "expected ',' or ']'", 3},
		{"[1 \v]", "expected ',' or ']'", 3},
		{"[1\v]", "expected ',' or ']'", 2},
		{"{\"a\":1 \v}", "expected ',' or '}'", 7},
		{"[[1] ]", NULL, -1},
		{"[[1] }", "expected ',' or ']'", 5},
		{"[ ]", NULL, -1},
		{"{ }", NULL, -1},
		{"[ \v]", "unexpected character", 2},
		/* integers: what ends them, leading zeros, signs, fractions, exponents */
		{"[0,1,22,333,4444]", NULL, -1},
		{"[0]", NULL, -1},
		{"{\"a\":0}", NULL, -1},
		{"[[7],[-7],[70]]", NULL, -1},
		{"[01]", "invalid number", 2},
		{"[00,1]", "invalid number", 2},
		{"[-01]", "invalid number", 3},
		{"{\"a\":012}", "invalid number", 6},
		{"[-]", "invalid number", 2},
		{"[-,1]", "invalid number", 2},
		{"[-0,-1,-12]", NULL, -1},
		{"[1.5,0.25,10e3,1E+2,2e-7]", NULL, -1},
		{"[1.,2]", "invalid number", 3},
		{"[1.e3]", "invalid number", 3},
		{"[12e,1]", "invalid number", 4},
		{"[12e+]", "invalid number", 5},
		{"[12x,1]", "invalid number", 3},
		{"[12a]", "invalid number", 3},
		{"[12-3]", "invalid number", 3},
		{"[12 ,3]", NULL, -1},
		{"[12\v,3]", "expected ',' or ']'", 3},
		{"[12\"a\"]", "expected ',' or ']'", 3},
		{"[12:3]", "expected ',' or ']'", 3},
		{"{\"a\":12]", "expected ',' or '}'", 7},
		{"[1234567890123456,1]", NULL, -1},
		{"[12345678901234567,1]", NULL, -1},
		{"[123456789012345678901234567890]", NULL, -1},
		{"[0123456789012345]", "invalid number", 2},
		{"[1234567890123456x]", "invalid number", 17},
		{"[1234567890123456.]", "invalid number", 18},
		/* short strings and keys: what stops the inline path */
		{"[\"abc\",\"\",\"0123456789abcde\",\"0123456789abcdef\"]", NULL, -1},
		{"{\"\":\"\",\"0123456789abcde\":\"x\"}", NULL, -1},
		{"[\"caf\xc3\xa9\",\"\x7f\"]", NULL, -1},
		{"{\"caf\xc3\xa9\":1}", NULL, -1},
		{"[\"a\\\"b\",\"a\\\\\"]", NULL, -1},
		{"{\"a\\\"b\":1,\"\\u0041\":2}", NULL, -1},
		{"[\"a\x1f\"]", "control character in string", 3},
		{"{\"a\x01\":1}", "control character in string", 3},
		{"{\"a\" :\"b\x1f\"}", "control character in string", 8},
		{"[\"ab\\x\"]", "invalid escape", 4},
	};
	int			i;

	for (i = 0; i < lengthof(cases); i++)
		ExpectPadded(cases[i].doc, cases[i].msg, cases[i].pos);

	/* keys longer than the inline path, with and without their colon */
	{
		char		doc[128];

		snprintf(doc, sizeof(doc), "{%s:1,%s:2}", long_key, long_key);
		ExpectPadded(doc, NULL, -1);
		snprintf(doc, sizeof(doc), "{%s:1,%s 2}", long_key, long_key);
		ExpectPadded(doc, "expected ':' after object key", (int) (2 * strlen(long_key) + 5));
		snprintf(doc, sizeof(doc), "{%s}", long_key);
		ExpectPadded(doc, "expected ':' after object key", (int) strlen(long_key) + 1);
	}

	/* truncated right after a comma, a colon, a key, a bracket (nothing may follow) */
	{
		static const char *const cuts[] = {
			"{\"a\":1,", "{\"a\":1, ", "[1,", "[1,\n", "{\"a\":", "{\"a\": ",
			"{\"a\"", "{\"a\" ", "[", "[ ", "{", "[\"0123456789abcdef0123\",",
			"{\"0123456789abcdef0123\":\"0123456789abcdef0123\",",
			"{\"0123456789abcdef0123\":1234567890123456789,",
		};

		for (i = 0; i < lengthof(cuts); i++)
		{
			JsonScanner s;
			JsonSpan	v = NO_SPAN;
			bool		ok = ParseLen(cuts[i], strlen(cuts[i]), &s, &v);

			CHECKF(!ok && strcmp(s.error, "unexpected end of input") == 0 &&
				   s.error_pos == strlen(cuts[i]), "truncated %s: %s at %zu", cuts[i],
				   ok ? "(valid)" : s.error, s.error_pos);
			ArenaReset();
		}
	}

	/* every integer length, around the vector width and the end of the input */
	{
		int			k;
		int			pad;

		for (k = 1; k <= 40; k++)
		{
			char		digits[64];
			char		doc[256];

			for (i = 0; i < k; i++)
				digits[i] = '1' + i % 9;
			digits[k] = '\0';
			for (pad = 0; pad <= 20; pad += 4)
			{
				snprintf(doc, sizeof(doc), "[%s]%*s", digits, pad, "");
				ExpectPadded(doc, NULL, -1);
				snprintf(doc, sizeof(doc), "{\"a\":[%s,-%s],\"b\":%s}%*s", digits, digits, digits, pad, "");
				ExpectPadded(doc, NULL, -1);
				snprintf(doc, sizeof(doc), "[0%s]%*s", digits, pad, "");
				ExpectPadded(doc, "invalid number", 2);
				snprintf(doc, sizeof(doc), "[%sx]%*s", digits, pad, "");
				ExpectPadded(doc, "invalid number", 1 + k);
				snprintf(doc, sizeof(doc), "[%s.]%*s", digits, pad, "");
				ExpectPadded(doc, "invalid number", 2 + k);
				snprintf(doc, sizeof(doc), "[%s\v]%*s", digits, pad, "");
				ExpectPadded(doc, "expected ',' or ']'", 1 + k);
			}
		}
	}

	/*
	 * A byte that is not JSON whitespace put anywhere in a compact document
	 * without escapes is an error at that very byte, whatever state meets
	 * it; JSON whitespace put anywhere leaves it as valid as PostgreSQL
	 * says it is.
	 */
	{
		static const char compact[] =
			"{\"type\":3,\"data\":{\"source\":1,\"positions\":[{\"x\":493,\"y\":-12,"
			"\"id\":5,\"timeOffset\":-20.5e2}],\"texts\":[\"caf\xc3\xa9 0123456789abcdef\"],"
			"\"ok\":true,\"no\":false,\"none\":null,\"e\":{},\"a\":[]},\"timestamp\":1764547309400}";
		size_t		len = strlen(compact);
		size_t		at;

		for (at = 0; at <= len; at++)
		{
			static const char ws[] = " \t\n\r";
			char		buf[sizeof(compact) + 1];
			JsonScanner s;
			JsonSpan	v = NO_SPAN;
			bool		ok;
			int			k;

			memcpy(buf, compact, at);
			memcpy(buf + at + 1, compact + at, len - at);
			buf[at] = '\v';
			ok = ParseLen(buf, len + 1, &s, &v);
			CHECKF(!ok && s.error_pos == at, "\\v at %zu: %s at %zu", at,
				   ok ? "(valid)" : s.error, s.error_pos);
			for (k = 0; k < 4; k++)
			{
				buf[at] = ws[k];
				ok = ParseLen(buf, len + 1, &s, &v);
				CHECKF(ok == PgValid(buf, len + 1, false), "whitespace %d at %zu: %s",
					   k, at, ok ? "(valid)" : s.error);
				OutlineCheck(buf, len + 1, 4, 1000);
			}
			ArenaReset();
		}
	}
}

/* Strings of every length around the vector width, with a special byte at every offset. */
static void
TestStringBoundaries(void)
{
	char		doc[200];
	int			len;
	int			at;

	for (len = 0; len <= 70; len++)
	{
		for (at = -1; at < len; at++)
		{
			static const char specials[] = {'\x01', '\x1f', '\t', '"', '\\', '\x7f', ' ', '\x80'};
			int			k;

			for (k = 0; k < lengthof(specials); k++)
			{
				JsonScanner s;
				JsonSpan	v = NO_SPAN;
				bool		ok;
				char		c = specials[k];
				int			n = 0;

				doc[n++] = '"';
				memset(doc + n, 'a', len);
				if (at >= 0)
					doc[n + at] = c;
				n += len;
				doc[n++] = '"';
				ok = ParseLen(doc, n, &s, &v);
				if (at < 0 || c == '\x7f' || c == ' ' || c == '\x80')
					CHECKF(ok && v.len == (size_t) n && !v.has_escapes,
						   "plain string of %d bytes", len);
				else if ((unsigned char) c < 0x20)
					CHECKF(!ok && s.error_pos == (size_t) (1 + at) &&
						   strcmp(s.error, "control character in string") == 0,
						   "control byte at %d of %d: pos %zu", at, len, s.error_pos);
				else if (c == '"')
					CHECKF(!ok && s.error_pos == (size_t) (2 + at),
						   "early quote at %d of %d: pos %zu", at, len, s.error_pos);
				else
				{
					/* a lone backslash escapes the next byte: 'a' or the closing quote */
					CHECKF(!ok && (strcmp(s.error, "invalid escape") == 0 ||
								   strcmp(s.error, "unterminated string") == 0),
						   "backslash at %d of %d", at, len);
					/* a proper escape there is fine */
					memmove(doc + 2 + at + 1, doc + 1 + at + 1, n - (1 + at + 1));
					doc[1 + at + 1] = 'n';
					ok = ParseLen(doc, n + 1, &s, &v);
					CHECKF(ok && v.has_escapes && v.len == (size_t) n + 1,
						   "escape at %d of %d", at, len);
				}
				ArenaReset();
			}
		}
	}

	/* escaped quotes and backslashes around the vector boundaries, and the iterator on them */
	for (len = 0; len <= 40; len++)
	{
		StringInfoData d;
		JsonSpan	v = NO_SPAN;
		JsonSpan	e = NO_SPAN;
		JsonIter	it;
		int			i;

		initStringInfo(&d);
		appendStringInfoString(&d, "[\"");
		for (i = 0; i < len; i++)
			appendStringInfoChar(&d, 'b');
		appendStringInfoString(&d, "\\\\\\\"\\\\\",\"");
		for (i = 0; i < len; i++)
			appendStringInfoString(&d, "\\\\");
		appendStringInfoString(&d, "\"]");
		CHECKF(Parse(d.data, &v), "%s", d.data);
		JsonIterInit(&it, &v);
		CHECK(JsonIterNext(&it, NULL, &e) && e.len == (size_t) len + 8 && e.has_escapes);
		CHECK(JsonIterNext(&it, NULL, &e) && e.len == (size_t) 2 * len + 2 &&
			  e.has_escapes == (len > 0));
		CHECK(!JsonIterNext(&it, NULL, &e));
		pfree(d.data);
		ArenaReset();
	}
}

/*
 * The trusted skip handles 16-byte blocks whole; shift strings holding
 * brackets, quotes and backslashes across every block boundary and check
 * that the iterator still finds the same members as the validator.
 */
static void
TestSkipBlocks(void)
{
	static const char *inner[] = {
		"\"]]]}}}\"", "\"[{\\\"]}\"", "\"\\\\\"", "\"\\\\]\"", "\"a\\\"b]\"",
		"[\"]\",[\"[\"]]", "{\"}\":{\"{\":\"]\"}}", "\"\\u005d\\\\\\\"]\"",
		"[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]", "\"0123456789abcdef]\"",
	};
	int			pad;
	int			i;
	int			j;

	for (pad = 0; pad < 40; pad++)
	{
		for (i = 0; i < lengthof(inner); i++)
		{
			StringInfoData d;
			JsonSpan	v = NO_SPAN;
			JsonSpan	e = NO_SPAN;
			JsonIter	it;
			int			n = 0;

			/* [ pad x's in a string, the tricky value three times, a closing number ] */
			initStringInfo(&d);
			appendStringInfoString(&d, "[[\"");
			for (j = 0; j < pad; j++)
				appendStringInfoChar(&d, 'x');
			appendStringInfoString(&d, "\",");
			for (j = 0; j < 3; j++)
			{
				appendStringInfoString(&d, inner[i]);
				appendStringInfoChar(&d, ',');
			}
			appendStringInfoString(&d, "7],8]");
			CHECKF(Parse(d.data, &v), "%s", d.data);
			JsonIterInit(&it, &v);
			CHECK(JsonIterNext(&it, NULL, &e) && e.kind == JSON_KIND_ARRAY &&
				  e.len == (size_t) d.len - 4);
			CHECK(JsonIterNext(&it, NULL, &e) && SpanIs(&e, "8"));
			CHECK(!JsonIterNext(&it, NULL, &e));
			JsonIterInit(&it, &v);
			(void) JsonIterNext(&it, NULL, &e);
			JsonIterInit(&it, &e);
			while (JsonIterNext(&it, NULL, &e))
			{
				if (n >= 1 && n <= 3)
					CHECKF(SpanIs(&e, inner[i]), "pad %d: %.*s", pad, (int) e.len, e.start);
				n++;
			}
			CHECK(n == 5);
			WalkCheck(&v, 0);
			pfree(d.data);
			ArenaReset();
		}
	}
}

/* Builds n nested levels: arrays, or objects {"a": ...}, around a 0. */
static char *
Nest(int n, bool objects, bool closed, size_t *lenp)
{
	StringInfoData d;
	int			i;

	initStringInfo(&d);
	for (i = 0; i < n; i++)
		appendStringInfoString(&d, objects ? "{\"a\":" : "[");
	appendStringInfoChar(&d, '0');
	if (closed)
		for (i = 0; i < n; i++)
			appendStringInfoChar(&d, objects ? '}' : ']');
	*lenp = d.len;
	return d.data;
}

/* Nesting: no stack is used, the limit is exact, and the bit stack is right past the inline part. */
static void
TestDepth(void)
{
	static const int levels[] = {9000, JSON_MAX_DEPTH, JSON_MAX_DEPTH + 1, 100000};
	int			i;
	int			obj;

	for (obj = 0; obj <= 1; obj++)
	{
		for (i = 0; i < lengthof(levels); i++)
		{
			size_t		len;
			char	   *doc = Nest(levels[i], obj, true, &len);
			JsonScanner s;
			JsonSpan	v = NO_SPAN;
			bool		ok = ParseLen(doc, len, &s, &v);

			if (levels[i] <= JSON_MAX_DEPTH)
				CHECKF(ok && v.len == len, "%d levels must pass", levels[i]);
			else
			{
				CHECKF(!ok && s.too_deep && strcmp(s.error, "nesting too deep") == 0,
					   "%d levels must fail as too deep", levels[i]);
				/* the first bracket past the limit */
				CHECK(s.error_pos == (size_t) JSON_MAX_DEPTH * (obj ? 5 : 1));
			}
			pfree(doc);

			/* unclosed */
			doc = Nest(levels[i], obj, false, &len);
			ok = ParseLen(doc, len, &s, &v);
			CHECK(!ok);
			CHECK(s.too_deep == (levels[i] > JSON_MAX_DEPTH));
			if (levels[i] <= JSON_MAX_DEPTH)
				CHECK(strcmp(s.error, "unexpected end of input") == 0 && s.error_pos == len);
			pfree(doc);
			ArenaReset();
		}
	}

	/* too_deep is reset by the next call */
	{
		size_t		len;
		char	   *doc = Nest(100000, false, true, &len);
		char	   *b = Keep(doc, len);
		JsonScanner s;
		JsonSpan	v = NO_SPAN;

		JsonScanInit(&s, b, len);
		CHECK(!JsonScanValue(&s, &v) && s.too_deep);
		s.pos = 100000 - 3;		/* at "[0]]]": a shallow value */
		CHECK(JsonScanValue(&s, &v) && !s.too_deep && s.error == NULL && SpanIs(&v, "[[[0]]]"));
		pfree(doc);
	}

	/* the trusted walk goes down a 9000-level mixed nest without recursion */
	{
		StringInfoData d;
		JsonSpan	v = NO_SPAN;
		JsonSpan	cur = NO_SPAN;
		int			n = 0;

		initStringInfo(&d);
		for (i = 0; i < 4500; i++)
			appendStringInfoString(&d, "[ {\"k\" : ");
		appendStringInfoString(&d, "\"bottom\"");
		for (i = 0; i < 4500; i++)
			appendStringInfoString(&d, "} ,1]");
		CHECK(Parse(d.data, &v));
		cur = v;
		for (;;)
		{
			JsonIter	it;
			JsonSpan	first = NO_SPAN;

			if (cur.kind == JSON_KIND_OBJECT)
			{
				CHECK(JsonObjectGet(&cur, "k", &first));
				n++;
			}
			else if (cur.kind == JSON_KIND_ARRAY)
			{
				JsonSpan	second = NO_SPAN;

				JsonIterInit(&it, &cur);
				CHECK(JsonIterNext(&it, NULL, &first));
				CHECK(JsonIterNext(&it, NULL, &second) && SpanIs(&second, "1"));
				CHECK(!JsonIterNext(&it, NULL, &second));
				n++;
			}
			else
				break;
			cur = first;
		}
		CHECK(n == 9000);
		CHECK(JsonStringEquals(&cur, "bottom"));
		pfree(d.data);
	}

	/*
	 * Random mixes of objects and arrays 2000 deep (past the 512 inline
	 * levels): valid as built, and a wrong closing bracket at any level is
	 * found where it is.
	 */
	{
		uint32		seed = 12345;
		int			round;

		for (round = 0; round < 40; round++)
		{
			int			depth = 2000;
			bool	   *isobj = malloc(depth * sizeof(bool));
			StringInfoData d;
			JsonScanner s;
			JsonSpan	v = NO_SPAN;
			int			bad;
			int			closepos;

			initStringInfo(&d);
			for (i = 0; i < depth; i++)
			{
				seed = seed * 1103515245 + 12345;
				isobj[i] = (seed >> 16) & 1;
				appendStringInfoString(&d, isobj[i] ? "{\"x\":" : "[");
			}
			appendStringInfoString(&d, "null");
			closepos = d.len;
			for (i = depth - 1; i >= 0; i--)
				appendStringInfoChar(&d, isobj[i] ? '}' : ']');
			CHECK(ParseLen(d.data, d.len, &s, &v));

			seed = seed * 1103515245 + 12345;
			bad = (seed >> 8) % depth;	/* index from the innermost level */
			d.data[closepos + bad] = (d.data[closepos + bad] == '}') ? ']' : '}';
			CHECKF(!ParseLen(d.data, d.len, &s, &v) && !s.too_deep &&
				   s.error_pos == (size_t) (closepos + bad),
				   "wrong bracket %d: pos %zu", bad, s.error_pos);
			free(isobj);
			pfree(d.data);
			ArenaReset();
		}
	}
	ArenaReset();
}

/* A realistic rrweb event with every kind of value, escapes and whitespace. */
static const char rrweb_event[] =
"{\"type\":3,\"data\":{\"source\":0,\"texts\":[{\"id\":42,\"value\":"
"\"Hello \\\"world\\\" \\u00e9\\ud83d\\ude00 \\ud83d tab\\tnew\\nline \\\\u0000 \\u0000 \xc3\xa9\"}],"
"\"attributes\":[{\"id\":7,\"attributes\":{\"class\":\"btn btn-primary\",\"style\":{\"color\":\"red\",\"--x\":null}}}],"
"\"removes\":[{\"parentId\":3,\"id\":9}],"
"\"adds\":[{\"parentId\":1,\"nextId\":null,\"node\":{\"type\":2,\"tagName\":\"div\","
"\"attributes\":{\"data-x\":\"1e5\",\"title\":\"a/b\\/c [x] {y}\"},\"childNodes\":[],\"id\":10,\"isSVG\":false}}]},"
"\"timestamp\":1700000000123.5, \"x\" : [ -0.5e-3 , 0 , true , false , null , { } , [ ] , \"\" ] }";

/* Every truncation of a real event fails without reading past the cut; mutations never crash. */
static void
TestTruncationAndMutation(void)
{
	size_t		len = strlen(rrweb_event);
	size_t		cut;
	size_t		i;
	JsonScanner s;
	JsonSpan	v = NO_SPAN;

	CHECK(ParseLen(rrweb_event, len, &s, &v) && v.kind == JSON_KIND_OBJECT);
	WalkCheck(&v, 0);
	ArenaReset();

	for (cut = 0; cut < len; cut++)
	{
		bool		ok = ParseLen(rrweb_event, cut, &s, &v);

		CHECKF(!ok && s.error != NULL && s.error_pos <= cut,
			   "prefix of %zu bytes: ok=%d pos=%zu", cut, ok, s.error_pos);
		ArenaReset();
	}

	for (i = 0; i < len; i++)
	{
		static const char subst[] = "\"\\{}[],: 0x-.e\x01\x00";
		size_t		k;
		char	   *buf = malloc(len);

		/* every byte replaced by every hostile byte */
		for (k = 0; k < sizeof(subst); k++)
		{
			memcpy(buf, rrweb_event, len);
			buf[i] = subst[k];
			if (ParseLen(buf, len, &s, &v))
				WalkCheck(&v, 0);
			ArenaReset();
		}
		/* every byte deleted */
		memcpy(buf, rrweb_event, i);
		memcpy(buf + i, rrweb_event + i + 1, len - i - 1);
		if (ParseLen(buf, len - 1, &s, &v))
			WalkCheck(&v, 0);
		ArenaReset();
		free(buf);
	}
}

/* Iteration over arrays and objects: kinds, exact spans, empties, whitespace, NULL outputs. */
static void
TestIter(void)
{
	JsonSpan	v = NO_SPAN;
	JsonSpan	k = NO_SPAN;
	JsonSpan	e = NO_SPAN;
	JsonIter	it;

	CHECK(Parse("[]", &v));
	JsonIterInit(&it, &v);
	CHECK(!JsonIterNext(&it, &k, &e));
	CHECK(!JsonIterNext(&it, &k, &e));
	CHECK(it.done);

	CHECK(Parse("{ \n }", &v));
	JsonIterInit(&it, &v);
	CHECK(!JsonIterNext(&it, &k, &e));

	CHECK(Parse(" [ 1 , \"two\" , [ ] , { } , true , false , null , -1.5e3 , \"\\\"]\" ] ", &v));
	{
		static const char *texts[] = {"1", "\"two\"", "[ ]", "{ }", "true", "false", "null", "-1.5e3", "\"\\\"]\""};
		static const JsonKind kinds[] = {JSON_KIND_NUMBER, JSON_KIND_STRING, JSON_KIND_ARRAY,
			JSON_KIND_OBJECT, JSON_KIND_TRUE, JSON_KIND_FALSE, JSON_KIND_NULL, JSON_KIND_NUMBER,
		JSON_KIND_STRING};
		int			n = 0;

		JsonIterInit(&it, &v);
		while (JsonIterNext(&it, &k, &e))
		{
			CHECK(n < lengthof(texts));
			if (n >= lengthof(texts))
				break;
			CHECKF(SpanIs(&e, texts[n]) && e.kind == kinds[n], "element %d: %.*s", n, (int) e.len, e.start);
			CHECK(k.kind == JSON_KIND_NONE && k.start == NULL);
			n++;
		}
		CHECK(n == lengthof(texts));
	}

	CHECK(Parse("{\r\n\t\"a\" : 1 ,\"b\":[ 2 , 3 ] , \"c\\\"d\" : { \"x\" : \"}\" } , \"e\":\"\\\\\"}", &v));
	{
		static const char *keys[] = {"a", "b", "c\"d", "e"};
		static const char *vals[] = {"1", "[ 2 , 3 ]", "{ \"x\" : \"}\" }", "\"\\\\\""};
		int			n = 0;

		JsonIterInit(&it, &v);
		while (JsonIterNext(&it, &k, &e))
		{
			CHECK(n < lengthof(keys));
			if (n >= lengthof(keys))
				break;
			CHECKF(k.kind == JSON_KIND_STRING && JsonStringEquals(&k, keys[n]), "key %d", n);
			CHECKF(SpanIs(&e, vals[n]), "value %d: %.*s", n, (int) e.len, e.start);
			n++;
		}
		CHECK(n == 4);
	}

	/* key and value outputs may be NULL */
	CHECK(Parse("{\"a\":1,\"b\":2}", &v));
	{
		int			n = 0;

		JsonIterInit(&it, &v);
		while (JsonIterNext(&it, NULL, NULL))
			n++;
		CHECK(n == 2);
	}

	/* strings with brackets and escaped quotes inside nested containers */
	CHECK(Parse("[{\"a\":\"]}\"},[[\"[\"]],\"x\\\\\",\"\\\\\\\"\"]", &v));
	{
		int			n = 0;

		JsonIterInit(&it, &v);
		while (JsonIterNext(&it, &k, &e))
			n++;
		CHECK(n == 4);
		JsonIterInit(&it, &v);
		CHECK(JsonIterNext(&it, &k, &e) && SpanIs(&e, "{\"a\":\"]}\"}"));
		CHECK(JsonIterNext(&it, &k, &e) && SpanIs(&e, "[[\"[\"]]"));
		CHECK(JsonIterNext(&it, &k, &e) && SpanIs(&e, "\"x\\\\\"") && e.has_escapes);
		CHECK(JsonIterNext(&it, &k, &e) && SpanIs(&e, "\"\\\\\\\"\"") && e.has_escapes);
	}

	/* has_escapes from the trusted skip */
	CHECK(Parse("[\"ab\",\"a\\nb\",\"\",\"\\\\\"]", &v));
	{
		static const bool esc[] = {false, true, false, true};
		int			n = 0;

		JsonIterInit(&it, &v);
		while (JsonIterNext(&it, NULL, &e) && n < 4)
		{
			CHECK(e.kind == JSON_KIND_STRING && e.has_escapes == esc[n]);
			n++;
		}
		CHECK(n == 4);
	}

	/* scalars and empty spans iterate nothing */
	CHECK(Parse("\"str\"", &v));
	JsonIterInit(&it, &v);
	CHECK(it.done && !JsonIterNext(&it, &k, &e));
	{
		JsonSpan	none = {NULL, 0, JSON_KIND_ARRAY, false, NULL};

		JsonIterInit(&it, &none);
		CHECK(!JsonIterNext(&it, &k, &e));
	}

	/*
	 * Never-validated garbage must still terminate inside the span: the
	 * trusted walk gives meaningless answers but stays in bounds.
	 */
	{
		static const char *junk[] = {"[\x01\x02\x03]", "{\"a\"}", "{\"a\":}", "[\"abc]", "{:::}", "[,,,,]",
		"[{{{{]", "{\"a", "[tru]", "[\\\\\\]", "{\"k\":\"v\",}", "[-]"};
		int			j;

		for (j = 0; j < lengthof(junk); j++)
		{
			size_t		len = strlen(junk[j]);
			char	   *b = Keep(junk[j], len);
			JsonSpan	c = {b, len, junk[j][0] == '{' ? JSON_KIND_OBJECT : JSON_KIND_ARRAY, false, NULL};
			int			n = 0;

			JsonIterInit(&it, &c);
			while (JsonIterNext(&it, &k, &e))
			{
				CHECK(e.start >= b && e.start + e.len <= b + len);
				if (++n > 100)
					break;
			}
			CHECK(n <= (int) len);
			(void) JsonObjectGet(&c, "a", &e);
		}
	}
	ArenaReset();
}

/* JsonObjectGet: last duplicate wins, escaped keys match, misses leave *value alone. */
static void
TestObjectGet(void)
{
	JsonSpan	v = NO_SPAN;
	JsonSpan	r = NO_SPAN;
	JsonSpan	data = NO_SPAN;

	CHECK(Parse("{\"a\":1,\"b\":2,\"a\":3}", &v));
	CHECK(JsonObjectGet(&v, "a", &r) && SpanIs(&r, "3"));
	CHECK(JsonObjectGet(&v, "b", &r) && SpanIs(&r, "2"));

	CHECK(Parse("{\"t\\u0079pe\":5}", &v));
	CHECK(JsonObjectGet(&v, "type", &r) && SpanIs(&r, "5"));

	CHECK(Parse("{\"type\":1,\"t\\u0079pe\":2}", &v));
	CHECK(JsonObjectGet(&v, "type", &r) && SpanIs(&r, "2"));
	CHECK(Parse("{\"t\\u0079pe\":1,\"type\":[2]}", &v));
	CHECK(JsonObjectGet(&v, "type", &r) && SpanIs(&r, "[2]") && r.kind == JSON_KIND_ARRAY);

	CHECK(Parse("{\"a\\/b\":true,\"\\u00e9\":\"x\",\"\\ud83d\\ude00\":null}", &v));
	CHECK(JsonObjectGet(&v, "a/b", &r) && r.kind == JSON_KIND_TRUE);
	CHECK(JsonObjectGet(&v, "\xc3\xa9", &r) && SpanIs(&r, "\"x\""));
	CHECK(JsonObjectGet(&v, "\xf0\x9f\x98\x80", &r) && r.kind == JSON_KIND_NULL);

	CHECK(Parse("{\"typ\":1,\"types\":2,\"Type\":3}", &v));
	r.start = NULL;
	CHECK(!JsonObjectGet(&v, "type", &r) && r.start == NULL);

	CHECK(Parse("{\"\":1}", &v));
	CHECK(JsonObjectGet(&v, "", &r) && SpanIs(&r, "1"));
	CHECK(!JsonObjectGet(&v, "x", &r));

	CHECK(Parse("{}", &v));
	CHECK(!JsonObjectGet(&v, "a", &r));

	CHECK(Parse("[\"a\",1]", &v));
	CHECK(!JsonObjectGet(&v, "a", &r));

	/* keys are only keys: a value equal to the name is not a match */
	CHECK(Parse("{\"x\":\"a\",\"y\":{\"a\":1}}", &v));
	CHECK(!JsonObjectGet(&v, "a", &r));

	CHECK(Parse(rrweb_event, &v));
	CHECK(JsonObjectGet(&v, "type", &r) && JsonNumberValue(&r) == 3);
	CHECK(JsonObjectGet(&v, "timestamp", &r) && JsonNumberValue(&r) == 1700000000123.5);
	CHECK(JsonObjectGet(&v, "data", &data) && data.kind == JSON_KIND_OBJECT);
	CHECK(JsonObjectGet(&data, "source", &r) && SpanIs(&r, "0"));
	CHECK(!JsonObjectGet(&data, "type", &r));	/* only inside nested nodes */
	ArenaReset();
}

/* Decoding, equality, prefixes and character counts of strings. */
static void
TestStrings(void)
{
	static const struct
	{
		const char *json;
		const char *decoded;
		size_t		chars;
	}			cases[] = {
		{"\"\"", "", 0},
		{"\"abc\"", "abc", 3},
		{"\"\\u00e9\"", "\xc3\xa9", 1},
		{"\"\xc3\xa9\"", "\xc3\xa9", 1},
		{"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 1},
		{"\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", 1},
		{"\"\xf0\x9f\x98\x80\"", "\xf0\x9f\x98\x80", 1},
		{"\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", 1},
		{"\"\\ud800\\udc00\"", "\xf0\x90\x80\x80", 1},
		{"\"\\ud83d\"", "\xef\xbf\xbd", 1},
		{"\"\\ude00\"", "\xef\xbf\xbd", 1},
		{"\"\\ude00\\ud83d\"", "\xef\xbf\xbd\xef\xbf\xbd", 2},
		{"\"\\ud83d\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80", 2},
		{"\"\\ud83dx\"", "\xef\xbf\xbdx", 2},
		{"\"\\ud83d\\n\"", "\xef\xbf\xbd\n", 2},
		{"\"\\ud83d\\u0041\"", "\xef\xbf\xbd" "A", 2},
		{"\"\\u0000\"", "\xef\xbf\xbd", 1},
		{"\"a\\u0000b\"", "a\xef\xbf\xbd" "b", 3},
		{"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
		{"\"\\u0041\\u00DF\\u6C34\"", "A\xc3\x9f\xe6\xb0\xb4", 3},
		{"\"\\u20ac\"", "\xe2\x82\xac", 1},
		{"\"\\uFFFF\"", "\xef\xbf\xbf", 1},
		{"\"\\u0080\\u07ff\\u0800\"", "\xc2\x80\xdf\xbf\xe0\xa0\x80", 3},
		{"\"\\u007f\\u0001\"", "\x7f\x01", 2},
		{"\"\\\\u0000\"", "\\u0000", 6},
		{"\"\\\\\\u0000\"", "\\\xef\xbf\xbd", 2},
		{"\"caf\xc3\xa9 \\u2014 na\\u00efve \xe6\xb0\xb4\"", "caf\xc3\xa9 \xe2\x80\x94 na\xc3\xafve \xe6\xb0\xb4", 14},
	};
	int			i;

	for (i = 0; i < lengthof(cases); i++)
	{
		JsonSpan	v = NO_SPAN;
		StringInfoData d;
		size_t		dlen = strlen(cases[i].decoded);

		CHECKF(Parse(cases[i].json, &v) && v.kind == JSON_KIND_STRING, "%s", cases[i].json);
		initStringInfo(&d);
		appendStringInfoString(&d, "pre:");
		JsonStringDecode(&v, &d);
		CHECKF((size_t) d.len == 4 + dlen && memcmp(d.data, "pre:", 4) == 0 &&
			   memcmp(d.data + 4, cases[i].decoded, dlen) == 0,
			   "decode of %s gave %s", cases[i].json, d.data);
		CHECKF(JsonStringCharCount(&v) == cases[i].chars, "count of %s: %zu",
			   cases[i].json, JsonStringCharCount(&v));
		CHECKF(JsonStringEquals(&v, cases[i].decoded), "equals %s", cases[i].json);
		CHECK(JsonStringHasPrefix(&v, cases[i].decoded));
		CHECK(JsonStringHasPrefix(&v, ""));
		CHECK(!JsonStringEquals(&v, "zz"));
		pfree(d.data);
		WalkCheck(&v, 0);
	}

	{
		JsonSpan	v = NO_SPAN;
		JsonSpan	num = NO_SPAN;

		CHECK(Parse("\"t\\u0079pe\"", &v));
		CHECK(JsonStringEquals(&v, "type"));
		CHECK(!JsonStringEquals(&v, "typ"));
		CHECK(!JsonStringEquals(&v, "types"));
		CHECK(JsonStringHasPrefix(&v, "ty"));
		CHECK(!JsonStringHasPrefix(&v, "types"));

		CHECK(Parse("\"dozor:url\"", &v));
		CHECK(JsonStringHasPrefix(&v, "dozor:"));
		CHECK(!JsonStringHasPrefix(&v, "dozor:urls"));
		CHECK(JsonStringHasPrefix(&v, "dozor:url"));
		CHECK(Parse("\"\\u0064ozor\\u003aidentity\"", &v));
		CHECK(JsonStringHasPrefix(&v, "dozor:"));
		CHECK(JsonStringEquals(&v, "dozor:identity"));
		CHECK(Parse("\"doz\"", &v));
		CHECK(!JsonStringHasPrefix(&v, "dozor:"));
		CHECK(Parse("\"\"", &v));
		CHECK(JsonStringEquals(&v, ""));
		CHECK(JsonStringHasPrefix(&v, ""));
		CHECK(!JsonStringHasPrefix(&v, "a"));

		/* non-strings never match and decode to nothing */
		CHECK(Parse("123", &num));
		CHECK(!JsonStringEquals(&num, "123"));
		CHECK(!JsonStringHasPrefix(&num, ""));
		CHECK(JsonStringCharCount(&num) == 0);
		{
			StringInfoData d;

			initStringInfo(&d);
			JsonStringDecode(&num, &d);
			CHECK(d.len == 0);
			pfree(d.data);
		}

		/* a long string with escapes at both ends takes the slow and the fast path */
		{
			StringInfoData j;
			StringInfoData d;
			int			k;

			initStringInfo(&j);
			appendStringInfoString(&j, "\"\\u00e9");
			for (k = 0; k < 5000; k++)
				appendStringInfoChar(&j, 'a' + k % 26);
			appendStringInfoString(&j, "\\ud83d\\ude00\"");
			CHECK(Parse(j.data, &v));
			CHECK(JsonStringCharCount(&v) == 5002);
			initStringInfo(&d);
			JsonStringDecode(&v, &d);
			CHECK(d.len == 2 + 5000 + 4);
			CHECK(JsonStringEquals(&v, d.data));
			pfree(d.data);
			pfree(j.data);
		}
	}
	ArenaReset();
}

/* The number span as a double. */
static void
TestNumbers(void)
{
	static const struct
	{
		const char *json;
		double		value;
	}			cases[] = {
		{"0", 0.0},
		{"1", 1.0},
		{"-1", -1.0},
		{"1.5e3", 1500.0},
		{"1E-2", 0.01},
		{"-12.25", -12.25},
		{"1700000000123", 1700000000123.0},
		{"1700000000123.5", 1700000000123.5},
		{"999999999999999", 999999999999999.0},
		{"-999999999999999", -999999999999999.0},
		{"1000000000000000", 1000000000000000.0},
		{"-9007199254740993", -9007199254740992.0},
		{"9007199254740993", 9007199254740992.0},
		{"123456789012345678901234567890", 123456789012345678901234567890.0},
		{"1e-400", 0.0},
		{"0.1", 0.1},
	};
	int			i;
	JsonSpan	v = NO_SPAN;

	for (i = 0; i < lengthof(cases); i++)
	{
		CHECK(Parse(cases[i].json, &v));
		CHECKF(JsonNumberValue(&v) == cases[i].value, "%s gave %.17g", cases[i].json,
			   JsonNumberValue(&v));
	}
	CHECK(Parse("-0", &v) && JsonNumberValue(&v) == 0.0 && signbit(JsonNumberValue(&v)));
	CHECK(Parse("1e400", &v) && isinf(JsonNumberValue(&v)) && JsonNumberValue(&v) > 0);
	CHECK(Parse("-1e400", &v) && isinf(JsonNumberValue(&v)) && JsonNumberValue(&v) < 0);

	/* longer than the stack buffer: the palloc'd copy */
	{
		StringInfoData d;
		int			k;

		initStringInfo(&d);
		appendStringInfoString(&d, "1");
		for (k = 0; k < 300; k++)
			appendStringInfoChar(&d, '0');
		appendStringInfoString(&d, ".000000000000000000000000000000000000000000000000000000000000000000000000001e-300");
		CHECK(Parse(d.data, &v) && JsonNumberValue(&v) == 1.0);
		pfree(d.data);
	}
	/* a number inside a document is not followed by a NUL */
	CHECK(Parse("[12,3]", &v));
	{
		JsonIter	it;
		JsonSpan	e = NO_SPAN;

		JsonIterInit(&it, &v);
		CHECK(JsonIterNext(&it, NULL, &e) && JsonNumberValue(&e) == 12.0);
		CHECK(JsonIterNext(&it, NULL, &e) && JsonNumberValue(&e) == 3.0);
	}
	CHECK(Parse("\"1\"", &v) && isnan(JsonNumberValue(&v)));
	ArenaReset();
}

/* Does JsonNumberValue of json, alone and inside an array, give strtod's double, bit for bit? */
static void
CheckNumberLikeStrtod(const char *json)
{
	double		want = strtod(json, NULL);
	JsonSpan	v = NO_SPAN;
	char		doc[64];
	double		got;

	CHECKF(Parse(json, &v), "%s does not scan", json);
	got = JsonNumberValue(&v);
	CHECKF(memcmp(&got, &want, sizeof(got)) == 0, "%s gave %.17g, strtod %.17g", json, got, want);

	/* followed by more text: the span's end is not the buffer's */
	snprintf(doc, sizeof(doc), "[%s,7]", json);
	CHECK(Parse(doc, &v));
	{
		JsonIter	it;
		JsonSpan	e = NO_SPAN;

		JsonIterInit(&it, &v);
		CHECK(JsonIterNext(&it, NULL, &e));
		got = JsonNumberValue(&e);
		CHECKF(memcmp(&got, &want, sizeof(got)) == 0, "[%s] gave %.17g, strtod %.17g", json, got, want);
	}
	ArenaReset();
}

/* JsonNumberValue against strtod: integers of every length near 2^53, fractions, exponents. */
static void
TestNumbersLikeStrtod(void)
{
	static const char *const fixed[] = {
		"0", "-0", "-0.0", "0.0", "0e5", "-0e-5", "5", "-5", "9", "10", "64", "-64",
		"1764547260123", "-1764547260123", "1764547260123.5", "1764547260123e0",
		"12345678", "123456789", "99999999", "100000000", "1234567890123456",
		"9999999999999999", "-9999999999999999", "10000000000000000",
		"9007199254740991", "9007199254740992", "9007199254740993", "9007199254740994",
		"9007199254740995", "-9007199254740993", "18014398509481985",
		"12345678.9", "1234567.89", "1234567890.123", "1e22", "1e23", "-1.5E+3",
		"0.1", "123456789012345678901234567890", "1e-400", "2.5e-324", "1.7976931348623157e308",
	};
	uint64		seed = 12345;
	char		buf[40];

	for (int i = 0; i < lengthof(fixed); i++)
		CheckNumberLikeStrtod(fixed[i]);

	/* every length from 1 to 20 digits, random digits (no leading zero), either sign */
	for (int digits = 1; digits <= 20; digits++)
	{
		for (int k = 0; k < 200; k++)
		{
			int			n = 0;

			if (k & 1)
				buf[n++] = '-';
			for (int d = 0; d < digits; d++)
			{
				seed = seed * UINT64CONST(6364136223846793005) + UINT64CONST(1442695040888963407);
				buf[n++] = (char) ('0' + (d == 0 && digits > 1 ? 1 + (seed >> 33) % 9 : (seed >> 33) % 10));
			}
			/* sometimes a fraction or an exponent, at a random place */
			seed = seed * UINT64CONST(6364136223846793005) + UINT64CONST(1442695040888963407);
			if (k % 5 == 2)
				n += snprintf(buf + n, sizeof(buf) - n, ".%u", (unsigned) (seed >> 40) % 1000);
			else if (k % 5 == 4)
				n += snprintf(buf + n, sizeof(buf) - n, "e%d", (int) ((seed >> 40) % 40) - 20);
			buf[n] = '\0';
			CheckNumberLikeStrtod(buf);
		}
		/* all nines and a one with zeros: the edges of each length */
		memset(buf, '9', digits);
		buf[digits] = '\0';
		CheckNumberLikeStrtod(buf);
		buf[0] = '1';
		memset(buf + 1, '0', digits - 1);
		CheckNumberLikeStrtod(buf);
	}
}

/* JavaScript truthiness. */
static void
TestTruthy(void)
{
	static const struct
	{
		const char *json;
		bool		truthy;
	}			cases[] = {
		{"null", false}, {"false", false}, {"true", true},
		{"0", false}, {"-0", false}, {"0.0", false}, {"0e10", false}, {"-0.0e-5", false},
		{"1e-400", false}, {"1", true}, {"-1", true}, {"0.1", true}, {"1e400", true},
		{"\"\"", false}, {"\"0\"", true}, {"\"false\"", true}, {"\" \"", true},
		{"\"\\u0000\"", true}, {"{}", true}, {"[]", true}, {"[0]", true}, {"{\"a\":false}", true},
	};
	int			i;

	for (i = 0; i < lengthof(cases); i++)
	{
		JsonSpan	v = NO_SPAN;

		CHECK(Parse(cases[i].json, &v));
		CHECKF(JsonIsTruthy(&v) == cases[i].truthy, "truthiness of %s", cases[i].json);
	}
	{
		JsonSpan	none = {NULL, 0, JSON_KIND_NONE, false, NULL};

		CHECK(!JsonIsTruthy(&none));
	}
	ArenaReset();
}

/* JsonTextForPostgres: only \u0000 and lone surrogate escapes change. */
static void
TestTextForPostgres(void)
{
	static const struct
	{
		const char *in;
		const char *out;
	}			cases[] = {
		{"\"a\\u0000b\"", "\"a\\ufffdb\""},
		{"\"\\ud83d\"", "\"\\ufffd\""},
		{"\"\\ude00\"", "\"\\ufffd\""},
		{"\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\""},
		{"\"\\uD83D\\uDE00\"", "\"\\uD83D\\uDE00\""},
		{"\"\\ud83d\\ud83d\\ude00\"", "\"\\ufffd\\ud83d\\ude00\""},
		{"\"\\ude00\\ud83d\"", "\"\\ufffd\\ufffd\""},
		{"\"\\ud83d\\ude00\\ude00\"", "\"\\ud83d\\ude00\\ufffd\""},
		{"\"\\\\u0000\"", "\"\\\\u0000\""},
		{"\"\\\\\\u0000\"", "\"\\\\\\ufffd\""},
		{"\"\\\\ud83d\"", "\"\\\\ud83d\""},
		{"\"\\ud83d\\n\"", "\"\\ufffd\\n\""},
		{"\"\\ud83d\\u0041\"", "\"\\ufffd\\u0041\""},
		{"\"\\ud83d\\\\ude00\"", "\"\\ufffd\\\\ude00\""},
		{"[\"\\ud83d\",\"\\ude00\"]", "[\"\\ufffd\",\"\\ufffd\"]"},
		{"{\"k\\u0000\":[\"\\ud800\",1,{\"x\":\"\\u0000\\u0001\"}]}",
		"{\"k\\ufffd\":[\"\\ufffd\",1,{\"x\":\"\\ufffd\\u0001\"}]}"},
		{"\"\\u00000\"", "\"\\ufffd0\""},
		{"\"\\U0000\"", NULL},	/* not JSON: skipped below */
		{"123", "123"},
		{"true", "true"},
		{"{ \"a\" :\t[ 1 ,2 ] }", "{ \"a\" :\t[ 1 ,2 ] }"},
		{"\"\xc3\xa9\\u00e9\"", "\"\xc3\xa9\\u00e9\""},
	};
	int			i;

	for (i = 0; i < lengthof(cases); i++)
	{
		JsonSpan	v = NO_SPAN;
		char	   *t;

		if (cases[i].out == NULL)
			continue;
		CHECKF(Parse(cases[i].in, &v), "%s", cases[i].in);
		t = JsonTextForPostgres(&v);
		CHECKF(strcmp(t, cases[i].out) == 0, "%s became %s", cases[i].in, t);
		CHECKF(PgValid(t, strlen(t), true), "PostgreSQL rejects %s", t);
		pfree(t);
	}

	/* a member value on its own, and an empty span */
	{
		JsonSpan	v = NO_SPAN;
		JsonSpan	r = NO_SPAN;
		char	   *t;
		JsonSpan	none = {NULL, 0, JSON_KIND_NONE, false, NULL};

		CHECK(Parse(rrweb_event, &v));
		CHECK(JsonObjectGet(&v, "data", &r));
		t = JsonTextForPostgres(&r);
		CHECK(strlen(t) == r.len && t[0] == '{' && t[r.len - 1] == '}');
		CHECK(strstr(t, "\\u0000 \\ufffd") != NULL);	/* escaped backslash kept, real escape fixed */
		CHECK(strstr(t, "\\ufffd tab") != NULL);
		CHECK(strstr(t, "\\ud83d\\ude00") != NULL);
		CHECK(PgValid(t, strlen(t), true));
		CHECK(!PgValid(r.start, r.len, true));
		pfree(t);
		t = JsonTextForPostgres(&none);
		CHECK(t[0] == '\0');
		pfree(t);
	}
	ArenaReset();
}

/* splitmix64: a seeded, reproducible random stream. */
static uint64
Rand(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Maybe appends some JSON whitespace. */
static void
GenSpace(StringInfo d, uint64 *rs)
{
	static const char ws[] = " \t\n\r";

	while (Rand(rs) % 6 == 0)
		appendStringInfoChar(d, ws[Rand(rs) % 4]);
}

/* Appends a random valid JSON string, heavy on escapes and surrogates. */
static void
GenString(StringInfo d, uint64 *rs)
{
	static const char *pieces[] = {
		"a", "Z", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
		"\\u0000", "\\ud83d", "\\ude00", "\\ud83d\\ude00", "\\u00e9", "\\u0041", "\\uFFFF",
		"{", "}", "[", "]", ",", ":", "\\\\u0000", "x", "0", "-", "'", "#",
	};
	int			n = Rand(rs) % 8;

	if (Rand(rs) % 10 == 0)
		n += Rand(rs) % 40;
	appendStringInfoChar(d, '"');
	while (n-- > 0)
		appendStringInfoString(d, pieces[Rand(rs) % lengthof(pieces)]);
	appendStringInfoChar(d, '"');
}

/* Appends a random valid JSON value (recursion is fine: depth stays small). */
static void
GenValue(StringInfo d, uint64 *rs, int depth)
{
	int			pick = Rand(rs) % (depth < 5 ? 10 : 7);
	int			n;
	int			i;

	GenSpace(d, rs);
	switch (pick)
	{
		case 0:
			appendStringInfoString(d, "true");
			break;
		case 1:
			appendStringInfoString(d, "false");
			break;
		case 2:
			appendStringInfoString(d, "null");
			break;
		case 3:
		case 4:
			if (Rand(rs) % 2)
				appendStringInfoChar(d, '-');
			if (Rand(rs) % 3 == 0)
				appendStringInfoChar(d, '0');
			else
				appendStringInfo(d, "%d", (int) (Rand(rs) % 100000) + 1);
			if (Rand(rs) % 3 == 0)
				appendStringInfo(d, ".%d", (int) (Rand(rs) % 1000));
			if (Rand(rs) % 4 == 0)
				appendStringInfo(d, "%c%s%d", Rand(rs) % 2 ? 'e' : 'E',
								 Rand(rs) % 3 == 0 ? "-" : (Rand(rs) % 2 ? "+" : ""),
								 (int) (Rand(rs) % 500));
			break;
		case 5:
		case 6:
			GenString(d, rs);
			break;
		case 7:
		case 8:
			appendStringInfoChar(d, '[');
			n = Rand(rs) % 5;
			for (i = 0; i < n; i++)
			{
				if (i > 0)
					appendStringInfoChar(d, ',');
				GenValue(d, rs, depth + 1);
			}
			GenSpace(d, rs);
			appendStringInfoChar(d, ']');
			break;
		default:
			appendStringInfoChar(d, '{');
			n = Rand(rs) % 5;
			for (i = 0; i < n; i++)
			{
				if (i > 0)
					appendStringInfoChar(d, ',');
				GenSpace(d, rs);
				GenString(d, rs);
				GenSpace(d, rs);
				appendStringInfoChar(d, ':');
				GenValue(d, rs, depth + 1);
			}
			GenSpace(d, rs);
			appendStringInfoChar(d, '}');
			break;
	}
	GenSpace(d, rs);
}

/*
 * Random valid documents, then random mutations of them: validity must match
 * PostgreSQL's parser (which, unlike RFC 8259, rejects lone surrogates, so
 * documents with \u escapes are compared one way only), and everything
 * valid must pass WalkCheck.
 */
static void
TestFuzz(int rounds)
{
	static const char alphabet[] = "{}[]\":,\\/ -+.eE0123456789tfnrulasbxX\t\n\r\x01\x1f\x7f";
	uint64		rs = 20240601;
	int			r;
	int			valid_after_mutation = 0;

	for (r = 0; r < rounds; r++)
	{
		StringInfoData d;
		JsonScanner s;
		JsonSpan	v = NO_SPAN;
		bool		ours;
		bool		pg;
		int			muts;
		int			m;

		initStringInfo(&d);
		GenValue(&d, &rs, 0);
		CHECKF(ParseLen(d.data, d.len, &s, &v), "generated %s: %s at %zu", d.data, s.error, s.error_pos);
		if (r % 8 == 0)
			WalkCheck(&v, 0);
		OutlineCheck(d.data, d.len, r % (JSON_OUTLINE_MAX_DEPTH + 2), r % 5 == 0 ? 1 + r % 40 : 1000000);
		ArenaReset();

		muts = 1 + Rand(&rs) % 3;
		for (m = 0; m < muts && d.len > 0; m++)
		{
			int			at = Rand(&rs) % d.len;
			char		c = alphabet[Rand(&rs) % (sizeof(alphabet) - 1)];

			switch (Rand(&rs) % 5)
			{
				case 0:
					d.data[at] = c;
					break;
				case 1:
					appendStringInfoChar(&d, ' ');
					memmove(d.data + at + 1, d.data + at, d.len - at - 1);
					d.data[at] = c;
					break;
				case 2:
					memmove(d.data + at, d.data + at + 1, d.len - at - 1);
					d.len--;
					break;
				case 3:
					d.len = at;
					break;
				default:
					{
						int			from = Rand(&rs) % d.len;
						int			n = Rand(&rs) % (d.len - from) + 1;
						char	   *copy = malloc(n);

						memcpy(copy, d.data + from, n);
						appendBinaryStringInfo(&d, copy, n);	/* grow, then shift in */
						memmove(d.data + at + n, d.data + at, d.len - n - at);
						memcpy(d.data + at, copy, n);
						free(copy);
						break;
					}
			}
		}
		ours = ParseLen(d.data, d.len, &s, &v);
		OutlineCheck(d.data, d.len, r % (JSON_OUTLINE_MAX_DEPTH + 2), r % 5 == 0 ? 1 + r % 40 : 1000000);
		if (!ours)
			CHECKF(s.error != NULL && s.error_pos <= (size_t) d.len, "error position %zu", s.error_pos);
		pg = PgValid(d.data, d.len, false);
		if (!HasUEscape(d.data, d.len))
			CHECKF(ours == pg, "disagree with PostgreSQL (ours %d): %.*s", ours, d.len, d.data);
		else if (pg)
			CHECKF(ours, "PostgreSQL accepts, we reject: %.*s", d.len, d.data);
		if (ours)
		{
			valid_after_mutation++;
			WalkCheck(&v, 0);
		}
		ArenaReset();
		pfree(d.data);
	}
	CHECK(valid_after_mutation > rounds / 50);	/* the mutations do not only break things */
}

/* Seconds on a monotonic clock. */
static double
Now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Appends a FullSnapshot-like node tree of the given depth. */
static void
GenNode(StringInfo d, uint64 *rs, int depth, int *id)
{
	int			i;
	int			kids = depth > 0 ? 1 + Rand(rs) % 4 : 0;

	appendStringInfo(d, "{\"type\":2,\"tagName\":\"div\",\"attributes\":{\"class\":\"col-md-%d card shadow-sm\","
					 "\"style\":\"margin: 0 auto; color: rgb(12, 34, 56);\"},\"childNodes\":[",
					 (int) (Rand(rs) % 12));
	for (i = 0; i < kids; i++)
	{
		if (i > 0)
			appendStringInfoChar(d, ',');
		if (Rand(rs) % 3 == 0)
			appendStringInfo(d, "{\"type\":3,\"textContent\":\"Lorem ipsum dolor sit amet, \\\"consectetur\\\" "
							 "adipiscing elit \\u00e9 sed do eiusmod tempor incididunt ut labore\",\"id\":%d}", (*id)++);
		else
			GenNode(d, rs, depth - 1, id);
	}
	appendStringInfo(d, "],\"id\":%d}", (*id)++);
}

/* A rrweb-like events array of about `target` bytes. */
static void
GenEvents(StringInfo d, size_t target, uint64 *rs)
{
	long long	ts = 1700000000000LL;
	int			id = 1;
	int			n = 0;

	appendStringInfoChar(d, '[');
	while ((size_t) d->len < target)
	{
		int			pick = Rand(rs) % 100;

		if (n++ > 0)
			appendStringInfoChar(d, ',');
		ts += Rand(rs) % 200;
		if (pick < 2)
		{
			appendStringInfo(d, "{\"type\":2,\"data\":{\"node\":{\"type\":0,\"childNodes\":[");
			GenNode(d, rs, 7, &id);
			appendStringInfo(d, "],\"id\":1},\"initialOffset\":{\"left\":0,\"top\":0}},\"timestamp\":%lld}", ts);
		}
		else if (pick < 50)
			appendStringInfo(d, "{\"type\":3,\"data\":{\"source\":1,\"positions\":[{\"x\":%d,\"y\":%d,\"id\":%d,\"timeOffset\":-%d},"
							 "{\"x\":%d,\"y\":%d,\"id\":%d,\"timeOffset\":-%d}]},\"timestamp\":%lld}",
							 (int) (Rand(rs) % 1920), (int) (Rand(rs) % 1080), id, (int) (Rand(rs) % 500),
							 (int) (Rand(rs) % 1920), (int) (Rand(rs) % 1080), id, (int) (Rand(rs) % 500), ts);
		else if (pick < 85)
		{
			int			i;
			int			words = 20 + Rand(rs) % 300;

			appendStringInfo(d, "{\"type\":3,\"data\":{\"source\":0,\"texts\":[{\"id\":%d,\"value\":\"", id);
			for (i = 0; i < words; i++)
				appendStringInfoString(d, i % 37 == 36 ? "line\\n" : (i % 53 == 52 ? "\\\"q\\\" " : "lorem ipsum "));
			appendStringInfo(d, "\"}],\"attributes\":[],\"removes\":[],\"adds\":[]},\"timestamp\":%lld}", ts);
		}
		else if (pick < 95)
			appendStringInfo(d, "{\"type\":3,\"data\":{\"source\":2,\"type\":2,\"id\":%d,\"x\":%d,\"y\":%d},\"timestamp\":%lld}",
							 id, (int) (Rand(rs) % 1920), (int) (Rand(rs) % 1080), ts);
		else
			appendStringInfo(d, "{\"type\":5,\"data\":{\"tag\":\"dozor:url\",\"payload\":{\"url\":\"https://example.com/a/b?q=%d\","
							 "\"pathname\":\"/a/b\"}},\"timestamp\":%lld}", (int) (Rand(rs) % 1000), ts);
	}
	appendStringInfoChar(d, ']');
}

/* Prints MB/s of validation and of the trusted walk; nothing is asserted on time. */
static void
Throughput(void)
{
	StringInfoData events;
	StringInfoData strings;
	uint64		rs = 7;
	char	   *b1;
	char	   *b2;
	double		best_scan = 1e9;
	double		best_iter = 1e9;
	double		best_str = 1e9;
	int			rep;
	long		markers = 0;

	initStringInfo(&events);
	GenEvents(&events, 5 * 1024 * 1024, &rs);
	initStringInfo(&strings);
	appendStringInfoChar(&strings, '[');
	while (strings.len < 5 * 1024 * 1024)
	{
		int			i;

		if (strings.len > 1)
			appendStringInfoChar(&strings, ',');
		appendStringInfoChar(&strings, '"');
		for (i = 0; i < 100; i++)
			appendStringInfoString(&strings, i % 25 == 24 ? "body { color: red; }\\n" : "The quick brown fox jumps ");
		appendStringInfoChar(&strings, '"');
	}
	appendStringInfoChar(&strings, ']');
	b1 = Keep(events.data, events.len);
	b2 = Keep(strings.data, strings.len);

	for (rep = 0; rep < 5; rep++)
	{
		JsonScanner s;
		JsonSpan	v = NO_SPAN;
		JsonSpan	e = NO_SPAN;
		JsonSpan	f = NO_SPAN;
		JsonIter	it;
		double		t0;
		bool		ok;

		t0 = Now();
		JsonScanInit(&s, b1, events.len);
		ok = JsonScanValue(&s, &v) && JsonScanAtEnd(&s);
		best_scan = Min(best_scan, Now() - t0);
		CHECK(ok);

		/* the read side: per event, type, timestamp and data, plus marker tags */
		t0 = Now();
		markers = 0;
		JsonIterInit(&it, &v);
		while (JsonIterNext(&it, NULL, &e))
		{
			if (JsonObjectGet(&e, "type", &f) && JsonNumberValue(&f) == 5 &&
				JsonObjectGet(&e, "data", &f) && JsonObjectGet(&f, "tag", &f) &&
				JsonStringHasPrefix(&f, "dozor:"))
				markers++;
			(void) JsonObjectGet(&e, "timestamp", &f);
		}
		best_iter = Min(best_iter, Now() - t0);
		CHECK(markers > 0);

		t0 = Now();
		JsonScanInit(&s, b2, strings.len);
		ok = JsonScanValue(&s, &v) && JsonScanAtEnd(&s);
		best_str = Min(best_str, Now() - t0);
		CHECK(ok);
	}
	printf("json_scan throughput (this build's flags; best of 5):\n");
	printf("  validate rrweb-like %.1f MB: %8.0f MB/s\n", events.len / 1e6, events.len / 1e6 / best_scan);
	printf("  iterate + type/timestamp/data lookups: %8.0f MB/s (%ld markers)\n",
		   events.len / 1e6 / best_iter, markers);
	printf("  validate string-heavy %.1f MB: %8.0f MB/s\n", strings.len / 1e6, strings.len / 1e6 / best_str);
	pfree(events.data);
	pfree(strings.data);
	ArenaReset();
}

int
main(int argc, char **argv)
{
	int			fuzz_rounds = 100000;

	if (argc > 1)
		fuzz_rounds = atoi(argv[1]);

	TestValid();
	TestInvalid();
	TestFastPaths();
	TestStringBoundaries();
	TestSkipBlocks();
	TestDepth();
	TestTruncationAndMutation();
	TestIter();
	TestOutline();
	TestUtf8();
	TestObjectGet();
	TestStrings();
	TestNumbers();
	TestNumbersLikeStrtod();
	TestTruthy();
	TestTextForPostgres();
	TestFuzz(fuzz_rounds);
	Throughput();

	printf("json_scan: %ld checks, %ld failed\n", n_checks, n_failed);
	return n_failed == 0 ? 0 : 1;
}
