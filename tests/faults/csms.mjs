// The fault-injecting central system of the fault suite: a plain websocket server (the `ws` package
// that conformance/ already installs) that answers the charge point like a permissive OCPP 1.6J
// central system, checks every CALL the charge point sends against the OCPP 1.6 schemas (ocpp-rpc's,
// also from conformance/node_modules), and can misbehave on purpose: drop the websocket every few
// seconds or right after an answer, answer late, not at all, with a CALLERROR or with a malformed
// frame, and send the charge point malformed frames of its own.
//
// It keeps the ledger the suite's figures come from: every StartTransaction, StopTransaction and
// MeterValues by a key that identifies it (StartTransaction: connector, meterStart, timestamp,
// idTag; StopTransaction: its transactionId; MeterValues: the whole payload), every arrival of each,
// how it was answered, and whether the charge point showed it had the answer (it sent its next CALL
// on the same connection before its call timeout, or used the transactionId). A StartTransaction
// that arrives again is answered with the transactionId given the first time, as a central system
// that de-duplicates would.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const requireConf = createRequire(path.join(here, '../../conformance/package.json'));
const { WebSocketServer } = requireConf('ws');
const { createValidator } = requireConf('ocpp-rpc');
const validator = createValidator('ocpp1.6', requireConf('ocpp-rpc/lib/schemas/ocpp1_6.json'));

const CALL = 2;
const RESULT = 3;
const ERROR = 4;
const TX_ACTIONS = new Set(['StartTransaction', 'StopTransaction', 'MeterValues']);

// Frames that are not what the charge point asked for: each is sent instead of a proper answer, or
// on its own (unsolicited).
const MALFORMED_REPLIES = [
  (id) => `[3,"${id}",`, // cut short
  (id) => `[3,"${id}",{"transactionId":"not-a-number","idTagInfo":{"status":"Accepted"}}]`,
  (id) => `[3,"${id}-other",{}]`, // an answer to nothing
  (id) => `[4,"${id}","NoSuchCode",42]`, // CALLERROR with wrong types
  () => 'not json at all',
  (id) => `[3,"${id}"]`, // no payload
  (id) => `{"3":"${id}"}`, // an object, not an array
];
const MALFORMED_UNSOLICITED = [
  () => '[2,"u1","RemoteStartTransaction",{"connectorId":"one","idTag":"X"}]',
  () => '[2,"u2","NoSuchAction",{}]',
  () => '[2,"u3","RemoteStopTransaction"]',
  () => '[9,"u4"]',
  () => '\u0000\u0001garbage',
  () => `[2,"u5","ChangeAvailability",{"connectorId":1,"type":"Sideways"}]`,
  () => `[2,"u6","GetConfiguration",{"key":[${'"x",'.repeat(60)}"y"]}]`,
  () => '[2,"u7","DataTransfer",{"vendorId":"' + 'v'.repeat(300) + '"}]',
];

const pick = (rng, list) => list[Math.floor(rng() * list.length)];

export class FaultCsms {
  /**
   * @param {object} o
   * @param {() => number} o.rng random numbers in [0, 1)
   * @param {number} o.callTimeoutMs the charge point's ocpp.callTimeout
   * @param {number} o.heartbeatInterval the BootNotification answer's interval
   * @param {(line: string) => void} [o.log]
   */
  constructor({ rng, callTimeoutMs, heartbeatInterval = 30, log = () => {} }) {
    this.rng = rng;
    this.callTimeoutMs = callTimeoutMs;
    this.heartbeatInterval = heartbeatInterval;
    this.log = log;
    this.faults = {};       // see setFaults()
    this.conns = [];        // every connection, in order
    this.conn = null;       // the open one
    this.nextTx = 1000;
    this.starts = new Map();   // key -> start record
    this.byTx = new Map();     // transactionId -> start record
    this.stops = new Map();    // transactionId -> { payloads: Map(json -> record) }
    this.meterValues = new Map(); // json -> record
    this.mvOrder = new Map();
    this.energySeen = new Map();  // transactionId -> highest Energy.Active.Import.Register delivered     // transactionId -> periodic samples' timestamps in arrival order
    this.violations = [];      // schema violations and protocol rule breaks by the charge point
    this.counts = { calls: 0, drops: 0, dropsAfterAnswer: 0, delayed: 0, noReply: 0, callErrors: 0, malformedReplies: 0, unsolicited: 0, unsolicitedAnswered: 0 };
    this.outPending = new Map(); // our CALLs: id -> {resolve, timer}
    this.outSeq = 0;
    this.bootCount = 0;
    this.callsByPhase = {};
    this.lastCallAt = 0;
  }

