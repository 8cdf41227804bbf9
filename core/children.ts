/**
 * Every child process rhodops starts (ffmpeg for takes, capture, songs and renders; device probes), so that
 * shutdown can end the ones still running: an orphaned capture would keep a microphone open, and its pipes
 * would keep the process from exiting.
 */
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();

/** Registers a child until it exits; returns it. */
export function track<T extends ChildProcess>(child: T): T {
  if (child.exitCode !== null || child.signalCode !== null) return child;
  running.add(child);
  const forget = () => running.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}

/** Children started and not yet exited. */
export function runningChildren(): number {
  return running.size;
}

/** Sends `signal` to every child still running; returns how many there were. */
export function killChildren(signal: NodeJS.Signals = 'SIGKILL'): number {
  const n = running.size;
  for (const child of running) {
    try {
      child.kill(signal);
    } catch {
      // Already gone between the exit and our hearing of it.
    }
  }
  return n;
}

/** SIGKILLs every child still running and waits (up to `timeoutMs`) until the system has reaped them. */
export async function endChildren(timeoutMs = 1000): Promise<number> {
  const left = [...running];
  const exits = left.map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()))));
  killChildren('SIGKILL');
  await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  return left.length;
}
