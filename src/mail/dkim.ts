import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import DKIM from 'nodemailer/lib/dkim';

// DKIM signing with nodemailer's own signer (relaxed/relaxed, rsa-sha256, the usual header set).
// Its signer speaks RSA only, so that is what a sending domain's key must be.

export interface DkimKey {
  /** d= : the domain the signature speaks for (the From domain or a parent of it). */
  domainName: string;
  /** s= : where receivers find the public key: <selector>._domainkey.<domain>. */
  keySelector: string;
  /** PEM, in the clear: only ever held in memory. */
  privateKey: string;
}

export interface InspectedDkimKey {
  algorithm: 'rsa-sha256';
  /** The key as PKCS#8 PEM, whatever form it came in. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo DER in base64: the p= of the DNS record. */
  publicKeyDer: string;
  bits: number;
}

/** RFC 8301: signers must use RSA keys of at least 1024 bits (2048 recommended). */
export const MIN_RSA_BITS = 1024;

export class DkimKeyError extends Error {
  override name = 'DkimKeyError';
}

/** Reads a PEM private key and says whether we can sign with it; throws DkimKeyError saying why not. */
export function inspectDkimPrivateKey(pem: string): InspectedDkimKey {
  if (/BEGIN (RSA )?PUBLIC KEY/.test(pem) && !/PRIVATE KEY/.test(pem)) throw new DkimKeyError('is a public key: DKIM signing needs the private key');
  if (/ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(pem)) throw new DkimKeyError('is encrypted with a passphrase: give the key unencrypted (it is stored sealed)');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new DkimKeyError('is not a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new DkimKeyError(`is an ${key.asymmetricKeyType ?? 'unknown'} key: only RSA keys can sign (rsa-sha256)`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new DkimKeyError(`has ${bits} bits: DKIM needs at least ${MIN_RSA_BITS} (2048 recommended)`);
  return {
    algorithm: 'rsa-sha256',
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyDer: createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64'),
    bits,
  };
}

/** The TXT record a domain publishes for its key: name and value. */
export function dkimDnsRecord(domain: string, selector: string, publicKeyDer: string): { name: string; value: string } {
  return { name: `${selector}._domainkey.${domain}`, value: `v=DKIM1; k=rsa; p=${publicKeyDer}` };
}

/** The message with a DKIM-Signature header in front. */
export async function dkimSigned(raw: Buffer, key: DkimKey): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of new DKIM(key).sign(raw)) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
