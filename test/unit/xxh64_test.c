/*
 * Unit test of src/xxh64.c: XXH64 against outputs of another
 * implementation (the npm package xxhash-wasm 1.x, h64Raw), with seed 0 and
 * with the seed ingest uses, at every length class the algorithm branches
 * on (below/at/above the 32-byte stripe, 8- and 4-byte tails, bytes).
 */
#include "postgres_fe.h"

#include "xxh64.h"

#define DIGEST_SEED UINT64CONST(0x646f7a6f72)

typedef struct Vector
{
	const char *text;			/* NULL: the first len bytes of Pattern() */
	size_t		len;
	uint64		seed0;
	uint64		seed_dozor;
} Vector;

static const Vector vectors[] = {
	{"", 0, UINT64CONST(0xef46db3751d8e999), UINT64CONST(0x52274c351d885c51)},
	{"a", 1, UINT64CONST(0xd24ec4f1a98c6e5b), UINT64CONST(0x0e52d165cd7df818)},
	{"abc", 3, UINT64CONST(0x44bc2cf5ad770999), UINT64CONST(0xe336cf28bf0901e7)},
	{"The quick brown fox jumps over the lazy dog", 43,
	UINT64CONST(0x0b242d361fda71bc), UINT64CONST(0xc412d2d2f1101d8f)},
	{NULL, 1, UINT64CONST(0xa96c7f0ce858bbb7), UINT64CONST(0x71e7b051b29de082)},
	{NULL, 3, UINT64CONST(0xbed43740ee6332bb), UINT64CONST(0x1904606d637d2063)},
	{NULL, 4, UINT64CONST(0xfa212ae44b3bb23d), UINT64CONST(0xa9aa3c2771d54a33)},
	{NULL, 7, UINT64CONST(0x2744460dd675d2c0), UINT64CONST(0x88372b81cbb16430)},
	{NULL, 8, UINT64CONST(0x994b676b71ce94dd), UINT64CONST(0xefe0e7ffb63538f2)},
	{NULL, 9, UINT64CONST(0x572b84c18b983af8), UINT64CONST(0xcc85084f00576001)},
	{NULL, 15, UINT64CONST(0x09e6451ed2ff8b1d), UINT64CONST(0xe603cb86b1b5d404)},
	{NULL, 16, UINT64CONST(0x94ad0095e72b24d5), UINT64CONST(0x91a9d4f58738c9b0)},
	{NULL, 31, UINT64CONST(0x6711d55e306b5d8f), UINT64CONST(0x44d5dd1ee278c7e7)},
	{NULL, 32, UINT64CONST(0x07f7b8e3bc5d6e25), UINT64CONST(0x1fa01f6fdc452d93)},
	{NULL, 33, UINT64CONST(0x09f85eeb4e1cbe9f), UINT64CONST(0xc52a2e187280f38c)},
	{NULL, 63, UINT64CONST(0xb7c9968c066cb6a5), UINT64CONST(0x239e685f7a38a49f)},
	{NULL, 64, UINT64CONST(0x50d4159a0411632e), UINT64CONST(0x1b824940c686dd31)},
	{NULL, 65, UINT64CONST(0xd277176bff863efc), UINT64CONST(0x2ef3aca0329af166)},
	{NULL, 100, UINT64CONST(0x9ddada11d3dc2d8f), UINT64CONST(0x196b89a27909a6bc)},
	{NULL, 1000, UINT64CONST(0x0bf0bdbcc82eb373), UINT64CONST(0x00694eccff9b9f4b)},
	{NULL, 4099, UINT64CONST(0xc2c15a86d6a1985b), UINT64CONST(0x5e11648d99396748)},
};

/* byte i is (i * 131 + 7) mod 256 */
static unsigned char pattern[5000];

int
main(void)
{
	int			failures = 0;

	for (int i = 0; i < (int) sizeof(pattern); i++)
		pattern[i] = (unsigned char) (i * 131 + 7);
	for (int i = 0; i < (int) lengthof(vectors); i++)
	{
		const Vector *v = &vectors[i];
		const void *data = v->text ? (const void *) v->text : (const void *) pattern;
		/* an unaligned copy too: loads must not depend on alignment */
		unsigned char *shifted = malloc(v->len + 1);

		memcpy(shifted + 1, data, v->len);
		if (Xxh64(data, v->len, 0) != v->seed0 ||
			Xxh64(data, v->len, DIGEST_SEED) != v->seed_dozor ||
			Xxh64(shifted + 1, v->len, DIGEST_SEED) != v->seed_dozor)
		{
			fprintf(stderr, "xxh64: wrong hash of %zu bytes (%s)\n", v->len, v->text ? v->text : "pattern");
			failures++;
		}
		free(shifted);
	}
	return failures == 0 ? 0 : 1;
}
