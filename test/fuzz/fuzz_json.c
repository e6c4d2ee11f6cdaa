/*
 * fuzz_json.c — libFuzzer target for src/json_scan.c.
 *
 * The input is one JSON document (bytes as a client sends them). Checks:
 *   - JsonScanValue + JsonScanAtEnd never read outside the exact-size copy,
 *     and report an error position inside the input;
 *   - validity agrees with PostgreSQL's own parser (pg_parse_json from
 *     libpgcommon), both ways when the input holds no \u escape (PostgreSQL,
 *     unlike RFC 8259, refuses lone surrogates) and is not deeper than our
 *     JSON_MAX_DEPTH; one way (PostgreSQL valid => we are valid) otherwise;
 *   - on valid documents, the trusted walk (JsonIter*) yields exactly the
 *     values the validator accepts: every yielded span re-validates to
 *     itself; string decoding gives valid UTF-8 without NUL (for UTF-8
 *     input), the code point count JsonStringCharCount claims, and agrees
 *     with JsonStringEquals / JsonStringHasPrefix; JsonObjectGet returns the
 *     last duplicate; JsonTextForPostgres keeps the length and yields text
 *     PostgreSQL's parser accepts with escapes decoded (what jsonb_in does);
 *   - scanning with an outline (JsonScanOutline) gives the same verdict and
 *     error, and walking the outline yields exactly what walking the text
 *     yields;
 *   - scanning with the UTF-8 check (JsonScanCheckUtf8) accepts exactly
 *     what is valid JSON and valid UTF-8, with the same errors on UTF-8;
 *   - on any bytes at all, the trusted walk and the string helpers stay in
 *     bounds and terminate (the header promises it for malformed input).
 * Built twice: with SSE2 (fuzz_json) and with -DJSON_SCAN_NO_SIMD
 * (fuzz_json_swar), so both block scanners are covered.
 */
#include "json_scan.h"

#include <math.h>

#include "util.h"

/* Deepest recursion of the checks below (the scanner itself never recurses). */
#define WALK_MAX_DEPTH 128
/*
 * Re-validating every nested span is quadratic in the nesting: each input
 * gets a budget of bytes to re-scan (a few times its size), spent top-down.
 */
#define REVALIDATE_BUDGET_FACTOR 4

typedef struct Doc
{
	const char *buf;
	size_t		len;
	bool		utf8;			/* the input is valid UTF-8 */
	size_t		budget;			/* bytes left for re-validation */
	size_t		pg_budget;		/* bytes left for PostgreSQL's parser */
} Doc;

static void
CheckInside(const Doc *d, const JsonSpan *v, const char *what)
{
	if (v->start == NULL || v->start < d->buf || v->len > d->len ||
		v->start + v->len > d->buf + d->len)
		FuzzFail("%s span [%p, +%zu) outside the input [%p, +%zu)", what,
				 (void *) v->start, v->len, (void *) d->buf, d->len);
}

static JsonKind
KindOfByte(char c)
{
	switch (c)
	{
		case '{':
			return JSON_KIND_OBJECT;
		case '[':
			return JSON_KIND_ARRAY;
		case '"':
			return JSON_KIND_STRING;
		case 't':
			return JSON_KIND_TRUE;
		case 'f':
			return JSON_KIND_FALSE;
		case 'n':
			return JSON_KIND_NULL;
		default:
			return (c == '-' || (c >= '0' && c <= '9')) ? JSON_KIND_NUMBER : JSON_KIND_NONE;
	}
}

