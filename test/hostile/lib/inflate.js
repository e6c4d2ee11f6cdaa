'use strict';
// inflate.js — a bounded DEFLATE (RFC 1951) decoder that says *which* comes
// first on a damaged stream: the output passing a cap, or the damage. dozor
// inflates with libdeflate into a buffer of exactly the cap, so its answer
// (54000 or 22P02) depends on that order; node's zlib cannot tell (it throws
// away the output of the chunk where it met the error).
//
// The decoder follows libdeflate's documented rules where DEFLATE decoders
// differ (lib/deflate_decompress.c, lib/decompress_template.h, 1.12+):
//   - space: a literal needs one free byte; a match's length is checked
//     against the free space before its distance is decoded; a stored block's
//     LEN is checked against the space before the input holds LEN bytes;
//   - codes: overfull is an error; incomplete only when empty (decodes as
//     symbol 0 with 1 bit) or one symbol of length 1 (both bits decode to
//     it); a code-length repeat may run past HLIT+HDIST; HLIT/HDIST up to
//     288/32; litlen 286/287 mean length 258; distances 30/31 mean 24577 +
//     13 bits; a distance is only checked against the output so far;
//   - end of input: bits past the end read as zeros; the bit buffer refills
//     to >= 56 bits at each block start, after the first 20 bits of a
//     dynamic header, before a code length when < 14 bits are left, and
//     before each literal/length symbol, and fails when a refill needs a 9th
//     byte past the end; a stored block or the end of the stream fails if any
//     byte past the end was consumed.
//
// inflateRaw(buf, start, space) -> { status: 'ok'|'space'|'bad', out, used, why }

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258, 258, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0, 0, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577, 24577, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 13, 13];
const PRECODE_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

class Stop extends Error {
  constructor(status, why) { super(why); this.status = status; }
}
const bad = (why) => { throw new Stop('bad', why); };

// A canonical Huffman code from lengths, or null when libdeflate refuses it.
function huffman(lens, maxLen) {
  const count = new Array(maxLen + 1).fill(0);
  for (const l of lens) count[l]++;
  let used = 0;
  for (let l = 1; l <= maxLen; l++) used = used * 2 + count[l];
  const full = 2 ** maxLen;
  if (used > full) return null;
  if (used < full) {
    if (used === 0) return { single: 0 };
    if (used !== full / 2 || count[1] !== 1) return null;
    return { single: lens.findIndex((l) => l === 1) };
  }
  // canonical: the codes of length l are firstCode[l] .. + count[l] - 1,
  // their symbols symbols[first[l]] .. in symbol order
  const symbols = [];
  for (let l = 1; l <= maxLen; l++) for (let s = 0; s < lens.length; s++) if (lens[s] === l) symbols.push(s);
  const first = [];
  const firstCode = [];
  let idx = 0;
  let code = 0;
  for (let l = 1; l <= maxLen; l++) { first[l] = idx; firstCode[l] = code; idx += count[l]; code = (code + count[l]) << 1; }
  return { count, first, firstCode, symbols, maxLen };
}

