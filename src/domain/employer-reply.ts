// S1 counts only the employer's answers. Who is "the employer side" is decided here, from the
// sender's address and the interview's people, with no I/O: an interviewer's own address, or
// another address at an interviewer's company domain (not a free-mail domain, where sharing
// the domain means nothing), or the partner saying so. Machines never count: a bounce from
// mailer-daemon@ or a no-reply notice is not a person answering.

/** Domains anyone can sign up at: an interviewer using one says nothing about who else writes from it. */
export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.es', 'ymail.com',
  'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'hotmail.es', 'live.com', 'live.fr', 'msn.com',
  'icloud.com', 'me.com', 'mac.com', 'aol.com', 'gmx.de', 'gmx.net', 'gmx.com', 'web.de', 't-online.de', 'freenet.de',
  'orange.fr', 'wanadoo.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'proton.me', 'protonmail.com', 'pm.me', 'mail.com',
  'yandex.com', 'yandex.ru', 'zoho.com', 'fastmail.com', 'hey.com', 'qq.com', '163.com', '126.com', 'tutanota.com',
  'terra.com.br', 'libero.it', 'seznam.cz', 'wp.pl', 'o2.pl', 'naver.com', 'rediffmail.com',
]);

// Local parts used by mail systems rather than people, with an optional +tag or suffix
// ("bounces+123@", "no-reply-jobs@").
const AUTOMATED_LOCAL_PART = /^(mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|bounces?)(?:$|[+._-])/i;

function normalised(address: string): string {
  return address.trim().toLowerCase();
}

function localPartOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : address.slice(0, at);
}

export function domainOfAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : normalised(address.slice(at + 1));
}

/** mailer-daemon@, postmaster@, noreply@, no-reply@, do-not-reply@ and the like. */
export function isAutomatedSender(address: string): boolean {
  return AUTOMATED_LOCAL_PART.test(localPartOf(normalised(address)));
}

export function isFreeMailDomain(domain: string): boolean {
  return FREE_MAIL_DOMAINS.has(normalised(domain));
}

export interface ReplySender {
  fromEmail: string;
  /** The partner says it came from the employer (a recruiter's personal address, say). */
  fromEmployer?: boolean | null;
}

export interface ReplyPeople {
  candidateEmail: string;
  /** The interviewers' email addresses (absent ones left out). */
  interviewerEmails: readonly string[];
}

export type EmployerReplyReason = 'automated_sender' | 'candidate' | 'stated_by_partner' | 'interviewer' | 'interviewer_domain' | 'unknown_sender';

/** Why a reply does or does not count as the employer's. */
export function employerReplyReason(sender: ReplySender, people: ReplyPeople): { fromEmployer: boolean; reason: EmployerReplyReason } {
  const from = normalised(sender.fromEmail);
  if (isAutomatedSender(from)) return { fromEmployer: false, reason: 'automated_sender' };
  if (from === normalised(people.candidateEmail)) return { fromEmployer: false, reason: 'candidate' };
  if (sender.fromEmployer === true) return { fromEmployer: true, reason: 'stated_by_partner' };
  const interviewers = people.interviewerEmails.map(normalised);
  if (interviewers.includes(from)) return { fromEmployer: true, reason: 'interviewer' };
  const domain = domainOfAddress(from);
  const candidateDomain = domainOfAddress(people.candidateEmail);
  const employerDomains = new Set(interviewers.map(domainOfAddress).filter((d) => d && !isFreeMailDomain(d) && d !== candidateDomain));
  if (domain && employerDomains.has(domain)) return { fromEmployer: true, reason: 'interviewer_domain' };
  return { fromEmployer: false, reason: 'unknown_sender' };
}

/** S1: does this reply stop the nudges? */
export function isEmployerSide(sender: ReplySender, people: ReplyPeople): boolean {
  return employerReplyReason(sender, people).fromEmployer;
}
