/**
 * The dashboard's script (served as `/dashboard/app.js`; the page's Content-Security-Policy
 * allows no inline script and no eval). Vanilla JavaScript, no build step: it polls
 * `GET /api/v1/status` every 3 s and draws the page from it, and calls the API for the
 * operator's actions (pause, resume, retry) with the token kept in sessionStorage.
 *
 * Every value from the API reaches the page as text (`textContent`, SVG text nodes): the page
 * never parses API data as HTML.
 */
export const DASHBOARD_JS = `'use strict';
(function () {
  var REFRESH_MS = 3000;
  var STALE_MS = 10000;
  var TOKEN_KEY = 'sluice.apiToken';
  var state = { last: null, lastOkAt: 0, open: {}, timer: null, busy: false };

  function $(id) { return document.getElementById(id); }
  function el(tag, opts, children) {
    var e = document.createElement(tag);
    if (opts) {
      if (opts.cls) e.className = opts.cls;
      if (opts.text !== undefined && opts.text !== null) e.textContent = String(opts.text);
      if (opts.title) e.title = String(opts.title);
      if (opts.colSpan) e.colSpan = opts.colSpan;
      if (opts.data) for (var k in opts.data) e.setAttribute('data-' + k, String(opts.data[k]));
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function td(text, cls, title) { return el('td', { text: text, cls: cls, title: title }); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function token() { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } }

  function api(method, path, body) {
    var headers = {};
    var t = token();
    if (t) headers.authorization = 'Bearer ' + t;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
      .then(function (res) {
        return res.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!res.ok) {
            var msg = data && data.message ? data.message : ('HTTP ' + res.status);
            var err = new Error(msg);
            err.status = res.status;
            throw err;
          }
          return data;
        });
      });
  }

  // ---- formatting ----
  function fmtInt(n) { return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'); }
  function fmtOffset(s) { return s === null || s === undefined ? '–' : fmtInt(Number(s)); }
  function fmtRate(n) {
    if (n === null || n === undefined) return '–';
    if (n === 0) return '0';
    if (n >= 100) return Math.round(n).toLocaleString('en-US');
    if (n >= 10) return n.toFixed(1);
    return n.toFixed(2);
  }
  function fmtBytes(n) {
    if (n === null || n === undefined) return '–';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? Math.round(n) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
  }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '–';
    var s = Math.round(ms / 1000);
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }
  function fmtAgo(iso, nowMs) {
    if (!iso) return '–';
    var t = Date.parse(iso);
    if (!isFinite(t)) return String(iso);
    return fmtDuration(Math.max(0, nowMs - t)) + ' ago';
  }

  // Lag colours: amber past twice the topic's flush interval (at least 1 min), red past six times (at least 5 min).
  function lagLevel(lagMs, flushMs) {
    if (lagMs === null || lagMs === undefined) return '';
    var f = flushMs || 600000;
    if (lagMs > Math.max(300000, 6 * f)) return 'red';
    if (lagMs > Math.max(60000, 2 * f)) return 'amber';
    return '';
  }
  function worse(a, b) {
    var rank = { '': 0, amber: 1, red: 2 };
    return rank[a] >= rank[b] ? a : b;
  }

  // ---- messages ----
  var toastTimer = null;
  function toast(text, bad) {
    var t = $('toast');
    t.textContent = text;
    t.className = 'toast' + (bad ? ' bad' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 5000);
  }
  function banner(text) {
    var b = $('banner');
    if (text) { b.textContent = text; b.hidden = false; } else { b.hidden = true; b.textContent = ''; }
  }
  function authHint(err) {
    if (err.status === 401 || err.status === 403) return err.message + ' — enter the API token (SLUICE_API_TOKEN) at the top right.';
    return err.message;
  }

  // ---- actions ----
  function act(button, method, path, body, done) {
    button.disabled = true;
    api(method, path, body).then(function (res) {
      toast(done(res));
      refresh();
    }).catch(function (err) {
      toast(authHint(err), true);
    }).then(function () { button.disabled = false; });
  }

  // ---- rendering ----
  function card(label, value, sub, level, id) {
    var c = el('div', { cls: 'card' + (level ? ' ' + level : ''), data: { card: id } }, [
      el('div', { cls: 'label', text: label }),
      el('div', { cls: 'value', text: value }),
      el('div', { cls: 'sub', text: sub || '' }),
    ]);
    return c;
  }

  function renderHeader(s) {
    var leader = $('leader');
    clear(leader);
    if (s.leader) {
      leader.appendChild(document.createTextNode('leader '));
      leader.appendChild(el('b', { text: s.leader.id }));
      leader.appendChild(document.createTextNode(' on ' + s.leader.host + ' · ' + s.leader.httpAddress));
    } else {
      leader.appendChild(el('b', { text: 'no leader' }));
    }
    leader.title = 'answered by master ' + s.master.id + (s.master.leader ? ' (the leader)' : ' (a standby)');
  }

  function renderCards(s) {
    var cards = $('cards');
    clear(cards);
    var sum = s.summary;
    var lvl = '';
    s.topics.forEach(function (t) { lvl = worse(lvl, lagLevel(t.lagMs, t.flushIntervalMs)); });
    var r = sum.ranges;
    var m1 = s.throughput.m1;
    var m15 = s.throughput.m15;
    cards.appendChild(card('Lag', fmtInt(sum.lag), 'records not yet in S3', lvl, 'lag'));
    cards.appendChild(card('Oldest waiting', fmtDuration(sum.lagMs), 'age of the oldest record not in S3', lvl, 'lag-time'));
    cards.appendChild(card('Records/s', m1 ? fmtRate(m1.recordsPerSec) : '–', '1 min · ' + (m15 ? fmtRate(m15.recordsPerSec) : '–') + ' over 15 min', '', 'rps'));
    cards.appendChild(card('Bytes/s', m1 ? fmtBytes(m1.bytesPerSec) : '–', '1 min · ' + (m15 ? fmtBytes(m15.bytesPerSec) : '–') + ' over 15 min', '', 'bps'));
    cards.appendChild(card('Ranges in flight', fmtInt(r.planned + r.active + r.done + r.failed), r.planned + ' planned · ' + r.active + ' active · ' + r.done + ' done · ' + r.failed + ' failed', r.failed > 0 ? 'amber' : '', 'ranges'));
    cards.appendChild(card('Workers', fmtInt(sum.workers), sum.workers === 0 ? 'none alive: nothing moves' : 'alive now', sum.workers === 0 && sum.topics > 0 ? 'red' : '', 'workers'));
    cards.appendChild(card('Failures', fmtInt(sum.failures), 'ranges whose last attempt failed', sum.failures > 0 ? 'red' : '', 'failures'));
    cards.appendChild(card('Gaps', fmtOffset(sum.gapOffsets), 'offsets lost to retention', sum.gapOffsets !== '0' ? 'amber' : '', 'gaps'));
    // Topics file mode (SLUICE_TOPICS_FILE): whether the file is in force, what was refused, the line of an error.
    var f = s.topicsFile;
    if (f) {
      var bad = f.result === 'invalid' || f.result === 'unreadable';
      var fsub = bad ? (f.line ? 'line ' + f.line + ': ' : '') + 'nothing changed'
        : f.refusals.length ? f.refusals.length + ' topic(s) refused: ' + f.refusals.map(function (x) { return x.topic; }).join(', ')
        : f.appliedAt ? 'applied ' + fmtAgo(f.appliedAt, Date.now()) : 'not read by the leader yet';
      var fc = card('Topics file', f.result, fsub, bad ? 'red' : f.refusals.length ? 'amber' : '', 'topics-file');
      fc.title = f.path + (f.error ? ' · ' + f.error : '') + f.refusals.map(function (x) { return ' · ' + x.topic + ': ' + x.code + ': ' + x.message; }).join('');
      cards.appendChild(fc);
    }
  }

  function svg(tag, attrs, text) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function niceMax(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }
  function renderChart(s) {
    var box = $('chart');
    clear(box);
    var W = Math.max(300, box.clientWidth || 800);
    var H = box.clientHeight || 190;
    var L = 56, R = 12, T = 10, B = 24;
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'records per second over the last 15 minutes' });
    var end = Date.parse(s.generatedAt);
    var pts = s.throughput.history.map(function (p) { return { t: Date.parse(p.at), v: p.recordsPerSec }; })
      .filter(function (p) { return p.t >= end - 15 * 60000; });
    // The time axis spans the samples there are: 2 to 15 minutes.
    var first = pts.length ? pts[0].t : end;
    var span = Math.min(15 * 60000, Math.max(2 * 60000, Math.ceil((end - first) / 60000) * 60000));
    var start = end - span;
    var step = [30000, 60000, 120000, 300000].filter(function (st) { return span / st <= 5; })[0] || 300000;
    var max = niceMax(pts.reduce(function (m, p) { return Math.max(m, p.v); }, 0));
    function x(t) { return L + ((t - start) / (end - start)) * (W - L - R); }
    function y(v) { return T + (1 - v / max) * (H - T - B); }
    for (var i = 0; i <= 4; i++) {
      var v = (max * i) / 4;
      root.appendChild(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'gridline' }));
      root.appendChild(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, fmtRate(v)));
    }
    for (var back = 0; back <= span; back += step) {
      var label = back === 0 ? 'now' : back % 60000 === 0 ? '−' + back / 60000 + ' min' : '−' + back / 1000 + ' s';
      root.appendChild(svg('text', { x: x(end - back), y: H - 6, 'text-anchor': back === 0 ? 'end' : back + step > span ? 'start' : 'middle', class: 'axis' }, label));
    }
    if (pts.length < 2) {
      root.appendChild(svg('text', { x: (L + W - R) / 2, y: (T + H - B) / 2, 'text-anchor': 'middle', class: 'nodata' }, 'collecting samples…'));
    } else {
      var d = pts.map(function (p, i2) { return (i2 ? 'L' : 'M') + x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1); }).join(' ');
      var area = d + ' L' + x(pts[pts.length - 1].t).toFixed(1) + ',' + y(0) + ' L' + x(pts[0].t).toFixed(1) + ',' + y(0) + ' Z';
      root.appendChild(svg('path', { d: area, class: 'area' }));
      root.appendChild(svg('path', { d: d, class: 'line' }));
    }
    box.appendChild(root);
  }

  function rangesText(r) { return r.planned + ' / ' + r.active + ' / ' + r.done + ' / ' + r.failed; }

  function partitionTable(t, nowMs) {
    var rows = t.partitions.map(function (p) {
      var lvl = lagLevel(p.lagMs, t.flushIntervalMs);
      var head = p.head;
      var headText = head ? (head.state + ' · attempt ' + head.attempt + (head.worker ? ' · ' + head.worker : '') + ' · ' + fmtAgo(head.updatedAt, nowMs)) : (p.lag ? 'nothing in flight' : 'caught up');
      return el('tr', null, [
        td(p.partition, 'num'),
        td(fmtOffset(p.committedOffset), 'num'),
        td(fmtOffset(p.highWatermark), 'num'),
        el('td', { cls: 'num' }, [el('span', { cls: 'lag ' + lvl, text: fmtInt(p.lag) })]),
        el('td', { cls: 'num' }, [el('span', { cls: 'lag ' + lvl, text: fmtDuration(p.lagMs) })]),
        td(rangesText(p.ranges), 'num'),
        td(headText, head && head.state === 'failed' ? 'err' : '', head && head.error ? head.error : ''),
      ]);
    });
    return el('table', { cls: 'grid' }, [
      el('thead', null, [el('tr', null, ['Partition', 'Committed', 'High watermark', 'Lag', 'Lag (time)', 'Ranges p/a/d/f', 'Waiting for'].map(function (h, i) {
        return el('th', { cls: i > 0 && i < 6 ? 'num' : '', text: h });
      }))]),
      el('tbody', null, rows),
    ]);
  }

  function renderTopics(s) {
    var body = $('topics').tBodies[0];
    clear(body);
    var nowMs = Date.parse(s.generatedAt);
    if (s.topics.length === 0) {
      body.appendChild(el('tr', null, [el('td', { cls: 'empty', colSpan: 10, text: 'No topics registered. Register one with POST /api/v1/topics or sluice topics add.' })]));
      return;
    }
    s.topics.forEach(function (t) {
      var lvl = lagLevel(t.lagMs, t.flushIntervalMs);
      var open = !!state.open[t.topic];
      var stateText = t.state === 'active' && t.paused ? 'paused' : t.state;
      var btn = el('button', { cls: 'small ' + (t.paused ? 'go' : 'warn'), text: t.paused ? 'Resume' : 'Pause', data: { action: t.paused ? 'resume' : 'pause', topic: t.topic } });
      btn.disabled = t.state === 'deleting';
      btn.addEventListener('click', function (ev) {
        ev.stopPropagation();
        var pause = !t.paused;
        act(btn, 'PATCH', '/api/v1/topics/' + encodeURIComponent(t.topic), { paused: pause }, function () {
          return t.topic + (pause ? ' paused: no new ranges; ranges in flight finish' : ' resumed');
        });
      });
      var nameCell = el('td', null, [el('span', { cls: 'caret', text: open ? '▾' : '▸' }), el('span', { text: t.topic })]);
      // Which topic pattern brought the topic in (GET /api/v1/patterns/{name}).
      if (t.pattern) nameCell.appendChild(el('div', { cls: 'note', data: { pattern: t.topic }, text: 'registered by pattern ' + t.pattern }));
      var errs = [t.error, t.kafkaError].filter(Boolean);
      if (errs.length) nameCell.appendChild(el('div', { cls: 'err', text: errs.join(' · ') }));
      // Records whose event time was missing or not in the topic's unit went to Kafka time's folder.
      if (t.eventTimeFallbacks > 0) nameCell.appendChild(el('div', { cls: 'note', data: { fallbacks: t.topic }, text: fmtInt(t.eventTimeFallbacks) + ' records bucketed by Kafka time: event-time field missing or not in its unit' }));
      var row = el('tr', { cls: 'topic-row', data: { topic: t.topic } }, [
        nameCell,
        el('td', null, [el('span', { cls: 'badge ' + stateText, text: stateText })]),
        td(t.partitions.length, 'num'),
        td(fmtInt(t.committedRecords), 'num', fmtBytes(t.committedBytes) + ' stored'),
        el('td', { cls: 'num' }, [el('span', { cls: 'lag ' + lvl, text: fmtInt(t.lag), data: { lag: t.topic } })]),
        el('td', { cls: 'num' }, [el('span', { cls: 'lag ' + lvl, text: fmtDuration(t.lagMs) })]),
        td(t.throughput.m1 ? fmtRate(t.throughput.m1.recordsPerSec) : '–', 'num'),
        td(t.throughput.m1 ? fmtBytes(t.throughput.m1.bytesPerSec) : '–', 'num'),
        td(rangesText(t.ranges), 'num'),
        el('td', { cls: 'num' }, [btn]),
      ]);
      row.addEventListener('click', function () {
        state.open[t.topic] = !state.open[t.topic];
        if (state.last) render(state.last);
      });
      body.appendChild(row);
      if (open) body.appendChild(el('tr', { cls: 'detail' }, [el('td', { colSpan: 10 }, [partitionTable(t, nowMs)])]));
    });
  }

  function renderWorkers(s) {
    var body = $('workers').tBodies[0];
    clear(body);
    var nowMs = Date.parse(s.generatedAt);
    if (s.workers.length === 0) body.appendChild(el('tr', null, [el('td', { cls: 'empty', colSpan: 6, text: 'No worker is alive.' })]));
    s.workers.forEach(function (w) {
      body.appendChild(el('tr', null, [
        td(w.id, 'mono', 'version ' + w.version + (w.httpAddress ? ' · ' + w.httpAddress : '')),
        td(w.host),
        td(w.activeRanges + ' / ' + w.concurrency, 'num'),
        td(fmtDuration(w.uptimeSeconds * 1000), 'num'),
        td(w.lastHeartbeat ? fmtAgo(w.lastHeartbeat, nowMs) : 'idle', w.lastHeartbeat ? '' : 'muted'),
        w.ready === false ? td('not ready: ' + (w.notReadyReason || 'unknown'), 'err') : td('ready', 'muted'),
      ]));
    });
    var q = s.queue;
    $('queue').textContent = q ? ('queue: ' + q.waiting + ' waiting · ' + q.prioritized + ' prioritized · ' + q.active + ' active · ' + q.delayed + ' delayed') : ('queue: ' + (s.queueError || 'unknown'));
  }

  function renderGaps(s) {
    var body = $('gaps').tBodies[0];
    clear(body);
    if (s.gaps.length === 0) body.appendChild(el('tr', null, [el('td', { cls: 'empty', colSpan: 4, text: 'No offsets lost.' })]));
    s.gaps.forEach(function (g) {
      body.appendChild(el('tr', null, [
        td(g.topic),
        td(g.partition, 'num'),
        td(fmtOffset(g.lostOffsets), 'num'),
        td(g.uncommitted.map(function (u) { return u.start + '–' + u.end + ' (' + u.cause + ')'; }).join(', ') || '–', 'mono'),
      ]));
    });
  }

  function renderFailures(s) {
    var body = $('failures').tBodies[0];
    clear(body);
    var nowMs = Date.parse(s.generatedAt);
    if (s.recentFailures.length === 0) body.appendChild(el('tr', null, [el('td', { cls: 'empty', colSpan: 8, text: 'No failures.' })]));
    s.recentFailures.forEach(function (f) {
      var btn = el('button', { cls: 'small', text: 'Retry', data: { action: 'retry', range: f.id } });
      btn.disabled = f.state === 'done';
      btn.addEventListener('click', function () {
        act(btn, 'POST', '/api/v1/ranges/' + encodeURIComponent(f.id) + '/retry', undefined, function (res) {
          // A retry already pending or queued changes nothing: the toast says so.
          if (res && res.result === 'already-queued') return 'attempt ' + res.attempt + ' of ' + f.id + ' is already queued; nothing changed';
          if (res && res.result === 'already-requested') return 'retry of ' + f.id + ' already requested; nothing changed';
          return 'retry of ' + f.id + ' requested; the leader requeues it';
        });
      });
      body.appendChild(el('tr', null, [
        td(f.id, 'mono'),
        el('td', null, [el('span', { cls: 'badge ' + f.state, text: f.state })]),
        td(f.attempt, 'num'),
        td(f.failures, 'num'),
        td(f.worker || '–', 'mono'),
        td(f.error || '–', 'err'),
        td(fmtAgo(f.updatedAt, nowMs)),
        el('td', { cls: 'num' }, [btn]),
      ]));
    });
  }

  function render(s) {
    renderHeader(s);
    renderCards(s);
    renderChart(s);
    renderTopics(s);
    renderWorkers(s);
    renderGaps(s);
    renderFailures(s);
    document.title = (s.summary.failures > 0 ? '(' + s.summary.failures + ') ' : '') + 'Sluice · lag ' + fmtInt(s.summary.lag);
  }

  function setLive(kind, text) {
    $('live-dot').className = 'dot ' + kind;
    $('live-text').textContent = text;
  }

  function refresh() {
    if (state.busy) return;
    state.busy = true;
    api('GET', '/api/v1/status').then(function (s) {
      state.last = s;
      state.lastOkAt = Date.now();
      banner('');
      render(s);
      setLive('ok', 'live · ' + new Date(s.generatedAt).toLocaleTimeString());
    }).catch(function (err) {
      var msg = err.status === 401 || err.status === 403
        ? 'Reads are protected on this master: ' + authHint(err)
        : 'Cannot read /api/v1/status: ' + err.message;
      banner(msg);
      var stale = Date.now() - state.lastOkAt > STALE_MS;
      setLive(stale ? 'down' : 'stale', stale ? 'no answer' : 'retrying');
    }).then(function () { state.busy = false; });
  }

  function loop() {
    refresh();
    state.timer = setTimeout(loop, document.hidden ? REFRESH_MS * 4 : REFRESH_MS);
  }

  function setupToken() {
    var input = $('token');
    input.value = token();
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      try { sessionStorage.setItem(TOKEN_KEY, input.value.trim()); } catch (e) { /* storage off */ }
      toast(input.value.trim() ? 'token saved for this tab' : 'token cleared');
      refresh();
    });
    $('token-clear').addEventListener('click', function () {
      input.value = '';
      try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off */ }
      toast('token cleared');
      refresh();
    });
  }

  window.addEventListener('resize', function () { if (state.last) renderChart(state.last); });
  document.addEventListener('DOMContentLoaded', function () {
    setupToken();
    loop();
  });
})();
`;
