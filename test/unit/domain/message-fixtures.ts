// Realistic interviews for the template and lint tests: accented, hyphenated and apostrophised
// names, long position titles, panels, missing phone or LinkedIn.

import fc from 'fast-check';
import { DEFAULT_POLICY } from '../../../src/domain/policy-document.js';
import type { PolicyDocument } from '../../../src/domain/policy-document.js';
import type { Channel, InterviewFacts, InterviewerFacts, Recipient, StepKind } from '../../../src/domain/types.js';

export const ALL_KINDS: StepKind[] = ['thank_you', 'check_in', 'final_check_in', 'call_task', 'keep_in_touch', 'respond_to_concerns'];
export const ALL_CHANNELS: Channel[] = ['email', 'sms', 'linkedin', 'phone', 'handwritten'];

export function interviewer(overrides: Partial<InterviewerFacts> & Pick<InterviewerFacts, 'id' | 'name'>): InterviewerFacts {
  return {
    email: `${overrides.id}@employer.example`,
    phone: null,
    title: null,
    timezone: null,
    preferredChannel: null,
    isPrimaryContact: false,
    ...overrides,
  };
}

export function makeInterview(overrides: Partial<InterviewFacts> = {}): InterviewFacts {
  return {
    id: 'iv-1',
    positionTitle: 'Senior Data Engineer',
    startsAt: new Date('2026-03-03T15:00:00Z'),
    endsAt: new Date('2026-03-03T16:00:00Z'),
    timezone: 'America/New_York',
    channel: 'email',
    decisionExpectedBy: null,
    callBackExpectedBy: null,
    topics: ['distributed systems', 'data quality checks'],
    status: 'scheduled',
    outcome: null,
    outcomeAt: null,
    company: { name: 'Northwind Analytics', preferredChannel: null, followUpStyle: 'standard', timezone: 'America/New_York' },
    candidate: {
      id: 'cand-1',
      name: 'Ana María Núñez',
      email: 'ana.nunez@example.com',
      phone: '+1 (415) 555-0134',
      timezone: 'America/Los_Angeles',
      consent: true,
      linkedinUrl: 'https://www.linkedin.com/in/ana-nunez',
      signature: null,
    },
    interviewers: [
      interviewer({ id: 'int-grace', name: 'Grace Hopper', title: 'Engineering Manager', isPrimaryContact: true, phone: '+1 212 555 0199' }),
      interviewer({ id: 'int-alan', name: 'Alan Turing', title: 'Staff Engineer' }),
    ],
    ...overrides,
  };
}

/** The recipient a step addresses: an interviewer, or the candidate for a call task. */
export function recipientFor(interview: InterviewFacts, kind: StepKind, interviewerIndex = 0): Recipient {
  if (kind === 'call_task') {
    const { candidate } = interview;
    return { interviewerId: null, name: candidate.name, email: candidate.email, phone: candidate.phone, timezone: candidate.timezone };
  }
  const person = interview.interviewers[interviewerIndex];
  if (!person) throw new Error(`no interviewer ${interviewerIndex}`);
  return { interviewerId: person.id, name: person.name, email: person.email, phone: person.phone, timezone: person.timezone };
}

export function policyWith(overrides: Partial<PolicyDocument> = {}): PolicyDocument {
  return { ...DEFAULT_POLICY, ...overrides };
}

// ----- generators ---------------------------------------------------------------------------

