/*
 * fuzz_ingest.c — libFuzzer target for the C pipeline of ingest, minus the
 * SQL: what dozor_prepare_batch (src/ingest.c) does to a request body, and
 * what the read side later does to the stored result.
 *
 * The input is an SDK request body (plain JSON, or gzip when it starts with
 * the gzip magic). The target mirrors ingest's steps with the real code:
 * bounded gunzip (GzipInflateClient), JsonScanWhole on the body (JSON and
 * UTF-8 in one pass, with ingest's outline; a body it passes must be valid
 * UTF-8), the events array (at most 500) through EventRead, the stored array
 * "[" e0 "," e1 ... "]", BatchIndexEncode, GzipDeflate at the storage
 * level. Errors up to there must be docs/SPEC.md §3 SQLSTATEs (22P02, 22023,
 * 54000). Then it plays the read side on what would be stored:
 *   - GzipInflateStored(raw_bytes) gives the array back byte for byte;
 *   - BatchIndexDecode against the row ingest would write succeeds (a
 *     failure here would make every read of a valid batch say XX001);
 *   - every event sits where the index says, with the framing stream.c
 *     checks ('{' ... '}', preceded by '[' or ',', followed by ',' or ']'),
 *     and re-validates as JSON (console.c scans it again);
 *   - the stored array is valid JSON with exactly event_count elements,
 *     and PostgreSQL's parser accepts it (dozor_events returns it as json).
 * The session/metadata checks of ingest.c need the backend (uuid_in,
 * jsonb_in) and are exercised through SQL by test/hostile/.
 */
#include "batch_index.h"
#include "event.h"
#include "gzip.h"

#include "util.h"

#define MAX_EVENTS 500
#define BATCH_ID 99

typedef struct Ingest
{
	const char *body;
	size_t		body_len;
	/* prepared */
	StringInfoData joined;
	BatchIndexEntry entries[MAX_EVENTS];
	JsonSpan	texts[MAX_EVENTS];
	int			count;
	int64		first;
	int64		last;
	char	   *gz;
	size_t		gz_len;
	char		digest[BATCH_DIGEST_BYTES];
	StringInfoData index;
} Ingest;

/* The CPU part of dozor_prepare_batch; raises docs/SPEC.md §3 errors. */
static void
Prepare(void *arg)
{
	Ingest	   *in = arg;
	const char *json = in->body;
	size_t		len = in->body_len;
	JsonSpan	root;
	JsonSpan	events = {0};
	JsonIter	it;
	JsonSpan	key;
	JsonSpan	value;

	if (len >= 2 && (uint8) json[0] == 0x1f && (uint8) json[1] == 0x8b)
		json = GzipInflateClient(json, len, DOZOR_MAX_BODY_BYTES, "body", &len);
	/* as ingest does: UTF-8 checked in the validating pass, an outline taken */
	JsonScanWhole(json, len, "body", true, EVENT_BODY_OUTLINE_DEPTH, EVENT_BODY_OUTLINE_NODES, &root);
	if (!FuzzUtf8Valid(json, len))
		FuzzFail("a body that is not UTF-8 passed the validating pass");
	if (root.kind != JSON_KIND_OBJECT)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("body must be a JSON object")));
	JsonIterInit(&it, &root);
	while (JsonIterNext(&it, &key, &value))
		if (JsonStringEquals(&key, "events"))
			events = value;
	if (events.kind != JSON_KIND_ARRAY)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("events must be an array")));

	initStringInfo(&in->joined);
	appendStringInfoChar(&in->joined, '[');
	JsonIterInit(&it, &events);
	while (JsonIterNext(&it, NULL, &value))
	{
		EventInfo	info;

		if (in->count == MAX_EVENTS)
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("too many events")));
		EventRead(&value, in->count, &info);
		if (in->count > 0)
			appendStringInfoChar(&in->joined, ',');
		appendBinaryStringInfo(&in->joined, value.start, value.len);
		in->texts[in->count] = value;
		in->entries[in->count].timestamp = info.timestamp;
		in->entries[in->count].length = (uint32) value.len;
		in->entries[in->count].cls = (uint8) info.cls;
		if (in->count == 0 || info.timestamp < in->first)
			in->first = info.timestamp;
		if (in->count == 0 || info.timestamp > in->last)
			in->last = info.timestamp;
		in->count++;
	}
	appendStringInfoChar(&in->joined, ']');
	if (in->count == 0)
		return;
	in->gz = GzipDeflate(in->joined.data, in->joined.len, DOZOR_STORAGE_GZIP_LEVEL, &in->gz_len);
	/* a digest as ingest makes it; the 64-bit hash part is not checked on reads */
	memset(in->digest, 0x5a, BATCH_DIGEST_CRC_OFFSET);
	memcpy(in->digest + BATCH_DIGEST_CRC_OFFSET, in->gz + in->gz_len - 8, 4);
	initStringInfo(&in->index);
	BatchIndexEncode(in->entries, in->count, in->first, in->digest, &in->index);
}

