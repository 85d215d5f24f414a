"""Simple inflection: the surface forms a folded word may take in running text.

Pure. No I/O. Deliberately small and table-driven: English verb and noun endings for Latin
script, Russian and Kazakh case endings for Cyrillic. It over-generates a little (a form that
never occurs costs nothing) and never strips a word below four letters, where stems collide.
"""

from __future__ import annotations

_VOWELS_LATIN = set("aeiouy")
_EN_SHORT = ("s", "ed", "ing")
_EN_ENDINGS = (*_EN_SHORT, "ion", "ions", "ation", "ations", "ment", "ments")
_EN_E_ENDINGS = ("e", "es", "ed", "ing", "ion", "ions", "ation", "ations", "al", "als", "ement")

# Russian noun, adjective and verb endings and Kazakh case endings. Applied to a stem: the
# word itself, or the word less a final vowel or soft sign (Астана -> Астан-е).
# Written as folded text: folding drops the breve, so "й" is "и" in every folded word
# ("Исламский" is matched as "исламскии"); a table with "й" would never match.
_RU_ENDINGS = (
    "а", "я", "у", "ю", "е", "и", "ы", "о", "ои", "еи", "ом", "ем", "ам", "ям", "ах", "ях",
    "ами", "ями", "ов", "ев", "ью", "ою", "ею", "ии", "ию", "иеи", "ия",
    "скии", "ская", "ское", "ские", "ского", "скому", "ским", "скои", "ских", "скими", "скую",
    "ы", "ыи", "ии", "ая", "ое", "ые", "ие", "ого", "ому", "ым", "ых", "ыми", "ую", "и", "ь",
    "их", "им", "ими", "его", "ему",
    "ит", "ят", "ил", "ила", "или", "ило", "ать", "ять", "ить", "ет", "ют", "ут", "ал",
    "ала", "али", "ение", "ения", "ении", "ением", "ание", "ания", "ании", "анием",
    # Kazakh: genitive, dative, locative, ablative, accusative, instrumental, plural.
    "ның", "нің", "дың", "дің", "тың", "тің", "ға", "ге", "қа", "ке", "на", "не",
    "да", "де", "та", "те", "нда", "нде", "дан", "ден", "тан", "тен", "нан", "нен",
    "ды", "ді", "ты", "ті", "ны", "ні", "мен", "бен", "пен", "лар", "лер", "дар", "дер",
    "тар", "тер", "дағы", "дегі", "тағы", "тегі", "ғы", "гі", "қы", "кі",
    # Kazakh third-person possessive, alone and before a case ending (үкіметі, үкіметінің,
    # министрімен, делегациясын).
    "ы", "і", "сы", "сі", "ын", "ін", "сын", "сін", "ының", "інің", "сының", "сінің",
    "ына", "іне", "сына", "сіне", "ында", "інде", "сында", "сінде", "ынан", "інен",
    "сынан", "сінен", "ымен", "імен", "сымен", "сімен",
)  # fmt: skip
_RU_STRIP = set("аяоеыиьу")
_RU_ADJ = ("ыи", "ии", "ои", "ая", "яя", "ое", "ее", "ые", "ие")


def _is_cyrillic(word: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in word)


def _is_latin(word: str) -> bool:
    return word.isascii() and word.isalpha()


def forms(word: str) -> frozenset[str]:
    """Surface forms of a folded word, itself included."""
    out = {word}
    if len(word) < 3:
        return frozenset(out)
    if _is_latin(word):
        # Short words take only the regular endings: "ban" must not become "banal".
        long = len(word) >= 5
        if word.endswith("e"):
            out.update(word[:-1] + e for e in (_EN_E_ENDINGS if long else ("es", "ed", "ing")))
            out.add(word + "s")
            if word.endswith(("ee", "oe", "ye")):
                out.add(word + "ing")  # agreeing, guaranteeing, canoeing: the e stays
        else:
            out.update(word + e for e in (_EN_ENDINGS if long else _EN_SHORT))
            if word.endswith(("s", "x", "z", "ch", "sh", "o")):
                out.add(word + "es")  # "es" elsewhere would turn "aid" into "aides"
        if word.endswith("y") and word[-2:-1] not in _VOWELS_LATIN:
            out.update(word[:-1] + e for e in ("ies", "ied", "ication", "ications"))
        if (
            len(word) <= 6
            and word[-1] not in _VOWELS_LATIN | {"w", "x", "y"}
            and word[-2] in _VOWELS_LATIN
            and word[-3] not in _VOWELS_LATIN
        ):
            # Doubled final consonant: ban -> banned, banning; admit -> admitted.
            out.update(word + word[-1] + e for e in ("ed", "ing"))
    elif _is_cyrillic(word):
        out.update(word + e for e in _RU_ENDINGS)
        if len(word) >= 4 and word[-1] in _RU_STRIP:
            stem = word[:-1]
            out.update(stem + e for e in _RU_ENDINGS)
        if len(word) >= 6 and word.endswith(_RU_ADJ):
            stem = word[:-2]
            out.update(stem + e for e in _RU_ENDINGS)
    return frozenset(out)
