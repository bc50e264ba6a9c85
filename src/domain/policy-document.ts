// A tenant's follow-up policy: every number POLICY.md names is a setting here, never a
// constant elsewhere. Stored as versioned JSON; `updatePolicy` merges a patch over it.

import { z } from 'zod';

export type Weekday = 'MON' | 'TUE' | 'WED' | 'THU' | 'FRI' | 'SAT' | 'SUN';
export type Approval = 'auto' | 'review';

export interface BusinessHours {
  days: Weekday[];
  /** Local wall-clock time, `HH:mm`. */
  start: string;
  end: string;
}

/** A tenant's own wording for one step kind (Mustache, logic-less); absent fields use ours. */
export interface TemplateOverride {
  subject?: string;
  body?: string;
}

export interface PolicyDocument {
  /** `"always"`: any hour of any day (sandboxes and tests). */
  businessHours: BusinessHours | 'always';
  /** Local dates `YYYY-MM-DD`, skipped like weekends in the recipient's zone. */
  holidays: string[];
  thankYou: { enabled: boolean; delayMinutes: number; deadlineHours: number; graceHours: number; approval: Approval };
  checkIn: { enabled: boolean; afterDays: number; afterDecisionBusinessDays: number; windowDays: number; approval: Approval };
  finalCheckIn: { enabled: boolean; afterDays: number; approval: Approval };
  callTask: { enabled: boolean; afterHours: number; approval: Approval };
  keepInTouch: { enabled: boolean; afterDays: number; approval: Approval };
  respondToConcerns: { approval: Approval };
  maxMessagesPerRecipient: number;
  minSpacingBusinessDays: number;
  /** C3: handwritten notes only when the decision is further away than this. */
  handwrittenMinDaysToDecision: number;
  panelConsistency: 'personalized' | 'uniform';
  autoPlan: boolean;
  templates: Partial<Record<TemplateKey, TemplateOverride>>;
  /** How letters greet ("Dear Kenji," or "Dear Dr. Watanabe,") and write dates. */
  writing: WritingStyle;
}

export interface WritingStyle {
  greeting: 'first_name' | 'formal';
  locale: 'en-US' | 'en-GB';
}

export type TemplateKey = 'thankYou' | 'checkIn' | 'finalCheckIn' | 'callTask' | 'keepInTouch' | 'respondToConcerns';

/** Each step kind's section of the policy (its timing, approval and template live under it). */
export const POLICY_SECTION_BY_KIND: Readonly<Record<import('./types.js').StepKind, TemplateKey>> = {
  thank_you: 'thankYou',
  check_in: 'checkIn',
  final_check_in: 'finalCheckIn',
  call_task: 'callTask',
  keep_in_touch: 'keepInTouch',
  respond_to_concerns: 'respondToConcerns',
};

export const DEFAULT_POLICY: PolicyDocument = {
  businessHours: { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '09:00', end: '17:00' },
  holidays: [],
  thankYou: { enabled: true, delayMinutes: 120, deadlineHours: 24, graceHours: 48, approval: 'auto' },
  checkIn: { enabled: true, afterDays: 7, afterDecisionBusinessDays: 1, windowDays: 3, approval: 'auto' },
  finalCheckIn: { enabled: true, afterDays: 14, approval: 'auto' },
  callTask: { enabled: true, afterHours: 24, approval: 'auto' },
  keepInTouch: { enabled: false, afterDays: 1, approval: 'review' },
  respondToConcerns: { approval: 'review' },
  maxMessagesPerRecipient: 3,
  minSpacingBusinessDays: 5,
  handwrittenMinDaysToDecision: 5,
  panelConsistency: 'personalized',
  autoPlan: true,
  templates: {},
  writing: { greeting: 'first_name', locale: 'en-US' },
};

// ---------------------------------------------------------------------------------------------
// Patching and validation. `updatePolicy` merges the partner's JSON over the current document
// (RFC 7386), then the result is completed with defaults and validated. Errors name the first
// offending key as a dotted path so the API can answer BAD_USER_INPUT pointing at it.


export type PolicyParseResult = { ok: true; document: PolicyDocument } | { ok: false; key: string; message: string };

/** The key reported when the document itself (not one of its keys) is wrong. */
const ROOT_KEY = 'document';

