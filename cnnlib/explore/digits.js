// Draw a digit, watch the CNN think: the browser half of cnnlib.explore.digits.draw_digit.
//
// The Python side (digits.py) is the single source of truth: preprocess() repeats
// cnnlib.explore.digits.mnist_style step for step, in the same order of float64 operations,
// and forward() runs the layers of export_layers() (batch norm already folded). The page's
// numbers are checked against both in headless Chromium (tests/site/test_explore_digits.py).
//
// Test hook, on the root element: root.digits.raw() -> {width, height, data: ink 0-255 per
// pixel}; image() -> 784 values in [0, 1] (the 28x28 input before normalisation); input() ->
// 784 float32 values the network reads; logits(); probabilities(); maps() -> [{name, shape,
// data}]; state() -> all of them from the last update, with its source ("drawing", "sample" or
// "empty"); clear(); sample(i); update() (recompute now); pending() (an update is scheduled).
/* eslint-disable no-var */
function cnnlibDigits(root) {
  "use strict";
  var cfg = JSON.parse(root.querySelector(".cd-config").textContent);
  var nojs = root.querySelector(".cd-nojs");
  if (nojs) nojs.parentNode.removeChild(nojs);  // shown only where the script never ran
  var FRAME = cfg.frame, BOX = cfg.box, CENTRE = cfg.centre, TIE = cfg.tie;
  var pad = root.querySelector(".cd-pad");
  var padCtx = pad.getContext("2d", { willReadFrequently: true });
  var inputCanvas = root.querySelector(".cd-input");
  var status = root.querySelector(".cd-status");
  var probsBox = root.querySelector(".cd-probs");
  var mapsBox = root.querySelector(".cd-maps");
  var PEN = pad.width / 12.5;  // about MNIST's stroke width once the digit is scaled into 20x20
  var THROTTLE_MS = 60;

  // ------------------------------------------------------------------ decoding the config
  function bytes(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  var wbytes = bytes(cfg.weights), view = new DataView(wbytes.buffer);
  var W = new Float32Array(wbytes.length / 4);
  for (var i = 0; i < W.length; i++) W[i] = view.getFloat32(4 * i, true);  // little-endian
  function slice(ref) { return W.subarray(ref[0], ref[0] + ref[1]); }
  cfg.layers.forEach(function (L) {
    ["weight", "bias", "scale", "shift"].forEach(function (k) { if (L[k]) L[k] = slice(L[k]); });
  });
  var samples = cfg.samples.map(function (s) { return { label: s.label, pixels: bytes(s.pixels) }; });

  // ------------------------------------------------------------------ preprocessing (mnist_style)
  function overlaps(nIn, nOut) {  // digits._overlaps
    var rows = [];
    for (var i = 0; i < nOut; i++) {
      var first = Math.floor((i * nIn) / nOut);
      var last = Math.floor(((i + 1) * nIn + nOut - 1) / nOut) - 1;
      var weights = [];
      for (var x = first; x <= last; x++) {
        var start = (x * nOut) / nIn, end = ((x + 1) * nOut) / nIn;
        weights.push(Math.min(i + 1, end) - Math.max(i, start));
      }
      rows.push([first, weights]);
    }
    return rows;
  }

  // ink: Float64Array (H*W) in [0, 1]. Returns a Float64Array(28*28) or null when blank.
  function preprocess(ink, H, Wd) {
    var r0 = H, r1 = -1, c0 = Wd, c1 = -1, y, x, i, j;
    for (y = 0; y < H; y++) {
      for (x = 0; x < Wd; x++) {
        if (ink[y * Wd + x] > 0) {
          if (y < r0) r0 = y;
          if (y > r1) r1 = y;
          if (x < c0) c0 = x;
          if (x > c1) c1 = x;
        }
      }
    }
    if (r1 < 0) return null;
    var h = r1 - r0 + 1, w = c1 - c0 + 1, longer = Math.max(h, w);
    var nh = Math.max(1, Math.floor((2 * BOX * h + longer) / (2 * longer)));
    var nw = Math.max(1, Math.floor((2 * BOX * w + longer) / (2 * longer)));
    var tall = new Float64Array(nh * w);
    overlaps(h, nh).forEach(function (row, i) {
      var first = row[0], weights = row[1];
      for (var x = 0; x < w; x++) {
        var acc = 0;
        for (var k = 0; k < weights.length; k++) acc = acc + weights[k] * ink[(r0 + first + k) * Wd + c0 + x];
        tall[i * w + x] = acc;
      }
    });
    var small = new Float64Array(nh * nw);
    overlaps(w, nw).forEach(function (row, j) {
      var first = row[0], weights = row[1];
      for (var i = 0; i < nh; i++) {
        var acc = 0;
        for (var k = 0; k < weights.length; k++) acc = acc + weights[k] * tall[i * w + first + k];
        small[i * nw + j] = acc;
      }
    });
    var mass = 0, cy = 0, cx = 0, s;
    for (i = 0; i < nh; i++) {
      s = 0;
      for (j = 0; j < nw; j++) s += small[i * nw + j];
      mass += s;
      cy += i * s;
    }
    for (j = 0; j < nw; j++) {
      s = 0;
      for (i = 0; i < nh; i++) s += small[i * nw + j];
      cx += j * s;
    }
    cy = cy / mass;
    cx = cx / mass;
    var top = Math.floor(CENTRE - cy + 0.5 + TIE), left = Math.floor(CENTRE - cx + 0.5 + TIE);
    var out = new Float64Array(FRAME * FRAME);
    for (i = 0; i < nh; i++) {
      for (j = 0; j < nw; j++) {
        y = top + i;
        x = left + j;
        if (y >= 0 && y < FRAME && x >= 0 && x < FRAME) out[y * FRAME + x] = small[i * nw + j];
      }
    }
    return out;
  }

  function normalise(image) {  // digits.normalize: float64, rounded once to float32
    var out = new Float32Array(image.length);
    for (var i = 0; i < image.length; i++) out[i] = (image[i] - cfg.mean) / cfg.std;
    return out;
  }

  // ------------------------------------------------------------------ the network
  // Activations: {c, h, w, data: Float64Array} (spatial) or {n, data} (flat).
  function conv(x, L) {
    var O = L.shape[0], OH = L.shape[1], OW = L.shape[2], C = x.c, H = x.h, Wd = x.w;
    var KH = L.kernel[0], KW = L.kernel[1], sh = L.stride[0], sw = L.stride[1];
    var ph = L.padding[0], pw = L.padding[1], dh = L.dilation[0], dw = L.dilation[1];
    var wt = L.weight, out = new Float64Array(O * OH * OW), xd = x.data;
    for (var o = 0; o < O; o++) {
      for (var oy = 0; oy < OH; oy++) {
        for (var ox = 0; ox < OW; ox++) {
          var acc = L.bias[o];
          for (var c = 0; c < C; c++) {
            var wbase = ((o * C + c) * KH) * KW, xbase = c * H * Wd;
            for (var ky = 0; ky < KH; ky++) {
              var iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= H) continue;
              for (var kx = 0; kx < KW; kx++) {
                var ix = ox * sw - pw + kx * dw;
                if (ix < 0 || ix >= Wd) continue;
                acc += wt[wbase + ky * KW + kx] * xd[xbase + iy * Wd + ix];
              }
            }
          }
          out[(o * OH + oy) * OW + ox] = acc;
        }
      }
    }
    return { c: O, h: OH, w: OW, data: out };
  }

  function pool(x, L, isMax) {
    var C = x.c, H = x.h, Wd = x.w, OH = L.shape[1], OW = L.shape[2];
    var KH = L.kernel[0], KW = L.kernel[1], sh = L.stride[0], sw = L.stride[1];
    var ph = L.padding[0], pw = L.padding[1], out = new Float64Array(C * OH * OW), xd = x.data;
    for (var c = 0; c < C; c++) {
      for (var oy = 0; oy < OH; oy++) {
        for (var ox = 0; ox < OW; ox++) {
          var best = -Infinity, sum = 0, count = 0;
          for (var ky = 0; ky < KH; ky++) {
            var iy = oy * sh - ph + ky;
            for (var kx = 0; kx < KW; kx++) {
              var ix = ox * sw - pw + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= Wd) {
                // padding: ignored by max pooling; a zero counted by average pooling if asked
                if (!isMax && L.count_include_pad && iy < H + ph && ix < Wd + pw) count++;
                continue;
              }
              var v = xd[(c * H + iy) * Wd + ix];
              if (v > best) best = v;
              sum += v;
              count++;
            }
          }
          out[(c * OH + oy) * OW + ox] = isMax ? best : sum / count;
        }
      }
    }
    return { c: C, h: OH, w: OW, data: out };
  }

  function forward(input) {
    var x = { c: 1, h: FRAME, w: FRAME, data: Float64Array.from(input) }, shown = [];
    cfg.layers.forEach(function (L) {
      var d, i, n;
      if (L.kind === "conv") x = conv(x, L);
      else if (L.kind === "affine") {
        d = new Float64Array(x.data.length);
        n = x.h * x.w;
        for (i = 0; i < d.length; i++) d[i] = x.data[i] * L.scale[Math.floor(i / n)] + L.shift[Math.floor(i / n)];
        x = { c: x.c, h: x.h, w: x.w, data: d };
      } else if (L.kind === "relu") {
        d = x.data.map(function (v) { return v > 0 ? v : 0; });
        x = Object.assign({}, x, { data: d });
      } else if (L.kind === "maxpool" || L.kind === "avgpool") x = pool(x, L, L.kind === "maxpool");
      else if (L.kind === "flatten") x = { n: x.data.length, data: x.data };
      else if (L.kind === "linear") {
        var O = L.shape[0], I = x.n;
        d = new Float64Array(O);
        for (var o = 0; o < O; o++) {
          var acc = L.bias[o];
          for (i = 0; i < I; i++) acc += L.weight[o * I + i] * x.data[i];
          d[o] = acc;
        }
        x = { n: O, data: d };
      }
      if (L.show) shown.push({ name: L.name, shape: [x.c, x.h, x.w], data: x.data });
    });
    return { logits: x.data, maps: shown };
  }

  // ------------------------------------------------------------------ display
  var rows = cfg.classes.map(function (label) {
    var row = document.createElement("div");
    row.className = "cd-row";
    row.setAttribute("role", "listitem");
    row.innerHTML = '<span class="cd-label"></span><span class="cd-bar"><span class="cd-fill"></span></span>' +
      '<span class="cd-pct"></span>';
    row.querySelector(".cd-label").textContent = label;
    probsBox.appendChild(row);
    return row;
  });

  var mapViews = cfg.layers.filter(function (L) { return L.show; }).map(function (L) {
    var C = L.shape[0], S = Math.max(L.shape[1], L.shape[2]);
    var cols = C <= 8 ? C : (S >= 10 ? 8 : 16), rowsN = Math.ceil(C / cols);
    var scale = Math.max(1, Math.round((C <= 16 ? 40 : 30) / S)), gap = 2;  // cells of ~30-40 px
    var cellW = L.shape[2] * scale + gap, cellH = L.shape[1] * scale + gap;
    var sec = document.createElement("figure");
    sec.className = "cd-layer";
    var cap = document.createElement("figcaption");
    cap.textContent = L.name + " (" + (L.kind === "relu" ? "after ReLU" : L.kind) + "): " + C +
      " feature maps, " + L.shape[1] + "×" + L.shape[2];
    var cv = document.createElement("canvas");
    cv.width = cols * cellW - gap;
    cv.height = rowsN * cellH - gap;
    cv.style.width = cv.width + "px";
    cv.setAttribute("role", "img");
    cv.setAttribute("aria-label", "The " + C + " feature maps of " + L.name + ", brighter where more active");
    sec.appendChild(cap);
    sec.appendChild(cv);
    mapsBox.appendChild(sec);
    return { layer: L, canvas: cv, cols: cols, scale: scale, cellW: cellW, cellH: cellH };
  });

  // viridis (matplotlib's default colour map, as chapter 6's feature-map figures), 9 stops
  var VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];
  function viridis(t) {
    var p = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1), i = Math.min(Math.floor(p), VIRIDIS.length - 2);
    var f = p - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }

  function drawMaps(maps) {
    mapViews.forEach(function (v, idx) {
      var ctx = v.canvas.getContext("2d"), cv = v.canvas;
      var img = ctx.createImageData(cv.width, cv.height), px = img.data;
      var m = maps && maps[idx], L = v.layer, C = L.shape[0], H = L.shape[1], Wd = L.shape[2];
      var lo = 0, hi = 0, i;
      if (m) {
        lo = Infinity;
        hi = -Infinity;
        for (i = 0; i < m.data.length; i++) {
          if (m.data[i] < lo) lo = m.data[i];
          if (m.data[i] > hi) hi = m.data[i];
        }
      }
      var span = hi > lo ? hi - lo : 1;  // one colour scale per layer: strong and weak maps compare
      for (var c = 0; c < C; c++) {
        var gx = (c % v.cols) * v.cellW, gy = Math.floor(c / v.cols) * v.cellH;
        for (var y = 0; y < H * v.scale; y++) {
          for (var x = 0; x < Wd * v.scale; x++) {
            var val = m ? m.data[(c * H + Math.floor(y / v.scale)) * Wd + Math.floor(x / v.scale)] : lo;
            var rgb = viridis((val - lo) / span), o = ((gy + y) * cv.width + gx + x) * 4;
            px[o] = rgb[0];
            px[o + 1] = rgb[1];
            px[o + 2] = rgb[2];
            px[o + 3] = m ? 255 : 60;
          }
        }
      }
      ctx.putImageData(img, 0, 0);
    });
  }

  function drawInput(image) {
    var ctx = inputCanvas.getContext("2d"), img = ctx.createImageData(FRAME, FRAME);
    for (var i = 0; i < FRAME * FRAME; i++) {
      var g = image ? Math.round(255 * (1 - image[i])) : 255;  // ink dark on white, as drawn
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function softmax(z) {
    var m = Math.max.apply(null, z), e = z.map(function (v) { return Math.exp(v - m); });
    var s = e.reduce(function (a, b) { return a + b; }, 0);
    return e.map(function (v) { return v / s; });
  }

  function showProbs(p) {
    var best = -1;
    if (p) best = p.indexOf(Math.max.apply(null, p));
    rows.forEach(function (row, k) {
      var pct = p ? 100 * p[k] : 0;
      row.querySelector(".cd-fill").style.width = pct.toFixed(1) + "%";
      row.querySelector(".cd-pct").textContent = p ? pct.toFixed(1) + "%" : "";
      row.classList.toggle("cd-best", k === best);
    });
    return best;
  }

  // ------------------------------------------------------------------ state and updates
  var source = "empty", sampleImage = null, state = null, timer = null;

  function rawInk() {
    var d = padCtx.getImageData(0, 0, pad.width, pad.height).data, n = pad.width * pad.height;
    var ink = new Uint8Array(n);
    for (var i = 0; i < n; i++) ink[i] = d[4 * i + 3];  // the ink is the alpha channel
    return ink;
  }

  function update(announce) {
    if (timer) { clearTimeout(timer); timer = null; }
    var raw = rawInk(), image = null;
    if (source === "sample") image = sampleImage;
    else {
      var ink = new Float64Array(raw.length);
      for (var i = 0; i < raw.length; i++) ink[i] = raw[i] / 255;
      image = preprocess(ink, pad.height, pad.width);
      source = image ? "drawing" : "empty";
    }
    var input = image ? normalise(image) : null, result = image ? forward(input) : null;
    var logits = result ? Array.from(result.logits) : null, probs = logits ? softmax(logits) : null;
    state = { source: source, raw: raw, image: image, input: input, logits: logits, probs: probs,
      maps: result ? result.maps : null };
    drawInput(image);
    drawMaps(state.maps);
    var best = showProbs(probs);
    root.setAttribute("data-prediction", best >= 0 ? cfg.classes[best] : "");
    if (announce || !probs) {
      status.textContent = probs
        ? "The network says " + cfg.classes[best] + " (" + (100 * probs[best]).toFixed(1) + "%)."
        : "Draw a digit, or load one.";
    }
  }

  function schedule() {
    if (!timer) timer = setTimeout(function () { timer = null; update(false); }, THROTTLE_MS);
  }

  // ------------------------------------------------------------------ drawing
  var drawing = false, last = null;
  padCtx.lineCap = "round";
  padCtx.lineJoin = "round";
  function point(e) {
    var r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  function startInk() {
    if (source === "sample") source = "drawing";  // drawing over a sample edits it
    padCtx.strokeStyle = padCtx.fillStyle = "#000";
    padCtx.lineWidth = PEN;
  }
  pad.addEventListener("pointerdown", function (e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    if (pad.setPointerCapture) { try { pad.setPointerCapture(e.pointerId); } catch (err) { /* synthetic */ } }
    drawing = true;
    startInk();
    last = point(e);
    padCtx.beginPath();
    padCtx.arc(last[0], last[1], PEN / 2, 0, 2 * Math.PI);
    padCtx.fill();
    schedule();
  });
  pad.addEventListener("pointermove", function (e) {
    if (!drawing) return;
    e.preventDefault();
    var events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    if (!events.length) events = [e];
    events.forEach(function (ev) {
      var p = point(ev);
      padCtx.beginPath();
      padCtx.moveTo(last[0], last[1]);
      padCtx.lineTo(p[0], p[1]);
      padCtx.stroke();
      last = p;
    });
    schedule();
  });
  function end() {
    if (!drawing) return;
    drawing = false;
    update(true);
  }
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);

  function clear() {
    padCtx.clearRect(0, 0, pad.width, pad.height);
    source = "empty";
    sampleImage = null;
    update(true);
  }
  function loadSample(k) {
    var s = samples[k], img = new Float64Array(FRAME * FRAME);
    var tmp = document.createElement("canvas");
    tmp.width = tmp.height = FRAME;
    var tctx = tmp.getContext("2d"), data = tctx.createImageData(FRAME, FRAME);
    for (var i = 0; i < FRAME * FRAME; i++) {
      img[i] = s.pixels[i] / 255;
      data.data[4 * i + 3] = s.pixels[i];  // black ink, alpha = the digit
    }
    tctx.putImageData(data, 0, 0);
    padCtx.clearRect(0, 0, pad.width, pad.height);
    padCtx.imageSmoothingEnabled = true;
    padCtx.drawImage(tmp, 0, 0, pad.width, pad.height);
    source = "sample";
    sampleImage = img;
    update(true);
  }
  root.querySelector(".cd-clear").addEventListener("click", clear);
  root.querySelectorAll(".cd-sample").forEach(function (b) {
    b.addEventListener("click", function () { loadSample(+b.getAttribute("data-index")); });
  });

  function list(a) { return a ? Array.from(a) : null; }
  root.digits = {
    raw: function () { return { width: pad.width, height: pad.height, data: Array.from(rawInk()) }; },
    image: function () { return list(state.image); },
    input: function () { return list(state.input); },
    logits: function () { return list(state.logits); },
    probabilities: function () { return list(state.probs); },
    maps: function () {
      return (state.maps || []).map(function (m) { return { name: m.name, shape: m.shape, data: Array.from(m.data) }; });
    },
    state: function () {
      return { source: state.source, raw: { width: pad.width, height: pad.height, data: Array.from(state.raw) },
        image: list(state.image), input: list(state.input), logits: list(state.logits) };
    },
    clear: clear,
    sample: loadSample,
    update: function () { update(true); },
    pending: function () { return timer !== null || drawing; }
  };
  update(true);
}
