"""Word keys: which spellings of a word a French or English reader takes for the same word.

Every word of a text or a term (already folded: lower case, no accents) is reduced to a *key*;
two words match when they share a key. The rules are small and explicit on purpose: each one
was checked against the words it could confuse (see ``tests/data/rules-extra.yaml``).

- **Number** (:func:`stem`): a final ``s`` goes; a final ``x`` goes only where it marks a French
  plural, after ``eu``/``ou``/``au`` (``jeux``, ``bijoux``, ``bureaux``), so ``prix`` never meets
  ``pris`` and ``index`` never meets ``inde``; then ``-al`` becomes ``-au`` so ``journal`` meets
  ``journaux``. Words of three letters or fewer (``les``, ``des``, ``bus``, ``IA``) and words
  with digits are left alone.
- **Spelling** (:func:`stem`): British and American spellings meet — ``-re``/``-er`` from an
  explicit table (``centre``/``center``; a general rule would make French ``entre`` meet
  ``enter`` and ``lettre`` meet ``letter``) and ``-ize``/``-ise`` (``optimize``/``optimise``,
  ``organization``/``organisation``, French ``externalisation`` unchanged).
- **English plurals** (:func:`alternate`): ``companies`` is English for ``company`` but
  ``parties`` may be French for ``partie`` or English for ``party``. Such a plural gets a
  second key, ``company``/``party``, beside its French one, so ``partie`` still never meets
  ``party`` while ``parties`` meets both. Same for ``-xes`` and ``-shes`` (``boxes``,
  ``dishes``); not ``-ches``, ``-sses``, ``-ses``, ``-zes``, whose French plurals would meet
  other English words (``marches``/``march``, ``grosses``/``gross``, ``buses``/``bus``,
  ``gazes``/``gaz``).
- **Acronym plurals** are recognised by :mod:`monitor.terms.text` from the original case
  (``IAs``, ``BPOs``): they need the upper case that folding removes.

Known ambiguities, left as they are: ``Paris``/``pari`` and ``news``/``new`` (a final ``s``
that is not a plural), ``tous``/``tou``-words, ``fixes`` (French adjective) meeting ``fix``.
"""

from __future__ import annotations

from functools import lru_cache

from monitor.terms import arabic

# Invariable words in -eux/-oux/-aux whose x is no plural and whose stripped form would be
# another word: deux/deus, peux/peu, toux/tous, taux/tau.
_KEEP_X = frozenset({"deux", "peux", "toux", "taux"})

# British -re endings and their American spelling, matched at the end of a word so compounds
# follow (kilometre, epicentre, amphitheatre). Not a general rule: entre/enter, lettre/letter,
# ordre/order, membre/member, spectre/specter are different words.
_RE_TO_ER: tuple[tuple[str, str], ...] = (
    ("centre", "center"),
    ("theatre", "theater"),
    ("metre", "meter"),
    ("litre", "liter"),
    ("fibre", "fiber"),
    ("calibre", "caliber"),
)

# American -ize forms and their -ise spelling; the -ize word must have six letters or more so
# prize/prise, seize, size keep their own meaning.
_IZE_TO_ISE: tuple[tuple[str, str], ...] = (
    ("ization", "isation"),
    ("izing", "ising"),
    ("ized", "ised"),
    ("ize", "ise"),
    ("yzing", "ysing"),
    ("yzed", "ysed"),
    ("yze", "yse"),
)
_IZE_MIN_PREFIX = 3  # letters before "ize": optimize, organize yes; prize, size no


def spelling(word: str) -> str:
    """The British/French spelling key of ``word`` (``center`` for ``centre`` and ``center``)."""
    for british, american in _RE_TO_ER:
        if word.endswith(british):
            return word[: -len(british)] + american
    if "z" in word:
        for american, british in _IZE_TO_ISE:
            if word.endswith(american) and len(word) - len(american) >= _IZE_MIN_PREFIX:
                return word[: -len(american)] + british
    return word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The key of a folded word: number and spelling variants reduced (module docstring)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    last = word[-1]
    if last == "s" or (last == "x" and word[-3:-1] in ("eu", "ou", "au") and word not in _KEEP_X):
        word = word[:-1]
    if len(word) > 3 and word.endswith("al"):
        word = word[:-2] + "au"
    return spelling(word)


