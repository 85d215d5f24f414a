"""Text preparation for matching: HTML to text, Unicode folding, words and sentences.

Pure. No I/O. The only module that imports selectolax.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate, compress, count
from operator import add
from typing import TypeVar

from selectolax.lexbor import LexborHTMLParser

from rules.retree import plain_case

_V = TypeVar("_V")

# Tags whose text is never article text.
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object")
# Elements that end a line or a block when rendered (HTML's block-level and line-breaking
# elements): the words on either side are separate words.
_BLOCK_TAG = re.compile(
    r"<(?=/?(?:address|article|aside|blockquote|br|caption|dd|details|dialog|div|dl|dt|"
    r"fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|img|li|main|nav|ol|option|p|"
    r"pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul)[\s/>])",
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")
# The vowel signs and other spacing marks of the Indic scripts (Devanagari ा ि ू, Bengali,
# Tamil ...) that folding keeps (virama and nukta are dropped as accents are): letters of
# their word, which `\w` alone would split ("तालिबान" into त, ल, ब, न).
_INDIC_MARKS = "".join(
    chr(c)
    for c in range(0x0900, 0x0E00)
    if unicodedata.category(chr(c)) in ("Mn", "Mc") and not unicodedata.combining(chr(c))
)
# A "word" is a run of letters, digits or the marks above. Apostrophes and hyphens split
# words, in patterns and in texts alike, so "Tehreek-e-Taliban" is three words on both sides.
WORD_RE = re.compile(f"[\\w{_INDIC_MARKS}]+")
_WORD_SPLIT = re.compile(f"([\\w{_INDIC_MARKS}]+)")
# Sentence ends: terminal punctuation followed by space, or a line break in the source.
# CJK full stops need no space after them; the Urdu full stop is ۔.
_SENTENCE_END = re.compile(r"[.!?…؟۔]+[\"'»”)\]]*\s|[。！？]+[」』”）)]*|\n")
# Characters removed outright: controls, bidi overrides and zero-width marks can hide or
# reorder text and must not split or join words. Tab, newline and CR become spaces.
_INVISIBLE = dict.fromkeys(
    [c for c in range(0x20) if c not in (9, 10, 13)]
    + [0x7F, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)


def html_to_text(value: str) -> str:
    """Visible text of an HTML fragment: one line per block (paragraph, heading, list item,
    table cell, line break), whitespace within a line collapsed, NFC composed.

    Plain text (no markup) passes through without a parse, as one line, which is the
    common case for titles. Lone surrogates, NULs and bidi controls are removed.
    """
    if not value:
        return ""
    if "<" in value or "&" in value:
        # Line breaks in the source are only spaces in HTML. Block elements and <br> end a
        # line, inline ones do not: a line break before every block tag, then the text
        # nodes joined as they are, so "Tali<b>ban</b>" reads "Taliban" and
        # "<p>Astana</p><p>Kabul</p>" two lines. A line ends a sentence (`Field`): a
        # heading, caption or "Read also" link has no full stop to end it. (The regex
        # starts with "<", so it only looks at tags.)
        value = value.replace("\r", " ").replace("\n", " ")
        value = _BLOCK_TAG.sub("\n<", value)
        tree = LexborHTMLParser(value)
        tree.strip_tags(list(_DROP_TAGS))
        root = tree.body or tree.root
        value = root.text(separator="") if root is not None else ""
        return clean_text(value, lines=True)
    return plain_to_text(value)


# A blank line: what separates paragraphs in plain text.
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def plain_to_text(value: str) -> str:
    """Plain text (no markup interpreted) cleaned as `clean_text`, one line per paragraph:
    a blank line ends a paragraph (and so a sentence), a single line break is a space (a
    hard-wrapped line goes on)."""
    if "\n" in value or "\r" in value:
        value = _unix_lines(value)
        if _BLANK_LINE.search(value):
            return _cleaned_lines(_BLANK_LINE.split(value))
    return clean_text(value)


def _unix_lines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _cleaned_lines(parts: list[str]) -> str:
    """Each part cleaned to one line; empty ones dropped."""
    return "\n".join(filter(None, map(clean_text, parts)))


def clean_text(value: str, lines: bool = False) -> str:
    """Plain text made safe to store, match and encode: lone surrogates, NULs, controls and
    bidi overrides removed, whitespace collapsed, NFC composed. No HTML is interpreted.

    With `lines`, line breaks are kept: each line is cleaned, and empty lines dropped
    (html_to_text's output is clean_text(..., lines=True) of itself)."""
    if lines and ("\n" in value or "\r" in value):
        return _cleaned_lines(_unix_lines(value).split("\n"))
    # Fast paths, the common cases: every character removed or rewritten below (surrogates,
    # controls, format characters, whitespace other than one space) is non-printable, so a
    # printable text only needs runs of spaces collapsed; line breaks and tabs (markup's
    # usual whitespace) become spaces first, in C, since str.translate is slow.
    if "\n" in value or "\t" in value or "\r" in value:
        flat = value.replace("\r", " ").replace("\n", " ").replace("\t", " ")
        value = flat if flat.isprintable() else value
    if value.isprintable():
        if "  " in value:
            value = " ".join(value.split())
    else:
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
        folded = _PUNCT_FOLD.get(folded, _HANT.get(folded, folded))
        if not folded and not unicodedata.combining(ch) and ch not in _PUNCT_FOLD:
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
    # Arabic-script letters written one way in Arabic, another in Persian/Urdu/Pashto:
    # Arabic ي ك and Persian ی ک, alef maksura ى, Urdu heh goal ہ, and ta marbuta ة.
    "ی": "ي",
    "ى": "ي",
    "ک": "ك",
    "ہ": "ه",
    "ة": "ه",
    # Joiners and soft hyphens are invisible: "طالبان‌ها" (with a zero-width non-joiner)
    # is one word, in rule terms as in texts (clean_text already drops them there).
    "\u200c": "",
    "\u200d": "",
    "\u200b": "",
    "\u2060": "",
    "\ufeff": "",
    "\u00ad": "",
}

