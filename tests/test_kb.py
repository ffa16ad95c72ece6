"""Checks of the knowledge-base pages (book/kb): the glossary, {term} references, the table of
contents and internal links. They read the Markdown sources, so they run without building the book."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
KB = ROOT / "book" / "kb"
GLOSSARY = KB / "glossary.md"
TOC = ROOT / "_toc.yml"

HANGUL = re.compile(r"[\uac00-\ud7a3]")
TERM_ROLE = re.compile(r"\{term\}`([^`]+)`")
# [text](target) Markdown links; images too (the leading "!" does not matter here)
MD_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SKIP_DIRS = {".ipynb_checkpoints", "_build", ".venv"}


# --------------------------------------------------------------------------- parsers


def glossary_entries(text: str) -> dict[str, str]:
    """Term line -> definition, from the first ```{glossary} block of a MyST file."""
    match = re.search(r"^```\{glossary\}[^\n]*\n(.*?)^```\s*$", text, re.S | re.M)
    if match is None:
        raise AssertionError("no ```{glossary} block found")
    entries: dict[str, str] = {}
    current = None
    for line in match.group(1).splitlines():
        if not line.strip():
            continue
        if line.startswith(":") and current is None:  # directive options such as :sorted:
            continue
        if line[0].isspace():
            if current is None:
                raise AssertionError(f"definition line before any term: {line!r}")
            entries[current] += " " + line.strip()
        else:
            current = line.strip()
            if current in entries:
                raise AssertionError(f"duplicate term {current!r}")
            entries[current] = ""
    return entries


def korean_name(term: str) -> str | None:
    """The Korean name of a glossary term: the last parenthesised group, if it holds Hangul."""
    match = re.search(r"\(([^()]*)\)\s*$", term)
    if match and HANGUL.search(match.group(1)):
        return match.group(1)
    return None


def term_targets(text: str) -> list[str]:
    """Glossary terms referenced by {term} roles in a text (``{term}`x` `` or ``{term}`text <x>` ``)."""
    targets = []
    for raw in TERM_ROLE.findall(text):
        raw = " ".join(raw.split())
        explicit = re.match(r"^(.*?)\s*<(.+)>$", raw)
        targets.append(explicit.group(2).strip() if explicit else raw)
    return targets


def markdown_text(path: Path) -> str:
    """The Markdown of a page: the file itself, or the markdown cells of a notebook."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        return "\n\n".join(
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells
            if c.get("cell_type") == "markdown"
        )
    return path.read_text(encoding="utf-8")


def pages(*folders: Path) -> list[Path]:
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in {".md", ".ipynb"} and not SKIP_DIRS & set(path.parts):
                found.append(path)
    return found


def toc_files(node) -> set[str]:
    """Every `file:` (and the root) named anywhere in _toc.yml."""
    files: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"file", "root"} and isinstance(value, str):
                files.add(str(Path(value).with_suffix("")) if Path(value).suffix else value)
            else:
                files |= toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files |= toc_files(item)
    return files


def heading_slugs(text: str) -> set[str]:
    """GitHub-style slugs of the headings of a Markdown text (as myst_heading_anchors makes them)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # headings inside code do not count
    slugs = set()
    for title in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


# --------------------------------------------------------------------------- the parsers work


def test_parsers_catch_problems():
    bad = "```{glossary}\n:sorted:\n\nGood term (좋은 용어)\n  Defined.\n\nNo Korean\n  Defined.\n```\n"
    entries = glossary_entries(bad)
    assert list(entries) == ["Good term (좋은 용어)", "No Korean"]
    assert korean_name("Good term (좋은 용어)") == "좋은 용어"
    assert korean_name("No Korean") is None
    assert korean_name("Retrieval-augmented generation (RAG)") is None
    with pytest.raises(AssertionError):
        glossary_entries("```{glossary}\nA (가)\n  x\nA (가)\n  y\n```\n")
    text = "See {term}`RAG <Retrieval (검색)>` and {term}`Chunking\n(청킹)`."
    assert term_targets(text) == ["Retrieval (검색)", "Chunking (청킹)"]
    assert MD_LINK.findall("[a](stack.md) [b](https://x.org) [c](#sources)") == [
        "stack.md",
        "https://x.org",
        "#sources",
    ]
    assert "why-this-order" in heading_slugs("# Title\n\n## Why this order\n")


