"""The forms of a served page, read as a browser without JavaScript reads them, for tests that
post them with plain HTTP: what a form would submit untouched (hidden inputs, filled inputs,
checked boxes and radios, each select's selected option), which a test then changes as a person
would (check, uncheck, choose, fill) before posting exactly that."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    """One ``<form>``: its class, its action (None: the page's own URL) and its fields in
    document order as (name, value, checked); a text field or select is always "checked"."""

    css: str
    action: str | None
    fields: list[tuple[str, str, bool]] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        return next((v for n, v, on in self.fields if n == name and on), None)

    def fill(self, name: str, value: str) -> None:
        """Set a text field, a radio group (the one of that value) or a select."""
        names = [n for n, _, _ in self.fields]
        assert name in names, f"no field {name!r} in {self.fields}"
        radios = [(n, v) for n, v, _ in self.fields if n == name]
        if len(radios) > 1:  # a radio group: only the one of that value is checked
            assert (name, value) in radios, f"no {name}={value!r} to choose in {radios}"
            self.fields = [(n, v, v == value if n == name else on) for n, v, on in self.fields]
        else:
            self.fields = [(n, value if n == name else v, on) for n, v, on in self.fields]

    def check(self, name: str, value: str, checked: bool = True) -> None:
        assert (name, value) in [(n, v) for n, v, _ in self.fields], f"no box {name}={value!r}"
        self.fields = [
            (n, v, checked if (n, v) == (name, value) else on) for n, v, on in self.fields
        ]

    def data(self) -> list[tuple[str, str]]:
        """What the browser would post, in its order."""
        return [(n, v) for n, v, on in self.fields if on]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("class", ""), a.get("action"))
            self.forms.append(self._form)
        elif self._form is None or "name" not in a:
            if tag == "option" and self._select is not None:
                self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "input":
            kind = a.get("type", "text")
            checked = "checked" in a if kind in ("checkbox", "radio") else True
            if kind not in ("submit", "button"):
                self._form.fields.append((a["name"], a.get("value", ""), checked))
        elif tag == "select":
            self._select, self._options = a["name"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = next((v for v, on in self._options if on), None)
            if chosen is None and self._options:
                chosen = self._options[0][0]  # no selected option: the first
            self._form.fields.append((self._select, chosen or "", True))
            self._select = None


def forms_of(page: str) -> list[Form]:
    reader = _Reader()
    reader.feed(page)
    reader.close()
    return reader.forms


def form_with(page: str, name: str, value: str) -> Form:
    """The page's one form that has the field ``name`` set to ``value`` (as the preferences
    page's forms differ by their hidden ``action``)."""
    found = [f for f in forms_of(page) if (name, value, True) in f.fields]
    assert len(found) == 1, f"{len(found)} forms with {name}={value!r}"
    return found[0]


def form_of_class(page: str, css: str) -> Form:
    found = [f for f in forms_of(page) if css in f.css.split()]
    assert len(found) == 1, f"{len(found)} forms of class {css!r}"
    return found[0]