const FIRST_NAMES = [
  'Ana', 'José', 'Zoë', 'Siobhán', 'Anne-Marie', "D'Andre", 'Björn', 'Chiamaka', 'Nguyễn', 'Priya', 'Łukasz', 'Renée',
  'Mohammed', 'Oluwaseun', 'Jean-Luc', 'Søren', 'Yuki', 'François', 'Ingrid', 'Kwame', 'Mei', 'Raúl', 'Aoife', 'Tomás',
];
const LAST_NAMES = [
  "O'Connor", 'García-López', 'Müller', 'van der Berg', 'Nakamura', 'Okafor', "D'Souza", 'Smith-Jones', 'Østergaard',
  'Kowalczyk', 'Fernández', 'Haddad', 'MacLeod', 'Nguyen', 'Abernathy', 'Dubois', 'Ó Súilleabháin', 'Papadopoulos',
];
const SENIORITY = ['', 'Junior', 'Senior', 'Staff', 'Principal', 'Lead'];
const FIELDS = ['Data', 'Machine Learning', 'Platform', 'Frontend', 'Site Reliability', 'Product', 'Payments Infrastructure', 'Security'];
const ROLES = ['Engineer', 'Designer', 'Analyst', 'Manager', 'Scientist', 'Architect', 'Developer Advocate'];
const QUALIFIERS = ['', ', Europe', ' (Remote)', ' – Customer Platform Team', ', Growth & Retention'];
const COMPANIES = ['Northwind Analytics', "O'Reilly Media", 'Müller & Söhne GmbH', 'Zeta-Labs Inc.', 'Brightwave', 'Kaizen Robotics KK'];
export const REALISTIC_TOPICS = [
  'distributed systems', 'the Kubernetes migration', 'data quality checks', 'event sourcing', 'GDPR compliance',
  'customer onboarding', 'on-call rotation', 'accessibility audits', 'the design system', 'pricing experiments',
  'observability tooling', "the team's mentoring programme", 'SQL performance tuning', 'A/B testing',
];

export const personNameArb = fc
  .tuple(fc.constantFrom(...FIRST_NAMES), fc.constantFrom(...LAST_NAMES))
  .map(([first, last]) => `${first} ${last}`);

export const positionTitleArb = fc
  .tuple(fc.constantFrom(...SENIORITY), fc.constantFrom(...FIELDS), fc.constantFrom(...ROLES), fc.constantFrom(...QUALIFIERS))
  .map(([seniority, field, role, qualifier]) => `${seniority} ${field} ${role}${qualifier}`.trim());

const ZONES = ['America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'Australia/Sydney', 'America/Los_Angeles'];

/** An interview with a panel of 1–4 people whose full names and first names differ from one another and the candidate's. */
export const interviewArb: fc.Arbitrary<InterviewFacts> = fc
  .record({
    people: fc.uniqueArray(fc.tuple(fc.constantFrom(...FIRST_NAMES), fc.constantFrom(...LAST_NAMES)), {
      minLength: 2,
      maxLength: 5,
      selector: ([first]) => first,
    }),
    positionTitle: positionTitleArb,
    company: fc.constantFrom(...COMPANIES),
    topics: fc.uniqueArray(fc.constantFrom(...REALISTIC_TOPICS), { maxLength: 5 }),
    hasPhone: fc.boolean(),
    hasLinkedin: fc.boolean(),
    contactHasPhone: fc.boolean(),
    zone: fc.constantFrom(...ZONES),
    startsAt: fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true }),
    decisionInDays: fc.option(fc.integer({ min: 1, max: 30 })),
    callBackInDays: fc.option(fc.integer({ min: 1, max: 10 })),
  })
  .map((draw) => {
    const [candidateParts, ...panelParts] = draw.people;
    const candidateName = candidateParts ? `${candidateParts[0]} ${candidateParts[1]}` : 'Ana Núñez';
    const day = 24 * 3600 * 1000;
    return makeInterview({
      positionTitle: draw.positionTitle,
      company: { name: draw.company, preferredChannel: null, followUpStyle: 'standard', timezone: draw.zone },
      topics: draw.topics,
      timezone: draw.zone,
      startsAt: draw.startsAt,
      endsAt: new Date(draw.startsAt.getTime() + 3600 * 1000),
      decisionExpectedBy: draw.decisionInDays === null ? null : new Date(draw.startsAt.getTime() + draw.decisionInDays * day),
      callBackExpectedBy: draw.callBackInDays === null ? null : new Date(draw.startsAt.getTime() + draw.callBackInDays * day),
      candidate: {
        id: 'cand-x',
        name: candidateName,
        email: `${candidateName.split(' ')[0]?.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '') || 'candidate'}@mail.example`,
        phone: draw.hasPhone ? '+44 20 7946 0958' : null,
        timezone: draw.zone,
        consent: true,
        linkedinUrl: draw.hasLinkedin ? 'https://www.linkedin.com/in/candidate-x' : null,
        signature: null,
      },
      interviewers: panelParts.map(([first, last], index) =>
        interviewer({
          id: `int-${index}`,
          name: `${first} ${last}`,
          title: index === 0 ? 'Hiring Manager' : null,
          isPrimaryContact: index === 0,
          phone: index === 0 && draw.contactHasPhone ? '+1 646 555 0110' : null,
        }),
      ),
    });
  });
