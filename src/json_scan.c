/*
 * json_scan.c — strict JSON validation and a trusted structural walk.
 *
 * Design
 *
 * JsonScanValue is the only code that looks at untrusted bytes. It is a
 * goto-driven state machine over one flat loop: opening a container pushes
 * the closing bracket of the enclosing one onto a byte stack and bumps a
 * depth counter, closing pops it. Nothing recurses, so the C stack used is
 * constant whatever the nesting; the byte stack lives in a small local array
 * and moves to palloc'd memory only for unusually deep documents. Every read
 * is guarded by `p < end`: the buffer is not NUL-terminated.
 *
 * Strings dominate real rrweb traffic (DOM text, attributes, CSS), so the
 * validator looks for the three bytes that end a run of plain string
 * content ('"', '\\' and control characters) 16 bytes at a time with SSE2
 * where the compiler targets it (always on x86-64), 8 at a time with
 * portable SWAR arithmetic elsewhere.
 *
 * The JsonIter functions and the string helpers trust that their span was
 * validated, so they skip nested values by counting brackets outside
 * strings, again a vector at a time, and never look at numbers, literals or
 * escapes. "Trusted" only means that malformed input gives meaningless
 * answers: they still never read outside the span, and every iteration step
 * consumes at least one byte, so they always terminate.
 *
 * Lone surrogate escapes (\ud83d) and \u0000 are valid JSON and browsers do
 * emit them; PostgreSQL text cannot hold them, so wherever text leaves this
 * file they become U+FFFD.
 */
#include "json_scan.h"			/* pulls in postgres.h or postgres_fe.h */
#include "hex.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mb/pg_wchar.h"
#include "port/pg_bswap.h"

#if defined(__SSE2__) && !defined(JSON_SCAN_NO_SIMD)
#include <emmintrin.h>
#define JSON_SCAN_SSE2 1
#endif

/* Nesting levels that fit the on-stack part of the bracket stack. */
#define JSON_INLINE_LEVELS 512

#define JSON_REPLACEMENT_CP 0xFFFD

/* Byte classes for the trusted skip: which bytes change bracket depth. */
#define SKIP_QUOTE	1
#define SKIP_OPEN	2
#define SKIP_CLOSE	3

static const uint8 json_skip_class[256] = {
	['"'] = SKIP_QUOTE,
	['{'] = SKIP_OPEN,
	['['] = SKIP_OPEN,
	['}'] = SKIP_CLOSE,
	[']'] = SKIP_CLOSE,
};

/* Is c one of the four whitespace bytes RFC 8259 allows between tokens? */
static inline bool
JsonIsSpace(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/*
 * Returns the first non-whitespace position in [p, end), or end. Compact
 * JSON (JSON.stringify's) has none: one comparison says so, as every
 * whitespace byte is at most ' '.
 */
static inline const char *
JsonSkipSpace(const char *p, const char *end)
{
	if (likely(p < end && (unsigned char) *p > ' '))
		return p;
	while (p < end && JsonIsSpace(*p))
		p++;
	return p;
}

/* Is c an ASCII digit? */
static inline bool
JsonIsDigit(char c)
{
	return (unsigned char) (c - '0') < 10;
}

/* Is c an ASCII letter or digit? (isalnum would consult the locale.) */
static inline bool
JsonIsAlnum(char c)
{
	return JsonIsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Value of the four hex digits at p (bounded by end), or -1. */
static inline int32
JsonHex4(const char *p, const char *end)
{
	int32		v = 0;
	int			i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		int			d = HexDigitValue((unsigned char) p[i]);

		if (d < 0)
			return -1;
		v = (v << 4) | d;
	}
	return v;
}

/* Records a failure; always returns NULL so callers can `return JsonFail(...)`. */
static const char *
JsonFail(JsonScanner *s, const char *at, const char *msg)
{
	s->error = msg;
	s->error_pos = at - s->buf;
	return NULL;
}

#ifdef JSON_SCAN_SSE2
/* Bit i set: q[i] is '"', '\\' or a control byte (16 bytes from q). */
static inline int
JsonStringSpecialMask(const char *q)
{
	__m128i		v = _mm_loadu_si128((const __m128i *) q);

	/* min(v, 0x1F) == v exactly for the control bytes 0x00..0x1F */
	__m128i		m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
											  _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
								 _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v));

	return _mm_movemask_epi8(m);
}
#endif

/*
 * Returns the first position in [q, end) holding '"', '\\' or a byte below
 * 0x20, or end. Plain string content is skipped a word or a vector at a time.
 * *high gets a non-zero bit if a byte >= 0x80 may be among the bytes passed
 * (a false alarm only costs the caller a check).
 */
static inline const char *
JsonFindStringSpecial(const char *q, const char *end, uint32 *high)
{
#ifdef JSON_SCAN_SSE2
	while (end - q >= 16)
	{
		int			mask = JsonStringSpecialMask(q);

		*high |= _mm_movemask_epi8(_mm_loadu_si128((const __m128i *) q));
		if (mask != 0)
			return q + __builtin_ctz((unsigned int) mask);
		q += 16;
	}
#else
#define JSON_REP8(b) (UINT64CONST(0x0101010101010101) * (uint8) (b))
	while (end - q >= 8)
	{
		uint64		w;
		uint64		xq;
		uint64		xb;
		uint64		hit;

		memcpy(&w, q, 8);
		*high |= (w & JSON_REP8(0x80)) != 0;
		xq = w ^ JSON_REP8('"');
		xb = w ^ JSON_REP8('\\');

		/*
		 * Classic "has zero byte" / "has byte less than n" tests. They can
		 * flag extra bytes only above a genuine hit, so a non-zero word
		 * always holds a real special byte and the byte loop below finds it
		 * within these 8 bytes.
		 */
		hit = ((xq - JSON_REP8(1)) & ~xq) |
			((xb - JSON_REP8(1)) & ~xb) |
			((w - JSON_REP8(0x20)) & ~w);
		if ((hit & JSON_REP8(0x80)) != 0)
			break;
		q += 8;
	}
#undef JSON_REP8
#endif
	while (q < end && *q != '"' && *q != '\\' && (unsigned char) *q >= 0x20)
		*high |= (unsigned char) *q++ & 0x80;
	return q;
}

