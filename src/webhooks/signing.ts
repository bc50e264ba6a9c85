import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

// Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 over
// "id.timestamp.body", sent as `webhook-signature: v1,<base64>`. The library does the
// cryptography so that what we send is exactly what partners' verifiers (the same library in
// many languages) expect.

// A type alias (not an interface) so it is assignable to Record<string, string> header maps.
export type WebhookSignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export interface SignWebhookInput {
  /** Stable across retries of one delivery, so partners can deduplicate. */
  id: string;
  /** The time of this attempt; verifiers reject timestamps more than 5 minutes off. */
  timestamp: Date;
  /** The exact bytes that will be sent: sign the string you POST, never a re-serialisation. */
  body: string;
  /** Current secret first; during the 24 h after a rotation also the previous one. */
  secrets: string[];
}

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32; // a full HMAC-SHA256 key; the spec asks for 24–64 bytes

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes, the form the library decodes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * The three Standard Webhooks headers. With several secrets the signature header carries one
 * `v1,<sig>` per secret, space-separated; verifiers accept the message if any of them matches,
 * so a partner still on the old secret and one already on the new one both succeed.
 */
export function signWebhook(input: SignWebhookInput): WebhookSignatureHeaders {
  const secrets = [...new Set(input.secrets)];
  if (secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  const signatures = secrets.map((secret) => new Webhook(secret).sign(input.id, input.timestamp, input.body));
  return {
    'webhook-id': input.id,
    // Same rounding as the library's sign(), so header and signed content agree.
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
