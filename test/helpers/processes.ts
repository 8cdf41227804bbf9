/** Real processes for tests: the real CLI as children (running, or run to its end), and a redis-server on a free loopback port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freeLoopbackPort } from '../../core/free-port.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');


export interface Child {
  proc: ChildProcess;
  /** stdout and stderr so far. */
  readonly out: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until the output matches (or the process ends, or `ms` pass: then throws with the output). */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function child(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  return {
    proc,
    get out() {
      return out;
    },
    exited,
    async waitFor(re, ms = 120_000) {
      const until = Date.now() + ms;
      while (!re.test(out)) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${path.basename(args[1] ?? cmd)} ended (${proc.exitCode ?? proc.signalCode}) before ${re}:\n${out}`);
        if (Date.now() > until) throw new Error(`no ${re} after ${ms} ms:\n${out}`);
        await sleep(50);
      }
    },
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** `node bin/rhodops.js ARGS`: the CLI as a user runs it. */
export function rhodops(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  return child(process.execPath, [path.join(ROOT, 'bin', 'rhodops.js'), ...args], env);
}

/** `node bin/rhodops.js ARGS` run to its end: the exit code, and stdout and stderr apart. */
export function runRhodops(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'rhodops.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** redis-server on a free loopback port, keeping nothing on disk; `stop` kills it. */
export async function startRedis(): Promise<{ url: string; port: number; stop: () => Promise<void> }> {
  const port = await freeLoopbackPort();
  const redis = child('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await redis.waitFor(/Ready to accept connections/, 30_000);
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => redis.kill('SIGKILL') };
}