/*
 * The end of the positions p from which the inline paths below may read 17
 * bytes, p[0] to p[16]: p < vec_end means end - p > 16, one comparison.
 */
static inline const char *
JsonVecEnd(const char *buf, size_t len)
{
	return len > 16 ? buf + len - 16 : buf;
}

/*
 * The usual string inline: ASCII without escapes, and the closing quote
 * within the 16 bytes after the opening one at p (keys, class names, short
 * texts). vec_end is JsonVecEnd's: p + 16 is not the input's last byte.
 * Returns the position after it, or NULL when JsonScanString must decide.
 */
static inline const char *
JsonScanShortString(const char *p, const char *vec_end)
{
#ifdef JSON_SCAN_SSE2
	if (p < vec_end)
	{
		const char *q = p + 1;
		__m128i		v = _mm_loadu_si128((const __m128i *) q);

		/*
		 * As signed bytes, the control bytes and the bytes >= 0x80 are the
		 * ones below 0x20: one comparison finds both (JsonScanString checks
		 * the UTF-8 of the latter).
		 */
		int			mask = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
																	 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
												 _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));

		if (mask != 0)
		{
			q += __builtin_ctz((unsigned int) mask);
			return *q == '"' ? q + 1 : NULL;
		}
	}
#endif
	return NULL;
}

/*
 * Validates the string whose opening quote is at p, and with utf8 the
 * encoding of its contents too. Returns the position after the closing
 * quote, or NULL with the error recorded.
 */
static const char *
JsonScanString(JsonScanner *s, const char *p, const char *end,
			   bool *has_escapes, bool utf8)
{
	const char *q = p + 1;
	uint32		high = 0;

	for (;;)
	{
		q = JsonFindStringSpecial(q, end, &high);
		if (q >= end)
			return JsonFail(s, p, "unterminated string");
		if (*q == '"')
		{
			if (utf8 && high != 0)
			{
				/* PostgreSQL's check, so that it agrees with a check of the whole text */
				int			valid = pg_encoding_verifymbstr(PG_UTF8, p + 1, (int) (q - p - 1));

				if (valid != q - p - 1)
					return JsonFail(s, p + 1 + valid, "invalid UTF-8 in string");
			}
			return q + 1;
		}
		if (*q != '\\')
			return JsonFail(s, q, "control character in string");

		*has_escapes = true;
		if (end - q < 2)
			return JsonFail(s, p, "unterminated string");
		switch (q[1])
		{
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				q += 2;
				break;
			case 'u':
				if (JsonHex4(q + 2, end) < 0)
				{
					const char *h = q + 2;

					/* running out of input is truncation, not a bad escape */
					while (h < end && h < q + 6 && HexDigitValue((unsigned char) *h) >= 0)
						h++;
					if (h >= end)
						return JsonFail(s, p, "unterminated string");
					return JsonFail(s, q, "invalid escape");
				}
				/* lone surrogates and \u0000 are valid JSON: no pairing check */
				q += 6;
				break;
			default:
				return JsonFail(s, q, "invalid escape");
		}
	}
}

/*
 * Validates the number starting at p (RFC 8259 grammar). Returns the
 * position after it, or NULL with the error recorded.
 */
static const char *
JsonScanNumber(JsonScanner *s, const char *p, const char *end)
{
	if (*p == '-')
		p++;
	if (p >= end)
		return JsonFail(s, p, "unexpected end of input");
	if (*p == '0')
	{
		p++;
		if (p < end && JsonIsDigit(*p))
			return JsonFail(s, p, "invalid number");	/* leading zero */
	}
	else if (JsonIsDigit(*p))
	{
		while (p < end && JsonIsDigit(*p))
			p++;
	}
	else
		return JsonFail(s, p, "invalid number");

	/* an integer followed by what may follow a value: the usual case, done */
	if (p < end && (*p == ',' || *p == '}' || *p == ']'))
		return p;

	if (p < end && *p == '.')
	{
		p++;
		if (p >= end)
			return JsonFail(s, p, "unexpected end of input");
		if (!JsonIsDigit(*p))
			return JsonFail(s, p, "invalid number");
		while (p < end && JsonIsDigit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end)
			return JsonFail(s, p, "unexpected end of input");
		if (!JsonIsDigit(*p))
			return JsonFail(s, p, "invalid number");
		while (p < end && JsonIsDigit(*p))
			p++;
	}

	/* "1.2.3", "1x", "0x10", "1-2" are one bad token, not two tokens */
	if (p < end && (JsonIsAlnum(*p) || *p == '.' ||
					*p == '+' || *p == '-'))
		return JsonFail(s, p, "invalid number");
	return p;
}

/*
 * The usual number inline: digits without a leading zero (or a lone 0),
 * directly followed by ',', '}' or ']'. p holds a digit or '-' (which
 * always takes the long way). vec_end as for JsonScanShortString. Returns
 * the position after the number, or NULL when JsonScanNumber must decide.
 */
