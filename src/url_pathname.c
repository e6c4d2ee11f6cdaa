/*
 * url_pathname.c — the WHATWG URL `pathname` of a string (docs/HISTORY.md §5).
 *
 * This is the WHATWG "basic URL parser" with no base URL and no state
 * override, reduced to what decides the pathname: the scheme, whether the
 * authority parses (a bad host or port makes the whole URL fail, so the host
 * is validated even though it is not returned), and the path.  The spec's
 * state machine is written out as straight-line code; the comments name the
 * states so the two can be compared.  Query, fragment, username and password
 * are never built.
 *
 * Input is bytes, read as UTF-8: non-ASCII bytes are percent-encoded one by
 * one, which for valid UTF-8 is exactly the spec's "UTF-8 percent-encode".
 * Every delimiter is ASCII, so scanning bytes instead of code points finds
 * the same boundaries.  The result is always ASCII.
 *
 * Host validation follows the spec for IPv6, IPv4, opaque hosts and ASCII
 * domains.  Full UTS #46 (IDNA) mapping needs Unicode tables; for non-ASCII
 * domains and "xn--" labels we apply the mappings and rejections that matter
 * in practice (case, full-width forms, ideographic dots, ignored and
 * disallowed code points, Punycode validity) and accept the rest, so an
 * exotic internationalised host may parse here where a browser rejects it.
 *
 * The core is frontend-buildable (palloc and StringInfo only, no ereport),
 * so test/unit/url_pathname_test.c runs it without a server.  Work and
 * memory are linear in the input.
 */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#endif

#include "lib/stringinfo.h"

#include "hex.h"
#include "url_pathname.h"

/* One parse: the cleaned input and the path being built. */
typedef struct UrlParser
{
	const char *s;				/* input after trimming and tab/newline removal */
	size_t		n;
	bool		special;		/* http, https, ws, wss, ftp, file */
	bool		file;
	StringInfoData path;		/* "/seg1/seg2..." */
	int			nsegs;
} UrlParser;

static const char *const special_schemes[] = {
	"http", "https", "ws", "wss", "ftp", "file"
};

/* ASCII-only classifiers: the spec's, independent of the C locale. */
static inline bool
UrlIsAlpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
UrlIsDigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}


static inline unsigned char
UrlLower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Forbidden host code point (spec): what an opaque host may not contain. */
static bool
UrlForbiddenHost(unsigned char c)
{
	switch (c)
	{
		case 0x00:
		case '\t':
		case '\n':
		case '\r':
		case ' ':
		case '#':
		case '/':
		case ':':
		case '<':
		case '>':
		case '?':
		case '@':
		case '[':
		case '\\':
		case ']':
		case '^':
		case '|':
			return true;
		default:
			return false;
	}
}

/* Forbidden domain code point: forbidden host, C0 controls, %, DEL. */
static bool
UrlForbiddenDomain(uint32 c)
{
	return c < 0x20 || c == '%' || c == 0x7f ||
		(c < 0x80 && UrlForbiddenHost((unsigned char) c));
}

/* Path percent-encode set, for bytes (every byte >= 0x80 is encoded). */
static bool
UrlInPathSet(unsigned char c)
{
	if (c < 0x20 || c > 0x7e)
		return true;
	switch (c)
	{
		case ' ':
		case '"':
		case '#':
		case '<':
		case '>':
		case '?':
		case '`':
		case '{':
		case '}':
			return true;
		default:
			return false;
	}
}

/* Appends byte c to buf, percent-encoded (uppercase hex) when `encode`. */
static void
UrlAppendByte(StringInfo buf, unsigned char c, bool encode)
{
	static const char hex[] = "0123456789ABCDEF";

	if (encode)
	{
		appendStringInfoChar(buf, '%');
		appendStringInfoChar(buf, hex[c >> 4]);
		appendStringInfoChar(buf, hex[c & 0x0f]);
	}
	else
		appendStringInfoChar(buf, (char) c);
}

/* Case-insensitive equality of s[0..len) with the lowercase literal lit. */
static bool
UrlEqualsCI(const char *s, size_t len, const char *lit)
{
	size_t		i;

	if (strlen(lit) != len)
		return false;
	for (i = 0; i < len; i++)
		if (UrlLower((unsigned char) s[i]) != (unsigned char) lit[i])
			return false;
	return true;
}

