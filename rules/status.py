"""Legal-status assertions: extraction from a matched item (the ledger is rules.ledger).
Pure: no I/O, no clock.

Extraction reads each sentence that names the subject (or, right after one, refers back to
it: "the movement"; a summary opening on "The movement ..." under a title naming it). Every
state trigger in it is read on its own:
- overlapping triggers: the earliest start wins, then the longest; "recognised X as <a
  terrorist organisation>" is the designation; "removed from the list of <banned
  organisations>" is one phrase, asserting the later-declared state; a designation after
  "from <its national> list of" is the list left, a removal;
- a negation cue a few words before (with no other state's trigger or "still" between),
  or a postposed one (`negation_after`) a few words after in the same clause ("... деп
  танымайды", "... tashkilot emas"), or, in a script written without spaces, one just
  before it in its clause ("并未将塔利班列为..."), flips it through `negated` or drops it,
  but a negated ban said of a list ("not on the list", "нет в списке") is a removal; a
  modal cue ("plans to", "asked the court to", a future, a headline infinitive "X to lift
  the ban") makes it `proposed`; "no plans to follow Russia in <trigger>" says Russia did
  it, but the model of "follow X's example and <trigger>" is not the one that acts;
- jurisdiction: the name nearest the trigger in its clause (names before it preferred:
  agents precede verbs; "Russia's" only binds forward), all of a list after it
  ("prohibited in Kyrgyzstan, Russia and Tajikistan"), else the last one named before;
- a year or month nearest the trigger dates it ("a designation in place since 2003");
- per jurisdiction the later-declared state wins the sentence, unless the other is dated
  earlier (kept as history) or said to persist ("still banned", "остаётся под запретом").
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, replace
from functools import lru_cache

from rules.compile import IdMemo, unspaced_key
from rules.ledger import PROPOSED, Assertion
from rules.match import Hit, Prepared, evidence
from rules.model import EntityRef, Rule, RuleBook, StatusSpec, Term
from rules.text import Field, fold, is_unspaced

_CUE_WINDOW = 7  # words before a trigger in which a cue applies (six, plus a possessive 's)
_LIST_REACH = 6  # a list of jurisdictions starts within this many words after its trigger
_AFTER_COST = 2  # extra distance for a name after its trigger: agents precede their verbs
_PREDICATE_GAP = 3  # "recognised <the Taliban> as <a terrorist organisation>"
# Words after a trigger in which a postposed cue applies: the object's particle and the
# verb ("terrorist organisation <as> <not-consider>": "ташкилоти террористӣ намешуморад",
# "terroristik tashkilot sifatida tan olmaydi").
_AFTER_WINDOW = 4
# Characters before a trigger, in its clause, in which a negation or modal cue applies in a
# script written without spaces: the object, and the list it leaves, come before the verb
# ("未将塔利班列为", "以便最终将塔利班从该国禁止组织名单中删除").
_UNSPACED_WINDOW = 20


def _words(text: str) -> tuple[str, ...]:
    return tuple(fold(text).split())


# Grammar, not the vocabulary of any state, so it lives here rather than in rule files.
# Matched as prefixes of folded words (sets: whole words).
_LIST_NOUNS = _words("list register списк список перечн перечен реестр тізім yxat")
# ... not the verb: "has never listed them as terrorists" negates a designation.
_LIST_VERBS = frozenset(_words("listed"))
# requests that take an infinitive ("asked the court to remove")
_ASKING = _words("ask request petition urg call appeal demand")
# Arabic recognition verbs (folded) and their objects: the government, the movement, the
# emirate, its authorities
_AR_RECOGNISE = frozenset(_words("اعترفت اعترف تعترف يعترف"))
_AR_RECOGNISED = _words("بحكومه بطالبان بالاماره بالحركه بسلطات بنظام")
_OPEN_QUOTES = ("«", "“", "„")
_AGAINST = frozenset(
    _words("against против қарсы qarshi contre contra gegen fight fighting combat combating")
)
_WITH = frozenset(_words("с со"))
# "never" in the languages of the negation cues
_NEVER = frozenset(_words("never jamais nunca niemals nigdy никогда ешқашан hech ҳеч hiçbir 从未"))
_PREDICATIVE = frozenset(_words("as als comme como как качестве"))
# "<from its national list of> banned organisations": the removal's preposition, then the
# list it names (a few words: a possessive, an adjective).
_FROM = frozenset(_words("from off из von aus"))
# A name as the passive subject of a removal is the one removed, not the remover: "China
# (was) removed from the list of top investors", "Uzbek firm delisted from ...", "Китай
# исключён из ...". Only auxiliaries, or one noun the name qualifies, between them.
_REMOVED = frozenset(
    _words("removed delisted dropped excluded struck deleted erased omitted")
    + _words("исключен исключена исключено исключены исключён")
    + _words("retiré retirée retirés retirées radié radiée radiés radiées exclu exclue")
    + _words("retirado retirada retirados retiradas excluido excluida eliminado eliminada")
)
_PATIENT_FROM = _FROM | frozenset(_words("de del"))
# German passive: the name right before "wurde(n)", the trigger later in its clause.
_WURDE = frozenset(_words("wurde wurden"))
_IN = frozenset(_words("in im"))
# "the ban on <X>": X within these words after the preposition, past determiners and a
# possessive name ("on Afghanistan's Taliban"), or the ban is on something else.
_BAN_NOUNS = frozenset(_words("ban запрет"))
_BAN_ON = frozenset(_words("on against на"))
_BAN_OBJECT_REACH = 4
_ACTIVITY = _words("activit operation деятельност")
_THEM = frozenset(_words("them it их него нее неё"))
# ... a subject named after such words starts a clause or a phrase of its own, not the object
_NOT_OBJECT = frozenset(_words("as while after when since because by for and but of in with"))
_PASSIVE_AUX = frozenset(
    _words("was were is are has have had been be being got gets был была было были")
    + _words("a été ont est sont fue fueron ha han sido")
)
_FROM_LIST_GAP = 5
# A list "without" the group leaves it off: "updated list of terrorist organisations
# published without the Taliban", "обновлённый список ... без «Талибана»". Only a list said
# to be new or updated tells of a removal; otherwise the list says nothing of its status.
_WITHOUT = frozenset(_words("without ohne sans sin sem senza без"))
_WITHOUT_GAP = 3  # words between the list and "without": "list ... published without"
_UPDATED = _words(
    "updat revis new neu aktualis nouvel actualis nuev revisad обновл нов жаңа yangi güncel"
)
_UPDATED_EXACT = frozenset(_words("new yeni"))
# ... the genitive link of the list to what it holds: "list <of> banned", "Liste <der>".
_OF_DE = frozenset(_words("der"))
# ... but not a part taken from it, nor beside it: "an excerpt from", "apart from".
_NOT_FROM = frozenset(_words("excerpt excerpts extract extracts data copy"))
# ... and a list beside the point names no status at all: "apart from its list of ...".
_ASIDE_FROM = frozenset(_words("apart aside far"))
_ASIDE = -1
_NOT_FROM_STEMS = _words("auszug auszüg abschrift выписк выдержк")
# The same, postposed: "<terrorist organisation> olarak tanıdı" (the verb comes last).
_PREDICATIVE_AFTER = frozenset(_words("olarak sifatida deb ретінде деп катары сифатида"))
_PERSIST = _words(
    "still remain keep kept continu maintain остает остаю прежнему сохраня weiterhin bleibt "
    "toujours reste sigue mantiene hala hamon әлі сақтай"
)
# A definite back-reference to an organisation, in the sentence after one naming the subject.
# Verb-final passives of removal ("... listesinden çıkarıldı", "... тізімінен шығарылды",
# "... ro'yxatidan chiqarildi", "... از فهرست ... خارج شد"): a name before one, with the
# subject not named before it, is what was removed ("Kazakistan, FATF gri listesinden
# çıkarıldı; Taliban ile ticaret arttı"); an agent marker ("tarafından", "tomonidan",
# "тарапынан", "توسط") or a place or possessor suffix on the name makes it the remover.
_PASSIVE_FINAL = _words(
    "çıkarıldı kaldırıldı silindi шығарылды алынды тасталды чыгарылды салынды алынып"
    " chiqarildi tashlandi شد"
)
_AGENT_AFTER = frozenset(_words("tarafından tomonidan тарапынан тарабынан томонидан"))
_AGENT_BEFORE = frozenset(_words("توسط"))
_OBLIQUE_TURKIC = frozenset(_words("da de ta te dan den tan ten ın in un ün nın nin nun nün"))
_OBLIQUE_ENDINGS = _words(
    "да де та те дағы дегі ның нің дың дің тың тің нын нин дын дин ning dagi da"
)
_ANAPHORS = _words("movement group движени группировк қозғалыс harakat bewegung mouvement")
# ... or in a summary's first sentence, in its first words, when the title names the subject.
_ANAPHOR_REACH = 3
# ... a definite article, at most one adjective that describes the subject, then the noun
# and its verb.
_DEFINITE = frozenset(_words("the die der das le la les l el los las"))
_ANAPHOR_ADJECTIVES = frozenset(
    _words("islamist militant radical afghan extremist insurgent fundamentalist hardline")
    + _words("islamistische radikale radikalislamische islamiste islamista радикальное")
)
_QUOTES = tuple("«»\"“”„'‘’")
# "the Islamic Movement of Uzbekistan" names an organisation, not a jurisdiction.
_ORG_NOUNS = _words("movement party front brigade army union движени партия партии фронт harakat")
_OF = frozenset(_words("of de du del des"))
# "no plans to follow Russia in recognising": whoever is followed did it (presupposed); so
# did whoever is joined ("Uzbekistan joins Kazakhstan in removing them"), and the joiner acts.
_FOLLOW = _words("follow вслед примеру ergash join")
# (fa "و", tg/uz-Cyrillic "ва", ky "жана": "قزاقستان و قرقیزستان ... حذف کردند")
_ARTICLES = frozenset(_words("the der die das den les la le los las el l"))
_AND = frozenset(
    _words("and or и или und oder et ou y o va ve және мен менен hem") + _words("و ва жана")
)
# ... but a model ("follow Kazakhstan's example and recognise them") named before a conjunction
# is not the one that does what follows it: the follower is.
# A headline infinitive is a plan: "Kazakhstan to recognise Taliban envoy", "Tajikistan to
# lift ban" (the verb within a few words after "to"). Not after a decision or a first ("voted
# to lift", "decided to remove", "the first country to recognise"), a preposition's "to"
# ("according to", "in addition to removing"), nor a perfect infinitive ("to have lifted").
_TO = "to"
_TO_REACH = 3
_TO_ACT_REACH = 5  # "the first Central Asian country to remove"
_TO_ACTS = _words(
    "decid decision vote voting moved move agree resolv resolution chose choos opted opts "
    "rul order decree first only last latest second third became become went proceed "
    "managed succeed used wrong right mistaken quick swift"
)
_TO_PREPOSITIONS = frozenset(
    _words("according due owing thanks addition response prior contrary similar close next")
    + _words("up compared regard respect relation reference related closer nearer")
)
_TO_NOT_VERBS = frozenset(_words("the a an its their his her this that these those have"))
# A future, unlike a plan, is no cue in a question or a condition ("Will Moscow recognise the
# Taliban?", "will recognise them only if ..."), nor before a state that stays ("will keep
# the ban").
_FUTURE = frozenset(
    _words("to will shall исключит исключат снимет снимут отменит отменят приостановит")
    + _words("приостановят خواهد خواهند хоҳад хоҳанд")
)
_FUTURE_ENDINGS = ("acak", "ecek")  # Turkish: "çıkaracak", "tanıyacak"
# A Romance future is an ending on the trigger's verb ("reconocerá", "reconhecerá",
# "riconoscerà", "reconnaîtra", "retireront"), read from the display text: folding drops
# the accent that tells "reconocerá" (will recognise) from a past form. Unaccented French
# endings are read only inside the trigger or right after the name ("Le Kazakhstan retirera
# les talibans de sa liste"): elsewhere before it they end nouns ("primera", "nuestra").
_ROMANCE_FUTURE_ACCENTED = ("rá", "rán", "rà", "rão")
_ROMANCE_FUTURE = (*_ROMANCE_FUTURE_ACCENTED, "ranno", "tra", "dra", "era", "ira", "ront")
_ROMANCE_FUTURE_MIN = 7  # shorter words are no such verbs: "para", "contra", "Irão"
_FUTURE_FORM = "future-form"
_NOT_YET = frozenset(_words("пока еще"))
# A condition or an indirect question asserts nothing: "if Astana recognised the Taliban",
# "whether Moscow will recognise them", "если Ташкент признает", "是否会承认".
_HYPOTHETICAL = frozenset(
    _words("if whether unless ob falls si если ежели егер эгер agar агар eğer اگر آیا إذا لو هل")
)
_HYPOTHETICAL_UNSPACED = ("是否", "如果", "假如", "能否", "会不会")
# "conditions for recognising", "условия признания": a condition noun just before the
# trigger (with a preposition and an article between at most) names a requirement, not an act.
_CONDITION_NOUNS = frozenset(
    _words("condition conditions precondition preconditions prerequisite prerequisites")
    + _words("условие условия условий предпосылки bedingung bedingungen voraussetzung")
    + _words("voraussetzungen condición condicion condiciones")
    # "вопрос (официального) признания": the question of recognising, not a recognition
    + _words("вопрос вопроса вопросе вопросу вопросом вопросы")
)
_CONDITION_LINKS = frozenset(_words("for on of to для für pour de para the la le el der die"))
# With a preposition of purpose the noun reaches like a cue: "conditions for taking the
# Taliban off the list", "condiciones para retirar a los talibanes de su lista".
_CONDITION_FOR = frozenset(_words("for для für pour para"))
# Postposed, in the trigger's clause: a condition ("would recognise them only if ...",
# "will not lift it unless ...") or, after a nominal trigger, a conditional or future verb
# ("Recognition of the Taliban by Moscow would ...", "признание талибов Ташкентом
# изменит ...", "Eine Anerkennung ... würde"). A verb before the trigger says it was done.
_HYPOTHETICAL_AFTER = frozenset(
    _words("unless provided would würde würden serait pourrait sería podría supondría бы")
    + _words("станет изменит приведет приведёт позволит откроет")
)
_ONLY_IF_WORDS = _words("only if only when только если лишь если nur wenn solo si seulement si")
_ONLY_IF = frozenset(zip(_ONLY_IF_WORDS[::2], _ONLY_IF_WORDS[1::2], strict=True))
# A sentence ending in a question mark asks, unless a question word presupposes the event:
# "Will Moscow recognise the Taliban?" asserts nothing, "Why did Kazakhstan delist them?"
# says it did.
_QUESTION_MARKS = tuple("?؟？")
_WH = frozenset(
    _words("why how what when where почему зачем как когда warum wie pourquoi comment neden")
    + _words("nega qanday nima чаро چرا لماذا كيف чому неге эмне")
)
_WH_UNSPACED = ("为什么", "为何", "如何")
# A postposed cue negates its own clause only: "and", "that" or a comma between it and
# the trigger start another ("... террористік ұйым деп таныды, ал Қазақстан танымайды").
_CLAUSE_WORDS = frozenset(
    _words("and or but und et ou va ve hem және мен ал бірақ жана бирок ва вале")
    + _words("و اما اور لیکن او ki ки كه")
    # "after": a verb-final clause ends before it ("çıkardıktan sonra", "шығарғаннан кейін")
    + _words("sonra кейін кийин keyin")
    # a relative clause: "recognised the government which would ..." is its own predicate
    + _words("which that who qui который которая которое которые")
)
# Contrast: "removed them from its list, but Tajikistan ...", "а Таджикистан ...".
_BUT = frozenset(_words("but while whereas yet а но mais pero sino aber während tandis"))
_CLAUSE_MARKS = tuple(",;:()،؛，；：")
# An elided verb: a later clause that is only a name with its date or "followed" ("Kazakhstan
# removed them in 2023, Kyrgyzstan in 2024", "...; Kyrgyzstan followed in 2024", "Казахстан
# исключил ... в 2023 году, Киргизия — в 2024-м", "Kazakistan 2023'te, Kırgızistan ise
# 2024'te ... çıkardı") repeats the verb for that name.
_GAP_FILLER = frozenset(
    _words("in on at since then too also likewise as well ise de da te ta ten tan den dan")
    + _words("в во году года год г м тоже также же im jahr auch ebenfalls en el année ham")
    + _words("yilda yil yılında yılı жылы жылда ҳам")
)
# An appeal against the ban (a `delisted` trigger that starts with one of these) asks for the
# removal: the filer's proposal; rejected, the ban stays. The Taliban's own appeal asserts
# nothing of a government.
_APPEAL = _words("appeal обжалова апелляц жалоб itiraz shikoyat recours recurso berufung klage")
_GRANT = _words("grant satisf удовлетвор")
_REJECT = _words("reject dismiss turn denied denies deny отклон отказ reddet rad geri ravd rejet")
# A recognition whose object is an effort, a role, progress or rights ("recognises the
# Taliban's efforts", "reconnaît leurs progrès", "признал усилия"): an acknowledgement.
_RECOGNITION = "recognized"
# ... not the government ("правительство" starts with "права")
_NOT_ACKNOWLEDGED = _words("правительств")
_ACKNOWLEDGED = _words(
    "effort role contribution progress achievement success merit rights усили роль роли вклад"
    " заслуг достижен права правам правах bemühung leistung verdienst rolle beitrag"
    " fortschritt rechte"
    " rôle progrès droits mérite esfuerzo papel logro derechos aporte çaba katkı başarı"
    " haklar hakları"
)
_FOLLOWED_SUIT = frozenset(
    _words("followed suit did the same последовала последовал последовали folgte folgten")
    + _words("izledi")
)
_SEMICOLONS = tuple(";؛；")
_RELATIVE = frozenset(
    _words("which who that qui que der die das welche welcher welches который которая")
    + _words("которое которые где que cual cuales")
)
# Chinese: words that start with a negation character but do not negate ("不仅" not only,
# "未来" future), and conjunctions that start another predicate within a clause.
# ... "不排除" (does not rule out) negates the ruling out, not the act
_NOT_NEGATING = ("不仅", "不但", "不久", "不断", "不少", "不过", "不同", "不论", "未来", "不排除")
# a possibility named after the act: "承认塔利班政府的可能性" (the possibility of recognising)
_POSSIBILITY_AFTER = ("的可能性", "可能性")
_UNSPACED_BREAKS = frozenset("并但而且及和")
_UNSPACED_LISTS = ("名单", "清单")
_UNSPACED_JOINS = frozenset(("和", "与", "及", "以及", "同", "跟", "、"))
# "no longer", "nicht mehr", "ne ... plus" (after the cue); "больше не", "ya no" (before)
_LONGER_AFTER = frozenset(_words("longer mehr plus"))
_LONGER_BEFORE = frozenset(_words("больше более ya"))
# A negated doubt or denial affirms what follows: "no longer doubts they are terrorists".
_DOUBT = frozenset(
    _words("doubt doubts doubted deny denies denied dispute disputes disputed")
    + _words("bezweifelt bezweifeln zweifelt zweifeln bestreitet bestreiten doute doutent")
    + _words("conteste contestent duda dudan niega niegan сомневается сомневаются")
    + _words("отрицает отрицают оспаривает оспаривают")
)
# A denial of a report (or of the act) asserts nothing of the state, not its opposite:
# "denied reports that it had removed the Taliban from its list" says neither that they
# were removed nor that they stay banned. Stems of the cue's words.
_DENIAL = _words(
    "deny deni refut dismiss false untrue baseless groundless опроверг ложн отрица dementi"
    " dément démenti niega negó yalanla تکذیب نفى نفت تنفي ينفي 否认"
)
# A report denied far from the act it tells of: "denied media reports claiming Bishkek had
# struck them off", "опроверг сообщения СМИ, согласно которым ... якобы исключил", "نفت ما
# تداولته وسائل إعلام عن ...", "گزارش‌ها ... مبنی بر حذف ... را رد کرد", "iddiaları ...
# yalanladı". The report's noun comes before the act, the denial before the noun or after
# the act; either way nothing is asserted of the state. Stems of report nouns:
_REPORT = _words(
    "report claim rumour rumor allegation publication speculation сообщени информаци слух"
    " публикаци утверждени сми вброс haber iddia bericht meldung gerücht rapport rumeur"
    " affirmation allégation informations تقارير تقرير انباء اخبار ادعاء شايعات تداول نشرته"
    " گزارش خبر ادعا شايعه 报道 传闻 消息"
)
_REPORT_EXACT = frozenset(_words("media news stories СМИ وسايل اعلام"))
_REPORT_DENIAL = frozenset(_words("reject rejects rejected rejecting رد отверг отвергли"))
_REPORT_DENIAL_GAP = 5  # "опроверг распространившиеся в соцсетях сообщения"
_DENIAL_AT_END = 4
_UNTRUE = _words("соответств")  # "не соответствует действительности"
_NOT_RU = frozenset(_words("не"))
# The subject's own act, right after it: "Taliban designate(s) a governor", "have banned".
_ACTIVE = frozenset(
    _words("designate designates ban bans outlaw outlaws proscribe proscribes blacklist")
    + _words("blacklists")
)
_HAVE = frozenset(_words("have has had"))
_HYPHENS = ("-", "\u2010", "\u2011", "\u2013")
# Another group named as a trigger's subject (`_others_state`): right before it, with only
# these auxiliaries between ("Hamas remains banned", "ХАМАС по-прежнему запрещён", "die Hamas
# bleibt verboten"); listed with the subject when joined by a comma or one of _LIST_JOINS, at
# most _LIST_GAP words after it, with only _LIST_WORDS between. An object ("hosted Hamas and
# then recognised the Taliban") or a finished clause is not the trigger's subject.
_OTHER_GAP = 4
_SUBJECT_AUX = frozenset(
    _words("remain remains remained is are was were still also has have had been being")
    + _words("остается остаётся остаются оставался по-прежнему также является был была были")
    + _words("bleibt bleiben blieb ist sind war waren weiterhin noch auch")
    + _words("reste restent est sont était toujours sigue siguen es son está están hâlâ")
)
_LIST_GAP = 4
_LIST_JOINS = frozenset(
    _words("and or as well и или также und oder et ou y o ve ile va ва و 和 与 及")
)
_LIST_WORDS = _LIST_JOINS | frozenset(_words("the die der das les la le los las , «"))
_LIST_STRIP = ",«»\"'“”„()"
_DASHES = (" - ", " \u2013 ", " \u2014 ", "\u2014")
_ACTIVE_PERFECT = frozenset(_words("designated banned outlawed proscribed blacklisted"))
# A ban's class noun with examples ("banned organisations such as the Taliban", "запрещённых
# организаций, таких как ...", "«Талибан» сияқты тыйым салынған ұйымдар", "塔利班等被禁组织"):
# boilerplate that cites them as an example, not a report of their status.
_EXAMPLE_CUES = tuple(
    tuple(_words(c))
    for c in (
        "such as",
        "including",
        "like",
        "among them",
        "таких как",
        "такие как",
        "такими как",
        "вроде",
        "в том числе",
        "включая",
        "wie",
        "etwa",
        "darunter",
        "comme",
        "tels que",
        "telles que",
        "dont",
        "notamment",
        "como",
        "tales como",
        "incluidos",
        "incluidas",
        "incluyendo",
        "مثل",
        "منها",
        "ومنها",
        "مانند",
        "از قبیل",
        "از جمله",
        "jumladan",
        "shu jumladan",
        "аз қабили",
        "аз ҷумла",
        "монанди",
        "mesela",
        "örneğin",
    )
)
_EXAMPLE_AFTER = frozenset(_words("сияқты сыяктуу сыяқты kabi singari gibi барин"))
_EXAMPLE_UNSPACED = ("等", "在内的")  # right before the class noun, not "将塔利班等组织列为"
_EXAMPLE_GAP = 2  # "banned <organisations> such as": class words between trigger and cue
_EXAMPLE_REACH = 6  # "such as ISIS, al-Qaeda and the Taliban"
# A ban said to be over ("the formerly banned Taliban", "ранее запрещённый", "бұрын ...
# танылған") or dated only as "twenty years ago": history, with no date to place it.
_FORMERLY = frozenset(
    _words("formerly previously бывший бывшая бывшее ранее прежде раньше когда-то")
    + _words("бұрын мурда мурун ilgari avval früher ehemals einst anciennement autrefois")
    + _words("antes anteriormente eskiden önceden قبلا قبلاً سابقا سابقاً پیشتر")
)
_FORMERLY_UNSPACED = ("曾", "此前", "以前")
_YEARS = frozenset(
    _words("years year лет года год жыл жил yil yıl jahren jahre años سال سنوات عاما")
)
_AGO_AFTER = frozenset(_words("ago назад бұрын мурун oldin önce пеш پیش قبل"))
_AGO_BEFORE = frozenset(_words("vor hace قبل"))
# "in April", "since December": a month named without a year (needs the preposition: "may").
_DATE_PREPS = frozenset(_words("in since by until в во с im seit en depuis desde au"))
_MONTHS = tuple(
    (name, number)
    for number, names in enumerate(
        [
            "january jan январ januar janvier enero ocak yanvar қаңтар",
            "february feb феврал februar février febrero şubat fevral ақпан",
            "march mar март märz mars marzo mart наурыз",
            "april apr апрел avril abril nisan aprel сәуір",
            "may мая май mai mayo mayıs мамыр",
            "june jun июн juni juin junio haziran iyun маусым",
            "july jul июл juli juillet julio temmuz iyul шілде",
            "august aug август août agosto ağustos avgust тамыз",
            "september sep сентябр septembre septiembre eylül sentabr қыркүйек",
            "october oct октябр oktober octobre octubre ekim oktabr",
            "november nov ноябр novembre noviembre kasım noyabr қараша",
            "december dec декабр dezember décembre diciembre aralık dekabr желтоқсан",
        ],
        start=1,
    )
    for name in _words(names)
)


@dataclass
class _Reading:
    """One trigger, read: the state it asserts, where and when."""

    rank: int  # declaration order of the target state: later states win a sentence
    state: str
    target: str
    hit: Hit
    persists: bool
    dated: dt.date | None = None
    month: int | None = None


def extract(p: Prepared, rule: Rule) -> list[Assertion]:
    """The status assertions an item makes under `rule`: dated history first, then the
    rest in reading order."""
    spec = rule.status
    if spec is None:
        return []
    out: list[Assertion] = []
    seen: set[tuple[str, str, dt.date | None, int | None]] = set()
    # A summary opening on "The movement ..." refers to the subject its title names.
    titled = "title" in p.fields and bool(p.leaf_hits(EntityRef(spec.subject), ("title",)))
    for name in (f for f in rule.fields if f in p.fields):
        for a in _extract_field(p, spec, name, titled and name == "summary"):
            # A title and its summary usually say the same thing: one assertion.
            key = (a.jurisdiction, a.state, a.dated, a.month)
            if key not in seen:
                seen.add(key)
                out.append(a)
    out.sort(key=lambda a: a.dated is None and a.month is None)
    return out


_MONTH_EXACT = {name: number for name, number in _MONTHS}
# Short Latin names only whole ("mar", "mai"); longer ones and Cyrillic stems inflect.
_MONTH_STEMS = {name: number for name, number in _MONTHS if len(name) > 4 or not name.isascii()}
_STEM_LENGTHS = sorted({len(n) for n in _MONTH_STEMS})


@lru_cache(maxsize=4096)
def _month(word: str) -> int | None:
    if word in _MONTH_EXACT:
        return _MONTH_EXACT[word]
    for n in _STEM_LENGTHS:
        if len(word) >= n and (number := _MONTH_STEMS.get(word[:n])) is not None:
            return number
    return None


def _dates(words: list[str], lo: int, hi: int) -> list[tuple[int, dt.date | None, int | None]]:
    """(word, full date, month without a year) for each date named in words[lo:hi]."""
    out: list[tuple[int, dt.date | None, int | None]] = []
    for i in range(lo, hi):
        w = words[i]
        if len(w) == 4 and w.isdigit() and 1950 <= int(w) <= 2099:
            month = _month(words[i - 1]) if i > lo else None
            out.append((i, dt.date(int(w), month or 1, 1), None))
            continue
        month = _month(w)
        if month is None or any(
            len(x) == 4 and x.isdigit() for x in words[i + 1 : min(hi, i + 3)]
        ):  # "December 2023" is read at the year
            continue
        if any(words[k] in _DATE_PREPS for k in range(max(lo, i - 2), i)):
            out.append((i, None, month))
    return out


def _extract_field(p: Prepared, spec: StatusSpec, name: str, titled: bool) -> list[Assertion]:
    f = p.fields[name]
    only = (name,)
    words, sent_of = f.words, f.sentence_of_word
    subject_hits = p.leaf_hits(EntityRef(spec.subject), only)
    subject_sents = {sent_of[h[1]] for h in subject_hits}
    if titled and sent_of and _opens_with_anaphor(f, bisect.bisect_right(sent_of, 0)):
        subject_sents.add(0)  # the title's subject: "The movement was removed from ..."
    subject_ends = {h[2] for h in subject_hits}
    subject_starts = {h[1] for h in subject_hits}
    if not subject_sents:
        return []
    for s in range(max(subject_sents) + 1, (sent_of[-1] + 1) if sent_of else 0):
        lo, hi = bisect.bisect_left(sent_of, s), bisect.bisect_right(sent_of, s)
        if s - 1 in subject_sents and any(w.startswith(_ANAPHORS) for w in words[lo:hi]):
            subject_sents.add(s)
    groups = [h for o in spec.others for h in p.leaf_hits(EntityRef(o), only)]
    juris = sorted(
        (h[1], j, h)
        for j in spec.jurisdictions
        for h in p.leaf_hits(EntityRef(j), only)
        if not _in_org_name(words, h[1])
    )
    # A clause of a script written without spaces is one word: its cues are read inside it.
    inside, spaced = _SPLIT_CUES.get(spec.negation, _split_cues_of)
    negations = [h for hits in p.terms_hits(spaced, only) for h in hits]
    after = [h for hits in p.terms_hits(spec.negation_after, only) for h in hits]
    inside_modals, spaced_modals = _SPLIT_CUES.get(spec.modality, _split_cues_of)
    modals = [h for hits in p.terms_hits(spaced_modals, only) for h in hits]
    # A request that was granted is the act: "granted the request to suspend the ban".
    modals = [h for h in modals if not _granted(words, sent_of, h[1])]
    # "considers them a terrorist organisation" classifies: a state, not a plan.
    modals = [h for h in modals if not _classifying(words, sent_of, h[1])]
    modals_after = [h for hits in p.terms_hits(spec.modality_after, only) for h in hits]
    # A negation inside a modal cue is part of it: "should never have lifted the ban".
    negations = [h for h in negations if not any(m[1] <= h[1] and h[2] <= m[2] for m in modals)]
    conditionals = [(w, i, i) for i, w in enumerate(words) if w in _HYPOTHETICAL]
    conditionals += [
        (w, i, i + 1)
        for i, w in enumerate(words[:-1])
        if w in _CONDITION_NOUNS and words[i + 1] in _CONDITION_FOR
    ]
    supposed_after = [(w, i, i) for i, w in enumerate(words) if w in _HYPOTHETICAL_AFTER]
    supposed_after += [
        (w, i, i + 1) for i, w in enumerate(words[:-1]) if (w, words[i + 1]) in _ONLY_IF
    ]
    # "not banned" said of a list is the state whose negation is a ban: delisted.
    unnegated = {v: k for k, v in spec.negated.items() if v != "none"}
    per_sentence: dict[int, list[tuple[int, str, Hit]]] = {}
    # Triggers whose last word is a prefix, which may have taken the negation itself
    # ("ресми таны*" in "ресми танымайды"); and the substrings of unspaced ones.
    open_ended: set[Hit] = set()
    keys: dict[tuple[str, Hit], list[str]] = {}
    terms, about = _STATE_TERMS.get(spec, _state_terms_of)
    for (rank, state, key, open_end), hits in zip(about, p.terms_hits(terms, only), strict=True):
        for h in hits:
            if sent_of[h[1]] in subject_sents:
                per_sentence.setdefault(sent_of[h[1]], []).append((rank, state, h))
                if key is not None:
                    keys.setdefault((state, h), []).append(key)
                elif open_end:
                    open_ended.add(h)
    ranks = {state: i for i, state in enumerate(spec.states)}
    if _RECOGNITION in ranks:
        for h in _verb_first_recognitions(f, name, [x[2] for x in juris]):
            if sent_of[h[1]] in subject_sents:
                per_sentence.setdefault(sent_of[h[1]], []).append(
                    (ranks[_RECOGNITION], _RECOGNITION, h)
                )
    out: list[Assertion] = []
    for s in sorted(per_sentence):
        lo, hi = bisect.bisect_left(sent_of, s), bisect.bisect_right(sent_of, s)
        # A designation named as the list something leaves ("removed Afghanistan's Taliban
        # <from its national list of banned organisations>", "исключил ... <из
        # национального списка запрещённых организаций>") is the removal: the state whose
        # negation it is, read from the preposition on.
        found = []
        names = [x[2] for x in juris if lo <= x[0] < hi]
        for rank, state, h in per_sentence[s]:
            k = _from_list(f, h[1], lo, names) if state in unnegated else None
            if k == _ASIDE:
                continue  # "apart from its list of terrorist organisations": no status
            if k is not None and not is_unspaced(words[h[1]]):
                state = unnegated[state]
                rank, h = ranks[state], (h[0], k, h[2])
            found.append((rank, state, h))
        per_sentence[s] = found
        triggers = _triggers(per_sentence[s], f, names, unnegated)
        hits = [h for _, _, h in triggers]
        readings: list[tuple[_Reading, str, Hit]] = []
        dates = _attach_dates(hits, _dates(words, lo, hi))
        asks = _asks(f, lo, hi)
        raw = [x[2] for x in per_sentence[s]]  # incl. those _triggers merged away
        starts = {x[0] for x in juris}
        modal_of: dict[Hit, Hit | None] = {}
        for _, state, h in triggers:
            others = [o for _, st, o in triggers if st != state]
            near = [x[2] for x in juris if lo <= x[0] < h[1]]
            modal_of[h] = (
                _cue(h, _own_clause(f, h, modals, near), others, hits, words, lo)
                or _cue_after(f, h, modals_after, hits, hi, h in open_ended)
                or _cue_inside(f, h, keys.get((state, h), []), inside_modals)
                or _possibility_after(f, h, keys.get((state, h), []))
                or _plan_to(h, words, lo, hits, starts)
                or _future_form(f, h, lo, near)
            )
        _share_modals(f, triggers, modal_of)
        # A preposed negation governs the predicate's later triggers too: "denied reports
        # that it had removed the Taliban <from its list>" (the list beyond the cue's reach).
        neg_of: dict[Hit, Hit | None] = {}
        for _, state, h in triggers:
            others = [o for _, st, o in triggers if st != state]
            near = [x[2] for x in juris if lo <= x[0] < h[1]]
            neg_of[h] = _cue(h, _own_clause(f, h, negations, near), others, hits, words, lo)
        _share_modals(f, triggers, neg_of)
        for rank, state, h in triggers:
            if _own_act(f, h, subject_ends, subject_starts):
                continue  # "Taliban-designated ambassador", "designated by the Taliban"
            if _ban_on_another(words, h, subject_starts, hi):
                continue  # "upheld the ban on Meta", "запрет на ввоз": a ban on something else
            if state in unnegated and _names_another(f, h, raw, subject_starts, hi):
                continue  # "признал террористической организацией «Вилаят Хорасан»"
            if state in unnegated and _fought(words, h, lo):
                continue  # "в борьбе с террористическими организациями": what is fought
            if _others_state(f, h, subject_hits, groups, lo):
                continue  # "..., while Hamas remains banned": another group's state
            if state in unnegated and _background(
                f, h, subject_starts, subject_ends, keys.get((state, h), []), lo, hi
            ):
                continue  # "banned groups such as the Taliban", "the formerly banned Taliban"
            if state in unnegated and h not in dates and _label(f, h, subject_hits):
                continue  # "«Талибан» (запрещена в РФ)": a standing label, not a report
            if state in unnegated and _without(words, h, subject_starts, hi):
                if not _updated(words, lo, h[1]):
                    continue  # "a list of banned groups without the Taliban": no status
                state = unnegated[state]  # "updated list ... without the Taliban": removed
            if state == _RECOGNITION and _acknowledged(words, h, hi):
                continue  # "recognises the Taliban's efforts": not a recognition of them
            if _denied_report(words, h, lo, hi):
                continue  # "denied reports claiming it had struck them off": nothing asserted
            rejected = False
            if state in spec.negated and any(w.startswith(_APPEAL) for w in words[h[1] : h[2] + 1]):
                before = words[max(lo, h[1] - _CUE_WINDOW) : h[1]]
                after_t = words[h[2] + 1 : min(hi, h[2] + 3)]  # verb-final: "itirazı reddetti"
                if any(w.startswith(_GRANT) for w in before + after_t):
                    pass  # "granted the appeal against the ban": the removal itself
                elif any(w.startswith(_REJECT) for w in before + after_t):
                    rejected = True  # the rejection is the act, not a negation of it
                    state = spec.negated[state]  # "rejected the appeal against the ban"
                    if state == "none":
                        continue
                    rank = ranks[state]
                elif _appeal_of_subject(words, h, subject_starts, juris, lo):
                    continue  # "the Taliban appealed the ban": their request, no state
                else:
                    modal_of[h] = h  # "prosecutors appealed the ban": a proposal
            target = state
            full, month = dates.get(h, (None, None))
            others = [o for _, st, o in triggers if st != state]
            # A preposed cue stays in its clause: "Since the UN does not consider them
            # terrorists, Kazakhstan removed them ..." negates nothing in the next one.
            near = [x[2] for x in juris if lo <= x[0] < h[1]]
            modal = modal_of[h]
            if (
                asks
                or _cue(h, conditionals, others, hits, words, lo)
                or _required(h, words, lo)
                or _cue_inside(f, h, keys.get((state, h), []), _HYPOTHETICAL_UNSPACED)
            ) is not None and (modal is None or _future(words, modal)):
                continue  # asked or supposed, not said ("asked the court whether to" is)
            if modal is not None and _future(words, modal):
                if _cue_after(f, h, supposed_after, hits, hi, False) is not None:
                    continue  # "will recognise them only if ...": supposed, not said
                # "will keep the ban", "to remain banned": the state stays
                stays = words[min(modal[2] + 1, h[1]) : h[2] + 1]
                if any(w.startswith(_PERSIST) for w in stays):
                    modal = None
            followed = _followed(h, juris, f, lo)
            for j, jh in followed:
                if not _model(words, jh, h, lo, starts):
                    readings.append((_Reading(rank, state, state, h, False, full, month), j, jh))
            neg = (
                neg_of[h]
                or _cue_after(f, h, after, hits, hi, h in open_ended)
                or _cue_inside(f, h, keys.get((state, h), []), inside, _NOT_NEGATING)
                or _not_yet(h, hits, words, hi)
                or _negated_modal(modal, negations, lo)
            )
            if rejected:
                neg = None
            if neg is not None and any(
                w in _DOUBT for w in words[max(lo, neg[1] - 1) : neg[1]] + words[neg[2] + 1 : h[1]]
            ):
                neg = None  # "no longer doubts they are terrorists": the doubt is negated
            if neg is not None and any(w.startswith(_DENIAL) for w in words[neg[1] : neg[2] + 1]):
                continue  # "denied reports that it had delisted them": nothing asserted
            if neg is not None:
                said_of_list = any(
                    _list_noun(w) or (is_unspaced(w) and any(n in w for n in _UNSPACED_LISTS))
                    for w in words[min(neg[1], h[1]) : max(neg[2], h[2]) + 1]
                )
                if _never(words, neg, h):
                    said_of_list = False  # "never put them on its list": never banned
                if (said_of_list or _no_longer(words, neg, lo, h[1])) and state in unnegated:
                    state = unnegated[state]
                elif spec.negated.get(state, "none") == "none":
                    continue
                else:
                    state = spec.negated[state]
                target = state
            elif modal is not None:
                state = PROPOSED
            elif _cue_after(f, h, supposed_after, hits, hi, False) is not None:
                continue  # "... only if", "<recognition> ... would": supposed, not said
            persists = any(
                w.startswith(_PERSIST) for w in words[max(lo, h[1] - _CUE_WINDOW) : h[2] + 1]
            )
            r = _Reading(ranks[target], state, target, h, persists, full, month)
            own = [
                x
                for x in juris
                if x[2] not in {jh for _, jh in followed}
                and not _model(words, x[2], h, lo, starts)
                and not _foil(f, x[2], h, [y[2] for y in juris], lo)
            ]
            if any(lo <= x[0] < hi and _patient(f, x[2], h, subject_hits, hi) for x in own):
                continue  # "China removed from the list of ...": a removal of that name
            for j, jh in _jurisdictions(f, h, own, lo, hi, raw):
                readings.append((r, j, jh))
                if is_unspaced(words[jh[1]]):
                    trig_keys = keys.get((r.state, h), []) or keys.get((target, h), [])
                    for j2, jh2 in _unspaced_list(p, spec, f, jh, j, trig_keys, lo):
                        readings.append((r, j2, jh2))
        implies = tuple((k, v) for k, v in spec.implies.items())
        for r, j, jh in _compete(readings):
            cited = [(r.hit, "term", "trigger"), (jh, "entity", j)]
            ev = evidence(p, cited)
            out.append(Assertion(spec.subject, j, r.state, r.target, ev, r.dated, r.month, implies))
    return out


# Per trigger: rank of its state, state, substring for unspaced scripts or None, whether
# its last word is a prefix.
_About = tuple[int, str, str | None, bool]


def _state_terms_of(spec: StatusSpec) -> tuple[tuple[Term, ...], list[_About]]:
    """A spec's triggers as one list, and what each one is (`_About`)."""
    terms = tuple(t for ts in spec.states.values() for t in ts)
    about = [
        (rank, state, unspaced_key(t), _open_ended(t))
        for rank, (state, ts) in enumerate(spec.states.items())
        for t in ts
    ]
    return terms, about