static inline const char *
JsonScanShortInteger(const char *p, const char *vec_end)
{
#ifdef JSON_SCAN_SSE2
	if (p < vec_end)
	{
		/* '0'..'9' become 0..9, the only bytes with min(v, 9) == v */
		__m128i		v = _mm_sub_epi8(_mm_loadu_si128((const __m128i *) p), _mm_set1_epi8('0'));
		uint32		digits = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(9)), v));
		int			n = __builtin_ctz(~digits); /* at most 16: p[n] is in bounds */
		char		c = p[n];

		/* (c | 0x20) == '}' for '}' and ']' alone */
		if ((c == ',' || (c | 0x20) == '}') && (n == 1 || *p != '0'))
			return p + n;
	}
#endif
	return NULL;
}

/* Validates the literal `lit` (true, false, null) at p. */
static const char *
JsonScanLiteral(JsonScanner *s, const char *p, const char *end,
				const char *lit, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		if (p + i >= end)
			return JsonFail(s, end, "unexpected end of input");
		if (p[i] != lit[i])
			return JsonFail(s, p + i, "invalid literal");
	}
	if (p + n < end && JsonIsAlnum(p[n]))
		return JsonFail(s, p + n, "invalid literal");
	return p + n;
}

/* Kind of the value whose first byte is c (validated or about to be). */
static inline JsonKind
JsonKindOf(char c)
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
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			return JSON_KIND_NUMBER;
		default:
			return JSON_KIND_NONE;
	}
}

/* Prepares a scanner over [buf, buf + len). */
void
JsonScanInit(JsonScanner *s, const char *buf, size_t len)
{
	s->buf = buf;
	s->len = len;
	s->pos = 0;
	s->error = NULL;
	s->error_pos = 0;
	s->too_deep = false;
	s->outline_depth = -1;
	s->outline_cap = 0;
	s->nodes = NULL;
	s->nnodes = 0;
	s->nodes_alloc = 0;
	s->check_utf8 = false;
}

/* Makes JsonScanValue check the UTF-8 inside strings too. */
void
JsonScanCheckUtf8(JsonScanner *s)
{
	s->check_utf8 = true;
}

/* Asks the next JsonScanValue for an outline down to max_depth. */
void
JsonScanOutline(JsonScanner *s, int max_depth, uint32 max_nodes)
{
	/* node spans hold 32-bit lengths */
	if (max_depth < 0 || max_nodes == 0 || s->len > PG_UINT32_MAX)
		return;
	s->outline_depth = Min(max_depth, JSON_OUTLINE_MAX_DEPTH);
	s->outline_cap = max_nodes;
}

/* Not a JsonKind: whitespace, where a value may start after it. */
#define JSON_BYTE_SPACE 8

/*
 * JsonKind of a value by its first byte, or JSON_BYTE_SPACE: the scanner
 * dispatches on it, whitespace included.
 */
static const uint8 json_kind_of_byte[256] = {
	[' '] = JSON_BYTE_SPACE, ['\t'] = JSON_BYTE_SPACE, ['\n'] = JSON_BYTE_SPACE,
	['\r'] = JSON_BYTE_SPACE,
	['{'] = JSON_KIND_OBJECT, ['['] = JSON_KIND_ARRAY, ['"'] = JSON_KIND_STRING,
	['t'] = JSON_KIND_TRUE, ['f'] = JSON_KIND_FALSE, ['n'] = JSON_KIND_NULL,
	['-'] = JSON_KIND_NUMBER, ['0'] = JSON_KIND_NUMBER, ['1'] = JSON_KIND_NUMBER,
	['2'] = JSON_KIND_NUMBER, ['3'] = JSON_KIND_NUMBER, ['4'] = JSON_KIND_NUMBER,
	['5'] = JSON_KIND_NUMBER, ['6'] = JSON_KIND_NUMBER, ['7'] = JSON_KIND_NUMBER,
	['8'] = JSON_KIND_NUMBER, ['9'] = JSON_KIND_NUMBER,
};

/*
 * Makes room for one more outline node; false when the node budget is
 * spent (the outline is then given up).
 */
static bool
JsonOutlineGrow(JsonScanner *s)
{
	size_t		grow;

	if (s->nnodes >= s->outline_cap)
		return false;
	if (s->nnodes < s->nodes_alloc)
		return true;
	/*
	 * The first guess is a node per 32 bytes of text, enough for rrweb
	 * bodies at the depths ingest records: one allocation whose untouched
	 * tail costs nothing, not a chain of copies (each touching new pages).
	 */
	grow = s->nodes_alloc > 0 ? (size_t) s->nodes_alloc * 2 : Max(s->len / 32, 256);
	grow = Min(grow, (size_t) s->outline_cap);
	if (s->nodes == NULL)
		s->nodes = palloc(mul_size(grow, sizeof(JsonNode)));
	else
		s->nodes = repalloc(s->nodes, mul_size(grow, sizeof(JsonNode)));
	s->nodes_alloc = grow;
	return true;
}

/*
 * Validates one complete value at s->pos.
 *
 * The labels are the states of the parser: `value` expects any value,
 * `key` expects an object key, `after` has just finished a value and looks
 * at the innermost open container's closing bracket (`closer`) to decide
 * what may follow. Compact JSON (JSON.stringify's, all of rrweb) has no
 * whitespace, so each state first looks for the byte it expects and skips
 * whitespace only when it meets some, then starts over.
 *
 * With an outline asked for, every value at a level up to `rec` also gets a
 * node, its length filled in when the value ends; open[l] is the node of
 * the container open at level l, and the key of an object member waits in
 * key/key_len until its value comes.
 */