function inflateRaw(buf, start, space) {
  const len = buf.length - start; // input bytes available to the decoder
  let P = 0; // bits consumed
  let B = 0; // bytes loaded into the bit buffer, zeros past the end included
  let out = Buffer.alloc(Math.min(space, 65536));
  let n = 0;

  const refill = () => {
    const left = 8 * B - P;
    if (left >= 56) return;
    B += 7 - Math.floor(left / 8);
    if (B > len + 8) bad('input ends (overread)');
  };
  const bit = () => {
    const byte = P >> 3;
    const v = byte < len ? (buf[start + byte] >> (P & 7)) & 1 : 0;
    P++;
    return v;
  };
  const bits = (k) => { let v = 0; for (let i = 0; i < k; i++) v |= bit() << i; return v; };
  const decode = (h) => {
    if (h.single !== undefined) { P++; return h.single; }
    let code = 0;
    for (let l = 1; l <= h.maxLen; l++) {
      code = (code << 1) | bit();
      const k = code - h.firstCode[l];
      if (k >= 0 && k < h.count[l]) return h.symbols[h.first[l] + k];
    }
    throw new Error('complete code did not decode'); // cannot happen
  };
  const put = (k) => {
    if (n + k > out.length) {
      const grown = Buffer.alloc(Math.min(space, Math.max(out.length * 2, n + k)));
      out.copy(grown, 0, 0, n);
      out = grown;
    }
  };
  const alignConsumed = () => {
    // a stored block or the stream's end: no byte past the end may be consumed
    if (Math.ceil(P / 8) > len) bad('input ends');
    P = 8 * Math.ceil(P / 8);
    B = P / 8;
  };

  let staticCodes = null;
  try {
    for (;;) {
      refill();
      const final = bit();
      const type = bits(2);
      let lit;
      let dist;
      if (type === 0) {
        alignConsumed();
        const at = P / 8;
        if (len - at < 4) bad('stored block header truncated');
        const L = buf[start + at] | (buf[start + at + 1] << 8);
        const NL = buf[start + at + 2] | (buf[start + at + 3] << 8);
        if (L !== (~NL & 0xffff)) bad('stored block LEN/NLEN');
        if (L > space - n) throw new Stop('space', 'stored block');
        if (L > len - at - 4) bad('stored block truncated');
        put(L);
        buf.copy(out, n, start + at + 4, start + at + 4 + L);
        n += L;
        P = 8 * (at + 4 + L);
        B = P / 8;
      } else if (type === 3) {
        bad('block type 3');
      } else {
        if (type === 1) {
          if (!staticCodes) {
            const l = [];
            for (let i = 0; i < 288; i++) l.push(i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8);
            staticCodes = [huffman(l, 15), huffman(new Array(32).fill(5), 15)];
          }
          [lit, dist] = staticCodes;
        } else {
          const hlit = bits(5) + 257;
          const hdist = bits(5) + 1;
          const hclen = bits(4) + 4;
          const pre = new Array(19).fill(0);
          pre[PRECODE_ORDER[0]] = bits(3);
          refill();
          for (let i = 1; i < hclen; i++) pre[PRECODE_ORDER[i]] = bits(3);
          const preCode = huffman(pre, 7);
          if (!preCode) bad('precode');
          const lens = [];
          while (lens.length < hlit + hdist) {
            if (8 * B - P < 14) refill();
            const sym = decode(preCode);
            if (sym < 16) lens.push(sym);
            else if (sym === 16) {
              if (lens.length === 0) bad('repeat with no previous length');
              const v = lens[lens.length - 1];
              for (let k = 3 + bits(2); k > 0; k--) lens.push(v);
            } else if (sym === 17) for (let k = 3 + bits(3); k > 0; k--) lens.push(0);
            else for (let k = 11 + bits(7); k > 0; k--) lens.push(0);
          }
          // (offset table first, as libdeflate builds it)
          dist = huffman(lens.slice(hlit, hlit + hdist), 15);
          if (!dist) bad('distance code');
          lit = huffman(lens.slice(0, hlit), 15);
          if (!lit) bad('literal/length code');
        }
        for (;;) {
          refill();
          const sym = decode(lit);
          if (sym < 256) {
            if (n === space) throw new Stop('space', 'literal');
            put(1);
            out[n++] = sym;
            continue;
          }
          if (sym === 256) break;
          const length = LEN_BASE[sym - 257] + bits(LEN_EXTRA[sym - 257]);
          if (length > space - n) throw new Stop('space', 'match');
          const dsym = decode(dist);
          const d = DIST_BASE[dsym] + bits(DIST_EXTRA[dsym]);
          if (d > n) bad('distance before the start');
          put(length);
          for (let k = 0; k < length; k++, n++) out[n] = out[n - d];
        }
      }
      if (final) break;
    }
    alignConsumed();
    return { status: 'ok', out: out.subarray(0, n), used: P / 8 };
  } catch (e) {
    if (e instanceof Stop) return { status: e.status, why: e.message, produced: n };
    throw e;
  }
}

module.exports = { inflateRaw };
