import type { ASTNode, DocumentNode, GraphQLSchema, OperationDefinitionNode, ValidationRule } from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import { MAX_INPUT_DEPTH, NUL_PROBLEM } from '../domain/input-shape.js';
import { graphql, queryComplexity } from './graphql-instance.js';

const { BREAK, GraphQLError, getNullableType, GraphQLList, Kind, Location, NoSchemaIntrospectionCustomRule, visit } = graphql;
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';

// What one GraphQL request may ask for, so a hostile or careless query cannot tie up the
// service: a document of bounded size, tokens and nesting (checked before it is parsed), a
// cost that grows with every list it opens, and bounded aliases and operations. Depth is
// limited by Mercurius itself (queryDepth).

export interface GraphQLLimits {
  /** The query text in UTF-8, checked before parsing. */
  maxBytes: number;
  /** Tokens the parser reads before it gives up. */
  maxTokens: number;
  /** Braces, brackets and parentheses inside each other, checked before parsing. */
  maxNesting: number;
  /** Fragments spread inside fragments. */
  maxFragmentDepth: number;
  maxCost: number;
  maxDepth: number;
  maxAliases: number;
  maxOperations: number;
  introspection: boolean;
}

export const DEFAULT_GRAPHQL_LIMITS: Omit<GraphQLLimits, 'introspection'> = {
  maxBytes: 64 * 1024,
  maxTokens: 5_000,
  maxNesting: MAX_INPUT_DEPTH,
  maxFragmentDepth: 32,
  maxCost: 20_000,
  maxDepth: 10,
  maxAliases: 30,
  maxOperations: 5,
};

/** A list without `first` (a panel's interviewers, a plan's steps) is assumed to hold this many. */
const ASSUMED_LIST_SIZE = 10;

/**
 * Every field costs 1, and what a list field asks for costs once per item: `first` items for a
 * connection (its default when omitted), an assumed size for a plain list. `edges` belongs to
 * the connection that already counted its size.
 */
const listSizeEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (typeof args.first === 'number') return args.first * (1 + childComplexity);
  const firstArg = field.args.find((arg) => arg.name === 'first');
  if (firstArg) return Number(firstArg.defaultValue ?? DEFAULT_PAGE_SIZE) * (1 + childComplexity);
  if (field.name === 'edges') return 1 + childComplexity;
  if (getNullableType(field.type) instanceof GraphQLList) return ASSUMED_LIST_SIZE * (1 + childComplexity);
  return 1 + childComplexity;
};

/** Refuses documents with too many aliases or operations (each alias re-runs its field). */
function documentSizeRule(limits: Pick<GraphQLLimits, 'maxAliases' | 'maxOperations'>): ValidationRule {
  return (context) => {
    let aliases = 0;
    let operations = 0;
    return {
      Field(node) {
        if (node.alias && ++aliases === limits.maxAliases + 1) {
          context.reportError(new GraphQLError(`the query uses more than ${limits.maxAliases} aliases`, { nodes: [node] }));
        }
      },
      OperationDefinition(node) {
        if (++operations === limits.maxOperations + 1) {
          context.reportError(new GraphQLError(`the document holds more than ${limits.maxOperations} operations`, { nodes: [node] }));
        }
      },
    };
  };
}

/** The dotted name of the argument (and input fields) a literal stands in, e.g. `input.name`. */
function argumentPath(ancestors: ReadonlyArray<ASTNode | ReadonlyArray<ASTNode>>): string {
  const names = ancestors.flatMap((ancestor) =>
    !Array.isArray(ancestor) && ((ancestor as ASTNode).kind === Kind.ARGUMENT || (ancestor as ASTNode).kind === Kind.OBJECT_FIELD)
      ? [(ancestor as { name: { value: string } }).name.value]
      : [],
  );
  return names.join('.') || 'query';
}

/**
 * How many fragments deep the longest chain of spreads goes, without recursion: a chain of
 * thousands must not exhaust the stack before it is refused. Cycles are left to validation.
 */