bool
JsonScanValue(JsonScanner *s, JsonSpan *out)
{
	const char *end = s->buf + s->len;
	const char *vec_end = JsonVecEnd(s->buf, s->len);
	const char *p = s->buf + Min(s->pos, s->len);
	const char *vstart;
	uint8		inline_stack[JSON_INLINE_LEVELS];
	uint8	   *stack = inline_stack;	/* stack[d]: closer when depth was d */
	int			stack_cap = JSON_INLINE_LEVELS;
	int			depth = 0;
	char		closer = 0;		/* '}' or ']' of the innermost open container, 0 at top */
	bool		has_escapes = false;
	bool		ok = false;
	int			rec = s->outline_depth;
	bool		utf8 = s->check_utf8;
	uint32		open[JSON_OUTLINE_MAX_DEPTH + 1];
	int32		cur = -1;
	uint8		kind;			/* a JsonKind or JSON_BYTE_SPACE */
	const char *key = NULL;
	uint32		key_len = 0;
	uint8		key_flags = 0;

	s->error = NULL;
	s->error_pos = 0;
	s->too_deep = false;
	s->outline_depth = -1;		/* the outline is for this call only */
	s->nnodes = 0;
	out->start = NULL;
	out->len = 0;
	out->kind = JSON_KIND_NONE;
	out->has_escapes = false;
	out->node = NULL;

	p = JsonSkipSpace(p, end);
	vstart = p;

value:
	if (p >= end)
	{
		JsonFail(s, end, "unexpected end of input");
		goto done;
	}
	/* a dense switch on the kind is one table jump, not a search over bytes */
	kind = json_kind_of_byte[(uint8) *p];
	cur = -1;
	if (unlikely(depth <= rec) && kind != JSON_BYTE_SPACE)
	{
		if (unlikely(s->nnodes == s->nodes_alloc) && !JsonOutlineGrow(s))
			rec = -1;			/* over budget: no outline */
		else
		{
			JsonNode   *n = &s->nodes[s->nnodes];

			n->key = key;
			n->start = p;
			n->key_len = key_len;
			n->skip = 1;
			n->kind = kind;
			n->flags = key_flags;
			cur = s->nnodes++;
			key = NULL;
			key_len = 0;
			key_flags = 0;
		}
	}
	switch (kind)
	{
		case JSON_KIND_OBJECT:
		case JSON_KIND_ARRAY:
			{
				/* one comparison on the way in: the limit or the inline stack's end */
				if (unlikely(depth >= stack_cap))
				{
					if (depth >= JSON_MAX_DEPTH)
					{
						JsonFail(s, p, "nesting too deep");
						s->too_deep = true;
						goto done;
					}
					stack = palloc(JSON_MAX_DEPTH);
					memcpy(stack, inline_stack, sizeof(inline_stack));
					stack_cap = JSON_MAX_DEPTH;
				}
				stack[depth] = closer;
				closer = *p + 2;	/* '{' + 2 is '}', '[' + 2 is ']' */
				if (cur >= 0)
				{
					open[depth] = cur;
					if (depth < rec)
						s->nodes[cur].flags |= JSON_NODE_RECORDED;
				}
				depth++;

				p = JsonSkipSpace(p + 1, end);
				if (p < end && *p == closer)
				{
					p++;
					depth--;
					closer = stack[depth];
					if (cur >= 0)
						s->nodes[cur].len = p - s->nodes[cur].start;
					goto after;
				}
				if (closer == '}')
					goto key;
				goto value;
			}
		case JSON_KIND_STRING:
			{
				const char *q = JsonScanShortString(p, vec_end);

				/* only the long way can meet a backslash */
				if (q == NULL)
				{
					bool		esc = false;

					q = JsonScanString(s, p, end, &esc, utf8);
					has_escapes |= esc;
					if (cur >= 0 && esc)
						s->nodes[cur].flags |= JSON_NODE_ESCAPES;
				}
				p = q;
				break;
			}
		case JSON_KIND_NUMBER:
			{
				const char *q = JsonScanShortInteger(p, vec_end);

				p = q != NULL ? q : JsonScanNumber(s, p, end);
				break;
			}
		case JSON_KIND_TRUE:
			p = JsonScanLiteral(s, p, end, "true", 4);
			break;
		case JSON_KIND_FALSE:
			p = JsonScanLiteral(s, p, end, "false", 5);
			break;
		case JSON_KIND_NULL:
			p = JsonScanLiteral(s, p, end, "null", 4);
			break;
		case JSON_BYTE_SPACE:
			/* compact JSON has none: it is skipped only where it is met */
			p = JsonSkipSpace(p, end);
			goto value;
		case JSON_KIND_NONE:
			JsonFail(s, p, "unexpected character");
			goto done;
		default:
			pg_unreachable();	/* the table has nothing else: no range check */
	}
	if (p == NULL)
		goto done;
	if (cur >= 0)
		s->nodes[cur].len = p - s->nodes[cur].start;
	goto after;

key:
	if (p >= end)
	{
		JsonFail(s, end, "unexpected end of input");
		goto done;
	}
	if (*p != '"')
	{
		if (JsonIsSpace(*p))
		{
			p = JsonSkipSpace(p, end);
			goto key;
		}
		JsonFail(s, p, "object key must be a string");
		goto done;
	}
	{
		const char *kstart = p;
		uint8		kflags = 0;
		const char *q = JsonScanShortString(p, vec_end);

		/* (has_escapes is the root string's: keys do not set it) */
		if (q == NULL)
		{
			bool		esc = false;

			q = JsonScanString(s, p, end, &esc, utf8);
			if (q == NULL)
				goto done;
			kflags = esc ? JSON_NODE_KEY_ESCAPES : 0;
		}
		p = q;
		if (depth <= rec)
		{
			key = kstart;
			key_len = p - kstart;
			key_flags = kflags;
		}
	}
	/* compact JSON has the colon right after the key */
	if (unlikely(p >= end || *p != ':'))
	{
		p = JsonSkipSpace(p, end);
		if (p >= end)
		{
			JsonFail(s, end, "unexpected end of input");
			goto done;
		}
		if (*p != ':')
		{
			JsonFail(s, p, "expected ':' after object key");
			goto done;
		}
	}
	p++;
	goto value;

after:
	if (closer == 0)
	{
		ok = true;
		goto done;
	}
	if (p >= end)
	{
		JsonFail(s, end, "unexpected end of input");
		goto done;
	}
	{
		if (*p == ',')
		{
			/* key and value skip the whitespace that may follow */
			p++;
			if (closer == '}')
				goto key;
			goto value;
		}
		if (*p == closer)
		{
			p++;
			depth--;
			closer = stack[depth];
			if (depth <= rec)
			{
				JsonNode   *n = &s->nodes[open[depth]];

				n->len = p - n->start;
				n->skip = s->nnodes - open[depth];
			}
			goto after;
		}
		if (JsonIsSpace(*p))
		{
			p = JsonSkipSpace(p, end);
			goto after;
		}
		JsonFail(s, p, closer == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
		goto done;
	}

done:
	if (stack != inline_stack)
		pfree(stack);
	if (!ok)
		return false;

	out->start = vstart;
	out->len = p - vstart;
	out->kind = JsonKindOf(*vstart);
	/* a top-level string is the only string scanned, so the flag is its own */
	out->has_escapes = (out->kind == JSON_KIND_STRING) && has_escapes;
	if (rec >= 0 && s->nnodes > 0)
		out->node = &s->nodes[0];
	s->pos = p - s->buf;
	return true;
}

/* True when only whitespace remains after s->pos; otherwise records an error. */
bool
JsonScanAtEnd(JsonScanner *s)
{
	const char *end = s->buf + s->len;
	const char *p = JsonSkipSpace(s->buf + Min(s->pos, s->len), end);

	s->pos = p - s->buf;
	if (p < end)
	{
		JsonFail(s, p, "trailing characters after the value");
		return false;
	}
	return true;
}

/*
 * Trusted skip over string contents starting at q, just inside a string.
 * Returns the position after the closing quote (end if there is none) and
 * tells whether a backslash was seen. It shares the validator's vector
 * search; a backslash always escapes the next byte, so the closing quote is
 * the first quote not consumed by an escape.
 */
static const char *
JsonSkipStringBody(const char *q, const char *end, bool *has_escapes)
{
	bool		escaped = false;
	uint32		high = 0;		/* not needed here */

	for (;;)
	{
		q = JsonFindStringSpecial(q, end, &high);
		if (q >= end)
			break;
		if (*q == '"')
		{
			*has_escapes = escaped;
			return q + 1;
		}
		if (*q == '\\')
		{
			escaped = true;
			if (end - q <= 2)
				break;
			q += 2;
		}
		else
			q++;				/* a control byte: validated input has none */
	}
	*has_escapes = true;		/* malformed; the safe answer */
	return end;
}

/*
 * Trusted skip over the container whose opening bracket is at p. Returns
 * the position after its closing bracket, or end.
 *
 * Only quotes and brackets matter. With SSE2, a 16-byte block without a
 * backslash is handled whole: a prefix XOR of its quote bits marks the
 * bytes inside strings, and only the brackets outside them are visited.
 * A block holding a backslash, and every block without SSE2, goes through
 * the byte loop, which jumps over whole strings.
 */
static const char *
JsonSkipContainer(const char *p, const char *end)
{
	size_t		depth = 0;
	bool		in_string = false;

	while (p < end)
	{
		const char *stop = end;

#ifdef JSON_SCAN_SSE2
		if (end - p >= 16)
		{
			__m128i		v = _mm_loadu_si128((const __m128i *) p);

			if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))) == 0)
			{
				/* setting bit 0x20 folds '[' onto '{' and ']' onto '}' */
				__m128i		f = _mm_or_si128(v, _mm_set1_epi8(0x20));
				uint32		quotes = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
				uint32		opens = _mm_movemask_epi8(_mm_cmpeq_epi8(f, _mm_set1_epi8('{')));
				uint32		closes = _mm_movemask_epi8(_mm_cmpeq_epi8(f, _mm_set1_epi8('}')));
				uint32		inside = quotes;
				uint32		bits;

				/* bit i of inside: odd number of quotes at or before byte i */
				inside ^= inside << 1;
				inside ^= inside << 2;
				inside ^= inside << 4;
				inside ^= inside << 8;
				if (in_string)
					inside = ~inside;
				opens &= ~inside;
				closes &= ~inside;
				/* the last byte's bit tells whether the block ends inside a string */
				in_string = (inside >> 15) & 1;

				/* brackets are sparse: visiting each set bit beats counting them */
				bits = opens | closes;
				while (bits != 0)
				{
					int			i = __builtin_ctz(bits);

					if ((opens >> i) & 1)
						depth++;
					else if (--depth == 0)
						return p + i + 1;
					bits &= bits - 1;
				}
				p += 16;
				continue;
			}
			stop = p + 16;
		}
