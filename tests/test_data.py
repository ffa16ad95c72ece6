"""The data package (datasets/datapackage.json), its tables and the loader aie.data.load."""

from __future__ import annotations

import csv
import hashlib
import html
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import aie
from aie import data

REPO = Path(aie.__file__).resolve().parent.parent
DATASETS = REPO / "datasets"
RAW_SO = DATASETS / "raw" / "stackoverflow"

# sha256 of the Stack Overflow files as published (see datasets/raw/stackoverflow/README.md).
RAW_SHA256 = {
    "2023/ai.json": "b84ff8445e40830dad3172cc5b82b71411ac9c108f6af39820347d5222d42179",
    "2024/ai.json": "6edc842d8222b10862fc6f4f6b359ba6a9e72a76413d6c26ffc5037072be2235",
    "2025/ai.json": "fb2d797e08185eba13136835ba439e43d4ba3ed33a97c47ca93b5cf7434c01c8",
    "2026/ai.json": "c975689fc0d9f81a4c6cee7e7b8f945be946d65dfe7fba772a43470902088913",
    "2023/methodology.json": "2e3d87a9d5fdf2cd84baf573a0bbb4305392b479cd8e895994e5a757903bec22",
    "2024/methodology.json": "567a081d9f072e6fdf8b30f8c5c99101f1c76601f0c06522c45b1686e8fa0eb5",
    "2025/methodology.json": "657736d1e39a2aff13954a93c3f557c083370d9574b0fa78b537145dfd1111dd",
}


def descriptor() -> dict:
    return json.loads((DATASETS / "datapackage.json").read_text(encoding="utf-8"))


def resource_names() -> list[str]:
    return [r["name"] for r in descriptor()["resources"]]


