// The scripted central system the conformance cases talk through: an ocpp-rpc RPCServer in strict mode
// (every frame in both directions checked against the OCPP 1.6J schemas) that keeps a timestamped
// transcript of every frame and connection event, answers the charge point with per-action defaults a
// case can override, and fails the case on any schema violation, unexpected CALLERROR, message for an
// unknown id, or request sent while the charge point is not registered. It can also drop and refuse
// connections (the network going away) and send hand-made frames for the malformed-frame checks.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import ocppRpc from 'ocpp-rpc';

const { RPCServer, NOREPLY, createRPCError } = ocppRpc;

export { NOREPLY, createRPCError };

// A case failed: the message is the reason printed on the FAIL line.
export class CaseFailure extends Error {}
// The case does not apply to this charge point (or cannot be run in this mode).
export class NotApplicable extends Error {}
// The case was torn down (timeout, failure elsewhere) while something still waited.
export class CaseEnded extends Error {}

const CALL = 2;
const RESULT = 3;
const ERROR = 4;

// Actions a charge point may send (OCPP 1.6 plus the security whitepaper).
const CP_ACTIONS = new Set([
  'Authorize', 'BootNotification', 'DataTransfer', 'DiagnosticsStatusNotification',
  'FirmwareStatusNotification', 'Heartbeat', 'MeterValues', 'StartTransaction', 'StatusNotification',
  'StopTransaction', 'LogStatusNotification', 'SecurityEventNotification', 'SignCertificate',
  'SignedFirmwareStatusNotification',
]);

// The only CALL a charge point may send while not registered (Pending / Rejected, OCPP 1.6 4.2).
const ALLOWED_UNREGISTERED = new Set(['BootNotification']);

const isoNow = () => new Date().toISOString();

function short(text, max = 400) {
  return text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text;
}

// Partial match: every key of `want` must equal (or, for a RegExp, match; for an object, partially
// match) the same key of `have`.
export function partialMatch(have, want) {
  if (want instanceof RegExp) return typeof have === 'string' && want.test(have);
  if (want && typeof want === 'object' && !Array.isArray(want)) {
    if (!have || typeof have !== 'object') return false;
    return Object.keys(want).every((k) => partialMatch(have[k], want[k]));
  }
  return have === want;
}

function describeMatch(match) {
  if (match === undefined || match === null) return '';
  if (typeof match === 'function') return ` (${match.desc || 'matching the case predicate'})`;
  return ` ${JSON.stringify(match, (k, v) => (v instanceof RegExp ? String(v) : v))}`;
}

function matches(entry, match) {
  if (match === undefined || match === null) return true;
  if (typeof match === 'function') return !!match(entry.payload, entry);
  return partialMatch(entry.payload, match);
}

export class Csms extends EventEmitter {
  /**
   * @param {object} o
   * @param {string} [o.host] address to listen on (127.0.0.1)
   * @param {number} [o.port] port (0: any free one)
   * @param {number} [o.heartbeatInterval] interval given in the default BootNotification answer
   * @param {object} [o.tls] {key, cert, ...https.createServer options}: listen with TLS (wss://)
   * @param {(line: string) => void} [o.log] debug log
   */
  constructor({ host = '127.0.0.1', port = 0, heartbeatInterval = 5, tls = null, log = () => {} } = {}) {
    super();
    this.tls = tls;
    this.host = host;
    this.port = port;
    this.heartbeatInterval = heartbeatInterval;
    this.log = log;
    this.server = new RPCServer({
      protocols: ['ocpp1.6'],
      strictMode: true,
      callTimeoutMs: 15000,
      pingIntervalMs: 0, // the charge point's own keep-alive is under test, not ours
    });
    this.server.auth((accept, reject, handshake) => this._auth(accept, reject, handshake));
    this.server.on('client', (client) => this._onClient(client));
    this.server.on('error', (err) => this.log(`csms server error: ${err.message}`));
    this.httpServer = null;
    this.connCount = 0;
    this.clients = new Map(); // conn number -> client
    this.client = null;       // newest open connection
    this.offline = false;
    this.expectPassword = null; // Basic-auth password a connection must present (null: any or none)
    this.reset();
  }