# Once per spec, not per item.
_STATE_TERMS: IdMemo[StatusSpec, tuple[tuple[Term, ...], list[_About]]] = IdMemo()


def _split_cues_of(terms: tuple[Term, ...]) -> tuple[tuple[str, ...], tuple[Term, ...]]:
    """A cue list's substrings to find inside unspaced clauses, and its other terms."""
    keys = [unspaced_key(t) for t in terms]
    inside = tuple(k for k in keys if k is not None)
    return inside, tuple(t for t, k in zip(terms, keys, strict=True) if k is None)


# Once per rule set, not per item.
_SPLIT_CUES: IdMemo[tuple[Term, ...], tuple[tuple[str, ...], tuple[Term, ...]]] = IdMemo()


def _triggers(
    found: list[tuple[int, str, Hit]], f: Field, names: list[Hit], removes: dict[str, str]
) -> list[tuple[int, str, Hit]]:
    """The sentence's triggers without overlaps (the earliest start wins, then the longest,
    then the later-declared state), less those that only introduce a predicate. `removes`
    maps a state to the one that ends it (banned: delisted)."""
    words = f.words
    kept: list[tuple[int, str, Hit]] = []
    for t in sorted(found, key=lambda x: (x[2][1], x[2][1] - x[2][2], -x[0])):
        if all(t[2][1] > k[2][2] for k in kept):
            kept.append(t)
    drop = set()
    for a, b in zip(kept, kept[1:], strict=False):
        if a[1] == b[1]:
            if a in drop and b[2][1] == a[2][2] + 1:
                drop.add(b)  # the same phrase goes on: "من قائمة <المنظمات الإرهابية المحظورة>"
            continue
        gap = b[2][1] - a[2][2] - 1
        if 1 <= gap <= _PREDICATE_GAP and words[a[2][2] + 1] in _PREDICATIVE_AFTER:
            drop.add(b)  # "<terör örgütü> olarak tanıdı": the predicate says it
        elif (
            removes.get(b[1]) == a[1]
            and gap <= _PREDICATE_GAP + 2
            and any(w in _PREDICATIVE for w in words[a[2][2] + 1 : b[2][1] + 1])
        ):
            drop.add(b)  # after a removal, what is removed: "delisted X as a banned group"
        elif gap <= _PREDICATE_GAP and any(
            w in _PREDICATIVE for w in words[a[2][2] + 1 : b[2][1] + 1]
        ):
            drop.add(a)  # "recognised X as <a terrorist organisation>": the predicate says it
        elif _one_phrase(f, a[2], b[2], gap, names):
            # One phrase: "removed from the list of <banned organisations>", "террористік
            # ұйымдар тізімінен шығарылды", "off <Kazakhstan's list of> banned
            # organisations", "de sa liste <nationale des> organisations interdites" (the
            # removal ends in the list noun). The later-declared state is what it asserts.
            drop.add(a if a[0] < b[0] else b)
    return [t for t in kept if t not in drop]


