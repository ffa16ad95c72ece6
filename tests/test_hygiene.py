"""Notebook hygiene and a secret scan, over whatever is in the tree when the tests run.

Per notebook (globbed at test time, so new notebooks are covered): valid nbformat JSON, a markdown first
cell, the python3 kernel, executed top to bottom (execution counts 1..n), no stored errors unless the
cell is tagged `raises-exception`, pinned `%pip install` lines, no secret in an output, listed in
`_toc.yml`, no dated phrases ("currently", ...) in markdown. Every `book/**/*.md` is in `_toc.yml`.
Across every tracked or untracked-but-not-ignored file: no API key, bearer token, AWS key, private key
or GitHub token; cassettes keep no `authorization` header.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from fnmatch import fnmatch
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
BOOK_PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "book").rglob("*.md")
                    if ".ipynb_checkpoints" not in p.parts)
RAISES = "raises-exception"


def load(rel: str) -> nbformat.NotebookNode:
    """The notebook, or a failure naming the file and what is wrong with its JSON."""
    try:
        return nbformat.read(ROOT / rel, as_version=4)
    except Exception as exc:  # JSON or nbformat errors
        problem = f"{rel}: not a readable notebook ({type(exc).__name__}: {str(exc)[:300]}); " \
                  "restore it from git or re-save it in Jupyter"
    fail([problem])


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])


def fail(problems: list[str]):
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- the table of contents ---------------------------------------------------------------------

def toc_entries() -> tuple[set[str], list[str]]:
    """(files without extension, glob patterns) listed in `_toc.yml`."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files, globs = set(), []

    def add(f: str):
        files.add(str(Path(f).with_suffix("")) if Path(f).suffix in (".md", ".ipynb") else f)

    add(toc["root"])

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                add(node["file"])
            if "glob" in node:
                globs.append(node["glob"])
            for value in node.values():
                if isinstance(value, list):
                    walk(value)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return files, globs


def in_toc(rel: str) -> bool:
    files, globs = toc_entries()
    stem = str(Path(rel).with_suffix(""))
    return stem in files or any(fnmatch(stem, g) or fnmatch(rel, g) for g in globs)


# --- per notebook ------------------------------------------------------------------------------

def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under notebooks/"


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_valid_notebook_json(rel):
    try:
        json.loads((ROOT / rel).read_text(encoding="utf-8"))
        nbformat.validate(nbformat.read(ROOT / rel, as_version=4))
        return
    except Exception as exc:
        problem = f"{rel}: invalid notebook ({type(exc).__name__}: {str(exc)[:500]}); " \
                  "restore it from git or re-save it in Jupyter"
    fail([problem])


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_first_cell_is_markdown(rel):
    nb = load(rel)
    if not nb.cells:
        fail([f"{rel}: the notebook has no cells"])
    first = nb.cells[0]
    if first.cell_type != "markdown":
        fail([f"{rel}: cell 0 is a {first.cell_type} cell; the first cell must be markdown with the title, "
              "'What you will learn', 'What you need' and the time (CONTRIBUTING.md)"])
    if not first.source.lstrip().startswith("# "):
        fail([f"{rel}: cell 0 must start with a '# Title' heading"])


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_kernel_is_python3(rel):
    name = load(rel).metadata.get("kernelspec", {}).get("name")
    if name != "python3":
        fail([f"{rel}: kernelspec name is {name!r}, expected 'python3'; "
              "set metadata.kernelspec to the python3 kernel and re-execute"])


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_executed_top_to_bottom(rel):
    nb = load(rel)
    problems, expected = [], 1
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        count = cell.get("execution_count")
        if count is None:
            problems.append(f"{rel}: cell {i} was never executed")
        elif count != expected:
            problems.append(f"{rel}: cell {i} has execution count {count}, expected {expected}")
        expected += 1
    if problems:
        problems.append(f"fix: run `make notebooks NB={rel}` (executes top to bottom and stores the outputs)")
    fail(problems)


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_no_error_outputs_unless_tagged(rel):
    nb = load(rel)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or RAISES in tags(cell):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{rel}: cell {i} stores an error ({out.get('ename')}: "
                                f"{str(out.get('evalue'))[:120]}); fix the cell and run `make notebooks "
                                f"NB={rel}`, or tag the cell `{RAISES}` if it is meant to raise")
    fail(problems)


