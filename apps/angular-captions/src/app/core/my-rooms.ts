import { Injectable, signal } from '@angular/core';

const STORAGE_KEY = 'captions.my-rooms';
/** Rooms listed at most (the most recently used); their keys stay in this browser either way. */
export const MAX_MY_ROOMS = 50;

export interface MyRoom {
  readonly id: string;
  readonly title: string;
  /** When this browser last created or presented it (ms since the epoch). */
  readonly lastUsed: number;
}

/** The rooms this browser created or presented, newest first: Home lists them. Kept in this browser only. */
@Injectable({ providedIn: 'root' })
export class MyRooms {
  private readonly _rooms = signal<readonly MyRoom[]>(load());
  readonly rooms = this._rooms.asReadonly();

  /** Created or presented just now: to the top of the list. */
  remember(id: string, title: string): void {
    const room: MyRoom = { id, title: title.trim() || id, lastUsed: Date.now() };
    this.store([room, ...this._rooms().filter((other) => other.id !== id)].slice(0, MAX_MY_ROOMS));
  }

  forget(id: string): void {
    this.store(this._rooms().filter((room) => room.id !== id));
  }

  private store(rooms: readonly MyRoom[]): void {
    this._rooms.set(rooms);
    localStorage.setItem(STORAGE_KEY, JSON.stringify(rooms));
  }
}

function load(): readonly MyRoom[] {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    if (!Array.isArray(raw)) return [];
    return raw
      .filter(
        (room): room is MyRoom =>
          typeof room?.id === 'string' && typeof room.title === 'string' && typeof room.lastUsed === 'number',
      )
      .sort((a, b) => b.lastUsed - a.lastUsed)
      .slice(0, MAX_MY_ROOMS);
  } catch {
    return [];
  }
}
