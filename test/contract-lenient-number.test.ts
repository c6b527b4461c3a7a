import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lenientInteger, lenientNumber } from '../src/contract/lenient-number.ts';

describe('numbers as numeric strings (src/contract/lenient-number.ts)', () => {
  const numbers: Array<[unknown, number | undefined]> = [
    [1, 1],
    ['1', 1],
    ['0.5', 0.5],
    ['-2', -2],
    ['1e3', 1000],
    ['1700000000000', 1_700_000_000_000],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    ['', undefined],
    [' 1', undefined],
    ['1 ', undefined],
    ['01', undefined],
    ['0x10', undefined],
    ['1e999', undefined],
    ['one', undefined],
    [true, undefined],
    [null, undefined],
    [[1], undefined],
  ];
  for (const [input, expected] of numbers) {
    test(`${JSON.stringify(input)} reads as ${String(expected)}`, () => {
      assert.equal(lenientNumber(input), expected);
    });
  }

  test('integers: fractions and unsafe integers are not integers', () => {
    assert.equal(lenientInteger('42'), 42);
    assert.equal(lenientInteger('4.5'), undefined);
    assert.equal(lenientInteger('9007199254740993'), undefined);
  });
});
