import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { graphql } from './graphql-instance.js';

const { Kind } = graphql;

// Which view fields a query will read of what a resolver returns, so the services fetch only
// the columns those fields come from (a page of steps without `decisions` never reads them).

/** For a GraphQL type, the fields whose resolvers read view fields other than their own name. */
export type FieldNeeds = Readonly<Record<string, readonly string[]>>;

export const NEEDS = {
  Candidate: { interviews: ['id'] },
  Interview: { candidate: ['candidateId'], company: ['companyId'], interviewers: ['id'], followUpPlan: ['id'] },
  Interviewer: {},
  FollowUpPlan: { interview: ['interviewId'], steps: ['id'] },
  FollowUpStep: { message: ['id'], plan: ['planId'] },
} satisfies Record<string, FieldNeeds>;

/** The path from a connection field to its items. */
export const CONNECTION_NODES = ['edges', 'node'] as const;

// A compiled query hands every call of one field the same fieldNodes, so the answer is worked
// out once per field of a query, not once per item.
const memo = new WeakMap<readonly FieldNode[], Map<string, readonly string[]>>();

/**
 * The view fields read of the value a field resolves to (or of what lies at `path` below it):
 * every field selected there, directly or through fragments, mapped through `needs`. Directives
 * are not evaluated: a field under `@include(if: false)` is still fetched, which costs a column
 * and is never wrong.
 */
export function viewFields(info: GraphQLResolveInfo, needs: FieldNeeds, path: readonly string[] = []): readonly string[] {
  let byPath = memo.get(info.fieldNodes);
  if (!byPath) memo.set(info.fieldNodes, (byPath = new Map()));
  const key = path.join('.');
  let fields = byPath.get(key);
  if (!fields) {
    fields = collect(info, needs, path);
    byPath.set(key, fields);
  }
  return fields;
}

function collect(info: GraphQLResolveInfo, needs: FieldNeeds, path: readonly string[]): readonly string[] {
  const selectionSetsOf = (fields: readonly FieldNode[]) => fields.flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
  let sets = selectionSetsOf(info.fieldNodes);
  for (const name of path) {
    sets = selectionSetsOf(sets.flatMap((set) => fieldsOf(set, info.fragments)).filter((field) => field.name.value === name));
  }
  const fields = new Set<string>();
  for (const field of sets.flatMap((set) => fieldsOf(set, info.fragments))) {
    const name = field.name.value;
    if (name === '__typename') continue;
    for (const needed of Object.hasOwn(needs, name) ? needs[name]! : [name]) fields.add(needed);
  }
  return [...fields];
}

/** The fields of a selection set, with those of its fragments. */
function fieldsOf(set: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, seen = new Set<string>()): FieldNode[] {
  return set.selections.flatMap((selection): FieldNode[] => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return fieldsOf(selection.selectionSet, fragments, seen);
    const name = selection.name.value;
    const fragment = fragments[name];
    if (!fragment || seen.has(name)) return [];
    seen.add(name);
    return fieldsOf(fragment.selectionSet, fragments, seen);
  });
}
