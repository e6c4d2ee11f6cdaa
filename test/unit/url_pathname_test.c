/*
 * url_pathname_test.c — unit tests of UrlPathname (src/url_pathname.c),
 * built as frontend code and run under ASan/UBSan by test/unit/run.sh.
 *
 * Four parts:
 *   1. a table of URLs and their pathnames: every row of docs/HISTORY.md §5 and
 *      edge cases of each parser state.  The expectations agree with the
 *      WHATWG URL implementation of Node.js 20 (checked when written);
 *      the few rows where that implementation and the standard differ say
 *      so and follow the standard;
 *   2. every byte value 0..255 in a path, an opaque path, a host and in
 *      front of the scheme, with the expected percent-encoding computed
 *      independently;
 *   3. very long inputs (must finish fast: the parser is linear);
 *   4. deterministic random inputs, checked for invariants: no crash, the
 *      result is printable ASCII, a special URL's pathname starts with '/'
 *      and parses back to itself.
 *
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
#include "url_pathname.h"

#include <stdio.h>
#include <string.h>

typedef struct UrlCase
{
	const char *in;
	int			len;			/* -1: strlen(in); else explicit (NUL bytes) */
	const char *want;			/* NULL: cannot be parsed */
} UrlCase;

static const UrlCase cases[] = {
	/* docs/HISTORY.md §5 table */
	{"https://example.com", -1, "/"},
	{"https://ex.com/a/b/c?q=1#h", -1, "/a/b/c"},
	{"https://ex.com/a/../b", -1, "/b"},
	{"https://ex.com/%2e%2e/b", -1, "/b"},
	{"https://ex.com/./a/./b/", -1, "/a/b/"},
	{"https://ex.com/a%2Fb", -1, "/a%2Fb"},
	{"https://ex.com/\303\244 \303\266", -1, "/%C3%A4%20%C3%B6"},
	{"https://ex.com/a\"b<c>d{f}", -1, "/a%22b%3Cc%3Ed%7Bf%7D"},
	{"https://ex.com/a^b", -1, "/a^b"},
	{"https://ex.com\\back\\slash", -1, "/back/slash"},
	{"  https://ex.com/trimmed  ", -1, "/trimmed"},
	{"https:ex.com/x", -1, "/x"},
	{"file:///C:/x/y", -1, "/C:/x/y"},
	{"mailto:a@b.c", -1, "a@b.c"},
	{"about:blank", -1, "blank"},
	{"foo:", -1, ""},
	{"foo://host/p/../q", -1, "/q"},
	{"/relative", -1, NULL},
	{"//ex.com/x", -1, NULL},
	{"not a url", -1, NULL},
	{"https://", -1, NULL},
	{"https://ex.com:99999/", -1, NULL},
	{"http://a b.com/", -1, NULL},
	/* empty and scheme edge cases */
	{"", -1, NULL},
	{"   ", -1, NULL},
	{"\000\037 ", 3, NULL},
	{"http:", -1, NULL},
	{"https:?x", -1, NULL},
	{"https:#x", -1, NULL},
	{"HTTPS://EX.COM/A", -1, "/A"},
	{"a+b-c.d:x", -1, "x"},
	{"1a:x", -1, NULL},
	{"+a:x", -1, NULL},
	{"a_b:x", -1, NULL},
	{"http//ex.com", -1, NULL},
	{"javascript:alert(1)", -1, "alert(1)"},
	{"data:text/plain,a b", -1, "text/plain,a b"},
	{"blob:https://ex.com/uuid", -1, "https://ex.com/uuid"},
	{"mailto:a\001b", -1, "a%01b"},
	{"foo:\303\244", -1, "%C3%A4"},
	{"foo:a b", -1, "a b"},
	{"foo:a?b#c", -1, "a"},
	{"foo:#x", -1, ""},
	{"foo:%zz{}", -1, "%zz{}"},
	{"ws://ex.com", -1, "/"},
	{"wss://ex.com/x?y", -1, "/x"},
	{"ftp://ex.com/f", -1, "/f"},
	{"HtTp://ex.com/x", -1, "/x"},
	/* trimming, tabs and newlines */
	{"ht\011tp://ex.com/a\012b", -1, "/ab"},
	{"\000\037 https://ex.com/x \000", 21, "/x"},
	{" \011\012https://ex.com/a \015\012", -1, "/a"},
	{"https://e\011x.com/p\011a\015t\012h", -1, "/path"},
	{"https://ex.com/a\013b", -1, "/a%0Bb"},
	/* ports */
	{"http://ex.com:80/a", -1, "/a"},
	{"http://ex.com:65535/", -1, "/"},
	{"http://ex.com:65536/", -1, NULL},
	{"http://ex.com:/a", -1, "/a"},
	{"http://ex.com:8a/", -1, NULL},
	{"http://ex.com:000000000000080/x", -1, "/x"},
	{"http://ex.com:-1/", -1, NULL},
	{"http://ex.com:1:2/", -1, NULL},
	{"foo://h:99999/", -1, NULL},
	{"http://:80/", -1, NULL},
	{"foo://:80/", -1, NULL},
	{"http://ex.com:99999999999999999999999/", -1, NULL},
	{"https://ex.com:443", -1, "/"},
	{"ws://ex.com:8080?q", -1, "/"},
	/* IPv6 */
	{"http://[::1]/a", -1, "/a"},
	{"http://[::1]:8080/a/b", -1, "/a/b"},
	{"http://[1:2:3:4:5:6:7:8]/", -1, "/"},
	{"http://[::ffff:1.2.3.4]/x", -1, "/x"},
	{"http://[1:2:3:4:5:6:7:8:9]/", -1, NULL},
	{"http://[::1/", -1, NULL},
	{"http://[g::]/", -1, NULL},
	{"http://[1::2::3]/", -1, NULL},
	{"http://[::1.2.3]/", -1, NULL},
	{"http://[::1.2.3.04]/", -1, NULL},
	{"http://[::1.2.3.256]/", -1, NULL},
	{"http://[]/", -1, NULL},
	{"http://[::1]x/", -1, NULL},
	{"foo://[::1]/p", -1, "/p"},
	{"http://[::]/", -1, "/"},
	{"http://[:]/", -1, NULL},
	{"http://[1:]/", -1, NULL},
	{"http://[12345::]/", -1, NULL},
	{"http://[::1%25eth0]/", -1, NULL},
	{"http://[1:2:3:4:5:6:1.2.3.4]/", -1, "/"},
	{"http://[1:2:3:4:5:6:7:1.2.3.4]/", -1, NULL},
	{"file://[::1]/x", -1, "/x"},
	/* IPv4 and numbers */
	{"http://1.2.3.4/p", -1, "/p"},
	{"http://256.1.1.1/", -1, NULL},
	{"http://0x7f.1/", -1, "/"},
	{"http://4294967295/", -1, "/"},
	{"http://4294967296/", -1, NULL},
	{"http://1.2.3.4.5/", -1, NULL},
	{"http://1..2/", -1, NULL},
	{"http://1.2.3.4./", -1, "/"},
	{"http://1.2.3.4../", -1, "/"},
	{"http://foo.09/", -1, NULL},
	{"http://09.foo/", -1, "/"},
	{"http://0x/", -1, "/"},
	{"http://0xg/", -1, "/"},
	{"http://1.2.3.08/", -1, NULL},
	{"http://1.2.3.0x100/", -1, NULL},
	{"http://0x100000000/", -1, NULL},
	{"http://999999999999999999999999/", -1, NULL},
	{"http://1.0x/", -1, "/"},
	{"http://./", -1, "/"},
	{"http://../", -1, "/"},
	/* userinfo */
	{"http://user:pw@ex.com/p", -1, "/p"},
	{"http://a@b@ex.com/p", -1, "/p"},
	{"http://user@/p", -1, NULL},
	{"http://@ex.com/", -1, "/"},
	{"http://u:p@[::1]:81/x", -1, "/x"},
	{"http://a:b:c@ex.com/x", -1, "/x"},
	{"foo://u@h/x", -1, "/x"},
	{"foo://@/x", -1, NULL},
	{"http://ex.com@/x", -1, NULL},
	/* hosts */
	{"http://a%20b/", -1, NULL},
	{"http://%41.com/x", -1, "/x"},
	{"http://ex%2ecom/", -1, "/"},
	{"http://a<b/", -1, NULL},
	{"http://a^b/", -1, NULL},
	{"http://a|b/", -1, NULL},
	{"http://a%25b/", -1, NULL},
	{"http://a%/", -1, NULL},
	{"http://%zz/", -1, NULL},
	{"http://\303\244.com/x", -1, "/x"},
	{"http://\303\204\303\226.com/x", -1, "/x"},
	{"http://xn--ls8h/", -1, "/"},
	{"http://xn--/", -1, NULL},
	{"http://xn--a/", -1, NULL},
	{"http://xn--4ca/", -1, "/"},
	{"http://XN--4CA/", -1, "/"},
	{"http://\357\275\205\357\275\230.com/", -1, "/"},
	{"http://ex\357\274\217a/", -1, NULL},
	{"http://\302\255/", -1, NULL},
	{"http://a\302\255b/", -1, "/"},
	{"http://%ff/", -1, NULL},
	{"http://%c3%a4/", -1, "/"},
	{"http://a\343\200\202b/", -1, "/"},
	{"http://a\302\240b/", -1, NULL},
	{"http://\357\277\275/", -1, NULL},
	{"foo://a b/", -1, NULL},
	{"foo://a%20b/x", -1, "/x"},
	{"foo://\303\244/x", -1, "/x"},
	{"foo://a^b/", -1, NULL},
	{"foo://a\\b/", -1, NULL},
	{"http://a\\b/", -1, "/b/"},
	{"http://localhost/x", -1, "/x"},
	{"http://EX.COM./x", -1, "/x"},
	{"http://-a-/", -1, "/"},
	/* dot segments */
	{"https://ex.com/a/b/../../..", -1, "/"},
	{"https://ex.com/a/..", -1, "/"},
	{"https://ex.com/a/.", -1, "/a/"},
	{"https://ex.com/.%2E/x", -1, "/x"},
	{"https://ex.com/%2E./x", -1, "/x"},
	{"https://ex.com/%2e%2E/x", -1, "/x"},
	{"https://ex.com/...", -1, "/..."},
	{"https://ex.com/a./b", -1, "/a./b"},
	{"https://ex.com/%2e%2e%2e", -1, "/%2e%2e%2e"},
	{"https://ex.com/a%2e/", -1, "/a%2e/"},
	{"https://ex.com/a/..?q", -1, "/"},
	{"https://ex.com/a\\..\\b", -1, "/b"},
	{"https://ex.com/a/%2e", -1, "/a/"},
	{"https://ex.com//", -1, "//"},
	{"https://ex.com//a//b/", -1, "//a//b/"},
	{"https://ex.com/a/./../b/./c/..", -1, "/b/"},
	{"https://ex.com/.", -1, "/"},
	{"https://ex.com/..", -1, "/"},
	{"https://ex.com/a/b/%2E%2E/%2e", -1, "/a/"},
	{"https://ex.com/%2", -1, "/%2"},
	{"https://ex.com/%2e%2", -1, "/%2e%2"},
	/* percent-encoding */
	{"https://ex.com/a b", -1, "/a%20b"},
	{"https://ex.com/\001\177", -1, "/%01%7F"},
	{"https://ex.com/\303\251", -1, "/%C3%A9"},
	{"https://ex.com/{}`", -1, "/%7B%7D%60"},
	{"https://ex.com/%zz", -1, "/%zz"},
	{"https://ex.com/'|~!$&()*+,;=:@[]", -1, "/'|~!$&()*+,;=:@[]"},
	{"https://ex.com/\346\227\245\346\234\254", -1, "/%E6%97%A5%E6%9C%AC"},
	{"https://ex.com/\360\237\230\200", -1, "/%F0%9F%98%80"},
	{"https://ex.com/%E4%B8%AD", -1, "/%E4%B8%AD"},
	{"https://ex.com/\000", 16, "/"},
	/* non-special hierarchical */
	{"foo://host", -1, ""},
	{"foo://host/", -1, "/"},
	{"foo:/a/b", -1, "/a/b"},
	{"foo:/", -1, "/"},
	{"foo://host/a\\b", -1, "/a\\b"},
	{"foo:///x", -1, "/x"},
	{"foo://h:1/x", -1, "/x"},
	{"foo://h:x/", -1, NULL},
	{"foo://host?q", -1, ""},
	{"foo://host#f", -1, ""},
	{"foo:/a/./b/../c", -1, "/a/c"},
	{"foo:/.//p", -1, "//p"},
	{"foo://h/%2e%2E/x", -1, "/x"},
	/* file */
	{"file:C:/x", -1, "/C:/x"},
	{"file://C|/x", -1, "/C:/x"},
	{"file:///C:/../x", -1, "/C:/x"},
	{"file:///C|/x", -1, "/C:/x"},
	{"file://localhost/x", -1, "/x"},
	{"file://host/share/f", -1, "/share/f"},
	{"file:", -1, "/"},
	{"file:////x", -1, "//x"},
	{"file://a b/x", -1, NULL},
	{"file://h:80/", -1, NULL},
	{"file:/x/../y", -1, "/y"},
	{"file:\\\\host\\x", -1, "/x"},
	{"file:///a/../../C:", -1, "/C:"},
	{"file:///C:", -1, "/C:"},
	{"file:///c|", -1, "/c:"},
	{"file:/C|/a", -1, "/C:/a"},
	{"file://%41/x", -1, "/x"},
	{"file://localhost", -1, "/"},
	{"file://xn--/x", -1, NULL},
	{"FILE:///X", -1, "/X"},
	{"file:?q", -1, "/"},
	{"file:#f", -1, "/"},
	{"file://C:", -1, "/C:"},
	{"file:///C:/a/../..", -1, "/C:/"},
	/* Node.js 20 gives "" for these; the standard's path state appends an
	 * empty segment after a final ".." that is not followed by a slash. */
	{"foo:///..", -1, "/"},
	{"foo:/.%2E", -1, "/"},
	{"foo://h/a/..", -1, "/"},
};

