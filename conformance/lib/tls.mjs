// A throw-away PKI for the security cases, made with the openssl command line once per run: the
// central system's root (the test CA: what twcgw gets as ocpp.caFile) with a server certificate for
// 127.0.0.1/localhost, a self-signed "rogue" and an expired server certificate it must refuse, the
// first charge-point certificate for security profile 3, a CA nobody trusts (wrong chains), a second
// CSMS root to install, a manufacturer root with a firmware signing certificate. It also signs the
// CSRs of SignCertificate, signs firmware files, reads CSRs and computes CertificateHashData.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHARGE_BOX_ID } from './sut.mjs';

let cached = null;
let serialCounter = 0;

function openssl(args, cwd, input) {
  return execFileSync('openssl', args, { cwd, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
}

// Extensions of each kind of certificate the suite makes (openssl -extfile text).
const EXT = {
  server: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  client: 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth\n',
  ca: 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  codeSigning: 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n',
};

// `openssl ca` is the one OpenSSL 3.0 command that takes explicit start and end dates (for the expired
// server certificate); its database lives in the PKI directory.
const CA_CNF = `[ca]
default_ca = ct
[ct]
database = index.txt
new_certs_dir = issued
serial = ca-serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
`;

function ecKey(dir, name) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name], dir);
  chmodSync(path.join(dir, name), 0o600);
}

