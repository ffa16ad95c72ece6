"""The built site, as a reader's browser sees it: a headless-Chromium test of `_build/html`.

- every page in `_toc.yml` renders with a non-empty <title> and <h1> (the DOM after JavaScript);
- search (Sphinx's searchtools, run from file://) returns result links for known words;
- every notebook page has Binder and Colab launch buttons;
- no broken internal link (href/src to a missing file, or to a missing #anchor);
- no "Executing notebook failed" and no traceback in an output, except in cells tagged
  `raises-exception`.

`make test` builds the book first; run alone, this module builds it once if `_build/html` is missing
or older than a page's source.
Chromium is Debian's (`make test` installs it); without it the tests fail, they never skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PAGE_TIMEOUT = 30  # seconds for one page in Chromium
WORKERS = 2
SEARCH_WORDS = {"offline": "book/setup.html", "chunking": "book/kb/glossary.html"}


# --- the table of contents ---------------------------------------------------------------------

def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every `file:` in the table of contents (root first), without extension, in order."""
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            if "glob" in node:  # jb-book globs match sources without extension
                files.extend(sorted({str(p.relative_to(ROOT).with_suffix("")) for suffix in (".md", ".ipynb")
                                     for p in ROOT.glob(node["glob"] + suffix)}))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return [str(Path(f).with_suffix("")) if Path(f).suffix in (".md", ".ipynb") else f for f in files]


PAGES = toc_files()
NOTEBOOK_PAGES = [p for p in PAGES if p.startswith("notebooks/")]


def source_of(page: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        if (ROOT / (page + suffix)).exists():
            return ROOT / (page + suffix)
    return None


# --- build and browser -------------------------------------------------------------------------

def stale_pages() -> list[str]:
    """Toc pages whose HTML is missing or older than their source: the site needs a (re)build."""
    stale = []
    for page in PAGES:
        source, html = source_of(page), HTML / (page + ".html")
        if not html.exists() or (source and source.stat().st_mtime > html.stat().st_mtime):
            stale.append(page)
    return stale


@pytest.fixture(scope="module")
def site() -> Path:
    """`_build/html`, built once here if `make book` has not built it (or a page's source changed since)."""
    if not (HTML / "index.html").exists() or stale_pages():
        jb = Path(sys.executable).parent / "jupyter-book"
        cmd = [str(jb) if jb.exists() else "jupyter-book", "build", ".", "-W", "-n", "--keep-going"]
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AIE_BACKEND")}
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
        if done.returncode != 0 or not (HTML / "index.html").exists():
            pytest.fail(f"`{' '.join(cmd)}` failed (exit {done.returncode}); fix the book build first:\n"
                        f"{done.stdout[-6000:]}\n{done.stderr[-4000:]}", pytrace=False)
    return HTML


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} not found: the site test needs Debian's chromium. `make test` installs it "
                    "(or run `apt-get install -y chromium` as root).", pytrace=False)
    return CHROMIUM


class Browser:
    """One headless Chromium driven over `--remote-debugging-pipe` (the DevTools protocol on fds 3/4, no
    socket, stdlib only): starting Chromium once per worker, not once per page, keeps the test fast."""

    def __init__(self):
        self.profile = tempfile.TemporaryDirectory(prefix="aie-chromium-")
        to_chrome_r, self.to_chrome = map(_high_fd, os.pipe())
        self.from_chrome, from_chrome_w = map(_high_fd, os.pipe())
        # bash puts the pipe ends on fds 3 and 4, where Chromium expects them (dash cannot name fds > 9)
        launcher = f'exec "$@" 3<&{to_chrome_r} 4>&{from_chrome_w} {to_chrome_r}<&- {from_chrome_w}>&-'
        cmd = ["/bin/bash", "-c", launcher, "bash", str(CHROMIUM), *CHROMIUM_FLAGS,
               f"--user-data-dir={self.profile.name}", "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(cmd, pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer, self.next_id, self.events = b"", 0, []

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if ready:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium exited: {self.stderr()}")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             deadline: float | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = deadline or time.monotonic() + PAGE_TIMEOUT
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def _event(self, method: str, session: str, deadline: float) -> dict:
        for i, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            event = self._message(deadline)
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self.events.append(event)

    def _eval(self, expression: str, session: str, deadline: float):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session, deadline)
        return result["result"].get("value")

    def dom(self, url: str, until: str = "true") -> str:
        """The DOM of `url` once it has loaded and the JavaScript condition `until` holds (or time is up)."""
        deadline = time.monotonic() + PAGE_TIMEOUT
        target = self.send("Target.createTarget", {"url": "about:blank"}, deadline=deadline)["targetId"]
        try:
            session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                deadline=deadline)["sessionId"]
            self.send("Page.enable", session=session, deadline=deadline)
            nav = self.send("Page.navigate", {"url": url}, session, deadline)
            if nav.get("errorText"):
                raise RuntimeError(f"chromium could not open {url}: {nav['errorText']}")
            self._event("Page.loadEventFired", session, deadline)
            while not self._eval(f"!!({until})", session, deadline) and time.monotonic() < deadline - 1:
                time.sleep(0.05)
            html = self._eval("document.documentElement.outerHTML", session, deadline)
        finally:
            self.events = [e for e in self.events if e.get("params", {}).get("targetId") != target
                           and e.get("sessionId") is None]
            if self.proc.poll() is None:
                try:
                    self.send("Target.closeTarget", {"targetId": target}, deadline=time.monotonic() + 5)
                except Exception:
                    pass
        return html

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read().decode(errors="replace")[-2000:]

    def close(self):
        try:
            self.send("Browser.close", deadline=time.monotonic() + 5)
            self.proc.wait(5)
        except Exception:
            pass
        try:  # Chromium and the helpers it started: this run's process group only
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc.stderr.close()
        os.close(self.to_chrome)
        os.close(self.from_chrome)
        self.profile.cleanup()


