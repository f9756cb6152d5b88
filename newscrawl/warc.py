"""Read and write HTTP responses as WARC 1.1 files (via warcio).

Bodies are stored as they came off the wire, after de-chunking but BEFORE
content decoding: a page served with ``Content-Encoding: gzip`` is archived as
gzip bytes with that header kept.  Why not store decoded bodies?

* the archive stays a faithful WARC that other tools (pywb, warcio extract)
  replay and decode themselves;
* replay then runs the very same code path as a live crawl: Scrapy's
  HttpCompressionMiddleware decodes the body, with its DOWNLOAD_MAXSIZE
  decompression-bomb guard, so a replayed crawl cannot hide a decoding bug.

The only rewrite is dropping ``Transfer-Encoding``: the body we have is already
de-chunked, and a reader seeing ``Transfer-Encoding: chunked`` would try to
de-chunk it a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, BinaryIO
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

WARC_VERSION = "1.1"
WARC_SUFFIXES = (".warc", ".warc.gz")

HeadersInput = list[tuple[str, str]] | Mapping[str, str]


@dataclass
class WarcEntry:
    """One HTTP response to archive; ``body`` is the wire body (not decoded)."""

    url: str
    status: int = 200
    headers: HeadersInput = field(default_factory=list)
    body: bytes = b""
    fetched_at: datetime | None = None
    # Extra WARC headers, e.g. {"WARC-IP-Address": "1.2.3.4"}.
    warc_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ReplayedResponse:
    """A response read back from an archive."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime | None = None


def _header_pairs(headers: HeadersInput) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k), str(v)) for k, v in items]


def _warc_date(value: datetime | None) -> str:
    if value is None:
        value = datetime.now(timezone.utc)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return datetime_to_iso_date(value, use_micros=True)


def _status_line(status: int) -> str:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"  # e.g. Cloudflare's 520..527 have no stdlib phrase
    return f"{status} {reason}"


def encode_entry(entry: WarcEntry, *, gzip: bool = True) -> bytes:
    """Serialize one WARC ``response`` record to bytes (one gzip member if gzipped)."""
    headers = [
        (k, v) for k, v in _header_pairs(entry.headers) if k.lower() != "transfer-encoding"
    ]
    http_headers = StatusAndHeaders(_status_line(entry.status), headers, protocol="HTTP/1.1")
    buf = BytesIO()
    writer = WARCWriter(buf, gzip=gzip, warc_version=WARC_VERSION)
    warc_headers = {"WARC-Date": _warc_date(entry.fetched_at), **entry.warc_headers}
    record = writer.create_warc_record(
        entry.url,
        "response",
        payload=BytesIO(entry.body),
        length=len(entry.body),
        http_headers=http_headers,
        warc_headers_dict=warc_headers,
    )
    writer.write_record(record)
    return buf.getvalue()


def write_warc(path: str | Path, entries: Iterable[WarcEntry], *, gzip: bool = True) -> int:
    """Write ``entries`` as WARC 1.1 response records to ``path``; return the record count."""
    count = 0
    with open(path, "wb") as fh:
        for entry in entries:
            fh.write(encode_entry(entry, gzip=gzip))
            count += 1
    return count


class WarcRecorder:
    """Append response records to a WARC file, one whole record per write.

    Each record is serialized in memory and written with a single ``write`` +
    ``flush``, so a crawl killed mid-way leaves only complete gzip members
    (a reader would otherwise stop at a half-written member and lose nothing
    else, but we would rather not leave one at all).
    """

    def __init__(self, path: str | Path, *, gzip: bool | None = None) -> None:
        self.path = Path(path)
        self.gzip = (not self.path.name.endswith(".warc")) if gzip is None else gzip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Append, never truncate: re-running a crawl with the same file name
        # adds records, and replay picks the last one per URL.
        self._fh: IO[bytes] | None = open(self.path, "ab")
        self.count = 0
        self._write_warcinfo()

    def _write_warcinfo(self) -> None:
        buf = BytesIO()
        writer = WARCWriter(buf, gzip=self.gzip, warc_version=WARC_VERSION)
        info = {"software": "newscrawl (warcio)", "format": "WARC File Format 1.1"}
        writer.write_record(writer.create_warcinfo_record(self.path.name, info))
        self._write_bytes(buf.getvalue())

    def _write_bytes(self, data: bytes) -> None:
        if self._fh is None:
            raise ValueError(f"WARC recorder for {self.path} is closed")
        self._fh.write(data)
        self._fh.flush()

    def write(self, entry: WarcEntry) -> None:
        """Append one response record and flush it to the OS."""
        self._write_bytes(encode_entry(entry, gzip=self.gzip))
        self.count += 1

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _exact_key(url: str) -> str:
    # A fragment never reaches the server: "https://x/a#top" is "https://x/a";
    # and "https://x" is requested as "https://x/".
    parts = urlsplit(urldefrag(url)[0])
    return urlunsplit(parts._replace(path=parts.path or "/"))


def _loose_key(url: str) -> str:
    """Key tolerant to scheme, trailing slash and fragment differences.

    "http://X.org/a/?b=1&a=2#f" and "https://x.org/a?a=2&b=1" share a key.
    """
    try:
        canon = canonicalize_url(url, keep_fragments=False)
    except Exception:  # malformed URL in a foreign WARC: fall back to raw text
        canon = _exact_key(url)
    parts = urlsplit(canon)
    path = parts.path.rstrip("/")
    return urlunsplit(("", parts.netloc.lower(), path, parts.query, ""))


