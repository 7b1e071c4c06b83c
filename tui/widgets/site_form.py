"""A form over the site file: one field per scalar value, edited through tomlkit so that
comments and key order stay as the user wrote them; each field shows its own error (from
the same pydantic models as the raw editor) on a line under it, and one line at the foot of
the form gives the focused field's key, unit and meaning (the text of docs/site-reference.md).

One help line rather than a help text beside every field: the form of a large site has a
hundred fields, and a wrapped text beside each was a third of its widgets and most of the
time it took to show (issue 15: the Form tab opens well under a second); it also left the
field a third of the width at 80 columns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import tomlkit
from textual import events, on
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from planner.errors import Problem
from planner.parts.catalog import Catalog
from planner.site.schema import field_help

SCALARS = (bool, int, float, str)
KeyPath = tuple[str | int, ...]  # a value's place in the file: keys and list indices


def scalar_fields(doc: Any) -> Iterator[tuple[KeyPath, Any]]:
    """(path, value) of every scalar in a tomlkit document, in file order."""

    def walk(node: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, (*path, key))
        elif isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
            for i, item in enumerate(node):
                yield from walk(item, (*path, i))
        elif isinstance(node, (*SCALARS, list)):
            yield path, node  # arrays of values are edited as TOML text, e.g. [6, 7, 8]

    yield from walk(doc, ())


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out


def _field_id(path: KeyPath) -> str:
    return "f-" + "-".join(str(p).replace("_", "--").replace(".", "-") for p in path)


def shown(value: Any) -> str:
    """How a value appears in its field."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return tomlkit.item(value).as_string()
    return str(value)


def parse_like(text: str, old: Any) -> Any:
    """The typed text as the old value's type (bool, int, float, str, or an array in TOML)."""
    if isinstance(old, list):
        import tomllib

        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"a TOML array, e.g. [1, 2] ({exc})") from None
        if not isinstance(value, list):
            raise ValueError("a TOML array, e.g. [1, 2]")
        return value
    if isinstance(old, bool):
        if text.strip().lower() in ("true", "false"):
            return text.strip().lower() == "true"
        raise ValueError("true or false")
    if isinstance(old, int):
        return int(float(text)) if float(text).is_integer() else float(text)
    if isinstance(old, float):
        return float(text)
    return text


def set_path(doc: Any, path: KeyPath, value: Any) -> None:
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _errors(problems: list[Problem]) -> dict[str, str]:
    """Dotted key -> the problem's message (and hint), as the field's line shows it."""
    return {p.key: p.message + (f" ({p.hint})" if p.hint else "") for p in problems}


# keys that name a catalog part: key -> catalog kind (chosen from a list, not typed)
CATALOG_REFS = {"server": "servers", "leaf_switch": "switches", "spine_switch": "switches",
                "core_switch": "switches", "model": "miners"}

# the lists the form adds to and removes from: path in the file -> the kind's name
LIST_SECTIONS = {("fleet", "miners"): "miner block", ("buildings",): "hall", ("routes",): "route",
                 ("scenarios",): "scenario"}


