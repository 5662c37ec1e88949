/* cnnlib multi-channel convolution explorer (cnnlib/explore/channels.py inlines this file).
   cnnxChannelsInit(root) wires one explorer: it reads and writes only elements inside `root`
   and defines no globals, so several explorers live on one page. The arithmetic mirrors
   F.conv2d(x, weight, bias, stride, padding) with zero padding, and is tested against it in
   Chromium: out[o][i][j] = bias[o] + sum over c, u, v of w[o][c][u][v] * x_pad[c][s*i+u][s*j+v]. */
function cnnxChannelsInit(root) {
  "use strict";
  if (!root || root.channels) return;
  var data = JSON.parse(root.querySelector("script.cnnx-data").textContent);
  var q = function (name) { return root.querySelector('[data-cnnx="' + name + '"]'); };
  var nojs = q("nojs");
  if (nojs) nojs.parentNode.removeChild(nojs);
  var MINUS = "\u2212", K = 3, C = 3, O = 2;
  var el = { image: q("image"), stride: q("stride"), padding: q("padding"),
             formula: q("formula"), kernels: q("kernels"), details: q("details") };
  var selected = null;  // [o, i, j]

  function fmt(v) {
    var s = Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
    if (s === "-0") s = "0";
    return s.replace(/-/g, MINUS);
  }
  function whole(input, lo, hi) {
    var v = Number(input.value);
    if (!Number.isInteger(v)) v = lo;
    v = Math.min(hi, Math.max(lo, v));
    return v;
  }
  function state() {
    var im = data.images[Number(el.image.value)];
    var s = whole(el.stride, data.limits.stride[0], data.limits.stride[1]);
    var p = whole(el.padding, data.limits.padding[0], data.limits.padding[1]);
    var n = im.size + 2 * p;
    var out = n >= K ? Math.floor((n - K) / s) + 1 : 0;
    return { image: im.label, size: im.size, stride: s, padding: p, out_size: out,
             x: im.values, selected: selected };
  }
  function padded(st) {  // [c][row][col], zeros outside the image
    var n = st.size + 2 * st.padding, res = [];
    for (var c = 0; c < C; c++) {
      var rows = [];
      for (var r = 0; r < n; r++) {
        var row = [];
        for (var k = 0; k < n; k++) {
          var a = r - st.padding, b = k - st.padding;
          row.push(a >= 0 && a < st.size && b >= 0 && b < st.size ? st.x[c][a][b] : 0);
        }
        rows.push(row);
      }
      res.push(rows);
    }
    return res;
  }
  function parts(st, xp, o, i, j) {  // [red, green, blue, bias]
    var res = [];
    for (var c = 0; c < C; c++) {
      var sum = 0;
      for (var u = 0; u < K; u++)
        for (var v = 0; v < K; v++)
          sum += data.weight[o][c][u][v] * xp[c][st.stride * i + u][st.stride * j + v];
      res.push(sum);
    }
    res.push(data.bias[o]);
    return res;
  }
  function output(st, xp) {
    var res = [];
    for (var o = 0; o < O; o++) {
      var rows = [];
      for (var i = 0; i < st.out_size; i++) {
        var row = [];
        for (var j = 0; j < st.out_size; j++) {
          var p = parts(st, xp, o, i, j);
          row.push(p[0] + p[1] + p[2] + p[3]);
        }
        rows.push(row);
      }
      res.push(rows);
    }
    return res;
  }
  function fillGrid(grid, rows, cls) {
    grid.textContent = "";
    grid.style.gridTemplateColumns = "repeat(" + (rows.length ? rows[0].length : 1) + ", auto)";
    rows.forEach(function (row, r) {
      row.forEach(function (v, k) {
        var span = document.createElement("span");
        span.textContent = fmt(v);
        var c = cls(r, k);
        if (c) span.className = c;
        span.dataset.r = r; span.dataset.c = k;
        grid.appendChild(span);
      });
    });
  }
  function drawKernels() {
    el.kernels.textContent = "";
    for (var o = 0; o < O; o++) {
      for (var c = 0; c < C; c++) {
        var box = document.createElement("div");
        var title = document.createElement("div");
        title.className = "cnnx-title";
        title.textContent = "w[" + o + ", " + data.channels[c] + "]";
        var grid = document.createElement("div");
        grid.className = "cnnx-grid cnnx-" + data.channels[c];
        box.appendChild(title); box.appendChild(grid);
        el.kernels.appendChild(box);
        fillGrid(grid, data.weight[o][c], function () { return ""; });
      }
      var b = document.createElement("div");
      b.className = "cnnx-title";
      b.textContent = "bias[" + o + "] = " + fmt(data.bias[o]);
      el.kernels.appendChild(b);
    }
  }
  function render() {
    var st = state(), xp = padded(st), out = output(st, xp);
    if (selected && (selected[1] >= st.out_size || selected[2] >= st.out_size)) selected = null;
    var n = st.size + 2 * st.padding;
    el.formula.textContent = "Output size: \u230a(" + st.size + " + 2\u00b7" + st.padding +
      " " + MINUS + " 3) / " + st.stride + "\u230b + 1 = " + st.out_size + ", for each of the 2 " +
      "output channels; each value sums 3 \u00d7 9 products and a bias.";
    for (var c = 0; c < C; c++) {
      fillGrid(q("in-" + c), xp[c], function (r, k) {
        var cls = (r < st.padding || k < st.padding || r >= n - st.padding ||
                   k >= n - st.padding) ? "pad" : "";
        if (selected) {
          var r0 = st.stride * selected[1], c0 = st.stride * selected[2];
          if (r >= r0 && r < r0 + K && k >= c0 && k < c0 + K) cls += " win";
        }
        return cls;
      });
    }
    for (var o = 0; o < O; o++) {
      fillGrid(q("out-" + o), out[o], function (r, k) {
        return selected && selected[0] === o && selected[1] === r && selected[2] === k ? "sel" : "";
      });
    }
    if (!selected) {
      el.details.textContent = "Select an output value to see how it is made.";
      return;
    }
    var p = parts(st, xp, selected[0], selected[1], selected[2]);
    var lines = ["Output channel " + selected[0] + ", row " + selected[1] + ", column " +
                 selected[2] + ":"];
    for (c = 0; c < C; c++)
      lines.push(data.channels[c] + ": sum of w[" + selected[0] + ", " + data.channels[c] +
                 "] \u00d7 window = " + fmt(p[c]));
    lines.push("bias = " + fmt(p[3]));
    lines.push("total: " + fmt(p[0]) + " + " + fmt(p[1]) + " + " + fmt(p[2]) + " + " +
               fmt(p[3]) + " = " + fmt(p[0] + p[1] + p[2] + p[3]));
    el.details.textContent = "";
    lines.forEach(function (t) {
      var line = document.createElement("div");
      line.textContent = t.replace(/-/g, MINUS);
      el.details.appendChild(line);
    });
  }
  function select(o, i, j) { selected = [o, i, j]; render(); }

  for (var o = 0; o < O; o++) (function (o) {
    var grid = q("out-" + o);
    var pick = function (ev) {
      var t = ev.target;
      if (t && t.dataset && t.dataset.r !== undefined) select(o, Number(t.dataset.r), Number(t.dataset.c));
    };
    grid.addEventListener("mouseover", pick);
    grid.addEventListener("click", pick);
    grid.addEventListener("focus", function () {
      if (!selected || selected[0] !== o) select(o, 0, 0);
    });
    grid.addEventListener("keydown", function (ev) {
      var st = state(), moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1],
                                  ArrowRight: [0, 1] };
      var m = moves[ev.key];
      if (!m || !st.out_size) return;
      ev.preventDefault();
      var cur = selected && selected[0] === o ? selected : [o, 0, 0];
      select(o, Math.min(st.out_size - 1, Math.max(0, cur[1] + m[0])),
             Math.min(st.out_size - 1, Math.max(0, cur[2] + m[1])));
    });
  })(o);
  [el.image, el.stride, el.padding].forEach(function (c) {
    c.addEventListener("input", render);
    c.addEventListener("change", render);
  });
  drawKernels();
  render();
  root.channels = {
    state: function () {
      var st = state();
      return { image: st.image, size: st.size, stride: st.stride, padding: st.padding,
               out_size: st.out_size, selected: selected };
    },
    output: function () { var st = state(); return output(st, padded(st)); },
    parts: function (o, i, j) { var st = state(); return parts(st, padded(st), o, i, j); }
  };
}