  async listen() {
    this.wss = new WebSocketServer({
      host: '127.0.0.1', port: 0,
      handleProtocols: (protocols) => (protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
    });
    await new Promise((resolve) => this.wss.on('listening', resolve));
    this.wss.on('connection', (ws, req) => this._onConnection(ws, req));
    this.port = this.wss.address().port;
    this.url = `ws://127.0.0.1:${this.port}/ocpp`;
    return this.url;
  }

  async close() {
    clearTimeout(this.dropTimer);
    clearInterval(this.unsolicitedTimer);
    for (const c of this.conns) c.ws.terminate();
    await new Promise((resolve) => this.wss.close(() => resolve()));
  }

  /**
   * Misbehaviour from now on (probabilities per CALL from the charge point unless said otherwise):
   * dropEveryMs [min, max]: drop the open websocket at random intervals (no close handshake);
   * dropAfterAnswer: drop right after answering a transaction message; delay: [p, maxMs] answer late;
   * noReply, callError, malformed: instead of the answer; unsolicitedEveryMs: a malformed frame of
   * our own now and then; refuse: refuse new connections (the central system down).
   */
  setFaults(f = {}) {
    this.faults = f;
    clearTimeout(this.dropTimer);
    clearInterval(this.unsolicitedTimer);
    if (f.dropEveryMs) this._armDrop();
    if (f.unsolicitedEveryMs) {
      this.unsolicitedTimer = setInterval(() => this._sendUnsolicited(), f.unsolicitedEveryMs);
    }
  }

  _armDrop() {
    const [lo, hi] = this.faults.dropEveryMs;
    this.dropTimer = setTimeout(() => {
      if (this.conn) { this.counts.drops++; this.drop('every few seconds'); }
      this._armDrop();
    }, lo + this.rng() * (hi - lo));
  }

  drop(why) {
    const c = this.conn;
    if (!c) return;
    this.log(`csms: dropping connection ${c.n} (${why})`);
    c.ws.terminate();
  }

  _sendUnsolicited() {
    const c = this.conn;
    if (!c || c.ws.readyState !== 1) return;
    const text = pick(this.rng, MALFORMED_UNSOLICITED)();
    this.counts.unsolicited++;
    c.ws.send(text);
  }

  _onConnection(ws, req) {
    if (this.faults.refuse) { ws.terminate(); return; }
    const c = { n: this.conns.length + 1, ws, at: Date.now(), url: req.url, closedAt: null, inFlight: null, lastAnswer: null };
    this.conns.push(c);
    if (this.conn) this.conn.ws.terminate();
    this.conn = c;
    this.log(`csms: connection ${c.n} ${req.url}`);
    ws.on('message', (data, isBinary) => this._onMessage(c, isBinary ? data : data.toString()));
    ws.on('close', () => {
      c.closedAt = Date.now();
      if (this.conn === c) this.conn = null;
      for (const [id, p] of this.outPending) if (p.conn === c) { clearTimeout(p.timer); this.outPending.delete(id); p.resolve({ error: 'disconnected' }); }
    });
    ws.on('error', () => {});
  }

  _violation(c, what) {
    this.violations.push(`${new Date().toISOString()} conn ${c.n}: ${what}`);
    this.log(`csms: VIOLATION ${what}`);
  }

  _onMessage(c, text) {
    if (typeof text !== 'string') { this._violation(c, 'a binary frame'); return; }
    let msg;
    try { msg = JSON.parse(text); } catch { this._violation(c, `not JSON: ${text.slice(0, 200)}`); return; }
    if (!Array.isArray(msg) || typeof msg[1] !== 'string') { this._violation(c, `not an OCPP-J message: ${text.slice(0, 200)}`); return; }
    if (msg[0] === RESULT || msg[0] === ERROR) {
      const p = this.outPending.get(msg[1]);
      if (p) {
        clearTimeout(p.timer);
        this.outPending.delete(msg[1]);
        p.resolve(msg[0] === RESULT ? { result: msg[2] } : { error: msg[2], description: msg[3] });
      } else if (/^u\d$/.test(msg[1]) || msg[1] === '-1') {
        this.counts.unsolicitedAnswered++;
      }
      return;
    }
    if (msg[0] !== CALL) { this._violation(c, `message type ${msg[0]}`); return; }
    this._onCall(c, msg[1], msg[2], msg[3]);
  }

  _onCall(c, id, action, payload) {
    const now = Date.now();
    this.counts.calls++;
    const ph = (this.callsByPhase[this.phase || 'setup'] ||= {});
    ph[action] = (ph[action] || 0) + 1;
    this.lastCallAt = now;
    try {
      validator.validate(`urn:${action}.req`, payload);
    } catch (err) {
      this._violation(c, `${action}.req breaks the schema: ${err.message}: ${JSON.stringify(payload).slice(0, 300)}`);
    }
    // One CALL at a time: a new one while ours is unanswered is a violation, unless the charge point
    // may have given up on it (its call timeout passed).
    if (c.inFlight && !c.inFlight.answered && now - c.inFlight.at < this.callTimeoutMs - 250) {
      this._violation(c, `CALL ${action} while ${c.inFlight.action} (${c.inFlight.id}) was unanswered for ${now - c.inFlight.at} ms`);
    }
    // The previous answer on this connection reached the charge point if it sends this CALL before it
    // could have timed out waiting for it.
    const prev = c.lastAnswer;
    if (prev && prev.kind === 'result' && !prev.acked && now - prev.callAt < this.callTimeoutMs - 250) prev.acked = now;
    const call = { id, action, at: now, answered: false, conn: c };
    c.inFlight = call;
    const arrival = { t: now, conn: c.n, id, kind: null, acked: 0, callAt: now, answeredAt: 0 };
    const result = this._ledger(c, action, payload, arrival);
    if (action === 'BootNotification') this.bootCount++;

    // Decide how to answer.
    const f = this.faults;
    const r = this.rng();
    const isTx = TX_ACTIONS.has(action);
    const scope = f.txOnly ? isTx : true;
    let how = 'result';
    if (scope && f.noReply && r < f.noReply) how = 'none';
    else if (scope && f.callError && r < (f.noReply || 0) + f.callError) how = 'error';
    else if (scope && f.malformed && r < (f.noReply || 0) + (f.callError || 0) + f.malformed) how = 'malformed';
    let delay = 0;
    if (f.delay && this.rng() < f.delay[0]) { delay = Math.floor(this.rng() * f.delay[1]); this.counts.delayed++; }
    const dropAfter = isTx && f.dropAfterAnswer && this.rng() < f.dropAfterAnswer;
    arrival.kind = how;
    if (how === 'none') { this.counts.noReply++; call.answered = true; return; }
    const send = () => {
      if (c.ws.readyState !== 1) { arrival.kind = `${how}-unsent`; return; }
      let text;
      if (how === 'error') { text = JSON.stringify([ERROR, id, 'InternalError', 'injected by the fault suite', {}]); this.counts.callErrors++; }
      else if (how === 'malformed') { text = pick(this.rng, MALFORMED_REPLIES)(id); this.counts.malformedReplies++; }
      else text = JSON.stringify([RESULT, id, result]);
      c.ws.send(text);
      if (how === 'result' && isTx && this.onTxAnswer) {
        const fn = this.onTxAnswer;
        this.onTxAnswer = null;
        fn(action);
      }
      call.answered = true;
      arrival.answeredAt = Date.now();
      if (how === 'result') c.lastAnswer = arrival;
      if (dropAfter) {
        this.counts.dropsAfterAnswer++;
        // Right after the frame is out: the answer may or may not get there.
        setImmediate(() => { if (this.conn === c) this.drop('right after an answer'); else c.ws.terminate(); });
      }
    };
    if (delay) setTimeout(send, delay); else send();
  }

  // Record a charge point CALL in the ledger and return the answer's payload.
  _ledger(c, action, p, arrival) {
    const now = new Date().toISOString();
    arrival.phase = this.phase;
    if (p && typeof p.transactionId === 'number' && p.transactionId <= 0 && (action === 'StopTransaction' || action === 'MeterValues')) {
      this._violation(c, `${action} with transactionId ${p.transactionId} (a provisional id sent out)`);
    }
    switch (action) {
      case 'BootNotification':
        return { status: 'Accepted', currentTime: now, interval: this.heartbeatInterval };
      case 'Heartbeat':
        return { currentTime: now };
      case 'Authorize':
        return { idTagInfo: { status: 'Accepted' } };
      case 'StartTransaction': {
        const key = JSON.stringify([p.connectorId, p.meterStart, p.timestamp, p.idTag]);
        let s = this.starts.get(key);
        if (!s) {
          s = { key, connectorId: p.connectorId, idTag: p.idTag, meterStart: p.meterStart, timestamp: p.timestamp, txId: ++this.nextTx, arrivals: [], firstAt: arrival.t, usedAt: 0 };
          this.starts.set(key, s);
          this.byTx.set(s.txId, s);
        }
        s.arrivals.push(arrival);
        return { transactionId: s.txId, idTagInfo: { status: 'Accepted' } };
      }
      case 'StopTransaction': {
        const tx = p.transactionId;
        const s = this.byTx.get(tx);
        if (s && !s.usedAt) s.usedAt = arrival.t;
        let st = this.stops.get(tx);
        if (!st) { st = { txId: tx, payloads: new Map(), firstAt: arrival.t, known: !!s }; this.stops.set(tx, st); }
        const k = JSON.stringify(p);
        let rec = st.payloads.get(k);
        if (!rec) { rec = { payload: p, arrivals: [] }; st.payloads.set(k, rec); }
        rec.arrivals.push(arrival);
        return { idTagInfo: { status: 'Accepted' } };
      }
      case 'MeterValues': {
        if (p.transactionId !== undefined) {
          const s = this.byTx.get(p.transactionId);
          if (s && !s.usedAt) s.usedAt = arrival.t;
        }
        const k = JSON.stringify(p);
        let rec = this.meterValues.get(k);
        if (!rec) { rec = { payload: p, arrivals: [], firstAt: arrival.t, afterStop: false }; this.meterValues.set(k, rec); }
        if (p.transactionId !== undefined && this.stops.has(p.transactionId) && rec.arrivals.length === 0) rec.afterStop = true;
        if (rec.arrivals.length === 0 && p.transactionId !== undefined) {
          // The energy register of a transaction, as the central system has seen it.
          for (const mv of p.meterValue || []) {
            for (const v of mv.sampledValue || []) {
              if ((v.measurand || 'Energy.Active.Import.Register') !== 'Energy.Active.Import.Register') continue;
              const wh = Number(v.value) * (v.unit === 'kWh' ? 1000 : 1);
              const seen = this.energySeen.get(p.transactionId);
              if (!seen || wh > seen.wh) this.energySeen.set(p.transactionId, { wh, at: mv.timestamp });
            }
          }
          // Periodic samples of one transaction, in the order they first arrived.
          const ts = (p.meterValue || []).filter((mv) => (mv.sampledValue || []).some((v) => v.context === 'Sample.Periodic')).map((mv) => Date.parse(mv.timestamp));
          if (ts.length) {
            const list = this.mvOrder.get(p.transactionId) || [];
            list.push({ ts: Math.min(...ts), phase: this.phase, t: arrival.t });
            this.mvOrder.set(p.transactionId, list);
          }
        }
        rec.arrivals.push(arrival);
        return {};
      }
      default:
        return {};
    }
  }

  /** A CALL of ours; resolves {result} or {error} (or {error: 'timeout' | 'disconnected' | 'offline'}). */
  call(action, payload, timeoutMs = 8000) {
    const c = this.conn;
    if (!c || c.ws.readyState !== 1) return Promise.resolve({ error: 'offline' });
    const id = `cs${++this.outSeq}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.outPending.delete(id); resolve({ error: 'timeout' }); }, timeoutMs);
      this.outPending.set(id, { resolve, timer, conn: c });
      c.ws.send(JSON.stringify([CALL, id, action, payload]));
    });
  }

  /** The transaction the charge point runs for this idTag (from its StartTransaction), or null. */
  txOfTag(idTag) {
    for (const s of this.starts.values()) if (s.idTag === idTag) return s;
    return null;
  }

  /**
   * The ledger in figures. A repeated arrival whose previous answer was a CALLRESULT the charge point
   * had acknowledged is a duplicate; one whose previous answer was a CALLRESULT that may not have got
   * there (the link dropped or the process was killed before the charge point showed it had it) is a
   * resend (at-least-once, allowed); one after a CALLERROR, no answer or a malformed answer is a retry.
   */
  figures() {
    const f = {
      started: this.starts.size, stopped: 0, exactlyOnce: 0, startResends: 0, stopResends: 0, mvResends: 0,
      duplicates: [], retries: 0, conflictingStops: [], stopsForUnknownTx: [], mvAfterStop: 0,
      meterValues: this.meterValues.size, noStop: [], mvBackwards: [], mvAfterStopList: [],
    };
    const classify = (arrivals, what) => {
      let resends = 0;
      for (let i = 1; i < arrivals.length; i++) {
        const prev = arrivals.slice(0, i).filter((a) => a.kind === 'result');
        if (!prev.length) { f.retries++; continue; }
        const acked = prev.find((a) => a.acked && a.acked < arrivals[i].t);
        if (acked) f.duplicates.push(`${what} arrived again at ${new Date(arrivals[i].t).toISOString()} (conn ${arrivals[i].conn}) after its answer was acknowledged at ${new Date(acked.acked).toISOString()} (conn ${acked.conn})`);
        else resends++;
      }
      return resends;
    };
    for (const s of this.starts.values()) {
      // Using the transactionId acknowledges the first CALLRESULT sent before that use.
      if (s.usedAt) {
        const a = s.arrivals.find((x) => x.kind === 'result' && x.answeredAt && x.answeredAt <= s.usedAt);
        if (a && !a.acked) a.acked = s.usedAt;
      }
      const r = classify(s.arrivals, `StartTransaction ${s.key} (tx ${s.txId})`);
      f.startResends += r;
      const st = this.stops.get(s.txId);
      if (st) {
        f.stopped++;
        if (st.payloads.size > 1) f.conflictingStops.push(`tx ${s.txId}: ${[...st.payloads.keys()].join(' AND ')}`);
        let stopArrivals = 0;
        for (const rec of st.payloads.values()) {
          f.stopResends += classify(rec.arrivals, `StopTransaction ${JSON.stringify(rec.payload)}`);
          stopArrivals += rec.arrivals.length;
        }
        if (s.arrivals.length === 1 && stopArrivals === 1) f.exactlyOnce++;
      } else {
        f.noStop.push(s);
      }
    }
    for (const st of this.stops.values()) if (!st.known && !this.byTx.has(st.txId)) f.stopsForUnknownTx.push(st.txId);
    // docs/ocpp.md: the register is saved before any reading is sent, so a value the central system
    // has seen is never lost: meterStop is at least every reading delivered for the transaction.
    f.registerBack = [];
    for (const st of this.stops.values()) {
      const seen = this.energySeen.get(st.txId);
      for (const rec of st.payloads.values()) {
        if (seen && rec.payload.meterStop < seen.wh) f.registerBack.push(`tx ${st.txId}: StopTransaction (${rec.payload.reason}) has meterStop ${rec.payload.meterStop} Wh, below the ${seen.wh} Wh of a MeterValues delivered before (${seen.at})`);
      }
    }
    for (const rec of this.meterValues.values()) {
      f.mvResends += classify(rec.arrivals, `MeterValues ${JSON.stringify(rec.payload).slice(0, 200)}`);
      if (rec.afterStop) { f.mvAfterStop++; f.mvAfterStopList.push(`MeterValues after the StopTransaction of tx ${rec.payload.transactionId}: ${JSON.stringify(rec.payload).slice(0, 200)}`); }
    }
    for (const [tx, list] of this.mvOrder) {
      // A transaction that lived through a clock jump has timestamps out of order by design.
      const s = this.byTx.get(tx);
      if (list.some((x) => x.phase === 'clock') || (s && s.arrivals.some((x) => x.phase === 'clock'))) continue;
      for (let i = 1; i < list.length; i++) {
        if (list[i].ts < list[i - 1].ts) f.mvBackwards.push(`tx ${tx}: a periodic MeterValues of ${new Date(list[i].ts).toISOString()} arrived after one of ${new Date(list[i - 1].ts).toISOString()}`);
      }
    }
    return f;
  }
}
