/*
 * json_scan.h — the one JSON scanner of dozor.
 *
 * It validates JSON text (RFC 8259) in place and walks objects and arrays
 * without building a tree: callers get spans (pointer + length) into the
 * original bytes. That is what lets ingest store every event's text exactly
 * as the client sent it, and lets the read side look at a few keys of an
 * event without parsing its 400 KB of DOM.
 *
 * Two speeds:
 *   JsonScanValue   validates one value completely (syntax, escapes, numbers,
 *                   nesting depth). Use it once on untrusted input.
 *   JsonIter*       walks the members/elements of a container that has
 *                   already been validated, skipping nested values with a
 *                   fast structural skip. Never call it on unvalidated bytes.
 *
 * The scanner never reads outside [buf, buf + len) and never recurses, so a
 * 100 000-level nest costs no stack; depth is limited by JSON_MAX_DEPTH.
 * It does not check UTF-8 unless asked (JsonScanCheckUtf8): callers verify
 * the encoding first (pg_verifymbstr), or ask and check it on failure.
 * It never ereports: errors come back as a message and a byte offset so the
 * caller can say where (and choose the SQLSTATE).
 */
#ifndef DOZOR_JSON_SCAN_H
#define DOZOR_JSON_SCAN_H

/* Frontend-buildable too: unit tests and fuzz targets link it standalone. */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif
#include "lib/stringinfo.h"

#include <math.h>

/* Deepest nesting accepted; rrweb's recursive serializer dies far earlier. */
#define JSON_MAX_DEPTH 10000

typedef enum JsonKind
{
	JSON_KIND_NONE = 0,
	JSON_KIND_OBJECT,
	JSON_KIND_ARRAY,
	JSON_KIND_STRING,
	JSON_KIND_NUMBER,
	JSON_KIND_TRUE,
	JSON_KIND_FALSE,
	JSON_KIND_NULL
} JsonKind;

/* Deepest level JsonScanOutline records (the root value is level 0). */
#define JSON_OUTLINE_MAX_DEPTH 8

/*
 * One value of a document's outline (see JsonScanOutline): its span and,
 * for a member, its key's. Nodes are in document order, each followed by
 * the nodes of what it contains (when recorded): the first member or
 * element of a container is the node right after it, and a node's next
 * sibling is `skip` nodes after it.
 */
typedef struct JsonNode
{
	const char *key;			/* a member's key (at its quote), else NULL */
	const char *start;
	uint32		key_len;
	uint32		len;
	uint32		skip;			/* nodes of its subtree, itself included */
	uint8		kind;			/* JsonKind */
	uint8		flags;			/* JSON_NODE_* */
} JsonNode;

#define JSON_NODE_KEY_ESCAPES	0x01	/* the key contains a backslash */
#define JSON_NODE_ESCAPES		0x02	/* a string value contains a backslash */
#define JSON_NODE_RECORDED		0x04	/* a container whose children are nodes */

/* A value inside the scanned text. For strings, start points at the quote. */
typedef struct JsonSpan
{
	const char *start;
	size_t		len;
	JsonKind	kind;
	bool		has_escapes;	/* strings only: contains a backslash */
	const JsonNode *node;		/* its outline node, or NULL */
} JsonSpan;

typedef struct JsonScanner
{
	const char *buf;
	size_t		len;
	size_t		pos;
	const char *error;			/* static text, set when a call fails */
	size_t		error_pos;		/* byte offset of the problem in buf */
	bool		too_deep;		/* the failure was JSON_MAX_DEPTH */
	bool		check_utf8;		/* JsonScanCheckUtf8 was called */
	/* the outline, when JsonScanOutline asked for one */
	int			outline_depth;	/* deepest level recorded; -1: none */
	uint32		outline_cap;	/* most nodes recorded before giving up */
	JsonNode   *nodes;
	uint32		nnodes;
	uint32		nodes_alloc;
} JsonScanner;

/* Iterator over the members of a validated object or elements of an array. */
typedef struct JsonIter
{
	const char *pos;
	const char *end;			/* one past the closing bracket */
	const JsonNode *node;		/* outline mode: the next child */
	const JsonNode *stop;		/* outline mode: the node after the last child */
	const JsonNode *member;		/* outline mode: the child returned last */
	JsonSpan	key;			/* text mode: the member returned last */
	JsonSpan	value;
	bool		outline;		/* walking recorded nodes, not the text */
	bool		is_object;
	bool		done;
} JsonIter;