  // Start of a case: forget the transcript, handlers and failures (connections stay).
  reset({ heartbeatInterval } = {}) {
    if (heartbeatInterval !== undefined) this.heartbeatInterval = heartbeatInterval;
    this.transcript = [];
    this.t0 = Date.now();
    this.cursor = 0;
    this.handlers = new Map();
    this.failures = [];
    this.txCounter = 0;
    this.rawIds = new Set();
    this.checkRegistration = true;
    this._pendingIn = new Map();  // `${conn}/${id}` -> inbound CALL entry not yet answered
    this._pendingOut = new Map(); // `${conn}/${id}` -> outbound CALL entry not yet answered
    this._lastInUnanswered = new Map(); // conn -> inbound CALL entry awaiting our reply
    this._ended = false;
    for (const w of this._waiters || []) w.reject(new CaseEnded('case ended'));
    this._waiters = new Set();
    this.failed = new Promise((resolve, reject) => { this._failReject = reject; });
    this.failed.catch(() => {});
  }

  async listen() {
    this.httpServer = await this._listen();
    this.port = this.httpServer.address().port;
    return this.url;
  }

  async _listen() {
    // Listening again on the port just closed can race the close: retry for a moment.
    for (let i = 0; ; i++) {
      try {
        return await this._listenOnce();
      } catch (err) {
        if (err.code !== 'EADDRINUSE' || i >= 20) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async _listenOnce() {
    if (!this.tls) return this.server.listen(this.port, this.host);
    const srv = https.createServer({ minVersion: 'TLSv1.2', ...this.tls });
    srv.on('upgrade', this.server.handleUpgrade);
    srv.on('tlsClientError', (err) => this._event(0, 'tls-error', { error: err.code || err.message }));
    await new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.port, this.host, () => { srv.off('error', reject); resolve(); });
    });
    return srv;
  }

  /** Listen again with other TLS settings (e.g. another certificate), on the same port. */
  async relisten(tls) {
    this.tls = tls;
    await this._stopListening();
    this.httpServer = await this._listen();
  }

  // Stop accepting connections. Open websockets are not waited for (they are not HTTP requests any
  // more); the listening socket is closed at once.
  async _stopListening() {
    const srv = this.httpServer;
    this.httpServer = null;
    if (!srv) return;
    await new Promise((resolve) => {
      const t = setTimeout(resolve, 200);
      srv.close(() => { clearTimeout(t); resolve(); });
      srv.closeIdleConnections?.();
    });
  }

  // The endpoint a charge point connects to; its chargeBoxId is appended as the last path segment.
  get url() {
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `${this.tls ? 'wss' : 'ws'}://${host}:${this.port}/ocpp`;
  }

  // ---- failures ----------------------------------------------------------------------------

  fail(reason) {
    this.log(`FAILURE: ${reason}`);
    this.failures.push(reason);
    if (this.failures.length === 1) this._failReject(new CaseFailure(reason));
  }

  // ---- connections -------------------------------------------------------------------------

  _auth(accept, reject, handshake) {
    if (this.offline) {
      this._event(0, 'refused', { identity: handshake.identity });
      reject(503, 'Service Unavailable');
      return;
    }
    // HTTP Basic auth (security profiles 1 and 2): ocpp-rpc gives the password only when the user name
    // is the identity.
    const auth = !handshake.headers.authorization ? 'none' : handshake.password === undefined ? 'basic-wrong-user' : 'basic';
    const password = handshake.password?.toString('utf8');
    if (this.expectPassword !== null && (auth !== 'basic' || password !== this.expectPassword)) {
      const e = this._event(0, 'auth-refused', { identity: handshake.identity, auth, passwordOk: false });
      e.password = password;
      reject(401, 'Unauthorized');
      return;
    }
    handshake.ctAuth = { auth, password };
    const sock = handshake.request.socket;
    if (sock.encrypted) {
      handshake.ctTls = { protocol: sock.getProtocol(), cipher: sock.getCipher()?.standardName || sock.getCipher()?.name };
      // Security profile 3: the charge point's certificate (TLS already checked it against our CA).
      const peer = sock.getPeerCertificate?.();
      if (peer && peer.raw) {
        handshake.ctTls.peer = { cn: peer.subject?.CN, o: peer.subject?.O, fingerprint256: peer.fingerprint256, serial: peer.serialNumber };
        handshake.ctTls.authorized = sock.authorized;
      }
    }
    if (!handshake.protocols.has('ocpp1.6')) {
      this.fail(`the charge point connected without offering the ocpp1.6 subprotocol (offered: ${[...handshake.protocols].join(',') || 'none'})`);
      reject(400, 'ocpp1.6 subprotocol required');
      return;
    }
    accept({ identity: handshake.identity }, 'ocpp1.6');
  }

