"""Who said what: quotations and reported speech in an article, each credited to its speaker.

Runs at ingest over the whole article, so "he" in one paragraph resolves to the person named in
an earlier one. Rules, not a model: a speech verb ("said", "warned", "told", "according to") and
the name, pronoun or role ("the minister") next to it; "he"/"she" and roles resolve to the last
person named where that is clear; a quotation spread over several sentences belongs to whoever
the tag after it names.

>>> [(s.speaker, s.kind) for s in attribute('Mark Rutte spoke. "We are ready," he said.')]
[('Mark Rutte', 'quote')]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from index.chunking import sentence_spans
from index.records import Chunk, Statement

SPEECH_VERBS = frozenset(
    """
say says said tell tells told add adds added warn warns warned argue argues argued stress stresses
stressed note noted insist insists insisted explain explains explained urge urges urged
claim claimed state stated declare declares declared announce announces announced
write writes wrote ask asks asked suggest suggests suggested acknowledge acknowledges
acknowledged admit admits admitted caution cautions cautioned emphasise emphasises emphasised
emphasize emphasizes emphasized predict predicts predicted describe describes described reject
rejects rejected dismiss dismisses dismissed concede concedes conceded recall recalls recalled
remark remarked reply replies replied respond responds responded contend contends
contended maintain maintains maintained vow vows vowed pledge pledges pledged promise
promised confirm confirms confirmed deny denies denied call called believe believes
believed think thinks thought agree agrees agreed estimate estimated
""".split()
)
PRONOUNS = frozenset({"he", "she"})
# Words before a name that are a title, not part of it: "Defence Minister Anna Berg".
TITLES = frozenset(
    """
president prime minister secretary-general secretary general chancellor mr mrs ms dr sir dame
senator sen governor gov mayor professor prof chief foreign defence defense finance health
interior economy deputy vice commissioner king queen pope judge justice representative rep ceo
chairman chairwoman chair director spokesman spokeswoman spokesperson ambassador manager coach
captain lead author head leader minister's premier chief-executive founder local gp developer
operator organiser organizer officer operating executive public transport committee project
council lottery syndicate astrophysicist economist analyst scientist researcher
""".split()
)
PARTICLES = frozenset("von van der de den da di du la le al bin ibn del dos das ter".split())
# A capitalised first word that is a group of people, not someone's name.
GROUPS = frozenset(
    """
officials experts analysts critics residents police authorities researchers scientists lawmakers
sources others many some both they organisers organizers campaigners economists doctors
""".split()
)
ADVERBS = frozenset("also later then further previously again separately repeatedly".split())
# A role that stands for a person ("the minister") or a body that speaks ("the ministry").
PERSON_ROLES = frozenset(
    """
minister chief official president chancellor secretary-general secretary spokesperson spokesman
spokeswoman manager coach mayor governor premier leader commissioner ambassador director author
founder chairman chairwoman chair executive general senator judge prosecutor envoy diplomat
""".split()
)
BODY_ROLES = frozenset(
    """
ministry department agency government company police researchers scientists team group officials
authorities council commission committee centre center service institute union alliance bank
court organisers organizers party
""".split()
)
# Capitalised words that start a phrase but never name anyone.
NOT_NAMES = frozenset(
    """
her his its their our my the a an this that these those it there here when while after before
january february march april may june july august september october november december monday
tuesday wednesday thursday friday saturday sunday one two three four five six seven eight nine
ten both all several many some most few
""".split()
)
DETERMINERS = frozenset("her his its their our my your the a an this that these those".split())
# Lowercase words that may stand between a verb and the name: "said lead author Zoe Brandt".
NAME_LEAD_INS = TITLES | frozenset("the former a an senior top its".split())
_TOKEN = re.compile(r"[^\W_](?:[\w'\u2019-]|\.(?=\w))*|[\u201c\u201d\"]|[,;:]")
_QUOTE = re.compile(r"[“\"]([^“”\"]{2,600})[”\"]")  # longer: unbalanced marks, not a quote
_ROLE_BACK = 6  # how far back "the former Dutch prime minister" may reach


def attribute(text: str) -> list[Statement]:
    """The statements in an article's ``text``, in order."""
    names = _Names()
    sentences = sentence_spans(text)
    quotes = [m.span() for m in _QUOTE.finditer(text)]
    found: dict[int, Statement] = {}
    for i, (start, end) in enumerate(sentences):
        sentence = text[start:end]
        who = _speaker(sentence, names)
        names.learn(sentence)
        if who is None:
            continue
        names.spoke(who)
        in_quote = any(q0 < end and start < q1 for q0, q1 in quotes)
        found[i] = Statement(who, start, end, "quote" if in_quote else "reported")
    # An untagged quotation right after someone's quoted words continues them.
    for i, (start, end) in enumerate(sentences):
        head = text[start : start + 1]
        before = found.get(i - 1)
        if i not in found and head in '“"' and before is not None and before.kind == "quote":
            found[i] = Statement(before.speaker, start, end, "quote")
    # A quotation over several sentences belongs to the speaker the tag names.
    for q0, q1 in quotes:
        inside = [i for i, (s, e) in enumerate(sentences) if s < q1 and q0 < e]
        speakers = {found[i].speaker for i in inside if i in found}
        if len(speakers) == 1:
            who = speakers.pop()
            for i in inside:
                if i not in found:
                    s, e = sentences[i]
                    found[i] = Statement(who, s, e, "quote")
    return [found[i] for i in sorted(found)]


