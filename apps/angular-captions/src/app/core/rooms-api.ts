import { HttpClient, HttpHeaders } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import type { Capabilities, Caption, RoomCreate, RoomCreated, RoomInfo, RoomRotate, RoomRotated } from './generated';
import type { Destinations } from './generated/destinations';
import type { DestinationsUpdate } from './generated/destinations-update';

interface TranscriptJson {
  readonly cues: readonly { id: string; start: number; end: number; text: string }[];
}

export type TranscriptFormat = 'txt' | 'vtt' | 'srt' | 'json';

/** What opens a private room: its viewer token (from the link's #fragment) or the presenter key. */
export interface RoomAccess {
  readonly token?: string | null;
  readonly key?: string | null;
}

function accessHeaders(access: RoomAccess = {}): HttpHeaders {
  let headers = new HttpHeaders();
  if (access.token) headers = headers.set('X-Viewer-Token', access.token);
  if (access.key) headers = headers.set('X-Presenter-Key', access.key);
  return headers;
}

@Injectable({ providedIn: 'root' })
export class RoomsApi {
  private readonly http = inject(HttpClient);

  /** ``organizerToken``: where the server creates rooms for its organizers only. */
  create(room: RoomCreate, organizerToken?: string): Promise<RoomCreated> {
    const headers = organizerToken ? new HttpHeaders({ Authorization: `Bearer ${organizerToken}` }) : undefined;
    return firstValueFrom(this.http.post<RoomCreated>('/api/rooms', room, { headers }));
  }

  /** New presenter key and/or viewer token: whoever holds an old one is disconnected and refused. */
  rotate(roomId: string, key: string, what: RoomRotate): Promise<RoomRotated> {
    const url = `/api/rooms/${encodeURIComponent(roomId)}/rotate`;
    return firstValueFrom(this.http.post<RoomRotated>(url, what, { headers: accessHeaders({ key }) }));
  }

  /** Where the room's captions are sent on, each with its state (targets masked: secrets never come back). */
  destinations(roomId: string, key: string): Promise<Destinations> {
    const url = `/api/rooms/${encodeURIComponent(roomId)}/destinations`;
    return firstValueFrom(this.http.get<Destinations>(url, { headers: accessHeaders({ key }) }));
  }

  /** The whole list from now on: new entries with their settings, kept ones by id. */
  setDestinations(roomId: string, key: string, update: DestinationsUpdate): Promise<Destinations> {
    const url = `/api/rooms/${encodeURIComponent(roomId)}/destinations`;
    return firstValueFrom(this.http.put<Destinations>(url, update, { headers: accessHeaders({ key }) }));
  }

  /** The room and everything it keeps go for good. */
  delete(roomId: string, key: string): Promise<void> {
    const url = `/api/rooms/${encodeURIComponent(roomId)}`;
    return firstValueFrom(this.http.delete<void>(url, { headers: accessHeaders({ key }) }));
  }

  capabilities(): Promise<Capabilities> {
    return firstValueFrom(this.http.get<Capabilities>('/api/capabilities'));
  }

  info(roomId: string, access?: RoomAccess): Promise<RoomInfo> {
    const url = `/api/rooms/${encodeURIComponent(roomId)}`;
    return firstValueFrom(this.http.get<RoomInfo>(url, { headers: accessHeaders(access) }));
  }

  /** Finals of the room's latest session (the live one while it runs); none if it never went live. */
  async latestFinals(roomId: string, access?: RoomAccess): Promise<Caption[]> {
    try {
      const url = this.transcriptUrl(roomId, 'json');
      const transcript = await firstValueFrom(this.http.get<TranscriptJson>(url, { headers: accessHeaders(access) }));
      return transcript.cues.map((cue) => ({
        ...cue,
        kind: 'final' as const,
        session_id: cue.id.slice(0, cue.id.lastIndexOf(':')),
      }));
    } catch {
      return [];
    }
  }

  transcriptUrl(roomId: string, format: TranscriptFormat): string {
    return `/api/rooms/${encodeURIComponent(roomId)}/transcript.${format}`;
  }

  qrUrl(roomId: string): string {
    return `/api/rooms/${encodeURIComponent(roomId)}/qr.svg`;
  }

  /** A private room's QR code (it carries the viewer token, so it is fetched with it) as an object URL. */
  async qrObjectUrl(roomId: string, access: RoomAccess): Promise<string> {
    const headers = accessHeaders(access);
    return URL.createObjectURL(await firstValueFrom(this.http.get(this.qrUrl(roomId), { headers, responseType: 'blob' })));
  }

  /** Save a file the server only gives with a token or key (a link cannot send either). */
  async download(url: string, access: RoomAccess): Promise<void> {
    const headers = accessHeaders(access);
    const blob = await firstValueFrom(this.http.get(url, { headers, responseType: 'blob' }));
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = url.slice(url.lastIndexOf('/') + 1);
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }
}