# --------------------------------------------------------------------------- the glossary


@pytest.fixture(scope="module")
def glossary() -> dict[str, str]:
    return glossary_entries(GLOSSARY.read_text(encoding="utf-8"))


def test_glossary_has_at_least_60_terms(glossary):
    assert len(glossary) >= 60, f"only {len(glossary)} glossary terms"


def test_every_term_has_a_korean_name_and_a_definition(glossary):
    no_korean = [t for t in glossary if korean_name(t) is None]
    assert not no_korean, f"terms without a Korean name in parentheses: {no_korean}"
    no_english = [t for t in glossary if not re.match(r"^[A-Za-z]", t)]
    assert not no_english, f"terms that do not start with the English term: {no_english}"
    short = [t for t, d in glossary.items() if len(d.split()) < 8]
    assert not short, f"terms with a missing or too short definition: {short}"


def test_terms_are_unique_ignoring_case(glossary):
    lowered = [t.lower() for t in glossary]
    assert len(lowered) == len(set(lowered))


def test_glossary_spans_the_six_steps_the_stack_the_survey_and_security(glossary):
    tags = " ".join(d.split(".")[0] for d in glossary.values())
    for tag in [f"Step {n}" for n in range(1, 7)] + ["Stack", "Survey", "Security"]:
        assert tag in tags, f"no glossary term tagged {tag!r}"


# --------------------------------------------------------------------------- {term} references


def test_every_term_reference_resolves(glossary):
    known = {" ".join(t.split()).lower() for t in glossary}
    dangling = []
    count = 0
    for path in pages(ROOT / "book", ROOT / "notebooks"):
        for target in term_targets(markdown_text(path)):
            count += 1
            if target.lower() not in known:
                dangling.append(f"{path.relative_to(ROOT)}: {target}")
    assert not dangling, "unresolved {term} references:\n" + "\n".join(dangling)
    assert count >= 5, "the knowledge-base pages should link glossary terms"


def test_every_kb_page_links_the_glossary():
    for path in pages(KB):
        if path != GLOSSARY:
            assert term_targets(markdown_text(path)), f"{path.name} has no {{term}} reference"


# --------------------------------------------------------------------------- toc and links


def test_every_kb_file_is_in_the_toc():
    listed = toc_files(yaml.safe_load(TOC.read_text(encoding="utf-8")))
    kb_pages = pages(KB)
    assert kb_pages, "book/kb is empty"
    missing = [
        str(p.relative_to(ROOT))
        for p in kb_pages
        if str(p.relative_to(ROOT).with_suffix("")) not in listed
    ]
    assert not missing, f"book/kb pages missing from _toc.yml: {missing}"


def test_internal_links_in_kb_resolve():
    broken = []
    for path in pages(KB):
        text = markdown_text(path)
        for target in MD_LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:, ...
                continue
            file_part, _, anchor = target.partition("#")
            target_path = (path.parent / file_part).resolve() if file_part else path
            if not target_path.exists():
                broken.append(f"{path.name}: {target} (no such file)")
                continue
            if anchor and target_path.suffix == ".md":
                if anchor not in heading_slugs(target_path.read_text(encoding="utf-8")):
                    broken.append(f"{path.name}: {target} (no such heading)")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_every_kb_page_ends_with_sources():
    for path in pages(KB):
        text = markdown_text(path)
        if path.name == "index.md":
            continue
        assert re.search(r"^## Sources\s*$", text, re.M), f"{path.name} has no Sources section"
        sources = text.split("## Sources", 1)[1]
        assert "seed" in sources.lower(), f"{path.name}: Sources does not name a seed document"