def statements_in(statements: Sequence[Statement], start: int, end: int) -> tuple[Statement, ...]:
    """The statements that lie inside ``[start, end)`` (a chunk's span)."""
    return tuple(s for s in statements if start <= s.start and s.end <= end)


def with_statements(chunks: Sequence[Chunk], text: str) -> list[Chunk]:
    """``chunks`` of the article whose text is ``text``, each carrying the statements in it."""
    found = attribute(text)
    return [replace(c, statements=statements_in(found, c.start, c.end)) for c in chunks]


def statement_rows(statements: Sequence[Statement]) -> list[list[str | int]]:
    """Compact rows ``[speaker, start, end, kind]`` for storing as JSON."""
    return [[s.speaker, s.start, s.end, s.kind] for s in statements]


def statements_from_rows(rows: Sequence[Sequence[str | int]]) -> tuple[Statement, ...]:
    """The inverse of :func:`statement_rows`."""
    return tuple(Statement(str(w), int(s), int(e), str(k)) for w, s, e, k in rows)


class _Names:
    """The people named so far in an article, to expand "Rutte" to "Mark Rutte" and to resolve
    "he", "she" and "the minister"."""

    def __init__(self) -> None:
        self.full: dict[str, str] = {}  # surname -> full name
        self.last_person: str | None = None
        self.titles: dict[str, str] = {}  # full name -> the title words used with it

    def learn(self, sentence: str) -> None:
        tokens = _TOKEN.findall(sentence)
        i = 0
        while i < len(tokens):
            if not _capital(tokens[i]):
                i += 1
                continue
            j = i
            while j + 1 < len(tokens) and (_capital(tokens[j + 1]) or tokens[j + 1] in PARTICLES):
                j += 1
            title, name = _split_title(tokens[i : j + 1])
            if len(name) >= 2 and (i > 0 or title):
                full = " ".join(name)
                self.full[name[-1]] = full
                if title:
                    self.titles[full] = " ".join(title).lower()
            i = j + 1

    def expand(self, name: str) -> str:
        return self.full.get(name, name) if " " not in name else name

    def spoke(self, who: str) -> None:
        if who[0].isupper() and who.lower() not in GROUPS:
            self.last_person = who

    def resolve_role(self, role: str) -> str:
        """ "the minister" -> the last speaker if their title has that word, else the role."""
        person = self.last_person
        head = role.split()[-1]
        titled = head in self.titles.get(person or "", "").split()
        if person and (titled or head in ("chief", "official")):
            return person
        return role


def _capital(token: str) -> bool:
    return token[:1].isupper() and token not in ("“", "”", '"')


def _split_title(run: Sequence[str]) -> tuple[list[str], list[str]]:
    """("NATO", "Secretary-General", "Mark", "Rutte") -> (title words, name words)."""
    i = 0
    while i < len(run) - 1 and (run[i].lower() in TITLES or run[i].isupper() or "-" in run[i]):
        i += 1
    return list(run[:i]), [w.rstrip(".") for w in run[i:]]


def _outside_quotes(tokens: Sequence[str]) -> list[bool]:
    """Which tokens stand outside quotation marks (words inside a quote are what was said)."""
    outside: list[bool] = []
    inside = False
    for t in tokens:
        if t == "“" or (t == '"' and not inside):
            inside = True
            outside.append(False)
        elif t == "”" or t == '"':
            inside = False
            outside.append(False)
        else:
            outside.append(not inside)
    return outside


