/*
 * fuzz_url.c — libFuzzer target for src/url_pathname.c (UrlPathname).
 *
 * The input is a URL as the SDK sends it (metadata.url). Checks:
 *   - no read outside the exact-size copy, no error raised (the parser has
 *     no error path: NULL means "cannot parse");
 *   - the pathname is printable ASCII (spaces allowed in opaque paths);
 *   - a special URL's pathname starts with "/" and has no "." or ".."
 *     segment left (WHATWG path normalization);
 *   - re-parsing http://h + pathname gives the same pathname (a pathname
 *     is a fixed point of the parser), for http(s) inputs;
 *   - the work is linear: output at most 3 bytes per input byte, plus "/".
 */
#include "url_pathname.h"

#include "util.h"

/* Does the (cleaned) input start with scheme s followed by ':'? Case-insensitive. */
static bool
HasScheme(const char *u, size_t len, const char *s)
{
	size_t		n = strlen(s);
	size_t		i = 0;

	while (i < len && (unsigned char) u[i] <= 0x20)
		i++;
	if (len - i <= n)
		return false;
	for (size_t k = 0; k < n; k++)
		if ((u[i + k] | 0x20) != s[k])
			return false;
	/* tabs and newlines inside the scheme are removed by the parser: be strict */
	return u[i + n] == ':';
}

typedef struct Parse
{
	const char *in;
	size_t		len;
	char	   *out;
} Parse;

static void
RunParse(void *arg)
{
	Parse	   *p = arg;

	p->out = UrlPathname(p->in, p->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Parse		p;
	size_t		n;
	bool		special;

	p.in = FuzzExactCopy(data, size);
	p.len = size;
	p.out = NULL;
	if (!FuzzCall(RunParse, &p))
		FuzzUnexpectedError("UrlPathname", "(none: it never raises)");
	if (p.out == NULL)
		goto done;

	n = strlen(p.out);
	if (n > 3 * size + 1)
		FuzzFail("pathname of %zu bytes from %zu input bytes", n, size);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) p.out[i] < 0x20 || (unsigned char) p.out[i] > 0x7e)
			FuzzFail("pathname byte %zu is 0x%02x (not printable ASCII)", i,
					 (unsigned char) p.out[i]);

	special = HasScheme(p.in, p.len, "http") || HasScheme(p.in, p.len, "https") ||
		HasScheme(p.in, p.len, "ws") || HasScheme(p.in, p.len, "wss") ||
		HasScheme(p.in, p.len, "ftp");
	if (special)
	{
		const char *seg = p.out;

		if (p.out[0] != '/')
			FuzzFail("special URL pathname \"%s\" does not start with /", p.out);
		if (strchr(p.out, ' ') != NULL || strchr(p.out, '\\') != NULL)
			FuzzFail("special URL pathname \"%s\" holds a space or a backslash", p.out);
		/* no dot segments survive normalization */
		while (seg != NULL)
		{
			const char *next = strchr(seg + 1, '/');
			size_t		len = next ? (size_t) (next - seg - 1) : strlen(seg + 1);

			if ((len == 1 && seg[1] == '.') || (len == 2 && seg[1] == '.' && seg[2] == '.'))
				FuzzFail("pathname \"%s\" keeps a dot segment", p.out);
			seg = next;
		}
	}
	if (HasScheme(p.in, p.len, "http") || HasScheme(p.in, p.len, "https"))
	{
		StringInfoData again;
		Parse		q;

		initStringInfo(&again);
		appendStringInfoString(&again, "http://h");
		appendStringInfoString(&again, p.out);
		q.in = again.data;
		q.len = again.len;
		if (!FuzzCall(RunParse, &q))
			FuzzUnexpectedError("UrlPathname", "(none)");
		if (q.out == NULL || strcmp(q.out, p.out) != 0)
			FuzzFail("pathname \"%s\" is not a fixed point: http://h%s gives \"%s\"",
					 p.out, p.out, q.out ? q.out : "(null)");
	}

done:
	FuzzMemoryReset();
	return 0;
}
