"""Cog-style OpenAPI schema machinery: building a model's schema, and checking input against it.

The schemas follow what Cog generates: inputs under `components.schemas.Input.properties`, each
with `type`, `title`, `description`, `x-order` and optional `default`/`minimum`/`maximum`; choices
referenced through `allOf` to an enum schema; files as `{"type": "string", "format": "uri"}`;
secrets as `format: password` with `x-cog-secret`. Validation messages imitate the gojsonschema
wording the real API uses ("Must be less than or equal to 4").

The concrete schemas of the simulated models are in `schemas.flux` and `schemas.trainer`.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

_MISSING = object()
SECRET_MASK = "**********"  # noqa: S105 - the mask shown instead of a secret


class SchemaBuilder:
    """Accumulates Cog-style properties in declaration order (which becomes x-order)."""

    def __init__(self) -> None:
        self.properties: dict[str, dict[str, Any]] = {}
        self.required: list[str] = []
        self.enums: dict[str, dict[str, Any]] = {}

    def add(
        self,
        name: str,
        kind: str | None,
        description: str,
        *,
        default: Any = _MISSING,
        minimum: float | None = None,
        maximum: float | None = None,
        choices: list[Any] | None = None,
        fmt: str | None = None,
        secret: bool = False,
    ) -> None:
        prop: dict[str, Any] = {}
        if choices is not None:
            enum_type = "integer" if all(isinstance(c, int) for c in choices) else "string"
            self.enums[name] = {
                "enum": choices,
                "type": enum_type,
                "title": name,
                "description": "An enumeration.",
            }
            prop["allOf"] = [{"$ref": f"#/components/schemas/{name}"}]
        else:
            prop["type"] = kind
            prop["title"] = name.replace("_", " ").title()
        if fmt:
            prop["format"] = fmt
        if secret:
            prop.update({"format": "password", "writeOnly": True, "x-cog-secret": True})
        if default is _MISSING:
            self.required.append(name)
        elif default is None:
            prop["nullable"] = True
        else:
            prop["default"] = default
        if minimum is not None:
            prop["minimum"] = minimum
        if maximum is not None:
            prop["maximum"] = maximum
        prop["x-order"] = len(self.properties)
        prop["description"] = description
        self.properties[name] = prop

    def input_schema(self, title: str = "Input") -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "title": title, "properties": self.properties}
        if self.required:
            schema["required"] = list(self.required)
        return schema


def openapi_document(components: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document Cog serves, around the given `components.schemas`."""
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": components},
    }


# --- validation ---------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_matches(expected: str, value: Any) -> bool:
    given = _json_type(value)
    if expected == "number":
        return given in {"integer", "number"}
    return given == expected


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _looks_like_uri(value: str) -> bool:
    if value.startswith("data:"):
        return "," in value
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc)


def _resolved(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    merged = dict(prop)
    for ref in prop.get("allOf", []):
        target = ref.get("$ref", "").rsplit("/", 1)[-1]
        merged.update(components.get(target, {}))
    return merged


def validate_input(
    schema: dict[str, Any], given: Any, input_key: str = "Input"
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Check `given` against the schema's `input_key` object.

    Returns (effective input with defaults filled in, problems). Each problem is
    (field, line prefix, message) for `errors.validation_error`. A null value counts as "not
    given", so optional inputs can be sent as None by clients that do not drop them.
    """
    components = schema["components"]["schemas"]
    input_schema = components[input_key]
    properties: dict[str, dict[str, Any]] = input_schema["properties"]
    problems: list[tuple[str, str, str]] = []
    if given is None:
        given = {}
    if not isinstance(given, dict):
        problems.append(
            ("input", "input", f"Invalid type. Expected: object, given: {_json_type(given)}")
        )
        return {}, problems

    for name in given:
        if name not in properties:
            problems.append((name, "input", f"Additional property {name} is not allowed"))
    for name in input_schema.get("required", []):
        if given.get(name) is None:
            problems.append((name, "input", f"{name} is required"))

    effective: dict[str, Any] = {}
    ordered = sorted(properties.items(), key=lambda item: item[1].get("x-order", 0))
    for name, raw_prop in ordered:
        prop = _resolved(raw_prop, components)
        value = given.get(name)
        if value is None:
            effective[name] = prop.get("default")
            continue
        prefix = f"input.{name}"
        expected = prop.get("type")
        if expected and not _type_matches(expected, value):
            problems.append(
                (name, prefix, f"Invalid type. Expected: {expected}, given: {_json_type(value)}")
            )
            continue
        if expected == "integer" and isinstance(value, float):
            value = int(value)
        if "enum" in prop and value not in prop["enum"]:
            allowed = ", ".join(
                f'"{choice}"' if isinstance(choice, str) else str(choice) for choice in prop["enum"]
            )
            problems.append((name, prefix, f"{name} must be one of the following: {allowed}"))
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in prop and value < prop["minimum"]:
                problems.append(
                    (
                        name,
                        prefix,
                        f"Must be greater than or equal to {_format_number(prop['minimum'])}",
                    )
                )
                continue
            if "maximum" in prop and value > prop["maximum"]:
                problems.append(
                    (
                        name,
                        prefix,
                        f"Must be less than or equal to {_format_number(prop['maximum'])}",
                    )
                )
                continue
            if math.isnan(value) or math.isinf(value):
                problems.append((name, prefix, "Invalid number"))
                continue
        if prop.get("format") == "uri" and not _looks_like_uri(value):
            problems.append((name, prefix, "Does not match format 'uri'"))
            continue
        effective[name] = value
    return effective, problems


def secret_fields(schema: dict[str, Any], input_key: str = "Input") -> set[str]:
    properties = schema["components"]["schemas"][input_key]["properties"]
    return {name for name, prop in properties.items() if prop.get("x-cog-secret")}


def redact_secrets(given: dict[str, Any], secrets: set[str]) -> dict[str, Any]:
    """The API echoes secret inputs masked, never in clear."""
    return {
        key: (SECRET_MASK if key in secrets and value is not None else value)
        for key, value in given.items()
    }
