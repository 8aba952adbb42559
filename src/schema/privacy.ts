import { keyedHash } from '../domain/metrics/privacy.js';
import { builder } from './builder.js';

/**
 * Resolving hashed label values: who knows a value (an e-mail address, a user id) can find the series
 * it was hashed into — under the current secret and, through a rotation, under the previous ones — and
 * nobody can go the other way without the secrets. Admin only: a hash is a lookup key for a person.
 */
const LabelHash = builder.objectRef<{ key: string; hash: string }>('LabelHash').implement({
  description: 'The keyed hash of a value under one of the secrets.',
  fields: (t) => ({
    key: t.exposeString('key', {
      description: '`current`, or `previous-1`, `previous-2`, … (newest first).',
    }),
    hash: t.exposeString('hash', { description: 'What the value is stored as under that secret.' }),
  }),
});

builder.queryFields((t) => ({
  labelHashes: t.field({
    type: [LabelHash],
    authScopes: { admin: true },
    description:
      'The hashes a label value is stored as (PRIVACY_HASH_LABELS, PRIVACY_VALUE_RULES) under the current secret and the previous ones still configured (PRIVACY_HASH_PREVIOUS_SECRETS): select series by them. Empty when no secret is set.',
    args: { value: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => {
      const { current, previous } = ctx.privacyKeys;
      return [
        ...(current ? [{ key: 'current', hash: keyedHash(current, args.value) }] : []),
        ...previous.map((secret, i) => ({ key: `previous-${i + 1}`, hash: keyedHash(secret, args.value) })),
      ];
    },
  }),
}));
