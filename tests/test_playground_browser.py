"""The playground page in a real browser: headless Chromium driven by Playwright.

`ganjax playground` runs as a subprocess (the real command, on a free port); the test presses
Play and checks that the step counter and the plots advance, changes the loss and a learning
rate and checks that the server trains with them (what the server streams, and
/api/sessions), types a bad value and checks the page's error line, exports the setup and has
`ganjax config` (the CLI's validation) accept the file, draws points with the mouse and checks
that they became the data, and saves docs/images/playground.png, the README's screenshot.

Playwright cannot download its own browser here, so it drives the system's Chromium (Debian's
`chromium` package, which .ci/run installs); without it, or without playwright, the test skips.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = REPO / "docs" / "images" / "playground.png"

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install "
                                               "chromium; .ci/run installs it)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="playwright is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(importlib.util.find_spec("starlette") is None,
                       reason="the playground extra is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`ganjax playground --port 0` with 32x32 MLPs; yields (url, its output so far)."""
    exports = tmp_path_factory.mktemp("exports")
    process = subprocess.Popen(
        [sys.executable, "-m", "ganjax.cli", "playground", "--port", "0",
         "--config.model.g_hidden=32,32", "--config.model.d_hidden=32,32",
         "--export_dir", str(exports)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    url = None
    while url is None:
        line = process.stdout.readline()
        assert line, "the server exited:\n" + "".join(lines)
        lines.append(line)
        match = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line)
        url = match and match[1]
    drain = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    drain.start()
    try:
        yield url, lines
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drain.join(timeout=5)
    assert process.returncode == 0, "".join(lines)
    assert "Traceback" not in "".join(lines), "".join(lines)


def sessions(url: str) -> list[dict]:
    with urllib.request.urlopen(url + "api/sessions", timeout=60) as response:
        return json.load(response)["tabs"]


def wait_for(check, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def validate_with_cli(path: pathlib.Path) -> str:
    """`ganjax config <file>` (the CLI's load + validation); its output."""
    from ganjax.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["config", str(path)])
    assert code == 0, out.getvalue()
    return out.getvalue()


def test_playground_in_a_browser(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from ganjax import registry

    url, log = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 960},
                                    accept_downloads=True)
            page_errors: list[str] = []
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.goto(url)
            by = page.get_by_test_id
            state = lambda expression: page.evaluate(  # noqa: E731
                f"() => {{ const s = window.ganjaxPlayground; return {expression}; }}")
            step = lambda: int(by("step-count").inner_text())  # noqa: E731
            expect(by("server-loss")).to_have_text("non_saturating", timeout=120_000)
            assert by("loss").locator("option").all_inner_texts() == list(registry.names("loss"))
            assert by("error").is_hidden()

            # Play: the step counter, the panel and the charts advance.
            canvas = lambda: page.evaluate(  # noqa: E731
                "() => document.getElementById('canvas-0').toDataURL()")
            chart = lambda: page.evaluate(  # noqa: E731
                "() => document.getElementById('chart-loss').toDataURL()")
            first_canvas, first_chart = canvas(), chart()
            by("play").click()
            wait_for(lambda: step() >= 100, what="100 steps")
            middle_canvas, middle_chart, middle_step = canvas(), chart(), step()
            wait_for(lambda: step() >= middle_step + 50, what="50 more steps")
            assert canvas() != middle_canvas != first_canvas
            assert chart() != middle_chart != first_chart
            assert state("s.series[0].d_loss.filter((v) => v !== null).length") >= 10

            # Fast, for the screenshot of the README: the ring after some training.
            by("speed").select_option("fast")
            wait_for(lambda: step() >= 1200, timeout=180, what="1200 steps")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            by("pause").click()
            expect(by("status")).to_have_text("paused")
            time.sleep(0.5)  # a frame already under way may still arrive
            paused = step()
            time.sleep(0.6)
            assert step() == paused
            by("step-once").click()  # the one-step chunk compiles first
            expect(by("step-count")).to_have_text(str(paused + 1), timeout=120_000)

            # A structural change (the loss) rebuilds; a numeric one (a learning rate) does not.
            by("loss").select_option("hinge")
            expect(by("server-loss")).to_have_text("hinge", timeout=120_000)
            expect(by("notice")).to_contain_text("model rebuilt (loss.name changed)")
            compiled = state("s.latest.panels[0].compilations")
            by("g-lr").fill("0.003")
            by("g-lr").press("Tab")
            expect(by("server-g-lr")).to_have_text("0.003", timeout=60_000)
            expect(by("notice")).to_contain_text("optim.g_lr=0.003 updated in place, no "
                                                 "recompilation")
            by("play").click()
            wait_for(lambda: step() >= 20, what="training with the new loss")
            by("pause").click()
            panel = sessions(url)[0]["panels"][0]
            assert panel["loss"] == "hinge"
            assert panel["hparams"]["optim.g_lr"] == pytest.approx(0.003)
            assert panel["compilations"]["renderer"] == compiled["renderer"]

            # A bad value: one line in the error box, nothing changed, no traceback.
            by("d-lr").fill("-1")
            by("d-lr").press("Tab")
            expect(by("error")).to_be_visible(timeout=60_000)
            expect(by("error")).to_contain_text("config.optim.d_lr=-1: must be in (0, 10]")
            by("d-lr").fill("fast")
            by("d-lr").press("Tab")
            expect(by("error")).to_contain_text("config.optim.d_lr='fast': expected a number")
            assert "Traceback" not in by("error").inner_text()
            assert sessions(url)[0]["panels"][0]["hparams"]["optim.d_lr"] == pytest.approx(1e-3)

            # Export: the command, and a file that `ganjax config` accepts.
            by("export").click()
            command = by("export-command")
            expect(command).to_contain_text("ganjax train --config experiments/ring8.py:vanilla")
            for flag in ("--config.loss.name=hinge", "--config.optim.g_lr=0.003",
                         "--config.model.g_hidden=32,32"):
                assert flag in command.inner_text()
            with page.expect_download() as download:
                by("export-download").click()
            exported = tmp_path / download.value.suggested_filename
            download.value.save_as(exported)
            assert exported.name == "playground_ring8_vanilla.py"
            printed = validate_with_cli(exported)
            assert "loss.name = hinge" in printed and "optim.g_lr = 0.003" in printed
            from ganjax.cli.show_config import resolve

            args = shlex.split(command.inner_text())
            overrides = dict(a[len("--config."):].split("=", 1) for a in args[4:])
            with contextlib.chdir(REPO):
                from_command = resolve(args[3], overrides).to_dict()
            from ganjax import config as config_lib

            assert from_command == config_lib.load_config(str(exported)).to_dict()
            page.click("#export-close")

            # Draw your own: mouse drags on the panel become the data.
            by("dataset").select_option("drawn")
            # Earlier clicks low in the (now taller) control column can scroll the page; the
            # drag needs the canvas in view.
            page.evaluate("window.scrollTo(0, 0)")
            box = by("canvas").bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.3)
            page.mouse.down()
            for t in np.linspace(0, 1, 40):
                page.mouse.move(box["x"] + box["width"] * (0.25 + 0.5 * t),
                                box["y"] + box["height"] * (0.3 + 0.4 * t * t), steps=2)
            page.mouse.up()
            drawn = wait_for(lambda: [p for p in sessions(url)[0]["panels"]
                                      if p["data_source"] == "drawn"], what="drawn data")[0]
            points = np.asarray(state("s.drawPoints"))
            assert drawn["data_points"] == len(points) >= 40
            expect(by("data-info")).to_contain_text(f"{len(points)} drawn points")
            page.wait_for_function("() => window.ganjaxPlayground.latest.panels[0]"
                                   ".data_source === 'drawn'", timeout=120_000)
            real = np.asarray(state("s.latest.panels[0].real"))
            nearest = np.linalg.norm(real[:, None] - points[None], axis=-1).min(axis=1)
            assert nearest.max() < 0.2  # the real samples are the drawn points (std 0.03)
            by("step-once").click()
            expect(by("step-count")).to_have_text("1", timeout=120_000)

            by("export").click()
            expect(by("export-command")).to_have_text("ganjax train --config playground_drawn.py")
            with page.expect_download() as download:
                by("export-download").click()
            exported = tmp_path / download.value.suggested_filename
            download.value.save_as(exported)
            try:
                printed = validate_with_cli(exported)
                assert "data.source = drawn" in printed
                from ganjax.data import make_source

                loaded = config_lib.validate(config_lib.load_config(str(exported)))
                np.testing.assert_allclose(make_source(loaded.data).centers, points, atol=1e-4)
            finally:
                registry.unregister("toy", "drawn")
            assert not page_errors, page_errors
        finally:
            browser.close()
    assert "Traceback" not in "".join(log)
