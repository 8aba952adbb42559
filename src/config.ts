import { z } from 'zod';
import { ValueRule } from './domain/metrics/privacy.js';
import { SeriesMatcher } from './domain/pipeline/definition.js';
import { isValidKeyText } from './stores/encryption.js';

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be from 0 to 65535')
  .max(65535, 'must be from 0 to 65535');

/** A setting given as JSON text, checked by `schema`; every issue named by its path in the JSON. */
const jsonSetting = <S extends z.ZodType>(schema: S, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx): z.output<S> => {
      try {
        const parsed = schema.safeParse(JSON.parse(text));
        if (parsed.success) return parsed.data;
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not JSON: ${(error as Error).message}` });
      }
      return z.NEVER;
    });

const optionalUrl = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(p)), {
      message: `must start with ${protocols.join(' or ')}`,
    });

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be from ${min} to ${max}`)
    .max(max, `must be from ${min} to ${max}`);

const labelList = z
  .string()
  .default('')
  .transform((text) =>
    text
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  )
  .refine((labels) => labels.every((l) => /^[A-Za-z_][A-Za-z0-9_.]*$/.test(l)), {
    message: 'must be a comma-separated list of label names',
  });

/** Every setting, read from the environment. Documented in docs/settings.md. */
export const ConfigSchema = z.object({
  PORT: port.default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EVENTSTORE_URL: optionalUrl([
    'esdb://',
    'esdb+discover://',
    'kurrentdb://',
    'kurrentdb+discover://',
    'kdb://',
  ]),
  EVENTSTORE_SYNC: z.enum(['normal', 'full']).default('normal'),
  /** An actor's state is snapshotted after this many events since its last snapshot; 0: never (full folds). */
  ACTOR_SNAPSHOT_EVERY: int(0, 1_000_000).default(500),
  CLICKHOUSE_URL: optionalUrl(['http://', 'https://']),
  CLICKHOUSE_USER: z.string().optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be letters, digits and _, not starting with a digit')
    .default('all_use'),
  PROJECTION_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(5000),
  SAMPLES_RETENTION_DAYS: int(1, 36_500).default(30),
  ROLLUP_1M_RETENTION_DAYS: int(1, 36_500).default(180),
  ROLLUP_1H_RETENTION_DAYS: int(1, 36_500).default(730),
  /** Days findings (anomalies, trends, patterns, periodicity, quality findings, late samples) are kept; 0: forever. */
  FINDINGS_RETENTION_DAYS: int(0, 36_500).default(90),
  ALERTS_RETENTION_DAYS: int(0, 36_500).default(365),
  PREDICTIONS_RETENTION_DAYS: int(0, 36_500).default(90),
  FORECASTS_RETENTION_DAYS: int(0, 36_500).default(90),
  AUDIT_INDEX_RETENTION_DAYS: int(0, 36_500).default(730),
  /** How often records past their retention are expired (each run recorded as `recordsExpired`). */
  RETENTION_INTERVAL_MS: int(1000, 86_400_000).default(3_600_000),
  INGEST_MAX_PAST_SECONDS: int(1, 10 * 365 * 86_400).default(86_400),
  INGEST_MAX_FUTURE_SECONDS: int(0, 86_400).default(300),
  INGEST_MAX_SERIES_PER_METRIC: int(1, 10_000_000).default(10_000),
  INGEST_MAX_SERIES: int(1, 100_000_000).default(1_000_000),
  INGEST_SERIES_IDLE_HOURS: int(1, 87_600).default(24),
  AGENT_BATCH_MAX_SAMPLES: int(1, 1_000_000).default(50_000),
  AGENT_BATCH_MAX_DELAY_MS: int(1, 3_600_000).default(1000),
  AGENT_BUFFER_CAPACITY: int(1, 100_000_000).default(1_000_000),
  AGENT_SPOOL_MAX_BYTES: int(1, 2 ** 50).default(1024 ** 3),
  INGEST_ACK_TIMEOUT_MS: int(100, 600_000).default(10_000),
  OTLP_MAX_BODY_BYTES: int(1024, 1 << 30).default(8 * 1024 * 1024),
  OTLP_MAX_DECODED_BYTES: int(1024, 1 << 30).default(32 * 1024 * 1024),
  OTLP_MAX_CONCURRENT_REQUESTS: int(1, 10_000).default(16),
  INGEST_MAX_EVENT_LOOP_LAG_MS: int(5, 60_000).default(40),
  SELF_MONITOR_INTERVAL_MS: int(0, 3_600_000).default(10_000),
  SCRAPE_TARGETS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const targets: { name: string; url: string }[] = [];
      for (const part of text
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const match = /^([a-z][a-z0-9_]*)=(https?:\/\/\S+)$/.exec(part);
        if (!match) {
          ctx.addIssue({
            code: 'custom',
            message: `'${part}' must be name=http(s)://host:port/path (name: lower-case letters, digits, _)`,
          });
          return z.NEVER;
        }
        targets.push({ name: match[1]!, url: match[2]! });
      }
      return targets;
    }),
  SCRAPE_INTERVAL_MS: int(100, 3_600_000).default(15_000),
  SCRAPE_MAX_BODY_BYTES: int(1024, 1 << 30).default(10 * 1024 * 1024),
  PIPELINES_FILE: z.string().optional(),
  /** A pipeline's series silent this long (in sample time) has its detector state written out and freed. */
  PIPELINE_SERIES_IDLE_HOURS: int(1, 87_600).default(24),
  PIPELINE_CHECKPOINT_MIN_INTERVAL_MS: int(0, 3_600_000).default(5000),
  /** `on`: every incoming series (or those `DEFAULT_ANALYTICS_MATCH` matches) is analysed, with default alert rules. */
  DEFAULT_ANALYTICS: z.enum(['on', 'off']).default('on'),
  /** A series matcher as JSON, e.g. `{"name":"http_*","labels":{"env":"prod"}}`: narrows the default analytics. */
  DEFAULT_ANALYTICS_MATCH: jsonSetting(SeriesMatcher.strict(), '{"name":"*"}'),
  ALERT_RULES_FILE: z.string().optional(),
  COMPLEX_EVENT_RULES_FILE: z.string().optional(),
  ALERT_WEBHOOK_URL: optionalUrl(['http://', 'https://']),
  ALERT_TICK_MS: int(100, 3_600_000).default(5000),
  FORECAST_TICK_MS: int(100, 3_600_000).default(1000),
  FORECAST_SCORE_DELAY_MS: int(0, 86_400_000).default(300_000),
  COORDINATOR_TICK_MS: int(100, 3_600_000).default(10_000),
  COORDINATOR_MIN_ROWS: int(2, 1_000_000).default(20),
  COORDINATOR_DRIFT_PSI: z.coerce.number().positive().default(0.25),
  RECOMMENDATIONS_TICK_MS: int(100, 3_600_000).default(1_000),
  LEARNING_PIPELINES_TICK_MS: int(100, 3_600_000).default(1_000),
  LEARNING_PIPELINES_MAX_RUNNING: int(1, 64).default(1),
  PRIVACY_DROP_LABELS: labelList,
  PRIVACY_HASH_LABELS: labelList,
  /** The key of hashed label values (HMAC-SHA-256); required when any label or value is hashed. */
  PRIVACY_HASH_SECRET: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.length >= 16, { message: 'must be at least 16 characters' }),
  /** Secrets hashed under before the last rotation, comma-separated: still resolvable (`labelHashes`). */
  PRIVACY_HASH_PREVIOUS_SECRETS: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Patterns hashed or dropped in every label value, as JSON: `[{"pattern":"email","action":"hash"}]`. */
  PRIVACY_VALUE_RULES: jsonSetting(z.array(ValueRule), '[]'),
  /** Replaced by PRIVACY_HASH_SECRET (an unkeyed salt let values be guessed back). */
  PRIVACY_HASH_SALT: z.string().optional(),
  SAMPLES_STREAM_MAX_AGE_HOURS: int(0, 87_600).default(168),
  SCAVENGE_INTERVAL_MS: int(1000, 86_400_000).default(60_000),
  READINESS_STALL_MS: int(1000, 3_600_000).default(30_000),
  /** Worker threads for fitting and evaluating models; unset: the cores less one, at least one. */
  LEARNING_WORKERS: int(1, 256).optional(),
  LEARNING_QUEUE_MAX: int(0, 10_000).default(16),
  AUTH_BOOTSTRAP_ADMIN_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^[\x21-\x7e]{24,256}$/.test(v), {
      message: 'must be 24 to 256 printable characters without spaces',
    }),
  AUTH_ANONYMOUS_ROLE: z.enum(['none', 'viewer', 'operator', 'admin']).default('none'),
  AUTH_JWT_ISSUER: z.string().optional(),
  AUTH_JWT_AUDIENCE: z.string().optional(),
  AUTH_JWT_JWKS_URL: optionalUrl(['http://', 'https://']),
  AUTH_JWT_SECRET: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.length >= 32, { message: 'must be at least 32 characters' }),
  AUTH_JWT_ROLE_CLAIM: z.string().min(1).default('role'),
  AUTH_RATE_LIMIT_PER_SECOND: int(1, 1_000_000).default(1000),
  AUTH_RATE_LIMIT_BURST: int(1, 10_000_000).default(2000),
  AUTH_REFUSAL_INTERVAL_MS: int(100, 3_600_000).default(10_000),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .refine((origins) => origins.every((o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o)), {
      message: 'must be a comma-separated list of origins (scheme://host[:port]) or *',
    }),
  GRAPHQL_MAX_BODY_BYTES: int(1024, 1 << 30).default(1024 * 1024),
  GRAPHQL_INTROSPECTION: z.enum(['on', 'off']).default('on'),
  GRAPHIQL: z.enum(['on', 'off']).default('on'),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  /** Encryption at rest: 64 hex digits or a passphrase of at least 32 characters; unset: no encryption. */
  DATA_ENCRYPTION_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || isValidKeyText(v), {
      message: 'must be 64 hex digits or a passphrase of at least 32 characters (not only hex digits)',
    }),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG' as const;
  constructor(readonly problems: readonly string[]) {
    super(`invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the settings; throws a ConfigError naming every bad variable and why. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(ConfigSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const result = ConfigSchema.safeParse(relevant);
  if (result.success) {
    const problems = crossChecks(result.data);
    if (problems.length) throw new ConfigError(problems);
    return result.data;
  }
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      // Secrets are never echoed back.
      const got = SECRETS.has(key) ? undefined : env[key];
      return `${key}: ${issue.message}${got === undefined ? '' : ` (got '${got}')`}`;
    }),
  );
}

/** Settings whose values are never printed (in errors or logs). */
const SECRETS = new Set([
  'AUTH_BOOTSTRAP_ADMIN_KEY',
  'AUTH_JWT_SECRET',
  'CLICKHOUSE_PASSWORD',
  'DATA_ENCRYPTION_KEY',
  'PRIVACY_HASH_SECRET',
  'PRIVACY_HASH_PREVIOUS_SECRETS',
  'PRIVACY_HASH_SALT',
]);

/** Settings that are valid one by one but not together. */
function crossChecks(config: Config): string[] {
  const problems: string[] = [];
  if (config.AUTH_JWT_JWKS_URL && config.AUTH_JWT_SECRET)
    problems.push('AUTH_JWT_SECRET: set either AUTH_JWT_JWKS_URL or AUTH_JWT_SECRET, not both');
  const jwt = Boolean(config.AUTH_JWT_JWKS_URL || config.AUTH_JWT_SECRET);
  if (jwt && !config.AUTH_JWT_ISSUER) problems.push('AUTH_JWT_ISSUER: required when JWTs are accepted');
  if (jwt && !config.AUTH_JWT_AUDIENCE) problems.push('AUTH_JWT_AUDIENCE: required when JWTs are accepted');
  if (config.PRIVACY_HASH_SALT !== undefined)
    problems.push(
      'PRIVACY_HASH_SALT: no longer used — hashes are keyed now; set PRIVACY_HASH_SECRET (at least 16 characters) instead',
    );
  const hashing =
    config.PRIVACY_HASH_LABELS.length > 0 || config.PRIVACY_VALUE_RULES.some((r) => r.action === 'hash');
  if (hashing && !config.PRIVACY_HASH_SECRET)
    problems.push(
      'PRIVACY_HASH_SECRET: required when labels or values are hashed (PRIVACY_HASH_LABELS, PRIVACY_VALUE_RULES): without a secret a hash can be guessed back',
    );
  if (Boolean(config.TLS_CERT_FILE) !== Boolean(config.TLS_KEY_FILE))
    problems.push('TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE are set together or not at all');
  return problems;
}
