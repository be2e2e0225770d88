/*
 * MotionPlayer: a small, dependency-free canvas player for HumanML3D skeletons.
 *
 *   const player = new MotionPlayer(containerElement, payload, {layout: "row"});
 *   MotionPlayer.mountAll(document);            // every [data-motion-payload] element
 *   MotionPlayer.fromJSON(element, jsonString); // payload given as a JSON string
 *   player.destroy();
 *
 * Payload (built by motion_lora.export.player_payload):
 *   {fps: 20, chains: [[0,2,5,8,11], ...], left: [joint ids], right: [joint ids],
 *    motions: [{label: "base", caption: "...", joints: [...], variants: [{strength, label, joints}]}]}
 * `joints` is either FLAT (frame-major, then joint, then x y z: T*J*3 numbers, what Python writes) or
 * nested ([[[x,y,z] * J] * T]). Metres, y up, floor at y = 0, the body faces +z, its left is +x.
 *
 * Options: layout "row" (all skeletons side by side in one shared 3D view) or "grid" (one small view per
 * skeleton, all sharing the camera: meant for a strength sweep), autoplay (true), loop (true), speed (1),
 * follow ("auto"): false fits the camera to the whole motion extent; true keeps the bodies framed and moves
 * the camera with their (smoothed) mean root; "auto" follows only when the clips travel far (> 2.5 m and more
 * than twice the body's own extent), where fitting everything would leave the bodies tiny.
 *
 * Variants (optional, e.g. the steered motion at a grid of strengths, all as long as the motion): showVariant(i,
 * value) puts motion i's variant nearest to `value` in its place at once, keeping time position and camera, and
 * returns the strength actually shown; MotionPlayer.scrub(value) does it for every mounted player's variants.
 *
 * For tests: player.frame, player.playing, window.__motionPlayers, player.benchmark(n) and
 * MotionPlayer.benchmark(n) (draw n frames synchronously, return ms per frame).
 */
