import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import type { RoomCreate, RoomCreated, RoomInfo } from './generated';

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

  transcriptUrl(roomId: string, format: TranscriptFormat): string {
    return `/api/rooms/${encodeURIComponent(roomId)}/transcript.${format}`;
  }

  qrUrl(roomId: string): string {
    return `/api/rooms/${encodeURIComponent(roomId)}/qr.svg`;
  }
}
