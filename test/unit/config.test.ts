import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigSchema, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has working defaults for a fresh machine', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 4000,
      DATA_DIR: './data',
      CLICKHOUSE_DATABASE: 'all_use',
      EVENTSTORE_URL: undefined,
      CLICKHOUSE_URL: undefined,
      EVENTSTORE_SYNC: 'normal',
    });
  });

  it('reads real engines from their URLs', () => {
    const config = loadConfig({
      PORT: '8080',
      EVENTSTORE_URL: 'esdb://localhost:2113?tls=false',
      CLICKHOUSE_URL: 'http://localhost:8123',
    });
    expect(config).toMatchObject({ PORT: 8080, CLICKHOUSE_URL: 'http://localhost:8123' });
  });

  it('never echoes a secret back, and refuses settings that do not go together', () => {
    let error: unknown;
    try {
      loadConfig({ AUTH_BOOTSTRAP_ADMIN_KEY: 'short secret', AUTH_JWT_SECRET: 'also-secret' });
    } catch (e) {
      error = e;
    }
    const message = (error as ConfigError).message;
    expect(message).toContain('AUTH_BOOTSTRAP_ADMIN_KEY: must be 24 to 256 printable characters');
    expect(message).toContain('AUTH_JWT_SECRET: must be at least 32 characters');
    expect(message).not.toContain('short secret');
    expect(message).not.toContain('also-secret');
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) })).toThrow(
      'AUTH_JWT_ISSUER: required when JWTs are accepted',
    );
    expect(() => loadConfig({ TLS_CERT_FILE: 'cert.pem' })).toThrow('TLS_CERT_FILE and TLS_KEY_FILE');
  });

  it('names every bad setting with the reason and the value it got', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'abc',
        CLICKHOUSE_URL: 'localhost:8123',
        LOG_LEVEL: 'loud',
        CLICKHOUSE_DATABASE: '1db',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT: must be a number \(got 'abc'\)/m);
    expect(problems).toMatch(
      /^CLICKHOUSE_URL: must start with http:\/\/ or https:\/\/ \(got 'localhost:8123'\)/m,
    );
    expect(problems).toMatch(/^LOG_LEVEL: .*\(got 'loud'\)/m);
    expect(problems).toMatch(/^CLICKHOUSE_DATABASE: must be letters/m);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: must be from 0 to 65535/);
  });
});

describe('the settings page', () => {
  it('analyses every series by default; a matcher narrows it, a bad one is named', () => {
    expect(loadConfig({})).toMatchObject({ DEFAULT_ANALYTICS: 'on', DEFAULT_ANALYTICS_MATCH: { name: '*' } });
    expect(
      loadConfig({ DEFAULT_ANALYTICS_MATCH: '{"name":"http_*","labels":{"env":"prod"}}' })
        .DEFAULT_ANALYTICS_MATCH,
    ).toEqual({ name: 'http_*', labels: { env: 'prod' } });
    expect(() => loadConfig({ DEFAULT_ANALYTICS_MATCH: '{name:' })).toThrow(
      /DEFAULT_ANALYTICS_MATCH.*not JSON/,
    );
    expect(() => loadConfig({ DEFAULT_ANALYTICS_MATCH: '{"nmae":"x"}' })).toThrow(/DEFAULT_ANALYTICS_MATCH/);
    expect(() => loadConfig({ DEFAULT_ANALYTICS: 'maybe' })).toThrow(/DEFAULT_ANALYTICS/);
  });

  it('documents every setting', () => {
    const readme = readFileSync(new URL('../../docs/settings.md', import.meta.url), 'utf8');
    const missing = Object.keys(ConfigSchema.shape).filter((key) => !readme.includes(`| \`${key}\` |`));
    expect(missing).toEqual([]);
  });
});
