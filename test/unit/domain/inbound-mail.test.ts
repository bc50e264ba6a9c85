import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyInbound, type InboundMail, parseDeliveryStatus, parseReturnDate, stripQuoted } from '../../../src/domain/inbound-mail.js';

const TODAY = '2026-12-07'; // a Monday

function mail(overrides: Partial<InboundMail> = {}): InboundMail {
  return { fromAddress: 'alice@northwind.example', subject: 'Re: Thank you', headers: [], text: 'Thanks Dana, we will be in touch.', contentType: 'text/plain', deliveryStatus: null, ...overrides };
}

describe('out-of-office return dates', () => {
  it.each([
    // English
    ['I will be back on Monday, December 14.', '2026-12-14'],
    ['I am out of the office until Friday, December 18.', '2026-12-19'],
    ['Out of office until 18 December, back in the office on 21 December.', '2026-12-19'],
    ['I am returning on Dec 10th and will reply then.', '2026-12-10'],
    ['I will return to the office on 12/15/2026.', '2026-12-15'],
    ['Away until 15/12/2026, with limited access to email.', '2026-12-16'],
    ['I return on 2 January.', '2027-01-02'], // next year, still within 30 days
    ['I am away until March 15, 2027.', null], // beyond 30 days
    ['I was back on December 1.', null], // in the past
    ['Thank you for your message.', null],
    // German
    ['Ich bin bis einschließlich 15.12.2026 nicht im Büro.', '2026-12-16'],
    ['Ab dem 16.12. bin ich wieder erreichbar.', '2026-12-16'],
    ['Ich bin ab Montag, 14. Dezember wieder im Büro.', '2026-12-14'],
    ['Ich bin bis zum 18. Dezember 2026 im Urlaub.', '2026-12-19'],
    ['Zurück am 11.12.', '2026-12-11'],
    // French
    ["Je suis absente du bureau jusqu'au 17 décembre inclus.", '2026-12-18'],
    ['Je serai de retour le vendredi 18 décembre.', '2026-12-18'],
    ['De retour le 14/12/2026.', '2026-12-14'],
    // Spanish
    ['Estaré de vuelta el 21 de diciembre de 2026.', '2026-12-21'],
    ['Estoy fuera de la oficina hasta el 15 de diciembre.', '2026-12-16'],
    ['Regreso el lunes 14 de diciembre.', '2026-12-14'],
  ] as const)('%s', (text, expected) => {
    expect(parseReturnDate(text, TODAY)?.date ?? null).toBe(expected);
  });

  it('reads the date in the reply, not in the quoted message', () => {
    expect(parseReturnDate('Out of office.\n\nOn Mon, Dec 7, 2026 Dana wrote:\n> I will be back on December 9', TODAY)).toBeNull();
  });

  it('property: a date it finds is always after today and within the window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 28 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom('back on', 'until', 'bis', "jusqu'au", 'hasta el'), (day, month, trigger) => {
        const found = parseReturnDate(`I am away, ${trigger} ${day}.${month}.2027`, TODAY, 30);
        if (found) {
          const ahead = (Date.parse(found.date) - Date.parse(TODAY)) / 86_400_000;
          expect(ahead).toBeGreaterThanOrEqual(1);
          expect(ahead).toBeLessThanOrEqual(30);
        }
      }),
    );
  });
});

describe('the reply without its quoted part', () => {
  it.each([
    ['Gmail', 'Thanks!\n\nOn Mon, Dec 7, 2026 at 6:15 PM Dana <d@x.example> wrote:\n> Dear Alice', 'Thanks!'],
    ['Gmail, introduction wrapped', 'Thanks!\n\nOn Mon, Dec 7, 2026 at 6:15 PM Dana Reyes via Acme Jobs <followups@acme.example>\nwrote:\n> Dear Alice', 'Thanks!'],
    ['Outlook', 'Sure.\n\n________________________________\nFrom: Dana\nSent: 08 December 2026 17:00\nTo: Kenji', 'Sure.'],
    ['Outlook without the rule', 'Sure.\n\nFrom: Dana Reyes <d@x.example>\nSent: Monday, December 7, 2026 5:00 PM\nSubject: Thanks', 'Sure.'],
    ['Outlook, German', 'Gern.\n\nVon: Dana Reyes\nGesendet: Montag, 7. Dezember 2026 17:00', 'Gern.'],
    ['Original Message', 'Yes.\n-----Original Message-----\nFrom: Dana', 'Yes.'],
    ['German client', 'Danke.\n\nAm 07.12.2026 um 17:00 schrieb Dana Reyes <d@x.example>:\n> Hallo', 'Danke.'],
    ['French client', 'Merci.\n\nLe lun. 7 déc. 2026 à 17:00, Dana Reyes <d@x.example> a écrit :\n> Bonjour', 'Merci.'],
    ['Spanish client', 'Gracias.\n\nEl lun, 7 dic 2026 a las 17:00, Dana Reyes (<d@x.example>) escribió:\n> Hola', 'Gracias.'],
    ['plain > quotes', 'Fine by me.\n> earlier text', 'Fine by me.'],
    ['a From: line in the writing itself is kept', 'From: the team, thanks.\nWe will call you.', 'From: the team, thanks.\nWe will call you.'],
  ])('%s', (_name, text, expected) => {
    expect(stripQuoted(text)).toBe(expected);
  });
});