def _one_phrase(f: Field, a: Hit, b: Hit, gap: int, names: list[Hit]) -> bool:
    """Triggers a and b as one phrase: adjacent or a word apart, or a list noun between
    them; a removal ending in its list noun joins only the list's own complement ("de sa
    liste nationale des ..."), and never across a clause mark, a clause word or a
    jurisdiction ("removed them from its list, but Tajikistan still bans them")."""
    words = f.words
    between = words[a[2] + 1 : b[1]]
    if gap > _PREDICATE_GAP + 1:
        return False
    if any(m in _text_between(f, a, b) for m in _CLAUSE_MARKS):
        return False
    if any(w in _CLAUSE_WORDS or w in _BUT for w in between):
        return False
    if any(a[2] < n[1] and n[2] < b[1] for n in names):
        return False
    if gap <= 1 or any(_list_noun(w) for w in between):
        return True
    return _list_noun(words[a[2]]) and any(w in _OF for w in between)


def _opens_with_anaphor(f: Field, hi: int) -> bool:
    """A sentence (words[:hi]) whose subject is a bare definite back-reference: "The
    movement was ...", "The Islamist group, banned since ...", "Движение исключено ...",
    "Die Bewegung bleibt ..."; not another organisation named or described ("The Islamic
    Movement of Uzbekistan", "The IMU group", "The protest movement", "The movement's
    rival", "Движение «Хизб ут-Тахрир»", "Hizb ut-Tahrir, a group ...")."""
    words = f.words[:hi]
    k = next((i for i, w in enumerate(words[:_ANAPHOR_REACH]) if w.startswith(_ANAPHORS)), None)
    if k is None:
        return False
    before = words[:k]
    if before and before[0] in _DEFINITE:
        before = before[1:]
    if len(before) > 1 or any(w not in _ANAPHOR_ADJECTIVES for w in before):
        return False
    if k + 1 >= len(words):
        return True
    nxt = words[k + 1]
    start = f.display_span(k + 1, k + 1)[0]
    gap = f.text[f.display_span(k, k)[1] : start]
    return not (
        nxt in _OF
        or nxt == "s"  # "The movement's rival"
        or any(q in gap for q in _QUOTES)
        or f.text[start : start + 1].isupper()  # a name: "The group Hizb ut-Tahrir"
    )