const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const satisfies readonly Weekday[];
const TEMPLATE_KEYS = ['thankYou', 'checkIn', 'finalCheckIn', 'callTask', 'keepInTouch', 'respondToConcerns'] as const satisfies readonly TemplateKey[];

const MAX_SUBJECT_LENGTH = 1_000;
const MAX_BODY_LENGTH = 10_000;
/** Enough for years of public holidays, and keeps calendar searches short. */
const MAX_HOLIDAYS = 1_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets a key as an own data property, so a `__proto__` key stays a key (and is refused later). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * RFC 7386 JSON Merge Patch: objects merge key by key, recursively; a `null` removes the key;
 * anything else (arrays, strings, numbers) replaces. Neither argument is modified.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = {};
  if (isPlainObject(target)) for (const [key, value] of Object.entries(target)) setOwn(result, key, value);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value));
  }
  return result;
}

/**
 * Completes a document with defaults, key by key and level by level, so `{ thankYou:
 * { delayMinutes: 0 } }` keeps every other default. An absent, undefined or null key takes the
 * default: null is how a merge patch says "back to the default".
 */
function fillDefaults(value: unknown, defaults: unknown): unknown {
  if (value === undefined || value === null) return defaults;
  if (!isPlainObject(value) || !isPlainObject(defaults)) return value;
  const filled: Record<string, unknown> = {};
  for (const [key, defaultValue] of Object.entries(defaults)) setOwn(filled, key, fillDefaults(value[key], defaultValue));
  for (const [key, given] of Object.entries(value)) {
    if (!Object.hasOwn(defaults, key) && given !== undefined && given !== null) setOwn(filled, key, given);
  }
  return filled;
}

function wholeNumber(min: number, max: number) {
  const atLeast = `expected a whole number ≥ ${min}`;
  return z
    .number({ error: atLeast })
    .int({ error: atLeast })
    .min(min, { error: atLeast })
    .max(max, { error: `expected a whole number ≤ ${max}` });
}

const approvalSchema = z.enum(['auto', 'review'], { error: 'expected "auto" or "review"' });
const enabledSchema = z.boolean({ error: 'expected true or false' });
const timeSchema = z
  .string({ error: 'expected a time HH:mm' })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a time HH:mm between 00:00 and 23:59' });

function isRealDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === text;
}

/** Error text for an object of the wrong type; other issues keep their own messages. */
function objectError(issue: { code: string }): string | undefined {
  return issue.code === 'invalid_type' ? 'expected an object' : undefined;
}

const businessHoursSchema = z
  .strictObject(
    {
      days: z
        .array(z.enum(WEEKDAYS, { error: `expected a weekday name (${WEEKDAYS.join(', ')})` }), { error: 'expected a list of weekday names' })
        .min(1, { error: 'expected at least one weekday' })
        .refine((days) => new Set(days).size === days.length, { error: 'expected each weekday at most once' }),
      start: timeSchema,
      end: timeSchema,
    },
    { error: objectError },
  )
  .superRefine((hours, ctx) => {
    // HH:mm strings compare in time order.
    if (hours.start >= hours.end) ctx.addIssue({ code: 'custom', path: ['end'], message: 'expected a time later than businessHours.start' });
  });

const templateOverrideSchema = z.strictObject(
  {
    subject: z.string({ error: 'expected a string' }).max(MAX_SUBJECT_LENGTH, { error: `expected at most ${MAX_SUBJECT_LENGTH} characters` }).optional(),
    body: z.string({ error: 'expected a string' }).max(MAX_BODY_LENGTH, { error: `expected at most ${MAX_BODY_LENGTH} characters` }).optional(),
  },
  { error: objectError },
);

const templatesShape = Object.fromEntries(TEMPLATE_KEYS.map((key) => [key, templateOverrideSchema.optional()])) as Record<
  TemplateKey,
  z.ZodOptional<typeof templateOverrideSchema>
>;

