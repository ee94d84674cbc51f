export declare const TARGET_RATE: number;
export declare const FRAME_SAMPLES: number;
export declare const HALF_TAPS: number;
export declare class Downsampler {
  constructor(inputRate: number, outputRate?: number, halfTaps?: number);
  push(input: Float32Array): Float32Array;
}
export declare function mixToMono(channels: Float32Array[]): Float32Array;
export declare function floatToPcm16(samples: Float32Array): Int16Array;
export declare function rms(samples: Float32Array): number;
