// updatePolicy checks a tenant's template before any step uses it: each override is rendered
// against a sample interview and linted; an error of the rules a template alone decides (L2
// subject, L3 placeholders, L6 pushiness, L10 next steps) refuses the policy, naming the key.
// Pure: the sample is fixed, the dictionary is not needed for these rules.

import { lintMessage, type SpellChecker } from './lint.js';
import { POLICY_SECTION_BY_KIND, type PolicyDocument, type TemplateKey } from './policy-document.js';
import { messageContext, renderMessage } from './templates.js';
import type { InterviewFacts, LintFinding, StepKind } from './types.js';

/** The rules a template decides whatever the interview; the others depend on the facts. */
export const TEMPLATE_RULES: ReadonlySet<string> = new Set(['L2', 'L3', 'L6', 'L10']);

const ACCEPT_EVERY_WORD: SpellChecker = { correct: () => true };

/** A plausible interview, with every fact a template might show. */
export const SAMPLE_INTERVIEW: InterviewFacts = {
  id: '00000000-0000-7000-8000-000000000001',
  positionTitle: 'Senior Data Engineer',
  startsAt: new Date('2026-03-03T15:00:00Z'),
  endsAt: new Date('2026-03-03T16:00:00Z'),
  timezone: 'America/New_York',
  channel: 'email',
  decisionExpectedBy: new Date('2026-03-13T17:00:00Z'),
  callBackExpectedBy: new Date('2026-03-06T17:00:00Z'),
  topics: ['streaming pipelines', 'data contracts'],
  highlights: 'six years of building data platforms',
  leftOut: 'I also led our move to event sourcing',
  resourceUrl: 'https://example.org/data-contracts',
  status: 'scheduled',
  outcome: null,
  outcomeAt: null,
  company: { id: '00000000-0000-7000-8000-000000000002', name: 'Northwind Analytics', preferredChannel: null, followUpStyle: 'standard', timezone: 'America/New_York' },
  candidate: {
    id: '00000000-0000-7000-8000-000000000003',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    phone: '+14155550123',
    timezone: 'America/New_York',
    consent: true,
    linkedinUrl: null,
    signature: null,
  },
  interviewers: [
    {
      id: '00000000-0000-7000-8000-000000000004',
      name: 'Dr. Kenji Watanabe',
      email: 'kenji@northwind.example',
      phone: '+12125550199',
      title: 'Engineering Manager',
      timezone: 'America/New_York',
      preferredChannel: null,
      isPrimaryContact: true,
      topics: ['query planning'],
      honorific: null,
    },
  ],
};

const KIND_BY_KEY = Object.fromEntries(Object.entries(POLICY_SECTION_BY_KIND).map(([kind, key]) => [key, kind])) as Record<TemplateKey, StepKind>;

/** The first template whose sample rendering breaks an error-level template rule, or null. */
export function templateProblem(policy: PolicyDocument): { key: TemplateKey; findings: LintFinding[] } | null {
  for (const [key, override] of Object.entries(policy.templates) as Array<[TemplateKey, PolicyDocument['templates'][TemplateKey]]>) {
    if (!override) continue;
    const kind = KIND_BY_KEY[key];
    const person = SAMPLE_INTERVIEW.interviewers[0]!;
    const recipient =
      kind === 'call_task'
        ? { interviewerId: null, name: SAMPLE_INTERVIEW.candidate.name, email: SAMPLE_INTERVIEW.candidate.email, phone: null, timezone: null }
        : { interviewerId: person.id, name: person.name, email: person.email, phone: person.phone, timezone: person.timezone };
    const context = messageContext({ kind, recipient, interview: SAMPLE_INTERVIEW, zone: 'America/New_York', channel: 'email', writing: policy.writing });
    const message = renderMessage(kind, context, override);
    const findings = lintMessage({ kind, channel: 'email', message, recipient, interview: SAMPLE_INTERVIEW, policy, spell: ACCEPT_EVERY_WORD }).filter(
      (finding) => finding.level === 'error' && TEMPLATE_RULES.has(finding.rule),
    );
    if (findings.length > 0) return { key, findings };
  }
  return null;
}