# Traditional Chinese characters folded to their simplified forms, so that rule terms
# written in simplified Chinese match Taiwan and Hong Kong text ("塔利班代表團" is read
# "塔利班代表团", "神學士" "神学士"). Only characters simplified text does not use, each
# to one character: folding keeps lengths.
_HANT_T = (
    "國會對與協議簽團訪問請參論壇際組織單擊襲蘭達爾羅烏茲別庫薩納圖蘇聯軍戰爭權認臨時長領導務經貿運輸鐵過邊衝談訊報說總統員關"
    "係區亞東華發們這個為從後當將來題於裡還進則並條約體維護險製濟銷館節門開幣價糧災難歸僑學婦頒佈決審級雙線營動機場傷殺槍彈隊"
    "衛廳處辦業產礦氣電網絡語現實變辭職稱據視聽讓給沒麼歲義極夥幫傳灣陸島兒聖寧貨車鋼紀錄萬億餘黨選舉獨倫馬塊買賣計劃畫願觀點"
    "應該識響鄰強邁續執準備嚴厲譴責暫緩廢換規訂標確賓駐狀況勢態穩構築設項資額噸輛見聞紙廣陳劉張楊趙黃吳鄭謝韓馮許鄧蕭葉孫龍齊"
    "雲飛書頭樂歡愛親醫藥療輕錢銀鐘間簡緊結繼縣鄉莊歐歷曆壓廠層屆擬攝擴擔擁擇檢驗證調詢讀譯讚贊財敗負費賽賴購贏趨較載轉農遠違"
    "遞適遷遺郵釋針錯鎮閣陣隨雖離靈順須預頻顧風驅驚鬥魯鮮麥喬圍園圓堅壞夠奪奮寶專尋屬幹幾徑復複恆惡憂憲戲拋捨掃掛採揚損搶撥擾"
    "斷晉棄樓樣橋殘滅滿漢澤熱牆獄獎獲環畢異盡監眾禮種窮競範罰罷習聲脅脫興艦藝蓋號補裝覺討訓記訴試詳誤課諾謀講豐貧貴貸質趕連遙"
    "鍵鎖陽階隱雜靜顯類養騎鬧麗邏輯鑑藉屍禦剋勝啟壯嗎蔣濤鋪舖塗滬週臺颱僅儘優儀傑傘儲兇凱劑勞勵勸匯厭嚇嚮囑墾壩夾奧妝嬰寢寵屢"
    "岡峽嶼巖幟廬彌徹憑懷懸戀擠擺攔攜敵數斂爛燒籌籃糾紐純綁緝締緣縱繩纖膽臟艱蘋藍蘊誕誇詐謊譽貫貼賄賦賠贓躍輔輩轄辯釀鉅鑽閱闖"
    "隸霧頂頓頗顛飄飢飲飽餅饒驕鬆鹽麵黴齡"
)
_HANT_S = (
    "国会对与协议签团访问请参论坛际组织单击袭兰达尔罗乌兹别库萨纳图苏联军战争权认临时长领导务经贸运输铁过边冲谈讯报说总统员关"
    "系区亚东华发们这个为从后当将来题于里还进则并条约体维护险制济销馆节门开币价粮灾难归侨学妇颁布决审级双线营动机场伤杀枪弹队"
    "卫厅处办业产矿气电网络语现实变辞职称据视听让给没么岁义极伙帮传湾陆岛儿圣宁货车钢纪录万亿余党选举独伦马块买卖计划画愿观点"
    "应该识响邻强迈续执准备严厉谴责暂缓废换规订标确宾驻状况势态稳构筑设项资额吨辆见闻纸广陈刘张杨赵黄吴郑谢韩冯许邓萧叶孙龙齐"
    "云飞书头乐欢爱亲医药疗轻钱银钟间简紧结继县乡庄欧历历压厂层届拟摄扩担拥择检验证调询读译赞赞财败负费赛赖购赢趋较载转农远违"
    "递适迁遗邮释针错镇阁阵随虽离灵顺须预频顾风驱惊斗鲁鲜麦乔围园圆坚坏够夺奋宝专寻属干几径复复恒恶忧宪戏抛舍扫挂采扬损抢拨扰"
    "断晋弃楼样桥残灭满汉泽热墙狱奖获环毕异尽监众礼种穷竞范罚罢习声胁脱兴舰艺盖号补装觉讨训记诉试详误课诺谋讲丰贫贵贷质赶连遥"
    "键锁阳阶隐杂静显类养骑闹丽逻辑鉴借尸御克胜启壮吗蒋涛铺铺涂沪周台台仅尽优仪杰伞储凶凯剂劳励劝汇厌吓向嘱垦坝夹奥妆婴寝宠屡"
    "冈峡屿岩帜庐弥彻凭怀悬恋挤摆拦携敌数敛烂烧筹篮纠纽纯绑缉缔缘纵绳纤胆脏艰苹蓝蕴诞夸诈谎誉贯贴贿赋赔赃跃辅辈辖辩酿巨钻阅闯"
    "隶雾顶顿颇颠飘饥饮饱饼饶骄松盐面霉龄"
)
_HANT = dict(zip(_HANT_T, _HANT_S, strict=True))