def _speaker(sentence: str, names: _Names) -> str | None:
    """Who speaks in ``sentence``, or None when nobody does."""
    tokens = _TOKEN.findall(sentence)
    lower = [t.lower() for t in tokens]
    outside = _outside_quotes(tokens)
    for k in range(len(tokens) - 1):
        if outside[k] and lower[k] == "according" and lower[k + 1] == "to":
            who = _name_after(tokens, k + 2, names) or _role_after(tokens, k + 2, names)
            if who:
                return who
    for k, word in enumerate(lower):
        if word not in SPEECH_VERBS or not outside[k]:
            continue
        if k > 0 and lower[k - 1] in DETERMINERS | {"to"}:  # "her remarks", "to ask"
            continue
        who = _name_before(tokens, k, names)
        if who is None and k > 0 and tokens[k - 1] in (",", "”", '"'):
            who = _name_after(tokens, k + 1, names)  # '..., said Rutte' / '," said Rutte'
        if who:
            return who
    return None


def _name_before(tokens: Sequence[str], verb: int, names: _Names) -> str | None:
    k = verb - 1
    while k >= 0 and tokens[k].lower() in ADVERBS:
        k -= 1
    if k < 0:
        return None
    if tokens[k] == "," and k > 0 and _capital(tokens[k - 1]):
        k -= 1  # "France's defence minister, Mathilde Corvasier, called for ..."
    elif tokens[k] == "," and "," in tokens[:k]:
        # "Syndicate organiser Derek Moffatt, a forklift driver who ..., said"
        first = tokens.index(",")
        lead = tokens[:first]
        if lead and all(_capital(t) or t in PARTICLES or t.lower() in TITLES for t in lead):
            while lead and not _capital(lead[0]):
                lead = lead[1:]
            return _named(lead, names, at_start=True)
    word = tokens[k].lower()
    if word in PRONOUNS:
        return names.last_person
    if _capital(tokens[k]):
        j = k
        while j - 1 >= 0 and (_capital(tokens[j - 1]) or tokens[j - 1] in PARTICLES):
            j -= 1
        return _named(tokens[j : k + 1], names, at_start=j == 0)
    # "the former Dutch prime minister said", "the ministry said"
    if word not in PERSON_ROLES | BODY_ROLES:
        return None
    for j in range(k - 1, max(k - _ROLE_BACK, -1), -1):
        if tokens[j] in (",", ";", ":", "“", "”", '"'):
            return None
        if tokens[j].lower() == "the":
            role = " ".join(tokens[j : k + 1]).lower()
            return names.resolve_role(role) if word in PERSON_ROLES else role
    return None


def _role_after(tokens: Sequence[str], start: int, names: _Names) -> str | None:
    """From "according to the regional weather service, ...", the regional weather service."""
    end = start
    while end < len(tokens) and end < start + _ROLE_BACK and tokens[end] not in (",", ";", ":"):
        end += 1
    phrase = [t.lower() for t in tokens[start:end]]
    if len(phrase) < 2 or phrase[0] != "the" or phrase[-1] not in PERSON_ROLES | BODY_ROLES:
        return None
    role = " ".join(phrase)
    return names.resolve_role(role) if phrase[-1] in PERSON_ROLES else role


def _named(run: Sequence[str], names: _Names, at_start: bool) -> str | None:
    """The name in a capitalised run, expanded to the full name seen earlier; None for words that
    name nobody ("Her", "Wednesday", "Officials" at the start of a sentence)."""
    _, name = _split_title(run)
    if not name or name[0].lower() in NOT_NAMES or name[-1].lower() in NOT_NAMES:
        return None
    if at_start and len(name) == 1 and name[0].lower() in GROUPS | PRONOUNS:
        return None
    return names.expand(" ".join(name))


def _name_after(tokens: Sequence[str], start: int, names: _Names) -> str | None:
    """The name after a verb or "according to", skipping a few lowercase role words."""
    k = start
    while k < len(tokens) and k < start + 4 and not _capital(tokens[k]):
        if tokens[k].lower() not in NAME_LEAD_INS:
            return None
        k += 1
    j = k
    while j < len(tokens) and (_capital(tokens[j]) or tokens[j] in PARTICLES):
        j += 1
    return _named(tokens[k:j], names, at_start=False) if j > k else None
