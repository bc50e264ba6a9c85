// What a message that came back is: a person writing, an automatic answer (with perhaps a
// return date), a delivery status notification, or a request to stop. Pure: given the parsed
// message (and `now` for dates), no clock, database or socket. src/inbound parses the bytes;
// services act on the answer.

export interface InboundHeader {
  /** Lower case. */
  key: string;
  value: string;
}

/** A parsed inbound message, reduced to what the rules read. */
export interface InboundMail {
  fromAddress: string | null;
  subject: string;
  headers: readonly InboundHeader[];
  /** The plain text (or the HTML's text when there is no plain part). */
  text: string;
  /** The top-level Content-Type header value, e.g. 'multipart/report; report-type=delivery-status; boundary=…'. */
  contentType: string;
  /** The text of a message/delivery-status part, when there is one. */
  deliveryStatus: string | null;
}

export type Classification =
  | { kind: 'bounce'; status: string; permanent: boolean; recipient: string | null; diagnostic: string | null; evidence: string }
  | { kind: 'auto_reply'; outOfOffice: boolean; evidence: string }
  | { kind: 'unsubscribe'; evidence: string }
  | { kind: 'human'; evidence: string };

function header(mail: InboundMail, key: string): string | null {
  return mail.headers.find((h) => h.key === key)?.value.trim() ?? null;
}

// ---------------------------------------------------------------------------------------------
// Delivery status notifications (RFC 3464)

export interface DeliveryStatus {
  status: string;
  action: string | null;
  recipient: string | null;
  diagnostic: string | null;
}

const STATUS_CODE = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

/**
 * Reads the per-recipient fields of a message/delivery-status body. The first recipient with a
 * Status wins; a failed one before a delayed one (a DSN may report several).
 */
