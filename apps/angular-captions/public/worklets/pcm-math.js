// Audio maths shared by the capture worklet (loaded as-is, not bundled) and the app's unit tests.

export const TARGET_RATE = 16000;
export const FRAME_SAMPLES = 1600; // 100 ms at 16 kHz

/** Input samples on each side of an output sample that the low-pass filter weighs (64 taps at 48 kHz). */
export const HALF_TAPS = 32;
/** The filter keeps frequencies up to this share of the output rate's Nyquist frequency (7.2 kHz at 16 kHz). */
const PASSBAND = 0.9;

/**
 * Resamples the microphone's audio to 16 kHz: each output sample is the input around it weighed by a windowed
 * sinc, a low-pass at 7.2 kHz. Averaging each output sample's input samples (a box filter) would let through
 * what lies between 8 and 16 kHz (sibilants, hiss, a fan: -6 dB at 10 kHz), folded down into the band the
 * recogniser hears; this filter takes it down by more than 40 dB. Works across blocks and at any input rate.
 */
export class Downsampler {
  constructor(inputRate, outputRate = TARGET_RATE, halfTaps = HALF_TAPS) {
    if (!(inputRate >= outputRate)) throw new RangeError(`cannot downsample ${inputRate} Hz to ${outputRate} Hz`);
    this.ratio = inputRate / outputRate;
    this.cutoff = (PASSBAND * 0.5) / this.ratio; // cycles per input sample
    this.half = halfTaps;
    this.kept = new Float32Array(0); // input samples still needed by later output samples
    this.keptFrom = 0; // stream index of kept[0]
    this.next = 0; // stream position (in input samples) of the next output sample
  }

  push(input) {
    if (this.ratio === 1) return input;
    const buffer = new Float32Array(this.kept.length + input.length);
    buffer.set(this.kept);
    buffer.set(input, this.kept.length);
    const end = this.keptFrom + buffer.length;
    const out = new Float32Array(Math.ceil(buffer.length / this.ratio) + 1);
    let count = 0;
    // An output sample is made once the input on both sides of it has come.
    while (this.next + this.half < end) {
      const centre = this.next - this.keptFrom;
      let sum = 0;
      let weights = 0;
      for (let k = Math.max(0, Math.ceil(centre - this.half)); k <= Math.floor(centre + this.half); k++) {
        const distance = centre - k;
        const x = 2 * this.cutoff * distance;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const weight = sinc * (0.5 + 0.5 * Math.cos((Math.PI * distance) / this.half));
        sum += buffer[k] * weight;
        weights += weight;
      }
      out[count++] = sum / weights; // unit gain at 0 Hz whatever the output sample's phase
      this.next += this.ratio;
    }
    const keepFrom = Math.max(0, Math.floor(this.next - this.half) - this.keptFrom);
    this.kept = buffer.slice(keepFrom);
    this.keptFrom += keepFrom;
    return out.subarray(0, count);
  }
}

export function mixToMono(channels) {
  if (channels.length === 1) return channels[0];
  const mono = new Float32Array(channels[0].length);
  for (const channel of channels) for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / channels.length;
  return mono;
}

/** Float samples in [-1, 1] as signed 16-bit little-endian PCM (clipped). */
export function floatToPcm16(samples) {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    pcm[i] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
  }
  return pcm;
}

export function rms(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}
