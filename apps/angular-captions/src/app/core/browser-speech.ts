import { DestroyRef, Injectable, inject, signal } from '@angular/core';

/** The part of the Web Speech API's SpeechRecognition this app uses. */
interface Recognition {
  lang: string;
  continuous: boolean;
  interimResults: boolean;
  onresult: ((event: RecognitionEvent) => void) | null;
  onerror: ((event: { error: string }) => void) | null;
  onend: (() => void) | null;
  start(): void;
  stop(): void;
}
interface RecognitionEvent {
  readonly resultIndex: number;
  readonly results: ArrayLike<{ readonly isFinal: boolean; readonly 0: { readonly transcript: string } }>;
}
type RecognitionConstructor = new () => Recognition;

export type RecognisedText = (kind: 'partial' | 'final', text: string) => void;

function recognitionConstructor(): RecognitionConstructor | null {
  const scope = globalThis as { SpeechRecognition?: RecognitionConstructor; webkitSpeechRecognition?: RecognitionConstructor };
  return scope.SpeechRecognition ?? scope.webkitSpeechRecognition ?? null;
}

/** The browser's own speech recognition (Web Speech API), where it exists: text instead of audio. */
@Injectable()
export class BrowserSpeech {
  private recognition: Recognition | null = null;
  private readonly _listening = signal(false);
  private readonly _problem = signal<string | null>(null);
  readonly listening = this._listening.asReadonly();
  readonly problem = this._problem.asReadonly();
  readonly supported = recognitionConstructor() !== null;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
  }

  start(language: string, onText: RecognisedText): void {
    const Constructor = recognitionConstructor();
    if (!Constructor) return;
    this.stop();
    const recognition = new Constructor();
    recognition.lang = language;
    recognition.continuous = true;
    recognition.interimResults = true;
    recognition.onresult = (event) => {
      let interim = '';
      for (let i = event.resultIndex; i < event.results.length; i++) {
        const result = event.results[i];
        const text = result[0].transcript.trim();
        if (result.isFinal) {
          if (text) onText('final', text);
        } else {
          interim += ` ${text}`;
        }
      }
      onText('partial', interim.trim());
    };
    recognition.onerror = (event) => {
      if (event.error === 'not-allowed' || event.error === 'service-not-allowed') {
        this._problem.set('The browser refused speech recognition: allow the microphone for this site.');
        this.stop();
      }
    };
    // Browsers end recognition after a pause; keep listening until told to stop.
    recognition.onend = () => {
      if (this.recognition === recognition) recognition.start();
    };
    this.recognition = recognition;
    this._problem.set(null);
    this._listening.set(true);
    recognition.start();
  }

  stop(): void {
    const recognition = this.recognition;
    this.recognition = null;
    this._listening.set(false);
    recognition?.stop();
  }
}
