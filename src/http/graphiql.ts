import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

// GraphiQL served from our own files. Mercurius' built-in page loads React and GraphiQL from a
// public CDN, so it shows a blank page offline, behind a strict proxy, or under a CSP. These are
// the same UMD builds, installed with the service and served from /graphiql/assets/.

const require = createRequire(import.meta.url);

/** A file inside an installed package (UMD builds are not in the packages' export maps). */
function packageFile(name: string, file: string): string {
  return path.join(path.dirname(require.resolve(`${name}/package.json`)), file);
}

interface Asset {
  file: string;
  type: string;
}

const ASSETS: Record<string, Asset> = {
  'react.production.min.js': { file: packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { file: packageFile('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { file: packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { file: packageFile('graphiql', 'graphiql.min.css'), type: 'text/css; charset=utf-8' },
};

// Our own start script, a file rather than an inline script so the page's CSP can forbid inline
// scripts. The header editor starts with the Authorization header a partner has to fill in.
const START_SCRIPT = `'use strict';
(function () {
  var fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', window.location.href).toString() });
  var headers = JSON.stringify({ Authorization: 'Bearer <paste a token: npm run cli -- token <slug>>' }, null, 2);
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultHeaders: headers, headerEditorEnabled: true, shouldPersistHeaders: false })
  );
})();
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Afterview GraphiQL</title>
  <meta name="robots" content="noindex">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/graphiql/assets/graphiql.min.css">
  <link rel="stylesheet" href="/graphiql/assets/page.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/assets/react.production.min.js"></script>
  <script src="/graphiql/assets/react-dom.production.min.js"></script>
  <script src="/graphiql/assets/graphiql.min.js"></script>
  <script src="/graphiql/assets/start.js"></script>
</body>
</html>
`;

const PAGE_CSS = 'html, body { margin: 0; height: 100%; } #graphiql { height: 100vh; }\n';

// GraphiQL's editors set inline styles, hence 'unsafe-inline' for styles only; scripts and
// connections stay on this origin.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Registered only where introspection is on (development, or GRAPHQL_INTROSPECTION=true). */
export async function graphiqlRoutes(app: FastifyInstance): Promise<void> {
  const contents = new Map<string, Buffer>();
  for (const [name, asset] of Object.entries(ASSETS)) contents.set(name, fs.readFileSync(asset.file));
  const ownAssets: Record<string, Asset & { body: string }> = {
    'start.js': { file: '', type: 'text/javascript; charset=utf-8', body: START_SCRIPT },
    'page.css': { file: '', type: 'text/css; charset=utf-8', body: PAGE_CSS },
  };

  app.get('/graphiql', { config: { rateLimit: false }, schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8');
    return PAGE;
  });
  app.get<{ Params: { name: string } }>('/graphiql/assets/:name', { config: { rateLimit: false }, schema: { hide: true } }, async (request, reply) => {
    const { name } = request.params;
    const own = Object.hasOwn(ownAssets, name) ? ownAssets[name] : undefined;
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!own && !asset) return reply.code(404).send({ error: 'NOT_FOUND', message: `no GraphiQL asset named ${name}` });
    reply.header('x-content-type-options', 'nosniff').header('cache-control', 'public, max-age=86400').type((own ?? asset)!.type);
    return own ? own.body : contents.get(name);
  });
}
