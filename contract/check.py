"""Static checks of openapi.yaml and of the clients generated from it.

    check.py document DOC
        every `default` and `example` obeys the schema it stands in, and YAML 1.1 parsers
        read the document exactly as YAML 1.2 parsers do (`no` stays a string);
    check.py redocly REPORT.json
        `redocly lint --format=json` found no error and no warning;
    check.py coverage DOC PYTHON_PACKAGE TS_TYPES TS_CHECK
        every operation of the document is in the generated Python client (one module per
        operation) and in the generated TypeScript `paths`; writes TS_CHECK, a TypeScript file
        that `tsc --noEmit` accepts only if each operation has a type.
"""

import json
import re
import sys
from pathlib import Path

import jsonschema
import referencing
import referencing.jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def fail(message: str) -> None:
    print(f"contract: {message}", file=sys.stderr)
    sys.exit(1)


def load(path: str):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def operations(doc) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in doc["paths"].items()
        for method in METHODS
        if method in item
    }


# --- the document itself ---------------------------------------------------------------


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML with the YAML 1.2 core schema's implicit types instead of YAML 1.1's."""


Yaml12Loader.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
]:
    Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern), list(first))


def schema_nodes(doc):
    """Yields every Schema Object in the document, with where it is."""

    def walk_schema(schema, where):
        if not isinstance(schema, dict):
            return
        yield schema, where
        for key in ("items", "not", "additionalProperties", "propertyNames", "contains"):
            yield from walk_schema(schema.get(key), f"{where}/{key}")
        for key in ("oneOf", "anyOf", "allOf", "prefixItems"):
            for i, branch in enumerate(schema.get(key) or []):
                yield from walk_schema(branch, f"{where}/{key}/{i}")
        for name, prop in (schema.get("properties") or {}).items():
            yield from walk_schema(prop, f"{where}/properties/{name}")

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schema":
                    yield from walk_schema(value, f"{where}/schema")
                else:
                    yield from walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{where}/{i}")

    for name, schema in (doc.get("components", {}).get("schemas") or {}).items():
        yield from walk_schema(schema, f"#/components/schemas/{name}")
    yield from walk(doc.get("paths", {}), "#/paths")


def check_document(path: str) -> None:
    text = Path(path).read_text(encoding="utf-8")
    as_1_1 = yaml.safe_load(text)
    as_1_2 = yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 (a safe loader)
    if as_1_1 != as_1_2:
        fail(f"{path} reads differently in YAML 1.1 and YAML 1.2 (quote the ambiguous scalars)")

    doc = as_1_1
    resource = referencing.Resource.from_contents(
        doc, default_specification=referencing.jsonschema.DRAFT202012
    )
    registry = referencing.Registry().with_resource("urn:openapi", resource)
    checked = 0
    problems = []
    for schema, where in schema_nodes(doc):
        samples = []
        if "default" in schema:
            samples.append(("default", schema["default"]))
        if "example" in schema:
            samples.append(("example", schema["example"]))
        for i, example in enumerate(schema.get("examples") or []):
            samples.append((f"examples/{i}", example))
        if not samples:
            continue
        bare = {k: v for k, v in schema.items() if k not in ("default", "example", "examples")}
        bare = json.loads(json.dumps(bare).replace('"#/components/', '"urn:openapi#/components/'))
        validator = jsonschema.Draft202012Validator(
            bare, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        for what, value in samples:
            checked += 1
            for error in validator.iter_errors(value):
                problems.append(f"{where}/{what} = {value!r}: {error.message}")
    if problems:
        fail("values that break their own schema:\n  " + "\n  ".join(problems))
    print(f"contract: {path}: same in YAML 1.1 and 1.2; {checked} defaults and examples obey their schemas")


# --- redocly ---------------------------------------------------------------------------


def check_redocly(report_path: str) -> None:
    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    totals = report.get("totals", {})
    for problem in report.get("problems", []):
        where = ", ".join(loc.get("pointer", "") for loc in problem.get("location", []))
        print(f"  {problem.get('severity')}: {problem.get('ruleId')}: {problem.get('message')} ({where})")
    errors, warnings = totals.get("errors", -1), totals.get("warnings", -1)
    if errors != 0 or warnings != 0:
        fail(f"redocly lint: {errors} errors and {warnings} warnings (expected none)")
    print("contract: redocly lint (recommended): 0 errors, 0 warnings")


# --- the generated clients -------------------------------------------------------------


def template(path: str) -> str:
    """`/a/{id}/b` and `/a/{other}/b` are the same operation path."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def python_operations(package: Path) -> dict[tuple[str, str], str]:
    found = {}
    for module in sorted((package / "api").glob("*/*.py")):
        source = module.read_text(encoding="utf-8")
        method = re.search(r'"method":\s*"(\w+)"', source)
        url = re.search(r'"url":\s*f?"([^"]+)"', source)
        if method and url:
            found[(method.group(1).lower(), template(url.group(1)))] = str(module.relative_to(package))
    return found