(function (global) {
  "use strict";

  const SPEEDS = [0.25, 0.5, 0.75, 1, 1.5, 2];
  const FOV = (26 * Math.PI) / 180; // vertical field of view: a longer lens keeps near and far sizes alike
  const NEAR = 0.05; // metres in front of the eye; anything nearer is not drawn
  const DEFAULT_YAW = (32 * Math.PI) / 180; // 3/4 view from the front, seen from the body's left side
  const DEFAULT_PITCH = (16 * Math.PI) / 180;
  const LABEL_ROOM = 0.35; // metres kept free above the tallest joint for the labels
  const GRID_STEP = 0.5; // metres between floor lines
  const GRID_PIECES = 12; // each floor line is cut in pieces so near-plane clipping stays trivial
  const PALETTES = {
    light: {bg: "#f6f7f9", grid: "#dcdfe4", axis: "#c3c8d0", spine: "#2d2f33", left: "#1f6fd1",
            right: "#d7373f", trail: "#2e9e4f", text: "#1b1d21", halo: "rgba(246,247,249,0.85)"},
    dark: {bg: "#15171b", grid: "#2b2f36", axis: "#3b414b", spine: "#e4e6ea", left: "#4b9bff",
           right: "#ff5d5d", trail: "#4cc46f", text: "#eceef2", halo: "rgba(21,23,27,0.85)"},
  };

  function el(tag, className, parent) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (parent) parent.appendChild(node);
    return node;
  }

  // Light text on the host means a dark theme: follow it instead of guessing from the OS setting.
  function themeOf(node) {
    const m = getComputedStyle(node).color.match(/[\d.]+/g);
    if (!m) return PALETTES.light;
    const lum = (0.299 * m[0] + 0.587 * m[1] + 0.114 * m[2]) / 255;
    return lum > 0.55 ? PALETTES.dark : PALETTES.light;
  }

  function toFloat32(joints, numJoints) {
    if (joints.length && Array.isArray(joints[0])) joints = joints.flat(2);
    const data = Float32Array.from(joints);
    if (data.length === 0 || data.length % (numJoints * 3) !== 0) {
      throw new Error("MotionPlayer: joints length " + data.length + " is not a multiple of " + numJoints * 3);
    }
    return data;
  }

  // Mutable bounding box helper.
  function emptyBox() {
    return {minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity, minZ: Infinity, maxZ: -Infinity};
  }
  function growBox(box, x, y, z) {
    if (x < box.minX) box.minX = x; if (x > box.maxX) box.maxX = x;
    if (y < box.minY) box.minY = y; if (y > box.maxY) box.maxY = y;
    if (z < box.minZ) box.minZ = z; if (z > box.maxZ) box.maxZ = z;
  }

  class MotionPlayer {
    constructor(container, payload, options) {
      if (typeof payload === "string") payload = JSON.parse(payload);
      this.options = Object.assign({layout: "row", autoplay: true, loop: true, speed: 1, follow: "auto"}, options || {});
      this.container = container;
      this.fps = payload.fps || 20;
      this.chains = payload.chains;
      this.numJoints = 1 + Math.max.apply(null, this.chains.flat());
      this._groupChains(payload.left || [], payload.right || []);
      this._loadMotions(payload.motions || []);

      this.playing = false;
      this.loop = !!this.options.loop;
      this.speed = this.options.speed;
      this.time = 0; // seconds into the clip; `frame` follows from it
      this.frame = 0;
      this.yaw = DEFAULT_YAW;
      this.pitch = DEFAULT_PITCH;
      this.zoom = 1;
      this._dirty = true;
      this._lastNow = null;
      this._raf = 0;
      this._tick = this._tick.bind(this);

      this._buildDom();
      this._layoutViews();
      this._resize();
      this._observe();
      this._updateReadout();
      (global.__motionPlayers = global.__motionPlayers || []).push(this);
      if (this.options.autoplay) this.play();
      this._raf = requestAnimationFrame(this._tick);
    }

    static fromJSON(container, json, options) {
      return new MotionPlayer(container, JSON.parse(json), options);
    }

    // Mount a player on every element carrying data-motion-payload (and optional data-motion-options).
    static mountAll(root) {
      const players = [];
      (root || document).querySelectorAll("[data-motion-payload]").forEach((node) => {
        if (node.__motionPlayer) return;
        const opts = node.dataset.motionOptions ? JSON.parse(node.dataset.motionOptions) : {};
        node.__motionPlayer = new MotionPlayer(node, JSON.parse(node.dataset.motionPayload), opts);
        players.push(node.__motionPlayer);
      });
      return players;
    }

    static benchmark(n, player) {
      player = player || (global.__motionPlayers || [])[0];
      return player ? player.benchmark(n) : NaN;
    }

    // ------------------------------------------------------------------ data

    // One path per colour: a chain is "left"/"right" when all its joints after the first are.
    _groupChains(left, right) {
      const leftSet = new Set(left), rightSet = new Set(right);
      this.groups = {left: [], right: [], spine: []};
      for (const chain of this.chains) {
        const limb = chain.slice(1);
        const key = limb.every((j) => leftSet.has(j)) ? "left" : limb.every((j) => rightSet.has(j)) ? "right" : "spine";
        this.groups[key].push(chain);
      }
      // Draw orders (fixed arrays: nothing allocated while playing): far side first, spine in between.
      this.leftFarOrder = ["left", "spine", "right"];
      this.rightFarOrder = ["right", "spine", "left"];
    }

    _loadMotions(list) {
      if (!list.length) throw new Error("MotionPlayer: payload has no motions");
      const J = this.numJoints;
      this.motions = list.map((m, i) => {
        const joints = toFloat32(m.joints, J);
        const frames = joints.length / (J * 3);
        const box = emptyBox(), body = emptyBox(); // world extent; extent around the root (x, z)
        for (let k = 0; k < joints.length; k += 3) {
          const root = k - (k % (J * 3));
          growBox(box, joints[k], joints[k + 1], joints[k + 2]);
          growBox(body, joints[k] - joints[root], joints[k + 1], joints[k + 2] - joints[root + 2]);
        }
        const variants = (m.variants || []).map((v) => {
          const data = toFloat32(v.joints, J);
          if (data.length !== joints.length) throw new Error("MotionPlayer: a variant must be as long as its motion");
          return {strength: Number(v.strength), label: String(v.label), joints: data};
        });
        return {label: m.label != null ? String(m.label) : "motion " + (i + 1), caption: m.caption || "",
                joints, frames, box, body, offsetX: 0, variants, strength: m.strength != null ? Number(m.strength) : null,
                pose: new Float32Array(J * 3), screen: new Float32Array(J * 2), depth: 0};
      });
      this.numFrames = Math.max.apply(null, this.motions.map((m) => m.frames));
      this.duration = this.numFrames / this.fps;
    }

    // ------------------------------------------------------------------ DOM

    _buildDom() {
      const grid = this.options.layout === "grid";
      this.root = el("div", "motion-player" + (grid ? " mp-layout-grid" : " mp-layout-row"), this.container);
      this.viewsNode = el("div", "mp-views", this.root);
      const bar = el("div", "mp-controls", this.root);

      this.playButton = el("button", "mp-play", bar);
      this.playButton.type = "button";
      this.playButton.addEventListener("click", () => this.toggle());

      this.slider = el("input", "mp-scrub", bar);
      Object.assign(this.slider, {type: "range", min: 0, max: this.numFrames - 1, step: 1, value: 0});
      this.slider.setAttribute("aria-label", "frame");
      this.slider.addEventListener("input", () => this.seek(Number(this.slider.value)));

      this.readout = el("span", "mp-time", bar);

      this.speedSelect = el("select", "mp-speed", bar);
      this.speedSelect.setAttribute("aria-label", "playback speed");
      for (const s of SPEEDS) {
        const opt = el("option", null, this.speedSelect);
        opt.value = String(s);
        opt.textContent = s + "\u00d7";
      }
      this.speedSelect.value = String(this.speed);
      this.speedSelect.addEventListener("change", () => { this.speed = Number(this.speedSelect.value); });

      const loopLabel = el("label", "mp-loop", bar);
      this.loopBox = el("input", null, loopLabel);
      this.loopBox.type = "checkbox";
      this.loopBox.checked = this.loop;
      this.loopBox.addEventListener("change", () => { this.loop = this.loopBox.checked; });
      loopLabel.appendChild(document.createTextNode("loop"));

      const reset = el("button", "mp-reset", bar);
      reset.type = "button";
      reset.textContent = "reset view";
      reset.title = "Drag to orbit, wheel to zoom, double-click to reset";
      reset.addEventListener("click", () => this.resetView());

      const legend = el("span", "mp-legend", bar);
      for (const [key, text] of [["left", "left"], ["right", "right"], ["spine", "spine"]]) {
        el("i", "mp-swatch mp-swatch-" + key, legend);
        legend.appendChild(document.createTextNode(text));
      }

      const withCaptions = this.motions.filter((m) => m.caption);
      if (withCaptions.length) {
        const captions = el("div", "mp-captions", this.root);
        for (const m of withCaptions) {
          const line = el("div", null, captions);
          el("b", null, line).textContent = m.label;
          line.appendChild(document.createTextNode(" " + m.caption));
        }
      }

      this._onKey = (e) => {
        if (e.key === " " && e.target === this.root) { e.preventDefault(); this.toggle(); }
      };
      this.root.tabIndex = 0;
      this.root.addEventListener("keydown", this._onKey);
      this._syncButton();
    }

    // A "view" is one canvas with its camera target and the motions it draws.
    _layoutViews() {
      const grid = this.options.layout === "grid";
      const groups = grid ? this.motions.map((m) => [m]) : [this.motions];
      this.follow = this._shouldFollow();
      if (!grid) this._placeSideBySide();
      this.views = groups.map((motions) => this._makeView(motions));
    }

    // Fitting a long walk whole makes the bodies tiny; then the camera follows them instead ("auto").
    _shouldFollow() {
      const opt = this.options.follow;
      if (opt === true || opt === false) return opt;
      const span = (b) => Math.max(b.maxX - b.minX, b.maxZ - b.minZ);
      const travel = Math.max.apply(null, this.motions.map((m) => span(m.box)));
      const body = Math.max.apply(null, this.motions.map((m) => span(m.body)));
      return travel > 2.5 && travel > 2 * body;
    }

    // Centre each motion in its own slot along x, slots as wide as the widest motion plus a margin (when
    // following, as wide as the widest body: the camera moves, so only the bodies need to stay apart).
    _placeSideBySide() {
      const widths = this.motions.map((m) => (this.follow ? m.body : m.box)).map((b) => b.maxX - b.minX);
      const slot = Math.max(1.1, Math.max.apply(null, widths) + 0.6);
      const n = this.motions.length;
      this.motions.forEach((m, i) => {
        m.offsetX = (i - (n - 1) / 2) * slot - (this.follow ? m.joints[0] : (m.box.minX + m.box.maxX) / 2);
      });
    }

    _makeView(motions) {
      const cell = el("div", "mp-cell", this.viewsNode);
      const canvas = el("canvas", "mp-canvas", cell);
      const box = emptyBox();
      for (const m of motions) {
        growBox(box, m.box.minX + m.offsetX, Math.max(0, m.box.minY), m.box.minZ);
        growBox(box, m.box.maxX + m.offsetX, m.box.maxY, m.box.maxZ);
      }
      const pad = GRID_STEP;
      const floor = {
        x0: Math.floor((box.minX - pad) / GRID_STEP) * GRID_STEP, x1: Math.ceil((box.maxX + pad) / GRID_STEP) * GRID_STEP,
        z0: Math.floor((box.minZ - pad) / GRID_STEP) * GRID_STEP, z1: Math.ceil((box.maxZ + pad) / GRID_STEP) * GRID_STEP,
      };
      const lines = Math.round((floor.x1 - floor.x0) / GRID_STEP) + Math.round((floor.z1 - floor.z0) / GRID_STEP) + 2;
      const track = this.follow ? this._followTrack(motions) : null;
      const fit = track ? track.box : box; // what the camera must keep in view, around `target`
      const view = {
        cell, canvas, ctx: canvas.getContext("2d"), motions, floor, box: fit, track,
        target: [(fit.minX + fit.maxX) / 2, (fit.minY + fit.maxY) / 2, (fit.minZ + fit.maxZ) / 2],
        shiftX: 0, shiftZ: 0, // where the followed centre is now
        width: 1, height: 1, dpr: 1, focal: 1,
        cam: new Float64Array(12), // eye, right, up, forward
        gridScreen: new Float32Array(lines * (GRID_PIECES + 1) * 2),
        trails: motions.map((m) => new Float32Array(m.frames * 2)),
        order: motions.map((_, i) => i),
      };
      this._bindPointer(view);
      return view;
    }

    // Followed point per frame: the mean root (x, z) of the view's motions, smoothed over one second so the
    // camera glides instead of swaying with every step. Also returns the box of all joints around it.
    _followTrack(motions) {
      const N = this.numFrames, J3 = this.numJoints * 3, raw = new Float32Array(N * 2);
      for (let t = 0; t < N; t++) {
        for (const m of motions) {
          const k = Math.min(t, m.frames - 1) * J3;
          raw[2 * t] += (m.joints[k] + m.offsetX) / motions.length;
          raw[2 * t + 1] += m.joints[k + 2] / motions.length;
        }
      }
      const centre = new Float32Array(N * 2), half = Math.round(this.fps / 2);
      for (let t = 0; t < N; t++) {
        const a = Math.max(0, t - half), b = Math.min(N - 1, t + half);
        for (let u = a; u <= b; u++) { centre[2 * t] += raw[2 * u]; centre[2 * t + 1] += raw[2 * u + 1]; }
        centre[2 * t] /= b - a + 1; centre[2 * t + 1] /= b - a + 1;
      }
      const box = emptyBox();
      for (const m of motions) {
        for (let t = 0; t < N; t++) {
          const k = Math.min(t, m.frames - 1) * J3;
          for (let j = 0; j < J3; j += 3) {
            growBox(box, m.joints[k + j] + m.offsetX - centre[2 * t], Math.max(0, m.joints[k + j + 1]), m.joints[k + j + 2] - centre[2 * t + 1]);
          }
        }
      }
      return {centre, box};
    }

    // Move a following camera to the smoothed centre at the current time (interpolated between frames).
    _follow(view) {
      const c = view.track.centre, f = Math.min(this.time * this.fps, this.numFrames - 1);
      const i0 = Math.floor(f), i1 = Math.min(i0 + 1, this.numFrames - 1), a = f - i0;
      const x = c[2 * i0] * (1 - a) + c[2 * i1] * a, z = c[2 * i0 + 1] * (1 - a) + c[2 * i1 + 1] * a;
      if (x === view.shiftX && z === view.shiftZ) return;
      view.shiftX = x; view.shiftZ = z;
      this._placeEye(view, this.distance);
    }

    _bindPointer(view) {
      const canvas = view.canvas;
      let drag = null;
      canvas.addEventListener("pointerdown", (e) => {
        drag = {x: e.clientX, y: e.clientY};
        canvas.setPointerCapture(e.pointerId);
      });
      canvas.addEventListener("pointermove", (e) => {
        if (!drag) return;
        this.yaw -= (e.clientX - drag.x) * 0.008;
        this.pitch = Math.min(1.45, Math.max(-0.1, this.pitch + (e.clientY - drag.y) * 0.006));
        drag = {x: e.clientX, y: e.clientY};
        this._cameraChanged();
      });
      const end = () => { drag = null; };
      canvas.addEventListener("pointerup", end);
      canvas.addEventListener("pointercancel", end);
      canvas.addEventListener("wheel", (e) => {
        e.preventDefault(); // zoom the view, not the page
        this.zoom = Math.min(4, Math.max(0.25, this.zoom * Math.exp(e.deltaY * 0.0012)));
        this._cameraChanged();
      }, {passive: false});
      canvas.addEventListener("dblclick", () => this.resetView());
    }

    _observe() {
      if (typeof ResizeObserver === "undefined") return;
      this._resizeObserver = new ResizeObserver(() => this._resize());
      this._resizeObserver.observe(this.viewsNode);
    }

    // Match canvas pixels to CSS size (times devicePixelRatio, for crisp lines) and refit the cameras.
    _resize() {
      this.palette = themeOf(this.root);
      this.root.classList.toggle("mp-dark", this.palette === PALETTES.dark);
      const dpr = global.devicePixelRatio || 1;
      const grid = this.options.layout === "grid";
      for (const view of this.views) {
        const width = Math.max(120, view.cell.clientWidth || 480);
        const height = grid ? Math.round(width * 1.05) : Math.round(Math.min(560, Math.max(280, width * 0.52)));
        if (width === view.width && height === view.height && dpr === view.dpr) continue;
        view.width = width; view.height = height; view.dpr = dpr;
        view.canvas.width = Math.round(width * dpr);
        view.canvas.height = Math.round(height * dpr);
        view.canvas.style.height = height + "px";
      }
      this._cameraChanged();
    }

    // ------------------------------------------------------------------ camera and projection

    // All views share yaw, pitch and one distance (so a sweep compares like with like); each looks at its own
    // target. The distance is the smallest at which every view's box fits, times the user's zoom.
    _cameraChanged() {
      let dist = 0;
      for (const view of this.views) dist = Math.max(dist, this._orient(view));
      this.distance = dist * this.zoom;
      for (const view of this.views) this._placeEye(view, this.distance);
      this._dirty = true;
    }

    // Set the camera axes from yaw/pitch and return the distance that fits the view's box on screen.
    _orient(view) {
      const c = view.cam, cp = Math.cos(this.pitch);
      const fx = -cp * Math.sin(this.yaw), fy = -Math.sin(this.pitch), fz = -cp * Math.cos(this.yaw);
      // right = forward x up(0,1,0), up = right x forward
      let rx = -fz, rz = fx;
      const rl = Math.hypot(rx, rz) || 1; rx /= rl; rz /= rl;
      c[3] = rx; c[4] = 0; c[5] = rz;
      c[6] = -rz * fy; c[7] = rz * fx - rx * fz; c[8] = rx * fy;
      c[9] = fx; c[10] = fy; c[11] = fz;
      view.focal = view.height / 2 / Math.tan(FOV / 2);
      // A corner at camera offsets (a, b, depth d + e) is on screen when |a| f / (d + e) <= half-size, so
      // d >= |a| f / half - e: exact for a perspective camera, no bounding-sphere slack.
      const b = view.box, t = view.target;
      const halfW = 0.92 * view.width / 2, halfH = 0.9 * view.height / 2;
      let need = 0.5;
      for (let k = 0; k < 8; k++) {
        const x = (k & 1 ? b.maxX : b.minX) - t[0];
        const y = (k & 2 ? b.maxY + LABEL_ROOM : b.minY) - t[1];
        const z = (k & 4 ? b.maxZ : b.minZ) - t[2];
        const a = x * c[3] + z * c[5], v = x * c[6] + y * c[7] + z * c[8], e = x * fx + y * fy + z * fz;
        need = Math.max(need, (Math.abs(a) * view.focal) / halfW - e, (Math.abs(v) * view.focal) / halfH - e);
      }
      return need;
    }

    _placeEye(view, dist) {
      const c = view.cam, t = view.target;
      c[0] = t[0] + view.shiftX - dist * c[9]; c[1] = t[1] - dist * c[10]; c[2] = t[2] + view.shiftZ - dist * c[11];
      this._projectFloor(view);
      this._projectTrails(view);
    }

    // Project (x, y, z) into out[i], out[i + 1] (CSS pixels); NaN when behind the near plane. Returns depth.
    _project(view, x, y, z, out, i) {
      const c = view.cam;
      const vx = x - c[0], vy = y - c[1], vz = z - c[2];
      const depth = vx * c[9] + vy * c[10] + vz * c[11];
      if (depth < NEAR) { out[i] = NaN; out[i + 1] = NaN; return depth; }
      const s = view.focal / depth;
      out[i] = view.width / 2 + s * (vx * c[3] + vy * c[4] + vz * c[5]);
      out[i + 1] = view.height / 2 - s * (vx * c[6] + vy * c[7] + vz * c[8]);
      return depth;
    }

    // The floor only moves with the camera, so it is projected here, not every frame (a following camera
    // moves every frame: a few hundred projections, still far below a millisecond).
    _projectFloor(view) {
      const f = view.floor;
      let i = 0;
      for (let x = f.x0; x <= f.x1 + 1e-6; x += GRID_STEP) i = this._projectLine(view, x, f.z0, x, f.z1, i);
      for (let z = f.z0; z <= f.z1 + 1e-6; z += GRID_STEP) i = this._projectLine(view, f.x0, z, f.x1, z, i);
      view.gridCount = i;
    }

    _projectLine(view, x0, z0, x1, z1, i) {
      for (let k = 0; k <= GRID_PIECES; k++, i += 2) {
        const a = k / GRID_PIECES;
        this._project(view, x0 + (x1 - x0) * a, 0, z0 + (z1 - z0) * a, view.gridScreen, i);
      }
      return i;
    }

    _projectTrails(view) {
      const J3 = this.numJoints * 3;
      view.motions.forEach((m, k) => {
        const trail = view.trails[k];
        for (let t = 0; t < m.frames; t++) {
          this._project(view, m.joints[t * J3] + m.offsetX, 0.002, m.joints[t * J3 + 2], trail, t * 2);
        }
      });
    }

    // Swap motion `index` for its variant nearest to `value` (a strength): the same frames and slot, so the
    // time position and camera stay; the next animation frame draws it. Returns the strength shown, or null
    // when the motion has no variants.
    showVariant(index, value) {
      const m = this.motions[index];
      if (!m || !m.variants.length) return null;
      let best = m.variants[0];
      for (const v of m.variants) if (Math.abs(v.strength - value) < Math.abs(best.strength - value)) best = v;
      if (m.strength === best.strength) return best.strength;
      m.joints = best.joints; m.label = best.label; m.strength = best.strength;
      for (const view of this.views) {
        if (view.motions.indexOf(m) < 0) continue;
        if (view.track) view.track.centre = this._followTrack(view.motions).centre;
        this._projectTrails(view);
      }
      this._dirty = true;
      if (this.onVariant) this.onVariant(index, best);
      return best.strength;
    }

    // Every mounted player: each motion with variants shows the one nearest to `value`.
    static scrub(value) {
      const shown = [];
      for (const p of global.__motionPlayers || []) {
        p.motions.forEach((m, i) => { if (m.variants.length) shown.push(p.showVariant(i, value)); });
      }
      return shown;
    }

    resetView() {
      this.yaw = DEFAULT_YAW; this.pitch = DEFAULT_PITCH; this.zoom = 1;
      this._cameraChanged();
    }

    // ------------------------------------------------------------------ playback

    play() {
      if (this.frame >= this.numFrames - 1 && !this.loop) this.time = 0; // replay a finished clip
      this.playing = true;
      this._lastNow = null;
      this._syncButton();
    }

    pause() {
      this.playing = false;
      this._syncButton();
    }

    toggle() { if (this.playing) this.pause(); else this.play(); }

    seek(frame) {
      frame = Math.max(0, Math.min(this.numFrames - 1, Math.round(frame)));
      this.time = frame / this.fps;
      this._setFrame(frame);
      this._dirty = true;
    }

    _syncButton() {
      if (!this.playButton) return;
      this.playButton.textContent = this.playing ? "\u275a\u275a" : "\u25b6";
      this.playButton.setAttribute("aria-label", this.playing ? "pause" : "play");
      this.playButton.classList.toggle("mp-playing", this.playing);
    }

    _setFrame(frame) {
      if (frame === this.frame && this.slider.value == frame) return;
      this.frame = frame;
      this.slider.value = frame;
      this._updateReadout();
    }

    _updateReadout() {
      this.readout.textContent = (this.frame / this.fps).toFixed(2) + " / " + ((this.numFrames - 1) / this.fps).toFixed(2) + " s";
    }

    // Advance by wall-clock time (not by counting animation frames) so playback is real time at any refresh rate.
    _advance(now) {
      if (!this.playing) { this._lastNow = null; return; }
      if (this._lastNow !== null) {
        this.time += (Math.min(now - this._lastNow, 250) / 1000) * this.speed; // cap: tab switches
        const end = (this.numFrames - 1) / this.fps;
        if (this.time > end) {
          if (this.loop && this.numFrames > 1) this.time %= this.duration;
          else { this.time = end; this.pause(); }
        }
        this._dirty = true;
      }
      this._lastNow = now;
      this._setFrame(Math.min(this.numFrames - 1, Math.floor(this.time * this.fps + 1e-6)));
    }

    _tick(now) {
      this._raf = requestAnimationFrame(this._tick);
      this._advance(now);
      if (this._dirty) { this._dirty = false; this.draw(); }
    }

    // ------------------------------------------------------------------ drawing

    draw() {
      for (const view of this.views) this._drawView(view);
    }

    _drawView(view) {
      const ctx = view.ctx, p = this.palette;
      ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
      ctx.fillStyle = p.bg;
      ctx.fillRect(0, 0, view.width, view.height);
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      if (view.track) this._follow(view);
      this._drawFloor(view);
      for (let k = 0; k < view.motions.length; k++) this._posePose(view, k);
      this._sortByDepth(view);
      for (let k = 0; k < view.motions.length; k++) this._drawTrail(view, view.order[k]);
      for (let k = 0; k < view.motions.length; k++) this._drawSkeleton(view, view.motions[view.order[k]]);
      for (let k = 0; k < view.motions.length; k++) this._drawLabel(view, view.motions[k]);
    }

    _drawFloor(view) {
      const ctx = view.ctx, s = view.gridScreen;
      ctx.strokeStyle = this.palette.grid;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let i = 0; i < view.gridCount; i += 2 * (GRID_PIECES + 1)) {
        let pen = false;
        for (let k = 0; k <= GRID_PIECES; k++) {
          const x = s[i + 2 * k], y = s[i + 2 * k + 1];
          if (x !== x) { pen = false; continue; } // NaN: behind the camera
          if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
          pen = true;
        }
      }
      ctx.stroke();
    }

    // Interpolate between the two nearest frames (smooth at slow speeds), project into motion.screen.
    _posePose(view, k) {
      const m = view.motions[k], J = this.numJoints;
      const f = Math.min(this.time * this.fps, m.frames - 1);
      const i0 = Math.floor(f), i1 = Math.min(i0 + 1, m.frames - 1), a = f - i0;
      const A = i0 * J * 3, B = i1 * J * 3, pose = m.pose;
      for (let j = 0; j < J * 3; j++) pose[j] = m.joints[A + j] * (1 - a) + m.joints[B + j] * a;
      let depth = 0;
      for (let j = 0; j < J; j++) depth += this._project(view, pose[3 * j] + m.offsetX, pose[3 * j + 1], pose[3 * j + 2], m.screen, 2 * j);
      m.depth = depth / J;
      m.shown = f;
    }

    // Far skeletons first so near ones overlap them (insertion sort: tiny array, no allocation).
    _sortByDepth(view) {
      const o = view.order, ms = view.motions;
      for (let i = 1; i < o.length; i++) {
        const v = o[i];
        let j = i - 1;
        while (j >= 0 && ms[o[j]].depth < ms[v].depth) { o[j + 1] = o[j]; j--; }
        o[j + 1] = v;
      }
    }

    _drawTrail(view, k) {
      const m = view.motions[k], trail = view.trails[k], ctx = view.ctx;
      const last = Math.min(Math.floor(m.shown), m.frames - 1);
      if (last < 1) return;
      ctx.strokeStyle = this.palette.trail;
      ctx.globalAlpha = 0.75;
      ctx.lineWidth = 2;
      ctx.beginPath();
      let pen = false;
      for (let t = 0; t <= last; t++) {
        const x = trail[2 * t], y = trail[2 * t + 1];
        if (x !== x) { pen = false; continue; }
        if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
    }

    _drawSkeleton(view, m) {
      const ctx = view.ctx, s = m.screen, p = this.palette;
      // Line width follows perspective so near skeletons look nearer; clamped to stay legible.
      const width = Math.max(1.5, Math.min(5, (view.focal * 0.034) / Math.max(m.depth, NEAR)));
            const order = this._leftIsFar(view, m) ? this.leftFarOrder : this.rightFarOrder;
      for (let g = 0; g < 3; g++) {
        const key = order[g], chains = this.groups[key];
        ctx.strokeStyle = p[key];
        ctx.lineWidth = width;
        ctx.beginPath();
        for (let c = 0; c < chains.length; c++) {
          const chain = chains[c];
          let pen = false;
          for (let k = 0; k < chain.length; k++) {
            const x = s[2 * chain[k]], y = s[2 * chain[k] + 1];
            if (x !== x) { pen = false; continue; }
            if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
            pen = true;
          }
        }
        ctx.stroke();
      }
      this._drawHead(view, m, width);
    }

    // Which side is nearer: the left hip's position (joint 1) against the right's (joint 2) along the view axis.
    _leftIsFar(view, m) {
      const c = view.cam, q = m.pose;
      const dl = q[3] * c[9] + q[4] * c[10] + q[5] * c[11];
      const dr = q[6] * c[9] + q[7] * c[10] + q[8] * c[11];
      return dl > dr;
    }

    _drawHead(view, m, width) {
      const head = this.numJoints > 15 ? 15 : this.numJoints - 1;
      const x = m.screen[2 * head], y = m.screen[2 * head + 1];
      if (x !== x) return;
      const ctx = view.ctx;
      ctx.fillStyle = this.palette.spine;
      ctx.beginPath();
      ctx.arc(x, y, width * 1.6, 0, 2 * Math.PI);
      ctx.fill();
    }

    // Label a little above the head, with a halo so it reads over grid lines and other skeletons.
    _drawLabel(view, m) {
      const q = m.pose, J = this.numJoints;
      let top = -Infinity;
      for (let j = 0; j < J; j++) if (q[3 * j + 1] > top) top = q[3 * j + 1];
      const out = view.labelPos || (view.labelPos = new Float32Array(2));
      this._project(view, q[0] + m.offsetX, top + 0.18, q[2], out, 0);
      if (out[0] !== out[0]) return;
      const ctx = view.ctx;
      ctx.font = "600 13px system-ui, -apple-system, 'Segoe UI', sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "bottom";
      ctx.lineWidth = 4;
      ctx.strokeStyle = this.palette.halo;
      ctx.strokeText(m.label, out[0], out[1]);
      ctx.fillStyle = this.palette.text;
      ctx.fillText(m.label, out[0], out[1]);
    }

    // Draw n frames back to back (stepping through the clip) and return milliseconds per frame. Reading one
    // pixel at the end forces the browser to finish the queued drawing, so the time is real.
    benchmark(n) {
      n = n || 100;
      const saved = this.time;
      const start = performance.now();
      for (let i = 0; i < n; i++) {
        this.time = ((i % this.numFrames) + 0.5) / this.fps;
        this.draw();
      }
      this.views[0].ctx.getImageData(0, 0, 1, 1);
      const ms = (performance.now() - start) / n;
      this.time = saved;
      this._dirty = true;
      return ms;
    }

    destroy() {
      cancelAnimationFrame(this._raf);
      this._raf = 0;
      this.playing = false;
      if (this._resizeObserver) this._resizeObserver.disconnect();
      this.root.removeEventListener("keydown", this._onKey);
      this.root.remove();
      const list = global.__motionPlayers || [];
      const i = list.indexOf(this);
      if (i >= 0) list.splice(i, 1);
      if (this.container.__motionPlayer === this) delete this.container.__motionPlayer;
    }
  }

  global.MotionPlayer = MotionPlayer;
  global.__motionPlayers = global.__motionPlayers || [];
})(typeof window !== "undefined" ? window : globalThis);
