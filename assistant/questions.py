"""Reading a question offline: its content words, the names it asks about, and the kind of
answer it wants (a number, a date, a person or place)."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

AnswerKind = Literal["number", "date", "name"]

WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")  # words, with straight or curly apostrophes
STOPWORDS = frozenset(
    """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours out over own same she should so some
such than that the their theirs them then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your yours say
said says tell told according week weeks month year years today yesterday new many much one two
""".split()
)
MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
# Capitalised words that name nothing the passages must contain.
NOT_ENTITIES = STOPWORDS | MONTHS | WEEKDAYS | frozenset("mr mrs ms dr".split())
NUMBER_WORDS = frozenset(
    """
one two three four five six seven eight nine ten eleven twelve thirteen fifteen twenty thirty
forty fifty sixty hundred thousand million billion trillion dozen dozens half percent per cent
""".split()
)
_NUMBER_Q = re.compile(
    r"^\s*(how (many|much|long|far|old|big|large|high|often)|what (share|percentage|"
    r"proportion|percent|level|rate|number|amount|price|sum|figure))\b",
    re.IGNORECASE,
)
_DATE_Q = re.compile(
    r"^\s*(when|(on |in )?what (date|day|year|month|time)|which (date|day|year))", re.IGNORECASE
)
_NAME_Q = re.compile(
    r"^\s*(who|whom|where|which (person|scientist|player|company|country|city|"
    r"team|party|minister|leader|official))\b",
    re.IGNORECASE,
)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def fold(text: str) -> str:
    """Lowercase without accents, so "Nicolás" matches "Nicolas"."""
    if text.isascii():  # nothing to decompose: most words, at a tenth of the cost
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    return _NON_ASCII.sub(_without_accents, decomposed)  # only the non-ASCII runs looked at


def _without_accents(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=65536)  # the answerer stems the same passage words many times
def _stem(word: str) -> str:
    """Possessives and plurals off: "Norvik's" -> "norvik", "MEPs" -> "mep"."""
    word = re.sub(r"['\u2019]s$", "", fold(word))
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning (no stopwords)."""
    words = (_stem(m) for m in WORD.findall(text) if fold(m) not in STOPWORDS)
    return {w for w in words if w not in STOPWORDS and len(w) > 1}


def overlap(terms: set[str], text: str, before: str = "") -> float:
    """Share of the question's words (``terms``, from :func:`content_words`) in ``text``; a word
    found only in the sentence ``before`` it counts half ("... raised proposals for a European
    army. Rutte warned that ...")."""
    if not terms:
        return 0.0
    own = terms & content_words(text)
    near = (terms - own) & content_words(before)
    return (len(own) + 0.5 * len(near)) / len(terms)


def question_entities(question: str) -> set[str]:
    """Capitalised words that do not start a sentence: the names a supporting passage must
    mention. Acronyms are left out: articles often spell them out ("GDP")."""
    names: set[str] = set()
    for sentence in re.split(r"(?<=[.?!:;])\s+", question):
        for w in WORD.findall(sentence)[1:]:
            stem = _stem(w)
            acronym = stem.upper() == re.sub(r"['\u2019]?s$", "", w)
            if w[0].isupper() and not acronym and fold(w) not in NOT_ENTITIES and len(stem) > 1:
                names.add(stem)
    return names


def mentions(text: str, entity: str) -> bool:
    """Whether folded ``text`` mentions ``entity`` (a stem) as the start of a word."""
    return re.search(r"(?<![^\W_])" + re.escape(entity), text) is not None


def answer_kind(question: str) -> AnswerKind | None:
    if _NUMBER_Q.search(question):
        return "number"
    if _DATE_Q.search(question):
        return "date"
    if _NAME_Q.search(question):
        return "name"
    return None


