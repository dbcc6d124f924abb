// Steps of the Local Auth List Management cases: check the profile is offered and enabled, send a
// list, read its version.
import { check, getConfiguration, changeConfiguration } from './steps.mjs';

/** The charge point must offer LocalAuthListManagement; LocalAuthListEnabled is set to true. */
export async function requireLocalList(ctx) {
  const cfg = await getConfiguration(ctx, ['SupportedFeatureProfiles', 'LocalAuthListEnabled',
    'LocalAuthListMaxLength', 'SendLocalListMaxLength']);
  const profiles = cfg.get('SupportedFeatureProfiles')?.value || '';
  check(profiles.split(',').includes('LocalAuthListManagement'), `SupportedFeatureProfiles ${JSON.stringify(profiles)} lacks LocalAuthListManagement`);
  for (const k of ['LocalAuthListEnabled', 'LocalAuthListMaxLength', 'SendLocalListMaxLength']) {
    check(cfg.get(k), `${k} missing (required by the Local Auth List Management profile, 9.2)`);
  }
  if (cfg.get('LocalAuthListEnabled').value !== 'true') {
    const st = await changeConfiguration(ctx, 'LocalAuthListEnabled', 'true');
    check(st === 'Accepted', `ChangeConfiguration LocalAuthListEnabled=true answered ${st}`);
  }
  return { max: Number(cfg.get('LocalAuthListMaxLength').value), sendMax: Number(cfg.get('SendLocalListMaxLength').value) };
}

/** SendLocalList; returns the status. `entries` is [[idTag, status|null], ...] (null: no idTagInfo). */
export async function sendLocalList(ctx, listVersion, updateType, entries = []) {
  const localAuthorizationList = entries.map(([idTag, status]) => (status ? { idTag, idTagInfo: { status } } : { idTag }));
  const r = await ctx.csms.call('SendLocalList', { listVersion, updateType, ...(entries.length ? { localAuthorizationList } : {}) });
  return r.status;
}

export async function listVersion(ctx) {
  const r = await ctx.csms.call('GetLocalListVersion', {});
  return r.listVersion;
}