def _negated_modal(modal: Hit | None, negations: list[Hit], lo: int) -> Hit | None:
    """A negation right before the modal cue, however far the trigger is: "has no plans
    to follow Kazakhstan and Kyrgyzstan in lifting the ban" is not lifting it."""
    if modal is None:
        return None
    for c in negations:
        if lo <= c[1] and 1 <= modal[1] - c[2] <= 2:
            return c
    return None


def _patient(f: Field, name: Hit, trig: Hit, subject: list[Hit], hi: int) -> bool:
    """The name as the passive subject of a removal trigger ("China removed from the list
    of top investors"): what is removed, so not the jurisdiction that removes. Without an
    auxiliary, the subject named after the list as its object makes it active ("Kazakhstan
    removed from its list of banned groups the Taliban movement")."""
    words = f.words
    if words[trig[2]] in _PASSIVE_FINAL and name[2] < trig[1] and not is_unspaced(words[name[1]]):
        sent = f.sentence_of_word
        lo = bisect.bisect_left(sent, sent[trig[1]])
        nxt = words[name[2] + 1] if name[2] + 1 < len(words) else ""
        return not (
            any(lo <= s[1] < trig[1] for s in subject)
            or any(w.startswith(_ANAPHORS) for w in words[name[2] + 1 : trig[1]])
            or nxt in _AGENT_AFTER
            or nxt in _OBLIQUE_TURKIC
            or (name[1] > 0 and words[name[1] - 1] in _AGENT_BEFORE)
            or words[name[2]].endswith(_OBLIQUE_ENDINGS)
        )
    if (
        name[2] + 1 < trig[1]
        and words[name[2] + 1] in _WURDE
        and not any(m in _text_between(f, name, trig) for m in _CLAUSE_MARKS)
        # "In Usbekistan wurden die Taliban ... gestrichen": a place, the subject after it
        and not (name[1] > 0 and words[name[1] - 1] in _IN)
    ):
        return True  # "China wurde von der Liste ... gestrichen"
    k = trig[1]
    if words[k] in _FROM and k > 0:
        k -= 1  # the trigger is the list phrase: "removed <from the list>"
    if words[k] not in _REMOVED or k + 1 >= len(words) or words[k + 1] not in _PATIENT_FROM:
        return False
    if not name[2] < k:
        return False
    starts = {s[1] for s in subject}
    gap = words[name[2] + 1 : k]
    if gap and gap[0] not in _PASSIVE_AUX and name[2] + 1 not in starts:
        gap = gap[1:]  # a noun the name qualifies: "Uzbek firm removed from"
    if not all(w in _PASSIVE_AUX for w in gap):
        return False
    if any(w in _PASSIVE_AUX for w in gap):
        return True
    return not any(
        k < s[1] < hi
        and words[s[1] - 1] not in _NOT_OBJECT
        and (s[2] + 1 >= len(words) or words[s[2] + 1] != "s")
        and not any(m in _text_between(f, trig, s) for m in _CLAUSE_MARKS)
        for s in subject
    )


