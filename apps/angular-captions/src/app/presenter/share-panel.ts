import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { RoomsApi } from '../core/rooms-api';

type Copied = 'link' | 'embed' | null;

/** How the audience gets to the captions: viewer link, QR code, embed snippet, each easy to copy. */
@Component({
  selector: 'app-share-panel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2>Share</h2>
    <img class="qr" [src]="qrUrl()" width="160" height="160" alt="QR code of the viewer link" />
    <label for="viewer-link">Viewer link</label>
    <div class="row">
      <input id="viewer-link" readonly [value]="viewerUrl()" />
      <button type="button" (click)="copy('link', viewerUrl())">{{ copied() === 'link' ? 'Copied' : 'Copy' }}</button>
    </div>
    <label for="embed-snippet">Embed on a web page</label>
    <div class="row">
      <textarea id="embed-snippet" readonly rows="3">{{ embedSnippet() }}</textarea>
      <button type="button" (click)="copy('embed', embedSnippet())">{{ copied() === 'embed' ? 'Copied' : 'Copy' }}</button>
    </div>
  `,
  styles: `
    :host { display: grid; gap: 0.4rem; }
    h2 { margin: 0; font-size: 1.1rem; }
    .qr { background: #fff; border-radius: 0.4rem; }
    .row { display: flex; gap: 0.4rem; }
    input, textarea { flex: 1; font: 0.85rem ui-monospace, monospace; }
    button { font: inherit; }
  `,
})
export class SharePanel {
  private readonly api = inject(RoomsApi);
  readonly roomId = input.required<string>();
  protected readonly copied = signal<Copied>(null);
  protected readonly viewerUrl = computed(() => `${location.origin}/r/${this.roomId()}`);
  protected readonly qrUrl = computed(() => this.api.qrUrl(this.roomId()));
  protected readonly embedSnippet = computed(
    () => `<script src="${location.origin}/embed.js" data-room="${this.roomId()}" data-lines="2" data-theme="dark"></script>`,
  );

  protected async copy(what: Exclude<Copied, null>, text: string): Promise<void> {
    await navigator.clipboard?.writeText(text);
    this.copied.set(what);
    setTimeout(() => this.copied.set(null), 2000);
  }
}
