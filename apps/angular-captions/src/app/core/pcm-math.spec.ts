import { describe, expect, it } from 'vitest';
import { Downsampler, HALF_TAPS, floatToPcm16, mixToMono, rms } from '../../../public/worklets/pcm-math.js';

function sine(rate: number, hz: number, seconds: number): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));
}

describe('Downsampler', () => {
  it('turns one second at 48 kHz into one second at 16 kHz, whatever the block size (less the filter delay)', () => {
    const down = new Downsampler(48000);
    const input = sine(48000, 440, 1);
    let total = 0;
    for (let i = 0; i < input.length; i += 128) total += down.push(input.subarray(i, i + 128)).length;
    const delay = Math.ceil(HALF_TAPS / 3); // output samples held until the input after them has come
    expect(total).toBeGreaterThanOrEqual(16000 - delay);
    expect(total).toBeLessThanOrEqual(16000);
  });

  it('handles rates that are not a multiple of 16 kHz', () => {
    const down = new Downsampler(44100);
    const out = down.push(sine(44100, 300, 2));
    expect(Math.abs(out.length - 32000)).toBeLessThanOrEqual(HALF_TAPS);
    expect(rms(out.subarray(100))).toBeCloseTo(Math.SQRT1_2, 2);
  });

  it('keeps speech frequencies and takes out what would fold into them', () => {
    const level = (hz: number, rate = 48000) => rms(new Downsampler(rate).push(sine(rate, hz, 0.5)).subarray(100));
    for (const hz of [200, 1000, 3000, 5000]) expect(level(hz), `${hz} Hz`).toBeCloseTo(Math.SQRT1_2, 2);
    // Above 8 kHz a 16 kHz signal cannot hold it: it would come out as a tone at 16 kHz minus its frequency.
    for (const hz of [9500, 10000, 12000, 15000]) expect(level(hz), `${hz} Hz`).toBeLessThan(Math.SQRT1_2 / 100);
    expect(level(10000, 44100)).toBeLessThan(Math.SQRT1_2 / 100);
  });

  it('passes 16 kHz through unchanged and refuses upsampling', () => {
    const samples = Float32Array.from([0.1, -0.2, 0.3]);
    expect(Array.from(new Downsampler(16000).push(samples))).toEqual(Array.from(samples));
    expect(() => new Downsampler(8000)).toThrow(RangeError);
  });
});

describe('PCM16', () => {
  it('clips and scales to signed 16-bit', () => {
    expect(Array.from(floatToPcm16(Float32Array.from([0, 1, -1, 2, -2, 0.5])))).toEqual([
      0, 32767, -32768, 32767, -32768, 16384,
    ]);
  });

  it('is little-endian on the wire', () => {
    const bytes = new Uint8Array(floatToPcm16(Float32Array.from([0.5])).buffer);
    expect(Array.from(bytes)).toEqual([0x00, 0x40]);
  });

  it('mixes channels to mono', () => {
    expect(Array.from(mixToMono([Float32Array.from([1, 0]), Float32Array.from([0, 1])]))).toEqual([0.5, 0.5]);
  });
});
