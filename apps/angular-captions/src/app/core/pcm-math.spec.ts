import { describe, expect, it } from 'vitest';
import { Downsampler, floatToPcm16, mixToMono, rms } from '../../../public/worklets/pcm-math.js';

function sine(rate: number, hz: number, seconds: number): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));
}

describe('Downsampler', () => {
  it('turns one second at 48 kHz into one second at 16 kHz, whatever the block size', () => {
    const down = new Downsampler(48000);
    const input = sine(48000, 440, 1);
    let total = 0;
    for (let i = 0; i < input.length; i += 128) total += down.push(input.subarray(i, i + 128)).length;
    expect(total).toBe(16000);
  });

  it('handles rates that are not a multiple of 16 kHz', () => {
    const down = new Downsampler(44100);
    const out = down.push(sine(44100, 300, 2));
    expect(Math.abs(out.length - 32000)).toBeLessThanOrEqual(1);
  });

  it('keeps speech frequencies and averages each output sample over its input samples', () => {
    const down = new Downsampler(48000);
    expect(Array.from(down.push(Float32Array.from([0.3, 0.6, 0.9, -0.3, -0.6, -0.9])))).toEqual([
      expect.closeTo(0.6, 6),
      expect.closeTo(-0.6, 6),
    ]);
    const tone = new Downsampler(48000).push(sine(48000, 440, 0.5));
    expect(rms(tone)).toBeCloseTo(Math.SQRT1_2, 2);
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
