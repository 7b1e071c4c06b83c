"""Generate docs/site-reference.md from the pydantic site models (the one declaration).

Run: python -m planner.app.docs_gen   (tests/test_docs.py fails when the file is stale)
"""

from __future__ import annotations

import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from planner.site.schema import Site

HEADER = """# Site file reference

Generated from the pydantic models in `planner/site/schema.py` by `python -m planner.app.docs_gen`;
do not edit by hand. Units live in key names. Unknown keys are rejected with a
"did you mean". Relative paths resolve against the site file's folder.
"""


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" (optional)" if type(None) in args else "")
    if origin is typing.Literal:
        return " | ".join(f'"{a}"' for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _models(model: type[BaseModel], seen: list) -> None:
    if model in seen:
        return
    seen.append(model)
    for field in model.model_fields.values():
        for inner in _inner(field.annotation):
            _models(inner, seen)


def _inner(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += _inner(arg)
    return out


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "its defaults"
    if value in ([], {}):
        return "empty"
    if value == "":
        return '`""`'
    return "none" if value is None else f"`{value}`"


def site_reference() -> str:
    models: list[type[BaseModel]] = []
    _models(Site, models)
    parts = [HEADER]
    for model in models:
        doc = (model.__doc__ or "").strip().splitlines()
        parts.append(f"## {model.__name__}\n")
        if doc:
            parts.append(" ".join(line.strip() for line in doc if line.strip()) + "\n")
        parts.append("| key | type | default | meaning |")
        parts.append("| --- | --- | --- | --- |")
        for name, field in model.model_fields.items():
            key = field.alias or name
            parts.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | "
                         f"{(field.description or '').replace('|', '/')} |")
        parts.append("")
    return "\n".join(parts)


def write(root: Path | None = None) -> Path:
    root = root or Path(__file__).resolve().parents[2]
    path = root / "docs" / "site-reference.md"
    path.write_text(site_reference(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
