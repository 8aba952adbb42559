import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { consumerProblem, createLogConsumer } from '../../../src/runtime/log-consumer.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';

const logger = pino({ level: 'silent' });

describe('a consumer that recovered from a transient failure', () => {
  const stores: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  it('is not reported as failing once it has recovered and is live with nothing to do', async () => {
    const events = createSqliteEventStore({ path: ':memory:', pollIntervalMs: 10 });
    stores.push(events);
    let loads = 0;
    let clock = 1_000_000;
    const consumer = createLogConsumer({
      name: 'projection:rare_facts',
      events,
      logger,
      filter: { eventTypes: ['somethingRare'] },
      now: () => clock,
      handler: {
        async load() {
          loads++;
          // ClickHouse not reachable for the very first load only (e.g. at start-up).
          if (loads === 1) throw new Error('ECONNREFUSED clickhouse');
          return null;
        },
        async handle() {},
      },
    });
    consumer.start();
    // Wait until the second load succeeded and the consumer is subscribed.
    for (let i = 0; i < 200 && loads < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(loads).toBe(2);
    // ClickHouse is back and the consumer reads the log; nothing it takes arrives for a while.
    clock += 10 * 60_000;
    const status = consumer.status();
    const problem = consumerProblem(status, clock, 60_000);
    await consumer.stop();
    // It is healthy: /readyz must not say it is failing.
    expect({ state: status.state, failingSince: status.failingSince, problem }).toEqual({
      state: expect.not.stringMatching(/retrying|halted/),
      failingSince: null,
      problem: null,
    });
  });
});
