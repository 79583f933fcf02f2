/**
 * The dashboard's page: a static skeleton that dashboard-script.ts fills from
 * `GET /api/v1/status`. It holds no data, so it is served without a token even when reads
 * are protected; the script sends the operator's token with every API call.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice</title>
<link rel="stylesheet" href="/dashboard/style.css">
<script src="/dashboard/app.js" defer></script>
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo">&#8776;</span> Sluice</div>
  <div class="leader" id="leader">connecting&#8230;</div>
  <div class="live"><span class="dot" id="live-dot"></span><span id="live-text">loading</span></div>
  <form class="token" id="token-form" autocomplete="off">
    <label for="token">API token</label>
    <input id="token" type="password" placeholder="for pause, resume, retry" spellcheck="false">
    <button type="submit" id="token-save">Save</button>
    <button type="button" id="token-clear" class="ghost">Clear</button>
  </form>
</header>
<div class="banner" id="banner" hidden></div>
<main>
  <section class="cards" id="cards"></section>
  <section class="panel">
    <div class="panel-head">
      <h2>Throughput</h2>
      <div class="legend"><span class="swatch rec"></span>records/s committed to S3 (30 s average), up to the last 15 minutes</div>
    </div>
    <div class="chart" id="chart"></div>
  </section>
  <section class="panel">
    <div class="panel-head">
      <h2>Topics</h2>
      <div class="hint" id="lag-hint">Lag turns amber past twice a topic&#8217;s flush interval (at least 1 min), red past six times (at least 5 min). Click a topic for its partitions.</div>
    </div>
    <table class="grid" id="topics">
      <thead><tr>
        <th>Topic</th><th>State</th><th class="num">Partitions</th><th class="num">Committed</th>
        <th class="num">Lag (records)</th><th class="num">Lag (time)</th><th class="num">Records/s 1m</th>
        <th class="num">Bytes/s 1m</th><th class="num">Ranges p/a/d/f</th><th></th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <div class="two">
    <section class="panel">
      <div class="panel-head"><h2>Workers</h2><div class="hint" id="queue"></div></div>
      <table class="grid" id="workers">
        <thead><tr><th>Worker</th><th>Host</th><th class="num">Active</th><th class="num">Uptime</th><th>Last progress</th><th>Ready</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel">
      <div class="panel-head"><h2>Gaps</h2><div class="hint">Offsets retention deleted before Sluice read them</div></div>
      <table class="grid" id="gaps">
        <thead><tr><th>Topic</th><th class="num">Partition</th><th class="num">Lost offsets</th><th>Not yet committed</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </div>
  <section class="panel">
    <div class="panel-head"><h2>Recent failures</h2><div class="hint">Ranges whose last attempt failed; they stay here until the range commits</div></div>
    <table class="grid" id="failures">
      <thead><tr><th>Range</th><th>State</th><th class="num">Attempt</th><th class="num">Failures</th><th>Worker</th><th>Error</th><th>When</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<div class="toast" id="toast" hidden></div>
<footer>Refreshes every 3 s from <code>/api/v1/status</code> &#183; API docs at <a href="/docs">/docs</a> &#183; metrics at <a href="/metrics">/metrics</a></footer>
</body>
</html>
`;
