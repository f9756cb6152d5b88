"""Near-duplicate signatures for article bodies (one wire story, many outlets).

Two complementary signatures:

- a 64-bit SimHash over word 3-shingles catches copies edited *throughout* (spelling, a word here
  and there). Two hashes within 3 bits are near-duplicates; splitting the hash into four 16-bit
  bands makes the index exact for that distance: by the pigeonhole principle two hashes within 3 bits
  agree on at least one whole band, so a lookup only compares candidates sharing a band.
- a paragraph sketch catches copies that keep most paragraphs *verbatim* but change a few: the
  typical republished wire story ("BRUSSELS, March 31 (Reuters) -" becomes "BRUSSELS:", the
  "Reporting by ..." trailer goes). Such a pair is ~9 SimHash bits apart on a short story, too far
  for SimHash, yet shares most paragraphs. The sketch keeps the SKETCH_SIZE smallest hashes of the
  body's substantial paragraphs (a bottom-k sample); two bodies sharing at least 2 of them (or all
  of them, when a body has fewer) are near-duplicates. It costs 4 integers per article.
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


SKETCH_SIZE = 4
SKETCH_MIN_WORDS = 8  # shorter paragraphs ("Advertisement", "Read more") are too common to count


def paragraph_sketch(body: str) -> list[int]:
    """Bottom-k hashes (signed 64-bit) of the body's normalised paragraphs of >= SKETCH_MIN_WORDS words."""
    hashes = set()
    for para in body.split("\n\n"):
        words = _WORD.findall(para.casefold())
        if len(words) >= SKETCH_MIN_WORDS:
            digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).digest()
            hashes.add(int.from_bytes(digest, "little", signed=True))
    return sorted(hashes)[:SKETCH_SIZE]


def sketch_match(a: list[int], shared: int) -> bool:
    """Whether ``shared`` common sketch entries make two bodies near-duplicates (a has len(a) entries)."""
    return shared >= min(2, len(a)) and shared > 0