/* Single-dot path segment: "." or "%2e", any case. */
static bool
UrlSingleDot(const char *s, size_t len)
{
	return UrlEqualsCI(s, len, ".") || UrlEqualsCI(s, len, "%2e");
}

/* Double-dot path segment: "..", ".%2e", "%2e.", "%2e%2e", any case. */
static bool
UrlDoubleDot(const char *s, size_t len)
{
	return UrlEqualsCI(s, len, "..") || UrlEqualsCI(s, len, ".%2e") ||
		UrlEqualsCI(s, len, "%2e.") || UrlEqualsCI(s, len, "%2e%2e");
}

/* Windows drive letter: an ASCII letter then ':' or '|'. */
static bool
UrlDriveLetter(const char *s, size_t len)
{
	return len == 2 && UrlIsAlpha((unsigned char) s[0]) &&
		(s[1] == ':' || s[1] == '|');
}

/* Appends one segment to the path. */
static void
UrlPathPush(UrlParser *p, const char *seg, size_t len)
{
	appendStringInfoChar(&p->path, '/');
	appendBinaryStringInfo(&p->path, seg, (int) len);
	p->nsegs++;
}

/* The spec's "shorten a URL's path". */
static void
UrlPathShorten(UrlParser *p)
{
	int			i;

	if (p->nsegs == 0)
		return;
	/* A file URL keeps its drive letter: file:///C:/.. stays /C:/ */
	if (p->file && p->nsegs == 1 && p->path.len == 3 &&
		UrlIsAlpha((unsigned char) p->path.data[1]) && p->path.data[2] == ':')
		return;
	/* Segments never contain '/', so the last one starts at the last '/'. */
	for (i = p->path.len - 1; i > 0 && p->path.data[i] != '/'; i--)
		;
	p->path.len = i;
	p->path.data[i] = '\0';
	p->nsegs--;
}

/*
 * Path state, from s[pos] with an empty buffer, to the end of the path
 * (end of input, '?' or '#').
 */
static void
UrlParsePath(UrlParser *p, size_t pos)
{
	StringInfoData seg;

	initStringInfo(&seg);
	for (;;)
	{
		bool		slash;

		resetStringInfo(&seg);
		while (pos < p->n)
		{
			unsigned char c = (unsigned char) p->s[pos];

			if (c == '/' || (p->special && c == '\\') || c == '?' || c == '#')
				break;
			UrlAppendByte(&seg, c, UrlInPathSet(c));
			pos++;
		}
		slash = pos < p->n &&
			(p->s[pos] == '/' || (p->special && p->s[pos] == '\\'));

		if (UrlDoubleDot(seg.data, seg.len))
		{
			UrlPathShorten(p);
			/* "/a/.." ends in a directory: keep the trailing slash. */
			if (!slash)
				UrlPathPush(p, "", 0);
		}
		else if (UrlSingleDot(seg.data, seg.len))
		{
			if (!slash)
				UrlPathPush(p, "", 0);
		}
		else
		{
			if (p->file && p->nsegs == 0 && UrlDriveLetter(seg.data, seg.len))
				seg.data[1] = ':';
			UrlPathPush(p, seg.data, seg.len);
		}

		if (!slash)
			break;
		pos++;
	}
	pfree(seg.data);
}

/* Opaque path state: everything up to '?' or '#', C0-control encoded. */
static void
UrlParseOpaquePath(UrlParser *p, size_t pos)
{
	for (; pos < p->n; pos++)
	{
		unsigned char c = (unsigned char) p->s[pos];

		if (c == '?' || c == '#')
			break;
		UrlAppendByte(&p->path, c, c < 0x20 || c > 0x7e);
	}
}

/*
 * IPv4 number parser: decimal, 0x-hex or 0-octal; an empty string after
 * the prefix is 0.  Values saturate at 2^40 (any such value is too big).
 */