typedef struct Read
{
	Ingest	   *in;
	char	   *text;
	BatchIndex	index;
} Read;

/* The read side on the stored row: inflate and decode, as stream.c does. */
static void
ReadBack(void *arg)
{
	Read	   *r = arg;
	Ingest	   *in = r->in;
	BatchRow	row;
	char	   *gz = FuzzExactCopy((const uint8_t *) in->gz, in->gz_len);
	char	   *ix = FuzzExactCopy((const uint8_t *) in->index.data, in->index.len);

	row.id = BATCH_ID;
	row.first_timestamp = in->first;
	row.last_timestamp = in->last;
	row.event_count = in->count;
	row.raw_bytes = in->joined.len;
	row.digest = in->digest;
	row.digest_len = BATCH_DIGEST_BYTES;
	BatchBlobCheck(&row, gz, in->gz_len);
	r->text = GzipInflateStored(gz, in->gz_len, in->joined.len, BATCH_ID);
	BatchIndexDecode(ix, in->index.len, &row, &r->index);
}

static bool initialized = false;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ingest	   *in;
	Read		r;
	JsonScanner s;
	JsonSpan	array;
	JsonIter	it;
	int			n;

	if (!initialized)
	{
		GzipInit();
		initialized = true;
	}
	in = palloc0(sizeof(Ingest));
	in->body = FuzzExactCopy(data, size);
	in->body_len = size;
	if (!FuzzCall(Prepare, in))
	{
		if (!FuzzErrorIn("22P02 22023 54000"))
			FuzzUnexpectedError("ingest", "22P02 22023 54000");
		goto done;
	}
	if (in->count == 0)
		goto done;

	memset(&r, 0, sizeof(r));
	r.in = in;
	if (!FuzzCall(ReadBack, &r))
		FuzzFail("a batch ingest accepted does not read back: %s %s",
				 fuzz_error.sqlstate, fuzz_error.message);
	if (memcmp(r.text, in->joined.data, in->joined.len) != 0)
		FuzzFail("stored bytes inflate to something else");
	if (r.text[0] != '[' || r.text[in->joined.len - 1] != ']')
		FuzzFail("stored array frame is wrong");
	for (int i = 0; i < in->count; i++)
	{
		const char *start = r.text + r.index.offset[i];
		size_t		len = r.index.length[i];
		JsonSpan	again;

		if (r.index.timestamp[i] != in->entries[i].timestamp || r.index.cls[i] != in->entries[i].cls)
			FuzzFail("event %d: index gives back other timestamp/class", i);
		if (len != in->texts[i].len || memcmp(start, in->texts[i].start, len) != 0)
			FuzzFail("event %d is not where the index says", i);
		if (start[0] != '{' || start[len - 1] != '}' || (start[len] != ',' && start[len] != ']') ||
			start[-1] != (i == 0 ? '[' : ','))
			FuzzFail("event %d fails the read side's framing check", i);
		JsonScanInit(&s, start, len);
		if (!JsonScanValue(&s, &again) || !JsonScanAtEnd(&s))
			FuzzFail("event %d does not re-validate", i);
	}
	JsonScanInit(&s, r.text, in->joined.len);
	if (!JsonScanValue(&s, &array) || !JsonScanAtEnd(&s) || array.kind != JSON_KIND_ARRAY)
		FuzzFail("the stored array is not valid JSON");
	n = 0;
	JsonIterInit(&it, &array);
	while (JsonIterNext(&it, NULL, NULL))
		n++;
	if (n != in->count)
		FuzzFail("the stored array has %d elements, event_count is %d", n, in->count);
	if (FuzzOpenBrackets(r.text, in->joined.len) < 2000 &&
		!FuzzContains(r.text, in->joined.len, "\\u") &&
		!FuzzPgJsonValid(r.text, in->joined.len, false))
		FuzzFail("PostgreSQL's parser refuses the stored array");

done:
	FuzzMemoryReset();
	return 0;
}
