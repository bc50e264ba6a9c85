import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The service as a separate process, run from source the way `npm start` runs it. */
export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote (stdout and stderr), for assertions on logs. */
  output(): string;
  /** SIGTERM, then the exit code (or the signal that ended it). */
  stop(): Promise<number | string | null>;
  exited: Promise<number | string | null>;
}

export function serviceEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  // The inbound SMTP listener is off unless a test asks for it (its default port would clash between processes).
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'test', INBOUND_SMTP_PORT: '0' };
  delete env.DATABASE_URL;
  delete env.SMTP_URL;
  delete env.JWT_SECRET;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function spawnService(env: NodeJS.ProcessEnv, args: string[] = []): { child: ChildProcess; output: () => string; exited: Promise<number | string | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return { child, output: () => output, exited };
}

/** Starts the service and waits for its "Afterview API on …" line (or worker start, for --mode=worker). */
export async function startService(env: NodeJS.ProcessEnv, args: string[] = [], timeoutMs = 30_000): Promise<ServiceProcess> {
  const { child, output, exited } = spawnService(env, args);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started service behind to poll the database.
      child.kill('SIGKILL');
      reject(new Error(`service did not start in time:\n${output()}`));
    }, timeoutMs);
    const check = () => {
      const api = /Afterview API on (http:\/\/[^/\s]+)/.exec(output());
      const workerOnly = args.includes('--mode=worker') && /worker scheduled/.test(output());
      if (api || workerOnly) {
        clearTimeout(timer);
        resolve(api ? api[1]! : '');
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited early (${code}):\n${output()}`));
    });
  });
  return {
    url,
    child,
    output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
