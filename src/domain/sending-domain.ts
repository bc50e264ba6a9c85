// Sending domains, as far as they need no I/O: what a domain name and a DKIM selector may look
// like, and which configured domain signs mail from a given address.

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const SELECTOR_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** A lower-cased DNS name of at least two labels, or a reason it is not one. */
export function normaliseDomainName(input: string): { ok: true; domain: string } | { ok: false; reason: string } {
  const domain = input.trim().toLowerCase().replace(/\.$/, '');
  if (domain.length === 0) return { ok: false, reason: 'must not be empty' };
  if (domain.length > 253) return { ok: false, reason: 'must be at most 253 characters' };
  if (domain.includes('@')) return { ok: false, reason: 'must be a domain name (acme.example), not an address' };
  const labels = domain.split('.');
  if (labels.length < 2) return { ok: false, reason: 'must have at least two labels (acme.example)' };
  if (!labels.every((label) => LABEL.test(label))) return { ok: false, reason: 'must be a domain name of letters, digits and hyphens (IDNs in their xn-- form)' };
  if (/^\d+$/.test(labels.at(-1)!)) return { ok: false, reason: 'must be a domain name, not an IP address' };
  return { ok: true, domain };
}

/** A DKIM selector (RFC 6376 3.1): one or more dot-separated labels. */
export function normaliseSelector(input: string): { ok: true; selector: string } | { ok: false; reason: string } {
  const selector = input.trim().toLowerCase();
  if (selector.length === 0) return { ok: false, reason: 'must not be empty' };
  if (selector.length > 63 || !selector.split('.').every((label) => SELECTOR_LABEL.test(label))) {
    return { ok: false, reason: 'must be at most 63 letters, digits, hyphens, underscores or dots (e.g. afterview2026)' };
  }
  return { ok: true, selector };
}

/**
 * The domains whose key may sign mail from this address, most specific first: the address's own
 * domain, then each parent down to two labels (a signature by acme.example aligns with mail from
 * mail.acme.example under DMARC's relaxed alignment).
 */
export function signingDomainsFor(address: string): string[] {
  const at = address.lastIndexOf('@');
  if (at < 0) return [];
  const labels = address.slice(at + 1).trim().toLowerCase().replace(/\.$/, '').split('.');
  const domains: string[] = [];
  for (let start = 0; labels.length - start >= 2; start += 1) domains.push(labels.slice(start).join('.'));
  return domains;
}
