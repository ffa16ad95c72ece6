"""The cloud buttons work: Binder builds the repository the way repo2docker does, and Colab's hidden
first cell installs the course and moves into the notebook's own folder.

The install test creates a clean virtual environment, runs the install command of the Colab cell
(`pip install -q -r requirements.txt`, from a copy of the repository's files) and executes a short
notebook in it, as Binder's image would. It needs the package registry: it is skipped, with the
reason, when PyPI cannot be reached, or when AIE_SKIP_INSTALL_TEST=1 (for offline machines).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest

from aie.notebooks import REPO, find_notebooks

NOTEBOOKS = find_notebooks()
REPOSITORY = "https://github.com/ai-engineering-course/ai-engineering-course"
COLAB_CELL = '''\
# In Colab, fetch the course (notebooks, data, package) and work from this notebook's folder.
# Does nothing elsewhere.
import sys
if "google.colab" in sys.modules:
    !git clone -q --depth 1 {repository} /content/course
    %cd /content/course
    %pip install -q -r requirements.txt
    %cd /content/course/notebooks/{folder}'''
# What repo2docker would use instead of requirements.txt + runtime.txt if it found them.
OVERRIDING_BINDER_FILES = ["binder", ".binder", "environment.yml", "Pipfile", "Pipfile.lock", "setup.py", "Project.toml",
                           "install.R", "apt.txt", "postBuild", "Dockerfile"]
SHORT_NOTEBOOK = REPO / "notebooks" / "00-start" / "getting-started.ipynb"


def test_binder_reads_requirements_and_a_pinned_python():
    """repo2docker takes the Python version from runtime.txt and installs requirements.txt at the root."""
    assert (REPO / "runtime.txt").read_text() == "python-3.11\n"
    requires = re.search(r'requires-python\s*=\s*">=(\d+\.\d+)"', (REPO / "pyproject.toml").read_text()).group(1)
    assert requires == "3.11", "runtime.txt and pyproject.toml's requires-python disagree"
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    packages = [line for line in lines if line]
    unpinned = [p for p in packages if "==" not in p and p != "-e ."]
    assert not unpinned, f"requirements.txt: pin these exactly (name==version): {unpinned}"
    assert "-e ." in packages, "requirements.txt must install the course package from the repository (-e .)"
    names = {p.split("==")[0].lower() for p in packages}
    assert {"jupyterlab", "ipykernel"} <= names, "Binder opens JupyterLab (urlpath=lab): it must be installed"
    overriding = [name for name in OVERRIDING_BINDER_FILES if (REPO / name).exists()]
    assert not overriding, f"repo2docker would build from {overriding} instead of requirements.txt and runtime.txt"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_colab_cell_installs_the_course_and_opens_the_notebooks_folder(notebook):
    cell = nbformat.read(notebook, as_version=4).cells[1]
    folder = notebook.parent.relative_to(REPO / "notebooks").as_posix()
    assert cell.cell_type == "code", f"{notebook.name}: cell 2 must be the hidden Colab cell"
    assert "remove-cell" in cell.metadata.get("tags", []), f"{notebook.name}: the Colab cell must be tagged remove-cell"
    assert cell.source == COLAB_CELL.format(repository=REPOSITORY, folder=folder), (
        f"{notebook.name}: the Colab cell differs from the one CONTRIBUTING.md prescribes (folder {folder})")


def test_readme_launch_badges_point_at_files_that_exist():
    readme = (REPO / "README.md").read_text()
    colab = re.findall(r"colab\.research\.google\.com/github/ai-engineering-course/ai-engineering-course/blob/main/([^)\s]+)", readme)
    assert colab and all((REPO / path).is_file() for path in colab), colab
    assert "mybinder.org/v2/gh/ai-engineering-course/ai-engineering-course/main" in readme


# --- a clean install, as Colab's cell and Binder's image do it ------------------------------------------

def pypi_unreachable() -> str:
    """Why the install test cannot run here, or "" when it can."""
    if os.environ.get("AIE_SKIP_INSTALL_TEST") == "1":
        return "AIE_SKIP_INSTALL_TEST=1"
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/")
    try:
        urllib.request.urlopen(f"{index}/pip/", timeout=10).close()
    except OSError as e:
        return f"the package index {index} is unreachable ({e})"
    return ""


def repository_files(target: Path) -> Path:
    """The repository's files as a clone would have them (tracked and new files; nothing ignored)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        if (REPO / rel).is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, target / rel)
    return target


def test_a_clean_environment_installs_the_course_and_runs_a_notebook(tmp_path):
    reason = pypi_unreachable()
    if reason:
        pytest.skip(f"needs the package index: {reason}")
    course = repository_files(tmp_path / "course")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIE_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv), PIP_DISABLE_PIP_VERSION_CHECK="1")
    install = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=course,
                             env=env, capture_output=True, text=True, timeout=1200)
    assert install.returncode == 0, f"pip install -r requirements.txt failed:\n{install.stderr[-4000:]}"
    where = subprocess.run([str(bin_dir / "python"), "-c", "import aie; print(aie.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(course)), f"aie is not the copy's package: {where.stdout}{where.stderr}"
    folder = course / SHORT_NOTEBOOK.parent.relative_to(REPO)
    run = subprocess.run([str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output", "executed.ipynb",
                          SHORT_NOTEBOOK.name], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{SHORT_NOTEBOOK.name} failed in the clean environment:\n{run.stderr[-4000:]}"
    executed = nbformat.read(folder / "executed.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
              and "raises-exception" not in c.metadata.get("tags", [])]
    assert not errors, errors
