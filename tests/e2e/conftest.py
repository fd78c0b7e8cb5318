"""Browser tests: a real ``streamlit run app.py`` driven by Debian's Chromium through Playwright.

Modelled on Streamlit's own e2e_playwright suite: the server is up when /_stcore/health says
"ok", and a run is over when the root ``stApp`` element reports ``data-test-script-state=
"notRunning"`` while connected (the ``wait_for_app`` fixture). Every test here gets the ``e2e``
marker; screenshots go to test-artifacts/screenshots (printed at the end of the run).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOT_DIR = REPO / "test-artifacts" / "screenshots"
SERVER_LOG_DIR = REPO / "test-artifacts" / "server-logs"  # logs of app servers that saw a failing test
HERE = Path(__file__).resolve().parent
_server_logs: list[tuple[str, str]] = []  # (url, log) of app servers that saw a failing test


def stop_process_group(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (started with ``start_new_session``), SIGKILL after 15 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _venv_cmd(name: str) -> list[str]:
    """The venv's console script, or this interpreter's module when there is no .venv."""
    exe = VENV_BIN / name
    if exe.exists():
        return [str(exe)]
    return [sys.executable] if name == "python" else [sys.executable, "-m", name]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.read().decode().strip() == "ok"
    except OSError:
        return False


# --- markers, reports, summary --------------------------------------------------------------

def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so fixtures can tell whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter):
    # Without xdist this process ran the tests. With it, a worker's summary is not shown: the logs
    # are also kept in test-artifacts/server-logs/ (see _serve), and tests/conftest.py lists them.
    for url, text in _server_logs:
        terminalreporter.write_sep("-", f"streamlit server log ({url})")
        terminalreporter.write_line(text.rstrip() or "(empty)")
    if SCREENSHOT_DIR.is_dir() and any(SCREENSHOT_DIR.iterdir()):
        terminalreporter.write_sep("-", "e2e screenshots")
        terminalreporter.write_line(f"Screenshots: {SCREENSHOT_DIR}")


# --- fixtures --------------------------------------------------------------------------------

def run_id(config) -> str:
    """One id for the whole test run: xdist's, shared by its workers, else this process's."""
    worker = getattr(config, "workerinput", None)
    return worker["testrunuid"] if worker else f"pid{os.getpid()}"


@pytest.fixture(scope="session")
def screenshot_dir(request) -> Path:
    """test-artifacts/screenshots, emptied once per run so what is there is from this run (once,
    whichever xdist worker comes first: a stamp names the run that emptied it, under a lock)."""
    SCREENSHOT_DIR.parent.mkdir(parents=True, exist_ok=True)
    run = run_id(request.config)
    with open(SCREENSHOT_DIR.parent / ".screenshots.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = SCREENSHOT_DIR / ".run"
        if not stamp.is_file() or stamp.read_text() != run:
            shutil.rmtree(SCREENSHOT_DIR, ignore_errors=True)
            SCREENSHOT_DIR.mkdir(parents=True)
            stamp.write_text(run)
    return SCREENSHOT_DIR


@pytest.fixture(scope="session")
def app_server(request):
    """Base URL of ``streamlit run app.py`` on a free port, over a demo-filled SQLite file."""
    tmp = Path(tempfile.mkdtemp(prefix="ita-e2e-"))
    # ITA_LINKCHECK_ALLOW_PRIVATE: the OIT link check visits the test's own server on 127.0.0.1
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'e2e.db'}", "PYTHONUNBUFFERED": "1",
           "ITA_LINKCHECK_ALLOW_PRIVATE": "1"}
    demo = subprocess.run([*_venv_cmd("python"), "-m", "ita_dashboard", "demo"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if demo.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail(f"`python -m ita_dashboard demo` exited {demo.returncode}:\n{demo.stderr}{demo.stdout}",
                    pytrace=False)

    yield from _serve(request, tmp, env)


@pytest.fixture(scope="session")
def hostile_server(request):
    """Like ``app_server``, over the demo with hostile names (tests/hostile_names.py: markdown and
    HTML links and images in an organisation, a department, a measure, an activity, OIT items and
    an unmatched survey department). Yields (url, admin username, viewer username)."""
    from sqlmodel import select

    from ita_dashboard import db
    from ita_dashboard.models import User
    from tests.hostile_names import make_hostile_db

    tmp = Path(tempfile.mkdtemp(prefix="ita-e2e-hostile-"))
    url, org_id = make_hostile_db(tmp / "e2e.db")
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        names = s.exec(select(User.username).where(User.organization_id == org_id)).all()
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    admin = next(n for n in names if n.endswith("_admin"))
    viewer = next(n for n in names if n.endswith("_viewer"))
    for base in _serve(request, tmp, env):
        yield base, admin, viewer


def _serve(request, tmp: Path, env: dict):
    """``streamlit run app.py`` over ``env``'s database until the session ends; yields its base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "streamlit.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [*_venv_cmd("streamlit"), "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],  # others edit files while tests run: no reruns
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )

    def server_log() -> str:
        log.flush()
        return log_path.read_text(errors="replace")

    def stop() -> None:
        stop_process_group(proc)
        log.close()

    deadline = time.monotonic() + 60
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            why = f"exited {proc.returncode}" if proc.poll() is not None else "no health 'ok' in 60 s"
            stop()
            text = log_path.read_text(errors="replace")
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.fail(f"streamlit did not start ({why}); its log:\n{text}", pytrace=False)
        time.sleep(0.3)

    failed_before = request.session.testsfailed
    try:
        yield url
    finally:
        text = server_log()
        stop()
        if request.session.testsfailed > failed_before:
            _server_logs.append((url, text))  # shown in the terminal summary
            SERVER_LOG_DIR.mkdir(parents=True, exist_ok=True)
            (SERVER_LOG_DIR / f"streamlit-{port}.log").write_text(text)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (scripts/test.sh does as root)",
                    pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request, screenshot_dir):
    """A fresh 1366x900 Thai-locale page; on failure its screenshot lands in screenshot_dir."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="th-TH",
                                  timezone_id="Asia/Bangkok")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.nodeid)
            try:
                pg.screenshot(path=str(screenshot_dir / f"FAILED-{name}.png"), full_page=True)
            except Exception as exc:  # noqa: BLE001 -- a broken page must not hide the failure
                print(f"could not save failure screenshot: {exc}")
        context.close()


# --- helpers for tests -------------------------------------------------------------------------

def _wait_for_app(page, timeout_ms: int = 30_000, settle_ms: int = 100) -> None:
    """Block until Streamlit has finished running the script and everything has rendered.

    Call after page.goto(app_server) and after every interaction that reruns the script.
    """
    from playwright.sync_api import expect

    page.wait_for_timeout(210)  # past Streamlit's ~200 ms widget debounce, so a rerun has begun
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=timeout_ms)
    # data-test-script-state goes initial -> running -> notRunning on every run.
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=timeout_ms)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)
    # Elements of the previous run are greyed out ("stale") until the new run replaces them.
    expect(page.locator("[data-testid='stElementContainer'][data-stale='true']")).to_have_count(
        0, timeout=timeout_ms)
    if settle_ms:
        page.wait_for_timeout(settle_ms)


@pytest.fixture
def wait_for_app():
    """The :func:`_wait_for_app` helper, as a fixture (conftest modules are not importable):

        def test_overview(page, app_server, wait_for_app):
            page.goto(app_server)
            wait_for_app(page)
    """
    return _wait_for_app
