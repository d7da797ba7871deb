import type { Response } from 'express';

/** Values of `error.type` Benchling uses. */
export type BenchlingErrorType = 'invalid_request_error' | 'invalid_client' | 'invalid_request' | 'unsupported_grant_type' | 'server_error';

/** Benchling's error body: `{"error":{"type","message","userMessage","invalidId"?}}`. */
export function errorBody(type: BenchlingErrorType, message: string, extra: { userMessage?: string; invalidId?: string } = {}) {
  return {
    error: {
      type,
      message,
      userMessage: extra.userMessage ?? message,
      ...(extra.invalidId === undefined ? {} : { invalidId: extra.invalidId }),
    },
  };
}

export function sendError(
  res: Response,
  status: number,
  type: BenchlingErrorType,
  message: string,
  extra: { userMessage?: string; invalidId?: string } = {},
): void {
  res.status(status).json(errorBody(type, message, extra));
}

/** 400 for a request body that does not fit the endpoint's schema. */
export function sendBadRequest(res: Response, message: string, invalidId?: string): void {
  sendError(res, 400, 'invalid_request_error', message, invalidId === undefined ? {} : { invalidId });
}

export function sendNotFound(res: Response, what: string, id: string): void {
  sendError(res, 404, 'invalid_request_error', `${what} not found: ${id}`, {
    invalidId: id,
    userMessage: `Could not find ${what.toLowerCase()} ${id}.`,
  });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Names of keys in `body` outside `allowed`, for `additionalProperties: false` schemas. */
export function unknownKeys(body: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(body).filter((k) => !allowed.includes(k));
}