  _onClient(client) {
    const conn = ++this.connCount;
    client._ctConn = conn;
    this.clients.set(conn, client);
    this.client = client;
    const hs = client.handshake;
    const ev = this._event(conn, 'connect', { identity: hs.identity, endpoint: hs.endpoint, protocol: client.protocol, auth: hs.ctAuth?.auth, ...(hs.ctTls ? { tls: hs.ctTls } : {}) });
    ev.password = hs.ctAuth?.password;
    client.on('message', ({ message, outbound }) => this._record(conn, outbound ? 'out' : 'in', String(message)));
    client.on('strictValidationFailure', (e) => this._onStrictFailure(conn, e));
    client.on('disconnect', ({ code, reason }) => {
      this.clients.delete(conn);
      if (this.client === client) this.client = null;
      this._event(conn, 'disconnect', { code, reason: String(reason || '') });
    });
    client.handle(({ method, params, messageId }) => this._dispatch(conn, method, params, messageId));
    client._ws?.on('ping', () => this._event(conn, 'ws-ping', {}));
  }

  _onStrictFailure(conn, e) {
    const what = `${e.method}.${e.isCall ? 'req' : 'conf'}`;
    const body = JSON.stringify(e.isCall ? e.params : e.result);
    if (e.outbound) {
      // Our own frame failed the schema: a harness bug or a malformed-frame case misusing call().
      this.fail(`harness: the CSMS tried to send an invalid ${what}: ${e.error.message} ${short(body, 200)}`);
    } else {
      this.fail(`schema violation by the charge point in ${what} on connection ${conn}: ${e.error.message}: ${short(body, 300)}`);
    }
  }

  // Answer one CALL from the charge point: the case's handler, else the default.
  async _dispatch(conn, method, params, messageId) {
    const entry = this._pendingIn.get(`${conn}/${messageId}`) || { payload: params, action: method, conn };
    if (!CP_ACTIONS.has(method)) {
      this.fail(`the charge point sent ${method}, which is not a charge-point-initiated action`);
      throw createRPCError('NotSupported', `${method} is not a charge point action`);
    }
    const h = this.handlers.get(method);
    let result;
    if (h) result = await h(params, entry);
    if (result === undefined) result = this.defaultReply(method, params);
    if (result === NOREPLY) {
      // Deliberately unanswered: the charge point may go on once its call timeout has passed.
      entry.noReply = true;
      if (this._lastInUnanswered.get(conn) === entry) this._lastInUnanswered.delete(conn);
    }
    return result;
  }

  defaultReply(method, params) {
    switch (method) {
      case 'BootNotification':
        return { status: 'Accepted', currentTime: isoNow(), interval: this.heartbeatInterval };
      case 'Heartbeat':
        return { currentTime: isoNow() };
      case 'Authorize':
        return { idTagInfo: { status: 'Accepted' } };
      case 'StartTransaction':
        return { transactionId: ++this.txCounter, idTagInfo: { status: 'Accepted' } };
      case 'StopTransaction':
        return params.idTag ? { idTagInfo: { status: 'Accepted' } } : {};
      case 'DataTransfer':
        return { status: 'Rejected' };
      case 'SignCertificate':
        return { status: 'Accepted' };
      default: // StatusNotification, MeterValues, *StatusNotification, SecurityEventNotification
        return {};
    }
  }

  /** Override the answer to one action: fn(params, entry) returns the payload, undefined for the
   * default, NOREPLY for no answer at all (or a promise of one of these). */
  handle(action, fn) {
    this.handlers.set(action, fn);
  }

  unhandle(action) {
    this.handlers.delete(action);
  }

  // ---- transcript --------------------------------------------------------------------------

  _push(entry) {
    entry.seq = this.transcript.length;
    entry.t = Date.now();
    this.transcript.push(entry);
    for (const w of [...this._waiters]) w.check();
    return entry;
  }

  _event(conn, event, info) {
    this.log(`${event} #${conn} ${JSON.stringify(info)}`);
    return this._push({ conn, dir: 'event', event, info });
  }

