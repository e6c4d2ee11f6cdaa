-- dozor_url_pathname (src/url_pathname.c): the WHATWG URL pathname, or NULL
-- when the URL cannot be parsed (docs/HISTORY.md §5).  Results are quoted so
-- that an empty pathname ('') and NULL are told apart.  The C unit test
-- (test/unit/url_pathname_test.c) has many more cases.

-- Every row of the table in docs/HISTORY.md §5.
SELECT quote_literal(url) AS url, quote_nullable(dozor_url_pathname(url)) AS pathname
FROM (VALUES
    ('https://example.com'),
    ('https://ex.com/a/b/c?q=1#h'),
    ('https://ex.com/a/../b'),
    ('https://ex.com/%2e%2e/b'),
    ('https://ex.com/./a/./b/'),
    ('https://ex.com/a%2Fb'),
    ('https://ex.com/ä ö'),
    ('https://ex.com/a"b<c>d{f}'),
    ('https://ex.com/a^b'),
    ('https://ex.com\back\slash'),
    ('  https://ex.com/trimmed  '),
    ('https:ex.com/x'),
    ('file:///C:/x/y'),
    ('mailto:a@b.c'),
    ('about:blank'),
    ('foo:'),
    ('foo://host/p/../q'),
    -- cannot be parsed
    ('/relative'),
    ('//ex.com/x'),
    ('not a url'),
    (''),
    ('https://'),
    ('https://ex.com:99999/'),
    ('http://a b.com/')) AS t(url);

-- Schemes, ports, hosts, userinfo: parsable or not.
SELECT quote_literal(url) AS url, quote_nullable(dozor_url_pathname(url)) AS pathname
FROM (VALUES
    ('HTTPS://EX.COM/A/B'),
    ('ws://ex.com'),
    ('wss://ex.com/socket?x=1'),
    ('ftp://ex.com/pub/f.txt'),
    ('http:/ex.com/x'),
    ('http:\\ex.com\x'),
    ('http:'),
    ('1http://ex.com/'),
    ('http://ex.com:80/a'),
    ('http://ex.com:65535/a'),
    ('http://ex.com:65536/a'),
    ('http://ex.com:/a'),
    ('http://ex.com:8a/a'),
    ('http://:80/a'),
    ('http://[::1]/a'),
    ('http://[::1]:8080/a/b'),
    ('http://[::ffff:1.2.3.4]/a'),
    ('http://[::1/a'),
    ('http://[1::2::3]/a'),
    ('http://1.2.3.4/a'),
    ('http://256.1.1.1/a'),
    ('http://0x7f.1/a'),
    ('http://foo.09/a'),
    ('http://user:pw@ex.com/a'),
    ('http://a@b@ex.com/a'),
    ('http://user@/a'),
    ('http://%41.com/a'),
    ('http://a%20b/a'),
    ('http://a<b/a'),
    ('http://ä.com/a'),
    ('http://xn--ls8h/a'),
    ('http://xn--/a'),
    ('foo://a b/x'),
    ('foo://h:99999/x')) AS t(url);

-- Paths: dot segments, encoding, special and other schemes, file URLs.
SELECT quote_literal(url) AS url, quote_nullable(dozor_url_pathname(url)) AS pathname
FROM (VALUES
    ('https://ex.com/a/b/../../..'),
    ('https://ex.com/a/..'),
    ('https://ex.com/a/.'),
    ('https://ex.com/.%2E/x'),
    ('https://ex.com/%2E./x'),
    ('https://ex.com/...'),
    ('https://ex.com/a./b'),
    ('https://ex.com/%2e%2e%2e'),
    ('https://ex.com//a//b/'),
    ('https://ex.com/a\..\b'),
    ('https://ex.com/{}`|'),
    ('https://ex.com/%zz'),
    ('https://ex.com/日本'),
    ('https://ex.com/😀'),
    ('javascript:alert(1)'),
    ('data:text/plain,a b'),
    ('blob:https://ex.com/1234'),
    ('foo:ä'),
    ('foo://host'),
    ('foo://host/'),
    ('foo:/a/b'),
    ('foo://host/a\b'),
    ('file:C:/x'),
    ('file://C|/x'),
    ('file:///C:/../x'),
    ('file://localhost/x'),
    ('file://host/share/f'),
    ('file:'),
    ('file:////x'),
    ('file://a b/x')) AS t(url);

-- Leading and trailing controls and spaces are stripped; tabs and newlines
-- inside are removed.
SELECT quote_nullable(dozor_url_pathname(E'\t\n https://ex.com/trim \r\n')) AS trimmed,
       quote_nullable(dozor_url_pathname(E'ht\ttps://ex.\ncom/a\tb\rc')) AS removed,
       quote_nullable(dozor_url_pathname(E'https://ex.com/a\u0001b\u007fc')) AS controls;

-- NULL in, NULL out (STRICT).
SELECT dozor_url_pathname(NULL) IS NULL AS null_in;

-- Every character after a path, an opaque path and a host: never an error,
-- always ASCII.  (Valid hosts are counted for ASCII only: what chr(128..255)
-- gives depends on the database encoding.)
SELECT count(*) AS chars, count(p) AS in_path, count(o) AS opaque,
       count(h) FILTER (WHERE b < 128) AS valid_ascii_hosts,
       bool_and(p ~ '^[\x20-\x7e]*$' AND o ~ '^[\x20-\x7e]*$') AS all_ascii
FROM generate_series(1, 255) AS b,
     LATERAL (SELECT dozor_url_pathname('https://ex.com/a' || chr(b) || 'z') AS p,
                     dozor_url_pathname('foo:a' || chr(b) || 'z') AS o,
                     dozor_url_pathname('http://a' || chr(b) || 'b/') AS h) AS r;

-- Long input is linear.
SELECT dozor_url_pathname('https://ex.com' || repeat('/a', 200000)) = repeat('/a', 200000) AS long_path,
       dozor_url_pathname('https://ex.com' || repeat('/..', 200000) || '/x') AS long_dot_dot,
       dozor_url_pathname('https://' || repeat('a', 1000000) || '/p') AS long_host;