/* The string helpers on a validated string span. */
static void
CheckString(const Doc *d, const JsonSpan *v)
{
	StringInfoData out;
	size_t		chars;

	initStringInfo(&out);
	JsonStringDecode(v, &out);
	if (memchr(out.data, '\0', out.len) != NULL)
		FuzzFail("JsonStringDecode produced a NUL byte");
	if (d->utf8 && !FuzzUtf8Valid(out.data, out.len))
		FuzzFail("JsonStringDecode produced invalid UTF-8 from valid input");
	chars = JsonStringCharCount(v);
	if (d->utf8 && chars != FuzzUtf8Count(out.data, out.len))
		FuzzFail("JsonStringCharCount %zu, decoded text has %zu code points",
				 chars, FuzzUtf8Count(out.data, out.len));
	if (!JsonStringEquals(v, out.data))
		FuzzFail("JsonStringEquals disagrees with JsonStringDecode");
	if (!JsonStringHasPrefix(v, out.data))
		FuzzFail("JsonStringHasPrefix(whole) is false");
	if (out.len > 0)
	{
		size_t		cut = out.len / 2;

		/* back to a code point boundary */
		while (cut > 0 && ((unsigned char) out.data[cut] & 0xC0) == 0x80)
			cut--;
		out.data[cut] = '\0';
		if (!JsonStringHasPrefix(v, out.data))
			FuzzFail("JsonStringHasPrefix(half) is false");
		/* a longer literal is never equal */
		if (JsonStringEquals(v, out.data) && cut != out.len)
		{
			/* equal to a proper prefix: only possible if the rest decodes to nothing */
			FuzzFail("JsonStringEquals true for a proper prefix");
		}
	}
}

