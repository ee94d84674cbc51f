import { Injectable } from '@angular/core';

const PREFIX = 'captions.presenter-key.';
const TOKEN_PREFIX = 'captions.viewer-token.';
const ORGANIZER_TOKEN = 'captions.organizer-token';

/** Presenter keys and private rooms' viewer tokens, kept in this browser per room (the server shows each only
 * once), and the organizer token that lets this browser create rooms where the server asks for one. */
@Injectable({ providedIn: 'root' })
export class PresenterKeys {
  get(roomId: string): string | null {
    return localStorage.getItem(PREFIX + roomId);
  }

  save(roomId: string, key: string): void {
    localStorage.setItem(PREFIX + roomId, key);
  }

  forget(roomId: string): void {
    localStorage.removeItem(PREFIX + roomId);
    localStorage.removeItem(TOKEN_PREFIX + roomId);
  }

  viewerToken(roomId: string): string | null {
    return localStorage.getItem(TOKEN_PREFIX + roomId);
  }

  saveViewerToken(roomId: string, token: string): void {
    localStorage.setItem(TOKEN_PREFIX + roomId, token);
  }

  organizerToken(): string | null {
    return localStorage.getItem(ORGANIZER_TOKEN);
  }

  saveOrganizerToken(token: string | null): void {
    if (token) localStorage.setItem(ORGANIZER_TOKEN, token);
    else localStorage.removeItem(ORGANIZER_TOKEN);
  }
}
