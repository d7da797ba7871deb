import { expect } from 'chai';
import { checkSource, runNamePart } from '../../src/partner/index.ts';

describe('partner run names and file sources (pure logic)', () => {
  it('maps run ids to Quilt name parts injectively, keeping plain ones', () => {
    expect(runNamePart('RUN_2026-11')).to.equal('RUN_2026-11');
    const ids = ['run 1', 'run_1', 'run/1', 'run:1', 'ränn', 'x'.repeat(300), 'x'.repeat(301), 'a-h0123456789', 'a'];
    const names = ids.map(runNamePart);
    expect(new Set(names).size).to.equal(ids.length);
    for (const n of names) expect(n).to.match(/^[A-Za-z0-9_-]{1,200}$/);
    expect(runNamePart('run 1')).to.match(/^run_1-h[0-9a-f]{10}$/);
    // An id that looks mapped is mapped too, so it cannot meet the mapping of another id.
    expect(runNamePart('a-h0123456789')).to.not.equal('a-h0123456789');
  });

  const policy = {
    allowedUrlPatterns: ['^https://data\\.example\\.com/runs/.*$', 'http://127\\.0\\.0\\.1:\\d+/.*'],
    allowedS3Prefixes: ['s3://partner-bucket/runs/', 's3://whole-bucket'],
  };
  const refused = (url: string) => expect(() => checkSource('f.bin', url, policy)).to.throw(/^file "f\.bin" refused: /);

  it('accepts allowed http(s) URLs and s3 prefixes', () => {
    expect(checkSource('f', 'https://data.example.com/runs/1/f.bin?sig=x', policy)).to.deep.equal({
      kind: 'http',
      url: 'https://data.example.com/runs/1/f.bin?sig=x',
    });
    expect(checkSource('f', 's3://partner-bucket/runs/r1/f.bin', policy)).to.deep.equal({
      kind: 's3',
      bucket: 'partner-bucket',
      key: 'runs/r1/f.bin',
    });
    expect(checkSource('f', 's3://whole-bucket/any/f.bin', policy).kind).to.equal('s3');
  });

  it('refuses what the policy does not allow, metadata addresses and other schemes', () => {
    refused('https://data.example.com.evil.io/runs/f');
    refused('https://evil.io/?https://data.example.com/runs/f');
    refused('http://169.254.169.254/latest/meta-data/');
    refused('http://[fd00:ec2::254]/latest');
    refused('http://[fe80::1]/x');
    refused('http://[::ffff:169.254.169.254]/x');
    refused('file:///etc/passwd');
    refused('ftp://data.example.com/runs/f');
    refused('s3://partner-bucket/other/f');
    refused('s3://partner-bucket-2/runs/f');
    refused('https://user:pw@data.example.com/runs/f');
    refused('not a url');
  });
});
