import { readFactOf } from '../domain/facts.js';
import type { Position } from '../stores/event-store/port.js';
import { builder, Label, labelList } from './builder.js';
import { tailLog } from './log-tail.js';

interface ComplexEventShape {
  readonly rule: string;
  readonly ts: number;
  readonly group: Record<string, string>;
  readonly causes: readonly string[];
  readonly position: Position;
}

const ComplexEvent = builder.objectRef<ComplexEventShape>('ComplexEvent').implement({
  description:
    'A complex-event rule matched: a sequence of findings within its time, or N of them in its window.',
  fields: (t) => ({
    rule: t.exposeString('rule'),
    ts: t.field({ type: 'DateTime', resolve: (c) => c.ts }),
    group: t.field({ type: [Label], resolve: (c) => labelList(c.group) }),
    causes: t.field({
      type: ['Position'],
      description: 'The log positions of the findings that made it, oldest first.',
      resolve: (c) => c.causes.map((p) => BigInt(p)),
    }),
    position: t.field({ type: 'Position', resolve: (c) => c.position }),
  }),
});

builder.subscriptionFields((t) => ({
  complexEventDetected: t.field({
    type: ComplexEvent,
    description: 'Complex events as they are recorded in the log; resume with `after`.',
    args: { rule: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      tailLog<ComplexEventShape>(ctx.logHub, {
        after: args.after,
        filter: { categories: ['complex'], eventTypes: ['complexEventDetected'] },
        map: (event) => {
          const { data } = readFactOf(event, 'complexEventDetected');
          return args.rule && data.rule !== args.rule ? [] : [{ ...data, position: event.position }];
        },
      }),
    resolve: (c) => c,
  }),
}));
