import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { bearer } from '../support/auth.js';
import { tempDir } from '../support/fixtures.js';
import { createKey, gql } from '../support/graphql.js';
import { settle, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;
const SECRET = 'first-secret-0123456789';
const sample = (user: string, note: string) => ({
  name: 'logins_total',
  labels: [
    { name: 'user', value: user },
    { name: 'note', value: note },
  ],
  kind: 'gauge',
  value: 1,
  timestamp: new Date().toISOString(),
});

describe('keyed anonymisation', () => {
  it('refuses to start with hashing rules and no secret, and names the old salt setting', () => {
    expect(() => loadConfig({ PRIVACY_HASH_LABELS: 'user' })).toThrow(ConfigError);
    expect(() => loadConfig({ PRIVACY_HASH_LABELS: 'user' })).toThrow(/PRIVACY_HASH_SECRET: required/);
    expect(() => loadConfig({ PRIVACY_VALUE_RULES: '[{"pattern":"email","action":"hash"}]' })).toThrow(
      /PRIVACY_HASH_SECRET: required/,
    );
    expect(() => loadConfig({ PRIVACY_HASH_SALT: 'pepper', PRIVACY_HASH_SECRET: SECRET })).toThrow(
      /PRIVACY_HASH_SALT: no longer used/,
    );
    expect(() => loadConfig({ PRIVACY_VALUE_RULES: '[{"pattern":"phone","action":"hash"}]' })).toThrow(
      /PRIVACY_VALUE_RULES: 0\.pattern: must be email, ipv4, ipv6/,
    );
    // Dropping needs no secret.
    expect(
      loadConfig({ PRIVACY_VALUE_RULES: '[{"pattern":"ipv4","action":"drop"}]' }).PRIVACY_VALUE_RULES,
    ).toEqual([{ pattern: 'ipv4', action: 'drop' }]);
  });

  it('stores hashes the same across restarts, another under another secret, and resolves a value to them for admins only', async () => {
    const dataDir = tempDir('privacy-');
    const env = {
      DATA_DIR: dataDir,
      PRIVACY_HASH_LABELS: 'user',
      PRIVACY_HASH_SECRET: SECRET,
      PRIVACY_VALUE_RULES: '[{"pattern":"email","action":"hash"}]',
    };
    const labelsOf = async (url: string) =>
      (
        await gql<{ series: { edges: { node: { labels: { name: string; value: string }[] } }[] } }>(
          url,
          '{ series(selector: { name: "logins_total" }) { edges { node { labels { name value } } } } }',
        )
      ).data!.series.edges.map((e) => Object.fromEntries(e.node.labels.map((l) => [l.name, l.value])));

    let service = await startService(env);
    let first: Record<string, string>[];
    try {
      await gql(service.url, INGEST, { samples: [sample('alice', 'mail from bob@example.com')] });
      await settle(service);
      first = await labelsOf(service.url);
      expect(first).toHaveLength(1);
      expect(JSON.stringify(first)).not.toMatch(/alice|bob@example\.com/);
      const hashes = await gql<{ labelHashes: { key: string; hash: string }[] }>(
        service.url,
        'query ($v: String!) { labelHashes(value: $v) { key hash } }',
        { v: 'alice' },
      );
      expect(hashes.data!.labelHashes).toEqual([{ key: 'current', hash: first[0]!.user }]);
      const viewer = await createKey(service.url, 'privacy-viewer', 'viewer');
      const refused = await gql(
        service.url,
        'query { labelHashes(value: "alice") { hash } }',
        {},
        bearer(viewer.key),
      );
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await service.stop();
    }

    // A restart with the same secret: the same hash, so the same series.
    service = await startService(env);
    try {
      await gql(service.url, INGEST, { samples: [sample('alice', 'mail from bob@example.com')] });
      await settle(service);
      expect(await labelsOf(service.url)).toEqual(first);
    } finally {
      await service.stop();
    }

    // Rotated: new samples hash under the new secret; the old hash stays resolvable through the previous one.
    service = await startService({
      ...env,
      PRIVACY_HASH_SECRET: 'second-secret-9876543210',
      PRIVACY_HASH_PREVIOUS_SECRETS: SECRET,
    });
    try {
      await gql(service.url, INGEST, { samples: [sample('alice', 'mail from bob@example.com')] });
      await settle(service);
      const after = await labelsOf(service.url);
      expect(after).toHaveLength(2);
      const hashes = (
        await gql<{ labelHashes: { key: string; hash: string }[] }>(
          service.url,
          'query { labelHashes(value: "alice") { key hash } }',
        )
      ).data!.labelHashes;
      expect(hashes.map((h) => h.key)).toEqual(['current', 'previous-1']);
      expect(hashes[1]!.hash).toBe(first[0]!.user);
      expect(after.map((l) => l.user).sort()).toEqual(hashes.map((h) => h.hash).sort());
    } finally {
      await service.stop();
    }
  }, 120_000);
});
