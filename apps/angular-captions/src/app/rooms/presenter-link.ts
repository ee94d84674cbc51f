/** A room to present, from what a presenter pastes: their presenter link, or a room id (its key given apart). */
export interface PresenterAccess {
  readonly room: string;
  readonly key: string | null;
}

const ROOM_ID = /^[A-Za-z0-9_-]{4,64}$/;

export function parsePresenterAccess(text: string): PresenterAccess | null {
  const value = text.trim();
  if (ROOM_ID.test(value)) return { room: value, key: null };
  let url: URL;
  try {
    url = new URL(value, location.origin);
  } catch {
    return null;
  }
  const match = /\/present\/([A-Za-z0-9_-]{4,64})\/?$/.exec(url.pathname);
  if (!match) return null;
  return { room: match[1], key: new URLSearchParams(url.hash.slice(1)).get('key') };
}
