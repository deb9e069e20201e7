/* wf view: renders the page from the JSON in #wf-data.
   Rule: recorded strings reach the page only through textContent / setAttribute, never innerHTML. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('wf-data').textContent);
  var steps = D.steps, images = D.images, report = D.report;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var CARD_W = 156, BUFFER = 6;
  var current = -1;
  var zoomOn = steps.some(function (s) { return zoomBox(s, images[s.pre]) !== null; });

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmtT(t) { return (t === null || t === undefined) ? '—' : Number(t).toFixed(3) + ' s'; }
  function clip(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '…' : s; }
  function chk(s) { return (report && s.chk !== null && s.chk !== undefined) ? report.checkpoints[s.chk] : null; }
  function eff(s) { return (report && s.eff) ? s.eff : null; }
  /* a step fails when its effect differs (or, without per-step effects, its checkpoint failed) */
  function failing(s) { var e = eff(s), c = chk(s); return e ? e.status === 'differs' : !!(c && c.passed === false); }

  /* ---------- warnings ---------- */
  if (D.warnings && D.warnings.length) {
    var w = $('warnings');
    D.warnings.forEach(function (m) { w.appendChild(el('div', null, '⚠ ' + m)); });
    w.hidden = false;
  }

  /* ---------- zoom to the action's window (a small app is a speck in a whole-screen frame) ---------- */
  function zoomBox(step, im) {  // the step's window within the picture, when zooming changes anything
    if (!step || !step.win || !im || !im.w || !im.h) return null;
    var ox = im.x || 0, oy = im.y || 0;
    var x0 = Math.max(step.win[0] - ox, 0), y0 = Math.max(step.win[1] - oy, 0);
    var x1 = Math.min(step.win[0] + step.win[2] - ox, im.w), y1 = Math.min(step.win[1] + step.win[3] - oy, im.h);
    if (x1 - x0 < 16 || y1 - y0 < 16 || (x1 - x0) * (y1 - y0) > 0.9 * im.w * im.h) return null;
    return [x0, y0, x1 - x0, y1 - y0];
  }
  function zoomInto(frame, im, z) {  // the element to draw into: the frame, or a scaled layer cropped by it
    frame.classList.toggle('zoomed', !!z);
    frame.style.aspectRatio = z ? z[2] + ' / ' + z[3] : '';
    if (!z) return frame;
    var layer = el('div', { 'class': 'zoom' });
    layer.style.width = (im.w / z[2] * 100) + '%';
    layer.style.transform = 'translate(' + (-z[0] / im.w * 100) + '%, ' + (-z[1] / im.h * 100) + '%)';
    frame.appendChild(layer);
    return layer;
  }
  function thumb(s, im) {
    var z = zoomOn ? zoomBox(s, im) : null;
    if (!z) return el('img', { src: im.src, loading: 'lazy', decoding: 'async', alt: '' });
    var box = el('div', { 'class': 'thumb' }), k = Math.min(138 / z[2], 80 / z[3]);
    var win = el('div', { 'class': 'win' });  // exactly the window, centred in the card
    win.style.width = (z[2] * k) + 'px';
    win.style.height = (z[3] * k) + 'px';
    win.style.left = ((138 - z[2] * k) / 2) + 'px';
    win.style.top = ((80 - z[3] * k) / 2) + 'px';
    var img = el('img', { src: im.src, loading: 'lazy', decoding: 'async', alt: '' });
    img.style.width = (im.w * k) + 'px';
    img.style.left = (-z[0] * k) + 'px';
    img.style.top = (-z[1] * k) + 'px';
    win.appendChild(img);
    box.appendChild(win);
    return box;
  }
  function setZoom(on) {
    zoomOn = on;
    $('zoom').setAttribute('aria-pressed', on ? 'true' : 'false');
    for (var k in rendered) inner.removeChild(rendered[k]);
    rendered = {};
    renderStrip();
    if (current >= 0) { showStep(steps[current]); if (rendered[current]) rendered[current].classList.add('selected'); }
  }
  function isDead(s) { return !!(s && s.fx && s.fx.dead === true); }
  function effectText(fx) {
    if (!fx) return null;
    if (fx.st === 'unknown') return 'unknown — ' + (fx.why || 'no screen to compare');
    if (fx.dead) return 'DEAD — nothing on screen changed';
    if (fx.st === 'unchanged') return 'no change' + (fx.why ? ' (' + fx.why + ')' : '');
    return fx.px + ' px changed (' + (fx.frac * 100).toFixed(2) + ' %)' +
      (fx.box ? ' in ' + fx.box[2] + '×' + fx.box[3] + ' at (' + fx.box[0] + ', ' + fx.box[1] + ')' : '');
  }

  /* ---------- pictures with the action drawn on them ---------- */
  function picture(frame, imgIdx, step, draw, bbox) {
    clear(frame);
    var im = (imgIdx === null || imgIdx === undefined) ? null : images[imgIdx];
    if (!im || !im.src) {
      zoomInto(frame, null, null);
      frame.appendChild(el('div', { 'class': 'noimg' }, im ? 'screen file missing: ' + im.name : 'no screen recorded'));
      return;
    }
    var z = zoomOn ? zoomBox(step, im) : null;
    var holder = zoomInto(frame, im, z);
    var img = el('img', { src: im.src, alt: im.name, decoding: 'async', width: im.w, height: im.h });
    holder.appendChild(img);
    if (draw && step && im.w && im.h) holder.appendChild(overlay(step, im, z));
    if (bbox && im.w && im.h) {  // where replay differed, so a few pixels are findable at a glance
      var svg = sv('svg', { viewBox: '0 0 ' + im.w + ' ' + im.h, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
      var pad = Math.max(im.w, im.h) / 200;
      svg.appendChild(sv('rect', { x: bbox[0] - pad, y: bbox[1] - pad, width: bbox[2] + 2 * pad, height: bbox[3] + 2 * pad,
        'class': 'ov-bbox', 'stroke-width': Math.max(2, pad * 0.8) }));
      holder.appendChild(svg);
    }
  }

  function label(g, x, y, text, fs, anchorRight) {
    var t = sv('text', { x: 0, y: 0, 'class': 'ov-text', 'font-size': fs }, text);
    var w = String(text).length * fs * 0.62 + fs * 0.8, h = fs * 1.5;
    var bx = anchorRight ? x - w : x, by = y - h;
    g.appendChild(sv('rect', { x: bx, y: by, width: w, height: h, rx: fs * 0.3, 'class': 'ov-box' }));
    t.setAttribute('x', bx + fs * 0.4); t.setAttribute('y', by + fs * 1.1);
    g.appendChild(t);
  }

  function overlay(s, im, z) {
    var W = im.w, H = im.h, ox = im.x || 0, oy = im.y || 0;
    var svg = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
    var g = sv('g');
    svg.appendChild(g);
    // Marks scale with what is shown: the whole screenshot, or the window it is zoomed to (R: x0, y0, x1, y1).
    var R = z ? [z[0], z[1], z[0] + z[2], z[1] + z[3]] : [0, 0, W, H];
    var u = Math.max(R[2] - R[0], R[3] - R[1]) / 100;
    var fs = Math.max(11, u * 1.6), sw = Math.max(2, u * 0.35);
    var has = s.x !== null && s.x !== undefined && s.y !== null && s.y !== undefined;
    var x = has ? s.x - ox : null, y = has ? s.y - oy : null;
    var lx = has ? Math.min(Math.max(x + u * 2.5, R[0]), R[2] - u * 20) : R[0] + u;
    var ly = has ? Math.max(y - u * 2.5, R[1] + fs * 1.6) : R[1] + fs * 2;
    var mods = (s.mods && s.mods.length) ? s.mods.join('+') + '+' : '';
    if (s.fx && s.fx.box) {  // where the step changed the screen
      var b = s.fx.box;
      g.appendChild(sv('rect', { x: b[0] - ox, y: b[1] - oy, width: b[2], height: b[3], 'class': 'ov-effect', 'stroke-width': sw * 0.6 }));
    }
    if (s.kind === 'click' && has) {
      g.appendChild(sv('circle', { cx: x, cy: y, r: u * 2.2, 'class': 'ov-ring', 'stroke-width': sw }));
      g.appendChild(sv('circle', { cx: x, cy: y, r: sw, fill: '#d92d20' }));
      label(g, lx, ly, mods + (s.button || 'left') + ' ×' + (s.count || 1), fs);
    } else if (s.kind === 'drag' && has) {
      var pts = (s.path && s.path.length > 1) ? s.path : [[s.x, s.y], [s.ex, s.ey]];
      g.appendChild(sv('polyline', { points: pts.map(function (p) { return (p[0] - ox) + ',' + (p[1] - oy); }).join(' '),
        'class': 'ov-path', 'stroke-width': sw }));
      g.appendChild(sv('circle', { cx: x, cy: y, r: u, 'class': 'ov-ring', 'stroke-width': sw }));
      var e = pts[pts.length - 1];
      g.appendChild(sv('rect', { x: e[0] - ox - u, y: e[1] - oy - u, width: 2 * u, height: 2 * u, fill: '#d92d20' }));
      label(g, lx, ly, 'drag ' + mods + (s.button || 'left'), fs);
    } else if (s.kind === 'scroll' && has) {
      var len = u * 7, dx = Math.sign(s.dx || 0), dy = -Math.sign(s.dy || 0);  // dy > 0 scrolls up
      if (!dx && !dy) dy = -1;
      var n = Math.hypot(dx, dy), tx = x + dx / n * len, ty = y + dy / n * len;
      var a = Math.atan2(ty - y, tx - x), hl = u * 2;
      g.appendChild(sv('circle', { cx: x, cy: y, r: u, 'class': 'ov-ring', 'stroke-width': sw }));
      g.appendChild(sv('path', { d: 'M' + x + ',' + y + 'L' + tx + ',' + ty +
        'M' + (tx - hl * Math.cos(a - 0.5)) + ',' + (ty - hl * Math.sin(a - 0.5)) + 'L' + tx + ',' + ty +
        'L' + (tx - hl * Math.cos(a + 0.5)) + ',' + (ty - hl * Math.sin(a + 0.5)),
        'class': 'ov-arrow', 'stroke-width': sw * 1.5 }));
      label(g, lx, ly, 'scroll dx=' + (s.dx || 0) + ' dy=' + (s.dy || 0), fs);
    } else if (s.kind === 'move' && has) {
      g.appendChild(sv('circle', { cx: x, cy: y, r: u * 1.2, 'class': 'ov-ring', 'stroke-width': sw, 'stroke-dasharray': u * 0.6 }));
      label(g, lx, ly, 'hover ' + Number(s.duration || 0).toFixed(2) + ' s', fs);
    } else if (s.kind === 'type') {
      if (has) g.appendChild(sv('circle', { cx: x, cy: y, r: u, 'class': 'ov-ring', 'stroke-width': sw }));
      label(g, lx, has ? ly : R[3] - u, '⌨ ' + clip(JSON.stringify(s.text || ''), 70), fs);
    } else if (s.kind === 'key' || s.kind === 'hotkey') {
      label(g, R[2] - u, R[1] + fs * 2.2, '⌨ ' + (s.keys || []).join('+'), fs * 1.3, true);
    } else if (s.kind === 'wait') {
      label(g, R[2] - u, R[1] + fs * 2.2, 'wait ' + Number(s.duration || (s.t1 - s.t0)).toFixed(2) + ' s', fs * 1.3, true);
    } else if (s.kind === 'mark') {
      label(g, R[2] - u, R[1] + fs * 2.2, '⚑ ' + clip(s.text || 'mark', 60), fs * 1.3, true);
    } else if (has) {
      g.appendChild(sv('circle', { cx: x, cy: y, r: u, 'class': 'ov-ring', 'stroke-width': sw }));
    }
    return svg;
  }

  /* ---------- the film strip: only the visible cards exist in the DOM ---------- */
  var strip = $('strip'), inner = $('strip-inner');
  inner.style.width = (steps.length * CARD_W + 8) + 'px';
  var rendered = {};

  function card(i) {
    var s = steps[i], c = chk(s), e = eff(s);
    var cls = 'card' + (i === current ? ' selected' : '') + (s.ann && s.ann.dropped ? ' dropped' : '') +
      (e ? (e.status === 'differs' ? ' fail' : e.status === 'verified' ? ' pass' : ' unchecked') :
        c ? (c.passed === false ? ' fail' : c.passed === true ? ' pass' : '') : '') + (isDead(s) ? ' dead' : '');
    var d = el('div', { 'class': cls, 'data-step': i, role: 'button',
      title: s.desc + (isDead(s) ? ' — dead: the screen did not change' : '') });
    d.style.left = (4 + i * CARD_W) + 'px';
    var im = s.pre !== null && s.pre !== undefined ? images[s.pre] : null;
    if (!im && s.post !== null && s.post !== undefined) im = images[s.post];
    if (im && im.src) d.appendChild(thumb(s, im));
    else d.appendChild(el('div', { 'class': 'noimg' }, 'no screen'));
    var l = el('div', { 'class': 'lbl' });
    l.appendChild(el('b', null, '#' + s.i + (isDead(s) ? ' dead' : '')));
    l.appendChild(document.createTextNode(s.ann && s.ann.label ? s.ann.label : s.desc));
    d.appendChild(l);
    d.addEventListener('click', function () { select(i); });
    return d;
  }

  function renderStrip() {
    var first = Math.max(0, Math.floor(strip.scrollLeft / CARD_W) - BUFFER);
    var last = Math.min(steps.length - 1, Math.ceil((strip.scrollLeft + strip.clientWidth) / CARD_W) + BUFFER);
    for (var k in rendered) {
      var n = +k;
      if (n < first || n > last) { inner.removeChild(rendered[k]); delete rendered[k]; }
    }
    for (var i = first; i <= last; i++) {
      if (!rendered[i]) { rendered[i] = card(i); inner.appendChild(rendered[i]); }
    }
  }
  var pending = false;
  strip.addEventListener('scroll', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; renderStrip(); });
  });
  window.addEventListener('resize', renderStrip);
  strip.addEventListener('wheel', function (ev) {  // a vertical wheel scrolls the strip sideways
    if (Math.abs(ev.deltaY) > Math.abs(ev.deltaX)) { strip.scrollLeft += ev.deltaY; ev.preventDefault(); }
  }, { passive: false });

  /* ---------- timeline ---------- */
  var tl = $('timeline'), TLW = 1000, TLH = 56, dur = Math.max(D.timeline.duration || 0, 1e-6);
  function tx(t) { return t / dur * TLW; }
  function drawTimeline() {
    var bins = D.timeline.bins || [], max = Math.max.apply(null, bins.concat([1])), bw = TLW / Math.max(bins.length, 1);
    (D.timeline.pauses || []).forEach(function (p) {
      var r = sv('rect', { x: tx(p[0]), y: 0, width: Math.max(tx(p[1]) - tx(p[0]), 1), height: TLH, 'class': 'pause' });
      r.appendChild(sv('title', null, 'paused ' + fmtT(p[0]) + ' – ' + fmtT(p[1])));
      tl.appendChild(r);
    });
    bins.forEach(function (c, i) {
      if (!c) return;
      var h = Math.max(1, c / max * (TLH - 14));
      tl.appendChild(sv('rect', { x: i * bw, y: TLH - h, width: Math.max(bw - 0.5, 0.5), height: h, 'class': 'bin' }));
    });
    var fails = {};
    steps.forEach(function (s) { if (failing(s)) fails[s.i] = true; });
    var stride = Math.max(1, Math.ceil(steps.length / 1500));  // thousands of ticks add nothing but DOM
    steps.forEach(function (s, i) {
      if (i % stride && !fails[s.i] && !isDead(s)) return;
      tl.appendChild(sv('line', { x1: tx(s.t0), x2: tx(s.t0), y1: 0, y2: 8,
        'class': 'tick' + (fails[s.i] ? ' fail' : '') + (isDead(s) ? ' dead' : '') }));
    });
    (D.timeline.marks || []).forEach(function (m) {
      var l = sv('line', { x1: tx(m.t), x2: tx(m.t), y1: 0, y2: TLH, 'class': 'mark' });
      l.appendChild(sv('title', null, 'mark ' + (m.label || '') + ' at ' + fmtT(m.t)));
      tl.appendChild(l);
    });
    tl.appendChild(sv('line', { id: 'tl-cursor', x1: 0, x2: 0, y1: 0, y2: TLH, 'class': 'cursor' }));
  }
  tl.addEventListener('click', function (ev) {
    var r = tl.getBoundingClientRect(), t = (ev.clientX - r.left) / r.width * dur, best = 0;
    for (var i = 0; i < steps.length; i++) { if (steps[i].t0 <= t) best = i; else break; }
    if (steps.length) select(best);
  });

  /* ---------- the selected step ---------- */
  function row(tbody, k, v, cls) {
    var tr = el('tr');
    tr.appendChild(el('th', null, k));
    tr.appendChild(el('td', cls ? { 'class': cls } : null, v === null || v === undefined || v === '' ? '—' : v));
    tbody.appendChild(tr);
  }
  function pct(v) { return (v === null || v === undefined) ? null : (v * 100).toFixed(2) + ' %'; }
  function differ(c) {  // the report's numbers; the viewer's own count only when the report has none
    var f = c.diff_fraction !== null ? c.diff_fraction : c.own_fraction;
    if (f === null) return null;
    return (c.differing !== null ? c.differing + ' px (' + pct(f) + ')' : pct(f)) +
      (c.diff_fraction === null ? ' (counted by the viewer)' : '');
  }

  function showStep(s) {
    $('step-no').textContent = '#' + s.i + ' / ' + (steps.length - 1);
    $('step-kind').textContent = s.kind;
    $('step-desc').textContent = s.desc;
    picture($('shot-pre'), s.pre, s, true);
    picture($('shot-post'), s.post, s, true);
    var tb = $('props').tBodies[0]; clear(tb);
    row(tb, 'window', s.window);
    row(tb, 'window class', s.wclass);
    row(tb, 'time', fmtT(s.t0) + ' → ' + fmtT(s.t1) + '  (' + (s.t1 - s.t0).toFixed(3) + ' s)');
    row(tb, 'screen effect', effectText(s.fx), isDead(s) ? 'bad' : null);
    var ev = s.ev || [];
    row(tb, 'raw events', (ev[0] === null || ev[0] === undefined) ? null :
      ev[0] + '–' + ev[1] + '  (events.jsonl lines ' + (ev[0] + 2) + '–' + (ev[1] + 2) + ')');
    if (s.x !== null && s.x !== undefined) row(tb, 'position', '(' + s.x + ', ' + s.y + ')' +
      (s.ex !== null && s.ex !== undefined ? ' → (' + s.ex + ', ' + s.ey + ')' : ''));
    if (s.kind === 'type' || s.kind === 'mark') row(tb, 'text', s.text);
    if (s.keys && s.keys.length) row(tb, 'keys', s.keys.join(' + '));
    if (s.mods && s.mods.length) row(tb, 'modifiers', s.mods.join(' + '));
    if (s.kind === 'scroll') row(tb, 'scroll', 'dx=' + s.dx + ' dy=' + s.dy);
    if (s.seg) row(tb, 'segment', s.seg + ' (after ' + s.seg + ' pause' + (s.seg > 1 ? 's' : '') + ')');
    row(tb, 'pyautogui', s.code);
    var im = images[s.pre];
    row(tb, 'screens', (im ? im.name : '—') + '  →  ' + (images[s.post] ? images[s.post].name : '—'));
    var ann = $('step-ann'); clear(ann);
    if (s.ann) {
      [['label', s.ann.label], ['note', s.ann.note], ['thought', s.ann.thought]].forEach(function (p) {
        if (p[1]) { var d = el('div'); d.appendChild(el('b', null, p[0])); d.appendChild(document.createTextNode(p[1])); ann.appendChild(d); }
      });
      if (s.ann.dropped) ann.appendChild(el('div', { 'class': 'bad' }, 'dropped from exports and action replay'));
    }
    ann.hidden = !ann.firstChild;
    var e = eff(s), ebox = $('step-effect');
    ebox.hidden = !e;
    if (e) {
      var etb = $('effect-props').tBodies[0]; clear(etb);
      var good = { verified: 'good', differs: 'bad', agrees: 'good' };
      row(etb, 'effect', e.status + (e.why ? ' — ' + e.why : ''), good[e.status] || 'warn');
      row(etb, 'screen after', e.screen, good[e.screen] || null);
      row(etb, 'input', e.input + (e.input_why ? ' — ' + e.input_why : ''), good[e.input] || null);
      if (e.waited !== null && e.waited !== undefined) row(etb, 'reached after', fmtT(e.waited));
      if (e.differing) row(etb, 'pixels differing', e.differing + ' px');
      if (e.bbox) row(etb, 'differing area', e.bbox[2] + '×' + e.bbox[3] + ' at (' + e.bbox[0] + ', ' + e.bbox[1] + ')');
      picture($('eff-rec'), e.rec, s, false, e.bbox);
      picture($('eff-rep'), e.rep, s, false, e.bbox);
    }
    var c = chk(s), box = $('step-check');
    box.hidden = !c;
    if (c) {
      var ctb = $('check-props').tBodies[0]; clear(ctb);
      row(ctb, 'checkpoint', c.label);
      row(ctb, 'result', c.passed === false ? 'FAIL' : c.passed === true ? 'pass' : 'unknown',
        c.passed === false ? 'bad' : c.passed === true ? 'good' : null);
      row(ctb, 'similarity', c.similarity === null ? null : c.similarity.toFixed(4));
      row(ctb, 'pixels differing', differ(c));
      if (c.waited !== null) row(ctb, 'waited for screen', fmtT(c.waited));
      if (c.synced !== null) row(ctb, 'screen synced', c.synced ? 'yes' : 'no (timed out)', c.synced ? null : 'bad');
      if (c.bbox) row(ctb, 'differing area', c.bbox[2] + '×' + c.bbox[3] + ' at (' + c.bbox[0] + ', ' + c.bbox[1] + ')');
      picture($('chk-rec'), c.rec, s, false, c.bbox);
      picture($('chk-rep'), c.rep, s, false, c.bbox);
      picture($('chk-diff'), c.diff, s, false, c.bbox);
    }
  }

  function select(i) {
    if (!steps.length) return;
    i = Math.max(0, Math.min(steps.length - 1, i));
    var old = rendered[current];
    if (old) old.classList.remove('selected');
    current = i;
    var s = steps[i];
    showStep(s);
    var left = 4 + i * CARD_W;
    if (left < strip.scrollLeft || left + CARD_W > strip.scrollLeft + strip.clientWidth) {
      strip.scrollLeft = left - (strip.clientWidth - CARD_W) / 2;
    }
    renderStrip();
    if (rendered[i]) rendered[i].classList.add('selected');
    var cur = $('tl-cursor');
    if (cur) { cur.setAttribute('x1', tx(s.t0)); cur.setAttribute('x2', tx(s.t0)); }
    if (history.replaceState) history.replaceState(null, '', '#step-' + s.i);
  }

  function nextDead() {
    for (var k = 1; k <= steps.length; k++) {
      var j = (current + k) % steps.length;
      if (isDead(steps[j])) { select(j); return; }
    }
  }

  function nextFailure() {
    if (!report) return;
    for (var k = 1; k <= steps.length; k++) {
      var j = (current + k) % steps.length;
      if (failing(steps[j])) { select(j); return; }
    }
  }

  document.addEventListener('keydown', function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var t = ev.target && ev.target.tagName;
    if (t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT') return;
    var k = ev.key;
    if (k === 'ArrowRight' || k === 'j') select(current + 1);
    else if (k === 'ArrowLeft' || k === 'k') select(current - 1);
    else if (k === 'Home') select(0);
    else if (k === 'End') select(steps.length - 1);
    else if (k === 'f') nextFailure();
    else if (k === 'd') nextDead();
    else if (k === 'z') setZoom(!zoomOn);
    else return;
    ev.preventDefault();
  });

  /* ---------- the replay report ---------- */
  function plot(svg, series, unit, scale, axis, limit, floor) {
    var W = 400, H = 140, L = 46, B = 18, T = 8;
    if (!series || !series.length) { svg.appendChild(sv('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data')); return; }
    var xs = series.map(function (p) { return p[0]; }), ys = series.map(function (p) { return p[1] * scale; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min(0, Math.min.apply(null, ys)), y1 = Math.max(floor, Math.max.apply(null, ys));
    var lim = (limit === null || limit === undefined) ? null : limit * scale;
    function px(v) { return L + (x1 === x0 ? 0.5 : (v - x0) / (x1 - x0)) * (W - L - 6); }
    function py(v) { return T + (1 - (v - y0) / (y1 - y0)) * (H - T - B); }
    function num(v) { return Number(v.toPrecision(3)); }
    svg.appendChild(sv('line', { x1: L, x2: L, y1: T, y2: H - B, 'class': 'axis' }));
    svg.appendChild(sv('line', { x1: L, x2: W - 4, y1: py(0), y2: py(0), 'class': 'zero' }));
    svg.appendChild(sv('text', { x: L - 4, y: T + 8, 'text-anchor': 'end' }, num(y1) + unit));
    if (y0 < 0) svg.appendChild(sv('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }, num(y0) + unit));
    svg.appendChild(sv('text', { x: L - 4, y: py(0) + 3, 'text-anchor': 'end' }, '0'));
    svg.appendChild(sv('text', { x: L, y: H - 4 }, axis + ' ' + x0));
    svg.appendChild(sv('text', { x: W - 4, y: H - 4, 'text-anchor': 'end' }, axis + ' ' + x1));
    svg.appendChild(sv('polyline', { points: series.map(function (p) { return px(p[0]) + ',' + py(p[1] * scale); }).join(' '), 'class': 'line' }));
    if (lim !== null && lim <= y1) {
      svg.appendChild(sv('line', { x1: L, x2: W - 4, y1: py(lim), y2: py(lim), 'class': 'limit' }));
      svg.appendChild(sv('text', { x: W - 6, y: py(lim) - 3, 'text-anchor': 'end' }, 'limit ' + num(lim) + unit));
    } else if (lim !== null) {
      svg.appendChild(sv('text', { x: W - 6, y: T + 8, 'text-anchor': 'end' }, 'limit ' + num(lim) + unit + ' (off scale)'));
    }
    series.forEach(function (p) {
      var s = (p[2] === null || p[2] === undefined) ? undefined : stepByIndex[p[2]];
      var over = lim !== null && Math.abs(p[1] * scale) > lim;
      var dot = sv('circle', { cx: px(p[0]), cy: py(p[1] * scale), r: 2.5, 'class': 'pt' + (over ? ' fail' : '') });
      dot.appendChild(sv('title', null, axis + ' ' + p[0] + (s !== undefined ? ' (step ' + p[2] + ')' : '') + ': ' + num(p[1] * scale) + unit));
      if (s !== undefined) dot.addEventListener('click', function () { select(s); });
      svg.appendChild(dot);
    });
  }

  var stepByIndex = {};
  steps.forEach(function (s, n) { stepByIndex[s.i] = n; });

  function drawReport() {
    var fl = $('failures');
    (report.failures || []).forEach(function (f) {
      var li = el('li', null, f[0]);
      if (f[1] !== null && stepByIndex[f[1]] !== undefined) {
        li.classList.add('link');
        li.addEventListener('click', function () { select(stepByIndex[f[1]]); });
      }
      fl.appendChild(li);
    });
    var ol = $('worst');
    report.order.slice(0, 200).forEach(function (n) {
      var c = report.checkpoints[n];
      var txt = c.label + (c.passed === false ? ' — FAIL' : '') +
        (differ(c) !== null ? ' — ' + differ(c) + ' differ' : '') +
        (c.similarity !== null ? ' — sim ' + c.similarity.toFixed(4) : '');
      var li = el('li', { 'class': c.passed === false ? 'fail' : null }, txt);
      if (c.step !== null && stepByIndex[c.step] !== undefined) {
        li.addEventListener('click', function () { select(stepByIndex[c.step]); });
      }
      ol.appendChild(li);
    });
    plot($('plot-timing'), report.timing, ' ms', 1000, report.x_axis, report.timing_limit, 1);
    plot($('plot-pointer'), report.pointer, ' px', 1, report.x_axis, report.pointer_limit, 1);
    var tb = $('report-summary').tBodies[0];
    (report.summary || []).forEach(function (p) { row(tb, p[0], p[1]); });
  }

  Array.prototype.forEach.call(document.querySelectorAll('figure.shot'), function (f) {
    f.addEventListener('click', function () { f.classList.toggle('big'); });  // one picture at full width
  });

  /* ---------- start ---------- */
  $('zoom').addEventListener('click', function () { setZoom(!zoomOn); });
  $('zoom').setAttribute('aria-pressed', zoomOn ? 'true' : 'false');
  Array.prototype.forEach.call(document.querySelectorAll('button.goto'), function (b) {
    b.addEventListener('click', function (ev) {  // inside the panel's summary: go, don't fold
      ev.preventDefault();
      var n = stepByIndex[+b.getAttribute('data-goto')];
      if (n !== undefined) select(n);
    });
  });
  drawTimeline();
  if (report) drawReport();
  var start = 0;
  var m = /^#step-(\d+)$/.exec(location.hash || '');
  if (m && stepByIndex[+m[1]] !== undefined) start = stepByIndex[+m[1]];
  else if (report) {  // failing steps first: the first step whose effect differs, else the worst checkpoint
    for (var f0 = 0; f0 < steps.length; f0++) if (eff(steps[f0]) && eff(steps[f0]).status === 'differs') break;
    if (f0 < steps.length) start = f0;
    else for (var q = 0; q < report.order.length; q++) {
      var c0 = report.checkpoints[report.order[q]];
      if (c0.passed === false && c0.step !== null && stepByIndex[c0.step] !== undefined) { start = stepByIndex[c0.step]; break; }
    }
  }
  if (steps.length) select(start);
  else { $('step-desc').textContent = 'this bundle has no steps'; renderStrip(); }
  document.documentElement.setAttribute('data-ready', '1');
})();
