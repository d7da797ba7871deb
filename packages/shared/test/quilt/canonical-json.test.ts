import { expect } from 'chai';
import { canonicalJson, compareCodePoints, pythonFloatRepr, pythonJson } from '../../src/quilt/canonical-json.ts';
import { PermanentError } from '../../src/errors.ts';

/*
 * Reference vectors, made once with Python 3.11 (python3 is not needed to run these tests):
 *
 *   import json
 *   dumps = lambda x: json.dumps(x, sort_keys=True, separators=(',', ':'))
 *   values = [
 *       {"b": 1, "a": [True, False, None], "c": {"z": "", "y": -0}},
 *       {"\uffff": 1, "\U0001F600": 2, "a": 3, "\u00e9": 4, "\ue000": 5, "A": 6, "aa": 7, "": 8},
 *       "quote\" backslash\\ slash/ \b\f\n\r\t \x00\x01\x1f\x7f caf\u00e9 \u4e2d \U0001F600 \ud800 end",
 *       [0.1, -2.5e-07, 1e-05, 0.0001, 123.456, 1.5e+16, 1e+22, 5e-324, 1.7976931348623157e+308, 1234567890123.5, 0.30000000000000004],
 *       {"user_meta": {"nested": {"deep": [1, 2.25, {"k": "v\u00e4"}]}, "n": 9007199254740991, "neg": -42}},
 *   ]
 *   for v in values:
 *       print(json.dumps([json.dumps(v), dumps(v)]))   # [input as JSON text, expected canonical JSON]
 */
const PYTHON_VECTORS: [string, string][] = [
  ['{"b": 1, "a": [true, false, null], "c": {"z": "", "y": 0}}', '{"a":[true,false,null],"b":1,"c":{"y":0,"z":""}}'],
  [
    '{"\\uffff": 1, "\\ud83d\\ude00": 2, "a": 3, "\\u00e9": 4, "\\ue000": 5, "A": 6, "aa": 7, "": 8}',
    '{"":8,"A":6,"a":3,"aa":7,"\\u00e9":4,"\\ue000":5,"\\uffff":1,"\\ud83d\\ude00":2}',
  ],
  [
    '"quote\\" backslash\\\\ slash/ \\b\\f\\n\\r\\t \\u0000\\u0001\\u001f\\u007f caf\\u00e9 \\u4e2d \\ud83d\\ude00 \\ud800 end"',
    '"quote\\" backslash\\\\ slash/ \\b\\f\\n\\r\\t \\u0000\\u0001\\u001f\\u007f caf\\u00e9 \\u4e2d \\ud83d\\ude00 \\ud800 end"',
  ],
  [
    '[0.1, -2.5e-07, 1e-05, 0.0001, 123.456, 1.5e+16, 1e+22, 5e-324, 1.7976931348623157e+308, 1234567890123.5, 0.30000000000000004]',
    '[0.1,-2.5e-07,1e-05,0.0001,123.456,1.5e+16,1e+22,5e-324,1.7976931348623157e+308,1234567890123.5,0.30000000000000004]',
  ],
  [
    '{"user_meta": {"nested": {"deep": [1, 2.25, {"k": "v\\u00e4"}]}, "n": 9007199254740991, "neg": -42}}',
    '{"user_meta":{"n":9007199254740991,"neg":-42,"nested":{"deep":[1,2.25,{"k":"v\\u00e4"}]}}}',
  ],
];

describe('canonicalJson', () => {
  PYTHON_VECTORS.forEach(([input, expected], i) => {
    it(`matches Python's json.dumps(sort_keys=True) byte for byte on vector ${i + 1}`, () => {
      expect(canonicalJson(JSON.parse(input))).to.equal(expected);
    });
  });

  it('sorts keys by code point, so an astral character comes after U+FFFF, unlike a JS default sort', () => {
    const keys = ['\u{1F600}', '\uffff', '\ue000'];
    expect([...keys].sort()).to.deep.equal(['\u{1F600}', '\ue000', '\uffff']);
    expect([...keys].sort(compareCodePoints)).to.deep.equal(['\ue000', '\uffff', '\u{1F600}']);
  });

  it('prints integral numbers as Python ints and drops the sign of zero', () => {
    expect(canonicalJson([1, -0, 1e15, 9007199254740993n])).to.equal('[1,0,1000000000000000,9007199254740993]');
  });

  it('writes floats in Python repr form where JS would write them differently', () => {
    expect(String(1e-5)).to.equal('0.00001');
    expect(pythonFloatRepr(1e-5)).to.equal('1e-05');
    expect(String(1e-7)).to.equal('1e-7');
    expect(pythonFloatRepr(1e-7)).to.equal('1e-07');
    expect(pythonFloatRepr(-1.25e-100)).to.equal('-1.25e-100');
    expect(pythonFloatRepr(2e21)).to.equal('2e+21');
    expect(pythonFloatRepr(0.000123)).to.equal('0.000123');
    expect(pythonFloatRepr(1.5)).to.equal('1.5');
    expect(pythonFloatRepr(5)).to.equal('5.0');
  });

  it('follows JSON.stringify for undefined, toJSON and functions', () => {
    const when = new Date('2026-01-02T03:04:05.000Z');
    expect(canonicalJson({ b: undefined, a: when, f: () => 1, list: [undefined] })).to.equal(
      '{"a":"2026-01-02T03:04:05.000Z","list":[null]}',
    );
  });

  it('rejects NaN, Infinity and circular structures with a PermanentError', () => {
    expect(() => canonicalJson({ x: Number.NaN })).to.throw(PermanentError);
    expect(() => canonicalJson([Infinity])).to.throw(PermanentError);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).to.throw(PermanentError, /circular/);
  });

  it('keeps insertion order and raw UTF-8 when asked, escaping only what Python escapes without ensure_ascii', () => {
    // Python: json.dumps({"z": "é\x7f\x01", "a": 1}, ensure_ascii=False, separators=(',', ':'))
    expect(pythonJson({ z: 'é\x7f\x01', a: 1 }, { sortKeys: false, ensureAscii: false })).to.equal('{"z":"é\x7f\\u0001","a":1}');
  });

  it('escapes a lone surrogate even without ensure_ascii, so the output stays valid UTF-8', () => {
    expect(pythonJson('a\ud800b\u{1F600}', { ensureAscii: false })).to.equal('"a\\ud800b\u{1F600}"');
  });
});
