"""The page's messages: size limit, JSON, type, fields; one clear line for each problem.

Every message is a JSON object with a "type" and that type's fields. `parse` checks the
envelope (size, JSON, known type, known and required fields, field types, fixed choices); the
values of settings and drawn points are checked by `ganjax.playground.settings` and
`ganjax.playground.data`, and the whole config by `ganjax.config.validate`, when the message is
applied. A refused message changes nothing; the page shows the line in its error box.

    {"type": "set", "values": {"optim.g_lr": 0.001, "loss.name": "hinge"}, "panel": 0}
    {"type": "points", "points": [[0.1, 0.2], ...], "panel": 0}
    {"type": "play"} {"type": "pause"} {"type": "reset"} {"type": "step", "player": "g"}
    {"type": "speed", "speed": "slow"}
    {"type": "import", "experiment": "ring8:vanilla"}
    {"type": "export", "save": true}
    {"type": "compare", "on": true}
    {"type": "ping"}
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

MAX_MESSAGE_BYTES = 64 * 1024  # a page's biggest message is 1000 drawn points (~30 KB)
PLAYERS = ("both", "g", "d")  # step: one whole step, G's update only, D's updates only
SPEEDS = ("slow", "normal", "fast")


class MessageError(ValueError):
    """A message the server refuses; the text is shown to the user as it is."""


@dataclasses.dataclass(frozen=True)
class Field:
    """A message field: its JSON type, whether it must be given, and any fixed choices."""

    kind: type | tuple[type, ...]
    required: bool = False
    choices: tuple[str, ...] = ()


_PANEL = Field(int)
SCHEMA: dict[str, dict[str, Field]] = {
    "set": {"values": Field(dict, True), "panel": _PANEL},
    "points": {"points": Field(list, True), "panel": _PANEL},
    "play": {},
    "pause": {},
    "reset": {},
    "step": {"player": Field(str, choices=PLAYERS)},
    "speed": {"speed": Field(str, True, SPEEDS)},
    "import": {"experiment": Field(str, True), "panel": _PANEL},
    "export": {"panel": _PANEL, "save": Field(bool)},
    "compare": {"on": Field(bool, True)},
    "ping": {},
}

_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer",
               float: "a number", bool: "true or false"}


@dataclasses.dataclass(frozen=True)
class Message:
    """A parsed message: its type and fields (only the schema's, with the right types)."""

    type: str
    fields: dict[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in ((bool, "true or false"), (dict, "an object"), (list, "a list"),
                       (str, "a string"), (int, "an integer"), (float, "a number")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _matches(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # JSON true is not the number 1
    return isinstance(value, kinds)


def _no_constants(name: str) -> Any:
    raise MessageError(f"message is not valid JSON: {name} is not a JSON number")


def parse(text: str | bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """The message in `text`; MessageError with one line saying what is wrong."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "replace"))
    if size > max_bytes:
        raise MessageError(f"message of {size} bytes refused: the limit is {max_bytes} bytes")
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except MessageError:
        raise
    except (ValueError, UnicodeDecodeError) as e:
        raise MessageError(f"message is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise MessageError(f"a message must be a JSON object with a \"type\", got "
                           f"{_json_name(data)}")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise MessageError("a message needs a \"type\" string; types: " + ", ".join(SCHEMA))
    schema = SCHEMA.get(kind)
    if schema is None:
        raise MessageError(f"unknown message type {kind!r}; known: {', '.join(SCHEMA)}")
    fields = {k: v for k, v in data.items() if k != "type"}
    unknown = sorted(set(fields) - set(schema))
    if unknown:
        known = ", ".join(schema) or "none"
        raise MessageError(f"message {kind!r}: unknown field(s) {', '.join(unknown)}; its "
                           f"fields: {known}")
    for name, field in schema.items():
        if name not in fields:
            if field.required:
                raise MessageError(f"message {kind!r}: missing field {name!r}")
            continue
        value = fields[name]
        if not _matches(value, field.kind):
            expected = _JSON_NAMES.get(field.kind, str(field.kind))
            raise MessageError(f"message {kind!r}: field {name!r} must be {expected}, got "
                               f"{_json_name(value)}")
        if field.choices and value not in field.choices:
            raise MessageError(f"message {kind!r}: {name}={value!r} must be one of "
                               f"{', '.join(field.choices)}")
    return Message(kind, fields)