const policySchema = z.strictObject(
  {
    businessHours: z.union([z.literal('always'), businessHoursSchema], {
      error: 'expected "always" or an object { days, start, end }',
    }),
    holidays: z
      .array(z.string({ error: 'expected a date YYYY-MM-DD' }).refine(isRealDate, { error: 'expected a date YYYY-MM-DD' }), {
        error: 'expected a list of dates YYYY-MM-DD',
      })
      .max(MAX_HOLIDAYS, { error: `expected at most ${MAX_HOLIDAYS} holidays` }),
    thankYou: z
      .strictObject(
        {
          enabled: enabledSchema,
          delayMinutes: wholeNumber(0, 7 * 24 * 60),
          deadlineHours: wholeNumber(0, 30 * 24),
          graceHours: wholeNumber(0, 30 * 24),
          approval: approvalSchema,
        },
        { error: objectError },
      )
      .superRefine((thankYou, ctx) => {
        if (thankYou.graceHours < thankYou.deadlineHours) {
          ctx.addIssue({ code: 'custom', path: ['graceHours'], message: 'expected a whole number ≥ thankYou.deadlineHours' });
        }
      }),
    checkIn: z.strictObject(
      {
        enabled: enabledSchema,
        afterDays: wholeNumber(0, 365),
        afterDecisionBusinessDays: wholeNumber(0, 60),
        windowDays: wholeNumber(0, 365),
        approval: approvalSchema,
      },
      { error: objectError },
    ),
    finalCheckIn: z.strictObject({ enabled: enabledSchema, afterDays: wholeNumber(0, 365), approval: approvalSchema }, { error: objectError }),
    callTask: z.strictObject({ enabled: enabledSchema, afterHours: wholeNumber(0, 30 * 24), approval: approvalSchema }, { error: objectError }),
    keepInTouch: z.strictObject({ enabled: enabledSchema, afterDays: wholeNumber(0, 365), approval: approvalSchema }, { error: objectError }),
    respondToConcerns: z.strictObject({ approval: approvalSchema }, { error: objectError }),
    maxMessagesPerRecipient: wholeNumber(1, 20),
    minSpacingBusinessDays: wholeNumber(0, 60),
    handwrittenMinDaysToDecision: wholeNumber(0, 365),
    panelConsistency: z.enum(['personalized', 'uniform'], { error: 'expected "personalized" or "uniform"' }),
    autoPlan: enabledSchema,
    templates: z.strictObject(templatesShape, { error: objectError }),
    writing: z.strictObject(
      {
        greeting: z.enum(['first_name', 'formal'], { error: 'expected "first_name" or "formal"' }),
        locale: z.enum(['en-US', 'en-GB'], { error: 'expected "en-US" or "en-GB"' }),
      },
      { error: objectError },
    ),
  },
  { error: objectError },
);

// A compile-time check that the schema produces exactly the document type.
type SchemaOutput = z.infer<typeof policySchema>;
const schemaMatchesType: (output: SchemaOutput) => PolicyDocument = (output) => output;
void schemaMatchesType;

function dottedKey(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? ROOT_KEY : path.map(String).join('.');
}

function firstProblem(issues: readonly z.core.$ZodIssue[]): { key: string; message: string } {
  const issue = issues[0];
  if (issue === undefined) return { key: ROOT_KEY, message: `${ROOT_KEY}: invalid` };
  if (issue.code === 'unrecognized_keys') {
    const key = dottedKey([...issue.path, issue.keys[0] ?? '']);
    return { key, message: `${key}: unknown key` };
  }
  if (issue.code === 'invalid_union') {
    // `businessHours` is "always" or an object: when an object was given, the object's own
    // problem (say `businessHours.days.1`) says more than "matched neither".
    const nested = issue.errors.find((branch) => branch.some((inner) => inner.path.length > 0 || inner.code === 'unrecognized_keys'));
    if (nested !== undefined) return firstProblem(nested.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })));
  }
  const key = dottedKey(issue.path);
  return { key, message: `${key}: ${issue.message}` };
}

/** Completes a stored or submitted document with defaults and validates it strictly. */
export function parsePolicyDocument(json: unknown): PolicyParseResult {
  if (!isPlainObject(json)) return { ok: false, key: ROOT_KEY, message: `${ROOT_KEY}: expected a JSON object` };
  const result = policySchema.safeParse(fillDefaults(json, DEFAULT_POLICY));
  if (result.success) return { ok: true, document: result.data };
  return { ok: false, ...firstProblem(result.error.issues) };
}

/** `updatePolicy`: merge the patch over the current document, then complete and validate. */
export function resolvePolicyPatch(current: PolicyDocument, patch: unknown): PolicyParseResult {
  if (!isPlainObject(patch)) return { ok: false, key: ROOT_KEY, message: `${ROOT_KEY}: expected a JSON object` };
  return parsePolicyDocument(applyMergePatch(current, patch));
}
