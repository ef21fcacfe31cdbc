"""Build monitor/terms/lexicon/arabic-words.txt from Debian's hunspell-ar (Ayaspell 3.2).

The lexicon of bare Arabic words that monitor.terms.arabic reads to tell a word in its own right
(وكالة, لبنان) from a clitic or plural form of a rule's word. Ayaspell is tri-licensed GPL-2+ /
LGPL-2.1+ / MPL-1.1; the project takes it under MPL-1.1 (see ../../monitor/terms/lexicon/).

Usage (regen.sh runs it): python build_arabic_lexicon.py AFF_DIC_BASE OUT  (spylls on sys.path)

Kept: the nouns, adjectives and names of the dictionary (its "names" and "tools" sections, bare
stems without clitics), the bare function words of its "stopwords" section, and the feminine
singular (ة) its affix rules derive from each noun (موظف → موظفة, which tells that موظفات is the
plural of موظفة, not of موظف). Not kept: verbs, other inflected forms, clitic-attached entries.
Each word folded as monitor.terms.text folds it; one-letter words dropped.
"""
import re, sys
from spylls.hunspell import Dictionary
import re
_TR=str.maketrans({'أ':'ا','إ':'ا','آ':'ا','ٱ':'ا','ى':'ي','ة':'ه','ؤ':'و','ئ':'ي'})
_DEL=re.compile('[\u064B-\u0652\u0670\u0640]')
def fold(w): return _DEL.sub('',w).translate(_TR)

base, out = sys.argv[1:3]
d = Dictionary.from_files(base)
aff = d.aff
ARABIC = re.compile('^[\u0621-\u063A\u0641-\u064A\u064B-\u0652\u0670\u0640]+$')
# split dictionary into its concatenated source sections
sec = None; S = {'stopwords.dic': [], 'tools.dic': [], 'names.dic': [], 'verb.huns.dic': []}
prev_sep = False
for w in d.dic.words:
    if w.stem.startswith('::::'): prev_sep = True; continue
    if prev_sep and w.stem in S: sec = w.stem; prev_sep = False; continue
    prev_sep = False
    if sec and ARABIC.match(w.stem): S[sec].append(w)

PFX_ADDS = sorted({p.add for ps in aff.PFX.values() for p in ps if p.add}, key=len, reverse=True)
PRON = ('هما', 'كما', 'ها', 'هم', 'هن', 'كم', 'كن', 'نا', 'ه', 'ك', 'ي')
def noun_class(f): return len(f) == 2 and f[0].isupper() and f[1].isupper()

flagged_stems = {w.stem for s in ('tools.dic', 'names.dic') for w in S[s] if w.flags}
def clitic_attached(x, pool):
    for p in PFX_ADDS:
        if x.startswith(p) and len(x) > len(p) + 1:
            r = x[len(p):]
            if r in pool or (p.endswith('لل') and 'ال' + r in pool) or ('ا' + r in pool and p.endswith('ل')):
                return True
    return False

nouns, infl, dropped = set(), set(), []
all_stems = {w.stem for s in ('tools.dic', 'names.dic') for w in S[s]}
KEEP_AL = {'الله', 'الآن', 'الذي', 'التي', 'الذين', 'اللذان', 'اللذين', 'اللتان', 'اللتين', 'اللاتي', 'اللائي', 'اللواتي', 'الألى', 'الألي'}
for sname in ('tools.dic', 'names.dic'):
    for w in S[sname]:
        if w.stem == 'الله': nouns.add(w.stem); continue
        if sname == 'tools.dic' and not w.flags and (w.stem.startswith('آل') or re.search('(ال|ل)له$', w.stem)):
            dropped.append(w.stem); continue
        if sname == 'names.dic' and not w.flags and clitic_attached(w.stem, flagged_stems - {w.stem}):
            dropped.append(w.stem); continue
        if (sname == 'tools.dic' or not w.flags) and w.stem not in KEEP_AL and (
                (w.stem.startswith('ال') and w.stem[2:] in all_stems) or
                (w.stem.startswith('لل') and 'ا' + w.stem[1:] in all_stems)):
            dropped.append(w.stem); continue  # definite/ل+ال forms (numerals etc. in tools.dic)
        nouns.add(w.stem)
        # first-level noun suffixes: dual / sound plurals / feminine / nisba / construct; no pronoun (ه-final) forms
        for f in w.flags:
            if not noun_class(f): continue
            for s in aff.SFX.get(f, []):
                if s.add.endswith('ه') or not s.cond_regexp.search(w.stem): continue
                if s.strip and not w.stem.endswith(s.strip): continue
                infl.add(w.stem[:len(w.stem) - len(s.strip)] + s.add if s.strip else w.stem + s.add)

# stopwords.dic is fully expanded (clitics + pronouns): keep only forms not decomposable into prefix+X or X+pronoun
sw = {w.stem for w in S['stopwords.dic']}
pool = sw | flagged_stems
kept_sw = []
for x in sorted(sw):
    if clitic_attached(x, pool): continue
    if any(x.endswith(p) and len(x) - len(p) >= 2 and (x[:-len(p)] in pool or
           (x[:-len(p)].endswith('ت') and x[:-len(p) - 1] + 'ة' in pool)) for p in PRON): continue
    if x[0] in 'بل' and x[1:] in PRON + ('هما', 'كما'): continue          # preposition + pronoun (به، لنا)
    if x.startswith('لل') and 'ال' + x[1:] in pool: continue               # ل + اللائي
    nouns.add(x); kept_sw.append(x)

sys.stderr.write(f'stopwords kept {len(kept_sw)}: {kept_sw[::40]}\n')
sys.stderr.write(f'dropped clitic-attached tools/names entries: {len(dropped)} e.g. {dropped}\n')
stems = {fold(x) for x in nouns}
feminine = {f for f in map(fold, infl) if f.endswith('ه') and f[:-1] in stems}
words = sorted(x for x in stems | feminine if len(x) >= 2)
open(out, 'w', encoding='utf-8').write('\n'.join(words) + '\n')
sys.stderr.write(f'{out}: {len(words)} words\n')
