import { HttpErrorResponse } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { describeError } from '../core/error-sentences';
import type { Destinations, DestinationView } from '../core/generated/destinations';
import type { DestinationsUpdate } from '../core/generated/destinations-update';
import { RoomsApi } from '../core/rooms-api';

type Kind = DestinationView['kind'];
type Entry = DestinationsUpdate['destinations'][number];

interface KindGuide {
  readonly name: string;
  readonly help: string;
}

const KINDS: Readonly<Record<Kind, KindGuide>> = {
  zoom: {
    name: 'Zoom',
    help: 'In the meeting: Captions → Set up manual captioner → Use a third-party CC service → Copy the API token. Paste it here.',
  },
  youtube: {
    name: 'YouTube Live',
    help: 'In YouTube Studio, your stream’s settings: Closed captions → POST captions to URL. Paste the caption ingestion URL.',
  },
  obs: {
    name: 'OBS Studio',
    help: 'OBS 28 or later: Tools → WebSocket Server Settings (enable it; “Show connect info” gives host, port and password). Captions go into your stream while OBS streams.',
  },
  webhook: {
    name: 'Webhook',
    help: 'Each caption line is POSTed to your URL as JSON, signed with your secret (HMAC-SHA256): see the README.',
  },
};

const STATE_LABELS: Readonly<Record<DestinationView['state'], string>> = {
  ok: 'Sending',
  retrying: 'Retrying',
  failed: 'Stopped',
};

/** Where the room's captions are sent on besides its own viewers: Zoom, YouTube Live, OBS, webhooks. Targets are
 * shown masked: a caption URL, secret or password is given once and never comes back to the browser. */