_FOLD = _FoldTable()
_NON_ASCII = re.compile(r"([^\x00-\x7f]+)")
# UTF-8 bytes with the ASCII ones that are not `\w` made spaces (the others, bytes of
# non-ASCII characters, kept): text splits into words in C rather than by regex.
_ASCII_WORDS = bytes(c if c >= 0x80 or chr(c).isalnum() or c == 0x5F else 0x20 for c in range(256))


class _Memo(dict[str, _V]):
    """Runs of text -> what `compute` makes of them. Runs repeat (names, accented letters,
    Cyrillic words), so each is computed once. Bounded; updates are idempotent, so threads
    may share."""

    def __init__(self, compute: Callable[[str], _V]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, run: str) -> _V:
        value = self.compute(run)
        if len(self) >= _MEMO_MAX:
            self.clear()
        self[run] = value
        return value


def _scan_char(ch: str) -> str:
    """A lowered character -> what it folds to, with every character that is not a word
    character made a space."""
    return "".join(
        c if c.isalnum() or c == "_" or c in _INDIC_MARKS else " " for c in _FOLD[ord(ch)]
    )


class _CharScan(dict[str, tuple[str, bool, bool]]):
    """A lowered non-ASCII character -> (`_scan_char`, whether it folds to a character of an
    unspaced script, whether what it folds to is folded further by a second pass): computed
    on first sight. Bounded: a text may hold any of a million characters."""

    def __missing__(self, ch: str) -> tuple[str, bool, bool]:
        rep = _scan_char(ch)
        # Compatibility ligatures ("ﯹ") fold to letters that fold again ("ى" -> "ي"): as
        # the characters of a text are folded once each, they are replaced last.
        again = any(not c.isascii() and c != ch and _scan_char(c) != c for c in rep)
        value = (rep, UNSPACED_RE.search(_FOLD[ord(ch)]) is not None, again)
        if len(self) >= _MEMO_MAX:
            self.clear()
        self[ch] = value
        return value