def derive_module():
    spec = importlib.util.spec_from_file_location("derive_stackoverflow", DATASETS / "derive_stackoverflow.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _real_datasets(monkeypatch):
    """Every test starts from the repository's datasets, whatever the environment says."""
    monkeypatch.delenv("AIE_DATASETS", raising=False)


# -- the package --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", resource_names())
def test_every_resource_validates_and_loads(name):
    df = data.load(name)
    assert len(df) > 0
    assert list(df.columns) == [f["name"] for f in data.info(name)["schema"]["fields"]]


@pytest.mark.parametrize("name", resource_names())
def test_every_resource_has_schema_sources_licence_and_retrieval_date(name):
    res = data.info(name)
    fields = res["schema"]["fields"]
    assert fields and all(f.get("type") for f in fields), "every field needs a type"
    assert any(f.get("constraints") for f in fields), "a schema without constraints checks nothing"
    assert res.get("sources"), "no sources"
    for source in res["sources"]:
        assert source.get("title"), source
        assert source.get("retrieved", "").startswith("20"), f"{name}: source without a retrieval date: {source}"
    assert res.get("licenses") and all(lic.get("name") for lic in res["licenses"])


def test_frictionless_finds_the_whole_package_valid():
    from frictionless import validate

    report = validate(str(DATASETS / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:5]


def test_resources_lists_the_package_in_order():
    assert data.resources() == resource_names()
    assert {"amplify_survey", "aiewf_2025", "stackoverflow_ai"} <= set(data.resources())


# -- Amplify and World's Fair tables ------------------------------------------------------------


def test_every_amplify_row_has_a_source_and_a_url_listed_in_the_package():
    df = data.load("amplify_survey")
    assert df.source.notna().all()
    assert df.source_url.notna().all() and df.source_url.str.startswith("https://").all()
    listed = {s.get("path") for s in data.info("amplify_survey")["sources"]}
    assert set(df.source_url) <= listed, set(df.source_url) - listed


def test_amplify_values_are_plausible_and_bases_are_never_guessed():
    df = data.load("amplify_survey")
    pct = df[df.unit == "percent"]
    assert pct.value.between(0, 100).all()
    assert (df.loc[df.unit == "rank", "value"] >= 1).all()
    # A base is only ever filled in from a source, and none of the current sources publishes one.
    assert df.base.isna().all(), "a base was added: make sure the source publishes it, then update this test"
    # Bounds and approximations are never stored as exact figures.
    for row_id in ["2025-model-updates-monthly", "2025-works-well-agents", "2025-experience-10y-software-3y-ai"]:
        assert df.set_index("id").loc[row_id, "comparator"] != "="


def test_amplify_parts_add_up_where_the_source_says_they_do():
    v = data.load("amplify_survey").set_index("id").value
    assert v["2025-vector-db-self-hosted"] + v["2025-vector-db-third-party"] == v["2025-vector-db-dedicated"]
    assert v["2025-use-cases-2plus"] >= v["2025-use-cases-3plus"]


def test_aiewf_facts():
    df = data.load("aiewf_2025").set_index("id")
    assert df.loc["attendees", "value"] == 3098
    roles = df[df.category == "attendee role"].value
    assert roles.sum() <= 100
    assert (df.category == "track").sum() == 20
    assert df.loc[df.source_url.isna(), "source"].str.contains("seed 001").all(), "only the recap has no URL"


# -- Stack Overflow: raw files, derivation, consistency -----------------------------------------


def test_raw_stackoverflow_files_are_unchanged_and_attributed():
    for rel, digest in RAW_SHA256.items():
        assert hashlib.sha256((RAW_SO / rel).read_bytes()).hexdigest() == digest, rel
    note = (RAW_SO / "README.md").read_text(encoding="utf-8")
    assert "Stack Overflow Developer Survey" in note and "Stack Exchange Inc." in note
    assert "ODbL" in note and "DbCL" in note


def test_derived_table_is_a_fresh_derivation_of_the_raw_json():
    mod = derive_module()
    assert (DATASETS / "stackoverflow_ai.csv").read_text(encoding="utf-8") == mod.to_csv(mod.derive())


def _plain(text: str) -> str:
    return " ".join(html.unescape(text).split())


def _csv_rows() -> list[dict]:
    with open(DATASETS / "stackoverflow_ai.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_published_bar_and_2026_row_is_in_the_table():
    """Read the raw JSON directly (not through the script) and find each answer in the CSV."""
    rows = {(r["year"], r["source_key"], r["response"]): r for r in _csv_rows()}
    checked = 0
    for year in (2023, 2024, 2025):
        raw = json.loads((RAW_SO / str(year) / "ai.json").read_text(encoding="utf-8"))
        for key, q in raw.items():
            for dkey, ds in q["datasets"].items():
                if ds["plot_type"] != "bar":
                    continue
                for item in ds["data"]:
                    row = rows[(str(year), f"{key}/{dkey}", _plain(item["response"]))]
                    assert int(row["count"]) == item["frequency"]
                    assert float(row["percent"]) == round(100 * item["percent"], 2)
                    assert int(row["n"]) == ds["total_respondents"]
                    checked += 1
    raw = json.loads((RAW_SO / "2026" / "ai.json").read_text(encoding="utf-8"))
    for key, q in raw.items():
        if key == "AIWork_Current":
            continue
        for item in q["data"]:
            if item["series"] is not None:
                continue
            row = rows[("2026", f"{key}/slice{item['slice']}", _plain(item["response"]))]
            assert int(row["count"]) == item["count"]
            assert int(row["n"]) == q["meta"]["slices"][item["slice"]]["n"]
            assert row["preliminary"] == "true"
            checked += 1
    assert checked > 900


def test_percent_is_count_over_base():
    df = data.load("stackoverflow_ai")
    known = df[df.base.notna() & ~df.note.fillna("").str.contains("whole number")]
    assert len(known) > 1400
    error = (100 * known["count"] / known["base"] - known["percent"]).abs()
    assert (error <= 0.0051).all(), known[error > 0.0051].head()
    # spot checks against numbers anyone can recompute by hand
    row = df[(df.year == 2025) & (df.question_id == "AISelect") & (df.cohort == "All Respondents")
             & (df.response == "Yes, I use AI tools daily")].iloc[0]
    assert (row["count"], row["n"], row["percent"]) == (15850, 33662, round(100 * 15850 / 33662, 2))
    row = df[(df.year == 2024) & (df.question_id == "AIThreat") & (df.cohort == "All Respondents")
             & (df.response == "No")].iloc[0]
    assert (row["count"], row["n"], row["percent"]) == (24812, 36328, 68.3)


def test_stackoverflow_cleaning_decisions():
    df = data.load("stackoverflow_ai")
    y23 = df[df.year == 2023]
    assert "Highly trust" in set(y23[y23.question_id == "AIAcc"].response), "2023 key swap not fixed"
    assert "Increase productivity" in set(y23[y23.question_id == "AIBen"].response)
    assert df[df.year == 2026].preliminary.all() and not df[df.year < 2026].preliminary.any()
    assert "AIWork_Current" not in set(df.question_id)
    assert not df.question.str.contains("<|&quot;|&amp;", regex=True).any()
    assert not df.response.str.contains("&amp;").any()
    assert not df.duplicated(["year", "question_id", "cohort", "series", "response"]).any()
    # The lesson of notebook 4: the 2025 trust shares do not add up to 100%.
    acc = df[(df.year == 2025) & (df.question_id == "AIAcc") & (df.cohort == "All Respondents")]
    assert round(acc.percent.sum(), 2) == 78.48


# -- the loader ---------------------------------------------------------------------------------


def broken_copy(tmp_path: Path, table: str, line: int, column: str, value: str) -> Path:
    """A datasets folder in tmp_path holding one table whose ``line`` (1 = header) has ``column`` set to ``value``."""
    res = data.info(table)
    with open(DATASETS / res["path"], encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[line - 1][rows[0].index(column)] = value
    with open(tmp_path / res["path"], "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "broken", "resources": [res]}), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("table", "line", "column", "value", "expected"),
    [
        ("amplify_survey", 5, "value", "lots", "expected a number, got 'lots'"),
        ("amplify_survey", 7, "comparator", "~", "expected one of '>', '<', '=', '≈'"),
        ("amplify_survey", 3, "source_url", "", "the column is required"),
        ("aiewf_2025", 4, "date", "June 4", "date in YYYY-MM-DD form"),
        ("stackoverflow_ai", 12, "percent", "150", "expected a value <= 100"),
    ],
)
def test_a_malformed_row_names_file_row_column_and_expectation(tmp_path, monkeypatch, table, line, column, value, expected):
    folder = broken_copy(tmp_path, table, line, column, value)
    monkeypatch.setenv("AIE_DATASETS", str(folder))
    with pytest.raises(ValueError) as err:
        data.load(table)
    message = str(err.value)
    assert f"{table}.csv" in message
    assert f"row {line} " in message
    assert f"column {column!r}" in message
    assert expected in message


def test_a_table_that_breaks_after_loading_is_caught(tmp_path, monkeypatch):
    """The loader's cache must not hide a file that changed."""
    res = data.info("amplify_survey")
    shutil.copy(DATASETS / res["path"], tmp_path / res["path"])
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "copy", "resources": [res]}), encoding="utf-8")
    monkeypatch.setenv("AIE_DATASETS", str(tmp_path))
    assert len(data.load("amplify_survey")) > 0
    broken_copy(tmp_path, "amplify_survey", 2, "edition", "2031")
    with pytest.raises(ValueError, match=r"row 2 .*'edition'.*<= 2026"):
        data.load("amplify_survey")


def test_unknown_table_and_missing_folder(tmp_path, monkeypatch):
    with pytest.raises(KeyError, match="amplify_survey"):
        data.load("no_such_table")
    monkeypatch.setenv("AIE_DATASETS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="AIE_DATASETS"):
        data.load("amplify_survey")


def test_loaded_dtypes_follow_the_schema():
    so = data.load("stackoverflow_ai")
    assert str(so["count"].dtype) == "Int64" and so["percent"].dtype == "float64"
    assert str(so["preliminary"].dtype) == "boolean"
    assert so.series.isna().any(), "empty cells must be missing values, not empty strings"
    fair = data.load("aiewf_2025")
    assert str(fair["date"].dtype).startswith("datetime64")


def test_import_aie_stays_cheap():
    code = "import sys, aie, aie.data; print('frictionless' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_an_invalid_description_is_reported_as_such(tmp_path, monkeypatch):
    res = json.loads(json.dumps(data.info("amplify_survey")))
    res["schema"]["fields"][1]["type"] = "integr"
    shutil.copy(DATASETS / res["path"], tmp_path / res["path"])
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "bad", "resources": [res]}), encoding="utf-8")
    monkeypatch.setenv("AIE_DATASETS", str(tmp_path))
    with pytest.raises(ValueError, match=r"datapackage.json: table 'amplify_survey': .*integr"):
        data.load("amplify_survey")
