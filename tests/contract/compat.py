"""Which differences between two JSON Schemas of one event version break a reader or publisher.

Within one version only an added optional field is allowed (README, Architecture);
a removed field, a new required field, a field turned required, a changed type
or format, a changed constant and a removed enum value each need a new VERSION.
Tighter or looser bounds (lengths, minimum) are not judged here.

A value added to an enum breaks no one, since readers take a value added after
they were built (`korpu_contracts.tolerant`), but an older reader will not act on
it as a newer one does: it is told apart (`added_values`), never silently passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]


class AddedValue(UserWarning):
    """A value an enum of a committed event version gained: allowed, and told."""


@dataclass
class Differences:
    """What changed between two schemas, one sentence each naming the dotted field path."""

    breaking: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def differences(old_schema: Schema, new_schema: Schema) -> Differences:
    found = Differences()
    _compare(_Doc(old_schema), old_schema, _Doc(new_schema), new_schema, "", found)
    return found


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Every breaking difference, one sentence each naming the dotted field path."""
    return differences(old_schema, new_schema).breaking


def added_values(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Every value a closed set (enum) gained, naming the dotted field path."""
    return differences(old_schema, new_schema).added


class _Doc:
    """One schema document, to follow its local `$ref`s (`#/$defs/Name`)."""

    def __init__(self, root: Schema) -> None:
        self.root = root

    def resolve(self, schema: Schema) -> Schema:
        seen: set[str] = set()
        while "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#") or ref in seen:
                raise ValueError(f"cannot follow $ref {ref!r}")
            seen.add(ref)
            target: Any = self.root
            for part in filter(None, ref[1:].split("/")):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            schema = target
        return schema

    def branches(self, schema: Schema) -> list[Schema]:
        """The alternatives of a union (`anyOf`/`oneOf`), each resolved; else the schema."""
        schema = self.resolve(schema)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if not alternatives:
            return [schema]
        return [branch for item in alternatives for branch in self.branches(item)]


_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def _kinds(doc: _Doc, schema: Schema) -> set[str]:
    kinds: set[str] = set()
    for branch in doc.branches(schema):
        declared = branch.get("type")
        if declared is None and "const" in branch:
            declared = _JSON_TYPES.get(type(branch["const"]), "any")
        if declared is None and "enum" in branch:
            declared = sorted({_JSON_TYPES.get(type(value), "any") for value in branch["enum"]})
        if declared is None and ("properties" in branch or "additionalProperties" in branch):
            declared = "object"
        for name in declared if isinstance(declared, list) else [declared or "any"]:
            kinds.add(f"{name}:{branch['format']}" if "format" in branch else name)
    return kinds


def _values(doc: _Doc, schema: Schema) -> set[Any] | None:
    """The closed set of allowed values (enum or const), or None when any value of the type goes."""
    values: set[Any] = set()
    for branch in doc.branches(schema):
        if "const" in branch:
            values.add(branch["const"])
        elif "enum" in branch:
            values.update(branch["enum"])
        elif branch.get("type") != "null":
            return None
    return values


def _only(doc: _Doc, schema: Schema, kind: str) -> Schema | None:
    """The single alternative of this kind (the object of `Model | None`), if exactly one."""
    found = [branch for branch in doc.branches(schema) if kind in _kinds(doc, branch)]
    return found[0] if len(found) == 1 else None


def _compare(
    old_doc: _Doc, old: Schema, new_doc: _Doc, new: Schema, path: str, found: Differences
) -> None:
    where = path or "the envelope"
    old_kinds, new_kinds = _kinds(old_doc, old), _kinds(new_doc, new)
    if old_kinds != new_kinds:
        found.breaking.append(
            f"{where}: type changed from {sorted(old_kinds)} to {sorted(new_kinds)}"
        )
        return
    old_values, new_values = _values(old_doc, old), _values(new_doc, new)
    if old_values is not None and new_values is None:
        pass  # a closed set opened up: every old value still validates
    elif old_values is not None and new_values is not None:
        if old_values - new_values:
            gone = sorted(map(str, old_values - new_values))
            found.breaking.append(f"{where}: value(s) {gone} no longer allowed")
        if new_values - old_values:
            added = sorted(map(str, new_values - old_values))
            found.added.append(f"{where}: value(s) {added} added")
    elif old_values is None and new_values is not None:
        found.breaking.append(f"{where}: now limited to {sorted(map(str, new_values))}")
    old_object, new_object = _only(old_doc, old, "object"), _only(new_doc, new, "object")
    if old_object is not None and new_object is not None:
        _compare_objects(old_doc, old_object, new_doc, new_object, path, found)
    old_array, new_array = _only(old_doc, old, "array"), _only(new_doc, new, "array")
    if old_array is not None and new_array is not None and "items" in old_array:
        items = new_array.get("items", {})
        _compare(old_doc, old_array["items"], new_doc, items, f"{path}[]", found)


def _compare_objects(
    old_doc: _Doc, old: Schema, new_doc: _Doc, new: Schema, path: str, found: Differences
) -> None:
    prefix = f"{path}." if path else ""
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    found.breaking += [f"{prefix}{name}: removed" for name in old_fields if name not in new_fields]
    for name in sorted(new_required - old_required):
        change = "became required" if name in old_fields else "added as a required field"
        found.breaking.append(f"{prefix}{name}: {change}")
    for name in old_fields:
        if name in new_fields:
            _compare(old_doc, old_fields[name], new_doc, new_fields[name], f"{prefix}{name}", found)
    for keyword, suffix in (("additionalProperties", "*"), ("propertyNames", "<key>")):
        old_sub, new_sub = old.get(keyword), new.get(keyword)
        if isinstance(old_sub, dict) and isinstance(new_sub, dict):
            _compare(old_doc, old_sub, new_doc, new_sub, f"{prefix}{suffix}", found)