def _kept() -> frozenset[str]:
    """The non-ASCII word characters of common spaced scripts that fold leaves as they are
    once lowered (Cyrillic а-я, Kazakh ә, Greek, Arabic, Devanagari letters): text made
    of them needs no per-character work."""
    return frozenset(
        chr(c)
        for lo, hi in ((0x0370, 0x03FF), (0x0400, 0x052F), (0x0590, 0x06FF), (0x0900, 0x097F))
        for c in range(lo, hi + 1)
        if (chr(c).isalnum() or chr(c) in _INDIC_MARKS)
        and chr(c).lower() == chr(c)
        and _FOLD[c] == chr(c)
    )


def _class_of(chars: frozenset[str]) -> str:
    """A regex character class body matching `chars`, as code point ranges."""
    codes = sorted(map(ord, chars))
    out: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        out.append(f"\\U{codes[i]:08x}-\\U{codes[j]:08x}")
        i = j + 1
    return "".join(out)


_MEMO_MAX = 100_000
_RUNS = _Memo(lambda run: run.translate(_FOLD))  # non-ASCII run -> folded run
_CHARS = _CharScan()
_KEPT = _kept()
# A character that is neither ASCII nor one of _KEPT.
_UNKEPT = re.compile(f"[^\\x00-\\x7f{_class_of(_KEPT)}]")


def fold(text: str) -> str:
    """Case-, accent- and compatibility-folded text. Not always the same length as `text`."""
    if text.isascii():
        return text.lower()
    # lower() the ASCII stretches (the same fold, much faster), look up only the others.
    parts = _NON_ASCII.split(text)
    parts[::2] = [p.lower() for p in parts[::2]]
    parts[1::2] = map(_RUNS.__getitem__, parts[1::2])
    return "".join(parts)


