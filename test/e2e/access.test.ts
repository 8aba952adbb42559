import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema/index.js';
import { bearer, TEST_ADMIN_KEY } from '../support/auth.js';
import { tempDir } from '../support/fixtures.js';
import { collect, createKey, gql, wsClient } from '../support/graphql.js';
import { minimalOperation } from '../support/operations.js';
import { type Service, startService } from '../support/service.js';

const JWT_SECRET = 'a-shared-secret-of-at-least-32-characters!';
const ISSUER = 'https://id.example.test';
const AUDIENCE = 'all-use-learning';

/** The mutations only an admin may call; every other mutation needs an operator. */
const ADMIN_MUTATIONS = new Set([
  'createApiKey',
  'revokeApiKey',
  'rebuildProjection',
  'evaluateModel',
  'registerModel',
  'trainModel',
  'retrainModel',
  'promoteModel',
  'rollbackModel',
  'retireModel',
  'watchModel',
  'unwatchModel',
  'attachModel',
  'detachModel',
  'defineLearningPipeline',
  'defineBuiltInLearningPipeline',
  'runLearningPipeline',
  'pauseLearningPipeline',
  'resumeLearningPipeline',
  'cancelLearningPipelineRun',
  'removeLearningPipeline',
  'deleteSeries',
]);
const CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

async function token(claims: Record<string, unknown>, expiresIn: string | number): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(String(claims.sub ?? 'someone'))
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

interface Caller {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly level: number;
  readonly principal: string;
}

