import { z } from 'zod';
import { LIMITS, multiLineProblem } from '../domain/validation.js';
import { FIELD_SCHEMAS, INTERVIEWER_FIELDS, TOPIC_LIST_SCHEMA } from './inputs.js';

// Inputs of the debrief (API.md "After the interview"). Every field is optional: absent leaves
// the stored value alone, null clears it. The field checks are those of scheduleInterview.

const { line, instant, url, channel } = FIELD_SCHEMAS;

export const DEBRIEF_LIMITS = { highlights: 300, leftOut: 500 } as const;

/** Free text of one paragraph: trimmed, no control characters but line breaks. */
function paragraph(max: number) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const problem = multiLineProblem(value, max);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      else if (value.trim().length === 0) ctx.addIssue({ code: 'custom', message: 'must not be blank (send null to clear it)' });
    })
    .transform((value) => value.trim().replace(/\s+/g, ' '));
}

export const updateInterviewSchema = z.strictObject({
  positionTitle: line(LIMITS.title).nullish(),
  decisionExpectedBy: instant.nullish(),
  callBackExpectedBy: instant.nullish(),
  topics: TOPIC_LIST_SCHEMA.nullish(),
  highlights: paragraph(DEBRIEF_LIMITS.highlights).nullish(),
  leftOut: paragraph(DEBRIEF_LIMITS.leftOut).nullish(),
  resourceUrl: url.nullish(),
  channel: channel.nullish(),
});
export type UpdateInterviewInput = z.output<typeof updateInterviewSchema>;

/** addInterviewer takes what scheduleInterview takes per interviewer. */
export const addInterviewerSchema = z
  .strictObject(INTERVIEWER_FIELDS)
  .superRefine((interviewer, ctx) => {
    if (!interviewer.email && !interviewer.phone) ctx.addIssue({ code: 'custom', message: 'needs an email or a phone number to be reachable' });
  });
export type AddInterviewerInput = z.output<typeof addInterviewerSchema>;

export const updateInterviewerSchema = z.strictObject({ ...INTERVIEWER_FIELDS, name: INTERVIEWER_FIELDS.name.nullish() });
export type UpdateInterviewerInput = z.output<typeof updateInterviewerSchema>;
