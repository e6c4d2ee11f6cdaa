/*
 * Raw inflate / compress baselines in C over the bytes dozor stores.
 *
 *   inflate --db [--session ID] [--ids 1,2,3] [--runs N]
 *       read the session's batches (dozor.event_batches.data, in
 *       (first_timestamp, id) order) with libpq (PG* environment), then time
 *       inflating all of them, back to back, into one output buffer:
 *       zlib (inflateReset + inflate, gzip wrapper) and libdeflate
 *       (libdeflate_gzip_decompress with the known inflated length).
 *       With --ids only those batches. Also reports which codec and level
 *       produced the stored bytes (recompressing one batch and comparing
 *       the deflate streams), for the ingest-vs-compress ratio.
 *   inflate --dir DIR [--runs N]
 *       the same over gen-session.js body files (batch-*.json.gz).
 *   inflate --compress FILE [--runs N]
 *       time gzip-compressing FILE (one batch's events array): zlib levels
 *       1 and 6, libdeflate levels 1, 3, 6, 9. Compressor state is set up
 *       once outside the timed region (deflateReset / a reused libdeflate
 *       compressor), so only compression is measured.
 *   inflate --serve [--db ... | --dir DIR] [--compress FILE]
 *       load once, then run one timed pass per command read from stdin and
 *       answer with one JSON line each, so that a driver can interleave
 *       these runs with the runs it compares them with:
 *         zlib | libdeflate | libdeflate-ids   -> {"ms":...}
 *         compress  -> {"zlib_compress_1":ms, ..., "libdeflate_compress_9":ms}
 *         detect    -> {"storage":...}
 *
 * Output: one JSON object per line,
 *   {"method":..., "median":ms, "min":ms, "max":ms, "runs":N, "in_bytes":..., "out_bytes":...}
 * Every run is checked (status and output length); any failure exits 1.
 */
#include <errno.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libdeflate.h>
#include <libpq-fe.h>
#include <zlib.h>

typedef struct Batch
{
	long long	id;
	unsigned char *gz;
	size_t		gz_len;
	size_t		raw_len;
	size_t		out_off;
	int			wanted;			/* in --ids (or no --ids given) */
} Batch;

static Batch *batches;
static size_t nbatches, cap_batches;
static size_t total_gz, total_raw;

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "inflate: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory%s", "");
	return p;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

static void
report(const char *method, double *t, int runs, size_t in_bytes, size_t out_bytes, const char *extra)
{
	double		med;

	qsort(t, runs, sizeof(double), cmp_double);
	med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
	printf("{\"method\":\"%s\",\"median\":%.4f,\"min\":%.4f,\"max\":%.4f,\"runs\":%d,"
		   "\"in_bytes\":%zu,\"out_bytes\":%zu,\"batches\":%zu%s}\n",
		   method, med, t[0], t[runs - 1], runs, in_bytes, out_bytes, nbatches, extra ? extra : "");
	fflush(stdout);
}

static void
add_batch(long long id, const unsigned char *gz, size_t gz_len, size_t raw_len, int wanted)
{
	Batch	   *b;

	if (gz_len < 18)
		die("batch too short to be gzip%s", "");
	if (raw_len == 0)
	{
		/* ISIZE: the gzip trailer's inflated length mod 2^32 */
		const unsigned char *p = gz + gz_len - 4;

		raw_len = (size_t) p[0] | (size_t) p[1] << 8 | (size_t) p[2] << 16 | (size_t) p[3] << 24;
	}
	if (nbatches == cap_batches)
	{
		cap_batches = cap_batches ? cap_batches * 2 : 1024;
		batches = realloc(batches, cap_batches * sizeof(Batch));
		if (!batches)
			die("out of memory%s", "");
	}
	b = &batches[nbatches++];
	b->id = id;
	b->gz = xmalloc(gz_len);
	memcpy(b->gz, gz, gz_len);
	b->gz_len = gz_len;
	b->raw_len = raw_len;
	b->out_off = total_raw;
	b->wanted = wanted;
	total_gz += gz_len;
	total_raw += raw_len;
}

