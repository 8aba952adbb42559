import type { AnyStateMachine, StateValue } from 'xstate';
import type { JsonValue } from '../stores/event-store/port.js';

/** The dotted paths of every active state in a state value: `{a: {b: 'c'}}` → `a`, `a.b`, `a.b.c`. */
export function statePaths(value: StateValue | JsonValue, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix ? `${prefix}.${value}` : value];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path);
    if (child !== undefined) out.push(...statePaths(child as StateValue, path));
  }
  return out;
}

/** The dotted paths of the machine's states that invoke an actor while active. */
export function invokingStatePaths(machine: AnyStateMachine): Set<string> {
  const out = new Set<string>();
  const visit = (node: AnyStateMachine['root']): void => {
    if (node.invoke.length > 0 && node.path.length > 0) out.add(node.path.join('.'));
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return out;
}
