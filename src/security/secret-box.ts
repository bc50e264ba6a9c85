import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// Secrets we must be able to read back (webhook signing secrets; DKIM private keys later) are
// stored sealed: AES-256-GCM under ENCRYPTION_KEY, a ring of base64 keys of 32 bytes like
// JWT_SECRET (the first seals, all open). A sealed value names its key, so keys can rotate:
//
//   sealed:v1:<key id>:<base64url(12-byte IV | 16-byte tag | ciphertext)>
//
// The key id is a hash of the key, never the key. The process's ring is set once at start
// (`useEncryptionKeys`, from server.ts and cli.ts); outside production a process that never set
// one (a test, a script) gets a random key of its own, good for that process only.

export const SEALED_PREFIX = 'sealed:v1:';

export interface EncryptionKeyRing {
  sealing: { id: string; key: Buffer };
  byId: ReadonlyMap<string, Buffer>;
}

function keyId(key: Buffer): string {
  return createHash('sha256').update('afterview secret box\0').update(key).digest('base64url').slice(0, 12);
}

export function parseEncryptionKeys(value: string): EncryptionKeyRing {
  const keys = value
    .split(',')
    .map((text) => text.trim())
    .filter(Boolean)
    .map((text, index) => {
      const key = Buffer.from(text, 'base64');
      if (key.length !== 32) throw new Error(`ENCRYPTION_KEY: key ${index + 1} of the ring is not 32 bytes of base64`);
      return { id: keyId(key), key };
    });
  if (keys.length === 0) throw new Error('ENCRYPTION_KEY holds no key');
  return { sealing: keys[0]!, byId: new Map(keys.map((each) => [each.id, each.key])) };
}

let processRing: EncryptionKeyRing | undefined;

/** Sets the ring every later seal and open of this process uses. */
export function useEncryptionKeys(value: string | EncryptionKeyRing): EncryptionKeyRing {
  processRing = typeof value === 'string' ? parseEncryptionKeys(value) : value;
  return processRing;
}

function currentRing(): EncryptionKeyRing {
  if (processRing) return processRing;
  if (process.env.NODE_ENV === 'production') throw new Error('ENCRYPTION_KEY is not configured');
  return useEncryptionKeys(randomBytes(32).toString('base64'));
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

export function sealSecret(plaintext: string, ring: EncryptionKeyRing = currentRing()): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', ring.sealing.key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${SEALED_PREFIX}${ring.sealing.id}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

/** Opens a sealed value; refuses a plain one, an unknown key and anything tampered with. */
export function openSecret(sealed: string, ring: EncryptionKeyRing = currentRing()): string {
  if (!isSealed(sealed)) throw new SecretBoxError('the value is not sealed');
  const rest = sealed.slice(SEALED_PREFIX.length);
  const colon = rest.indexOf(':');
  const key = colon > 0 ? ring.byId.get(rest.slice(0, colon)) : undefined;
  if (!key) throw new SecretBoxError('the value is sealed with a key ENCRYPTION_KEY does not hold');
  const bytes = Buffer.from(rest.slice(colon + 1), 'base64url');
  if (bytes.length < 28) throw new SecretBoxError('the sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretBoxError('the sealed value does not open with its key (tampered with, or the wrong key)');
  }
}

/** The sealed value under the ring's first key (for re-sealing after a key rotation). */
export function resealSecret(sealed: string, ring: EncryptionKeyRing = currentRing()): string {
  return sealSecret(openSecret(sealed, ring), ring);
}
