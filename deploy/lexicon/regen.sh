#!/bin/sh
# Regenerate monitor/terms/lexicon/arabic-words.txt.gz from Debian's hunspell-ar (Ayaspell 3.2,
# GPL-2+ / LGPL-2.1+ / MPL-1.1, taken under MPL-1.1). Usage: deploy/lexicon/regen.sh [WORKDIR]
# from the project root, with the project's venv; needs apt-get (run 'apt-get update' once on a
# fresh machine) and PyPI (spylls, MIT, pure Python, used here only).
set -eu
root=$(pwd)
work=${1:-$(mktemp -d)}
python=${PYTHON:-$root/.venv/bin/python}
mkdir -p "$work" && cd "$work"
apt-get download hunspell-ar=3.2-1.2
echo "63f18b13e40210e09985c31cee3dc6ffc5c35198f084dc2660e18b0848e79e28  hunspell-ar_3.2-1.2_all.deb" | sha256sum -c -
dpkg-deb -x hunspell-ar_3.2-1.2_all.deb hunspell
"$python" -m pip install --quiet --no-deps --target pylib spylls==0.1.7
PYTHONPATH=pylib "$python" "$root/deploy/lexicon/build_arabic_lexicon.py" \
    hunspell/usr/share/hunspell/ar arabic-words.txt
gzip -9 -n -c arabic-words.txt > "$root/monitor/terms/lexicon/arabic-words.txt.gz"
cp hunspell/usr/share/doc/hunspell-ar/copyright "$root/monitor/terms/lexicon/COPYRIGHT.hunspell-ar"
echo "written: monitor/terms/lexicon/arabic-words.txt.gz ($(wc -l < arabic-words.txt) words)"
