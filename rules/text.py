"""Text preparation for matching: HTML to text, Unicode folding, words and sentences.

Pure. No I/O. The only module that imports selectolax.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain

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
    # Fast path, the common case: every character removed or rewritten below (surrogates,
    # controls, format characters, whitespace other than one space) is non-printable.
    if not (value.isprintable() and "  " not in value):
        value = value.encode("utf-8", "replace").decode("utf-8").translate(_INVISIBLE)
        value = _WS.sub(" ", value)
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    return value.strip()


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
_NON_ASCII = re.compile(r"([^\x00-\x7f]+)")
# UTF-8 bytes with the ASCII ones that are not `\w` made spaces (the others, bytes of
# non-ASCII characters, kept): text splits into words in C rather than by regex.
_ASCII_WORDS = bytes(c if c >= 0x80 or chr(c).isalnum() or c == 0x5F else 0x20 for c in range(256))


class _RunTable(dict[str, str]):
    """Non-ASCII runs of text -> folded run. Runs repeat (names, accented letters, Cyrillic
    words), so each is folded once. Bounded; updates are idempotent, so threads may share."""

    def __missing__(self, run: str) -> str:
        folded = run.translate(_FOLD)
        if len(self) >= _MEMO_MAX:
            self.clear()
        self[run] = folded
        return folded


class _TokenTable(dict[str, tuple[str, ...]]):
    """Tokens of raw text (split at ASCII non-word characters and whitespace) -> their
    folded words. A token with a character of an unspaced script is noted in _UNSPACED."""

    def __missing__(self, token: str) -> tuple[str, ...]:
        folded = token.translate(_FOLD)
        words = tuple(WORD_RE.findall(folded))
        if len(self) >= _MEMO_MAX:
            self.clear()
            _UNSPACED_TOKENS.clear()
        if UNSPACED_RE.search(folded):
            _UNSPACED_TOKENS.add(token)
        self[token] = words
        return words


_MEMO_MAX = 100_000
_RUNS = _RunTable()
_TOKENS = _TokenTable()
_UNSPACED_TOKENS: set[str] = set()


def fold(text: str) -> str:
    """Case-, accent- and compatibility-folded text. Not always the same length as `text`."""
    if text.isascii():
        return text.lower()
    # lower() the ASCII stretches (the same fold, much faster), look up only the others.
    parts = _NON_ASCII.split(text)
    parts[::2] = [p.lower() for p in parts[::2]]
    parts[1::2] = map(_RUNS.__getitem__, parts[1::2])
    return "".join(parts)


def fold_words(text: str) -> tuple[list[str], bool]:
    """WORD_RE.findall(fold(text)), computed without folding the whole text, and whether
    fold(text) has a character of a script written without spaces (CJK, Thai).

    Fold is per character and no separator (ASCII non-word character, whitespace) folds to
    a word character, so the words of fold(text) are the words of each folded token. ASCII
    text splits in C (non-word bytes made spaces, then str.split()); other tokens are
    folded once each and remembered.
    """
    if text.isascii():
        return text.lower().encode().translate(_ASCII_WORDS).decode().split(), False
    raw = text.encode("utf-8", "surrogatepass").translate(_ASCII_WORDS)
    tokens = raw.decode("utf-8", "surrogatepass").split()
    words = list(chain.from_iterable(map(_TOKENS.__getitem__, tokens)))
    return words, not _UNSPACED_TOKENS.isdisjoint(tokens)


def _fold_lengths(text: str) -> list[int]:
    """The display offset of each folded character of `text`, plus len(text) at the end."""
    out: list[int] = []
    if text.isascii():
        out = list(range(len(text)))
    else:
        pos = 0
        for m in _NON_ASCII.finditer(text):
            start, end = m.span()
            out.extend(range(pos, start))
            for i in range(start, end):
                out.extend([i] * len(_FOLD[ord(text[i])]))
            pos = end
        out.extend(range(pos, len(text)))
    out.append(len(text))
    return out


# Scripts written without spaces between words (CJK, kana, Thai, Lao, Myanmar, Khmer).
UNSPACED_RE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0002ffff]"
)


def is_unspaced(text: str) -> bool:
    """Whether `text` has a character of a script written without spaces between words."""
    return UNSPACED_RE.search(text) is not None


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
    words: list[str] = field(init=False)
    # Whether `folded` has CJK, kana, Thai...: only then is it searched for substrings.
    has_unspaced: bool = field(init=False)

    def __post_init__(self) -> None:
        self.words, self.has_unspaced = fold_words(self.text)

    @cached_property
    def folded(self) -> str:
        """fold(text), made when needed (regexes, sentences, spans, unspaced scripts)."""
        return fold(self.text)

    @cached_property
    def spans(self) -> list[tuple[int, int]]:
        """(start, end) in `folded` of each word."""
        return [m.span() for m in WORD_RE.finditer(self.folded)]

    @cached_property
    def sentence_of_word(self) -> list[int]:
        """Sentence number of each word: how many sentence ends come before its start."""
        starts = [s for s, _ in self.spans]
        out: list[int] = []
        ends = 0
        for m in _SENTENCE_END.finditer(self.folded):
            upto = bisect_right(starts, m.start(), len(out))
            out.extend([ends] * (upto - len(out)))
            ends += 1
        out.extend([ends] * (len(starts) - len(out)))
        return out

    @cached_property
    def _display_offsets(self) -> list[int]:
        return _fold_lengths(self.text)

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