/* Is c an ASCII hex digit? */
static bool
IsHexDigit(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* JsonTextForPostgres: same length, only hex digits of escapes changed, PostgreSQL accepts it. */
static void
CheckForPostgres(const Doc *d, const JsonSpan *v)
{
	char	   *t = JsonTextForPostgres(v);

	if (strlen(t) != v->len)
		FuzzFail("JsonTextForPostgres changed the length");
	for (size_t i = 0; i < v->len; i++)
		if (t[i] != v->start[i] && !(IsHexDigit(t[i]) && IsHexDigit(v->start[i])))
			FuzzFail("JsonTextForPostgres changed byte %zu from 0x%02x to 0x%02x", i,
					 (unsigned char) v->start[i], (unsigned char) t[i]);
	/* PostgreSQL's frontend parser recurses without a depth check: keep it shallow */
	if (d->utf8 && FuzzOpenBrackets(t, v->len) < 2000 && !FuzzPgJsonValid(t, v->len, true))
		FuzzFail("PostgreSQL's parser refuses JsonTextForPostgres output: %.200s", t);
	pfree(t);
}

static void Walk(Doc *d, const JsonSpan *v, int depth);

/* Every member/element of a validated container. */
static void
WalkContainer(Doc *d, const JsonSpan *v, int depth)
{
	JsonIter	it;
	JsonSpan	key;
	JsonSpan	value;
	const char *prev_end = v->start + 1;
	size_t		members = 0;

	JsonIterInit(&it, v);
	while (JsonIterNext(&it, &key, &value))
	{
		members++;
		if (members > v->len)
			FuzzFail("JsonIterNext yielded more members than bytes");
		CheckInside(d, &value, "member value");
		if (value.start < prev_end || value.start + value.len > v->start + v->len - 1)
			FuzzFail("member value outside its container or out of order");
		if (v->kind == JSON_KIND_OBJECT)
		{
			JsonSpan	got;
			StringInfoData name;

			if (key.kind != JSON_KIND_STRING || key.start < prev_end ||
				key.start + key.len > value.start)
				FuzzFail("object key is not a string before its value");
			Walk(d, &key, depth + 1);
			/* JsonObjectGet(name) finds this value or a later duplicate */
			initStringInfo(&name);
			JsonStringDecode(&key, &name);
			if (!JsonObjectGet(v, name.data, &got))
				FuzzFail("JsonObjectGet misses a key the iterator yields");
			if (got.start < value.start)
				FuzzFail("JsonObjectGet returned an earlier duplicate");
			pfree(name.data);
		}
		else if (key.start != NULL)
			FuzzFail("array element came with a key");
		prev_end = value.start + value.len;
		Walk(d, &value, depth + 1);
	}
}

/* Checks one validated value and everything in it. */
static void
Walk(Doc *d, const JsonSpan *v, int depth)
{
	CheckInside(d, v, "value");
	if (v->len == 0 || v->kind != KindOfByte(v->start[0]))
		FuzzFail("span kind %d does not match its first byte", (int) v->kind);
	if (depth > WALK_MAX_DEPTH)
		return;

	/* small spans are always re-validated; big ones while the budget lasts */
	if (v->len <= 256 || v->len <= d->budget)
	{
		JsonScanner s;
		JsonSpan	again;

		JsonScanInit(&s, v->start, v->len);
		if (!JsonScanValue(&s, &again) || !JsonScanAtEnd(&s))
			FuzzFail("a span the iterator yielded does not re-validate: %s at %zu",
					 s.error, s.error_pos);
		if (again.start != v->start || again.len != v->len || again.kind != v->kind)
			FuzzFail("re-validation gives a different span");
		if (v->len > 256)
			d->budget -= v->len;
		if (v->len <= d->pg_budget)
		{
			d->pg_budget -= v->len;
			CheckForPostgres(d, v);
		}
	}

	(void) JsonIsTruthy(v);
	switch (v->kind)
	{
		case JSON_KIND_STRING:
			CheckString(d, v);
			break;
		case JSON_KIND_NUMBER:
			if (isnan(JsonNumberValue(v)))
				FuzzFail("JsonNumberValue is NaN for a validated number");
			break;
		case JSON_KIND_OBJECT:
		case JSON_KIND_ARRAY:
			WalkContainer(d, v, depth);
			break;
		default:
			break;
	}
}

/*
 * The same value walked from the text (a) and from its outline (b), side by
 * side, while *budget (members to visit) lasts: the outline must yield
 * exactly what the text walk yields.
 */
static void
OutlineSame(const JsonSpan *a, const JsonSpan *b, int level, size_t *budget)
{
	JsonIter	ia;
	JsonIter	ib;
	JsonSpan	ka;
	JsonSpan	ea;
	JsonSpan	kb;
	JsonSpan	eb;
	bool		more;

	if (a->start != b->start || a->len != b->len || a->kind != b->kind ||
		a->has_escapes != b->has_escapes)
		FuzzFail("outline span differs from the text's at level %d", level);
	if (b->node != NULL && (b->node->start != b->start || b->node->len != b->len))
		FuzzFail("outline node disagrees with its span at level %d", level);
	if (a->kind != JSON_KIND_OBJECT && a->kind != JSON_KIND_ARRAY)
		return;
	JsonIterInit(&ia, a);
	JsonIterInit(&ib, b);
	for (;;)
	{
		if (*budget == 0)
			return;
		(*budget)--;
		more = JsonIterNext(&ia, &ka, &ea);
		if (more != JsonIterNext(&ib, &kb, &eb))
			FuzzFail("outline yields %s members than the text at level %d",
					 more ? "fewer" : "more", level);
		if (!more)
			return;
		if (ka.start != kb.start || ka.len != kb.len || ka.kind != kb.kind ||
			ka.has_escapes != kb.has_escapes)
			FuzzFail("outline key differs from the text's at level %d", level);
		OutlineSame(&ea, &eb, level + 1, budget);
	}
}

/* The trusted helpers on bytes nobody validated: only bounds and termination. */
static void
WalkUntrusted(const char *start, const char *end, int depth, size_t *budget)
{
	JsonSpan	c;
	JsonIter	it;
	JsonSpan	key;
	JsonSpan	value;
	size_t		steps = 0;

	c.start = start;
	c.len = end - start;
	c.kind = c.len > 0 ? KindOfByte(start[0]) : JSON_KIND_NONE;
	c.has_escapes = true;
	c.node = NULL;
	if (c.kind != JSON_KIND_OBJECT && c.kind != JSON_KIND_ARRAY)
		return;
	JsonIterInit(&it, &c);
	while (JsonIterNext(&it, &key, &value))
	{
		if (++steps > c.len)
			FuzzFail("JsonIterNext on malformed input did not make progress");
		if (*budget == 0)
			return;
		(*budget)--;
		if (value.start < start || value.start + value.len > end ||
			(key.start != NULL && (key.start < start || key.start + key.len > end)))
			FuzzFail("untrusted walk yielded a span outside its container");
		{
			StringInfoData out;
			char	   *t;

			initStringInfo(&out);
			JsonStringDecode(&value, &out);
			if (key.start != NULL)
				JsonStringDecode(&key, &out);
			(void) JsonStringCharCount(&value);
			(void) JsonStringEquals(&value, "dozor:url");
			(void) JsonStringHasPrefix(&value, "dozor:");
			(void) JsonNumberValue(&value);
			(void) JsonIsTruthy(&value);
			(void) JsonObjectGet(&value, "data", &key);
			/* a copy per value: only small ones, or it is quadratic */
			if (value.len <= 512)
			{
				t = JsonTextForPostgres(&value);
				pfree(t);
			}
			pfree(out.data);
		}
		if (depth < 16)
			WalkUntrusted(value.start, value.start + value.len, depth + 1, budget);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Doc			d;
	JsonScanner s;
	JsonSpan	v;
	bool		ours;
	bool		has_u;
	size_t		opens;
	size_t		budget = 4096;

	d.buf = FuzzExactCopy(data, size);
	d.len = size;
	d.utf8 = FuzzUtf8Valid(d.buf, d.len);
	d.budget = REVALIDATE_BUDGET_FACTOR * (size + 64);
	d.pg_budget = 2 * (size + 64);

	JsonScanInit(&s, d.buf, d.len);
	ours = JsonScanValue(&s, &v) && JsonScanAtEnd(&s);
	if (!ours && (s.error == NULL || s.error_pos > size))
		FuzzFail("failure without a message or with position %zu > %zu", s.error_pos, size);

	/* Differential against PostgreSQL's parser. */
	has_u = FuzzContains(d.buf, d.len, "\\u");
	opens = FuzzOpenBrackets(d.buf, d.len);
	if (d.utf8 && opens < 2000)
	{
		bool		pg = FuzzPgJsonValid(d.buf, d.len, false);

		if (pg && !ours)
			FuzzFail("PostgreSQL accepts, json_scan refuses (%s at %zu)", s.error, s.error_pos);
		if (!pg && ours && !has_u)
			FuzzFail("json_scan accepts what PostgreSQL refuses");
	}

	/*
	 * With an outline (its depth and node budget chosen by the input's
	 * size, a tight budget now and then): the same verdict, error and walk.
	 */
	{
		JsonScanner so;
		JsonSpan	vo;
		bool		with;
		size_t		members = 4 * (size + 64);

		JsonScanInit(&so, d.buf, d.len);
		JsonScanOutline(&so, (int) (size % (JSON_OUTLINE_MAX_DEPTH + 1)),
						size % 3 == 0 ? 1 + size % 50 : 1000000);
		with = JsonScanValue(&so, &vo) && JsonScanAtEnd(&so);
		if (with != ours || (!ours && (so.error != s.error || so.error_pos != s.error_pos)))
			FuzzFail("the outline changes the verdict or the error");
		if (ours)
			OutlineSame(&v, &vo, 0, &members);
	}

	/*
	 * Checking UTF-8 while scanning: the value scans exactly when it is
	 * valid JSON and valid UTF-8 (outside strings, valid JSON is ASCII), and
	 * on valid UTF-8 it fails as the plain scan does.
	 */
	{
		JsonScanner su;
		JsonSpan	vu;
		bool		with;

		JsonScanInit(&su, d.buf, d.len);
		JsonScanCheckUtf8(&su);
		with = JsonScanValue(&su, &vu) && JsonScanAtEnd(&su);
		if (with != (ours && d.utf8))
			FuzzFail("scanning with the UTF-8 check says %d, JSON %d and UTF-8 %d",
					 with, ours, d.utf8);
		if (d.utf8 && !ours && (su.error != s.error || su.error_pos != s.error_pos))
			FuzzFail("the UTF-8 check changes the error on valid UTF-8");
	}

	if (ours)
	{
		if (v.start < d.buf || v.start + v.len > d.buf + d.len)
			FuzzFail("top-level span outside the input");
		Walk(&d, &v, 0);
	}
	WalkUntrusted(d.buf, d.buf + d.len, 0, &budget);

	FuzzMemoryReset();
	return 0;
}
