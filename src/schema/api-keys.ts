import { resolveArrayConnection } from '@pothos/plugin-relay';
import type { ApiKeyInfo } from '../auth/api-keys.js';
import { ROLES } from '../domain/auth/roles.js';
import { builder } from './builder.js';
import { invalid, MUTATION_ERRORS } from './error-types.js';

const RoleEnum = builder.enumType('Role', {
  values: ROLES,
  description:
    'viewer: queries and subscriptions; operator: also ingest and configuration; admin: everything.',
});

const ApiKey = builder.objectRef<ApiKeyInfo>('ApiKey').implement({
  description: 'An API key as admins see it: never its secret (only its hash is stored).',
  fields: (t) => ({
    keyId: t.exposeString('keyId', { description: 'Recorded on what the key does as `apikey:<keyId>`.' }),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (k) => k.role }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.createdAt }),
    createdBy: t.exposeString('createdBy'),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.expiresAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revokedAt }),
    revokedBy: t.exposeString('revokedBy', { nullable: true }),
  }),
});

const CreatedApiKey = builder.objectRef<{ key: string; apiKey: ApiKeyInfo }>('CreatedApiKey').implement({
  fields: (t) => ({
    key: t.exposeString('key', {
      description: 'The key itself: shown only in this answer. Send it as `Authorization: Bearer <key>`.',
    }),
    apiKey: t.field({ type: ApiKey, resolve: (c) => c.apiKey }),
  }),
});

builder.queryFields((t) => ({
  apiKeys: t.connection({
    type: ApiKey,
    authScopes: { admin: true },
    description: 'Every API key, oldest first, revoked ones included.',
    resolve: (_root, args, ctx) => resolveArrayConnection({ args }, ctx.apiKeys.list()),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKey,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description: 'Creates an API key with a role; its secret is in this answer only.',
    args: {
      name: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum, required: true }),
      expiresAt: t.arg({ type: 'DateTime', description: 'Default: never.' }),
    },
    resolve: async (_root, args, ctx) => {
      const name = args.name.trim();
      if (name.length === 0 || name.length > 100) throw invalid('name', 'must be 1 to 100 characters');
      if (args.expiresAt != null && args.expiresAt <= Date.now())
        throw invalid('expiresAt', 'must be in the future');
      const { key, info } = await ctx.apiKeys.create(
        { name, role: args.role, expiresAt: args.expiresAt ?? null },
        ctx.caller.id,
      );
      return { key, apiKey: info };
    },
  }),
  revokeApiKey: t.field({
    type: ApiKey,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description: 'Revokes a key at once: requests with it are refused as unauthenticated.',
    args: { keyId: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.apiKeys.revoke(args.keyId, ctx.caller.id),
  }),
}));
