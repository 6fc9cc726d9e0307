// ganjax playground page: plain JavaScript, no build step, nothing loaded from the network.
// The server trains; this page sends settings and draws the frames it streams.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const COLORS = {
    real: "#16845f", fake: "#6d4fc2", grid: "rgba(55, 60, 80, 0.35)",
    arrow: "rgba(45, 25, 110, 0.8)", d: "#1f6feb", dLoss: "#d9480f", gLoss: "#6d4fc2",
    cov: "#16845f", hq: "#1f6feb", kl: "#d9480f", js: "#16845f", axis: "#9aa3b2",
  };
  const HISTORY = 200; // frames kept for Replay
  const DRAW_VIEW = [-2, 2, -2, 2];
  const DATASET_LABELS = { ring: "ring", grid: "grid", gaussian_1d: "1-D Gaussian", drawn: "draw your own" };
  const NOISE_LABELS = { normal: "Gaussian", uniform: "uniform" };

  const state = {
    ws: null, options: null, panels: [], editing: 0, playing: false, closed: false,
    history: [], replay: null, latest: null, busy: false,
    series: [newSeries(), newSeries()],
    drawMode: false, drawPending: false, drawing: false, drawPoints: [], renderQueued: false,
  };

  function newSeries() {
    return { step: [], d_loss: [], g_loss: [], a: [], b: [], kl: [], js: [] };
  }

  // ---------------------------------------------------------------- connection

  function send(message) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(message));
    }
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws`);
    state.ws = ws;
    setStatus("building the model (compiling)\u2026");
    ws.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      onMessage(message);
    };
    ws.onclose = (event) => {
      if (!state.closed) {
        setStatus(`disconnected from the server (code ${event.code}); reload the page`, true);
      }
      state.closed = true;
      setEnabled(false);
    };
  }

  function onMessage(m) {
    switch (m.type) {
      case "hello": state.options = m.options; buildControls(); break;
      case "setup": onSetup(m); break;
      case "frame": onFrame(m); break;
      case "state": onState(m); break;
      case "error": showError(m.message); state.busy = false; updateStatus(); break;
      case "export": showExport(m); break;
      case "closed":
        state.closed = true;
        setStatus(m.reason, true);
        showNotice(m.reason);
        setEnabled(false);
        break;
      default: break;
    }
  }

  // ---------------------------------------------------------------- controls

  function fillSelect(select, choices, labels) {
    select.innerHTML = "";
    for (const choice of choices) {
      const option = document.createElement("option");
      option.value = choice;
      option.textContent = (labels && labels[choice]) || choice;
      select.appendChild(option);
    }
  }

  function buildControls() {
    const settings = state.options.settings;
    for (const el of document.querySelectorAll("select[data-key]")) {
      const s = settings[el.dataset.key];
      if (s && s.kind === "choice") {
        const labels = el.dataset.key === "data.source" ? DATASET_LABELS
          : el.dataset.key === "model.noise" ? NOISE_LABELS : null;
        fillSelect(el, s.choices, labels);
      }
    }
    const imports = $("import-select");
    imports.innerHTML = "";
    for (const e of state.options.experiments) {
      const option = document.createElement("option");
      option.value = e.spec;
      option.textContent = e.description ? `${e.spec} (${e.description})` : e.spec;
      imports.appendChild(option);
    }
  }

  function fmt(value) {
    if (typeof value === "number") return String(value);
    return value == null ? "" : String(value);
  }

  function fillControls() {
    const panel = state.panels[state.editing];
    if (!panel) return;
    const values = panel.values;
    for (const el of document.querySelectorAll("[data-key]")) {
      const value = values[el.dataset.key];
      if (value === undefined) continue;
      if (document.activeElement === el && el.tagName === "INPUT") continue;
      if (el.id === "dataset" && state.drawPending) continue; // "draw your own", not drawn yet
      el.value = fmt(value);
    }
    for (const player of ["g", "d"]) {
      const widths = values[`model.${player}_hidden`] || [];
      $(`${player}-layers`).value = widths.length;
      if (widths.length) $(`${player}-neurons`).value = widths[0];
      else if (!$(`${player}-neurons`).value) $(`${player}-neurons`).value = 64;
    }
    const drawn = values["data.source"] === "drawn";
    if (drawn) state.drawMode = true;
    if (drawn && panel.points) state.drawPoints = panel.points.map((p) => p.slice());
    if (!drawn && !state.drawPending) state.drawMode = false;
    $("draw-tools").hidden = !state.drawMode;
    $("base").textContent = panel.base || "";
    $("data-info").textContent = drawn
      ? `${(panel.points || []).length} drawn points (each a Gaussian of std ${values["data.std"]})`
      : `${values["data.source"]}: ${describeData(values)}`;
    for (const c of document.querySelectorAll(".panel canvas")) {
      c.classList.toggle("drawing", state.drawMode);
    }
  }

  function describeData(v) {
    if (v["data.source"] === "gaussian_1d") return `N(${v["data.mean"]}, ${v["data.std"]}\u00b2)`;
    if (v["data.source"] === "ring") return `${v["data.num_modes"]} modes, radius ${v["data.radius"]}, std ${v["data.std"]}`;
    if (v["data.source"] === "grid") return `${v["data.num_modes"]} modes, spacing ${v["data.spacing"]}, std ${v["data.std"]}`;
    return "";
  }

  const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

  function parseValue(el) {
    const key = el.dataset.key;
    const text = el.value.trim();
    const setting = state.options && state.options.settings[key];
    if (setting && setting.kind === "choice") return text;
    return NUMBER.test(text) ? Number(text) : text; // the server says what is wrong with text
  }

  function widths(player) {
    const layers = $(`${player}-layers`).value.trim();
    const neurons = $(`${player}-neurons`).value.trim();
    if (!/^\d+$/.test(layers) || !/^\d+$/.test(neurons)) return `${layers} x ${neurons}`;
    const n = Number(layers);
    if (n > 50) return `${layers} layers`;
    return Array(n).fill(Number(neurons));
  }

  function sendSet(values) {
    state.busy = true;
    updateStatus();
    send({ type: "set", panel: state.editing, values });
  }

  function bindControls() {
    for (const el of document.querySelectorAll("[data-key]")) {
      if (el.id === "dataset") continue;
      el.addEventListener("change", () => sendSet({ [el.dataset.key]: parseValue(el) }));
    }
    for (const player of ["g", "d"]) {
      for (const part of ["layers", "neurons"]) {
        $(`${player}-${part}`).addEventListener("change", () =>
          sendSet({ [`model.${player}_hidden`]: widths(player) }));
      }
    }
    $("dataset").addEventListener("change", () => {
      const source = $("dataset").value;
      if (source === "drawn") {
        state.drawMode = true;
        $("draw-tools").hidden = false;
        const panel = state.panels[state.editing];
        if (panel && panel.points && panel.points.length) {
          sendSet({ "data.source": "drawn" });
        } else {
          state.drawPoints = [];
          state.drawPending = true;
          showNotice("Drag on the panel to draw data points; they become the data when you let go.");
        }
      } else {
        state.drawMode = false;
        state.drawPending = false;
        $("draw-tools").hidden = true;
        sendSet({ "data.source": source });
      }
      for (const c of document.querySelectorAll(".panel canvas")) c.classList.toggle("drawing", state.drawMode);
      queueRender();
    });
    $("play").addEventListener("click", () => { leaveReplay(); send({ type: "play" }); });
    $("pause").addEventListener("click", () => send({ type: "pause" }));
    $("step-once").addEventListener("click", () => { leaveReplay(); send({ type: "step", player: "both" }); });
    $("step-g").addEventListener("click", () => { leaveReplay(); send({ type: "step", player: "g" }); });
    $("step-d").addEventListener("click", () => { leaveReplay(); send({ type: "step", player: "d" }); });
    $("reset").addEventListener("click", () => { leaveReplay(); send({ type: "reset" }); });
    $("speed").addEventListener("change", () => send({ type: "speed", speed: $("speed").value }));
    $("import").addEventListener("click", () => {
      state.busy = true; updateStatus();
      send({ type: "import", experiment: $("import-select").value, panel: state.editing });
    });
    $("export").addEventListener("click", () => send({ type: "export", panel: state.editing }));
    $("export-save").addEventListener("click", () => send({ type: "export", panel: state.editing, save: true }));
    $("export-close").addEventListener("click", () => { $("export-panel").hidden = true; });
    $("compare").addEventListener("change", () => {
      state.busy = true; updateStatus();
      send({ type: "compare", on: $("compare").checked });
    });
    $("panel").addEventListener("change", () => {
      state.editing = Number($("panel").value);
      fillControls();
    });
    $("error-close").addEventListener("click", hideError);
    for (const id of ["show-real", "show-fake", "show-heatmap", "show-grid", "show-arrows"]) {
      $(id).addEventListener("change", queueRender);
    }
    $("replay").addEventListener("input", () => {
      const k = Number($("replay").value);
      if (state.playing) send({ type: "pause" });
      state.replay = k;
      updateReplayLabel();
      queueRender();
    });
    $("replay-live").addEventListener("click", () => { leaveReplay(); queueRender(); });
    $("draw-clear").addEventListener("click", () => { state.drawPoints = []; queueRender(); });
    $("draw-spiral").addEventListener("click", () => sendPoints(spiral()));
    $("draw-moons").addEventListener("click", () => sendPoints(moons()));
    for (const index of [0, 1]) bindDrawing($(`canvas-${index}`), index);
  }

  function setEnabled(on) {
    for (const el of document.querySelectorAll("button, input, select")) {
      if (el.id === "error-close" || el.id === "export-close") continue;
      el.disabled = !on;
    }
  }

  // ---------------------------------------------------------------- drawing data

  function sendPoints(points) {
    const max = (state.options && state.options.max_points) || 1000;
    state.drawPoints = points.slice(0, max);
    state.drawPending = false;
    state.busy = true; updateStatus();
    send({ type: "points", panel: state.editing, points: state.drawPoints });
    queueRender();
  }

  function jitter(scale) { return (Math.random() * 2 - 1) * scale; }

  function spiral() {
    const points = [];
    for (let i = 0; i < 300; i++) {
      const t = i / 300, angle = 3.2 * Math.PI * t, r = 0.25 + 1.45 * t;
      points.push([r * Math.cos(angle) + jitter(0.04), r * Math.sin(angle) + jitter(0.04)]);
    }
    return points.map(round2);
  }

  function moons() {
    const points = [];
    for (let i = 0; i < 150; i++) {
      const a = Math.PI * i / 149;
      points.push([Math.cos(a) - 0.5 + jitter(0.04), Math.sin(a) - 0.25 + jitter(0.04)]);
      points.push([0.5 - Math.cos(a) + jitter(0.04), 0.25 - Math.sin(a) + jitter(0.04)]);
    }
    return points.map(round2);
  }

  function round2(p) {
    const clamp = (v) => Math.max(-2, Math.min(2, v));
    return [Math.round(clamp(p[0]) * 1e4) / 1e4, Math.round(clamp(p[1]) * 1e4) / 1e4];
  }

  function bindDrawing(canvas, index) {
    const add = (event) => {
      const rect = canvas.getBoundingClientRect();
      const px = (event.clientX - rect.left) * canvas.width / rect.width;
      const py = (event.clientY - rect.top) * canvas.height / rect.height;
      const brush = Number($("brush").value);
      const [x0, x1, y0, y1] = DRAW_VIEW;
      const max = (state.options && state.options.max_points) || 1000;
      for (let k = 0; k < 2 && state.drawPoints.length < max; k++) {
        const a = Math.random() * 2 * Math.PI, r = Math.sqrt(Math.random()) * brush;
        const x = x0 + (px + r * Math.cos(a)) / canvas.width * (x1 - x0);
        const y = y1 - (py + r * Math.sin(a)) / canvas.height * (y1 - y0);
        state.drawPoints.push(round2([x, y]));
      }
      queueRender();
    };
    canvas.addEventListener("pointerdown", (event) => {
      if (!state.drawMode || index !== state.editing) return;
      state.drawing = true;
      canvas.setPointerCapture && canvas.setPointerCapture(event.pointerId);
      add(event);
    });
    canvas.addEventListener("pointermove", (event) => { if (state.drawing) add(event); });
    const end = () => {
      if (!state.drawing) return;
      state.drawing = false;
      if (state.drawPoints.length) sendPoints(state.drawPoints);
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  // ---------------------------------------------------------------- incoming state

  function onSetup(m) {
    state.panels = m.panels;
    if (state.editing >= m.panels.length) state.editing = 0;
    state.busy = false;
    hideError();
    if (m.notice) showNotice(m.notice);
    const compare = m.panels.length > 1;
    $("compare").checked = compare;
    $("panel-choice").hidden = !compare;
    $("panel-1").hidden = !compare;
    $("panel").value = String(state.editing);
    $("server-compilations").textContent = JSON.stringify(m.panels[0].compilations);
    fillControls();
    updateStatus();
  }

  function onState(m) {
    state.playing = m.playing;
    state.compiling = !!m.compiling;
    $("speed").value = m.speed;
    updateStatus();
  }

  function onFrame(m) {
    state.playing = m.playing;
    state.compiling = false;
    state.latest = m;
    state.history.push(m);
    if (state.history.length > HISTORY) state.history.shift();
    m.panels.forEach((p, i) => addToSeries(state.series[i], p));
    if (m.panels.length < 2) state.series[1] = newSeries();
    const slider = $("replay");
    slider.max = String(state.history.length - 1);
    if (state.replay === null) slider.value = slider.max;
    else state.replay = Math.max(0, state.replay - (state.history.length === HISTORY ? 1 : 0));
    updateReadouts(m);
    updateStatus();
    updateReplayLabel();
    queueRender();
  }

  function addToSeries(s, p) {
    const last = s.step.length ? s.step[s.step.length - 1] : -1;
    if (p.step < last || (p.step === last && p.step === 0)) {
      for (const key of Object.keys(s)) s[key] = [];
    } else if (p.step === last) {
      return;
    }
    const metrics = p.metrics || {};
    s.step.push(p.step);
    s.d_loss.push(metrics.d_loss ?? null);
    s.g_loss.push(metrics.g_loss ?? null);
    if (p.dim === 2) {
      s.a.push(p.coverage.num_modes ? p.coverage.modes / p.coverage.num_modes : null);
      s.b.push(p.coverage.hq_fraction);
    } else {
      s.a.push(p.coverage.mean);
      s.b.push(p.coverage.std);
    }
    s.kl.push(p.divergence.kl);
    s.js.push(p.divergence.js);
    for (const key of Object.keys(s)) if (s[key].length > 2000) s[key].shift();
  }

  function number(v, digits = 4) {
    if (v === null || v === undefined) return "\u2013";
    if (typeof v !== "number") return String(v);
    if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
    return String(Number(v.toPrecision(digits)));
  }

  function updateReadouts(m) {
    const a = m.panels[0];
    $("step-count").textContent = String(a.step);
    $("server-loss").textContent = a.loss;
    $("server-penalty").textContent = a.penalty;
    $("server-g-lr").textContent = String(a.hparams["optim.g_lr"]);
    $("server-d-lr").textContent = String(a.hparams["optim.d_lr"]);
    $("server-hparams").textContent = JSON.stringify(a.hparams);
    $("server-compilations").textContent = JSON.stringify(a.compilations);
    const rows = [["step", (p) => p.step]];
    const metric = (k) => (p) => (p.metrics || {})[k];
    for (const k of ["d_loss", "g_loss", "d_penalty", "d_real_logit", "d_fake_logit", "d_grad_norm", "g_grad_norm"]) {
      rows.push([k, metric(k)]);
    }
    if (a.dim === 2) {
      rows.push(["modes", (p) => `${p.coverage.modes} / ${p.coverage.num_modes}`]);
      rows.push(["high quality", (p) => p.coverage.hq_fraction]);
    } else {
      rows.push(["mean (target)", (p) => `${number(p.coverage.mean)} (${p.coverage.target_mean})`]);
      rows.push(["std (target)", (p) => `${number(p.coverage.std)} (${p.coverage.target_std})`]);
    }
    rows.push(["KL(data||G) nats", (p) => p.divergence.kl]);
    rows.push(["JS bits", (p) => p.divergence.js]);
    const head = `<tr><th></th>${m.panels.map((_, i) => `<th>${"AB"[i]}</th>`).join("")}</tr>`;
    const body = rows.map(([name, get]) =>
      `<tr><td>${name}</td>${m.panels.map((p) => `<td>${number(get(p))}</td>`).join("")}</tr>`).join("");
    $("metrics").innerHTML = head + body;
    $("coverage-title").textContent = a.dim === 2
      ? "Mode coverage (modes found / all) and high-quality fraction"
      : "Sample mean and std of G (targets dashed)";
    m.panels.forEach((p, i) => {
      const box = document.querySelector(`[data-testid=diverged-${i}]`);
      const status = document.querySelector(`[data-testid=panel-status-${i}]`);
      if (p.status === "diverged") {
        box.hidden = false;
        box.textContent = `diverged at step ${p.diverged_at} \u2014 press Reset (${p.diverged})`;
        status.textContent = `diverged at step ${p.diverged_at}`;
      } else {
        box.hidden = true;
        status.textContent = `step ${p.step}, ${p.loss}` + (p.data_points ? `, ${p.data_points} drawn points` : "");
      }
    });
  }

  function updateStatus() {
    if (state.closed) return;
    const m = state.latest;
    const diverged = m && m.panels.find((p) => p.status === "diverged");
    if (state.busy) setStatus("applying (a new model compiles first)\u2026");
    else if (state.compiling) setStatus("compiling the training steps (once per setup and speed)\u2026");
    else if (diverged) setStatus(`diverged at step ${diverged.diverged_at}: press Reset`, true);
    else if (state.replay !== null) setStatus("replaying (paused)");
    else setStatus(state.playing ? "training" : "paused");
    $("play").classList.toggle("active", state.playing);
  }

  function setStatus(text, bad) {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("bad", !!bad);
  }

  function showError(text) {
    $("error-text").textContent = text;
    $("error").hidden = false;
  }

  function hideError() { $("error").hidden = true; }

  function showNotice(text) { $("notice").textContent = text; }

  function showExport(m) {
    $("export-command").textContent = m.command;
    $("export-file").textContent = m.file;
    const link = $("export-download");
    if (link.dataset.url) URL.revokeObjectURL(link.dataset.url);
    const url = URL.createObjectURL(new Blob([m.file], { type: "text/x-python" }));
    link.href = url;
    link.dataset.url = url;
    link.download = m.file_name;
    link.textContent = `Download ${m.file_name}`;
    $("export-saved").textContent = m.saved ? `saved: ${m.saved}` : "";
    $("export-panel").hidden = false;
  }

  function leaveReplay() {
    state.replay = null;
    const slider = $("replay");
    slider.value = slider.max;
    updateReplayLabel();
  }

  function updateReplayLabel() {
    const label = $("replay-label");
    if (state.replay === null) { label.textContent = "live"; return; }
    const f = state.history[state.replay];
    label.textContent = f ? `step ${f.panels[0].step} (${state.replay + 1} of ${state.history.length})` : "";
  }

  // ---------------------------------------------------------------- drawing frames

  function queueRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    requestAnimationFrame(() => { state.renderQueued = false; render(); });
  }

  function shown() {
    return {
      real: $("show-real").checked, fake: $("show-fake").checked, heat: $("show-heatmap").checked,
      grid: $("show-grid").checked, arrows: $("show-arrows").checked,
    };
  }

  function render() {
    const frame = state.replay !== null ? state.history[state.replay] : state.latest;
    const layers = shown();
    for (const index of [0, 1]) {
      const canvas = $(`canvas-${index}`);
      const ctx = canvas.getContext("2d");
      const p = frame && frame.panels[index];
      const drawOnly = state.drawMode && index === state.editing && (!p || p.data_source !== "drawn");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      if (drawOnly) {
        drawCanvas(ctx, canvas.width, canvas.height);
        continue;
      }
      if (!p) continue;
      if (p.dim === 2) render2d(ctx, p, canvas.width, canvas.height, layers);
      else render1d(ctx, p, canvas.width, canvas.height, layers);
      if (state.drawing && index === state.editing) drawPointsOver(ctx, DRAW_VIEW, canvas.width, canvas.height);
    }
    renderLegend(frame);
    renderCharts();
  }

  function drawCanvas(ctx, w, h) {
    ctx.strokeStyle = "#eef0f4";
    for (let i = 1; i < 8; i++) {
      ctx.beginPath(); ctx.moveTo(i * w / 8, 0); ctx.lineTo(i * w / 8, h); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, i * h / 8); ctx.lineTo(w, i * h / 8); ctx.stroke();
    }
    drawPointsOver(ctx, DRAW_VIEW, w, h);
    ctx.fillStyle = "#6b7280";
    ctx.font = "13px system-ui, sans-serif";
    ctx.fillText(`drag to draw data points (${state.drawPoints.length})`, 10, 20);
  }

  function drawPointsOver(ctx, view, w, h) {
    const [x0, x1, y0, y1] = view;
    ctx.fillStyle = COLORS.real;
    for (const [x, y] of state.drawPoints) {
      ctx.beginPath();
      ctx.arc((x - x0) / (x1 - x0) * w, h - (y - y0) / (y1 - y0) * h, 2.2, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  function heatColor(v) {
    // D near 1 (looks real): green tint; near 0 (looks fake): purple tint; 1/2: white.
    const t = v / 255 - 0.5, k = Math.min(1, Math.abs(t) * 2) * 0.55;
    const target = t >= 0 ? [22, 132, 95] : [109, 79, 194];
    return target.map((c) => Math.round(255 + (c - 255) * k));
  }

  const heatCanvas = document.createElement("canvas");

  function render2d(ctx, p, w, h, layers) {
    const [x0, x1, y0, y1] = p.view;
    const sx = (x) => (x - x0) / (x1 - x0) * w;
    const sy = (y) => h - (y - y0) / (y1 - y0) * h;
    if (layers.heat) {
      const n = Math.round(Math.sqrt(p.d.values.length));
      heatCanvas.width = n; heatCanvas.height = n;
      const hctx = heatCanvas.getContext("2d");
      const image = hctx.createImageData(n, n);
      for (let ix = 0; ix < n; ix++) {
        for (let iy = 0; iy < n; iy++) {
          const [r, g, b] = heatColor(p.d.values[ix * n + iy]);
          const o = ((n - 1 - iy) * n + ix) * 4;
          image.data[o] = r; image.data[o + 1] = g; image.data[o + 2] = b; image.data[o + 3] = 255;
        }
      }
      hctx.putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(heatCanvas, 0, 0, w, h);
    }
    if (layers.grid && p.noise_lines) {
      ctx.strokeStyle = COLORS.grid;
      ctx.lineWidth = 1;
      for (const line of p.noise_lines) {
        ctx.beginPath();
        line.forEach(([x, y], i) => (i ? ctx.lineTo(sx(x), sy(y)) : ctx.moveTo(sx(x), sy(y))));
        ctx.stroke();
      }
    }
    const dots = (points, color, r) => {
      ctx.fillStyle = color;
      for (const [x, y] of points) {
        ctx.beginPath(); ctx.arc(sx(x), sy(y), r, 0, 2 * Math.PI); ctx.fill();
      }
    };
    if (layers.real) dots(p.real, COLORS.real, 2.3);
    if (layers.fake) dots(p.fake, COLORS.fake, 2.3);
    if (layers.arrows && p.arrows) {
      ctx.strokeStyle = COLORS.arrow;
      ctx.lineWidth = 1;
      const L = 36;
      p.fake.forEach(([x, y], i) => {
        const [dx, dy] = p.arrows[i];
        arrow(ctx, sx(x), sy(y), sx(x) + dx * L, sy(y) - dy * L);
      });
    }
    axesLabels(ctx, w, h, `x: ${number(x0, 3)} .. ${number(x1, 3)}`, `y: ${number(y0, 3)} .. ${number(y1, 3)}`);
  }

  function arrow(ctx, ax, ay, bx, by) {
    const dx = bx - ax, dy = by - ay, len = Math.hypot(dx, dy);
    if (len < 1.5) return;
    ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
    const ux = dx / len, uy = dy / len, head = Math.min(4, len / 2);
    ctx.beginPath();
    ctx.moveTo(bx, by); ctx.lineTo(bx - head * (ux - uy * 0.6), by - head * (uy + ux * 0.6));
    ctx.moveTo(bx, by); ctx.lineTo(bx - head * (ux + uy * 0.6), by - head * (uy - ux * 0.6));
    ctx.stroke();
  }

  function axesLabels(ctx, w, h, bottom, left) {
    ctx.fillStyle = "rgba(40, 45, 60, 0.7)";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(bottom, 6, h - 6);
    if (left) ctx.fillText(left, 6, 14);
  }

  function render1d(ctx, p, w, h, layers) {
    const [x0, x1] = p.view;
    const sx = (x) => (x - x0) / (x1 - x0) * w;
    const top = 16, axisY = Math.round(h * 0.6), zY = h - 28;
    const maxDensity = Math.max(1e-9, ...p.density.real, ...p.density.fake);
    const sd = (v) => axisY - v / maxDensity * (axisY - top) * 0.92;
    ctx.strokeStyle = COLORS.axis;
    ctx.beginPath(); ctx.moveTo(0, axisY); ctx.lineTo(w, axisY); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, zY); ctx.lineTo(w, zY); ctx.stroke();
    if (layers.grid && p.mapping) {
      const e = p.noise_extent || 1;
      ctx.strokeStyle = COLORS.grid;
      p.mapping.z.forEach((z, i) => {
        ctx.beginPath();
        ctx.moveTo((z + e) / (2 * e) * w, zY);
        ctx.lineTo(sx(p.mapping.x[i]), axisY);
        ctx.stroke();
      });
    }
    const curve = (values, color, dash, y) => {
      ctx.strokeStyle = color; ctx.setLineDash(dash); ctx.lineWidth = 1.6;
      ctx.beginPath();
      values.forEach((v, i) => {
        const x = sx(x0 + (i + 0.5) * (x1 - x0) / values.length), yy = y(v);
        i ? ctx.lineTo(x, yy) : ctx.moveTo(x, yy);
      });
      ctx.stroke(); ctx.setLineDash([]); ctx.lineWidth = 1;
    };
    if (layers.real) curve(p.density.real, "#111", [2, 3], sd);
    if (layers.fake) curve(p.density.fake, COLORS.fake, [], sd);
    if (layers.heat) {
      const sD = (v) => axisY - v / 255 * (axisY - top);
      ctx.strokeStyle = "rgba(31, 111, 235, 0.25)";
      ctx.beginPath(); ctx.moveTo(0, sD(127.5)); ctx.lineTo(w, sD(127.5)); ctx.stroke();
      curve(p.d.values, COLORS.d, [6, 4], sD);
    }
    const ticks = (xs, color, y0, y1) => {
      ctx.strokeStyle = color;
      for (const x of xs) { ctx.beginPath(); ctx.moveTo(sx(x), y0); ctx.lineTo(sx(x), y1); ctx.stroke(); }
    };
    if (layers.real) ticks(p.real, "rgba(22, 132, 95, 0.5)", axisY, axisY + 8);
    if (layers.fake) ticks(p.fake, "rgba(109, 79, 194, 0.5)", axisY + 10, axisY + 18);
    if (layers.arrows && p.arrows) {
      ctx.strokeStyle = COLORS.arrow;
      p.fake.forEach((x, i) => { if (i % 4 === 0) arrow(ctx, sx(x), axisY + 26, sx(x) + p.arrows[i] * 30, axisY + 26); });
    }
    ctx.fillStyle = "rgba(40, 45, 60, 0.75)";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText("z", 4, zY - 4);
    ctx.fillText("x", 4, axisY - 4);
    for (let i = 0; i <= 4; i++) {
      const x = x0 + i * (x1 - x0) / 4;
      ctx.fillText(number(x, 3), Math.min(w - 30, Math.max(2, sx(x) - 10)), axisY + 44);
    }
  }

  function renderLegend(frame) {
    const p = frame && frame.panels[0];
    if (!p) return;
    const item = (color, text) => `<span><i style="background:${color}"></i>${text}</span>`;
    const d = p.d.kind === "prob" ? "D(x) = sigmoid(logit)" : `D's score (${number(p.d.lo)} .. ${number(p.d.hi)}, rescaled)`;
    const parts = p.dim === 2
      ? [item(COLORS.real, "real samples"), item(COLORS.fake, "fake samples G(z)"),
         item("#8fc7b5", `heat map: ${d} high`), item("#b9a9e3", "low"),
         item("#9aa3b2", "G's image of the noise grid"), item(COLORS.arrow, "arrows: -dL_G/dx, where G moves each sample")]
      : [item("#111", "data density (dotted)"), item(COLORS.fake, "G's density"),
         item(COLORS.d, `${d} (dashed, 0..1)`), item("#9aa3b2", "lines: z \u2192 G(z)"),
         item(COLORS.arrow, "arrows: -dL_G/dx")];
    $("legend").innerHTML = parts.join("");
  }

  function renderCharts() {
    const a = state.series[0], b = state.series[1];
    lineChart($("chart-loss"), [
      { xs: a.step, ys: a.d_loss, color: COLORS.dLoss, label: "D loss A" },
      { xs: a.step, ys: a.g_loss, color: COLORS.gLoss, label: "G loss A" },
      { xs: b.step, ys: b.d_loss, color: COLORS.dLoss, dash: [4, 3], label: "D loss B" },
      { xs: b.step, ys: b.g_loss, color: COLORS.gLoss, dash: [4, 3], label: "G loss B" },
    ]);
    const p = state.latest && state.latest.panels[0];
    const twoD = !p || p.dim === 2;
    lineChart($("chart-coverage"), [
      { xs: a.step, ys: a.a, color: COLORS.cov, label: twoD ? "modes A" : "mean A" },
      { xs: a.step, ys: a.b, color: COLORS.hq, label: twoD ? "HQ A" : "std A" },
      { xs: b.step, ys: b.a, color: COLORS.cov, dash: [4, 3], label: twoD ? "modes B" : "mean B" },
      { xs: b.step, ys: b.b, color: COLORS.hq, dash: [4, 3], label: twoD ? "HQ B" : "std B" },
    ], twoD ? { ymin: 0, ymax: 1 } : { targets: p ? [p.coverage.target_mean, p.coverage.target_std] : [] });
    lineChart($("chart-divergence"), [
      { xs: a.step, ys: a.kl, color: COLORS.kl, label: "KL A" },
      { xs: a.step, ys: a.js, color: COLORS.js, label: "JS A" },
      { xs: b.step, ys: b.kl, color: COLORS.kl, dash: [4, 3], label: "KL B" },
      { xs: b.step, ys: b.js, color: COLORS.js, dash: [4, 3], label: "JS B" },
    ], { ymin: 0 });
  }

  function lineChart(canvas, series, opts = {}) {
    const ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height, left = 42, right = 8, top = 18, bottom = 18;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
    const used = series.filter((s) => s.xs.length > 0);
    let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
    for (const s of used) {
      s.xs.forEach((x, i) => {
        const y = s.ys[i];
        if (y === null || y === undefined || !isFinite(y)) return;
        xmin = Math.min(xmin, x); xmax = Math.max(xmax, x);
        ymin = Math.min(ymin, y); ymax = Math.max(ymax, y);
      });
    }
    for (const t of opts.targets || []) { ymin = Math.min(ymin, t); ymax = Math.max(ymax, t); }
    if (opts.ymin !== undefined) ymin = Math.min(opts.ymin, ymin === Infinity ? opts.ymin : ymin);
    if (opts.ymax !== undefined) ymax = Math.max(opts.ymax, ymax === -Infinity ? opts.ymax : ymax);
    ctx.fillStyle = "#6b7280"; ctx.font = "10px system-ui, sans-serif";
    if (!isFinite(xmin) || !isFinite(ymin)) { ctx.fillText("no data yet: press Play", left, h / 2); return; }
    if (xmax === xmin) xmax = xmin + 1;
    if (ymax === ymin) { ymax += 0.5; ymin -= 0.5; }
    const X = (x) => left + (x - xmin) / (xmax - xmin) * (w - left - right);
    const Y = (y) => h - bottom - (y - ymin) / (ymax - ymin) * (h - top - bottom);
    ctx.strokeStyle = "#d8dde6";
    ctx.strokeRect(left, top, w - left - right, h - top - bottom);
    ctx.fillText(number(ymax, 3), 2, top + 8);
    ctx.fillText(number(ymin, 3), 2, h - bottom);
    ctx.fillText(String(xmin), left, h - 4);
    ctx.fillText(`step ${xmax}`, w - right - 60, h - 4);
    for (const t of opts.targets || []) {
      ctx.strokeStyle = "#9aa3b2"; ctx.setLineDash([3, 3]);
      ctx.beginPath(); ctx.moveTo(left, Y(t)); ctx.lineTo(w - right, Y(t)); ctx.stroke();
      ctx.setLineDash([]);
    }
    let lx = left + 4;
    for (const s of used) {
      ctx.strokeStyle = s.color; ctx.setLineDash(s.dash || []); ctx.lineWidth = 1.3;
      ctx.beginPath();
      let pen = false;
      s.xs.forEach((x, i) => {
        const y = s.ys[i];
        if (y === null || y === undefined || !isFinite(y)) { pen = false; return; }
        const cy = Math.max(top, Math.min(h - bottom, Y(y)));
        pen ? ctx.lineTo(X(x), cy) : ctx.moveTo(X(x), cy);
        pen = true;
      });
      ctx.stroke(); ctx.setLineDash([]); ctx.lineWidth = 1;
      ctx.fillStyle = s.color;
      ctx.fillText(s.label, lx, top - 5);
      lx += ctx.measureText(s.label).width + 10;
    }
  }

  window.ganjaxPlayground = state; // for the browser tests and the console: read, do not write
  bindControls();
  connect();
})();
