import { type Env, getInt, getOptionalString } from '@bp/shared';
import { AlbOidcVerifier } from './alb-oidc.ts';
import { type OpsToken, parseOpsTokens } from './bearer-tokens.ts';

/** Ops API settings, read by the ingress main.ts and handed to `createOpsRouter`. */
export interface OpsApiConfig {
  /** OPS_TOKENS: `name=secret` or bare secrets, comma-separated. Default none. */
  tokens: OpsToken[];
  /**
   * ALB OIDC verification, on when OPS_OIDC_SIGNER_ARN names the load balancer (without the
   * signer check, a token from any ALB in the region would pass). OPS_OIDC_KEY_URL overrides
   * the key URL (tests), OPS_OIDC_ISSUER pins the IdP.
   */
  oidc: AlbOidcVerifier | undefined;
  /** OPS_RATE_LIMIT_PER_MINUTE: refused (401) requests per client IP per minute. Default 120. */
  rateLimitPerMinute: number;
  /** OPS_READS_PER_MINUTE: GET calls per caller per minute. Default 300. */
  readsPerMinute: number;
  /** OPS_MUTATIONS_PER_MINUTE: mutating calls (e.g. DLQ replay) per caller per minute. Default 10. */
  mutationsPerMinute: number;
  /** OPS_REPLAY_MAX_MESSAGES: most messages one POST /ops/dlq/replay moves. Default 100. */
  replayMaxMessages: number;
}

export function opsApiConfigFromEnv(env: Env): OpsApiConfig {
  const signer = getOptionalString(env, 'OPS_OIDC_SIGNER_ARN');
  const keyUrl = getOptionalString(env, 'OPS_OIDC_KEY_URL');
  const issuer = getOptionalString(env, 'OPS_OIDC_ISSUER');
  return {
    tokens: parseOpsTokens(env.OPS_TOKENS),
    oidc: signer
      ? new AlbOidcVerifier({
          expectedSigner: signer,
          region: env.AWS_REGION || 'us-east-1',
          ...(keyUrl ? { keyUrl } : {}),
          ...(issuer ? { issuer } : {}),
        })
      : undefined,
    rateLimitPerMinute: getInt(env, 'OPS_RATE_LIMIT_PER_MINUTE', 120, { min: 1, max: 100_000 }),
    readsPerMinute: getInt(env, 'OPS_READS_PER_MINUTE', 300, { min: 1, max: 100_000 }),
    mutationsPerMinute: getInt(env, 'OPS_MUTATIONS_PER_MINUTE', 10, { min: 1, max: 100_000 }),
    replayMaxMessages: getInt(env, 'OPS_REPLAY_MAX_MESSAGES', 100, { min: 1, max: 10_000 }),
  };
}
