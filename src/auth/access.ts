import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventStore } from '../stores/event-store/port.js';
import { ApiKeys } from './api-keys.js';
import { createAuthenticator } from './authenticator.js';
import { AccessGate } from './gate.js';
import { jwtVerifier } from './jwt.js';
import { RateLimiter } from './rate-limit.js';
import { RefusalRecorder } from './refusals.js';

export interface Access {
  readonly keys: ApiKeys;
  readonly gate: AccessGate;
  readonly refusals: RefusalRecorder;
  /**
   * Reads the keys; on a first start with no admin key, no bootstrap key and anonymous access off,
   * creates an admin key and prints it once (only its hash is stored), so `npm start` stays one
   * command. Returns that key, if one was made.
   */
  start(): Promise<string | null>;
  stop(): Promise<void>;
}

/** Authentication, authorization's door, rate limits and refusals, as the settings say. */
export function createAccess(config: Config, events: EventStore, logger: Logger): Access {
  const keys = new ApiKeys(events);
  const jwtKey = config.AUTH_JWT_JWKS_URL
    ? { jwksUrl: config.AUTH_JWT_JWKS_URL }
    : config.AUTH_JWT_SECRET
      ? { secret: config.AUTH_JWT_SECRET }
      : null;
  const authenticate = createAuthenticator({
    keys,
    bootstrapKey: config.AUTH_BOOTSTRAP_ADMIN_KEY,
    anonymousRole: config.AUTH_ANONYMOUS_ROLE === 'none' ? null : config.AUTH_ANONYMOUS_ROLE,
    verifyJwt: jwtKey
      ? jwtVerifier({
          issuer: config.AUTH_JWT_ISSUER ?? '',
          audience: config.AUTH_JWT_AUDIENCE ?? '',
          key: jwtKey,
          roleClaim: config.AUTH_JWT_ROLE_CLAIM,
        })
      : null,
  });
  const refusals = new RefusalRecorder(events, logger, config.AUTH_REFUSAL_INTERVAL_MS);
  const gate = new AccessGate(
    authenticate,
    new RateLimiter(config.AUTH_RATE_LIMIT_PER_SECOND, config.AUTH_RATE_LIMIT_BURST),
    refusals,
  );
  return {
    keys,
    gate,
    refusals,
    async start() {
      await keys.refresh();
      refusals.start();
      if (config.AUTH_ANONYMOUS_ROLE !== 'none')
        logger.warn(
          { role: config.AUTH_ANONYMOUS_ROLE },
          'anonymous access is on (AUTH_ANONYMOUS_ROLE): anyone who reaches the port has this role',
        );
      if (config.AUTH_BOOTSTRAP_ADMIN_KEY || config.AUTH_ANONYMOUS_ROLE !== 'none' || keys.hasActiveAdmin())
        return null;
      const { key, info } = await keys.create(
        { name: 'first-start admin', role: 'admin', expiresAt: null },
        'system:service',
      );
      // Printed once to the terminal, never to the log: only its hash is kept.
      process.stdout.write(
        `\nALL-USE Learning created an admin API key (${info.keyId}). It is shown only this once; only its hash is stored:\n\n    ${key}\n\nSend it as "Authorization: Bearer <key>". Create other keys with the createApiKey mutation.\n\n`,
      );
      logger.info({ keyId: info.keyId }, 'created the first admin API key (printed to the terminal once)');
      return key;
    },
    async stop() {
      await refusals.stop();
    },
  };
}