#endif
		while (p < stop)
		{
			uint8		cls;
			bool		dummy;

			if (in_string)
			{
				/* a vector block ended inside this string */
				p = JsonSkipStringBody(p, end, &dummy);
				in_string = false;
				continue;
			}
			cls = json_skip_class[(uint8) *p];
			p++;
			if (cls == SKIP_QUOTE)
				p = JsonSkipStringBody(p, end, &dummy);	/* may pass stop: fine */
			else if (cls == SKIP_OPEN)
				depth++;
			else if (cls == SKIP_CLOSE && --depth == 0)
				return p;
		}
	}
	return end;
}

/*
 * Trusted skip over the value starting at p, filling *out. The span is empty
 * (kind NONE) when p holds no value at all, which validated input never does.
 */
static const char *
JsonSkipValue(const char *p, const char *end, JsonSpan *out)
{
	const char *start = p;
	bool		has_escapes = false;

	out->kind = JsonKindOf(*p);
	switch (out->kind)
	{
		case JSON_KIND_OBJECT:
		case JSON_KIND_ARRAY:
			p = JsonSkipContainer(p, end);
			break;
		case JSON_KIND_STRING:
			p = JsonSkipStringBody(p + 1, end, &has_escapes);
			break;
		case JSON_KIND_NUMBER:
			p++;
			while (p < end && (JsonIsDigit(*p) || *p == '.' || *p == 'e' ||
							   *p == 'E' || *p == '+' || *p == '-'))
				p++;
			break;
		case JSON_KIND_TRUE:
		case JSON_KIND_NULL:
			p += Min(4, end - p);
			break;
		case JSON_KIND_FALSE:
			p += Min(5, end - p);
			break;
		case JSON_KIND_NONE:
			break;
	}
	out->start = start;
	out->len = p - start;
	out->has_escapes = has_escapes;
	out->node = NULL;
	return p;
}

