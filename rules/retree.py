"""What re's parse tree says about a rule's regex: the literal text it cannot match
without, and whether it can backtrack for exponential time.

Pure. No I/O.

Literals. A rule's regex runs over every field of every item its rule is evaluated on,
and most passes find nothing (on story news, 96% of the shipped rules' regex passes). A
regex such as `\\bthis week\\s*:` cannot match a text without "this week" in it; asking
`"this week" in text` is a substring search in C, many times cheaper than the regex's pass
(case-insensitive patterns give `re` no literal to skip ahead by). So each regex gets the
literals it needs, any one of which must occur (`needs`), and the matcher runs it only on
fields that have them.

The test must never say no where the regex would match. Patterns are compiled with
IGNORECASE and run over folded text: a pattern's "i" also matches "ı" and "I", its "ѕ"
other letters. A literal is therefore spelled in one canonical form per case class (`_canon`),
and a text is tested only when every character in it is already that form (`plain_case`):
then "the regex's literal matches here" and "the canonical literal occurs here" agree.
Anything this module does not understand gives no literal, and the regex always runs.

Backtracking. A repeat inside a repeat (`(\\w+\\s?)+`) lets `re` split the same text
between the two in exponentially many ways before it gives up on a text that does not
match: one crafted feed item would stall a poll cycle. Rule files with such a regex are
refused at load (`nested_repeat`).
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from functools import lru_cache
from typing import Any

# re's parser and the case classes its compiler uses: private modules of the standard
# library (3.11+). If a later Python moves them, there are no literals and nothing else
# changes.
try:
    _parser: Any = importlib.import_module("re._parser")
    _const: Any = importlib.import_module("re._constants")
    _EXTRA: dict[int, tuple[int, ...]] = importlib.import_module("re._casefix")._EXTRA_CASES
    _tolower: Any = importlib.import_module("_sre").unicode_tolower
except (ImportError, AttributeError):  # pragma: no cover - depends on the Python build
    _parser = None
    _EXTRA = {}

# A literal of fewer UTF-8 bytes than this is not worth a test: most texts have it.
_MIN_BYTES = 3
# Words most texts have, of the languages the shipped rules read: a poor choice of literal
# when the regex offers another as long.
_COMMON_WORDS = (
    "the and for with that from this was are not has have its his her but will who they "
    "one all been more also than into over der die das und den von mit les des une что "
    "как это для del los las por con que"
)
_COMMON = frozenset(_COMMON_WORDS.split())
# How many of a regex's requirements are tested: each absent one costs a pass of C
# substring search over the text, a present one stops at its first occurrence.
_TESTS = 3

Needs = tuple[tuple[str, ...], ...]


def _fixed(ch: str) -> bool:
    """Whether folding leaves `ch` as it is (the form folded texts hold)."""
    return unicodedata.normalize("NFKC", ch).casefold() == ch


def _classes() -> tuple[dict[str, str], frozenset[str]]:
    """Each character of a multi-member case class -> the class's canonical member, and the
    members that are not canonical. re matches a lowered character against all of
    {lower} + _EXTRA[lower]; the canonical member is the one folding keeps (μ, not µ), the
    smallest when several are kept (i, not ı)."""
    canon: dict[str, str] = {}
    others: set[str] = set()
    for lo, fixes in _EXTRA.items():
        members = {chr(lo), *map(chr, fixes)}
        kept = sorted(m for m in members if _fixed(m)) or sorted(members)
        for m in members:
            canon[m] = kept[0]
        others |= members - {kept[0]}
    return canon, frozenset(others)


_CANON, _NOT_CANON = _classes()
# The characters a text must not hold for the literal test to be exact.
_NOT_CANON_RE = re.compile("[" + "".join(map(re.escape, sorted(_NOT_CANON))) + "]")


def _canon(code: int) -> str:
    lo = chr(_tolower(code))
    return _CANON.get(lo, lo)


def plain_case(text: str) -> bool:
    """Whether every character of `text` is the canonical form of its case class (lower
    case, and "i" rather than "ı"): then a canonical literal occurs in `text` exactly where
    the regex's case-insensitive literal would match."""
    # str.lower changes every character whose simple lower case (re's) differs from it.
    if text.lower() != text:
        return False
    return text.isascii() or _NOT_CANON_RE.search(text) is None