def _ban_on_another(words: list[str], trig: Hit, subject_starts: set[int], hi: int) -> bool:
    """A trigger ending in the ban noun whose object follows it and is not the subject, a
    back-reference to it ("the movement", "them") or its activities: "upheld the ban on
    Meta", "lifted its ban on fruit imports", "сняла запрет на ввоз"."""
    k = trig[2] + 1
    if words[trig[2]] not in _BAN_NOUNS or k >= hi or words[k] not in _BAN_ON:
        return False
    for i in range(k + 1, min(hi, k + 1 + _BAN_OBJECT_REACH)):
        w = words[i]
        if w in _CLAUSE_WORDS:
            break
        if i in subject_starts or w.startswith(_ACTIVITY) or w in _THEM:
            return False
        if w.startswith(_ANAPHORS) and words[i - 1] in _DEFINITE:
            return False  # "the movement", not "the Group 24 opposition movement"
    return k + 1 < hi


def _background(
    f: Field, trig: Hit, starts: set[int], ends: set[int], keys: list[str], lo: int, hi: int
) -> bool:
    """A ban cited as background, not reported: its class noun with the subject as an
    example ("banned groups such as the Taliban", "Талибан сияқты тыйым салынған ұйымдар",
    "塔利班等被禁组织"), or a ban said to be over ("formerly banned", "ранее запрещённый") or
    undated but "twenty years ago" ("vor zwanzig Jahren", "20 жыл бұрын")."""
    words = f.words
    for k in range(trig[2] + 1, min(hi, trig[2] + 2 + _EXAMPLE_GAP)):
        cue = next((c for c in _EXAMPLE_CUES if tuple(words[k : k + len(c)]) == c), None)
        if cue is not None:
            end = k + len(cue)
            return any(end <= i < min(hi, end + _EXAMPLE_REACH) for i in starts)
        if words[k] in _CLAUSE_WORDS:
            break
    for k in range(max(lo, trig[1] - 3), trig[1]):
        if words[k] in _EXAMPLE_AFTER and any(k - 3 <= e < k for e in ends):
            return True
    if any(w in _FORMERLY for w in words[max(lo, trig[1] - 3) : trig[1]]):
        return True
    for i in range(lo, hi):
        if words[i] in _YEARS and (
            (i + 1 < hi and words[i + 1] in _AGO_AFTER)
            or any(w in _AGO_BEFORE for w in words[max(lo, i - 3) : i])
        ):
            return True
    if keys:
        start, end = f.spans[trig[1]]
        clause = f.folded[start:end]
        for key in keys:
            at = clause.find(key)
            if at != -1 and clause[:at].endswith(_EXAMPLE_UNSPACED):
                return True
            if at != -1 and any(c in clause[max(0, at - 4) : at] for c in _FORMERLY_UNSPACED):
                return True
            if at != -1 and "年前" in clause[:at]:
                return True
    return False


def _without(words: list[str], trig: Hit, subject_starts: set[int], hi: int) -> bool:
    """The group named after the list with "without" before it: not on the list."""
    for s in subject_starts:
        k = s - 1
        while k > trig[2] and (words[k] in _DEFINITE or words[k] in _QUOTES):
            k -= 1
        if k > trig[2] and words[k] in _WITHOUT and k - trig[2] - 1 <= _WITHOUT_GAP:
            return s < hi
    return False


def _updated(words: list[str], lo: int, t0: int) -> bool:
    """A new or updated list: "updated list", "neue Liste", "обновлённый список"."""
    return any(
        w in _UPDATED_EXACT or (w.startswith(_UPDATED) and w != "news") for w in words[lo:t0]
    )


def _label(f: Field, trig: Hit, subject: list[Hit]) -> bool:
    """An undated ban in a parenthesis opened right after the subject's name: the label
    that style guides attach to every mention ("«Талибан» (запрещена в РФ)", "the Taliban
    (banned in Russia)"), not news of the status."""
    for h in subject:
        if h[2] < trig[1]:
            between = _text_between(f, h, trig).lstrip(" »\"”’'")
            if between.startswith("(") and ")" not in between:
                return True
    return False


def _list_noun(w: str) -> bool:
    return w.startswith(_LIST_NOUNS) and w not in _LIST_VERBS


def _from_list(f: Field, t0: int, lo: int, names: list[Hit]) -> int | None:
    """Where "from <its national> list of" starts, right before a designation at t0: a
    preposition of removal, a few words, then a list noun one or two words before it, in
    the designation's clause. Not a part taken from a list ("an excerpt from its list of",
    "Auszug aus dem Register"); `_ASIDE` for "apart from its list of", which says nothing."""
    words = f.words
    nouns = [
        k
        for k in range(max(lo, t0 - 2), t0)
        if _list_noun(words[k]) and set(words[k + 1 : t0]) <= _OF | _OF_DE
    ]
    if not nouns:
        return None
    n = nouns[0]
    for k in range(n - 1, max(lo, n - _FROM_LIST_GAP) - 1, -1):
        if words[k] in _FROM:
            if k > lo and words[k - 1] in _ASIDE_FROM:
                return _ASIDE
            if (
                (k > lo and (words[k - 1] in _NOT_FROM or words[k - 1].startswith(_NOT_FROM_STEMS)))
                or any(
                    m in _text_between(f, (f.name, k, k), (f.name, t0, t0)) for m in _CLAUSE_MARKS
                )
                or any(k < h[1] and h[2] < t0 and not _owner(words, h) for h in names)
            ):
                return None
            return k
    return None


def _owner(words: list[str], h: Hit) -> bool:
    """A name as the owner of the list after it: "from Tajikistan's list"."""
    return h[2] + 1 < len(words) and words[h[2] + 1] == "s"


def _cue(
    trig: Hit, cues: list[Hit], others: list[Hit], hits: list[Hit], words: list[str], lo: int
) -> Hit | None:
    """A cue ending within a few words before the trigger, in its sentence, outside any
    trigger. A cue governs the nearest predicate: another state's trigger or a persistence
    verb between them takes it ("does not intend to recognise ... and keeps the ban", "no
    decision has been taken and it still remains banned")."""
    t0 = trig[1]
    # A trigger named as a list's kind counts from the list: "never put them on <its list
    # of> banned groups".
    near = t0 - 2 if t0 - 2 >= lo and words[t0 - 1] == "of" and _list_noun(words[t0 - 2]) else t0
    for c in cues:
        end = c[2]
        if words[c[1]].startswith(_ASKING):
            # A request governs its infinitive: "asked the Supreme Court in Bishkek <to>
            # remove the movement from the national list".
            end = next(
                (j for j in range(c[2] + 1, min(t0, c[2] + _CUE_WINDOW)) if words[j] == "to"), end
            )
        if not (lo <= c[1] < t0 and 0 <= near - end <= _CUE_WINDOW):
            continue
        if any(o[1] <= c[2] and c[1] <= o[2] for o in hits):
            continue
        if any(c[2] < o[1] and o[2] < t0 for o in others):
            continue
        if any(w.startswith(_PERSIST) for w in words[c[2] + 1 : t0]):
            continue
        return c
    return None


def _cue_after(
    f: Field, trig: Hit, cues: list[Hit], hits: list[Hit], hi: int, open_ended: bool
) -> Hit | None:
    """A postposed cue starting within a few words after the trigger, in its clause: no
    other trigger, conjunction or comma between them. A cue ending at the trigger's last
    word counts when that word is a prefix, which then took the negation itself."""
    t1 = trig[2]
    for c in cues:
        if open_ended and c[2] == t1 and c[1] >= trig[1]:
            return c
        if not (t1 < c[1] < hi and c[1] - t1 <= _AFTER_WINDOW):
            continue
        if any(o[1] <= c[2] and t1 < o[2] for o in hits if o != trig):
            continue  # inside or behind another trigger: that one's predicate
        if any(w in _CLAUSE_WORDS for w in f.words[t1 + 1 : c[1]]):
            continue
        if any(m in _text_between(f, trig, c) for m in _CLAUSE_MARKS):
            continue
        return c
    return None


