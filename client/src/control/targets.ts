/**
 * The mapping's targets as the page knows them: what a learn button arms (a target as in
 * core/mapping/schema.ts targetSchema) and the key a control is found by. Category select and crossfade
 * get keys of their own here (unlike the server's targetKey, where they share one) so each shows its routes.
 */
import type { ControlMessage } from '../lib/protocol.ts';

export type LearnTarget = Extract<ControlMessage, { type: 'learn' }>['target'];

export function targetId(t: { kind: string; index?: number; code?: number; move?: string }): string {
  switch (t.kind) {
    case 'camera':
      return `camera ${t.move ?? ''}`;
    case 'direction':
    case 'continuous':
      return `${t.kind} ${t.index ?? 0}`;
    case 'category select':
    case 'category crossfade':
      return `${t.kind} ${t.code ?? 0}`;
    default:
      return t.kind;
  }
}

/** Same target, whatever optional fields (a crossfade's values) each carries. */
export function sameTarget(a: LearnTarget, b: LearnTarget): boolean {
  return targetId(a) === targetId(b);
}