extern void JsonScanInit(JsonScanner *s, const char *buf, size_t len);

/*
 * Asks the next JsonScanValue to record the document's outline down to
 * level max_depth (at most JSON_OUTLINE_MAX_DEPTH; the root value is level
 * 0): a node for every value at those levels, so that JsonIter and
 * JsonObjectGet walk the recorded members and elements instead of skipping
 * through the text again. At most max_nodes nodes are recorded; a document
 * with more gets no outline (and the same answers, from the text). The
 * outline lives in palloc'd memory as long as the text; the value returned
 * by JsonScanValue, and every span taken from it, carry their nodes.
 */
extern void JsonScanOutline(JsonScanner *s, int max_depth, uint32 max_nodes);

/*
 * Makes JsonScanValue also check that strings hold valid UTF-8, as
 * PostgreSQL's pg_encoding_verifymbstr checks it (outside strings valid
 * JSON is ASCII anyway). A value that scans is then valid UTF-8 in full;
 * a failure may be the encoding's ("invalid UTF-8 in string"), so callers
 * that must name encoding errors first check the text on failure.
 */
extern void JsonScanCheckUtf8(JsonScanner *s);

/*
 * Validates the value starting at s->pos (after optional whitespace) and
 * fills *out. Leaves s->pos just after it. Returns false with s->error set.
 */
extern bool JsonScanValue(JsonScanner *s, JsonSpan *out);

/* True when only whitespace is left after s->pos; else sets s->error. */
extern bool JsonScanAtEnd(JsonScanner *s);


/*
 * The recorded children of an outline container: nodes from *first up to
 * *stop, each the next's skip before it. False when the span has none
 * (JsonIter walks its text then). Only containers the scanner walked are
 * marked JSON_NODE_RECORDED.
 */
static inline bool
JsonNodeChildren(const JsonSpan *container, const JsonNode **first, const JsonNode **stop)
{
	const JsonNode *n = container != NULL ? container->node : NULL;

	if (n == NULL || (n->flags & JSON_NODE_RECORDED) == 0)
		return false;
	*first = n + 1;
	*stop = n + n->skip;
	return true;
}

/* The span of an outline node's value, as JsonIterNext gives it. */
static inline void
JsonNodeValue(const JsonNode *n, JsonSpan *value)
{
	value->start = n->start;
	value->len = n->len;
	value->kind = (JsonKind) n->kind;
	value->has_escapes = (n->flags & JSON_NODE_ESCAPES) != 0;
	value->node = n;
}

extern bool JsonNodeKeyEqualsLen(const JsonNode *node, const char *lit, size_t litlen);

/*
 * Does an outline node's key decode to exactly lit[0..litlen)? Compared
 * where it lies, length first; escaped keys are decoded.
 */
static inline bool
JsonNodeKeyEqualsLit(const JsonNode *n, const char *lit, size_t litlen)
{
	if ((n->flags & JSON_NODE_KEY_ESCAPES) == 0)
		return n->key_len == litlen + 2 && memcmp(n->key + 1, lit, litlen) == 0;
	return JsonNodeKeyEqualsLen(n, lit, litlen);
}

/* JsonNodeKeyEqualsLit for a literal, whose length is a constant. */
#define JsonNodeKeyEquals(n, lit) JsonNodeKeyEqualsLit(n, lit, strlen(lit))

extern void JsonIterInitText(JsonIter *it, const JsonSpan *container);

/* Starts walking a validated object or array span. Inline for outline nodes. */
static inline void
JsonIterInit(JsonIter *it, const JsonSpan *container)
{
	if (JsonNodeChildren(container, &it->node, &it->stop))
	{
		it->outline = true;
		return;
	}
	JsonIterInitText(it, container);
}

/* JsonIterNext's walk over the text, for containers without recorded children. */
extern bool JsonIterNextText(JsonIter *it, JsonSpan *key, JsonSpan *value);

/*
 * Next member (objects: key and value) or element (arrays: value only; key
 * may be NULL). Returns false at the end. Inline: from an outline it is a
 * few loads.
 */
