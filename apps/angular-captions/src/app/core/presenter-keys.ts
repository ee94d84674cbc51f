import { Injectable } from '@angular/core';

const PREFIX = 'captions.presenter-key.';

/** Presenter keys, kept in this browser per room (the server shows each key only once). */
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
  }
}