def _cue_inside(
    f: Field, trig: Hit, keys: list[str], cues: tuple[str, ...], skip: tuple[str, ...] = ()
) -> Hit | None:
    """In a script written without spaces, a cue (negation or modality) shortly before the
    trigger within its word (a clause between punctuation), with no conjunction between."""
    if not keys or not cues:
        return None
    start, end = f.spans[trig[1]]
    clause = f.folded[start:end]
    for key in keys:
        at = clause.find(key)
        while at != -1:
            for k in range(max(0, at - _UNSPACED_WINDOW), at):
                if clause.startswith(skip, k):
                    continue
                cue = next((c for c in cues if clause.startswith(c, k)), None)
                if cue is None or k + len(cue) > at:
                    continue
                if _UNSPACED_BREAKS.isdisjoint(clause[k + len(cue) : at]):
                    return trig
            at = clause.find(key, at + 1)
    return None


def _possibility_after(f: Field, trig: Hit, keys: list[str]) -> Hit | None:
    """In a script written without spaces, a possibility that the trigger's clause names
    right after it: "承认塔利班政府的可能性", "除名的可能性" (a prospect, not the act)."""
    start, end = f.spans[trig[1]]
    clause = f.folded[start:end]
    for key in keys:
        at = clause.find(key)
        while at != -1:
            rest = clause[at + len(key) : at + len(key) + _UNSPACED_WINDOW]
            for cue in _POSSIBILITY_AFTER:
                k = rest.find(cue)
                if k != -1 and _UNSPACED_BREAKS.isdisjoint(rest[:k]):
                    return trig
            at = clause.find(key, at + 1)
    return None


def _no_longer(words: list[str], cue: Hit, lo: int, t0: int) -> bool:
    """A negation that says a state ended: "no longer considers them terrorists", "not any
    longer", "nicht mehr", "ne considère plus", "больше не считает", "ya no": the state
    whose negation it is (a ban: delisted). Not "non plus" (not ... either) nor "mehr als"
    other than before the trigger ("nie mehr als einmal": never more than once)."""
    for i in range(cue[2] + 1, min(cue[2] + 3, t0)):
        w = words[i]
        if w not in _LONGER_AFTER:
            continue
        if w == "plus" and words[i - 1] == "non":
            continue
        if w == "mehr" and i + 1 < len(words) and words[i + 1] == "als" and i + 2 != t0:
            continue
        return True
    prev = words[cue[1] - 1] if cue[1] - 1 >= lo else ""
    return prev in _LONGER_BEFORE


def _verb_first_recognitions(f: Field, field: str, names: list[Hit]) -> list[Hit]:
    """Arabic puts the verb first and its subject between it and the object: "(ولم) تعترف
    أوزبكستان (رسميا) بحكومة طالبان", "اعترفت روسيا بالإمارة". The verb with a jurisdiction
    right after it and a recognised object within two more words is a recognition."""
    words, sent_of = f.words, f.sentence_of_word
    out = []
    for i, w in enumerate(words):
        if (w[1:] if w.startswith("و") else w) not in _AR_RECOGNISE:
            continue
        name = next((n for n in names if n[1] == i + 1), None)
        if name is None:
            continue
        for j in range(name[2] + 1, min(len(words), name[2] + 3)):
            if sent_of[j] != sent_of[i]:
                break
            if words[j].startswith(_AR_RECOGNISED):
                out.append((field, i, j))
                break
    return out


def _names_another(f: Field, trig: Hit, raw: list[Hit], subject_starts: set[int], hi: int) -> bool:
    """Whether a designation (with the triggers it runs into) is followed at once by a
    quoted name that is not the subject: the group it designates ("признал
    террористической организацией «Вилаят Хорасан»")."""
    last = trig[2]
    while any(r[1] <= last + 1 <= r[2] for r in raw):
        last = max(r[2] for r in raw if r[1] <= last + 1 <= r[2])
    k = last + 1
    if k >= hi or k in subject_starts:
        return False
    gap = f.text[f.display_span(trig[1], last)[1] : f.display_span(k, k)[0]]
    return any(q in gap for q in _OPEN_QUOTES)


def _fought(words: list[str], trig: Hit, lo: int) -> bool:
    """Whether a designation is the object of a fight or a tie rather than a label: "the
    fight against terrorist organisations", "в борьбе с террористическими организациями",
    "связи с террористической группировкой"."""
    prev = words[trig[1] - 1] if trig[1] - 1 >= lo else ""
    return prev in _AGAINST or prev in _WITH


def _never(words: list[str], cue: Hit, trig: Hit) -> bool:
    """Whether "never" is the negation or stands just before it or the trigger: a list the
    subject was never put on states no removal ("has never put them on its list of banned
    groups", "ешқашан ... тізіміне енгізбеген")."""
    lo = max(0, min(cue[1], trig[1]) - 2)
    return any(w in _NEVER for w in words[lo : max(cue[2], trig[2]) + 1])


def _own_clause(f: Field, trig: Hit, cues: list[Hit], names: list[Hit]) -> list[Hit]:
    """The cues whose clause is the trigger's: no semicolon between them, nor a clause mark
    followed by a jurisdiction before the trigger (a clause with its own subject: "ООН не считает их
    террористами, Казахстан исключил их"); "will not, unlike Moscow, recognise" keeps it."""
    out = []
    for c in cues:
        if not c[2] < trig[1] or trig[1] - c[2] > _CUE_WINDOW:
            out.append(c)
            continue
        start = f.display_span(c[1], c[2])[1]
        between = f.text[start : f.display_span(trig[1], trig[2])[0]]
        if any(m in between for m in _SEMICOLONS):
            continue  # a semicolon ends the cue's clause: "plans to expand trade; it removed"
        if any(m in between for m in _CLAUSE_MARKS) and _in_relative(f, c):
            continue  # "Kazakhstan, which will host them, removed ...": the relative's own
        mark = max(between.rfind(m) for m in _CLAUSE_MARKS)
        if mark < 0 or not any(
            c[2] < n[1] and n[2] < trig[1] and f.display_span(n[1], n[2])[0] > start + mark
            for n in names
        ):
            out.append(c)
    return out


def _in_relative(f: Field, cue: Hit) -> bool:
    """Whether the cue is in a relative clause opened by a comma a few words before it:
    "..., which will take effect ...", "..., das den Handel ausbauen will, ..."."""
    for k in range(cue[1], max(0, cue[1] - _CUE_WINDOW), -1):
        if any(
            m in _text_between(f, (cue[0], k - 1, k - 1), (cue[0], k, k)) for m in _CLAUSE_MARKS
        ):
            return f.words[k] in _RELATIVE
    return False


def _own_act(f: Field, trig: Hit, subject_ends: set[int], subject_starts: set[int]) -> bool:
    """The subject as the agent of the trigger: a compound ("Taliban-designated
    ambassador", "Taliban-banned group"), an active verb ("Taliban designate a governor",
    "the Taliban have banned ...") or "by" it ("the envoy designated by the Taliban"):
    their own act, not their status."""
    after = f.words[trig[2] + 1 : trig[2] + 3]
    if after[:1] == ["by"] and (
        trig[2] + 2 in subject_starts or (after[1:] == ["the"] and trig[2] + 3 in subject_starts)
    ):
        return True
    k = trig[1] - 1
    # exactly a hyphen: a spaced dash opens an aside ("The Taliban – banned in Russia –")
    if k in subject_ends and _text_between(f, (f.name, k, k), trig) in _HYPHENS:
        return True
    w = f.words[trig[1]]
    if k in subject_ends and w in _ACTIVE and trig[1] == trig[2]:
        return True  # a verb alone; "Taliban ban remains" is the noun's own trigger
    return k - 1 in subject_ends and f.words[k] in _HAVE and w in _ACTIVE_PERFECT


def _others_state(f: Field, trig: Hit, subject: list[Hit], others: list[Hit], lo: int) -> bool:
    """Another group as the trigger's subject: named just before it in its clause with only
    auxiliaries between ("..., while Hamas remains banned", "die Hamas bleibt verboten"; so
    the subject is not between them either), and not listed with the subject ("the Taliban
    and Hamas remain banned") nor set off in an aside ("the Taliban, like Hamas, are
    banned")."""
    before = [g for g in others if lo <= g[1] and g[2] < trig[1] and trig[1] - g[2] <= _OTHER_GAP]
    if not before:
        return False
    g = max(before, key=lambda h: h[2])
    if any(w not in _SUBJECT_AUX for w in f.words[g[2] + 1 : trig[1]]):
        return False  # not the trigger's subject: an object, a clause of its own, the subject
    if any(m in _text_between(f, g, trig) for m in (*_CLAUSE_MARKS, *_DASHES)):
        return False  # an aside or a clause of its own ends before the trigger
    for s in subject:
        if s[2] < g[1] and g[1] - s[2] <= _LIST_GAP:
            between = _text_between(f, s, g)
            words = [w.strip(_LIST_STRIP) for w in between.lower().split()]
            if ("," in between or any(w in _LIST_JOINS for w in words)) and all(
                not w or w in _LIST_WORDS for w in words
            ):
                return False  # listed with the subject
    return True


def _asks(f: Field, lo: int, hi: int) -> Hit | None:
    """The sentence words[lo:hi] as a question that presupposes nothing: it ends in a
    question mark and no question word ("why", "how") takes the event as given."""
    if hi <= lo:
        return None
    end = f.spans[hi - 1][1]
    nxt = f.spans[hi][0] if hi < len(f.spans) else len(f.folded)
    if not any(m in f.folded[end:nxt] or f.folded[end - 1 : end] == m for m in _QUESTION_MARKS):
        return None
    words = f.words[lo:hi]
    if any(w in _WH or (is_unspaced(w) and any(q in w for q in _WH_UNSPACED)) for w in words):
        return None
    return ("?", hi - 1, hi - 1)


def _open_ended(t: Term) -> bool:
    return len(t.words) - 1 in t.prefixes


# Verbs that grant a request or a suit (prefixes of folded words), and the request nouns
# they turn from a plan into the act ("удовлетворил ходатайство о приостановлении запрета").
_GRANTS = ("grant", "upheld", "uphold", "approv", "accept", "satisf", "удовлетвор", "одобр")
_REQUESTS = ("request", "petition", "ходатаиств", "просьб", "иск")  # folded: й is и


def _future(words: list[str], cue: Hit) -> bool:
    w = words[cue[1]]
    return cue[0] == _FUTURE_FORM or (
        cue[1] == cue[2] and (w in _FUTURE or w.endswith(_FUTURE_ENDINGS))
    )


def _future_form(f: Field, trig: Hit, lo: int, near: list[Hit]) -> Hit | None:
    """A Romance future on the trigger's verb, in it ("Turkmenistán reconocerá al gobierno
    talibán") or before it after the last name ("Uzbekistán eliminará a los talibanes de su
    lista"): a plan, as a future cue before the trigger is."""
    after_name = {n[2] + 1 for n in near}
    start = max([lo, trig[1] - _CUE_WINDOW] + list(after_name))
    for i in range(start, trig[2] + 1):
        shown = f.text[slice(*f.display_span(i, i))].lower()
        verb = i >= trig[1] or i in after_name
        ends = _ROMANCE_FUTURE if verb else _ROMANCE_FUTURE_ACCENTED
        if len(shown) >= _ROMANCE_FUTURE_MIN and shown.endswith(ends):
            return (_FUTURE_FORM, i, i)
    return None


def _plan_to(trig: Hit, words: list[str], lo: int, hits: list[Hit], names: set[int]) -> Hit | None:
    """A headline infinitive before the trigger ("Kazakhstan to recognise Taliban envoy"):
    "to" and its verb, within a few words before it, after no verb of decision."""
    for i in range(max(lo + 1, trig[1] - _TO_REACH), trig[1]):
        if words[i] != _TO or any(o[1] <= i <= o[2] for o in hits):
            continue
        nxt = words[i + 1]
        if nxt in _TO_NOT_VERBS or nxt.endswith("ing") or i + 1 in names:
            continue
        if words[i - 1] in _TO_PREPOSITIONS or words[i - 1].startswith(_REQUESTS):
            continue  # "according to"; "the request to lift it" is read as a request
        if any(w.startswith(_TO_ACTS) for w in words[max(lo, i - _TO_ACT_REACH) : i]):
            continue
        return (_TO, i, i)
    return None