static uint64_t
be_uint(const char *p, int len)
{
	uint64_t	v = 0;

	for (int i = 0; i < len; i++)
		v = v << 8 | (unsigned char) p[i];
	return v;
}

static int
id_wanted(long long id, const char *ids)
{
	const char *p = ids;

	if (!ids)
		return 1;
	while (*p)
	{
		char	   *end;
		long long	v = strtoll(p, &end, 10);

		if (end == p)
			break;
		if (v == id)
			return 1;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static void
load_db(const char *session, const char *ids, int keep_all)
{
	PGconn	   *conn = PQconnectdb("");
	PGresult   *res;
	const char *params[1];
	int			has_raw;

	if (PQstatus(conn) != CONNECTION_OK)
		die("%s", PQerrorMessage(conn));
	res = PQexec(conn, "SELECT 1 FROM pg_attribute WHERE attrelid = 'dozor.event_batches'::regclass "
				 "AND attname = 'raw_bytes' AND NOT attisdropped");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die("%s", PQerrorMessage(conn));
	has_raw = PQntuples(res) > 0;
	PQclear(res);
	if (!session)
	{
		/* the session with the most events */
		res = PQexec(conn, "SELECT session_id FROM dozor.event_batches GROUP BY 1 ORDER BY sum(event_count) DESC LIMIT 1");
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
			die("no stored batches%s", "");
		session = strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	params[0] = session;
	res = PQexecParams(conn, has_raw
					   ? "SELECT id, data, raw_bytes::int8 FROM dozor.event_batches WHERE session_id = $1::int8 ORDER BY first_timestamp, id"
					   : "SELECT id, data, 0::int8 FROM dozor.event_batches WHERE session_id = $1::int8 ORDER BY first_timestamp, id",
					   1, NULL, params, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die("%s", PQerrorMessage(conn));
	for (int i = 0; i < PQntuples(res); i++)
	{
		long long	id = (long long) be_uint(PQgetvalue(res, i, 0), 8);

		int			wanted = id_wanted(id, ids);

		if (!wanted && !keep_all)
			continue;
		add_batch(id, (const unsigned char *) PQgetvalue(res, i, 1), PQgetlength(res, i, 1),
				  (size_t) be_uint(PQgetvalue(res, i, 2), 8), wanted);
	}
	PQclear(res);
	PQfinish(conn);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	unsigned char *buf;
	long		n;

	if (!f)
		die("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc(n);
	if (fread(buf, 1, n, f) != (size_t) n)
		die("cannot read %s", path);
	fclose(f);
	*len = n;
	return buf;
}

static void
load_dir(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	char	  **names = NULL;
	size_t		n = 0,
				cap = 0;

	if (!d)
		die("cannot open %s", dir);
	while ((e = readdir(d)))
	{
		if (strncmp(e->d_name, "batch-", 6) != 0 || !strstr(e->d_name, ".json.gz"))
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(char *));
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
	{
		char		path[4096];
		size_t		len;
		unsigned char *buf;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		buf = read_file(path, &len);
		add_batch((long long) i, buf, len, 0, 1);
		free(buf);
		free(names[i]);
	}
	free(names);
}

/* inflate every batch into its slot of `out` with zlib; returns 0 on success */
static int
run_zlib(z_stream *zs, unsigned char *out, int only_wanted)
{
	for (size_t i = 0; i < nbatches; i++)
	{
		Batch	   *b = &batches[i];

		if (only_wanted && !b->wanted)
			continue;
		if (inflateReset(zs) != Z_OK)
			return -1;
		zs->next_in = b->gz;
		zs->avail_in = b->gz_len;
		zs->next_out = out + b->out_off;
		zs->avail_out = b->raw_len;
		if (inflate(zs, Z_FINISH) != Z_STREAM_END || zs->total_out != b->raw_len)
			return -1;
	}
	return 0;
}

static int
run_libdeflate(struct libdeflate_decompressor *d, unsigned char *out, int only_wanted)
{
	for (size_t i = 0; i < nbatches; i++)
	{
		Batch	   *b = &batches[i];
		size_t		actual;

		if (only_wanted && !b->wanted)
			continue;
		if (libdeflate_gzip_decompress(d, b->gz, b->gz_len, out + b->out_off, b->raw_len, &actual) != LIBDEFLATE_SUCCESS
			|| actual != b->raw_len)
			return -1;
	}
	return 0;
}

/*
 * Which codec/level wrote the stored bytes? Recompress the largest batch and
 * compare deflate streams (gzip headers differ between writers).
 */
static void
detect_level(unsigned char *out)
{
	Batch	   *b = NULL;
	size_t		hdr = 10;
	char		found[64] = "unknown";

	for (size_t i = 0; i < nbatches; i++)
		if (!b || batches[i].raw_len > b->raw_len)
			b = &batches[i];
	if (!b || b->gz_len < 18)
		return;
	if (b->gz[3] != 0)			/* FLG: extra fields/name: skip detection */
	{
		printf("{\"storage\":\"unknown\"}\n");
		return;
	}
	for (int level = 0; level <= 12 && strcmp(found, "unknown") == 0; level++)
	{
		struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
		size_t		bound,
					n;
		unsigned char *buf;

		if (!c)
			continue;
		bound = libdeflate_gzip_compress_bound(c, b->raw_len);
		buf = xmalloc(bound);
		n = libdeflate_gzip_compress(c, out + b->out_off, b->raw_len, buf, bound);
		if (n == b->gz_len && memcmp(buf + hdr, b->gz + hdr, n - hdr - 8) == 0)
			snprintf(found, sizeof(found), "libdeflate-%d", level);
		free(buf);
		libdeflate_free_compressor(c);
	}
	for (int level = 1; level <= 9 && strcmp(found, "unknown") == 0; level++)
		for (int memlevel = 8; memlevel <= 9 && strcmp(found, "unknown") == 0; memlevel++)
		{
			z_stream	zs;
			size_t		bound;
			unsigned char *buf;

			memset(&zs, 0, sizeof(zs));
			if (deflateInit2(&zs, level, Z_DEFLATED, 31, memlevel, Z_DEFAULT_STRATEGY) != Z_OK)
				continue;
			bound = deflateBound(&zs, b->raw_len);
			buf = xmalloc(bound);
			zs.next_in = out + b->out_off;
			zs.avail_in = b->raw_len;
			zs.next_out = buf;
			zs.avail_out = bound;
			if (deflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out == b->gz_len
				&& memcmp(buf + hdr, b->gz + hdr, zs.total_out - hdr - 8) == 0)
				snprintf(found, sizeof(found), "zlib-%d", level);
			deflateEnd(&zs);
			free(buf);
		}
	printf("{\"storage\":\"%s\",\"probe_batch\":%lld,\"probe_raw\":%zu,\"probe_gz\":%zu}\n",
		   found, b->id, b->raw_len, b->gz_len);
}

static void
bench_inflate(int runs, int detect)
{
	unsigned char *out = xmalloc(total_raw);
	double	   *t = xmalloc(sizeof(double) * runs);
	z_stream	zs;
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();

	memset(out, 0, total_raw);	/* fault the pages in outside the timings */
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK || !d)
		die("cannot set up decompressors%s", "");

	/* warm-up (and correctness) */
	if (run_zlib(&zs, out, 0) != 0)
		die("zlib inflate failed%s", "");
	if (run_libdeflate(d, out, 0) != 0)
		die("libdeflate inflate failed%s", "");

	for (int r = 0; r < runs; r++)
	{
		double		t0 = now_ms();

		if (run_zlib(&zs, out, 0) != 0)
			die("zlib inflate failed%s", "");
		t[r] = now_ms() - t0;
	}
	report("zlib_inflate", t, runs, total_gz, total_raw, NULL);
	for (int r = 0; r < runs; r++)
	{
		double		t0 = now_ms();

		if (run_libdeflate(d, out, 0) != 0)
			die("libdeflate inflate failed%s", "");
		t[r] = now_ms() - t0;
	}
	report("libdeflate_inflate", t, runs, total_gz, total_raw, NULL);
	if (detect)
		detect_level(out);
	inflateEnd(&zs);
	libdeflate_free_decompressor(d);
	free(out);
	free(t);
}

/* compressors for one input, set up once; each pass is timed alone */
#define NZ 2
#define ND 4
static const int zlevels[NZ] = {1, 6};
static const int dlevels[ND] = {1, 3, 6, 9};

typedef struct Compress
{
	unsigned char *in;
	size_t		len;
	z_stream	zs[NZ];
	size_t		zbound[NZ],
				zout_len[NZ];
	unsigned char *zout[NZ];
	struct libdeflate_compressor *dc[ND];
	size_t		dbound[ND],
				dout_len[ND];
	unsigned char *dout[ND];
} Compress;

static void
compress_setup(Compress *c, const char *file)
{
	memset(c, 0, sizeof(*c));
	c->in = read_file(file, &c->len);
	for (int k = 0; k < NZ; k++)
	{
		if (deflateInit2(&c->zs[k], zlevels[k], Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			die("deflateInit2 failed%s", "");
		c->zbound[k] = deflateBound(&c->zs[k], c->len);
		c->zout[k] = xmalloc(c->zbound[k]);
		memset(c->zout[k], 0, c->zbound[k]);
	}
	for (int k = 0; k < ND; k++)
	{
		c->dc[k] = libdeflate_alloc_compressor(dlevels[k]);
		if (!c->dc[k])
			die("libdeflate_alloc_compressor failed%s", "");
		c->dbound[k] = libdeflate_gzip_compress_bound(c->dc[k], c->len);
		c->dout[k] = xmalloc(c->dbound[k]);
		memset(c->dout[k], 0, c->dbound[k]);
	}
}

/* k < NZ: zlib level zlevels[k]; else libdeflate level dlevels[k - NZ] */
static double
compress_once(Compress *c, int k)
{
	double		t0 = now_ms();

	if (k < NZ)
	{
		z_stream   *zs = &c->zs[k];

		deflateReset(zs);
		zs->next_in = c->in;
		zs->avail_in = c->len;
		zs->next_out = c->zout[k];
		zs->avail_out = c->zbound[k];
		if (deflate(zs, Z_FINISH) != Z_STREAM_END)
			die("deflate failed%s", "");
		c->zout_len[k] = zs->total_out;
	}
	else
	{
		int			j = k - NZ;

		c->dout_len[j] = libdeflate_gzip_compress(c->dc[j], c->in, c->len, c->dout[j], c->dbound[j]);
		if (c->dout_len[j] == 0)
			die("libdeflate compress failed%s", "");
	}
	return now_ms() - t0;
}

static void
compress_name(int k, char *name, size_t n)
{
	if (k < NZ)
		snprintf(name, n, "zlib_compress_%d", zlevels[k]);
	else
		snprintf(name, n, "libdeflate_compress_%d", dlevels[k - NZ]);
}

static void
bench_compress(const char *file, int runs)
{
	Compress	c;
	double	   *t = xmalloc(sizeof(double) * runs);

	compress_setup(&c, file);
	nbatches = 1;
	for (int k = 0; k < NZ + ND; k++)
	{
		char		name[32];

		compress_once(&c, k);	/* warm-up */
		for (int r = 0; r < runs; r++)
			t[r] = compress_once(&c, k);
		compress_name(k, name, sizeof(name));
		report(name, t, runs, c.len, k < NZ ? c.zout_len[k] : c.dout_len[k - NZ], NULL);
	}
	free(t);
}

/* one timed pass per stdin command (see the top of the file) */
static void
serve(const char *compress_file, int have_batches)
{
	char		line[256];
	unsigned char *out = NULL;
	z_stream	zs;
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	Compress	c;

	if (compress_file)
		compress_setup(&c, compress_file);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK || !d)
		die("cannot set up decompressors%s", "");
	if (have_batches)
	{
		out = xmalloc(total_raw);
		memset(out, 0, total_raw);
	}
	printf("{\"ready\":true,\"batches\":%zu,\"in_bytes\":%zu,\"out_bytes\":%zu}\n", nbatches, total_gz, total_raw);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
	{
		double		t0;
		int			rc = 0;

		line[strcspn(line, "\r\n")] = 0;
		if (strcmp(line, "quit") == 0)
			break;
		if (have_batches && (strcmp(line, "zlib") == 0 || strcmp(line, "libdeflate") == 0 || strcmp(line, "libdeflate-ids") == 0))
		{
			size_t		n = 0,
						in = 0,
						raw = 0;

			for (size_t i = 0; i < nbatches; i++)
				if (line[0] == 'z' || strcmp(line, "libdeflate") == 0 || batches[i].wanted)
					n++, in += batches[i].gz_len, raw += batches[i].raw_len;
			t0 = now_ms();
			if (line[0] == 'z')
				rc = run_zlib(&zs, out, 0);
			else
				rc = run_libdeflate(d, out, strcmp(line, "libdeflate-ids") == 0);
			if (rc != 0)
				die("inflate failed (%s)", line);
			printf("{\"ms\":%.4f,\"batches\":%zu,\"in_bytes\":%zu,\"out_bytes\":%zu}\n", now_ms() - t0, n, in, raw);
		}
		else if (have_batches && strcmp(line, "detect") == 0)
		{
			if (run_libdeflate(d, out, 0) != 0)
				die("inflate failed (%s)", line);
			detect_level(out);
		}
		else if (compress_file && strcmp(line, "compress") == 0)
		{
			putchar('{');
			for (int k = 0; k < NZ + ND; k++)
			{
				char		name[32];
				double		ms = compress_once(&c, k);

				compress_name(k, name, sizeof(name));
				printf("%s\"%s\":%.4f,\"%s_bytes\":%zu", k ? "," : "", name, ms, name,
					   k < NZ ? c.zout_len[k] : c.dout_len[k - NZ]);
			}
			printf(",\"in_bytes\":%zu}\n", c.len);
		}
		else
			printf("{\"error\":\"unknown command\"}\n");
		fflush(stdout);
	}
	inflateEnd(&zs);
	libdeflate_free_decompressor(d);
	free(out);
}

int
main(int argc, char **argv)
{
	int			runs = 7;
	const char *session = NULL,
			   *dir = NULL,
			   *compress = NULL,
			   *ids = NULL;
	int			db = 0,
				serve_mode = 0;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--db") == 0)
			db = 1;
		else if (strcmp(argv[i], "--serve") == 0)
			serve_mode = 1;
		else if (strcmp(argv[i], "--session") == 0 && i + 1 < argc)
			session = argv[++i];
		else if (strcmp(argv[i], "--ids") == 0 && i + 1 < argc)
			ids = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--compress") == 0 && i + 1 < argc)
			compress = argv[++i];
		else
			die("usage: inflate [--serve] (--db [--session ID] [--ids a,b] | --dir DIR | --compress FILE) [--runs N] (bad argument %s)", argv[i]);
	}
	if (runs < 1)
		runs = 1;
	if (db)
		load_db(session, ids, serve_mode);
	else if (dir)
		load_dir(dir);
	if ((db || dir) && nbatches == 0)
		die("no batches%s", "");
	if (serve_mode)
		serve(compress, db || dir);
	else if (compress)
		bench_compress(compress, runs);
	else if (db || dir)
		bench_inflate(runs, db && !ids);
	else
		die("nothing to do: give --db, --dir or --compress%s", "");
	for (size_t i = 0; i < nbatches && (db || dir); i++)
		free(batches[i].gz);
	free(batches);
	return 0;
}
