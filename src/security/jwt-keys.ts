import { createHash } from 'node:crypto';

// JWT_SECRET is a ring of HS256 secrets, comma-separated: the first signs, all verify. Tokens
// name their secret in the `kid` header, so a secret can be added first (verifying), promoted
// to first (signing) and the old one dropped once its tokens have expired: no hard cut-over.

export interface ServerKey {
  /** Derived from a hash of the secret: it names the secret without revealing it. */
  kid: string;
  secret: string;
}

export interface ServerKeyRing {
  signing: ServerKey;
  byKid: ReadonlyMap<string, ServerKey>;
}

/** Server kids carry this prefix; partners' kids may not, so the two never collide. */
export const SERVER_KID_PREFIX = 'av-';

export const MIN_SECRET_LENGTH = 16;

export function serverKid(secret: string): string {
  return SERVER_KID_PREFIX + createHash('sha256').update('afterview jwt kid\0').update(secret).digest('base64url').slice(0, 16);
}

export function parseServerKeyRing(value: string): ServerKeyRing {
  const secrets = value.split(',').map((secret) => secret.trim()).filter(Boolean);
  if (secrets.length === 0) throw new Error('JWT_SECRET holds no secret');
  for (const [index, secret] of secrets.entries()) {
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`JWT_SECRET: secret ${index + 1} of the ring must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const keys = secrets.map((secret) => ({ kid: serverKid(secret), secret }));
  return { signing: keys[0]!, byKid: new Map(keys.map((key) => [key.kid, key])) };
}
