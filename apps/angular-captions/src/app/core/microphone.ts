import { DestroyRef, Injectable, inject, signal } from '@angular/core';

export type MicrophonePermission = 'unknown' | 'granted' | 'denied' | 'unavailable';

interface CapturedFrame {
  readonly pcm: ArrayBuffer;
  readonly level: number;
}

/**
 * The microphone: device list, permission, live input level, and 100 ms frames of 16 kHz mono PCM16 produced by
 * the `pcm-capture` AudioWorklet (the resampling happens there, off the main thread).
 */
@Injectable()
export class Microphone {
  private context: AudioContext | null = null;
  private stream: MediaStream | null = null;

  private readonly _devices = signal<readonly MediaDeviceInfo[]>([]);
  private readonly _permission = signal<MicrophonePermission>('unknown');
  private readonly _level = signal(0);
  private readonly _active = signal(false);
  private readonly _problem = signal<string | null>(null);
  readonly devices = this._devices.asReadonly();
  readonly permission = this._permission.asReadonly();
  readonly level = this._level.asReadonly();
  readonly active = this._active.asReadonly();
  readonly problem = this._problem.asReadonly();

  constructor() {
    inject(DestroyRef).onDestroy(() => void this.stop());
  }

  get supported(): boolean {
    return !!navigator.mediaDevices?.getUserMedia && typeof AudioWorkletNode !== 'undefined';
  }

  async refreshDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const all = await navigator.mediaDevices.enumerateDevices();
    this._devices.set(all.filter((device) => device.kind === 'audioinput'));
  }

  async start(deviceId: string | null, onFrame: (pcm: ArrayBuffer) => void): Promise<boolean> {
    await this.stop();
    if (!this.supported) {
      this._permission.set('unavailable');
      this._problem.set('This browser cannot capture audio here (it needs a secure https:// page).');
      return false;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          deviceId: deviceId ? { exact: deviceId } : undefined,
          channelCount: 1,
          echoCancellation: false,
          noiseSuppression: false, // suppression smears speech; the recogniser copes with noise better
          autoGainControl: false,
        },
      });
    } catch (error) {
      const denied = error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'SecurityError');
      this._permission.set(denied ? 'denied' : 'unavailable');
      this._problem.set(
        denied
          ? 'Microphone access was refused. Allow it in the browser (the icon in the address bar) and press Start again.'
          : 'No microphone could be opened. Check that one is connected and not used by another app.',
      );
      return false;
    }
    this._permission.set('granted');
    this._problem.set(null);
    await this.refreshDevices();
    const context = new AudioContext({ latencyHint: 'interactive' });
    await context.audioWorklet.addModule(new URL('worklets/pcm-capture.js', document.baseURI).href);
    const capture = new AudioWorkletNode(context, 'pcm-capture', { numberOfInputs: 1, numberOfOutputs: 0 });
    capture.port.onmessage = ({ data }: MessageEvent<CapturedFrame>) => {
      this._level.set(data.level);
      onFrame(data.pcm);
    };
    context.createMediaStreamSource(this.stream).connect(capture);
    this.context = context;
    this._active.set(true);
    return true;
  }

  async stop(): Promise<void> {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    const context = this.context;
    this.context = null;
    this._active.set(false);
    this._level.set(0);
    if (context && context.state !== 'closed') await context.close();
  }
}
