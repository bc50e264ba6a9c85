import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

// The embedded default has no SMTP relay: each message becomes one .eml file a developer can open.
// The file name comes from the Message-ID only (never from an address, which is personal data
// and would land in directory listings and logs), so a re-send of the same message overwrites
// its own file instead of adding a second one.

const SAFE_NAME_CHARACTER = /[^A-Za-z0-9._-]/g;
const NAME_MAX_LENGTH = 120;

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/**
 * '<0192abcd@mail.acme.example>' → '0192abcd.eml'. When the part before '@' had to be changed to
 * be a safe file name, a hash of the whole Message-ID is appended so that two ids that sanitise
 * alike ('a+b', 'a_b') still get different files.
 */
export function outboxFileName(messageId: string): string {
  const inner = messageId.trim().replace(/^<|>$/g, '');
  const at = inner.lastIndexOf('@');
  const localPart = at > 0 ? inner.slice(0, at) : inner;
  // No leading dot: temp files start with one, and hidden .eml files would confuse a reader.
  const safe = localPart.replace(SAFE_NAME_CHARACTER, '_').replace(/^\.+/, '').slice(0, NAME_MAX_LENGTH);
  const unchanged = safe === localPart && safe.length > 0;
  return unchanged ? `${safe}.eml` : `${safe ? `${safe}-` : ''}${shortHash(messageId)}.eml`;
}

/**
 * Writes `content` to `<directory>/<fileName>` atomically: a temp file in the same directory
 * (so the rename stays on one filesystem), flushed to disk (unless `sync` is false), then renamed over the target. A
 * reader never sees half a message, and a crash leaves at most a stray dot-file.
 */
export async function writeFileAtomically(directory: string, fileName: string, content: Buffer, options: { sync?: boolean } = {}): Promise<void> {
  await mkdir(directory, { recursive: true });
  const target = path.join(directory, fileName);
  const temp = path.join(directory, `.${fileName}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      if (options.sync ?? true) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
