/*
 * twcgw status page: fills index.html from /api/v1 and keeps it live over the event stream (polling
 * every 5 s when the stream fails), draws the history chart and sends the operator's settings.
 * Everything the API says is written with textContent, never as HTML: VINs, reasons and URLs come
 * from cars, meters and config files, not from us.
 */
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const MODE_NAMES = { off: 'Off', 'charge-now': 'Charge now', scheduled: 'Scheduled', 'track-green': 'Track green' };
  const POLL_MS = 5000;
  const STALE_MS = 12000;
  const MAX_POINTS = 2000; // the chart keeps the last hours; an open tab must not grow without end
  const CONN_COLOURS = ['#1e88e5', '#e53935', '#00897b'];

  const st = {
    status: null, settings: null, csrf: '', sig: '', lastAt: 0,
    es: null, pollTimer: 0, polling: false, formDirty: false, loginWaiters: [],
    cp: '', // several charge points: the one the settings act on ('' = the first)
  };

  /* ---- formatting: every current is a number followed by "A" ---- */
  const isNum = (x) => typeof x === 'number' && isFinite(x);
  const fmtA = (x) => (isNum(x) ? Math.round(x * 10) / 10 + ' A' : '–');
  function fmtW(w) {
    if (!isNum(w)) return '–';
    return Math.abs(w) >= 1000 ? (w / 1000).toFixed(2) + ' kW' : Math.round(w) + ' W';
  }
  function fmtWh(wh) {
    if (!isNum(wh)) return '–';
    return wh >= 1000 ? (wh / 1000).toFixed(wh >= 1e6 ? 0 : 2) + ' kWh' : Math.round(wh) + ' Wh';
  }
  function fmtDur(s) {
    if (!isNum(s)) return '–';
    s = Math.floor(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (h) return h + ' h ' + m + ' min';
    return m ? m + ' min ' + (s % 60) + ' s' : s + ' s';
  }
  function fmtTime(iso) {
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }
  const modeName = (m) => MODE_NAMES[m] || String(m);
  const SOURCES = { config: 'config file', page: 'set on this page', api: 'set through the REST API', mqtt: 'set over MQTT',
    settings: 'set at run time' };
  const sourceName = (s) => SOURCES[s] || String(s);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function put(node, text, cls) {
    const e = typeof node === 'string' ? $(node) : node;
    if (e.textContent !== text) e.textContent = text;
    if (cls !== undefined && e.className !== cls) e.className = cls;
  }

  /* ---- the API: CSRF token on every change, sign-in when it answers 401 ---- */
  async function api(method, path, body) {
    const opt = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      if (!st.csrf) await loadSession();
      opt.headers['X-CSRF-Token'] = st.csrf;
    }
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    const r = await fetch(path, opt);
    let json = null;
    try { json = await r.json(); } catch (e) { json = null; }
    return { status: r.status, ok: r.ok, json };
  }

  async function loadSession() {
    const r = await api('GET', 'api/v1/session');
    if (r.ok && r.json) st.csrf = r.json.csrf || '';
    return r;
  }

  function askLogin() {
    $('login').hidden = false;
    $('login-password').focus();
    return new Promise((resolve) => st.loginWaiters.push(resolve));
  }

  // A change the operator asked for: a stale token (403) is fetched anew once, and a 401 waits for the
  // sign-in and then sends the same change again, so the click is not lost.
  async function change(method, path, body) {
    for (let i = 0; i < 3; i++) {
      let r = await api(method, path, body);
      if (r.status === 403) {
        await loadSession();
        r = await api(method, path, body);
      }
      if (r.status !== 401) return r;
      await askLogin();
    }
    return { status: 401, ok: false, json: { error: 'not signed in' } };
  }

  async function read(path) {
    for (let i = 0; i < 3; i++) {
      const r = await api('GET', path);
      if (r.status !== 401) return r;
      await askLogin();
    }
    return { status: 401, ok: false, json: null };
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    put('login-error', '');
    try {
      // Not change(): its answer to a 401 is this very form, and here a 401 means a wrong password.
      const body = { password: $('login-password').value };
      let r = await api('POST', 'api/v1/login', body);
      if (r.status === 403) {
        await loadSession();
        r = await api('POST', 'api/v1/login', body);
      }
      if (!r.ok) {
        put('login-error', r.status === 429 ? 'Too many attempts: wait a little.' :
          (r.json && r.json.error) || 'Wrong password.');
        return;
      }
    } catch (e) {
      put('login-error', 'The gateway did not answer.');
      return;
    }
    $('login-password').value = '';
    $('login').hidden = true;
    await loadSession().catch(() => {});
    const waiters = st.loginWaiters;
    st.loginWaiters = [];
    waiters.forEach((f) => f());
    if (!st.es) connect();
  });

  /* ---- connectors ---- */
  const cards = new Map();
  const CARD_FIELDS = [['offered', 'Offered'], ['held', 'Held'], ['limits', 'Limits'], ['power', 'Power'],
    ['session', 'Session'], ['energy', 'Energy'], ['vin', 'VIN'], ['vehicle', 'Vehicle API']];

  function cardMake(n) {
    const root = el('section', 'card conn');
    root.dataset.connector = String(n);
    const head = el('div', 'card-head');
    const h = el('h2', '', 'Connector ' + n + ' ');
    const twc = el('span', 'muted');
    h.appendChild(twc);
    const state = el('span', 'state');
    head.append(h, state);
    const big = el('p', 'big');
    big.title = 'measured current';
    const dl = el('dl', 'kv');
    const f = {};
    for (const [key, label] of CARD_FIELDS) {
      dl.appendChild(el('dt', '', label));
      f[key] = dl.appendChild(el('dd'));
    }
    root.append(head, big, dl);
    return { root, twc, state, big, f };
  }

  function vehicleText(v) {
    if (!v || v.reachable === null || v.reachable === undefined) {
      return 'not in use' + (v && v.detail ? ' (' + v.detail + ')' : '');
    }
    return (v.reachable ? 'reaches the car' : 'cannot reach the car') + (v.detail ? ' (' + v.detail + ')' : '');
  }

  function renderConnectors(list) {
    const box = $('connectors');
    const seen = new Set();
    for (const c of list) {
      seen.add(c.connector);
      let k = cards.get(c.connector);
      if (!k) {
        k = cardMake(c.connector);
        cards.set(c.connector, k);
        box.appendChild(k.root);
      }
      put(k.twc, c.twc ? 'TWC ' + c.twc : '');
      put(k.state, String(c.state), 'state state-' + String(c.state).replace(/[^a-z]/g, ''));
      put(k.big, fmtA(c.measuredAmps));
      put(k.f.offered, fmtA(c.offeredAmps));
      put(k.f.held, fmtA(c.heldAmps));
      put(k.f.limits, 'cap ' + fmtA(c.capAmps) + ' · max ' + (isNum(c.maxAmps) ? fmtA(c.maxAmps) : 'none'));
      put(k.f.power, fmtW(c.powerW));
      const s = c.session;
      put(k.f.session, s ? fmtWh(s.energyWh) + ' · ' + fmtDur(s.durationS) +
        (s.transactionId !== null && s.transactionId !== undefined ? ' · transaction ' + s.transactionId : '')
        : 'none');
      put(k.f.energy, fmtWh(c.energyWh) + ' · ' + (c.sessions || 0) + ' session' + (c.sessions === 1 ? '' : 's') +
        ' since start');
      put(k.f.vin, c.vin ? c.vin : 'unknown');
      const v = c.vehicle;
      put(k.f.vehicle, vehicleText(v), v && v.reachable === true ? 'good' : v && v.reachable === false ? 'bad' : '');
    }
    for (const [n, k] of cards) {
      if (!seen.has(n)) {
        k.root.remove();
        cards.delete(n);
      }
    }
  }

  /* ---- bus, central system, policy ---- */
  function renderBus(b) {
    if (!b) return;
    put('b-port', (b.port || '–') + ' · ' + b.slaves + ' Wall Connector' + (b.slaves === 1 ? '' : 's'));
    put('b-link', b.linkUp ? 'up' : 'down', b.linkUp ? 'good' : 'bad');
    put('b-wiring', fmtA(b.wiringMaxAmpsAllTWCs) + ' in all · ' + fmtA(b.wiringMaxAmpsPerTWC) + ' per Wall Connector');
    put('b-held', fmtA(b.heldAmps));
    put('b-offered', fmtA(b.offeredAmps));
    put('b-reserved', fmtA(b.reservedAmps));
    put('b-measured', fmtA(b.measuredAmps));
    put('b-frames', b.framesIn + ' in · ' + b.framesOut + ' out · ' + b.frameErrors + ' errors',
      b.frameErrors ? 'bad' : '');
    put('b-gap', isNum(b.heartbeatGapMs) ? (b.heartbeatGapMs / 1000).toFixed(1) + ' s' : '–');
  }

  function renderOcpp(o) {
    $('ocpp-card').hidden = !o;
    if (!o) return;
    put('o-url', o.url || '–');
    put('o-conn', o.connected ? 'connected' : 'not connected', o.connected ? 'good' : 'bad');
    put('o-reg', o.registration || '–', o.registration === 'Accepted' ? 'good' : '');
    put('o-sec', 'profile ' + o.securityProfile);
    put('o-queue', o.queuedTransactionMessages + ' transaction messages · ' + o.queuedOtherMessages + ' other',
      o.queuedTransactionMessages ? 'bad' : '');
  }

  function policyText(p) {
    let t = modeName(p.mode);
    if (p.until) t += ' until ' + fmtTime(p.until) + ', then ' + modeName(p.then || 'off');
    return t + ' (' + sourceName(p.source) + ')';
  }

  function renderPolicy(p, meters) {
    if (p) {
      put('p-mode', policyText(p));
      put('p-amps', fmtA(p.amps));
      put('p-reason', p.reason || '–');
      put('p-surplus', fmtW(p.surplusW));
      put('p-house', fmtW(p.houseW));
      put('p-pv', fmtW(p.pvW));
      put('p-grid', isNum(p.gridW) ? fmtW(p.gridW) + (p.gridW < 0 ? ' export' : p.gridW > 0 ? ' import' : '') : '–');
    }
    const ul = $('meters');
    const rows = (meters || []).map((m) => {
      const age = isNum(m.ageS) ? m.ageS.toFixed(1) + ' s ago' : 'never read';
      return [m.name + ' (' + m.type + ')', fmtW(m.valueW) + ' · ' + age + (m.ok ? '' : ' · stale'), m.ok];
    });
    if (!rows.length) rows.push(['none', '', true]);
    while (ul.children.length > rows.length) ul.lastChild.remove();
    rows.forEach((r, i) => {
      let li = ul.children[i];
      if (!li) {
        li = ul.appendChild(el('li'));
        li.append(el('span'), el('br'), el('span'));
      }
      put(li.firstChild, r[0]);
      put(li.lastChild, r[1], r[2] ? 'muted' : 'bad');
    });
  }

  /* ---- several charge points (chargePoints): a section each, rebuilt in place ---- */
  const cpSections = new Map();

  function cpSectionMake(id) {
    const root = el('section', 'cp');
    root.dataset.chargePoint = id;
    const head = el('div', 'card-head');
    const h = el('h3', '', id);
    const link = el('span');
    head.append(h, link);
    const dl = el('dl', 'kv');
    const f = {};
    for (const [key, label] of [['bus', 'Bus'], ['amps', 'Amps'], ['ocpp', 'Central system'], ['policy', 'Policy']]) {
      dl.appendChild(el('dt', '', label));
      f[key] = dl.appendChild(el('dd'));
    }
    const table = el('table');
    const hr = table.appendChild(el('tr'));
    for (const t of ['Connector', 'TWC', 'State', 'Measured', 'Offered', 'Session']) hr.appendChild(el('th', '', t));
    const body = table.appendChild(el('tbody'));
    root.append(head, dl, table);
    return { root, link, f, body };
  }

  function renderDepot(list) {
    const box = $('depot');
    box.hidden = list.length < 2;
    $('cp-pick-box').hidden = box.hidden;
    if (box.hidden) {
      for (const k of cpSections.values()) k.root.remove();
      cpSections.clear();
      st.cp = '';
      return;
    }
    put('depot-count', '(' + list.length + ')');
    const ids = list.map((cp) => cp.chargePoint).filter((id) => id);
    if (st.cp && ids.indexOf(st.cp) < 0) {
      st.cp = ''; // removed at a reload: back to the first
      loadSettings();
    }
    const pick = $('cp-pick');
    if (Array.from(pick.options).map((o) => o.value).join('\n') !== ids.join('\n')) {
      pick.textContent = '';
      for (const id of ids) pick.appendChild(new Option(id, id));
    }
    pick.value = st.cp || ids[0] || '';
    const seen = new Set();
    list.forEach((cp, i) => {
      const id = cp.chargePoint || 'charge point ' + (i + 1);
      seen.add(id);
      let k = cpSections.get(id);
      if (!k) {
        k = cpSectionMake(id);
        cpSections.set(id, k);
      }
      $('depot-list').appendChild(k.root); // config order, also after a reload
      const b = cp.bus || {};
      put(k.link, b.linkUp ? 'bus up' : 'bus down', 'state ' + (b.linkUp ? 'state-charging' : 'state-error'));
      put(k.f.bus, (b.port || '–') + ' · ' + (b.slaves || 0) + ' Wall Connector' + (b.slaves === 1 ? '' : 's'));
      put(k.f.amps, 'in force ' + fmtA(b.heldAmps) + ' of ' + fmtA(b.wiringMaxAmpsAllTWCs) + ' · measured ' + fmtA(b.measuredAmps));
      const o = cp.ocpp;
      put(k.f.ocpp, o ? (o.connected ? 'connected' : 'not connected') + (o.registration ? ' · ' + o.registration : '') : 'none',
        o ? (o.connected ? 'good' : 'bad') : 'muted');
      put(k.f.policy, cp.policy ? modeName(cp.policy.mode) + ' · ' + fmtA(cp.policy.amps) : '–');
      const rows = cp.connectors || [];
      while (k.body.children.length > rows.length) k.body.lastChild.remove();
      rows.forEach((c, j) => {
        let tr = k.body.children[j];
        if (!tr) {
          tr = k.body.appendChild(el('tr'));
          for (let n = 0; n < 6; n++) tr.appendChild(el('td'));
        }
        const td = tr.children;
        put(td[0], String(c.connector));
        put(td[1], c.twc || '–');
        put(td[2], String(c.state), 'state-' + String(c.state).replace(/[^a-z]/g, ''));
        put(td[3], fmtA(c.measuredAmps));
        put(td[4], fmtA(c.offeredAmps));
        put(td[5], c.session ? fmtWh(c.session.energyWh) + ' · ' + fmtDur(c.session.durationS) : 'none');
      });
    });
    for (const [id, k] of cpSections) {
      if (!seen.has(id)) {
        k.root.remove();
        cpSections.delete(id);
      }
    }
  }

  function renderStatus(s) {
    st.status = s;
    st.lastAt = Date.now();
    if (st.polling) setLink('poll', 'event stream down: asking every 5 s');
    else if (st.es) setLink('up', 'live');
    put('cp', s.chargePoint ? s.chargePoint : 'standalone');
    put('clock', fmtTime(s.time));
    put('version', 'twcgw ' + s.version);
    put('uptime', 'up ' + fmtDur(s.uptimeS));
    if (s.process) put('process', (s.process.rssBytes / 1048576).toFixed(1) + ' MiB, CPU ' + s.process.cpuSeconds.toFixed(1) + ' s');
    renderConnectors(s.connectors || []);
    renderBus(s.bus);
    renderOcpp(s.ocpp);
    renderPolicy(s.policy, s.meters);
    renderDepot(s.chargePoints || []);
    // The settings are fetched again when something the status shows of them changed (another browser,
    // MQTT, a mode whose time ran out), so the form does not show stale values.
    const picked = (st.cp && (s.chargePoints || []).find((cp) => cp.chargePoint === st.cp)) || s;
    const p = picked.policy || {};
    const sig = JSON.stringify([st.cp, p.mode, p.source, p.until, p.then, (picked.connectors || []).map((c) => c.maxAmps)]);
    if (st.sig && sig !== st.sig) loadSettings();
    st.sig = sig;
  }

  /* ---- the chart ---- */
  const ch = { u: null, data: null, conns: [] };

  function histInit(h) {
    ch.conns = (h.connectors || []).slice();
    const amps = h.amps || [];
    ch.data = [(h.t || []).slice(), (h.surplusW || []).slice(), (h.houseW || []).slice(), (h.pvW || []).slice()]
      .concat(ch.conns.map((c, i) => (amps[i] || []).slice()));
    trim();
    chartBuild();
  }

  // Trims to the last MAX_POINTS and says how many there are (data-points: the browser test reads it).
  function trim() {
    const extra = ch.data[0].length - MAX_POINTS;
    if (extra > 0) ch.data.forEach((a) => a.splice(0, extra));
    $('chart').dataset.points = String(ch.data[0].length);
  }

  const at = (a, k) => (a && k < a.length ? a[k] : null);

  function histAppend(h) {
    if (!ch.data || String(h.connectors || []) !== String(ch.conns)) {
      loadHistory();
      return;
    }
    const d = ch.data;
    const t = h.t || [];
    let added = 0;
    for (let k = 0; k < t.length; k++) {
      if (d[0].length && t[k] <= d[0][d[0].length - 1]) continue; // already have it (poll after stream)
      d[0].push(t[k]);
      d[1].push(at(h.surplusW, k));
      d[2].push(at(h.houseW, k));
      d[3].push(at(h.pvW, k));
      ch.conns.forEach((c, i) => d[4 + i].push(at((h.amps || [])[i], k)));
      added++;
    }
    if (!added) return;
    trim();
    if (ch.u) ch.u.setData(d);
    else chartBuild();
    $('chart-empty').hidden = d[0].length > 0;
  }

  function chartSize() {
    const w = Math.max(200, $('chart').clientWidth);
    return { width: w, height: Math.max(180, Math.min(300, Math.round(w * 0.45))) };
  }

  function chartBuild() {
    if (ch.u) {
      ch.u.destroy();
      ch.u = null;
    }
    $('chart-empty').hidden = !!(ch.data && ch.data[0].length);
    if (typeof uPlot !== 'function' || !ch.data) return;
    const cs = getComputedStyle(document.documentElement);
    const fg = cs.getPropertyValue('--muted').trim() || '#888';
    const line = cs.getPropertyValue('--line').trim() || '#ccc';
    const axis = (o) => Object.assign({ stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } }, o);
    const wValue = (u, v) => fmtW(v);
    const aValue = (u, v) => fmtA(v);
    const series = [{},
      { label: 'Surplus', scale: 'W', stroke: '#43a047', width: 2, value: wValue },
      { label: 'House', scale: 'W', stroke: '#8e24aa', width: 1.5, value: wValue },
      { label: 'PV', scale: 'W', stroke: '#f9a825', fill: 'rgba(249,168,37,0.12)', width: 1.5, value: wValue }]
      .concat(ch.conns.map((c, i) => ({ label: 'Connector ' + c, scale: 'A', stroke: CONN_COLOURS[i % 3],
        width: 2, value: aValue })));
    const opts = Object.assign(chartSize(), {
      series,
      scales: { x: { time: true }, A: { range: (u, min, max) => [0, Math.max(isNum(max) ? max : 0, 6) * 1.1] } },
      axes: [axis({}),
        axis({ scale: 'W', size: 64, values: (u, vs) => vs.map((v) => (Math.abs(v) >= 1000 ? +(v / 1000).toFixed(2) + ' kW' : v + ' W')) }),
        axis({ scale: 'A', side: 1, size: 48, grid: { show: false }, values: (u, vs) => vs.map((v) => +v.toFixed(1) + ' A') })],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    });
    ch.u = new uPlot(opts, ch.data, $('chart'));
  }

  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (ch.u) ch.u.setSize(chartSize()); }, 150);
  });
  if (window.matchMedia) {
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    if (mq.addEventListener) mq.addEventListener('change', chartBuild);
  }

  async function loadHistory() {
    try {
      const r = await read('api/v1/history');
      if (r.ok && r.json) histInit(r.json);
    } catch (e) { /* the next poll or event tries again */ }
  }

  /* ---- settings: the form and the per-connector maximum ---- */
  function toLocalInput(iso) {
    const d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return '';
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }

  function fillSelect(sel, values, value) {
    sel.textContent = '';
    for (const v of values) sel.appendChild(new Option(modeName(v), v));
    if (value !== undefined && values.indexOf(value) >= 0) sel.value = value;
  }

  function winRow(w) {
    const row = el('div', 'win');
    const mk = (type, cls, val, label, attrs) => {
      const i = el('input', cls);
      i.type = type;
      i.value = val === undefined || val === null ? '' : String(val);
      i.setAttribute('aria-label', label);
      Object.keys(attrs || {}).forEach((a) => i.setAttribute(a, attrs[a]));
      return i;
    };
    const rm = el('button', '', 'Remove');
    rm.type = 'button';
    rm.addEventListener('click', () => { row.remove(); st.formDirty = true; });
    row.append(mk('text', 'w-days', w.days || 'daily', 'days', { placeholder: 'mon-fri' }),
      mk('time', 'w-start', w.start || w.from || '22:00', 'start'), el('span', '', 'to'),
      mk('time', 'w-end', w.end || w.to || '06:00', 'end'),
      mk('number', 'w-amps', isNum(w.amps) ? w.amps : 16, 'amps', { min: '0', step: '1' }), el('span', '', 'A'), rm);
    return row;
  }

  function readSchedule() {
    return Array.from($('schedule').querySelectorAll('.win')).map((r) => ({
      days: r.querySelector('.w-days').value.trim(),
      start: r.querySelector('.w-start').value,
      end: r.querySelector('.w-end').value,
      amps: Number(r.querySelector('.w-amps').value),
    }));
  }

  function showModeParts() {
    const m = $('mode').value;
    $('until-box').hidden = m !== 'charge-now';
    $('schedule-box').hidden = m !== 'scheduled';
    if (m === 'scheduled' && !$('schedule').children.length) $('schedule').appendChild(winRow({}));
  }

  function renderSettings(s) {
    if (!s) return;
    st.settings = s;
    const pol = s.policy || {};
    const v = pol.value || {};
    const modes = s.modes && s.modes.length ? s.modes : Object.keys(MODE_NAMES);
    put('policy-source', 'in force: ' + modeName(v.mode) + ', ' + sourceName(pol.source));
    $('policy-config').disabled = pol.source === 'config';
    if (!st.formDirty) {
      fillSelect($('mode'), modes, v.mode);
      fillSelect($('then'), modes.filter((m) => m !== 'charge-now'), v.then || 'off');
      $('until').value = toLocalInput(v.until);
      const box = $('schedule');
      box.textContent = '';
      (Array.isArray(v.schedule) ? v.schedule : []).forEach((w) => box.appendChild(winRow(w)));
      showModeParts();
    }
    renderLimits(s);
  }

  function renderLimits(s) {
    const box = $('limits');
    const conns = s.connectors || [];
    if (box.children.length !== conns.length) box.textContent = '';
    conns.forEach((c, i) => {
      let row = box.children[i];
      if (!row || row.dataset.connector !== String(c.connector)) {
        row = el('form', 'limit');
        row.dataset.connector = String(c.connector);
        const label = el('label', '', 'Connector ' + c.connector);
        const inp = el('input', 'max');
        inp.type = 'number';
        inp.min = '0';
        inp.step = '1';
        inp.placeholder = 'none';
        inp.id = 'max-' + c.connector;
        // No max attribute: the API checks the range and its message says why (the form shows it).
        if (isNum(s.wiringMaxAmpsPerTWC)) inp.title = 'up to ' + fmtA(s.wiringMaxAmpsPerTWC) + ', empty for none';
        inp.addEventListener('input', () => { inp.dataset.dirty = '1'; });
        label.append(inp, el('span', '', 'A'));
        const set = el('button', '', 'Set');
        set.type = 'submit';
        const none = el('button', '', 'No maximum');
        none.type = 'button';
        const info = el('span', 'muted info');
        row.append(label, set, none, info);
        const send = (val) => setMax(c.connector, val, inp);
        row.addEventListener('submit', (ev) => {
          ev.preventDefault();
          send(inp.value === '' ? null : Number(inp.value));
        });
        none.addEventListener('click', () => send(null));
        if (box.children[i]) box.replaceChild(row, box.children[i]);
        else box.appendChild(row);
      }
      const inp = row.querySelector('input');
      if (!inp.dataset.dirty && document.activeElement !== inp) inp.value = isNum(c.maxAmps) ? String(c.maxAmps) : '';
      put(row.querySelector('.info'), (c.twc ? 'TWC ' + c.twc + ' · ' : '') + 'now ' +
        (isNum(c.maxAmps) ? fmtA(c.maxAmps) : 'no maximum') + ' (' + sourceName(c.source) + ')' +
        (c.limitBy ? ' · limited by ' + c.limitBy : ''));
    });
  }

  async function loadSettings() {
    try {
      const r = await read('api/v1/settings' + (st.cp ? '?chargePoint=' + encodeURIComponent(st.cp) : ''));
      if (r.ok) renderSettings(r.json);
    } catch (e) { /* shown again on the next change */ }
  }

  async function refreshStatus() {
    try {
      const r = await api('GET', 'api/v1/status');
      if (r.ok && r.json) renderStatus(r.json);
    } catch (e) { /* the stream or the poll brings it */ }
  }

  async function sendPolicy(body) {
    put('policy-error', '');
    $('apply-policy').disabled = true;
    try {
      const r = await change('PUT', 'api/v1/settings/policy', st.cp ? Object.assign({ chargePoint: st.cp }, body) : body);
      if (r.ok) {
        st.formDirty = false;
        renderSettings(r.json);
        refreshStatus();
      } else {
        put('policy-error', (r.json && r.json.error) || 'The gateway answered HTTP ' + r.status + '.');
      }
    } catch (e) {
      put('policy-error', 'The gateway did not answer.');
    } finally {
      $('apply-policy').disabled = false;
    }
  }

  async function setMax(n, value, inp) {
    put('limits-error', '');
    try {
      const r = await change('PUT', 'api/v1/connectors/' + n + '/maxAmps',
        st.cp ? { maxAmps: value, chargePoint: st.cp } : { maxAmps: value });
      if (r.ok) {
        delete inp.dataset.dirty;
        renderSettings(r.json);
        refreshStatus();
      } else {
        put('limits-error', (r.json && r.json.error) || 'The gateway answered HTTP ' + r.status + '.');
      }
    } catch (e) {
      put('limits-error', 'The gateway did not answer.');
    }
  }

  $('cp-pick').addEventListener('change', () => {
    const ids = Array.from($('cp-pick').options).map((o) => o.value);
    st.cp = $('cp-pick').value === ids[0] ? '' : $('cp-pick').value;
    st.formDirty = false;
    $('limits').textContent = '';
    put('policy-error', '');
    put('limits-error', '');
    loadSettings();
  });
  $('policy-form').addEventListener('input', () => { st.formDirty = true; });
  $('mode').addEventListener('change', () => { st.formDirty = true; showModeParts(); });
  $('schedule-add').addEventListener('click', () => {
    st.formDirty = true;
    $('schedule').appendChild(winRow({}));
  });
  $('policy-config').addEventListener('click', () => sendPolicy({ mode: 'config' }));
  $('policy-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const mode = $('mode').value;
    const body = { mode };
    if (mode === 'charge-now' && $('until').value) {
      const d = new Date($('until').value);
      if (isNaN(d.getTime())) {
        put('policy-error', 'until: not a date and time');
        return;
      }
      body.until = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
      body.then = $('then').value;
    }
    if (mode === 'scheduled') body.schedule = readSchedule();
    sendPolicy(body);
  });

  /* ---- live: the event stream, polling while it is down ---- */
  function setLink(kind, title) {
    const d = $('link');
    d.className = 'dot ' + kind;
    d.title = title;
  }

  async function pollOnce() {
    try {
      const r = await api('GET', 'api/v1/status');
      if (r.status === 401) {
        if (!st.loginWaiters.length) askLogin();
        return;
      }
      if (r.ok && r.json) renderStatus(r.json);
      const d = ch.data;
      const since = d && d[0].length ? d[0][d[0].length - 1] : 0;
      const h = await api('GET', 'api/v1/history' + (since ? '?since=' + since : ''));
      if (h.ok && h.json) (since ? histAppend : histInit)(h.json);
    } catch (e) { /* the stale watch below shows it */ }
  }

  function startPolling() {
    if (st.polling) return;
    st.polling = true;
    setLink('poll', 'event stream down: asking every 5 s');
    pollOnce();
    st.pollTimer = setInterval(pollOnce, POLL_MS);
  }

  function stopPolling() {
    st.polling = false;
    clearInterval(st.pollTimer);
  }

  function connect() {
    if (typeof EventSource !== 'function') {
      startPolling();
      return;
    }
    const es = new EventSource('api/v1/events');
    st.es = es;
    es.addEventListener('open', () => {
      stopPolling();
      setLink('up', 'live');
    });
    es.addEventListener('status', (ev) => {
      try { renderStatus(JSON.parse(ev.data)); } catch (e) { /* one bad event: the next one replaces it */ }
    });
    es.addEventListener('history', (ev) => {
      try { histAppend(JSON.parse(ev.data)); } catch (e) { /* as above */ }
    });
    es.addEventListener('error', () => {
      startPolling();
      // CLOSED: the browser gave up (an answer that is not a stream, e.g. 401); try again later.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        if (st.es === es) st.es = null;
        setTimeout(() => { if (!st.es) connect(); }, 30000);
      }
    });
  }

  setInterval(() => {
    if (!st.lastAt) return;
    const age = Date.now() - st.lastAt;
    $('banner').hidden = age < STALE_MS;
    if (age >= STALE_MS) {
      put('banner', 'No news from the gateway for ' + Math.round(age / 1000) + ' s: the values shown may be old.');
      setLink('down', 'no data');
      // A stream that stays open but silent (a proxy holding it, a server that lost it) is no stream:
      // ask by polling and open a new one.
      if (st.es && !st.polling) {
        st.es.close();
        st.es = null;
        startPolling();
        connect();
      }
    }
  }, 1000);

  async function start() {
    try {
      await loadSession();
      const r = await read('api/v1/status');
      if (r.ok && r.json) renderStatus(r.json);
    } catch (e) {
      put('clock', 'the gateway does not answer');
    }
    await loadHistory();
    if (!ch.data) chartBuild();
    await loadSettings();
    connect();
  }

  start();
})();
