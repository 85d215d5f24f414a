"""Text preparation for matching: HTML to text, Unicode folding, words and sentences.

Pure. No I/O. The only module that imports selectolax.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

from selectolax.lexbor import LexborHTMLParser

# Tags whose text is never article text.
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object")
_WS = re.compile(r"\s+")
# A "word" is a run of letters, digits or combining marks. Apostrophes and hyphens split
# words, in patterns and in texts alike, so "Tehreek-e-Taliban" is three words on both sides.
WORD_RE = re.compile(r"\w+")
# Sentence ends: terminal punctuation followed by space, or a line break in the source.
_SENTENCE_END = re.compile(r"[.!?…。！？؟]+[\"'»”)\]]*\s|\n")
# Characters removed outright: controls, bidi overrides and zero-width marks can hide or
# reorder text and must not split or join words. Tab, newline and CR become spaces.
_INVISIBLE = dict.fromkeys(
    [c for c in range(0x20) if c not in (9, 10, 13)]
    + [0x7F, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)


def html_to_text(value: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed, NFC composed.

    Plain text (no markup) passes through without a parse, which is the common case for
    titles. Lone surrogates, NULs and bidi controls are removed.
    """
    if not value:
        return ""
    if "<" in value or "&" in value:
        tree = LexborHTMLParser(value)
        tree.strip_tags(list(_DROP_TAGS))
        root = tree.body or tree.root
        value = root.text(separator=" ") if root is not None else ""
    return clean_text(value)


def clean_text(value: str) -> str:
    """Plain text made safe to store, match and encode: lone surrogates, NULs, controls and
    bidi overrides removed, whitespace collapsed, NFC composed. No HTML is interpreted."""
    value = value.encode("utf-8", "replace").decode("utf-8").translate(_INVISIBLE)
    return unicodedata.normalize("NFC", _WS.sub(" ", value)).strip()


class _FoldTable(dict[int, str]):
    """str.translate table folding each character, computed on first sight and cached."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = unicodedata.normalize("NFKC", ch).casefold()
        # Accent folding: decompose and drop combining marks, so "Bogotá" == "bogota",
        # while letters without a decomposition (Kazakh Қ, Cyrillic Ы) stay as they are.
        folded = "".join(
            c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c)
        )
        folded = _PUNCT_FOLD.get(folded, folded)
        if not folded and not unicodedata.combining(ch):
            folded = " "
        self[code] = folded
        return folded


# Typographic variants folded to one form, so "Qozogʻiston" and "Qozog'iston" agree.
_PUNCT_FOLD = {
    "ʻ": "'",
    "ʼ": "'",
    "’": "'",
    "‘": "'",
    "`": "'",
    "´": "'",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "ё": "е",
}

_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Case-, accent- and compatibility-folded text. Not always the same length as `text`."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


def _is_unspaced(ch: str) -> bool:
    """Scripts written without spaces between words (CJK, kana, Thai, Lao, Khmer, Myanmar)."""
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0x0E00 <= o <= 0x0EFF
        or 0x1000 <= o <= 0x109F
        or 0x1780 <= o <= 0x17FF
        or 0x20000 <= o <= 0x2FFFF
    )


def is_unspaced(text: str) -> bool:
    return any(_is_unspaced(c) for c in text)


def words_of(text: str) -> list[str]:
    """The folded words of a pattern or text."""
    return WORD_RE.findall(fold(text))


@dataclass
class Field:
    """One prepared field of an item: display text, folded text and its words.

    Offsets reported to users refer to `text` (the display text). Folding can change the
    length of non-ASCII text (ß -> ss), so the map from folded to display offsets is built
    only when evidence is needed.
    """

    name: str
    text: str
    folded: str = field(init=False)
    words: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.folded = fold(self.text)
        self.words = WORD_RE.findall(self.folded)

    @cached_property
    def spans(self) -> list[tuple[int, int]]:
        """(start, end) in `folded` of each word."""
        return [m.span() for m in WORD_RE.finditer(self.folded)]

    @cached_property
    def sentence_of_word(self) -> list[int]:
        """Sentence number of each word."""
        ends = [m.start() for m in _SENTENCE_END.finditer(self.folded)]
        return [bisect_right(ends, start) for start, _ in self.spans]

    @cached_property
    def _display_offsets(self) -> list[int]:
        if len(self.folded) == len(self.text) and self.text.isascii():
            return list(range(len(self.text) + 1))
        out: list[int] = []
        for i, ch in enumerate(self.text):
            out.extend([i] * len(fold(ch)))
        out.append(len(self.text))
        return out

    def display_span(self, first_word: int, last_word: int) -> tuple[int, int]:
        """Offsets in `text` covering words first_word..last_word (inclusive)."""
        start = self.spans[first_word][0]
        end = self.spans[last_word][1]
        offs = self._display_offsets
        d_start = offs[min(start, len(offs) - 1)]
        d_end = offs[end - 1] + 1 if end > 0 else 0
        return d_start, max(d_end, d_start)

    def snippet(self, start: int, end: int, width: int = 80) -> str:
        """Display text around [start, end), cut at word boundaries, with ellipses."""
        lo = max(0, start - width)
        hi = min(len(self.text), end + width)
        if lo > 0:
            space = self.text.find(" ", lo, start)
            lo = space + 1 if space != -1 else lo
        if hi < len(self.text):
            space = self.text.rfind(" ", end, hi)
            hi = space if space != -1 else hi
        prefix = "…" if lo > 0 else ""
        suffix = "…" if hi < len(self.text) else ""
        return f"{prefix}{self.text[lo:hi]}{suffix}"