static bool
UrlIpv4Number(const char *s, size_t len, uint64 *val)
{
	int			radix = 10;
	uint64		v = 0;
	size_t		i;

	if (len == 0)
		return false;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
	{
		radix = 16;
		s += 2;
		len -= 2;
	}
	else if (len >= 2 && s[0] == '0')
	{
		radix = 8;
		s++;
		len--;
	}
	for (i = 0; i < len; i++)
	{
		int			d = HexDigitValue((unsigned char) s[i]);

		if (d < 0 || d >= radix)
			return false;
		v = v * radix + d;
		if (v > ((uint64) 1 << 40))
			v = (uint64) 1 << 40;
	}
	*val = v;
	return true;
}

/*
 * Bounds of the last dot-separated part of d[0..len), after dropping one
 * trailing empty part when there is more than one part.  Returns the number
 * of parts kept.
 */
static int
UrlLastPart(const char *d, size_t len, size_t *start, size_t *end)
{
	int			parts = 1;
	size_t		i;
	size_t		e = len;
	size_t		b;

	for (i = 0; i < len; i++)
		if (d[i] == '.')
			parts++;
	if (parts > 1 && len > 0 && d[len - 1] == '.')
	{
		e = len - 1;
		parts--;
	}
	for (b = e; b > 0 && d[b - 1] != '.'; b--)
		;
	*start = b;
	*end = e;
	return parts;
}

/* The spec's "ends in a number" checker on an ASCII-lowercased domain. */
static bool
UrlEndsInNumber(const char *d, size_t len)
{
	size_t		b,
				e,
				i;
	uint64		v;
	bool		digits;

	(void) UrlLastPart(d, len, &b, &e);
	if (b == e)
		return false;
	digits = true;
	for (i = b; i < e; i++)
		if (!UrlIsDigit((unsigned char) d[i]))
			digits = false;
	if (digits)
		return true;
	return UrlIpv4Number(d + b, e - b, &v);
}

/* The spec's IPv4 parser, as a validity check. */
static bool
UrlIpv4Valid(const char *d, size_t len)
{
	size_t		b,
				e,
				pos;
	int			parts = UrlLastPart(d, len, &b, &e);
	int			k;
	uint64		v = 0;

	if (parts > 4)
		return false;
	pos = 0;
	for (k = 0; k < parts; k++)
	{
		size_t		q = pos;

		while (q < e && d[q] != '.')
			q++;
		if (!UrlIpv4Number(d + pos, q - pos, &v))
			return false;
		if (k < parts - 1 && v > 255)
			return false;
		pos = q + 1;
	}
	/* The last number fills the remaining 5 - parts bytes. */
	return v < ((uint64) 1 << (8 * (5 - parts)));
}

/* The spec's IPv6 parser (inside the brackets), as a validity check. */
static bool
UrlIpv6Valid(const char *s, size_t len)
{
	size_t		p = 0;
	int			piece = 0;
	int			compress = -1;

#define C(i)	((i) < len ? (unsigned char) s[(i)] : 0)
	if (C(p) == ':')
	{
		if (C(p + 1) != ':')
			return false;
		p += 2;
		piece++;
		compress = piece;
	}
	while (p < len)
	{
		int			length = 0;

		if (piece == 8)
			return false;
		if (C(p) == ':')
		{
			if (compress >= 0)
				return false;
			p++;
			piece++;
			compress = piece;
			continue;
		}
		while (length < 4 && p < len && HexDigitValue(C(p)) >= 0)
		{
			p++;
			length++;
		}
		if (p < len && C(p) == '.')
		{
			int			seen = 0;

			if (length == 0)
				return false;
			p -= length;
			if (piece > 6)
				return false;
			while (p < len)
			{
				int			v = -1;

				if (seen > 0)
				{
					if (C(p) == '.' && seen < 4)
						p++;
					else
						return false;
				}
				if (p >= len || !UrlIsDigit(C(p)))
					return false;
				while (p < len && UrlIsDigit(C(p)))
				{
					int			digit = C(p) - '0';

					if (v < 0)
						v = digit;
					else if (v == 0)
						return false;	/* leading zero */
					else
						v = v * 10 + digit;
					if (v > 255)
						return false;
					p++;
				}
				seen++;
				if (seen == 2 || seen == 4)
					piece++;
			}
			return seen == 4 && (compress >= 0 || piece == 8);
		}
		else if (p < len && C(p) == ':')
		{
			p++;
			if (p >= len)
				return false;
		}
		else if (p < len)
			return false;
		piece++;
	}
#undef C
	return compress >= 0 || piece == 8;
}

