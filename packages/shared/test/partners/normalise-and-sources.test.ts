import { expect } from 'chai';
import { eventTypeOf, normalise, PartnerPayloadError, UnsupportedPartnerEventError } from '../../src/partners/normalise.ts';
import { checkEventSources, jsonDepth, safeFilePath, sourceUrlProblem } from '../../src/partners/source-safety.ts';

// Pure logic: payload mapping and the cheap source checks the ingress applies.
const policy = { allowedUrlPatterns: ['^https://data\\.lab\\.example/.*$'], allowedS3Prefixes: ['s3://runs-bucket/partners/'] };

describe('partner payloads: ICA mapping, paths and source URLs', () => {
  it('maps ICA event codes onto our events and names unmapped ones', () => {
    const env = (eventCode: string, analysisStatus = 'SUCCEEDED') => ({
      eventCode,
      eventParameters: { analysisStatus },
      payload: { id: 'a1' },
      correlationId: 'c',
      timestamp: 't',
    });
    expect(eventTypeOf(env('ICA_EXEC_002'), 'ica')).to.equal('analysis.complete');
    expect(eventTypeOf(env('ICA_EXEC_001'), 'ica')).to.equal('error.notification');
    expect(eventTypeOf(env('ICA_EXEC_027'), 'ica')).to.equal('error.notification');
    expect(eventTypeOf(env('ICA_EXEC_028', 'SUCCEEDED'), 'ica')).to.equal('analysis.complete');
    expect(eventTypeOf(env('ICA_EXEC_028', 'FAILED'), 'ica')).to.equal('error.notification');
    expect(() => eventTypeOf(env('ICA_EXEC_028', 'INPROGRESS'), 'ica')).to.throw(
      UnsupportedPartnerEventError,
      /ICA_EXEC_028 \(INPROGRESS\)/,
    );
    expect(() => eventTypeOf(env('ICA_SMP_002'), 'ica')).to.throw(UnsupportedPartnerEventError);
    // A standard partner does not read ICA envelopes: no `type` is a 400 naming it.
    expect(() => eventTypeOf(env('ICA_EXEC_002'), 'standard'))
      .to.throw(PartnerPayloadError)
      .with.property('field', 'type');
    const e = normalise({ ...env('ICA_EXEC_027'), description: 'aborted by user' }, 'ica');
    expect(e).to.deep.include({ id: 'c', type: 'error.notification' });
    expect(e.data).to.deep.include({ severity: 'warning', message: 'aborted by user', code: 'ICA_EXEC_027' });
    expect(() => normalise({ eventCode: 'ICA_EXEC_002', correlationId: 'c', timestamp: 't', payload: {} }, 'ica'))
      .to.throw(PartnerPayloadError)
      .with.property('field', 'payload.id');
  });

  it('refuses traversal, absolute paths, drive letters, control characters and duplicates; NFC-normalises', () => {
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', '\\\\server\\share', 'C:\\x', 'c:x', 'a//b', './a', 'a\u0000b', 'a\\..\\b']) {
      expect(safeFilePath(bad), bad).to.have.property('problem');
    }
    expect(safeFilePath('reads/e\u0301.fq')).to.equal('reads/\u00e9.fq');
    const ev = { id: 'e', type: 'sequencing.complete' as const, timestamp: 't', run: { id: 'r' } };
    expect(() =>
      checkEventSources(
        {
          ...ev,
          files: [
            { path: 'a', url: 'https://data.lab.example/1' },
            { path: 'a', url: 'https://data.lab.example/2' },
          ],
        },
        policy,
      ),
    ).to.throw(/listed twice/);
  });

  it('allows only matching http(s) URLs and allowed S3 prefixes; never metadata, link-local, file: or credentials', () => {
    expect(sourceUrlProblem('https://data.lab.example/run/1.bam', policy)).to.equal(undefined);
    expect(sourceUrlProblem('s3://runs-bucket/partners/run1/a.bam', policy)).to.equal(undefined);
    for (const bad of [
      'https://data.lab.example.evil.com/x',
      'https://evil.com/?https://data.lab.example/x',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'file:///etc/passwd',
      'ftp://data.lab.example/x',
      'gopher://x',
      'https://user:pw@data.lab.example/x',
      's3://runs-bucket/other/x',
      's3://runs-bucket-2/partners/x',
      'not a url',
    ]) {
      expect(sourceUrlProblem(bad, policy), bad).to.be.a('string');
    }
    // Metadata addresses are refused even when a pattern would let them through.
    expect(sourceUrlProblem('http://169.254.169.254/x', { allowedUrlPatterns: ['^http://.*$'], allowedS3Prefixes: [] })).to.match(
      /metadata/,
    );
  });

  it('measures JSON depth without parsing, ignoring brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[["}]}', 100)).to.equal(3);
    expect(jsonDepth('['.repeat(100_000), 32)).to.equal(33);
    expect(jsonDepth('"\\"[["', 10)).to.equal(0);
  });
});
