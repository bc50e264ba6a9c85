import { createRequire } from 'node:module';

// Mercurius is CommonJS and builds the schema with graphql's CommonJS build, while an ESM
// `import 'graphql'` loads the separate ESM build. Types from one fail `instanceof` checks in
// the other, so everything that touches Mercurius' schema or errors uses this one instance.
const require = createRequire(import.meta.url);

export const graphql = require('graphql') as typeof import('graphql');
export const queryComplexity = require('graphql-query-complexity') as typeof import('graphql-query-complexity');
