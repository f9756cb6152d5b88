"""Packed article records for the Redis seen-store: ~165 bytes instead of ~265 as JSON.

Why it matters: an article record is the biggest thing Redis holds per seen URL, and Redis' allocator
rounds every value up to a size class (…, 160, 192, 224, 256, 320 bytes): a JSON record of a typical
news URL lands in the 320-byte class, this one in 192 (measured in bench/redis_cost.py).

Layout (big-endian)::

    seq (4) | simhash (8) | revision (2) | source | content_hash | url | modified_at | lastmod | fetched_at

``seq`` is written by the RECORD Lua script (first-recorded order, kept on updates). Each text field is
self-delimiting, so the Lua scripts find ``source`` at byte 15 (1-based) and ``content_hash`` right
after it, and compare them with fields Python encoded the same way:

- ``00``: None
- ``01 len8 utf8`` / ``02 len16 utf8`` / ``05 len32 utf8``: a string
- ``03`` + 20 bytes: ``sha1:`` + 40 lowercase hex digits (newscrawl's content_hash)
- ``04`` + 5-byte seconds + zone: ``YYYY-MM-DDTHH:MM:SS`` (wall time, 1970 or later) with zone ``00``
  none, ``01`` "Z", ``02`` + signed 16-bit minutes ("+05:30"). Used only when decoding gives back the
  very same string ("2026-11-24T10:15:00.5Z" or "-00:00" stay strings), so every value round-trips exactly.
"""
from __future__ import annotations

import calendar
import re
import time
from typing import Any

HEADER = 14  # seq + simhash + revision
_SHA1 = re.compile(r"sha1:[0-9a-f]{40}")
_TS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?")


def _timestamp(value: str) -> bytes | None:
    m = _TS.fullmatch(value)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    try:
        seconds = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
    except (OverflowError, ValueError):
        return None
    if not 0 <= seconds < 1 << 40:
        return None
    zone = m.group(7)
    if zone is None:
        tail = b"\x00"
    elif zone == "Z":
        tail = b"\x01"
    else:
        minutes = (int(zone[1:3]) * 60 + int(zone[4:6])) * (-1 if zone[0] == "-" else 1)
        tail = b"\x02" + minutes.to_bytes(2, "big", signed=True)
    out = b"\x04" + seconds.to_bytes(5, "big") + tail
    return out if decode_field(out, 0)[0] == value else None


def encode_field(value: str | None) -> bytes:
    """One self-delimiting field (see the module docstring)."""
    if value is None:
        return b"\x00"
    if _SHA1.fullmatch(value):
        return b"\x03" + bytes.fromhex(value[5:])
    ts = _timestamp(value) if len(value) <= 25 else None
    if ts is not None:
        return ts
    raw = value.encode("utf-8")
    if len(raw) < 1 << 8:
        return b"\x01" + bytes([len(raw)]) + raw
    if len(raw) < 1 << 16:
        return b"\x02" + len(raw).to_bytes(2, "big") + raw
    return b"\x05" + len(raw).to_bytes(4, "big") + raw


def decode_field(data: bytes, pos: int) -> tuple[str | None, int]:
    """-> (value, position after the field)."""
    tag = data[pos]
    if tag == 0:
        return None, pos + 1
    if tag in (1, 2, 5):
        width = {1: 1, 2: 2, 5: 4}[tag]
        n = int.from_bytes(data[pos + 1:pos + 1 + width], "big")
        start = pos + 1 + width
        return data[start:start + n].decode("utf-8"), start + n
    if tag == 3:
        return "sha1:" + data[pos + 1:pos + 21].hex(), pos + 21
    if tag == 4:
        t = time.gmtime(int.from_bytes(data[pos + 1:pos + 6], "big"))
        text = (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
                f"{t.tm_sec:02d}")
        zone = data[pos + 6]
        if zone == 0:
            return text, pos + 7
        if zone == 1:
            return text + "Z", pos + 7
        minutes = int.from_bytes(data[pos + 7:pos + 9], "big", signed=True)
        sign = "-" if minutes < 0 else "+"
        return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}", pos + 9
    raise ValueError(f"unknown field tag {tag} at byte {pos}")


def pack(url: str, revision: int, content_hash: str | None, modified_at: str | None, lastmod: str | None,
         fetched_at: str | None, source: str | None, simhash: int) -> bytes:
    """The record without its 4-byte seq (the RECORD script prepends it)."""
    return (simhash.to_bytes(8, "big") + min(max(revision, 0), 0xFFFF).to_bytes(2, "big") + encode_field(source)
            + encode_field(content_hash) + encode_field(url) + encode_field(modified_at) + encode_field(lastmod)
            + encode_field(fetched_at))


def unpack(data: bytes) -> dict[str, Any]:
    """A stored record (seq included) -> its fields."""
    out: dict[str, Any] = {"seq": int.from_bytes(data[:4], "big"), "simhash": int.from_bytes(data[4:12], "big"),
                           "revision": int.from_bytes(data[12:14], "big")}
    pos = HEADER
    for name in ("source", "content_hash", "url", "modified_at", "lastmod", "fetched_at"):
        out[name], pos = decode_field(data, pos)
    return out
