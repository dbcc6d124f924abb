// The vehicle API side of a case: the Fleet API mock (tests/integration/tesla_mock.mjs) started with
// its own CA, twcgw's "tesla" section pointing at it, and a charging session on connector 1 with a car
// whose VIN the simulated TWC reports.
import { boot, check, TAG } from './steps.mjs';
import { startTeslaMock } from '../../tests/integration/tesla_mock.mjs';

export const VIN = '5YJ3E1EA0KF123456';
export const OTHER_VIN = '5YJ3E1EA0KF999999';

/** Start the mock (not applicable without the openssl command) and point twcgw at it. */
export async function withTeslaMock(ctx, fn) {
  let mock;
  try {
    mock = await startTeslaMock({
      vehicles: [{ vin: VIN, state: 'online', chargingState: 'Charging' }, { vin: OTHER_VIN, state: 'online' }],
    });
  } catch (err) {
    if (err.code === 'ENOENT') ctx.na('the openssl command (to make the mock\'s certificate) is not installed');
    throw err;
  }
  try {
    ctx.sut.tesla = {
      baseUrl: mock.url, caFile: mock.caFile, tokenUrl: mock.tokenUrl, clientId: 'twcgw-ct',
      accessToken: mock.tokens.access, refreshToken: mock.tokens.refresh, dwell: 10, startGrace: 5,
    };
    return await fn(mock);
  } finally {
    await mock.close();
  }
}

/** Boot, plug the car with VIN, RemoteStartTransaction, Charging; give the TWC time to read the VIN.
 * Returns the transactionId. */
export async function teslaSession(ctx, mock) {
  const { csms, sut } = ctx;
  await boot(ctx);
  const since = csms.mark();
  await sut.plug(1, 32, VIN);
  await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 30000, { since });
  const r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
  check(r.status === 'Accepted', `RemoteStartTransaction answered ${r.status}`);
  const start = await csms.waitFor('StartTransaction', { connectorId: 1 }, 30000, { since });
  await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 30000, { since });
  // The TWC reads the VIN once the car charges; give the gateway a few seconds to see it.
  for (let i = 0; i < 100 && !sut.gwStderr.includes(`car ${VIN}`); i++) await csms.sleep(100);
  check(sut.gwStderr.includes(`car ${VIN}`), `twcgw did not take ${VIN} (reported by the TWC) as connector 1's car`);
  check(mock.callsTo('charge_start').length === 0,
    `charge_start sent to a car that started by itself: ${JSON.stringify(mock.callsTo('charge_start'))}`);
  return start.reply.payload.transactionId;
}

/** Wait until the mock has answered a call to @target with @status; returns it. */
export async function mockCall(ctx, mock, target, status, timeoutMs) {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    const c = mock.callsTo(target).find((x) => x.status === status);
    if (c) return c;
    await ctx.csms.sleep(100);
  }
  return ctx.fail(`no ${target} answered ${status} within ${timeoutMs / 1000} s; calls: `
    + JSON.stringify(mock.calls.map((c) => `${c.method} ${c.path} ${c.status}`)));
}
