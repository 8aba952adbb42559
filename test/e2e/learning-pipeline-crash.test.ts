import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/stores/event-store/sqlite.js';
import { killed, startTsChild, waitForLine } from '../support/child-process.js';
import { freePort, tempDir } from '../support/fixtures.js';
import { gql } from '../support/graphql.js';

function start(dataDir: string, port: number): ChildProcess {
  return startTsChild('src/main.ts', [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    LEARNING_WORKERS: '1',
    SELF_MONITOR_INTERVAL_MS: '0',
    SCAVENGE_INTERVAL_MS: '3600000',
    AGENT_BATCH_MAX_DELAY_MS: '50',
  });
}

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;
const PIPELINE = 'state currentRun { status tasks { id status } }';

interface Fact {
  type: string;
  task?: string;
  instance?: string;
}

async function facts(dataDir: string, id: string): Promise<Fact[]> {
  const store = createSqliteEventStore({ path: join(dataDir, 'events.db') });
  try {
    const out: Fact[] = [];
    for await (const e of store.readStream(`learningpipeline-${id}`)) {
      const data = e.data as { task?: string; instance?: string };
      out.push({
        type: e.type,
        ...(data.task ? { task: data.task } : {}),
        ...(data.instance ? { instance: data.instance } : {}),
      });
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('a learning pipeline run under kill -9', () => {
  it('resumes at the task that was cut short after a restart; finished tasks are not redone', async () => {
    const dataDir = tempDir('lp-crash-');
    const id = 'crashy';
    let port = await freePort();
    let child = start(dataDir, port);
    let url = `http://127.0.0.1:${port}`;
    const pipeline = async () =>
      (
        await gql<{
          learningPipeline: {
            state: string;
            currentRun: { status: string; tasks: { id: string; status: string }[] } | null;
          };
        }>(url, `query ($id: String!) { learningPipeline(id: $id) { ${PIPELINE} } }`, { id })
      ).data!.learningPipeline;
    let before: Fact[] = [];
    try {
      await waitForLine(child, /is listening/);
      // An hour of two related series, one sample a second.
      const T0 = Math.floor((Date.now() - 3_500_000) / 1000) * 1000;
      for (let k = 0; k < 3500; k += 500) {
        const samples = Array.from({ length: 500 }, (_, j) => {
          const i = k + j;
          const x = 10 + 5 * Math.sin(i / 7) + Math.sin(i / 131);
          const timestamp = new Date(T0 + i * 1000).toISOString();
          return [
            { name: 'crash_x', labels: [], kind: 'gauge', value: x, timestamp },
            {
              name: 'crash_y',
              labels: [],
              kind: 'gauge',
              value: Math.sin(x) * x + Math.cos(i / 17),
              timestamp,
            },
          ];
        }).flat();
        const accepted = await gql(url, INGEST, { samples });
        expect(accepted).toEqual({ data: { ingestMetrics: { accepted: 1000 } } });
      }
      // A forest big enough that training takes a while.
      const defined = await gql(
        url,
        `mutation ($id: String!, $d: JSONObject!) { defineLearningPipeline(id: $id, definition: $d) { ... on LearningPipeline { state } ... on Error { code message } } }`,
        {
          id,
          d: {
            modelId: 'crash-forest',
            windowMs: 3_600_000,
            dataset: {
              series: [{ name: 'crash_x' }],
              stepMs: 1000,
              lags: [1, 2, 3, 4, 5],
              rolling: [5, 10],
              target: { series: { name: 'crash_y' }, horizonSteps: 0 },
            },
            training: {
              algorithm: 'randomForest',
              task: 'regression',
              params: { nEstimators: 300 },
              seed: 3,
            },
          },
        },
      );
      expect(defined.data).toEqual({ defineLearningPipeline: { state: 'idle' } });
      // Run once every sample is in ClickHouse (the read takes what the window holds when it runs).
      for (let i = 0; ; i++) {
        const counted = await gql<{ seriesAggregate: { value: number }[] }>(
          url,
          'query ($from: DateTime!, $to: DateTime!) { seriesAggregate(selector: { name: "crash_y" }, fn: COUNT, from: $from, to: $to) { value } }',
          { from: new Date(T0).toISOString(), to: new Date().toISOString() },
        );
        if (counted.data?.seriesAggregate[0]?.value === 3500) break;
        if (i > 600) throw new Error(`the samples did not reach ClickHouse: ${JSON.stringify(counted)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await gql(url, `mutation ($id: String!) { runLearningPipeline(id: $id) { __typename } }`, { id });
      for (let i = 0; ; i++) {
        const p = await pipeline();
        if (p.currentRun?.tasks.find((t) => t.id === 'train')?.status === 'running') break;
        if (i > 1200) throw new Error(`training never started: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await killed(child);
      before = await facts(dataDir, id);

      port = await freePort();
      child = start(dataDir, port);
      url = `http://127.0.0.1:${port}`;
      await waitForLine(child, /is listening/);
      for (let i = 0; ; i++) {
        const p = await pipeline();
        if (p.state !== 'running') {
          expect(p.currentRun!.status).toBe('succeeded');
          break;
        }
        if (i > 3000) throw new Error(`the run did not end: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await killed(child);
    }

    const all = await facts(dataDir, id);
    const after = all.slice(before.length);
    const doneBefore = before.filter((f) => f.type === 'taskSucceeded').map((f) => f.task);
    const cutShort = before.filter((f) => f.type === 'taskStarted').at(-1)!.task!;
    console.log(`finished before the kill: ${doneBefore.join(', ')}; cut short: ${cutShort}`);
    expect(doneBefore).toEqual(expect.arrayContaining(['read', 'features']));
    expect(doneBefore).not.toContain(cutShort);
    // After the restart: the cut-short task first, started again by the new process; nothing finished redone.
    const startedAfter = after.filter((f) => f.type === 'taskStarted');
    expect(startedAfter[0]!.task).toBe(cutShort);
    expect(startedAfter[0]!.instance).not.toBe(
      before.filter((f) => f.type === 'taskStarted').at(-1)!.instance,
    );
    for (const task of doneBefore) expect(startedAfter.map((f) => f.task)).not.toContain(task);
    // Every task succeeded exactly once over the two processes.
    const succeeded = all.filter((f) => f.type === 'taskSucceeded').map((f) => f.task);
    expect(succeeded).toEqual(['read', 'features', 'train', 'evaluate', 'register', 'promote']);
  }, 300_000);
});
