/*
 * hex.h — the value of one hexadecimal digit, for every scanner that reads
 * them (JSON \u escapes, URL percent-escapes and hosts, session UUIDs).
 */
#ifndef DOZOR_HEX_H
#define DOZOR_HEX_H

/* Value of hex digit c, or -1. */
static inline int
HexDigitValue(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif							/* DOZOR_HEX_H */