function fragmentDepth(document: DocumentNode): number {
  const spreads = new Map<string, Set<string>>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const names = new Set<string>();
    visit(definition.selectionSet, { FragmentSpread: (node) => void names.add(node.name.value) });
    spreads.set(definition.name.value, names);
  }
  const depths = new Map<string, number>();
  const onPath = new Set<string>();
  let deepest = 0;
  for (const start of spreads.keys()) {
    const stack: Array<{ name: string; pending: string[] }> = [{ name: start, pending: [...spreads.get(start)!] }];
    onPath.add(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = top.pending.pop();
      if (next === undefined) {
        const below = Math.max(0, ...[...spreads.get(top.name)!].map((name) => depths.get(name) ?? 0));
        depths.set(top.name, below + 1);
        onPath.delete(top.name);
        stack.pop();
      } else if (spreads.has(next) && !depths.has(next) && !onPath.has(next)) {
        onPath.add(next);
        stack.push({ name: next, pending: [...spreads.get(next)!] });
      }
    }
    deepest = Math.max(deepest, depths.get(start)!);
  }
  return deepest;
}

/**
 * Checked once per distinct query, after parsing and before validation (whose rules recurse
 * through fragments): the document came from the GraphQL parser (Mercurius would otherwise
 * accept a JSON syntax tree of any shape), no string literal holds a NUL character, and
 * fragments spread inside fragments at most `maxFragmentDepth` deep.
 */
export function documentProblem(document: DocumentNode, limits: Pick<GraphQLLimits, 'maxFragmentDepth'>): { field: string; problem: string } | null {
  if (!(document.loc instanceof Location)) return { field: 'query', problem: 'must be a GraphQL document' };
  let found: { field: string; problem: string } | null = null;
  visit(document, {
    StringValue(node, _key, parent, _path, ancestors) {
      if (!node.value.includes('\u0000')) return undefined;
      found = { field: argumentPath([...ancestors, ...(parent ? [parent] : [])]), problem: NUL_PROBLEM };
      return BREAK;
    },
  });
  if (found) return found;
  const depth = fragmentDepth(document);
  if (depth > limits.maxFragmentDepth) {
    return { field: 'query', problem: `spreads fragments inside fragments ${depth} deep, over the limit of ${limits.maxFragmentDepth}` };
  }
  return null;
}

/** Rules that depend on the document alone, so Mercurius can cache their verdict per query. */
export function validationRules(limits: GraphQLLimits): ValidationRule[] {
  return [documentSizeRule(limits), ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
}

const VERDICTS_PER_DOCUMENT = 256;

/**
 * The cost depends on the variables too (`first: $first`), so it is checked per request, just
 * before execution; a query over the limit is refused as the caller's input. Mercurius hands
 * every request with the same query text the same parsed document, and clients repeat their
 * variables far more often than not, so the checker keeps its verdict per document and variables.
 */
export function costChecker(limits: GraphQLLimits) {
  const verdictsByDocument = new WeakMap<DocumentNode, Map<string, string | null>>();
  return (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined): string | null => {
    let verdicts = verdictsByDocument.get(document);
    if (!verdicts) verdictsByDocument.set(document, (verdicts = new Map()));
    const key = `${operationName ?? ''}\n${JSON.stringify(variables ?? {})}`;
    let verdict = verdicts.get(key);
    if (verdict === undefined) {
      verdict = costProblem(limits, schema, document, variables, operationName);
      if (verdicts.size >= VERDICTS_PER_DOCUMENT) verdicts.clear();
      verdicts.set(key, verdict);
    }
    return verdict;
  };
}

function costProblem(
  limits: GraphQLLimits,
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): string | null {
  let cost: number;
  try {
    cost = queryComplexity.getComplexity({ schema, query: document, variables: variables ?? {}, ...(operationName ? { operationName } : {}), estimators: [listSizeEstimator] });
  } catch {
    return null; // variables that do not fit are refused by execution with a precise message
  }
  return cost > limits.maxCost ? `the query would cost ${cost}, over the limit of ${limits.maxCost}: ask for fewer items per page or fewer fields` : null;
}

export function operationSummary(document: { definitions: ReadonlyArray<{ kind: string }> }, operationName?: string | null): { operation: string; field: string } {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  const chosen = operations.find((operation) => operation.name?.value === operationName) ?? operations[0];
  const first = chosen?.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
  return { operation: chosen?.operation ?? 'unknown', field: first && first.kind === Kind.FIELD ? first.name.value : 'unknown' };
}
