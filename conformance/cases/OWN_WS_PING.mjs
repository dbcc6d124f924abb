// OWN_WS_PING: websocket pings at WebSocketPingInterval, and a silent (half-open) central system is
// noticed and the connection re-established.
import { boot, check, sec } from '../lib/steps.mjs';

const P = 2; // WebSocketPingInterval, s

export default {
  id: 'OWN_WS_PING',
  name: 'Websocket pings find a half-open connection',
  requirement: 'OCPP 1.6 9.1.36 WebSocketPingInterval: the charge point sends a websocket ping every so many '
    + 'seconds. A peer that stops answering (power cut at the central system, NAT drop: the TCP connection stays '
    + 'half-open and no close ever arrives) is then noticed: the charge point drops the dead connection and '
    + 'connects again, instead of waiting for TCP to time out.',
  needs: [],
  config: { keys: { WebSocketPingInterval: P } },
  timeoutMs: 60000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx, { connectors: false });
    const conn = csms.client._ctConn;
    const since = csms.mark();
    const pings = () => csms.transcript.slice(since).filter((e) => e.event === 'ws-ping' && e.conn === conn);
    await csms._wait('three websocket pings', () => pings().length >= 3, 3 * P * 1000 + 5000);
    const p = pings();
    for (let i = 1; i < p.length; i++) {
      const d = p[i].t - p[i - 1].t;
      check(Math.abs(d - P * 1000) <= 1000, `websocket pings ${sec(d)} apart, expected WebSocketPingInterval ${P} s`);
    }
    const frozen = csms.mark();
    csms.freeze();
    const again = await csms.waitForConnection(30000, { since: frozen });
    ctx.log(`reconnected ${sec(again.t - csms.transcript[frozen].t)} after the central system went silent`);
  },
};