  _record(conn, dir, raw) {
    const e = { conn, dir, raw, type: null, id: null, action: null, payload: null };
    let msg;
    try { msg = JSON.parse(raw); } catch { msg = undefined; }
    if (Array.isArray(msg) && [CALL, RESULT, ERROR].includes(msg[0]) && typeof msg[1] === 'string') {
      e.type = msg[0];
      e.id = msg[1];
      if (e.type === CALL) {
        e.action = msg[2];
        e.payload = msg[3];
      } else if (e.type === RESULT) {
        e.payload = msg[2];
      } else {
        e.errorCode = msg[2];
        e.errorDescription = msg[3];
        e.payload = msg[4];
      }
    }
    this.log(`${dir === 'in' ? 'CP>CS' : 'CS>CP'} #${conn} ${short(raw, 300)}`);
    const key = `${conn}/${e.id}`;
    if (dir === 'in') this._checkInbound(conn, e, key, raw);
    else this._trackOutbound(conn, e, key);
    this._push(e);
  }

  _checkInbound(conn, e, key, raw) {
    if (e.type === null) {
      if (!this._rawNonJsonPending) this.fail(`the charge point sent a frame that is not an OCPP-J message: ${short(raw, 200)}`);
      return;
    }
    if (e.type === CALL) {
      const waiting = this._lastInUnanswered.get(conn);
      if (waiting) {
        this.fail(`the charge point sent CALL ${e.action} (${e.id}) while its CALL ${waiting.action} (${waiting.id}) was still unanswered (OCPP-J 4.1.1: one CALL at a time)`);
      }
      this._lastInUnanswered.set(conn, e);
      this._pendingIn.set(key, e);
      const reg = this._registration(conn);
      if (this.checkRegistration && reg && reg !== 'Accepted' && !ALLOWED_UNREGISTERED.has(e.action)) {
        this.fail(`the charge point sent ${e.action} while its BootNotification was answered ${reg} (OCPP 1.6 4.2: no requests until Accepted)`);
      }
      return;
    }
    // A reply from the charge point.
    const call = this._pendingOut.get(key) || (e.id === '-1' && this._rawNonJsonPending ? { raw: true, action: null } : null);
    if (!call) {
      this.fail(`the charge point sent a ${e.type === RESULT ? 'CALLRESULT' : 'CALLERROR'} for message id ${JSON.stringify(e.id)}, which the CSMS never sent: ${short(raw, 200)}`);
      return;
    }
    this._pendingOut.delete(key);
    e.action = call.action;
    e.call = call;
    call.reply = e;
  }

  _trackOutbound(conn, e, key) {
    if (e.type === CALL) {
      if (this.rawIds.has(e.id)) e.raw = true;
      this._pendingOut.set(key, e);
    } else if (e.type === RESULT || e.type === ERROR) {
      const call = this._pendingIn.get(key);
      if (call) {
        this._pendingIn.delete(key);
        e.action = call.action;
        e.call = call;
        call.reply = e;
        if (this._lastInUnanswered.get(conn) === call) this._lastInUnanswered.delete(conn);
        if (call.action === 'BootNotification') {
          call.registration = e.type === RESULT ? e.payload?.status : 'CallError';
        }
      }
    }
  }

  // The status of the last BootNotification answered on this connection, or on the one before it
  // (a reconnect without reboot keeps the registration). null: unknown.
  _registration(conn) {
    for (let i = this.transcript.length - 1; i >= 0; i--) {
      const e = this.transcript[i];
      if (e.dir === 'in' && e.type === CALL && e.action === 'BootNotification' && e.registration) return e.registration;
    }
    return null;
  }

  /** Set the default starting point of waitFor/find to "from now on"; returns it. */
  mark() {
    this.cursor = this.transcript.length;
    return this.cursor;
  }

  /** Entries from the charge point: CALLs of `action` (or replies with {type: RESULT}) since `since`. */
  find(action, match, { since = 0, dir = 'in', type = CALL, conn } = {}) {
    return this.transcript.slice(since).filter((e) => e.dir === dir && e.type === type &&
      (action === null || e.action === action) && (conn === undefined || e.conn === conn) && matches(e, match));
  }

