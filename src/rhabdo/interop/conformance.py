"""Check FHIR R4 resources against StructureDefinition snapshots (a validator in Python).

No offline Java validator can be installed where rhabdo runs, so this module reads the
official StructureDefinitions (snapshots), ValueSets and CodeSystems of the packages a caller
points it at and checks an instance against its base resource definition and every profile it
claims in ``meta.profile``:

* cardinality of every element, including slices (discriminators by value, pattern, type and
  profile; a discriminator it cannot evaluate is reported as *not checked*);
* choice types (``value[x]``) restricted to the types the definition allows;
* elements the base definition does not have (closed world for the R4 base);
* fixed and pattern values;
* required bindings, against the ValueSet expanded from the loaded ValueSets and complete
  CodeSystems (a ValueSet it cannot expand is reported as *not checked*);
* reference target types, for references that resolve inside the bundle;
* FHIRPath invariants of severity *error* (with ``fhirpathpy``); ``ele-1`` is checked natively;
* extensions: every extension whose StructureDefinition is loaded is checked against it, and an
  extension in rhabdo's own namespace without a StructureDefinition is an error.

Definitions are data: :class:`Definitions` loads them from folders of JSON files (the test
suite vendors the official packages; rhabdo's own extension definitions ship with the package,
see :func:`rhabdo_definitions_folder`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

CORE_SD = "http://hl7.org/fhir/StructureDefinition/"
#: rhabdo's own canonical namespace: every extension in it must have a loaded definition.
OWN_NAMESPACE = "https://rhabdo.org/fhir/"
#: Invariants checked natively (ele-1) or that only restate the JSON grammar.
NATIVE_CONSTRAINTS = frozenset({"ele-1", "ext-1"})

_PRIMITIVE_JSON: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "positiveInt": (int,),
    "unsignedInt": (int,),
    "decimal": (int, float),
}


class Severity(StrEnum):
    """How much an issue matters: an error breaks conformance; not-checked is a gap."""

    ERROR = "error"
    NOT_CHECKED = "not-checked"


@dataclass(frozen=True)
class Issue:
    """One finding of the checker, located by resource, profile and element id."""

    severity: Severity
    resource: str
    profile: str
    element: str
    message: str

    def __str__(self) -> str:
        profile = self.profile.rsplit("/", 1)[-1]
        return f"{self.resource} [{profile}] {self.element}: {self.message}"


def rhabdo_definitions_folder() -> Path:
    """The folder of rhabdo's own StructureDefinitions and CodeSystems (package data)."""
    return Path(__file__).parent / "definitions"