class SiteForm(VerticalScroll):
    """Fields for every value of the site (arrays as TOML text); posts Edited with the new text."""

    BINDINGS = [Binding("ctrl+z", "undo", "Undo form edit")]
    # the fields take the focus, not the scroll container: focusing the container restyles
    # every field under it (a fifth of a second on an 80-field site)
    can_focus = False

    @dataclass
    class Edited(Message):
        """The form changed the site; ``text`` is the whole new text."""

        text: str

    def __init__(self, catalog: Catalog | None = None, helpline: Static | None = None, id: str | None = None):
        super().__init__(id=id)
        self.doc: tomlkit.TOMLDocument | None = None
        self.catalog = catalog
        self.paths: dict[str, KeyPath] = {}
        self.help: dict[str, str] = {}  # field id -> the key's description, unit and key (the help line)
        self.built_text: str | None = None  # the text the fields show
        self.notes: dict[str, Static] = {}  # field id -> its error line (only fields with an error have one)
        self.gaps: dict[str, Static] = {}  # field id -> the empty key cell beside its error line
        # the focused field's help: a line below the form (outside its scrolled area, so a field
        # scrolled into view is never under it), given by the pane that holds both
        self.helpline = helpline
        self.fields: dict[str, Input | Select] = {}  # field id -> its widget (held: a query walks the screen)
        self.choices: dict[str, set[str]] = {}  # field id of a catalog part -> the keys its list offers
        self.history: list[str] = []  # texts before each form edit, for undo
        self.errors: dict[str, str] = {}  # dotted key -> its problem, from the last validation
        self.last_field: str | None = None  # the field of the last edit (its keystrokes are one undo step)

    def load(self, text: str, problems: list[Problem], own: bool = False) -> None:
        """Rebuild the fields from the site text (when the text parses); a text the form
        already shows (edited here, or unchanged) only refreshes the errors. A text edited
        elsewhere (``own`` False) starts a new undo history."""
        if self.doc is not None and text == self.built_text:
            self.show_errors(problems)
            return
        if not own:
            self.history.clear()
            self.last_field = None
        self.built_text = text
        try:
            doc = tomlkit.parse(text)
        except Exception:
            self.remove_children()
            self.mount(Static("The site is not valid TOML: fix it in the Site tab first.", classes="form-error"))
            self.doc = None
            return
        if self.doc is not None and self._refill(doc):
            self.show_errors(problems)
            return
        self.doc = doc
        focused = self.app.focused
        keep = focused.id if focused is not None and self in focused.ancestors and focused.id else None
        self.remove_children()
        self.paths, self.notes, self.gaps, self.fields, self.choices = {}, {}, {}, {}, {}
        errors = self.errors = _errors(problems)
        rows: list[Widget] = []
        section = None
        for path, value in scalar_fields(self.doc):
            head = dotted(path[:-1]) or "(top)"
            if head != section:
                rows.append(Static(head, classes="form-section"))
                section = head
            fid = _field_id(path)
            self.paths[fid] = path
            key = dotted(path)
            about, unit = field_help(path)
            self.help[fid] = f"{key}" + (f" ({unit})" if unit else "") + (f": {about}" if about else "")
            label = Label(f"{path[-1]}" + (f" ({unit})" if unit else ""), classes="form-key", markup=False)
            label.tooltip = about or None
            error = errors.get(key, "")
            kind = CATALOG_REFS.get(str(path[-1])) if isinstance(value, str) else None
            if kind and self.catalog is not None:  # a part: chosen from the catalog, not typed
                keys = sorted(self.catalog.entries[kind])
                options = [(k, k) for k in keys] + ([] if value in keys else [(f"{value} (not in the catalog)", value)])
                field: Input | Select[str] = Select(options, value=str(value), id=fid,
                                                    classes="form-input form-select", allow_blank=False)
                self.choices[fid] = {v for _, v in options}
            else:
                field = Input(shown(value), id=fid, classes="form-input")
            self.fields[fid] = field
            label.id = fid + "-label"
            rows += [label, field]
            if error:
                rows += self._new_note(fid, error)
        for path, name in LIST_SECTIONS.items():
            rows.append(Horizontal(Button(f"add a {name}", id="add-" + "-".join(path), classes="form-button"),
                                   Button(f"remove the last {name}", id="del-" + "-".join(path),
                                          classes="form-button"), classes="form-buttons"))
        # one grid of two columns (key, value; an error spans both under its field): far
        # fewer widgets to lay out and style than a container per row
        self.mount(Grid(*rows, classes="form-grid"))
        if keep is not None:  # the focused field went with the old fields: focus it again (or the first)
            self.call_after_refresh(self._refocus, keep)

    def _refill(self, doc: tomlkit.TOMLDocument) -> bool:
        """Show ``doc`` in the fields already built when it has the same keys in the same
        order (a value edited in the Site tab): only the values that differ change, and no
        field is mounted again (rebuilding costs most of a second on an 80-field site).
        False when the keys differ and the form must be built anew."""
        fields = list(scalar_fields(doc))
        if [_field_id(p) for p, _ in fields] != list(self.paths):
            return False
        for (_path, value), fid in zip(fields, self.paths, strict=True):
            widget = self.fields[fid]
            if isinstance(widget, Select):
                if widget.value != str(value):
                    if str(value) not in self.choices.get(fid, ()):
                        return False  # a part not in the list: the form builds it with that option
                    with widget.prevent(Select.Changed):
                        widget.value = str(value)
            elif widget.value != shown(value):
                with widget.prevent(Input.Changed):
                    widget.value = shown(value)
        self.doc = doc
        return True

    def show_errors(self, problems: list[Problem]) -> None:
        self.errors = _errors(problems)
        for fid in self.paths:
            self._note(fid)

    def _note(self, fid: str) -> None:
        """A field's error line, from the last validation: shown under the field while it
        has one, gone when it has none."""
        self._set_note(fid, self.errors.get(dotted(self.paths[fid]), ""))

    def _new_note(self, fid: str, text: str) -> list[Static]:
        """A field's error line: a row of the grid under the field, the error in the value's
        column (a cell spanning both columns is measured at one column's width)."""
        note = Static(text, id=fid + "-err", classes="form-error", markup=False)
        gap = Static("", classes="form-gap")
        self.notes[fid] = note
        self.gaps[fid] = gap
        return [gap, note]

    def _set_note(self, fid: str, text: str) -> None:
        note = self.notes.get(fid)  # held, not queried: a query walks the whole screen
        if text and note is not None:
            note.update(text)
        elif text:
            field = self.fields.get(fid)
            if field is not None and isinstance(field.parent, Widget):
                field.parent.mount(*self._new_note(fid, text), after=field)
        elif note is not None:
            del self.notes[fid]
            self.gaps.pop(fid).remove()
            note.remove()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The focused field's key, unit and meaning on the help line."""
        fid = event.widget.id
        if self.helpline is not None and fid in self.help:
            # a fixed two lines: a new text repaints the line, not the layout of a hundred fields
            self.helpline.update(self.help[fid], layout=False)

    @on(Select.Changed, ".form-select")
    def _chosen(self, event: Select.Changed) -> None:
        if self.doc is None or event.select.id not in self.paths or event.value is Select.BLANK:
            return
        path = self.paths[event.select.id]
        node: Any = self.doc
        for part in path[:-1]:
            node = node[part]
        if str(node[path[-1]]) == event.value:
            return
        set_path(self.doc, path, str(event.value))
        self._edited(tomlkit.dumps(self.doc), event.select.id)

    @on(Input.Changed, ".form-input")
    def _changed(self, event: Input.Changed) -> None:
        if self.doc is None or event.input.id not in self.paths:
            return
        path = self.paths[event.input.id]
        node: Any = self.doc
        for part in path[:-1]:
            node = node[part]
        old = node[path[-1]]
        try:
            value = parse_like(event.value, old)
        except ValueError as exc:
            kind = ("true or false" if isinstance(old, bool) else "a whole number" if isinstance(old, int)
                    else "a number" if isinstance(old, float) else "a TOML array" if isinstance(old, list) else "text")
            self._set_note(event.input.id, f"not {kind}: {exc}")
            return
        plain = old.unwrap() if hasattr(old, "unwrap") else old
        if value == plain and type(value) is type(plain):
            self._note(event.input.id)  # a "not a float" of the text before goes
            return  # the field was only filled in (or set back): the file keeps its own spelling
        set_path(self.doc, path, value)
        self._edited(tomlkit.dumps(self.doc), event.input.id)

    @on(Input.Blurred, ".form-input")
    def _left(self, _event: Input.Blurred) -> None:
        self.last_field = None  # typing in the field again later is a new undo step

    @on(Button.Pressed, ".form-button")
    def _list(self, event: Button.Pressed) -> None:
        """Add a new item (unique name, defaults that validate, after its kind in the file,
        scrolled to) or remove the last one (a site keeps at least one scenario)."""
        from planner.site.text import ADDABLE, insert_table, new_item

        if self.doc is None or self.built_text is None:
            return
        before = self.built_text
        action, *parts = str(event.button.id).split("-")
        kind = LIST_SECTIONS[tuple(parts)]
        text = tomlkit.dumps(self.doc)
        if action == "add":
            try:
                table, first = new_item(kind, text, self.catalog)
            except ValueError as exc:
                self.app.notify(str(exc), severity="warning")
                return
            text = insert_table(text, ADDABLE[kind], table)
            self.history.append(before)
            self.load(text, [], own=True)
            self.call_after_refresh(self._show_field, _field_id(first))
        else:
            node: Any = self.doc
            for part in parts[:-1]:
                node = node.get(part, {})
            items = node.get(parts[-1])
            if not items or (kind == "scenario" and len(items) < 2):
                self.app.notify(f"no {kind} to remove" if not items else "a site keeps at least one scenario",
                                severity="warning")
                return
            if isinstance(items, dict):
                del items[list(items)[-1]]
            else:
                items.pop(-1)
            text = tomlkit.dumps(self.doc)
            self.history.append(before)
            self.load(text, [], own=True)  # the removed item's fields go
        self._edited(text)

    def _edited(self, text: str, field: str | None = None) -> None:
        """Record an edit for undo and post the new text. Keystrokes in one field make one
        step: typing 140 over 130 is undone at once, not a character at a time."""
        if self.built_text is not None and self.built_text != text \
                and (field is None or field != self.last_field or not self.history):
            self.history.append(self.built_text)
        self.last_field = field
        self.built_text = text
        self.post_message(self.Edited(text))

    def action_undo(self) -> None:
        """Take back the last edit made in the form (values, added or removed items)."""
        if not self.history:
            self.app.notify("nothing to undo in the form")
            return
        text = self.history.pop()
        self.last_field = None
        self.load(text, [], own=True)
        self.built_text = text
        self.post_message(self.Edited(text))

    def _refocus(self, fid: str) -> None:
        if self.app.focused is not None and self in self.app.focused.ancestors:
            return
        widget = (self.fields.get(fid) or next(iter(self.query(f"#{fid}")), None)
                  or next(iter(self.fields.values()), None))
        if widget is not None:
            widget.focus(scroll_visible=False)

    def _show_field(self, fid: str) -> None:
        for widget in self.query(f"#{fid}"):
            self.scroll_to_widget(widget, top=True)
            widget.focus()