@lru_cache(maxsize=65536)
def keys(word: str) -> tuple[str, str | None]:
    """The key of a folded word and its alternate key if it has one (``None`` otherwise)."""
    if arabic.is_arabic(word):
        return arabic.key(word), None
    key = stem(word)
    other = alternate(word)
    return key, None if other == key else other


def alternate(word: str) -> str | None:
    """The English singular key of a folded plural that also has a French reading, if any:
    ``companies`` → ``company``, ``boxes`` → ``box``, ``dishes`` → ``dish``."""
    if len(word) < 5 or not word.isalpha() or not word.endswith("es"):
        return None
    if word.endswith("ies"):
        return stem(word[:-3] + "y")
    if word.endswith(("xes", "shes")):
        return stem(word[:-2])
    return None


# --- The inverse: which folded words have a given key --------------------------------------
# Matching looks for the spellings of a term in the text (one pass for every term) rather than
# keying every word of the text, so each key is turned back into the words that carry it.


@lru_cache(maxsize=65536)
def spellings(key: str) -> frozenset[str]:
    """Every folded word whose key or alternate key is ``key`` (``centre``, ``centres``,
    ``center``, ``centers`` for ``center``; ``companies`` for ``company``); for an Arabic word,
    every form with clitics and plurals (the matcher leaves out those that are other words:
    :func:`monitor.terms.arabic.spellings`)."""
    if arabic.is_arabic(key):
        return arabic.spellings(key, frozenset())
    found = set(stem_spellings(key))
    for word in list(found):
        if word.endswith("y"):
            found.add(word[:-1] + "ies")  # companies → company
        if word.endswith(("x", "sh")):
            found.add(word + "es")  # boxes → box, dishes → dish
    return frozenset(word for word in found if key in keys(word))


def stem_spellings(key: str) -> frozenset[str]:
    """Every folded word whose :func:`stem` (not alternate key) is ``key``."""
    return frozenset(word for word in _stem_candidates(key) if stem(word) == key)


def _stem_candidates(key: str) -> set[str]:
    """A superset of the words whose :func:`stem` is ``key``: each step of stem undone."""
    spelt = {key}  # before spelling: the British or -ize form
    for british, american in _RE_TO_ER:
        if key.endswith(american):
            spelt.add(key[: -len(american)] + british)
    for american, british in _IZE_TO_ISE:
        if key.endswith(british):
            spelt.add(key[: -len(british)] + american)
    singular = spelt | {word[:-2] + "al" for word in spelt if word.endswith("au")}
    return {word + end for word in singular for end in ("", "s", "x")}


def prefix_spellings(form: str) -> frozenset[str]:
    """Beginnings of words such that every word whose folded form, key or alternate key starts
    with ``form`` starts with one of them (a wildcard's key-spelling form ``center`` is found
    in ``centres``, ``organis`` in ``organizations``, ``company`` in ``companies``). Some words
    they begin carry no such key; a match is checked with :func:`starts_with`."""
    if arabic.is_arabic(form):
        return arabic.prefix_spellings(form)
    found = {form}
    if form.endswith("au"):
        found.add(form[:-2] + "al")  # journaux → journau
    for pairs in (_RE_TO_ER, _IZE_TO_ISE):
        for original, keyed in pairs:  # the key has ``keyed`` where the word has ``original``
            differs = next(
                i for i, (a, b) in enumerate(zip(original, keyed, strict=False)) if a != b
            )
            for length in range(differs + 1, len(keyed) + 1):
                if form.endswith(keyed[:length]):
                    found.add(form[:-length] + original[:length])
    if form.endswith("y"):
        found.add(form[:-1] + "i")  # companies → company
    return frozenset(found)


def starts_with(word: str, forms: tuple[str, ...]) -> bool:
    """Whether the folded ``word``, its key or its alternate key starts with one of ``forms``
    (what a wildcard word matches)."""
    if arabic.is_arabic(word):
        return arabic.starts_with(word, forms)
    key, other = keys(word)
    return (
        word.startswith(forms)
        or key.startswith(forms)
        or (other is not None and other.startswith(forms))
    )