static int	passed = 0;
static int	failed = 0;

/* Records one expectation; prints the input (escaped) on failure. */
static void
Expect(bool ok, const char *what, const char *in, size_t len,
	   const char *got, const char *want)
{
	size_t		i;

	if (ok)
	{
		passed++;
		return;
	}
	failed++;
	if (failed > 50)
		return;
	printf("FAIL %s: input \"", what);
	for (i = 0; i < len && i < 200; i++)
	{
		unsigned char c = (unsigned char) in[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	printf("%s\" got %s%s%s want %s%s%s\n", len > 200 ? "..." : "",
		   got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
		   want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
}

/* Runs UrlPathname on in[0..len) and compares with want (NULL = failure). */
static void
Check(const char *what, const char *in, size_t len, const char *want)
{
	char	   *got = UrlPathname(in, len);
	bool		ok = (got == NULL) ? (want == NULL)
		: (want != NULL && strcmp(got, want) == 0);

	Expect(ok, what, in, len, got, want);
	if (got)
		pfree(got);
}

/* Part 1: the table. */
static void
TestTable(void)
{
	size_t		i;

	for (i = 0; i < lengthof(cases); i++)
		Check("table", cases[i].in,
			  cases[i].len < 0 ? strlen(cases[i].in) : (size_t) cases[i].len,
			  cases[i].want);
}

/* Path percent-encode set of the standard, written out independently. */
static bool
InPathSet(int b)
{
	return b < 0x20 || b >= 0x7f || strchr(" \"#<>?`{}", b) != NULL;
}

/* Appends b to out as the standard encodes it (uppercase hex). */
static void
AppendEncoded(char *out, int b, bool encode)
{
	size_t		n = strlen(out);

	if (encode)
		sprintf(out + n, "%%%02X", b);
	else
	{
		out[n] = (char) b;
		out[n + 1] = '\0';
	}
}

/* Part 2: every byte value in each position. */
static void
TestEveryByte(void)
{
	int			b;

	for (b = 0; b < 256; b++)
	{
		char		in[64];
		char		want[64];
		size_t		len;
		bool		removed = (b == '\t' || b == '\n' || b == '\r');
		char	   *got;

		/* In a special path. */
		len = sprintf(in, "https://ex.com/a");
		in[len++] = (char) b;
		in[len++] = 'z';
		strcpy(want, "/a");
		if (b == '/' || b == '\\')
			strcat(want, "/z");
		else if (b == '?' || b == '#')
			;
		else
		{
			if (!removed)
				AppendEncoded(want, b, InPathSet(b));
			strcat(want, "z");
		}
		Check("byte in path", in, len, want);

		/* In an opaque path: only C0 controls and non-ASCII are encoded. */
		len = sprintf(in, "foo:a");
		in[len++] = (char) b;
		in[len++] = 'z';
		strcpy(want, "a");
		if (b != '?' && b != '#')
		{
			if (!removed)
				AppendEncoded(want, b, b < 0x20 || b >= 0x7f);
			strcat(want, "z");
		}
		Check("byte in opaque path", in, len, want);

		/* In a host: forbidden and non-ASCII bytes fail; others parse. */
		len = sprintf(in, "http://a");
		in[len++] = (char) b;
		len += sprintf(in + len, "b/x");
		got = UrlPathname(in, len);
		if (b == ':')			/* port "b" */
			Expect(got == NULL, "byte in host", in, len, got, NULL);
		else if (b == '/' || b == '\\')
			Expect(got && strcmp(got, "/b/x") == 0, "byte in host", in, len, got, "/b/x");
		else if (b == '?' || b == '#')
			Expect(got && strcmp(got, "/") == 0, "byte in host", in, len, got, "/");
		else if (removed || b == '@' || b == '.' || b == '-' || b == '_' ||
				 (b > 0x20 && b < 0x7f && strchr("#%/:<>?@[\\]^|", b) == NULL))
			Expect(got && strcmp(got, "/x") == 0, "byte in host", in, len, got, "/x");
		else
			Expect(got == NULL, "byte in host", in, len, got, NULL);
		if (got)
			pfree(got);

		/* In front of the scheme: stripped when a control or space. */
		in[0] = (char) b;
		len = 1 + sprintf(in + 1, "https://x/p");
		if (b <= 0x20)
			Check("byte before scheme", in, len, "/p");
		else if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'))
			Check("byte before scheme", in, len, "/p");	/* scheme "?https" */
		else
			Check("byte before scheme", in, len, NULL);

		/* Right after "file:///". */
		len = sprintf(in, "file:///");
		in[len++] = (char) b;
		got = UrlPathname(in, len);
		Expect(got != NULL && got[0] == '/', "byte in file path", in, len, got, "/...");
		if (got)
			pfree(got);
	}
}

/* Returns a palloc'd string of prefix + rep repeated n times + suffix. */
static char *
Repeat(const char *prefix, const char *rep, int n, const char *suffix, size_t *len)
{
	size_t		pl = strlen(prefix),
				rl = strlen(rep),
				sl = strlen(suffix);
	char	   *s = palloc(pl + rl * n + sl + 1);
	char	   *p = s;
	int			i;

	memcpy(p, prefix, pl);
	p += pl;
	for (i = 0; i < n; i++)
	{
		memcpy(p, rep, rl);
		p += rl;
	}
	memcpy(p, suffix, sl);
	p += sl;
	*p = '\0';
	*len = p - s;
	return s;
}

/* Part 3: long inputs. */
static void
TestLong(void)
{
	size_t		len,
				wlen;
	char	   *in,
			   *want;
	char	   *got;

	in = Repeat("https://ex.com", "/a", 500000, "", &len);
	Check("long path", in, len, in + strlen("https://ex.com"));
	pfree(in);

	in = Repeat("https://ex.com", "/..", 500000, "/x", &len);
	Check("long dot-dot", in, len, "/x");
	pfree(in);

	in = Repeat("https://ex.com/", "abc/../", 300000, "", &len);
	Check("long up and down", in, len, "/");
	pfree(in);

	in = Repeat("https://ex.com/", "%2e%2E/", 300000, "", &len);
	Check("long encoded dot-dot", in, len, "/");
	pfree(in);

	in = Repeat("https://", "a", 1000000, "/p", &len);
	Check("long host", in, len, "/p");
	pfree(in);

	in = Repeat("http://", "1.", 200000, "/", &len);
	Check("long IPv4-like host", in, len, NULL);
	pfree(in);

	in = Repeat("http://[", "1:", 200000, "]/", &len);
	Check("long IPv6 host", in, len, NULL);
	pfree(in);

	in = Repeat("http://u", "@", 200000, "h/p", &len);
	Check("many at signs", in, len, "/p");
	pfree(in);

	in = Repeat("http://xn--", "a", 200000, "/p", &len);
	got = UrlPathname(in, len);
	Expect(true, "long punycode label", in, len, got, NULL);	/* no crash */
	if (got)
		pfree(got);
	pfree(in);

	in = Repeat("http://", "\xc3\xa4", 200000, "/p", &len);
	Check("long non-ASCII host", in, len, "/p");
	pfree(in);

	in = Repeat("foo:", "\xc3\xa9", 200000, "", &len);
	want = Repeat("", "%C3%A9", 200000, "", &wlen);
	Check("long opaque path", in, len, want);
	pfree(want);
	pfree(in);

	in = Repeat("", " ", 500000, "", &len);
	Check("only spaces", in, len, NULL);
	pfree(in);

	in = Repeat("https://ex.com/", "\t", 500000, "x", &len);
	Check("many tabs", in, len, "/x");
	pfree(in);
}

static uint32 rng_state = 2463534242u;

/* xorshift32: deterministic across platforms and runs. */
static uint32
Rand(uint32 n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state % n;
}

/* Part 4: random inputs and invariants. */
static void
TestRandom(void)
{
	static const char *const pieces[] = {
		"http:", "https:", "HTTPS:", "ws:", "ftp:", "file:", "foo:", "a+b:",
		"/", "//", "\\", "?", "#", "@", ":", ":80", ":99999", "[", "]", "[::1]",
		"[::ffff:1.2.3.4]", "ex.com", "1.2.3.4", "0x7f", "256", "..", ".",
		"%2e", "%2E", "%", "%41", "%zz", "%00", "xn--", "xn--ls8h", "C:", "c|",
		"localhost", " ", "\t", "\n", "\xc3\xa4", "\xef\xbc\xa5", "\xe3\x80\x82",
		"\xf0\x9f\x98\x80", "\xc2\xad", "\xff", "\x80", "a", "b", "0", "9",
	};
	int			t;
	char		in[256];

	for (t = 0; t < 200000; t++)
	{
		size_t		len = 0;
		int			k = 1 + Rand(12);
		bool		special;
		char	   *got;
		size_t		i;
		bool		ok = true;

		while (k-- > 0 && len < 200)
		{
			if (Rand(5) == 0)
				in[len++] = (char) Rand(256);
			else
			{
				const char *p = pieces[Rand(lengthof(pieces))];
				size_t		pl = strlen(p);

				memcpy(in + len, p, pl);
				len += pl;
			}
		}
		got = UrlPathname(in, len);
		if (got == NULL)
		{
			passed++;
			continue;
		}
		for (i = 0; got[i]; i++)
			if ((unsigned char) got[i] < 0x20 || (unsigned char) got[i] > 0x7e)
				ok = false;
		special = (len >= 5 && strncmp(in, "http:", 5) == 0) ||
			(len >= 6 && strncmp(in, "https:", 6) == 0);
		if (special)
		{
			/* A special pathname starts with '/' and parses to itself. */
			char	   *again;
			char	   *url = palloc(strlen(got) + 16);

			if (got[0] != '/')
				ok = false;
			sprintf(url, "https://h%s", got);
			again = UrlPathname(url, strlen(url));
			if (again == NULL || strcmp(again, got) != 0)
				ok = false;
			if (again)
				pfree(again);
			pfree(url);
		}
		Expect(ok, "random invariant", in, len, got, "(printable, stable)");
		pfree(got);
	}
}

int
main(void)
{
	TestTable();
	TestEveryByte();
	TestLong();
	TestRandom();
	printf("url_pathname: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