  _wait(what, check, timeoutMs, hint) {
    return new Promise((resolve, reject) => {
      if (this._ended) { reject(new CaseEnded('case ended')); return; }
      const w = { what };
      const done = () => { clearTimeout(w.timer); this._waiters.delete(w); };
      w.check = () => {
        let r;
        try { r = check(); } catch (err) { done(); reject(err); return; }
        if (r) { done(); resolve(r); }
      };
      w.reject = (err) => { done(); reject(err); };
      w.timer = setTimeout(() => {
        done();
        reject(new CaseFailure(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}${hint ? `; ${hint()}` : ''}`));
      }, timeoutMs);
      this._waiters.add(w);
      w.check();
    });
  }

  /** Wait for a CALL `action` from the charge point matching `match` (object: partial match;
   * function (payload, entry) => bool) at or after `since` (default: the last mark()). */
  waitFor(action, match, timeoutMs = 30000, { since = this.cursor, conn } = {}) {
    return this._wait(`${action}${describeMatch(match)}`,
      () => this.find(action, match, { since, conn })[0],
      timeoutMs,
      () => this._sawHint(action, since));
  }

  _sawHint(action, since) {
    const seen = this.transcript.slice(since).filter((e) => e.dir === 'in' && e.type === CALL && e.action === action);
    const conns = this.transcript.slice(since).filter((e) => e.dir === 'event');
    const parts = [];
    if (seen.length) parts.push(`saw ${seen.length} ${action}: ${seen.slice(-4).map((e) => short(JSON.stringify(e.payload), 160)).join(' | ')}`);
    else parts.push(`no ${action} at all since the step began`);
    if (conns.length) parts.push(`connection events: ${conns.slice(-4).map((e) => `${e.event}#${e.conn}${e.info?.error ? `(${e.info.error})` : ''}`).join(', ')}`);
    if (!this.client) parts.push('no charge point connected now');
    return parts.join('; ');
  }

  /** Wait for a new connection (after `since`); returns its connect event. */
  waitForConnection(timeoutMs = 30000, { since = this.cursor } = {}) {
    return this._wait('the charge point to connect',
      () => this.transcript.slice(since).find((e) => e.dir === 'event' && e.event === 'connect'), timeoutMs);
  }

  waitForDisconnect(timeoutMs = 30000, { since = this.cursor, conn } = {}) {
    return this._wait('the connection to close',
      () => this.transcript.slice(since).find((e) => e.dir === 'event' && e.event === 'disconnect' && (conn === undefined || e.conn === conn)), timeoutMs);
  }

  /** Fail if a CALL `action` matching `match` arrives within `ms` (or has arrived since `since`). */
  async expectNone(action, match, ms, { since = this.cursor, why = '' } = {}) {
    let hit = null;
    try {
      hit = await this._wait('', () => this.find(action, match, { since })[0], ms);
    } catch (err) {
      if (!(err instanceof CaseFailure)) throw err;
    }
    if (hit) throw new CaseFailure(`unexpected ${action}${why ? ` (${why})` : ''}: ${this.fmt(hit)}`);
  }

  sleep(ms) {
    return new Promise((resolve, reject) => {
      if (this._ended) { reject(new CaseEnded('case ended')); return; }
      const w = { check() {} };
      w.timer = setTimeout(() => { this._waiters.delete(w); resolve(); }, ms);
      w.reject = (err) => { clearTimeout(w.timer); this._waiters.delete(w); reject(err); };
      this._waiters.add(w);
    });
  }

  // ---- CSMS-initiated calls ----------------------------------------------------------------

  _requireClient() {
    if (!this.client) throw new CaseFailure('no charge point is connected');
    return this.client;
  }

  /** CALL from the CSMS; returns the CALLRESULT payload. A CALLERROR fails the case. */
  async call(action, params, { timeoutMs = 15000 } = {}) {
    const r = await this.tryCall(action, params, { timeoutMs });
    if (r.error) {
      const reason = `the charge point answered ${action} ${short(JSON.stringify(params), 160)} with CALLERROR ${r.error} "${r.description}"`;
      this.fail(reason);
      throw new CaseFailure(reason);
    }
    return r.result;
  }

  /** CALL from the CSMS; returns {result} or {error, description} (an expected CALLERROR). */
  async tryCall(action, params, { timeoutMs = 15000 } = {}) {
    const client = this._requireClient();
    const since = this.transcript.length;
    try {
      return { result: await client.call(action, params, { callTimeoutMs: timeoutMs }) };
    } catch (err) {
      const sent = this.transcript.slice(since).find((e) => e.dir === 'out' && e.type === CALL && e.action === action);
      const reply = sent?.reply;
      if (reply && reply.type === ERROR) return { error: reply.errorCode, description: reply.errorDescription, entry: reply };
      if (err.name === 'TimeoutError' || /timeout/i.test(err.message)) {
        throw new CaseFailure(`no answer to ${action} within ${(timeoutMs / 1000).toFixed(0)} s`);
      }
      if (reply && reply.type === RESULT) {
        throw new CaseFailure(`invalid ${action}.conf from the charge point: ${err.message}: ${short(JSON.stringify(reply.payload), 200)}`);
      }
      if (/disconnected|not open|going away/i.test(err.message)) {
        throw new CaseFailure(`the connection closed before the charge point answered ${action}`);
      }
      throw new CaseFailure(`${action} failed: ${err.message}`);
    }
  }

  // ---- raw frames --------------------------------------------------------------------------

  /** Send a hand-made text frame; resolve with the charge point's reply entry to its message id (or,
   * for a frame without a usable id, a reply with id "-1"), or null if none comes in `timeoutMs`. */
  async sendRaw(text, { timeoutMs = 5000 } = {}) {
    const client = this._requireClient();
    let id = null;
    try {
      const m = JSON.parse(text);
      if (Array.isArray(m) && typeof m[1] === 'string') id = m[1];
    } catch { /* not JSON: the reply, if any, has id -1 */ }
    const since = this.transcript.length;
    if (id !== null) this.rawIds.add(id);
    else this._rawNonJsonPending = true;
    client.sendRaw(text);
    const conn = client._ctConn;
    const wantId = id === null ? '-1' : id;
    try {
      return await this._wait(`a reply to ${short(text, 80)}`,
        () => this.transcript.slice(since).find((e) => e.dir === 'in' && e.conn === conn && (e.type === RESULT || e.type === ERROR) && e.id === wantId),
        timeoutMs);
    } catch (err) {
      if (err instanceof CaseFailure) return null;
      throw err;
    } finally {
      if (id === null) {
        // leave a moment for a late "-1" reply before such a reply counts as unsolicited again
        setTimeout(() => { this._rawNonJsonPending = false; }, 1000).unref();
      }
    }
  }

  // ---- network control ---------------------------------------------------------------------

  /** Drop the current connection(s) at once, as a network failure would (no close handshake). */
  disconnect() {
    for (const c of this.clients.values()) c.close({ force: true }).catch(() => {});
  }

  /** The central system goes silent without closing anything (a half-open connection): stop reading
   * the current connection's socket, so no frame and no websocket pong goes back. */
  freeze() {
    const sock = this.client?._ws?._socket;
    if (!sock) throw new CaseFailure('no charge point is connected');
    sock.pause();
    this._event(this.client._ctConn, 'frozen', {});
  }

  /** The network goes away: drop connections and refuse new ones until goOnline(). */
  async goOffline() {
    this.offline = true;
    this._event(0, 'offline', {});
    this.disconnect();
    await this._stopListening();
  }

  async goOnline() {
    this.offline = false;
    this._event(0, 'online', {});
    if (!this.httpServer) this.httpServer = await this._listen();
  }

  // ---- reporting ---------------------------------------------------------------------------

  fmt(e) {
    if (!e || e.t === undefined) return '(none)';
    const t = `+${((e.t - this.t0) / 1000).toFixed(3)}s`;
    if (e.dir === 'event') return `${t} #${e.conn} ${e.event} ${JSON.stringify(e.info)}`;
    return `${t} #${e.conn} ${e.dir === 'in' ? 'CP>CS' : 'CS>CP'} ${short(e.raw, 500)}`;
  }

  transcriptText({ from = 0, last } = {}) {
    let list = this.transcript.slice(from);
    if (last) list = list.slice(-last);
    return list.map((e) => this.fmt(e)).join('\n');
  }

  /** End of a case: stop waiting, drop nothing (remote mode keeps the connection). */
  endCase() {
    this._ended = true;
    for (const w of [...this._waiters]) w.reject(new CaseEnded('case ended'));
  }

  /** The case's HTTP file server (GetLog uploads, firmware downloads), made on first use and closed
   * with the CSMS; its requests go into the transcript as "http" events. */
  async files() {
    if (!this._files) {
      this._files = new FileServer({ host: this.host === '0.0.0.0' ? '127.0.0.1' : this.host, onEvent: (info) => this._event(0, 'http', info) });
      await this._files.listen();
    }
    return this._files;
  }

  /** Wait for an upload to the file server (a multipart POST) at or after transcript position `since`. */
  waitForUpload(timeoutMs = 30000, { since = this.cursor } = {}) {
    return this._wait('an upload to the file server',
      () => {
        const e = this.transcript.slice(since).find((x) => x.event === 'http' && x.info.upload !== undefined);
        return e ? this._files.uploads[e.info.upload] : null;
      }, timeoutMs);
  }

  async close() {
    this.endCase();
    if (this._files) await this._files.close();
    this._files = null;
    try {
      await this.server.close({ force: true });
    } catch { /* already closed */ }
    await this._stopListening();
  }
}

export const MSG = { CALL, RESULT, ERROR };

// ---- the file server ---------------------------------------------------------------------------

/** Split a multipart/form-data body (RFC 7578) into its parts: [{name, filename, type, data}]. Only
 * what the checks need; a body it cannot read gives []. */
export function parseMultipart(body, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  if (!m) return [];
  const delim = Buffer.from(`--${m[1] || m[2]}`);
  const parts = [];
  let i = body.indexOf(delim);
  while (i >= 0) {
    let start = i + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // the closing delimiter
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const headEnd = body.indexOf('\r\n\r\n', start);
    if (headEnd < 0) break;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) break;
    const head = body.subarray(start, headEnd).toString('utf8');
    const disp = /content-disposition:[^\r\n]*/i.exec(head)?.[0] || '';
    const type = /content-type:\s*([^\r\n]*)/i.exec(head)?.[1];
    parts.push({
      name: /\bname="([^"]*)"/i.exec(disp)?.[1] ?? null,
      filename: /\bfilename="([^"]*)"/i.exec(disp)?.[1] ?? null,
      type,
      data: body.subarray(headEnd + 4, next),
    });
    i = next + 2;
  }
  return parts;
}