def typescript_operations(types: Path) -> set[tuple[str, str]]:
    """The operations of `export interface paths` (a method typed `never` is absent)."""
    text = types.read_text(encoding="utf-8")
    block = re.search(r"^export interface paths \{\n(.*?)^\}", text, re.S | re.M)
    if not block:
        fail(f"{types} has no `paths` interface")
    found = set()
    path = None
    for line in block.group(1).splitlines():
        key = re.match(r'^    "([^"]+)": \{$', line)
        if key:
            path = key.group(1)
            continue
        op = re.match(r"^        (\w+)\??: (.+);$", line)
        if op and path and op.group(1) in METHODS and op.group(2) != "never":
            found.add((op.group(1), template(path)))
    return found


def enum_values(module_name: str) -> list:
    """The values of the enum (or `Literal`) a generated model module defines."""
    import enum
    import importlib
    import typing

    module = importlib.import_module(module_name)
    for value in vars(module).values():
        defined_here = getattr(value, "__module__", None) == module.__name__
        if isinstance(value, type) and issubclass(value, enum.Enum) and defined_here:
            return [member.value for member in value]
        if typing.get_origin(value) is typing.Literal:
            return list(typing.get_args(value))
    fail(f"{module_name} defines no enum")
    return []


def check_coverage(doc_path: str, package: str, types: str, ts_check: str) -> None:
    doc = load(doc_path)
    wanted = {(m, template(p)): (m, p) for m, p in operations(doc)}
    in_python = python_operations(Path(package))
    in_ts = typescript_operations(Path(types))
    missing_py = sorted(f"{m.upper()} {p}" for k, (m, p) in wanted.items() if k not in in_python)
    missing_ts = sorted(f"{m.upper()} {p}" for k, (m, p) in wanted.items() if k not in in_ts)
    extra_py = sorted(f"{m.upper()} {p}" for (m, p) in in_python if (m, p) not in wanted)
    if missing_py or missing_ts or extra_py:
        fail(
            "generated clients do not match the document:\n"
            f"  missing from the Python client: {missing_py}\n"
            f"  missing from the TypeScript types: {missing_ts}\n"
            f"  in the Python client but not the document: {extra_py}"
        )

    # Enums keep every value: a generator that merges members (`GMT0`) would lose some, and
    # one that read `no` as false would lose Norwegian.
    lists = {"timezone": "Australia/Sydney", "language": "en"}
    enums = [s["enum"] for s, _ in schema_nodes(doc) if "enum" in s]
    sys.path.insert(0, str(Path(package).parent))
    checked = 0
    for module in sorted(Path(package, "models").glob("*.py")):
        kind = next((k for k in lists if re.search(rf"_{k}s?(_item)?\.py$", module.name)), None)
        if kind is None:
            continue
        wanted_values = next(e for e in enums if lists[kind] in e)
        values = enum_values(f"{Path(package).name}.models.{module.stem}")
        if sorted(values, key=str) != sorted(wanted_values, key=str):
            fail(f"{module.name} has {len(values)} values for the document's {len(wanted_values)}")
        checked += 1
    if checked == 0:
        fail(f"no time zone or language enum found in {package}/models")

    lines = [
        "// Written by contract/check.py: compiles only if every operation of openapi.yaml",
        "// has a type in the generated `paths`.",
        'import type { paths } from "./schema";',
        "type Present<T> = [NonNullable<T>] extends [never] ? false : true;",
    ]
    for i, (method, path) in enumerate(sorted(wanted.values(), key=lambda mp: (mp[1], mp[0]))):
        lines.append(f'export const op{i}: Present<paths["{path}"]["{method}"]> = true;')
    Path(ts_check).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"contract: all {len(wanted)} operations are in the Python client "
        f"({len(in_python)} modules) and the TypeScript types; "
        f"{checked} generated time zone and language enums are complete"
    )


if __name__ == "__main__":
    command, *args = sys.argv[1:] or [""]
    if command == "document" and len(args) == 1:
        check_document(*args)
    elif command == "redocly" and len(args) == 1:
        check_redocly(*args)
    elif command == "coverage" and len(args) == 4:
        check_coverage(*args)
    else:
        fail(__doc__)
