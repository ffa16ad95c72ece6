"""The course's one data loader.

Every table in ``datasets/`` is described in ``datasets/datapackage.json`` (Frictionless): its schema
(field types and constraints), sources, licence and retrieval date. :func:`load` validates a table
against that schema before it returns a DataFrame, so a malformed row fails early with a message that
names the file, the row, the column and what was expected.

    import aie
    df = aie.data.load("amplify_survey")
    aie.data.resources()          # the names you can load
    aie.data.info("stackoverflow_ai")["licenses"]

The datasets folder is ``<repo>/datasets`` next to the ``aie`` package; set ``AIE_DATASETS`` to use
another folder (the tests use this to load a deliberately broken copy).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas and frictionless load on first use, so ``import aie`` stays cheap
    import pandas as pd

PACKAGE_FILE = "datapackage.json"
_CACHE: dict[tuple, "pd.DataFrame"] = {}


def datasets_dir() -> Path:
    """The folder that holds ``datapackage.json``: ``$AIE_DATASETS``, else ``<repo>/datasets``.

    If the package is installed away from a clone of the repository, the current folder and its
    parents are searched for ``datasets/datapackage.json`` as well.
    """
    env = os.environ.get("AIE_DATASETS")
    if env:
        path = Path(env).expanduser()
        if not (path / PACKAGE_FILE).is_file():
            raise FileNotFoundError(f"AIE_DATASETS={env!r}, but {path / PACKAGE_FILE} does not exist")
        return path
    import aie

    candidates = [Path(aie.__file__).resolve().parent.parent / "datasets"]
    here = Path.cwd().resolve()
    candidates += [p / "datasets" for p in (here, *here.parents)]
    for path in candidates:
        if (path / PACKAGE_FILE).is_file():
            return path
    raise FileNotFoundError(
        "no datasets/datapackage.json found next to the aie package or above the current folder; "
        "work in a clone of the course repository or set AIE_DATASETS to its datasets folder"
    )


def _descriptor() -> dict[str, Any]:
    return json.loads((datasets_dir() / PACKAGE_FILE).read_text(encoding="utf-8"))


def resources() -> list[str]:
    """Names of the tables described in ``datapackage.json``, in its order."""
    return [r["name"] for r in _descriptor()["resources"]]


def info(name: str) -> dict[str, Any]:
    """The ``datapackage.json`` entry of one table: title, description, sources, licences, schema."""
    for res in _descriptor()["resources"]:
        if res["name"] == name:
            return res
    raise KeyError(f"no table named {name!r} in {datasets_dir() / PACKAGE_FILE}; available: {', '.join(resources())}")


def load(name: str) -> "pd.DataFrame":
    """Validate the table ``name`` against its schema and return it as a DataFrame.

    Column dtypes follow the schema (integer -> ``Int64``, number -> ``float64``, boolean ->
    ``boolean``, date -> ``datetime64``, string -> ``str``); empty cells are missing values.
    Raises ``ValueError`` naming the file, row, column and what was expected when a row is malformed.
    """
    folder = datasets_dir()
    res = info(name)
    path = folder / res["path"]
    if not path.is_file():
        raise FileNotFoundError(f"{_show(path)}: listed for table {name!r} in {PACKAGE_FILE} but missing")
    key = (str(path), path.stat().st_mtime_ns, path.stat().st_size,
           (folder / PACKAGE_FILE).stat().st_mtime_ns)
    if key not in _CACHE:
        _validate(folder, name, path)
        _CACHE[key] = _read(path, res["schema"])
    return _CACHE[key].copy()


def _show(path: Path) -> str:
    """A short, stable way to name a file in messages (relative to the repo when possible)."""
    try:
        return str(path.resolve().relative_to(datasets_dir().resolve().parent))
    except ValueError:
        return str(path)


def _import_jsonschema() -> None:
    """Import jsonschema (frictionless needs it) without its optional ``rfc3987_syntax`` checker.

    When ``rfc3987_syntax`` is installed (Jupyter pulls it in), importing jsonschema compiles about 40
    grammars, seconds of CPU, to check IRI formats. Frictionless never asks jsonschema to check formats,
    so the import is blocked for that one moment and the module is importable again afterwards.
    """
    import sys

    if "jsonschema" in sys.modules:
        return
    block = "rfc3987_syntax" not in sys.modules
    if block:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes its import raise ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        if block:
            sys.modules.pop("rfc3987_syntax", None)


def _validate(folder: Path, name: str, path: Path) -> None:
    import warnings

    _import_jsonschema()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from frictionless import FrictionlessException, Package

        try:
            resource = Package(str(folder / PACKAGE_FILE)).get_resource(name)
        except FrictionlessException as e:  # the description itself is invalid
            raise ValueError(f"{_show(folder / PACKAGE_FILE)}: table {name!r}: {e.error.note}") from e
        report = resource.validate()
    if report.valid:
        return
    errors = [e for task in report.tasks for e in task.errors] + list(report.errors)
    fields = {f["name"]: f for f in info(name)["schema"]["fields"]}
    first = errors[0]
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this file)" if len(errors) > 1 else ""
    row = getattr(first, "row_number", None)
    column = getattr(first, "field_name", None)
    if row is None:
        raise ValueError(f"{_show(path)}: {first.type}: {first.note}{more}")
    if column is None:  # a whole-row problem, e.g. a duplicate primary key or a missing cell at the end
        raise ValueError(f"{_show(path)}: row {row} (the header is row 1): {first.type}: {first.note}{more}")
    cell = getattr(first, "cell", None)
    got = "an empty cell" if cell in (None, "") else repr(cell)
    expected = _expected(first, fields.get(column, {}))
    raise ValueError(
        f"{_show(path)}: row {row} (the header is row 1), column {column!r}: expected {expected}, got {got}{more}"
    )


def _expected(error: Any, field: dict[str, Any]) -> str:
    """What the schema wanted, in words."""
    ftype = field.get("type", "string")
    constraints = field.get("constraints", {})
    if error.type == "type-error":
        article = "an" if ftype[0] in "aeiou" else "a"
        fmt = " in YYYY-MM-DD form" if ftype == "date" else ""
        return f"{article} {ftype}{fmt}"
    m = re.search(r'constraint "(\w+)"', error.note or "")
    if error.type == "constraint-error" and m:
        c = m.group(1)
        value = constraints.get(c)
        if c == "required":
            return "a value (the column is required)"
        if c == "enum":
            return "one of " + ", ".join(repr(v) for v in value)
        if c == "minimum":
            return f"a value >= {value}"
        if c == "maximum":
            return f"a value <= {value}"
        if c == "pattern":
            return f"text matching {value!r}"
        if c == "unique":
            return "a value not used in an earlier row (unique)"
        return f"{c} {value!r}"
    return f"a valid value ({error.type}: {error.note})"


def _read(path: Path, schema: dict[str, Any]) -> "pd.DataFrame":
    import pandas as pd

    missing = schema.get("missingValues", [""])
    fields = schema["fields"]
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=missing, encoding="utf-8")
    for f in fields:
        col, ftype = f["name"], f.get("type", "string")
        if ftype == "integer":
            df[col] = pd.to_numeric(df[col]).astype("Int64")
        elif ftype == "number":
            df[col] = pd.to_numeric(df[col]).astype("float64")
        elif ftype == "boolean":
            truthy = set(f.get("trueValues", ["true", "True", "TRUE", "1"]))
            df[col] = df[col].map(lambda v: pd.NA if pd.isna(v) else v in truthy).astype("boolean")
        elif ftype == "date":
            df[col] = pd.to_datetime(df[col], format="%Y-%m-%d")
    return df
