"""Red-flag symptoms in what patients write.

Each phrase is matched on word boundaries in normalized text (lower case,
apostrophes and punctuation folded, spaces collapsed). A match preceded,
within a few words and in the same clause, by a negation ("no chest pain",
"I don't have trouble breathing", "denies ...") is still reported (a human
must look) but marked negated: no automatic safety reply for it.

The phrase list is data (RedFlagPhrase rows, seeded with DEFAULT_PHRASES);
this module only matches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# (phrase, category). Category "suicide" gets the 988 safety reply; every
# other category the 911 one.
DEFAULT_PHRASES: list[tuple[str, str]] = [
    ("chest pain", "cardiac"), ("chest pains", "cardiac"), ("chest pressure", "cardiac"),
    ("chest tightness", "cardiac"), ("tight chest", "cardiac"), ("pain in my chest", "cardiac"),
    ("heart attack", "cardiac"), ("crushing pain", "cardiac"), ("pain radiating to my arm", "cardiac"),
    ("trouble breathing", "breathing"), ("difficulty breathing", "breathing"), ("cant breathe", "breathing"),
    ("cannot breathe", "breathing"), ("can not breathe", "breathing"), ("short of breath", "breathing"),
    ("shortness of breath", "breathing"), ("struggling to breathe", "breathing"), ("gasping for air", "breathing"),
    ("lips turning blue", "breathing"), ("choking", "breathing"),
    ("face drooping", "stroke"), ("face is drooping", "stroke"), ("drooping face", "stroke"),
    ("slurred speech", "stroke"), ("slurring my words", "stroke"), ("slurring words", "stroke"),
    ("arm weakness", "stroke"), ("numb on one side", "stroke"), ("numbness on one side", "stroke"),
    ("weakness on one side", "stroke"), ("stroke", "stroke"), ("sudden confusion", "stroke"),
    ("worst headache of my life", "stroke"), ("sudden severe headache", "stroke"),
    ("severe bleeding", "bleeding"), ("heavy bleeding", "bleeding"), ("bleeding heavily", "bleeding"),
    ("wont stop bleeding", "bleeding"), ("will not stop bleeding", "bleeding"),
    ("bleeding that wont stop", "bleeding"), ("coughing up blood", "bleeding"), ("vomiting blood", "bleeding"),
    ("throwing up blood", "bleeding"),
    ("suicidal", "suicide"), ("suicide", "suicide"), ("kill myself", "suicide"), ("killing myself", "suicide"),
    ("end my life", "suicide"), ("take my own life", "suicide"), ("want to die", "suicide"),
    ("hurt myself", "suicide"), ("harm myself", "suicide"), ("self harm", "suicide"),
    ("better off dead", "suicide"), ("no reason to live", "suicide"),
    ("overdose", "overdose"), ("overdosed", "overdose"), ("took too many pills", "overdose"),
    ("took too much", "overdose"), ("swallowed pills", "overdose"), ("poisoned", "overdose"),
    ("unconscious", "unresponsive"), ("passed out", "unresponsive"), ("unresponsive", "unresponsive"),
    ("wont wake up", "unresponsive"), ("seizure", "seizure"), ("seizing", "seizure"),
    ("anaphylaxis", "allergic"), ("throat is closing", "allergic"), ("throat closing", "allergic"),
    ("tongue swelling", "allergic"),
]

NEGATIONS = {"no", "not", "never", "without", "denies", "deny", "denied", "dont", "doesnt", "didnt", "isnt",
             "arent", "wasnt", "havent", "hasnt", "hadnt", "none", "nor", "negative"}
NEGATION_WINDOW = 4  # words before the phrase
CLAUSE_BREAKS = {"but", "however", "although", "though", "yet", "except"}

_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = text.replace("’", "").replace("'", "")  # don't -> dont, can't -> cant
    text = _PUNCT.sub(" , ", text)  # punctuation ends a clause
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Flag:
    phrase: str
    category: str
    negated: bool

    @property
    def crisis_line(self) -> bool:
        return self.category == "suicide"


def _negated(words: list[str], start: int) -> bool:
    for word in reversed(words[max(0, start - NEGATION_WINDOW):start]):
        if word == "," or word in CLAUSE_BREAKS:
            return False
        if word in NEGATIONS:
            return True
    return False


@lru_cache(maxsize=64)
def _screen(phrases: tuple[tuple[str, str], ...]) -> re.Pattern:
    """One regex for the whole list: most messages have no red flag, and
    one search says so."""
    return re.compile(r"(?:^| )(?:" + "|".join(re.escape(normalize(p)) for p, _ in phrases) + r")(?: |$)")


def find(text: str, phrases: list[tuple[str, str]] | None = None) -> list[Flag]:
    """Every red-flag phrase in `text`, in order of appearance, each once."""
    phrases = tuple(phrases if phrases is not None else DEFAULT_PHRASES)
    normalized = normalize(text)
    if not phrases or not _screen(phrases).search(normalized):
        return []
    words = normalized.split(" ")
    found: dict[str, Flag] = {}
    for phrase, category in phrases:
        target = normalize(phrase).split(" ")
        n = len(target)
        for i in range(len(words) - n + 1):
            if words[i:i + n] == target:
                negated = _negated(words, i)
                previous = found.get(phrase)
                # One plain mention anywhere outweighs a negated one.
                if previous is None or (previous.negated and not negated):
                    found[phrase] = Flag(phrase, category, negated)
    return list(found.values())


def most_serious(flags: list[Flag]) -> Flag | None:
    """The flag that decides the reply: an affirmed one, crisis-line first."""
    affirmed = [f for f in flags if not f.negated]
    if not affirmed:
        return None
    return next((f for f in affirmed if f.crisis_line), affirmed[0])