/** A small HTTP server for the log and firmware cases: it receives uploads (POST multipart/form-data,
 * as GetLog's LogStatusNotification flow sends them; PUT is recorded as a raw body) under any path,
 * and serves the files a case put with serve() to GET. */
export class FileServer {
  constructor({ host = '127.0.0.1', onEvent = () => {} } = {}) {
    this.host = host;
    this.onEvent = onEvent;
    this.files = new Map();  // path -> Buffer
    this.uploads = [];       // {method, path, parts, file, at}
    this.gets = [];          // {path, status}
    this.server = http.createServer((req, res) => this._request(req, res));
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => {
        this.port = this.server.address().port;
        resolve(this);
      });
    });
  }

  /** http://host:port/@p */
  url(p) {
    return `http://${this.host}:${this.port}/${String(p).replace(/^\//, '')}`;
  }

  serve(p, data) {
    this.files.set(`/${String(p).replace(/^\//, '')}`, Buffer.from(data));
    return this.url(p);
  }

  _request(req, res) {
    const chunks = [];
    let size = 0;
    req.on('data', (d) => {
      size += d.length;
      if (size <= 64 << 20) chunks.push(d);
    });
    req.on('end', () => {
      const p = new URL(req.url, 'http://x').pathname;
      const body = Buffer.concat(chunks);
      if (req.method === 'GET' || req.method === 'HEAD') {
        const f = this.files.get(p);
        const status = f ? 200 : 404;
        this.gets.push({ path: p, status });
        res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': f ? f.length : 0 });
        res.end(req.method === 'GET' && f ? f : undefined);
        this.onEvent({ method: req.method, path: p, status, bytes: f ? f.length : 0 });
        return;
      }
      if (req.method === 'POST' || req.method === 'PUT') {
        const ct = req.headers['content-type'] || '';
        const parts = req.method === 'POST' ? parseMultipart(body, ct) : [];
        const up = {
          method: req.method,
          path: p,
          contentType: ct,
          parts,
          file: req.method === 'PUT' ? { name: null, filename: p.split('/').pop(), data: body } : parts.find((x) => x.name === 'file') || null,
          at: Date.now(),
        };
        this.uploads.push(up);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
        const info = { method: req.method, path: p, status: 200, bytes: body.length, upload: this.uploads.length - 1, parts: parts.map((x) => `${x.name}${x.filename ? `(${x.filename})` : ''}:${x.data.length}`) };
        this.onEvent(info);
        return;
      }
      res.writeHead(405);
      res.end();
      this.onEvent({ method: req.method, path: p, status: 405 });
    });
  }

  close() {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
    });
  }
}
