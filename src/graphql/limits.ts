import type { DocumentNode, GraphQLSchema, OperationDefinitionNode, ValidationRule } from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import { graphql, queryComplexity } from './graphql-instance.js';

const { GraphQLError, getNullableType, GraphQLList, Kind, NoSchemaIntrospectionCustomRule } = graphql;
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';

// What one GraphQL request may ask for, so a hostile or careless query cannot tie up the
// service: a cost that grows with every list it opens, and bounded aliases and operations.
// Depth is limited by Mercurius itself (queryDepth).

export interface GraphQLLimits {
  maxCost: number;
  maxDepth: number;
  maxAliases: number;
  maxOperations: number;
  introspection: boolean;
}

export const DEFAULT_GRAPHQL_LIMITS: Omit<GraphQLLimits, 'introspection'> = {
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
