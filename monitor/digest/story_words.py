"""The vocabulary of story clustering (monitor.digest.stories): function words, numbers and dates,
opposite directions, outlet suffixes and markers. Data, kept apart from the rules that use it."""

from __future__ import annotations

import re

from monitor.terms.words import stem

STOP = frozenset(stem(word) for word in (
    # French
    "le la les l un une des de du d au aux a et ou en dans sur sous par pour avec sans chez entre "
    "vers contre selon depuis pendant avant apres ce cet cette ces c ca cela son sa ses leur leurs "
    "notre nos votre vos mon ma mes qui que qu quoi dont ou ne n pas plus moins tres trop tout "
    "tous toute toutes il elle ils elles on nous vous je j se s m t y est sont ete etre etait ont "
    "avait fait va vont sera seront peut doit comme mais donc car si aussi encore deja quand "
    "comment pourquoi quel quelle quels quelles lors via des jusqu lorsqu puisqu alors ainsi meme "
    "autre autres nouveau nouvelle nouveaux nouvelles "
    # English
    "the an of to in on at for with by from as and or but is are was were be been it its this "
    "that these those has have had will would can could should may might do does did not no than "
    "over into about amid per how what why who which new "
    # Spanish
    "el los las unos unas del al y con por para sobre su sus lo mas hasta sin es son "
    # Verbs of saying: who reports a story is not the story ("study finds" / "study says")
    "annonce affirme assure indique declare estime revele devoile confirme explique precise "
    "souligne say says said find finds found report reports reported show shows announce "
    "announces announced confirms reveals according"
).split())  # fmt: skip

# Words read as numbers or dates: ordinals, small numbers, months (not English "may"), weekdays.
NUMBER_NAMES = {
    "1": "premier premiere first", "2": "deux deuxieme second seconde two",
    "3": "trois troisieme three third", "4": "quatre quatrieme four fourth", "5": "cinq five",
    "6": "six", "7": "sept seven", "8": "huit eight", "9": "nine", "10": "dix ten",
}  # fmt: skip
MONTHS = (
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
    "january february march april - june july august september october november december",
)
DAYS = (
    "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "monday tuesday wednesday thursday friday saturday sunday",
)
NUMBER_WORDS = (
    {stem(word): value for value, words in NUMBER_NAMES.items() for word in words.split()}
    | {stem(w): f"month{i + 1}" for ws in MONTHS for i, w in enumerate(ws.split()) if w != "-"}
    | {stem(w): f"day{i + 1}" for ws in DAYS for i, w in enumerate(ws.split())}
)
ORDINAL = re.compile(r"\d+(?:er|re|ere|e|eme|nd|st|rd|th)")  # 1er, 2e, 3rd: read by _numbers
QUARTERS = {f"q{n}": f"t{n}" for n in range(1, 5)} | {"h1": "s1", "h2": "s2"}

# Opposite directions: a title going one way is not the same story as one going the other.
# Entries of three letters or fewer are whole words, longer ones word beginnings.
DIRECTIONS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("ouvre", "ouvrir", "ouvert", "inaugur", "open"), ("ferme", "clos", "shut")),
    (("hauss", "augment", "relev", "grimp", "progress", "gagn", "rise", "rising", "gain",
      "climb", "jump", "surge", "increas", "up"),
     ("baiss", "recul", "diminu", "chut", "repli", "perd", "fall", "fell", "drop", "declin",
      "slump", "slid", "decreas", "down", "lower")),
    (("recrut", "embauch", "hire", "hiring", "recruit"),
     ("licenci", "supprim", "suppression", "layoff", "lay", "cut")),
)  # fmt: skip

SEPARATOR = re.compile(r"\s+(?:[-\u2013\u2014|\u2022]|::)\s+")
CONNECTORS = frozenset("de du des la le les l' d' of the and et & el al".split())
KNOWN_OUTLETS = frozenset({"20 minutes", "le 360", "medias 24", "2m", "h24", "2m.ma"})
MARKER = (
    r"vid[eé]os?|photos?|exclusif|exclusive|exclu|en direct|direct|live|urgent|breaking|"
    r"alerte|infographie|interview|entretien|tribune|analyse|podcast|audio|diaporama|replay|"
    r"update\s*\d*|map|afp|reuters|efe"
)
LEADING = re.compile(
    rf"^\s*(?:\[[^\]]{{1,40}}\]|\((?:{MARKER})\)|(?:{MARKER})\s*[.:|!\-\u2013\u2014]+)\s*",
    re.IGNORECASE,
)
TRAILING = re.compile(rf"\s*[\[(](?:{MARKER})[\])]\s*$", re.IGNORECASE)
NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+(?!\d)|\d+)(?:[.,](\d+))?"
    r"(?:er|re|ère|e|ème|eme|nd|st|rd|th)?(?!\w)"
)
RUBRIC = re.compile(r"([^:]{1,40}?)\s*:\s+(?=\S+\s+\S)")  # "Banques : le crédit…"
SYNONYMS = {("intelligence", "artificielle"): "ia", ("artificial", "intelligence"): "ia"}
ALIASES = {"dh": "dirham", "ai": "ia"}  # "ai" only when written AI: French "j'ai" is a verb
