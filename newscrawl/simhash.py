"""64-bit SimHash over word shingles, for near-duplicate bodies (one wire story, many outlets).

Two texts whose SimHashes differ in at most 3 bits are near-duplicates. Splitting the hash into four
16-bit bands makes the index exact for that distance: by the pigeonhole principle two hashes within
3 bits agree on at least one whole band, so a lookup only compares candidates sharing a band.
"""
from __future__ import annotations

import hashlib
import re

import numpy as np

_WORD = re.compile(r"\w+")
SHINGLE = 3
BANDS = 4
BAND_BITS = 64 // BANDS
_BITS = np.arange(64, dtype=np.uint64)


def _shingle_hashes(text: str) -> np.ndarray:
    words = _WORD.findall(text.casefold())
    if len(words) < SHINGLE:
        words = words + [""] * (SHINGLE - len(words))
    grams = {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "little") for g in grams),
        dtype=np.uint64, count=len(grams),
    )


def simhash(text: str) -> int:
    """Unsigned 64-bit SimHash of the text's word 3-shingles (case-insensitive)."""
    hashes = _shingle_hashes(text)
    if hashes.size == 0:
        return 0
    # bit matrix (n_shingles x 64): +1 where the shingle's bit is set, -1 otherwise, summed per column
    bits = ((hashes[:, None] >> _BITS) & np.uint64(1)).astype(np.int32)
    votes = bits.sum(axis=0) * 2 - hashes.size
    return int(sum(1 << i for i in range(64) if votes[i] > 0))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def bands(h: int) -> list[int]:
    """The four 16-bit bands of a hash, each tagged with its band number so they never collide."""
    mask = (1 << BAND_BITS) - 1
    return [(i << BAND_BITS) | ((h >> (i * BAND_BITS)) & mask) for i in range(BANDS)]


def to_signed(h: int) -> int:
    """SQLite integers are signed 64-bit."""
    return h - (1 << 64) if h >= 1 << 63 else h


def to_unsigned(h: int) -> int:
    return h + (1 << 64) if h < 0 else h
