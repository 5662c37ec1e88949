/* cnnlib convolution explorer (cnnlib/explore/convolution.py inlines this file).
   cnnxInit(root) wires one explorer: it reads and writes only elements inside `root`, and
   defines no globals, so several explorers live on one page. The arithmetic mirrors
   F.conv2d / F.pad / F.max_pool2d / F.avg_pool2d and is tested against them in Chromium. */
function cnnxInit(root) {
  "use strict";
  if (!root || root.explorer) return;
  var data = JSON.parse(root.querySelector("script.cnnx-data").textContent);
  var q = function (name) { return root.querySelector('[data-cnnx="' + name + '"]'); };
  var el = {
    image: q("image"), op: q("op"), kernel: q("kernel"), pool: q("pool_size"),
    stride: q("stride"), padding: q("padding"), mode: q("mode"), dilation: q("dilation"),
    weights: q("weights"), formula: q("formula"), reason: q("reason"), note: q("note"),
    inCanvas: q("in-canvas"), outCanvas: q("out-canvas"), inTitle: q("in-title"),
    outTitle: q("out-title"), legend: q("legend"), details: q("details")
  };
  var MINUS = "\u2212";
  var nojs = q("nojs");
  if (nojs) nojs.parentNode.removeChild(nojs);  // shown only where the script never ran

  // Input images as rows of numbers; kernels by name (rows of weights).
  var images = data.images.map(function (im) {
    var rows = [];
    for (var r = 0; r < im.size; r++) {
      var row = [];
      for (var c = 0; c < im.size; c++) row.push(im.values[r * im.size + c] / im.scale);
      rows.push(row);
    }
    return { label: im.label, size: im.size, x: rows, integer: im.scale === 1 &&
             im.values.every(function (v) { return Number.isInteger(v); }) };
  });
  var kernels = {};
  data.kernels.forEach(function (k) {
    var rows = [];
    for (var r = 0; r < k.size; r++) rows.push(k.weights.slice(r * k.size, (r + 1) * k.size));
    kernels[k.name] = rows;
  });

  // ------------------------------------------------------------------ number formats
  function minus(s) { return s.replace(/-/g, MINUS); }
  function trim(s) { return s.indexOf(".") < 0 ? s : s.replace(/0+$/, "").replace(/\.$/, ""); }
  function fmtShort(v) {  // 3 significant digits: details, weights
    if (v === -Infinity) return MINUS + "\u221e";
    if (Number.isInteger(v)) return minus(String(v));
    if (Math.abs(v) >= 1000) return minus(v.toFixed(0));
    var s = trim(v.toPrecision(3));
    if (s.indexOf("e") >= 0) s = trim(v.toFixed(6));
    return minus(s === "-0" ? "0" : s);
  }
  function fmtCell(v) {  // what fits in a grid cell
    if (v === -Infinity) return MINUS + "\u221e";
    if (Number.isInteger(v)) return minus(String(v));
    var s = trim(v.toFixed(Math.abs(v) >= 10 ? 1 : 2));
    return minus(s === "-0" ? "0" : s);
  }
  function fmtSum(v) {
    if (v === -Infinity) return MINUS + "\u221e";
    var s = trim(v.toFixed(4));
    return minus(s === "-0" ? "0" : s);
  }

  // ------------------------------------------------------------------ reading the controls
  function readInt(input, name, key) {
    var lim = data.limits[key], s = String(input.value).trim();
    if (!/^\d+$/.test(s) || +s < lim[0] || +s > lim[1]) {
      return { error: name + " must be a whole number from " + lim[0] + " to " + lim[1] +
               (s ? ", got " + s : "") + "." };
    }
    return { value: +s };
  }
  var custom = kernels.custom.map(function (r) { return r.slice(); });
  var weightError = null;

  function configure() {
    var c = { errors: [] };
    c.imageIndex = +el.image.value;
    c.img = images[c.imageIndex];
    c.n = c.img.size;
    c.op = el.op.value;
    c.pool = c.op !== "conv";
    var ints = [["stride", el.stride, "stride", "stride"], ["padding", el.padding, "padding", "padding"],
                ["dilation", el.dilation, "dilation", "dilation"], ["poolSize", el.pool, "window size", "pool_size"]];
    ints.forEach(function (t) {
      var r = readInt(t[1], t[2], t[3]);
      if (r.error) {
        var relevant = !(t[0] === "poolSize" && !c.pool) && !(t[0] === "dilation" && c.op === "avg_pool");
        if (relevant) c.errors.push(r.error);
        c[t[0]] = t[0] === "padding" ? 0 : 1;
      } else c[t[0]] = r.value;
    });
    if (c.pool) {
      c.kernel = c.op;
      c.k = c.poolSize;
      c.w = null;
      c.d = c.op === "max_pool" ? c.dilation : 1;
      c.mode = c.op === "max_pool" ? "-inf" : "zeros";
    } else {
      c.kernel = el.kernel.value;
      c.w = c.kernel === "custom" ? custom : kernels[c.kernel];
      c.k = c.w.length;
      c.d = c.dilation;
      c.mode = el.mode.value;
      if (c.kernel === "custom" && weightError) c.errors.push(weightError);
    }
    c.s = c.stride;
    c.p = c.padding;
    c.span = c.d * (c.k - 1) + 1;
    c.N = c.n + 2 * c.p;
    c.reason = c.errors.length ? c.errors.join(" ") : rejection(c);
    c.padOk = !c.errors.length && !(c.pool && c.p > Math.floor(c.k / 2)) &&
              !(!c.pool && c.mode === "reflect" && c.p >= c.n) && !(!c.pool && c.mode === "circular" && c.p > c.n);
    c.out = c.reason ? null : Math.floor((c.N - c.span) / c.s) + 1;
    return c;
  }

  // The same rules, in the same words, as rejection() in convolution.py.
  function rejection(c) {
    var n = c.n, k = c.k, p = c.p, d = c.d;
    if (c.pool && p > Math.floor(k / 2)) {
      return "padding " + p + " is more than half the pooling window " + k + ": torch's pooling pads " +
             "at most \u230a" + k + "/2\u230b = " + Math.floor(k / 2) + " on each side.";
    }
    if (!c.pool && c.mode === "reflect" && p >= n) {
      return "reflect padding " + p + " is not less than the input size " + n + ": reflection mirrors " +
             "the " + (n - 1) + " pixels next to each edge (the edge itself is not repeated), so " +
             "use padding \u2264 " + (n - 1) + " or another mode.";
    }
    if (!c.pool && c.mode === "circular" && p > n) {
      return "circular padding " + p + " is more than the input size " + n + ": it would wrap around " +
             "the image more than once; use padding \u2264 " + n + ".";
    }
    var span = d * (k - 1) + 1, padded = n + 2 * p;
    if (span > padded) {
      var what = c.pool ? "pooling window" : "kernel";
      var extent = d > 1 ? "dilated " + span : k + "\u00d7" + k;
      return "the " + what + " (" + extent + ") is larger than the padded input " + padded +
             " (" + n + " + 2\u00b7" + p + "): use more padding, a smaller " + what +
             (d > 1 ? " or less dilation." : ".");
    }
    return null;
  }

  // ------------------------------------------------------------------ the arithmetic
  function source(r, n, mode) {  // which input row/column a padded index reads; -1: the fill value
    if (r >= 0 && r < n) return r;
    if (mode === "reflect") return r < 0 ? -r : 2 * (n - 1) - r;
    if (mode === "replicate") return r < 0 ? 0 : n - 1;
    if (mode === "circular") return ((r % n) + n) % n;
    return -1;
  }
  function pad(c) {
    var x = c.img.x, n = c.n, p = c.padOk ? c.p : 0, N = n + 2 * p;
    var fill = c.mode === "-inf" ? -Infinity : 0, rows = [];
    for (var i = 0; i < N; i++) {
      var row = [], si = source(i - p, n, c.mode);
      for (var j = 0; j < N; j++) {
        var sj = source(j - p, n, c.mode);
        row.push(si < 0 || sj < 0 ? fill : x[si][sj]);
      }
      rows.push(row);
    }
    return rows;
  }
  function compute(c, P) {
    var out = [], k = c.k;
    for (var i = 0; i < c.out; i++) {
      var row = [];
      for (var j = 0; j < c.out; j++) {
        var acc = c.op === "max_pool" ? -Infinity : 0;
        for (var a = 0; a < k; a++) {
          var pr = P[i * c.s + a * c.d];
          for (var b = 0; b < k; b++) {
            var v = pr[j * c.s + b * c.d];
            if (c.op === "conv") acc += v * c.w[a][b];
            else if (c.op === "max_pool") { if (v > acc) acc = v; }
            else acc += v;
          }
        }
        row.push(c.op === "avg_pool" ? acc / (k * k) : acc);
      }
      out.push(row);
    }
    return out;
  }

  // ------------------------------------------------------------------ drawing
  var cur = null, P = null, Y = null, sel = [0, 0];
  var ORANGE = "rgba(255,140,26,", RED = "#d62728", BLUE = "#1f77b4";

  function grayColor(v, lo, hi) {
    if (v === -Infinity) return [150, 150, 150];
    var t = hi > lo ? (v - lo) / (hi - lo) : 0;
    t = Math.max(0, Math.min(1, t));
    var g = Math.round(255 * t);
    return [g, g, g];
  }
  function divColor(v, m) {
    var t = m > 0 ? Math.max(-1, Math.min(1, v / m)) : 0, to = t >= 0 ? [214, 39, 40] : [31, 119, 180];
    var a = Math.abs(t);
    return [0, 1, 2].map(function (i) { return Math.round(255 + (to[i] - 255) * a); });
  }
  function css(rgb) { return "rgb(" + rgb[0] + "," + rgb[1] + "," + rgb[2] + ")"; }
  function ink(rgb) { return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140 ? "#000" : "#fff"; }

  function setup(canvas, cells, cs) {
    var ratio = window.devicePixelRatio || 1, px = cells * cs;
    canvas.style.width = px + "px";
    canvas.style.height = px + "px";
    canvas.width = Math.round(px * ratio);
    canvas.height = Math.round(px * ratio);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, px, px);
    return ctx;
  }
  function drawCells(ctx, rows, cs, color, fmt) {
    var n = rows.length, font = Math.max(7, Math.min(14, cs * 0.36));
    ctx.font = font + "px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (var i = 0; i < n; i++) {
      for (var j = 0; j < n; j++) {
        var rgb = color(rows[i][j]);
        ctx.fillStyle = css(rgb);
        ctx.fillRect(j * cs, i * cs, cs, cs);
        if (cs >= 22) {
          var s = fmt(rows[i][j]);
          if (ctx.measureText(s).width <= cs - 3) {
            ctx.fillStyle = ink(rgb);
            ctx.fillText(s, j * cs + cs / 2, i * cs + cs / 2 + 0.5);
          }
        }
      }
    }
    if (cs >= 6) {  // grid lines
      ctx.strokeStyle = "rgba(128,128,128,0.55)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (var t = 0; t <= n; t++) {
        ctx.moveTo(t * cs + 0.5, 0); ctx.lineTo(t * cs + 0.5, n * cs);
        ctx.moveTo(0, t * cs + 0.5); ctx.lineTo(n * cs, t * cs + 0.5);
      }
      ctx.stroke();
    }
  }

  function cellSize(cells) {
    var w = el.inCanvas.parentNode.clientWidth || 300;
    return Math.max(3, Math.min(44, Math.floor(w / Math.max(cells, 1))));
  }

  function inputRange(c) {
    var lo = Infinity, hi = -Infinity;
    c.img.x.forEach(function (r) { r.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); }); });
    return [Math.min(lo, 0), Math.max(hi, lo + 1e-12)];
  }

  function drawInput() {
    var c = cur, N = P.length, p = c.padOk ? c.p : 0, cs = cellSize(N), range = inputRange(c);
    var ctx = setup(el.inCanvas, N, cs);
    drawCells(ctx, P, cs, function (v) { return grayColor(v, range[0], range[1]); }, fmtCell);
    if (p > 0) {  // tint the padding, outline the image
      ctx.fillStyle = "rgba(31,119,180,0.28)";
      for (var i = 0; i < N; i++) {
        for (var j = 0; j < N; j++) {
          if (i < p || j < p || i >= p + c.n || j >= p + c.n) ctx.fillRect(j * cs, i * cs, cs, cs);
        }
      }
      ctx.strokeStyle = BLUE;
      ctx.lineWidth = 2;
      ctx.setLineDash([5, 3]);
      ctx.strokeRect(p * cs, p * cs, c.n * cs, c.n * cs);
      ctx.setLineDash([]);
    }
    if (Y && sel) {  // the window of the selected output pixel
      var r0 = sel[0] * c.s, c0 = sel[1] * c.s;
      ctx.fillStyle = ORANGE + "0.45)";
      ctx.strokeStyle = ORANGE + "1)";
      ctx.lineWidth = Math.max(1, Math.min(2, cs / 8));
      for (var a = 0; a < c.k; a++) {
        for (var b = 0; b < c.k; b++) {
          var y = (r0 + a * c.d) * cs, x = (c0 + b * c.d) * cs;
          ctx.fillRect(x, y, cs, cs);
          ctx.strokeRect(x + 1, y + 1, cs - 2, cs - 2);
        }
      }
      ctx.strokeStyle = RED;
      ctx.lineWidth = 2.5;
      ctx.strokeRect(c0 * cs + 1, r0 * cs + 1, c.span * cs - 2, c.span * cs - 2);
    }
    el.inTitle.textContent = (c.padOk && c.p > 0 ? "Padded input " + N + "\u00d7" + N +
      " (" + c.n + "\u00d7" + c.n + " + padding " + c.p + ", shaded)" : "Input " + N + "\u00d7" + N);
    el.inCanvas.setAttribute("aria-label", el.inTitle.textContent +
      (Y && sel ? "; the window of output pixel (" + sel[0] + ", " + sel[1] + ") is highlighted" : ""));
  }

  var outScale = null;
  function drawOutput() {
    var c = cur;
    if (!Y) {
      setup(el.outCanvas, 0, 1);
      el.outTitle.textContent = "Output: none";
      el.legend.textContent = "";
      outScale = null;
      return;
    }
    var n = Y.length, cs = cellSize(P.length), lo = Infinity, hi = -Infinity;
    Y.forEach(function (r) { r.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); }); });
    var color, legend;
    if (c.pool) {
      var range = inputRange(c);
      color = function (v) { return grayColor(v, range[0], range[1]); };
      legend = "black " + fmtShort(range[0]) + " \u2026 white " + fmtShort(range[1]) + " (as the input)";
    } else if (lo < 0) {
      var m = Math.max(-lo, hi);
      color = function (v) { return divColor(v, m); };
      legend = "blue " + MINUS + fmtShort(m) + " \u2026 white 0 \u2026 red " + fmtShort(m);
    } else {
      var top = hi > 0 ? hi : 1;
      color = function (v) { return grayColor(v, 0, top); };
      legend = "black 0 \u2026 white " + fmtShort(top);
    }
    var ctx = setup(el.outCanvas, n, cs);
    drawCells(ctx, Y, cs, color, fmtCell);
    if (sel) {
      ctx.strokeStyle = RED;
      ctx.lineWidth = 2.5;
      ctx.strokeRect(sel[1] * cs + 1.25, sel[0] * cs + 1.25, cs - 2.5, cs - 2.5);
    }
    el.outTitle.textContent = "Output " + n + "\u00d7" + n;
    el.legend.textContent = "Colours: " + legend;
  }

  // ------------------------------------------------------------------ text
  function formula(c) {
    var f = "\u230a(n + 2p " + MINUS + " d\u00b7(k " + MINUS + " 1) " + MINUS + " 1) / s\u230b + 1";
    var nums = "\u230a(" + c.n + " + 2\u00b7" + c.p + " " + MINUS + " " + c.d + "\u00b7(" + c.k + " " + MINUS +
               " 1) " + MINUS + " 1) / " + c.s + "\u230b + 1";
    var value = Math.floor((c.N - c.span) / c.s) + 1;
    el.formula.textContent = "";
    var parts = ["Output size", "= " + f].concat(c.errors.length ? [] : ["= " + nums, "= " + minus(String(value))]);
    parts.forEach(function (text) {  // each piece wraps as a whole
      var span = document.createElement("span");
      span.textContent = text;
      el.formula.appendChild(span);
      el.formula.appendChild(document.createTextNode(" "));
    });
    var tail = document.createElement("strong");
    tail.setAttribute("data-cnnx", "out-size");
    tail.textContent = c.out ? c.out + "\u00d7" + c.out : "rejected";
    el.formula.appendChild(document.createTextNode("\u2192 "));
    el.formula.appendChild(tail);
  }
  var NOTES = {
    zeros: "zeros: the border is filled with 0.",
    reflect: "reflect: the border mirrors the pixels next to the edge (the edge pixel is not repeated).",
    replicate: "replicate: the border repeats the edge pixel.",
    circular: "circular: the image wraps around, so the left border shows the right edge.",
    max_pool: "Max pooling pads with " + MINUS + "\u221e, so padding never wins the max; " +
              "torch's default stride is the window size.",
    avg_pool: "Average pooling pads with 0 and counts the padding: every window divides by k\u00b2 " +
              "(torch's count_include_pad=True); torch's default stride is the window size."
  };

  function details() {
    var c = cur, box = el.details;
    box.textContent = "";
    if (!Y || !sel) {
      box.textContent = c.reason ? "" : "Hover or tap an output pixel (or focus the output and use the arrow keys).";
      return;
    }
    var i = sel[0], j = sel[1], r0 = i * c.s, c0 = j * c.s, v = Y[i][j];
    var head = document.createElement("p");
    var what = c.op === "conv" ? "the sum of window \u00d7 kernel" :
               c.op === "max_pool" ? "the largest value in the window" : "the mean of the window";
    head.textContent = "Output (" + i + ", " + j + ") is " + what + ": padded rows " + r0 + "\u2013" +
      (r0 + c.span - 1) + ", columns " + c0 + "\u2013" + (c0 + c.span - 1) +
      (c.d > 1 ? ", every " + ({ 2: "2nd", 3: "3rd" }[c.d] || c.d + "th") + " pixel" : "") + ".";
    box.appendChild(head);
    var grid = document.createElement("div");
    grid.className = "cnnx-products";
    grid.style.gridTemplateColumns = "repeat(" + c.k + ", minmax(0, auto))";
    var best = null, total = 0;
    for (var a = 0; a < c.k; a++) {
      for (var b = 0; b < c.k; b++) {
        var x = P[r0 + a * c.d][c0 + b * c.d], cell = document.createElement("div");
        if (c.op === "conv") {
          var w = c.w[a][b], top = document.createElement("span");
          top.textContent = fmtShort(x) + "\u00d7" + fmtShort(w);
          var prod = document.createElement("b");
          prod.textContent = fmtShort(x * w);
          cell.appendChild(top);
          cell.appendChild(prod);
          total += x * w;
        } else {
          cell.textContent = fmtShort(x);
          total += x;
          if (c.op === "max_pool" && (best === null || x > best.v)) best = { v: x, cell: cell };
        }
        grid.appendChild(cell);
      }
    }
    if (best) best.cell.className = "cnnx-max";
    var wrap = document.createElement("div");
    wrap.className = "cnnx-scroll";
    wrap.appendChild(grid);
    box.appendChild(wrap);
    var foot = document.createElement("p");
    foot.setAttribute("data-cnnx", "result");
    if (c.op === "conv") foot.textContent = "sum of the " + c.k * c.k + " products = " + fmtSum(v);
    else if (c.op === "max_pool") foot.textContent = "max = " + fmtSum(v);
    else foot.textContent = "sum / k\u00b2 = " + fmtSum(total) + " / " + c.k * c.k + " = " + fmtSum(v);
    box.appendChild(foot);
  }

  // ------------------------------------------------------------------ the weight grid
  var gridFor = null;  // which kernel the inputs show
  function buildWeights(c) {
    if (c.pool) return;
    if (gridFor === c.kernel && el.weights.children.length === c.k * c.k) return;
    gridFor = c.kernel;
    el.weights.textContent = "";
    el.weights.style.gridTemplateColumns = "repeat(" + c.k + ", 5.2em)";
    for (var a = 0; a < c.k; a++) {
      for (var b = 0; b < c.k; b++) {
        var input = document.createElement("input");
        input.type = "number";
        input.step = "any";
        input.value = String(+c.w[a][b].toPrecision(3));  // what fits; editing starts from it
        input.setAttribute("aria-label", "weight row " + (a + 1) + ", column " + (b + 1));
        input.setAttribute("data-cnnx-row", a);
        input.setAttribute("data-cnnx-col", b);
        el.weights.appendChild(input);
      }
    }
  }
  function readWeights() {
    var inputs = el.weights.querySelectorAll("input"), k = Math.round(Math.sqrt(inputs.length));
    var rows = [], bad = null;
    for (var a = 0; a < k; a++) rows.push([]);
    inputs.forEach(function (input) {
      var a = +input.getAttribute("data-cnnx-row"), b = +input.getAttribute("data-cnnx-col");
      var s = String(input.value).trim(), v = Number(s);
      if (s === "" || !isFinite(v)) {
        if (!bad) bad = "weight row " + (a + 1) + ", column " + (b + 1) + " must be a number.";
        v = 0;
      }
      rows[a][b] = v;
    });
    return { rows: rows, error: bad };
  }

  // ------------------------------------------------------------------ update
  function update() {
    cur = configure();
    var c = cur;
    root.querySelectorAll("[data-cnnx-show]").forEach(function (node) {
      node.hidden = node.getAttribute("data-cnnx-show") !== (c.pool ? "pool" : "conv");
    });
    el.mode.disabled = c.pool;
    el.dilation.disabled = c.op === "avg_pool";
    buildWeights(c);
    P = pad(c);
    Y = c.reason ? null : compute(c, P);
    if (Y) {
      if (!sel) sel = [0, 0];
      sel = [Math.min(sel[0], c.out - 1), Math.min(sel[1], c.out - 1)];
    }
    formula(c);
    el.reason.hidden = !c.reason;
    el.reason.textContent = c.reason ? "Rejected: " + c.reason : "";
    el.note.textContent = c.pool ? NOTES[c.op] : "Padding mode " + NOTES[c.mode] +
      (c.p === 0 ? " (No padding now: p = 0.)" : "");
    render();
  }
  function render() {
    drawInput();
    drawOutput();
    details();
  }

  function onWeight(event) {
    var t = event.target;
    if (!t || !t.hasAttribute("data-cnnx-row")) return;
    var read = readWeights();
    custom = read.rows;
    weightError = read.error;
    if (el.kernel.value !== "custom") {
      el.kernel.value = "custom";
      gridFor = "custom";
    }
    update();
  }
  el.weights.addEventListener("input", onWeight);
  el.weights.addEventListener("change", onWeight);
  [el.image, el.op, el.kernel, el.pool, el.stride, el.padding, el.mode, el.dilation].forEach(function (input) {
    input.addEventListener("input", update);
    input.addEventListener("change", update);
  });

  // ------------------------------------------------------------------ picking an output pixel
  function pick(event) {
    if (!Y) return;
    var rect = el.outCanvas.getBoundingClientRect(), n = Y.length;
    var j = Math.floor((event.clientX - rect.left) / rect.width * n);
    var i = Math.floor((event.clientY - rect.top) / rect.height * n);
    if (i < 0 || j < 0 || i >= n || j >= n || (sel && sel[0] === i && sel[1] === j)) return;
    sel = [i, j];
    render();
  }
  el.outCanvas.addEventListener("pointermove", function (e) { if (e.pointerType === "mouse") pick(e); });
  el.outCanvas.addEventListener("pointerdown", pick);
  el.outCanvas.addEventListener("keydown", function (e) {
    if (!Y) return;
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    var m = moves[e.key];
    if (e.key === "Home") m = [-sel[0], -sel[1]];
    if (!m) return;
    e.preventDefault();
    var n = Y.length;
    sel = [Math.max(0, Math.min(n - 1, sel[0] + m[0])), Math.max(0, Math.min(n - 1, sel[1] + m[1]))];
    render();
  });

  var lastWidth = root.clientWidth;
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      if (root.clientWidth !== lastWidth) { lastWidth = root.clientWidth; render(); }
    }).observe(root);
  }

  // ------------------------------------------------------------------ the test hook
  function copy(rows) { return rows ? rows.map(function (r) { return r.slice(); }) : null; }
  root.explorer = {
    state: function () {
      var c = cur;
      return {
        image: c.img.label, size: c.n, operation: c.op, kernel: c.kernel, weights: copy(c.w),
        kernel_size: c.k, stride: c.s, padding: c.p, padding_mode: c.mode, dilation: c.d,
        out_size: c.out, reason: c.reason, selected: Y && sel ? sel.slice() : null
      };
    },
    output: function () { return copy(Y); },
    padded: function () { return copy(P); }
  };
  update();
}