PIP_LINE = re.compile(r"^\s*[%!].*?\bpip3?\s+install\b(?P<args>.*)$")
PIP_OPTS_WITH_VALUE = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
                       "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--trusted-host",
                       "--platform", "--python-version", "--implementation", "--abi", "--progress-bar",
                       "--cache-dir", "--src", "--upgrade-strategy", "--log", "--proxy", "--timeout"}
GIT_REF = re.compile(r"(^|\s@\s*)git\+\S+?://\S+/[^/@\s]+@[\w.\-/]+$")


def unpinned(args: str) -> list[str]:
    """The package specs in a `pip install` argument string that are not pinned."""
    try:
        tokens = shlex.split(args, comments=True)
    except ValueError:
        return [args.strip()]
    merged: list[str] = []  # `name @ url` written without quotes is three tokens
    for tok in tokens:
        if merged and (tok == "@" or merged[-1].endswith(" @")):
            merged[-1] = f"{merged[-1]} {tok}"
        else:
            merged.append(tok)
    bad, skip = [], False
    for tok in merged:
        if skip:
            skip = False
            continue
        if tok.startswith("-"):
            skip = tok in PIP_OPTS_WITH_VALUE  # `-r file`: the file pins; `-e`/paths fall through below
            continue
        if re.match(r"^[\w.\-\[\],]+==[\w.\-+!]+(;.*)?$", tok) or GIT_REF.search(tok):
            continue
        bad.append(tok)
    return bad


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_pip_installs_are_pinned(rel):
    nb = load(rel)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for line in cell.source.replace("\\\n", " ").splitlines():
            m = PIP_LINE.match(line)
            if m:
                for spec in unpinned(m.group("args")):
                    problems.append(f"{rel}: cell {i}: `{line.strip()}` installs {spec!r} unpinned; "
                                    "pin it (`name==1.2.3`, or `name @ git+https://...@<ref>`)")
    fail(problems)


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_no_secret_in_outputs(rel):
    nb = load(rel)
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            for kind, found in find_secrets(json.dumps(out)):
                problems.append(f"{rel}: cell {i} output holds what looks like {kind} ({mask(found)}); "
                                "clear it, revoke the key, and re-execute with the offline backend")
    fail(problems)


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_notebook_listed_in_toc(rel):
    if not in_toc(rel):
        fail([f"{rel} is not in _toc.yml, so the site leaves it out (only_build_toc_files): "
              f"add `- file: {Path(rel).with_suffix('').as_posix()}` to _toc.yml"])


@pytest.mark.parametrize("rel", BOOK_PAGES)
def test_book_page_listed_in_toc(rel):
    if not in_toc(rel):
        fail([f"{rel} is not in _toc.yml, so the site leaves it out (only_build_toc_files): "
              f"add `- file: {Path(rel).with_suffix('').as_posix()}` to _toc.yml"])


DATED = re.compile(r"\b(as of 20|currently|right now|this year|nowadays)", re.I)


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_no_dated_phrases(rel):
    nb = load(rel)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for lineno, line in enumerate(cell.source.splitlines(), 1):
            for m in DATED.finditer(line):
                problems.append(f"{rel}: markdown cell {i}, line {lineno}: {m.group(0)!r} in "
                                f"\"{line.strip()[:100]}\"; name the date and source instead "
                                "(\"in the 2025 survey\")")
    fail(problems)


# --- secret scan -------------------------------------------------------------------------------

KEY = r"[A-Za-z0-9_\-]"
SECRET_PATTERNS = [
    ("an OpenAI key", re.compile(rf"\bsk-(?:proj|svcacct|admin)-{KEY}{{20,}}|\bsk-{KEY}{{20,}}")),
    ("a bearer token", re.compile(r"authorization[\"']?\s*[:=]\s*[\"']?bearer\s+[A-Za-z0-9_\-.=+/~]{20,}", re.I)),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END|\Z)")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}")),
]


