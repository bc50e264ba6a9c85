import type { ValueNode } from 'graphql';
import { graphql } from './graphql-instance.js';
import {
  canonicalTimeZone,
  emailProblem,
  INSTANT_FORMAT_HINT,
  parseInstant,
  phoneProblem,
  timeZoneProblem,
} from '../domain/validation.js';

const { GraphQLError, GraphQLScalarType, Kind } = graphql;

// Custom scalars reuse the domain's field checks, so GraphQL and REST refuse the same values
// with the same words; the error formatter reports a refusal as BAD_USER_INPUT.

function stringScalar(name: string, description: string, check: (value: string) => string | null, normalize = (value: string) => value) {
  const parse = (value: unknown): string => {
    if (typeof value !== 'string') throw new GraphQLError(`${name} must be a string`);
    const problem = check(value);
    if (problem) throw new GraphQLError(`${JSON.stringify(value.slice(0, 80))} ${problem}`);
    return normalize(value);
  };
  return new GraphQLScalarType<string, string>({
    name,
    description,
    serialize: (value) => value as string,
    parseValue: parse,
    parseLiteral: (ast: ValueNode) => parse(ast.kind === Kind.STRING ? ast.value : undefined),
  });
}

export const EmailAddressScalar = stringScalar('EmailAddress', 'An e-mail address', emailProblem);
export const PhoneNumberScalar = stringScalar('PhoneNumber', 'An E.164 phone number', phoneProblem);
export const TimeZoneScalar = stringScalar('TimeZone', 'An IANA time zone name', timeZoneProblem, canonicalTimeZone);

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? parseInstant(value) : null;
  if (!date) throw new GraphQLError(`${JSON.stringify(String(value).slice(0, 80))} ${INSTANT_FORMAT_HINT}`);
  return date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 instant with an offset',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

function literalToJson(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((item) => literalToJson(item, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, literalToJson(field.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    default:
      throw new GraphQLError('JSON cannot represent this value');
  }
}

export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  description: 'Any JSON value',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literalToJson,
});
