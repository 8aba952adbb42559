import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelines } from '../../src/pipelines/load.js';
import { tempDir } from '../support/fixtures.js';

describe('pipelines file', () => {
  it('loads the example shipped in deploy/', () => {
    expect(loadPipelines('deploy/pipelines.example.json').map((p) => p.id)).toEqual([
      'cpu_watch',
      'self_minutely',
      'http_errors',
    ]);
  });

  it('names the entry and field of every mistake', () => {
    const file = join(tempDir(), 'p.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'ok', route: [] },
        { id: 'ok', route: [{ name: '*' }], mode: 'sometimes' },
      ]),
    );
    expect(() => loadPipelines(file)).toThrow(/\[0\.route\] .*>=1|\[0\.route\]/);
    expect(() => loadPipelines(file)).toThrow(/\[1\.mode\]/);
    writeFileSync(file, '[{');
    expect(() => loadPipelines(file)).toThrow(/PIPELINES_FILE .*p\.json/);
  });
});

describe('alert rules file', () => {
  it('loads the example shipped in deploy/ and names mistakes', async () => {
    const { loadAlertRules } = await import('../../src/alerting/load.js');
    expect(loadAlertRules('deploy/alert-rules.example.json').map((r) => r.id)).toEqual([
      'cpu_anomaly',
      'self_heap_high',
      'scrape_silent',
    ]);
    const file = join(tempDir(), 'r.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'a', match: {}, condition: { type: 'threshold', op: '~', value: 1 }, severity: 'warning' },
      ]),
    );
    expect(() => loadAlertRules(file)).toThrow(/\[0\.condition\.op\]/);
  });
});

describe('complex-event rules file', () => {
  it('loads the example shipped in deploy/ and names mistakes', async () => {
    const { loadComplexEventRules } = await import('../../src/complex-events/load.js');
    expect(loadComplexEventRules('deploy/complex-event-rules.example.json').map((r) => r.id)).toEqual([
      'cpu_then_latency',
      'cpu_flapping',
    ]);
    const file = join(tempDir(), 'c.json');
    writeFileSync(
      file,
      JSON.stringify([{ kind: 'count', id: 'x', match: { type: 'alertFired' }, n: 2, windowMs: 1 }]),
    );
    expect(() => loadComplexEventRules(file)).toThrow(/COMPLEX_EVENT_RULES_FILE .*\[0\.match\.type\]/);
  });
});
