// AudioWorklet: microphone audio -> 16 kHz mono PCM16 frames of 100 ms, posted to the page with their level.
import { Downsampler, FRAME_SAMPLES, floatToPcm16, mixToMono, rms } from "./pcm-math.js";

class PcmCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.downsampler = new Downsampler(sampleRate);
    this.frame = new Float32Array(FRAME_SAMPLES);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const samples = this.downsampler.push(mixToMono(channels));
    for (let i = 0; i < samples.length; i++) {
      this.frame[this.filled++] = samples[i];
      if (this.filled === FRAME_SAMPLES) {
        const pcm = floatToPcm16(this.frame);
        this.port.postMessage({ pcm: pcm.buffer, level: rms(this.frame) }, [pcm.buffer]);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("pcm-capture", PcmCapture);
