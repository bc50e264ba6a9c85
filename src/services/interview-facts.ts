import type { Kysely } from 'kysely';
import { findCandidatesByIds } from '../db/candidates.js';
import { findCompaniesByIds } from '../db/companies.js';
import { findInterview, findInterviewersByInterviewIds } from '../db/interviews.js';
import type { CandidateRow, CompanyRow, Database, InterviewerRow, InterviewRow } from '../db/schema.js';
import type { Channel, FollowUpStyle, InterviewFacts, Outcome } from '../domain/types.js';

// Rows in, domain facts out: the one place that knows how stored columns map onto what the
// policy engine reasons about.

export function interviewFactsFromRows(
  interview: InterviewRow,
  candidate: CandidateRow,
  company: CompanyRow,
  interviewers: InterviewerRow[],
): InterviewFacts {
  return {
    id: interview.id,
    positionTitle: interview.position_title,
    startsAt: interview.starts_at,
    endsAt: interview.ends_at,
    timezone: interview.timezone,
    channel: interview.channel as Channel | null,
    decisionExpectedBy: interview.decision_expected_by,
    callBackExpectedBy: interview.call_back_expected_by,
    topics: interview.topics,
    highlights: interview.highlights ?? null,
    leftOut: interview.left_out ?? null,
    resourceUrl: interview.resource_url ?? null,
    status: interview.status as InterviewFacts['status'],
    outcome: interview.outcome as Outcome | null,
    outcomeAt: interview.outcome_at,
    company: {
      id: company.id,
      name: company.name,
      preferredChannel: company.preferred_channel as Channel | null,
      followUpStyle: company.follow_up_style as FollowUpStyle,
      timezone: company.timezone,
    },
    candidate: {
      id: candidate.id,
      name: candidate.name,
      email: candidate.email,
      phone: candidate.phone,
      timezone: candidate.timezone,
      consent: candidate.consent,
      linkedinUrl: candidate.linkedin_url,
      signature: candidate.signature,
    },
    interviewers: [...interviewers]
      .sort((a, b) => a.position - b.position)
      .map((row) => ({
        id: row.id,
        name: row.name,
        email: row.email,
        phone: row.phone,
        title: row.title,
        timezone: row.timezone,
        preferredChannel: row.preferred_channel as Channel | null,
        isPrimaryContact: row.is_primary_contact,
        topics: row.topics ?? [],
        honorific: row.honorific ?? null,
      })),
  };
}

export async function loadInterviewFacts(db: Kysely<Database>, tenantId: string, interviewId: string): Promise<InterviewFacts | undefined> {
  const interview = await findInterview(db, tenantId, interviewId);
  if (!interview) return undefined;
  const [[candidate], [company], interviewers] = await Promise.all([
    findCandidatesByIds(db, tenantId, [interview.candidate_id]),
    findCompaniesByIds(db, tenantId, [interview.company_id]),
    findInterviewersByInterviewIds(db, tenantId, [interview.id]),
  ]);
  return interviewFactsFromRows(interview, candidate!, company!, interviewers);
}
