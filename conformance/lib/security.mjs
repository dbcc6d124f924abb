// Steps the security cases (TC_073..TC_087) share: asking the charge point for a CSR
// (CpoName, then ExtendedTriggerMessage SignChargePointCertificate) and checking it, reading the
// certificate the charge point presented on a connection (security profile 3), waiting for a
// security event, the certificate-store messages, and firmware install scripts for the signed
// firmware cases. Each step fails the case with a reason that quotes what came.
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { check, changeConfiguration, replyOf } from './steps.mjs';
import { csrInfo, certInfo, sameHashData } from './tls.mjs';
import { CHARGE_BOX_ID } from './sut.mjs';

export const CPO_NAME = 'CT Charge Point Operator';

/** Connect events since transcript position @since. */
export function connects(csms, since = 0) {
  return csms.transcript.slice(since).filter((e) => e.dir === 'event' && e.event === 'connect');
}

/** The certificate a connection's charge point presented: {cn, o, fingerprint256} or null. */
export function peerOf(connectEvent) {
  return connectEvent?.info?.tls?.peer || null;
}

/** Check a security-profile-3 connection: TLS 1.2 or later, a client certificate for the chargeBoxId
 * with the fingerprint @fingerprint (when given), and no HTTP Basic header. */
export function checkSp3Connection(csms, conn, { fingerprint, what = 'the connection' } = {}) {
  const tls = conn.info.tls;
  check(tls, `${what} is not TLS: ${csms.fmt(conn)}`);
  check(['TLSv1.2', 'TLSv1.3'].includes(tls.protocol), `${what} uses ${tls.protocol}, expected TLS 1.2 or later`);
  const peer = tls.peer;
  check(peer, `${what} carried no client certificate: ${csms.fmt(conn)}`);
  check(peer.cn === CHARGE_BOX_ID, `${what}: the client certificate's CN is ${peer.cn}, expected the chargeBoxId ${CHARGE_BOX_ID}`);
  if (fingerprint) {
    check(peer.fingerprint256 === fingerprint, `${what} presented the certificate ${peer.fingerprint256} (CN=${peer.cn}, O=${peer.o}), expected ${fingerprint}`);
  }
  check(conn.info.auth === 'none', `${what} sent an HTTP Basic header (auth=${conn.info.auth}); security profile 3 uses none`);
}

/** Set CpoName, then ExtendedTriggerMessage(SignChargePointCertificate) (Accepted) and wait for the
 * SignCertificate it brings; the CSMS answers it Accepted. Returns the SignCertificate entry. */
export async function requestCsr(ctx, { cpoName = CPO_NAME, timeoutMs = 30000 } = {}) {
  const { csms } = ctx;
  const st = await changeConfiguration(ctx, 'CpoName', cpoName);
  check(st === 'Accepted', `ChangeConfiguration CpoName answered ${st}, expected Accepted (CpoName is read-write)`);
  const since = csms.mark();
  const t = await csms.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' });
  check(t.status === 'Accepted', `ExtendedTriggerMessage(SignChargePointCertificate) answered ${t.status}, expected Accepted (CpoName is set)`);
  const sc = await csms.waitFor('SignCertificate', undefined, timeoutMs, { since });
  await replyOf(ctx, sc);
  return sc;
}

/** The CSR of a SignCertificate must verify, name CN = chargeBoxId and O = CpoName, and carry a key
 * other than the certificate now in use (@oldCertPem). Returns csrInfo. */
export function checkCsr(ctx, sc, { cpoName = CPO_NAME, oldCertPem } = {}) {
  const csr = sc.payload.csr;
  check(/-----BEGIN CERTIFICATE REQUEST-----/.test(csr), `SignCertificate.csr is not a PEM certificate request: ${JSON.stringify(csr.slice(0, 80))}`);
  let info;
  try {
    info = csrInfo(ctx.pki, csr);
  } catch (err) {
    check(false, `openssl cannot read the SignCertificate CSR: ${String(err.stderr || err.message).trim().split('\n')[0]}`);
  }
  check(info.ok, 'the CSR\'s signature does not verify (openssl req -verify)');
  check(info.cn === CHARGE_BOX_ID, `the CSR's CN is ${JSON.stringify(info.cn)}, expected the chargeBoxId ${CHARGE_BOX_ID}`);
  check(info.o === cpoName, `the CSR's O is ${JSON.stringify(info.o)}, expected CpoName ${JSON.stringify(cpoName)}`);
  if (oldCertPem) {
    check(info.publicKey !== certInfo(oldCertPem).publicKey, 'the CSR carries the key of the certificate in use, not a new key');
  }
  return info;
}

/** Wait for a SecurityEventNotification of @type since @since. */
export function waitSecurityEvent(ctx, type, { since = ctx.csms.cursor, timeoutMs = 30000 } = {}) {
  return ctx.csms.waitFor('SecurityEventNotification', { type }, timeoutMs, { since });
}

/** GetInstalledCertificateIds(@type): {status, list}. */
export async function installedIds(ctx, type) {
  const r = await ctx.csms.call('GetInstalledCertificateIds', { certificateType: type });
  return { status: r.status, list: r.certificateHashData || [] };
}

/** Whether @list (CertificateHashData[]) holds @want. */
export function listHas(list, want) {
  return list.some((h) => sameHashData(h, want));
}

export function fmtHash(h) {
  return `{${h.hashAlgorithm} name ${String(h.issuerNameHash).slice(0, 12)}.. key ${String(h.issuerKeyHash).slice(0, 12)}.. serial ${h.serialNumber}}`;
}

/** Write the firmware install command into the case's directory: a shell script that copies the file
 * it gets as $1 to <dir>/installed.bin and exits @exitCode. Returns {command, installed}. */
export function installScript(sut, { exitCode = 0 } = {}) {
  const command = path.join(sut.dir, 'fw-install.sh');
  const installed = path.join(sut.dir, 'installed.bin');
  writeFileSync(command, `#!/bin/sh\n# The conformance suite's firmware install step: keep a copy of the verified file.\ncp "$1" '${installed}' || exit 3\nexit ${exitCode}\n`);
  chmodSync(command, 0o755);
  return { command, installed };
}
