// A step's identity inside its plan. The key depends only on what the step is and whom it is
// for, never on when it is due, so a plan recomputed after a reschedule (S4) maps onto the
// steps already stored, and a step already sent is recognised and not planned again.

import type { StepKind } from './types.js';

/** Kinds that go to each interviewer separately; every other kind happens once per plan. */
const PER_INTERVIEWER_KINDS: ReadonlySet<StepKind> = new Set<StepKind>(['thank_you', 'respond_to_concerns']);

/** The order steps are listed in when they fall due at the same instant. */
export const STEP_KIND_ORDER: readonly StepKind[] = [
  'thank_you',
  'check_in',
  'final_check_in',
  'call_task',
  'keep_in_touch',
  'respond_to_concerns',
];

/**
 * `thank_you:<interviewerId>` for per-interviewer kinds; just the kind (`check_in`,
 * `final_check_in`, `call_task`, `keep_in_touch`) for the once-per-plan kinds, whose recipient
 * is whoever is the primary contact: if the partner corrects who that is, the plan still has
 * one check-in, not a second one for the new contact. `discriminator` tells apart several
 * manual steps for one person (e.g. the reply that raised concerns).
 */
export function stepKey(kind: StepKind, interviewerId: string | null, discriminator?: string): string {
  const base = PER_INTERVIEWER_KINDS.has(kind) && interviewerId !== null ? `${kind}:${interviewerId}` : kind;
  return discriminator === undefined ? base : `${base}:${discriminator}`;
}

export function stepKindRank(kind: StepKind): number {
  return STEP_KIND_ORDER.indexOf(kind);
}
