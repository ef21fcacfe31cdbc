"""The language of an item, for keyword rules limited to some languages (``languages: [fr]``).

``detect(text)`` returns an ISO 639-1 code ("fr", "en", "es", "ar", …; the ISO 639-3 code for the
few languages that have no two-letter one) or None when the text is too short to tell.
``detect_item()`` reads the title and the start of the summary, or of the content. ``SUPPORTED``
holds every code detect() can return, for the configuration to check ``languages:``.

The model is py3langid's (naive Bayes over byte n-grams, 140 labels). It is loaded on first use
(0.6 to 0.9 s, 77 MB of memory; ``load()`` pays it early, from any thread), once, then shared. A
detection reads at most MAX_CHARS characters and costs about 30 µs for a title, 150 µs for 250
characters of title and summary (2 cores, 2026): fine on the event loop for the items a rule
matched, too much for every item of a 2,000-item feed. The model's individual languages are
reported as their macrolanguage (Moroccan and Egyptian Arabic as "ar", Cantonese as "zh": FOLD).

Choices, measured by ``bench/languages.py`` on ``tests/data/headlines-languages.yaml`` (fr, en,
es, ar: 267 short headlines; de, pt, it: 36):

- The whole model, with a prior. Alone, the model gets French titles right 0.94 of the time,
  English 0.82, Spanish 0.82: on a short title it often picks a regional, classical or
  constructed language ("Hausse des prix": Walloon, "Cae el paro": Venetian; Aragonese,
  Extremaduran, Occitan, Haitian Creole…). So the scores get a prior, in the model's log units:
  +3 for the languages the users read (PRESS: odds of 20 to 1 against any one other language)
  and -10 for languages few news feeds are written in (RARE). Any other language keeps the
  model's score, so ``languages: [de]`` works and a clear German, Portuguese or even Esperanto
  text is recognised: the prior settles short, ambiguous titles and gives way to evidence. With
  it: French 0.98, English 0.92 (its mistakes: titles full of French names), Spanish 0.98,
  Arabic 1.00; German 1.00, but Portuguese and Italian lose short titles to Spanish and French
  (0.75 and 0.83, against 0.92 and 1.00 without the +3). A bonus above 3 gains little more.
- Not the model limited to fr, en, es, ar: barely better on those (0.98, 0.94, 1.00, 1.00), and
  no other language could ever be detected.
- No confidence threshold: the model's probabilities on a short title are low even when it is
  right; at 0.5, 111 titles of 303 get None, most of them right before.
- The summary: with the first ITEM_CHARS characters of title and summary, every labelled item
  that has a summary is right (51/51, against 47/51 for their titles alone; 39/51 for the
  model alone), so detect_item() reads them.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from monitor.config.rules import LANGUAGES

if TYPE_CHECKING:  # numpy is imported with the model, not with this module
    import numpy as np
    from numpy.typing import NDArray

# What the users read: Moroccan, French, Spanish and Gulf press.
PRESS = frozenset({"fr", "en", "es", "ar"})
PRESS_BONUS = 3.0
# Regional, classical and constructed languages, and creoles, close to the press languages and
# rarely the language of a news feed: the model picks them for short French, Spanish or English
# titles. They stay possible when the evidence is clear.
RARE = frozenset("an eo ext gcf gcr grc hbo ht la lij oc pcm sa vec vo wa".split())
RARE_PENALTY = 10.0
# Individual languages of the model reported as their ISO 639-1 macrolanguage.
FOLD = {"ary": "ar", "arz": "ar", "yue": "zh", "wuu": "zh", "uzs": "uz", "sdh": "ku",
        "gug": "gn", "fuv": "ff", "ltg": "lv"}  # fmt: skip
NO_LANGUAGE = "zxx"  # the model's label for text that is no language (codes, markup)

# what detect() may return: the model's labels, folded (monitor.config.rules, where rules name
# them; tests/rules/test_language.py checks it against the model)
SUPPORTED = LANGUAGES

MIN_LETTERS = 4  # fewer letters than this: None (one-, two- and three-letter texts are guesses)
MAX_CHARS = 1000  # detect() reads this much of a text: enough to tell, a bounded cost
ITEM_CHARS = 300  # detect_item(): the title, then the summary (or content) up to this length


class Model:
    """The loaded py3langid model and the arrays a detection reads. ``bench/languages.py``
    compares priors with ``scores()``, ``labels`` and ``best()``."""

    __slots__ = ("codes", "labels", "nextmove", "output", "pc", "prior", "ptc", "rowbase", "visit")

    def __init__(self) -> None:
        import numpy as np
        from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

        ident = LanguageIdentifier.from_model_file(MODEL_FILE)
        # a column per label (two labels have two columns: two scripts)
        self.labels = [str(label) for label in ident.nb_classes]
        self.codes: tuple[str | None, ...] = tuple(
            None if label == NO_LANGUAGE else FOLD.get(label, label) for label in self.labels
        )
        self.visit: Callable[..., Any] = visit_counts
        self.nextmove: Any = ident.tk_nextmove  # the byte n-gram automaton
        self.rowbase = [row << 8 for row in ident.tk_row]
        self.output: Any = ident.tk_output
        # features by labels, float16 (28 MB). A detection converts the rows it reads to float32:
        # numpy multiplies float16 slowly, and a float32 table would take 28 MB more.
        self.ptc: NDArray[np.float16] = np.asarray(ident.nb_ptc)
        self.pc: NDArray[np.float32] = np.asarray(ident.nb_pc, dtype=np.float32)
        self.prior = prior(self.labels, PRESS_BONUS, RARE_PENALTY)

    def scores(self, text: str) -> NDArray[np.float32] | None:
        """The model's log-probability of ``text`` (its first MAX_CHARS characters) per column;
        None when it has fewer than MIN_LETTERS letters or the model finds nothing in it."""
        import numpy as np

        text = text[:MAX_CHARS]
        if not _has_letters(text, MIN_LETTERS):
            return None
        if text.isupper():  # as py3langid does: a title in capitals reads as lower case
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf-8", "surrogatepass")
        visits = self.visit(self.nextmove, self.rowbase, self.output, data)
        if not visits:
            return None
        rows = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
        counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
        result: NDArray[np.float32] = np.log1p(counts) @ self.ptc[rows].astype(np.float32) + self.pc
        return result

    def best(
        self, scores: NDArray[np.float32], prior: NDArray[np.float32] | None = None
    ) -> str | None:
        """The code of the best column after the prior (this model's by default)."""
        return self.codes[int((scores + (self.prior if prior is None else prior)).argmax())]


def prior(labels: list[str], press_bonus: float, rare_penalty: float) -> NDArray[np.float32]:
    """Log-prior per model column: ``press_bonus`` for PRESS, ``-rare_penalty`` for RARE."""
    import numpy as np

    def weight(label: str) -> float:
        if FOLD.get(label, label) in PRESS:
            return press_bonus
        return -rare_penalty if label in RARE else 0.0

    return np.array([weight(label) for label in labels], dtype=np.float32)


_model: Model | None = None
_lock = threading.Lock()


def model() -> Model:
    """The model, loaded by the first caller (the others wait for it)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = Model()
    return _model


def load() -> None:
    """Load the model now (about 1 s) rather than on the first detection."""
    model()


def _has_letters(text: str, wanted: int) -> bool:
    for char in text:
        if char.isalpha():
            wanted -= 1
            if not wanted:
                return True
    return False


def detect(text: str) -> str | None:
    """The language of ``text`` (its first MAX_CHARS characters) or None: too short to tell."""
    if not _has_letters(text[:MAX_CHARS], MIN_LETTERS):
        return None  # without loading the model
    m = model()
    scores = m.scores(text)
    return None if scores is None else m.best(scores)


def item_text(title: str, summary: str, content: str) -> str:
    """What detect_item() reads: the title, then the summary (else the content), to ITEM_CHARS."""
    text = " ".join(title.split())
    rest = summary or content
    if len(text) < ITEM_CHARS and rest:
        text = f"{text} {' '.join(rest[: ITEM_CHARS * 2].split())}".strip()
    if len(text) > ITEM_CHARS:
        text = text[:ITEM_CHARS].rsplit(" ", 1)[0]
    return text


def detect_item(title: str, summary: str, content: str) -> str | None:
    """The language of an item, from its title and the start of its summary or content."""
    return detect(item_text(title, summary, content))