/* JsonIterInit for a container without recorded children: walk its text. */
void
JsonIterInitText(JsonIter *it, const JsonSpan *container)
{
	bool		usable = container != NULL && container->start != NULL &&
		container->len >= 2 &&
		(container->kind == JSON_KIND_OBJECT ||
		 container->kind == JSON_KIND_ARRAY);

	it->outline = false;
	it->is_object = usable && container->kind == JSON_KIND_OBJECT;
	it->done = !usable;
	it->pos = usable ? container->start + 1 : NULL;
	it->end = usable ? container->start + container->len : NULL;
}

/* JsonIterNext over the text: skips to the next member or element. */
bool
JsonIterNextText(JsonIter *it, JsonSpan *key, JsonSpan *value)
{
	const char *lim;
	const char *p;
	JsonSpan	k = {NULL, 0, JSON_KIND_NONE, false, NULL};
	JsonSpan	v;

	if (it->done)
		return false;

	/* everything before the closing bracket belongs to the members */
	lim = it->end - 1;
	p = JsonSkipSpace(it->pos, lim);
	if (p < lim && *p == ',')
		p = JsonSkipSpace(p + 1, lim);
	if (p >= lim)
		goto finished;

	if (it->is_object)
	{
		if (*p != '"')
			goto finished;
		p = JsonSkipValue(p, lim, &k);
		p = JsonSkipSpace(p, lim);
		if (p < lim && *p == ':')
			p++;
		p = JsonSkipSpace(p, lim);
		if (p >= lim)
			goto finished;
	}

	p = JsonSkipValue(p, lim, &v);
	if (v.len == 0)
		goto finished;			/* no progress possible: stop, never spin */

	it->pos = p;
	it->key = k;
	it->value = v;
	if (key != NULL)
		*key = k;
	if (value != NULL)
		*value = v;
	return true;

finished:
	it->done = true;
	it->pos = lim;
	return false;
}

/*
 * Decodes the escape sequence at p (p[0] is the backslash, p < end) into a
 * code point. Returns the number of bytes consumed, always at least 1.
 * A high surrogate escape directly followed by a low surrogate escape is one
 * code point; \u0000 and unpaired surrogates become U+FFFD.
 */
static size_t
JsonDecodeEscape(const char *p, const char *end, uint32 *cp)
{
	int32		u;
	int32		lo;

	*cp = JSON_REPLACEMENT_CP;
	if (end - p < 2)
		return end - p;
	switch (p[1])
	{
		case '"':
			*cp = '"';
			return 2;
		case '\\':
			*cp = '\\';
			return 2;
		case '/':
			*cp = '/';
			return 2;
		case 'b':
			*cp = '\b';
			return 2;
		case 'f':
			*cp = '\f';
			return 2;
		case 'n':
			*cp = '\n';
			return 2;
		case 'r':
			*cp = '\r';
			return 2;
		case 't':
			*cp = '\t';
			return 2;
		case 'u':
			break;
		default:
			return 2;			/* invalid; validated input has none */
	}

	u = JsonHex4(p + 2, end);
	if (u < 0)
		return 2;
	if (u >= 0xD800 && u <= 0xDBFF)
	{
		if (end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
			(lo = JsonHex4(p + 8, end)) >= 0xDC00 && lo <= 0xDFFF)
		{
			*cp = 0x10000 + (((uint32) u - 0xD800) << 10) + ((uint32) lo - 0xDC00);
			return 12;
		}
		return 6;				/* unpaired high surrogate: U+FFFD */
	}
	if (u == 0 || (u >= 0xDC00 && u <= 0xDFFF))
		return 6;				/* \u0000 or a low surrogate with no high one */
	*cp = (uint32) u;
	return 6;
}