export function parseDeliveryStatus(body: string): DeliveryStatus | null {
  // Unfold continuation lines, then split into field groups at blank lines.
  const unfolded = body.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  const groups = unfolded.split(/\n\s*\n/).map((group) => {
    const fields = new Map<string, string>();
    for (const line of group.split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return fields;
  });
  const reported = groups
    .filter((fields) => fields.has('status'))
    .map((fields) => ({
      status: STATUS_CODE.exec(fields.get('status')!)?.[0] ?? fields.get('status')!,
      action: fields.get('action')?.toLowerCase() ?? null,
      recipient: addressOfTypedField(fields.get('final-recipient') ?? fields.get('original-recipient') ?? null),
      diagnostic: fields.get('diagnostic-code')?.replace(/^[a-z-]+;\s*/i, '') ?? null,
    }))
    .filter((entry) => STATUS_CODE.test(entry.status));
  return reported.find((entry) => entry.status.startsWith('5')) ?? reported.find((entry) => entry.status.startsWith('4')) ?? reported[0] ?? null;
}

/** 'rfc822; alice@example.com' → 'alice@example.com'. */
function addressOfTypedField(value: string | null): string | null {
  if (!value) return null;
  const address = value.replace(/^[a-z0-9-]+;\s*/i, '').trim().replace(/^<|>$/g, '');
  return address.includes('@') ? address.toLowerCase() : null;
}

function isDeliveryReport(mail: InboundMail): boolean {
  const type = mail.contentType.toLowerCase();
  return type.startsWith('multipart/report') && /report-type\s*=\s*"?delivery-status/.test(type);
}

const BOUNCE_SENDER = /^(mailer-daemon|postmaster)@/i;
// Bounces from systems that do not send RFC 3464 reports: the sender and a sentence that says
// the failure is permanent, and an SMTP reply code in the text.
const PERMANENT_FAILURE_TEXT = /(permanent (error|failure)|could not be delivered|delivery has failed|undeliverable|user unknown|no such user|does not exist|address rejected)/i;

function bounceOf(mail: InboundMail): Classification | null {
  if (isDeliveryReport(mail) && mail.deliveryStatus) {
    const status = parseDeliveryStatus(mail.deliveryStatus);
    if (status) {
      return {
        kind: 'bounce',
        status: status.status,
        permanent: status.status.startsWith('5'),
        recipient: status.recipient,
        diagnostic: status.diagnostic,
        evidence: `delivery status notification, status ${status.status}${status.action ? ` (${status.action})` : ''}`,
      };
    }
  }
  if (mail.fromAddress && BOUNCE_SENDER.test(mail.fromAddress) && PERMANENT_FAILURE_TEXT.test(mail.text)) {
    const code = STATUS_CODE.exec(mail.text)?.[0] ?? (/\b55\d\b/.test(mail.text) ? '5.0.0' : null);
    if (code?.startsWith('5')) {
      return { kind: 'bounce', status: code, permanent: true, recipient: null, diagnostic: null, evidence: `a non-standard bounce from ${mail.fromAddress.split('@')[0]} saying the failure is permanent` };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Automatic answers (RFC 3834 and what mail programs actually send)

// Subjects of out-of-office and other automatic answers in English, German, French and Spanish.
const OUT_OF_OFFICE_SUBJECT =
  /(out of (the )?office|away from (the )?office|on vacation|on holiday|abwesenheit|nicht im büro|außer haus|ausser haus|absence du bureau|absent(e)? du bureau|en congés?|en vacances|fuera de la oficina|fuera de oficina|ausente|de vacaciones)/i;
const AUTOMATIC_SUBJECT = /^\s*(automatic reply|auto[- ]?reply|auto[- ]?response|autoreply|auto:|automatische antwort|réponse automatique|reponse automatique|respuesta automática|respuesta automatica)\b/i;
const OUT_OF_OFFICE_TEXT =
  /(out of (the )?office|away from (the )?office|i am (currently )?away|i('m| am) on (vacation|holiday|leave)|limited access to (my )?e-?mail|nicht im büro|abwesend|urlaub|absent(e)? du bureau|en congés?|fuera de la oficina|de vacaciones|ausente)/i;

function autoReplyOf(mail: InboundMail): Classification | null {
  const outOfOffice = OUT_OF_OFFICE_SUBJECT.test(mail.subject) || OUT_OF_OFFICE_TEXT.test(mail.text.slice(0, 2000));
  const autoSubmitted = header(mail, 'auto-submitted');
  if (autoSubmitted && autoSubmitted.toLowerCase().split(/[;\s]/)[0] !== 'no') {
    return { kind: 'auto_reply', outOfOffice, evidence: `Auto-Submitted: ${autoSubmitted.split(/[;\s]/)[0]}` };
  }
  for (const key of ['x-autoreply', 'x-autorespond', 'x-autoresponder']) {
    if (header(mail, key) !== null) return { kind: 'auto_reply', outOfOffice, evidence: `${key} header` };
  }
  const precedence = header(mail, 'precedence')?.toLowerCase();
  if (precedence === 'bulk' || precedence === 'junk' || precedence === 'list' || precedence === 'auto_reply') {
    return { kind: 'auto_reply', outOfOffice, evidence: `Precedence: ${precedence}` };
  }
  if (header(mail, 'x-ms-exchange-inbox-rules-loop') !== null || header(mail, 'x-ms-exchange-generated-message-source') !== null) {
    return { kind: 'auto_reply', outOfOffice, evidence: 'generated by a mailbox rule (Exchange)' };
  }
  if (AUTOMATIC_SUBJECT.test(mail.subject)) return { kind: 'auto_reply', outOfOffice, evidence: 'an automatic-answer subject' };
  if (OUT_OF_OFFICE_SUBJECT.test(mail.subject)) return { kind: 'auto_reply', outOfOffice: true, evidence: 'an out-of-office subject' };
  return null;
}

// ---------------------------------------------------------------------------------------------
// Requests to stop

const STOP_REQUEST = [
  /\bunsubscribe\b/i,
  /\bremove me\b/i,
  /\bplease stop\b\s*(e-?mailing|sending|writing|contacting|messaging|following up|with (these|the) (e-?mails|messages))?\s*(me|us)?\s*[.!]*\s*$/im,
  /\bstop (e-?mailing|sending( me)?|contacting|writing to|messaging) (me|us|these)\b/i,
  /\b(do not|don't) (contact|e-?mail|write to|message) (me|us) (again|any ?more)\b/i,
  /\bbitte (keine|nicht mehr)\b.*\b(e-?mails?|nachrichten|schreiben|kontaktieren)\b/i,
  /\b(désabonner|ne plus (me|nous) (contacter|écrire))\b/i,
  /\b(darme de baja|no (me|nos) (contacte|escriba)s? más)\b/i,
];

function stopRequestOf(replyText: string): Classification | null {
  for (const pattern of STOP_REQUEST) {
    const match = pattern.exec(replyText);
    if (match) return { kind: 'unsubscribe', evidence: `asks to stop ("${match[0].trim().slice(0, 60)}")` };
  }
  return null;
}

/**
 * Bounce first (a DSN is also automatic), then automatic answers, then a person's request to
 * stop (read in their own words, never in the quoted message), else a person's reply.
 */
export function classifyInbound(mail: InboundMail): Classification {
  return bounceOf(mail) ?? autoReplyOf(mail) ?? stopRequestOf(stripQuoted(mail.text)) ?? { kind: 'human', evidence: 'no automatic-answer or bounce marker' };
}

// ---------------------------------------------------------------------------------------------
// The reply without what it quotes

const QUOTE_INTRODUCTIONS = [
  /^\s*on\b.{0,200}\bwrote:\s*$/i, // Gmail, Apple Mail, Thunderbird (EN)
  /^\s*am\b.{0,200}\bschrieb\b.{0,200}:\s*$/i, // DE
  /^\s*le\b.{0,200}\ba écrit\s*:\s*$/i, // FR
  /^\s*el\b.{0,200}\bescribió:\s*$/i, // ES
  /^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}\s*$/i, // Outlook
  /^\s*_{10,}\s*$/, // Outlook's rule before the quoted headers
  /^\s*(from|von|de|de ?):\s.+$/i, // Outlook's quoted header block; only when followed by Sent/Date (see below)
];
const OUTLOOK_SENT_LINE = /^\s*(sent|date|gesendet|datum|envoyé|enviado|fecha)\s?:/i;

/** The reply's own words: everything before the first quoted line or quote introduction. */
export function stripQuoted(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*>/.test(line)) {
      end = i;
      break;
    }
    const introduction = QUOTE_INTRODUCTIONS.findIndex((pattern) => pattern.test(line));
    if (introduction === QUOTE_INTRODUCTIONS.length - 1) {
      // "From: …" starts a quote only as Outlook's header block: a Sent/Date line follows closely.
      if (lines.slice(i + 1, i + 4).some((next) => OUTLOOK_SENT_LINE.test(next))) {
        end = i;
        break;
      }
      continue;
    }
    if (introduction >= 0) {
      end = i;
      break;
    }
    // "On Tue, 8 Dec 2026 at 10:02, Alice <alice@x>" wrapped onto two lines before "wrote:".
    if (/^\s*on\b/i.test(line) && i + 1 < lines.length && /\bwrote:\s*$/i.test(lines[i + 1]!) && line.length + lines[i + 1]!.length < 300) {
      end = i;
      break;
    }
  }
  return lines.slice(0, end).join('\n').trim();
}

// ---------------------------------------------------------------------------------------------
// Out-of-office return dates

const MONTHS: Record<string, number> = {};
const MONTH_NAMES: Array<[number, string[]]> = [
  [1, ['january', 'jan', 'januar', 'jänner', 'janvier', 'janv', 'enero', 'ene']],
  [2, ['february', 'feb', 'februar', 'février', 'fevrier', 'févr', 'fevr', 'febrero']],
  [3, ['march', 'mar', 'märz', 'maerz', 'mars', 'marzo']],
  [4, ['april', 'apr', 'avril', 'avr', 'abril', 'abr']],
  [5, ['may', 'mai', 'mayo']],
  [6, ['june', 'jun', 'juni', 'juin', 'junio']],
  [7, ['july', 'jul', 'juli', 'juillet', 'juil', 'julio']],
  [8, ['august', 'aug', 'août', 'aout', 'agosto', 'ago']],
  [9, ['september', 'sept', 'sep', 'septembre', 'septiembre', 'setiembre']],
  [10, ['october', 'oct', 'oktober', 'okt', 'octobre', 'octubre']],
  [11, ['november', 'nov', 'novembre', 'noviembre']],
  [12, ['december', 'dec', 'dezember', 'dez', 'décembre', 'decembre', 'déc', 'diciembre', 'dic']],
];
for (const [month, names] of MONTH_NAMES) for (const name of names) MONTHS[name] = month;
const MONTH = `(${Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|')})\\.?`;

// What introduces the day someone is back, and whether that day is the first day back ('back')
// or the last day away ('until').
const TRIGGERS: Array<{ pattern: RegExp; means: 'back' | 'until' }> = [
  { pattern: /\b(back|return(ing)?|returns|in the office|available again|reachable again)\b(\s+(in|to) the office)?(\s+(on|from|by))?/gi, means: 'back' },
  { pattern: /\b(until|till|through|thru)\b(\s+and including)?/gi, means: 'until' },
  { pattern: /\b(zurück|wieder (im büro|erreichbar|da)|ab dem|ab)\b(\s+(am|ab dem|ab))?/gi, means: 'back' },
  { pattern: /\bbis\b(\s+(einschließlich|einschliesslich|zum|inkl\.?))?(\s+zum)?/gi, means: 'until' },
  { pattern: /\b(de retour|retour|je reviendrai|je serai de retour)\b(\s+(le|au bureau le))?/gi, means: 'back' },
  { pattern: /\bjusqu['’]\s?(au|à)\b(\s+le)?/gi, means: 'until' },
  { pattern: /\b(de vuelta|regreso|regresaré|vuelvo|volveré|estaré de vuelta|me reincorporo)\b(\s+(a la oficina|el))*(\s+el)?/gi, means: 'back' },
  { pattern: /\bhasta\b(\s+el)?/gi, means: 'until' },
];

const WEEKDAY =
  '(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo)\\.?,?\\s+';
const DAY_MONTH = new RegExp(`^(?:the\\s+)?(?:${WEEKDAY})?(?:(?:le|el|den|the)\\s+)?(\\d{1,2})(?:st|nd|rd|th|er|\\.|º)?\\s+(?:of\\s+|de\\s+)?${MONTH}(?:,?\\s+(?:de\\s+)?(\\d{4}))?`, 'i');
const MONTH_DAY = new RegExp(`^(?:${WEEKDAY})?${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?`, 'i');
const NUMERIC = /^(?:\S+\s+)?(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?\b/;
const NUMERIC_PLAIN = /^(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?\b/;

/** A local calendar date 'YYYY-MM-DD'. */
export type LocalDate = string;

function isoDate(year: number, month: number, day: number): LocalDate | null {
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1) return null;
  return date.toISOString().slice(0, 10);
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function daysBetween(from: LocalDate, to: LocalDate): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Candidates for day/month without a year: this year's, or next year's when that is nearer ahead. */
function withYear(month: number, day: number, year: number | null, today: LocalDate): LocalDate[] {
  if (year !== null) return [isoDate(year < 100 ? 2000 + year : year, month, day)].filter((d): d is LocalDate => d !== null);
  const thisYear = Number(today.slice(0, 4));
  return [isoDate(thisYear, month, day), isoDate(thisYear + 1, month, day)].filter((d): d is LocalDate => d !== null);
}

/** The dates the text right after a trigger may name (several when day and month could swap). */
function datesAt(text: string, today: LocalDate): LocalDate[] {
  const dayMonth = DAY_MONTH.exec(text);
  if (dayMonth) return withYear(MONTHS[dayMonth[2]!.toLowerCase()]!, Number(dayMonth[1]), dayMonth[3] ? Number(dayMonth[3]) : null, today);
  const monthDay = MONTH_DAY.exec(text);
  if (monthDay) return withYear(MONTHS[monthDay[1]!.toLowerCase()]!, Number(monthDay[2]), monthDay[3] ? Number(monthDay[3]) : null, today);
  const numeric = NUMERIC_PLAIN.exec(text) ?? (new RegExp(`^${WEEKDAY}`, 'i').test(text) ? NUMERIC.exec(text) : null);
  if (numeric) {
    const [a, b] = [Number(numeric[1]), Number(numeric[2])];
    const year = numeric[3] ? Number(numeric[3]) : null;
    // Day first (most of the world), or month first (the US): both where both are dates.
    return [...withYear(b, a, year, today), ...withYear(a, b, year, today)];
  }
  return [];
}

export interface ReturnDate {
  /** The first day the person is back, in their own calendar. */
  date: LocalDate;
  /** The words it was read from. */
  phrase: string;
}

/**
 * The day an out-of-office writer is back, read from phrasings such as "I will be back on
 * Monday, December 14", "out of the office until 14 December", "ab dem 15.12. wieder im Büro",
 * "de retour le 14 décembre", "estaré de vuelta el 14 de diciembre". Only a day after today and
 * at most `withinDays` ahead counts; "until X" means back the day after X.
 */
export function parseReturnDate(text: string, today: LocalDate, withinDays = 30): ReturnDate | null {
  const body = stripQuoted(text).slice(0, 4000);
  const found: Array<{ index: number; result: ReturnDate }> = [];
  for (const { pattern, means } of TRIGGERS) {
    pattern.lastIndex = 0;
    for (let match = pattern.exec(body); match; match = pattern.exec(body)) {
      const after = body.slice(match.index + match[0].length).replace(/^[\s,:]+/, '');
      const candidates = datesAt(after, today)
        .map((date) => (means === 'until' ? addDays(date, 1) : date))
        .filter((date) => {
          const ahead = daysBetween(today, date);
          return ahead >= 1 && ahead <= withinDays;
        })
        .sort();
      if (candidates.length > 0) {
        const phraseEnd = Math.min(body.length, match.index + match[0].length + 40);
        found.push({ index: match.index, result: { date: candidates[0]!, phrase: body.slice(match.index, phraseEnd).split('\n')[0]!.trim() } });
      }
      if (pattern.lastIndex === match.index) pattern.lastIndex += 1;
    }
  }
  found.sort((a, b) => a.index - b.index);
  return found[0]?.result ?? null;
}