/*
 * Decodes one UTF-8 code point at s[*pos..len); returns it and advances, or
 * returns -1 for an invalid sequence (overlong, surrogate, > U+10FFFF).
 */
static int32
UrlUtf8Next(const unsigned char *s, size_t len, size_t *pos)
{
	unsigned char c = s[*pos];
	int			need;
	uint32		cp;
	uint32		min;
	int			k;

	if (c < 0x80)
	{
		(*pos)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf)
	{
		need = 1;
		cp = c & 0x1f;
		min = 0x80;
	}
	else if (c >= 0xe0 && c <= 0xef)
	{
		need = 2;
		cp = c & 0x0f;
		min = 0x800;
	}
	else if (c >= 0xf0 && c <= 0xf4)
	{
		need = 3;
		cp = c & 0x07;
		min = 0x10000;
	}
	else
		return -1;
	if (len - *pos <= (size_t) need)
		return -1;
	for (k = 1; k <= need; k++)
	{
		unsigned char cc = s[*pos + k];

		if ((cc & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (cc & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*pos += need + 1;
	return (int32) cp;
}

/*
 * Approximate UTS #46 mapping of one code point: returns the mapped code
 * point, URL_IDNA_IGNORED when it is dropped, or URL_IDNA_DISALLOWED.
 * Only the mappings that change whether a host is valid are here.
 */
#define URL_IDNA_DISALLOWED	(-1)
#define URL_IDNA_IGNORED	(-2)

static int32
UrlIdnaMap(uint32 c)
{
	if (c < 0x80)
		return UrlLower((unsigned char) c);
	/* Ignored: soft hyphen, joiners and variation selectors, BOM... */
	if (c == 0xad || c == 0x34f || (c >= 0x180b && c <= 0x180f) ||
		c == 0x200b || c == 0x2060 || c == 0x2064 || c == 0xfeff ||
		(c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xe0100 && c <= 0xe01ef))
		return URL_IDNA_IGNORED;
	/* Ideographic and full-width full stops are label separators. */
	if (c == 0x3002 || c == 0xff0e || c == 0xff61)
		return '.';
	/* Full-width ASCII maps to ASCII (and so may be forbidden). */
	if (c >= 0xff01 && c <= 0xff5e)
		return UrlLower((unsigned char) (c - 0xfee0));
	/* Spaces map to U+0020, which is forbidden. */
	if (c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
		c == 0x202f || c == 0x205f || c == 0x3000)
		return ' ';
	/*
	 * Disallowed: C1 controls, joiners (CheckJoiners), bidi controls,
	 * separators, specials, private use, noncharacters.
	 */
	if (c <= 0x9f || c == 0x61c || c == 0x200c || c == 0x200d ||
		c == 0x200e || c == 0x200f || (c >= 0x2028 && c <= 0x202e) ||
		(c >= 0x2066 && c <= 0x2069) || (c >= 0xfff9 && c <= 0xffff) ||
		(c >= 0xe000 && c <= 0xf8ff) || (c >= 0xfdd0 && c <= 0xfdef) ||
		(c & 0xfffe) == 0xfffe || c >= 0xf0000)
		return URL_IDNA_DISALLOWED;
	/* Unassigned: most of planes 2 and 3, all of 4 to 14. */
	if ((c >= 0x2ee60 && c <= 0x2f7ff) || (c >= 0x2fa20 && c <= 0x2ffff) ||
		(c >= 0x323b0 && c <= 0xeffff))
		return URL_IDNA_DISALLOWED;
	return (int32) c;
}

/*
 * Combining marks of the combining blocks and of the right-to-left scripts
 * (a label may not start with one).
 */
static bool
UrlIdnaCombining(uint32 c)
{
	return (c >= 0x300 && c <= 0x36f) || (c >= 0x483 && c <= 0x489) ||
		(c >= 0x591 && c <= 0x5bd) || c == 0x5bf || c == 0x5c1 ||
		c == 0x5c2 || c == 0x5c4 || c == 0x5c5 || c == 0x5c7 ||
		(c >= 0x610 && c <= 0x61a) || (c >= 0x64b && c <= 0x65f) ||
		c == 0x670 || (c >= 0x6d6 && c <= 0x6dc) ||
		(c >= 0x6df && c <= 0x6e4) || c == 0x6e7 || c == 0x6e8 ||
		(c >= 0x6ea && c <= 0x6ed) || c == 0x711 ||
		(c >= 0x730 && c <= 0x74a) || (c >= 0x7a6 && c <= 0x7b0) ||
		(c >= 0x7eb && c <= 0x7f3) || (c >= 0x816 && c <= 0x82d) ||
		(c >= 0x859 && c <= 0x85b) || (c >= 0x898 && c <= 0x89f) ||
		(c >= 0x8ca && c <= 0x8ff) ||
		(c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) ||
		(c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f);
}

/*
 * Upper-case letters of Latin-1, Latin Extended-A, Greek and Cyrillic:
 * UTS #46 maps them, so a Punycode label may not decode to them.
 */
static bool
UrlIdnaUpper(uint32 c)
{
	if (c >= 0xc0 && c <= 0xde)
		return c != 0xd7;
	if (c >= 0x100 && c <= 0x137)
		return c % 2 == 0;
	if (c >= 0x139 && c <= 0x148)
		return c % 2 == 1;
	if (c >= 0x14a && c <= 0x177)
		return c % 2 == 0;
	if (c >= 0x178 && c <= 0x17e)
		return c == 0x178 || c % 2 == 1;
	return c == 0x149 || c == 0x17f ||
		(c >= 0x391 && c <= 0x3ab && c != 0x3a2) ||
		(c >= 0x400 && c <= 0x42f);
}

/* Right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, NKo, ...). */
static bool
UrlIdnaRtl(uint32 c)
{
	return (c >= 0x590 && c <= 0x8ff) || (c >= 0xfb1d && c <= 0xfdff) ||
		(c >= 0xfe70 && c <= 0xfeff) || (c >= 0x10800 && c <= 0x10fff) ||
		(c >= 0x1e800 && c <= 0x1efff);
}

/*
 * Label checks on mapped code points cps[0..n): not starting with a
 * combining mark, and the RFC 5893 rules for a label that starts
 * right-to-left (no Latin letters; ends in an RTL character or a digit).
 */
static bool
UrlIdnaLabelValid(const uint32 *cps, size_t n)
{
	size_t		i;
	size_t		last;

	if (n == 0)
		return true;
	if (UrlIdnaCombining(cps[0]))
		return false;
	if (!UrlIdnaRtl(cps[0]))
		return true;
	for (i = 0; i < n; i++)
		if (cps[i] < 0x80 && UrlIsAlpha((unsigned char) cps[i]))
			return false;
	for (last = n; last > 0 && UrlIdnaCombining(cps[last - 1]); last--)
		;
	return last > 0 && (UrlIdnaRtl(cps[last - 1]) ||
						(cps[last - 1] < 0x80 && UrlIsDigit((unsigned char) cps[last - 1])));
}

/*
 * Checks a Punycode label body (after "xn--"): it must decode, to a
 * non-empty label of code points that are valid as they stand (no mapping
 * applies).  A label that decodes to ASCII only is accepted, as browsers
 * do.  Only the set of decoded code points matters, so the label is never
 * built (which would be quadratic in its length).
 */
static bool
UrlPunycodeValid(const char *s, size_t len)
{
	const uint32 base = 36,
				tmin = 1,
				tmax = 26,
				skew = 38,
				damp = 700;
	const uint64 maxint = 0x7fffffff;
	uint64		n = 128,
				i = 0,
				bias = 72;
	size_t		out = 0;
	size_t		pos = 0;
	size_t		delim = len;
	size_t		k;

	for (k = 0; k < len; k++)
		if (s[k] == '-')
			delim = k;
	if (delim != len && delim > 0)
	{
		for (k = 0; k < delim; k++)
		{
			unsigned char c = (unsigned char) s[k];

			if (c >= 0x80 || UrlIdnaMap(c) != c || UrlForbiddenDomain(c))
				return false;
		}
		out = delim;
		pos = delim + 1;
	}
	while (pos < len)
	{
		uint64		oldi = i,
					w = 1,
					kk,
					delta;

		for (kk = base;; kk += base)
		{
			int			digit;
			uint64		t;
			unsigned char c;

			if (pos >= len)
				return false;
			c = (unsigned char) s[pos++];
			if (c >= '0' && c <= '9')
				digit = c - '0' + 26;
			else if (c >= 'a' && c <= 'z')
				digit = c - 'a';
			else if (c >= 'A' && c <= 'Z')
				digit = c - 'A';
			else
				return false;
			if ((uint64) digit > (maxint - i) / w)
				return false;
			i += digit * w;
			t = kk <= bias ? tmin : (kk >= bias + tmax ? tmax : kk - bias);
			if ((uint64) digit < t)
				break;
			if (w > maxint / (base - t))
				return false;
			w *= base - t;
		}
		/* RFC 3492 bias adaptation. */
		delta = (oldi == 0) ? (i - oldi) / damp : (i - oldi) / 2;
		delta += delta / (out + 1);
		for (kk = 0; delta > ((base - tmin) * tmax) / 2; kk += base)
			delta /= base - tmin;
		bias = kk + (base - tmin + 1) * delta / (delta + skew);

		if (i / (out + 1) > maxint - n)
			return false;
		n += i / (out + 1);
		i %= out + 1;
		if (n < 0x80 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff))
			return false;
		if (UrlIdnaMap((uint32) n) != (int32) n || UrlIdnaUpper((uint32) n))
			return false;
		out++;
		i++;
	}
	return out > 0;
}

/*
 * The spec's domain to ASCII followed by its host checks, on a
 * percent-decoded domain d[0..len): valid UTF-8, maps to a non-empty
 * domain without forbidden code points, valid labels, and a valid IPv4
 * address when it ends in a number.
 */
static bool
UrlDomainValid(const unsigned char *d, size_t len)
{
	uint32	   *cps = palloc((len + 1) * sizeof(uint32));	/* mapped */
	char	   *ascii;			/* mapped, non-ASCII as 0x80: for IPv4 */
	size_t		n = 0;
	size_t		pos = 0;
	size_t		lstart;
	size_t		k;
	bool		ok = true;

	while (pos < len && ok)
	{
		int32		c = UrlUtf8Next(d, len, &pos);
		int32		mc;

		/* Invalid UTF-8 decodes to U+FFFD, which is disallowed. */
		if (c < 0)
		{
			ok = false;
			break;
		}
		mc = UrlIdnaMap((uint32) c);
		if (mc == URL_IDNA_IGNORED)
			continue;
		if (mc == URL_IDNA_DISALLOWED || UrlForbiddenDomain((uint32) mc))
			ok = false;
		else
			cps[n++] = (uint32) mc;
	}
	if (n == 0)
		ok = false;

	for (lstart = 0; ok && lstart <= n;)
	{
		size_t		lend = lstart;

		while (lend < n && cps[lend] != '.')
			lend++;
		if (lend - lstart >= 4 && cps[lstart] == 'x' && cps[lstart + 1] == 'n' &&
			cps[lstart + 2] == '-' && cps[lstart + 3] == '-')
		{
			/* A Punycode label: ASCII, and it must decode. */
			char	   *label = palloc(lend - lstart + 1);

			for (k = lstart; k < lend; k++)
			{
				if (cps[k] >= 0x80)
					ok = false;
				label[k - lstart] = (char) (cps[k] & 0x7f);
			}
			if (ok && !UrlPunycodeValid(label + 4, lend - lstart - 4))
				ok = false;
			pfree(label);
		}
		else if (!UrlIdnaLabelValid(cps + lstart, lend - lstart))
			ok = false;
		lstart = lend + 1;
	}

	/* Non-ASCII is never a digit, so a non-ASCII label is no number. */
	if (ok)
	{
		ascii = palloc(n + 1);
		for (k = 0; k < n; k++)
			ascii[k] = cps[k] < 0x80 ? (char) cps[k] : (char) 0x80;
		if (UrlEndsInNumber(ascii, n))
			ok = UrlIpv4Valid(ascii, n);
		pfree(ascii);
	}

	pfree(cps);
	return ok;
}

/*
 * The spec's host parser, as a validity check on a non-empty host string
 * h[0..len); `special` selects a domain, otherwise an opaque host.
 */
static bool
UrlHostValid(const char *h, size_t len, bool special)
{
	unsigned char *dec;
	size_t		dlen = 0;
	size_t		i;
	bool		ok;

	if (len > 0 && h[0] == '[')
	{
		if (len < 2 || h[len - 1] != ']')
			return false;
		return UrlIpv6Valid(h + 1, len - 2);
	}
	if (!special)
	{
		for (i = 0; i < len; i++)
			if (UrlForbiddenHost((unsigned char) h[i]))
				return false;
		return true;
	}

	/* Percent-decode: "%XX" becomes a byte, any other '%' stays. */
	dec = palloc(len + 1);
	for (i = 0; i < len; i++)
	{
		int			hi,
					lo;

		if (h[i] == '%' && i + 2 < len &&
			(hi = HexDigitValue((unsigned char) h[i + 1])) >= 0 &&
			(lo = HexDigitValue((unsigned char) h[i + 2])) >= 0)
		{
			dec[dlen++] = (unsigned char) (hi * 16 + lo);
			i += 2;
		}
		else
			dec[dlen++] = (unsigned char) h[i];
	}
	ok = UrlDomainValid(dec, dlen);
	pfree(dec);
	return ok;
}

/* Port state: s[b..e) all digits with value <= 65535 (empty is fine). */
static bool
UrlPortValid(const char *s, size_t b, size_t e)
{
	uint32		v = 0;

	for (; b < e; b++)
	{
		if (!UrlIsDigit((unsigned char) s[b]))
			return false;
		v = v * 10 + (s[b] - '0');
		if (v > 65535)
			return false;
	}
	return true;
}

/*
 * Authority state, host state and port state from s[pos]; on success
 * returns true and sets *next to the first byte after the authority.
 */
static bool
UrlParseAuthority(UrlParser *p, size_t pos, size_t *next)
{
	const char *s = p->s;
	size_t		aend = pos;
	size_t		hstart = pos;
	size_t		k;
	bool		at_seen = false;
	bool		brackets = false;

	while (aend < p->n && s[aend] != '/' && s[aend] != '?' && s[aend] != '#' &&
		   !(p->special && s[aend] == '\\'))
		aend++;
	/* Userinfo ends at the last '@'; earlier ones belong to it. */
	for (k = pos; k < aend; k++)
		if (s[k] == '@')
		{
			at_seen = true;
			hstart = k + 1;
		}
	if (at_seen && hstart == aend)
		return false;

	/* Host state: a ':' outside brackets starts the port. */
	for (k = hstart; k < aend; k++)
	{
		if (s[k] == ':' && !brackets)
			break;
		if (s[k] == '[')
			brackets = true;
		else if (s[k] == ']')
			brackets = false;
	}
	if (k < aend)
	{
		if (k == hstart)
			return false;
		if (!UrlHostValid(s + hstart, k - hstart, p->special))
			return false;
		if (!UrlPortValid(s, k + 1, aend))
			return false;
	}
	else if (k == hstart)
	{
		/* Special schemes (other than file) need a host. */
		if (p->special)
			return false;
	}
	else if (!UrlHostValid(s + hstart, k - hstart, p->special))
		return false;

	*next = aend;
	return true;
}

/* File state, file slash state and file host state from s[pos]. */
static bool
UrlParseFile(UrlParser *p, size_t pos)
{
	const char *s = p->s;
	size_t		hstart;

	if (pos >= p->n || (s[pos] != '/' && s[pos] != '\\'))
	{
		UrlParsePath(p, pos);	/* "file:x" */
		return true;
	}
	pos++;
	if (pos >= p->n || (s[pos] != '/' && s[pos] != '\\'))
	{
		UrlParsePath(p, pos);	/* "file:/x" */
		return true;
	}
	pos++;

	hstart = pos;
	while (pos < p->n && s[pos] != '/' && s[pos] != '\\' &&
		   s[pos] != '?' && s[pos] != '#')
		pos++;
	if (UrlDriveLetter(s + hstart, pos - hstart))
	{
		/* "file://C:/x": the drive letter starts the path, not a host. */
		UrlParsePath(p, hstart);
		return true;
	}
	if (pos > hstart && !UrlHostValid(s + hstart, pos - hstart, true))
		return false;
	/* Path start state: one slash is consumed. */
	if (pos < p->n && (s[pos] == '/' || s[pos] == '\\'))
		pos++;
	UrlParsePath(p, pos);
	return true;
}

/*
 * Scheme state onwards on the cleaned input; true with p->path set, or
 * false when the URL fails to parse.
 */
static bool
UrlParseUrl(UrlParser *p)
{
	const char *s = p->s;
	size_t		i;
	size_t		pos;
	int			k;

	/* Scheme start state: no base URL, so no scheme means failure. */
	if (p->n == 0 || !UrlIsAlpha((unsigned char) s[0]))
		return false;
	for (i = 1; i < p->n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (!(UrlIsAlpha(c) || UrlIsDigit(c) || c == '+' || c == '-' || c == '.'))
			break;
	}
	if (i >= p->n || s[i] != ':')
		return false;
	for (k = 0; k < lengthof(special_schemes); k++)
		if (UrlEqualsCI(s, i, special_schemes[k]))
			p->special = true;
	p->file = UrlEqualsCI(s, i, "file");
	pos = i + 1;

	if (p->file)
		return UrlParseFile(p, pos);

	if (p->special)
	{
		/* Special authority (ignore) slashes: any run of / and \ is skipped. */
		while (pos < p->n && (s[pos] == '/' || s[pos] == '\\'))
			pos++;
		if (!UrlParseAuthority(p, pos, &pos))
			return false;
		/* Path start state. */
		if (pos < p->n && (s[pos] == '/' || s[pos] == '\\'))
			pos++;
		UrlParsePath(p, pos);
		return true;
	}

	if (pos < p->n && s[pos] == '/')
	{
		/* Path or authority state. */
		pos++;
		if (pos < p->n && s[pos] == '/')
		{
			if (!UrlParseAuthority(p, pos + 1, &pos))
				return false;
			/* Path start state: a path only if something but ?/# follows. */
			if (pos >= p->n || s[pos] == '?' || s[pos] == '#')
				return true;
			pos++;				/* the '/' */
		}
		UrlParsePath(p, pos);
		return true;
	}

	UrlParseOpaquePath(p, pos);
	return true;
}

/*
 * The pathname of url[0..len) as a palloc'd NUL-terminated string, or NULL
 * when the URL cannot be parsed.
 */
char *
UrlPathname(const char *url, size_t len)
{
	UrlParser	p;
	char	   *clean;
	size_t		b = 0,
				e = len,
				i,
				n = 0;
	bool		ok;

	/* Strip leading and trailing C0 controls and spaces. */
	while (b < e && (unsigned char) url[b] <= 0x20)
		b++;
	while (e > b && (unsigned char) url[e - 1] <= 0x20)
		e--;
	/* Remove every tab and newline. */
	clean = palloc(e - b + 1);
	for (i = b; i < e; i++)
		if (url[i] != '\t' && url[i] != '\n' && url[i] != '\r')
			clean[n++] = url[i];
	clean[n] = '\0';

	memset(&p, 0, sizeof(p));
	p.s = clean;
	p.n = n;
	initStringInfo(&p.path);

	ok = UrlParseUrl(&p);
	pfree(clean);
	if (!ok)
	{
		pfree(p.path.data);
		return NULL;
	}
	return p.path.data;
}

#ifndef FRONTEND

PG_FUNCTION_INFO_V1(dozor_url_pathname);

/* SQL: dozor_url_pathname(url text) RETURNS text, NULL when unparsable. */
Datum
dozor_url_pathname(PG_FUNCTION_ARGS)
{
	text	   *url = PG_GETARG_TEXT_PP(0);
	char	   *src = VARDATA_ANY(url);
	int			len = VARSIZE_ANY_EXHDR(url);
	char	   *utf8;
	char	   *res;

	/* The spec encodes code points as UTF-8; the result is always ASCII. */
	utf8 = pg_server_to_any(src, len, PG_UTF8);
	res = UrlPathname(utf8, utf8 == src ? (size_t) len : strlen(utf8));
	if (res == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(res));
}

#endif							/* !FRONTEND */