def _share_modals(
    f: Field, triggers: list[tuple[int, str, Hit]], modal_of: dict[Hit, Hit | None]
) -> None:
    """Triggers of one state that follow each other in a clause are one predicate, so one
    modal (or preposed negation) cue governs them all: "قصد دارد طالبان را <از فهرست> ...
    <حذف کند>" (intends to remove; the verb comes last, out of the cue's reach)."""
    chain: list[Hit] = []
    for k, (_, state, h) in enumerate(triggers):
        if k > 0:
            _, pstate, ph = triggers[k - 1]
            gap = f.words[ph[2] + 1 : h[1]]
            joined = (
                pstate == state
                and len(gap) <= _PREDICATE_GAP + 1
                and not any(w in _CLAUSE_WORDS for w in gap)
                and not any(m in _text_between(f, ph, h) for m in _CLAUSE_MARKS)
            )
            if not joined:
                chain = []
        chain.append(h)
        cue = next((modal_of[x] for x in chain if modal_of[x] is not None), None)
        for x in chain:
            modal_of[x] = cue


# Russian "по иску/по ходатайству X <past verb>" (on X's suit, the court <did>) names who
# asked for an act that was done (an adjective may come between: "по административному
# иску"); the suit's own object ("по иску о приостановлении
# запрета": a suit about it) is still a request. Past-tense endings of a finite verb.
_ON_REQUEST = "по"
_ABOUT = frozenset(_words("о об обо"))
_RU_PAST = ("ил", "ила", "или", "ал", "ала", "али", "ел", "ела", "ели", "ял", "яла", "яли")
_ON_REQUEST_REACH = 5


# Verbs that either classify their object ("considers the Taliban a terrorist group",
# "is regarded as ...") or weigh a step ("will consider delisting them").
_CLASSIFY = frozenset(_words("consider considers considered regard regards regarded"))
_CLASSIFY_AS = frozenset(_words("a an as"))
_WEIGH = frozenset(_words("whether if how"))


def _classifying(words: list[str], sent_of: list[int], i: int) -> bool:
    """Whether the modal cue at word `i` is a verb of considering that classifies: "a",
    "an" or "as" (or "to be") follows within six words of its sentence, before any gerund
    or "whether" ("considers the movement a terrorist organisation", "considered to be
    banned"; not "considering removing them from the list", "consider whether to")."""
    if words[i] not in _CLASSIFY:
        return False
    for k in range(i + 1, min(len(words), i + 7)):
        w = words[k]
        if sent_of[k] != sent_of[i] or w in _WEIGH or (len(w) > 4 and w.endswith("ing")):
            return False
        if w in _CLASSIFY_AS or (w == "to" and k + 1 < len(words) and words[k + 1] == "be"):
            return True
    return False


def _granted(words: list[str], sent_of: list[int], i: int) -> bool:
    """Whether the modal cue at word `i` is a request that a verb just before it, in its
    sentence, granted, or one on which a past verb after it acted ("по иску Генпрокуратуры
    приостановил запрет")."""
    if not words[i].startswith(_REQUESTS):
        return False
    before = range(max(0, i - 6), i)
    if any(words[k].startswith(_GRANTS) and sent_of[k] == sent_of[i] for k in before):
        return True
    # "по иску", or with one adjective: "по административному иску"
    if _ON_REQUEST not in words[max(0, i - 2) : i]:
        return False
    for k in range(i + 1, min(len(words), i + 1 + _ON_REQUEST_REACH)):
        if sent_of[k] != sent_of[i] or words[k] in _ABOUT:
            return False
        if len(words[k]) >= 5 and words[k].endswith(_RU_PAST):
            return True
    return False


def _not_yet(trig: Hit, hits: list[Hit], words: list[str], hi: int) -> Hit | None:
    """Russian states "not yet" after its subject: "решения об исключении ... пока не
    принято", "вопрос признания ... пока не стоит"."""
    for k in range(trig[2] + 1, min(hi - 1, trig[2] + 4)):
        if any(o[1] <= k <= o[2] or trig[2] < o[1] < k for o in hits):
            return None
        if words[k] in _NOT_YET and words[k + 1] in ("не", "нет"):
            return (trig[0], k, k + 1)
    return None


def _required(trig: Hit, words: list[str], lo: int) -> bool:
    """A condition noun just before the trigger: "sets conditions for recognising"."""
    k = trig[1] - 1
    for _ in range(3):
        if k < lo:
            return False
        if words[k] in _CONDITION_NOUNS:
            return True
        # Russian adjectives in the genitive ("официального", "полного") stand between.
        if words[k] not in _CONDITION_LINKS and not words[k].endswith(("ого", "его")):
            return False
        k -= 1
    return False


def _in_org_name(words: list[str], w: int) -> bool:
    before = words[max(0, w - 2) : w]
    if before and before[-1] in _OF:
        before = before[:-1]
    return bool(before) and before[-1].startswith(_ORG_NOUNS)


def _followed(
    trig: Hit, juris: list[tuple[int, str, Hit]], f: Field, lo: int
) -> list[tuple[str, Hit]]:
    """Jurisdictions that "follow ... in <trigger>" names as having done it already. A
    comma before the conjunction ends the list unless it already had a comma-joined pair
    ("follow Kazakhstan, Kyrgyzstan, and Uzbekistan"): "will follow Kazakhstan, and
    Tajikistan will keep the ban" starts another clause."""
    words = f.words
    out = []
    for w in range(max(lo, trig[1] - _CUE_WINDOW), trig[1]):
        if words[w].startswith(_FOLLOW):
            named = [(jw, j, h) for jw, j, h in juris if w < jw and h[2] < trig[1]]
            # ... and all of a list: "follow Kazakhstan and Kyrgyzstan in lifting the ban"
            for k, (jw, j, h) in enumerate(named):
                if k == 0 and jw > w + 2:
                    break
                gap = words[named[k - 1][2][2] + 1 : jw] if k > 0 else []
                if k > 0 and not set(gap) <= _AND:
                    break
                if (
                    k == 1
                    and gap
                    and any(m in _text_between(f, named[0][2], h) for m in _CLAUSE_MARKS)
                ):
                    break
                out.append((j, h))
    return out


# A name compared against ("unlike Kazakhstan", "в отличие от Казахстана", "anders als
# Kasachstan", "برخلاف قزاقستان") is a foil, not the one that does or holds what the
# trigger says, when that one is named (see `_foil`).
_CONTRAST = frozenset(
    tuple(_words(p))
    for p in (
        "unlike",
        "in contrast to",
        "as opposed to",
        "в отличие от",
        "anders als",
        "im gegensatz zu",
        "contrairement à",
        "contrairement au",
        "à la différence de",
        "à la différence du",
        "a diferencia de",
        "بخلاف",
        "برخلاف",
        "على عكس",
    )
)
_CONTRAST_ARTICLES = frozenset(_words("the la le l les der die dem den el"))


def _contrasted(words: list[str], name: Hit, lo: int) -> bool:
    """A name right after a contrast marker (an article may come between)."""
    k = name[1]
    if k - 1 >= lo and words[k - 1] in _CONTRAST_ARTICLES:
        k -= 1
    return any(tuple(words[max(lo, k - n) : k]) in _CONTRAST for n in (1, 2, 3, 4))


def _foil(f: Field, name: Hit, trig: Hit, names: list[Hit], lo: int) -> bool:
    """A contrasted name (`_contrasted`) with the trigger's own subject named before the
    trigger: before the foil ("Tajikistan, unlike Kazakhstan, still bans them") or after it
    past a comma ("Unlike Kazakhstan, Tajikistan still bans them"). Without one, the foil's
    own phrase holds the trigger ("в отличие от Казахстана и Киргизии, исключивших ..."),
    as does a relative clause the foil opens ("Таджикистан, в отличие от России, которая
    исключила движение из списка, ...": Russia removed them)."""
    if name[2] >= trig[1] or not _contrasted(f.words, name, lo):
        return False
    k = name[2] + 1
    if (
        k < trig[1]
        and f.words[k] in _RELATIVE
        and not any(m in _text_between(f, (name[0], k, k), trig) for m in _CLAUSE_MARKS)
    ):
        return False
    for n in names:
        if n == name or n[2] >= trig[1] or n[1] < lo or _contrasted(f.words, n, lo):
            continue
        if n[2] < name[1]:
            return True
        if any(m in _text_between(f, name, n) for m in _CLAUSE_MARKS):
            return True
    return False


def _model(words: list[str], name: Hit, trig: Hit, lo: int, starts: set[int]) -> bool:
    """A name after "follow" ("follow Kazakhstan's example and recognise them"), with a
    conjunction before the trigger that joins a verb, not another name ("follow Kazakhstan
    and Kyrgyzstan in lifting"): the model, not the one that does what follows."""
    if name[2] >= trig[1]:
        return False
    if not any(w.startswith(_FOLLOW) for w in words[max(lo, name[1] - 4) : name[1]]):
        return False
    return any(words[k] in _AND and k + 1 not in starts for k in range(name[2] + 1, trig[1]))


def _attach_dates(
    hits: list[Hit], dates: list[tuple[int, dt.date | None, int | None]]
) -> dict[Hit, tuple[dt.date | None, int | None]]:
    """Each date to the trigger nearest it; a trigger keeps its earliest full date."""
    out: dict[Hit, tuple[dt.date | None, int | None]] = {}
    if not hits:
        return out
    for w, full, month in dates:
        h = min(hits, key=lambda h: (max(h[1] - w, w - h[2], 0), h[1]))
        old_full, old_month = out.get(h, (None, None))
        if full is not None and (old_full is None or full < old_full):
            old_full = full
        out[h] = (old_full, old_month if old_month is not None else month)
    return out