def find_secrets(text: str) -> list[tuple[str, str]]:
    """Everything key-shaped, fake or not: tests make their keys at run time (conftest.throwaway_key)."""
    return [(kind, m.group(0)) for kind, pattern in SECRET_PATTERNS for m in pattern.finditer(text)]


def mask(found: str) -> str:
    first = found.splitlines()[0]
    return first[:12] + "..." if len(first) > 12 else first


def repo_files() -> list[str]:
    done = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return sorted({f for f in done.stdout.split("\0") if f and (ROOT / f).is_file()})


def test_the_secret_scan_finds_keys_even_fake_ones():
    from conftest import throwaway_key

    key = throwaway_key()
    found = find_secrets(f'os.environ["OPENAI_API_KEY"] = "{key}"\nheaders = {{"Authorization": "Bearer {key[3:]}"}}')
    assert [kind for kind, _ in found] == ["an OpenAI key", "a bearer token"]
    assert find_secrets('os.environ.get("OPENAI_API_KEY")  # keys come from the environment') == []


def test_no_secrets_in_repository_files():
    files = repo_files()
    assert files, "git ls-files found no files"
    problems = []
    for rel in files:
        data = (ROOT / rel).read_bytes()
        text = data.decode("utf-8", errors="replace")
        for kind, found in find_secrets(text):
            line = text[: text.find(found)].count("\n") + 1
            problems.append(f"{rel}:{line}: looks like {kind} ({mask(found)}); remove it (and revoke it); "
                            "a test that needs a key makes one at run time with conftest.throwaway_key()")
    fail(problems)


AUTH_NAMES = ("authorization", "proxy-authorization")


def has_auth_header(node) -> bool:
    """An authorization header anywhere in a parsed JSON value: as a key, or as a `[name, value]` pair."""
    if isinstance(node, dict):
        return any(str(k).lower() in AUTH_NAMES or has_auth_header(v) for k, v in node.items())
    if isinstance(node, list):
        if len(node) == 2 and isinstance(node[0], str) and node[0].lower() in AUTH_NAMES:
            return True
        return any(has_auth_header(v) for v in node)
    return False


def test_cassettes_keep_no_authorization_header():
    problems = []
    for rel in (f for f in repo_files() if f.endswith(".cassette.jsonl")):
        for lineno, line in enumerate((ROOT / rel).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{rel}:{lineno}: not JSON ({exc}); re-record with `make record`")
                continue
            if has_auth_header(record):
                problems.append(f"{rel}:{lineno}: stores an authorization header; delete the cassette, revoke the "
                                "key, and re-record with `make record` (the recorder scrubs headers)")
    fail(problems)


def test_cassettes_are_compact_and_name_their_model():
    """A cassette: a model line, then a hash, a description and a response per request; never a request body."""
    from aie import cassette

    tapes = [ROOT / f for f in repo_files() if f.endswith(".cassette.jsonl")]
    problems, total = [], 0
    for tape in tapes:
        total += tape.stat().st_size
        lines = [json.loads(line) for line in tape.read_text(encoding="utf-8").splitlines() if line.strip()]
        rel = tape.relative_to(ROOT)
        if not lines or lines[0].get("cassette") != cassette.FORMAT or lines[0].get("model") not in cassette.SOURCES:
            problems.append(f"{rel}: the first line must name a known recorded model ({', '.join(cassette.SOURCES)}); "
                            "re-record it with `make record NB=<notebook>`")
        for n, rec in enumerate(lines[1:], 2):
            if set(rec) - {"key", "about", "status", "body", "stream"} or "request" in rec:
                problems.append(f"{rel}:{n}: unexpected fields {sorted(set(rec))}: a cassette keeps no request body")
        notebook = tape.with_name(tape.name.replace(".cassette.jsonl", ".ipynb"))
        if not notebook.exists():
            problems.append(f"{rel}: no notebook {notebook.name} beside it; delete the stray cassette")
    assert total < 10 * 2**20, f"cassettes total {total / 2**20:.1f} MiB; keep them well under 10 MB"
    fail(problems)
