"""A prompt registry kept in the repository: each prompt is a folder of versioned YAML files.

Layout (``notebooks/02-prompting/prompts/`` is the course's example)::

    prompts/
      ticket_router/
        v1.yaml
        v2.yaml

Each file holds one version of one prompt::

    name: ticket_router
    version: 2
    created: 2026-11-22
    author: the course
    description: Route a support ticket to one team.
    changelog: What changed since the previous version, and why.
    model: chat                 # a role for aie.model(), never a model id
    params:                     # passed to chat.completions.create as they are
      temperature: 0
      max_tokens: 5
    messages:
      - role: system
        content: |
          You route support tickets ...
      - role: user
        content: "<ticket>{{ticket}}</ticket>"

Templates use ``{{name}}`` placeholders. :meth:`PromptTemplate.render` fills them strictly: a missing
value or an unknown name is an error, so a typo never sends a prompt with a hole in it. Values are
inserted as they are (no escaping): text from users stays data only if the prompt says so.

    from aie.prompts import Registry
    registry = Registry("prompts")
    router = registry.get("ticket_router")          # the latest version
    client.chat.completions.create(**router.request(ticket="I was charged twice"))
    print(registry.diff("ticket_router", 1, 2))
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ROLES = {"system", "developer", "user", "assistant"}
REQUIRED = ("name", "version", "model", "messages")
MODEL_ROLES = ("chat", "small")


class PromptError(ValueError):
    """A prompt file is malformed, or a template was filled with the wrong values."""


def placeholders(text: str) -> list[str]:
    """The ``{{name}}`` placeholders in ``text``, in order of first appearance."""
    seen: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def fill(template: str, values: dict[str, Any]) -> str:
    """Replace every ``{{name}}`` in ``template`` with ``values[name]``; missing names are an error."""
    missing = [n for n in placeholders(template) if n not in values]
    if missing:
        raise PromptError(f"no value for {', '.join(repr(m) for m in missing)} (the template needs {placeholders(template)})")
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


@dataclass(frozen=True)
class PromptTemplate:
    """One version of one prompt, as read from its YAML file."""

    name: str
    version: int
    model: str
    messages: tuple[dict[str, str], ...]
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    changelog: str = ""
    created: str = ""
    author: str = ""
    source: str = ""  # the file's text, for diffs
    path: Path | None = None

    def variables(self) -> list[str]:
        """The names this template needs, in order of first appearance."""
        names: list[str] = []
        for m in self.messages:
            for n in placeholders(m["content"]):
                if n not in names:
                    names.append(n)
        return names

    def render(self, **values: Any) -> list[dict[str, str]]:
        """The chat messages with every placeholder filled. Unknown or missing names raise PromptError."""
        unknown = sorted(set(values) - set(self.variables()))
        if unknown:
            raise PromptError(f"{self.name} v{self.version} has no variable {', '.join(repr(u) for u in unknown)}; "
                              f"its variables are {self.variables()}")
        return [{"role": m["role"], "content": fill(m["content"], values)} for m in self.messages]

    def request(self, **values: Any) -> dict[str, Any]:
        """Keyword arguments for ``client.chat.completions.create``: model (by role), messages, params."""
        from aie.config import model

        return {"model": model(self.model), "messages": self.render(**values), **self.params}


def parse(text: str, path: Path | None = None) -> PromptTemplate:
    """A :class:`PromptTemplate` from the text of a prompt file; PromptError says what is wrong."""
    import yaml

    where = str(path) if path else "prompt"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PromptError(f"{where}: not valid YAML ({e})") from None
    if not isinstance(data, dict):
        raise PromptError(f"{where}: expected a mapping with keys {', '.join(REQUIRED)}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise PromptError(f"{where}: missing {', '.join(missing)}")
    if not isinstance(data["version"], int) or data["version"] < 1:
        raise PromptError(f"{where}: version must be a whole number >= 1, got {data['version']!r}")
    if data["model"] not in MODEL_ROLES:
        raise PromptError(f"{where}: model must be a role ({' or '.join(MODEL_ROLES)}), not a model id like "
                          f"{data['model']!r}: ids live in aie/config.py so that retiring a model is one change")
    messages = data["messages"]
    if not isinstance(messages, list) or not messages:
        raise PromptError(f"{where}: messages must be a non-empty list of {{role, content}}")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise PromptError(f"{where}: messages[{i}] needs a role ({', '.join(sorted(ROLES))}) and a text content")
    params = data.get("params") or {}
    if not isinstance(params, dict) or {"model", "messages"} & set(params):
        raise PromptError(f"{where}: params must be a mapping of request parameters (not model or messages)")
    created = data.get("created", "")
    if isinstance(created, (_dt.date, _dt.datetime)):
        created = created.isoformat()
    return PromptTemplate(
        name=str(data["name"]), version=data["version"], model=data["model"],
        messages=tuple({"role": m["role"], "content": m["content"]} for m in messages), params=dict(params),
        description=str(data.get("description", "")).strip(), changelog=str(data.get("changelog", "")).strip(),
        created=str(created), author=str(data.get("author", "")), source=text, path=path,
    )


class Registry:
    """The prompts under one folder: ``<folder>/<name>/v<version>.yaml``."""

    def __init__(self, folder: str | Path = "prompts"):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder}: no such prompt folder")

    def names(self) -> list[str]:
        """The prompts in the registry."""
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir() and any(p.glob("v*.yaml")))

    def versions(self, name: str) -> list[int]:
        """The versions of one prompt, oldest first."""
        found = []
        for p in (self.folder / name).glob("v*.yaml"):
            m = re.fullmatch(r"v(\d+)\.yaml", p.name)
            if m:
                found.append(int(m.group(1)))
        if not found:
            raise KeyError(f"no prompt named {name!r} in {self.folder}; prompts: {', '.join(self.names())}")
        return sorted(found)

    def get(self, name: str, version: int | None = None) -> PromptTemplate:
        """One version of a prompt (the latest when ``version`` is None)."""
        versions = self.versions(name)
        v = versions[-1] if version is None else version
        if v not in versions:
            raise KeyError(f"{name} has no version {v}; versions: {versions}")
        path = self.folder / name / f"v{v}.yaml"
        prompt = parse(path.read_text(encoding="utf-8"), path)
        if prompt.name != name or prompt.version != v:
            raise PromptError(f"{path}: says name={prompt.name!r}, version={prompt.version}; the file's place says {name!r}, {v}")
        return prompt

    def diff(self, name: str, old: int, new: int) -> str:
        """A unified diff of two versions' files."""
        a, b = self.get(name, old), self.get(name, new)
        return "".join(difflib.unified_diff(a.source.splitlines(keepends=True), b.source.splitlines(keepends=True),
                                            fromfile=f"{name}/v{old}.yaml", tofile=f"{name}/v{new}.yaml"))
