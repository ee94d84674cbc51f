import { ChangeDetectionStrategy, Component, DestroyRef, computed, effect, inject, input, output, signal } from '@angular/core';
import type { RoomRotate } from '../core/generated';
import { RoomsApi } from '../core/rooms-api';

type Copied = 'link' | 'embed' | 'presenter' | null;
type Replacing = 'viewer' | 'presenter' | null;

/** How the audience gets to the captions: viewer link, QR code, embed snippet, each easy to copy. */
@Component({
  selector: 'app-share-panel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2>Share</h2>
    @if (qrUrl(); as qr) {
      <img class="qr" [src]="qr" width="160" height="160" alt="QR code of the viewer link" />
    }
    @if (viewerToken()) {
      <p class="private">Private room: the link carries its viewer token; share it only with your audience.</p>
    }
    <label for="viewer-link">Viewer link</label>
    <div class="row">
      <input id="viewer-link" readonly [value]="viewerUrl()" />
      <button type="button" (click)="copy('link', viewerUrl())">{{ copied() === 'link' ? 'Copied' : 'Copy' }}</button>
    </div>
    <label for="embed-snippet">Embed on a web page</label>
    <div class="row">
      <textarea id="embed-snippet" readonly rows="5">{{ embedSnippet() }}</textarea>
      <button type="button" (click)="copy('embed', embedSnippet())">{{ copied() === 'embed' ? 'Copied' : 'Copy' }}</button>
    </div>
    @if (presenterLink()) {
      <label for="presenter-link">Presenter link</label>
      <div class="row">
        <input id="presenter-link" type="password" readonly [value]="presenterLink()" />
        <button type="button" (click)="copy('presenter', presenterLink())">{{ copied() === 'presenter' ? 'Copied' : 'Copy' }}</button>
      </div>
      <p class="keep">Keep this link to present from another device or after clearing this browser. Anyone with it
        can present in this room: do not share it with the audience.</p>
      <details class="replace">
        <summary>A link got out?</summary>
        <p>Replacing a link disconnects everyone who opened the old one; it stops working at once.</p>
        <div class="row">
          @if (viewerToken()) {
            <button type="button" (click)="ask('viewer')">New viewer link</button>
          }
          <button type="button" (click)="ask('presenter')">New presenter link</button>
        </div>
        @if (replacing(); as what) {
          <p role="alert">{{ confirmation() }}</p>
          <div class="row">
            <button type="button" class="danger" (click)="confirm()">Replace it</button>
            <button type="button" (click)="replacing.set(null)">Cancel</button>
          </div>
        }
        @if (replaced()) {
          <p role="status">{{ replaced() }}</p>
        }
      </details>
    }
  `,
  styles: `
    :host { display: grid; gap: 0.4rem; }
    h2 { margin: 0; font-size: 1.1rem; }
    .qr { background: #fff; border-radius: 0.4rem; }
    .private { margin: 0; font-size: 0.9rem; }
    .row { display: flex; gap: 0.4rem; }
    input, textarea { flex: 1; font: 0.85rem ui-monospace, monospace; }
    textarea { resize: vertical; white-space: pre-wrap; overflow-wrap: anywhere; field-sizing: content; min-height: 5lh; }
    .keep { margin: 0; font-size: 0.85rem; }
    .replace { font-size: 0.9rem; }
    .replace p { margin: 0.3rem 0; }
    .danger { color: #fff; background: #b3261e; border: 1px solid #b3261e; }
    button { font: inherit; }
  `,
})
export class SharePanel {
  private readonly api = inject(RoomsApi);
  readonly roomId = input.required<string>();
  /** A private room's viewer token: it goes after # in links, where no server or log sees it. */
  readonly viewerToken = input<string | null>(null);
  /** The presenter's own link (key in the #fragment), shown masked: a shared screen must not show it. */
  readonly presenterLink = input('');
  /** Set by the page once the server replaced the link: what the presenter is told. */
  readonly replaced = input('');
  /** The presenter confirmed: replace these secrets. */
  readonly rotate = output<RoomRotate>();
  protected readonly copied = signal<Copied>(null);
  protected readonly replacing = signal<Replacing>(null);
  protected readonly confirmation = computed(() =>
    this.replacing() === 'viewer'
      ? 'Everyone reading with the old viewer link or QR code is disconnected: share the new one again.'
      : 'Consoles opened with the old presenter link are disconnected; this one goes on with the new link.',
  );
  private readonly privateQr = signal<string | null>(null);
  private readonly fragment = computed(() => {
    const token = this.viewerToken();
    return token ? `#token=${encodeURIComponent(token)}` : '';
  });
  protected readonly viewerUrl = computed(() => `${location.origin}/r/${this.roomId()}${this.fragment()}`);
  protected readonly qrUrl = computed(() => (this.viewerToken() ? this.privateQr() : this.api.qrUrl(this.roomId())));
  protected readonly embedSnippet = computed(() => {
    const token = this.viewerToken();
    const tokenAttribute = token ? ` data-token="${token}"` : '';
    return `<script src="${location.origin}/embed.js" data-room="${this.roomId()}"${tokenAttribute} data-lines="2" data-theme="dark"></script>`;
  });

  constructor() {
    effect(() => {
      const token = this.viewerToken();
      if (!token) return;
      void this.api.qrObjectUrl(this.roomId(), { token }).then(
        (url) => this.privateQr.set(url),
        () => this.privateQr.set(null),
      );
    });
    inject(DestroyRef).onDestroy(() => {
      const url = this.privateQr();
      if (url) URL.revokeObjectURL(url);
    });
  }

  protected ask(what: Exclude<Replacing, null>): void {
    this.replacing.set(what);
  }

  protected confirm(): void {
    const viewer = this.replacing() === 'viewer';
    this.replacing.set(null);
    this.rotate.emit({ presenter_key: !viewer, viewer_token: viewer });
  }

  protected async copy(what: Exclude<Copied, null>, text: string): Promise<void> {
    await navigator.clipboard?.writeText(text);
    this.copied.set(what);
    setTimeout(() => this.copied.set(null), 2000);
  }
}
