import type { CandidateRow } from '../db/schema.js';
import { phoneDigits } from '../domain/message-text.js';
import { badInput } from './errors.js';

// The "wrong person" rule at the door: an interviewer who is the candidate (their address or
// number) would have the candidate thank themselves. Checked by every use-case that stores one.

/**
 * Why an interviewer cannot be this candidate (the "wrong person" rule: a thank-you the candidate
 * would get from themselves), as the field to blame, or null. Emails compare without case,
 * phones by their digits.
 */
export function candidateAsInterviewer(
  candidate: Pick<CandidateRow, 'email' | 'phone'>,
  interviewer: { email?: string | null; phone?: string | null },
): 'email' | 'phone' | null {
  if (interviewer.email && interviewer.email.trim().toLowerCase() === candidate.email.trim().toLowerCase()) return 'email';
  if (interviewer.phone && candidate.phone && phoneDigits(interviewer.phone) === phoneDigits(candidate.phone)) return 'phone';
  return null;
}

export function refuseCandidateAsInterviewer(
  candidate: Pick<CandidateRow, 'email' | 'phone'>,
  interviewer: { email?: string | null; phone?: string | null },
  fieldPrefix: string,
): void {
  const field = candidateAsInterviewer(candidate, interviewer);
  if (field) throw badInput(`${fieldPrefix}.${field}`, `is the candidate's own ${field === 'email' ? 'address' : 'number'}: an interviewer must be someone else`);
}