@Component({
  selector: 'app-destinations-panel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 id="destinations-heading">Destinations</h2>
    <p class="hint">Send your captions, line by line, into Zoom, a YouTube live stream, OBS or your own service.</p>
    @if (destinations().length) {
      <ul aria-labelledby="destinations-heading">
        @for (destination of destinations(); track destination.id) {
          <li>
            <span class="light" [class]="'light ' + destination.state" aria-hidden="true"></span>
            <span class="what"><strong>{{ kindName(destination) }}</strong> <small>{{ destination.target }}</small></span>
            <span class="state" aria-live="polite">{{ stateText(destination) }}</span>
            @if (destination.state === 'failed') {
              <button type="button" (click)="retry()" [disabled]="busy()">Try again</button>
            }
            <button type="button" (click)="remove(destination)" [disabled]="busy()"
                    [attr.aria-label]="'Remove ' + kindName(destination) + ' ' + destination.target">Remove</button>
          </li>
        }
      </ul>
    }
    <form (submit)="add($event)">
      <label for="destination-kind">Add a destination</label>
      <select id="destination-kind" [value]="kind()" (change)="kind.set(choice($event))">
        @for (option of kindOptions; track option) {
          <option [value]="option">{{ kinds[option].name }}</option>
        }
      </select>
      <p class="hint" id="destination-help">{{ guide().help }}</p>
      @if (kind() === 'obs') {
        <label for="destination-host">Host</label>
        <input id="destination-host" autocomplete="off" [value]="host()" (input)="host.set(value($event))" placeholder="192.168.1.20" />
        <label for="destination-port">Port</label>
        <input id="destination-port" inputmode="numeric" [value]="port()" (input)="port.set(value($event))" />
        <label for="destination-password">Password</label>
        <input id="destination-password" type="password" autocomplete="off" [value]="secret()" (input)="secret.set(value($event))" />
      } @else {
        <label for="destination-url">{{ urlLabel() }}</label>
        <input id="destination-url" type="url" autocomplete="off" aria-describedby="destination-help"
               [value]="url()" (input)="url.set(value($event))" />
        @if (kind() === 'webhook') {
          <label for="destination-secret">Signing secret (16 characters or more)</label>
          <input id="destination-secret" type="password" autocomplete="off" [value]="secret()" (input)="secret.set(value($event))" />
        }
      }
      <button type="submit" [disabled]="busy() || !complete()">Add</button>
      @if (problem()) {
        <p class="problem" role="alert">{{ problem() }}</p>
      }
    </form>
  `,
  styles: `
    :host { display: grid; gap: 0.4rem; }
    h2 { margin: 0; font-size: 1.1rem; }
    .hint { margin: 0; font-size: 0.85rem; }
    ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.4rem; }
    li { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem; border: 1px solid #ccc; border-radius: 0.4rem; padding: 0.4rem; }
    .what { flex: 1; min-width: 8rem; }
    .state { font-size: 0.85rem; flex-basis: 100%; }
    .light { width: 0.8rem; height: 0.8rem; border-radius: 50%; border: 1px solid #333; }
    .light.ok { background: #137333; }
    .light.retrying { background: #f9ab00; }
    .light.failed { background: #b3261e; }
    form { display: grid; gap: 0.3rem; }
    input, select, button { font: inherit; padding: 0.4rem; border-radius: 0.4rem; }
    .problem { background: #fde7e7; color: #8b1111; padding: 0.5rem; border-radius: 0.4rem; margin: 0; }
  `,
})
export class DestinationsPanel {
  private readonly api = inject(RoomsApi);
  readonly roomId = input.required<string>();
  readonly presenterKey = input<string | null>(null);
  /** What the live connection says each time a destination's state changes. */
  readonly live = input<Destinations | null>(null);

  protected readonly kinds = KINDS;
  protected readonly kindOptions = Object.keys(KINDS) as Kind[];
  protected readonly destinations = signal<readonly DestinationView[]>([]);
  protected readonly kind = signal<Kind>('zoom');
  protected readonly url = signal('');
  protected readonly host = signal('');
  protected readonly port = signal('4455');
  protected readonly secret = signal('');
  protected readonly busy = signal(false);
  protected readonly problem = signal('');
  protected readonly guide = computed(() => KINDS[this.kind()]);
  protected readonly urlLabel = computed(() =>
    this.kind() === 'zoom' ? 'Zoom API token (caption URL)' : this.kind() === 'youtube' ? 'Caption ingestion URL' : 'URL',
  );
  protected readonly complete = computed(() => {
    if (this.kind() === 'obs') return this.host().trim() !== '' && /^\d+$/.test(this.port().trim());
    if (this.kind() === 'webhook') return this.url().trim() !== '' && this.secret().length >= 16;
    return this.url().trim() !== '';
  });

  constructor() {
    effect(() => {
      const room = this.roomId();
      const key = this.presenterKey();
      if (key) void untracked(() => this.load(room, key));
    });
    effect(() => {
      const live = this.live();
      if (live) untracked(() => this.destinations.set(live.destinations));
    });
  }

  protected kindName(destination: DestinationView): string {
    return KINDS[destination.kind].name;
  }

  protected stateText(destination: DestinationView): string {
    const label = STATE_LABELS[destination.state];
    return destination.error ? `${label}: ${destination.error}` : label;
  }

  protected async add(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    if (!this.complete()) return;
    if (await this.save([...this.kept(this.destinations()), this.entry()])) {
      this.url.set('');
      this.host.set('');
      this.secret.set('');
    }
  }

  protected async remove(gone: DestinationView): Promise<void> {
    await this.save(this.kept(this.destinations().filter((destination) => destination.id !== gone.id)));
  }

  /** Saving the list again tries a stopped destination again, from where it stopped. */
  protected async retry(): Promise<void> {
    await this.save(this.kept(this.destinations()));
  }

  protected choice(event: Event): Kind {
    return (event.target as HTMLSelectElement).value as Kind;
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  private entry(): Entry {
    switch (this.kind()) {
      case 'zoom':
        return { kind: 'zoom', url: this.url().trim(), lang: 'en-US' };
      case 'youtube':
        return { kind: 'youtube', url: this.url().trim() };
      case 'obs':
        return { kind: 'obs', host: this.host().trim(), port: Number(this.port().trim()), password: this.secret() };
      case 'webhook':
        return { kind: 'webhook', url: this.url().trim(), secret: this.secret() };
    }
  }

  private kept(destinations: readonly DestinationView[]): Entry[] {
    return destinations.map((destination) => ({ keep: destination.id }));
  }

  private async load(room: string, key: string): Promise<void> {
    try {
      this.destinations.set((await this.api.destinations(room, key)).destinations);
    } catch {
      this.destinations.set([]);
    }
  }

  private async save(destinations: Entry[]): Promise<boolean> {
    const key = this.presenterKey();
    if (!key) return false;
    this.busy.set(true);
    this.problem.set('');
    try {
      const saved = await this.api.setDestinations(this.roomId(), key, { destinations });
      this.destinations.set(saved.destinations);
      return true;
    } catch (error) {
      this.problem.set(problemSentence(error));
      return false;
    } finally {
      this.busy.set(false);
    }
  }
}

/** The server's coded problem as a sentence, with its detail where it says which entry and why. */
function problemSentence(error: unknown): string {
  const body = error instanceof HttpErrorResponse ? (error.error as { code?: string; detail?: string } | null) : null;
  if (!body?.code) return describeError({ code: 'unavailable' });
  const sentence = describeError({ code: body.code });
  return body.detail ? `${sentence} (${body.detail})` : sentence;
}