static inline bool
JsonIterNext(JsonIter *it, JsonSpan *key, JsonSpan *value)
{
	const JsonNode *n = it->node;

	if (!it->outline)
		return JsonIterNextText(it, key, value);
	if (n >= it->stop)
		return false;
	if (key != NULL)
	{
		key->start = n->key;
		key->len = n->key_len;
		key->kind = n->key != NULL ? JSON_KIND_STRING : JSON_KIND_NONE;
		key->has_escapes = (n->flags & JSON_NODE_KEY_ESCAPES) != 0;
		key->node = NULL;
	}
	if (value != NULL)
		JsonNodeValue(n, value);
	it->member = n;
	it->node = n + n->skip;
	return true;
}

/*
 * The value of the member or element JsonIterNext returned last, for
 * callers that passed it no value span as they want only a few members'.
 */
static inline void
JsonIterValue(const JsonIter *it, JsonSpan *value)
{
	if (it->outline)
		JsonNodeValue(it->member, value);
	else
		*value = it->value;
}

/* Finds the last member named `name` of a validated object (JSON.parse keeps the last). */
extern bool JsonObjectGet(const JsonSpan *object, const char *name, JsonSpan *value);

/* Does the string span decode to exactly lit[0..litlen) (escapes honoured)? */
extern bool JsonStringEqualsLen(const JsonSpan *str, const char *lit, size_t litlen);

/*
 * Does the string span decode to exactly `lit` (escapes honoured)? Inline,
 * as keys are compared with literals at every member: without escapes the
 * text is the decoded string, and a length mismatch answers at once.
 */
static inline bool
JsonStringEquals(const JsonSpan *str, const char *lit)
{
	size_t		n = strlen(lit);	/* a constant for a literal */

	if (str != NULL && str->kind == JSON_KIND_STRING && str->start != NULL &&
		!str->has_escapes)
		return str->len == n + 2 && memcmp(str->start + 1, lit, n) == 0;
	return JsonStringEqualsLen(str, lit, n);
}

/*
 * Is the key of the member JsonIterNext returned last lit[0..litlen)
 * (escapes honoured)? As JsonStringEquals on that key, for callers that
 * look up a few names while walking an object: a recorded key is compared
 * where it lies in its node, not copied out into a span for each member.
 */
static inline bool
JsonIterKeyEqualsLen(const JsonIter *it, const char *lit, size_t litlen)
{
	if (it->outline)
		return JsonNodeKeyEqualsLit(it->member, lit, litlen);
	return JsonStringEqualsLen(&it->key, lit, litlen);
}

/* JsonIterKeyEqualsLen for a literal, whose length is a constant. */
static inline bool
JsonIterKeyEquals(const JsonIter *it, const char *lit)
{
	size_t		n = strlen(lit);

	if (!it->outline && it->key.kind == JSON_KIND_STRING && !it->key.has_escapes)
		return it->key.len == n + 2 && memcmp(it->key.start + 1, lit, n) == 0;
	return JsonIterKeyEqualsLen(it, lit, n);
}

/* Does the string span's decoded text start with `prefix`? */
extern bool JsonStringHasPrefix(const JsonSpan *str, const char *prefix);

/*
 * Appends the decoded string (without quotes) as UTF-8 to out. \u0000 and
 * lone surrogate escapes become U+FFFD, as PostgreSQL text cannot hold them.
 */
extern void JsonStringDecode(const JsonSpan *str, StringInfo out);

/* Number of characters (code points) of the decoded string. */
extern size_t JsonStringCharCount(const JsonSpan *str);

extern double JsonNumberValueText(const char *start, size_t len);

/*
 * The number span as a double (may be +-Inf for 1e400); NaN for a span
 * that is not a number, so a mistaken call cannot pass for a real 0.
 * Inline for one digit, as event types and sources are read at every event.
 */
static inline double
JsonNumberValue(const JsonSpan *num)
{
	if (num == NULL || num->kind != JSON_KIND_NUMBER || num->start == NULL ||
		num->len == 0)
		return NAN;
	if (num->len == 1 && (unsigned) (num->start[0] - '0') <= 9)
		return num->start[0] - '0';
	return JsonNumberValueText(num->start, num->len);
}

/* JavaScript truthiness of a value: false for null, false, 0, -0 and "". */
extern bool JsonIsTruthy(const JsonSpan *value);

/*
 * A NUL-terminated copy of a validated value's JSON text in which every
 * \u0000 and lone-surrogate escape is replaced by \ufffd, so that
 * PostgreSQL's json/jsonb input accepts it. Returns a palloc'd string.
 */
extern char *JsonTextForPostgres(const JsonSpan *value);

#endif							/* DOZOR_JSON_SCAN_H */
