"""Body field types whose JSON Schema says what pydantic's lax mode takes.

A body model coerces `0`, `"yes"` or `"5"` to a boolean or an integer; the schema pydantic makes
for `bool` or `int` calls those invalid, so a client trusting /openapi.json (or schemathesis,
which sends what the schema calls invalid and expects a refusal) would be wrong about what a
route accepts. These types validate exactly as `bool` and `int` do and describe it truly.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from tempmail.http.paging import MAX_ID


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


# The words pydantic reads as a boolean, in any case.
_BOOL_WORDS = ("true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0")
LAX_BOOL_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "boolean"},
        {"enum": [0, 1]},
        {"type": "string", "pattern": "^(" + "|".join(map(_any_case, _BOOL_WORDS)) + ")$"},
    ]
}
# A boolean that also takes 0/1 and those words.
LaxBool = Annotated[bool, WithJsonSchema(LAX_BOOL_SCHEMA)]


def lax_int_schema(minimum: int, maximum: int, nullable: bool = False) -> dict[str, Any]:
    """An integer in [minimum, maximum], also as a decimal string (`"5"`, `" 5 "`), an integral
    float (`5.0`) or a boolean in range (`true` is 1), as pydantic takes it; null when `nullable`."""
    options: list[dict[str, Any]] = [
        {"type": "integer", "minimum": minimum, "maximum": maximum},
        {"type": "string", "pattern": r"^\s*[+-]?[0-9_]+(\.0*)?\s*$"},
    ]
    booleans = [value for value in (False, True) if minimum <= int(value) <= maximum]
    if booleans:
        options.append({"enum": booleans})
    if nullable:
        options.append({"type": "null"})
    return {"anyOf": options}


# A row id of a body (an address's, a user's, a mail's): 1 to the largest id.
LaxId = Annotated[int, Field(ge=1, le=MAX_ID), WithJsonSchema(lax_int_schema(1, MAX_ID))]
OptionalLaxId = Annotated[
    int | None, Field(ge=1, le=MAX_ID), WithJsonSchema(lax_int_schema(1, MAX_ID, nullable=True))
]
