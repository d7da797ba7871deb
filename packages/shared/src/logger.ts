import winston from 'winston';

export type Logger = winston.Logger;

const SECRET_KEYS = /secret|password|token|authorization|signature|client_?secret/i;

/** Replaces values of secret-looking keys so no credential reaches a log line. */
const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key) && typeof info[key] === 'string') info[key] = '[redacted]';
  }
  return info;
});

/** JSON-lines logger; `service` is on every line, children add executionId, webhookId, step. */
export function createLogger(opts: { service: string; level?: string; silent?: boolean }): Logger {
  return winston.createLogger({
    level: opts.level === 'silent' ? 'error' : (opts.level ?? 'info'),
    silent: opts.silent ?? opts.level === 'silent',
    defaultMeta: { service: opts.service },
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}
