import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEMPLATE_VARIABLES } from '../../src/domain/templates.js';

// README.md is what tenants write templates from: it must name every variable there is.
describe('README.md', () => {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('documents every template variable', () => {
    const missing = TEMPLATE_VARIABLES.filter(({ name }) => !readme.includes(`{{${name}}}`)).map(({ name }) => name);
    expect(missing).toEqual([]);
  });

  it('gives the two-command quick start and the test command', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toMatch(/^npm test$/m);
  });
});
