import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
/** 825 days is the longest leaf lifetime that every TLS client still accepts. */
const LEAF_DAYS = 825;
const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

const CA_EXTENSIONS = [
  'basicConstraints=critical,CA:TRUE,pathlen:0',
  'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash',
];

function leafExtensions(names: string[]): string[] {
  return [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid,issuer',
    `subjectAltName=${[...names.map((name) => `DNS:${name}`), 'IP:127.0.0.1', 'IP:::1'].join(',')}`,
  ];
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed (is the openssl CLI installed?): ${stderr || (error as Error).message}`);
  }
}

function randomSerial(): string {
  // A fresh serial per certificate: clients reject two different certificates with one issuer + serial.
  return `0x${randomBytes(8).toString('hex')}`;
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function lastsAnotherDay(cert: X509Certificate): boolean {
  return Date.parse(cert.validTo) > Date.now() + DAY_MS && Date.parse(cert.validFrom) <= Date.now() + 60_000;
}

function usableCa(certPem: string | undefined, keyPem: string | undefined): X509Certificate | undefined {
  if (!certPem || !keyPem) return undefined;
  try {
    const ca = new X509Certificate(certPem);
    return ca.ca && lastsAnotherDay(ca) && keyMatches(ca, keyPem) && ca.verify(ca.publicKey) ? ca : undefined;
  } catch {
    return undefined;
  }
}

function usableLeaf(certPem: string | undefined, keyPem: string | undefined, ca: X509Certificate, names: string[]): boolean {
  if (!certPem || !keyPem) return false;
  try {
    const leaf = new X509Certificate(certPem);
    return (
      !leaf.ca &&
      lastsAnotherDay(leaf) &&
      keyMatches(leaf, keyPem) &&
      leaf.checkIssued(ca) &&
      leaf.verify(ca.publicKey) &&
      (leaf.keyUsage ?? []).includes(SERVER_AUTH_OID) &&
      leaf.checkIP('127.0.0.1') !== undefined &&
      names.every((name) => leaf.checkHost(name, { wildcards: false }) !== undefined)
    );
  } catch {
    return false;
  }
}

/** Builds key + certificate in a scratch directory, then renames them into place so a reader never sees half a pair. */
function issue(dir: string, name: 'ca' | 'server', subject: string, extensions: string[], days: number, signer?: { cert: string; key: string }): void {
  const work = mkdtempSync(join(dir, `.${name}-`));
  try {
    writeFileSync(join(work, 'ext.cnf'), `${extensions.join('\n')}\n`);
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', subject], work);
    const signing = signer ? ['-CA', signer.cert, '-CAkey', signer.key] : ['-signkey', 'key.pem'];
    openssl(['x509', '-req', '-in', 'req.csr', ...signing, '-set_serial', randomSerial(), '-days', String(days), '-sha256', '-extfile', 'ext.cnf', '-out', 'cert.pem'], work);
    chmodSync(join(work, 'key.pem'), 0o600);
    renameSync(join(work, 'key.pem'), join(dir, `${name}-key.pem`));
    renameSync(join(work, 'cert.pem'), join(dir, `${name}.pem`));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A local CA and a server certificate for localhost / 127.0.0.1 (plus `hostNames`, e.g. a compose service name) signed
 * by it, made with the openssl CLI and reused while still valid. @pagerduty/pdjs only speaks HTTPS to the Events API, so
 * its simulator needs a certificate the client can be told to trust (pass `ca` to an https.Agent, or NODE_EXTRA_CA_CERTS).
 */
export async function ensureLocalTls(dir: string, hostNames: string[] = []): Promise<LocalTls> {
  mkdirSync(dir, { recursive: true });
  const files = {
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca-key.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server-key.pem'),
  };
  const names = [...new Set(['localhost', ...hostNames])];

  let ca = usableCa(readIfExists(files.caFile), readIfExists(files.caKeyFile));
  if (!ca) {
    issue(dir, 'ca', '/CN=audit-spike local simulator CA', CA_EXTENSIONS, CA_DAYS);
    ca = new X509Certificate(readFileSync(files.caFile));
  }
  if (!usableLeaf(readIfExists(files.certFile), readIfExists(files.keyFile), ca, names)) {
    issue(dir, 'server', '/CN=localhost', leafExtensions(names), LEAF_DAYS, { cert: files.caFile, key: files.caKeyFile });
  }
  return {
    caFile: files.caFile,
    certFile: files.certFile,
    keyFile: files.keyFile,
    ca: readFileSync(files.caFile, 'utf8'),
    cert: readFileSync(files.certFile, 'utf8'),
    key: readFileSync(files.keyFile, 'utf8'),
  };
}