def fold_joined(text: str) -> tuple[bytes, bool]:
    """The words of fold(text) joined by single spaces, with a space before the first and
    after the last, UTF-8 encoded (b" w1 w2 ... "), and whether fold(text) has a character
    of a script written without spaces (CJK, Thai).

    Fold is per character and no separator (ASCII non-word character, whitespace) folds to
    a word character, so the words of fold(text) are the words of each folded token. The
    text is lowered in C; each distinct character fold changes beyond that (accented
    letters, ё, typographic quotes) is replaced throughout with str.replace, also in C (a
    regex pass over the text cost more than all the rest); then ASCII non-word bytes become
    spaces and split/join leaves one space between words, all in C, on bytes: the
    automaton reads UTF-8.
    """
    low = text.lower()
    if low.isascii():
        return _one_space(low.encode().translate(_ASCII_WORDS)), False
    # The distinct characters that fold may change, found in C: Cyrillic, Greek or Arabic
    # text is mostly letters fold leaves as they are (_KEPT), skipped by the scan.
    unspaced = False
    last: list[tuple[str, str]] = []
    for ch in set(_UNKEPT.findall(low)):
        rep, in_unspaced, again = _CHARS[ch]
        unspaced = unspaced or in_unspaced
        if again:
            last.append((ch, rep))
        elif rep != ch:
            low = low.replace(ch, rep)
    for ch, rep in last:
        low = low.replace(ch, rep)
    raw = low.encode("utf-8", "surrogatepass").translate(_ASCII_WORDS)
    return _one_space(raw), unspaced


def _one_space(raw: bytes) -> bytes:
    """b" w1 w2 ... " from bytes whose only separator is the space: runs of spaces made one
    by str.replace, in C, each pass halving them (split and join made an object per word:
    a third of the cost of folding a field)."""
    while b"  " in raw:
        raw = raw.replace(b"  ", b" ")
    return b" " + raw.strip(b" ") + b" "


def _run_lengths(run: str) -> tuple[int, ...] | None:
    """How many folded characters each character of a non-ASCII run becomes, or None when
    every one becomes exactly one (accents dropped, Cyrillic lowered): the common case, in
    which folded and display offsets agree."""
    lengths = tuple(len(_FOLD[ord(ch)]) for ch in run)
    return None if all(n == 1 for n in lengths) else lengths


_LENGTHS = _Memo(_run_lengths)


def _fold_lengths(text: str) -> list[int] | None:
    """The display offset of each folded character of `text`, plus len(text) at the end;
    None when they are the folded offsets themselves."""
    if text.isascii():
        return None
    out: list[int] = []
    pos = 0
    for m in _NON_ASCII.finditer(text):
        lengths = _LENGTHS[m.group()]
        if lengths is None:
            continue  # one folded character per character: covered by the next range
        start, end = m.span()
        out.extend(range(pos, start))
        for i, n in zip(range(start, end), lengths, strict=True):
            out.extend([i] * n)
        pos = end
    if not out:
        return None
    out.extend(range(pos, len(text)))
    out.append(len(text))
    return out


# Scripts written without spaces between words (CJK, kana, Thai, Lao, Myanmar, Khmer).
UNSPACED_RE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0002ffff]"
)


# Abbreviations a full stop follows inside a sentence, folded. Not those that are also
# words, or that often end one ("etc.", "usw.", "и др."): a missed sentence end joins two
# sentences, which `within: sentence` then reads as one.
_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof st jr sr gen lt col sgt capt adm gov sen rep pres hon rev vs approx "
    "dept fig inc ltd corp jan feb apr jun jul aug sep sept oct nov dec "
    "ee uu sra srta mme mlle bzw ca nr str evtl ggf vgl "
    "гг гл ген проф зам ст янв фев февр апр авг сент окт нояб дек"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


# Words that open sentences and seldom follow an initial inside one: "... imposed by the
# U.S. The Taliban said" ends a sentence at "U.S.", "the U.S. and Russia" does not.
_OPENERS = frozenset(
    {"the", "a", "an", "it", "he", "she", "they", "we", "this", "there", "however"}
    | {"meanwhile", "el", "la", "los", "las"}
)