function selfSignedCa(dir, name, cn) {
  ecKey(dir, `${name}.key`);
  openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.pem`, '-days', '3', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

// Sign the CSR file @csr (in @dir) with CA @ca (files @ca.pem, @ca.key) into @out with the extensions
// of @kind.
function signFileCsr(dir, csr, ca, out, kind, days = 2) {
  const ext = `${out}.ext`;
  writeFileSync(path.join(dir, ext), EXT[kind]);
  openssl(['x509', '-req', '-in', csr, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', String(0x1000 + ++serialCounter),
    '-out', out, '-days', String(days), '-sha256', '-extfile', ext], dir);
}

export function testPki() {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twcgw-ct-pki-'));
  const at = (f) => path.join(dir, f);
  // The central system's root and its server certificate (RSA: TC_086 checks the RSA suites).
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3',
    '-subj', '/CN=twcgw conformance test CA'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  signFileCsr(dir, 'server.csr', 'ca', 'server.pem', 'server');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], dir);
  // The same server key, certified by the right CA, but expired a year ago.
  writeFileSync(at('ca.cnf'), CA_CNF);
  writeFileSync(at('index.txt'), '');
  writeFileSync(at('ca-serial'), '5000\n');
  execFileSync('mkdir', ['-p', at('issued')]);
  writeFileSync(at('server.ext'), EXT.server);
  const y = new Date().getUTCFullYear() - 1;
  openssl(['ca', '-config', 'ca.cnf', '-batch', '-notext', '-startdate', `${y}0101000000Z`, '-enddate', `${y}0201000000Z`,
    '-in', 'server.csr', '-out', 'expired.pem', '-extfile', 'server.ext'], dir);
  // The first charge-point certificate for security profile 3 (what ocpp.certFile/keyFile start with).
  ecKey(dir, 'cp.key');
  openssl(['req', '-new', '-key', 'cp.key', '-out', 'cp.csr', '-subj', `/O=twcgw conformance factory/CN=${CHARGE_BOX_ID}`], dir);
  signFileCsr(dir, 'cp.csr', 'ca', 'cp.pem', 'client');
  // A CA nobody trusts, a second central-system root (self-signed) and the same root certified by the
  // first (for AdditionalRootCertificateCheck: a new root signed by the old one).
  selfSignedCa(dir, 'other', 'twcgw conformance untrusted CA');
  selfSignedCa(dir, 'ca2', 'twcgw conformance second CSMS root');
  openssl(['req', '-new', '-key', 'ca2.key', '-out', 'ca2.csr', '-subj', '/CN=twcgw conformance second CSMS root'], dir);
  signFileCsr(dir, 'ca2.csr', 'ca', 'ca2-cross.pem', 'ca');
  // The manufacturer's root and its firmware signing certificate.
  selfSignedCa(dir, 'mfr', 'twcgw conformance manufacturer root');
  ecKey(dir, 'fw.key');
  openssl(['req', '-new', '-key', 'fw.key', '-out', 'fw.csr', '-subj', '/O=twcgw conformance/CN=firmware signing'], dir);
  signFileCsr(dir, 'fw.csr', 'mfr', 'fw.pem', 'codeSigning');
  // A firmware signing certificate from the untrusted CA (InvalidFirmwareSigningCertificate).
  signFileCsr(dir, 'fw.csr', 'other', 'fw-other.pem', 'codeSigning');

  const read = (f) => readFileSync(at(f));
  const text = (f) => readFileSync(at(f), 'utf8');
  cached = {
    dir,
    caFile: at('ca.pem'),
    caPem: text('ca.pem'),
    server: { key: read('server.key'), cert: read('server.pem') },
    rogue: { key: read('rogue.key'), cert: read('rogue.pem') },
    expired: { key: read('server.key'), cert: read('expired.pem') },
    cp: { certFile: at('cp.pem'), keyFile: at('cp.key'), pem: text('cp.pem') },
    otherCaPem: text('other.pem'),
    ca2Pem: text('ca2.pem'),
    ca2CrossPem: text('ca2-cross.pem'),
    mfrPem: text('mfr.pem'),
    fw: { pem: text('fw.pem'), keyFile: at('fw.key'), otherPem: text('fw-other.pem') },
  };
  return cached;
}

/** https.createServer options for the central system: @which server certificate ('server', 'rogue',
 * 'expired'); @client: require a charge-point certificate issued by the test CA (security profile 3). */
export function serverTls(pki, { which = 'server', client = false } = {}) {
  const o = { ...pki[which] };
  if (client) Object.assign(o, { requestCert: true, rejectUnauthorized: true, ca: [pki.caPem] });
  return o;
}

/** Sign a SignCertificate CSR (PEM) as a client certificate with the test CA ('ca') or the untrusted
 * one ('other'); returns the certificate PEM. */
export function signCsr(pki, csrPem, { ca = 'ca', days = 2 } = {}) {
  const n = ++serialCounter;
  writeFileSync(path.join(pki.dir, `req-${n}.csr`), csrPem);
  signFileCsr(pki.dir, `req-${n}.csr`, ca, `req-${n}.pem`, 'client', days);
  return readFileSync(path.join(pki.dir, `req-${n}.pem`), 'utf8');
}

/** What a CSR says: {ok (its self-signature verifies), cn, o, publicKey (SPKI DER, hex)}; null
 * members when missing. Throws when openssl cannot read it. */
export function csrInfo(pki, csrPem) {
  const n = ++serialCounter;
  const f = path.join(pki.dir, `in-${n}.csr`);
  writeFileSync(f, csrPem);
  let ok = true;
  try {
    openssl(['req', '-in', f, '-noout', '-verify'], pki.dir);
  } catch {
    ok = false;
  }
  const subject = openssl(['req', '-in', f, '-noout', '-subject', '-nameopt', 'sep_multiline,utf8'], pki.dir).toString();
  const field = (k) => {
    const m = subject.match(new RegExp(`^\\s*${k}=(.*)$`, 'm'));
    return m ? m[1].trim() : null;
  };
  const pub = openssl(['req', '-in', f, '-noout', '-pubkey'], pki.dir).toString();
  const publicKey = createPublicKey(pub).export({ type: 'spki', format: 'der' }).toString('hex');
  return { ok, cn: field('CN'), o: field('O'), publicKey };
}

/** Public key (SPKI DER, hex) and SHA-256 fingerprint of a certificate PEM. */
export function certInfo(pem) {
  const x = new X509Certificate(pem);
  return {
    publicKey: x.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
    fingerprint256: x.fingerprint256,
    subject: x.subject,
  };
}

/** The firmware signature the whitepaper defines: base64 of `openssl dgst -sha256 -sign key` over
 * the file's bytes. */
export function signFirmware(pki, data, keyFile = pki.fw.keyFile) {
  return openssl(['dgst', '-sha256', '-sign', keyFile], pki.dir, data).toString('base64');
}

// ---- CertificateHashData (RFC 6960 CertID) from the DER, independently of the gateway's code ----

function tlv(buf, i) {
  const tag = buf[i];
  let len = buf[i + 1];
  let start = i + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + buf[start + k];
    start += n;
  }
  return { tag, hdr: i, start, end: start + len };
}

function children(buf, node) {
  const out = [];
  for (let i = node.start; i < node.end;) {
    const c = tlv(buf, i);
    out.push(c);
    i = c.end;
  }
  return out;
}

function derOf(pem) {
  return new X509Certificate(pem).raw;
}

// TBSCertificate's fields by name.
function tbsFields(der) {
  const cert = tlv(der, 0);
  const tbs = children(der, cert)[0];
  let f = children(der, tbs);
  if (f[0].tag === 0xa0) f = f.slice(1); // [0] version
  const [serial, , issuer, , subject, spki] = f;
  return { serial, issuer, subject, spki };
}

const ALG = { SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };

/** CertificateHashData of @certPem issued by @issuerPem (itself for a self-signed root): hashes of the
 * issuer's DER name and of the issuer key's BIT STRING value, the serial in hex; lower case, no leading
 * zeros. */
export function certHashData(certPem, issuerPem = certPem, hashAlgorithm = 'SHA256') {
  const der = derOf(certPem);
  const ider = derOf(issuerPem);
  const c = tbsFields(der);
  const iss = tbsFields(ider);
  const h = (b) => createHash(ALG[hashAlgorithm]).update(b).digest('hex');
  const bits = children(ider, iss.spki)[1]; // subjectPublicKey BIT STRING
  const serial = der.subarray(c.serial.start, c.serial.end).toString('hex').replace(/^0+(?=.)/, '');
  return {
    hashAlgorithm,
    issuerNameHash: h(der.subarray(c.issuer.hdr, c.issuer.end)),
    issuerKeyHash: h(ider.subarray(bits.start + 1, bits.end)),
    serialNumber: serial,
  };
}

/** Whether two CertificateHashData are the same certificate (hex compared without regard to case, the
 * serial also without leading zeros: central systems and charge points differ on both). */
export function sameHashData(a, b) {
  const norm = (s) => String(s || '').toLowerCase();
  return a.hashAlgorithm === b.hashAlgorithm && norm(a.issuerNameHash) === norm(b.issuerNameHash)
    && norm(a.issuerKeyHash) === norm(b.issuerKeyHash)
    && norm(a.serialNumber).replace(/^0+(?=.)/, '') === norm(b.serialNumber).replace(/^0+(?=.)/, '');
}

export function cleanupPki() {
  if (cached) rmSync(cached.dir, { recursive: true, force: true });
  cached = null;
}