def _high_fd(fd: int) -> int:
    """The same pipe end on a descriptor >= 10 (so moving it to 3/4 in the child cannot clobber another)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


SEARCH_DONE = ("(() => { const s = document.querySelector('#search-results .search-summary');"
               " return !!s && /finished|found|did not match/i.test(s.textContent); })()")


@pytest.fixture(scope="module")
def rendered(site, chromium) -> dict[str, str | Exception]:
    """DOM after JavaScript for every toc page (key: page) and each search (key: `search:<word>`),
    from two browsers working through the list side by side."""
    jobs = [(page, (site / (page + ".html")), "", "true") for page in PAGES]
    jobs += [(f"search:{word}", site / "search.html", f"?q={word}", SEARCH_DONE) for word in SEARCH_WORDS]

    def worker(share):
        results, browser = {}, None
        for key, path, query, until in share:
            if not path.exists():
                results[key] = AssertionError(f"{path.relative_to(ROOT)} was not built")
                continue
            try:
                browser = browser or Browser()
                results[key] = browser.dom(path.as_uri() + query, until)
            except Exception as exc:  # a hung or crashed page fails alone; the next gets a fresh browser
                results[key] = AssertionError(f"chromium on {path.relative_to(site)}{query}: {exc}")
                if browser:
                    browser.close()
                browser = None
        if browser:
            browser.close()
        return results

    with ThreadPoolExecutor(WORKERS) as pool:
        shares = pool.map(worker, [jobs[i::WORKERS] for i in range(WORKERS)])
        return {key: value for share in shares for key, value in share.items()}


# --- HTML parsing ------------------------------------------------------------------------------

class PageParser(HTMLParser):
    """Title, h1 texts, ids, links, and the cells (classes + output text) of a page."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title, self.h1s, self.ids, self.links = "", [], set(), []
        self.cells: list[dict] = []  # {"classes": [...], "output": str}
        self._stack: list[tuple[str, str | None]] = []  # (tag, role) role in {title,h1,cell,output}

    def _roles(self):
        return {role for _, role in self._stack if role}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag != "meta" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append((tag, key, attrs[key]))
        if tag in self.VOID:
            return
        classes = (attrs.get("class") or "").split()
        role = None
        if tag == "title":
            role = "title"
        elif tag == "h1":
            role = "h1"
            self.h1s.append("")
        elif tag == "div" and "cell" in classes:
            role = "cell"
            self.cells.append({"classes": classes, "input": "", "output": ""})
        elif tag == "div" and "cell_output" in classes:
            role = "output"
        elif tag == "div" and "cell_input" in classes:
            role = "input"
        self._stack.append((tag, role))

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):  # tolerate unclosed tags
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def handle_data(self, data):
        roles = self._roles()
        if "title" in roles:
            self.title += data
        if "h1" in roles and self.h1s:
            self.h1s[-1] += data
        for part in ("input", "output"):
            if part in roles and self.cells:
                self.cells[-1][part] += data


