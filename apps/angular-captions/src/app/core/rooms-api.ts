import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import type { Caption, RoomCreate, RoomCreated, RoomInfo } from './generated';

interface TranscriptJson {
  readonly cues: readonly { id: string; start: number; end: number; text: string }[];
}

export type TranscriptFormat = 'txt' | 'vtt' | 'srt' | 'json';

@Injectable({ providedIn: 'root' })
export class RoomsApi {
  private readonly http = inject(HttpClient);

  create(room: RoomCreate): Promise<RoomCreated> {
    return firstValueFrom(this.http.post<RoomCreated>('/api/rooms', room));
  }

  info(roomId: string): Promise<RoomInfo> {
    return firstValueFrom(this.http.get<RoomInfo>(`/api/rooms/${encodeURIComponent(roomId)}`));
  }

  /** Finals of the room's latest session (the live one while it runs); none if it never went live. */
  async latestFinals(roomId: string): Promise<Caption[]> {
    try {
      const transcript = await firstValueFrom(this.http.get<TranscriptJson>(this.transcriptUrl(roomId, 'json')));
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
}
