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


_WORD_IDS: dict[str, int] = {}
_P = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def _word_id(word: str) -> int:
    """A stable 64-bit id per word (blake2b, cached: news vocabularies repeat heavily)."""
    wid = _WORD_IDS.get(word)
    if wid is None:
        if len(_WORD_IDS) > 500_000:  # bounded memory over a long crawl
            _WORD_IDS.clear()
        wid = _WORD_IDS[word] = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
    return wid


def _shingle_hashes(text: str) -> np.ndarray:
    """Distinct 64-bit hashes of the word 3-shingles, computed in numpy (no per-shingle Python hashing)."""
    return _shingle_hashes_of(_WORD.findall(text.casefold()))


def _shingle_hashes_of(words: list[str]) -> np.ndarray:
    if not words:
        return np.empty(0, dtype=np.uint64)
    if len(words) < SHINGLE:
        words = words + [""] * (SHINGLE - len(words))
    cache = _WORD_IDS
    ids = np.array([cache.get(w) or _word_id(w) for w in words], dtype=np.uint64)
    n = len(ids) - SHINGLE + 1
    with np.errstate(over="ignore"):
        h = (ids[:n] * _P[0]) ^ (ids[1:n + 1] * _P[1]) ^ (ids[2:n + 2] * _P[2])
        # splitmix64 finaliser: spreads every input bit over the whole word
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return np.unique(h)


def simhash(text: str) -> int:
    """Unsigned 64-bit SimHash of the text's word 3-shingles (case-insensitive)."""
    return _simhash_of(_shingle_hashes(text))


def _simhash_of(hashes: np.ndarray) -> int:
    if hashes.size == 0:
        return 0
    # bit j of each hash, as a (n_shingles x 64) 0/1 matrix; a bit is set where most shingles have it
    bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - hashes.size
    return int(np.packbits(votes > 0, bitorder="little").view("<u8")[0])


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
    return body_signatures(body)[1]


def body_signatures(body: str) -> tuple[int, list[int]]:
    """(simhash(body), paragraph_sketch(body)), tokenising the body once: the dedup stage needs both for every
    item, and the word split is most of their cost."""
    if not body:
        return 0, []
    words: list[str] = []
    hashes = set()
    for para in body.split("\n\n"):
        # \n\n is never part of a \w+ token, so the paragraphs' tokens in order are the body's tokens
        para_words = _WORD.findall(para.casefold())
        words.extend(para_words)
        if len(para_words) >= SKETCH_MIN_WORDS:
            digest = hashlib.blake2b(" ".join(para_words).encode("utf-8"), digest_size=8).digest()
            hashes.add(int.from_bytes(digest, "little", signed=True))
    return _simhash_of(_shingle_hashes_of(words)), sorted(hashes)[:SKETCH_SIZE]


def sketch_match(a: list[int], shared: int) -> bool:
    """Whether ``shared`` common sketch entries make two bodies near-duplicates (a has len(a) entries)."""
    return shared >= min(2, len(a)) and shared > 0