describe('classification headers', () => {
  it.each([
    ['Auto-Submitted: auto-replied', [{ key: 'auto-submitted', value: 'auto-replied' }], 'Re: Thank you', 'auto_reply'],
    ['Auto-Submitted: auto-generated', [{ key: 'auto-submitted', value: 'auto-generated' }], 'Re: Thank you', 'auto_reply'],
    ['Auto-Submitted: no is a person', [{ key: 'auto-submitted', value: 'no' }], 'Re: Thank you', 'human'],
    ['X-Autoreply', [{ key: 'x-autoreply', value: 'yes' }], 'Re: Thank you', 'auto_reply'],
    ['Precedence: bulk', [{ key: 'precedence', value: 'bulk' }], 'Re: Thank you', 'auto_reply'],
    ['Precedence: junk', [{ key: 'precedence', value: 'junk' }], 'Re: Thank you', 'auto_reply'],
    ['Precedence: list', [{ key: 'precedence', value: 'list' }], 'Re: Thank you', 'auto_reply'],
    ['Precedence: first-class is a person', [{ key: 'precedence', value: 'first-class' }], 'Re: Thank you', 'human'],
    ['"Automatic reply:" (Outlook, EN)', [], 'Automatic reply: Thank you', 'auto_reply'],
    ['"Automatische Antwort:" (DE)', [], 'Automatische Antwort: Danke', 'auto_reply'],
    ['"Réponse automatique :" (FR)', [], 'Réponse automatique : Merci', 'auto_reply'],
    ['"Respuesta automática:" (ES)', [], 'Respuesta automática: Gracias', 'auto_reply'],
    ['"Out of Office" (EN)', [], 'Out of Office: Thank you', 'auto_reply'],
    ['"Abwesenheitsnotiz" (DE)', [], 'Abwesenheitsnotiz: Danke', 'auto_reply'],
    ['"Absence du bureau" (FR)', [], 'Absence du bureau', 'auto_reply'],
    ['"Fuera de la oficina" (ES)', [], 'Fuera de la oficina: Gracias', 'auto_reply'],
    ['a person mentioning a reply in the subject', [], 'Re: automatic testing role', 'human'],
  ] as const)('%s', (_name, headers, subject, kind) => {
    expect(classifyInbound(mail({ headers, subject })).kind).toBe(kind);
  });

  it('a multipart/report without a delivery-status part is not a bounce by its type alone', () => {
    expect(classifyInbound(mail({ contentType: 'multipart/report; report-type=delivery-status', deliveryStatus: null })).kind).toBe('human');
  });

  it('a legacy bounce without a report, from mailer-daemon, saying permanent error', () => {
    const legacy = mail({ fromAddress: 'mailer-daemon@mx.example', subject: 'failure notice', text: 'This is a permanent error. 550 5.1.1 user unknown' });
    expect(classifyInbound(legacy)).toMatchObject({ kind: 'bounce', status: '5.1.1', permanent: true });
  });
});

describe('delivery status fields', () => {
  it('prefers a failed recipient over a delayed one and unfolds continuation lines', () => {
    const body = 'Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@x.example\nAction: delayed\nStatus: 4.4.7\n\nFinal-Recipient: rfc822; B@X.example\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 mailbox\n  full\n';
    expect(parseDeliveryStatus(body)).toEqual({ status: '5.2.2', action: 'failed', recipient: 'b@x.example', diagnostic: '552 5.2.2 mailbox full' });
  });
});
