import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { goDurationFromMs, goFixed2, goFloat } from '../../../analysis/go-format.ts';

describe('Go formatting for Flagger-worded events', () => {
  it('prints floats like %v', () => {
    assert.equal(goFloat(99), '99');
    assert.equal(goFloat(99.5), '99.5');
    assert.equal(goFloat(0.0001), '0.0001');
    assert.equal(goFloat(0.00001), '1e-05');
    assert.equal(goFloat(123456), '123456');
    assert.equal(goFloat(1e6), '1e+06');
    assert.equal(goFloat(1234567), '1.234567e+06');
    assert.equal(goFloat(-2.5), '-2.5');
  });

  it('prints %.2f', () => {
    assert.equal(goFixed2(95), '95.00');
    assert.equal(goFixed2(Infinity), '+Inf');
  });

  it('prints durations like time.Duration', () => {
    assert.equal(goDurationFromMs(0), '0s');
    assert.equal(goDurationFromMs(250), '250ms');
    assert.equal(goDurationFromMs(1000), '1s');
    assert.equal(goDurationFromMs(1500), '1.5s');
    assert.equal(goDurationFromMs(1050), '1.05s');
    assert.equal(goDurationFromMs(61_000), '1m1s');
    assert.equal(goDurationFromMs(60_000), '1m0s');
    assert.equal(goDurationFromMs(3_723_400), '1h2m3.4s');
    assert.equal(goDurationFromMs(-1500), '-1.5s');
  });
});
