import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServiceProcess, serviceEnv, startService } from '../support/processes.js';

// README's "Your first hour" is run as written: its marked blocks (```sh first-hour) in one
// bash session against the service as a process, on a fresh data directory. The README cannot
// drift from what the service does.

const ROOT = path.resolve(import.meta.dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

export function firstHourScript(readme: string): string {
  const blocks = [...readme.matchAll(/^```sh first-hour\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  return blocks.join('\n');
}

function runBash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('README: your first hour', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'afterview-first-hour-'));
    // A first start on a new data directory (PGlite's files, migrations) can be slow on a busy machine.
    service = await startService(serviceEnv({ DATA_DIR: dataDir }), [], 120_000);
  }, 150_000);
  afterAll(async () => {
    await service?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('has the walkthrough, every step of it', () => {
    const script = firstHourScript(README);
    for (const step of ['token dev', 'testClock', 'createCandidate', 'scheduleInterview', 'previewFollowUpPlan', 'advanceTestClock', 'messages', 'recordReply']) {
      expect(script).toContain(step);
    }
  });

  it('runs as written against the service, on a fresh data directory, whatever the day', async () => {
    const port = new URL(service!.url).port;
    const result = await runBash(firstHourScript(README), serviceEnv({ DATA_DIR: dataDir, PORT: port }));
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    const answers = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { data?: any; errors?: unknown });
    // Every GraphQL answer succeeded.
    for (const answer of answers) expect(answer.errors, JSON.stringify(answer)).toBeUndefined();

    const [firstAdvance, secondAdvance] = answers.filter((answer) => answer.data?.advanceTestClock).map((answer) => answer.data.advanceTestClock);
    expect(firstAdvance.messagesSent).toBe(2);
    const messages = answers.find((answer) => answer.data?.messages)!.data.messages.edges.map((edge: any) => edge.node);
    expect(messages.map((message: any) => message.status)).toEqual(['SENT', 'SENT']);
    expect(messages.map((message: any) => message.to).sort()).toEqual(['alan@northwind.example', 'grace@northwind.example']);
    // The .eml copies are listed.
    expect(result.stdout.match(/\.eml$/gm)).toHaveLength(2);
    expect(fs.readdirSync(path.join(dataDir, 'outbox', 'dev')).filter((name) => name.endsWith('.eml'))).toHaveLength(2);

    const reply = answers.find((answer) => answer.data?.recordReply)!.data.recordReply;
    expect(reply.fromEmployer).toBe(true);
    expect(reply.cancelledSteps.length).toBeGreaterThan(0);
    expect(secondAdvance.messagesSent).toBe(0);

    const plan = answers.at(-1)!.data.interview.followUpPlan;
    expect(plan.status).toBe('COMPLETED');
    const byStatus = (status: string) => plan.steps.filter((step: any) => step.status === status);
    expect(byStatus('SENT').map((step: any) => step.kind)).toEqual(['THANK_YOU', 'THANK_YOU']);
    expect(byStatus('CANCELLED').length).toBeGreaterThan(0);
    for (const step of byStatus('CANCELLED')) expect(step.reason).toBe('employer_replied');
  }, 180_000);

  it('mints the token through the running service, and makes sandboxes over HTTP', () => {
    const env = serviceEnv({ DATA_DIR: dataDir });
    const operator = JSON.parse(fs.readFileSync(path.join(dataDir, 'operator.json'), 'utf8'));
    expect(operator.url).toBe(service!.url);
    expect(fs.statSync(path.join(dataDir, 'operator.json')).mode & 0o777).toBe(0o600);

    const created = runCli(['tenant', 'create', 'partner-sandbox', '--sandbox'], env);
    expect(created.status, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ sandbox: true });
    const token = runCli(['token', 'partner-sandbox', '--plain'], env);
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    const missing = runCli(['token', 'nobody'], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('not found');
  }, 120_000);

  it('the CLI without arguments prints its usage and exits 2', () => {
    const result = runCli([], serviceEnv({ DATA_DIR: dataDir }));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Usage:');
  });
});
