// A tenant's follow-up policy: every number POLICY.md names is a setting here, never a
// constant elsewhere. Stored as versioned JSON; `updatePolicy` merges a patch over it.

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
}

export type TemplateKey = 'thankYou' | 'checkIn' | 'finalCheckIn' | 'callTask' | 'keepInTouch' | 'respondToConcerns';

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
};