_ASKS_NAME = re.compile(
    r"^\s*(?:who|whom|whose|where|which|what (?!(?:is|was|are|were|did|does|do|has|have|had|"
    r"will|would|can|could|should|happened|caused|made)\b)[^\W\d_]+ (?:is|was|are|were|did|"
    r"does|do|has|have|had|will|would)\b)",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(
    r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'\u2019&-]*(?:\s+(?:of|de|la|von|van|the|and|&)?\s*"
    r"[A-Z][\w'\u2019&-]*)*"
)


def asks_for_name(question: str) -> bool:
    """Whether the answer is a name: who / where / which ... / "what company did ...", in any
    sentence of the question ("Chloe Kelly is getting a doll. Which sport does she play?")."""
    return any(_ASKS_NAME.search(part) for part in re.split(r"(?<=[.?!:;])\s+", question))


def capitalised_names(sentence: str) -> list[str]:
    """Runs of capitalised words, not counting a sentence's first word on its own."""
    names = []
    for match in _CAPITALISED.finditer(sentence):
        name = match.group().strip(" .'\u2019").removesuffix("'s").removesuffix("\u2019s")
        if name and fold(name) not in NOT_ENTITIES:
            names.append(name)
    return names


def holds_kind(sentence: str, kind: AnswerKind | None, question: str) -> bool:
    """Whether ``sentence`` contains the kind of thing ``question`` asks for."""
    if kind is None:
        return False
    words = [fold(w) for w in WORD.findall(sentence)]
    if kind == "number":
        return any(w[0].isdigit() or w in NUMBER_WORDS for w in words)
    if kind == "date":
        return any(w in MONTHS or w in WEEKDAYS or re.fullmatch(r"(19|20)\d\d", w) for w in words)
    asked = content_words(question)
    raw = WORD.findall(sentence)[1:]
    return any(
        w[0].isupper() and _stem(w) not in asked and fold(w) not in NOT_ENTITIES for w in raw
    )


TIME_UNITS = frozenset("second minute hour day week month year decade century".split())
_HOW_MANY = re.compile(r"^\s*how many ([^\W_]+)", re.IGNORECASE)
_HOW_MUCH_MONEY = re.compile(
    r"^\s*how much\b.*\b(money|cost|costs|pay|paid|spend|spent|invest|invested|raise|raised|"
    r"worth|price|charge|fund|funding)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"[$\u20ac\u00a3\u00a5]|\b(pounds?|euros?|dollars?|crowns?|kron[ae]r?|yen|"
    r"francs?|pence|cents?|rupees?|yuan)\b",
    re.IGNORECASE,
)


def required_fact(question: str) -> str | None:
    """What a sentence must hold to answer a quantity question, or None when anything may.

    "How many turbines ...?" needs a number in a sentence that names turbines; "How much did it
    cost?" needs an amount of money. Without one, the passages do not hold the answer.
    """
    if _HOW_MUCH_MONEY.search(question):
        return "money"
    match = _HOW_MANY.search(question)
    if not match or _stem(match.group(1)) in TIME_UNITS:  # "how many years since ..." is arithmetic
        return None
    return f"count:{_stem(match.group(1))}"


def holds_fact(sentence: str, fact: str) -> bool:
    """Whether ``sentence`` holds the fact that :func:`required_fact` named."""
    if fact == "money":
        return _MONEY.search(sentence) is not None
    noun = fact.removeprefix("count:")
    # the figure counts the thing: "87 people", "58 of the 175 seats", "eleven times"
    return any(
        noun in {_stem(w) for w in WORD.findall(m.group("after"))}
        for m in _COUNT.finditer(sentence)
    )


_NUMERAL = r"(?:\d[\d,.]*|" + "|".join(sorted(NUMBER_WORDS)) + r")"
_COUNT = re.compile(rf"\b{_NUMERAL}(?P<after>(?:[\s-]+[^\W\d_]+){{1,3}})", re.IGNORECASE)


_SPEECH_Q = (
    re.compile(
        r"\bwhat (?:did|does|do|has|have|had|will|would) (?P<who>.+?) "
        r"(?:say|said|tell|told|think|warn|argue|announce|claim|suggest|propose|write|mean|"
        r"believe|predict|promise|want|urge|call|describe|add|stress|insist)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\baccording to (?P<who>[^,?]+)", re.IGNORECASE),
    re.compile(
        r"\bhow (?:did|does|has) (?P<who>.+?) (?:describe|respond|react|characteri[sz]e|explain|"
        r"justify|defend|see|view|call)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bwhat (?:was|is) (?P<who>.+?)['\u2019]s? (?:view|position|stance|response|message|"
        r"warning|argument|reaction|comment|assessment|take|answer|explanation)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bwhy (?:does|did) (?P<who>.+?) (?:think|say|believe|argue|warn)\b", re.IGNORECASE
    ),
)


def speech_subject(question: str) -> set[str]:
    """The names (stems) of the person whose words a question asks for: "What did Rutte say
    about ...?" -> {"rutte"}. Empty when the question is not about what someone said, or names
    them only by role ("the NATO chief")."""
    for pattern in _SPEECH_Q:
        match = pattern.search(question)
        if match:
            who = match.group("who")
            if re.search(r"['\u2019]s? [a-z]", who):  # "Port Calder's manager": a role, no name
                return set()
            # "What did Rutte say" puts the name first in its clause: read it as mid-sentence.
            return question_entities("x " + who)
    return set()


_TOPIC = re.compile(r"\b(?:about|on|regarding|concerning|over)\s+(?P<topic>[^?]+)", re.IGNORECASE)


def speech_topic(question: str) -> str | None:
    """What a "What did X say about Y?" question asks about (Y), or None."""
    if not speech_subject(question):
        return None
    match = _TOPIC.search(question)
    return match.group("topic").strip() if match else None


_FOCUS = (
    re.compile(
        r"^\s*what (?:is|are|was|were) (?:the )?(?P<phrase>(?:[^\W\d_]+ ){0,2}?)"
        r"(?P<noun>[^\W\d_]+) (?P<prep>in|of|for|on|at|that|which|did|does|do|when|after|from|"
        r"behind)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*what (?P<noun>[^\W\d_]+) (?P<prep>will|would|did|does|do|is|was|are|were|has|have)"
        r" (?!you\b)",
        re.IGNORECASE,
    ),
)
# Nouns so general that any passage on the topic holds them, and words that look like nouns.
GENERIC_NOUNS = frozenset(
    """
reason purpose goal aim result outcome role way thing part main key first last latest new big
biggest largest cause effect impact status focus topic subject theme significance nature source
origin basis motive explanation
""".split()
)
# "What country / kind / percentage did ...": the type of the answer, not a word it must contain.
ANSWER_TYPES = frozenset(
    """
country city town company team party person people kind type sort percentage percent share
year month day date time place state region organization organisation group event animal
""".split()
)
# Asking for "the winning numbers" or "the final score" wants figures, not the word.
QUANTITY_NOUNS = frozenset("number figure score total tally count".split())
# "What is the number of X": the noun that counts is X, which other checks cover.
OF_NOUNS = frozenset("kind type sort share level rate number amount name size total".split())


def holds_focus(sentence: str, noun: str) -> bool:
    """Whether ``sentence`` names the thing :func:`focus_noun` found (with a figure, for
    "numbers" or "score")."""
    if noun not in content_words(sentence):
        return False
    return noun not in QUANTITY_NOUNS or re.search(r"\d", sentence) is not None


_DOER = re.compile(
    r"^\s*(?:which|what)\s+(?:company|firm|manufacturer|maker|automaker|carmaker|supplier|"
    r"contractor|business)\s+(?P<verb>[a-z]+ed)\b",
    re.IGNORECASE,
)
# participles that describe the company rather than say what it did
_DESCRIBING = frozenset("based headquartered listed called named owned known".split())


def doer_verb(question: str) -> str | None:
    """What a "Which company manufactured ...?" question says the company did ("manufactured"),
    which a passage must say too: naming a company of the story does not answer it. Only
    regular past tenses right after the noun; None otherwise."""
    match = _DOER.search(question)
    if not match or match.group("verb").lower() in _DESCRIBING:
        return None
    return match.group("verb").lower()


def focus_noun(question: str) -> str | None:
    """The thing a "What was the X in ...?" question asks for ("winning numbers" -> "number"),
    which a passage must name to answer it; None for other questions or general nouns."""
    match = _FOCUS[0].search(question) or _FOCUS[1].search(question)
    if not match:
        return None
    noun = _stem(match.group("noun"))
    if noun in STOPWORDS or noun in GENERIC_NOUNS or noun in ANSWER_TYPES:
        return None
    if match.group("prep").lower() == "of" and noun in OF_NOUNS:
        return None
    return noun