@lru_cache(maxsize=4096)
def needs(pattern: str) -> Needs | None:
    """What every match of `pattern` (compiled with IGNORECASE) holds, in canonical case:
    requirements, each a tuple of literals one of which occurs; the most selective first.
    None when none is known or worth testing."""
    if _parser is None:
        return None
    try:
        found = _needs(_parser.parse(pattern, re.IGNORECASE))
    except (re.error, RecursionError, ValueError):
        return None
    good = sorted({alts for alts in found if _worth(alts)[0]}, key=_worth, reverse=True)
    return tuple(good[:_TESTS]) or None


def has(text: str, requirements: Needs) -> bool:
    """Whether `text` (`plain_case`) holds a literal of each requirement."""
    return all(any(x in text for x in alts) for alts in requirements)


def _worth(alts: tuple[str, ...]) -> tuple[int, int, int]:
    """How selective a requirement is: the length of its shortest literal (0 if too short
    to test), then whether none is a common word, then the fewest alternatives."""
    shortest = min(len(x.encode()) for x in alts)
    if shortest < _MIN_BYTES:
        return (0, 0, 0)
    return (shortest, not any(x.strip() in _COMMON for x in alts), -len(alts))


def _best(found: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The most selective of a sequence's requirements, or None."""
    best = max(found, key=_worth, default=None)
    return best if best is not None and _worth(best)[0] else None


def _needs(seq: Any) -> list[tuple[str, ...]]:
    """Every requirement of a parsed sequence: each item is a tuple of alternatives, one of
    which occurs in any text the sequence matches."""
    c = _const
    out: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, av in seq:
        if op is c.LITERAL:
            run.append(_canon(av))
            continue
        if run:
            out.append(("".join(run),))
            run = []
        if op is c.SUBPATTERN:
            out.extend(_needs(av[3]))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if av[0] >= 1:
                out.extend(_needs(av[2]))
        elif op is c.ATOMIC_GROUP:
            out.extend(_needs(av))
        elif op is c.ASSERT:
            # A lookahead's or lookbehind's text is in the text too, next to the match.
            out.extend(_needs(av[1]))
        elif op is c.BRANCH:
            alts: set[str] = set()
            for branch in av[1]:
                best = _best(_needs(branch))
                if best is None:
                    break  # a branch that needs nothing: the group needs nothing
                alts.update(best)
            else:
                out.append(tuple(sorted(alts)))
        # Anything else (classes, any character, anchors, negative lookarounds, group
        # references) ends the literal and requires nothing.
    if run:
        out.append(("".join(run),))
    return out


# A repeat of at most this many times is bounded enough not to count as nested.
_FEW = 16


def nested_repeat(pattern: str) -> bool:
    """Whether `pattern` has an unbounded repeat inside another that can backtrack into it
    (`(a+)+`, `(?:\\w+\\s*)*`): exponential time on some texts. Possessive repeats,
    atomic groups and lookarounds are not backtracked into, so what is inside them is judged
    on its own; a bounded repeat (`(?:\\w+\\W+){0,3}`) is polynomial, and an outer
    repeat whose every turn needs a literal of its own (`(?:\\w+,\\s*)+`) splits the text
    one way only. Either is allowed."""
    if _parser is None:
        return False
    try:
        return _nested(_parser.parse(pattern), False)
    except (re.error, RecursionError, ValueError):
        return False


def _nested(seq: Any, inside: bool) -> bool:
    """Whether `seq` has a long repeat, while `inside` one whose turns nothing separates."""
    c = _const
    for op, av in seq:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            long = av[1] is c.MAXREPEAT or av[1] > _FEW
            if long and inside:
                return True
            if _nested(av[2], inside or (long and not _has_literal(av[2]))):
                return True
        elif op is c.POSSESSIVE_REPEAT or op is c.ATOMIC_GROUP:
            if _nested(av[2] if op is c.POSSESSIVE_REPEAT else av, False):
                return True
        elif op in (c.ASSERT, c.ASSERT_NOT):
            if _nested(av[1], False):
                return True
        elif op is c.SUBPATTERN:
            if _nested(av[3], inside):
                return True
        elif op is c.BRANCH:
            if any(_nested(branch, inside) for branch in av[1]):
                return True
        elif op is c.GROUPREF_EXISTS and any(b is not None and _nested(b, inside) for b in av[1:]):
            return True
    return False


def _has_literal(seq: Any) -> bool:
    """Whether every match of `seq` has a literal character outside its repeats."""
    c = _const
    for op, av in seq:
        if op is c.LITERAL:
            return True
        if op is c.SUBPATTERN and _has_literal(av[3]):
            return True
        if op is c.BRANCH and all(_has_literal(b) for b in av[1]):
            return True
    return False