describe('access control: who may do what, and every refusal recorded', () => {
  let service: Service & { url: string };
  let callers: Caller[];

  beforeAll(async () => {
    service = await startService({
      AUTH_JWT_SECRET: JWT_SECRET,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
    const viewer = await createKey(service.url, 'viewer', 'viewer');
    const operator = await createKey(service.url, 'operator', 'operator');
    const admin = await createKey(service.url, 'admin', 'admin');
    const expired = await token({ sub: 'late', role: 'admin' }, Math.floor(Date.now() / 1000) - 60);
    callers = [
      { name: 'no key', headers: {}, level: -1, principal: 'anonymous' },
      { name: 'expired JWT', headers: bearer(expired), level: -1, principal: 'anonymous' },
      { name: 'viewer', headers: bearer(viewer.key), level: 0, principal: viewer.principal },
      { name: 'operator', headers: bearer(operator.key), level: 1, principal: operator.principal },
      { name: 'admin', headers: bearer(admin.key), level: 2, principal: admin.principal },
    ];
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('lets each role call exactly the mutations and queries its role allows, and records each refusal', async () => {
    const schema = buildSchema();
    const mutations = Object.values(schema.getMutationType()!.getFields());
    expect(mutations.length).toBeGreaterThan(5);
    const refusedAs: { principal: string; operation: string }[] = [];
    for (const field of mutations) {
      const needed = ADMIN_MUTATIONS.has(field.name) ? 2 : 1;
      const { query, variables } = minimalOperation(schema, 'mutation', field.name);
      for (const caller of callers) {
        const answer = await gql(service.url, query, variables, caller.headers);
        // Refused as a request error (unauthenticated), or as the mutation's typed ForbiddenError.
        const typed = (answer.data?.[field.name] as { __typename?: string } | undefined)?.__typename;
        const refusal =
          answer.errors?.find((e) => CODES.has(String(e.extensions?.code))) ??
          (typed === 'ForbiddenError' ? typed : undefined);
        const allowed = caller.level >= needed;
        expect({ mutation: field.name, caller: caller.name, refused: Boolean(refusal) }).toEqual({
          mutation: field.name,
          caller: caller.name,
          refused: !allowed,
        });
        if (refusal && caller.level >= 0)
          refusedAs.push({ principal: caller.principal, operation: `Mutation.${field.name}` });
      }
    }
    const queries: [string, number][] = [
      ['query { alerts { edges { node { key } } } }', 0],
      ['query { silences { edges { node { id } } } }', 0],
      ['query { apiKeys { edges { node { keyId role } } } }', 2],
    ];
    for (const [query, needed] of queries)
      for (const caller of callers) {
        const answer = await gql(service.url, query, {}, caller.headers);
        const refused = Boolean(answer.errors?.some((e) => CODES.has(String(e.extensions?.code))));
        expect({ query, caller: caller.name, refused }).toEqual({
          query,
          caller: caller.name,
          refused: caller.level < needed,
        });
      }

    // The audit history has every refusal: an authenticated caller's one by one, the rest aggregated
    // per source. Read through the API, as an auditor would.
    await service.access.refusals.flush();
    const history = await gql<{
      auditEvents: { edges: { node: { type: string; data: unknown } }[] };
    }>(
      service.url,
      `{ auditEvents(filter: { streamId: "access-refusals" }, first: 100) { edges { node { type data } } } }`,
    );
    expect(history.errors).toBeUndefined();
    const facts = history.data!.auditEvents.edges.map(
      (e) => e.node.data as { principal: string; code: string; operations: string[]; count: number },
    );
    expect(history.data!.auditEvents.edges.every((e) => e.node.type === 'accessRefused')).toBe(true);
    for (const { principal, operation } of refusedAs)
      expect(facts.some((f) => f.principal === principal && f.operations.includes(operation))).toBe(true);
    const anonymous = facts.filter((f) => f.principal === 'anonymous');
    expect(anonymous.reduce((n, f) => n + f.count, 0)).toBeGreaterThanOrEqual(2 * (mutations.length + 3));
    expect(anonymous.length).toBeLessThanOrEqual(2); // one per code (UNAUTHENTICATED only) and source
  });

  it('refuses subscriptions to a caller without a role before they start, and serves a viewer', async () => {
    const viewer = callers.find((c) => c.name === 'viewer')!;
    // No credentials, or wrong ones: the connection is closed (4403) before any operation runs.
    const anonymous = wsClient(service.url, {}, {});
    const refused = collect(anonymous, 'subscription { alertChanged { key } }');
    await refused.until(() => refused.errors.length > 0);
    expect((refused.errors[0] as { code?: number }).code).toBe(4403);
    await anonymous.dispose();

    const good = wsClient(service.url, {}, { authorization: viewer.headers.authorization });
    const served = collect<{ id: string }>(good, 'subscription { alertChanged { key } }');
    await new Promise((r) => setTimeout(r, 300));
    expect(served.errors).toEqual([]);
    served.dispose();
    await good.dispose();

    // Wrong credentials close the connection before any operation.
    const wrong = wsClient(service.url, {}, { authorization: 'Bearer aul_000000000000_wrong' });
    const never = collect(wrong, 'subscription { alertChanged { key } }');
    await never.until(() => never.errors.length > 0);
    expect((never.errors[0] as { code?: number }).code).toBe(4403);
    await wrong.dispose();
  });

  it('accepts valid JWTs with the role they carry, and names the user on what they do', async () => {
    const jwt = await token({ sub: 'ann@example.com', role: ['viewer', 'admin'] }, '5m');
    const created = await gql<{ createApiKey: { apiKey: { createdBy: string } } }>(
      service.url,
      'mutation { createApiKey(name: "from-jwt", role: viewer) { ... on CreatedApiKey { apiKey { createdBy } } ... on Error { code message } } }',
      {},
      bearer(jwt),
    );
    expect(created.data?.createApiKey.apiKey.createdBy).toBe('user:ann@example.com');
    const asViewer = await token({ sub: 'bob', role: 'viewer' }, '5m');
    const refused = await gql(
      service.url,
      'mutation { createApiKey(name: "x", role: viewer) { ... on CreatedApiKey { key } ... on Error { code message } } }',
      {},
      bearer(asViewer),
    );
    // A mutation answers a refusal as its typed ForbiddenError.
    expect(refused.data).toMatchObject({ createApiKey: { code: 'FORBIDDEN' } });
    const wrongAudience = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience('someone-else')
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(wrongAudience) },
      body: JSON.stringify({ query: '{ alerts { edges { node { key } } } }' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('needs an operator for OTLP ingest', async () => {
    const viewer = callers.find((c) => c.name === 'viewer')!;
    const post = (headers: Record<string, string>) =>
      fetch(`${service.url}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ resourceMetrics: [] }),
      });
    expect((await post({})).status).toBe(401);
    expect((await post(viewer.headers)).status).toBe(403);
    expect((await post(bearer())).status).toBe(200);
  });

  it('revokes a key at once', async () => {
    const key = await createKey(service.url, 'short-lived', 'viewer');
    const viewerQuery = `{ alertTransitions(from: "2026-01-01", to: "2026-01-02") { edges { node { key } } } }`;
    expect((await gql(service.url, viewerQuery, {}, bearer(key.key))).errors).toBeUndefined();
    const revoked = await gql(
      service.url,
      'mutation ($id: String!) { revokeApiKey(keyId: $id) { ... on ApiKey { revokedBy } ... on Error { code message } } }',
      { id: key.keyId },
    );
    expect(revoked.data).toEqual({ revokeApiKey: { revokedBy: 'apikey:bootstrap' } });
    const after = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(key.key) },
      body: JSON.stringify({ query: viewerQuery }),
    });
    expect(after.status).toBe(401);
  });
});

describe('protection at the edge', () => {
  let service: Service & { url: string };

  beforeAll(async () => {
    service = await startService({
      AUTH_RATE_LIMIT_PER_SECOND: '5',
      AUTH_RATE_LIMIT_BURST: '5',
      CORS_ORIGINS: 'https://app.example.test',
      GRAPHQL_MAX_BODY_BYTES: '65536',
      GRAPHQL_INTROSPECTION: 'off',
      GRAPHIQL: 'off',
    });
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('answers 429 with Retry-After past the rate limit, and records the hits aggregated', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer() },
        body: JSON.stringify({ query: '{ alerts { edges { node { key } } } }' }),
      });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
      await response.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(6);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(14);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    await service.access.refusals.flush();
    const facts: { code: string; count: number; principal: string }[] = [];
    for await (const event of service.events.readStream('access-refusals'))
      facts.push(event.data as (typeof facts)[number]);
    const limited = facts.filter((f) => f.code === 'RATE_LIMITED');
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ principal: 'apikey:bootstrap' });
    expect(limited[0]!.count).toBeGreaterThanOrEqual(14);
    await new Promise((r) => setTimeout(r, 1500));
  });

  it('allows only the configured origins, limits the body, and can turn introspection and GraphiQL off', async () => {
    const preflight = (origin: string) =>
      fetch(`${service.url}/graphql`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://app.example.test');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    const evil = await preflight('https://evil.example.test');
    // Never reflected, never a wildcard: the browser refuses the evil origin's request.
    expect(evil.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.test');
    expect(evil.headers.get('access-control-allow-origin')).not.toBe('*');

    const big = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer() },
      body: JSON.stringify({ query: `{ alerts { edges { node { key } } } } # ${'x'.repeat(100_000)}` }),
    });
    expect(big.status).toBe(413);

    await new Promise((r) => setTimeout(r, 1200)); // the rate limit refills
    const introspection = await gql(
      service.url,
      '{ __schema { types { name } } }',
      {},
      bearer(TEST_ADMIN_KEY),
    );
    expect(JSON.stringify(introspection.errors)).toContain('introspection');
    const page = await fetch(`${service.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
  });
});

describe('first start', () => {
  it('creates an admin key once, prints it, stores only its hash, and accepts it after a restart', async () => {
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    const dataDir = tempDir('first-start-');
    let first: Service & { url: string };
    try {
      first = await startService({ AUTH_BOOTSTRAP_ADMIN_KEY: '', DATA_DIR: dataDir });
    } finally {
      process.stdout.write = write;
    }
    const key = /(aul_[a-f0-9]{12}_[A-Za-z0-9_-]{43})/.exec(printed.join(''))?.[1];
    expect(key).toBeDefined();
    expect((await gql(first.url, '{ apiKeys { edges { node { role } } } }', {}, bearer(key))).data).toEqual({
      apiKeys: { edges: [{ node: { role: 'admin' } }] },
    });
    for await (const event of first.events.readStream('apikeys-main'))
      expect(JSON.stringify([event.data, event.metadata])).not.toContain(key!.slice(20));
    await first.stop();

    // Restarted: no new key, and the printed one still works.
    const again = await startService({ AUTH_BOOTSTRAP_ADMIN_KEY: '', DATA_DIR: dataDir });
    try {
      const keys = await gql(again.url, '{ apiKeys { edges { node { role } } } }', {}, bearer(key));
      expect(keys.data).toEqual({ apiKeys: { edges: [{ node: { role: 'admin' } }] } });
    } finally {
      await again.stop();
    }
  });
});

describe('JWTs signed with keys from a JWKS URL', () => {
  it('accepts a token signed by a published key, and refuses one signed by another', async () => {
    const { exportJWK, generateKeyPair } = await import('jose');
    const { createServer } = await import('node:http');
    const published = await generateKeyPair('RS256');
    const stranger = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(published.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const address = jwks.address() as { port: number };
    const service = await startService({
      AUTH_JWT_JWKS_URL: `http://127.0.0.1:${address.port}/jwks.json`,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
    try {
      const sign = (key: CryptoKey) =>
        new SignJWT({ role: 'viewer' })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('svc-dashboards')
          .setExpirationTime('5m')
          .sign(key);
      const query = '{ alertTransitions(from: "2026-01-01", to: "2026-01-02") { edges { node { key } } } }';
      const good = await gql(service.url, query, {}, bearer(await sign(published.privateKey)));
      expect(good).toEqual({ data: { alertTransitions: { edges: [] } } });
      const forged = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(await sign(stranger.privateKey)) },
        body: JSON.stringify({ query }),
      });
      expect(forged.status).toBe(401);
    } finally {
      await service.stop();
      jwks.close();
    }
  });
});