/* Encodes a code point (never a surrogate) as UTF-8 into buf; returns its length. */
static int
JsonEncodeUtf8(uint32 cp, char *buf)
{
	if (cp < 0x80)
	{
		buf[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		buf[0] = (char) (0xC0 | (cp >> 6));
		buf[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		buf[0] = (char) (0xE0 | (cp >> 12));
		buf[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		buf[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	buf[0] = (char) (0xF0 | (cp >> 18));
	buf[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	buf[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	buf[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

/* Sets [*body, *body_end) to the string's contents; false for non-strings. */
static inline bool
JsonStringBody(const JsonSpan *str, const char **body, const char **body_end)
{
	if (str == NULL || str->kind != JSON_KIND_STRING || str->start == NULL ||
		str->len < 2)
		return false;
	*body = str->start + 1;
	*body_end = str->start + str->len - 1;
	return true;
}

/*
 * Compares the decoded string with lit byte by byte: whole-string equality,
 * or (prefix_only) whether lit is a prefix of it. Decoding follows
 * JsonStringDecode, so this agrees with comparing its output.
 */
static bool
JsonStringMatch(const JsonSpan *str, const char *lit, size_t litlen,
				bool prefix_only)
{
	const char *p;
	const char *end;
	const char *l = lit;
	const char *lend = lit + litlen;

	if (!JsonStringBody(str, &p, &end))
		return false;
	if (!str->has_escapes)
	{
		size_t		n = end - p;

		if (prefix_only ? n < litlen : n != litlen)
			return false;
		return memcmp(p, lit, litlen) == 0;
	}

	while (p < end)
	{
		if (l == lend)
			return prefix_only;
		if (*p != '\\')
		{
			if (*p != *l)
				return false;
			p++;
			l++;
		}
		else
		{
			uint32		cp;
			char		enc[4];
			int			n;
			int			i;

			p += JsonDecodeEscape(p, end, &cp);
			n = JsonEncodeUtf8(cp, enc);
			for (i = 0; i < n; i++)
			{
				if (l == lend)
					return prefix_only;
				if (enc[i] != *l)
					return false;
				l++;
			}
		}
	}
	return l == lend;
}

/* Does the string span decode to exactly lit[0..litlen)? */
bool
JsonStringEqualsLen(const JsonSpan *str, const char *lit, size_t litlen)
{
	return JsonStringMatch(str, lit, litlen, false);
}

/* Does the key of an outline node decode to exactly lit[0..litlen)? */
bool
JsonNodeKeyEqualsLen(const JsonNode *node, const char *lit, size_t litlen)
{
	JsonSpan	key = {node->key, node->key_len,
		node->key != NULL ? JSON_KIND_STRING : JSON_KIND_NONE,
	(node->flags & JSON_NODE_KEY_ESCAPES) != 0, NULL};

	return JsonStringMatch(&key, lit, litlen, false);
}

/* Does the string span's decoded text start with `prefix`? */
bool
JsonStringHasPrefix(const JsonSpan *str, const char *prefix)
{
	return JsonStringMatch(str, prefix, strlen(prefix), true);
}

/* Finds the last member named `name` of a validated object. */
bool
JsonObjectGet(const JsonSpan *object, const char *name, JsonSpan *value)
{
	JsonIter	it;
	size_t		namelen = strlen(name);
	bool		found = false;

	if (object == NULL || object->kind != JSON_KIND_OBJECT)
		return false;
	JsonIterInit(&it, object);
	while (JsonIterNext(&it, NULL, NULL))
	{
		/* keep going after a match: JSON.parse lets the last duplicate win */
		if (JsonIterKeyEqualsLen(&it, name, namelen))
		{
			JsonIterValue(&it, value);
			found = true;
		}
	}
	return found;
}

/* Appends the decoded string as UTF-8; \u0000 and lone surrogates become U+FFFD. */
void
JsonStringDecode(const JsonSpan *str, StringInfo out)
{
	const char *p;
	const char *end;

	if (!JsonStringBody(str, &p, &end))
		return;
	while (p < end)
	{
		const char *bs = memchr(p, '\\', end - p);
		uint32		cp;
		char		enc[4];

		if (bs == NULL)
		{
			appendBinaryStringInfo(out, p, end - p);
			return;
		}
		if (bs > p)
			appendBinaryStringInfo(out, p, bs - p);
		p = bs + JsonDecodeEscape(bs, end, &cp);
		appendBinaryStringInfo(out, enc, JsonEncodeUtf8(cp, enc));
	}
}

/* Code points in [p, end) of raw UTF-8: every byte but continuation bytes. */
static inline size_t
JsonCountUtf8(const char *p, const char *end)
{
	size_t		n = 0;

	for (; p < end; p++)
		n += ((uint8) *p & 0xC0) != 0x80;
	return n;
}

/* Number of code points of the decoded string. */
size_t
JsonStringCharCount(const JsonSpan *str)
{
	const char *p;
	const char *end;
	size_t		count = 0;

	if (!JsonStringBody(str, &p, &end))
		return 0;
	while (p < end)
	{
		const char *bs = memchr(p, '\\', end - p);
		uint32		cp;

		if (bs == NULL)
			return count + JsonCountUtf8(p, end);
		count += JsonCountUtf8(p, bs);
		/* every escape (a surrogate pair too) is one code point */
		p = bs + JsonDecodeEscape(bs, end, &cp);
		count++;
	}
	return count;
}

/* 8 bytes of text as a word whose lowest byte is the first character. */
static inline uint64
JsonLoad8(const char *p)
{
	uint64		v;

	memcpy(&v, p, sizeof(v));
#ifdef WORDS_BIGENDIAN
	v = pg_bswap64(v);
#endif
	return v;
}

/* Zero when the 8 characters of JsonLoad8's word are all ASCII digits. */
static inline uint64
JsonNon8Digits(uint64 v)
{
	/* a byte's own high nibble must be 3, and stay 3 when 6 is added */
	return ((v & UINT64CONST(0xF0F0F0F0F0F0F0F0)) |
			(((v + UINT64CONST(0x0606060606060606)) & UINT64CONST(0xF0F0F0F0F0F0F0F0)) >> 4)) ^
		UINT64CONST(0x3333333333333333);
}

/*
 * The value of 8 digits (JsonNon8Digits), pairs, then quads, then all;
 * zero bytes count as leading zeros.
 */
static inline uint64
JsonValue8Digits(uint64 v)
{
	v = ((v & UINT64CONST(0x0F0F0F0F0F0F0F0F)) * 2561) >> 8;
	v = ((v & UINT64CONST(0x00FF00FF00FF00FF)) * 6553601) >> 16;
	return (uint32) (((v & UINT64CONST(0x0000FFFF0000FFFF)) * UINT64CONST(42949672960001)) >> 32);
}

/*
 * The digits [p, end) as an integer that a double holds exactly (at most 16
 * digits, at most 2^53); false for anything else. From 8 digits on, a word
 * at each end covers them all: the last 8 digits, and the first n - 8 moved
 * to the word's end (a 13-digit millisecond timestamp is two words).
 */
static inline bool
JsonExactInteger(const char *p, const char *end, uint64 *value)
{
	size_t		n = end - p;
	uint64		acc = 0;

	if (n == 0 || n > 16)
		return false;
	if (n < 8)
	{
		for (; p < end; p++)
		{
			unsigned	d = (unsigned char) *p - '0';

			if (d > 9)
				return false;
			acc = acc * 10 + d;
		}
	}
	else
	{
		uint64		head = JsonLoad8(p);
		uint64		tail = JsonLoad8(end - 8);

		if ((JsonNon8Digits(head) | JsonNon8Digits(tail)) != 0)
			return false;
		acc = JsonValue8Digits(tail);
		if (n > 8)
			acc += JsonValue8Digits(head << (8 * (16 - n))) * 100000000;
	}
	if (acc > (UINT64CONST(1) << 53))
		return false;
	*value = acc;
	return true;
}

/*
 * strtod of the number text. Out of line, as its buffer costs every call a
 * stack frame and canary.
 */
static pg_noinline double
JsonNumberStrtod(const char *start, size_t len)
{
	char		stackbuf[64];
	char	   *tmp = stackbuf;
	double		v;

	/* strtod needs a terminator, and the span is not followed by one */
	if (len >= sizeof(stackbuf))
		tmp = palloc(len + 1);
	memcpy(tmp, start, len);
	tmp[len] = '\0';
	/* LC_NUMERIC is always "C" in the backend, so '.' is the decimal point */
	v = strtod(tmp, NULL);
	if (tmp != stackbuf)
		pfree(tmp);
	return v;
}

/* JsonNumberValue of a number span's text [start, start + len), len > 0. */
double
JsonNumberValueText(const char *start, size_t len)
{
	bool		negative = start[0] == '-';
	uint64		acc;

	/*
	 * Plain integers that are exact in a double (every millisecond
	 * timestamp) are converted here, strtod is several times slower; the
	 * double is the same, as both are exact.
	 */
	if (JsonExactInteger(start + negative, start + len, &acc))
		return negative ? -(double) acc : (double) acc;
	return JsonNumberStrtod(start, len);
}

/* JavaScript truthiness: false for null, false, 0, -0 and "". */
bool
JsonIsTruthy(const JsonSpan *value)
{
	if (value == NULL || value->start == NULL)
		return false;
	switch (value->kind)
	{
		case JSON_KIND_OBJECT:
		case JSON_KIND_ARRAY:
		case JSON_KIND_TRUE:
			return true;
		case JSON_KIND_STRING:
			return value->len > 2;	/* "" is the only falsy string */
		case JSON_KIND_NUMBER:
			return JsonNumberValue(value) != 0.0;	/* 1e-400 is 0 in JS too */
		case JSON_KIND_FALSE:
		case JSON_KIND_NULL:
		case JSON_KIND_NONE:
			break;
	}
	return false;
}

/*
 * A palloc'd, NUL-terminated copy of the value's text with \u0000 and lone
 * surrogate escapes rewritten to \ufffd. Both are six bytes, so the copy is
 * patched in place and everything else stays byte-identical.
 */
char *
JsonTextForPostgres(const JsonSpan *value)
{
	size_t		len = (value != NULL && value->start != NULL) ? value->len : 0;
	char	   *res = palloc(len + 1);
	char	   *p = res;
	char	   *end = res + len;

	if (len > 0)
		memcpy(res, value->start, len);
	res[len] = '\0';

	/* validated JSON has backslashes only inside strings, each starting an escape */
	while (p < end)
	{
		char	   *bs = memchr(p, '\\', end - p);
		int32		u;
		int32		lo;

		if (bs == NULL)
			break;
		if (end - bs < 6 || bs[1] != 'u' || (u = JsonHex4(bs + 2, end)) < 0)
		{
			/* a two-byte escape such as \\ : skipping it keeps \\u0000 intact */
			p = bs + Min(2, end - bs);
			continue;
		}
		if (u >= 0xD800 && u <= 0xDBFF &&
			end - bs >= 12 && bs[6] == '\\' && bs[7] == 'u' &&
			(lo = JsonHex4(bs + 8, end)) >= 0xDC00 && lo <= 0xDFFF)
		{
			p = bs + 12;		/* a proper pair stays as it is */
			continue;
		}
		if (u == 0 || (u >= 0xD800 && u <= 0xDFFF))
			memcpy(bs, "\\ufffd", 6);
		p = bs + 6;
	}
	return res;
}
