"""The playground without a browser: messages, settings, sessions, export, and the server.

Every refused message must come back as one "error" line and change nothing; numeric
hyperparameters must change in the state without compiling anything; a NaN must leave a clear
"diverged at step N" state that reset clears; the server must keep tabs apart, refuse oversized
messages, close idle tabs and stop cleanly on Ctrl-C. The page itself is tested in a real
browser by tests/test_playground_browser.py.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra: pip install 'ganjax[playground]'")

from ganjax import config as config_lib  # noqa: E402
from ganjax import registry  # noqa: E402
from ganjax.errors import ConfigError  # noqa: E402
from ganjax.playground import export, settings  # noqa: E402
from ganjax.playground.data import check_points  # noqa: E402
from ganjax.playground.messages import MessageError, parse  # noqa: E402
from ganjax.playground.session import Setup, structure_key  # noqa: E402
from ganjax.playground.tab import Tab  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent


def tiny(**values):
    """The default setup with tiny networks (fast to compile) and `values` on top."""
    base = {"model.g_hidden": [8], "model.d_hidden": [8], "train.batch_size": 32}
    return settings.validate_setup(settings.apply_settings(settings.default_config(),
                                                           {**base, **values}))


def to_numpy(tree):
    return jax.tree.map(np.asarray, tree)


def replies(tab, message):
    text = message if isinstance(message, (str, bytes)) else json.dumps(message)
    return tab.handle(text)


def only_error(out):
    assert [m["type"] for m in out] == ["error"], out
    assert "Traceback" not in out[0]["message"]
    return out[0]["message"]


@pytest.fixture(scope="module")
def tab():
    """A tab in slow motion: every step runs the one compiled one-step chunk (single steps use
    it too), which keeps the compilations of these tests few."""
    t = Tab("test", Setup(tiny()))
    t.handle('{"type": "speed", "speed": "slow"}')
    yield t
    t.close()


# ------------------------------------------------------------------------------------- messages


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not valid JSON"),
    ('{"type": "set", "values": {"optim.g_lr": NaN}}', "NaN is not a JSON number"),
    ("[1, 2]", "must be a JSON object"),
    ('{"values": {}}', 'needs a "type"'),
    ('{"type": "launch"}', "unknown message type 'launch'; known: set, points"),
    ('{"type": "play", "now": true}', "unknown field(s) now"),
    ('{"type": "set"}', "missing field 'values'"),
    ('{"type": "set", "values": [1]}', "field 'values' must be an object, got a list"),
    ('{"type": "step", "player": 1}', "field 'player' must be a string"),
    ('{"type": "step", "player": "both_"}', "player='both_' must be one of both, g, d"),
    ('{"type": "compare", "on": 1}', "field 'on' must be true or false, got an integer"),
    ('{"type": "set", "values": {}, "panel": true}', "field 'panel' must be an integer"),
])
def test_malformed_messages_get_one_clear_line(text, expected):
    with pytest.raises(MessageError, match=re.escape(expected)):
        parse(text)


def test_oversized_messages_are_refused_before_parsing():
    with pytest.raises(MessageError, match="message of 2001 bytes refused: the limit is 2000"):
        parse('{"type": "ping", "pad": "' + "x" * 1974 + '"}', max_bytes=2000)
    assert parse('{"type": "ping"}').type == "ping"


# ------------------------------------------------------------------------------------- settings


@pytest.mark.parametrize("values, expected", [
    ({"optim.g_lr": -1.0}, "config.optim.g_lr=-1.0: must be in (0, 10] in the playground"),
    ({"optim.g_lr": 50}, "config.optim.g_lr=50: must be in (0, 10]"),
    ({"optim.g_lr": "abc"}, "config.optim.g_lr='abc': expected a number"),
    ({"optim.d_lr": True}, "config.optim.d_lr=True: expected a number"),
    ({"train.batch_size": 2.5}, "config.train.batch_size=2.5: expected an integer"),
    ({"optim.glr": 1e-3}, "config.optim.glr: not a playground setting; did you mean 'optim.g_lr'?"),
    ({"loss.name": "hingee"}, "config.loss.name='hingee': must be one of minimax, "
                              "non_saturating, least_squares, wasserstein, hinge"),
    ({"model.g_hidden": [8] * 6}, "must be a list of 0 to 5 layer widths"),
    ({"model.d_hidden": "3 x 8"}, "must be a list of 0 to 5 layer widths"),
    ({"model.noise_dim": 3}, "config.model.noise_dim=3: must be in [1, 2]"),
    ({"optim.ema_decay": 1.0}, "config.optim.ema_decay=1.0: must be in [0, 1)"),
])
def test_out_of_range_and_mistyped_settings(values, expected):
    with pytest.raises(ConfigError, match=re.escape(expected)):
        settings.apply_settings(settings.default_config(), values)


def test_whole_config_checks_are_ganjax_validation():
    with pytest.raises(ConfigError, match=r"config.data.num_modes=24: must be a square number"):
        tiny(**{"data.source": "grid", "data.num_modes": 24})
    with pytest.raises(ConfigError, match=r"config.model.d_group=3: must divide "
                                          r"train.batch_size=32"):
        tiny(**{"model.d_group": 3})
    with pytest.raises(ConfigError, match="gradient penalties need a per-sample D"):
        tiny(**{"model.d_group": 2, "penalty.name": "r1"})


def test_switching_data_source_takes_the_experiments_data_settings():
    config = tiny(**{"data.source": "grid"})
    grid25 = config_lib.load_config("grid25")
    assert (config.data.num_modes, config.data.spacing, config.data.std) == (
        grid25.data.num_modes, grid25.data.spacing, grid25.data.std)
    assert tiny(**{"data.source": "gaussian_1d"}).data.std == 1.5


def test_only_toy_mlp_experiments_import():
    assert settings.import_config("grid25:vanilla").data.source == "grid"
    with pytest.raises(ConfigError, match="the playground imports ring8, grid25, gaussian_1d"):
        settings.import_config("dcgan_digits")
    specs = [e["spec"] for e in settings.importable()]
    assert {"ring8", "ring8:vanilla", "grid25", "gaussian_1d", "gaussian_1d:moments"} <= set(specs)


def test_drawn_points_are_checked():
    assert check_points([[0, 1], [0.5, -2]]) == ((0.0, 1.0), (0.5, -2.0))
    for bad, expected in [([], "list of 1 to 1000"), ([[0, 3]], "points[0]=[0, 3]: must be"),
                          ([[0]], "points[0]=[0]"), ([[0, "a"]], "points[0]"),
                          ([[0, 0]] * 1001, "list of 1 to 1000")]:
        with pytest.raises(ConfigError, match=re.escape(expected)):
            check_points(bad)


# ------------------------------------------------------------------------------ tab and session


def test_refused_messages_change_nothing(tab):
    before = settings.values_of(tab.panels[0].config)
    session = tab.panels[0]
    for message, expected in [
        ("{oops", "not valid JSON"),
        ({"type": "fly"}, "unknown message type"),
        ({"type": "set", "values": {"optim.g_lr": -3}}, "config.optim.g_lr=-3"),
        ({"type": "set", "values": {"optim.g_lr": "fast"}}, "expected a number"),
        ({"type": "set", "values": {"optim.g_lr": 1e-3, "model.d_group": 3}}, "must divide"),
        ({"type": "set", "values": {"data.source": "drawn"}}, "draw some points"),
        ({"type": "set", "values": {"optim.g_lr": 1e-3}, "panel": 1}, "panel=1 does not exist"),
        ({"type": "points", "points": [[5, 5]]}, "points[0]=[5, 5]"),
        ({"type": "import", "experiment": "mnist_dcgan"}, "the playground imports"),
        ({"type": "export", "save": True}, "--export_dir"),  # this tab has no export folder
    ]:
        assert expected in only_error(replies(tab, message))
    assert tab.panels[0] is session
    assert settings.values_of(tab.panels[0].config) == before


_compiles = {"on": False, "count": 0}


def _count_compiles(event, duration, **kwargs):
    if _compiles["on"] and event == "/jax/core/compile/backend_compile_duration":
        _compiles["count"] += 1


jax.monitoring.register_event_duration_secs_listener(_count_compiles)


def test_numeric_hyperparameters_change_in_place_without_recompiling(tab):
    session = tab.panels[0]
    tab.playing = True
    tab.tick()
    out = replies(tab, {"type": "set", "values": {"optim.g_lr": 2e-3}})  # warm up eager ops
    assert "updated in place, no recompilation" in out[0]["notice"] and not out[0]["rebuilt"]
    tab.tick()
    compiled = session.compilations()
    runner_programs = dict(session.session._runner._compiled)  # noqa: SLF001
    _compiles.update(on=True, count=0)
    try:
        out = replies(tab, {"type": "set", "values": {"optim.g_lr": 3e-3, "optim.d_lr": 5e-4,
                                                      "penalty.weight": 2.0, "optim.b1": 0.4}})
        frame = tab.tick()
    finally:
        _compiles["on"] = False
    assert _compiles["count"] == 0, "a numeric change compiled something"
    assert tab.panels[0] is session and session.compilations() == compiled
    assert session.session._runner._compiled == runner_programs  # noqa: SLF001 (same objects)
    hparams = frame["panels"][0]["hparams"]
    assert hparams["optim.g_lr"] == pytest.approx(3e-3) and hparams["optim.b1"] == \
        pytest.approx(0.4)
    assert session.hparams["optim.d_lr"] == pytest.approx(5e-4)  # read from the state itself
    assert session.config.optim.g_lr == 3e-3
    tab.playing = False


def test_structural_changes_rebuild_and_say_so(tab):
    old = tab.panels[0]
    out = replies(tab, {"type": "set", "values": {"loss.name": "hinge"}})
    assert out[0]["rebuilt"] and "model rebuilt (loss.name changed)" in out[0]["notice"]
    assert "restarts at step 0" in out[0]["notice"]
    assert tab.panels[0] is not old
    frame = out[1]
    assert frame["panels"][0]["loss"] == "hinge" and frame["panels"][0]["step"] == 0
    assert frame["panels"][0]["d"]["kind"] == "score"  # a hinge critic is not a probability
    json.dumps(frame, allow_nan=False)
    # Switching the EMA or weight clipping on is structural (a new state field, a new clip op);
    # changing the decay or the clip once on is not; every non-numeric key is structural.
    session, config = tab.panels[0], tab.panels[0].config
    changed = lambda **v: settings.apply_settings(config, v)  # noqa: E731
    assert not session.can_update_in_place(changed(**{"optim.ema_decay": 0.9}))
    assert not session.can_update_in_place(changed(**{"optim.d_weight_clip": 0.1}))
    assert not session.can_update_in_place(changed(**{"train.d_steps": 2}))
    assert not session.can_update_in_place(changed(**{"loss.g_mmd_weight": 1.0}))
    assert not session.can_update_in_place(changed(**{"model.noise": "uniform"}))
    keys = session.hparam_keys  # SGD's momentum is compiled in once it is > 0
    assert structure_key(changed(**{"optim.name": "sgd"}), keys) != structure_key(
        changed(**{"optim.name": "sgd", "optim.momentum": 0.9}), keys)
    assert session.can_update_in_place(changed(**{"optim.b2": 0.99, "penalty.weight": 1.0}))
    ema = settings.apply_settings(config, {"optim.ema_decay": 0.9})
    assert structure_key(ema, keys) == structure_key(
        settings.apply_settings(ema, {"optim.ema_decay": 0.99}), keys)
    mmd = settings.apply_settings(config, {"loss.g_mmd_weight": 1.0})
    mmd_keys = keys | {"loss.g_mmd_weight"}  # a session built with the term reads it as a hparam
    assert structure_key(mmd, mmd_keys) == structure_key(
        settings.apply_settings(mmd, {"loss.g_mmd_weight": 3.0}), mmd_keys)
    assert structure_key(mmd, mmd_keys) != structure_key(
        settings.apply_settings(mmd, {"loss.g_mmd_weight": 0.0}), mmd_keys)


def test_single_steps_move_one_player_only(tab):
    session = tab.panels[0]
    params = lambda: jax.tree.map(np.asarray, session.session.state.params)  # noqa: E731
    before = params()
    replies(tab, {"type": "step", "player": "g"})
    after_g = params()
    jax.tree.map(np.testing.assert_array_equal, after_g["d"], before["d"])
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(after_g["g"]),
                                                        jax.tree.leaves(before["g"])))
    out = replies(tab, {"type": "step", "player": "d"})
    after_d = params()
    jax.tree.map(np.testing.assert_array_equal, after_d["g"], after_g["g"])
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(after_d["d"]),
                                                        jax.tree.leaves(after_g["d"])))
    assert out[-1]["panels"][0]["step"] == session.step == 2


def test_nan_gives_a_diverged_state_that_reset_clears(tab):
    session = tab.panels[0]
    state = session.session.state
    poisoned = jax.tree.map(lambda p: np.full(p.shape, np.nan, p.dtype), state.params["d"])
    session.session.set_state(state.replace(params={**state.params, "d": poisoned}))
    step = session.step
    tab.playing = True
    frame = tab.tick()
    panel = frame["panels"][0]
    assert panel["status"] == "diverged" and panel["diverged_at"] == step + 1
    assert f"training diverged at step {step + 1}" in panel["diverged"]
    assert not tab.playing  # every panel diverged: training stops
    json.dumps(frame, allow_nan=False)  # NaN never reaches the page's JSON
    assert tab.tick()["panels"][0]["step"] == session.step  # frozen while diverged
    out = replies(tab, {"type": "reset"})
    assert out[1]["panels"][0]["status"] == "ok" and out[1]["panels"][0]["step"] == 0
    tab.tick()
    assert session.step == 1 and not session.diverged


def test_compare_runs_two_sessions_in_lockstep(tab):
    replies(tab, {"type": "step"})
    step = tab.panels[0].step
    out = replies(tab, {"type": "compare", "on": True})
    assert len(tab.panels) == 2 and len(out[1]["panels"]) == 2
    a, b = tab.panels
    assert b.step == step and b.compilations() == a.compilations()  # programs shared
    jax.tree.map(np.testing.assert_array_equal, to_numpy(a.session.state.params),
                 to_numpy(b.session.state.params))
    g_lr = tab.panels[0].hparams["optim.g_lr"]
    out = replies(tab, {"type": "set", "panel": 1, "values": {"optim.g_lr": 4e-3}})
    assert "panel B: optim.g_lr=0.004 updated in place" in out[0]["notice"]
    assert [p["hparams"]["optim.g_lr"] for p in out[1]["panels"]] == [
        pytest.approx(g_lr), pytest.approx(0.004)]
    tab.playing = True
    frame = tab.tick()
    assert frame["panels"][0]["step"] == frame["panels"][1]["step"] == step + 1
    assert not np.array_equal(np.asarray(frame["panels"][0]["fake"]),
                              np.asarray(frame["panels"][1]["fake"]))  # B's larger G lr
    out = replies(tab, {"type": "set", "panel": 1, "values": {"loss.name": "least_squares"}})
    assert "and so does panel A" in out[0]["notice"]
    assert [p["step"] for p in out[1]["panels"]] == [0, 0]
    assert [p["loss"] for p in out[1]["panels"]] == ["hinge", "least_squares"]
    replies(tab, {"type": "compare", "on": False})
    assert len(tab.panels) == 1
    tab.playing = False


def test_drawn_points_become_the_data(tab):
    points = [[0.5, 0.5], [-0.5, 0.5], [0.0, -1.0]]
    out = replies(tab, {"type": "points", "points": points})
    assert out[0]["rebuilt"] and "3 drawn points are the data" in out[0]["notice"]
    session = tab.panels[0]
    np.testing.assert_array_equal(session.source.centers, points)
    panel = out[1]["panels"][0]
    assert panel["data_source"] == "drawn" and panel["data_points"] == 3
    real = np.asarray(panel["real"])
    nearest = np.min(np.linalg.norm(real[:, None] - np.asarray(points)[None], axis=-1), axis=1)
    assert nearest.max() < 6 * settings.DRAWN_STD
    assert panel["coverage"]["num_modes"] == 3
    # A numeric change keeps the points; another source leaves them for later.
    replies(tab, {"type": "set", "values": {"optim.d_lr": 2e-3}})
    assert tab.panels[0].setup.points == tuple(map(tuple, points))


# ------------------------------------------------------------------------------------- export


def test_export_round_trips_through_ganjax_train_config(tmp_path):
    from ganjax.cli.show_config import resolve

    config = tiny(**{"loss.name": "hinge", "optim.g_lr": 3e-3, "model.d_group": 2})
    setup = Setup(config)
    command = export.train_command(setup, cwd=str(REPO))
    assert command.startswith("ganjax train --config experiments/ring8.py:vanilla ")
    assert "--config.loss.name=hinge" in command and "--config.optim.g_lr=0.003" in command
    args = shlex.split(command)[2:]
    spec = args[1]
    overrides = dict(a[len("--config."):].split("=", 1) for a in args[2:])
    old = os.getcwd()
    os.chdir(REPO)
    try:
        assert resolve(spec, overrides).to_dict() == config.to_dict()
    finally:
        os.chdir(old)
    path = export.save(setup, str(tmp_path))
    assert export.save(setup, str(tmp_path)) != path  # never replaces a file
    assert config_lib.validate(config_lib.load_config(path)).to_dict() == config.to_dict()


def test_export_of_drawn_points_registers_their_source(tmp_path):
    config = tiny(**{"data.source": "drawn"})
    setup = Setup(config, points=((0.25, -0.5), (1.0, 1.0)))
    assert export.train_command(setup) == "ganjax train --config playground_drawn.py"
    path = export.save(setup, str(tmp_path))
    try:
        loaded = config_lib.validate(config_lib.load_config(path))
        assert loaded.to_dict() == config.to_dict()
        from ganjax.data import make_source

        np.testing.assert_array_equal(make_source(loaded.data).centers, setup.points)
    finally:
        registry.unregister("toy", "drawn")


# ------------------------------------------------------------------------------------- server


@pytest.fixture(scope="module")
def client():
    from starlette.testclient import TestClient

    from ganjax.playground import server

    options = server.Options(setup=lambda: Setup(tiny()), idle_timeout_s=600,
                             max_message_bytes=4000, max_tabs=3, export_dir=None)
    app = server.create_app(options)
    with TestClient(app) as c:
        yield c


def _open(ws):
    """The first messages of a tab: hello, setup, frame."""
    first = [ws.receive_json() for _ in range(3)]
    assert [m["type"] for m in first] == ["hello", "setup", "frame"]
    return first


def test_server_serves_the_page_and_its_files(client):
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="play"' in page.text
    assert "http" not in re.sub(r'href="/static/[^"]+"|src="/static/[^"]+"', "", page.text)
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/healthz").text == "ok"


def test_tabs_are_independent_and_survive_bad_messages(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        hello_a, hello_b = _open(a)[0], _open(b)[0]
        assert hello_a["tab"] != hello_b["tab"]
        assert "hinge" in hello_a["options"]["settings"]["loss.name"]["choices"]
        a.send_text("{broken")
        assert "not valid JSON" in a.receive_json()["message"]
        a.send_text(json.dumps({"type": "ping", "pad": "x" * 5000}))
        assert "refused: the limit is 4000 bytes" in a.receive_json()["message"]
        a.send_bytes(b"\xff\xfe")
        assert a.receive_json()["type"] == "error"
        a.send_json({"type": "set", "values": {"optim.g_lr": 0.005}})
        assert "updated in place" in a.receive_json()["notice"]
        a.receive_json()  # its frame
        a.send_json({"type": "ping"})
        assert a.receive_json() == {"type": "pong"}  # still alive
        tabs = {t["tab"]: t for t in client.get("/api/sessions").json()["tabs"]}
        assert tabs[hello_a["tab"]]["panels"][0]["hparams"]["optim.g_lr"] == pytest.approx(0.005)
        assert tabs[hello_b["tab"]]["panels"][0]["hparams"]["optim.g_lr"] == pytest.approx(0.001)
        b.send_json({"type": "speed", "speed": "slow"})  # the one-step chunk: compiled already
        assert b.receive_json()["speed"] == "slow"
        b.send_json({"type": "play"})
        assert b.receive_json()["type"] == "state"
        frames = [b.receive_json() for _ in range(2)]
        assert frames[1]["panels"][0]["step"] > frames[0]["panels"][0]["step"] > 0
        b.send_json({"type": "pause"})


def test_sockets_from_other_sites_are_refused(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/ws", headers={"origin": "http://elsewhere.example"}):
            pass
    assert closed.value.code == 4003


def test_idle_tabs_are_closed_and_one_dimensional_frames():
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from ganjax.playground import server

    options = server.Options(setup=lambda: Setup(tiny()), idle_timeout_s=1.0, export_dir=None)
    app = server.create_app(options)
    with TestClient(app) as c:
        with c.websocket_connect("/ws") as ws:
            _open(ws)
            playground = app.state.playground
            assert len(playground.connections) == 1
            # Messages keep a tab alive; an import (of the 1-D Gaussian here) is one.
            ws.send_json({"type": "import", "experiment": "gaussian_1d"})
            setup, frame = ws.receive_json(), ws.receive_json()
            assert setup["panels"][0]["base"] == "gaussian_1d" and setup["rebuilt"]
            panel = frame["panels"][0]
            assert panel["dim"] == 1 and panel["data_source"] == "gaussian_1d"
            assert len(panel["density"]["real"]) == len(panel["density"]["fake"]) == 100
            assert (panel["coverage"]["target_mean"], panel["coverage"]["target_std"]) == (4, 1.5)
            assert len(panel["mapping"]["z"]) == len(panel["mapping"]["x"])
            assert 0 <= panel["divergence"]["js"] <= 1
            closed = ws.receive_json()
            assert closed["type"] == "closed" and "without a message" in closed["reason"]
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_json()
            assert info.value.code == server.CLOSE_IDLE
        deadline = time.monotonic() + 10
        while playground.connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not playground.connections  # its sessions are gone


def test_loopback_detection():
    from ganjax.playground.server import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_ganjax_playground_serves_refuses_giant_frames_and_stops_on_ctrl_c(tmp_path):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    process = subprocess.Popen(
        [sys.executable, "-m", "ganjax.cli", "playground", "--port", "0",
         "--config.model.g_hidden=8", "--config.model.d_hidden=8", "--export_dir",
         str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not lines or "serving on" not in lines[-1]:
            lines.append(process.stdout.readline())
            assert lines[-1], "".join(lines)  # it exited
        match = re.search(r"serving on http://127\.0\.0\.1:(\d+)/", lines[-1])
        assert match, lines
        url = f"ws://127.0.0.1:{match[1]}/ws"
        with connect(url, max_size=None, open_timeout=60) as ws:
            kinds = [json.loads(ws.recv(timeout=120))["type"] for _ in range(3)]
            assert kinds == ["hello", "setup", "frame"]
            ws.send(json.dumps({"type": "export", "save": True}))
            saved = json.loads(ws.recv(timeout=30))["saved"]
            assert saved and pathlib.Path(saved).parent == tmp_path
            ws.send("x" * 70_000)  # over the limit: an error line
            assert "refused" in json.loads(ws.recv(timeout=30))["message"]
            with pytest.raises(ConnectionClosed) as closed:
                ws.send("x" * 300_000)  # over 4x the limit: uvicorn drops the connection
                ws.recv(timeout=30)
            assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
        with connect(url, open_timeout=60) as ws:
            json.loads(ws.recv(timeout=120))
            process.send_signal(signal.SIGINT)
            out, _ = process.communicate(timeout=30)
        assert process.returncode == 0, out
        assert "ganjax playground: stopped" in out and "Traceback" not in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
