import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Env, getBool, getInt, getString } from './env.ts';

/**
 * How every AWS client is built. Endpoints follow the SDK's own variables
 * (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), read from the env map handed in, so the same
 * code talks to AWS or to the local emulators and tests need not touch process.env.
 */
export interface AwsOptions {
  /** AWS region. Default `us-east-1`. */
  region: string;
  /** Path-style S3 URLs and checksums only when required (local emulators). Default false. */
  s3LocalCompat: boolean;
  /** Milliseconds a single AWS request may take before it is abandoned. */
  requestTimeoutMs: number;
  /** Milliseconds to open a connection. */
  connectTimeoutMs: number;
  /** Total tries per AWS call, including the first. */
  maxAttempts: number;
  /** Per-service endpoint overrides; unset means the SDK's default (real AWS). */
  endpoints: { sqs?: string; s3?: string; dynamodb?: string };
  /** Static credentials when the env map has them; otherwise the SDK's default chain (task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function awsOptionsFromEnv(env: Env, defaults: { requestTimeoutMs: number; maxAttempts: number }): AwsOptions {
  return {
    region: getString(env, 'AWS_REGION', env.AWS_DEFAULT_REGION ?? 'us-east-1'),
    s3LocalCompat: getBool(env, 'S3_LOCAL_COMPAT', false),
    requestTimeoutMs: getInt(env, 'AWS_REQUEST_TIMEOUT_MS', defaults.requestTimeoutMs, { min: 50 }),
    connectTimeoutMs: getInt(env, 'AWS_CONNECT_TIMEOUT_MS', Math.min(1000, defaults.requestTimeoutMs), { min: 50 }),
    maxAttempts: getInt(env, 'AWS_MAX_ATTEMPTS', defaults.maxAttempts, { min: 1, max: 10 }),
    endpoints: {
      sqs: env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || undefined,
      s3: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
      dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined,
    },
    credentials:
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          }
        : undefined,
  };
}

export interface AwsClients {
  sqs: SQSClient;
  s3: S3Client;
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  destroy(): void;
}

export function createAwsClients(o: AwsOptions): AwsClients {
  const common = {
    region: o.region,
    maxAttempts: o.maxAttempts,
    // Without throwOnRequestTimeout the SDK only warns when a request outlives requestTimeout.
    requestHandler: { requestTimeout: o.requestTimeoutMs, connectionTimeout: o.connectTimeoutMs, throwOnRequestTimeout: true },
    ...(o.credentials ? { credentials: o.credentials } : {}),
  };
  const sqs = new SQSClient({ ...common, ...(o.endpoints.sqs ? { endpoint: o.endpoints.sqs } : {}) });
  const s3 = new S3Client({
    ...common,
    ...(o.endpoints.s3 ? { endpoint: o.endpoints.s3 } : {}),
    ...(o.s3LocalCompat
      ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
      : {}),
  });
  const ddb = new DynamoDBClient({ ...common, ...(o.endpoints.dynamodb ? { endpoint: o.endpoints.dynamodb } : {}) });
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  return {
    sqs,
    s3,
    ddb,
    doc,
    destroy() {
      sqs.destroy();
      s3.destroy();
      ddb.destroy();
    },
  };
}
