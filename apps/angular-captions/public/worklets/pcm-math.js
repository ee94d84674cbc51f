// Audio maths shared by the capture worklet (loaded as-is, not bundled) and the app's unit tests.

export const TARGET_RATE = 16000;
export const FRAME_SAMPLES = 1600; // 100 ms at 16 kHz

/** Averages the microphone's samples over each 1/16000 s (a box low-pass, then decimation), across blocks. */
export class Downsampler {
  constructor(inputRate, outputRate = TARGET_RATE) {
    if (!(inputRate >= outputRate)) throw new RangeError(`cannot downsample ${inputRate} Hz to ${outputRate} Hz`);
    this.ratio = inputRate / outputRate;
    this.time = 0; // input samples consumed
    this.boundary = this.ratio; // where the current output sample ends, in input samples
    this.sum = 0;
  }

  push(input) {
    const out = new Float32Array(Math.ceil((input.length + 1) / this.ratio));
    let count = 0;
    for (let i = 0; i < input.length; i++) {
      let start = this.time;
      const end = start + 1;
      const x = input[i];
      while (end >= this.boundary) {
        this.sum += x * (this.boundary - start);
        out[count++] = this.sum / this.ratio;
        this.sum = 0;
        start = this.boundary;
        this.boundary += this.ratio;
      }
      this.sum += x * (end - start);
      this.time = end;
    }
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
