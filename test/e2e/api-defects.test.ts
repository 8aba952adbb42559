import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { createKey, gql } from '../support/graphql.js';
import { type Service, startService } from '../support/service.js';

describe('the API names what is wrong, and who did what', () => {
  let service: Service & { url: string };

  beforeAll(async () => {
    service = await startService();
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('names the index of a bad sample in a long inline batch', async () => {
    const samples = Array.from(
      { length: 2000 },
      (_, i) => `{ name: "m", kind: gauge, value: ${i === 1234 ? '"12"' : '1'} }`,
    ).join(', ');
    const answer = await gql(
      service.url,
      `mutation { ingestMetrics(samples: [${samples}]) { ... on IngestResult { accepted } ... on Error { code message } } }`,
    );
    expect(answer.errors?.[0]?.message).toMatch(/^samples\[1234\]\.value: /);
    expect(answer.errors?.[0]?.extensions?.field).toBe('samples[1234].value');
    // And when sent as a variable, GraphQL names it itself.
    const asVariable = await gql(
      service.url,
      'mutation ($s: [SampleInput!]!) { ingestMetrics(samples: $s) { ... on IngestResult { accepted } ... on Error { code message } } }',
      {
        s: [
          { name: 'm', kind: 'gauge', value: 1 },
          { name: 'm', kind: 'gauge', value: '12' },
        ],
      },
    );
    expect(asVariable.errors?.[0]?.message).toContain('s[1].value');
  });

  it('refuses a score below 0 and a day that is not in the calendar', async () => {
    const score = await gql(
      service.url,
      'query { anomalies(from: "2026-01-01", to: "2026-01-02", minScore: -5) { edges { node { value } } } }',
    );
    expect(score.errors?.[0]?.message).toContain('minScore: must be from 0 to 1');
    const day = await gql(
      service.url,
      'query { anomalies(from: "2026-02-30", to: "2026-03-02") { edges { node { value } } } }',
    );
    expect(day.errors?.[0]?.message).toContain('not a day of the calendar');
  });

  it('records who removed a silence', async () => {
    const ann = await createKey(service.url, 'ann', 'operator');
    const created = await gql<{ createSilence: { id: string } }>(
      service.url,
      'mutation { createSilence(input: { matchers: [{ name: "alertname", value: "x" }], endsAt: "2099-01-01T00:00:00Z" }) { ... on Silence { id } } }',
    );
    const id = created.data!.createSilence.id;
    const removed = await gql(
      service.url,
      'mutation ($id: String!) { removeSilence(id: $id) { ... on Silence { id } } }',
      { id },
      bearer(ann.key),
    );
    expect(removed.errors).toBeUndefined();
    const facts: { type: string; principal: unknown }[] = [];
    for await (const event of service.events.readStream('alertmanager-main'))
      facts.push({ type: event.type, principal: event.metadata.principal });
    expect(facts.filter((f) => f.type === 'silenceRemoved')).toEqual([
      { type: 'silenceRemoved', principal: ann.principal },
    ]);
  });
});
