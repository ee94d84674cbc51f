import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import type { ConnectionState } from '../core/caption-socket';

const LABELS: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  refused: 'Refused',
};

@Component({
  selector: 'app-connection-badge',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { role: 'status', '[class]': '"badge " + state()', '[attr.aria-label]': '"Connection: " + label()' },
  template: `<span class="dot" aria-hidden="true"></span>{{ label() }}`,
  styles: `
    :host { display: inline-flex; align-items: center; gap: 0.4em; padding: 0.2em 0.7em; border-radius: 1em;
      font-size: 0.9rem; background: #333; color: #fff; }
    .dot { width: 0.6em; height: 0.6em; border-radius: 50%; background: currentColor; }
    :host(.connected) { background: #0b5d1e; }
    :host(.reconnecting), :host(.connecting) { background: #7a5200; }
    :host(.offline), :host(.refused) { background: #8b1111; }
  `,
})
export class ConnectionBadge {
  readonly state = input.required<ConnectionState>();
  protected readonly label = computed(() => LABELS[this.state()]);
}
