-- gzip (src/gzip.c): dozor_gzip and dozor_gunzip.  Each error sits beside
-- the success it mirrors and shows as "SQLSTATE: message".

-- expect_error() comes from sql/setup.sql.

-- A compressible sample, like a batch of rrweb events.
CREATE TEMP TABLE gz_sample AS
SELECT convert_to(repeat('{"type":3,"timestamp":1700000000000,"data":{"source":1,"x":12}},', 2000), 'UTF8') AS d;
CREATE TEMP TABLE gz_z AS SELECT dozor_gzip(d) AS z FROM gz_sample;

-- Round trip at every level 0..12; the output is gzip (1f 8b, deflate).
SELECT level, substr(z, 1, 3) = '\x1f8b08'::bytea AS gzip_magic,
       dozor_gunzip(z) = d AS round_trip
FROM gz_sample, generate_series(0, 12) AS level, LATERAL dozor_gzip(d, level) AS z;

-- Level 0 stores (a little larger than the input), 1 compresses, 12 best.
SELECT length(dozor_gzip(d, 0)) > length(d) AS level0_stores,
       length(dozor_gzip(d, 1)) < length(d) / 20 AS level1_compresses,
       length(dozor_gzip(d, 12)) <= length(dozor_gzip(d, 1)) AS level12_no_larger_than_1
FROM gz_sample;
-- The default level is 6.
SELECT dozor_gzip(d) = dozor_gzip(d, 6) AS default_is_6 FROM gz_sample;
-- A level outside 0..12 is an invalid value.
SELECT expect_error($$SELECT dozor_gzip('x'::bytea, 13)$$);
SELECT expect_error($$SELECT dozor_gzip('x'::bytea, -1)$$);

-- Input up to the body cap (10 MiB) compresses; one byte more is refused.
SELECT length(dozor_gunzip(dozor_gzip(convert_to(repeat('a', 10485760), 'UTF8'), 1))) AS at_cap;
SELECT expect_error($$SELECT dozor_gzip(convert_to(repeat('a', 10485761), 'UTF8'))$$);

-- NULL in, NULL out (STRICT).
SELECT dozor_gzip(NULL) IS NULL AS gzip_null, dozor_gunzip(NULL) IS NULL AS gunzip_null;

-- Empty input: the gzip of nothing is a valid member; no bytes are not gzip.
SELECT length(dozor_gzip(''::bytea)) > 0 AS empty_member,
       dozor_gunzip(dozor_gzip(''::bytea)) AS empty_round_trip;
SELECT expect_error($$SELECT dozor_gunzip(''::bytea)$$);

-- Made by zlib (Python gzip.compress(b'hello\n', mtime=0)).
SELECT convert_from(dozor_gunzip('\x1f8b0800000000000203cb48cdc9c9e7020020303a3606000000'::bytea), 'UTF8') AS zlib_made;
-- A header with every optional field: FEXTRA, FNAME, FCOMMENT, FHCRC.
SELECT convert_from(dozor_gunzip('\x1f8b081e0000000000030400585900006e616d652e6a736f6e006120636f6d6d656e740093a44bc9afca2fe20200fc32108306000000'::bytea), 'UTF8') AS all_header_fields;
-- ... and the same with a wrong header CRC.
SELECT expect_error($$SELECT dozor_gunzip('\x1f8b081e0000000000030400585900006e616d652e6a736f6e006120636f6d6d656e740092a44bc9afca2fe20200fc32108306000000'::bytea)$$);

-- Not gzip at all.
SELECT expect_error($$SELECT dozor_gunzip('{"events":[]}'::bytea)$$);
SELECT expect_error($$SELECT dozor_gunzip('\x1f'::bytea || '\x00'::bytea)$$);
SELECT expect_error($$SELECT dozor_gunzip('\x00'::bytea)$$);

-- Truncated: in the header, in the deflate data, in the trailer.
SELECT cut, expect_error(format('SELECT dozor_gunzip(%L::bytea)', substr(z, 1, n))) AS result
FROM gz_z, LATERAL (VALUES ('1 byte', 1), ('header', 7), ('header only', 10),
                           ('deflate data', length(z) / 2),
                           ('trailer', length(z) - 4), ('last byte', length(z) - 1),
                           ('nothing', length(z))) AS c(cut, n);

-- Concatenated members are one stream (RFC 1952 2.2), empty ones included.
SELECT convert_from(dozor_gunzip(dozor_gzip('hello, '::bytea) || dozor_gzip(''::bytea) ||
                                 dozor_gzip('world'::bytea, 0)), 'UTF8') AS members;
SELECT dozor_gunzip(z || z || z) = d || d || d AS three_members FROM gz_sample, gz_z;
-- Bytes after the last member that are not another member are garbage.
SELECT expect_error(format('SELECT dozor_gunzip(%L::bytea)', z || '\x00'::bytea)) FROM gz_z;
SELECT expect_error(format('SELECT dozor_gunzip(%L::bytea)', z || 'junk'::bytea)) FROM gz_z;
-- A second member cut short is truncated, not garbage.
SELECT expect_error($$SELECT dozor_gunzip(dozor_gzip('a'::bytea) || '\x1f8b'::bytea)$$);
SELECT expect_error($$SELECT dozor_gunzip(dozor_gzip('a'::bytea) || '\x1f8b08000000'::bytea)$$);

-- Corrupt: CRC, length (ISIZE), deflate data, method, flags.
SELECT what, expect_error(format('SELECT dozor_gunzip(%L::bytea)', bad)) AS result
FROM gz_z, LATERAL (VALUES
    ('crc', overlay(z placing '\x00000000'::bytea from length(z) - 7 for 4)),
    ('isize 0', overlay(z placing '\x00000000'::bytea from length(z) - 3 for 4)),
    ('isize 2^32-1', overlay(z placing '\xffffffff'::bytea from length(z) - 3 for 4)),
    ('reserved block type', overlay(z placing '\x07'::bytea from 11 for 1)),
    ('method 7', overlay(z placing '\x07'::bytea from 3 for 1)),
    ('reserved flags', overlay(z placing '\xe0'::bytea from 4 for 1)),
    ('bad magic', overlay(z placing '\x1f8c'::bytea from 1 for 2))) AS c(what, bad);

-- Output is capped at 10 MiB, the body cap: two 5 MiB members are exactly
-- the cap, one byte more is over.
SELECT length(dozor_gunzip(m || m)) AS exactly_cap
FROM (SELECT dozor_gzip(convert_to(repeat('a', 5242880), 'UTF8'), 1) AS m) AS s;
SELECT expect_error($$SELECT dozor_gunzip(dozor_gzip(convert_to(repeat('a', 5242880), 'UTF8'), 1) ||
                                               dozor_gzip(convert_to(repeat('a', 5242881), 'UTF8'), 1))$$);
-- A bomb: 120 members of 9 MiB (about 1 MiB compressed, 1080 MiB inflated).
-- It fails after about 10 MiB of work (the buffer never grows past the cap).
SELECT expect_error($$
    WITH m AS MATERIALIZED (SELECT dozor_gzip(convert_to(repeat('a', 9437184), 'UTF8'), 12) AS m)
    SELECT dozor_gunzip(string_agg(m, ''::bytea)) FROM m, generate_series(1, 120)$$);