class Definitions:
    """StructureDefinitions, ValueSets and CodeSystems by canonical URL."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self.structures: dict[str, dict[str, Any]] = {}
        self.value_sets: dict[str, dict[str, Any]] = {}
        self.code_systems: dict[str, dict[str, Any]] = {}
        self._expansions: dict[str, frozenset[tuple[str, str]] | None] = {}
        for folder in folders:
            for path in sorted(folder.glob("*.json")):
                data = json.loads(path.read_text(encoding="utf-8"))
                kind, url = data.get("resourceType"), data.get("url")
                if not url:
                    continue
                if kind == "StructureDefinition":
                    self.structures[url] = data
                elif kind == "ValueSet":
                    self.value_sets[url] = data
                elif kind == "CodeSystem":
                    self.code_systems[url] = data

    def structure(self, url: str) -> dict[str, Any] | None:
        return self.structures.get(url.split("|")[0])

    def type_of_profile(self, url: str) -> str | None:
        sd = self.structure(url)
        if sd is not None:
            return str(sd["type"])
        if url.startswith(CORE_SD):
            name = url[len(CORE_SD) :]
            return name if name[:1].isupper() else None
        return None

    def expand(self, url: str) -> frozenset[tuple[str, str]] | None:
        """The (system, code) pairs of a ValueSet, or None when it cannot be expanded here."""
        url = url.split("|")[0]
        if url not in self._expansions:
            self._expansions[url] = None  # guards against import cycles
            self._expansions[url] = self._expand(url)
        return self._expansions[url]

    def _expand(self, url: str) -> frozenset[tuple[str, str]] | None:
        vs = self.value_sets.get(url)
        if vs is None:
            return None
        expansion = vs.get("expansion", {}).get("contains")
        if expansion and "compose" not in vs:
            return frozenset((c["system"], c["code"]) for c in _flatten(expansion))
        compose = vs.get("compose", {})
        included = self._compose(compose.get("include", []))
        excluded = self._compose(compose.get("exclude", []))
        if included is None or excluded is None:
            return None
        return included - excluded

    def _compose(self, parts: list[dict[str, Any]]) -> frozenset[tuple[str, str]] | None:
        codes: set[tuple[str, str]] = set()
        for part in parts:
            if part.get("filter"):
                return None
            members: set[tuple[str, str]] | None = None
            system = part.get("system")
            if system:
                if "concept" in part:
                    members = {(system, c["code"]) for c in part["concept"]}
                else:
                    cs = self.code_systems.get(system)
                    if cs is None or cs.get("content") != "complete":
                        return None
                    members = {(system, c["code"]) for c in _flatten(cs.get("concept", []))}
            for ref in part.get("valueSet", []):
                sub = self.expand(ref)
                if sub is None:
                    return None
                members = set(sub) if members is None else members & sub
            codes |= members or set()
        return frozenset(codes)


def _flatten(concepts: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for concept in concepts:
        yield concept
        yield from _flatten(concept.get("concept", []) + concept.get("contains", []))


@dataclass
class _Context:
    """What one check of one resource needs: its label, the bundle index, where issues go."""

    resource: dict[str, Any]
    label: str
    index: dict[str, dict[str, Any]]
    issues: list[Issue] = field(default_factory=list)


def _split_id(element_id: str) -> tuple[str, str, str | None]:
    """(parent id, element name, slice name) of an element id."""
    parent, _, last = element_id.rpartition(".")
    name, _, slice_name = last.partition(":")
    return parent, name, slice_name or None


def _type_suffix(code: str) -> str:
    return code[:1].upper() + code[1:]


def _children(node: Any, name: str, types: list[str]) -> list[tuple[str, Any]]:
    """(type code or '', value) for every value of child ``name`` of ``node``."""
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        stem = name[:-3]
        found = []
        for key, value in node.items():
            if key.startswith(stem) and key[len(stem) : len(stem) + 1].isupper():
                for item in value if isinstance(value, list) else [value]:
                    found.append((key[len(stem) :], item))
        return found
    value = node.get(name)
    if value is None:
        return []
    code = types[0] if len(types) == 1 else ""
    return [(code, item) for item in (value if isinstance(value, list) else [value])]


def _matches_pattern(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(k in value and _matches_pattern(value[k], v) for k, v in pattern.items())
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(_matches_pattern(item, p) for item in items) for p in pattern)
    return bool(value == pattern)


def _fixed_or_pattern(element: dict[str, Any]) -> tuple[str, Any] | None:
    for key, value in element.items():
        if key.startswith("fixed") or key.startswith("pattern"):
            return key, value
    return None


def _walk(node: Any, path: str) -> list[Any]:
    values = [node]
    for step in path.split("."):
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict) and step in value:
                item = value[step]
                nxt.extend(item if isinstance(item, list) else [item])
        values = nxt
    return values


class ProfileChecker:
    """Checks resources and bundles against loaded definitions."""

    def __init__(self, definitions: Definitions) -> None:
        self.defs = definitions
        self._index_cache: dict[str, dict[str, list[dict[str, Any]]]] = {}

    # -- public ---------------------------------------------------------------------------

    def check_bundle(self, bundle: dict[str, Any]) -> list[Issue]:
        """Every issue of the bundle itself and of every resource in it."""
        index: dict[str, dict[str, Any]] = {}
        for entry in bundle.get("entry", []):
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            if entry.get("fullUrl"):
                index[entry["fullUrl"]] = resource
            if resource.get("id"):
                index[f"{resource.get('resourceType')}/{resource['id']}"] = resource
        issues = self.check_resource(bundle, index, check_entries=False)
        for entry in bundle.get("entry", []):
            resource = entry.get("resource")
            if isinstance(resource, dict):
                issues += self.check_resource(resource, index)
        return issues

    def check_resource(
        self,
        resource: dict[str, Any],
        index: dict[str, dict[str, Any]] | None = None,
        *,
        check_entries: bool = True,
    ) -> list[Issue]:
        """Issues of one resource against its base definition and its claimed profiles."""
        kind = str(resource.get("resourceType", "?"))
        ctx = _Context(resource, f"{kind}/{resource.get('id', '?')}", index or {})
        base = self.defs.structure(CORE_SD + kind)
        if base is None:
            ctx.issues.append(
                Issue(Severity.ERROR, ctx.label, CORE_SD + kind, kind, "unknown resource type")
            )
            return ctx.issues
        self._check(base, resource, ctx, closed=True, skip_resources=not check_entries)
        for profile in resource.get("meta", {}).get("profile", []):
            sd = self.defs.structure(profile)
            if sd is None:
                ctx.issues.append(
                    Issue(Severity.ERROR, ctx.label, profile, kind, "claimed profile not found")
                )
                continue
            if sd.get("type") != kind:
                ctx.issues.append(
                    Issue(Severity.ERROR, ctx.label, profile, kind, f"profile is for {sd['type']}")
                )
                continue
            self._check(sd, resource, ctx, closed=False, skip_resources=True)
        return _dedupe(ctx.issues)

    # -- one structure definition over one node ------------------------------------------

    def _check(
        self,
        sd: dict[str, Any],
        root: Any,
        ctx: _Context,
        *,
        closed: bool,
        skip_resources: bool,
    ) -> None:
        url = str(sd["url"])
        elements: list[dict[str, Any]] = sd["snapshot"]["element"]
        by_id = {e["id"]: e for e in elements}
        child_names: dict[str, set[str]] = {}
        for e in elements[1:]:
            parent, name, slice_name = _split_id(e["id"])
            if slice_name is None:
                child_names.setdefault(parent, set()).add(name)
        nodes: dict[str, list[tuple[str, Any]]] = {elements[0]["id"]: [("", root)]}

        def issue(element: str, message: str, severity: Severity = Severity.ERROR) -> None:
            ctx.issues.append(Issue(severity, ctx.label, url, element, message))

        self._check_values(sd, elements[0], nodes[elements[0]["id"]], ctx, issue)
        for element in elements[1:]:
            element_id = element["id"]
            parent_id, name, slice_name = _split_id(element_id)
            if parent_id not in nodes:
                continue
            types = [t["code"] for t in element.get("type", [])]
            collected: list[tuple[str, Any]] = []
            for _parent_type, parent in nodes[parent_id]:
                values = _children(parent, name, types)
                if slice_name is not None and "/" not in slice_name:
                    unsliced = by_id.get(f"{parent_id}.{name}", {})
                    selected = self._in_slice(element, unsliced, values, by_id, issue)
                    if selected is None:
                        continue
                    values = selected
                elif slice_name is not None:
                    continue
                self._cardinality(element, len(values), issue)
                collected.extend(values)
            nodes[element_id] = collected
            if not collected:
                continue
            self._check_values(sd, element, collected, ctx, issue)
            if closed:
                self._closed_world(
                    element, collected, child_names.get(element_id), ctx, issue, skip_resources
                )
        if closed:
            root_names = child_names.get(elements[0]["id"], set())
            self._unknown_keys(root, root_names, elements[0]["id"], issue, is_resource=True)

    def _cardinality(self, element: dict[str, Any], count: int, issue: Any) -> None:
        low, high = int(element.get("min", 0)), str(element.get("max", "*"))
        if count < low:
            issue(element["id"], f"minimum cardinality {low}, found {count}")
        if high != "*" and count > int(high):
            issue(element["id"], f"maximum cardinality {high}, found {count}")

    def _in_slice(
        self,
        element: dict[str, Any],
        unsliced: dict[str, Any],
        values: list[tuple[str, Any]],
        by_id: dict[str, dict[str, Any]],
        issue: Any,
    ) -> list[tuple[str, Any]] | None:
        """The values belonging to the slice ``element``; None when it cannot be decided."""
        _parent, name, slice_name = _split_id(element["id"])
        if name.endswith("[x]") and slice_name:
            return [(t, v) for t, v in values if name[:-3] + t == slice_name]
        discriminators = unsliced.get("slicing", {}).get("discriminator", [])
        if not discriminators:
            issue(element["id"], "slice without discriminator", Severity.NOT_CHECKED)
            return None
        kept = values
        for disc in discriminators:
            kind, path = disc["type"], disc["path"]
            if kind in ("value", "pattern"):
                expected = self._expected(element, path, by_id)
                if expected is None:
                    issue(
                        element["id"], f"discriminator {path} not evaluable", Severity.NOT_CHECKED
                    )
                    return None
                key, want = expected
                exact = key.startswith("fixed")

                def hit(
                    value: Any, want: Any = want, exact: bool = exact, path: str = path
                ) -> bool:
                    found = [value] if path == "$this" else _walk(value, path)
                    if exact:
                        return any(f == want for f in found)
                    return any(_matches_pattern(f, want) for f in found)

                kept = [(t, v) for t, v in kept if hit(v)]
            elif kind == "type" and path == "$this":
                wanted = {t["code"] for t in element.get("type", [])}
                kept = [(t, v) for t, v in kept if t in wanted or not t]
            elif kind == "profile":
                wanted_profiles = {p for t in element.get("type", []) for p in t.get("profile", [])}
                kept = [
                    (t, v)
                    for t, v in kept
                    if any(
                        p in wanted_profiles
                        for target in ([v] if path == "$this" else _walk(v, path))
                        if isinstance(target, dict)
                        for p in target.get("meta", {}).get("profile", [])
                    )
                ]
            else:
                issue(
                    element["id"],
                    f"discriminator {kind}:{path} not evaluable",
                    Severity.NOT_CHECKED,
                )
                return None
        return kept

    def _expected(
        self, element: dict[str, Any], path: str, by_id: dict[str, dict[str, Any]]
    ) -> tuple[str, Any] | None:
        if path == "$this":
            return _fixed_or_pattern(element)
        target = by_id.get(f"{element['id']}.{path}")
        if target is not None:
            found = _fixed_or_pattern(target)
            if found is not None:
                return found
        profiles = [p for t in element.get("type", []) for p in t.get("profile", [])]
        if path == "url" and profiles:
            return "fixedUri", profiles[0]
        for profile in profiles:  # the pattern may sit in the slice's type profile
            sd = self.defs.structure(profile)
            if sd is None:
                continue
            for candidate in sd["snapshot"]["element"]:
                if candidate["id"] == f"{sd['type']}.{path}":
                    found = _fixed_or_pattern(candidate)
                    if found is not None:
                        return found
        return None

    # -- values ---------------------------------------------------------------------------

    def _check_values(
        self,
        sd: dict[str, Any],
        element: dict[str, Any],
        values: list[tuple[str, Any]],
        ctx: _Context,
        issue: Any,
    ) -> None:
        element_id = element["id"]
        allowed = {t["code"] for t in element.get("type", [])}
        fixed = _fixed_or_pattern(element)
        binding = element.get("binding", {})
        for type_code, value in values:
            if (
                type_code
                and allowed
                and type_code not in allowed
                and _type_suffix(type_code) not in {_type_suffix(a) for a in allowed}
            ):
                issue(
                    element_id, f"type {type_code} not allowed here ({', '.join(sorted(allowed))})"
                )
            if value in ({}, [], ""):
                issue(element_id, "ele-1: element has neither a value nor children")
            if fixed is not None:
                key, want = fixed
                ok = value == want if key.startswith("fixed") else _matches_pattern(value, want)
                if not ok:
                    issue(element_id, f"{key} {json.dumps(want)} not matched")
            if binding.get("strength") == "required" and binding.get("valueSet"):
                self._check_binding(
                    element_id, binding["valueSet"], type_code, allowed, value, issue
                )
            for t in element.get("type", []):
                if t["code"] == "Reference" and t.get("targetProfile") and isinstance(value, dict):
                    self._check_reference(element_id, t["targetProfile"], value, ctx, issue)
            self._check_constraints(element, type_code, value, ctx, issue)
            _ = sd

    def _check_binding(
        self,
        element_id: str,
        vs_url: str,
        type_code: str,
        allowed: set[str],
        value: Any,
        issue: Any,
    ) -> None:
        codes = self.defs.expand(vs_url)
        if codes is None:
            issue(
                element_id, f"required binding {vs_url} not expandable here", Severity.NOT_CHECKED
            )
            return
        kind = type_code or (next(iter(allowed)) if len(allowed) == 1 else "")
        if isinstance(value, str):
            if value not in {code for _system, code in codes}:
                issue(element_id, f"code {value!r} not in required value set {vs_url}")
            return
        if not isinstance(value, dict):
            return
        if kind == "CodeableConcept" or "coding" in value or "text" in value:
            codings = value.get("coding", [])
            if not any((cd.get("system"), cd.get("code")) in codes for cd in codings):
                shown = ", ".join(f"{cd.get('system')}|{cd.get('code')}" for cd in codings)
                issue(
                    element_id, f"no coding in required value set {vs_url} ({shown or 'text only'})"
                )
        elif "code" in value and (value.get("system"), value.get("code")) not in codes:
            issue(
                element_id,
                f"{value.get('system')}|{value.get('code')} not in required value set {vs_url}",
            )

    def _check_reference(
        self,
        element_id: str,
        targets: list[str],
        value: dict[str, Any],
        ctx: _Context,
        issue: Any,
    ) -> None:
        reference = value.get("reference")
        if not isinstance(reference, str):
            return
        target = ctx.index.get(reference)
        if target is not None:
            actual = str(target.get("resourceType"))
        elif "/" in reference and not reference.startswith(("urn:", "http")):
            actual = reference.split("/")[-2]
        else:
            return
        allowed = {self.defs.type_of_profile(t) for t in targets}
        if None in allowed or "Resource" in allowed:
            return
        if actual not in allowed:
            issue(
                element_id,
                f"reference to {actual}; allowed: {', '.join(sorted(str(a) for a in allowed))}",
            )

    def _check_constraints(
        self, element: dict[str, Any], type_code: str, value: Any, ctx: _Context, issue: Any
    ) -> None:
        for constraint in element.get("constraint", []):
            key = constraint.get("key", "")
            expression = constraint.get("expression")
            if constraint.get("severity") != "error" or not expression or key in NATIVE_CONSTRAINTS:
                continue
            if not isinstance(value, dict):
                continue
            path = element["path"]
            base = _type_suffix(type_code) if path.endswith("[x]") and type_code else path
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # fhirpathpy traces to stdout
                    result = _compiled(base, expression)(
                        value,
                        {
                            "resource": ctx.resource,
                            "rootResource": ctx.resource,
                            "ucum": "http://unitsofmeasure.org",
                        },
                    )
            except Exception as exc:
                issue(
                    element["id"],
                    f"{key} not evaluable ({type(exc).__name__})",
                    Severity.NOT_CHECKED,
                )
                continue
            if result == [False]:
                issue(element["id"], f"{key}: {constraint.get('human', expression)}")

    # -- closed world, data types, extensions, contained resources -----------------------

    def _closed_world(
        self,
        element: dict[str, Any],
        values: list[tuple[str, Any]],
        names: set[str] | None,
        ctx: _Context,
        issue: Any,
        skip_resources: bool,
    ) -> None:
        types = [t["code"] for t in element.get("type", [])]
        for type_code, value in values:
            code = type_code or (types[0] if len(types) == 1 else "")
            if names:
                self._unknown_keys(value, names, element["id"], issue)
                self._extensions(value, ctx)
                continue
            if code == "Resource" and isinstance(value, dict):
                if not skip_resources:
                    ctx.issues.extend(self.check_resource(value, ctx.index))
                continue
            if code in _PRIMITIVE_JSON or (code[:1].islower() and code):
                self._primitive(element["id"], code, value, issue)
                continue
            datatype = self.defs.structure(CORE_SD + code) if code else None
            if datatype is not None and isinstance(value, dict):
                self._check(datatype, value, ctx, closed=True, skip_resources=True)
                if code == "Extension":
                    self._extension(value, ctx)
                else:
                    self._extensions(value, ctx)

    def _unknown_keys(
        self, node: Any, names: set[str], element_id: str, issue: Any, is_resource: bool = False
    ) -> None:
        if not isinstance(node, dict):
            return
        for key in node:
            if key.startswith("_") or key in names or (is_resource and key == "resourceType"):
                continue
            if any(
                n.endswith("[x]") and key.startswith(n[:-3]) and key[len(n) - 3 :][:1].isupper()
                for n in names
            ):
                continue
            issue(element_id, f"unknown element {key!r}")

    def _extensions(self, node: Any, ctx: _Context) -> None:
        if isinstance(node, dict):
            for ext in node.get("extension", []) + node.get("modifierExtension", []):
                if isinstance(ext, dict):
                    self._extension(ext, ctx)

    def _extension(self, ext: dict[str, Any], ctx: _Context) -> None:
        url = str(ext.get("url", ""))
        sd = self.defs.structure(url)
        if sd is None:
            if url.startswith(OWN_NAMESPACE):
                ctx.issues.append(
                    Issue(
                        Severity.ERROR,
                        ctx.label,
                        url,
                        "Extension",
                        "rhabdo extension without a StructureDefinition",
                    )
                )
            elif "://" in url:
                ctx.issues.append(
                    Issue(
                        Severity.NOT_CHECKED,
                        ctx.label,
                        url,
                        "Extension",
                        "extension definition not loaded",
                    )
                )
            return
        self._check(sd, ext, ctx, closed=False, skip_resources=True)

    def _primitive(self, element_id: str, code: str, value: Any, issue: Any) -> None:
        expected = _PRIMITIVE_JSON.get(code, (str,))
        if isinstance(value, bool) and bool not in expected:
            issue(element_id, f"{code} expected, found a boolean")
        elif not isinstance(value, expected):
            issue(element_id, f"{code} expected, found {type(value).__name__}")
        elif isinstance(value, str):
            pattern = self._regex(code)
            if pattern is not None and not pattern.fullmatch(value):
                issue(element_id, f"{value!r} is not a valid {code}")
        elif isinstance(value, int) and (
            (code == "positiveInt" and value < 1) or (code == "unsignedInt" and value < 0)
        ):
            issue(element_id, f"{value} is not a valid {code}")

    def _regex(self, code: str) -> re.Pattern[str] | None:
        sd = self.defs.structure(CORE_SD + code)
        if sd is None:
            return None
        for element in sd["snapshot"]["element"]:
            if element["path"] == f"{code}.value":
                for t in element.get("type", []):
                    for ext in t.get("extension", []):
                        if ext.get("url", "").endswith("/regex"):
                            return re.compile(ext["valueString"])
        return None


@functools.lru_cache(maxsize=4096)
def _compiled(base: str, expression: str) -> Callable[[Any, dict[str, Any]], list[Any]]:
    """A FHIRPath expression parsed once (parsing dominates the cost of a check), evaluated
    with ``base`` as the type context of the node (so choice elements resolve)."""
    from fhirpathpy import apply_parsed_path
    from fhirpathpy.engine.nodes import ResourceNode
    from fhirpathpy.models import models
    from fhirpathpy.parser import parse

    parsed = parse(expression)  # type: ignore[no-untyped-call]
    model = models["r4"]

    def run(node: Any, env: dict[str, Any]) -> list[Any]:
        typed = ResourceNode.create_node(node, base)  # type: ignore[no-untyped-call]
        result: list[Any] = apply_parsed_path(  # type: ignore[no-untyped-call]
            typed, parsed, env, model, None
        )
        return result

    return run


def _dedupe(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


def errors(issues: Iterable[Issue]) -> list[Issue]:
    """Only the issues that break conformance."""
    return [i for i in issues if i.severity is Severity.ERROR]