def _jurisdictions(
    f: Field,
    trig: Hit,
    juris: list[tuple[int, str, Hit]],
    lo: int,
    hi: int,
    triggers: list[Hit],
) -> list[tuple[str, Hit]]:
    words = f.words
    in_sentence = [(w, j, h) for w, j, h in juris if lo <= w < hi]
    claimed = _claimed(f, trig, in_sentence, triggers)
    if all(h in claimed for _, _, h in in_sentence if h[2] < trig[1]):
        claimed = set()
    whole = in_sentence
    # A semicolon ends the trigger's clause: "Russia recognised them; Uzbekistan and
    # Kazakhstan are not following".
    same = [x for x in in_sentence if ";" not in _text_between(f, trig, x[2])]
    in_sentence = same or in_sentence
    # "prohibited in Kyrgyzstan, Russia and Tajikistan": a list soon after the trigger
    # names every jurisdiction it applies to.
    listed: list[tuple[str, Hit]] = []
    joined = False  # a list ends with a conjunction: "Russia, Kazakh officials said" is none
    for w, j, h in in_sentence:
        if w <= trig[2]:
            continue
        if not listed and w - trig[2] > _LIST_REACH + 1:
            break
        gap = words[listed[-1][1][2] + 1 : w] if listed else []
        if listed and not set(gap) <= _AND:
            break
        joined = bool(gap)
        if j not in (x[0] for x in listed):
            listed.append((j, h))
    if len(listed) >= 2 and joined:
        return listed
    best: tuple[int, str, Hit] | None = None
    for w, j, h in in_sentence:
        # "Moscow's ..." names what follows it, unless that is a list: "no longer appear on
        # Kyrgyzstan's (updated) list" names the list's owner
        possessive = (
            h[2] + 1 < hi
            and words[h[2] + 1] == "s"
            and not any(_list_noun(x) for x in words[h[2] + 2 : min(hi, h[2] + 4)])
        )
        if h in claimed:
            continue
        if h[2] < trig[1]:
            d = trig[1] - h[2]
        elif w > trig[2] and not possessive:
            if any(x in _CLAUSE_WORDS for x in words[trig[2] + 1 : w]) or any(
                m in _text_between(f, trig, h) for m in _CLAUSE_MARKS
            ):
                continue  # the next clause's subject: "... çıkardıktan sonra Tacikistan",
                # "... als Terrororganisation ein, Tadschikistan schon"
            d = w - trig[2] + _AFTER_COST
        elif w > trig[2]:
            continue
        else:
            d = 0
        if best is None or d < best[0]:
            best = (d, j, h)
    if best is not None and best[2][2] < trig[1]:
        # Agents listed before their verb all did it: "after Kazakhstan and Kyrgyzstan
        # delisted the group", "Қазақстан мен Қырғызстан ... шығарғанымен".
        agents = [(best[1], best[2])]
        for _, j, h in reversed([x for x in in_sentence if x[2][2] < agents[-1][1][1]]):
            # an article after the conjunction: "le Kazakhstan et le Kirghizistan retirent"
            gap = [w for w in words[h[2] + 1 : agents[-1][1][1]] if w not in _ARTICLES]
            dated = (  # "Kazakistan 2023'te, Kırgızistan ise 2024'te ... çıkardı"
                gap
                and all(w.isdigit() or w in _GAP_FILLER or _month(w) is not None for w in gap)
                and any(w.isdigit() for w in gap)
                and "," in _text_between(f, h, agents[-1][1])
            )
            if not dated and (
                len(gap) > 1
                or not set(gap) <= _AND
                or (
                    not gap
                    and "," not in _text_between(f, h, agents[-1][1])
                    # Arabic writes "and" on the next name: "قرغيزستان وكازاخستان"
                    and not words[agents[-1][1][1]].startswith("و")
                )
            ):
                break
            if j not in (x[0] for x in agents):
                agents.append((j, h))
        return agents[::-1] + _elided(f, trig, whole, agents, hi)
    if best is not None:
        return [(best[1], best[2])]
    before = [(j, h) for w, j, h in juris if w < lo]
    return before[-1:]


def _denies(words: list[str], i: int, lo: int) -> bool:
    w = words[i]
    if w.startswith(_DENIAL) or w in _REPORT_DENIAL:
        return True
    return w.startswith(_UNTRUE) and i > lo and words[i - 1] in _NOT_RU


def _denied_report(words: list[str], trig: Hit, lo: int, hi: int) -> bool:
    """A report (its noun before the trigger, in its sentence) that the sentence denies: the
    denial just before the noun, or among the sentence's last words after the trigger."""
    reports = [
        i for i in range(lo, trig[1]) if words[i] in _REPORT_EXACT or words[i].startswith(_REPORT)
    ]
    if not reports:
        return False
    r = reports[0]
    if any(_denies(words, i, lo) for i in range(max(lo, r - _REPORT_DENIAL_GAP), r)):
        return True
    # after the act only as the sentence's last words (verb-final, or "... are false, the
    # ministry said"), not a participle ("removed them, dismissing US concerns")
    return any(
        _denies(words, i, lo) and not words[i].endswith("ing")
        for i in range(max(trig[2] + 1, hi - _DENIAL_AT_END), hi)
    )


def _acknowledged(words: list[str], trig: Hit, hi: int) -> bool:
    """An effort, a role or rights as the trigger's object: within two words after it ("the
    Taliban's efforts": "s" is a word), in its clause."""
    for w in words[trig[2] + 1 : min(hi, trig[2] + 3)]:
        if w in _CLAUSE_WORDS:
            return False
        if w.startswith(_ACKNOWLEDGED) and not w.startswith(_NOT_ACKNOWLEDGED):
            return True
    return False


def _appeal_of_subject(
    words: list[str], trig: Hit, starts: set[int], juris: list[tuple[int, str, Hit]], lo: int
) -> bool:
    """The subject named before the trigger ahead of any jurisdiction: its own appeal ("Taliban
    lawyers appeal Tajik ban", "Taliban, Rusya'daki yasağa itiraz etti")."""
    first = min((i for i in starts if lo <= i < trig[1]), default=None)
    if first is None:
        return False
    return not any(lo <= w < first for w, _, _ in juris)


def _elided(
    f: Field, trig: Hit, names: list[tuple[int, str, Hit]], agents: list[tuple[str, Hit]], hi: int
) -> list[tuple[str, Hit]]:
    """Names after the trigger's clause whose own clause elides the verb: after a clause mark,
    the name and then only a date, "too" or "followed" to the sentence's end ("...
    in 2023, Kyrgyzstan in 2024", "...; Kyrgyzstan followed suit")."""
    words = f.words
    out: list[tuple[str, Hit]] = []
    spans = {k for _, _, h in names for k in range(h[1], h[2] + 1)}
    for w, j, h in names:
        if w <= trig[2] or j in (x[0] for x in agents + out):
            continue
        if not any(m in _text_between(f, trig, h) for m in _CLAUSE_MARKS) and not (
            words[h[1] - 1] in _AND and h[1] - 1 > trig[2]
        ):
            continue  # a clause mark or a conjunction: "... en 2023 y Kirguistán en 2024"
        rest = [words[k] for k in range(h[2] + 1, hi) if k not in spans]
        if not rest or any(
            not (x.isdigit() or x in _GAP_FILLER or x in _FOLLOWED_SUIT or x in _AND)
            and _month(x) is None
            for x in rest
        ):
            continue
        if not any(x.isdigit() or x in _FOLLOWED_SUIT for x in rest):
            continue
        out.append((j, h))
    return out


def _claimed(
    f: Field, trig: Hit, juris: list[tuple[int, str, Hit]], triggers: list[Hit]
) -> set[Hit]:
    """Names that are the subject of another trigger's clause before this one: the name
    nearest before that trigger, in its clause, with a clause mark between it and this one
    ("Қазақстан БҰҰ ... террористік ұйым деп санамайтындықтан, оны тізімнен шығарды": the
    UN considers, Kazakhstan removes)."""
    out = set()
    for o in triggers:
        if o[2] >= trig[1] or not any(m in _text_between(f, o, trig) for m in _CLAUSE_MARKS):
            continue
        before = [h for _, _, h in juris if h[1] <= o[1] and h[2] <= o[2]]
        if before:
            h = max(before, key=lambda x: x[2])
            if not any(m in _text_between(f, h, o) for m in _CLAUSE_MARKS):
                out.add(h)
    return out


def _unspaced_names_of(book: RuleBook) -> dict[str, tuple[str, ...]]:
    """Per entity, the substrings its aliases in scripts without spaces are found by."""
    out: dict[str, tuple[str, ...]] = {}
    for ent_id, ent in book.entities.items():
        found = tuple(k for k in (unspaced_key(a) for a in ent.aliases) if k)
        if found:
            out[ent_id] = found
    return out


_UNSPACED_NAMES: IdMemo[RuleBook, dict[str, tuple[str, ...]]] = IdMemo()


def _unspaced_spans(p: Prepared, spec: StatusSpec, word: str) -> list[tuple[int, int, str]]:
    """The jurisdictions named inside an unspaced word, as (start, end, id), longest first
    where two overlap ("吉尔吉斯斯坦" holds no other name, "斯坦" none)."""
    names = _UNSPACED_NAMES.get(p.c.book, _unspaced_names_of)
    spans = set()
    for j in spec.jurisdictions:
        for k in names.get(j, ()):
            i = word.find(k)
            while i != -1:
                spans.add((i, i + len(k), j))
                i = word.find(k, i + 1)
    return sorted(
        x for x in spans if not any(y != x and y[0] <= x[0] and x[1] <= y[1] for y in spans)
    )


def _unspaced_list(
    p: Prepared,
    spec: StatusSpec,
    f: Field,
    jh: Hit,
    j: str,
    trig_keys: list[str],
    lo: int,
) -> list[tuple[str, Hit]]:
    """The other names in a Chinese list with `j` before the trigger: "哈萨克斯坦与乌兹别克斯坦
    已将...", "俄罗斯、哈萨克斯坦以及吉尔吉斯斯坦均已...": joined by 和/与/及/以及/同/跟 inside
    the word, or by "、" across words (each then one name only)."""
    words = f.words
    word = words[jh[1]]
    spans = _unspaced_spans(p, spec, word)
    end = min((at for k in trig_keys if (at := word.find(k)) != -1), default=len(word))
    chains: list[list[tuple[int, int, str]]] = []
    for x in spans:
        if chains and word[chains[-1][-1][1] : x[0]] in _UNSPACED_JOINS:
            chains[-1].append(x)
        else:
            chains.append([x])
    chain = next((c for c in chains if any(x[2] == j for x in c)), None)
    if chain is None or chain[-1][1] > end:
        return []
    out = [(x[2], jh) for x in chain if x[2] != j]
    if chain[0][0] == 0:  # "俄罗斯、哈萨克斯坦以及...": names before, one word each
        k = jh[1] - 1
        while k >= lo:
            prev = _unspaced_spans(p, spec, words[k])
            gap = _text_between(f, (jh[0], k, k), (jh[0], k + 1, k + 1)).strip()
            if len(prev) != 1 or prev[0][:2] != (0, len(words[k])) or gap not in ("、", ","):
                break
            out.append((prev[0][2], (jh[0], k, k)))
            k -= 1
    return [x for x in out if x[0] != j]


def _text_between(f: Field, a: Hit, b: Hit) -> str:
    a, b = sorted((a, b), key=lambda h: h[1])
    return f.text[f.display_span(a[1], a[2])[1] : f.display_span(b[1], b[2])[0]]


def _compete(readings: list[tuple[_Reading, str, Hit]]) -> list[tuple[_Reading, str, Hit]]:
    """Per jurisdiction: one reading per state (its earliest date), the winner, and the
    losers dated before it (history the sentence recalls)."""
    by_j: dict[str, dict[str, tuple[_Reading, Hit]]] = {}
    for r, j, jh in readings:
        states = by_j.setdefault(j, {})
        if r.state in states:  # merged: the earliest date, persisting if any is
            old, ojh = states[r.state]
            dated = min((d for d in (old.dated, r.dated) if d), default=None)
            month = old.month or r.month
            states[r.state] = (
                replace(old, persists=old.persists or r.persists, dated=dated, month=month),
                ojh,
            )
        else:
            states[r.state] = (r, jh)
    out = []
    for j, states in by_j.items():
        pool = [x for x in states.values() if x[0].persists] or list(states.values())
        win = max(pool, key=lambda x: (x[0].rank, x[0].state != PROPOSED))[0]
        for r, jh in sorted(states.values(), key=lambda x: x[0].hit[1]):
            if r is win:
                out.append((r, j, jh))
            elif _earlier(r, win):
                out.append((_dated_by(r, win), j, jh))
    return out


def _dated_by(r: _Reading, win: _Reading) -> _Reading:
    """A month named without a year, before the winner's full date, is in the winner's year
    (or the year before, for a later month): "lifted the ban in December 2023, eight months
    after a court upheld it in April" is April 2023, not the April before publication."""
    if r.dated is not None or r.month is None or win.dated is None:
        return r
    year = win.dated.year - (r.month > win.dated.month)
    return replace(r, dated=dt.date(year, r.month, 1), month=None)


def _earlier(r: _Reading, win: _Reading) -> bool:
    if r.dated is None and r.month is None:
        return False
    if win.dated is None and win.month is None:
        return True
    if win.dated is None and r.dated is not None:
        return True  # "classed them as terrorists in 2003, lifted the ban in April"
    if r.dated is None and win.dated is not None and r.month is not None:
        # "recognised them in July 2025 after lifting the ban in April": that year or before
        return r.month < win.dated.month
    return r.dated is not None and win.dated is not None and r.dated < win.dated


__all__ = ["PROPOSED", "Assertion", "extract"]
