import { z } from 'zod';

// One described table of settings: validation, defaults and the README's configuration table all
// come from here. A bad value stops the process with one line naming the variable.

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalUrl = z.url({ protocol: /^https?$/ }).optional();
const onOff = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v))
  .optional();

export const configSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_BASE_URL: optionalUrl,
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional(),
  NMC_DEMO: onOff,
  NMC_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  NMC_DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: port.default(54329),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  TWILIO_API_BASE_URL: optionalUrl,
  STRIPE_SECRET_KEY: z.string().startsWith('sk_').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
  STRIPE_API_BASE_URL: optionalUrl,
  GOOGLE_API_BASE_URL: optionalUrl,
  LLM_BASE_URL: optionalUrl,
  LLM_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().optional(),
  AUTH_JWKS_URL: optionalUrl,
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  AUTH_ORG_CLAIM: z.string().min(1).default('org_id'),
  AUTH_ROLE_CLAIM: z.string().min(1).default('org_role'),
  HOLD_TTL_MINUTES: positiveInt.max(24 * 60).default(15),
  OUTBOX_BATCH_SIZE: positiveInt.max(10_000).default(100),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
});

type RawConfig = z.output<typeof configSchema>;

export type Config = Omit<RawConfig, 'PUBLIC_BASE_URL' | 'NMC_DEMO'> & {
  PUBLIC_BASE_URL: string;
  NMC_DEMO: boolean;
  /** True when no DATABASE_URL is set and the process runs its own embedded Postgres. */
  embeddedPostgres: boolean;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the environment; throws ConfigError whose message is one line naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset": `FOO= npm start` should not fail validation of FOO.
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in configSchema.shape && value !== ''),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`invalid configuration: ${name}: ${issue?.message ?? 'invalid value'}`);
  }
  const raw = parsed.data;
  const embeddedPostgres = raw.DATABASE_URL === undefined;
  const authSet = [raw.AUTH_JWKS_URL, raw.AUTH_ISSUER, raw.AUTH_AUDIENCE].filter(
    (v) => v !== undefined,
  ).length;
  if (authSet !== 0 && authSet !== 3) {
    throw new ConfigError(
      'invalid configuration: AUTH_JWKS_URL: set AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE together, or none (dev issuer)',
    );
  }
  if ((raw.TWILIO_ACCOUNT_SID === undefined) !== (raw.TWILIO_AUTH_TOKEN === undefined)) {
    throw new ConfigError(
      'invalid configuration: TWILIO_AUTH_TOKEN: set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither',
    );
  }
  return {
    ...raw,
    PUBLIC_BASE_URL: (raw.PUBLIC_BASE_URL ?? `http://${raw.HOST}:${raw.PORT}`).replace(/\/$/, ''),
    NMC_DEMO: raw.NMC_DEMO ?? embeddedPostgres,
    embeddedPostgres,
  };
}
