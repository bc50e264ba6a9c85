import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseDomainName, normaliseSelector, signingDomainsFor } from '../../../src/domain/sending-domain.js';

describe('normaliseDomainName', () => {
  it.each([
    ['acme.example', 'acme.example'],
    ['  Mail.ACME.example. ', 'mail.acme.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c-d.example', 'a-b.c-d.example'],
  ])('accepts %j as %j', (input, domain) => {
    expect(normaliseDomainName(input)).toEqual({ ok: true, domain });
  });

  it.each([
    ['', /empty/],
    ['localhost', /two labels/],
    ['jobs@acme.example', /not an address/],
    ['-acme.example', /letters, digits and hyphens/],
    ['acme-.example', /letters, digits and hyphens/],
    ['acme..example', /letters, digits and hyphens/],
    ['bücher.example', /xn--/],
    ['10.0.0.1', /not an IP address/],
    [`${'a'.repeat(64)}.example`, /letters, digits and hyphens/],
    [`${'abc.'.repeat(64)}example`, /253/],
  ])('refuses %j', (input, reason) => {
    const result = normaliseDomainName(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('normaliseSelector', () => {
  it.each([['s1'], ['afterview2026'], ['k1.eu'], ['google_2'], ['S1']])('accepts %j', (input) => {
    expect(normaliseSelector(input)).toEqual({ ok: true, selector: input.toLowerCase() });
  });
  it.each([[''], ['with space'], ['a;b'], ['-s1'], ['x'.repeat(64)]])('refuses %j', (input) => {
    expect(normaliseSelector(input).ok).toBe(false);
  });
});

describe('signingDomainsFor', () => {
  it.each([
    ['jobs@mail.acme.example', ['mail.acme.example', 'acme.example']],
    ['Jobs@ACME.example', ['acme.example']],
    ['a@b.c.d.example', ['b.c.d.example', 'c.d.example', 'd.example']],
    ['no-at-sign', []],
    ['root@localhost', []],
  ])('%s is signed by the first of %j that is configured', (address, domains) => {
    expect(signingDomainsFor(address)).toEqual(domains);
  });

  it('lists only the domain itself and its parents, most specific first, each of two labels or more', () => {
    const label = fc.stringMatching(/^[a-z0-9]{1,10}$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 6 }), label, (labels, local) => {
        const domain = labels.join('.');
        const found = signingDomainsFor(`${local}@${domain}`);
        expect(found.length).toBe(Math.max(0, labels.length - 1));
        found.forEach((each, index) => {
          expect(domain === each || domain.endsWith(`.${each}`)).toBe(true);
          expect(each.split('.').length).toBe(labels.length - index);
        });
      }),
    );
  });
});