def parse(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return parser


# --- pages render ------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_title_and_h1(rendered, page):
    dom = rendered[page]
    if isinstance(dom, Exception):
        pytest.fail(f"{page}: {dom}", pytrace=False)
    parsed = parse(dom)
    source = source_of(page)
    source = source.relative_to(ROOT) if source else page
    if not parsed.title.strip():
        pytest.fail(f"{page}.html has an empty <title> after JavaScript ran: give {source} a '# Title' heading",
                    pytrace=False)
    if not any(h.replace("#", "").replace("¶", "").strip() for h in parsed.h1s):
        pytest.fail(f"{page}.html has no non-empty <h1> after JavaScript ran: start {source} with a '# Title' "
                    "heading", pytrace=False)


# --- search ------------------------------------------------------------------------------------

@pytest.mark.parametrize("word", sorted(SEARCH_WORDS))
def test_search_finds_known_word(site, rendered, word):
    dom = rendered[f"search:{word}"]
    if isinstance(dom, Exception):
        pytest.fail(f"search.html?q={word}: {dom}", pytrace=False)
    block = re.search(r'<ul class="search">(.*?)</ul>', dom, re.S)
    if not block:
        pytest.fail(f"search.html?q={word}: no result list after JavaScript ran (is searchindex.js built?)",
                    pytrace=False)
    hits = re.findall(r'<li[^>]*>\s*<a [^>]*href="([^"#?]+)', block.group(1))
    if not hits:
        pytest.fail(f"search.html?q={word}: the result list is empty (searchindex.js: rebuild with `make book`)",
                    pytrace=False)
    missing = [hit for hit in hits if not (site / hit).is_file()]
    if missing:
        pytest.fail(f"search.html?q={word}: results {missing} are not built pages", pytrace=False)
    if SEARCH_WORDS[word] not in hits:
        pytest.fail(f"search.html?q={word}: {SEARCH_WORDS[word]} missing from the results {hits}", pytrace=False)


# --- launch buttons ----------------------------------------------------------------------------

@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_notebook_page_has_launch_buttons(rendered, page):
    dom = rendered[page]
    if isinstance(dom, Exception):
        pytest.fail(f"{page}: {dom}", pytrace=False)
    hrefs = [value for tag, key, value in parse(dom).links if key == "href"]
    for host, setting in (("mybinder.org", "binderhub_url"), ("colab.research.google.com", "colab_url")):
        if not any(host in h for h in hrefs):
            pytest.fail(f"{page}.html has no {host} launch button: check launch_buttons.{setting} and "
                        "repository.url in _config.yml", pytrace=False)


def launch_links(html: str) -> tuple[list[str], list[str]]:
    """The Binder and Colab hrefs in a page's static HTML."""
    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]
    return [h for h in hrefs if "mybinder.org/v2/" in h], [h for h in hrefs if "colab.research.google.com/github/" in h]


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_launch_buttons_open_this_notebook(site, page):
    """A page's Binder and Colab buttons open that page's own notebook, on the configured repository and branch."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    org_repo = config["repository"]["url"].rstrip("/").split("github.com/")[1]
    branch = config["repository"].get("branch", "main")
    binder, colab = launch_links((site / (page + ".html")).read_text(encoding="utf-8"))
    assert binder == [f"https://mybinder.org/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/{page}.ipynb"], binder
    assert colab == [f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/{page}.ipynb"], colab


# --- links -------------------------------------------------------------------------------------

SKIP_SCHEMES = ("http:", "https:", "mailto:", "javascript:", "data:", "tel:", "ftp:")


def html_files(site: Path) -> list[Path]:
    """The site's pages. `_static/*.html` are the theme's Jinja macro files (copied, never served as pages,
    full of `{{ pathto(...) }}`), so they are not pages; links *into* `_static` are still checked."""
    return sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "_static")


def test_no_broken_internal_links(site):
    site = site.resolve()
    parsed: dict[Path, PageParser] = {}

    def page(path: Path) -> PageParser:
        if path not in parsed:
            parsed[path] = parse(path.read_text(encoding="utf-8", errors="replace"))
        return parsed[path]

    broken = []
    files = html_files(site)
    assert files, f"no HTML files in {site}"
    for path in files:
        for tag, attr, link in page(path).links:
            link = link.strip()
            if not link or link == "#" or link.lower().startswith(SKIP_SCHEMES) or link.startswith("//"):
                continue
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(site)}: <{tag} {attr}=\"{link}\">"
            if not target.is_relative_to(site):
                broken.append(f"{where}: points outside the built site (link to a page in _toc.yml or a URL)")
                continue
            if not target.is_file():
                broken.append(f"{where}: {unquote(parts.path)} does not exist")
                continue
            if parts.fragment and target.suffix == ".html":
                anchor = unquote(parts.fragment)
                if anchor not in page(target).ids:
                    broken.append(f"{where}: no id {anchor!r} in {target.relative_to(site)}")
    if broken:
        pytest.fail(f"{len(broken)} broken internal link(s); fix the link in the page's source (or the heading "
                    "it points to):\n" + "\n".join(broken[:60]), pytrace=False)


# --- no failed execution or traceback ----------------------------------------------------------

TRACEBACK = re.compile(r"Traceback \(most recent call last\)")


def test_no_failed_execution_or_traceback(site):
    problems = []
    for path in html_files(site):
        rel = path.relative_to(site)
        text = path.read_text(encoding="utf-8", errors="replace")
        if "Executing notebook failed" in text:
            problems.append(f"{rel}: contains 'Executing notebook failed'; run `make notebooks NB=<notebook>` "
                            "and fix the failing cell")
        for cell in parse(text).cells:
            if TRACEBACK.search(cell["output"]) and "tag_raises-exception" not in cell["classes"]:
                code = next((ln.strip() for ln in cell["input"].splitlines() if ln.strip()), "")
                problems.append(f"{rel}: the output of the cell starting `{code[:80]}` shows a traceback; fix the "
                                "cell and re-execute, or tag it `raises-exception` if it is meant to raise")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
