import { expect } from 'chai';
import { ConfigError } from '@bp/shared';
import { createWarehousePool, warehouseConfigFromEnv } from '../src/index.ts';
import { quietLogger, useLocalWarehouse } from './support.ts';

describe('warehouse configuration and pool', function () {
  this.timeout(60_000);

  it('is off without WAREHOUSE_URL or WAREHOUSE_HOST', () => {
    expect(warehouseConfigFromEnv({})).to.equal(undefined);
  });

  it('requires TLS for any host but loopback, and refuses to turn it off there', () => {
    const remote = warehouseConfigFromEnv({
      WAREHOUSE_HOST: 'postgres-warehouse.acme.benchling.com',
      WAREHOUSE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:w',
    })!;
    expect(remote).to.deep.include({
      host: 'postgres-warehouse.acme.benchling.com',
      port: 5432,
      database: 'warehouse',
      ssl: 'require',
      statementTimeoutMs: 30_000,
      fallbackMaxAgeMs: 300_000,
    });
    expect(() => warehouseConfigFromEnv({ WAREHOUSE_URL: 'postgres://u:p@db.example.com/warehouse', WAREHOUSE_SSL: 'disable' })).to.throw(
      ConfigError,
      /only allowed for a loopback host/,
    );
    expect(warehouseConfigFromEnv({ WAREHOUSE_URL: 'postgres://u:p@127.0.0.1:5999/wh' })).to.deep.include({
      host: '127.0.0.1',
      port: 5999,
      database: 'wh',
      user: 'u',
      password: 'p',
      ssl: 'disable',
    });
    expect(() => warehouseConfigFromEnv({ WAREHOUSE_HOST: 'db.example.com' })).to.throw(ConfigError, /needs credentials/);
    expect(() => warehouseConfigFromEnv({ WAREHOUSE_URL: 'postgres://u:p@127.0.0.1/wh', WAREHOUSE_SCHEMA: 'x; DROP' })).to.throw(
      ConfigError,
      /WAREHOUSE_SCHEMA/,
    );
  });

  it('sizes the pool like the spec: 5 kept, 15 at most, 30 s to acquire, recycled after 30 min, with a statement timeout', async () => {
    const pool = createWarehousePool({
      config: warehouseConfigFromEnv({ WAREHOUSE_URL: 'postgres://u:p@127.0.0.1:1/wh', WAREHOUSE_SCHEMA: 'reg' })!,
      credentials: { user: 'u', password: 'p' },
      logger: quietLogger,
    });
    try {
      expect(pool.options).to.deep.include({
        min: 5,
        max: 15,
        connectionTimeoutMillis: 30_000,
        maxLifetimeSeconds: 1800,
        statement_timeout: 30_000,
        options: '-c search_path=reg',
        ssl: false,
      });
    } finally {
      await pool.end();
    }
  });

  describe('against the local server (no TLS)', () => {
    const suite = useLocalWarehouse();
    it('a client told to require TLS will not talk to a server without it', async () => {
      const url = new URL(suite.w.env.WAREHOUSE_URL);
      const cfg = warehouseConfigFromEnv({ ...suite.w.env, WAREHOUSE_SSL: 'require' })!;
      expect(cfg.ssl).to.equal('require');
      const pool = createWarehousePool({
        config: cfg,
        credentials: { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) },
        logger: quietLogger,
        sizing: { min: 0 },
      });
      try {
        const err = await pool.query('SELECT 1').then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).to.match(/does not support SSL/);
      } finally {
        await pool.end();
      }
      const plain = createWarehousePool({
        config: warehouseConfigFromEnv(suite.w.env)!,
        credentials: { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) },
        logger: quietLogger,
        sizing: { min: 0 },
      });
      try {
        expect((await plain.query('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
      } finally {
        await plain.end();
      }
    });
  });
});