def _expand_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        raw = [p.strip() for p in str(paths).split(",") if p.strip()]
    else:
        raw = [str(p) for p in paths]
    files: list[Path] = []
    for item in raw:
        p = Path(item).expanduser()
        if p.is_dir():
            # Sorted by name: recorder file names carry %(time)s, so name order
            # is time order and the newest recording wins on replay.
            files.extend(sorted(c for c in p.iterdir() if c.name.endswith(WARC_SUFFIXES)))
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"WARC archive not found: {item}")
    return files


class WarcArchive:
    """Index of the ``response`` records of one or several WARC files.

    Only ``url -> (file, offset)`` is kept in memory; bodies are read lazily by
    seeking to the record.  When a URL was recorded several times, the last
    record (in file order, then offset order) wins.
    """

    def __init__(self, paths: str | Path | Iterable[str | Path]) -> None:
        self.files: list[Path] = _expand_paths(paths)
        self._handles: dict[int, BinaryIO] = {}
        self._exact: dict[str, tuple[int, int]] = {}
        self._loose: dict[str, tuple[int, int]] = {}
        self._urls: dict[str, str] = {}  # exact key -> WARC-Target-URI
        self.problems: list[str] = []
        for idx, path in enumerate(self.files):
            self._index_file(idx, path)

    def _index_file(self, idx: int, path: Path) -> None:
        end = 0  # end offset of the last complete record
        try:
            with open(path, "rb") as fh:
                it = ArchiveIterator(fh)
                for record in it:
                    if record.format != "warc":  # ARC file, or text warcio guessed as ARC
                        raise ValueError("not a WARC file")
                    # Stream the payload (never kept) to notice a record cut
                    # short by a killed crawl: its tail is simply missing.
                    expected = record.payload_length if record.payload_length >= 0 else record.length
                    got = _drain(record.raw_stream)
                    if expected is not None and got < expected:
                        raise ValueError(f"truncated record at offset {it.offset}")
                    offset = it.get_record_offset()
                    end = offset + it.get_record_length()
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    if record.rec_type == "response" and url:
                        self._add(url, idx, offset, record.http_headers)
                fh.seek(end)
                # Uncompressed WARCs end with CRLF CRLF after the last record;
                # anything else (half a gzip member) is a cut record.
                if fh.read(1 << 16).strip():
                    raise ValueError(f"unreadable data after offset {end}")
        except Exception as exc:  # keep what was indexed before the bad spot
            msg = f"{path}: {exc} (archive holds {len(self._exact)} URLs so far)"
            logger.warning("Bad WARC file %s", msg)
            self.problems.append(msg)

    def _add(self, url: str, idx: int, offset: int, http: StatusAndHeaders | None) -> None:
        key = _exact_key(url)
        loc = (idx, offset)
        self._exact[key] = loc
        self._urls[key] = url
        loose = _loose_key(url)
        # "http://x/" -> 301 -> "https://x/" must not answer a loose lookup of
        # "https://x/": that would replay the redirect forever.
        if http is not None and _is_self_redirect(url, http, loose):
            return
        self._loose[loose] = loc

    def _locate(self, url: str) -> tuple[int, int] | None:
        loc = self._exact.get(_exact_key(url))
        if loc is None:
            loc = self._loose.get(_loose_key(url))
        return loc

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self._locate(url) is not None

    def __len__(self) -> int:
        return len(self._exact)

    def urls(self) -> list[str]:
        """Recorded URLs (one per distinct URL, fragment stripped)."""
        return list(self._urls.values())

    def get(self, url: str) -> ReplayedResponse | None:
        """Return the last response recorded for ``url`` or ``None``."""
        loc = self._locate(url)
        if loc is None:
            return None
        idx, offset = loc
        fh = self._handles.get(idx)
        if fh is None:
            fh = self._handles[idx] = open(self.files[idx], "rb")
        fh.seek(offset)
        it = ArchiveIterator(fh)
        try:
            record = next(iter(it))
            return _to_replayed(record)
        finally:
            it.close()

    def close(self) -> None:
        """Close the file handles opened by ``get``."""
        for fh in self._handles.values():
            fh.close()
        self._handles.clear()

    def __enter__(self) -> WarcArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drain(stream: IO[bytes]) -> int:
    total = 0
    while chunk := stream.read(1 << 16):
        total += len(chunk)
    return total


def _is_self_redirect(url: str, http: StatusAndHeaders, loose: str) -> bool:
    try:
        status = int(http.get_statuscode() or 0)
    except ValueError:
        return False
    location = http.get_header("Location")
    if not (300 <= status < 400 and location):
        return False
    return _loose_key(urljoin(url, location)) == loose


def _to_replayed(record) -> ReplayedResponse:  # noqa: ANN001 - warcio has no types
    url = record.rec_headers.get_header("WARC-Target-URI")
    http = record.http_headers
    if http is None:  # resource-like response without HTTP block
        return ReplayedResponse(url, 200, [], record.raw_stream.read())
    headers = list(http.headers)
    stream = record.raw_stream
    # Foreign WARCs (wget, Heritrix) keep chunked bodies raw; de-chunk without
    # decoding Content-Encoding, which stays Scrapy's job.
    if (http.get_header("Transfer-Encoding") or "").lower() == "chunked":
        stream = ChunkedDataReader(stream)
        headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
    body = stream.read()
    try:
        status = int(http.get_statuscode())
    except (TypeError, ValueError):
        status = 200
    date = record.rec_headers.get_header("WARC-Date")
    try:
        fetched = iso_date_to_datetime(date, tz_aware=True) if date else None
    except ValueError:  # e.g. "2024-13-40" written by a buggy tool
        fetched = None
    return ReplayedResponse(url, status, headers, body, fetched)

