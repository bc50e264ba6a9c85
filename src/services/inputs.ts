import { z } from 'zod';
import { withoutInvisibleFormatting } from '../domain/display-name.js';
import type { Channel, FollowUpStyle, Outcome } from '../domain/types.js';
import {
  canonicalTimeZone,
  emailProblem,
  httpsUrlProblem,
  INSTANT_FORMAT_HINT,
  LIMITS,
  multiLineProblem,
  parseInstant,
  phoneProblem,
  singleLineProblem,
  timeZoneProblem,
} from '../domain/validation.js';
import { isHonorific } from '../domain/message-text.js';
import { ServiceError } from './errors.js';

// Input schemas shared by GraphQL and REST: one set of rules, one set of messages. GraphQL's
// scalars have already turned date-times into Date objects; REST hands us strings.

function checked(problem: (value: string) => string | null) {
  return z.string().superRefine((value, ctx) => {
    const found = problem(value);
    if (found) ctx.addIssue({ code: 'custom', message: found });
  });
}

const line = (max: number) => checked((value) => singleLineProblem(value, max)).transform((value) => value.trim());
// Names shown in From, To and Reply-To and in letters lose invisible direction and zero-width
// characters first, so a name made only of them is refused as empty.
const displayName = (max: number) => z.string().transform(withoutInvisibleFormatting).pipe(line(max));
const email = checked(emailProblem);
const phone = checked(phoneProblem);
const timeZone = checked(timeZoneProblem).transform(canonicalTimeZone);
const url = checked(httpsUrlProblem);
const id = z.string().max(100);

const instant = z.union([z.date(), z.string()]).transform((value, ctx) => {
  const date = value instanceof Date ? value : parseInstant(value);
  if (!date || Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: INSTANT_FORMAT_HINT });
    return z.NEVER;
  }
  return date;
});

/** Enum values arrive as GraphQL spells them (EMAIL) or, over REST, in either case. */
function lowerEnum<T extends string>(values: readonly T[]) {
  return z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(values as [T, ...T[]], { error: () => `must be one of ${values.map((v) => v.toUpperCase()).join(', ')}` }));
}

export const CHANNELS: readonly Channel[] = ['email', 'sms', 'linkedin', 'phone', 'handwritten'];
export const FOLLOW_UP_STYLES: readonly FollowUpStyle[] = ['standard', 'thank_you_only', 'none'];
export const OUTCOMES: readonly Outcome[] = ['offer', 'hired', 'rejected', 'withdrawn'];

const channel = lowerEnum(CHANNELS);
const followUpStyle = lowerEnum(FOLLOW_UP_STYLES);

/** The field rules, for input schemas kept in their own files (the debrief's). */
export const FIELD_SCHEMAS = { line, email, phone, timeZone, url, instant, channel, id };

export const createCandidateSchema = z.strictObject({
  name: displayName(LIMITS.name),
  email,
  phone: phone.nullish(),
  timezone: timeZone.nullish(),
  consent: z.boolean(),
  linkedinUrl: url.nullish(),
  signature: checked((value) => multiLineProblem(value, LIMITS.signature)).nullish(),
});
export type CreateCandidateInput = z.output<typeof createCandidateSchema>;

export const updateCandidateSchema = z.strictObject({
  name: displayName(LIMITS.name).optional(),
  email: email.optional(),
  phone: phone.nullish(),
  timezone: timeZone.nullish(),
  consent: z.boolean().optional(),
  linkedinUrl: url.nullish(),
  signature: checked((value) => multiLineProblem(value, LIMITS.signature)).nullish(),
});
export type UpdateCandidateInput = z.output<typeof updateCandidateSchema>;

const topicList = z.array(line(LIMITS.topic)).max(LIMITS.topics, `must list at most ${LIMITS.topics} topics`);
/** "Dr.", "Ms", "Prof.": a short courtesy title, written as the person writes it. */
const honorific = checked((value) => (isHonorific(value.trim()) ? null : 'must be a courtesy title: Mr., Mrs., Ms., Miss, Mx., Dr., Prof. or Professor')).transform((value) => value.trim());

