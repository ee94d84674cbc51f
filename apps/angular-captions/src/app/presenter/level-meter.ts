import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

/** Input level of the microphone (RMS of the last 100 ms), on a speech-friendly scale. */
@Component({
  selector: 'app-level-meter',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { role: 'meter', 'aria-label': 'Microphone level', 'aria-valuemin': '0', 'aria-valuemax': '100', '[attr.aria-valuenow]': 'percent()' },
  template: `<span class="fill" [style.width.%]="percent()"></span>`,
  styles: `
    :host { display: block; height: 0.6rem; background: #333; border-radius: 0.3rem; overflow: hidden; }
    .fill { display: block; height: 100%; background: linear-gradient(90deg, #1e8e3e, #f9ab00 70%, #d93025); transition: width 80ms; }
  `,
})
export class LevelMeter {
  readonly level = input.required<number>();
  // Speech sits around -30 dBFS; map -60..0 dBFS onto the bar.
  protected readonly percent = computed(() => {
    const db = 20 * Math.log10(Math.max(this.level(), 1e-6));
    return Math.round(Math.min(100, Math.max(0, ((db + 60) / 60) * 100)));
  });
}
