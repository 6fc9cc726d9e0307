"""One browser tab: its panels (two in Compare), whether it plays, and its messages.

A Tab knows nothing of sockets: `handle(text)` applies one message and returns the messages to
send back; `tick()` advances every panel by one frame's steps (in lockstep) and returns the
frame. The server calls both from a worker thread, one at a time per tab.

Outgoing messages: "hello" (the options the page builds its controls from), "setup" (each
panel's settings, the experiment an export starts from, and a notice saying what the last
change did: updated in place without recompiling, or rebuilt), "frame" (each panel's picture,
metrics, step, and what the server has in force: loss and hyperparameters), "export" and
"error" (one line; nothing changed).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ganjax.errors import ConfigError
from ganjax.playground import export
from ganjax.playground.data import MAX_POINTS, check_points
from ganjax.playground.messages import (MAX_MESSAGE_BYTES, PLAYERS, SCHEMA, SPEEDS, Message,
                                        MessageError, parse)
from ganjax.playground.session import PlaygroundSession, Setup, changed_keys
from ganjax.playground.settings import (DRAWN, SETTINGS, apply_settings, import_config,
                                        importable, validate_setup, values_of)

# Steps per frame and seconds between frames of each speed ("slow" is slow motion: one step
# at a time, a few frames a second).
SPEED_STEPS = {"slow": (1, 0.3), "normal": (5, 0.1), "fast": (25, 0.1)}
MAX_PANELS = 2
PANEL_NAMES = "AB"


def error(message: str) -> dict[str, str]:
    return {"type": "error", "message": message}


def options() -> dict[str, Any]:
    """What the page builds its controls from."""
    return {"settings": {key: s.describe() for key, s in SETTINGS.items()},
            "experiments": importable(), "players": list(PLAYERS), "speeds": list(SPEEDS),
            "max_points": MAX_POINTS, "max_message_bytes": MAX_MESSAGE_BYTES,
            "messages": list(SCHEMA)}


class Tab:
    """The sessions and playing state of one tab."""

    def __init__(self, tab_id: str, setup: Setup, *, export_dir: str | None = None,
                 max_message_bytes: int = MAX_MESSAGE_BYTES,
                 make_session: Callable[[Setup], PlaygroundSession] = PlaygroundSession):
        self.id = tab_id
        self.export_dir = export_dir
        self.max_message_bytes = max_message_bytes
        self._make_session = make_session
        self.panels: list[PlaygroundSession] = [make_session(setup)]
        self.playing = False
        self.speed = "normal"
        self.last_seen = time.monotonic()

    # --- Incoming messages.

    def handle(self, text: str | bytes) -> list[dict]:
        """Applies one message; returns what to send back (an "error" if it was refused)."""
        self.last_seen = time.monotonic()
        try:
            message = parse(text, self.max_message_bytes)
            return getattr(self, f"_on_{message.type}")(message)
        except (MessageError, ConfigError) as e:
            return [error(str(e))]
        finally:
            self.last_seen = time.monotonic()  # a rebuild's compile time is not idle time

    def _panel(self, message: Message) -> int:
        index = message.get("panel", 0)
        if not 0 <= index < len(self.panels):
            extra = "; turn Compare on for a second one" if len(self.panels) == 1 else ""
            raise MessageError(f"message {message.type!r}: panel={index} does not exist: "
                               f"panels are 0..{len(self.panels) - 1}{extra}")
        return index

    def _replace(self, index: int, setup: Setup, reason: str) -> list[dict]:
        """Builds a new session for panel `index` (the old one stays if building fails)."""
        fresh = self._make_session(setup)
        self.panels[index].close()
        self.panels[index] = fresh
        notice = f"panel {PANEL_NAMES[index]}: model rebuilt ({reason}); training restarts at " \
                 f"step 0"
        others = [i for i in range(len(self.panels)) if i != index]
        for i in others:  # Compare steps both panels together: they restart together
            self.panels[i].reset()
        if others:
            notice += ", and so does panel " + ", ".join(PANEL_NAMES[i] for i in others)
        return [self.setup_message(notice, rebuilt=True), self.frame()]

    def _on_set(self, message: Message) -> list[dict]:
        index = self._panel(message)
        session = self.panels[index]
        config = validate_setup(apply_settings(session.config, message.get("values")))
        setup = Setup(config, session.setup.points, session.setup.base)
        if config.data.source == DRAWN and not setup.points:
            raise ConfigError("config.data.source='drawn': draw some points on the canvas first")
        changed = changed_keys(session.config, config)
        if not changed:
            return [self.setup_message(f"panel {PANEL_NAMES[index]}: nothing changed")]
        if session.can_update_in_place(config):
            updates = session.update_in_place(setup)
            text = ", ".join(f"{k}={v:g}" for k, v in updates.items()) or ", ".join(changed)
            return [self.setup_message(f"panel {PANEL_NAMES[index]}: {text} updated in place, "
                                       f"no recompilation", rebuilt=False), self.frame()]
        return self._replace(index, setup, ", ".join(changed) + " changed")

    def _on_points(self, message: Message) -> list[dict]:
        index = self._panel(message)
        session = self.panels[index]
        points = check_points(message.get("points"))
        config = validate_setup(apply_settings(session.config, {"data.source": DRAWN}))
        return self._replace(index, Setup(config, points, session.setup.base),
                             f"{len(points)} drawn points are the data")

    def _on_play(self, message: Message) -> list[dict]:
        self.playing = True
        return [self.state_message()]

    def _on_pause(self, message: Message) -> list[dict]:
        self.playing = False
        return [self.state_message()]

    def _on_reset(self, message: Message) -> list[dict]:
        for session in self.panels:
            session.reset()
        return [self.setup_message("reset to step 0 (same model, first weights)"), self.frame()]

    def _on_step(self, message: Message) -> list[dict]:
        self.playing = False
        player = message.get("player", "both")
        for session in self.panels:
            session.single_step(player)
        return [self.state_message(), self.frame()]

    def _on_speed(self, message: Message) -> list[dict]:
        self.speed = message.get("speed")
        return [self.state_message()]

    def _on_import(self, message: Message) -> list[dict]:
        index = self._panel(message)
        spec = message.get("experiment")
        config = import_config(spec)
        return self._replace(index, Setup(config, None, spec), f"imported {spec}")

    def _on_export(self, message: Message) -> list[dict]:
        setup = self.panels[self._panel(message)].setup
        out = {"type": "export", "panel": self._panel(message), "command":
               export.train_command(setup), "file_name": export.file_name(setup),
               "file": export.experiment_file(setup), "saved": None}
        if message.get("save"):
            if not self.export_dir:
                raise MessageError("saving on the server is off (start the playground with "
                                   "--export_dir DIR)")
            out["saved"] = export.save(setup, self.export_dir)
        return [out]

    def _on_compare(self, message: Message) -> list[dict]:
        if message.get("on") and len(self.panels) == 1:
            self.panels.append(self.panels[0].copy())
            notice = ("Compare on: panel B is a copy of A (same weights and step); change "
                      "either one; both step together")
        elif not message.get("on") and len(self.panels) > 1:
            for session in self.panels[1:]:
                session.close()
            del self.panels[1:]
            notice = "Compare off"
        else:
            notice = "Compare is already " + ("on" if message.get("on") else "off")
        return [self.setup_message(notice, rebuilt=bool(message.get("on"))), self.frame()]

    def _on_ping(self, message: Message) -> list[dict]:
        return [{"type": "pong"}]

    # --- Training and outgoing messages.

    def will_compile(self) -> bool:
        """Whether the next tick runs a chunk length not compiled yet for some panel."""
        return any(not session.has_chunk(SPEED_STEPS[self.speed][0]) for session in self.panels)

    def frame_interval(self) -> float:
        return SPEED_STEPS[self.speed][1]

    def tick(self) -> dict:
        """One frame's steps for every panel (lockstep; a diverged panel stays where it is)."""
        steps = SPEED_STEPS[self.speed][0]
        for session in self.panels:
            session.advance(steps)
        if all(session.diverged for session in self.panels):
            self.playing = False
        return self.frame()

    def frame(self) -> dict:
        return {"type": "frame", "playing": self.playing, "speed": self.speed,
                "panels": [session.report() for session in self.panels]}

    def state_message(self) -> dict:
        return {"type": "state", "playing": self.playing, "speed": self.speed}

    def setup_message(self, notice: str = "", rebuilt: bool = False) -> dict:
        return {"type": "setup", "notice": notice, "rebuilt": rebuilt,
                "panels": [self.panel_info(i) for i in range(len(self.panels))]}

    def panel_info(self, index: int) -> dict:
        session = self.panels[index]
        setup = session.setup
        return {"index": index, "name": PANEL_NAMES[index], "values": values_of(setup.config),
                "base": export.base_spec(setup),
                "points": [list(p) for p in setup.points]
                if setup.points and setup.config.data.source == DRAWN else None,
                "numeric": sorted(session.hparam_keys), "compilations": session.compilations()}

    def hello(self) -> dict:
        return {"type": "hello", "tab": self.id, "options": options()}

    def summary(self) -> dict:
        """What /api/sessions reports of this tab."""
        return {"tab": self.id, "playing": self.playing, "speed": self.speed,
                "idle_s": round(time.monotonic() - self.last_seen, 1),
                "panels": [{"step": s.step, "loss": s.config.loss.name,
                            "penalty": s.config.penalty.name, "hparams": s.hparams,
                            "data_source": s.config.data.source,
                            "data_points": len(s.setup.points or ())
                            if s.config.data.source == DRAWN else None,
                            "diverged": s.diverged, "compilations": s.compilations(),
                            "values": values_of(s.config)} for s in self.panels]}

    def close(self) -> None:
        for session in self.panels:
            session.close()
        self.panels = []