def _abbreviation(folded: str, start: int, dot: int) -> bool:
    """Whether the word folded[start:dot], right before a full stop, is an initial (a single
    letter: "U.S.", "J. Smith") not followed by a sentence opener, or one of _ABBREVIATIONS."""
    word = folded[start:dot]
    if len(word) != 1:
        return word in _ABBREVIATIONS
    if not word.isalpha():
        return False
    if folded[max(0, start - 2) : dot] in ("e.g", "i.e"):
        return True  # "e.g. the Taliban"
    after = folded[dot + 2 : dot + 12].split(" ", 1)[0]
    return after not in _OPENERS


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
    # The folded words as b" w1 w2 ... " (see fold_joined): what the automaton reads.
    joined: bytes = field(init=False)
    # Whether `folded` has CJK, kana, Thai...: only then is it searched for substrings.
    has_unspaced: bool = field(init=False)

    def __post_init__(self) -> None:
        self.joined, self.has_unspaced = fold_joined(self.text)

    def renamed(self, name: str) -> Field:
        """The same text as another field (feeds often repeat the summary as content),
        sharing everything already worked out for it."""
        twin = copy.copy(self)
        twin.name = name
        return twin

    @cached_property
    def words(self) -> list[str]:
        """The folded words, made when needed (proximity, phrase checks, evidence)."""
        return self.joined.decode("utf-8", "surrogatepass").split()

    @cached_property
    def folded(self) -> str:
        """fold(text), made when needed (regexes, sentences, spans, unspaced scripts)."""
        return fold(self.text)

    @cached_property
    def spans(self) -> list[tuple[int, int]]:
        """(start, end) in `folded` of each word."""
        folded = self.folded
        if folded.isascii():
            # Non-word bytes made spaces, split at each space: part k starts at the lengths
            # of the parts before it plus k. All in C, no regex pass.
            lens = list(map(len, folded.encode().translate(_ASCII_WORDS).split(b" ")))
            starts = list(map(add, accumulate(lens[:-1], initial=0), count()))
            return list(compress(zip(starts, map(add, starts, lens), strict=True), lens))
        # Split keeps the words (a group) between the separators: [sep, word, sep, ...].
        # Running lengths give every boundary in C, without a match object per word.
        ends = list(accumulate(map(len, _WORD_SPLIT.split(folded))))
        # One more separator than words: the last start is the text's end, left unpaired.
        return list(zip(ends[0:-1:2], ends[1::2], strict=True))

    @cached_property
    def starts(self) -> list[int]:
        """Where in `folded` each word starts."""
        return [s for s, _ in self.spans]

    @cached_property
    def plain_case(self) -> bool:
        """Whether `folded` may be searched for a regex's literals (`rules.retree`)."""
        return plain_case(self.folded)

    @cached_property
    def sentence_of_word(self) -> list[int]:
        """Sentence number of each word: how many sentence ends come before its start.
        A full stop after an initial or a common abbreviation ("U.N. Security Council",
        "EE.UU.", "Dr. Smith", "2023 г.") ends no sentence."""
        starts, spans, folded = self.starts, self.spans, self.folded
        out: list[int] = []
        ends = 0
        for m in _SENTENCE_END.finditer(folded):
            upto = bisect_right(starts, m.start(), len(out))
            if (
                folded.startswith(". ", m.start())
                and upto
                and spans[upto - 1][1] == m.start()  # the stop follows a word
                and _abbreviation(folded, starts[upto - 1], m.start())
            ):
                continue
            out.extend([ends] * (upto - len(out)))
            ends += 1
        out.extend([ends] * (len(starts) - len(out)))
        return out

    @cached_property
    def _display_offsets(self) -> list[int] | None:
        return _fold_lengths(self.text)

    def display_span(self, first_word: int, last_word: int) -> tuple[int, int]:
        """Offsets in `text` covering words first_word..last_word (inclusive)."""
        start = self.spans[first_word][0]
        end = self.spans[last_word][1]
        offs = self._display_offsets
        if offs is None:
            return start, max(end, start)
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
        # One line, for alerts and listings: a paragraph break reads as a space.
        return f"{prefix}{self.text[lo:hi]}{suffix}".replace("\n", " ")
