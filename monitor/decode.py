"""Bounded decoding of Content-Encoding: our own zlib loop with a cap on decoded bytes.

Pure. httpx decodes a whole network chunk at once and honours stacked encodings, so a
1.8 KB `gzip, gzip` body became one 1 GiB chunk (RELIABILITY.md §0.1). Here the output is
capped as it is produced, and only one known encoding is accepted.
"""

from __future__ import annotations

import zlib

from monitor.errors import FetchError, TooLargeError

# What we send as Accept-Encoding: exactly what this module decodes.
ACCEPT_ENCODING = "gzip, deflate"


class BoundedDecoder:
    def __init__(self, url: str, content_encoding: str | None, max_bytes: int) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.total = 0
        enc = (content_encoding or "identity").strip().lower()
        if "," in enc:
            raise FetchError(url, f"stacked Content-Encoding is not accepted: {enc!r}")
        if enc in ("identity", ""):
            self._d = None
        elif enc in ("gzip", "x-gzip"):
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            # RFC 9110 says zlib-wrapped; some servers send raw deflate. 32+ auto-detects
            # zlib or gzip headers; raw deflate is retried below on the first error.
            self._d = zlib.decompressobj(32 + zlib.MAX_WBITS)
            self._raw_fallback = True
        else:
            raise FetchError(url, f"unsupported Content-Encoding: {enc!r}")
        self._enc = enc
        self._started = False
        self._head = b""  # deflate: first bytes held back until the 2-byte header is known

    def _count(self, n: int) -> None:
        self.total += n
        if self.total > self.max_bytes:
            raise TooLargeError(self.url, f"feed is larger than {self.max_bytes} bytes")

    def feed(self, data: bytes) -> bytes:
        if self._d is None:
            self._count(len(data))
            return data
        if self._enc == "deflate" and not self._started:
            # zlib only rejects a raw-deflate stream once it has seen both header bytes; a
            # 1-byte first chunk would otherwise commit to zlib and fail on the next chunk.
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return b""
            self._head = b""
        out = bytearray()
        buf = data
        while buf:
            try:
                chunk = self._d.decompress(buf, self.max_bytes - self.total + 1)
            except zlib.error as e:
                if self._enc == "deflate" and not self._started:
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._started = True
                    continue
                raise FetchError(self.url, f"corrupt {self._enc} body: {e}") from e
            self._started = True
            self._count(len(chunk))
            out += chunk
            if self._d.eof:
                # Concatenated gzip members are one body (RFC 1952 §2.2).
                rest = self._d.unused_data
                if rest and self._enc != "deflate":
                    self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    buf = rest
                    continue
                break
            buf = self._d.unconsumed_tail
        return bytes(out)

    def flush(self) -> bytes:
        if self._d is None:
            return b""
        if self._head:
            raise FetchError(self.url, f"corrupt {self._enc} body: truncated header")
        tail = self._d.flush()
        self._count(len(tail))
        return tail
