import { expect } from 'chai';
import { packageNameFor, packageNamePart, parsePackageName } from '../../src/quilt/package-name.ts';

describe('packageNameFor: display ids and run ids to valid, injective Quilt names', () => {
  it('keeps an id of letters, digits, _ and - as it is', () => {
    expect(packageNameFor('benchling', 'EXP24000001')).to.equal('benchling/EXP24000001');
    expect(packageNameFor('runs', 'RUN_2024-01')).to.equal('runs/RUN_2024-01');
  });

  it('replaces other characters and appends a hash of the original, so ids that clean up alike stay apart', () => {
    const ids = [
      'EXP-1.a',
      'EXP-1/a',
      'EXP-1 a',
      'EXP-1_a',
      'EXP-1\u00e9a',
      'EXP-1🧪a',
      '',
      '../../etc',
      'a'.repeat(500),
      `${'a'.repeat(500)}b`,
    ];
    const names = ids.map((id) => packageNameFor('benchling', id));
    expect(new Set(names).size, names.join(' ')).to.equal(ids.length);
    for (const name of names) expect(() => parsePackageName(name), name).to.not.throw();
    expect(names[0]).to.match(/^benchling\/EXP-1_a_[0-9a-f]{10}$/);
    expect(names[3]).to.equal('benchling/EXP-1_a');
    expect(packageNamePart('a'.repeat(500)).length).to.be.at.most(111);
  });

  it('never lets a kept id equal a changed one: an id that already ends like a hash is hashed too', () => {
    const changed = packageNamePart('EXP-1.a');
    expect(packageNamePart(changed), 'the changed name, given as an id').to.not.equal(changed);
    expect(packageNamePart(changed)).to.match(new RegExp(`^${changed}_[0-9a-f]{10}$`));
  });

  it('is stable: the same id gives the same name in every process', () => {
    expect(packageNamePart('EXP-1.a')).to.equal(packageNamePart('EXP-1.a'));
  });

  it('refuses a namespace that is not a Quilt name part', () => {
    expect(() => packageNameFor('bad/prefix', 'EXP1')).to.throw(/invalid Quilt package name/);
  });
});