const interviewerFields = {
  name: displayName(LIMITS.name),
  email: email.nullish(),
  phone: phone.nullish(),
  title: line(LIMITS.title).nullish(),
  timezone: timeZone.nullish(),
  preferredChannel: channel.nullish(),
  isPrimaryContact: z.boolean().nullish(),
  topics: topicList.nullish(),
  honorific: honorific.nullish(),
};

export const INTERVIEWER_FIELDS = interviewerFields;
export const TOPIC_LIST_SCHEMA = topicList;

const interviewerSchema = z
  .strictObject(interviewerFields)
  .superRefine((interviewer, ctx) => {
    if (!interviewer.email && !interviewer.phone) {
      ctx.addIssue({ code: 'custom', message: 'needs an email or a phone number to be reachable' });
    }
  });
export type InterviewerInput = z.output<typeof interviewerSchema>;

export const scheduleInterviewSchema = z
  .strictObject({
    candidateId: id,
    positionTitle: line(LIMITS.title),
    companyName: displayName(LIMITS.name),
    companyPreferredChannel: channel.nullish(),
    companyFollowUpStyle: followUpStyle.nullish(),
    companyTimezone: timeZone.nullish(),
    startsAt: instant,
    endsAt: instant,
    timezone: timeZone,
    channel: channel.nullish(),
    decisionExpectedBy: instant.nullish(),
    callBackExpectedBy: instant.nullish(),
    topics: topicList.nullish(),
    interviewers: z
      .array(interviewerSchema)
      .min(1, 'must list at least one interviewer')
      .max(LIMITS.interviewers, `must list at most ${LIMITS.interviewers} interviewers`),
  })
  .superRefine((input, ctx) => {
    if (input.endsAt.getTime() <= input.startsAt.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be later than startsAt' });
    }
    if (input.decisionExpectedBy && input.decisionExpectedBy.getTime() < input.endsAt.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['decisionExpectedBy'], message: 'must not be before the interview ends' });
    }
    if (input.interviewers.filter((interviewer) => interviewer.isPrimaryContact).length > 1) {
      ctx.addIssue({ code: 'custom', path: ['interviewers'], message: 'may mark at most one interviewer as the primary contact' });
    }
    const seen = new Map<string, number>();
    input.interviewers.forEach((interviewer, index) => {
      const address = interviewer.email?.toLowerCase();
      if (!address) return;
      if (seen.has(address)) {
        ctx.addIssue({ code: 'custom', path: ['interviewers', index, 'email'], message: `repeats interviewer ${seen.get(address)}'s address` });
      }
      seen.set(address, index);
    });
  });
export type ScheduleInterviewInput = z.output<typeof scheduleInterviewSchema>;

export const rescheduleInterviewSchema = z
  .strictObject({ id, startsAt: instant, endsAt: instant })
  .superRefine((input, ctx) => {
    if (input.endsAt.getTime() <= input.startsAt.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be later than startsAt' });
    }
  });

function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined || issue.input === null) return 'is required';
  return `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
}

/**
 * Parses with a schema. Every problem becomes one entry of BAD_USER_INPUT's `problems`, naming its
 * field; the first is the error's own field and message.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(value, { error: describeIssue });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    const parts: PropertyKey[] = [...(prefix ? [prefix] : []), ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...parts, key].map(String).join('.'), message: 'is not a known field' }));
    }
    return [{ field: parts.map(String).join('.') || 'input', message: issue.message }];
  });
  const first = problems[0]!;
  throw new ServiceError('BAD_USER_INPUT', `${first.field} ${first.message}`, first.field, problems.map(({ field, message }) => ({ field, message: `${field} ${message}` })));
}

export const recordReplySchema = z.strictObject({
  interviewId: id,
  fromEmail: email,
  fromName: displayName(LIMITS.name).nullish(),
  receivedAt: instant.nullish(),
  raisesConcerns: z.boolean().nullish(),
  /** What the employer raised (S2 answers it). */
  concerns: checked((value) => multiLineProblem(value, 2000)).nullish(),
  /** The partner vouches that the sender speaks for the employer. */
  fromEmployer: z.boolean().nullish(),
});
export type RecordReplyInput = z.output<typeof recordReplySchema>;

export const recordOutcomeSchema = z.strictObject({
  interviewId: id,
  outcome: lowerEnum(OUTCOMES),
});
